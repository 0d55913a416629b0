"""A stand-in Ollama for tests: the few endpoints Open WebUI and owui-dev ask an Ollama server.

Standard library only (http.server in a thread). It answers like Ollama 0.x does:

  GET  /                 200 "Ollama is running" (text/plain)
  GET  /api/version      {"version": "<version>"}
  GET  /api/tags         {"models": [...]}: one entry per model name, in Ollama's shape (name, model,
                         modified_at, size, digest, details); an empty list when nothing is pulled
  GET  /api/ps           {"models": []} (nothing loaded)
  GET  /v1/models        {"object": "list", "data": [{"id", "object": "model", "created", "owned_by": "library"}]}
                         (Ollama's OpenAI-compatible API, for tests of an OpenAI-compatible connection)
  anything else          404 "404 page not found" (text/plain), as Ollama's router answers

It listens where the test says: 127.0.0.1 (an Ollama bound to loopback only: from a container on Linux it
is out of reach, the usual trap) or 0.0.0.0 (reachable from containers through host.docker.internal with
`--add-host host.docker.internal:host-gateway`). The port is the test's choice, 0 for any free one; it is
never 11434, so a real Ollama on the machine is never in the way. `requests` records the paths asked,
`authorizations` the Authorization header of each request ("" when absent).

    with FakeOllama(models=["llama3.2:1b"], host="0.0.0.0") as ollama:
        ollama.url   # http://127.0.0.1:<port> (for the host side)
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

OLLAMA_DEFAULT_PORT = 11434


def tag_entry(name: str) -> dict[str, Any]:
    """One model as Ollama's GET /api/tags lists it."""
    family = name.split(":", 1)[0].rstrip("0123456789.").split("-", 1)[0] or "llama"
    return {
        "name": name,
        "model": name,
        "modified_at": "2025-06-01T12:00:00.000000000Z",
        "size": 1321098329,
        "digest": hashlib.sha256(name.encode()).hexdigest(),
        "details": {
            "parent_model": "",
            "format": "gguf",
            "family": family,
            "families": [family],
            "parameter_size": "1.2B",
            "quantization_level": "Q8_0",
        },
    }


def openai_entry(name: str) -> dict[str, Any]:
    """One model as Ollama's OpenAI-compatible GET /v1/models lists it."""
    return {"id": name, "object": "model", "created": 1748779200, "owned_by": "library"}


class FakeOllama:
    """An Ollama-compatible server on host:port in a background thread (a context manager)."""

    def __init__(
        self, models: Sequence[str] = (), *, host: str = "127.0.0.1", port: int = 0, version: str = "0.12.6"
    ) -> None:
        if port == OLLAMA_DEFAULT_PORT:
            raise ValueError("the stand-in never takes 11434: a real Ollama may be listening there")
        self.models = list(models)
        self.version = version
        self.requests: list[str] = []
        self.authorizations: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "Ollama-stand-in"

            def do_GET(self) -> None:
                owner.requests.append(self.path)
                owner.authorizations.append(self.headers.get("Authorization", ""))
                path = self.path.split("?", 1)[0]
                if path == "/":
                    self._send(200, b"Ollama is running", "text/plain; charset=utf-8")
                elif path == "/api/version":
                    self._json({"version": owner.version})
                elif path == "/api/tags":
                    self._json({"models": [tag_entry(name) for name in owner.models]})
                elif path == "/api/ps":
                    self._json({"models": []})
                elif path == "/v1/models":
                    self._json({"object": "list", "data": [openai_entry(name) for name in owner.models]})
                else:
                    self._send(404, b"404 page not found", "text/plain")

            def do_HEAD(self) -> None:
                owner.requests.append("HEAD " + self.path)
                self._send(200 if self.path == "/" else 404, b"", "text/plain; charset=utf-8")

            def _json(self, body: dict[str, Any]) -> None:
                self._send(200, json.dumps(body).encode(), "application/json; charset=utf-8")

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.host = host
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-ollama", daemon=True)

    @property
    def url(self) -> str:
        """The URL from this machine (loopback)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeOllama:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> FakeOllama:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture
def fake_ollama() -> Iterator[Any]:
    """A factory: fake_ollama(models=[...], host="0.0.0.0") starts a stand-in; all are stopped after the test."""
    started: list[FakeOllama] = []

    def start(models: Sequence[str] = (), *, host: str = "127.0.0.1", port: int = 0) -> FakeOllama:
        server = FakeOllama(models, host=host, port=port).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
