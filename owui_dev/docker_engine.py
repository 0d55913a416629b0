"""The Docker engine through the Docker SDK: connection, image, the managed container, its logs.

Docker's labels are the source of truth about what owui-dev created: a container is ours only when it
carries `owui-dev.managed=true`; anything else with the same name is left untouched.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from owui_dev import __version__, problems
from owui_dev.errors import (
    ContainerError,
    ContainerNotFoundError,
    DockerUnavailableError,
    ImageError,
    OwuiDevError,
)
from owui_dev.openwebui import CONTAINER_PORT, DATA_PATH
from owui_dev.setting_names import name_option
from owui_dev.variants import OLLAMA_MODELS_PATH, GpuAnswer, gpu_support, is_no_gpu_failure

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container

LABEL_MANAGED = "owui-dev.managed"
LABEL_CONFIG = "owui-dev.config"
LABEL_VERSION = "owui-dev.version"
LOG_TAIL_ON_FAILURE = 30
QUICK_POLL = 0.05  # s between readiness polls during the first QUICK_POLL_FOR seconds of a start
QUICK_POLL_FOR = 2.0
FIRST_LOG_READ = 1.0  # s into a start before the container's last log line is first shown beside the spinner
# s between looks at the container's state while it starts: a quick poll need not ask the engine each time.
STATE_READ_EVERY = 0.25


@dataclass(frozen=True)
class EngineInfo:
    server_version: str
    context: str
    endpoint: str

    @property
    def is_local(self) -> bool:
        """Sockets and pipes are this machine (Docker Desktop, Colima, OrbStack run their VM's port here).

        An ssh:// engine never is, even at 127.0.0.1: its 127.0.0.1 is the ssh server's, often a VM behind a
        port forward (Lima, Vagrant), where the published port cannot be reached from here."""
        from urllib.parse import urlparse

        url = urlparse(self.endpoint)
        if url.scheme == "ssh":
            return False
        return url.scheme in {"unix", "npipe", "http+unix", ""} or url.hostname in {"127.0.0.1", "localhost", "::1"}

    @property
    def over_ssh(self) -> bool:
        """An ssh:// engine, whose published ports an SSH forward brings here (owui_dev.ssh_forward)."""
        return self.endpoint.lower().startswith("ssh://")


@dataclass(frozen=True)
class ContainerSpec:
    """Everything that defines the container `up` wants; its fingerprint decides reuse."""

    name: str
    image: str
    host_port: int
    volume: str
    environment: tuple[tuple[str, str], ...] = ()
    # Settings owui-dev chose itself (the Ollama it found): they come and go between runs without making
    # the container differ from what the user asked for.
    unfingerprinted: frozenset[str] = frozenset()
    # The variant (owui_dev.variants): all NVIDIA GPUs requested (`--gpus all`); the bundled Ollama's models volume.
    gpu: bool = False
    models_volume: str | None = None
    labels: tuple[tuple[str, str], ...] = ()

    def fingerprint(self) -> str:
        asked = sorted(item for item in self.environment if item[0] not in self.unfingerprinted)
        fields: list[object] = [self.image, self.host_port, self.volume, asked]
        if self.gpu or self.models_volume:  # only then: containers made before variants keep their fingerprint
            fields.append({"gpu": self.gpu, "models_volume": self.models_volume})
        payload = json.dumps(fields, separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ContainerInfo:
    name: str
    id: str
    status: str
    image: str
    managed: bool
    host_ip: str | None = None
    host_port: int | None = None
    volume: str | None = None
    exit_code: int | None = None
    oom_killed: bool = False
    started_at: str | None = None
    fingerprint: str | None = None
    models_volume: str | None = None
    gpu: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict, repr=False)
    # The image it was made from, by ID ("sha256:…"): its tag may point elsewhere since (a pull, a build).
    image_id: str = ""

    @property
    def running(self) -> bool:
        return self.status in {"running", "restarting"}


@dataclass
class PullProgress:
    """Layer-by-layer bytes from the engine's pull stream, summed into one total."""

    layers: dict[str, tuple[int, int, bool]] = field(default_factory=dict)
    status: str = ""

    @property
    def bytes_done(self) -> int:
        return sum(current for current, _, _ in self.layers.values())

    @property
    def bytes_total(self) -> int:
        return sum(total for _, total, _ in self.layers.values())

    @property
    def layers_done(self) -> int:
        return sum(1 for _, _, done in self.layers.values() if done)

    def update(self, event: dict[str, Any]) -> None:
        status = str(event.get("status", ""))
        layer = event.get("id")
        self.status = status
        if not layer or status.startswith("Pulling from"):
            return
        current, total, done = self.layers.get(layer, (0, 0, False))
        detail = event.get("progressDetail") or {}
        if status == "Downloading" and detail.get("total"):
            current, total = int(detail.get("current", 0)), int(detail["total"])
        elif status in {"Download complete", "Verifying Checksum", "Extracting", "Pull complete"}:
            current = total
            done = done or status == "Pull complete"
        elif status == "Already exists":
            done = True
        self.layers[layer] = (current, total, done)


def _explain_connection_failure(err: BaseException, endpoint: str) -> OwuiDevError:
    if endpoint.startswith("ssh://"):
        # Whatever broke (the `ssh` command, the network, keys, the remote docker), ssh's own words say it
        # best; a FileNotFoundError here is a missing `ssh`, not a missing socket.
        said = _SSH_STDERR.last_line()
        text = said or (str(err).splitlines()[0] if str(err) else type(err).__name__)
        return problems.DOCKER_SSH_FAILED(endpoint=endpoint, detail=text, target=_ssh_target(endpoint))
    cause: BaseException | None = err
    while cause is not None:
        if isinstance(cause, PermissionError):
            return problems.DOCKER_PERMISSION(endpoint=endpoint)
        if isinstance(cause, FileNotFoundError):
            return problems.DOCKER_NO_SOCKET(endpoint=endpoint)
        if isinstance(cause, ConnectionRefusedError):
            return problems.DOCKER_REFUSED(endpoint=endpoint)
        cause = (
            cause.__cause__
            or cause.__context__
            or (cause.args[0] if cause.args and isinstance(cause.args[0], BaseException) else None)
        )
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    return problems.DOCKER_OTHER(endpoint=endpoint, detail=text)


_ENGINE_SCHEMES = {"unix", "npipe", "tcp", "http", "https", "ssh"}


def check_engine_address(value: str, source: str = "DOCKER_HOST") -> str:
    """The address, stripped, if docker-py can use it; else a usage error saying what is wrong with it.

    docker-py would quietly turn some slips into something else (`unix://` into the default socket,
    `tcp//x` into a host named `tcp`), or fail later with a message about a daemon that is not running."""
    from urllib.parse import urlsplit

    address = value.strip()
    scheme, sep, rest = address.partition("://")
    why = None
    if not sep:
        why = "it has no scheme:// in front"
    elif scheme.lower() not in _ENGINE_SCHEMES:
        why = f"{scheme or '(empty)'}:// is not a scheme Docker engines use"
    elif scheme.lower() in {"unix", "npipe"}:
        if not rest.strip("/"):
            why = "it names no socket path"
    else:
        try:
            parts = urlsplit(address)
            port = parts.port
        except ValueError as err:
            parts, port, why = None, None, f"it cannot be read as an address ({err})"
        if parts is not None:
            if not parts.hostname:
                why = "it names no host"
            elif parts.query or parts.fragment or parts.password is not None:
                why = "it has parts an engine address cannot have (a query, a fragment or a password)"
            elif scheme.lower() == "ssh" and parts.path.strip("/"):
                why = "an ssh:// address has no path"
            elif scheme.lower() != "ssh" and port is None:
                why = "it names no port (e.g. tcp://HOST:2375)"
    if why is not None:
        raise problems.DOCKER_HOST_MALFORMED(source=source, value=value, why=why)
    return address


def _ssh_target(endpoint: str) -> str:
    """`[-p PORT] [USER@]HOST`, as a person would type it after `ssh`."""
    from urllib.parse import urlsplit

    parts = urlsplit(endpoint)
    user = f"{parts.username}@" if parts.username else ""
    port = f"-p {parts.port} " if parts.port else ""
    return f"{port}{user}{parts.hostname}"


class _SshStderr:
    """docker-py's view of `subprocess` for its ssh connections: ssh's stderr goes to a private file.

    docker-py leaves it inherited, so ssh's errors ("Connection refused", "Permission denied (publickey)")
    would land on the terminal out of turn, and among --json's lines. Kept, the last one becomes the error's
    detail. Prompts (passphrase, host key) go to the terminal itself (/dev/tty), as with the docker CLI.
    """

    def __init__(self) -> None:
        self._log: Any = None

    def __getattr__(self, name: str) -> Any:
        return getattr(subprocess, name)

    def Popen(self, *args: Any, **kwargs: Any) -> subprocess.Popen[Any]:  # noqa: N802 - mirrors subprocess.Popen
        if self._log is None:
            self._log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the connection's ssh processes
        kwargs.setdefault("stderr", self._log)
        return subprocess.Popen(*args, **kwargs)

    def last_line(self) -> str | None:
        if self._log is None:
            return None
        self._log.seek(0)
        lines = [line.strip() for line in self._log.read().decode("utf-8", "replace").splitlines() if line.strip()]
        return lines[-1] if lines else None


_SSH_STDERR = _SshStderr()


class _ParamikoOnFirstUse(types.ModuleType):
    """Stands in for paramiko in sys.modules until one of its attributes is used, then loads the real one.

    (importlib's LazyLoader cannot serve here: on Python 3.11 the `import` statement itself reads the
    module's __spec__, which makes a lazy module load.)"""

    def __getattr__(self, name: str) -> Any:
        import importlib
        import sys

        if sys.modules.get("paramiko") is self:
            del sys.modules["paramiko"]
        real = importlib.import_module("paramiko")
        self.__dict__.update(real.__dict__)
        return getattr(real, name)


def _ping(probe: docker.DockerClient) -> dict[str, Any]:
    """The engine's API version and its own, as the docker CLI learns them: from the headers of its /_ping (a few
    ms, where /version, which asks containerd and runc for theirs, takes about 10). An engine that does not name
    itself there (Podman, say) is asked /version."""
    answer = probe.api.get(probe.api.base_url + "/_ping", timeout=probe.api.timeout)  # as docker-py's own calls
    server = re.match(r"Docker/(\S+)", answer.headers.get("Server", ""))
    api_version = answer.headers.get("Api-Version")
    if answer.ok and server and api_version:
        return {"ApiVersion": api_version, "Version": server.group(1)}
    return dict(probe.version(api_version=False))


def _defer_paramiko() -> None:
    """docker-py imports paramiko with itself, for an ssh transport we do not use (we make it run the system
    `ssh`, see DockerEngine.connect): a third of a second on every run. Deferred, paramiko costs nothing
    until something really uses it; where it is not installed, nothing is put in its place."""
    import importlib.util
    import sys

    if "paramiko" not in sys.modules and importlib.util.find_spec("paramiko") is not None:
        sys.modules["paramiko"] = _ParamikoOnFirstUse("paramiko")


def _target_endpoint() -> tuple[str, str, dict[str, Any]]:
    """(context name, endpoint, client kwargs): DOCKER_HOST first, else the docker CLI's current context."""
    _defer_paramiko()
    from docker.context import ContextAPI
    from docker.context.config import get_current_context_name

    host = os.environ.get("DOCKER_HOST")
    if host:
        return "DOCKER_HOST", check_engine_address(host), {}
    name = os.environ.get("DOCKER_CONTEXT") or get_current_context_name()
    try:
        context = ContextAPI.get_context(name)
    except Exception as err:  # docker-py raises assorted errors for a broken context file
        raise DockerUnavailableError(
            f"The docker context {name!r} cannot be read: {err}",
            hint="Check `docker context ls`, or set DOCKER_HOST to the engine's address.",
        ) from err
    if context is None:
        raise problems.DOCKER_CONTEXT_MISSING(context=name)
    endpoint = (
        check_engine_address(context.Host, f"the docker context {name!r}")
        if context.Host
        else "unix:///var/run/docker.sock"
    )
    kwargs: dict[str, Any] = {"base_url": endpoint}
    if context.TLSConfig is not None:
        kwargs["tls"] = context.TLSConfig
    return name, endpoint, kwargs


class DockerEngine:
    """One connection to the engine; every Docker call of owui-dev goes through here."""

    def __init__(self, client: docker.DockerClient, info: EngineInfo) -> None:
        self.client = client
        self.info = info

    @classmethod
    def connect(cls) -> DockerEngine:
        """Connect as the docker CLI would; an ssh:// engine through the system `ssh` (docker-py's
        use_ssh_client), which honours ~/.ssh/config, the ssh agent and known_hosts like `docker` does."""
        context, endpoint, kwargs = _target_endpoint()
        import docker
        from docker.constants import MINIMUM_DOCKER_API_VERSION

        ssh = endpoint.startswith("ssh://")
        try:
            if ssh:
                if shutil.which("ssh") is None:
                    raise problems.DOCKER_SSH_FAILED(
                        endpoint=endpoint,
                        detail="there is no `ssh` command on PATH (install an OpenSSH client)",
                        target=_ssh_target(endpoint),
                    )
                try:
                    from docker.transport import sshconn
                except ImportError as err:  # installed without docker's `ssh` extra, which owui-dev requires
                    raise problems.DOCKER_SSH_FAILED(
                        endpoint=endpoint,
                        detail=f"docker's ssh support cannot load ({err}): reinstall owui-dev with its dependencies",
                        target=_ssh_target(endpoint),
                    ) from None
                setattr(sshconn, "subprocess", _SSH_STDERR)  # noqa: B010 - docker-py offers no stderr option

            def client_for(api_version: str) -> docker.DockerClient:
                if context == "DOCKER_HOST":
                    return docker.from_env(version=api_version, use_ssh_client=ssh)
                return docker.DockerClient(version=api_version, use_ssh_client=ssh, **kwargs)

            if ssh:  # each client is an ssh connection of its own: one, which asks for the API version itself
                client = client_for("auto")
                version = client.version()
            else:
                # One quick request where "auto" makes two (its own /version for the API version, then ours for the
                # engine's), and the client is then made for that API version.
                probe = client_for(MINIMUM_DOCKER_API_VERSION)
                try:
                    version = _ping(probe)
                finally:
                    probe.close()
                client = client_for(str(version.get("ApiVersion") or "auto"))
        except docker.errors.DockerException as err:
            raise _explain_connection_failure(err, endpoint) from err
        except OSError as err:
            raise _explain_connection_failure(err, endpoint) from err
        info = EngineInfo(server_version=str(version.get("Version", "?")), context=context, endpoint=endpoint)
        return cls(client, info)

    def close(self) -> None:
        self.client.close()

    def gpu_support(self) -> GpuAnswer:
        """What the engine tells about --gpu before anything starts (owui_dev.variants.gpu_support)."""
        import sys

        return gpu_support(self.system_info(), macos_local=sys.platform == "darwin" and self.info.is_local)

    def system_info(self) -> dict[str, Any]:
        """The engine's /info (runtimes, CDI devices…); empty when it cannot be read."""
        import docker

        try:
            return dict(self.client.info())
        except (docker.errors.DockerException, OSError):
            return {}

    # -- images ---------------------------------------------------------------------------------

    def has_image(self, ref: str) -> bool:
        return self.image_id(ref) is not None

    def image_id(self, ref: str) -> str | None:
        """The ID ("sha256:…") that `ref` names on this engine now; None when it is not here."""
        import docker

        try:
            return str(self.client.images.get(ref).id)
        except docker.errors.ImageNotFound:
            return None
        except docker.errors.APIError as err:
            raise problems.DOCKER_API_FAILED(action=f"look up the image {ref}", detail=err.explanation) from err

    def pull(self, ref: str, on_progress: Callable[[PullProgress], None]) -> None:
        import docker

        repository, tag = _split_tag(ref)
        progress = PullProgress()
        try:
            for event in self.client.api.pull(repository, tag=tag, stream=True, decode=True):
                if "error" in event:
                    raise _pull_error(ref, str(event.get("error")))
                progress.update(event)
                on_progress(progress)
        except docker.errors.APIError as err:
            raise _pull_error(ref, str(err.explanation or err)) from err
        except docker.errors.DockerException as err:
            raise _pull_error(ref, str(err)) from err
        except OSError as err:
            raise _pull_error(ref, str(err)) from err

    def image_environment(self, container_name: str) -> dict[str, str] | None:
        """The environment the container's image sets itself (PATH, PORT, …), which is not the user's; None when
        the image is no longer on this engine."""
        import docker

        image_id = str(self._require(container_name).attrs.get("Image") or "")
        try:
            image = self.client.images.get(image_id)
        except docker.errors.ImageNotFound:
            return None
        except docker.errors.APIError as err:
            raise problems.DOCKER_API_FAILED(
                action=f"look up the image of {container_name}", detail=err.explanation
            ) from err
        env = (image.attrs.get("Config") or {}).get("Env") or []
        return dict(item.partition("=")[::2] for item in env)

    # -- containers -----------------------------------------------------------------------------

    def find(self, name: str) -> ContainerInfo | None:
        container = self._get(name)
        return None if container is None else _info(container)

    def require_managed(self, name: str) -> ContainerInfo:
        info = self.find(name)
        if info is None:
            raise ContainerNotFoundError(
                f"There is no container named {name!r}.",
                hint=f"Start one with `owui-dev up{name_option(name)}`.",
            )
        if not info.managed:
            raise name_conflict(name)
        return info

    def create(self, spec: ContainerSpec) -> ContainerInfo:
        import docker

        self.ensure_volume(spec.volume)
        volumes = {spec.volume: {"bind": DATA_PATH, "mode": "rw"}}
        if spec.models_volume:
            self.ensure_volume(spec.models_volume)
            volumes[spec.models_volume] = {"bind": OLLAMA_MODELS_PATH, "mode": "rw"}
        labels = {
            **dict(spec.labels),
            LABEL_MANAGED: "true",
            LABEL_CONFIG: spec.fingerprint(),
            LABEL_VERSION: __version__,
        }
        try:
            container = self.client.containers.create(
                spec.image,
                name=spec.name,
                detach=True,
                labels=labels,
                environment=dict(spec.environment),
                ports={f"{CONTAINER_PORT}/tcp": ("127.0.0.1", spec.host_port)},
                volumes=volumes,
                # So an Ollama (or any server) on the laptop is reachable as host.docker.internal.
                extra_hosts={"host.docker.internal": "host-gateway"},
                device_requests=[gpu_request()] if spec.gpu else None,
            )
        except docker.errors.ImageNotFound as err:
            raise ImageError(
                f"The image {spec.image} is not on this engine.",
                hint="Pull it (`--pull missing` or `--pull always`) or choose another with --image.",
            ) from err
        except docker.errors.APIError as err:
            if err.status_code == 409:
                raise name_conflict(spec.name) from err
            raise problems.DOCKER_API_FAILED(action="create the container", detail=err.explanation) from err
        return _info(container)

    def start(self, name: str, *, host_port: int | None = None) -> ContainerInfo:
        import docker

        try:
            self.client.api.start(name)  # by name: no lookup first, on the way to every `up`
        except docker.errors.NotFound as err:
            if self._get(name) is None:
                raise self._gone(name) from None
            # The container is there: something it refers to is not (a network, say).
            raise problems.DOCKER_API_FAILED(action=f"start {name}", detail=str(err.explanation or err)) from err
        except docker.errors.APIError as err:
            text = str(err.explanation or err)
            if "port is already allocated" in text or "address already in use" in text:
                raise problems.PORT_BUSY(port=host_port) from err
            if is_no_gpu_failure(text):
                raise problems.GPU_NO_DRIVER(endpoint=self.info.endpoint, detail=text.strip().rstrip(".")) from err
            raise problems.DOCKER_API_FAILED(action=f"start {name}", detail=text) from err
        return self.inspect(name)

    def inspect(self, name: str) -> ContainerInfo:
        return _info(self._require(name))

    def stop(self, name: str, *, timeout: int = 10) -> bool:
        """Stop it if it runs; False when there was nothing to stop."""
        import docker

        container = self._get(name)
        if container is None or container.status not in {"running", "restarting", "paused"}:
            return False
        try:
            container.stop(timeout=timeout)
        except docker.errors.NotFound:
            return False
        except docker.errors.APIError as err:
            raise problems.DOCKER_API_FAILED(action=f"stop {name}", detail=err.explanation) from err
        return True

    def remove(self, name: str) -> bool:
        import docker

        container = self._get(name)
        if container is None:
            return False
        try:
            container.remove(force=True)
        except docker.errors.NotFound:
            return False
        except docker.errors.APIError as err:
            raise problems.DOCKER_API_FAILED(action=f"remove {name}", detail=err.explanation) from err
        return True

    def logs_tail(self, name: str, lines: int = LOG_TAIL_ON_FAILURE) -> list[str]:
        import docker

        container = self._get(name)
        if container is None:
            return []
        try:
            raw = container.logs(tail=lines, stdout=True, stderr=True)
        except docker.errors.APIError:
            return []
        return [line for line in raw.decode("utf-8", "replace").splitlines() if line.strip()][-lines:]

    def last_log_line(self, name: str) -> str:
        lines = self.logs_tail(name, 3)
        return lines[-1].strip() if lines else ""

    def stream_logs(self, name: str, *, follow: bool, tail: int | None) -> Iterator[str]:
        import docker

        container = self._require(name)
        try:
            stream = container.logs(stream=True, follow=follow, tail="all" if tail is None else tail)
            for chunk in stream:
                yield chunk.decode("utf-8", "replace")
        except docker.errors.APIError as err:
            raise problems.DOCKER_API_FAILED(action=f"read the logs of {name}", detail=err.explanation) from err

    def run_inside(self, name: str, command: list[str]) -> bool:
        """Run a command in the running container (deleting what a check left in Open WebUI's cache);
        False when it could not run or failed — never raises, the caller only reports it."""
        import docker

        try:
            container = self._get(name)
            if container is None:
                return False
            result = container.exec_run(command)
        except (docker.errors.DockerException, OwuiDevError, OSError):
            return False
        return result.exit_code == 0

    def running_containers(self) -> list[ContainerInfo]:
        """Every running container on the engine (read-only: to recognise an Open WebUI someone else started)."""
        import docker

        try:
            # ignore_removed: a container removed between the list and its details is simply not there.
            containers = self.client.containers.list(ignore_removed=True)
        except docker.errors.APIError as err:
            raise problems.DOCKER_API_FAILED(action="list the containers", detail=err.explanation) from err
        return [_info(container) for container in containers]

    # -- volumes --------------------------------------------------------------------------------

    def ensure_volume(self, volume: str) -> bool:
        """Create the data volume (labelled ours) unless it exists; True when created now."""
        import docker

        try:
            self.client.volumes.get(volume)
            return False
        except docker.errors.NotFound:
            pass
        try:
            self.client.volumes.create(volume, labels={LABEL_MANAGED: "true"})
        except docker.errors.APIError as err:
            raise problems.DOCKER_API_FAILED(action=f"create the volume {volume}", detail=err.explanation) from err
        return True

    def has_volume(self, volume: str) -> bool:
        import docker

        try:
            self.client.volumes.get(volume)
        except docker.errors.NotFound:
            return False
        return True

    def remove_volume(self, volume: str) -> bool:
        import docker

        try:
            self.client.volumes.get(volume).remove()
        except docker.errors.NotFound:
            return False
        except docker.errors.APIError as err:
            raise ContainerError(
                f"Docker could not remove the volume {volume}: {err.explanation}",
                hint="A container still uses it; remove that container first (`docker ps -a`).",
            ) from err
        return True

    # -- waiting --------------------------------------------------------------------------------

    def wait_until_ready(
        self,
        name: str,
        probe: Callable[[], bool],
        *,
        timeout: float,
        on_tick: Callable[[float, str], None],
        interval: float = 0.25,
        why: Callable[[], str] = lambda: "it did not answer",
    ) -> float:
        """Poll `probe` until it is true; fail with the log tail if the container exits or time runs out (`why`:
        what the probe saw last, for that message).

        The probe comes first: a warm start answers at once, and every Docker call before it would be time added
        to every `up`. So the container's state is read every STATE_READ_EVERY seconds, not at each quick poll,
        and the log line beside the spinner from the first second on, when there is a wait."""
        started = time.monotonic()
        last_line = ""
        next_log_read = FIRST_LOG_READ
        next_state_read = STATE_READ_EVERY
        while True:
            elapsed = time.monotonic() - started
            if probe():
                return elapsed
            if elapsed >= next_state_read or elapsed > timeout:
                next_state_read = elapsed + STATE_READ_EVERY
                info = self.inspect(name)
                if not info.running:
                    raise problems.EXITED_DURING_START(
                        name=name,
                        exit_code=info.exit_code,
                        oom=", killed for running out of memory" if info.oom_killed else "",
                        details=self.logs_tail(name),
                    )
            if elapsed > timeout:
                raise problems.NOT_READY(timeout=timeout, why=why(), details=self.logs_tail(name))
            if elapsed >= next_log_read:
                last_line = self.last_log_line(name) or last_line
                next_log_read = elapsed + 1.0
            on_tick(elapsed, last_line)
            # Quick polls at first: a warm start answers within a fraction of a second, and each quarter second
            # of polling granularity would be a quarter second added to every warm `up`.
            time.sleep(min(interval, QUICK_POLL) if elapsed < QUICK_POLL_FOR else interval)

    # -- internals ------------------------------------------------------------------------------

    def _get(self, name: str) -> Container | None:
        import docker

        try:
            return self.client.containers.get(name)
        except docker.errors.NotFound:
            return None
        except docker.errors.APIError as err:
            raise problems.DOCKER_API_FAILED(action=f"look up the container {name}", detail=err.explanation) from err

    def _require(self, name: str) -> Container:
        container = self._get(name)
        if container is None:
            raise self._gone(name)
        return container

    @staticmethod
    def _gone(name: str) -> ContainerNotFoundError:
        return ContainerNotFoundError(
            f"The container {name} disappeared (someone removed it while owui-dev was using it).",
            hint="Run `owui-dev up` again to create it anew; the data volume is untouched.",
        )


def gpu_request() -> Any:
    """`--gpus all`: every GPU, through whichever device driver offers the `gpu` capability (NVIDIA's)."""
    import docker

    return docker.types.DeviceRequest(count=-1, capabilities=[["gpu"]])


def name_conflict(name: str) -> OwuiDevError:
    return problems.NAME_TAKEN(name=name)


def _split_tag(ref: str) -> tuple[str, str | None]:
    if "@" in ref:
        repository, digest = ref.split("@", 1)
        return repository, digest
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        repository, tag = ref.rsplit(":", 1)
        return repository, tag
    return ref, "latest"


def _pull_error(ref: str, text: str) -> OwuiDevError:
    lowered = text.lower()
    if "manifest unknown" in lowered or "not found" in lowered:
        problem = problems.PULL_NOT_FOUND
    elif "denied" in lowered or "unauthorized" in lowered:
        problem = problems.PULL_DENIED
    else:
        problem = problems.PULL_FAILED
    return problem(image=ref, detail=text.strip())


def _info(container: Container) -> ContainerInfo:
    attrs: dict[str, Any] = container.attrs
    config = attrs.get("Config") or {}
    state = attrs.get("State") or {}
    labels: dict[str, str] = config.get("Labels") or {}
    host_ip, host_port = _published(attrs)
    mounts = attrs.get("Mounts") or []
    volume = next((m.get("Name") for m in mounts if m.get("Destination") == DATA_PATH), None)
    models_volume = next((m.get("Name") for m in mounts if m.get("Destination") == OLLAMA_MODELS_PATH), None)
    requests = (attrs.get("HostConfig") or {}).get("DeviceRequests") or []
    return ContainerInfo(
        name=str(attrs.get("Name", "")).lstrip("/") or str(container.name),
        id=str(container.id)[:12],
        status=str(state.get("Status", container.status)),
        image=str(config.get("Image", "")),
        managed=labels.get(LABEL_MANAGED) == "true",
        host_ip=host_ip,
        host_port=host_port,
        volume=volume,
        exit_code=state.get("ExitCode"),
        oom_killed=bool(state.get("OOMKilled")),
        started_at=state.get("StartedAt"),
        fingerprint=labels.get(LABEL_CONFIG),
        models_volume=models_volume,
        gpu=any(["gpu"] in (request.get("Capabilities") or []) for request in requests),
        labels=labels,
        environment=dict(item.partition("=")[::2] for item in config.get("Env") or []),
        image_id=str(attrs.get("Image") or ""),
    )


def _published(attrs: dict[str, Any]) -> tuple[str | None, int | None]:
    """The host address the container port is published on: live bindings first, else the configured ones."""
    key = f"{CONTAINER_PORT}/tcp"
    live = ((attrs.get("NetworkSettings") or {}).get("Ports") or {}).get(key)
    configured = ((attrs.get("HostConfig") or {}).get("PortBindings") or {}).get(key)
    for bindings in (live, configured):
        if bindings:
            first = bindings[0]
            port = first.get("HostPort")
            with contextlib.suppress(TypeError, ValueError):
                return first.get("HostIp") or "0.0.0.0", int(port)  # noqa: S104 - reporting, not binding
    return None, None
