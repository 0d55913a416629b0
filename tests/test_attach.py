"""An Open WebUI the user already runs: `up --attach NAME` and `up --url http://127.0.0.1:PORT`.

The instances here are made by the tests themselves with docker-py (never by owui-dev), from the fake Open
WebUI image, or are small local servers; `up` runs as a real subprocess with the stand-in agent. What matters
most: owui-dev never stops, re-creates or changes an instance it did not start — same container id, same
start time, still running, after `down` and after Ctrl+C.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import secrets
import signal
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import AGENT_PATH, UpProcess, free_port, https_get, pid_gone, run_cli

from owui_dev import external, problems
from owui_dev.cli import cli
from owui_dev.errors import UsageError
from owui_dev.readiness import NO_ADMIN

pytestmark = pytest.mark.e2e

ADMIN = {"WEBUI_ADMIN_EMAIL": "owner@example.com", "WEBUI_ADMIN_PASSWORD": "their-own-password-1"}


def _wait_healthy(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{port}/health"
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as answer:
            if json.loads(answer.read()) == {"status": True}:
                return
        time.sleep(0.3)
    raise AssertionError(f"the test's Open WebUI on port {port} never answered /health")


@pytest.fixture
def theirs(docker_client, fake_image: str, names) -> Callable[..., Any]:  # type: ignore[no-untyped-def]
    """Run an Open WebUI container as a user would (`docker run -d -p …`), not through owui-dev: no labels."""

    def run(
        *,
        env: dict[str, str] | None = None,
        bind: str | None = "127.0.0.1",
        image: str = fake_image,
        wait: bool = True,
        labels: dict[str, str] | None = None,
    ) -> tuple[Any, int]:
        name = f"owui-dev-test-theirs-{secrets.token_hex(4)}"
        names.extra_containers.append(name)
        volume = f"{name}-data"
        names.extra_volumes.append(volume)
        port = free_port()
        ports = {} if bind is None else {"8080/tcp": (bind, port) if bind else port}
        container = docker_client.containers.run(
            image,
            name=name,
            detach=True,
            environment=ADMIN if env is None else env,
            ports=ports,
            volumes={volume: {"bind": "/app/backend/data", "mode": "rw"}},
            labels=labels or {},
        )
        if wait and bind is not None:
            _wait_healthy(port)
        container.reload()
        return container, port

    return run


@pytest.fixture
def official_tag(docker_client, fake_image: str) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The fake image under a tag of the official repository, so that `up` recognises it; only the tag is removed."""
    tag = f"owui-dev-test-{secrets.token_hex(4)}"
    docker_client.images.get(fake_image).tag(external.OFFICIAL_IMAGE, tag)
    ref = f"{external.OFFICIAL_IMAGE}:{tag}"
    yield ref
    with contextlib.suppress(Exception):
        docker_client.images.remove(ref, noprune=True)  # untag: the image itself stays (it has its own tag)


def _up_args(*extra: str) -> list[str]:
    return ["--ngrok-path", AGENT_PATH, "--json", *extra]


def _stopped_actions(up: UpProcess) -> list[str]:
    stopped = [json.loads(line) for line in up.stderr.splitlines() if '"stopped"' in line]
    assert stopped, up.stderr
    return list(stopped[-1]["actions"])


def _unchanged(container: Any, before: tuple[str, str]) -> None:
    container.reload()
    assert container.status == "running", f"{container.name} was stopped"
    assert (container.id, container.attrs["State"]["StartedAt"]) == before, "the container was re-created or restarted"


