"""What is specific to Open WebUI: its port and data path, and how it says it is up (its default image and
readiness timeout are settings' defaults: owui_dev.setting_names)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ssl

    from owui_dev.net import HttpAnswer

CONTAINER_PORT = 8080
DATA_PATH = "/app/backend/data"
HEALTH_PATH = "/health"
CONFIG_PATH = "/api/config"


def health(base_url: str, *, timeout: float = 2.0, context: ssl.SSLContext | None = None) -> HttpAnswer:
    """GET /health, which answers {"status": true} as soon as the server accepts requests."""
    from owui_dev.net import http_get

    return http_get(base_url.rstrip("/") + HEALTH_PATH, timeout=timeout, context=context)


def is_healthy(answer: HttpAnswer) -> bool:
    body = answer.json()
    return answer.ok and isinstance(body, dict) and body.get("status") is True


# -- who may use the instance ----------------------------------------------------------------------
# Open WebUI makes the first account that signs up the admin, and closes sign-up after it. Since 0.7.0 it
# also creates that admin at first start from WEBUI_ADMIN_EMAIL / WEBUI_ADMIN_PASSWORD / WEBUI_ADMIN_NAME
# (only while there are no users). ENABLE_SIGNUP and friends are stored in its database after the first
# start, so later environment changes are ignored (unless ENABLE_PERSISTENT_CONFIG=False).

ADMIN_EMAIL_ENV = "WEBUI_ADMIN_EMAIL"
ADMIN_PASSWORD_ENV = "WEBUI_ADMIN_PASSWORD"  # noqa: S105 - a variable name, not a password
ADMIN_NAME_ENV = "WEBUI_ADMIN_NAME"
SECRET_KEY_ENV = "WEBUI_SECRET_KEY"  # noqa: S105 - a variable name
AUTH_ENV = "WEBUI_AUTH"
TRUSTED_HEADER_ENVS = (
    "WEBUI_AUTH_TRUSTED_EMAIL_HEADER",
    "WEBUI_AUTH_TRUSTED_NAME_HEADER",
    "WEBUI_AUTH_TRUSTED_GROUPS_HEADER",
    "WEBUI_AUTH_TRUSTED_ROLE_HEADER",
)


def auth_disabled_by(environment: dict[str, str]) -> bool:
    """Open WebUI reads WEBUI_AUTH as `value.lower() == "true"`: anything else switches accounts off."""
    value = environment.get(AUTH_ENV)
    return value is not None and value.lower() != "true"  # no strip: "true " switches accounts off too


def trusted_headers_in(environment: dict[str, str]) -> list[str]:
    return [key for key in TRUSTED_HEADER_ENVS if environment.get(key)]


@dataclass(frozen=True)
class PublicConfig:
    """What GET /api/config tells anyone, signed in or not."""

    version: str
    onboarding: bool
    auth: bool
    trusted_header: bool
    signup_enabled: bool
    login_form: bool
    # A -slim image (USE_SLIM_DOCKER=true): no built-in Whisper, no local text-to-speech.
    slim: bool = False

    @classmethod
    def parse(cls, body: object) -> PublicConfig | None:
        """None unless it is Open WebUI's description of itself, which always opens with "status": true (main.py)."""
        if not isinstance(body, dict) or body.get("status") is not True:
            return None
        features = body.get("features") if isinstance(body.get("features"), dict) else {}
        assert isinstance(features, dict)
        return cls(
            version=str(body.get("version", "")),
            onboarding=body.get("onboarding") is True,
            auth=features.get("auth", True) is not False,
            trusted_header=features.get("auth_trusted_header") is True,
            signup_enabled=features.get("enable_signup") is True,
            login_form=features.get("enable_login_form", True) is not False,
            slim=features.get("slim") is True,
        )


def config_answer(base_url: str, *, timeout: float = 5.0) -> HttpAnswer:
    """GET /api/config, which anyone may read: answered from the moment Open WebUI serves, as /health is (uvicorn
    listens only once the app's start-up is done)."""
    from owui_dev.net import http_get

    return http_get(base_url.rstrip("/") + CONFIG_PATH, timeout=timeout)


