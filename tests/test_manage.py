"""`owui-dev status`, `down` and `logs` against a real engine, driven as subprocesses."""

from __future__ import annotations

import json

import pytest
from conftest import UpProcess, free_port, run_cli
from fake_ngrok.support import AGENT_PATH


@pytest.fixture
def kept_container(names, fake_image: str, env: dict[str, str], up_processes) -> int:  # type: ignore[no-untyped-def]
    """A managed container left running by `up --keep`; returns its port."""
    port = free_port()
    up = UpProcess(
        ["--name", names.container, "--volume", names.volume, "--image", fake_image, "--pull", "never",
         "--ngrok-path", AGENT_PATH, "--port", str(port), "--json", "--keep"],
        env,
    )  # fmt: skip
    up_processes.append(up)
    up.wait_for_json()
    assert up.interrupt() == 0
    return port


def test_status_of_a_running_container(names, kept_container: int, env) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("status", "--name", names.container, "--json", env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["state"] == "running"
    assert report["healthy"] is True
    assert report["managed"] is True
    assert report["published"] == f"127.0.0.1:{kept_container}"
    assert report["loopback_only"] is True
    assert report["volume"] == names.volume
    assert report["public_url"] is None, "no `up` serves it now"

    human = run_cli("status", "--name", names.container, env=env)
    assert human.returncode == 0
    assert "healthy" in human.stdout
    assert "127.0.0.1 only" in human.stdout


def test_status_shows_the_public_url_while_up_runs(names, fake_image, env, up_processes) -> None:  # type: ignore[no-untyped-def]
    up = UpProcess(
        ["--name", names.container, "--volume", names.volume, "--image", fake_image, "--pull", "never",
         "--ngrok-path", AGENT_PATH, "--port", str(free_port()), "--json"],
        env,
    )  # fmt: skip
    up_processes.append(up)
    ready = up.wait_for_json()
    report = json.loads(run_cli("status", "--name", names.container, "--json", env=env).stdout)
    assert report["public_url"] == ready["public_url"]
    assert report["up_pid"] == up.proc.pid
    assert up.interrupt() == 0


def test_status_without_a_container(names, docker_client, env) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("status", "--name", names.container, "--json", env=env)
    assert result.returncode == 0
    assert json.loads(result.stdout) == {**json.loads(result.stdout), "exists": False, "state": "absent"}
    assert "No container named" in run_cli("status", "--name", names.container, env=env).stdout


def test_down_stops_and_keeps_the_volume(names, kept_container: int, docker_client, env) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("down", "--name", names.container, env=env)
    assert result.returncode == 0, result.stderr
    assert "Stopped the container" in result.stdout
    assert docker_client.containers.get(names.container).status == "exited"
    docker_client.volumes.get(names.volume)
    again = run_cli("down", "--name", names.container, "--json", env=env)
    assert again.returncode == 0
    assert json.loads(again.stdout)["actions"][0] == f"{names.container} was not running"


def test_down_rm_removes_the_container_only(names, kept_container: int, docker_client, env) -> None:  # type: ignore[no-untyped-def]
    import docker

    result = run_cli("down", "--name", names.container, "--rm", env=env)
    assert result.returncode == 0, result.stderr
    with pytest.raises(docker.errors.NotFound):
        docker_client.containers.get(names.container)
    docker_client.volumes.get(names.volume)


def test_down_purge_needs_confirmation(names, kept_container: int, docker_client, env) -> None:  # type: ignore[no-untyped-def]
    import docker

    refused = run_cli("down", "--name", names.container, "--purge", env=env)
    assert refused.returncode == 2
    assert "--yes" in refused.stderr
    assert docker_client.containers.get(names.container).status == "running", "refusal changes nothing"

    result = run_cli("down", "--name", names.container, "--purge", "--yes", env=env)
    assert result.returncode == 0, result.stderr
    with pytest.raises(docker.errors.NotFound):
        docker_client.volumes.get(names.volume)


def test_down_refuses_a_container_that_is_not_ours(names, docker_client, fake_image, env) -> None:  # type: ignore[no-untyped-def]
    other = docker_client.containers.run(fake_image, name=names.container, detach=True)
    result = run_cli("down", "--name", names.container, "--rm", env=env)
    assert result.returncode == 5
    assert "not created by owui-dev" in result.stderr
    other.reload()
    assert other.status == "running"


def test_down_without_a_container_is_a_no_op(names, docker_client, env) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("down", "--name", names.container, env=env)
    assert result.returncode == 0
    assert "Nothing to do" in result.stdout


def test_logs_tail_and_missing(names, kept_container: int, env) -> None:  # type: ignore[no-untyped-def]
    everything = run_cli("logs", "--name", names.container, env=env)
    assert everything.returncode == 0, everything.stderr
    assert "Open WebUI" in everything.stdout or "open_webui" in everything.stdout
    last_two = run_cli("logs", "--name", names.container, "--tail", "2", env=env)
    assert 1 <= len(last_two.stdout.strip().splitlines()) <= 2
    missing = run_cli("logs", "--name", names.container + "-absent", env=env)
    assert missing.returncode == 5
    assert "There is no container named" in missing.stderr
    assert f"`owui-dev up --name {names.container}-absent`" in missing.stderr, "the hint quotes the whole command"


def test_logs_follow_ends_cleanly_on_ctrl_c(names, kept_container: int, env) -> None:  # type: ignore[no-untyped-def]
    import signal
    import subprocess
    import sys
    import time

    proc = subprocess.Popen(
        [sys.executable, "-m", "owui_dev", "logs", "-f", "--name", names.container],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert out
