"""`owui-dev doctor`: every check, its fix, the exit code, and that it has no side effects.

The ngrok reachability probe is pointed at a local listener (OWUI_DEV_NGROK_PROBE) for the ok path and at
a closed port for the warning, so nothing here needs the internet.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import cli_env, run_cli
from fake_ngrok.support import AGENT_PATH

from owui_dev import doctor
from owui_dev.config import DEFAULT_NGROK_PROBE, DoctorSettings, build_doctor_settings, parse_probe
from owui_dev.errors import ChecksFailedError, UsageError
from owui_dev.problems import AUTHTOKEN_URL

TOKEN = "2abcDOCTORtokenNOTreal_4567890abcdefghij"
NOWHERE = "tcp://127.0.0.1:9"  # no Docker engine answers there
ABSENT_IMAGE = "owui-dev-test/never-pulled:doctor"
ALL_IDS = ["docker", "disk", "image", "container", "port", "ngrok-binary", "authtoken", "ngrok-reachable"]


@pytest.fixture
def listener() -> Iterator[str]:
    """A local TCP listener standing in for ngrok's connect endpoint; yields HOST:PORT."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"127.0.0.1:{sock.getsockname()[1]}"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield int(sock.getsockname()[1])


def doctor_json(*args: str, env: dict[str, str]) -> tuple[int, dict[str, dict[str, object]], dict[str, object], str]:
    """Run `owui-dev doctor --json`; (exit code, checks by id, the whole object, stderr)."""
    result = run_cli("doctor", "--json", *args, env=env, timeout=60)
    assert "Traceback" not in result.stderr, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"checks", "ok"}
    for check in data["checks"]:
        assert set(check) == {"id", "name", "status", "detail", "hint"}
        assert check["status"] in {"ok", "warn", "fail"}
    assert data["ok"] is (result.returncode == 0)
    return result.returncode, {check["id"]: check for check in data["checks"]}, data, result.stderr


# -- without a Docker engine ----------------------------------------------------------------------


def test_no_docker_engine_fails_that_check_and_every_other_check_still_runs(listener: str) -> None:
    env = cli_env(DOCKER_HOST=NOWHERE, NGROK_AUTHTOKEN=TOKEN, OWUI_DEV_NGROK_PROBE=listener)
    code, checks, data, stderr = doctor_json("--ngrok-path", AGENT_PATH, "--port", str(closed_port()), env=env)
    assert code == ChecksFailedError.exit_code == 10
    assert [check["id"] for check in data["checks"]] == ALL_IDS
    assert checks["docker"]["status"] == "fail"
    assert "refused" in str(checks["docker"]["detail"])
    assert checks["docker"]["hint"]
    for dependent in ("disk", "image", "container"):
        assert checks[dependent]["status"] == "warn"
        assert "not checked" in str(checks[dependent]["detail"])
    assert checks["port"]["status"] == "ok"
    assert checks["ngrok-binary"]["status"] == "ok"
    assert "ngrok 3.24.0" in str(checks["ngrok-binary"]["detail"])
    assert checks["authtoken"] == {**checks["authtoken"], "status": "ok", "detail": "found (from NGROK_AUTHTOKEN)"}
    assert checks["ngrok-reachable"]["status"] == "ok"
    # The failure itself is one JSON error line on stderr, as for every command.
    event = json.loads(stderr.strip().splitlines()[-1])
    assert event["error"] == "checks-failed"
    assert event["exit_code"] == 10
    assert "Docker engine" in event["message"]


def test_human_output_is_a_table_with_marks_and_hints(listener: str) -> None:
    env = cli_env(DOCKER_HOST=NOWHERE, OWUI_DEV_NGROK_PROBE=listener, NO_COLOR="1")
    result = run_cli("doctor", "--ngrok-path", AGENT_PATH, env=env)
    assert result.returncode == 10
    assert "✗  Docker engine" in result.stdout
    assert "✗  ngrok authtoken" in result.stdout
    assert "✓  ngrok binary" in result.stdout
    assert "!  image" in result.stdout
    assert AUTHTOKEN_URL in result.stdout
    assert "check(s) failed: Docker engine, ngrok authtoken" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_non_executable_ngrok_path_fails(tmp_path: Path, listener: str) -> None:
    binary = tmp_path / "ngrok"
    binary.write_text("#!/bin/sh\necho ngrok version 3.0.0\n")
    binary.chmod(0o644)
    env = cli_env(DOCKER_HOST=NOWHERE, NGROK_AUTHTOKEN=TOKEN, OWUI_DEV_NGROK_PROBE=listener)
    code, checks, _, _ = doctor_json("--ngrok-path", str(binary), env=env)
    assert code == 10
    assert checks["ngrok-binary"]["status"] == "fail"
    assert "not executable" in str(checks["ngrok-binary"]["detail"])
    assert f"chmod +x {binary}" in str(checks["ngrok-binary"]["hint"])

    code, checks, _, _ = doctor_json(env={**env, "NGROK_PATH": str(tmp_path / "missing")})
    assert checks["ngrok-binary"]["status"] == "fail"
    assert "NGROK_PATH does not exist" in str(checks["ngrok-binary"]["detail"])


