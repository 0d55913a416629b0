"""An Open WebUI that owui-dev did not start: a URL on this machine (`up --url`) or a running container (`up --attach`).

Many people already run Open WebUI (the documented `docker run -d -p 3000:8080 … --name open-webui`, or
`open-webui serve` from pip on port 8080). For those `up` makes no second instance: it checks that the
address answers like Open WebUI, applies the same safety rules as to its own container — read from the
instance's own /api/config, and from the container's environment when there is one — and tunnels it.

owui-dev never stops, re-creates, restarts or changes such an instance: it creates no account in it (so it
has no admin sign-in there, and the checks that need one say so), and every way out leaves it running.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from owui_dev import openwebui, problems
from owui_dev.errors import UsageError
from owui_dev.setting_names import FLAGS

if TYPE_CHECKING:
    from owui_dev.config import UpSettings
    from owui_dev.console import Reporter
    from owui_dev.docker_engine import ContainerInfo, DockerEngine
    from owui_dev.guest import Guest
    from owui_dev.ollama import OllamaSource
    from owui_dev.security import Access
    from owui_dev.ssh_forward import SshForward

# The official image (any tag, any digest): how `up` recognises an Open WebUI someone else started.
OFFICIAL_IMAGE = "ghcr.io/open-webui/open-webui"
# The hosts --url accepts: the agent's upstream is always http://127.0.0.1:PORT (owui_dev.tunnel).
LOCAL_HOSTS = ("127.0.0.1", "localhost")
# Host addresses of a published port that 127.0.0.1 reaches ("" and the wildcards: every interface).
ALL_INTERFACES = {"", "0.0.0.0", "::"}  # noqa: S104 - reading Docker's bindings, not binding
# How long an external instance may stop answering before the run ends (a restart of it takes longer).
GONE_AFTER = 15.0


class Kind(StrEnum):
    OWN = "own"  # the container owui-dev manages (made, started and stopped by it)
    ATTACHED = "attached"  # a running container someone else made (--attach NAME)
    URL = "url"  # an Open WebUI at a local URL, however it runs (--url)


@dataclass(frozen=True)
class Served:
    """The Open WebUI this run serves, whoever started it: what the tunnel, the checks and the announcement need."""

    kind: Kind
    local_url: str
    port: int
    access: Access
    model_source: OllamaSource
    image: str = ""
    volume: str = ""
    label: str = ""  # the container's name, or the URL
    environment: Mapping[str, str] = field(default_factory=dict)
    container: ContainerInfo | None = None
    guest: Guest | None = None
    # Reachable over plain HTTP from the local network too (published on, or listening on, every interface).
    lan_url: str | None = None
    # A remote ssh:// engine's Open WebUI, brought to `port` here (owui_dev.ssh_forward).
    forward: SshForward | None = None
    # What is still being done for it while the tunnel opens (the admin's sign-in): `settled` waits for it.
    finishing: Callable[[], Served] | None = field(default=None, repr=False, compare=False)

    def settled(self) -> Served:
        """This instance with everything done for it: its access and guest known."""
        return self if self.finishing is None else self.finishing()

    @property
    def external(self) -> bool:
        return self.kind is not Kind.OWN


# -- the command line: which options make sense -------------------------------------------------------

# build_up_settings argument -> (what it concerns, what to do instead): options about a container owui-dev
# makes, refused with --url and --attach. --timeout stays for --attach (a container that is still starting
# is waited for) and is refused with --url (nothing starts there that owui-dev could wait for).
_OWN = "owui-dev's own instance"
CONTAINER_ONLY: dict[str, tuple[str, str]] = {
    "name": ("names owui-dev's own container", "--attach NAME names the container to serve"),
    "image": ("chooses the image of the container owui-dev makes", "the instance runs already, from its own image"),
    "pull": ("pulls the image of the container owui-dev makes", "nothing is pulled for an instance already running"),
    "port": ("sets the port owui-dev publishes its container on", "the port comes from the container or the URL"),
    "volume": ("names the data volume of owui-dev's container", "the instance keeps its data where it always does"),
    "env": ("passes settings to a container owui-dev creates", "change the instance's settings where you start it"),
    "keep": ("keeps owui-dev's container running", "an instance owui-dev did not start always keeps running"),
    "restart": ("restarts owui-dev's container", "owui-dev never restarts an instance it did not start"),
    "admin_email": ("sets the admin owui-dev creates", "the instance's own accounts sign in"),
    "admin_password": ("sets the admin owui-dev creates", "the instance's own accounts sign in"),
    "no_ollama_detect": ("concerns the Ollama handed to a new container", "add connections in its Admin Panel"),
    "guest": (f"needs the admin sign-in owui-dev has only on {_OWN}", "add a user (role user) in Admin Panel → Users"),
    "guest_email": (f"belongs to --guest, which needs {_OWN}", "leave it out"),
    "keep_guest": (f"belongs to --guest, which needs {_OWN}", "leave it out"),
    "check_voice": (f"needs the admin sign-in owui-dev has only on {_OWN}", "try a call on the phone"),
    "gpu": ("chooses the image and GPUs of the container owui-dev makes", "start your instance with its GPUs"),
    "bundled_ollama": ("chooses the image of the container owui-dev makes", "the instance runs already, as it is"),
    "openwebui_version": ("pins the image of the container owui-dev makes", "the instance runs its own version"),
}
URL_ONLY_REFUSED: dict[str, tuple[str, str]] = {
    "timeout": ("waits for a start that owui-dev does not make", "start your Open WebUI first, then run `up --url`"),
}


def refuse_container_options(given: Mapping[str, object], *, url: bool, attach: bool) -> None:
    """Usage errors for what the command line asked (flags only: the config file's defaults for owui-dev's own
    container are simply not used)."""
    if url and attach:
        raise UsageError(
            "--url and --attach do not go together.",
            hint="--attach NAME serves a running container; --url http://127.0.0.1:PORT any Open WebUI here.",
        )
    if not (url or attach):
        return
    mode = "--url" if url else "--attach"
    refused = CONTAINER_ONLY | (URL_ONLY_REFUSED if url else {})
    for argument, value in given.items():
        if argument in refused and value not in (None, False, (), []):
            what, instead = refused[argument]
            flag = FLAGS.get(argument, argument)
            raise UsageError(f"{flag} does not go with {mode}: it {what}.", hint=f"Leave {flag} out: {instead}.")


def refuse_own_only_settings(settings: UpSettings) -> None:
    """The same refusal for settings that came from the config file but cannot apply to someone else's instance."""
    if not settings.external:
        return
    for argument in ("guest", "check_voice"):
        if getattr(settings, argument):
            what, instead = CONTAINER_ONLY[argument]
            raise UsageError(
                f"{argument} (config file) does not go with {'--url' if settings.url else '--attach'}: it {what}.",
                hint=f"Set {argument} = false in the config file (or point --config at another one); {instead}.",
            )


