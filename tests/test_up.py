"""`owui-dev up` end to end, as a real subprocess: real Docker engine, real containers, real pyngrok,
the stand-in ngrok agent, and real HTTPS through it to the container."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import sys
import time
from pathlib import Path

import pytest
from conftest import TOKEN, PtyProcess, UpProcess, agent_records, free_port, https_get, pid_gone, run_cli
from qrdecode import THEMES, decode_png, decode_terminal_qr, strip_ansi

pytestmark = pytest.mark.e2e


def test_up_json_serves_open_webui_over_https_and_ctrl_c_undoes_it(
    docker_client, names, base_args, env, up_processes
) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    up = UpProcess([*base_args, "--json", "--port", str(port), "--env", "FAKE_START_DELAY=1.5"], env)
    up_processes.append(up)
    ready = up.wait_for_json()

    # one clean JSON line on stdout, with what a script needs
    assert up.stdout.count("\n") == 1
    assert ready["event"] == "ready"
    assert ready["container_name"] == names.container
    assert ready["local_url"] == f"http://127.0.0.1:{port}"
    assert str(ready["public_url"]).startswith("https://")
    assert ready["image"]
    # progress went to stderr, as JSON lines
    events = [json.loads(line) for line in up.stderr.splitlines() if line.startswith("{")]
    assert {"step", "waiting"} <= {e["event"] for e in events}

    # Open WebUI answers through the tunnel, over HTTPS verified against the test CA
    status, body = https_get(f"{ready['public_url']}/health", env["SSL_CERT_FILE"])
    assert status == 200
    assert json.loads(body) == {"status": True}
    status, page = https_get(str(ready["public_url"]), env["SSL_CERT_FILE"])
    assert "<title>Open WebUI</title>" in page
    # The endpoint acts out ngrok's free plan: a browser meets the interstitial (ERR_NGROK_6024), and `up`'s
    # own check above got past it (its requests are not a browser's, and say ngrok-skip-browser-warning).
    browser = {"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148 Safari/604.1"}
    status, page = https_get(str(ready["public_url"]), env["SSL_CERT_FILE"], headers=browser)
    assert "ERR_NGROK_6024" in page

    # the container: ours, published on 127.0.0.1 only, host.docker.internal mapped, data on the volume
    container = docker_client.containers.get(names.container)
    assert container.status == "running"
    assert container.labels["owui-dev.managed"] == "true"
    bindings = container.attrs["HostConfig"]["PortBindings"]["8080/tcp"]
    assert bindings == [{"HostIp": "127.0.0.1", "HostPort": str(port)}]
    assert "host.docker.internal:host-gateway" in container.attrs["HostConfig"]["ExtraHosts"]
    mounts = {m["Destination"]: m["Name"] for m in container.attrs["Mounts"]}
    assert mounts["/app/backend/data"] == names.volume

    # the authtoken reached the agent through a private config file, not its command line
    records = agent_records(env)
    assert len(records) == 1
    assert all(TOKEN not in arg for arg in records[0]["argv"])  # type: ignore[union-attr]
    assert records[0]["authtoken_source"] == "config"
    assert TOKEN not in up.stdout + up.stderr
    agent_pid = int(ready["agent_pid"])  # type: ignore[arg-type]

    assert up.interrupt(signal.SIGINT) == 0
    stopped = [json.loads(line) for line in up.stderr.splitlines() if '"stopped"' in line]
    assert stopped, up.stderr
    assert any("stopped the container" in action for action in stopped[-1]["actions"])
    container.reload()
    assert container.status == "exited"
    assert pid_gone(agent_pid), "the ngrok agent outlived owui-dev"
    docker_client.volumes.get(names.volume)  # the data volume stays
    assert not list((Path(env["HOME"]) / ".local/state/owui-dev/runs").glob("*.ngrok.yml"))


def colour_env(env: dict[str, str], **extra: str) -> dict[str, str]:
    """The environment with exactly the colour settings a test names (none leaking in from the caller)."""
    return {**{k: v for k, v in env.items() if k not in {"NO_COLOR", "COLORTERM", "FORCE_COLOR"}}, **extra}


def test_human_output_shows_the_warning_and_a_qr_that_decodes_to_the_url(names, base_args, env, ptys) -> None:  # type: ignore[no-untyped-def]
    up = PtyProcess(
        [sys.executable, "-m", "owui_dev", "up", *base_args, "--port", str(free_port())],
        colour_env(env, COLORTERM="truecolor"),
    )
    ptys.append(up)
    screen = strip_ansi(up.wait_for("Press Ctrl+C to stop."))
    assert "DEVELOPMENT ONLY — NOT FOR PRODUCTION" in screen
    assert "reverse proxy (Caddy, Traefik, Nginx)" in screen
    url = next(word for word in screen.split() if word.startswith("https://"))
    # as the terminal paints it (24-bit colours here), on a dark and on a light theme
    assert "\x1b[38;2;0;0;0;48;2;255;255;255m" in up.output
    for theme in THEMES:
        assert decode_terminal_qr(up.output, theme) == url
    assert up.interrupt() == 0
    tail = strip_ansi(up.output)
    assert "Stopped the container" in tail
    assert "Kept the data volume" in tail


def test_full_block_qr_and_png(names, base_args, env, ptys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    png = tmp_path / "qr.png"
    up = PtyProcess(
        [sys.executable, "-m", "owui_dev", "up", *base_args, "--port", str(free_port()), "--qr", "full",
         "--qr-png", str(png)],
        colour_env(env),  # TERM=xterm-256color without COLORTERM: 256-colour escapes
    )  # fmt: skip
    ptys.append(up)
    screen = strip_ansi(up.wait_for("Press Ctrl+C to stop."))
    url = next(word for word in screen.split() if word.startswith("https://"))
    assert "\x1b[38;5;16;48;5;231m" in up.output
    for theme in THEMES:
        assert decode_terminal_qr(up.output, theme) == url
    assert decode_png(png, quiet_zone=4) == url  # the file as written
    assert up.interrupt() == 0


def test_no_color_keeps_the_qr_readable_on_any_theme(names, base_args, env, ptys) -> None:  # type: ignore[no-untyped-def]
    up = PtyProcess(
        [sys.executable, "-m", "owui_dev", "up", *base_args, "--port", str(free_port())],
        colour_env(env, NO_COLOR="1", COLORTERM="truecolor"),
    )
    ptys.append(up)
    screen = strip_ansi(up.wait_for("Press Ctrl+C to stop."))
    url = next(word for word in screen.split() if word.startswith("https://"))
    for theme in THEMES:
        assert decode_terminal_qr(up.output, theme) == url
    # ... and that is the only colour: the URL line, the warning panel and the steps have none
    non_qr = [line for line in up.output.splitlines() if strip_ansi(line).strip(" ▀▄█\r")]
    assert not [line for line in non_qr if "38;2;" in line or "48;2;" in line or "\x1b[3" in line], non_qr
    assert up.interrupt() == 0


def test_sigterm_stops_like_ctrl_c(docker_client, names, base_args, env, up_processes) -> None:  # type: ignore[no-untyped-def]
    up = UpProcess([*base_args, "--json", "--port", str(free_port())], env)
    up_processes.append(up)
    ready = up.wait_for_json()
    assert up.interrupt(signal.SIGTERM) == 0
    assert docker_client.containers.get(names.container).status == "exited"
    assert pid_gone(int(ready["agent_pid"]))  # type: ignore[arg-type]


def test_a_running_container_is_reused_and_left_running(docker_client, names, base_args, env, up_processes) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    first = UpProcess([*base_args, "--json", "--port", str(port), "--keep"], env)
    up_processes.append(first)
    first.wait_for_json()
    assert first.interrupt() == 0
    container = docker_client.containers.get(names.container)
    assert container.status == "running", "--keep leaves the container running"
    started_at = container.attrs["State"]["StartedAt"]

    second = UpProcess([*base_args, "--json"], env)
    up_processes.append(second)
    ready = second.wait_for_json()
    assert ready["local_url"] == f"http://127.0.0.1:{port}"
    assert "already running" in second.stderr
    assert second.interrupt() == 0
    container.reload()
    assert container.status == "running", "a container this run did not start keeps running"
    assert container.attrs["State"]["StartedAt"] == started_at


def test_a_stopped_container_is_started_again_with_its_data(docker_client, names, base_args, env, up_processes) -> None:  # type: ignore[no-untyped-def]
    port = str(free_port())
    first = UpProcess([*base_args, "--json", "--port", port], env)
    up_processes.append(first)
    first.wait_for_json()
    assert first.interrupt() == 0
    container_id = docker_client.containers.get(names.container).id

    second = UpProcess([*base_args, "--json", "--port", port], env)
    up_processes.append(second)
    second.wait_for_json()
    assert docker_client.containers.get(names.container).id == container_id, "same settings: same container"
    assert second.interrupt() == 0


def test_changed_settings_recreate_the_container_but_keep_the_volume(
    docker_client, names, base_args, env, up_processes
) -> None:  # type: ignore[no-untyped-def]
    port = str(free_port())
    first = UpProcess([*base_args, "--json", "--port", port], env)
    up_processes.append(first)
    first.wait_for_json()
    assert first.interrupt() == 0
    old_id = docker_client.containers.get(names.container).id

    second = UpProcess([*base_args, "--json", "--port", port, "--env", "SOME_SETTING=1"], env)
    up_processes.append(second)
    second.wait_for_json()
    container = docker_client.containers.get(names.container)
    assert container.id != old_id
    assert "SOME_SETTING=1" in container.attrs["Config"]["Env"]
    assert "re-creating" in second.stderr
    assert second.interrupt() == 0


def test_busy_explicit_port_is_an_error_before_anything_starts(docker_client, names, base_args, env) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        result = run_cli("up", *base_args, "--port", str(port), env=env)
    assert result.returncode == 5, result.stderr
    assert f"Port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "--port" in result.stderr
    assert "Traceback" not in result.stderr
    assert not docker_client.containers.list(all=True, filters={"name": names.container})
    # The agent may have been warmed up while the engine was checked: it is gone, and nothing speaks of it.
    assert all(pid_gone(int(record["pid"])) for record in agent_records(env))  # type: ignore[arg-type]
    assert "ngrok agent" not in result.stderr


def test_container_crash_during_start_shows_its_logs(docker_client, names, base_args, env) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(
        "up", *base_args, "--port", str(free_port()), "--env", "FAKE_CRASH=start", "--env", "FAKE_EXIT_CODE=3",
        env=env,
    )  # fmt: skip
    assert result.returncode == 5, result.stderr
    assert "exited during start-up (exit code 3)" in result.stderr
    assert "Traceback" in result.stderr, "the container's own last log lines are shown"
    assert "owui-dev logs" in result.stderr
    # The agent was starting meanwhile (no tunnel: that waits for a secured instance); it is ended.
    assert all(pid_gone(int(r["pid"])) for r in agent_records(env)), "the agent outlived the failed start"  # type: ignore[arg-type]
    assert docker_client.containers.get(names.container).status == "exited"


@pytest.mark.parametrize(
    ("setting", "why"),
    [
        ("FAKE_START_DELAY=30", "GET /api/config got no answer"),
        ("FAKE_CONFIG_STATUS=502", "GET /api/config answered HTTP 502, last time"),
    ],
    ids=["no-answer", "an-error"],
)
def test_readiness_timeout_says_so_and_stops_the_container(docker_client, names, base_args, env, setting, why) -> None:  # type: ignore[no-untyped-def]
    args = [a if a != "60" else "3" for a in base_args]
    result = run_cli("up", *args, "--port", str(free_port()), "--env", setting, env=env)
    assert result.returncode == 6, result.stderr
    assert f"Open WebUI was not ready within 3 s: {why}." in result.stderr
    assert "--timeout" in result.stderr
    assert docker_client.containers.get(names.container).status == "exited"
    assert all(pid_gone(int(r["pid"])) for r in agent_records(env)), "the agent outlived the failed start"  # type: ignore[arg-type]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupt_while_waiting_undoes_the_start_and_exits_130(
    docker_client, names, base_args, env, up_processes, sig
) -> None:  # type: ignore[no-untyped-def]
    """Stopped before the URL was announced: 130 (the shell's "interrupted"), not 0 — the run did not succeed."""
    up = UpProcess([*base_args, "--json", "--port", str(free_port()), "--env", "FAKE_START_DELAY=30"], env)
    up_processes.append(up)
    deadline = time.monotonic() + 60
    while '"waiting"' not in up.stderr and time.monotonic() < deadline:
        time.sleep(0.1)
    assert '"waiting"' in up.stderr, up.stderr
    assert up.interrupt(sig) == 130
    assert docker_client.containers.get(names.container).status == "exited"
    assert all(pid_gone(int(r["pid"])) for r in agent_records(env)), "the agent outlived the interrupt"  # type: ignore[arg-type]
    assert "stopped the container" in up.stderr


def test_same_named_container_not_ours_is_left_untouched(docker_client, names, base_args, env, fake_image) -> None:  # type: ignore[no-untyped-def]
    other = docker_client.containers.run(fake_image, name=names.container, detach=True)
    result = run_cli("up", *base_args, "--port", str(free_port()), env=env)
    assert result.returncode == 5, result.stderr
    assert "was not created by owui-dev" in result.stderr
    assert "--name" in result.stderr
    assert f"owui-dev up --attach {names.container}" in " ".join(result.stderr.split())  # serve it as it is
    other.reload()
    assert other.status == "running"
    assert "owui-dev.managed" not in other.labels


def test_no_authtoken_without_a_terminal_is_a_clear_error(docker_client, names, base_args, env) -> None:  # type: ignore[no-untyped-def]
    env = {k: v for k, v in env.items() if k != "NGROK_AUTHTOKEN"}
    result = run_cli("up", *base_args, env=env)
    assert result.returncode == 7, result.stderr
    assert "No ngrok authtoken" in result.stderr
    assert "https://dashboard.ngrok.com/get-started/your-authtoken" in result.stderr
    assert not docker_client.containers.list(all=True, filters={"name": names.container})


def test_no_authtoken_on_a_terminal_asks_once_and_saves_it_like_ngrok(names, base_args, env, ptys) -> None:  # type: ignore[no-untyped-def]
    env = {k: v for k, v in env.items() if k != "NGROK_AUTHTOKEN"}
    up = PtyProcess([sys.executable, "-m", "owui_dev", "up", *base_args, "--port", str(free_port())], env)
    ptys.append(up)
    up.wait_for("input hidden")
    up.type(TOKEN + "\n")
    screen = up.wait_for("Press Ctrl+C to stop.")
    assert TOKEN not in screen, "the typed token is not echoed"
    saved = Path(env["XDG_CONFIG_HOME"]) / "ngrok" / "ngrok.yml"
    assert saved.stat().st_mode & 0o777 == 0o600
    assert TOKEN in saved.read_text()
    assert up.interrupt() == 0


def test_authtoken_from_ngrok_config_file(names, base_args, env, up_processes) -> None:  # type: ignore[no-untyped-def]
    env = {k: v for k, v in env.items() if k != "NGROK_AUTHTOKEN"}
    config = Path(env["XDG_CONFIG_HOME"]) / "ngrok" / "ngrok.yml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'version: "3"\nagent:\n  authtoken: {TOKEN}\n')
    up = UpProcess([*base_args, "--json", "--port", str(free_port())], env)
    up_processes.append(up)
    up.wait_for_json()
    assert str(config) in up.stderr
    assert up.interrupt() == 0


def test_invalid_authtoken_is_explained_without_echoing_it(docker_client, names, base_args, env) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("up", *base_args, "--port", str(free_port()), env={**env, "FAKE_NGROK_FAIL": "auth_invalid"})
    assert result.returncode == 7, result.stderr
    assert "ERR_NGROK_105" in result.stderr
    assert "NGROK_AUTHTOKEN" in result.stderr, "says where the bad token came from"
    assert TOKEN not in result.stdout + result.stderr
    assert docker_client.containers.get(names.container).status == "exited", "the container this run started"


def test_docker_engine_unreachable(offline_args, env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("up", *offline_args, env={**env, "DOCKER_HOST": f"unix://{tmp_path}/missing.sock"})
    assert result.returncode == 3, result.stderr
    assert "the socket does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_image_with_pull_never(names, base_args, env) -> None:  # type: ignore[no-untyped-def]
    args = [a if not a.startswith("owui-dev-test/fake-openwebui") else "owui-dev-test/absent:nope" for a in base_args]
    result = run_cli("up", *args, env=env)
    assert result.returncode == 4, result.stderr
    assert "--pull never" in result.stderr


def test_second_up_for_the_same_name_says_the_first_runs(names, base_args, env, up_processes) -> None:  # type: ignore[no-untyped-def]
    first = UpProcess([*base_args, "--json", "--port", str(free_port())], env)
    up_processes.append(first)
    ready = first.wait_for_json()
    result = run_cli("up", *base_args, env=env)
    assert result.returncode == 9, result.stderr
    assert "already running" in result.stderr
    assert str(ready["public_url"]) in result.stderr
    assert first.interrupt() == 0


def test_debug_shows_a_traceback(offline_args, env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("up", *offline_args, "--debug", env={**env, "DOCKER_HOST": f"unix://{tmp_path}/missing.sock"})
    assert result.returncode == 3
    assert "Traceback" in result.stderr


@pytest.fixture
def registry_image(docker_client, fake_image: str):  # type: ignore[no-untyped-def]
    """The fake Open WebUI, served by a local registry with a few MB to move, so pulls are real pulls."""
    import secrets

    from fake_registry import FakeRegistry

    with FakeRegistry(throttle_bytes_per_sec=4_000_000) as registry:
        tag = f"t{secrets.token_hex(4)}"
        served = registry.add_image_from_engine(
            docker_client, fake_image, "open-webui/open-webui", tag, extra_layer_bytes=3_000_000
        )
        yield registry, served.reference
        for ref in (served.reference, f"{registry.host}/open-webui/open-webui:absent"):
            with contextlib.suppress(Exception):
                docker_client.images.remove(ref, force=True)


def test_pull_shows_a_progress_bar_then_runs_the_image(names, base_args, env, ptys, registry_image) -> None:  # type: ignore[no-untyped-def]
    _, ref = registry_image
    args = [a for a in base_args if a not in {"never"}]
    args[args.index("--pull")] = "--pull=missing"
    args[args.index("--image") + 1] = ref
    up = PtyProcess([sys.executable, "-m", "owui_dev", "up", *args, "--port", str(free_port())], env)
    ptys.append(up)
    screen = strip_ansi(up.wait_for("Press Ctrl+C to stop."))
    assert f"Pulling {ref}" in screen
    assert "MB" in screen, "the bar shows bytes"
    assert "layers" in screen
    assert f"Pulled {ref}" in screen
    assert up.interrupt() == 0


def test_pull_always_in_json_mode_reports_progress_events(
    docker_client, names, base_args, env, up_processes, registry_image
) -> None:  # type: ignore[no-untyped-def]
    _, ref = registry_image
    args = [*base_args]
    args[args.index("--pull") + 1] = "always"
    args[args.index("--image") + 1] = ref
    up = UpProcess([*args, "--json", "--port", str(free_port())], env)
    up_processes.append(up)
    ready = up.wait_for_json()
    assert ready["image"] == ref
    pulls = [json.loads(line) for line in up.stderr.splitlines() if '"pull"' in line]
    assert pulls[0]["status"] == "started"
    assert pulls[-1]["status"] == "done"
    assert up.interrupt() == 0


def test_pull_of_an_unknown_tag_fails_clearly(docker_client, names, base_args, env, registry_image) -> None:  # type: ignore[no-untyped-def]
    registry, _ = registry_image
    args = [*base_args]
    args[args.index("--pull") + 1] = "missing"
    args[args.index("--image") + 1] = f"{registry.host}/open-webui/open-webui:absent"
    result = run_cli("up", *args, env=env)
    assert result.returncode == 4, result.stderr
    assert "Pulling" in result.stderr
    assert "manifest unknown" in result.stderr
    assert "--image" in result.stderr
    assert "Traceback" not in result.stderr
    assert not docker_client.containers.list(all=True, filters={"name": names.container})


def test_no_qr_when_the_terminal_is_too_narrow_or_not_a_terminal(names, args, env, ptys, up_processes) -> None:  # type: ignore[no-untyped-def]
    from qrdecode import qr_lines

    narrow = PtyProcess([sys.executable, "-m", "owui_dev", "up", *args], env, columns=30)
    ptys.append(narrow)
    screen = strip_ansi(narrow.wait_for("Press Ctrl+C to stop."))
    assert "terminal too narrow for the QR code" in " ".join(screen.split())
    assert not qr_lines(screen)
    assert narrow.interrupt() == 0

    piped = UpProcess(args, env)  # human output, but stdout is a pipe
    up_processes.append(piped)
    deadline = time.monotonic() + 60
    while "Press Ctrl+C to stop." not in piped.stdout and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "https://" in piped.stdout
    assert not qr_lines(piped.stdout)
    assert "\x1b[" not in piped.stdout, "no colour codes into a pipe"
    assert piped.interrupt() == 0


@pytest.mark.parametrize("store", ["system", "another CA in SSL_CERT_FILE"])
def test_an_untrusted_certificate_is_refused(docker_client, names, args, env, up_processes, store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Without SSL_CERT_FILE / SSL_CERT_DIR the system's store (truststore) decides, and it does not know the
    test CA; with SSL_CERT_FILE naming some other CA, that CA decides. Either way: refused."""
    untrusting = {k: v for k, v in env.items() if k not in {"SSL_CERT_FILE", "SSL_CERT_DIR"}}
    if store != "system":
        import trustme

        other = tmp_path / "other-ca.pem"
        trustme.CA().cert_pem.write_to_path(str(other))
        untrusting["SSL_CERT_FILE"] = str(other)
    up = UpProcess([*args, "--json"], untrusting)
    up_processes.append(up)
    deadline = time.monotonic() + 120
    while up.proc.poll() is None and time.monotonic() < deadline:
        assert not any(line.startswith("{") for line in up.stdout_lines), (
            "`up` announced a URL whose certificate no trusted CA signed:\n" + up.stdout
        )
        time.sleep(0.2)
    code = up.wait(10)
    assert code == 8, up.stderr
    errors = [json.loads(line) for line in up.stderr.splitlines() if '"error"' in line and line.startswith("{")]
    assert errors, up.stderr
    assert "certificate" in errors[-1]["message"].lower()
    assert "SSL_CERT_FILE" in errors[-1]["hint"]
    # nothing is left running: not the container, not the agent
    assert docker_client.containers.get(names.container).status == "exited"
    records = agent_records(env)
    assert len(records) == 1, "the agent was started (so the certificate was really tried)"
    assert pid_gone(int(records[0]["pid"])), "the ngrok agent outlived the failed run"  # type: ignore[arg-type]
