"""`up --guest` / `--present` end to end: a shared account of role `user` for an audience, created before the
URL is announced, able to see the models, removed on the way out (or by `down` after a killed run), and a
projector's output without the admin's password. Real Docker, the fake Open WebUI (user creation, roles,
BYPASS_MODEL_ACCESS_CONTROL and user deletion as 0.12.4 has them: tests/test_openwebui_contract.py), the
stand-in agent and a stand-in Ollama."""

from __future__ import annotations

import json
import ssl
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from conftest import UpProcess, run_cli
from fake_ollama import FakeOllama

pytestmark = pytest.mark.docker

MODELS = ["llama3.2:1b", "qwen3:4b"]


def _name(args: list[str]) -> str:
    return args[args.index("--name") + 1]


def _call(
    url: str, *, body: dict[str, Any] | None = None, token: str | None = None, cafile: str | None = None
) -> tuple[int, Any]:
    """One request as a phone's browser makes it (through the tunnel when `url` is the public one)."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data else "GET")
    context = ssl.create_default_context(cafile=cafile) if cafile else None
    try:
        with urllib.request.urlopen(request, context=context, timeout=15) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def _sign_in(base: str, email: str, password: str, cafile: str | None = None) -> tuple[int, Any]:
    return _call(base + "/api/v1/auths/signin", body={"email": email, "password": password}, cafile=cafile)


def _status(args: list[str], env: dict[str, str], *extra: str) -> dict[str, Any]:
    result = run_cli("status", "--name", _name(args), "--json", *extra, env=env)
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def _before_any_tunnel(up: UpProcess, needle: str) -> bool:
    """The step saying `needle` came before the tunnel opened: the room may know an old guest's password."""
    messages = [str(json.loads(line).get("message")) for line in up.stderr.splitlines() if line.startswith("{")]
    said = next(index for index, message in enumerate(messages) if needle in message)
    opened = next(index for index, message in enumerate(messages) if message.startswith("ngrok tunnel open"))
    return said < opened


def _up(
    up_processes: list[UpProcess], args: list[str], env: dict[str, str], *extra: str
) -> tuple[UpProcess, dict[str, Any]]:
    up = UpProcess([*args, "--json", *extra], env)
    up_processes.append(up)
    return up, dict(up.wait_for_json(timeout=120))


def _sign_ins(docker_client: Any, args: list[str]) -> int:
    log = docker_client.containers.get(_name(args)).logs().decode()
    return log.count('"POST /api/v1/auths/signin HTTP/1.1" 200')


def test_the_guest_signs_in_through_the_tunnel_sees_the_models_and_is_gone_after_ctrl_c(
    up_processes: list[UpProcess], args: list[str], env: dict[str, str], docker_client: Any
) -> None:
    with FakeOllama(models=MODELS, host="0.0.0.0") as ollama:
        up, ready = _up(up_processes, args, {**env, "OWUI_DEV_OLLAMA_URL": ollama.url}, "--guest", "--keep")
        # up's admin signed in once (the guest made and the checks run on that session); the guest check, once.
        assert _sign_ins(docker_client, args) == 2
        email, password = ready["guest_email"], ready["guest_password"]
        assert email == "guest@localhost"
        assert len(password.split("-")) == 6
        assert password != ready["admin_password"]
        checks = {check["id"]: check for check in ready["checks"]}
        assert checks["guest"]["status"] == "ok", checks["guest"]
        assert "through the tunnel" in checks["guest"]["detail"]
        assert _before_any_tunnel(up, "Guest account guest@localhost created")

        # as a phone in the room: through the tunnel, with the guest's sign-in
        status, session = _sign_in(ready["public_url"], email, password, env["SSL_CERT_FILE"])
        assert status == 200, session
        assert session["role"] == "user"
        status, models = _call(ready["public_url"] + "/api/models", token=session["token"], cafile=env["SSL_CERT_FILE"])
        assert status == 200
        assert sorted(model["id"] for model in models["data"]) == sorted(MODELS)
        # a guest is no admin: the admin-only settings stay closed
        status, _ = _call(
            ready["public_url"] + "/api/v1/audio/config", token=session["token"], cafile=env["SSL_CERT_FILE"]
        )
        assert status == 401

        shown = _status(args, env)
        assert (shown["guest_email"], shown["guest_password"]) == (email, password)
        human = run_cli("status", "--name", _name(args), env=env)
        assert f"{email} / {password}" in human.stdout

        assert up.interrupt() == 0
        assert "removed the guest account guest@localhost and its chats" in up.stderr.lower()
        assert _sign_ins(docker_client, args) == 3, "removed on the admin's session: no sign-in (this test's, only)"
        # --keep left Open WebUI running: the guest's sign-in now fails there, the admin's still works
        local = ready["local_url"]
        assert _sign_in(local, email, password)[0] == 400
        assert _sign_in(local, ready["admin_email"], ready["admin_password"])[0] == 200
        assert _status(args, env)["guest_email"] is None


