"""Ending a process that owui-dev started as the leader of a process group of its own."""

from __future__ import annotations

import contextlib
import os
import signal


def end_leader(pid: int) -> bool:
    """SIGTERM to the whole group `pid` leads (start_new_session: the ngrok agent, an SSH forward), so that
    nothing it started lives on; to `pid` alone where it leads none (or there are no process groups).
    False when there was no such process to signal."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if hasattr(os, "killpg") and os.getpgid(pid) == pid:
            os.killpg(pid, signal.SIGTERM)
        else:
            os.kill(pid, signal.SIGTERM)
        return True
    return False