def test_a_binary_that_does_not_answer_version_fails(tmp_path: Path, listener: str) -> None:
    binary = tmp_path / "ngrok"
    binary.write_text("#!/bin/sh\necho 'ERROR: broken install' >&2\nexit 3\n")
    binary.chmod(0o755)
    env = cli_env(DOCKER_HOST=NOWHERE, NGROK_AUTHTOKEN=TOKEN, OWUI_DEV_NGROK_PROBE=listener)
    _, checks, _, _ = doctor_json("--ngrok-path", str(binary), env=env)
    assert checks["ngrok-binary"]["status"] == "fail"
    assert "exited with code 3: ERROR: broken install" in str(checks["ngrok-binary"]["detail"])


def test_agent_version_times_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    binary = tmp_path / "ngrok"
    binary.write_text("#!/bin/sh\nexec sleep 30\n")
    binary.chmod(0o755)
    # A real agent answers within the product's own (generous) timeout, however loaded the machine is ...
    assert doctor.agent_version(AGENT_PATH) == ("ngrok version 3.24.0", None)
    # ... and one that never answers is given up on: a short timeout here cannot make a hang look like an
    # answer, so it costs no robustness.
    monkeypatch.setattr(doctor, "VERSION_TIMEOUT", 1.0)
    version, problem = doctor.agent_version(str(binary))
    assert version is None
    assert problem is not None
    assert "no answer within" in problem


def test_managed_ngrok_not_downloaded_yet_is_a_warning(tmp_path: Path, listener: str) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()  # a PATH without any ngrok on it
    env = cli_env(DOCKER_HOST=NOWHERE, NGROK_AUTHTOKEN=TOKEN, OWUI_DEV_NGROK_PROBE=listener, PATH=str(empty))
    _, checks, _, _ = doctor_json(env=env)
    assert checks["ngrok-binary"]["status"] == "warn"
    assert "the first `up` downloads it" in str(checks["ngrok-binary"]["detail"])
    assert not any(Path(os.environ["HOME"]).rglob("ngrok")), "doctor must not download ngrok"


def test_busy_explicit_port_fails(busy_port: int, listener: str) -> None:
    env = cli_env(DOCKER_HOST=NOWHERE, NGROK_AUTHTOKEN=TOKEN, OWUI_DEV_NGROK_PROBE=listener)
    code, checks, _, _ = doctor_json("--port", str(busy_port), "--ngrok-path", AGENT_PATH, env=env)
    assert code == 10
    assert checks["port"]["status"] == "fail"
    assert f"127.0.0.1:{busy_port} is already in use" in str(checks["port"]["detail"])
    assert "--port" in str(checks["port"]["hint"])


