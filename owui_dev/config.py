"""One frozen settings object per command, built once: defaults < config file < profile < environment < flags.

This is the one module that reads owui-dev's environment variables (click reads those of `up`'s settings,
envvar_for, in owui_dev.sources). The names the command line is declared with (defaults, choices, flags, file
keys and the settings' variables) are in owui_dev.setting_names. Everything below receives the settings
explicitly. Validation happens
here, before any side effect, so bad input is a usage error, whichever layer gave it.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from owui_dev.errors import UsageError
from owui_dev.setting_names import (
    DEFAULT_IMAGE,
    DEFAULT_NAME,
    DEFAULT_PORT,
    DEFAULT_READY_TIMEOUT,
    DEFAULT_VOLUME,
    ENV_CONFIG,
    ENV_NGROK_AUTHTOKEN,
    ENV_NGROK_PATH,
    FILE_KEYS,
    FLAGS,
    NGROK_REGIONS,
    ONE_CHOICE,
    OAuthProvider,
    PullPolicy,
    QrStyle,
)
from owui_dev.variants import Variant, resolve_image, validate_version

# Where to look for an Ollama on this machine (tests move it off 11434).
ENV_OLLAMA_URL = "OWUI_DEV_OLLAMA_URL"
DEFAULT_OLLAMA_URL = "http://127.0.0.1:11434"
DEFAULT_GUEST_EMAIL = "guest@localhost"  # Open WebUI accepts @localhost addresses explicitly

# Docker's own grammar for container and volume names.
_DOCKER_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
_ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Docker's reference grammar (distribution/reference), slightly simplified: [host[:port]/]path[:tag][@digest].
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE_REF = re.compile(
    r"^(?:(?P<host>(?:[a-zA-Z0-9-]+\.)*[a-zA-Z0-9-]+(?::[0-9]+)?)/)?"
    rf"(?P<path>{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$"
)
_DOMAIN = re.compile(r"^(?=.{1,253}$)(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$")


@dataclass(frozen=True)
class Origin:
    """Where a setting came from, so that an error names it as the user wrote it: a flag, or a line of the file."""

    flag: str  # the flag, or the environment variable when `environment`
    key: str | None = None
    path: Path | None = None
    line: int | None = None
    section: str = "up"  # the file's table: `up` or `profile.NAME`
    environment: bool = False

    @property
    def in_file(self) -> bool:
        return self.path is not None

    @property
    def label(self) -> str:
        """`--port`, `OWUI_DEV_PORT`, or `port (/home/me/.config/owui-dev/config.toml, line 3)`."""
        if self.path is None:
            return self.flag
        return f"{self.key} ({self.where})"

    @property
    def where(self) -> str:
        table = "" if self.section == "up" else f" [{self.section}]"
        return f"{self.path}{f', line {self.line}' if self.line else ''}{table}"

    def show(self, value: object) -> str:
        """The setting with its value: `--port 0`, `OWUI_DEV_PORT=0`, or `…/config.toml, line 3: port = 0`."""
        if self.environment:
            return f"{self.flag}={_flag_text(value)}"
        if self.path is None:
            return f"{self.flag} {_flag_text(value)}"
        return f"{self.where}: {self.key} = {_toml_text(value)}"


def _flag_text(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return repr(value) if isinstance(value, str) else str(value)


def _toml_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_text(item) for item in value) + "]"
    return str(value)


def _flag(argument: str) -> Origin:
    return Origin(FLAGS[argument])


@dataclass(frozen=True)
class Secret:
    """A value that must never be printed: its repr and str are masked."""

    value: str
    source: str

    def __repr__(self) -> str:
        return f"Secret(<hidden>, source={self.source!r})"

    __str__ = __repr__


# ngrok's authtokens are one word of base62 and `_`, about 40-50 characters (e.g. 2abc…_xyz…, 49). Only what
# cannot be one is refused: anything shorter than this, whitespace inside, characters outside printable ASCII.
MIN_AUTHTOKEN_LENGTH = 20


def authtoken_from(value: str, source: str) -> Secret:
    """The token as given (trimmed), or a usage error that says where it came from, never the token."""
    from owui_dev import problems

    token = value.strip()
    if not token:
        why = "it is empty"
    elif any(char.isspace() for char in token):
        why = "it has whitespace inside (copy the token alone, without any command around it)"
    elif not (token.isascii() and token.isprintable()):
        why = "it has characters no authtoken has (outside printable ASCII)"
    elif len(token) < MIN_AUTHTOKEN_LENGTH:
        count = f"{len(token)} character" + ("s" if len(token) > 1 else "")
        why = f"it has only {count} (ngrok's authtokens have about 40-50)"
    else:
        return Secret(token, source)
    raise problems.AUTHTOKEN_MALFORMED(source=source, why=why)


@dataclass(frozen=True)
class UpSettings:
    name: str = DEFAULT_NAME
    image: str = DEFAULT_IMAGE
    pull: PullPolicy = PullPolicy.MISSING
    port: int = DEFAULT_PORT
    port_explicit: bool = False
    volume: str = DEFAULT_VOLUME
    environment: tuple[tuple[str, str], ...] = ()
    timeout: float = DEFAULT_READY_TIMEOUT
    ngrok_path: str | None = None
    ngrok_path_source: str | None = None
    authtoken: Secret | None = None
    domain: str | None = None
    region: str | None = None
    qr_style: QrStyle = QrStyle.HALF
    qr_png: Path | None = None
    keep: bool = False
    restart: bool = False
    json: bool = False
    admin_email: str | None = None
    admin_password: Secret | None = None
    allow_no_auth: bool = False
    oauth: OAuthProvider | None = None
    oauth_allow: tuple[str, ...] = ()
    allow_cidr: tuple[str, ...] = ()
    call: bool = False
    model: str | None = None
    open_browser: bool = False
    ollama_detect: bool = True
    ollama_url: str = DEFAULT_OLLAMA_URL
    check_voice: bool = False
    # --guest: one shared account of role `user` for the room (owui_dev.guest); --present: projector output.
    guest: bool = False
    guest_email: str = DEFAULT_GUEST_EMAIL
    keep_guest: bool = False
    present: bool = False
    # --gpu / --bundled-ollama / --version: the image's variant (owui_dev.variants); `image` already follows from it.
    variant: Variant = field(default_factory=Variant)
    # An Open WebUI owui-dev did not start (owui_dev.external): at this local URL, or in this running container.
    url: str | None = None
    attach: str | None = None

    @property
    def external(self) -> bool:
        return self.url is not None or self.attach is not None

    @property
    def gated(self) -> bool:
        return self.oauth is not None or bool(self.allow_cidr)


BASIC_AUTH_REFUSAL = UsageError(
    "HTTP basic auth is not offered: it breaks Open WebUI.",
    hint="Open WebUI's own API calls carry an `Authorization: Bearer` header, which basic auth in front of it "
    "replaces, so the app fails after sign-in. Use --oauth google|github|microsoft (with --oauth-allow) or "
    "--allow-cidr to gate the URL; Open WebUI's accounts protect it in any case.",
)


def validate_name(name: str, what: str = "container name", origin: Origin | None = None) -> str:
    if not _DOCKER_NAME.match(name):
        raise UsageError(
            f"{origin.show(name) if origin else repr(name)} is not a valid {what}.",
            hint="Use letters, digits, '_', '.' and '-', starting with a letter or digit.",
        )
    return name


def validate_image(image: str, origin: Origin | None = None) -> str:
    if not _IMAGE_REF.match(image):
        raise UsageError(
            f"{origin.show(image) if origin else repr(image)} is not an image reference Docker accepts.",
            hint="Use [registry/]name[:tag], for example ghcr.io/open-webui/open-webui:main.",
        )
    return image


def parse_environment(pairs: Iterable[str], origin: Origin | None = None) -> tuple[tuple[str, str], ...]:
    origin = origin or _flag("env")
    parsed: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not _ENV_KEY.match(key):
            raise UsageError(
                f"{origin.show(pair)} is not KEY=VALUE with a valid variable name.",
                hint='In the config file: env = { NAME = "value" } or env = ["NAME=value"].'
                if origin.in_file
                else "Write it as --env NAME=value, for example --env OLLAMA_BASE_URL=http://host.docker.internal:11434.",
            )
        parsed[key] = value
    return tuple(parsed.items())


def validate_email(email: str, origin: Origin | None = None) -> str:
    # Open WebUI's own rule: x@localhost, or something@domain.tld.
    if not (email.endswith("@localhost") or re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email)):
        origin = origin or _flag("admin_email")
        raise UsageError(
            f"{origin.show(email)} is not an e-mail address Open WebUI accepts.",
            hint="Use name@domain.tld, or name@localhost.",
        )
    return email.lower()


def validate_oauth_allow(entries: Iterable[str], origin: Origin | None = None) -> tuple[str, ...]:
    """Each entry is an e-mail address or a bare domain (example.com or @example.com)."""
    origin = origin or _flag("oauth_allow")
    cleaned = []
    for entry in entries:
        value = entry.strip().lower()
        if not re.fullmatch(r"(?:[^@\s']+@)?@?[a-z0-9.-]+\.[a-z]{2,63}", value):
            raise UsageError(
                f"{origin.show(entry)} is neither an e-mail address nor a domain.",
                hint="Use you@example.com or example.com, e.g. --oauth-allow you@example.com (repeatable), or "
                'oauth_allow = ["you@example.com"] in the config file.',
            )
        cleaned.append(value)
    return tuple(cleaned)


def validate_cidrs(entries: Iterable[str], origin: Origin | None = None) -> tuple[str, ...]:
    import ipaddress

    origin = origin or _flag("allow_cidr")
    cleaned = []
    for entry in entries:
        try:
            cleaned.append(str(ipaddress.ip_network(entry.strip(), strict=False)))
        except ValueError:
            raise UsageError(
                f"{origin.show(entry)} is not an IP network.",
                hint="Use CIDR notation such as 203.0.113.7/32 or 192.168.1.0/24.",
            ) from None
    return tuple(cleaned)


def _port(value: int | None, origin: Origin | None = None) -> tuple[int, bool]:
    if value is None:
        return DEFAULT_PORT, False
    if not 1 <= value <= 65535:
        origin = origin or _flag("port")
        raise UsageError(f"{origin.show(value)} is out of range.", hint="Use a port between 1 and 65535.")
    return value, True


def _timeout(value: float, origin: Origin) -> float:
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        raise UsageError(f"{origin.show(value)} is not a number of seconds.", hint="Use a finite number, e.g. 600.")
    if value <= 0:
        raise UsageError(
            f"{origin.show(value)} must be more than 0 seconds.",
            hint="Give a number of seconds, e.g. 600 (a first start can take minutes).",
        )
    return value


def validate_qr_style(style: str, origin: Origin | None = None) -> str:
    return _choice(style, [QrStyle.HALF.value, QrStyle.FULL.value], origin or _flag("qr_style"))


def _choice(value: str, allowed: Iterable[str], origin: Origin) -> str:
    """The same check as the flag's click.Choice, for values that did not come through click."""
    choices = list(allowed)
    if value not in choices:
        raise UsageError(f"{origin.show(value)} is not one of {', '.join(choices)}.", hint="Use one of those.")
    return value


