"""Will a voice call work? The call path checked end to end, before anyone picks up the phone.

A working URL is not a working call: the phone also needs a secure context (trusted HTTPS), Open WebUI's
realtime channel through the tunnel, a model that answers, speech-to-text and text-to-speech. Each check
here says what it found in plain words and, when something is missing, how to fix it. None of them
changes the instance. `up` runs them once the URL is verified, `owui-dev check` on demand.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from owui_dev import openwebui
from owui_dev.checks import Check, make_check

if TYPE_CHECKING:
    import ssl

    from owui_dev.ollama import OllamaSource
    from owui_dev.voice import Clip

# Added round trip through the tunnel above which a conversation starts to feel slow.
LATENCY_WARN_MS = 400.0
LATENCY_SAMPLES = 5
LATENCY_BUDGET_S = 4.0
WEBSOCKET_TIMEOUT_S = 10.0

_HTTPS = ("https", "HTTPS (secure context)")
_WEBSOCKET = ("websocket", "realtime channel")
_MODEL = ("model", "model")
_STT = ("stt", "speech-to-text")
_TTS = ("tts", "text-to-speech")
_LATENCY = ("latency", "latency")


@dataclass(frozen=True)
class CallTarget:
    """What the checks need to know about one running instance."""

    public_url: str
    local_url: str
    admin_email: str | None = None
    admin_password: str | None = None
    # A session of that admin's, when `up` has just signed in: the checks use it rather than sign in again.
    admin_token: str | None = field(default=None, repr=False)
    # A gate (ngrok OAuth or an IP allow-list) stands before Open WebUI on the public URL.
    gated: bool = False
    # The container's environment (image defaults included): tells a -slim image, the model connections.
    environment: Mapping[str, str] = field(default_factory=dict)
    # Where the models were meant to come from (an Ollama owui-dev found, or the user's connection).
    model_source: OllamaSource | None = None

    def entry(self) -> tuple[str, str]:
        """Where a phone's requests go, and how to say it: the tunnel, or (behind a gate this machine may not
        pass) the local port."""
        if self.gated:
            return self.local_url, "the local port (a gate stands before the tunnel)"
        return self.public_url, "the tunnel"


# Why a check that needs the admin's sign-in could not run.
NO_ADMIN = "owui-dev has no admin sign-in for this instance (it had its own accounts, or authentication is off)"


_check = make_check


@dataclass(frozen=True)
class CallReport:
    checks: list[Check]
    models: list[str]  # what the instance offers, first = what a call opens with by default
    stt: dict[str, object] = field(default_factory=dict)  # the admin's speech-to-text settings, when readable


@dataclass(frozen=True)
class AdminView:
    """What the admin's sign-in shows of the instance; `why` says why there is no token."""

    token: str | None
    why: str = ""
    audio: dict[str, object] | None = None
    models: list[dict[str, object]] | None = None


def admin_view(target: CallTarget) -> AdminView:
    """Sign in as the admin owui-dev created (on the local port), or use the session `up` has just had, and read
    the models and audio settings."""
    if not (target.admin_email and target.admin_password):
        return AdminView(None, NO_ADMIN)
    if target.admin_token:
        audio = openwebui.audio_config(target.local_url, target.admin_token)
        models = openwebui.models(target.local_url, target.admin_token)
        if audio is not None or models is not None:
            return AdminView(target.admin_token, audio=audio, models=models)
        # That session was refused (a very short JWT_EXPIRES_IN, say): a sign-in of the checks' own.
    token = openwebui.sign_in_token(target.local_url, email=target.admin_email, password=target.admin_password)
    if token is None:
        return AdminView(None, f"Open WebUI refused the sign-in owui-dev kept for {target.admin_email} (the password "
                         "was changed in Open WebUI?)")  # fmt: skip
    audio = openwebui.audio_config(target.local_url, token)
    return AdminView(token, audio=audio, models=openwebui.models(target.local_url, token))