def parse_url(value: str, origin: str = "--url") -> str:
    """http://127.0.0.1:PORT or http://localhost:PORT, as the agent's upstream; anything else a usage error."""
    from urllib.parse import urlsplit

    text = value.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as err:
        raise UsageError(f"{origin} {value!r} is not a URL ({err}).", hint=_URL_HINT) from None
    host = (parts.hostname or "").lower()
    if parts.scheme == "https":
        raise UsageError(
            f"{origin} {value!r}: owui-dev needs Open WebUI's own plain-HTTP address.",
            hint="Open WebUI serves http itself; the tunnel adds the HTTPS. " + _URL_HINT,
        )
    if parts.scheme != "http" or not host:
        raise UsageError(f"{origin} {value!r} is not an http:// URL.", hint=_URL_HINT)
    if host in {"::1", "[::1]"}:
        raise UsageError(
            f"{origin} {value!r}: the tunnel reaches this machine over IPv4 (127.0.0.1), not ::1.",
            hint="Let Open WebUI listen on 127.0.0.1 (or 0.0.0.0, the default of `open-webui serve`) and pass "
            "http://127.0.0.1:PORT.",
        )
    if host not in LOCAL_HOSTS:
        raise UsageError(
            f"{origin} {value!r} is not on this machine's loopback address.",
            hint="The tunnel starts here and reaches http://127.0.0.1:PORT only: run owui-dev on the machine that "
            "runs Open WebUI; if it listens on all interfaces here, pass http://127.0.0.1:PORT.",
        )
    if parts.path not in {"", "/"} or parts.query or parts.fragment or parts.username or parts.password:
        raise UsageError(
            f"{origin} {value!r} has more than a host and a port.",
            hint="Open WebUI is served from the root of its address: " + _URL_HINT,
        )
    return f"http://127.0.0.1:{port or 80}"