def public_config(base_url: str) -> PublicConfig | None:
    answer = config_answer(base_url)
    return PublicConfig.parse(answer.json()) if answer.ok else None


def sign_up(base_url: str, *, name: str, email: str, password: str) -> HttpAnswer:
    from owui_dev.net import http_post_json

    return http_post_json(
        base_url.rstrip("/") + "/api/v1/auths/signup",
        {"name": name, "email": email, "password": password},
        timeout=30.0,
    )


def sign_in(
    base_url: str, *, email: str, password: str, context: ssl.SSLContext | None = None, timeout: float = 30.0
) -> HttpAnswer:
    from owui_dev.net import http_post_json

    return http_post_json(
        base_url.rstrip("/") + "/api/v1/auths/signin",
        {"email": email, "password": password},
        timeout=timeout,
        context=context,
    )


def sign_in_token(base_url: str, *, email: str, password: str, context: ssl.SSLContext | None = None) -> str | None:
    """A session token for the account, or None when Open WebUI refuses the sign-in."""
    answer = sign_in(base_url, email=email, password=password, context=context, timeout=15.0)
    body = answer.json()
    token = body.get("token") if answer.ok and isinstance(body, dict) else None
    return str(token) if token else None


# -- other accounts (an admin's calls) -------------------------------------------------------------
# Read from Open WebUI 0.12.4: POST /api/v1/auths/add (routers/auths.py:1056-1112) creates an account
# with a role; DELETE /api/v1/users/{id} (routers/users.py:1057-1099) removes the user, its sign-in and
# its chats (models/users.py:849-863) and answers `true`, also for an id that is already gone.


def add_user(base_url: str, token: str, *, name: str, email: str, password: str, role: str) -> HttpAnswer:
    from owui_dev.net import http_post_json

    return http_post_json(
        base_url.rstrip("/") + "/api/v1/auths/add",
        {"name": name, "email": email, "password": password, "role": role},
        timeout=30.0,
        token=token,
    )


def delete_user(base_url: str, token: str, user_id: str) -> HttpAnswer:
    from urllib.parse import quote

    from owui_dev.net import http_request

    return http_request(
        base_url.rstrip("/") + "/api/v1/users/" + quote(user_id, safe=""), method="DELETE", timeout=30.0, token=token
    )


# The setting (a plain environment read at start, env.py:840, not stored in the database) that shows every
# model to every signed-in user; without it a `user` sees no model that nobody granted access to.
BYPASS_MODEL_ACCESS_ENV = "BYPASS_MODEL_ACCESS_CONTROL"


def bypasses_model_access(environment: dict[str, str]) -> bool:
    return environment.get(BYPASS_MODEL_ACCESS_ENV, "False").lower() == "true"


# -- the "What's New" dialog -----------------------------------------------------------------------
# Read from Open WebUI 0.12.4: the app layout shows its release notes to an admin while the user's
# `ui.version` is not the running version (and `ui.showChangelog` is not false); dismissing them posts
# {"ui": {"version": <running>}} to /api/v1/users/user/settings/update (routers/users.py:490), which
# patches `ui` key by key (models/users.py:825-847), so the user's other settings stay.

SETTINGS_PATH = "/api/v1/users/user/settings"


def user_settings(base_url: str, token: str) -> dict[str, object] | None:
    """The signed-in user's settings (None for an account that has none yet, or when not readable)."""
    from owui_dev.net import http_get

    body = http_get(base_url.rstrip("/") + SETTINGS_PATH, timeout=10.0, token=token).json()
    return body if isinstance(body, dict) else None


def mark_version_seen(base_url: str, token: str, version: str) -> bool:
    """What dismissing the "What's New" dialog does: the running version recorded as seen. True when stored."""
    from owui_dev.net import http_post_json

    answer = http_post_json(
        base_url.rstrip("/") + SETTINGS_PATH + "/update", {"ui": {"version": version}}, timeout=10.0, token=token
    )
    body = answer.json()
    ui = body.get("ui") if answer.ok and isinstance(body, dict) else None
    return isinstance(ui, dict) and ui.get("version") == version


