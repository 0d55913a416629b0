"""Which Docker engine, when the address is remote or wrong: ssh:// through the system `ssh`, and a
malformed DOCKER_HOST called malformed, and how the client talks to an engine that answers."""

from __future__ import annotations

import hashlib
import http.server
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import cli_env, run_cli

TOKEN = "2abcDOCKERHOSTtokenNOTreal_4567890abcdefghij"
NOBODY_HOME = "ssh://nobody@127.0.0.1:1"  # nothing listens on port 1


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_an_ssh_engine_that_cannot_be_reached(json_flag: list[str]) -> None:
    result = run_cli("up", *json_flag, env=cli_env(DOCKER_HOST=NOBODY_HOME, NGROK_AUTHTOKEN=TOKEN), timeout=60)
    assert result.returncode == 3, result.stderr
    assert f"Docker engine at {NOBODY_HOME} over ssh" in result.stderr
    assert "Connection refused" in result.stderr  # ssh's own words
    assert "ssh -p 1 nobody@127.0.0.1 docker version" in result.stderr
    assert "paramiko" not in result.stderr
    assert "Check that Docker is running" not in result.stderr
    assert "Traceback" not in result.stderr
    if json_flag:  # ssh's stderr did not land among the JSON lines
        events = [json.loads(line) for line in result.stderr.splitlines()]
        assert events[-1]["error"] == "docker-unavailable"


def test_an_ssh_engine_without_an_ssh_client(tmp_path: Path) -> None:
    env = cli_env(DOCKER_HOST=NOBODY_HOME, NGROK_AUTHTOKEN=TOKEN, PATH=str(tmp_path))
    result = run_cli("up", env=env, timeout=60)
    assert result.returncode == 3, result.stderr
    assert "no `ssh` command on PATH" in result.stderr


def test_doctor_reports_the_ssh_failure() -> None:
    env = cli_env(DOCKER_HOST=NOBODY_HOME, NGROK_AUTHTOKEN=TOKEN, OWUI_DEV_NGROK_PROBE="off")
    result = run_cli("doctor", "--json", env=env, timeout=60)
    docker = next(check for check in json.loads(result.stdout)["checks"] if check["id"] == "docker")
    assert docker["status"] == "fail"
    assert "over ssh" in docker["detail"]
    assert "Connection refused" in docker["detail"]


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("tcp//x", "no scheme://"),
        ("foo://bar", "foo:// is not a scheme"),
        ("unix://", "no socket path"),
        ("ssh://", "no host"),
        ("ssh://user@", "no host"),
        ("tcp://", "no host"),
        ("tcp://host.example", "no port"),
        ("tcp://host.example:99999", "cannot be read"),
        ("ssh://host.example/some/path", "no path"),
        ("tcp://host.example:2375?x=1", "a query"),
    ],
)
def test_a_malformed_docker_host_is_called_malformed(value: str, why: str) -> None:
    for json_flag in ([], ["--json"]):
        result = run_cli("up", *json_flag, env=cli_env(DOCKER_HOST=value, NGROK_AUTHTOKEN=TOKEN), timeout=60)
        assert result.returncode == 2, result.stderr
        assert f"DOCKER_HOST={value!r} is not a Docker engine address" in result.stderr
        assert why in result.stderr
        assert "unset DOCKER_HOST" in result.stderr
        assert "not running" not in result.stderr


def test_a_malformed_address_in_the_docker_context_names_the_context(isolated_home: Path) -> None:
    name = "broken"
    meta = isolated_home / ".docker" / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest() / "meta.json"
    meta.parent.mkdir(parents=True)
    meta.write_text(json.dumps({"Name": name, "Metadata": {}, "Endpoints": {"docker": {"Host": "unix://"}}}))
    (isolated_home / ".docker" / "config.json").write_text(json.dumps({"currentContext": name}))
    env = {k: v for k, v in cli_env(NGROK_AUTHTOKEN=TOKEN).items() if k != "DOCKER_HOST"}
    result = run_cli("up", env=env, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "the docker context 'broken'='unix://' is not a Docker engine address" in result.stderr


def test_ssh_support_is_there_and_paramiko_is_not_loaded_for_it() -> None:
    """docker-py offers ssh:// only when paramiko imports; owui-dev uses the system `ssh` instead and
    must not pay for loading paramiko on every run."""
    probe = (
        "import sys\n"
        "from owui_dev.docker_engine import DockerEngine\n"
        "from owui_dev.errors import OwuiDevError\n"
        "try:\n    DockerEngine.connect()\nexcept OwuiDevError:\n    pass\n"
        "import docker.transport\n"
        "print(hasattr(docker.transport, 'SSHHTTPAdapter'), 'paramiko.transport' in sys.modules)\n"
    )
    for host in ("tcp://127.0.0.1:9", NOBODY_HOME):
        done = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, env=cli_env(DOCKER_HOST=host)
        )
        assert done.stdout.split() == ["True", "False"], done.stderr


