"""One frozen settings object per command, built once: defaults < environment < flags.

This is the one module that reads owui-dev's environment variables; everything below receives the
settings explicitly. Validation happens here, before any side effect, so bad input is a usage error.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from owui_dev.errors import UsageError
from owui_dev.openwebui import DEFAULT_IMAGE, DEFAULT_READY_TIMEOUT

DEFAULT_NAME = "owui-dev"
DEFAULT_VOLUME = "owui-dev-data"
DEFAULT_PORT = 3000

ENV_NGROK_PATH = "NGROK_PATH"
ENV_NGROK_AUTHTOKEN = "NGROK_AUTHTOKEN"
# Where to look for an Ollama on this machine (tests move it off 11434).
ENV_OLLAMA_URL = "OWUI_DEV_OLLAMA_URL"
DEFAULT_OLLAMA_URL = "http://127.0.0.1:11434"

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


class PullPolicy(StrEnum):
    MISSING = "missing"
    ALWAYS = "always"
    NEVER = "never"


class OAuthProvider(StrEnum):
    GOOGLE = "google"
    GITHUB = "github"
    MICROSOFT = "microsoft"


class QrStyle(StrEnum):
    HALF = "half"
    FULL = "full"
    NONE = "none"


@dataclass(frozen=True)
class Secret:
    """A value that must never be printed: its repr and str are masked."""

    value: str
    source: str

    def __repr__(self) -> str:
        return f"Secret(<hidden>, source={self.source!r})"

    __str__ = __repr__


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

    @property
    def gated(self) -> bool:
        return self.oauth is not None or bool(self.allow_cidr)


BASIC_AUTH_REFUSAL = UsageError(
    "HTTP basic auth is not offered: it breaks Open WebUI.",
    hint="Open WebUI's own API calls carry an `Authorization: Bearer` header, which basic auth in front of it "
    "replaces, so the app fails after sign-in. Use --oauth google|github|microsoft (with --oauth-allow) or "
    "--allow-cidr to gate the URL; Open WebUI's accounts protect it in any case.",
)


def validate_name(name: str, what: str = "container name") -> str:
    if not _DOCKER_NAME.match(name):
        raise UsageError(
            f"{name!r} is not a valid {what}.",
            hint="Use letters, digits, '_', '.' and '-', starting with a letter or digit.",
        )
    return name


def validate_image(image: str) -> str:
    if not _IMAGE_REF.match(image):
        raise UsageError(
            f"{image!r} is not an image reference Docker accepts.",
            hint="Use [registry/]name[:tag], for example ghcr.io/open-webui/open-webui:main.",
        )
    return image


def parse_environment(pairs: Iterable[str]) -> tuple[tuple[str, str], ...]:
    parsed: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not _ENV_KEY.match(key):
            raise UsageError(
                f"--env {pair!r} is not KEY=VALUE.",
                hint="Write it as --env NAME=value, for example --env OLLAMA_BASE_URL=http://host.docker.internal:11434.",
            )
        parsed[key] = value
    return tuple(parsed.items())


def validate_email(email: str) -> str:
    # Open WebUI's own rule: x@localhost, or something@domain.tld.
    if not (email.endswith("@localhost") or re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email)):
        raise UsageError(f"--admin-email {email!r} is not an e-mail address Open WebUI accepts.")
    return email.lower()


def validate_oauth_allow(entries: Iterable[str]) -> tuple[str, ...]:
    """Each entry is an e-mail address or a bare domain (example.com or @example.com)."""
    cleaned = []
    for entry in entries:
        value = entry.strip().lower()
        if not re.fullmatch(r"(?:[^@\s']+@)?@?[a-z0-9.-]+\.[a-z]{2,63}", value):
            raise UsageError(
                f"--oauth-allow {entry!r} is neither an e-mail address nor a domain.",
                hint="Use --oauth-allow you@example.com or --oauth-allow example.com (repeatable).",
            )
        cleaned.append(value)
    return tuple(cleaned)


def validate_cidrs(entries: Iterable[str]) -> tuple[str, ...]:
    import ipaddress

    cleaned = []
    for entry in entries:
        try:
            cleaned.append(str(ipaddress.ip_network(entry.strip(), strict=False)))
        except ValueError:
            raise UsageError(
                f"--allow-cidr {entry!r} is not an IP network.",
                hint="Use CIDR notation such as 203.0.113.7/32 or 192.168.1.0/24 (repeatable).",
            ) from None
    return tuple(cleaned)


def _port(value: int | None) -> tuple[int, bool]:
    if value is None:
        return DEFAULT_PORT, False
    if not 1 <= value <= 65535:
        raise UsageError(f"--port {value} is out of range.", hint="Use a port between 1 and 65535.")
    return value, True


def build_up_settings(
    *,
    name: str = DEFAULT_NAME,
    image: str = DEFAULT_IMAGE,
    pull: str = PullPolicy.MISSING.value,
    port: int | None = None,
    volume: str = DEFAULT_VOLUME,
    env: Iterable[str] = (),
    timeout: float = DEFAULT_READY_TIMEOUT,
    ngrok_path: str | None = None,
    authtoken: str | None = None,
    domain: str | None = None,
    region: str | None = None,
    qr_style: str = QrStyle.HALF.value,
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
    ngrok_path_from_file: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> UpSettings:
    environ = os.environ if environ is None else environ
    if basic_auth is not None:
        raise BASIC_AUTH_REFUSAL
    oauth_allow = validate_oauth_allow(oauth_allow)
    if oauth_allow and oauth is None:
        raise UsageError(
            "--oauth-allow needs --oauth PROVIDER.", hint="For example: --oauth google --oauth-allow you@gmail.com"
        )
    if admin_password is not None and len(admin_password) < 8:
        raise UsageError(
            "--admin-password is too short.", hint="Use at least 8 characters, or leave it out for a generated one."
        )
    host_port, explicit = _port(port)
    if timeout <= 0:
        raise UsageError(f"--timeout {timeout:g} must be more than 0 seconds.")
    if domain is not None:
        domain = domain.removeprefix("https://").removeprefix("http://").rstrip("/")
        if not _DOMAIN.match(domain):
            raise UsageError(
                f"--domain {domain!r} is not a host name.",
                hint="Pass the bare domain from your ngrok dashboard, e.g. --domain my-name.ngrok-free.app.",
            )
    path_source = "--ngrok-path" if ngrok_path else None
    if not ngrok_path and environ.get(ENV_NGROK_PATH):
        ngrok_path, path_source = environ[ENV_NGROK_PATH], ENV_NGROK_PATH
    if not ngrok_path and ngrok_path_from_file:
        ngrok_path, path_source = ngrok_path_from_file, "ngrok_path in the config file"
    token: Secret | None = None
    if authtoken:
        token = Secret(authtoken.strip(), "--authtoken")
    elif environ.get(ENV_NGROK_AUTHTOKEN, "").strip():
        token = Secret(environ[ENV_NGROK_AUTHTOKEN].strip(), ENV_NGROK_AUTHTOKEN)
    return UpSettings(
        name=validate_name(name),
        image=validate_image(image),
        pull=PullPolicy(pull),
        port=host_port,
        port_explicit=explicit,
        volume=validate_name(volume, "volume name"),
        environment=parse_environment(env),
        timeout=float(timeout),
        ngrok_path=ngrok_path or None,
        ngrok_path_source=path_source,
        authtoken=token,
        domain=domain,
        region=region,
        qr_style=QrStyle.NONE if no_qr else QrStyle(qr_style),
        qr_png=qr_png,
        keep=keep,
        restart=restart,
        json=json,
        admin_email=validate_email(admin_email) if admin_email else None,
        admin_password=Secret(admin_password, "--admin-password") if admin_password else None,
        allow_no_auth=allow_no_auth,
        oauth=OAuthProvider(oauth) if oauth else None,
        oauth_allow=oauth_allow,
        allow_cidr=validate_cidrs(allow_cidr),
        call=call,
        model=validate_model(model) if model is not None else None,
        open_browser=open_browser,
        ollama_detect=not no_ollama_detect,
        ollama_url=ollama_url(environ),
        check_voice=check_voice,
    )


def validate_model(model: str) -> str:
    if not model.strip() or any(ch.isspace() for ch in model.strip()):
        raise UsageError(
            f"--model {model!r} is not a model id.",
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
    image: str = DEFAULT_IMAGE,
    port: int | None = None,
    ngrok_path: str | None = None,
    authtoken: str | None = None,
    ngrok_path_from_file: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> DoctorSettings:
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

ENV_CONFIG = "OWUI_DEV_CONFIG"

# key in [up] -> (build_up_settings argument, accepted TOML types)
FILE_KEYS: dict[str, tuple[str, tuple[type, ...]]] = {
    "name": ("name", (str,)),
    "image": ("image", (str,)),
    "pull": ("pull", (str,)),
    "port": ("port", (int,)),
    "volume": ("volume", (str,)),
    "env": ("env", (dict, list)),
    "timeout": ("timeout", (int, float)),
    "ngrok_path": ("ngrok_path", (str,)),
    "domain": ("domain", (str,)),
    "region": ("region", (str,)),
    "qr": ("qr_style", (str,)),
    "no_qr": ("no_qr", (bool,)),
    "keep": ("keep", (bool,)),
    "restart": ("restart", (bool,)),
    "admin_email": ("admin_email", (str,)),
    "oauth": ("oauth", (str,)),
    "oauth_allow": ("oauth_allow", (list,)),
    "allow_cidr": ("allow_cidr", (list,)),
    "call": ("call", (bool,)),
    "model": ("model", (str,)),
    "open": ("open_browser", (bool,)),
    "no_ollama_detect": ("no_ollama_detect", (bool,)),
    "check_voice": ("check_voice", (bool,)),
}


def default_config_path() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("owui-dev", appauthor=False)) / "config.toml"


def _line_of(text: str, key: str) -> int | None:
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    return next((number for number, line in enumerate(text.splitlines(), 1) if pattern.match(line)), None)


def load_config_file(path: Path | None = None, environ: Mapping[str, str] | None = None) -> dict[str, object]:
    """The [up] table of the config file as build_up_settings arguments; {} when there is no file.

    Every problem is a usage error that names the file and the line, before anything is started.
    """
    import tomllib

    environ = os.environ if environ is None else environ
    explicit = path or (Path(environ[ENV_CONFIG]) if environ.get(ENV_CONFIG) else None)
    target = explicit or default_config_path()
    try:
        text = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        if explicit is None:
            return {}
        raise UsageError(f"The config file {target} does not exist.") from None
    except OSError as err:
        raise UsageError(
            f"The config file {target} cannot be read: {err.strerror}.",
            hint="Fix its permissions, or point --config / OWUI_DEV_CONFIG elsewhere.",
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise UsageError(
            f"The config file {target} is not valid TOML: {err}.",
            hint="Fix that line; the format is TOML, e.g. `[up]` then `port = 3001`.",
        ) from None
    unknown_tables = [key for key in data if key != "up"]
    if unknown_tables:
        line = _line_of(text, unknown_tables[0]) or next(
            (n for n, row in enumerate(text.splitlines(), 1) if row.strip() == f"[{unknown_tables[0]}]"), None
        )
        raise UsageError(
            f"{target}{f', line {line}' if line else ''}: unknown section or setting {unknown_tables[0]!r}.",
            hint="Settings for `up` go under an [up] section.",
        )
    table = data.get("up", {})
    values: dict[str, object] = {}
    for key, value in table.items():
        line = _line_of(text, key)
        where = f"{target}{f', line {line}' if line else ''}"
        if key not in FILE_KEYS:
            raise UsageError(
                f"{where}: unknown setting {key!r} in [up].",
                hint="Known settings: " + ", ".join(sorted(FILE_KEYS)) + ". (The ngrok authtoken belongs in "
                "ngrok's own config or NGROK_AUTHTOKEN, not here.)",
            )
        argument, types = FILE_KEYS[key]
        if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
            names = {str: "a string", int: "a whole number", float: "a number", bool: "true or false",
                     list: "a list", dict: "a table"}  # fmt: skip
            expected = " or ".join(names[t] for t in types)
            raise UsageError(f"{where}: {key} must be {expected}, not {value!r}.")
        if isinstance(value, dict):  # env = { KEY = "value" }
            value = [f"{k}={v}" for k, v in value.items()]
        elif isinstance(value, list):  # env = ["KEY=value"], oauth_allow, allow_cidr
            value = [str(item) for item in value]
        values[argument] = value
    return values


def merge_with_file(file_values: Mapping[str, object], given: Mapping[str, object]) -> dict[str, object]:
    """Flags (`given`, only those set on the command line) over the file; --env merges per key."""
    merged = {**file_values, **given}
    if "env" in file_values and "env" in given:
        merged["env"] = [*file_values["env"], *given["env"]]  # type: ignore[misc]
    if "ngrok_path" in file_values and "ngrok_path" not in given:
        # NGROK_PATH in the environment outranks the file: hand it down as the file's.
        merged["ngrok_path_from_file"] = merged.pop("ngrok_path")
    return merged