def test_attach_serves_their_container_and_down_and_ctrl_c_leave_it_running(  # type: ignore[no-untyped-def]
    docker_client, theirs, env, up_processes
) -> None:
    container, port = theirs()
    before = (container.id, container.attrs["State"]["StartedAt"])
    up = UpProcess(_up_args("--attach", container.name), env)
    up_processes.append(up)
    ready = up.wait_for_json()

    assert ready["serves"] == "attached"
    assert ready["container_name"] == container.name
    assert ready["local_url"] == f"http://127.0.0.1:{port}"
    assert ready["lan_url"] is None  # published on 127.0.0.1 only
    assert ready["admin_email"] is None  # owui-dev created no account in it
    status, body = https_get(f"{ready['public_url']}/health", env["SSL_CERT_FILE"])
    assert (status, json.loads(body)) == (200, {"status": True})
    # the checks that need the admin say why they could not run, as warnings
    checks = {check["id"]: check for check in ready["checks"]}  # type: ignore[union-attr]
    assert checks["model"]["status"] == "warn"
    assert NO_ADMIN in checks["model"]["detail"]
    assert "--show-password" not in checks["model"]["hint"]  # nothing kept to show: the accounts are its own

    shown = json.loads(run_cli("status", "--json", env=env).stdout)
    assert shown["serves"] == "attached"
    assert shown["attached"] == container.name
    assert shown["public_url"] == ready["public_url"]
    assert shown["managed"] is False

    # `check` reads the running `up` as for owui-dev's own instance, without a sign-in to use
    checked = run_cli("check", "--json", env=env)
    assert checked.returncode == 0, checked.stderr
    rechecked = {check["id"]: check for check in json.loads(checked.stdout)["checks"]}
    assert rechecked["websocket"]["status"] == "ok"
    assert NO_ADMIN in rechecked["stt"]["detail"]

    down = run_cli("down", "--json", env=env)
    assert down.returncode == 0, down.stderr
    said = " ".join(json.loads(down.stdout)["actions"])
    assert f"left the container {container.name} running" in said
    _unchanged(container, before)

    agent_pid = int(ready["agent_pid"])  # type: ignore[arg-type]
    assert up.interrupt(signal.SIGINT) == 0
    actions = _stopped_actions(up)
    assert any(f"left {container.name} running" in action for action in actions), actions
    assert not any("stopped the container" in action or "data volume" in action for action in actions), actions
    assert pid_gone(agent_pid), "the ngrok agent outlived owui-dev"
    _unchanged(container, before)


def test_an_attached_container_that_stops_ends_the_run_and_is_not_restarted(  # type: ignore[no-untyped-def]
    theirs, env, up_processes
) -> None:
    container, _ = theirs()
    up = UpProcess(_up_args("--attach", container.name), env)
    up_processes.append(up)
    up.wait_for_json()
    container.stop(timeout=2)  # its owner stops it
    assert up.wait(60) == problems.EXTERNAL_STOPPED.error.exit_code, up.stderr
    assert "stopped answering while serving" in _error(up)["message"]
    assert f"up --attach {container.name}" in _error(up)["hint"]
    time.sleep(2)  # a restart would come right after the run noticed
    container.reload()
    assert container.status == "exited", "owui-dev restarted a container it did not make"


def test_an_instance_at_a_url_that_stops_answering_ends_the_run(theirs, env, up_processes) -> None:  # type: ignore[no-untyped-def]
    """A short gap is waited out (a reload, a slow answer); one longer than GONE_AFTER ends the run."""
    container, port = theirs()
    up = UpProcess(_up_args("--url", f"http://127.0.0.1:{port}"), env)
    up_processes.append(up)
    up.wait_for_json()
    container.stop(timeout=2)
    assert up.wait(external.GONE_AFTER + 60) == problems.EXTERNAL_STOPPED.error.exit_code, up.stderr
    assert f"Open WebUI at http://127.0.0.1:{port} stopped answering" in _error(up)["message"]


def test_attach_on_all_interfaces_says_it_is_also_on_the_local_network(  # type: ignore[no-untyped-def]
    theirs, env, up_processes
) -> None:
    if external.lan_address() is None:
        pytest.fail("this machine has no network address besides loopback: the test needs one")
    container, port = theirs(bind="")  # `-p PORT:8080`, as Open WebUI's docs write it
    up = UpProcess(_up_args("--attach", container.name), env)
    up_processes.append(up)
    ready = up.wait_for_json()
    assert ready["lan_url"] == f"http://{external.lan_address()}:{port}"
    assert "also reachable over plain HTTP on your local network" in up.stderr
    before = (container.id, container.attrs["State"]["StartedAt"])
    assert up.interrupt(signal.SIGTERM) == 0
    _unchanged(container, before)

    # --url has no binding to read: it asks this machine's network address whether the port answers there too
    # (as for `open-webui serve`, which listens on 0.0.0.0).
    up = UpProcess(_up_args("--url", f"http://127.0.0.1:{port}"), env)
    up_processes.append(up)
    assert up.wait_for_json()["lan_url"] == f"http://{external.lan_address()}:{port}"
    assert up.interrupt(signal.SIGINT) == 0


