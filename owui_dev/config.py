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
    json: bool = False


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
    json: bool = False,
    environ: Mapping[str, str] | None = None,
) -> UpSettings:
    environ = os.environ if environ is None else environ
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
        json=json,
    )
