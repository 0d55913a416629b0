"""`up` does at the same time what need not wait for each other: the ngrok agent's session comes up while Open
WebUI starts (the tunnel itself still only once the instance is secured), and Ctrl+C ends the agent while the
container stops. Proved by the order of what the stand-in agent and the fake Open WebUI say, never by timing."""

from __future__ import annotations

import json
import re
import signal
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import UpProcess, agent_records, free_port, pid_gone

pytestmark = pytest.mark.e2e


def _get_json(url: str) -> tuple[int | None, object]:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, None
    except (OSError, ValueError):
        return None, None


def _group_gone(pgid: int, timeout: float = 10) -> bool:
    """No live process left in the agent's process group (it leads one of its own); zombies do not count."""
    deadline = time.monotonic() + timeout
    while True:
        alive = False
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
                alive = True
                break
        if not alive:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)


def _events(up: UpProcess) -> list[dict[str, object]]:
    return [json.loads(line) for line in up.stderr.splitlines() if line.startswith("{")]


def _wait_until(condition, what: str, up: UpProcess, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if up.proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"{what} never happened (exit {up.proc.poll()}):\n{up.stderr}")
        time.sleep(0.1)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_the_agent_session_comes_up_while_open_webui_starts_and_an_interrupt_then_leaves_nothing(
    docker_client, names, args, env, up_processes, sig
) -> None:  # type: ignore[no-untyped-def]
    web = free_port()
    up = UpProcess([*args, "--json", "--env", "FAKE_START_DELAY=45"], {**env, "FAKE_NGROK_DEFAULT_WEB_PORT": str(web)})
    up_processes.append(up)
    port = args[args.index("--port") + 1]

    # The stand-in agent's own API says its session is online...
    _wait_until(lambda: _get_json(f"http://127.0.0.1:{web}/api/status")[1] is not None, "the agent's API", up)
    _wait_until(
        lambda: (_get_json(f"http://127.0.0.1:{web}/api/status")[1] or {}).get("status") == "online",  # type: ignore[union-attr]
        "the agent's session",
        up,
    )
    # ...while the fake Open WebUI is still starting (it answers /health only after its 45 s)...
    status, _ = _get_json(f"http://127.0.0.1:{port}/health")
    assert status != 200, "Open WebUI is not ready yet"
    assert not any("is ready on" in str(e.get("message")) for e in _events(up))
    # ...and no tunnel exists before the instance is secured.
    _, endpoints = _get_json(f"http://127.0.0.1:{web}/api/endpoints")
    assert endpoints["endpoints"] == []  # type: ignore[index]
    # What the user is told agrees: the agent, then still the wait, no tunnel.
    _wait_until(lambda: any("ngrok agent connected" in str(e.get("message")) for e in _events(up)), "the news", up)
    assert not any("ngrok tunnel open:" in str(e.get("message")) for e in _events(up))

    (record,) = agent_records(env)
    assert up.interrupt(sig) == 130
    assert docker_client.containers.get(names.container).status == "exited"
    assert _group_gone(int(record["pid"])), "the ngrok agent (or something it started) outlived owui-dev"  # type: ignore[arg-type]
    stopped = [e for e in _events(up) if e["event"] == "stopped"][-1]
    assert stopped["actions"][:2] == [  # type: ignore[index]
        f"ended the ngrok agent (pid {record['pid']})",
        f"stopped the container {names.container}",
    ]
    assert not list((Path(env["XDG_STATE_HOME"]) / "owui-dev" / "runs").glob("*.ngrok.yml")), "token file gone"


