"""The voice-call surface of Open WebUI 0.12.4, asserted on the fake image and (opt-in) on the real one.

Every test runs against the fake Open WebUI (tests/fake_openwebui). With `pytest --openwebui-image` the
same assertions also run against the real image `ghcr.io/open-webui/open-webui:main` as
../shared/openwebui-image/build.sh builds it (label fixture.owui.builder=build.sh): that is how the fake
is kept honest. Without the flag the real-image variants are deselected, not skipped. The facts behind
these assertions, with file:line references into the real code: tests/fake_openwebui/FACTS.md.
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import re
import secrets
import threading
import time
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from fake_ollama import FakeOllama, openai_entry, tag_entry

pytestmark = pytest.mark.docker

REAL_IMAGE = "ghcr.io/open-webui/open-webui:main"
LABEL = "owui-dev-test"
ADMIN = ("admin@example.com", "pw-secret")
CACHE = "/app/backend/data/cache/audio/transcriptions"
FILE_NOT_SUPPORTED = (
    "Oops! It seems like the file format you're trying to upload is not supported. "
    "Please upload a file with a supported format and try again."
)
ACCESS_PROHIBITED = (
    "You do not have permission to access this resource. Please contact your administrator for assistance."
)
OLLAMA_MODELS = ["llama3.2:1b", "qwen2.5:0.5b"]


# ---------------------------------------------------------------------------------------------- instances


@dataclass
class Instance:
    flavour: str
    container: Any
    url: str
    token: str

    def get(self, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.get(self.url + path, headers=headers, timeout=30, **kwargs)

    def admin_get(self, path: str) -> requests.Response:
        return self.get(path, self.token)

    def transcribe(
        self, data: bytes, filename: str, content_type: str | None, token: str | None = "admin"
    ) -> requests.Response:
        token = self.token if token == "admin" else token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        part = (filename, data, content_type) if content_type is not None else (filename, data)
        return requests.post(
            self.url + "/api/v1/audio/transcriptions", headers=headers, files={"file": part}, timeout=120
        )

    def add_user(self, email: str, role: str) -> str:
        response = requests.post(
            self.url + "/api/v1/auths/add",
            headers={"Authorization": f"Bearer {self.token}"},
            json={"name": role.title(), "email": email, "password": "pw-user", "role": role},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        assert response.json()["role"] == role
        signin = requests.post(
            self.url + "/api/v1/auths/signin", json={"email": email, "password": "pw-user"}, timeout=30
        )
        assert signin.status_code == 200, signin.text
        return str(signin.json()["token"])

    def cache_files(self) -> list[str]:
        code, out = self.container.exec_run(["ls", CACHE])
        return out.decode().split() if code == 0 else []


@pytest.fixture(scope="module", params=["fake", pytest.param("real", marks=pytest.mark.openwebui_image)])
def flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def image_for(docker_client: Any, fake_image: str) -> Callable[[str], str]:
    def pick(flavour: str) -> str:
        if flavour == "fake":
            return fake_image
        import docker.errors

        try:
            labels = docker_client.images.get(REAL_IMAGE).attrs["Config"]["Labels"] or {}
        except docker.errors.ImageNotFound:
            pytest.fail(f"{REAL_IMAGE} is not on this engine: build it with ../shared/openwebui-image/build.sh")
        assert labels.get("fixture.owui.builder") == "build.sh", f"{REAL_IMAGE} is not the fixture build: {labels}"
        assert labels.get("fixture.owui.version") == "0.12.4", labels
        return REAL_IMAGE

    return pick


@pytest.fixture(scope="module")
def start(docker_client: Any, image_for: Callable[[str], str]) -> Iterator[Callable[..., Instance]]:
    """start(flavour, env): a fresh instance with an admin (WEBUI_ADMIN_*), signed in; removed after the module."""
    import docker.errors

    containers: list[Any] = []

    def run(flavour: str, env: dict[str, str]) -> Instance:
        container = docker_client.containers.run(
            image_for(flavour),
            detach=True,
            name=f"owui-dev-test-contract-{secrets.token_hex(4)}",
            environment={"WEBUI_ADMIN_EMAIL": ADMIN[0], "WEBUI_ADMIN_PASSWORD": ADMIN[1], **env},
            labels={LABEL: "1"},
            ports={"8080/tcp": ("127.0.0.1", None)},
            extra_hosts={"host.docker.internal": "host-gateway"},
        )
        containers.append(container)
        container.reload()
        url = f"http://127.0.0.1:{container.ports['8080/tcp'][0]['HostPort']}"
        deadline = time.monotonic() + 240
        while True:
            with contextlib.suppress(requests.RequestException):
                if requests.get(url + "/health", timeout=2).status_code == 200:
                    break
            container.reload()
            assert container.status == "running", container.logs().decode(errors="replace")[-3000:]
            assert time.monotonic() < deadline, container.logs().decode(errors="replace")[-3000:]
            time.sleep(0.5)
        signin = requests.post(url + "/api/v1/auths/signin", json={"email": ADMIN[0], "password": ADMIN[1]}, timeout=30)
        assert signin.status_code == 200, signin.text
        return Instance(flavour, container, url, signin.json()["token"])

    yield run
    for container in containers:
        with contextlib.suppress(docker.errors.NotFound):
            container.remove(force=True)


@pytest.fixture(scope="module")
def reachable_ollama() -> Iterator[FakeOllama]:
    """An Ollama stand-in that containers reach through host.docker.internal (it listens on 0.0.0.0)."""
    with FakeOllama(OLLAMA_MODELS, host="0.0.0.0") as server:
        yield server


@pytest.fixture(scope="module")
def loopback_ollama() -> Iterator[FakeOllama]:
    """An Ollama on 127.0.0.1 only: the Linux trap, out of the containers' reach."""
    with FakeOllama(OLLAMA_MODELS, host="127.0.0.1") as server:
        yield server