def validate_region(region: str | None, origin: Origin | None = None) -> str | None:
    if region is None:
        return None
    if region not in NGROK_REGIONS:
        origin = origin or _flag("region")
        raise UsageError(
            f"{origin.show(region)} is not an ngrok region.",
            hint=f"Use one of {', '.join(NGROK_REGIONS)}, or leave it out: the agent picks the nearest.",
        )
    return region


def validate_domain(domain: str | None, origin: Origin | None = None) -> str | None:
    if domain is None:
        return None
    bare = domain.removeprefix("https://").removeprefix("http://").rstrip("/")
    if not _DOMAIN.match(bare):
        origin = origin or _flag("domain")
        raise UsageError(
            f"{origin.show(bare)} is not a host name.",
            hint="Pass the bare domain from your ngrok dashboard, e.g. my-name.ngrok-free.app.",
        )
    return bare


def validate_output_file(path: Path | None, origin: Origin | None = None) -> Path | None:
    """A file owui-dev will write later (the QR PNG): refused now, before anything starts, if it cannot be.

    Its folder must exist or be creatable (the nearest existing one is a writable folder); the path itself
    must not be a folder. Nothing is created here.
    """
    if path is None:
        return None
    origin = origin or _flag("qr_png")
    full = path.absolute()
    if full.is_dir():
        raise UsageError(f"{origin.show(str(path))} is a folder.", hint="Give a file name, e.g. qr.png.")
    if _exists(full):
        if not os.access(full, os.W_OK):
            raise UsageError(
                f"{origin.show(str(path))} cannot be written: permission denied.",
                hint="Choose a file in a folder you can write to.",
            )
        return path
    folder = next(step for step in full.parents if _exists(step))
    if not folder.is_dir():
        raise UsageError(
            f"{origin.show(str(path))} cannot be written: {folder} is a file, not a folder.",
            hint="Save the PNG somewhere else.",
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(
            f"{origin.show(str(path))} cannot be written: the folder {folder} is not writable for you.",
            hint="Save the PNG somewhere else.",
        )
    return path


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # e.g. a parent folder that may not be searched
        return False


def build_up_settings(
    *,
    name: str = DEFAULT_NAME,
    image: str | None = None,
    pull: str = PullPolicy.MISSING.value,
    port: int | None = None,
    volume: str = DEFAULT_VOLUME,
    env: Iterable[str] = (),
    timeout: float = DEFAULT_READY_TIMEOUT,
    ngrok_path: str | None = None,
    authtoken: str | None = None,
    domain: str | None = None,
    region: str | None = None,
    qr_style: str | None = None,
    no_qr: bool = False,
    qr_png: Path | None = None,
    keep: bool = False,
    restart: bool = False,
    json: bool = False,
    admin_email: str | None = None,
    admin_password: str | None = None,
    allow_no_auth: bool = False,
    oauth: str | None = None,
    oauth_allow: Iterable[str] = (),
    allow_cidr: Iterable[str] = (),
    basic_auth: str | None = None,
    call: bool = False,
    model: str | None = None,
    open_browser: bool = False,
    no_ollama_detect: bool = False,
    check_voice: bool = False,
    guest: bool = False,
    guest_email: str | None = None,
    keep_guest: bool = False,
    present: bool = False,
    gpu: bool = False,
    bundled_ollama: bool = False,
    openwebui_version: str | None = None,
    url: str | None = None,
    attach: str | None = None,
    ngrok_path_from_file: str | None = None,
    origins: Mapping[str, Origin] | None = None,
    environ: Mapping[str, str] | None = None,
) -> UpSettings:
    """Every value is checked here, whether it came from a flag or from the config file (`origins` says
    which values came from the file, and where: its errors name the file and the line)."""
    environ = os.environ if environ is None else environ
    origins = origins or {}

    def at(argument: str) -> Origin:
        return origins.get(argument) or Origin(FLAGS.get(argument, argument))

    if basic_auth is not None:
        raise BASIC_AUTH_REFUSAL
    oauth_allow = validate_oauth_allow(oauth_allow, at("oauth_allow"))
    if oauth is not None:
        _choice(oauth, [p.value for p in OAuthProvider], at("oauth"))
    if oauth_allow and oauth is None:
        raise UsageError(
            f"{at('oauth_allow').label} needs an OAuth provider ({at('oauth').label}).",
            hint='For example: --oauth google --oauth-allow you@gmail.com (in the config file: oauth = "google").',
        )
    if admin_password is not None and len(admin_password) < 8:
        raise UsageError(
            "--admin-password is too short.", hint="Use at least 8 characters, or leave it out for a generated one."
        )
    host_port, explicit = _port(port, at("port"))
    timeout = _timeout(timeout, at("timeout"))
    _choice(pull, [p.value for p in PullPolicy], at("pull"))
    if qr_style is not None:
        validate_qr_style(qr_style, at("qr_style"))
        if no_qr:
            # Both from the same layer (the cascade lets a higher layer make the choice for both).
            raise UsageError(
                f"{at('no_qr').label} and {at('qr_style').label} contradict each other.",
                hint="Keep one: no QR code at all, or a QR code in the style given.",
            )
    region = validate_region(region, at("region"))
    qr_png = validate_output_file(qr_png, at("qr_png"))
    _refuse_folder_as_binary(ngrok_path, environ, ngrok_path_from_file, at)
    domain = validate_domain(domain, at("domain"))
    path_source = at("ngrok_path").label if ngrok_path else None
    if not ngrok_path and environ.get(ENV_NGROK_PATH):
        ngrok_path, path_source = environ[ENV_NGROK_PATH], ENV_NGROK_PATH
    if not ngrok_path and ngrok_path_from_file:
        ngrok_path, path_source = ngrok_path_from_file, "ngrok_path in the config file"
    if (guest_email is not None or keep_guest) and not guest:
        given = at("guest_email") if guest_email is not None else at("keep_guest")
        raise UsageError(
            f"{given.label} needs {at('guest').label}.",
            hint="--guest creates the shared guest account; --guest-email names it, --keep-guest keeps it.",
        )
    variant = Variant(
        gpu=gpu,
        bundled_ollama=bundled_ollama,
        version=validate_version(openwebui_version, at("openwebui_version")) if openwebui_version is not None else None,
    )
    if image is not None:
        validate_image(image, origins.get("image"))
    chosen_by = at("gpu") if gpu else at("bundled_ollama") if bundled_ollama else at("openwebui_version")
    image = resolve_image(image, variant, default=DEFAULT_IMAGE, image_origin=at("image"), variant_origin=chosen_by)
    token: Secret | None = None
    if authtoken is not None:
        token = authtoken_from(authtoken, at("authtoken").label)
    elif environ.get(ENV_NGROK_AUTHTOKEN):  # set but empty counts as unset, as for any environment variable
        token = authtoken_from(environ[ENV_NGROK_AUTHTOKEN], ENV_NGROK_AUTHTOKEN)
    return UpSettings(
        name=validate_name(name, origin=origins.get("name")),
        image=validate_image(image, origins.get("image")),
        pull=PullPolicy(pull),
        port=host_port,
        port_explicit=explicit,
        volume=validate_name(volume, "volume name", origins.get("volume")),
        environment=parse_environment(env, at("env")),
        timeout=timeout,
        ngrok_path=ngrok_path or None,
        ngrok_path_source=path_source,
        authtoken=token,
        domain=domain,
        region=region,
        qr_style=QrStyle.NONE if no_qr else QrStyle(qr_style or QrStyle.HALF.value),
        qr_png=qr_png,
        keep=keep,
        restart=restart,
        json=json,
        admin_email=validate_email(admin_email, at("admin_email")) if admin_email else None,
        admin_password=Secret(admin_password, at("admin_password").label) if admin_password else None,
        allow_no_auth=allow_no_auth,
        oauth=OAuthProvider(oauth) if oauth else None,
        oauth_allow=oauth_allow,
        allow_cidr=validate_cidrs(allow_cidr, at("allow_cidr")),
        call=call,
        model=validate_model(model, at("model")) if model is not None else None,
        open_browser=open_browser,
        ollama_detect=not no_ollama_detect,
        ollama_url=ollama_url(environ),
        check_voice=check_voice,
        guest=guest,
        guest_email=validate_email(guest_email, at("guest_email")) if guest_email else DEFAULT_GUEST_EMAIL,
        keep_guest=keep_guest,
        present=present,
        variant=variant,
        url=_external_url(url),
        attach=validate_name(attach, "container name", at("attach")) if attach is not None else None,
    )


def _external_url(url: str | None) -> str | None:
    if url is None:
        return None
    from owui_dev.external import parse_url

    return parse_url(url)


def validate_model(model: str, origin: Origin | None = None) -> str:
    if not model.strip() or any(ch.isspace() for ch in model.strip()):
        origin = origin or _flag("model")
        raise UsageError(
            f"{origin.show(model)} is not a model id.",
            hint="Use the id Open WebUI shows for it, e.g. --model llama3.2:latest (no spaces).",
        )
    return model.strip()


def ollama_url(environ: Mapping[str, str]) -> str:
    from urllib.parse import urlsplit

    value = environ.get(ENV_OLLAMA_URL, "").strip() or DEFAULT_OLLAMA_URL
    try:
        parts = urlsplit(value)
        valid = parts.scheme in {"http", "https"} and bool(parts.hostname) and parts.port is not None
    except ValueError:
        valid = False
    if not valid:
        raise UsageError(
            f"{ENV_OLLAMA_URL}={value!r} is not an http://HOST:PORT URL.",
            hint=f"Set it like {DEFAULT_OLLAMA_URL}, or unset it.",
        )
    return value.rstrip("/")


def _refuse_folder_as_binary(
    flag_path: str | None,
    environ: Mapping[str, str],
    file_path: str | None,
    at: Callable[[str], Origin],
) -> None:
    """A folder is never the agent (the flag's click.Path(dir_okay=False) says so; the same for the file)."""
    for value, origin in (
        (flag_path, at("ngrok_path")),
        (environ.get(ENV_NGROK_PATH), Origin(ENV_NGROK_PATH)),
        (file_path, at("ngrok_path_from_file")),
    ):
        if value:
            if os.path.isdir(value):
                raise UsageError(
                    f"{origin.show(value)} is a folder, not the ngrok binary.",
                    hint="Give the path of the ngrok executable itself, e.g. /usr/local/bin/ngrok.",
                )
            return


# -- owui-dev doctor -------------------------------------------------------------------------------

ENV_NGROK_PROBE = "OWUI_DEV_NGROK_PROBE"
# Where the ngrok v3 agent opens its session; `doctor` only resolves it and opens a TCP connection.
DEFAULT_NGROK_PROBE = ("connect.ngrok-agent.com", 443)


@dataclass(frozen=True)
class DoctorSettings:
    name: str = DEFAULT_NAME
    image: str = DEFAULT_IMAGE
    port: int = DEFAULT_PORT
    port_explicit: bool = False
    ngrok_path: str | None = None
    ngrok_path_source: str | None = None
    authtoken: Secret | None = None
    # None: the reachability check is switched off (OWUI_DEV_NGROK_PROBE=off).
    ngrok_probe: tuple[str, int] | None = DEFAULT_NGROK_PROBE


def parse_probe(value: str | None) -> tuple[str, int] | None:
    """OWUI_DEV_NGROK_PROBE: unset or empty = ngrok's endpoint, `off` = no check, else HOST:PORT."""
    if value is None or not value.strip():
        return DEFAULT_NGROK_PROBE
    value = value.strip()
    if value.lower() == "off":
        return None
    host, sep, port_text = value.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise UsageError(
            f"{ENV_NGROK_PROBE}={value!r} is not HOST:PORT.",
            hint="Set it to HOST:PORT (e.g. connect.ngrok-agent.com:443), or `off` to skip the check.",
        )
    return host, int(port_text)


def build_doctor_settings(
    *,
    name: str = DEFAULT_NAME,
    image: str | None = None,
    port: int | None = None,
    ngrok_path: str | None = None,
    authtoken: str | None = None,
    ngrok_path_from_file: str | None = None,
    environ: Mapping[str, str] | None = None,
    **up_options: Any,
) -> DoctorSettings:
    """`up_options`: the rest of what `up` would be given (the config file's other settings, their `origins`):
    checked the same way, so a mistake `up` would refuse is refused by doctor too."""
    environ = os.environ if environ is None else environ
    # The same validation and precedence as `up`, so doctor checks what `up` would use.
    up = build_up_settings(
        name=name,
        image=image,
        port=port,
        ngrok_path=ngrok_path,
        authtoken=authtoken,
        ngrok_path_from_file=ngrok_path_from_file,
        environ=environ,
        **up_options,
    )
    return DoctorSettings(
        name=up.name,
        image=up.image,
        port=up.port,
        port_explicit=up.port_explicit,
        ngrok_path=up.ngrok_path,
        ngrok_path_source=up.ngrok_path_source,
        authtoken=up.authtoken,
        ngrok_probe=parse_probe(environ.get(ENV_NGROK_PROBE)),
    )


# -- the config file: defaults for `up` (and `doctor`), below the environment and the flags ---------


def default_config_path() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("owui-dev", appauthor=False)) / "config.toml"