def test_url_serves_an_open_webui_without_docker_and_leaves_it_running(  # type: ignore[no-untyped-def]
    theirs, env, up_processes
) -> None:
    container, port = theirs()
    before = (container.id, container.attrs["State"]["StartedAt"])
    # No Docker engine at all: `open-webui serve` users need none, and --url asks none.
    up = UpProcess(
        _up_args("--url", f"http://localhost:{port}/"), {**env, "DOCKER_HOST": "unix:///nonexistent/docker.sock"}
    )
    up_processes.append(up)
    ready = up.wait_for_json()
    assert ready["serves"] == "url"
    assert ready["local_url"] == f"http://127.0.0.1:{port}"
    assert ready["lan_url"] is None  # the container publishes on 127.0.0.1 only: nothing answers on the LAN
    status, body = https_get(f"{ready['public_url']}/api/config", env["SSL_CERT_FILE"])
    assert status == 200
    assert json.loads(body)["version"]
    shown = json.loads(run_cli("status", "--json", env={**env, "DOCKER_HOST": "unix:///nonexistent"}).stdout)
    assert (shown["serves"], shown["external_url"], shown["healthy"]) == ("url", f"http://127.0.0.1:{port}", True)
    human = run_cli("status", env={**env, "DOCKER_HOST": "unix:///nonexistent"}).stdout
    assert f"the Open WebUI at http://127.0.0.1:{port} (not started by owui-dev" in " ".join(human.split())
    assert up.interrupt(signal.SIGINT) == 0
    assert any(f"left http://127.0.0.1:{port} running" in action for action in _stopped_actions(up))
    _unchanged(container, before)


def test_plain_up_offers_attach_for_an_open_webui_it_did_not_make(  # type: ignore[no-untyped-def]
    theirs, official_tag, env, names
) -> None:
    container, _ = theirs(image=official_tag)
    mine, _ = theirs(image=official_tag, labels={"owui-dev.managed": "true"}, wait=False)
    # The image `up` would run is absent and never pulled: `up` stops there, after the offer, before any start.
    result = run_cli(
        "up", "--json", "--name", names.container, "--volume", names.volume, "--image", "owui-dev-test/absent:none",
        "--pull", "never", "--ngrok-path", AGENT_PATH, "--port", str(free_port()), env=env,
    )  # fmt: skip
    offers = [json.loads(line) for line in result.stderr.splitlines() if '"attach_offer"' in line]
    hints = {offer["container"]: offer["hint"] for offer in offers}
    assert hints.get(container.name) == f"owui-dev up --attach {container.name}", result.stderr
    assert mine.name not in hints, "owui-dev's own containers (by their label) are not offered"
    assert result.returncode == problems.IMAGE_ABSENT_PULL_NEVER.error.exit_code, result.stderr


# -- what is refused, and how ----------------------------------------------------------------------------


def _error(result: Any) -> dict[str, Any]:
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    errors = [line for line in lines if line.get("event") == "error"]
    assert errors, result.stderr
    return errors[-1]


@pytest.mark.parametrize(
    ("env_of_theirs", "problem", "needle"),
    [
        ({}, problems.EXTERNAL_NO_ADMIN, "has no account yet"),
        ({**ADMIN, "WEBUI_AUTH": "False"}, problems.AUTH_OFF, "reports authentication off"),
        ({**ADMIN, "WEBUI_AUTH_TRUSTED_EMAIL_HEADER": "X-Email"}, problems.TRUSTED_HEADER, "has WEBUI_AUTH_TRUSTED"),
    ],
    ids=["no-account-yet", "auth-off", "trusted-header"],
)
def test_attach_refuses_an_instance_strangers_could_claim(  # type: ignore[no-untyped-def]
    theirs, env, env_of_theirs, problem, needle
) -> None:
    container, _ = theirs(env=env_of_theirs)
    before = (container.id, container.attrs["State"]["StartedAt"])
    result = run_cli("up", *_up_args("--attach", container.name), env=env)
    assert result.returncode == problem.error.exit_code, result.stderr
    assert needle in _error(result)["message"]
    _unchanged(container, before)


def test_url_refuses_authentication_off_found_through_its_api_config(theirs, env) -> None:  # type: ignore[no-untyped-def]
    """With --url there is no environment to read: /api/config says it, and --allow-no-auth lets it through."""
    _, port = theirs(env={"WEBUI_AUTH": "False"})
    result = run_cli("up", *_up_args("--url", f"http://127.0.0.1:{port}"), env=env)
    assert result.returncode == problems.AUTH_OFF.error.exit_code, result.stderr
    assert "reports authentication off" in _error(result)["message"]


