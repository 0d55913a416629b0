"""Local ports and the TLS trust used to check the public URL.

The HTTP stack (http.client, urllib, ssl) is imported by the first request, not with this module: `up` needs a
port check long before that, and every import before its first Docker call delays the container's start."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ssl
    import urllib.request

LOOPBACK = "127.0.0.1"


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    """True when nothing listens on host:port, so Docker can publish there."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR: a port held only by TIME_WAIT connections is free for a listener.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def find_free_port(preferred: int, host: str = LOOPBACK, attempts: int = 50) -> int | None:
    """The first free port after `preferred` (keeps numbers memorable), else any free one."""
    for port in range(preferred + 1, min(preferred + 1 + attempts, 65536)):
        if port_is_free(port, host):
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, contextlib.suppress(OSError):
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
    return None


def ssl_context() -> ssl.SSLContext:
    """Verify like the user's system does, honouring SSL_CERT_FILE / SSL_CERT_DIR when they are set.

    OpenSSL reads those variables itself; truststore asks the operating system's store (Keychain on
    macOS, the Windows store), which plain OpenSSL would not see on those systems.
    """
    import ssl

    cafile = os.environ.get("SSL_CERT_FILE")
    capath = os.environ.get("SSL_CERT_DIR")
    if cafile or capath:
        return ssl.create_default_context(cafile=cafile or None, capath=capath or None)
    import truststore

    context: ssl.SSLContext = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return context


@dataclass(frozen=True)
class HttpAnswer:
    status: int | None
    body: str = ""
    error: str | None = None
    location: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200

    def json(self) -> object:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


USER_AGENT = "owui-dev"
# Enough for a long model list; our requests never need more.
MAX_BODY = 4 * 1024 * 1024


@functools.cache
def _no_redirect() -> type[urllib.request.HTTPRedirectHandler]:
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        """A redirect is an answer too (an OAuth gate says 302): report it instead of following it."""

        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    return NoRedirect


def http_get(
    url: str,
    *,
    timeout: float,
    context: ssl.SSLContext | None = None,
    token: str | None = None,
) -> HttpAnswer:
    """One GET that never raises: an answer, or why there was none."""
    return http_request(url, timeout=timeout, context=context, token=token)


def http_post_json(
    url: str,
    payload: dict[str, object],
    *,
    timeout: float,
    context: ssl.SSLContext | None = None,
    token: str | None = None,
) -> HttpAnswer:
    return http_request(
        url,
        method="POST",
        body=json.dumps(payload).encode(),
        content_type="application/json",
        timeout=timeout,
        context=context,
        token=token,
    )


def http_request(
    url: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    content_type: str | None = None,
    timeout: float,
    context: ssl.SSLContext | None = None,
    token: str | None = None,
) -> HttpAnswer:
    """One request to our own URLs (the loopback port or the tunnel) that never raises."""
    import urllib.request

    headers = request_headers()
    if content_type:
        headers["Content-Type"] = content_type
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=body, headers=headers, method=method)  # noqa: S310 - our own URLs
    return _send(request, timeout=timeout, context=context)


def untrusted_certificate(answer: HttpAnswer) -> bool:
    """The TLS handshake failed on the certificate: retrying cannot help, and a phone would refuse it too."""
    return "certificate verify failed" in (answer.error or "").lower()


def ngrok_error_code(answer: HttpAnswer) -> str | None:
    """ERR_NGROK_… when the answer is ngrok's own error page rather than Open WebUI's."""
    import re

    match = re.search(r"ERR_NGROK_\d+", answer.body)
    return match.group(0) if match else None


def request_headers() -> dict[str, str]:
    return {
        "User-Agent": USER_AGENT,
        # Skips ngrok's free-plan browser interstitial (ERR_NGROK_6024) for our own checks.
        "ngrok-skip-browser-warning": "1",
        "Accept": "application/json",
    }


def _send(request: urllib.request.Request, *, timeout: float, context: ssl.SSLContext | None = None) -> HttpAnswer:
    import http.client
    import urllib.error
    import urllib.request

    handlers: list[urllib.request.BaseHandler] = [_no_redirect()()]
    if context is not None:
        handlers.append(urllib.request.HTTPSHandler(context=context))
    opener = urllib.request.build_opener(*handlers)
    try:
        # The URL is ours: the loopback port or the tunnel's https URL.
        with opener.open(request, timeout=timeout) as response:
            location = response.headers.get("Location")
            return HttpAnswer(response.status, response.read(MAX_BODY).decode("utf-8", "replace"), location=location)
    except urllib.error.HTTPError as err:
        body = err.read(MAX_BODY).decode("utf-8", "replace") if err.fp else ""
        return HttpAnswer(err.code, body, f"HTTP {err.code}", location=err.headers.get("Location"))
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as err:
        reason = getattr(err, "reason", err)
        return HttpAnswer(None, "", str(reason))
