"""Shared fixtures: an isolated home for every test, the real Docker engine, the test images and agent.

Locally a missing Docker engine skips the Docker tests; in CI (CI=true) it fails them.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
IN_CI = os.environ.get("CI", "").lower() == "true"
TEST_LABEL = "owui-dev-test"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--openwebui-image",
        action="store_true",
        help="also run the tests marked openwebui_image, against the real Open WebUI image "
        "(ghcr.io/open-webui/open-webui:main as ../shared/openwebui-image/build.sh builds it)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without --openwebui-image the real-image tests are deselected (not skipped: a skip in CI is a failure)."""
    if config.getoption("--openwebui-image"):
        return
    real = [item for item in items if item.get_closest_marker("openwebui_image")]
    if real:
        config.hook.pytest_deselected(items=real)
        items[:] = [item for item in items if not item.get_closest_marker("openwebui_image")]


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads or writes the real home: ngrok's config, owui-dev's state, docker's config."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for var, sub in {
        "XDG_CONFIG_HOME": ".config",
        "XDG_STATE_HOME": ".local/state",
        "XDG_DATA_HOME": ".local/share",
        "XDG_CACHE_HOME": ".cache",
    }.items():
        monkeypatch.setenv(var, str(home / sub))
    for var in ("NGROK_AUTHTOKEN", "NGROK_PATH", "NGROK_API_KEY", "PYNGROK_NGROK_PATH", "DOCKER_CONTEXT"):
        monkeypatch.delenv(var, raising=False)
    return home


def _engine_or_skip():  # type: ignore[no-untyped-def]
    import docker

    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except Exception as err:
        message = f"no Docker engine answers ({err}); scripts/provision starts one"
        if IN_CI:
            pytest.fail(f"CI needs a Docker engine: {message}")
        pytest.skip(message)
    return client


@pytest.fixture(scope="session")
def docker_client():  # type: ignore[no-untyped-def]
    client = _engine_or_skip()
    yield client
    client.close()


@pytest.fixture(scope="session")
def fake_image(docker_client) -> str:  # type: ignore[no-untyped-def]
    """A tiny image that answers like Open WebUI (built locally: no registry is reachable)."""
    from fake_openwebui.build import build_image

    return build_image(docker_client)


@pytest.fixture(scope="session")
def tls_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A test CA and the stand-in agent's certificate; SSL_CERT_FILE makes owui-dev trust that CA."""
    from fake_ngrok.support import make_tls_files

    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def names(docker_client):  # type: ignore[no-untyped-def]
    """A unique container and volume name per test; whatever exists under them afterwards is removed."""
    import docker

    suffix = secrets.token_hex(4)
    made = Names(container=f"owui-dev-test-{suffix}", volume=f"owui-dev-test-{suffix}-data")
    yield made
    for name in [made.container, *made.extra_containers]:
        with contextlib.suppress(docker.errors.NotFound):
            docker_client.containers.get(name).remove(force=True)
    for volume in [made.volume, *made.extra_volumes]:
        with contextlib.suppress(docker.errors.NotFound):
            docker_client.volumes.get(volume).remove(force=True)


@dataclass
class Names:
    container: str
    volume: str
    extra_containers: list[str] = field(default_factory=list)
    extra_volumes: list[str] = field(default_factory=list)


def cli_env(**extra: str) -> dict[str, str]:
    """The environment for an owui-dev subprocess: this test's isolated home, no ngrok settings leaking in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NGROK_", "PYNGROK_", "FAKE_"))}
    env.update({"COLUMNS": "120", "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "owui_dev", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


class UpProcess:
    """`owui-dev up` as a real subprocess: read its output as it comes, signal it like a terminal would."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "owui_dev", "up", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        self.stdout_lines: list[str] = []
        self.stderr_lines: list[str] = []
        self._threads = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, self.stdout_lines), daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stderr, self.stderr_lines), daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    @staticmethod
    def _pump(stream, sink: list[str]) -> None:  # type: ignore[no-untyped-def]
        for line in stream:
            sink.append(line)

    @property
    def stdout(self) -> str:
        return "".join(self.stdout_lines)

    @property
    def stderr(self) -> str:
        return "".join(self.stderr_lines)

    def wait_for_json(self, timeout: float = 90) -> dict[str, object]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.stdout_lines:
                if line.startswith("{"):
                    return json.loads(line)
            if self.proc.poll() is not None:
                time.sleep(0.2)
                break
            time.sleep(0.1)
        raise AssertionError(
            f"no JSON line from `owui-dev up` (exit {self.proc.poll()}):\n"
            f"stdout:\n{self.stdout}\nstderr:\n{self.stderr}"
        )

    def interrupt(self, sig: int = signal.SIGINT, timeout: float = 30) -> int:
        self.proc.send_signal(sig)
        return self.wait(timeout)

    def wait(self, timeout: float = 60) -> int:
        code = self.proc.wait(timeout=timeout)
        for thread in self._threads:
            thread.join(5)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


