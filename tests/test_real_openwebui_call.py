"""owui-dev's call-path checks against the real Open WebUI (opt-in: `scripts/test --openwebui-image`).

The image is the one ../shared/openwebui-image/build.sh builds (Open WebUI 0.12.4 from PyPI, its built-in
Whisper `base` baked in). Here nothing is a stand-in on Open WebUI's side: its real /api/models (asking a
stand-in Ollama), its real audio settings, its real socket.io, and its real Whisper hearing the shipped clip.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import AGENT_PATH, UpProcess, free_port, run_cli
from fake_ollama import FakeOllama

pytestmark = pytest.mark.openwebui_image

REAL_IMAGE = "ghcr.io/open-webui/open-webui:main"


@pytest.fixture
def real_args(names: Any, docker_client: Any) -> list[str]:
    image = docker_client.images.get(REAL_IMAGE)
    assert (image.labels or {}).get("fixture.owui.builder") == "build.sh", "build it with ../shared/openwebui-image"
    return [
        "--name", names.container, "--volume", names.volume, "--image", REAL_IMAGE, "--pull", "never",
        "--ngrok-path", AGENT_PATH, "--timeout", "400", "--port", str(free_port()),
    ]  # fmt: skip


def _voice(stdout: str) -> dict[str, Any]:
    return next(check for check in json.loads(stdout)["checks"] if check["id"] == "voice")


def test_the_real_open_webui_passes_the_call_path_and_hears_the_clip(
    up_processes: list[UpProcess], real_args: list[str], env: dict[str, str], docker_client: Any
) -> None:
    with FakeOllama(models=["llama3.2:1b"], host="0.0.0.0") as ollama:
        env = {**env, "OWUI_DEV_OLLAMA_URL": ollama.url}
        up = UpProcess([*real_args, "--json", "--call"], env)
        up_processes.append(up)
        ready = up.wait_for_json(timeout=480)
        statuses = {check["id"]: check["status"] for check in ready["checks"]}
        assert statuses == dict.fromkeys(["https", "websocket", "model", "stt", "tts", "latency"], "ok"), ready
        assert ready["call_url"].endswith("/?models=llama3.2:1b&call=true")

        name = real_args[real_args.index("--name") + 1]
        checked = run_cli("check", "--name", name, "--voice", "--json", env=env, timeout=400)
        voice = _voice(checked.stdout)
        print("voice check on the real Open WebUI:", voice["detail"])
        assert checked.returncode == 0, checked.stderr
        assert voice["status"] == "ok"
        assert "'This is a microphone test.'" in voice["detail"]
        left = docker_client.containers.get(name).exec_run(["ls", "/app/backend/data/cache/audio/transcriptions"])
        assert left.output.decode().split() == []
        assert up.interrupt() == 0


def test_a_dead_external_engine_is_named_as_the_cause(
    up_processes: list[UpProcess], real_args: list[str], env: dict[str, str]
) -> None:
    dead = ["--env", "AUDIO_STT_ENGINE=openai", "--env", "AUDIO_STT_OPENAI_API_BASE_URL=http://127.0.0.1:9/v1",
            "--env", "AUDIO_STT_OPENAI_API_KEY=sk-owui-dev-test"]  # fmt: skip
    up = UpProcess([*real_args, *dead, "--json", "--no-ollama-detect"], env)
    up_processes.append(up)
    up.wait_for_json(timeout=480)
    name = real_args[real_args.index("--name") + 1]
    checked = run_cli("check", "--name", name, "--voice", "--json", env=env, timeout=400)
    voice = _voice(checked.stdout)
    print("voice check with a dead engine:", voice["detail"])
    assert checked.returncode == 14
    assert voice["status"] == "fail"
    assert "Server Connection Error" in voice["detail"]
    assert "the openai engine at http://127.0.0.1:9/v1 did not answer" in voice["detail"]
    assert up.interrupt() == 0