@pytest.fixture(scope="module")
def default(flavour: str, start: Callable[..., Instance], reachable_ollama: FakeOllama) -> Instance:
    """Defaults, plus an Ollama that answers (through host.docker.internal)."""
    return start(flavour, {"OLLAMA_BASE_URL": f"http://host.docker.internal:{reachable_ollama.port}"})


@pytest.fixture(scope="module")
def degraded(flavour: str, start: Callable[..., Instance], loopback_ollama: FakeOllama) -> Instance:
    """No websocket support, an external STT engine that is not there, an Ollama bound to loopback."""
    return start(
        flavour,
        {
            "ENABLE_WEBSOCKET_SUPPORT": "false",
            "AUDIO_STT_ENGINE": "openai",
            "AUDIO_STT_OPENAI_API_BASE_URL": "http://127.0.0.1:9/v1",
            "OLLAMA_BASE_URL": f"http://host.docker.internal:{loopback_ollama.port}/",
        },
    )


@pytest.fixture(scope="module")
def slim(flavour: str, start: Callable[..., Instance], reachable_ollama: FakeOllama) -> Instance:
    """A -slim image whose only model source is an OpenAI-compatible connection (with a key)."""
    return start(
        flavour,
        {
            "USE_SLIM_DOCKER": "true",
            "ENABLE_OLLAMA_API": "false",
            "OPENAI_API_BASE_URL": f"http://host.docker.internal:{reachable_ollama.port}/v1",
            "OPENAI_API_KEY": "sk-test-key",
        },
    )


@dataclass
class SttEngine:
    """A stand-in OpenAI-compatible speech-to-text service: POST /v1/audio/transcriptions."""

    answer: tuple[int, dict[str, Any]] = (200, {"text": "hello from the engine"})
    seen: list[dict[str, str]] = field(default_factory=list)
    port: int = 0


@pytest.fixture(scope="module")
def stt_engine() -> Iterator[SttEngine]:
    engine = SttEngine()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = b""
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":  # aiohttp streams the file
                while size := int(self.rfile.readline().split(b";")[0], 16):
                    body += self.rfile.read(size)
                    self.rfile.readline()
                self.rfile.readline()
            else:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            engine.seen.append(
                {
                    "path": self.path,
                    "authorization": self.headers.get("Authorization", ""),
                    "content_type": self.headers.get("Content-Type", ""),
                    "body": body.decode("latin-1"),
                }
            )
            status, payload = engine.answer
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("0.0.0.0", 0), Handler)
    engine.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield engine
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def external_stt(flavour: str, start: Callable[..., Instance], stt_engine: SttEngine) -> Instance:
    return start(
        flavour,
        {
            "AUDIO_STT_ENGINE": "openai",
            "AUDIO_STT_OPENAI_API_BASE_URL": f"http://host.docker.internal:{stt_engine.port}/v1",
            "AUDIO_STT_OPENAI_API_KEY": "sk-stt-key",
            "AUDIO_STT_MODEL": "whisper-1",
        },
    )


