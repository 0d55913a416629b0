"""No release notes in the way: the admin owui-dev created has the running version marked as seen.

Real Docker engine, the fake Open WebUI (its user-settings endpoints are checked against the real image in
tests/test_openwebui_contract.py), the stand-in agent. Settings are read back through Open WebUI's own API.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest
from conftest import UpProcess

pytestmark = pytest.mark.e2e


def call(url: str, payload: object = None, token: str | None = None) -> tuple[int, object]:
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def sign_in(local: str, email: str, password: str) -> str:
    status, session = call(f"{local}/api/v1/auths/signin", {"email": email, "password": password})
    assert status == 200, session
    assert isinstance(session, dict)
    return str(session["token"])


def settings(local: str, token: str) -> object:
    status, body = call(f"{local}/api/v1/users/user/settings", token=token)
    assert status == 200, body
    return body


def start_up(args: list[str], env: dict[str, str], up_processes: list[UpProcess]) -> tuple[UpProcess, dict]:  # type: ignore[type-arg]
    up = UpProcess([*args, "--json"], env)
    up_processes.append(up)
    return up, up.wait_for_json()


def test_the_admin_owui_dev_created_has_seen_the_running_version(names, args, env, up_processes) -> None:  # type: ignore[no-untyped-def]
    up, ready = start_up(args, env, up_processes)
    local = str(ready["local_url"])
    token = sign_in(local, "admin@localhost", str(ready["admin_password"]))
    assert settings(local, token) == {"ui": {"version": "0.12.4"}}
    # the admin's own settings, as the app saves them
    mine = {"theme": "dark", "models": ["llama3.2:1b"], "showChangelog": True}
    status, _ = call(f"{local}/api/v1/users/user/settings/update", {"ui": mine, "extra": {"a": 1}}, token)
    assert status == 200
    assert up.interrupt() == 0

    # A newer Open WebUI on the same volume: its notes are marked seen too, and nothing else changes.
    up, ready = start_up([*args, "--env", "FAKE_OWUI_VERSION=0.12.5"], env, up_processes)
    local = str(ready["local_url"])
    token = sign_in(local, "admin@localhost", str(ready["admin_password"]))
    assert settings(local, token) == {"ui": {**mine, "version": "0.12.5"}, "extra": {"a": 1}}
    assert up.interrupt() == 0


def test_an_instance_that_had_accounts_gets_no_settings_change(
    docker_client, names, args, env, fake_image, up_processes
) -> None:  # type: ignore[no-untyped-def]
    # Someone's earlier Open WebUI on this volume, with its own admin account (no settings yet).
    earlier = docker_client.containers.run(
        fake_image, detach=True, volumes={names.volume: {"bind": "/app/backend/data", "mode": "rw"}},
        ports={"8080/tcp": ("127.0.0.1", None)},
    )  # fmt: skip
    try:
        earlier.reload()
        local = f"http://127.0.0.1:{earlier.attrs['NetworkSettings']['Ports']['8080/tcp'][0]['HostPort']}"
        deadline = time.monotonic() + 20
        while True:
            try:
                status, _ = call(
                    f"{local}/api/v1/auths/signup",
                    {"name": "Owner", "email": "owner@example.com", "password": "their-pass-1"},
                )
                assert status == 200
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline
                time.sleep(0.3)
    finally:
        earlier.remove(force=True)

    # Even given that account's own sign-in, owui-dev did not make it: its settings stay untouched.
    up, ready = start_up(
        [*args, "--admin-email", "owner@example.com", "--admin-password", "their-pass-1"], env, up_processes
    )
    assert ready["admin_email"] == "owner@example.com", "the sign-in works"
    local = str(ready["local_url"])
    assert settings(local, sign_in(local, "owner@example.com", "their-pass-1")) is None
    assert up.interrupt() == 0


def test_whats_new_is_marked_once_per_version_and_again_for_a_volume_made_anew(
    docker_client, names, args, env, up_processes
) -> None:  # type: ignore[no-untyped-def]

    def marked(up: UpProcess) -> bool:
        events = [json.loads(line) for line in up.stderr.splitlines() if line.startswith("{")]
        return any("“What's New” marked as read" in str(event.get("message")) for event in events)

    up, ready = start_up(args, env, up_processes)
    assert marked(up)
    assert up.interrupt() == 0

    # The same version again: already marked (owui-dev keeps which), so no request changes anything.
    up, ready = start_up(args, env, up_processes)
    assert not marked(up)
    local = str(ready["local_url"])
    assert settings(local, sign_in(local, "admin@localhost", str(ready["admin_password"]))) == {
        "ui": {"version": "0.12.4"}
    }
    assert up.interrupt() == 0

    # The volume made anew (the kept secrets stay, so the same admin is made again): its admin has seen nothing.
    docker_client.containers.get(names.container).remove(force=True)
    docker_client.volumes.get(names.volume).remove()
    up, ready = start_up(args, env, up_processes)
    assert marked(up)
    local = str(ready["local_url"])
    assert settings(local, sign_in(local, "admin@localhost", str(ready["admin_password"]))) == {
        "ui": {"version": "0.12.4"}
    }
    assert up.interrupt() == 0