def test_attach_errors_for_containers_it_cannot_serve(docker_client, theirs, env) -> None:  # type: ignore[no-untyped-def]
    absent = run_cli("up", *_up_args("--attach", f"owui-dev-test-absent-{secrets.token_hex(4)}"), env=env)
    assert absent.returncode == problems.ATTACH_NOT_FOUND.error.exit_code
    assert "There is no container named" in _error(absent)["message"]

    unpublished, _ = theirs(bind=None)
    result = run_cli("up", *_up_args("--attach", unpublished.name), env=env)
    assert result.returncode == problems.ATTACH_NO_PORT.error.exit_code, result.stderr
    assert "publishes no port" in _error(result)["message"]

    stopped, _ = theirs()
    stopped.stop(timeout=2)
    result = run_cli("up", *_up_args("--attach", stopped.name), env=env)
    assert result.returncode == problems.ATTACH_NOT_RUNNING.error.exit_code, result.stderr
    assert "never starts a container it did not make" in _error(result)["message"]
    stopped.reload()
    assert stopped.status == "exited"

    ours, _ = theirs(labels={"owui-dev.managed": "true"})
    result = run_cli("up", *_up_args("--attach", ours.name), env=env)
    assert result.returncode == 2, result.stderr
    assert f"owui-dev up --name {ours.name}" in _error(result)["hint"]


class _NotOpenWebUI(http.server.BaseHTTPRequestHandler):
    """Something else on the port: a web server whose /health is its own (or missing), and no /api/config."""

    health: bytes | None = None

    def do_GET(self) -> None:
        if self.path == "/health" and self.health is not None:
            self._answer(200, self.health)
        else:
            self._answer(404, b'{"detail":"Not Found"}')

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def _serving(health: bytes | None) -> Iterator[int]:
    handler = type("Handler", (_NotOpenWebUI,), {"health": health})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("health", "needle"),
    [
        (None, "GET /health answered HTTP 404"),
        # /health alone is not enough: many services answer it; /api/config says it is Open WebUI.
        (b'{"status": true}', "GET /api/config is not Open WebUI's description of itself"),
    ],
    ids=["no-health", "health-but-no-config"],
)
def test_url_refuses_something_else_listening(offline_env, health: bytes | None, needle: str) -> None:
    with _serving(health) as port:
        result = run_cli("up", *_up_args("--url", f"http://127.0.0.1:{port}"), env=offline_env)
    assert result.returncode == problems.EXTERNAL_NOT_OPEN_WEBUI.error.exit_code, result.stderr
    error = _error(result)
    assert "answers, but not like Open WebUI" in error["message"]
    assert needle in error["message"]


def test_url_with_nothing_listening_says_so(offline_env) -> None:
    port = free_port()
    result = run_cli("up", *_up_args("--url", f"http://127.0.0.1:{port}"), env=offline_env)
    assert result.returncode == problems.EXTERNAL_NOTHING_LISTENS.error.exit_code, result.stderr
    error = _error(result)
    assert error["message"].startswith(f"Nothing answers at http://127.0.0.1:{port}")
    assert "open-webui serve" in error["hint"]


@pytest.fixture
def offline_env(tls_env: dict[str, str], tmp_path: Any) -> dict[str, str]:
    """No Docker engine: --url must not need one."""
    from conftest import TOKEN, cli_env

    return cli_env(NGROK_AUTHTOKEN=TOKEN, DOCKER_HOST="unix:///nonexistent/docker.sock", **tls_env)


# -- the command line ------------------------------------------------------------------------------------

# Each option that only concerns a container owui-dev makes, with a value to give it.
CONTAINER_FLAGS = {
    "name": ["--name", "x"],
    "image": ["--image", "ghcr.io/open-webui/open-webui:main"],
    "pull": ["--pull", "always"],
    "port": ["--port", "3001"],
    "volume": ["--volume", "v"],
    "env": ["--env", "A=b"],
    "keep": ["--keep"],
    "restart": ["--restart"],
    "admin_email": ["--admin-email", "a@b.example"],
    "admin_password": ["--admin-password", "long-enough-pw"],
    "no_ollama_detect": ["--no-ollama-detect"],
    "guest": ["--guest"],
    "guest_email": ["--guest-email", "g@b.example"],
    "keep_guest": ["--keep-guest"],
    "check_voice": ["--check-voice"],
    "timeout": ["--timeout", "30"],
    "gpu": ["--gpu"],
    "bundled_ollama": ["--bundled-ollama"],
    "openwebui_version": ["--version", "0.6.5"],
}
MODES = {"url": ["--url", "http://127.0.0.1:8080"], "attach": ["--attach", "open-webui"]}


