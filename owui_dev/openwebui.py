"""What is specific to Open WebUI: its image, its port and data path, and how it says it is up."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ssl

    from owui_dev.net import HttpAnswer

DEFAULT_IMAGE = "ghcr.io/open-webui/open-webui:main"
CONTAINER_PORT = 8080
DATA_PATH = "/app/backend/data"
HEALTH_PATH = "/health"

# Open WebUI's first start downloads its embedding model; on a slow line that takes minutes.
DEFAULT_READY_TIMEOUT = 600.0


def health(base_url: str, *, timeout: float = 2.0, context: ssl.SSLContext | None = None) -> HttpAnswer:
    """GET /health, which answers {"status": true} as soon as the server accepts requests."""
    from owui_dev.net import http_get

    return http_get(base_url.rstrip("/") + HEALTH_PATH, timeout=timeout, context=context)


def is_healthy(answer: HttpAnswer) -> bool:
    body = answer.json()
    return answer.ok and isinstance(body, dict) and body.get("status") is True
