"""Edges of the two outside worlds: which Docker engine (DOCKER_HOST, contexts, permissions) and what
reaches the ngrok agent (region, domain, the token never on a command line or in a traceback)."""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TOKEN, UpProcess, agent_records, run_cli
from fake_ngrok.support import AGENT_PATH

pytestmark = pytest.mark.e2e


def write_context(home: Path, name: str, host: str) -> None:
    """A docker CLI context, stored the way `docker context create` stores it."""
    meta = home / ".docker" / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest() / "meta.json"
    meta.parent.mkdir(parents=True, exist_ok=True)
    meta.write_text(json.dumps({"Name": name, "Metadata": {}, "Endpoints": {"docker": {"Host": host}}}))
    (home / ".docker" / "config.json").write_text(json.dumps({"currentContext": name}))


def test_the_current_docker_context_is_honoured(docker_client, names, args, env, up_processes) -> None:  # type: ignore[no-untyped-def]
    write_context(Path(env["HOME"]), "laptop-engine", "unix:///var/run/docker.sock")
    up = UpProcess([*args, "--json"], {k: v for k, v in env.items() if k != "DOCKER_HOST"})
    up_processes.append(up)
    up.wait_for_json()
    assert "(laptop-engine)" in up.stderr
    assert up.interrupt() == 0


def test_a_context_pointing_at_a_stopped_engine(offline_args, env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    write_context(Path(env["HOME"]), "colima", f"unix://{tmp_path}/colima.sock")
    result = run_cli("up", *offline_args, env={k: v for k, v in env.items() if k != "DOCKER_HOST"})
    assert result.returncode == 3, result.stderr
    assert f"{tmp_path}/colima.sock" in result.stderr
    assert "the socket does not exist" in result.stderr


def test_docker_host_with_nothing_listening(offline_args, env) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))  # held, never listening: connections to it are refused, and nobody takes it
        port = probe.getsockname()[1]
        result = run_cli("up", *offline_args, env={**env, "DOCKER_HOST": f"tcp://127.0.0.1:{port}"})
    assert result.returncode == 3, result.stderr
    assert "refused the connection" in result.stderr
    assert "Traceback" not in result.stderr


def test_permission_denied_on_the_socket_hints_at_the_docker_group(offline_args, env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # A socket nobody may open, and owui-dev run without capabilities (so even root meets the file mode):
    # the same EACCES a user outside the docker group gets from /var/run/docker.sock.
    path = tmp_path / "docker.sock"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))
        listener.listen()
        path.chmod(0)
        no_caps = ["setpriv", "--bounding-set=-all", "--inh-caps=-all"]
        result = subprocess.run(
            [*no_caps, sys.executable, "-m", "owui_dev", "up", *offline_args],
            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
            env={**env, "DOCKER_HOST": f"unix://{path}"},
        )  # fmt: skip
    assert result.returncode == 3, result.stderr
    assert "Permission denied on the Docker socket" in result.stderr
    assert "usermod -aG docker" in result.stderr


def test_pull_access_denied(docker_client, names, args, env, fake_image) -> None:  # type: ignore[no-untyped-def]
    from fake_registry import FakeRegistry

    with FakeRegistry(deny={"open-webui/open-webui"}) as registry:
        args = [*args]
        args[args.index("--image") + 1] = f"{registry.host}/open-webui/open-webui:main"
        args[args.index("--pull") + 1] = "missing"
        result = run_cli("up", *args, env=env)
    assert result.returncode == 4, result.stderr
    assert "denied" in result.stderr
    assert "docker login" in result.stderr


def test_debug_traceback_never_shows_the_authtoken(names, args, env) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("up", *args, "--debug", env={**env, "FAKE_NGROK_FAIL": "auth_invalid"})
    assert result.returncode == 7
    assert "Traceback" in result.stderr
    assert TOKEN not in result.stdout + result.stderr


def test_region_reaches_the_agent(names, args, env, up_processes) -> None:  # type: ignore[no-untyped-def]
    up = UpProcess([*args, "--json", "--region", "eu"], env)
    up_processes.append(up)
    up.wait_for_json()
    argv = agent_records(env)[0]["argv"]
    assert "--region" in argv
    assert argv[argv.index("--region") + 1] == "eu"  # type: ignore[union-attr]
    assert up.interrupt() == 0


def test_an_owned_domain_becomes_the_public_url(tls_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the adapter: the name cannot resolve here, so the end-to-end check would fail on DNS."""
    import http.server
    import threading

    from owui_dev.config import Secret
    from owui_dev.tunnel import NgrokBinary, NgrokTunnel

    for key, value in tls_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("FAKE_NGROK_DOMAINS", "my-name.ngrok-free.app")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    tunnel = NgrokTunnel(
        NgrokBinary(AGENT_PATH, "--ngrok-path"),
        Secret(TOKEN, "test"),
        run_name="domain",
        domain="my-name.ngrok-free.app",
    )
    try:
        info = tunnel.open(server.server_address[1])
        assert info.public_url.startswith("https://my-name.ngrok-free.app")
    finally:
        tunnel.close()
        server.shutdown()