@pytest.fixture(scope="module")
def whisper_missing(flavour: str, start: Callable[..., Instance]) -> Instance:
    """WHISPER_MODEL names a model the image does not have (the hub is out of reach)."""
    return start(flavour, {"WHISPER_MODEL": "small"})


def noise_wav() -> bytes:
    """Two seconds of 16 kHz white noise (deterministic): Whisper hears nothing in it."""
    rng = random.Random(1)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as clip:
        clip.setnchannels(1)
        clip.setsampwidth(2)
        clip.setframerate(16000)
        clip.writeframes(bytes(rng.getrandbits(8) for _ in range(64000)))
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------- models


def test_models_need_a_verified_user(default: Instance) -> None:
    anonymous = default.get("/api/models")
    assert (anonymous.status_code, anonymous.json()) == (401, {"detail": "Not authenticated"})
    bad = default.get("/api/models", "not-a-token")
    assert (bad.status_code, bad.json()) == (401, {"detail": "401 Unauthorized"})
    pending = default.add_user(f"pending-{secrets.token_hex(3)}@example.com", "pending")
    refused = default.get("/api/models", pending)
    assert (refused.status_code, refused.json()) == (401, {"detail": ACCESS_PROHIBITED})


def test_admin_sees_ollamas_models_in_open_webui_shape(default: Instance, reachable_ollama: FakeOllama) -> None:
    response = default.admin_get("/api/models")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "data": [
            {
                "id": name,
                "name": name,
                "object": "model",
                "created": 0,
                "owned_by": "ollama",
                "ollama": {**tag_entry(name), "connection_type": "local", "urls": [0]},
                "loaded": False,
                "connection_type": "local",
                "tags": [],
                "actions": [],
                "filters": [],
            }
            for name in OLLAMA_MODELS
        ]
    }
    assert "/api/tags" in reachable_ollama.requests
    config = default.admin_get("/ollama/config").json()
    assert config == {
        "ENABLE_OLLAMA_API": True,
        "OLLAMA_BASE_URLS": [f"http://host.docker.internal:{reachable_ollama.port}"],
        "OLLAMA_API_CONFIGS": {},
    }


def test_a_plain_user_sees_no_model_nobody_gave_access_to(default: Instance) -> None:
    user = default.add_user(f"user-{secrets.token_hex(3)}@example.com", "user")
    response = default.get("/api/models", user)
    assert (response.status_code, response.json()) == (200, {"data": []})


@pytest.fixture(scope="module")
def bypass(flavour: str, start: Callable[..., Instance], reachable_ollama: FakeOllama) -> Instance:
    """BYPASS_MODEL_ACCESS_CONTROL as owui-dev's --guest sets it (env.py reads `.lower() == 'true'`)."""
    return start(
        flavour,
        {
            "OLLAMA_BASE_URL": f"http://host.docker.internal:{reachable_ollama.port}",
            "BYPASS_MODEL_ACCESS_CONTROL": "True",
        },
    )


def test_guest_bypass_lets_a_plain_user_see_what_the_admin_sees(bypass: Instance) -> None:
    user = bypass.add_user(f"guest-{secrets.token_hex(3)}@example.com", "user")
    admin_ids = [model["id"] for model in bypass.admin_get("/api/models").json()["data"]]
    user_ids = [model["id"] for model in bypass.get("/api/models", user).json()["data"]]
    assert sorted(admin_ids) == sorted(OLLAMA_MODELS)
    assert user_ids == admin_ids
    # the bypass is no admin right: the admin-only audio settings stay closed to the user
    refused = bypass.get("/api/v1/audio/config", user)
    assert (refused.status_code, refused.json()) == (401, {"detail": ACCESS_PROHIBITED})


INVALID_CRED = "The email or password provided is incorrect. Please check for typos and try logging in again."
ACTION_PROHIBITED = "The requested action has been restricted as a security measure."


