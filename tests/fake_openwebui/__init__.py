"""A tiny local image that behaves like Open WebUI (0.12.4) where owui-dev touches it.

``build_image(client)`` returns ``owui-dev-test/fake-openwebui:<content hash>`` (built once, cached).

HTTP on 0.0.0.0:$PORT (8080): ``GET /health``, ``/health/db``, ``/ready``, ``/``, ``/api/config``,
``/api/version``, ``/api/v1/auths/``; ``POST /api/v1/auths/signup``, ``/signin``, ``/signout``, ``/add``;
``POST /__fake__/crash``. Unknown paths: 404 ``{"detail":"Not Found"}``.

Voice-call path (rootfs/app/fake/voice.sh; the facts, with references into the real code, in FACTS.md):
``GET /api/models`` (models really fetched from ``$url/api/tags`` of each Ollama connection and
``$url/models`` of each OpenAI-compatible one, with busybox wget and the model-list timeout; admins see
them, plain users see none), ``GET /ollama/config``, ``/openai/config``, ``GET /api/v1/audio/config``
(admin), ``POST /api/v1/audio/transcriptions`` (multipart, the real content-type and extension checks and
error texts; an ``openai`` engine is really called), ``GET /ws/socket.io/`` (Engine.IO 4 over WebSocket:
101, the open packet, Socket.IO CONNECT answered; polling refused unless ENABLE_WEBSOCKET_SUPPORT=false).

Real Open WebUI env honoured: WEBUI_AUTH, ENABLE_SIGNUP, ENABLE_LOGIN_FORM, ENABLE_PERSISTENT_CONFIG,
RESET_CONFIG_ON_START, WEBUI_ADMIN_EMAIL / _PASSWORD / _NAME, ENABLE_INITIAL_ADMIN_SIGNUP, DEFAULT_USER_ROLE,
ENABLE_PASSWORD_AUTH, JWT_EXPIRES_IN, WEBUI_NAME, WEBUI_SECRET_KEY(_FILE), DATA_DIR, PORT; and for the voice-call path
ENV, OLLAMA_BASE_URL(S), OLLAMA_API_BASE_URL, USE_OLLAMA_DOCKER, K8S_FLAG, ENABLE_OLLAMA_API, OPENAI_API_BASE_URL(S),
OPENAI_API_KEY(S), ENABLE_OPENAI_API, AIOHTTP_CLIENT_TIMEOUT_MODEL_LIST, BYPASS_MODEL_ACCESS_CONTROL, USE_SLIM_DOCKER,
WHISPER_MODEL, AUDIO_STT_* / AUDIO_TTS_* / AUDIO_REALTIME_* / DEEPGRAM_API_KEY, ENABLE_WEBSOCKET_SUPPORT,
WEBSOCKET_SERVER_PING_INTERVAL / _TIMEOUT (all read at the first start and kept, like the real config).

Test knobs: FAKE_START_DELAY (s, fractional), FAKE_CRASH=start, FAKE_CRASH_MESSAGE, FAKE_CRASH_AFTER (s),
FAKE_EXIT_CODE (1), FAKE_HEALTH_STATUS, FAKE_CONFIG_STATUS, FAKE_OWUI_VERSION (0.12.4), FAKE_LOG_HEALTH,
FAKE_SPA_FALLBACK, FAKE_STOP_DELAY (seconds a stop takes), FAKE_SIGNIN_HOLD (a path in the container: sign-ins
answer once it exists);
FAKE_TRANSCRIPTS ("sha256=text;..."; also /app/fake/transcripts, one per line: the stand-in for the speech
recogniser, an unknown clip is heard as noise, ""), FAKE_WHISPER_MODELS (Whisper models the image "has", default
"base"), FAKE_WS_IDLE_SECONDS (60: a WebSocket with no frame for that long is closed).
"""

from .build import IMAGE_REPOSITORY, build_image

__all__ = ["IMAGE_REPOSITORY", "build_image"]