def run_call_checks(
    target: CallTarget,
    *,
    context: ssl.SSLContext | None = None,
    voice: Clip | None = None,
    forget: Callable[[str], bool] | None = None,
) -> CallReport:
    """The call-path checks, in the order a call uses them; each one reports, none stops the others.

    The independent ones run at the same time (they mostly wait on the network); latency runs alone
    afterwards, so the others do not skew it. With `voice`, also a speech → text round trip of that clip
    through the tunnel (`forget` deletes what the upload left in Open WebUI's cache)."""
    from concurrent.futures import ThreadPoolExecutor

    from owui_dev.net import ssl_context

    context = context or ssl_context()
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="owui-dev-check") as pool:
        https = pool.submit(guard, _HTTPS, lambda: https_check(target, context))
        websocket = pool.submit(guard, _WEBSOCKET, lambda: websocket_check(target, context))
        viewing = pool.submit(admin_view, target)
        try:
            view = viewing.result()
        except Exception as err:  # noqa: BLE001 - reported by each check that needed it
            view = AdminView(None, f"signing in failed: {type(err).__name__}: {err}")
        checks = [
            https.result(),
            websocket.result(),
            guard(_MODEL, lambda: model_check(target, view)),
            guard(_STT, lambda: stt_check(target, view)),
            guard(_TTS, lambda: tts_check(target, view)),
        ]
    checks.append(guard(_LATENCY, lambda: latency_check(target, context)))
    stt = _section(view.audio, "stt")
    if voice is not None:
        from owui_dev.voice import VOICE, voice_check

        checks.append(guard(VOICE, lambda: voice_check(target, voice, context=context, forget=forget, stt=stt)))
    return CallReport(checks, chat_models(view.models or []), stt)


def chat_models(offered: list[dict[str, object]]) -> list[str]:
    """Model ids a call can talk to, best first: embedding models (which cannot chat) and Open WebUI's
    arena pseudo-models go last, so `--call` does not open with one of them by default."""
    ids = [(str(model["id"]), model) for model in offered if model.get("id")]

    def unlikely(item: tuple[str, dict[str, object]]) -> bool:
        model_id, model = item
        return "embed" in model_id.lower() or model.get("owned_by") == "arena"

    return [model_id for model_id, _ in sorted(ids, key=unlikely)]


def guard(ids: tuple[str, str], run: Callable[[], Check]) -> Check:
    """A check that breaks is reported as not checked, never a crash of `up` (whose URL already works)."""
    try:
        return run()
    except Exception as err:  # noqa: BLE001 - a diagnostic reports what it could not check
        return _check(
            ids,
            "warn",
            f"could not check: {type(err).__name__}: {err}",
            "This may be a bug in owui-dev: please report this line.",
        )


def _not_signed_in(ids: tuple[str, str], what: str, view: AdminView) -> Check:
    return _check(
        ids,
        "warn",
        f"not checked: {what} needs the admin's sign-in, and {view.why}",
        "Check it yourself in Open WebUI (Admin Panel → Settings)"
        # With no sign-in kept at all (an instance with its own accounts), there is nothing for `status` to show.
        + ("." if view.why == NO_ADMIN else "; `owui-dev status --show-password` shows the sign-in owui-dev knows."),
    )


# -- HTTPS ----------------------------------------------------------------------------------------


def https_check(target: CallTarget, context: ssl.SSLContext) -> Check:
    from owui_dev.net import ngrok_error_code, untrusted_certificate

    answer = openwebui.health(target.public_url, timeout=10.0, context=context)
    if untrusted_certificate(answer):
        return _check(
            _HTTPS,
            "fail",
            f"the certificate of {target.public_url} is not trusted by this system: {answer.error}",
            "A phone would refuse the page, and with it the microphone. A proxy that intercepts HTTPS needs its "
            "CA in SSL_CERT_FILE; otherwise check the system's certificate store.",
        )
    if answer.status is None:
        return _check(
            _HTTPS,
            "fail",
            f"{target.public_url} does not answer: {answer.error}",
            "Check the internet connection; `owui-dev status` shows whether `up` still runs.",
        )
    secure = "trusted certificate: the phone's browser treats the page as a secure context and offers the microphone"
    if openwebui.is_healthy(answer):
        return _check(_HTTPS, "ok", secure)
    if target.gated:
        return _check(_HTTPS, "ok", f"{secure} (the gate in front answered HTTP {answer.status})")
    code = ngrok_error_code(answer)
    return _check(
        _HTTPS,
        "fail",
        f"the certificate is trusted, but Open WebUI does not answer through {target.public_url}: HTTP "
        f"{answer.status}{f' ({code})' if code else ''}",
        "ngrok answers in its place: the tunnel is down or reconnecting, or Open WebUI stopped. `owui-dev status` "
        "shows both halves.",
    )


# -- the realtime channel -------------------------------------------------------------------------