# -- the call path --------------------------------------------------------------------------------
# Read from Open WebUI 0.12.4: routers/audio/__init__.py (GET /api/v1/audio/config is admin-only and
# answers {"stt": {...}, "tts": {...}, "realtime": {...}}; POST /api/v1/audio/transcriptions), main.py
# (GET /api/models -> {"data": [...]}, the socket.io app mounted at /ws/socket.io/), and the chat page,
# which opens a call for `?call=true` (or `voice=true`) with the model from `models=` / `model=`.

SOCKETIO_PATH = "/ws/socket.io/"


def models(base_url: str, token: str) -> list[dict[str, object]] | None:
    """The models a signed-in user can chat with, or None when Open WebUI did not say."""
    from owui_dev.net import http_get

    # Open WebUI gives each connection 10 s (AIOHTTP_CLIENT_TIMEOUT_MODEL_LIST) to list its models.
    body = http_get(base_url.rstrip("/") + "/api/models", timeout=15.0, token=token).json()
    data = body.get("data") if isinstance(body, dict) else None
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else None


def audio_config(base_url: str, token: str) -> dict[str, object] | None:
    """The admin's audio settings (speech-to-text, text-to-speech), or None when not readable."""
    from owui_dev.net import http_get

    body = http_get(base_url.rstrip("/") + "/api/v1/audio/config", timeout=10.0, token=token).json()
    return body if isinstance(body, dict) and isinstance(body.get("stt"), dict) else None


def call_url(public_url: str, model: str | None) -> str:
    """A new chat that opens a voice call (after the user confirms), with that model when given."""
    from urllib.parse import urlencode

    query = ({"models": model} if model else {}) | {"call": "true"}
    # ":" stays as it is (model ids such as llama3.2:latest): shorter QR codes, readable links.
    return f"{public_url.rstrip('/')}/?{urlencode(query, safe=':')}"


def transcribe(
    base_url: str,
    token: str,
    data: bytes,
    filename: str,
    content_type: str,
    *,
    language: str | None = None,
    context: ssl.SSLContext | None = None,
    timeout: float = 300.0,
) -> HttpAnswer:
    """POST /api/v1/audio/transcriptions (multipart `file`, optional `language`), as the chat's microphone does.

    The content type must be an audio one (Open WebUI refuses application/octet-stream) and the name must
    end in an allowed extension (mp3, wav, m4a, webm, ogg, flac, mp4, mpga, mpeg by default)."""
    from urllib3 import encode_multipart_formdata

    from owui_dev.net import http_request

    fields: dict[str, str | tuple[str, bytes, str]] = {"file": (filename, data, content_type)}
    if language:
        fields["language"] = language
    body, multipart_type = encode_multipart_formdata(fields)
    return http_request(
        base_url.rstrip("/") + "/api/v1/audio/transcriptions",
        method="POST",
        body=body,
        content_type=multipart_type,
        timeout=timeout,
        context=context,
        token=token,
    )


# Where Open WebUI keeps uploaded clips and their transcripts: <id>.<ext> and <id>.json.
TRANSCRIPTIONS_DIR = DATA_PATH + "/cache/audio/transcriptions"


def forget_transcription_command(filename: str) -> list[str] | None:
    """The command that deletes, inside the container, every file one transcription left: the upload
    (<id>.<ext>), its transcript (<id>.json), and the MP3 an image with ffmpeg converts it to. None for a
    name Open WebUI would not have given (only its own uuid-named files are ever touched)."""
    import re

    match = re.fullmatch(r"([0-9a-f-]{8,64})\.[a-z0-9]{1,8}", filename)
    if match is None:
        return None
    return ["sh", "-c", 'rm -f -- "$1"/"$2".*', "sh", TRANSCRIPTIONS_DIR, match.group(1)]


def ollama_urls(base_url: str, token: str) -> list[str] | None:
    """The Ollama addresses Open WebUI uses (admin only). Stored at first start: later env changes are ignored."""
    from owui_dev.net import http_get

    body = http_get(base_url.rstrip("/") + "/ollama/config", timeout=10.0, token=token).json()
    urls = body.get("OLLAMA_BASE_URLS") if isinstance(body, dict) else None
    return [str(url) for url in urls] if isinstance(urls, list) else None
