"""What a laptop throws at `up`: each case gives a clear message, its exit code, and a clean state."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import TOKEN, UpProcess, agent_records, free_port, https_get, pid_gone, run_cli
from fake_ngrok.support import AGENT_PATH

pytestmark = pytest.mark.e2e


def assert_clean_after(docker_client, names, env) -> None:  # type: ignore[no-untyped-def]
    """What the failed run started is undone: container stopped, no agent left, volume kept."""
    for container in docker_client.containers.list(all=True, filters={"name": names.container}):
        assert container.status == "exited"
    for record in agent_records(env):
        assert pid_gone(int(record["pid"])), "an ngrok agent outlived the failed run"  # type: ignore[arg-type]
    assert not list((Path(env["XDG_STATE_HOME"]) / "owui-dev" / "runs").glob("*.ngrok.yml"))


@pytest.mark.parametrize(
    ("mode", "code", "needles"),
    [
        ("auth_revoked", 7, ["ERR_NGROK_107", "was revoked", "NGROK_AUTHTOKEN"]),
        ("session_limit", 7, ["ERR_NGROK_108", "Another ngrok is running", "dashboard.ngrok.com/agents"]),
        ("endpoint_online", 7, ["ERR_NGROK_334", "already online", "stop it"]),
        ("too_old", 7, ["ERR_NGROK_121", "too old", "ngrok update"]),
        ("usage_limit", 8, ["ERR_NGROK_725", "monthly usage limit"]),
    ],
)
def test_ngrok_account_and_agent_failures(docker_client, names, args, env, mode, code, needles) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("up", *args, env={**env, "FAKE_NGROK_FAIL": mode})
    assert result.returncode == code, result.stderr
    for needle in needles:
        assert needle in result.stderr
    assert "Traceback" not in result.stderr
    assert TOKEN not in result.stdout + result.stderr
    assert_clean_after(docker_client, names, env)


def test_no_route_to_ngrok_gives_up_with_that_diagnosis(docker_client, names, args, env) -> None:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    result = run_cli("up", *args, env={**env, "FAKE_NGROK_FAIL": "no_route"}, timeout=90)
    assert result.returncode == 7, result.stderr
    assert "did not connect to ngrok's service" in result.stderr
    assert "firewall" in result.stderr
    assert time.monotonic() - started < 60, "bounded, not hanging"
    assert_clean_after(docker_client, names, env)


def test_domain_the_account_does_not_own(docker_client, names, args, env) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("up", *args, "--domain", "someone-else.ngrok.app", env=env)
    assert result.returncode == 7, result.stderr
    assert "someone-else.ngrok.app" in result.stderr
    assert "Domains on your ngrok dashboard" in result.stderr
    assert_clean_after(docker_client, names, env)


def test_ngrok_path_not_executable_is_refused_before_anything_starts(docker_client, names, args, env, tmp_path) -> None:  # type: ignore[no-untyped-def]
    fake = tmp_path / "ngrok"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o644)
    args = [*args]
    args[args.index("--ngrok-path") + 1] = str(fake)
    result = run_cli("up", *args, env=env)
    assert result.returncode == 7
    assert "is not executable" in result.stderr
    assert f"chmod +x {fake}" in result.stderr
    assert not docker_client.containers.list(all=True, filters={"name": names.container})


def test_missing_ngrok_and_failing_download(docker_client, names, args, env) -> None:  # type: ignore[no-untyped-def]
    args = [a for a in args if a not in {"--ngrok-path", AGENT_PATH}]
    result = run_cli("up", *args, env={**env, "PATH": "/usr/bin:/bin"}, timeout=120)
    assert result.returncode == 7, result.stderr
    assert "downloading it failed" in result.stderr
    assert "--ngrok-path" in result.stderr
    assert not docker_client.containers.list(all=True, filters={"name": names.container})


def _events(up: UpProcess) -> list[dict[str, object]]:
    return [json.loads(line) for line in up.stderr.splitlines() if line.startswith("{")]


def _wait_event(up: UpProcess, name: str, timeout: float = 30) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for event in _events(up):
            if event["event"] == name:
                return event
        time.sleep(0.2)
    raise AssertionError(f"no {name} event:\n{up.stderr}")


@pytest.mark.parametrize("rotate", [False, True])
def test_tunnel_drop_and_recovery_is_reported_and_verified(names, args, env, up_processes, rotate: bool) -> None:  # type: ignore[no-untyped-def]
    extra = {"FAKE_NGROK_DROP_SECONDS": "2", **({"FAKE_NGROK_ROTATE_URL": "1"} if rotate else {})}
    up = UpProcess([*args, "--json"], {**env, **extra})
    up_processes.append(up)
    ready = up.wait_for_json()
    os.kill(int(ready["agent_pid"]), signal.SIGUSR1)  # type: ignore[arg-type]
    _wait_event(up, "tunnel_down")
    back = _wait_event(up, "tunnel_up")
    assert back["changed"] is rotate
    if rotate:
        assert back["public_url"] != ready["public_url"]
    status, _ = https_get(f"{back['public_url']}/health", env["SSL_CERT_FILE"])
    assert status == 200
    assert up.proc.poll() is None, "a drop does not end the run"
    assert up.interrupt() == 0


def test_container_dying_while_serving_ends_the_run_with_its_logs(
    docker_client, names, args, env, up_processes
) -> None:  # type: ignore[no-untyped-def]
    up = UpProcess([*args, "--json"], env)
    up_processes.append(up)
    ready = up.wait_for_json()
    urllib.request.urlopen(
        urllib.request.Request(f"{ready['local_url']}/__fake__/crash", method="POST"), timeout=5
    ).close()
    assert up.wait(30) == 5
    error = _wait_event(up, "error")
    assert "stopped while serving" in str(error["message"])
    assert "--restart" in str(error["hint"])
    assert error["details"], "the last log lines come with it"
    assert pid_gone(int(ready["agent_pid"]))  # type: ignore[arg-type]


def test_restart_brings_a_dead_container_back(docker_client, names, args, env, up_processes) -> None:  # type: ignore[no-untyped-def]
    up = UpProcess([*args, "--json", "--restart"], env)
    up_processes.append(up)
    ready = up.wait_for_json()
    urllib.request.urlopen(
        urllib.request.Request(f"{ready['local_url']}/__fake__/crash", method="POST"), timeout=5
    ).close()
    _wait_event(up, "container_restart")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            status, _ = https_get(f"{ready['public_url']}/health", env["SSL_CERT_FILE"])
            if status == 200:
                break
        except OSError:
            pass
        time.sleep(0.3)
    else:
        raise AssertionError("Open WebUI did not come back through the tunnel")
    assert up.proc.poll() is None
    assert up.interrupt() == 0


def test_ctrl_c_during_the_pull_leaves_nothing_behind(
    docker_client, names, args, env, fake_image, up_processes
) -> None:  # type: ignore[no-untyped-def]
    import secrets

    from fake_registry import FakeRegistry

    with FakeRegistry(throttle_bytes_per_sec=300_000) as registry:
        served = registry.add_image_from_engine(
            docker_client,
            fake_image,
            "open-webui/open-webui",
            f"slow{secrets.token_hex(3)}",
            extra_layer_bytes=6_000_000,
        )
        args = [*args]
        args[args.index("--image") + 1] = served.reference
        args[args.index("--pull") + 1] = "always"
        up = UpProcess([*args, "--json"], env)
        up_processes.append(up)
        _wait_event(up, "pull")
        time.sleep(1)
        assert up.interrupt() == 130
    assert not docker_client.containers.list(all=True, filters={"name": names.container})
    for record in agent_records(env):  # the agent was starting meanwhile: it is ended
        assert pid_gone(int(record["pid"]))  # type: ignore[arg-type]


def test_ctrl_c_while_the_tunnel_starts_undoes_the_run(docker_client, names, args, env, up_processes) -> None:  # type: ignore[no-untyped-def]
    up = UpProcess([*args, "--json"], {**env, "FAKE_NGROK_FAIL": "no_route"})
    up_processes.append(up)
    deadline = time.monotonic() + 60
    while not agent_records(env) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1)
    started = time.monotonic()
    assert up.interrupt() == 130
    assert time.monotonic() - started < 10, "Ctrl+C is prompt even while the agent hangs"
    assert "stopped the container" in up.stderr
    assert_clean_after(docker_client, names, env)


def _killed_run(args: list[str], env: dict[str, str], up_processes: list[UpProcess]) -> int:
    """An `up` killed with SIGKILL: no teardown ran, and its agent (in a session of its own) lives on."""
    first = UpProcess([*args, "--json"], env)
    up_processes.append(first)
    leftover = int(first.wait_for_json()["agent_pid"])  # type: ignore[arg-type]
    first.proc.kill()
    first.wait(10)
    assert not pid_gone(leftover, timeout=1)
    return leftover


def test_a_leftover_agent_of_another_run_is_named_on_a_session_limit_and_ended_by_down(
    docker_client, names, args, env, up_processes
) -> None:  # type: ignore[no-untyped-def]
    leftover = _killed_run(args, env, up_processes)
    try:
        other = f"{names.container}-other"
        names.extra_containers.append(other)
        names.extra_volumes.append(f"{other}-data")
        other_args = [*args, "--name", other, "--volume", f"{other}-data", "--port", str(free_port())]
        again = run_cli("up", *other_args, env={**env, "FAKE_NGROK_FAIL": "session_limit"})
        assert again.returncode == 7, again.stderr
        assert (
            f"leftover ngrok agent from an earlier owui-dev run is still running on this machine (pid {leftover})"
            in again.stderr
        )
        assert not pid_gone(leftover, timeout=0.5), "another name's `up` never ends it: it only names it"
        down = run_cli("down", "--name", names.container, env=env)
        assert down.returncode == 0, down.stderr
        assert f"Ended a leftover ngrok agent (pid {leftover})" in down.stdout
        assert pid_gone(leftover)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(leftover, signal.SIGKILL)


def test_the_next_up_of_the_same_name_ends_the_agent_a_killed_run_left(names, args, env, up_processes) -> None:  # type: ignore[no-untyped-def]
    """Its public URL may still be online: the next `up` of that name (which holds the name's lock, so no live
    `up` owns that agent) ends it before it starts its own."""
    leftover = _killed_run(args, env, up_processes)
    try:
        again = UpProcess([*args, "--json"], env)
        up_processes.append(again)
        ready = again.wait_for_json()
        assert pid_gone(leftover)
        assert f"Ended the ngrok agent a killed run of {names.container} left (pid {leftover})" in again.stderr
        assert int(ready["agent_pid"]) != leftover  # type: ignore[arg-type]
        assert again.interrupt() == 0
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(leftover, signal.SIGKILL)


def test_second_ctrl_c_during_teardown_exits_at_once_but_still_ends_ngrok(names, args, env, up_processes) -> None:  # type: ignore[no-untyped-def]
    up = UpProcess([*args, "--json", "--env", "FAKE_STOP_DELAY=30"], env)
    up_processes.append(up)
    ready = up.wait_for_json()
    up.proc.send_signal(signal.SIGINT)
    time.sleep(1.5)  # the tunnel is closed by now; teardown waits for the slow container stop (10 s)
    assert up.proc.poll() is None, "the container's stop is slow: teardown is still running"
    started = time.monotonic()
    assert up.interrupt(signal.SIGINT, timeout=8) == 0
    assert time.monotonic() - started < 5
    assert pid_gone(int(ready["agent_pid"]))  # type: ignore[arg-type]
    stopped = [json.loads(line) for line in up.stderr.splitlines() if '"stopped"' in line][-1]
    assert any("second interrupt" in action for action in stopped["actions"])


def test_a_new_url_after_a_drop_gets_a_new_qr_on_the_terminal(names, args, env, ptys) -> None:  # type: ignore[no-untyped-def]
    import sys

    from conftest import PtyProcess
    from qrdecode import decode_terminal_qr, strip_ansi

    up = PtyProcess(
        [sys.executable, "-m", "owui_dev", "up", *args],
        {**env, "FAKE_NGROK_DROP_SECONDS": "1", "FAKE_NGROK_ROTATE_URL": "1"},
    )
    ptys.append(up)
    first = strip_ansi(up.wait_for("Press Ctrl+C to stop."))
    old_url = next(word for word in first.split() if word.startswith("https://"))
    os.kill(int(agent_records(env)[0]["pid"]), signal.SIGUSR1)  # type: ignore[arg-type]
    up.wait_for("came back on a new URL")
    deadline = time.monotonic() + 20
    while up.output.count("Press Ctrl+C to stop.") < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    screen = up.output
    second = screen[screen.index("came back on a new URL") :]
    new_url = next(word for word in strip_ansi(second).split() if word.startswith("https://"))
    assert new_url != old_url
    assert decode_terminal_qr(second) == new_url
    assert up.interrupt() == 0


@pytest.mark.parametrize(
    "bad",
    [
        ["--region", "mars"],
        ["--timeout", "nan"],
        ["--timeout", "inf"],
        ["--qr-png", "{file}/qr.png"],
        ["--qr-png", "{tmp}"],
        ["--no-qr", "--qr", "full"],
    ],
)
def test_bad_input_is_refused_before_anything_is_started(docker_client, names, args, env, tmp_path, bad) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "file").write_text("")
    bad = [a.replace("{file}", str(tmp_path / "file")).replace("{tmp}", str(tmp_path)) for a in bad]
    result = run_cli("up", *args, *bad, env=env, timeout=60)
    assert result.returncode == 2, result.stderr
    assert not docker_client.containers.list(all=True, filters={"name": names.container}), "no container"
    assert not docker_client.volumes.list(filters={"name": names.volume}), "no volume"
    assert not agent_records(env), "no ngrok agent"
    assert not (Path(env["XDG_STATE_HOME"]) / "owui-dev").exists(), "not even a run record"
