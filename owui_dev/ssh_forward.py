"""An SSH local forward to Open WebUI on a remote Docker engine (DOCKER_HOST=ssh://…, or such a docker context).

A remote engine publishes Open WebUI's port on *its* 127.0.0.1, out of reach of the ngrok agent on this
machine. The system `ssh`, run as docker-py's use_ssh_client runs it for the engine itself (same user, port
and host, so the same ~/.ssh/config, keys, agent and known_hosts), forwards a local port there; the readiness
checks, the local URL and the tunnel all use that port.

The forward's log file (`ssh -E`) is both where its errors are read and its mark: a forward that a killed
`up` left behind is found by that path on its command line (as a leftover ngrok agent is found by its config
path) and ended by the next `up` or `down` for the same name.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from owui_dev import problems
from owui_dev.errors import OwuiDevError
from owui_dev.net import LOOPBACK, port_is_free
from owui_dev.state import ensure_folder, runs_dir

OPEN_TIMEOUT = 30.0  # ssh's own ConnectTimeout is shorter: this only bounds a server that hangs after connecting
CONNECT_TIMEOUT = 15
LOCAL_PORT_ATTEMPTS = 3
# What OpenSSH logs when the server refuses a forwarding channel ("channel 2: open failed: administratively
# prohibited: open failed"). "connect failed" is different: the server forwards, but nothing listens there
# yet (Open WebUI still starting), which the readiness wait handles.
_REFUSED = re.compile(r"open failed: [^\n]*prohibited[^\n]*", re.IGNORECASE)
_LOCAL_PORT_TAKEN = "cannot listen to port"


@dataclass(frozen=True)
class SshTarget:
    """The engine's ssh:// address, split as docker-py splits it for `ssh`."""

    host: str
    user: str | None = None
    port: int | None = None

    @classmethod
    def from_endpoint(cls, endpoint: str) -> SshTarget:
        parts = urlsplit(endpoint)
        return cls(host=parts.hostname or "", user=parts.username, port=parts.port)

    def options(self) -> list[str]:
        """As docker/transport/sshconn.py: `ssh [-l USER] [-p PORT] … -- HOST`."""
        return [*(["-l", self.user] if self.user else []), *(["-p", str(self.port)] if self.port else [])]

    def typed(self) -> str:
        """`[-p PORT] [USER@]HOST`, as a person would type it after `ssh`."""
        return f"{f'-p {self.port} ' if self.port else ''}{f'{self.user}@' if self.user else ''}{self.host}"


def log_path(run_name: str) -> Path:
    return runs_dir() / f"{run_name}.ssh-forward.log"