def test_keep_guest_keeps_the_account_and_the_next_guest_run_reuses_it(
    up_processes: list[UpProcess], args: list[str], env: dict[str, str]
) -> None:
    up, ready = _up(up_processes, args, env, "--no-ollama-detect", "--guest", "--keep-guest", "--keep")
    email, password = ready["guest_email"], ready["guest_password"]
    assert up.interrupt() == 0
    assert "kept the guest account guest@localhost and its chats (--keep-guest)" in up.stderr.lower()
    assert _sign_in(ready["local_url"], email, password)[0] == 200
    # `down` leaves a guest kept on purpose alone
    down = run_cli("down", "--name", _name(args), "--json", env=env)
    assert down.returncode == 0, down.stderr
    assert any("kept the guest account" in action for action in json.loads(down.stdout)["actions"])
    again, ready = _up(up_processes, args, env, "--no-ollama-detect", "--guest")
    assert (ready["guest_email"], ready["guest_password"]) == (email, password)
    assert again.interrupt() == 0
    assert "removed the guest account" in again.stderr.lower()


def test_a_guest_is_removed_even_when_open_webui_no_longer_takes_ups_session(
    up_processes: list[UpProcess], args: list[str], env: dict[str, str]
) -> None:
    """The guest goes on the session of `up`'s own sign-in; one Open WebUI has let expire meanwhile (a short
    JWT_EXPIRES_IN, hours into a demo) is replaced by a sign-in, not reported as a guest left behind."""
    from owui_dev.guest import remove_guest

    up, ready = _up(up_processes, args, env, "--no-ollama-detect", "--guest", "--keep-guest", "--keep")
    assert up.interrupt() == 0
    volume = args[args.index("--volume") + 1]
    done = remove_guest(ready["local_url"], volume, admin_token="a-session-open-webui-does-not-know")
    assert done == ["removed the guest account guest@localhost and its chats"]
    assert _sign_in(ready["local_url"], ready["guest_email"], ready["guest_password"])[0] == 400


def test_down_removes_the_guest_a_killed_run_left(
    up_processes: list[UpProcess], args: list[str], env: dict[str, str], docker_client: Any
) -> None:
    up, ready = _up(up_processes, args, env, "--no-ollama-detect", "--guest")
    email, password = ready["guest_email"], ready["guest_password"]
    up.kill()  # SIGKILL: no way out runs
    assert _status(args, env)["guest_email"] == email  # still there, and still known
    down = run_cli("down", "--name", _name(args), "--json", env=env)
    assert down.returncode == 0, down.stderr
    actions = json.loads(down.stdout)["actions"]
    assert "removed the guest account guest@localhost and its chats" in actions, actions
    assert _status(args, env)["guest_email"] is None
    # really gone from Open WebUI, not only from owui-dev's notes: start the container again and ask it
    container = docker_client.containers.get(_name(args))
    container.start()
    local = ready["local_url"]
    deadline = time.monotonic() + 60
    while True:
        try:
            if _call(local + "/health")[0] == 200:
                break
        except OSError:
            pass
        assert time.monotonic() < deadline
        time.sleep(0.5)
    assert _sign_in(local, email, password)[0] == 400
    assert _sign_in(local, ready["admin_email"], ready["admin_password"])[0] == 200