def test_guest_admin_deletes_a_user_and_its_sign_in(default: Instance) -> None:
    email = f"gone-{secrets.token_hex(3)}@example.com"
    user = default.add_user(email, "user")
    user_id = default.get("/api/v1/auths/", user).json()["id"]
    other = default.add_user(f"other-{secrets.token_hex(3)}@example.com", "user")

    def delete(target: str, token: str | None) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.delete(default.url + f"/api/v1/users/{target}", headers=headers, timeout=30)

    anonymous = delete(user_id, None)
    assert (anonymous.status_code, anonymous.json()) == (401, {"detail": "Not authenticated"})
    by_user = delete(user_id, other)
    assert (by_user.status_code, by_user.json()) == (401, {"detail": ACCESS_PROHIBITED})
    admin_id = default.get("/api/v1/auths/", default.token).json()["id"]
    itself = delete(admin_id, default.token)
    assert (itself.status_code, itself.json()) == (403, {"detail": ACTION_PROHIBITED})

    deleted = delete(user_id, default.token)
    assert (deleted.status_code, deleted.json()) == (200, True)
    signin = requests.post(
        default.url + "/api/v1/auths/signin", json={"email": email, "password": "pw-user"}, timeout=30
    )
    assert (signin.status_code, signin.json()) == (400, {"detail": INVALID_CRED})
    stale = default.get("/api/models", user)
    # its session dies with it: the account's sign-in is looked up first (utils/auth.py is_valid_token)
    assert (stale.status_code, stale.json()) == (401, {"detail": "Invalid authentication request."})
    again = delete(user_id, default.token)  # nothing left to delete: still `true`
    assert (again.status_code, again.json()) == (200, True)
    assert default.get("/api/models", other).status_code == 200  # the others stay


def test_an_ollama_on_loopback_only_gives_no_model(degraded: Instance, loopback_ollama: FakeOllama) -> None:
    started = time.monotonic()
    response = degraded.admin_get("/api/models")
    assert (response.status_code, response.json()) == (200, {"data": []})
    assert time.monotonic() - started < 12  # refused at once (the model-list timeout is 10 s)
    assert loopback_ollama.requests == []
    # the trailing slash of OLLAMA_BASE_URL is dropped
    assert degraded.admin_get("/ollama/config").json()["OLLAMA_BASE_URLS"] == [
        f"http://host.docker.internal:{loopback_ollama.port}"
    ]


def test_an_openai_compatible_connection(slim: Instance, reachable_ollama: FakeOllama) -> None:
    response = slim.admin_get("/api/models")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "data": [
            {
                **openai_entry(name),
                "connection_type": "external",
                "name": name,
                "owned_by": "openai",
                "openai": {**openai_entry(name), "connection_type": "external"},
                "provider": "",
                "urlIdx": 0,
                "tags": [],
                "actions": [],
                "filters": [],
            }
            for name in OLLAMA_MODELS
        ]
    }
    assert "Bearer sk-test-key" in reachable_ollama.authorizations
    assert slim.admin_get("/openai/config").json() == {
        "ENABLE_OPENAI_API": True,
        "OPENAI_API_BASE_URLS": [f"http://host.docker.internal:{reachable_ollama.port}/v1"],
        "OPENAI_API_KEYS": ["sk-test-key"],
        "OPENAI_API_CONFIGS": {},
    }
    assert slim.admin_get("/ollama/config").json()["ENABLE_OLLAMA_API"] is False


# ---------------------------------------------------------------------------------------------- audio config