def websocket_check(target: CallTarget, context: ssl.SSLContext) -> Check:
    started = time.monotonic()
    outcome = socketio_open(target.public_url, context=context, timeout=WEBSOCKET_TIMEOUT_S)
    if not outcome.opened and outcome.status is None:
        # No answer at all (a timeout, a dropped connection): once more, so that a blip is not a verdict.
        started = time.monotonic()
        outcome = socketio_open(target.public_url, context=context, timeout=WEBSOCKET_TIMEOUT_S)
    elapsed_ms = (time.monotonic() - started) * 1000
    if outcome.opened:
        return _check(
            _WEBSOCKET,
            "ok",
            f"socket.io WebSocket upgraded through the tunnel and answered its open packet ({elapsed_ms:.0f} ms)",
        )
    if target.gated and outcome.status in {301, 302, 303, 307, 403}:
        return _check(
            _WEBSOCKET,
            "warn",
            f"not checked: the gate in front of the URL answered HTTP {outcome.status} (expected for this machine)",
            "Visitors who pass the gate get the realtime channel as usual.",
        )
    return _check(
        _WEBSOCKET,
        "fail",
        f"Open WebUI's realtime channel does not open through the tunnel: {outcome.why}",
        "Chat replies stream and voice calls run over this WebSocket (/ws/socket.io/). Something between the "
        "phone and Open WebUI refuses the upgrade: a proxy or VPN on this machine, or an ngrok Traffic Policy. "
        "With ENABLE_WEBSOCKET_SUPPORT=false in --env, Open WebUI itself offers no WebSocket: remove it.",
    )


@dataclass(frozen=True)
class SocketOutcome:
    opened: bool
    why: str = ""
    status: int | None = None


def socketio_open(base_url: str, *, context: ssl.SSLContext | None, timeout: float) -> SocketOutcome:
    """An Engine.IO v4 WebSocket handshake at /ws/socket.io/, as Open WebUI's page makes it.

    Through websockets' asyncio client, where one deadline bounds the whole exchange. (Its threaded client reads
    a TLS connection in a thread of its own while the request is written; about one run in twenty here the
    answer never came, and that reader then held the check until the server dropped the connection, a minute.)"""
    import asyncio
    import json

    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus, WebSocketException

    from owui_dev.net import USER_AGENT

    secure = base_url.startswith("https://")
    url = ("wss://" if secure else "ws://") + base_url.split("://", 1)[1].rstrip("/")
    url += openwebui.SOCKETIO_PATH + "?EIO=4&transport=websocket"

    async def first_message() -> str | bytes:
        async with asyncio.timeout(timeout):
            async with connect(
                url,
                ssl=context if secure else None,
                additional_headers={"ngrok-skip-browser-warning": "1"},
                user_agent_header=USER_AGENT,
                open_timeout=None,  # the deadline above covers it
                # The verdict is in once the open packet arrives: the closing handshake is not waited for
                # (a server slow to drop the connection held every `up` back by up to a second).
                close_timeout=0.1,
                # The phone connects directly, not through this machine's proxy settings.
                proxy=None,
            ) as socket:
                return await socket.recv()

    try:
        first = asyncio.run(first_message())
    except InvalidStatus as err:
        status = err.response.status_code
        body = err.response.body.decode("utf-8", "replace").strip()[:120] if err.response.body else ""
        return SocketOutcome(False, f"the upgrade was answered HTTP {status}" + (f" {body}" if body else ""), status)
    except TimeoutError:
        return SocketOutcome(False, f"no answer within {timeout:.0f} s")
    except (WebSocketException, OSError) as err:
        return SocketOutcome(False, f"{type(err).__name__}: {err}")
    text = first if isinstance(first, str) else first.decode("utf-8", "replace")
    if text.startswith("0"):
        try:
            packet = json.loads(text[1:])
        except ValueError:
            packet = None
        if isinstance(packet, dict) and packet.get("sid"):
            return SocketOutcome(True)
    return SocketOutcome(False, f"the WebSocket opened but did not speak Engine.IO (first message {text[:60]!r})")


# -- a model to talk to ---------------------------------------------------------------------------


def model_check(target: CallTarget, view: AdminView) -> Check:
    token, offered = view.token, view.models
    if token is None:
        return _not_signed_in(_MODEL, "listing the models", view)
    if offered is None:
        return _check(_MODEL, "warn", "Open WebUI did not list its models (GET /api/models)", None)
    if offered:
        names = [str(model.get("id")) for model in offered]
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        return _check(_MODEL, "ok", f"{len(names)} model(s) to talk to: {shown}")
    from owui_dev.ollama import SourceKind, no_model_hint

    detected = target.model_source is not None and target.model_source.kind is SourceKind.DETECTED
    stored = openwebui.ollama_urls(target.local_url, token) if detected else None
    return _check(
        _MODEL,
        "warn",
        "no model: a call will hear you, but nothing will answer",
        no_model_hint(target.model_source, stored),
    )