def test_the_table_names_every_refused_option() -> None:
    assert set(CONTAINER_FLAGS) == set(external.CONTAINER_ONLY) | set(external.URL_ONLY_REFUSED)


REFUSED = [
    (mode, argument)
    for mode in MODES
    for argument in CONTAINER_FLAGS
    if not (mode == "attach" and argument in external.URL_ONLY_REFUSED)
]


@pytest.mark.parametrize(("mode", "argument"), REFUSED)
def test_container_only_options_are_usage_errors(mode: str, argument: str) -> None:
    flag = CONTAINER_FLAGS[argument]
    result = CliRunner().invoke(cli, ["up", "--json", *MODES[mode], *flag])
    assert result.exit_code == 2, result.output
    error = json.loads(result.stderr.strip().splitlines()[-1])
    assert error["message"].startswith(f"{flag[0]} does not go with --{mode}: it ")
    assert error["hint"].startswith(f"Leave {flag[0]} out: ")


# Options about the tunnel and the announcement (build_up_settings arguments) go with both; --timeout with
# --attach waits for a container that is still starting.
ALLOWED = ["domain", "region", "qr_style", "no_qr", "qr_png", "authtoken", "ngrok_path", "oauth", "oauth_allow",
           "allow_cidr", "call", "model", "open_browser", "present", "allow_no_auth"]  # fmt: skip


@pytest.mark.parametrize("argument", ALLOWED)
def test_options_about_the_tunnel_go_with_both(argument: str) -> None:
    external.refuse_container_options({argument: "x", "url": "http://127.0.0.1:1"}, url=True, attach=False)
    external.refuse_container_options({argument: "x", "attach": "x"}, url=False, attach=True)


def test_timeout_goes_with_attach_only() -> None:
    external.refuse_container_options({"timeout": 30.0, "attach": "x"}, url=False, attach=True)
    with pytest.raises(UsageError):
        external.refuse_container_options({"timeout": 30.0, "url": "x"}, url=True, attach=False)


def test_url_and_attach_together_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["up", "--json", "--url", "http://127.0.0.1:1", "--attach", "x"])
    assert result.exit_code == 2
    assert "--url and --attach do not go together" in result.stderr


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://localhost:3000/", "http://127.0.0.1:3000"),
        ("http://127.0.0.1", "http://127.0.0.1:80"),
        ("https://127.0.0.1:8080", "plain-HTTP"),
        ("http://[::1]:8080", "over IPv4"),
        ("http://192.168.1.20:8080", "not on this machine's loopback"),
        ("http://example.com:8080", "not on this machine's loopback"),
        ("http://127.0.0.1:8080/chat", "more than a host and a port"),
        ("http://u:p@127.0.0.1:8080", "more than a host and a port"),
        ("127.0.0.1:8080", "not an http:// URL"),
        ("http://127.0.0.1:99999", "not a URL"),
    ],
)
def test_which_urls_are_accepted(url: str, expected: str) -> None:
    if expected.startswith("http://"):
        assert external.parse_url(url) == expected
        return
    with pytest.raises(UsageError) as caught:
        external.parse_url(url)
    assert expected in caught.value.message
    assert caught.value.hint


@pytest.mark.parametrize("key", ["guest", "check_voice"])
def test_config_file_settings_that_need_owui_devs_own_instance_are_refused(tmp_path: Any, key: str) -> None:
    """The file's other container settings are simply not used; these two would promise what cannot happen."""
    config = tmp_path / "config.toml"
    config.write_text(f"[up]\n{key} = true\nport = 3001\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["up", "--json", "--config", str(config), "--url", "http://127.0.0.1:8080"])
    assert result.exit_code == 2, result.output
    error = json.loads(result.stderr.strip().splitlines()[-1])
    assert error["message"] == f"{key} (config file) does not go with --url: it {external.CONTAINER_ONLY[key][0]}."