class SshForward:
    """One `ssh -N -L` process, leading a process group of its own; `close` ends the group."""

    def __init__(self, ssh: str, target: SshTarget, run_name: str, remote_port: int, local_port: int) -> None:
        self.ssh = ssh
        self.target = target
        self.remote_port = remote_port
        self.local_port = local_port
        self.log = log_path(run_name)
        self.proc = self._spawn()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def as_json(self) -> dict[str, Any]:
        return {
            "host": self.target.host,
            "local_port": self.local_port,
            "remote_port": self.remote_port,
            "pid": self.pid,
        }

    def close(self) -> list[str]:
        """End the forward (its whole process group) and remove its log; nothing to do when it has ended."""
        from owui_dev.tunnel import end_process_group

        running = self.alive()
        if running:
            end_process_group(self.proc, grace=2.0)
        with contextlib.suppress(OSError):
            self.log.unlink()
        return [f"ended the SSH forward to {self.target.host} (pid {self.pid})"] if running else []

    def reopen(self) -> None:
        """After ssh ended on its own (the connection dropped): the same forward anew, on the same local port,
        so the tunnel's upstream stays as it is. Raises the catalogue error when it cannot be opened."""
        self.proc = self._spawn()
        self.wait_ready()

    def last_words(self) -> str:
        lines = [line.strip() for line in self.log_text().splitlines() if line.strip()]
        return lines[-1] if lines else f"exit {self.proc.returncode}"

    def _spawn(self) -> subprocess.Popen[bytes]:
        ensure_folder(self.log.parent, for_file=self.log)
        # docker-py drops these for its ssh too: a Python venv's libraries or CA file are not ssh's business.
        env = {k: v for k, v in os.environ.items() if k not in {"LD_LIBRARY_PATH", "SSL_CERT_FILE"}}
        argv = [
            self.ssh,
            *self.target.options(),
            "-N",
            "-L", f"{LOOPBACK}:{self.local_port}:127.0.0.1:{self.remote_port}",
            "-o", "ExitOnForwardFailure=yes",
            "-o", "BatchMode=yes",  # no prompt: nobody could answer it (the terminal shows the progress)
            "-o", f"ConnectTimeout={CONNECT_TIMEOUT}",
            "-o", "ServerAliveInterval=15",  # a dead connection ends ssh (and `up` reopens it) instead of hanging
            "-o", "ServerAliveCountMax=3",
            "-E", str(self.log),  # its messages, and the mark a leftover is found by
            "--", self.target.host,
        ]  # fmt: skip
        try:
            with self.log.open("wb") as sink:  # empty for this start; ssh appends (-E), and its stderr goes there too
                return subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=sink,
                    env=env,
                    start_new_session=True,  # Ctrl+C at the terminal is ours to handle; close() ends the group
                )
        except OSError as err:
            raise forward_failed(self.target, self.remote_port, self.local_port, f"ssh cannot start ({err})") from err

    def wait_ready(self, timeout: float = OPEN_TIMEOUT) -> None:
        """Until ssh listens on the local port and the server lets a connection through it.

        One request through the forward opens a channel: a server that forbids forwarding says so in the log
        before ssh drops the connection. Whether Open WebUI answers yet is the readiness wait's business."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.alive():
                raise self._failure()
            try:
                with socket.create_connection((LOOPBACK, self.local_port), timeout=5.0) as sock:
                    sock.sendall(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                    with contextlib.suppress(OSError):
                        sock.recv(1)  # an answer, or the close that follows a refused channel
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise self._failure(f"ssh did not open the forward within {timeout:.0f} s") from None
                time.sleep(0.1)
        time.sleep(0.2)  # ssh logs a refusal before it closes the connection; let it finish writing
        refused = _REFUSED.search(self.log_text())
        if refused:
            raise problems.SSH_FORWARD_REFUSED(host=self.target.host, detail=refused.group(0))

    def log_text(self) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def _failure(self, detail: str | None = None) -> OwuiDevError:
        lines = [line.strip() for line in self.log_text().splitlines() if line.strip()]
        # "bind …: Address already in use" says more than the "Could not request local forwarding." after it.
        said = next((line for line in lines if "Address already in use" in line), lines[-1] if lines else None)
        if detail is None:
            code = self.proc.returncode
            detail = said or f"ssh ended (exit {code}) without saying why"
        elif said:
            detail = f"{detail}; ssh said: {said}"
        return forward_failed(self.target, self.remote_port, self.local_port, detail)


def forward_failed(target: SshTarget, remote_port: int, local_port: int, detail: str) -> OwuiDevError:
    return problems.SSH_FORWARD_FAILED(
        host=target.host, remote_port=remote_port, local_port=local_port, detail=detail, target=target.typed()
    )


def open_forward(endpoint: str, run_name: str, remote_port: int) -> SshForward:
    """Start the forward and wait until it carries traffic; a start that fails ends what it began.

    The local port is the remote one when that is free here (memorable, and the same URL as on the host),
    else one the system picks. Another program can take it between the check and ssh's bind: then ssh exits
    (ExitOnForwardFailure) and another port is tried."""
    target = SshTarget.from_endpoint(endpoint)
    ssh = shutil.which("ssh")
    if ssh is None:
        raise forward_failed(target, remote_port, remote_port, "there is no `ssh` command on PATH")
    end_leftover_forwards(run_name)  # the caller holds the run's lock: any forward with this mark is a leftover
    local_port = remote_port if port_is_free(remote_port) else _any_free_port()
    for attempt in range(LOCAL_PORT_ATTEMPTS):
        forward = SshForward(ssh, target, run_name, remote_port, local_port)
        try:
            forward.wait_ready()
            return forward
        except OwuiDevError:
            taken = not forward.alive() and _LOCAL_PORT_TAKEN in forward.log_text()
            forward.close()
            if not taken or attempt == LOCAL_PORT_ATTEMPTS - 1:
                raise
            local_port = _any_free_port()
        except BaseException:
            forward.close()
            raise
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def _any_free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def leftover_forwards(run_name: str) -> list[int]:
    """Forwards an earlier run for this name started and never ended (it was killed): found by their log path."""
    from owui_dev.processes import command_lines

    marker = str(log_path(run_name))
    found = []
    for pid, command in command_lines():
        words = command.split()
        if "-E" in words and marker in words and "-N" in words:
            found.append(pid)
    return found


def end_leftover_forwards(run_name: str) -> list[int]:
    from owui_dev.processes import end_leader

    return [pid for pid in leftover_forwards(run_name) if end_leader(pid)]
