"""The processes owui-dev starts and may have to find again: listing them, ending a group leader."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess


def command_lines() -> list[tuple[int, str]]:
    """(pid, full command line) of every process on this machine but this one; empty where `ps` fails.
    How a killed run's agent or SSH forward is found again: by a path of its run on its command line."""
    try:
        listing = subprocess.run(
            ["ps", "-axww", "-o", "pid=,args="], capture_output=True, text=True, timeout=5, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    found = []
    for line in listing.splitlines():
        pid, _, command = line.strip().partition(" ")
        if pid.isdigit() and int(pid) != os.getpid():
            found.append((int(pid), command))
    return found


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