_URL_HINT = "Pass it as http://127.0.0.1:PORT, e.g. --url http://127.0.0.1:8080 (open-webui serve) or :3000 (docker)."


# -- an Open WebUI someone else started ------------------------------------------------------------------


def is_official_image(image: str) -> bool:
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    repository = name.rsplit(":", 1)[0] if ":" in last else name
    return repository == OFFICIAL_IMAGE


def unmanaged_open_webuis(engine: DockerEngine) -> list[ContainerInfo]:
    """Running containers of the official image that owui-dev did not make (its own carry its labels)."""
    return [info for info in engine.running_containers() if not info.managed and is_official_image(info.image)]


def offer_attach(engine: DockerEngine, settings: UpSettings, reporter: Reporter) -> None:
    """Plain `up` that finds an Open WebUI it did not make says so, and how to serve that one instead.

    It still starts its own: that is what plain `up` asks for (and the container may be someone else's, or
    one kept for other work); the offer comes before anything is pulled or started, so Ctrl+C costs nothing."""
    for info in unmanaged_open_webuis(engine):
        where = f", port {info.host_port}" if info.host_port else ""
        reporter.warn(
            f"Open WebUI already runs in the container {info.name} ({info.image}{where}), which owui-dev did not "
            "make. To put that one on your phone instead of a second instance: Ctrl+C, then "
            f"`owui-dev up --attach {info.name}`."
        )
        reporter.event("attach_offer", container=info.name, image=info.image, hint=f"owui-dev up --attach {info.name}")


def provide(
    engine: DockerEngine | None,
    settings: UpSettings,
    reporter: Reporter,
    bring_here: Callable[[int], SshForward | None] | None = None,
) -> Served:
    """Find the instance, make sure it answers like Open WebUI and is safe to put on a public URL; change nothing.

    `bring_here(port)`: for a remote ssh:// engine, the SSH forward that brings the attached container's
    published port to this machine (None for a local engine)."""
    from owui_dev.ollama import OllamaSource, SourceKind, plan

    forward = None
    if settings.attach is not None:
        assert engine is not None  # --attach connects to the engine first
        info, local_url, port, forward = _attached(engine, settings, reporter, bring_here)
        label = info.name
        environment = info.environment
        lan = info.host_ip in ALL_INTERFACES
        source, _ = plan(environment, detect=False, url=settings.ollama_url)
    else:
        assert settings.url is not None
        info, local_url, label, environment = None, settings.url, settings.url, {}
        port = int(local_url.rsplit(":", 1)[1])
        _answers_at_url(local_url)
        lan = listens_on_lan(port)
        source = OllamaSource(SourceKind.NONE)
    access = secure_external(local_url, settings, reporter, label=label)
    lan_url = _lan_url(port) if lan else None
    return Served(
        kind=Kind.ATTACHED if info is not None else Kind.URL,
        local_url=local_url,
        port=port,
        access=access,
        model_source=source,
        image=info.image if info is not None else "",
        volume=info.volume or "" if info is not None else "",
        label=label,
        environment=environment,
        container=info,
        lan_url=lan_url,
        forward=forward,
    )