# -- speech-to-text and text-to-speech ------------------------------------------------------------

# engine -> the settings it cannot work without (from Open WebUI's STT_CONFIG_KEYS / TTS_CONFIG_KEYS)
STT_NEEDS = {
    "openai": ("OPENAI_API_BASE_URL", "OPENAI_API_KEY"),
    "deepgram": ("DEEPGRAM_API_KEY",),
    "azure": ("AZURE_API_KEY",),
    "mistral": ("MISTRAL_API_KEY",),
}
TTS_NEEDS = {
    "openai": ("OPENAI_API_BASE_URL", "OPENAI_API_KEY"),
    "elevenlabs": ("API_KEY",),
    "azure": ("API_KEY", "AZURE_SPEECH_REGION"),
    "mistral": ("MISTRAL_API_KEY",),
}
AUDIO_SETTINGS = "Admin Panel → Settings → Audio"


def is_slim(target: CallTarget) -> bool:
    """A -slim image (USE_SLIM_DOCKER=true) ships without the built-in Whisper and local TTS.

    Open WebUI says so itself (`features.slim` in /api/config); the container's environment says it too."""
    if target.environment.get("USE_SLIM_DOCKER", "").strip().lower() == "true":
        return True
    config = openwebui.public_config(target.local_url)
    return config is not None and config.slim


def _section(audio: dict[str, object] | None, key: str) -> dict[str, object]:
    section = audio.get(key) if audio else None
    return section if isinstance(section, dict) else {}


def _audio_settings(ids: tuple[str, str], view: AdminView, key: str) -> dict[str, object] | Check:
    """The admin's `stt` or `tts` settings, or the check that says why they could not be read."""
    if view.token is None:
        return _not_signed_in(ids, "reading the audio settings", view)
    if view.audio is None:
        return _check(ids, "warn", "Open WebUI did not show its audio settings (GET /api/v1/audio/config)")
    return _section(view.audio, key)


def _unset(
    ids: tuple[str, str],
    section: dict[str, object],
    engine: str,
    needs: dict[str, tuple[str, ...]],
    consequence: str,
    instead: str,
) -> Check | None:
    """The failing check when the selected engine lacks a setting it cannot work without, else None."""
    missing = [key for key in needs.get(engine, ()) if not str(section.get(key) or "").strip()]
    if not missing:
        return None
    return _check(
        ids,
        "fail",
        f"the {engine} engine is selected but {', '.join(missing)} is not set: {consequence}",
        f"Fill it in under {AUDIO_SETTINGS}, or choose {instead}.",
    )


def stt_check(target: CallTarget, view: AdminView) -> Check:
    stt = _audio_settings(_STT, view, "stt")
    if isinstance(stt, Check):
        return stt
    engine = str(stt.get("ENGINE") or "")
    if engine == "":
        if is_slim(target):
            return _check(
                _STT,
                "fail",
                "the built-in Whisper is selected, but this is a -slim image, which has no Whisper: "
                "what you say cannot be turned into text",
                f"Use the full image (drop -slim from --image), or choose an external engine in {AUDIO_SETTINGS}.",
            )
        model = str(stt.get("WHISPER_MODEL") or "base")
        return _check(_STT, "ok", f"the built-in Whisper ({model}), on this machine's CPU")
    if engine == "web":
        # The chat page refuses: "Call feature is not supported when using Web STT engine" (Chat.svelte).
        return _check(
            _STT,
            "fail",
            "the browser's own speech recognition (Web API) is selected, and with it Open WebUI's call button "
            "refuses to start a call",
            f"Choose the built-in Whisper (or an external engine) in {AUDIO_SETTINGS}.",
        )
    unset = _unset(_STT, stt, engine, STT_NEEDS, "transcription will fail", "the built-in Whisper")
    if unset is not None:
        return unset
    where = f" at {stt.get('OPENAI_API_BASE_URL')}" if engine == "openai" else ""
    return _check(_STT, "ok", f"external engine {engine}{where}, configured (key set)")


def tts_check(target: CallTarget, view: AdminView) -> Check:
    tts = _audio_settings(_TTS, view, "tts")
    if isinstance(tts, Check):
        return tts
    engine = str(tts.get("ENGINE") or "")
    if engine == "":
        return _check(_TTS, "ok", "the browser's own voices: the phone speaks the replies itself (nothing to set up)")
    if engine == "transformers" and is_slim(target):
        return _check(
            _TTS,
            "fail",
            "local text-to-speech (transformers) is selected, but a -slim image does not have it",
            f"Choose the browser's voices (Default) or an external engine in {AUDIO_SETTINGS}.",
        )
    unset = _unset(_TTS, tts, engine, TTS_NEEDS, "replies will not be spoken", "the browser's voices (Default)")
    if unset is not None:
        return unset
    return _check(_TTS, "ok", f"engine {engine}" + (" (on this machine)" if engine == "transformers" else ""))