def test_busy_default_port_is_a_warning(busy_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", NOWHERE)
    settings = DoctorSettings(port=busy_port, port_explicit=False, ngrok_probe=None)
    checks = {check.id: check for check in doctor.run_checks(settings)}
    assert checks["port"].status == "warn"
    assert "`up` will take" in checks["port"].detail
    assert "ngrok-reachable" not in checks, "ngrok_probe=None switches the probe off"


def test_unreachable_ngrok_is_a_warning_not_a_failure(listener: str) -> None:
    port = closed_port()
    env = cli_env(DOCKER_HOST=NOWHERE, NGROK_AUTHTOKEN=TOKEN, OWUI_DEV_NGROK_PROBE=f"127.0.0.1:{port}")
    _, checks, _, _ = doctor_json("--ngrok-path", AGENT_PATH, env=env)
    reach = checks["ngrok-reachable"]
    assert reach["status"] == "warn"
    assert "cannot reach ngrok's service" in str(reach["detail"])
    assert "connection / firewall" in str(reach["hint"])
    # A name that cannot resolve is a warning too (.invalid never resolves).
    problem = doctor.probe_tcp("owui-dev-doctor.invalid", 443, timeout=3.0)
    assert problem is not None
    assert "DNS lookup" in problem


def test_probe_can_be_switched_off() -> None:
    env = cli_env(DOCKER_HOST=NOWHERE, NGROK_AUTHTOKEN=TOKEN, OWUI_DEV_NGROK_PROBE="off")
    _, checks, _, _ = doctor_json("--ngrok-path", AGENT_PATH, env=env)
    assert "ngrok-reachable" not in checks


def test_probe_setting_is_parsed_and_checked() -> None:
    assert parse_probe(None) == DEFAULT_NGROK_PROBE == ("connect.ngrok-agent.com", 443)
    assert parse_probe("") == DEFAULT_NGROK_PROBE
    assert parse_probe("OFF") is None
    assert parse_probe("127.0.0.1:4443") == ("127.0.0.1", 4443)
    assert parse_probe("[::1]:443") == ("::1", 443)
    for bad in ("no-port", "host:", ":443", "host:99999", "host:https"):
        with pytest.raises(UsageError):
            parse_probe(bad)
    result = run_cli("doctor", env=cli_env(DOCKER_HOST=NOWHERE, OWUI_DEV_NGROK_PROBE="nonsense"))
    assert result.returncode == 2
    assert "OWUI_DEV_NGROK_PROBE" in result.stderr


def test_settings_follow_up_s_precedence() -> None:
    token = "2envTOKENnotREAL_abcdefghijklmnopq"
    settings = build_doctor_settings(
        port=4000, environ={"NGROK_PATH": "/env/ngrok", "NGROK_AUTHTOKEN": token, "OWUI_DEV_NGROK_PROBE": "off"}
    )
    assert (settings.port, settings.port_explicit) == (4000, True)
    assert (settings.ngrok_path, settings.ngrok_path_source) == ("/env/ngrok", "NGROK_PATH")
    assert settings.authtoken is not None
    assert settings.authtoken.source == "NGROK_AUTHTOKEN"
    assert settings.ngrok_probe is None
    assert token not in repr(settings)


def test_authtoken_from_ngrok_config_shows_its_source_never_the_token(listener: str) -> None:
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "ngrok" / "ngrok.yml"
    config.parent.mkdir(parents=True)
    config.write_text(f'version: "3"\nagent:\n  authtoken: {TOKEN}\n')
    env = cli_env(DOCKER_HOST=NOWHERE, OWUI_DEV_NGROK_PROBE=listener)
    result = run_cli("doctor", "--json", "--ngrok-path", AGENT_PATH, env=env)
    checks = {check["id"]: check for check in json.loads(result.stdout)["checks"]}
    assert checks["authtoken"]["status"] == "ok"
    assert str(config) in checks["authtoken"]["detail"]
    flagged = run_cli("doctor", "--authtoken", TOKEN, "--ngrok-path", AGENT_PATH, env=env)
    for output in (result.stdout, result.stderr, flagged.stdout, flagged.stderr):
        assert TOKEN not in output


def test_doctor_help() -> None:
    result = run_cli("doctor", "--help", env=cli_env())
    assert result.returncode == 0
    assert "starts nothing, downloads nothing" in result.stdout
    for option in ("--name", "--image", "--port", "--ngrok-path", "--authtoken", "--json", "--debug"):
        assert option in result.stdout


# -- with a Docker engine -------------------------------------------------------------------------


def test_all_checks_pass(names, fake_image: str, listener: str) -> None:  # type: ignore[no-untyped-def]
    env = cli_env(NGROK_AUTHTOKEN=TOKEN, OWUI_DEV_NGROK_PROBE=listener)
    args = ["--name", names.container, "--image", fake_image, "--port", str(closed_port()), "--ngrok-path", AGENT_PATH]
    code, checks, data, stderr = doctor_json(*args, env=env)
    assert code == 0, data
    assert stderr == ""
    assert [check["id"] for check in data["checks"]] == ALL_IDS
    assert {check["status"] for check in data["checks"]} <= {"ok", "warn"}
    for check_id in ("docker", "disk", "image", "container", "port", "ngrok-binary", "authtoken", "ngrok-reachable"):
        assert checks[check_id]["status"] == "ok", checks[check_id]
    assert str(checks["docker"]["detail"]).startswith("Docker ")
    assert "already present" in str(checks["disk"]["detail"])
    assert checks["ngrok-reachable"]["detail"].startswith(listener)  # type: ignore[union-attr]

    human = run_cli("doctor", *args, env={**env, "NO_COLOR": "1"})
    assert human.returncode == 0, human.stdout + human.stderr
    assert "✓  Docker engine" in human.stdout
    assert "ready for `up`" in human.stdout
    assert "✗" not in human.stdout


def test_missing_authtoken_exits_10_with_where_to_get_one(names, fake_image: str, listener: str) -> None:  # type: ignore[no-untyped-def]
    env = cli_env(OWUI_DEV_NGROK_PROBE=listener)
    args = ["--name", names.container, "--image", fake_image, "--port", str(closed_port()), "--ngrok-path", AGENT_PATH]
    code, checks, _, stderr = doctor_json(*args, env=env)
    assert code == 10
    assert [check_id for check_id, check in checks.items() if check["status"] == "fail"] == ["authtoken"]
    assert AUTHTOKEN_URL in str(checks["authtoken"]["hint"])
    assert json.loads(stderr)["exit_code"] == 10


def test_absent_image_and_disk(names, docker_client) -> None:  # type: ignore[no-untyped-def]
    env = cli_env(NGROK_AUTHTOKEN=TOKEN, OWUI_DEV_NGROK_PROBE="off")
    _, checks, _, _ = doctor_json("--name", names.container, "--image", ABSENT_IMAGE, env=env)
    assert checks["image"]["status"] == "warn"
    assert "the first `up` pulls it" in str(checks["image"]["detail"])
    # Measured on a local engine, or said to be unknown: never a failure.
    assert checks["disk"]["status"] in {"ok", "warn"}
    assert "GB" in str(checks["disk"]["detail"])


def test_the_managed_container_on_the_port_is_fine_and_a_foreign_one_is_not(  # type: ignore[no-untyped-def]
    names, fake_image: str, docker_client
) -> None:
    port = closed_port()
    docker_client.containers.run(
        fake_image,
        name=names.container,
        labels={"owui-dev.managed": "true", "owui-dev-test": "true"},
        ports={"8080/tcp": ("127.0.0.1", port)},
        detach=True,
    )
    env = cli_env(NGROK_AUTHTOKEN=TOKEN, OWUI_DEV_NGROK_PROBE="off")
    for args in (["--port", str(port)], []):
        code, checks, _, _ = doctor_json("--name", names.container, "--ngrok-path", AGENT_PATH, *args, env=env)
        assert code == 0, checks
        assert checks["port"]["status"] == "ok"
        assert f"127.0.0.1:{port} is published by {names.container} itself" in str(checks["port"]["detail"])
        assert checks["container"]["status"] == "ok"
    _, checks, _, _ = doctor_json("--name", names.container, "--port", str(closed_port()), env=env)
    assert checks["port"]["status"] == "warn", "an explicit other port is ignored while it runs"

    docker_client.containers.get(names.container).remove(force=True)
    docker_client.containers.create(fake_image, name=names.container, labels={"owui-dev-test": "true"})
    code, checks, _, _ = doctor_json("--name", names.container, "--ngrok-path", AGENT_PATH, env=env)
    assert code == 10
    assert checks["container"]["status"] == "fail"
    assert checks["container"]["hint"]


def _files_under(root: Path) -> dict[str, tuple[bool, int, int]]:
    found = {}
    for path in root.rglob("*"):
        info = path.lstat()
        found[str(path.relative_to(root))] = (stat.S_ISDIR(info.st_mode), info.st_size, info.st_mtime_ns)
    return found


def _pids_where(needle: bytes, part: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            with contextlib.suppress(OSError):
                if needle in (entry / part).read_bytes():
                    pids.append(int(entry.name))
    return pids


def test_no_side_effects(names, docker_client, tmp_path: Path, listener: str, isolated_home: Path) -> None:  # type: ignore[no-untyped-def]
    """Nothing created on the engine, no ngrok started (beyond `--version`), nothing written under HOME."""
    import docker

    if not Path("/proc/self/environ").exists():
        pytest.skip("needs /proc to look for left-over processes")
    calls = tmp_path / "agent-calls.log"
    record = tmp_path / "agent-starts.jsonl"
    wrapper = tmp_path / "wrapped" / "ngrok"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{calls}"\nexec "{AGENT_PATH}" "$@"\n')
    wrapper.chmod(0o755)
    marker = f"OWUI_DEV_DOCTOR_TEST={secrets.token_hex(8)}"
    key, _, value = marker.partition("=")
    env = cli_env(NGROK_AUTHTOKEN=TOKEN, OWUI_DEV_NGROK_PROBE=listener, FAKE_NGROK_RECORD=str(record), **{key: value})
    before = _files_under(isolated_home)

    for json_flag in (["--json"], []):
        result = run_cli(
            "doctor", *json_flag, "--name", names.container, "--image", ABSENT_IMAGE, "--ngrok-path", str(wrapper),
            env=env,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr

    # The engine: no image pulled, no container, no volume.
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(ABSENT_IMAGE)
    assert docker_client.containers.list(all=True, filters={"name": names.container}) == []
    assert docker_client.volumes.list(filters={"name": names.volume}) == []
    # ngrok: only ever asked for its version, never started; nothing left running.
    assert calls.read_text().splitlines() == ["--version", "--version"]
    assert not record.exists()
    assert _pids_where(marker.encode(), "environ") == []
    assert _pids_where(str(wrapper).encode(), "cmdline") == []
    # HOME: not one file or directory created or changed.
    assert _files_under(isolated_home) == before