class PtyProcess:
    """A command on a real pseudo-terminal, as a person runs it: colours, the QR, hidden prompts."""

    def __init__(self, argv: list[str], env: dict[str, str], columns: int = 120, rows: int = 60) -> None:
        import fcntl
        import pty
        import struct
        import termios

        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        env = {**env, "TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": str(rows)}
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
        os.close(slave)
        self._master = master
        self._chunks: list[bytes] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self._master, 65536)
            except OSError:
                return
            if not data:
                return
            self._chunks.append(data)

    @property
    def output(self) -> str:
        return b"".join(self._chunks).decode("utf-8", "replace")

    def wait_for(self, needle: str, timeout: float = 90) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.output:
                return self.output
            if self.proc.poll() is not None:
                time.sleep(0.3)
                if needle in self.output:
                    return self.output
                break
            time.sleep(0.1)
        raise AssertionError(f"{needle!r} never appeared (exit {self.proc.poll()}):\n{self.output}")

    def type(self, text: str) -> None:
        os.write(self._master, text.encode())

    def interrupt(self, timeout: float = 30) -> int:
        # What the terminal does on Ctrl+C: SIGINT to the foreground process group.
        os.killpg(self.proc.pid, signal.SIGINT)
        code = self.proc.wait(timeout)
        self._reader.join(5)
        return code

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        with contextlib.suppress(OSError):
            os.close(self._master)


@pytest.fixture
def ptys() -> Iterator[list[PtyProcess]]:
    started: list[PtyProcess] = []
    yield started
    for process in started:
        process.close()


@pytest.fixture
def up_processes() -> Iterator[list[UpProcess]]:
    """Every `up` a test starts is ended afterwards, whatever the test did."""
    started: list[UpProcess] = []
    yield started
    for up in started:
        if up.proc.poll() is None:
            up.proc.send_signal(signal.SIGINT)
            try:
                up.proc.wait(20)
            except subprocess.TimeoutExpired:
                up.kill()


from fake_ngrok.support import AGENT_PATH  # noqa: E402 - tests/ is on sys.path by now

# -- what the `up` tests share -------------------------------------------------------------------

TOKEN = "2abcTESTtokenNOTreal_4567890abcdefghij"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def env(tls_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    return cli_env(NGROK_AUTHTOKEN=TOKEN, FAKE_NGROK_RECORD=str(tmp_path / "agents.jsonl"), **tls_env)


@pytest.fixture
def base_args(names, fake_image: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        "--name", names.container,
        "--volume", names.volume,
        "--image", fake_image,
        "--pull", "never",
        "--ngrok-path", AGENT_PATH,
        "--timeout", "60",
    ]  # fmt: skip


def https_get(url: str, cafile: str) -> tuple[int, str]:
    context = ssl.create_default_context(cafile=cafile)
    with urllib.request.urlopen(url, context=context, timeout=10) as response:
        return response.status, response.read().decode()


def pid_gone(pid: int, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        stat = Path(f"/proc/{pid}/stat")
        if stat.exists() and ") Z " in stat.read_text():
            return True
        time.sleep(0.1)
    return False


def agent_records(env: dict[str, str]) -> list[dict[str, object]]:
    path = Path(env["FAKE_NGROK_RECORD"])
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture
def args(base_args: list[str]) -> list[str]:
    """base_args on a free port of their own, so tests never race for 3000."""
    return [*base_args, "--port", str(free_port())]