# -- latency --------------------------------------------------------------------------------------


def latency_check(target: CallTarget, context: ssl.SSLContext) -> Check:
    """Median round trip of /health through the tunnel against the same on the loopback port, each over
    one kept-alive connection (as the phone's page keeps its own), after a first request that opens it."""
    deadline = time.monotonic() + LATENCY_BUDGET_S
    local = _round_trips(target.local_url, None, deadline)
    public = _round_trips(target.public_url, context, deadline)
    if not public:
        return _check(_LATENCY, "warn", "no request through the tunnel answered in time")
    local_ms = statistics.median(local) if local else 0.0
    public_ms = statistics.median(public)
    added = max(0.0, public_ms - local_ms)
    detail = (
        f"{public_ms:.0f} ms through the tunnel, {local_ms:.0f} ms locally: +{added:.0f} ms (median of {len(public)})"
    )
    if target.gated:
        return _check(_LATENCY, "warn", f"{detail}, measured to the gate in front of Open WebUI")
    if added > LATENCY_WARN_MS:
        return _check(
            _LATENCY,
            "warn",
            detail,
            "Replies will start late in a call. A closer ngrok region (--region) or a better connection helps.",
        )
    return _check(_LATENCY, "ok", detail)


def _round_trips(base_url: str, context: ssl.SSLContext | None, deadline: float) -> list[float]:
    """Milliseconds of LATENCY_SAMPLES GET /health on one connection; the first (connecting) one not counted."""
    import http.client
    from urllib.parse import urlsplit

    from owui_dev.net import request_headers

    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port
    connection: http.client.HTTPConnection = (
        http.client.HTTPSConnection(host, port, context=context, timeout=3.0)
        if parts.scheme == "https"
        else http.client.HTTPConnection(host, port, timeout=3.0)
    )
    samples: list[float] = []
    try:
        for attempt in range(LATENCY_SAMPLES + 1):
            if time.monotonic() > deadline:
                break
            started = time.monotonic()
            connection.request("GET", openwebui.HEALTH_PATH, headers=request_headers())
            connection.getresponse().read()
            if attempt:
                samples.append((time.monotonic() - started) * 1000)
    except (OSError, http.client.HTTPException):
        pass
    finally:
        connection.close()
    return samples


# -- the guest (up --guest) -----------------------------------------------------------------------

GUEST = ("guest", "guest")


def guest_check(
    target: CallTarget,
    email: str,
    password: str,
    *,
    admin_models: list[str],
    context: ssl.SSLContext | None = None,
) -> Check:
    """A guest's call must work, not only the admin's: the guest signs in (through the tunnel, as a phone
    does, unless a gate stands in front) with role `user` and sees the models the admin sees."""
    base, via = target.entry()
    answer = openwebui.sign_in(base, email=email, password=password, context=context, timeout=15.0)
    body = answer.json()
    token = body.get("token") if answer.ok and isinstance(body, dict) else None
    if not token or not isinstance(body, dict):
        return _check(
            GUEST,
            "fail",
            f"{email} cannot sign in through {via} ({answer.error or f'HTTP {answer.status}'})",
            "The room could not get in: `owui-dev logs` may say why; Ctrl+C and `owui-dev up --guest` make it anew.",
        )
    if body.get("role") != "user":
        return _check(
            GUEST,
            "fail",
            f"{email} signs in with role {body.get('role')!r}, not 'user'",
            "Set it back to `user` in Admin Panel → Users, or remove that account and run `up --guest` again.",
        )
    offered = openwebui.models(base, str(token))
    names = [str(model.get("id")) for model in offered or [] if model.get("id")]
    missing = [name for name in admin_models if name not in names]
    if admin_models and missing:
        return _check(
            GUEST,
            "fail",
            f"{email} signs in but sees {len(names)} of the admin's {len(admin_models)} model(s): a guest's call "
            "would not be answered",
            f"Open WebUI shows models nobody granted access to only to admins. The running container was made "
            f"without --guest: `owui-dev down`, then `owui-dev up --guest` re-creates it with "
            f"{openwebui.BYPASS_MODEL_ACCESS_ENV}=true (the data stays).",
        )
    return _check(GUEST, "ok", f"{email} signs in through {via} (role user) and sees {len(names)} model(s)")