def test_audio_config_is_for_admins_with_the_real_shape(default: Instance) -> None:
    assert default.get("/api/v1/audio/config").status_code == 401
    user = default.add_user(f"user-{secrets.token_hex(3)}@example.com", "user")
    refused = default.get("/api/v1/audio/config", user)
    assert (refused.status_code, refused.json()) == (401, {"detail": ACCESS_PROHIBITED})
    config = default.admin_get("/api/v1/audio/config").json()
    assert config == {
        "realtime": {
            "ENABLED": False,
            "PROVIDER": "openai",
            "AUTH_TYPE": "api_key",
            "OPENAI_API_BASE_URL": "https://api.openai.com/v1",
            "OPENAI_API_KEY": "",
            "MODEL": "gpt-realtime-2.1-mini",
            "VOICE": "marin",
            "TRANSCRIPTION_MODEL": "gpt-transcribe",
            "INPUT_PARAMS": None,
            "REALTIME_CALL_PROMPT_TEMPLATE": None,
        },
        "tts": {
            "OPENAI_API_BASE_URL": "https://api.openai.com/v1",
            "OPENAI_API_KEY": "",
            "OPENAI_PARAMS": {},
            "API_KEY": "",
            "ENGINE": "",
            "MODEL": "tts-1",
            "VOICE": "alloy",
            "REALTIME_TTS_PROMPT_TEMPLATE": None,
            "SPLIT_ON": "punctuation",
            "AZURE_SPEECH_REGION": "",
            "AZURE_SPEECH_BASE_URL": "",
            "AZURE_SPEECH_OUTPUT_FORMAT": "audio-24khz-160kbitrate-mono-mp3",
            "MISTRAL_API_KEY": "",
            "MISTRAL_API_BASE_URL": "https://api.mistral.ai/v1",
        },
        "stt": {
            "OPENAI_API_BASE_URL": "https://api.openai.com/v1",
            "OPENAI_API_KEY": "",
            "OPENAI_API_REQUEST_FORMAT": "multipart",
            "ENGINE": "",
            "MODEL": "",
            "SUPPORTED_CONTENT_TYPES": [],
            "ALLOWED_EXTENSIONS": ["mp3", "wav", "m4a", "webm", "ogg", "flac", "mp4", "mpga", "mpeg"],
            "WHISPER_MODEL": "base",
            "DEEPGRAM_API_KEY": "",
            "AZURE_API_KEY": "",
            "AZURE_REGION": "",
            "AZURE_LOCALES": "",
            "AZURE_BASE_URL": "",
            "AZURE_MAX_SPEAKERS": "",
            "MISTRAL_API_KEY": "",
            "MISTRAL_API_BASE_URL": "https://api.mistral.ai/v1",
            "MISTRAL_USE_CHAT_COMPLETIONS": False,
        },
    }
    assert list(config) == ["realtime", "tts", "stt"]


def test_audio_config_follows_the_environment(degraded: Instance, slim: Instance) -> None:
    stt = degraded.admin_get("/api/v1/audio/config").json()["stt"]
    assert (stt["ENGINE"], stt["OPENAI_API_BASE_URL"]) == ("openai", "http://127.0.0.1:9/v1")
    assert slim.admin_get("/api/v1/audio/config").json()["stt"]["ENGINE"] == ""
    assert slim.get("/api/config").json()["features"]["slim"] is True
    assert degraded.get("/api/config").json()["features"]["enable_websocket"] is False


# ---------------------------------------------------------------------------------------------- transcriptions


def test_noise_transcribes_to_nothing_and_the_upload_stays_in_the_cache(default: Instance) -> None:
    response = default.transcribe(noise_wav(), "noise.wav", "audio/wav")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["text"] == ""
    assert re.fullmatch(r"[0-9a-f-]{36}\.wav", body["filename"]), body
    stem = body["filename"][: -len(".wav")]
    files = default.cache_files()
    assert body["filename"] in files
    assert f"{stem}.json" in files


def test_transcription_refusals(default: Instance) -> None:
    clip = noise_wav()
    for content_type in ("application/octet-stream", "video/mp4", "Audio/WAV", None):
        refused = default.transcribe(clip, "clip.wav", content_type)
        assert (refused.status_code, refused.json()) == (400, {"detail": FILE_NOT_SUPPORTED}), content_type
    wrong_ext = default.transcribe(clip, "clip.txt", "audio/wav")
    assert (wrong_ext.status_code, wrong_ext.json()) == (400, {"detail": "Invalid audio file extension"})
    no_ext = default.transcribe(clip, "clip", "audio/wav")
    assert (no_ext.status_code, no_ext.json()) == (400, {"detail": "Invalid audio file extension"})
    missing = requests.post(
        default.url + "/api/v1/audio/transcriptions",
        headers={"Authorization": f"Bearer {default.token}"},
        data={"language": "en"},
        timeout=30,
    )
    assert missing.status_code == 422
    assert missing.json() == {
        "detail": [{"type": "missing", "loc": ["body", "file"], "msg": "Field required", "input": None}]
    }
    anonymous = default.transcribe(clip, "clip.wav", "audio/wav", token=None)
    assert (anonymous.status_code, anonymous.json()) == (401, {"detail": "Not authenticated"})
    # a WebM/Opus declaration is accepted (the bytes decide what Whisper decodes)
    assert default.transcribe(clip, "clip.webm", "audio/webm;codecs=opus").status_code == 200
    garbage = default.transcribe(b"not audio at all", "clip.wav", "audio/wav")
    assert garbage.status_code == 500
    assert re.fullmatch(
        r"Error transcribing chunk: \[Errno 1094995529\] Invalid data found when processing input: "
        rf"'{CACHE}/[0-9a-f-]{{36}}\.wav'",
        garbage.json()["detail"],
    ), garbage.text