def _attached(
    engine: DockerEngine,
    settings: UpSettings,
    reporter: Reporter,
    bring_here: Callable[[int], SshForward | None] | None,
) -> tuple[ContainerInfo, str, int, SshForward | None]:
    name = settings.attach
    assert name is not None
    info = engine.find(name)
    if info is None:
        raise problems.ATTACH_NOT_FOUND(name=name)
    if info.managed:
        raise problems.ATTACH_OWN(name=name)
    if not info.running:
        raise problems.ATTACH_NOT_RUNNING(name=name, state=info.status)
    if info.host_port is None:
        raise problems.ATTACH_NO_PORT(name=name, where="publishes no port for it")
    if info.host_ip not in ALL_INTERFACES | {"127.0.0.1"}:
        raise problems.ATTACH_NO_PORT(name=name, where=f"publishes it on {info.host_ip} only")
    _refuse_unsafe_environment(info)
    reporter.step(f"Container {name} runs ({info.image}, port {info.host_port}); owui-dev will not stop or change it")
    forward = bring_here(info.host_port) if bring_here is not None else None
    if forward is None and not engine.info.is_local:  # a remote engine that is not ssh://: out of reach
        raise problems.ATTACH_NO_PORT(name=name, where=f"publishes it on the host of the engine {engine.info.endpoint}")
    port = forward.local_port if forward is not None else info.host_port
    local_url = f"http://127.0.0.1:{port}"

    def probe() -> bool:
        return openwebui.is_healthy(openwebui.health(local_url, timeout=1.0))

    if not probe():  # still starting: wait as for owui-dev's own, reading its state and logs only
        with reporter.waiting(f"Waiting for Open WebUI in {name}…") as on_tick:
            engine.wait_until_ready(
                name, probe, timeout=settings.timeout, on_tick=on_tick, why=lambda: "GET /health did not say it was up"
            )
    _answers_at_url(local_url)
    return info, local_url, port, forward


def _refuse_unsafe_environment(info: ContainerInfo) -> None:
    """The container's own settings, as for owui-dev's: trusted headers are always refused; authentication off
    is found again (and refused unless --allow-no-auth) through /api/config, which reports it either way."""
    headers = openwebui.trusted_headers_in(info.environment)
    if headers:
        raise problems.TRUSTED_HEADER(what=f"The container {info.name} has {', '.join(headers)}")


def _answers_at_url(local_url: str) -> None:
    """GET /health must be {"status": true} and GET /api/config Open WebUI's description of itself (main.py)."""
    health = openwebui.health(local_url, timeout=5.0)
    if health.status is None:
        raise problems.EXTERNAL_NOTHING_LISTENS(url=local_url, why=health.error or "no answer")
    if not openwebui.is_healthy(health):
        why = f'GET /health answered HTTP {health.status}, not {{"status": true}}'
        raise problems.EXTERNAL_NOT_OPEN_WEBUI(url=local_url, why=why)
    if not _describes_open_webui(local_url):
        why = "GET /api/config is not Open WebUI's description of itself"
        raise problems.EXTERNAL_NOT_OPEN_WEBUI(url=local_url, why=why)


def _describes_open_webui(local_url: str) -> bool:
    """Open WebUI's /api/config (main.py get_app_config): {"status": true, "name", "version", "features": {...}}."""
    from owui_dev.net import http_get

    answer = http_get(local_url.rstrip("/") + "/api/config", timeout=5.0)
    body = answer.json()
    return (
        answer.ok
        and isinstance(body, dict)
        and body.get("status") is True
        and isinstance(body.get("version"), str)
        and isinstance(body.get("features"), dict)
    )


