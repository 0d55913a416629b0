"""A model to talk to: an Ollama on this machine, found and handed to Open WebUI.

A fresh Open WebUI has no model unless a connection answers, and then a call hears you but nothing
replies. When the user gave no model connection and an Ollama answers on this machine, `up` points Open
WebUI at it through host.docker.internal (Docker's name for the host, which owui-dev maps for every
container). The model check then shows whether Open WebUI really gets its models, and the hint here
knows the usual traps.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

DEFAULT_OLLAMA_URL = "http://127.0.0.1:11434"
PROBE_TIMEOUT = 0.5
# Open WebUI's own variables for model connections: any of them means the user chose the models.
CONNECTION_ENVS = ("OLLAMA_BASE_URL", "OLLAMA_BASE_URLS", "OPENAI_API_BASE_URL", "OPENAI_API_BASE_URLS")
CONTAINER_HOST = "host.docker.internal"


class SourceKind(StrEnum):
    DETECTED = "detected"  # an Ollama answered on this machine; Open WebUI was pointed at it
    USER = "user"  # the user passed a connection (--env OLLAMA_BASE_URL=… and friends)
    NONE = "none"  # nothing: the image's defaults only
    BUNDLED = "bundled"  # --bundled-ollama: the Ollama inside the :ollama image, by the image's own settings


@dataclass(frozen=True)
class OllamaSource:
    kind: SourceKind
    host_url: str | None = None  # where this machine reaches it
    container_url: str | None = None  # where Open WebUI reaches it
    version: str | None = None
    given: tuple[str, ...] = ()  # KEY=value of the user's connection settings

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "host_url": self.host_url,
            "container_url": self.container_url,
            "version": self.version,
            "given": list(self.given),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object] | None) -> OllamaSource | None:
        """Back from a run record; None when it holds nothing usable."""
        if not data or data.get("kind") not in {kind.value for kind in SourceKind}:
            return None

        def text(key: str) -> str | None:
            value = data.get(key)
            return str(value) if value else None

        given = data.get("given")
        return cls(
            SourceKind(str(data["kind"])),
            host_url=text("host_url"),
            container_url=text("container_url"),
            version=text("version"),
            given=tuple(str(item) for item in given) if isinstance(given, list) else (),
        )


def version(url: str, *, timeout: float = PROBE_TIMEOUT) -> str | None:
    """Ollama's version when one answers at `url` (GET /api/version), else None."""
    from owui_dev.net import http_get

    body = http_get(url.rstrip("/") + "/api/version", timeout=timeout).json()
    found = body.get("version") if isinstance(body, dict) else None
    return str(found) if found else None


def model_names(url: str, *, timeout: float = 2.0) -> list[str] | None:
    """The models that Ollama has pulled (GET /api/tags), or None when it does not answer."""
    from owui_dev.net import http_get

    body = http_get(url.rstrip("/") + "/api/tags", timeout=timeout).json()
    models = body.get("models") if isinstance(body, dict) else None
    if not isinstance(models, list):
        return None
    return [str(model.get("name")) for model in models if isinstance(model, dict)]


def container_url(host_url: str) -> str:
    """The same Ollama as seen from a container: host.docker.internal on its port."""
    port = urlsplit(host_url).port or 11434
    return f"http://{CONTAINER_HOST}:{port}"


def plan(
    environment: Mapping[str, str], *, detect: bool, url: str, bundled: bool = False
) -> tuple[OllamaSource, dict[str, str]]:
    """Where the models will come from, and what to add to the container's environment for it.

    `bundled`: the :ollama image points Open WebUI at its own Ollama (OLLAMA_BASE_URL=/ollama with
    USE_OLLAMA_DOCKER=true means http://localhost:11434 inside it): nothing is added, nothing detected."""
    given = tuple(f"{key}={environment[key]}" for key in CONNECTION_ENVS if environment.get(key))
    if given:
        return OllamaSource(SourceKind.USER, given=given), {}
    if bundled:
        from owui_dev.variants import BUNDLED_OLLAMA_URL

        return OllamaSource(SourceKind.BUNDLED, container_url=BUNDLED_OLLAMA_URL), {}
    if detect:
        found = version(url)
        if found is not None:
            inside = container_url(url)
            return OllamaSource(SourceKind.DETECTED, url, inside, found), {"OLLAMA_BASE_URL": inside}
    return OllamaSource(SourceKind.NONE), {}


def no_model_hint(source: OllamaSource | None, stored_urls: list[str] | None = None) -> str:
    """What to do when Open WebUI offers no model, knowing where the models were meant to come from.

    `stored_urls`: the Ollama addresses Open WebUI really uses, when the admin's settings were readable."""
    if source is not None and source.kind is SourceKind.DETECTED and source.host_url:
        if stored_urls is not None and source.container_url not in [url.rstrip("/") for url in stored_urls]:
            return (
                f"Open WebUI keeps the Ollama address from its first start ({', '.join(stored_urls) or 'none'}), so "
                f"the one owui-dev handed it ({source.container_url}) only applies to a new data volume. Add it under "
                "Admin Panel → Settings → Connections (Ollama), then `owui-dev check`."
            )
        pulled = model_names(source.host_url)
        if pulled == []:
            return (
                f"The Ollama on this machine ({source.version}) has no model yet: `ollama pull llama3.2` (or any "
                "model), then `owui-dev check` — Open WebUI picks it up without a restart."
            )
        if pulled:
            unreachable = (
                f"Ollama on this machine has {len(pulled)} model(s), but Open WebUI cannot reach it at "
                f"{source.container_url}."
            )
            if sys.platform.startswith("linux"):
                return (
                    f"{unreachable} On Linux, Ollama listens on 127.0.0.1 only, out of the containers' reach: run it "
                    "with OLLAMA_HOST=0.0.0.0 (systemd: `sudo systemctl edit ollama`, add "
                    '`Environment="OLLAMA_HOST=0.0.0.0"`, restart it), then `owui-dev check`.'
                )
            return (
                f"{unreachable} Docker Desktop reaches this machine as host.docker.internal: check that nothing "
                "(a firewall, a VPN) blocks it, then `owui-dev check`."
            )
        return f"The Ollama found at {source.host_url} no longer answers: start it again, then `owui-dev check`."
    if source is not None and source.kind is SourceKind.BUNDLED:
        return (
            "The Ollama inside the container (--bundled-ollama) has no model yet: pull one into it, e.g. "
            "`docker exec -it owui-dev ollama pull llama3.2` (your --name instead of owui-dev), then `owui-dev check`; "
            "the models stay in the volume <name>-ollama."
        )
    if source is not None and source.kind is SourceKind.USER:
        return (
            f"Open WebUI got no model from the connection you gave ({', '.join(source.given)}). Check that it "
            "answers from inside Docker — a server on this machine is host.docker.internal there, not 127.0.0.1 — "
            "and that it has a model."
        )
    return (
        "Nothing provides a model. Either run Ollama (https://ollama.com) on this machine and pull a model "
        "(`ollama pull llama3.2`), then `owui-dev up` again — it is found and connected automatically; or pass an "
        "OpenAI-compatible connection: --env OPENAI_API_BASE_URL=https://… --env OPENAI_API_KEY=…"
    )
