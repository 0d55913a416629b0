"""The call path end to end: `up`'s readiness checks, Ollama detection, --call, `qr`, `check` and the voice
round trip, against the real Docker engine, the fake Open WebUI (faithful to 0.12.4 on this path: see
tests/fake_openwebui/FACTS.md), the stand-in agent and a stand-in Ollama on a test port."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from conftest import UpProcess, run_cli
from fake_ollama import FakeOllama

from owui_dev.voice import CLIP_SENTENCE, Clip

CHECK_IDS = ["https", "websocket", "model", "stt", "tts", "latency"]


def _up(up_processes: list[UpProcess], args: list[str], env: dict[str, str], *extra: str) -> tuple[UpProcess, dict]:  # type: ignore[type-arg]
    up = UpProcess([*args, "--json", *extra], env)
    up_processes.append(up)
    return up, up.wait_for_json(timeout=120)


def _checks(ready: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["id"]: check for check in ready["checks"]}


def _name(args: list[str]) -> str:
    return args[args.index("--name") + 1]


def _clip_sha() -> str:
    return hashlib.sha256(Clip.shipped().data).hexdigest()


def test_with_an_ollama_on_the_laptop_the_call_path_is_ready(
    up_processes: list[UpProcess], args: list[str], env: dict[str, str], docker_client: Any
) -> None:
    with FakeOllama(models=["llama3.2:1b", "qwen3:4b"], host="0.0.0.0") as ollama:
        up, ready = _up(up_processes, args, {**env, "OWUI_DEV_OLLAMA_URL": ollama.url}, "--call")
        checks = _checks(ready)
        assert [check["id"] for check in ready["checks"]] == CHECK_IDS
        assert {key: check["status"] for key, check in checks.items()} == dict.fromkeys(CHECK_IDS, "ok"), checks
        assert "2 model(s) to talk to: llama3.2:1b, qwen3:4b" in checks["model"]["detail"]
        assert "built-in Whisper (base)" in checks["stt"]["detail"]
        assert "browser's own voices" in checks["tts"]["detail"]
        public = ready["public_url"]
        assert ready["call_url"] == f"{public}/?models=llama3.2:1b&call=true"
        assert ready["qr_url"] == ready["call_url"]
        assert ready["model"] == "llama3.2:1b"
        assert ready["ollama"]["kind"] == "detected"
        port = ollama.url.rsplit(":", 1)[1]
        container_env = docker_client.containers.get(_name(args)).attrs["Config"]["Env"]
        assert f"OLLAMA_BASE_URL=http://host.docker.internal:{port}" in container_env
        # Open WebUI really asked that Ollama for its models, from inside the container.
        assert "/api/tags" in ollama.requests
        assert any("Ollama" in line and ollama.url in line for line in up.stderr_lines)
        # The admin signed in once: the checks read the models and the audio settings with that session.
        log = docker_client.containers.get(_name(args)).logs().decode()
        assert log.count('"POST /api/v1/auths/signin HTTP/1.1" 200') == 1, log
        assert up.interrupt() == 0


def test_a_session_open_webui_refuses_makes_the_checks_sign_in_themselves(
    up_processes: list[UpProcess], args: list[str], env: dict[str, str]
) -> None:
    """The checks use `up`'s own sign-in's session; one Open WebUI no longer takes (a very short JWT_EXPIRES_IN,
    say) makes them sign in again rather than report what they could not read."""
    from owui_dev.readiness import CallTarget, admin_view

    up, ready = _up(up_processes, args, env)
    target = CallTarget(
        public_url=ready["public_url"],
        local_url=ready["local_url"],
        admin_email=ready["admin_email"],
        admin_password=ready["admin_password"],
        admin_token="a-session-open-webui-does-not-know",
    )
    view = admin_view(target)
    assert view.token
    assert view.token != target.admin_token
    assert view.audio is not None
    assert view.models is not None
    assert up.interrupt() == 0


def test_a_chosen_model_goes_into_the_call_link(
    up_processes: list[UpProcess], args: list[str], env: dict[str, str]
) -> None:
    with FakeOllama(models=["llama3.2:1b", "qwen3:4b"], host="0.0.0.0") as ollama:
        up, ready = _up(up_processes, args, {**env, "OWUI_DEV_OLLAMA_URL": ollama.url}, "--call", "--model", "qwen3:4b")
        assert ready["call_url"] == f"{ready['public_url']}/?models=qwen3:4b&call=true"
        assert up.interrupt() == 0


def test_with_no_model_source_the_model_check_names_both_ways(
    up_processes: list[UpProcess], args: list[str], env: dict[str, str]
) -> None:
    up, ready = _up(up_processes, args, env, "--call", "--no-ollama-detect")
    model = _checks(ready)["model"]
    assert model["status"] == "warn"
    assert "nothing will answer" in model["detail"]
    assert "ollama pull" in model["hint"]
    assert "--env OPENAI_API_BASE_URL=" in model["hint"]
    # --call still works, without a model.
    assert ready["call_url"] == f"{ready['public_url']}/?call=true"
    assert ready["model"] is None
    assert ready["ollama"]["kind"] == "none"
    assert up.interrupt() == 0


def test_an_ollama_on_loopback_only_is_the_linux_trap(
    up_processes: list[UpProcess], args: list[str], env: dict[str, str]
) -> None:
    with FakeOllama(models=["llama3.2:1b"], host="127.0.0.1") as ollama:
        up, ready = _up(up_processes, args, {**env, "OWUI_DEV_OLLAMA_URL": ollama.url})
        model = _checks(ready)["model"]
        assert model["status"] == "warn"
        assert "cannot reach it" in model["hint"]
        assert "OLLAMA_HOST=0.0.0.0" in model["hint"]
        assert up.interrupt() == 0


def test_an_ollama_without_models_is_told_to_pull_one(
    up_processes: list[UpProcess], args: list[str], env: dict[str, str]
) -> None:
    with FakeOllama(models=[], host="0.0.0.0") as ollama:
        up, ready = _up(up_processes, args, {**env, "OWUI_DEV_OLLAMA_URL": ollama.url})
        model = _checks(ready)["model"]
        assert model["status"] == "warn"
        assert "has no model yet" in model["hint"]
        assert "ollama pull" in model["hint"]
        assert up.interrupt() == 0


def test_a_tunnel_that_breaks_websockets_fails_the_realtime_check_but_not_the_url(
    up_processes: list[UpProcess], args: list[str], env: dict[str, str]
) -> None:
    up, ready = _up(up_processes, args, {**env, "FAKE_NGROK_WEBSOCKET": "strip_upgrade"}, "--no-ollama-detect")
    websocket = _checks(ready)["websocket"]
    assert websocket["status"] == "fail"
    assert "realtime channel does not open through the tunnel" in websocket["detail"]
    assert "WebSocket" in websocket["hint"]
    assert ready["public_url"].startswith("https://")
    assert up.interrupt() == 0


def test_open_webui_without_websocket_support_fails_the_realtime_check(
    up_processes: list[UpProcess], args: list[str], env: dict[str, str]
) -> None:
    up, ready = _up(up_processes, [*args, "--env", "ENABLE_WEBSOCKET_SUPPORT=false"], env, "--no-ollama-detect")
    assert _checks(ready)["websocket"]["status"] == "fail"
    assert "ENABLE_WEBSOCKET_SUPPORT" in _checks(ready)["websocket"]["hint"]
    assert up.interrupt() == 0


def test_a_slim_image_has_no_whisper(up_processes: list[UpProcess], args: list[str], env: dict[str, str]) -> None:
    up, ready = _up(up_processes, [*args, "--env", "USE_SLIM_DOCKER=true"], env, "--no-ollama-detect")
    stt = _checks(ready)["stt"]
    assert stt["status"] == "fail"
    assert "-slim image" in stt["detail"]
    assert "drop -slim" in stt["hint"]
    assert up.interrupt() == 0


def test_the_browsers_own_speech_engine_cannot_call(
    up_processes: list[UpProcess], args: list[str], env: dict[str, str]
) -> None:
    up, ready = _up(up_processes, [*args, "--env", "AUDIO_STT_ENGINE=web"], env, "--no-ollama-detect")
    stt = _checks(ready)["stt"]
    assert stt["status"] == "fail"
    assert "call button refuses to start a call" in stt["detail"]
    assert up.interrupt() == 0


def test_qr_and_check_read_the_running_up(
    up_processes: list[UpProcess], args: list[str], env: dict[str, str], tmp_path: Path
) -> None:
    from qrdecode import decode_png

    with FakeOllama(models=["llama3.2:1b"], host="0.0.0.0") as ollama:
        env = {**env, "OWUI_DEV_OLLAMA_URL": ollama.url}
        up, ready = _up(up_processes, args, env)
        name = _name(args)
        assert ready["qr_url"] == ready["public_url"]

        plain = run_cli("qr", "--name", name, "--json", "--png", str(tmp_path / "plain.png"), env=env)
        assert plain.returncode == 0, plain.stderr
        assert json.loads(plain.stdout)["qr_url"] == ready["public_url"]
        assert decode_png(tmp_path / "plain.png") == ready["public_url"]

        call = run_cli("qr", "--name", name, "--call", "--json", "--png", str(tmp_path / "call.png"), env=env)
        assert json.loads(call.stdout)["qr_url"] == ready["call_url"]
        assert decode_png(tmp_path / "call.png") == ready["call_url"]

        checked = run_cli("check", "--name", name, "--json", env=env)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        report = json.loads(checked.stdout)
        assert report["ok"] is True
        assert [check["id"] for check in report["checks"]] == CHECK_IDS

        # The instance named in a profile, as `up` would take it: qr and check find it without --name.
        config = tmp_path / "config.toml"
        config.write_text(f'[up]\nname = "not-this-one"\n[profile.demo]\nname = "{name}"\ncall = true\n')
        profiled = {**env, "OWUI_DEV_CONFIG": str(config), "OWUI_DEV_PROFILE": "demo"}
        from_profile = run_cli("qr", "--json", env=profiled)
        assert from_profile.returncode == 0, from_profile.stderr
        assert json.loads(from_profile.stdout)["qr_url"] == ready["call_url"], "the profile's call = true"
        checked = run_cli("check", "--json", env=profiled)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert json.loads(checked.stdout)["public_url"] == ready["public_url"]
        assert up.interrupt() == 0


def test_qr_on_a_terminal_paints_a_code_that_decodes_to_the_call_link(
    up_processes: list[UpProcess], args: list[str], env: dict[str, str], ptys: list[Any], tmp_path: Path
) -> None:
    import sys

    from conftest import PtyProcess
    from qrdecode import DARK, LIGHT, decode_terminal_qr, qr_lines

    up, ready = _up(up_processes, args, env, "--no-ollama-detect")
    terminal = PtyProcess([sys.executable, "-m", "owui_dev", "qr", "--name", _name(args), "--call"], env)
    ptys.append(terminal)
    assert terminal.proc.wait(60) == 0
    screen = terminal.wait_for(ready["call_url"])
    assert decode_terminal_qr(screen, DARK) == ready["call_url"]
    assert decode_terminal_qr(screen, LIGHT) == ready["call_url"]
    half = qr_lines(screen)

    # The config file's name, call and QR style, as `up` takes them (full blocks: twice as many lines).
    config = tmp_path / "config.toml"
    config.write_text(f'[up]\nname = "{_name(args)}"\ncall = true\nqr = "full"\n')
    terminal = PtyProcess([sys.executable, "-m", "owui_dev", "qr", "--config", str(config)], env)
    ptys.append(terminal)
    assert terminal.proc.wait(60) == 0
    screen = terminal.wait_for(ready["call_url"])
    assert decode_terminal_qr(screen, DARK) == ready["call_url"]
    assert len(qr_lines(screen)) > 1.8 * len(half), "full blocks, one line per module"
    assert up.interrupt() == 0


def test_check_fails_with_its_exit_code_when_a_check_fails(
    up_processes: list[UpProcess], args: list[str], env: dict[str, str]
) -> None:
    up, _ = _up(up_processes, [*args, "--env", "USE_SLIM_DOCKER=true"], env, "--no-ollama-detect")
    checked = run_cli("check", "--name", _name(args), env=env)
    assert checked.returncode == 14, checked.stderr
    assert "speech-to-text" in checked.stdout
    assert "1 call-path check(s) failed: speech-to-text." in checked.stderr
    assert up.interrupt() == 0


def test_open_shows_the_url_in_this_machines_browser(
    up_processes: list[UpProcess], args: list[str], env: dict[str, str], tmp_path: Path
) -> None:
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser"
    browser.write_text(f'#!/bin/sh\nprintf "%s" "$1" > {opened}\n')
    browser.chmod(browser.stat().st_mode | stat.S_IEXEC)
    up, ready = _up(up_processes, args, {**env, "BROWSER": str(browser)}, "--open", "--call", "--no-ollama-detect")
    for _ in range(50):
        if opened.exists():
            break
        import time

        time.sleep(0.1)
    assert opened.read_text() == ready["call_url"]
    assert up.interrupt() == 0


# -- speech → text ---------------------------------------------------------------------------------


def _transcribed_files(docker_client: Any, name: str) -> list[str]:
    result = docker_client.containers.get(name).exec_run(
        ["sh", "-c", "ls /app/backend/data/cache/audio/transcriptions/ 2>/dev/null"]
    )
    return result.output.decode().split()


def test_the_voice_check_hears_the_shipped_clip_and_leaves_nothing_behind(
    up_processes: list[UpProcess], args: list[str], env: dict[str, str], docker_client: Any
) -> None:
    heard = f"FAKE_TRANSCRIPTS={_clip_sha()}={CLIP_SENTENCE}"
    up, _ = _up(up_processes, [*args, "--env", heard], env, "--no-ollama-detect", "--check-voice")
    voice = _wait_for_voice_event(up)
    assert voice["status"] == "ok", voice
    assert "This is a microphone test." in voice["detail"]
    assert "through the tunnel" in voice["detail"]
    assert _transcribed_files(docker_client, _name(args)) == []

    checked = run_cli("check", "--name", _name(args), "--voice", "--json", env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert _voice_of(checked.stdout)["status"] == "ok"
    assert _transcribed_files(docker_client, _name(args)) == []
    assert up.interrupt() == 0


def test_the_voice_check_shows_a_mismatch(up_processes: list[UpProcess], args: list[str], env: dict[str, str]) -> None:
    up, _ = _up(up_processes, [*args, "--env", f"FAKE_TRANSCRIPTS={_clip_sha()}=moist cake"], env, "--no-ollama-detect")
    checked = run_cli("check", "--name", _name(args), "--voice", "--json", env=env)
    assert checked.returncode == 14
    voice = _voice_of(checked.stdout)
    assert voice["status"] == "fail"
    assert "heard 'moist cake' instead of 'This is a microphone test.'" in voice["detail"]
    assert up.interrupt() == 0


def test_the_voice_check_names_a_slim_image_as_the_cause(
    up_processes: list[UpProcess], args: list[str], env: dict[str, str]
) -> None:
    up, _ = _up(up_processes, [*args, "--env", "USE_SLIM_DOCKER=true"], env, "--no-ollama-detect")
    checked = run_cli("check", "--name", _name(args), "--voice", "--json", env=env)
    voice = _voice_of(checked.stdout)
    assert voice["status"] == "fail"
    assert "Local Whisper is unavailable in slim" in voice["detail"]
    assert "-slim image" in voice["detail"]
    assert up.interrupt() == 0


def test_the_voice_check_names_a_dead_external_engine(
    up_processes: list[UpProcess], args: list[str], env: dict[str, str]
) -> None:
    dead = ["--env", "AUDIO_STT_ENGINE=openai", "--env", "AUDIO_STT_OPENAI_API_BASE_URL=http://127.0.0.1:9/v1",
            "--env", "AUDIO_STT_OPENAI_API_KEY=sk-test"]  # fmt: skip
    up, ready = _up(up_processes, [*args, *dead], env, "--no-ollama-detect")
    assert _checks(ready)["stt"]["status"] == "ok"  # configured: only a real upload finds out
    checked = run_cli("check", "--name", _name(args), "--voice", "--json", env=env)
    voice = _voice_of(checked.stdout)
    assert voice["status"] == "fail"
    assert "the openai engine at http://127.0.0.1:9/v1 did not answer" in voice["detail"]
    assert up.interrupt() == 0


def test_the_voice_check_says_when_the_sign_in_fails(
    up_processes: list[UpProcess], args: list[str], env: dict[str, str], isolated_home: Path
) -> None:
    up, _ = _up(up_processes, args, env, "--no-ollama-detect")
    volume = args[args.index("--volume") + 1]
    kept = isolated_home / ".local" / "state" / "owui-dev" / "instances" / f"{volume}.json"
    data = json.loads(kept.read_text())
    kept.write_text(json.dumps({**data, "admin_password": "not-the-password-any-more"}))
    checked = run_cli("check", "--name", _name(args), "--voice", "--json", env=env)
    voice = _voice_of(checked.stdout)
    assert voice["status"] == "fail"
    assert "signing in as admin@localhost through the tunnel failed" in voice["detail"]
    assert up.interrupt() == 0


def test_a_users_own_recording_is_transcribed_and_shown(
    up_processes: list[UpProcess], args: list[str], env: dict[str, str], tmp_path: Path
) -> None:
    mine = tmp_path / "hola.webm"
    mine.write_bytes(Clip.shipped().data + b"\x00")  # another clip: another sha256
    sha = hashlib.sha256(mine.read_bytes()).hexdigest()
    up, _ = _up(up_processes, [*args, "--env", f"FAKE_TRANSCRIPTS={sha}=Hola, ¿me oyes?"], env, "--no-ollama-detect")
    checked = run_cli("check", "--name", _name(args), "--voice-clip", str(mine), "--json", env=env)
    assert checked.returncode == 0, checked.stderr
    assert "'Hola, ¿me oyes?'" in _voice_of(checked.stdout)["detail"]
    assert up.interrupt() == 0


def _voice_of(stdout: str) -> dict[str, Any]:
    return next(check for check in json.loads(stdout)["checks"] if check["id"] == "voice")


def _wait_for_voice_event(up: UpProcess, timeout: float = 120) -> dict[str, Any]:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in list(up.stderr_lines):
            if line.startswith('{"event":"checks"'):
                return json.loads(line)["checks"][0]  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError(f"no voice check event:\n{up.stderr}")


@pytest.fixture(autouse=True)
def _no_real_ollama(monkeypatch: pytest.MonkeyPatch) -> None:
    """Never let a real Ollama on this machine (11434) into these tests: each says where its Ollama is."""
    monkeypatch.setenv("OWUI_DEV_OLLAMA_URL", os.environ.get("OWUI_DEV_OLLAMA_URL", "http://127.0.0.1:9"))


def test_an_existing_volume_keeps_the_ollama_address_of_its_first_start(
    up_processes: list[UpProcess], args: list[str], env: dict[str, str], docker_client: Any
) -> None:
    """Open WebUI stores its Ollama address at first start: a second Ollama found later is not handed over
    (nor is the container re-created for it), and the model check says where the models really come from."""
    with FakeOllama(models=["llama3.2:1b"], host="0.0.0.0") as first:
        up, ready = _up(up_processes, args, {**env, "OWUI_DEV_OLLAMA_URL": first.url})
        assert _checks(ready)["model"]["status"] == "ok"
        container_id = docker_client.containers.get(_name(args)).id
        assert up.interrupt() == 0
    with FakeOllama(models=["qwen3:4b"], host="0.0.0.0") as second:
        up, ready = _up(up_processes, args, {**env, "OWUI_DEV_OLLAMA_URL": second.url})
        assert "keeps the Ollama address it stored" in up.stderr
        assert docker_client.containers.get(_name(args)).id == container_id, "re-created for an Ollama it ignores"
        model = _checks(ready)["model"]
        assert model["status"] == "warn"
        assert "keeps the Ollama address from its first start" in model["hint"]
        assert up.interrupt() == 0


def test_an_external_engine_without_its_key_fails_before_anyone_speaks(
    up_processes: list[UpProcess], args: list[str], env: dict[str, str]
) -> None:
    keyless = ["--env", "AUDIO_STT_ENGINE=openai", "--env", "AUDIO_STT_OPENAI_API_KEY=",
               "--env", "AUDIO_TTS_ENGINE=elevenlabs"]  # fmt: skip
    up, ready = _up(up_processes, [*args, *keyless], env, "--no-ollama-detect")
    checks = _checks(ready)
    assert checks["stt"]["status"] == "fail"
    assert "the openai engine is selected but OPENAI_API_KEY is not set" in checks["stt"]["detail"]
    assert checks["tts"]["status"] == "fail"
    assert "the elevenlabs engine is selected but API_KEY is not set" in checks["tts"]["detail"]
    assert up.interrupt() == 0