def secure_external(local_url: str, settings: UpSettings, reporter: Reporter, *, label: str) -> Access:
    """The safety rules of owui-dev's own instance, read from the instance itself; nothing is created or changed.

    Its accounts are its own, so owui-dev has no admin sign-in there (the checks that need one say so)."""
    from owui_dev.security import Access, gates_of

    config = openwebui.public_config(local_url)
    if config is None:
        raise problems.EXTERNAL_NOT_OPEN_WEBUI(url=local_url, why="GET /api/config did not describe it")
    if not config.auth:
        if not settings.allow_no_auth:
            raise problems.AUTH_OFF(what=f"Open WebUI at {label} reports authentication off (WEBUI_AUTH=False)")
        reporter.warn("AUTHENTICATION IS OFF (--allow-no-auth): anyone with the URL will be admin of this instance.")
        return Access(accounts=False, gates=gates_of(settings))
    if config.trusted_header:
        raise problems.TRUSTED_HEADER(what=f"Open WebUI at {label} reports WEBUI_AUTH_TRUSTED_EMAIL_HEADER set")
    if config.onboarding:
        raise problems.EXTERNAL_NO_ADMIN(url=local_url)
    reporter.step(f"Open WebUI {config.version} answers at {local_url}; its own accounts sign in (owui-dev adds none)")
    if config.signup_enabled:
        reporter.warn(
            "Sign-up is open on this instance: anyone with the URL can request an account "
            "(admins can close it in Admin Panel → Settings → General)."
        )
    return Access(accounts=True, signup_open=config.signup_enabled, gates=gates_of(settings))


# -- the local network ---------------------------------------------------------------------------------


def lan_address() -> str | None:
    """This machine's address on its local network: the source of the default route (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock, contextlib.suppress(OSError):
        sock.connect(("192.0.2.1", 9))  # TEST-NET-1: only picks the route
        address = str(sock.getsockname()[0])
        return None if address.startswith("127.") or address == "0.0.0.0" else address  # noqa: S104
    return None


def listens_on_lan(port: int) -> bool:
    """As far as this machine can tell: something answers on its network address too, not only on 127.0.0.1."""
    address = lan_address()
    if address is None:
        return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((address, port)) == 0


def _lan_url(port: int) -> str:
    address = lan_address()
    return f"http://{address or '<this machine>'}:{port}"


def lan_warning(served: Served) -> str:
    return (
        f"{served.label} is also reachable over plain HTTP on your local network ({served.lan_url}): anyone on it "
        "can reach it without the tunnel, unencrypted. To keep it to this machine, publish or listen on 127.0.0.1 "
        "only (docker run -p 127.0.0.1:3000:8080 …, open-webui serve --host 127.0.0.1)."
    )


# -- while serving -------------------------------------------------------------------------------------


class Watch:
    """Keeps an eye on an instance owui-dev did not start: it is never restarted, so a run whose instance is
    gone ends (closing the tunnel), and says how to get it back."""

    def __init__(self, engine: DockerEngine | None, served: Served) -> None:
        self.engine = engine
        self.served = served
        self.how = f"--attach {served.label}" if served.kind is Kind.ATTACHED else f"--url {served.local_url}"
        self.failing_since: float | None = None

    def check(self) -> None:
        import time

        if self.served.kind is Kind.ATTACHED and self.engine is not None:
            info = self.engine.find(self.served.label)
            if info is None or not info.running:
                state = "removed" if info is None else info.status
                raise problems.EXTERNAL_STOPPED(where=f"the container {self.served.label} ({state})", how=self.how)
            return
        if openwebui.is_healthy(openwebui.health(self.served.local_url, timeout=2.0)):
            self.failing_since = None
            return
        now = time.monotonic()
        if self.failing_since is None:
            self.failing_since = now
        elif now - self.failing_since > GONE_AFTER:
            raise problems.EXTERNAL_STOPPED(where=self.served.local_url, how=self.how)