_TABLE_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]")


def _line_of(text: str, key: str, section: str = "up") -> int | None:
    """The line that sets `key` in [section]: `key = …`, a dotted `key.x = …`, or a [section.key] header.

    Only where TOML can put it: an `env = …` line under another section is not the one meant.
    """
    current = ""
    assignment = re.compile(rf"""^\s*(?:{re.escape(key)}|"{re.escape(key)}"|'{re.escape(key)}')\s*[=.]""")
    for number, line in enumerate(text.splitlines(), 1):
        header = _TABLE_HEADER.match(line)
        if header:
            current = re.sub(r"""["'\s]""", "", header.group(1))
            if current == (f"{section}.{key}" if section else key) or (not section and current.startswith(f"{key}.")):
                return number
            continue
        if current == section and assignment.match(line):
            return number
    return None


@dataclass(frozen=True)
class ConfigFile:
    """The config file's [up] table and its profiles as build_up_settings arguments, and where each was set."""

    values: dict[str, object] = field(default_factory=dict)
    origins: dict[str, Origin] = field(default_factory=dict)
    profiles: dict[str, tuple[dict[str, object], dict[str, Origin]]] = field(default_factory=dict)
    path: Path | None = None  # the file read, or looked for

    @property
    def exists(self) -> bool:
        return self.path is not None and _exists(self.path)