def test_an_agent_failure_found_while_open_webui_starts_ends_the_run_and_undoes_it(
    docker_client, names, args, env, up_processes
) -> None:  # type: ignore[no-untyped-def]
    up = UpProcess([*args, "--json", "--env", "FAKE_START_DELAY=45"], {**env, "FAKE_NGROK_FAIL": "auth_invalid"})
    up_processes.append(up)
    assert up.wait(60) == 7
    events = _events(up)
    # Found in the background, once the container had started: Open WebUI never got as far as ready.
    assert any("Container " in str(e.get("message")) and " started" in str(e.get("message")) for e in events)
    assert not any("is ready on" in str(e.get("message")) for e in events)
    (error,) = [e for e in events if e["event"] == "error"]
    assert "ERR_NGROK_105" in str(error["message"])
    assert "NGROK_AUTHTOKEN" in str(error["message"]) + str(error["hint"])
    assert env["NGROK_AUTHTOKEN"] not in up.stderr + up.stdout
    assert "Traceback" not in up.stderr
    stopped = [e for e in events if e["event"] == "stopped"][-1]
    assert f"stopped the container {names.container}" in stopped["actions"]  # type: ignore[operator]
    assert docker_client.containers.get(names.container).status == "exited"
    for record in agent_records(env):
        assert _group_gone(int(record["pid"]))  # type: ignore[arg-type]


def test_ctrl_c_ends_the_agent_while_a_slow_container_stop_is_still_going(
    docker_client, names, args, env, up_processes
) -> None:  # type: ignore[no-untyped-def]
    """The container's stop takes Docker's 10 s (it ignores SIGTERM for 30 s); the agent does not wait for it."""
    up = UpProcess([*args, "--json", "--env", "FAKE_STOP_DELAY=30"], env)
    up_processes.append(up)
    ready = up.wait_for_json()
    agent = int(ready["agent_pid"])  # type: ignore[arg-type]
    up.proc.send_signal(signal.SIGINT)
    assert _group_gone(agent, timeout=8), "the agent is ended at once, not after the container"
    assert up.proc.poll() is None, "the container's stop is still going"
    assert docker_client.containers.get(names.container).status == "running"
    assert up.wait(30) == 0
    assert docker_client.containers.get(names.container).status == "exited"
    stopped = [e for e in _events(up) if e["event"] == "stopped"][-1]
    # One order for the user, whatever finished first.
    assert stopped["actions"] == [
        f"closed the tunnel {ready['public_url']}",
        f"ended the ngrok agent (pid {agent})",
        f"stopped the container {names.container}",
        f"kept the data volume {names.volume}",
    ]
    assert pid_gone(agent)