@pytest.mark.docker
def test_the_client_speaks_the_engines_own_api_version(docker_client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """One request (/_ping) tells both the engine's version (for the user) and its API version (for the client):
    /version is not asked (it was, before: docker-py's own way)."""
    import docker.api.client

    from owui_dev.docker_engine import DockerEngine

    expected = docker_client.version()
    asked: list[object] = []
    real_version = docker.api.client.APIClient.version

    def counted_version(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        asked.append(args)
        return real_version(self, *args, **kwargs)

    monkeypatch.setattr(docker.api.client.APIClient, "version", counted_version)
    engine = DockerEngine.connect()
    assert asked == [], "the engine was asked /version"
    try:
        assert engine.client.api.api_version == expected["ApiVersion"]
        assert engine.info.server_version == expected["Version"]
        assert engine.client.ping()
    finally:
        engine.close()


def test_an_engine_that_does_not_name_itself_in_its_ping_is_asked_its_version(monkeypatch: pytest.MonkeyPatch) -> None:
    """Docker's /_ping names its API version and the engine's ("Server: Docker/27.3.1 (linux)"); Podman's names
    itself otherwise. For such an engine /version tells both, as docker-py itself would ask. A stand-in for such an
    API (not for Docker's, which the test above uses), whose /_ping names no Docker engine."""
    from owui_dev.docker_engine import DockerEngine

    asked: list[str] = []

    class PodmanLike(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            if self.path == "/_ping":
                body, headers = (
                    b"OK",
                    {"Api-Version": "1.41", "Libpod-Api-Version": "4.9.3", "Server": "Libpod/4.9.3 (linux)"},
                )
            elif self.path == "/version":
                body = json.dumps({"Version": "4.9.3", "ApiVersion": "1.41", "MinAPIVersion": "1.24"}).encode()
                headers = {"Content-Type": "application/json"}
            else:
                body, headers = b"{}", {"Content-Type": "application/json"}
            self.send_response(200)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), PodmanLike)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{server.server_address[1]}")
    try:
        engine = DockerEngine.connect()
        engine.close()
    finally:
        server.shutdown()
    assert engine.info.server_version == "4.9.3"
    assert asked == ["/_ping", "/version"]


@pytest.mark.docker
def test_a_quick_readiness_poll_reads_the_containers_state_only_now_and_then(docker_client, names, fake_image) -> None:  # type: ignore[no-untyped-def]
    """Each Docker call between quick polls is time added to every warm `up`: the state is read every quarter
    second, not at each poll, and still before the wait gives up (a container that is still starting, here)."""
    from owui_dev.docker_engine import STATE_READ_EVERY, DockerEngine
    from owui_dev.errors import NotReadyError

    docker_client.containers.run(
        fake_image, name=names.container, detach=True, environment={"FAKE_START_DELAY": "60"}, labels={}
    )
    engine = DockerEngine.connect()
    polls, reads = [], []
    real_inspect = engine.inspect

    def counted_inspect(name: str):  # type: ignore[no-untyped-def]
        reads.append(time.monotonic())
        return real_inspect(name)

    engine.inspect = counted_inspect  # type: ignore[method-assign]
    began = time.monotonic()
    try:
        with pytest.raises(NotReadyError):
            engine.wait_until_ready(
                names.container, lambda: bool(polls.append(time.monotonic())), timeout=1.1, on_tick=lambda *_: None
            )
    finally:
        engine.close()
    assert len(polls) >= 15, "quick polls, every 0.05 s"
    assert 1 <= len(reads) <= 1.1 / STATE_READ_EVERY + 2, f"{len(reads)} state reads in {len(polls)} polls"
    assert reads[-1] - began > 1.1, "the state is read once more before the wait gives up"