def test_transcription_with_an_unreachable_external_engine(degraded: Instance) -> None:
    response = degraded.transcribe(noise_wav(), "clip.wav", "audio/wav")
    assert (response.status_code, response.json()) == (
        500,
        {"detail": "Error transcribing chunk: Open WebUI: Server Connection Error"},
    )


def test_transcription_through_an_external_engine(external_stt: Instance, stt_engine: SttEngine) -> None:
    stt_engine.answer = (200, {"text": "hello from the engine"})
    stt_engine.seen.clear()
    response = external_stt.transcribe(noise_wav(), "clip.webm", "audio/webm;codecs=opus")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["text"] == "hello from the engine"
    assert re.fullmatch(r"[0-9a-f-]{36}\.webm", body["filename"]), body
    request = stt_engine.seen[0]
    assert (request["path"], request["authorization"]) == ("/v1/audio/transcriptions", "Bearer sk-stt-key")
    assert request["content_type"].startswith("multipart/form-data")
    assert 'name="model"' in request["body"]
    assert "whisper-1" in request["body"]
    assert f'filename="{body["filename"]}"' in request["body"]

    stt_engine.answer = (401, {"error": {"message": "Incorrect API key provided: sk-stt-key."}})
    refused = external_stt.transcribe(noise_wav(), "clip.wav", "audio/wav")
    assert (refused.status_code, refused.json()) == (
        500,
        {"detail": "Error transcribing chunk: External: Incorrect API key provided: sk-stt-key."},
    )


def test_transcription_on_a_slim_image(slim: Instance) -> None:
    response = slim.transcribe(noise_wav(), "clip.wav", "audio/wav")
    assert (response.status_code, response.json()) == (
        503,
        {"detail": "Configure an external speech-to-text engine. Local Whisper is unavailable in slim."},
    )


def test_transcription_without_the_whisper_model(whisper_missing: Instance) -> None:
    response = whisper_missing.transcribe(noise_wav(), "clip.wav", "audio/wav")
    assert response.status_code == 500
    assert response.json()["detail"] == (
        "Error transcribing chunk: Cannot find an appropriate cached snapshot folder for the specified revision "
        "on the local disk and outgoing traffic has been disabled. To enable repo look-ups and downloads online, "
        "set 'HF_HUB_OFFLINE=0' as environment variable."
    )


# ---------------------------------------------------------------------------------------------- socket.io


def ws_url(instance: Instance, query: str = "EIO=4&transport=websocket") -> str:
    return instance.url.replace("http://", "ws://") + "/ws/socket.io/?" + query


def test_socketio_websocket_handshake_and_connect(default: Instance) -> None:
    from websockets.sync.client import connect

    with connect(ws_url(default), open_timeout=10) as ws:
        opened = ws.recv(timeout=10)
        assert isinstance(opened, str), opened
        assert opened.startswith("0"), opened
        packet = json.loads(opened[1:])
        assert set(packet) == {"sid", "upgrades", "pingTimeout", "pingInterval", "maxPayload"}
        assert re.fullmatch(r"[A-Za-z0-9_-]{20}", packet["sid"]), packet
        assert (packet["upgrades"], packet["pingTimeout"], packet["pingInterval"], packet["maxPayload"]) == (
            [],
            20000,
            25000,
            16777216,
        )
        ws.send("40")  # socket.io CONNECT without auth: accepted all the same (always_connect)
        connected = ws.recv(timeout=10)
        assert re.fullmatch(r'40\{"sid":"[A-Za-z0-9_-]{20}"\}', str(connected)), connected
        ws.send("40")  # a second CONNECT to the same namespace is refused
        assert ws.recv(timeout=10) == '44"Unable to connect"'
    with connect(ws_url(default), open_timeout=10) as ws:
        assert str(ws.recv(timeout=10)).startswith('0{"sid":')
        ws.send("40" + json.dumps({"token": default.token}))  # CONNECT with the auth object the browser sends
        assert re.fullmatch(r'40\{"sid":"[A-Za-z0-9_-]{20}"\}', str(ws.recv(timeout=10)))


