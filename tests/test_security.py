"""Safe by default on a public URL: nobody but the owner can claim or enter the instance.

Real Docker engine, the fake Open WebUI (faithful to Open WebUI's sign-up rules), the stand-in agent.
"""

from __future__ import annotations

import json
import re
import ssl
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import UpProcess, agent_records, run_cli

pytestmark = pytest.mark.e2e


def post(url: str, payload: dict[str, str], cafile: str) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, context=ssl.create_default_context(cafile=cafile), timeout=15) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def get(url: str, cafile: str, token: str | None = None) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, context=ssl.create_default_context(cafile=cafile), timeout=15) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def start_up(args: list[str], env: dict[str, str], up_processes: list[UpProcess]) -> tuple[UpProcess, dict]:  # type: ignore[type-arg]
    up = UpProcess([*args, "--json"], env)
    up_processes.append(up)
    return up, up.wait_for_json()


def test_fresh_instance_has_an_admin_and_closed_sign_up_before_the_url_exists(
    docker_client, names, args, env, up_processes
) -> None:  # type: ignore[no-untyped-def]
    up, ready = start_up(args, env, up_processes)
    public, ca = str(ready["public_url"]), env["SSL_CERT_FILE"]
    assert ready["auth"] is True
    assert ready["admin_email"] == "admin@localhost"
    password = str(ready["admin_password"])
    assert re.fullmatch(r"[a-z]+(-[a-z]+){5}", password), "six words, easy to type on a phone"
    assert ready["signup_open"] is False

    # a stranger with only the URL: cannot sign up, cannot sign in, cannot see chats
    status, body = post(
        f"{public}/api/v1/auths/signup", {"name": "x", "email": "x@evil.test", "password": "pw123456"}, ca
    )
    assert status == 403, body
    status, _ = post(f"{public}/api/v1/auths/signin", {"email": "admin@localhost", "password": "guess"}, ca)
    assert status == 400
    status, _ = get(f"{public}/api/v1/auths/", ca)
    assert status == 401
    config = json.loads(get(f"{public}/api/config", ca)[1])
    assert "onboarding" not in config
    assert config["features"]["enable_signup"] is False

    # the owner signs in through the public URL with what was shown
    status, session = post(f"{public}/api/v1/auths/signin", {"email": "admin@localhost", "password": password}, ca)
    assert status == 200
    assert session["role"] == "admin"

    # the credentials are kept for the user only, and never in the container's logs
    kept = Path(env["XDG_STATE_HOME"]) / "owui-dev" / "instances" / f"{names.volume}.json"
    assert kept.stat().st_mode & 0o777 == 0o600
    assert json.loads(kept.read_text())["admin_password"] == password
    logs = docker_client.containers.get(names.container).logs().decode()
    assert password not in logs
    assert password not in up.stderr
    assert up.interrupt() == 0


def test_second_up_on_the_same_volume_creates_nothing_and_the_same_sign_in_works(
    docker_client, names, args, env, up_processes
) -> None:  # type: ignore[no-untyped-def]
    first, ready = start_up(args, env, up_processes)
    assert first.interrupt() == 0
    second, again = start_up(args, env, up_processes)
    assert again["admin_password"] == ready["admin_password"]
    logs = docker_client.containers.get(names.container).logs().decode()
    assert logs.count("Creating admin account") == 1, "the admin was created once, on the first start"
    status, _ = post(
        f"{again['public_url']}/api/v1/auths/signin",
        {"email": "admin@localhost", "password": str(again["admin_password"])},
        env["SSL_CERT_FILE"],
    )
    assert status == 200
    assert second.interrupt() == 0


def test_chosen_admin_email_and_password(names, args, env, up_processes) -> None:  # type: ignore[no-untyped-def]
    up, ready = start_up(
        [*args, "--admin-email", "Me@Example.com", "--admin-password", "correct horse battery"], env, up_processes
    )
    assert ready["admin_email"] == "me@example.com"
    assert ready["admin_password"] == "correct horse battery"
    assert up.interrupt() == 0


