"""scripts/by-hand, the baseline of scripts/bench: it really does what `up` does, with plain tools, and cleans up."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

from conftest import AGENT_PATH, Names, agent_records, free_port, https_get, pid_gone

BY_HAND = Path(__file__).resolve().parent.parent / "scripts" / "by-hand"


def test_by_hand_serves_through_the_tunnel_and_cleans_up_on_ctrl_c(
    docker_client, names: Names, fake_image: str, env: dict[str, str], tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    env = {**env, "FAKE_NGROK_DEFAULT_WEB_PORT": str(free_port())}
    argv = [
        str(BY_HAND), "--cold", "--name", names.container, "--port", str(free_port()), "--agent", AGENT_PATH,
        "--cafile", env["SSL_CERT_FILE"], "--image", fake_image, "--volume", names.volume,
    ]  # fmt: skip
    log = (tmp_path / "by-hand.log").open("w")
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, text=True, env=env)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("READY https://"), (line, (tmp_path / "by-hand.log").read_text())
        url = line.split()[1]
        status, body = https_get(f"{url}/health", env["SSL_CERT_FILE"])
        assert (status, json.loads(body)) == (200, {"status": True})
        container = docker_client.containers.get(names.container)
        assert container.attrs["HostConfig"]["PortBindings"]["8080/tcp"][0]["HostIp"] == "127.0.0.1"
        [agent] = agent_records(env)

        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0
        assert pid_gone(int(str(agent["pid"])))
        assert not docker_client.containers.list(all=True, filters={"name": f"^{names.container}$"})
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        log.close()