_TYPE_NAMES = {str: "a string", int: "a whole number", float: "a number", bool: "true or false", list: "a list",
               dict: "a table"}  # fmt: skip


def load_config_file(path: Path | None = None, environ: Mapping[str, str] | None = None) -> ConfigFile:
    """The config file's settings for `up` ([up] and every [profile.NAME]); none when there is no file.

    Every problem is a usage error that names the file and the line, before anything is started: here the
    file's shape and types; the values themselves are checked by build_up_settings exactly as the same flags
    are, with the file's `origins` so that their errors name the line too.
    """
    environ = os.environ if environ is None else environ
    explicit = path or (Path(environ[ENV_CONFIG]) if environ.get(ENV_CONFIG) else None)
    target = explicit or default_config_path()
    try:
        raw = target.read_bytes()
    except FileNotFoundError:
        if explicit is None:
            return ConfigFile(path=target)
        raise UsageError(
            f"The config file {target} does not exist.", hint="Fix the path given by --config / OWUI_DEV_CONFIG."
        ) from None
    except NotADirectoryError:
        if explicit is None:  # a file where a folder of the default path should be: then there is no config file
            return ConfigFile(path=target)
        raise UsageError(
            f"The config file {target} does not exist: a part of that path is a file.",
            hint="Fix the path given by --config / OWUI_DEV_CONFIG.",
        ) from None
    except OSError as err:
        raise UsageError(
            f"The config file {target} cannot be read: {err.strerror}.",
            hint="Fix its permissions, or point --config / OWUI_DEV_CONFIG elsewhere"
            + ("" if explicit else " (its folder follows XDG_CONFIG_HOME)")
            + ".",
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        bad_line = raw[: err.start].count(b"\n") + 1
        raise UsageError(
            f"{target}, line {bad_line}: the config file is not UTF-8 text (byte {raw[err.start]:#04x}).",
            hint="TOML files are UTF-8: save it as UTF-8 in your editor.",
        ) from None
    import tomllib  # only once there is a file: most runs have none

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        at_line = re.search(r"\(at line (\d+), column \d+\)", str(err))  # tomllib's own words (3.11 has no .lineno)
        raise UsageError(
            f"{target}{f', line {at_line.group(1)}' if at_line else ''}: the config file is not valid TOML: {err}.",
            hint="Fix that line; the format is TOML, e.g. `[up]` then `port = 3001`.",
        ) from None
    unknown_tables = [key for key in data if key not in {"up", "profile"}]
    if unknown_tables:
        line = _line_of(text, unknown_tables[0], section="")
        raise UsageError(
            f"{target}{f', line {line}' if line else ''}: unknown section or setting {unknown_tables[0]!r}.",
            hint="Settings for `up` go under an [up] section, named sets of them under [profile.NAME].",
        )
    for name in ("up", "profile"):
        if not isinstance(data.get(name, {}), dict):
            line = _line_of(text, name, section="")
            raise UsageError(
                f"{target}{f', line {line}' if line else ''}: `{name}` must be a section ([{name}]), not a value.",
                hint="Write `[up]` (or `[profile.NAME]`) on a line of its own, then one setting per line, "
                "e.g. `port = 3001`.",
            )
    values, origins = _read_table(data.get("up", {}), "up", text, target)
    profiles: dict[str, tuple[dict[str, object], dict[str, Origin]]] = {}
    for name, table in data.get("profile", {}).items():
        if not isinstance(table, dict):
            line = _line_of(text, name, section="profile")
            raise UsageError(
                f"{target}{f', line {line}' if line else ''}: profile.{name} must be a section "
                f"([profile.{name}]), not a value.",
                hint=f"Write `[profile.{name}]` on a line of its own, then its settings, e.g. `port = 3001`.",
            )
        profiles[name] = _read_table(table, f"profile.{name}", text, target)
    return ConfigFile(values, origins, profiles, target)


def _read_table(
    table: dict[str, Any], section: str, text: str, target: Path
) -> tuple[dict[str, object], dict[str, Origin]]:
    """One table ([up] or a [profile.NAME]) as build_up_settings arguments, each with the line that set it."""
    values: dict[str, object] = {}
    origins: dict[str, Origin] = {}
    for key, value in table.items():
        line = _line_of(text, key, section)
        where = f"{target}{f', line {line}' if line else ''}"
        if key not in FILE_KEYS:
            raise UsageError(
                f"{where}: unknown setting {key!r} in [{section}].",
                hint="Known settings: " + ", ".join(sorted(FILE_KEYS)) + ". (The ngrok authtoken belongs in "
                "ngrok's own config or NGROK_AUTHTOKEN, not here.)",
            )
        argument, types = FILE_KEYS[key]
        origin = Origin(FLAGS[argument], key=key, path=target, line=line, section=section)
        if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
            expected = " or ".join(_TYPE_NAMES[t] for t in types)
            raise UsageError(
                f"{where}: {key} must be {expected}, not {_toml_text(value)}.", hint="Fix that line of the file."
            )
        if isinstance(value, dict):  # env = { KEY = "value" }
            bad = next(((k, v) for k, v in value.items() if not isinstance(v, str)), None)
            if bad is not None:
                raise UsageError(
                    f"{where}: env.{bad[0]} must be a string, not {_toml_text(bad[1])}.",
                    hint=f'Quote it: {bad[0]} = "{_toml_text(bad[1]).strip(chr(34))}" (Open WebUI reads every '
                    "setting as text).",
                )
            value = [f"{k}={v}" for k, v in value.items()]
        if isinstance(value, list):  # env = ["KEY=value"], oauth_allow, allow_cidr
            bad_item = next((item for item in value if not isinstance(item, str)), None)
            if bad_item is not None:
                raise UsageError(
                    f"{where}: {key} must be a list of strings; {_toml_text(bad_item)} is not one.",
                    hint='Quote each entry, e.g. ["10.0.0.0/8"].',
                )
        if argument == "env":
            # Checked here, entry by entry, because later layers add their own entries to the file's.
            parse_environment(value, origin)
        values[argument] = value
        origins[argument] = origin
    return values, origins


def merge_env(lower: Iterable[str], upper: Iterable[str]) -> list[str]:
    """`env` merges per key across layers: the upper layer's entries come last, so they win."""
    return [*lower, *upper]


def file_layers(
    file: ConfigFile, profile: str | None, asked_by: str = "--profile"
) -> tuple[dict[str, object], dict[str, Origin]]:
    """The file's defaults for `up`: [up], with the chosen [profile.NAME] on top (its settings replace [up]'s,
    `env` merges per key). `asked_by` names where the profile's name came from, for the error."""
    values, origins = dict(file.values), dict(file.origins)
    if profile is None:
        return values, origins
    if profile not in file.profiles:
        known = sorted(file.profiles)
        if file.path is None or not file.exists:
            why, hint = (
                f"there is no config file ({file.path or default_config_path()})",
                ("Create it with a [profile.NAME] section, or leave out the profile."),
            )
        elif not known:
            why, hint = f"{file.path} has no profiles", "Add a [profile.NAME] section to it, or leave out the profile."
        else:
            why, hint = f"{file.path} has no profile {profile!r}", "Profiles there: " + ", ".join(known) + "."
        raise UsageError(f"{asked_by}: unknown profile {profile!r}: {why}.", hint=hint)
    upper, upper_origins = file.profiles[profile]
    for group in ONE_CHOICE:
        if group & upper.keys():
            for argument in group:
                values.pop(argument, None)
                origins.pop(argument, None)
    if "env" in values and "env" in upper:
        upper = {**upper, "env": merge_env(values["env"], upper["env"])}  # type: ignore[arg-type]
    values.update(upper)
    origins.update(upper_origins)
    return values, origins