def test_older_open_webui_gets_its_first_admin_by_sign_up_on_the_local_port(names, args, env, up_processes) -> None:  # type: ignore[no-untyped-def]
    up, ready = start_up([*args, "--env", "FAKE_OWUI_VERSION=0.6.30"], env, up_processes)
    assert "Admin account admin@localhost created" in up.stderr
    status, _ = post(
        f"{ready['public_url']}/api/v1/auths/signup",
        {"name": "x", "email": "x@evil.test", "password": "pw123456"},
        env["SSL_CERT_FILE"],
    )
    assert status == 403
    assert up.interrupt() == 0


def test_an_instance_with_users_gets_no_new_admin(docker_client, names, args, env, fake_image, up_processes) -> None:  # type: ignore[no-untyped-def]
    # Someone's earlier Open WebUI on this volume, with its own account.
    earlier = docker_client.containers.run(
        fake_image, detach=True, volumes={names.volume: {"bind": "/app/backend/data", "mode": "rw"}},
        ports={"8080/tcp": ("127.0.0.1", None)},
    )  # fmt: skip
    try:
        earlier.reload()
        port = earlier.attrs["NetworkSettings"]["Ports"]["8080/tcp"][0]["HostPort"]
        deadline = time.monotonic() + 20
        while True:
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/v1/auths/signup",
                    data=json.dumps(
                        {"name": "Owner", "email": "owner@example.com", "password": "their-pass-1"}
                    ).encode(),
                    headers={"Content-Type": "application/json"},
                )
                with urllib.request.urlopen(request, timeout=5) as response:
                    assert response.status == 200
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline
                time.sleep(0.3)
    finally:
        earlier.remove(force=True)

    up, ready = start_up(args, env, up_processes)
    assert ready["admin_password"] is None
    assert "already has accounts" in up.stderr
    status, _ = post(
        f"{ready['public_url']}/api/v1/auths/signin",
        {"email": "owner@example.com", "password": "their-pass-1"},
        env["SSL_CERT_FILE"],
    )
    assert status == 200
    assert up.interrupt() == 0


def test_auth_off_is_refused_before_anything_starts(docker_client, names, args, env) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("up", *args, "--env", "WEBUI_AUTH=False", env=env)
    assert result.returncode == 11, result.stderr
    assert "every visitor would be its admin" in result.stderr
    assert "--allow-no-auth" in result.stderr
    assert agent_records(env) == []
    assert not docker_client.containers.list(all=True, filters={"name": names.container})


def test_auth_off_with_allow_no_auth_runs_and_says_so_loudly(names, args, env, up_processes) -> None:  # type: ignore[no-untyped-def]
    up, ready = start_up([*args, "--env", "WEBUI_AUTH=False", "--allow-no-auth"], env, up_processes)
    assert ready["auth"] is False
    assert "AUTHENTICATION IS OFF" in up.stderr
    assert up.interrupt() == 0


def test_auth_off_in_a_running_container_is_refused(docker_client, names, args, env, up_processes) -> None:  # type: ignore[no-untyped-def]
    first, _ = start_up([*args, "--env", "WEBUI_AUTH=False", "--allow-no-auth", "--keep"], env, up_processes)
    assert first.interrupt() == 0
    records_before = len(agent_records(env))
    result = run_cli("up", *args, env=env)
    assert result.returncode == 11, result.stderr
    assert "running container" in result.stderr
    assert len(agent_records(env)) == records_before, "no tunnel was opened"


def test_trusted_header_sign_in_is_refused(docker_client, names, args, env) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("up", *args, "--env", "WEBUI_AUTH_TRUSTED_EMAIL_HEADER=X-Email", env=env)
    assert result.returncode == 11, result.stderr
    assert "any visitor can send it" in result.stderr
    assert not docker_client.containers.list(all=True, filters={"name": names.container})


def test_basic_auth_is_refused_with_the_reason(offline_args, env) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("up", *offline_args, "--basic-auth", "me:pw", env=env)
    assert result.returncode == 2
    assert "Authorization: Bearer" in result.stderr
    assert "--oauth" in result.stderr