def test_an_agent_binary_that_cannot_run_is_a_clear_error_and_the_run_is_undone(
    docker_client, names, args, env, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """Executable and present (so preflight lets it pass), but not a program this machine can run."""
    from conftest import run_cli

    binary = tmp_path / "ngrok"
    binary.write_bytes(b"\x7fELF\x02\x01\x01garbage, not for this machine")
    binary.chmod(0o755)
    args = [*args]
    args[args.index("--ngrok-path") + 1] = str(binary)
    result = run_cli("up", *args, env=env)
    assert result.returncode == 7, result.stderr
    assert "The ngrok agent could not start" in result.stderr
    assert "ngrok version" in result.stderr
    assert "Traceback" not in result.stderr
    for container in docker_client.containers.list(all=True, filters={"name": names.container}):
        assert container.status == "exited"


def test_the_agent_warms_up_while_the_engine_is_reached_and_a_run_ended_there_says_nothing_of_it(
    offline_args, env, tmp_path, up_processes
) -> None:  # type: ignore[no-untyped-def]
    """An authtoken known and the agent's binary present: its session (no tunnel) comes up while the Docker engine
    is still being reached, here one that takes connections and never answers. Ended there, before the run got
    past its checks, the agent goes, and what the user is told says nothing of an agent they never heard of."""
    import socket

    engine = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    engine.bind(str(tmp_path / "docker.sock"))
    engine.listen()
    web = free_port()
    up = UpProcess(
        [*offline_args, "--json"],
        {**env, "DOCKER_HOST": f"unix://{tmp_path / 'docker.sock'}", "FAKE_NGROK_DEFAULT_WEB_PORT": str(web)},
    )
    up_processes.append(up)
    try:
        _wait_until(
            lambda: (_get_json(f"http://127.0.0.1:{web}/api/status")[1] or {}).get("status") == "online",  # type: ignore[union-attr]
            "the agent's session",
            up,
        )
        assert not any("Docker" in str(e.get("message")) for e in _events(up)), "the engine has not answered"
        _, endpoints = _get_json(f"http://127.0.0.1:{web}/api/endpoints")
        assert endpoints["endpoints"] == []  # type: ignore[index]
        (record,) = agent_records(env)
        assert up.interrupt() == 130
    finally:
        engine.close()
    assert _group_gone(int(record["pid"])), "the agent outlived owui-dev"  # type: ignore[arg-type]
    stopped = [e for e in _events(up) if e["event"] == "stopped"]
    assert [e["actions"] for e in stopped] == [[]], "nothing the user heard of was undone"
    assert "ngrok agent" not in up.stderr
    assert not list((Path(env["XDG_STATE_HOME"]) / "owui-dev" / "runs").glob("*.ngrok.yml")), "token file gone"


def test_the_url_comes_while_the_admins_sign_in_is_still_going_and_its_sign_in_line_follows(
    docker_client, names, args, env, up_processes
) -> None:  # type: ignore[no-untyped-def]
    """The sign-in (a password hash on the real image) decides nothing about who can get in, which /api/config
    already told: the fake holds it until the test releases it, and meanwhile the tunnel opens, is verified and its
    URL is out. What the sign-in tells (the password shown works) follows: the ready line waits for it.

    Up to the tunnel, Open WebUI was asked one thing: /api/config, its readiness probe and the answer that secured
    it (its access log, /health included with FAKE_LOG_HEALTH, has the tunnel's own check and nothing else)."""
    hold = "/app/backend/data/release-sign-in"
    web = free_port()
    up = UpProcess(
        [*args, "--json", "--env", f"FAKE_SIGNIN_HOLD={hold}", "--env", "FAKE_LOG_HEALTH=True"],
        {**env, "FAKE_NGROK_DEFAULT_WEB_PORT": str(web)},
    )
    up_processes.append(up)
    _wait_until(lambda: any(e["event"] == "url" for e in _events(up)), "the URL", up)
    _, endpoints = _get_json(f"http://127.0.0.1:{web}/api/endpoints")
    assert len(endpoints["endpoints"]) == 1  # type: ignore[index]
    log = docker_client.containers.get(names.container).logs().decode()
    asked = re.findall(r'"(GET|POST) (\S+) HTTP/1\.1" (\d+)$', log, re.M)
    assert asked == [("GET", "/api/config", "200"), ("GET", "/health", "200")], log
    time.sleep(1)
    assert not any("signs in" in str(e.get("message")) for e in _events(up)), "the sign-in is still held"
    assert '"ready"' not in up.stdout, "the ready line, with the sign-in to show, waits for it"

    docker_client.containers.get(names.container).exec_run(["touch", hold])
    ready = up.wait_for_json()
    assert ready["admin_email"] == "admin@localhost"
    assert ready["admin_password"]
    messages = [str(e.get("message") or e["event"]) for e in _events(up)]
    verified = messages.index("HTTPS tunnel verified (Open WebUI answers through it)")
    assert verified < messages.index("url") < messages.index("Admin account admin@localhost signs in")
    assert up.interrupt() == 0


def test_a_serving_up_collects_garbage_again(args, env, up_processes, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The collector is paused only while `up` starts (owui_dev.startup): serving, for hours maybe, it runs."""
    probe = tmp_path / "probe"
    probe.mkdir()
    report = tmp_path / "collector"
    (probe / "sitecustomize.py").write_text(
        "import gc, signal\n"
        "def _report(signum, frame):\n"
        f"    open({str(report)!r}, 'w').write(repr(gc.isenabled()))\n"
        "signal.signal(signal.SIGUSR2, _report)\n"
    )
    up = UpProcess([*args, "--json"], {**env, "PYTHONPATH": str(probe)})
    up_processes.append(up)
    assert up.wait_for_json(), up.stderr
    up.proc.send_signal(signal.SIGUSR2)
    _wait_until(report.exists, "the collector's report", up, timeout=10)
    assert report.read_text() == "True"
    assert up.interrupt() == 0
