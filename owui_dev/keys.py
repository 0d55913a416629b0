"""Single keys while `up` runs (as Expo's dev server has them): the terminal side, and nothing else.

Only on a terminal that this process may set (stdin a tty, in the foreground), and only where termios
exists (not on Windows). The terminal goes into cbreak mode: keys arrive one at a time, unechoed, and
ISIG stays on, so Ctrl+C still sends SIGINT and unwinds as it always did. The mode is put back on every
way out: the context manager's `finally` (normal end, Ctrl+C, SIGTERM, an error), and an atexit hook
for a second interrupt that lands before that `finally` has done it.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import select
import sys
import time
from collections.abc import Callable, Iterator
from typing import TextIO

# key -> what it does; the footer and `?` show these, session binds them.
KEYS: dict[str, str] = {
    "q": "URL and QR code again",
    "c": "call QR code",
    "p": "sign-in again (with a QR code of the password)",
    "o": "open the URL in this machine's browser",
    "?": "these keys",
}
# The same keys, as the announcement's footer names them.
SHORT: dict[str, str] = {"q": "QR again", "c": "call QR", "p": "sign-in", "o": "open here", "?": "help"}


class Keypad:
    """Keys from a terminal in cbreak mode, read with a timeout."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.closed = False  # the terminal went away (EOF): wait without reading

    def read(self, timeout: float) -> str:
        """The keys pressed within `timeout` seconds ("" if none); escape sequences (arrows…) dropped."""
        if self.closed:
            time.sleep(max(0.0, timeout))
            return ""
        ready, _, _ = select.select([self.fd], [], [], max(0.0, timeout))
        if not ready:
            return ""
        data = os.read(self.fd, 64)
        if not data:
            self.closed = True
            return ""
        text = data.decode("utf-8", "replace")
        return "" if text.startswith("\x1b") else text

    def pause(self, seconds: float, on_key: Callable[[str], None]) -> None:
        """Wait `seconds`, answering each key as it comes."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            for key in self.read(left):
                on_key(key)


def _may_set(fd: int) -> bool:
    if not os.isatty(fd):
        return False
    try:
        foreground = os.tcgetpgrp(fd)
    except OSError:
        return True  # a terminal that is not this process's controlling one: no job control to upset
    # In the background (`owui-dev up &`), setting or reading the terminal would stop the process.
    return foreground == os.getpgrp()


@contextlib.contextmanager
def keypad(stream: TextIO | None = None) -> Iterator[Keypad | None]:
    """A Keypad while the block runs, or None where keys are not possible (no terminal, Windows)."""
    stream = sys.stdin if stream is None else stream
    try:
        import termios
        import tty
    except ImportError:  # Windows
        yield None
        return
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        yield None
        return
    if not _may_set(fd):
        yield None
        return
    saved = termios.tcgetattr(fd)

    def restore() -> None:
        with contextlib.suppress(termios.error, OSError):
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)

    atexit.register(restore)
    try:
        tty.setcbreak(fd, termios.TCSANOW)
        yield Keypad(fd)
    finally:
        restore()
        atexit.unregister(restore)