def test_status_shows_the_sign_in_and_down_purge_forgets_it(names, args, env, up_processes) -> None:  # type: ignore[no-untyped-def]
    up, ready = start_up([*args, "--keep"], env, up_processes)
    assert up.interrupt() == 0
    password = str(ready["admin_password"])
    masked = run_cli("status", "--name", names.container, env=env)
    assert "admin@localhost" in masked.stdout
    assert password not in masked.stdout
    shown = json.loads(run_cli("status", "--name", names.container, "--json", "--show-password", env=env).stdout)
    assert shown["admin_password"] == password
    purge = run_cli("down", "--name", names.container, "--purge", "--yes", env=env)
    assert purge.returncode == 0, purge.stderr
    assert not (Path(env["XDG_STATE_HOME"]) / "owui-dev" / "instances" / f"{names.volume}.json").exists()


def test_the_panel_says_how_the_url_is_protected(names, args, env, ptys) -> None:  # type: ignore[no-untyped-def]
    import sys

    from conftest import PtyProcess
    from qrdecode import strip_ansi

    up = PtyProcess([sys.executable, "-m", "owui_dev", "up", *args], env)
    ptys.append(up)
    screen = strip_ansi(up.wait_for("Press Ctrl+C to stop."))
    assert "Sign in: admin@localhost / " in screen
    assert "only accounts get in; sign-up is closed" in screen
    assert up.interrupt() == 0


def _get_with(url: str, cafile: str, headers: dict[str, str]) -> tuple[int, str, str | None]:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            return None

    opener = urllib.request.build_opener(
        NoRedirect(), urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=cafile))
    )
    try:
        with opener.open(urllib.request.Request(url, headers=headers), timeout=15) as response:
            return response.status, response.read().decode(), response.headers.get("Location")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(), err.headers.get("Location")


def test_cidr_gate_lets_allowed_addresses_through(names, args, env, up_processes) -> None:  # type: ignore[no-untyped-def]
    up, ready = start_up([*args, "--allow-cidr", "127.0.0.0/8"], env, up_processes)
    assert ready["gates"] == ["an IP allow-list (127.0.0.0/8)"]
    status, _, _ = _get_with(f"{ready['public_url']}/health", env["SSL_CERT_FILE"], {})
    assert status == 200
    assert up.interrupt() == 0


def test_cidr_gate_blocks_other_addresses(names, args, env, up_processes) -> None:  # type: ignore[no-untyped-def]
    up, ready = start_up([*args, "--allow-cidr", "203.0.113.0/24"], env, up_processes)
    assert "the gate answers" in up.stderr
    status, body, _ = _get_with(f"{ready['public_url']}/health", env["SSL_CERT_FILE"], {})
    assert status == 403
    assert "ERR_NGROK_3205" in body
    assert up.interrupt() == 0


def test_oauth_gate_sends_strangers_to_sign_in_and_admits_only_the_allowed(names, args, env, up_processes) -> None:  # type: ignore[no-untyped-def]
    up, ready = start_up(
        [*args, "--oauth", "google", "--oauth-allow", "me@example.com", "--oauth-allow", "team.example.org"],
        env,
        up_processes,
    )
    url, ca = f"{ready['public_url']}/health", env["SSL_CERT_FILE"]
    status, _, location = _get_with(url, ca, {})
    assert status == 302
    assert location is not None
    assert location.startswith("https://idp.ngrok.com/")
    assert _get_with(url, ca, {"X-Fake-Ngrok-Oauth-Email": "me@example.com"})[0] == 200
    assert _get_with(url, ca, {"X-Fake-Ngrok-Oauth-Email": "bob@team.example.org"})[0] == 200
    assert _get_with(url, ca, {"X-Fake-Ngrok-Oauth-Email": "mallory@evil.test"})[0] == 403
    assert "google sign-in for me@example.com, team.example.org" in " ".join(ready["gates"])  # type: ignore[arg-type]
    assert up.interrupt() == 0


def test_bad_gate_options_are_usage_errors(offline_args, env) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("up", *offline_args, "--allow-cidr", "not-a-net", env=env).returncode == 2
    assert run_cli("up", *offline_args, "--oauth-allow", "me@example.com", env=env).returncode == 2
    assert run_cli("up", *offline_args, "--oauth", "myspace", env=env).returncode == 2
