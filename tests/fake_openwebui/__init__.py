"""A tiny local image that behaves like Open WebUI (0.12.4) where owui-dev touches it.

``build_image(client)`` returns ``owui-dev-test/fake-openwebui:<content hash>`` (built once, cached).

HTTP on 0.0.0.0:$PORT (8080): ``GET /health``, ``/health/db``, ``/ready``, ``/``, ``/api/config``,
``/api/version``, ``/api/v1/auths/``; ``POST /api/v1/auths/signup``, ``/signin``, ``/signout``;
``POST /__fake__/crash``. Unknown paths: 404 ``{"detail":"Not Found"}``.

Real Open WebUI env honoured: WEBUI_AUTH, ENABLE_SIGNUP, ENABLE_LOGIN_FORM, ENABLE_PERSISTENT_CONFIG,
RESET_CONFIG_ON_START, WEBUI_ADMIN_EMAIL / _PASSWORD / _NAME, ENABLE_INITIAL_ADMIN_SIGNUP, DEFAULT_USER_ROLE,
ENABLE_PASSWORD_AUTH, JWT_EXPIRES_IN, WEBUI_NAME, WEBUI_SECRET_KEY(_FILE), DATA_DIR, PORT.

Test knobs: FAKE_START_DELAY (s, fractional), FAKE_CRASH=start, FAKE_CRASH_MESSAGE, FAKE_CRASH_AFTER (s),
FAKE_EXIT_CODE (1), FAKE_HEALTH_STATUS, FAKE_OWUI_VERSION (0.12.4), FAKE_LOG_HEALTH, FAKE_SPA_FALLBACK, FAKE_STOP_DELAY
(seconds a stop takes).
"""

from .build import IMAGE_REPOSITORY, build_image

__all__ = ["IMAGE_REPOSITORY", "build_image"]