def test_socketio_refuses_polling_and_plain_requests(default: Instance) -> None:
    polling = default.get("/ws/socket.io/?EIO=4&transport=polling")
    assert (polling.status_code, polling.text) == (400, '"Invalid transport"')
    assert polling.headers["Content-Type"].startswith("text/plain")
    plain = default.get("/ws/socket.io/?EIO=4&transport=websocket")
    assert (plain.status_code, plain.json()) == (400, {"detail": "Invalid WebSocket upgrade request"})


def test_socketio_without_websocket_support(degraded: Instance) -> None:
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    polling = degraded.get("/ws/socket.io/?EIO=4&transport=polling")
    assert polling.status_code == 200
    assert polling.text.startswith('0{"sid":"'), polling.text
    assert json.loads(polling.text[1:])["upgrades"] == []
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url(degraded), open_timeout=10)
    assert refused.value.response.status_code == 403


# ---------------------------------------------------------------------------------------------- user settings
# The "What's New" dialog is dismissed by POST /api/v1/users/user/settings/update {"ui": {"version": ...}}
# (FACTS.md): owui-dev does the same for the admin it created, so the shape and the patch semantics matter.


def test_user_settings_need_a_verified_user(default: Instance) -> None:
    for answer in (
        default.get("/api/v1/users/user/settings"),
        requests.post(default.url + "/api/v1/users/user/settings/update", json={"ui": {}}, timeout=30),
    ):
        assert (answer.status_code, answer.json()) == (401, {"detail": "Not authenticated"})
    pending = default.add_user(f"pending-{secrets.token_hex(3)}@example.com", "pending")
    refused = default.get("/api/v1/users/user/settings", pending)
    assert (refused.status_code, refused.json()) == (401, {"detail": ACCESS_PROHIBITED})


def test_user_settings_ui_keys_are_patched_one_by_one(default: Instance) -> None:
    admin = default.add_user(f"settings-{secrets.token_hex(3)}@example.com", "admin")
    other = default.add_user(f"other-{secrets.token_hex(3)}@example.com", "admin")

    def update(body: object, token: str = admin) -> requests.Response:
        return requests.post(
            default.url + "/api/v1/users/user/settings/update",
            headers={"Authorization": f"Bearer {token}"},
            json=body,
            timeout=30,
        )

    def settings(token: str = admin) -> object:
        answer = default.get("/api/v1/users/user/settings", token)
        assert answer.status_code == 200, answer.text
        return answer.json()

    assert settings() is None, "a new account has no settings yet"
    first = update({"ui": {"theme": "dark", "models": ["llama3.2:1b"], "notificationSound": False}, "extra": {"a": 1}})
    assert first.status_code == 200, first.text
    assert first.json() == {
        "ui": {"theme": "dark", "models": ["llama3.2:1b"], "notificationSound": False},
        "extra": {"a": 1},
    }
    # the dialog's dismissal: one key added, the others kept
    seen = update({"ui": {"version": "0.12.4"}})
    assert seen.status_code == 200, seen.text
    expected = {
        "ui": {"theme": "dark", "models": ["llama3.2:1b"], "notificationSound": False, "version": "0.12.4"},
        "extra": {"a": 1},
    }
    assert seen.json() == expected
    assert settings() == expected
    assert list(settings()["ui"]) == ["theme", "models", "notificationSound", "version"]  # type: ignore[index]
    # a null value removes that key only; `"ui": null` and a body without `ui` leave ui alone
    assert update({"ui": {"theme": None}}).json()["ui"] == {
        "models": ["llama3.2:1b"],
        "notificationSound": False,
        "version": "0.12.4",
    }
    assert update({"ui": None}).json()["ui"]["version"] == "0.12.4"
    assert update({"extra": {"b": 2}}).json() == {
        "ui": {"models": ["llama3.2:1b"], "notificationSound": False, "version": "0.12.4"},
        "extra": {"b": 2},
    }
    # refused bodies change nothing
    for body, kind in (([1], "model_attributes_type"), ({"ui": "x"}, "dict_type")):
        refused = update(body)
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"][0]["type"] == kind
    assert settings()["ui"]["version"] == "0.12.4"  # type: ignore[index]
    # settings are per user
    assert settings(other) is None
    assert update({}, other).json() == {"ui": {}}
    assert settings(other) == {"ui": {}}
