"""`owui-dev doctor`: what `up` needs, checked one by one, each with what to do about it.

No side effects: it starts no container, pulls nothing, downloads no ngrok, opens no tunnel and writes no
file. The only things it runs are `ngrok --version` and one TCP connection to ngrok's service (no TLS,
no session). Every check reports; none stops the others.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from owui_dev.checks import Check, Status, failed, make_check, report
from owui_dev.config import DoctorSettings
from owui_dev.errors import OwuiDevError

if TYPE_CHECKING:
    from owui_dev.docker_engine import ContainerInfo, DockerEngine

__all__ = ["Check", "Status", "failed", "report", "run_checks"]
T = TypeVar("T")

VERSION_TIMEOUT = 5.0
PROBE_TIMEOUT = 3.0
GB = 1024**3
# Rough unpacked sizes of Open WebUI's images (`:main` is about 4-5 GB); the variants bundle more.
IMAGE_SIZE_GB = {"cuda": 10.0, "ollama": 7.0}
DEFAULT_IMAGE_SIZE_GB = 5.0
# Free space beyond the image itself, for the pull's temporary files and Open WebUI's data.
DISK_MARGIN_GB = 1.0

_VERSION = re.compile(r"\b(\d+)\.(\d+)\.(\d+)\b")


def run_checks(settings: DoctorSettings) -> list[Check]:
    checks: list[Check] = []
    engine, engine_check = _connect()
    checks.append(engine_check)
    existing: ContainerInfo | None = None
    try:
        if engine is None:
            checks += [_not_checked(ids) for ids in (_DISK, _IMAGE, _CONTAINER)]
        else:
            on = engine
            image_check, present = _guarded(_IMAGE, lambda: _image_check(on, settings.image), None)
            checks.append(_guard(_DISK, lambda: _disk_check(on, settings.image, present)))
            checks.append(image_check)
            container_check, existing = _guarded(_CONTAINER, lambda: _container_check(on, settings.name), None)
            checks.append(container_check)
        checks.append(_guard(_PORT, lambda: _port_check(settings, existing)))
    finally:
        if engine is not None:
            engine.close()
    checks.append(_guard(_BINARY, lambda: _binary_check(settings)))
    checks.append(_guard(_AUTHTOKEN, lambda: _authtoken_check(settings)))
    if settings.ngrok_probe is not None:
        host, port = settings.ngrok_probe
        checks.append(_guard(_REACHABLE, lambda: _reachable_check(host, port)))
    return checks


# (id, name) of each check, in the order they are shown.
_DOCKER = ("docker", "Docker engine")
_DISK = ("disk", "disk space")
_IMAGE = ("image", "image")
_CONTAINER = ("container", "container name")
_PORT = ("port", "local port")
_BINARY = ("ngrok-binary", "ngrok binary")
_AUTHTOKEN = ("authtoken", "ngrok authtoken")
_REACHABLE = ("ngrok-reachable", "ngrok reachable")


_check = make_check


def _guarded(ids: tuple[str, str], run: Callable[[], tuple[Check, T]], fallback: T) -> tuple[Check, T]:
    """One check's failure is that check's result, never the end of the others."""
    try:
        return run()
    except OwuiDevError as err:
        return _check(ids, "fail", err.message, err.hint), fallback
    except Exception as err:  # noqa: BLE001 - a diagnostic tool reports what it could not check
        return (
            _check(
                ids,
                "fail",
                f"could not check: {type(err).__name__}: {err}",
                "This may be a bug in owui-dev: run again with --debug and report the output.",
            ),
            fallback,
        )


def _guard(ids: tuple[str, str], run: Callable[[], Check]) -> Check:
    return _guarded(ids, lambda: (run(), None), None)[0]


def _not_checked(ids: tuple[str, str]) -> Check:
    return _check(ids, "warn", "not checked: no Docker engine answers", "Fix the Docker engine first.")


# -- Docker ---------------------------------------------------------------------------------------


def _connect() -> tuple[DockerEngine | None, Check]:
    from owui_dev.docker_engine import DockerEngine

    try:
        engine = DockerEngine.connect()
    except OwuiDevError as err:
        return None, _check(_DOCKER, "fail", err.message, err.hint)
    except Exception as err:  # noqa: BLE001 - as in _guard: reported, never raised
        return None, _check(_DOCKER, "fail", f"could not connect: {type(err).__name__}: {err}")
    info = engine.info
    via = "DOCKER_HOST" if info.context == "DOCKER_HOST" else f"context {info.context}"
    return engine, _check(_DOCKER, "ok", f"Docker {info.server_version} via {via} ({info.endpoint})")


def image_size_gb(image: str) -> float:
    """About how much disk the image takes once pulled, from its tag."""
    tag = image.split("@", 1)[0].rpartition("/")[2].partition(":")[2].lower()
    for variant, size in IMAGE_SIZE_GB.items():
        if variant in tag:
            return size
    return DEFAULT_IMAGE_SIZE_GB


def _image_check(engine: DockerEngine, image: str) -> tuple[Check, bool | None]:
    from owui_dev.errors import ImageError

    try:
        present = engine.has_image(image)
    except ImageError as err:
        return _check(_IMAGE, "warn", err.message, err.hint), None
    if present:
        return _check(_IMAGE, "ok", f"{image} is on the engine"), True
    size = image_size_gb(image)
    return (
        _check(
            _IMAGE,
            "warn",
            f"{image} is not on the engine yet: the first `up` pulls it (~{size:.0f} GB)",
            f"Optional: pull it ahead of time with `docker pull {image}`.",
        ),
        False,
    )


def _local_data_dir(engine: DockerEngine, info: dict[str, Any]) -> tuple[str | None, str]:
    """The engine's data directory when it is on this machine's file system, else why it is not."""
    root = str(info.get("DockerRootDir") or "")
    system = str(info.get("OperatingSystem") or "")
    if not engine.info.endpoint.startswith(("unix://", "npipe://")):
        return None, f"the engine at {engine.info.endpoint} is not on this machine"
    if "docker desktop" in system.lower():
        return None, f"Docker Desktop keeps its data ({root or 'its data root'}) inside its VM"
    if str(info.get("Name") or "") != socket.gethostname():
        host = info.get("Name") or "another host"
        return None, f"the engine runs on {host} (a VM or another machine), which keeps its data at {root or '?'}"
    if not root or not os.path.isdir(root):
        return None, f"the engine's data directory {root or '(unknown)'} is not visible from here"
    return root, ""


def _disk_check(engine: DockerEngine, image: str, present: bool | None) -> Check:
    size = image_size_gb(image)
    wanted = size + DISK_MARGIN_GB
    info = engine.client.info()
    root, why_unknown = _local_data_dir(engine, info)
    free = shutil.disk_usage(root).free / GB if root else None
    where = f"{free:.1f} GB free at {root}" if free is not None and root else None
    if present:
        return _check(_DISK, "ok", "the image is already present" + (f" ({where})" if where else ""))
    if free is None:
        return _check(
            _DISK,
            "warn",
            f"free space unknown: {why_unknown}; the image needs about {size:.0f} GB",
            f"Make sure the engine has about {wanted:.0f} GB free (Docker Desktop: Settings → Resources → "
            "disk limit; Colima: `colima start --disk`); `docker system df` shows what Docker uses.",
        )
    if free < wanted:
        return _check(
            _DISK,
            "warn",
            f"only {where}; the image needs about {size:.0f} GB",
            f"Free about {wanted:.0f} GB there: `docker system df` shows what Docker uses, and "
            "`docker image prune` removes unused images.",
        )
    return _check(_DISK, "ok", f"{where} (the image needs about {size:.0f} GB)")


def _container_check(engine: DockerEngine, name: str) -> tuple[Check, ContainerInfo | None]:
    from owui_dev.docker_engine import name_conflict

    existing = engine.find(name)
    if existing is None:
        return _check(_CONTAINER, "ok", f"no container named {name} yet: `up` creates it"), None
    if not existing.managed:
        conflict = name_conflict(name)
        return _check(_CONTAINER, "fail", conflict.message, conflict.hint), existing
    return _check(_CONTAINER, "ok", f"{name} exists ({existing.status}) and is managed by owui-dev"), existing


def _port_check(settings: DoctorSettings, existing: ContainerInfo | None) -> Check:
    from owui_dev.net import find_free_port, port_is_free

    port = settings.port
    if existing is not None and existing.managed and existing.running and existing.host_port:
        if settings.port_explicit and existing.host_port != port:
            return _check(
                _PORT,
                "warn",
                f"{settings.name} already runs on 127.0.0.1:{existing.host_port}; `up` reuses it and ignores "
                f"--port {port}",
                "Run `owui-dev down` first to change the port.",
            )
        return _check(
            _PORT, "ok", f"127.0.0.1:{existing.host_port} is published by {settings.name} itself: `up` reuses it"
        )
    if port_is_free(port):
        return _check(_PORT, "ok", f"127.0.0.1:{port} is free")
    if settings.port_explicit:
        return _check(
            _PORT,
            "fail",
            f"127.0.0.1:{port} is already in use by another program",
            "Stop that program, or pass a different --port (leave --port out to pick a free one).",
        )
    free = find_free_port(port)
    if free is None:
        return _check(_PORT, "fail", f"127.0.0.1:{port} is busy and no free port was found", "Pass one with --port.")
    return _check(_PORT, "warn", f"127.0.0.1:{port} is busy: `up` will take {free} instead", "Or choose with --port.")


# -- ngrok ----------------------------------------------------------------------------------------


def _binary_check(settings: DoctorSettings) -> Check:
    from owui_dev import problems
    from owui_dev.problems import DOWNLOAD_URL
    from owui_dev.tunnel import resolve_binary

    binary = resolve_binary(settings.ngrok_path, settings.ngrok_path_source)  # NgrokBinaryError: a fail
    passed_over = (
        f" (passed over pyngrok's `ngrok` command at {', '.join(binary.skipped)}: a wrapper, not the agent)"
        if binary.skipped
        else ""
    )
    if binary.needs_install:
        return _check(
            _BINARY,
            "warn",
            f"ngrok is not installed: the first `up` downloads it to {binary.path}{passed_over}",
            f"Or install it yourself ({DOWNLOAD_URL}) and put it on PATH, or pass --ngrok-path / NGROK_PATH.",
        )
    version, problem = agent_version(binary.path)
    where = f"{binary.path} (from {binary.source})"
    fix = f"Point --ngrok-path / NGROK_PATH at a working ngrok v3 agent, or reinstall it from {DOWNLOAD_URL}."
    if problem is not None:
        return _check(_BINARY, "fail", f"{where} does not run: {problem}", fix)
    match = _VERSION.search(version or "")
    if match is None:
        return _check(_BINARY, "warn", f"{where} answered `--version` without a version: {version!r}", fix)
    if int(match.group(1)) < 3:
        return _check(
            _BINARY,
            "warn",
            f"ngrok {match.group(0)} at {where} is older than v3, which ngrok's service may refuse",
            problems.AGENT_TOO_OLD.hint,
        )
    return _check(_BINARY, "ok", f"ngrok {match.group(0)} at {where}{passed_over}")


def agent_version(path: str) -> tuple[str | None, str | None]:
    """(first line of `ngrok --version`, None), or (None, why it did not answer). Opens no tunnel."""
    try:
        done = subprocess.run(
            [path, "--version"],
            capture_output=True,
            text=True,
            timeout=VERSION_TIMEOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None, f"`--version` gave no answer within {VERSION_TIMEOUT:.0f} s"
    except OSError as err:
        return None, err.strerror or str(err)
    lines = [line.strip() for line in (done.stdout + "\n" + done.stderr).splitlines() if line.strip()]
    if done.returncode != 0:
        return None, f"`--version` exited with code {done.returncode}" + (f": {lines[0]}" if lines else "")
    return (lines[0] if lines else ""), None


def _authtoken_check(settings: DoctorSettings) -> Check:
    from owui_dev import problems
    from owui_dev.tunnel import find_authtoken

    token = find_authtoken(settings.authtoken)
    if token is None:
        return _check(
            _AUTHTOKEN,
            "fail",
            "no ngrok authtoken is configured",
            f"{problems.NO_AUTHTOKEN.hint} (An interactive `owui-dev up` also asks for it.)",
        )
    # Where it comes from, never the token itself.
    return _check(_AUTHTOKEN, "ok", f"found (from {token.source})")


def _reachable_check(host: str, port: int) -> Check:
    """DNS and a TCP connection to where the agent connects: no TLS, no ngrok session, no tunnel."""
    problem = probe_tcp(host, port, timeout=PROBE_TIMEOUT)
    if problem is None:
        return _check(_REACHABLE, "ok", f"{host}:{port} accepts connections (TCP only; no tunnel opened)")
    return _check(
        _REACHABLE,
        "warn",
        f"cannot reach ngrok's service at {host}:{port}: {problem}",
        f"Check the connection / firewall: the ngrok agent needs outbound TCP to {host}:{port}. "
        "Offline, `up` cannot open the tunnel.",
    )


def probe_tcp(host: str, port: int, *, timeout: float) -> str | None:
    """None when host:port accepts a TCP connection within `timeout` (DNS included), else why not."""
    deadline = time.monotonic() + timeout
    # getaddrinfo has no timeout of its own; a daemon thread bounds it.
    answer: list[Any] = []

    def resolve() -> None:
        try:
            answer.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except (OSError, UnicodeError) as err:
            answer.append(err)

    resolver = threading.Thread(target=resolve, name="owui-dev-doctor-dns", daemon=True)
    resolver.start()
    resolver.join(timeout)
    if not answer:
        return f"the DNS lookup of {host} took longer than {timeout:.0f} s"
    result = answer[0]
    if isinstance(result, BaseException):
        reason = result.strerror if isinstance(result, OSError) and result.strerror else str(result)
        return f"the DNS lookup of {host} failed ({reason})"
    last = "no address"
    for family, kind, proto, _, address in result:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return f"no TCP connection within {timeout:.0f} s"
        try:
            with socket.socket(family, kind, proto) as sock:
                sock.settimeout(remaining)
                sock.connect(address)
            return None
        except TimeoutError:
            last = f"no TCP connection within {timeout:.0f} s"
        except OSError as err:
            last = f"TCP connection failed ({err.strerror or err})"
    return last
