"""Work that waits on something else (a request, a process) done in a thread while the run goes on."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def in_background(work: Callable[[], T], name: str = "owui-dev-background") -> Callable[[], T]:
    """Start `work` in a daemon thread (an interrupt never waits for it); the returned call waits for its
    result, or raises its error, in the caller's thread."""
    outcome: list[tuple[bool, Any]] = []

    def run() -> None:
        try:
            outcome.append((True, work()))
        except BaseException as err:  # noqa: BLE001 - handed to the waiting thread, raised there
            outcome.append((False, err))

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()

    def result() -> T:
        while thread.is_alive():
            thread.join(0.1)  # short joins: Ctrl+C reaches the main thread meanwhile
        ok, value = outcome[0]
        if not ok:
            raise value
        return value  # type: ignore[no-any-return]

    return result