def test_present_shows_the_guest_and_never_the_admin_password(
    up_processes: list[UpProcess], args: list[str], env: dict[str, str]
) -> None:
    up = UpProcess([*args, "--no-ollama-detect", "--guest", "--present"], env)
    up_processes.append(up)
    deadline = time.monotonic() + 120
    while "Press Ctrl+C to stop." not in up.stdout:
        assert up.proc.poll() is None, up.stderr
        assert time.monotonic() < deadline, up.stdout + up.stderr
        time.sleep(0.2)
    secrets = _status(args, env, "--show-password")
    admin_password, guest_password = secrets["admin_password"], secrets["guest_password"]
    assert admin_password
    assert guest_password
    output = up.stdout + up.stderr
    assert guest_password in up.stdout
    assert admin_password not in output
    assert "owui-dev status --show-password" in up.stdout
    assert "only the admin and the guest get in, nobody else" in " ".join(up.stdout.split())
    assert "Sign in with the guest's e-mail and password" in up.stdout
    assert up.interrupt() == 0


def test_present_without_guest_warns_that_the_room_has_no_way_in(
    up_processes: list[UpProcess], args: list[str], env: dict[str, str]
) -> None:
    up, ready = _up(up_processes, args, env, "--no-ollama-detect", "--present")
    assert ready["guest_email"] is None
    assert any("the room will have no way in" in line for line in up.stderr_lines)
    assert up.interrupt() == 0


def test_check_voice_also_proves_the_guests_speech_to_text(
    up_processes: list[UpProcess], args: list[str], env: dict[str, str]
) -> None:
    """A guest's call must work, not only the admin's: --check-voice uploads the clip as the guest too."""
    import hashlib

    from owui_dev.voice import CLIP_SENTENCE, Clip

    heard = f"FAKE_TRANSCRIPTS={hashlib.sha256(Clip.shipped().data).hexdigest()}={CLIP_SENTENCE}"
    up, _ = _up(up_processes, [*args, "--env", heard], env, "--guest", "--check-voice", "--no-ollama-detect")
    deadline = time.monotonic() + 120
    event = None
    while event is None and time.monotonic() < deadline:
        event = next((json.loads(line) for line in up.stderr_lines if line.startswith('{"event":"checks"')), None)
        time.sleep(0.2)
    assert event is not None, up.stderr
    checks = {check["id"]: check for check in event["checks"]}
    assert set(checks) == {"voice", "guest-voice"}
    assert checks["guest-voice"]["status"] == "ok", checks
    assert "signing in" not in checks["guest-voice"]["detail"]
    assert "This is a microphone test." in checks["guest-voice"]["detail"]
    assert up.interrupt() == 0


def test_the_next_up_removes_a_guest_a_killed_run_left(
    up_processes: list[UpProcess], args: list[str], env: dict[str, str]
) -> None:
    """Without `down` in between: the next plain `up` finds the guest a killed run left, and removes it."""
    up, ready = _up(up_processes, args, env, "--no-ollama-detect", "--guest")
    email, password, local = ready["guest_email"], ready["guest_password"], ready["local_url"]
    up.kill()  # SIGKILL: no way out runs, and the container keeps running
    up, ready = _up(up_processes, args, env, "--no-ollama-detect")
    assert "(left by an earlier run)" in up.stderr
    assert _before_any_tunnel(up, "(left by an earlier run)")
    assert ready["guest_email"] is None
    assert _sign_in(local, email, password)[0] == 400
    assert _status(args, env)["guest_email"] is None
    assert up.interrupt() == 0


def test_guest_on_an_instance_with_its_own_accounts_is_refused_and_undone(
    up_processes: list[UpProcess], args: list[str], env: dict[str, str], docker_client: Any, isolated_home: Any
) -> None:
    """owui-dev creates the guest with its own admin only: an instance that had accounts gets no guest, and
    nothing this run started is left running."""
    up, _ = _up(up_processes, args, env, "--no-ollama-detect")
    assert up.interrupt() == 0
    volume = args[args.index("--volume") + 1]
    for kept in (isolated_home / ".local" / "state" / "owui-dev" / "instances").glob(f"{volume}.json"):
        kept.unlink()  # owui-dev no longer knows this instance's admin: as if it had its own accounts
    up = UpProcess([*args, "--json", "--no-ollama-detect", "--guest"], env)
    up_processes.append(up)
    assert up.wait(120) == 2, up.stderr
    error = json.loads(up.stderr_lines[-1])
    assert error["error"] == "usage"
    assert "--guest needs the admin account owui-dev created" in error["message"]
    assert docker_client.containers.get(_name(args)).status != "running"
