"""Shared fixtures: an isolated home for every test, the real Docker engine, the test images and agent.

Locally a missing Docker engine skips the Docker tests; in CI (CI=true) it fails them, as it fails any
skip that is not on the reviewed list tests/allowed_skips.txt.
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


# -- the `docker` marker follows from the fixtures a test uses ----------------------------------------

# Fixtures that need a Docker engine (the conftest ones and the engine fixtures of the fake-image and
# fake-registry modules). A test using any of them is marked `docker`; no other test is, so `-m "not docker"`
# runs exactly the tests that need no engine, and a "no engine" test can never quietly need one.
DOCKER_FIXTURES = frozenset({"docker_client", "engine", "fake_image", "names", "base_args", "args", "registry_image"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _deselect_real_image_tests(config, items)
    wrongly_marked = []
    for item in items:
        params = set(getattr(getattr(item, "callspec", None), "params", {}))
        if DOCKER_FIXTURES & (set(getattr(item, "fixturenames", ())) - params):
            item.add_marker(pytest.mark.docker)
        elif item.get_closest_marker("docker") is not None:
            wrongly_marked.append(item.nodeid)
    if wrongly_marked:
        raise pytest.UsageError(
            "marked `docker` but using no Docker fixture (the marker is set from the fixtures; drop it): "
            + ", ".join(wrongly_marked)
        )


# -- skips: reviewed, or failures in CI -------------------------------------------------------------

ALLOWED_SKIPS = TESTS / "allowed_skips.txt"


def allowed_skips() -> dict[str, str]:
    """Test id (fnmatch pattern) -> why skipping it is acceptable, from tests/allowed_skips.txt."""
    allowed: dict[str, str] = {}
    for line in ALLOWED_SKIPS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            test_id, sep, reason = line.partition(" | ")
            if not sep or not reason.strip():
                raise pytest.UsageError(f"{ALLOWED_SKIPS}: every entry is `test id | reason`: {line!r}")
            allowed[test_id.strip()] = reason.strip()
    return allowed


def _reviewed(nodeid: str) -> bool:
    import fnmatch

    return any(fnmatch.fnmatchcase(nodeid, pattern) for pattern in allowed_skips())


_unreviewed_skips: list[tuple[str, str]] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """A skip that is not on tests/allowed_skips.txt is a failure in CI (CI=true), and listed locally."""
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or hasattr(report, "wasxfail") or _reviewed(item.nodeid):
        return
    reason = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
    _unreviewed_skips.append((item.nodeid, reason))
    if IN_CI:
        report.outcome = "failed"
        report.longrepr = (
            f"skipped in CI, and not on the reviewed list tests/allowed_skips.txt: {reason}\n"
            "Make the precondition real (scripts/provision), or add `test id | reason` to that list."
        )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _unreviewed_skips and not IN_CI:
        terminalreporter.write_sep("-", f"{len(_unreviewed_skips)} skipped test(s) not on tests/allowed_skips.txt")
        for nodeid, reason in _unreviewed_skips:
            terminalreporter.write_line(f"{nodeid}: {reason} (a failure in CI)")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--openwebui-image",
        action="store_true",
        help="also run the tests marked openwebui_image, against the real Open WebUI image "
        "(ghcr.io/open-webui/open-webui:main as ../shared/openwebui-image/build.sh builds it)",
    )


def _deselect_real_image_tests(config: pytest.Config, items: list[pytest.Item]) -> None:
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
    # The settings' own variables (OWUI_DEV_PORT, OWUI_DEV_PROFILE, OWUI_DEV_CONFIG…): a developer's shell must not
    # set them here.
    from owui_dev.setting_names import ENV_CONFIG, ENV_PROFILE, FILE_KEYS, envvar_for

    for var in (ENV_CONFIG, ENV_PROFILE, *(envvar_for(argument) for argument, _ in FILE_KEYS.values())):
        monkeypatch.delenv(str(var), raising=False)
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

    def __init__(
        self, argv: list[str], env: dict[str, str], columns: int = 120, rows: int = 60, term: str = "xterm-256color"
    ) -> None:
        import fcntl
        import pty
        import struct
        import termios

        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        env = {**env, "TERM": term, "COLUMNS": str(columns), "LINES": str(rows)}
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


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


_PORT_LOCKS = Path(os.environ.get("TMPDIR", "/tmp")) / "owui-dev-test-ports"
_held_port_locks: list[object] = []


def free_port() -> int:
    """A local port for something a test starts later (a container's published port, an agent's API).

    The port has to be released before the program under test can bind it, and in that gap another process
    could take it. So it is picked where nobody else picks: below the kernel's ephemeral range (which
    bind(0) and outgoing connections draw from), never twice in this process, and claimed across test
    processes (other checkouts running the suite at the same time) by a lock file held until this one exits.
    """
    import fcntl
    import random

    low, _ = _ephemeral_range()
    lower = 20000 if low > 21000 else 1025
    upper = max(lower + 1000, min(low, 32768))
    _PORT_LOCKS.mkdir(parents=True, exist_ok=True)
    for _ in range(500):
        port = random.randrange(lower, upper)
        handle = open(_PORT_LOCKS / f"{port}.lock", "a")  # noqa: SIM115 - held open for the whole session
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                handle.close()
                continue
        _held_port_locks.append(handle)
        return port
    raise RuntimeError(f"no free port found in {lower}-{upper}")


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


def https_get(url: str, cafile: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    context = ssl.create_default_context(cafile=cafile)
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, context=context, timeout=10) as response:
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
def offline_args() -> list[str]:
    """`up` arguments for tests that never get as far as an engine (DOCKER_HOST points nowhere, or the input
    is refused first): no Docker fixture, so they run, and must pass, on a machine without Docker."""
    suffix = secrets.token_hex(4)
    return [
        "--name", f"owui-dev-test-{suffix}",
        "--volume", f"owui-dev-test-{suffix}-data",
        "--image", "owui-dev-test/never-pulled:none",
        "--pull", "never",
        "--ngrok-path", AGENT_PATH,
        "--timeout", "60",
        "--port", str(free_port()),
    ]  # fmt: skip


@pytest.fixture
def args(base_args: list[str]) -> list[str]:
    """base_args on a free port of their own, so tests never race for 3000."""
    return [*base_args, "--port", str(free_port())]
