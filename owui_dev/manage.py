"""The small commands around `up`: down, status, logs. Each returns data; the CLI renders it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from owui_dev import instance, openwebui
from owui_dev.docker_engine import ContainerInfo, DockerEngine, name_conflict
from owui_dev.errors import OwuiDevError, UsageError
from owui_dev.setting_names import name_option
from owui_dev.state import RunRecord, read_run_record

if TYPE_CHECKING:
    from owui_dev.readiness import CallTarget


@dataclass(frozen=True)
class Status:
    name: str
    exists: bool
    managed: bool = False
    state: str = "absent"
    image: str | None = None
    published: str | None = None
    loopback_only: bool | None = None
    local_url: str | None = None
    healthy: bool | None = None
    volume: str | None = None
    public_url: str | None = None
    up_pid: int | None = None
    exit_code: int | None = None
    admin_email: str | None = None
    admin_password: str | None = None
    # The guest of `up --guest` while its account exists (its password is meant for an audience: always shown).
    guest_email: str | None = None
    guest_password: str | None = None
    # --gpu / --bundled-ollama / --version of the container (its labels), and the bundled Ollama's models volume.
    variant: dict[str, Any] | None = None
    models_volume: str | None = None
    # A running `up --attach NAME` / `up --url URL`: what it serves, which owui-dev did not start (owui_dev.external).
    serves: str | None = None
    attached: str | None = None
    external_url: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def status(name: str, *, show_password: bool = False) -> Status:
    """Read-only: asks Docker and the local port; starts nothing (no ngrok, no pyngrok)."""
    record = read_run_record(name)
    if record is not None and (record.attached or record.external_url):
        return _external_status(name, record)
    engine = DockerEngine.connect()
    try:
        info = engine.find(name)
    finally:
        engine.close()
    if info is None:
        return Status(name=name, exists=False)
    local_url = f"http://127.0.0.1:{info.host_port}" if info.host_port else None
    healthy = None
    if info.running and local_url:
        healthy = openwebui.is_healthy(openwebui.health(local_url, timeout=2.0))
    record = read_run_record(name) if info.managed else None
    secrets = instance.load(info.volume) if info.managed and info.volume else None
    signs_in = secrets is not None and secrets.admin_verified
    return Status(
        name=name,
        exists=True,
        managed=info.managed,
        state=info.status,
        image=info.image,
        published=f"{info.host_ip}:{info.host_port}" if info.host_port else None,
        loopback_only=info.host_ip in {"127.0.0.1", "::1"} if info.host_ip else None,
        local_url=local_url,
        healthy=healthy,
        volume=info.volume,
        public_url=record.public_url if record else None,
        up_pid=record.pid if record else None,
        exit_code=None if info.running else info.exit_code,
        admin_email=secrets.admin_email if secrets and signs_in else None,
        admin_password=secrets.admin_password if secrets and signs_in and show_password else None,
        guest_email=secrets.guest_email if secrets and secrets.guest_id else None,
        guest_password=secrets.guest_password if secrets and secrets.guest_id else None,
        variant=_variant(info),
        models_volume=info.models_volume,
    )


def _variant(info: ContainerInfo) -> dict[str, Any] | None:
    from owui_dev.variants import Variant

    if not info.managed:
        return None
    return (Variant.from_labels(info.labels) or Variant()).as_dict()


def _external_status(name: str, record: RunRecord) -> Status:
    """The `up` for `name` serves an Open WebUI it did not start: that instance, as Docker (for a container) and
    its /health see it. (A URL needs no Docker engine, so none is asked.)"""
    info = None
    if record.attached:
        engine = DockerEngine.connect()
        try:
            info = engine.find(record.attached)
        finally:
            engine.close()
    local_url = record.local_url
    healthy = openwebui.is_healthy(openwebui.health(local_url, timeout=2.0)) if local_url else None
    return Status(
        name=record.attached or name,
        exists=True,
        managed=False,
        state=(info.status if info else "absent") if record.attached else ("running" if healthy else "not answering"),
        image=info.image if info else None,
        published=f"{info.host_ip}:{info.host_port}" if info and info.host_port else None,
        loopback_only=(info.host_ip in {"127.0.0.1", "::1"} if info.host_ip else None) if info else None,
        local_url=local_url,
        healthy=healthy,
        volume=info.volume if info else None,
        public_url=record.public_url,
        up_pid=record.pid,
        serves="attached" if record.attached else "url",  # as the ready line of that `up` says
        attached=record.attached,
        external_url=record.external_url,
    )


@dataclass(frozen=True)
class DownResult:
    name: str
    actions: list[str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def down(
    name: str,
    *,
    remove: bool,
    purge: bool,
    confirm_purge: Callable[[str], bool],
) -> DownResult:
    engine = DockerEngine.connect()
    try:
        return _down(engine, name, remove=remove, purge=purge, confirm_purge=confirm_purge)
    finally:
        engine.close()


def _down(
    engine: DockerEngine, name: str, *, remove: bool, purge: bool, confirm_purge: Callable[[str], bool]
) -> DownResult:
    info = engine.find(name)
    actions: list[str] = []
    record = read_run_record(name)
    if record is not None and (record.attached or record.external_url):
        # Never stopped by owui-dev; the `up` serving it ends its tunnel on Ctrl+C.
        what = f"the container {record.attached}" if record.attached else f"the Open WebUI at {record.external_url}"
        actions.append(
            f"left {what} running: owui-dev did not start it, so it never stops it (the `up` in pid {record.pid} "
            "still tunnels it: Ctrl+C there ends the tunnel)"
        )
        if info is None:
            return DownResult(name, actions)
    if record is None:
        # No `up` holds this name, so any agent with its config is a leftover of a killed run.
        from owui_dev.tunnel import end_leftover_agents

        actions += [f"ended a leftover ngrok agent (pid {pid})" for pid in end_leftover_agents(name)]
        from owui_dev.ssh_forward import end_leftover_forwards

        actions += [f"ended a leftover SSH forward (pid {pid})" for pid in end_leftover_forwards(name)]
    if info is None:
        return DownResult(name, actions or [f"nothing to do: there is no container named {name}"])
    if not info.managed:
        raise name_conflict(name)
    volume = info.volume
    if purge and volume and not confirm_purge(volume):
        raise UsageError(
            f"Not purging: removing the volume {volume} deletes all Open WebUI data (accounts, chats).",
            hint="Confirm at the prompt, or pass --yes.",
        )
    if volume:
        actions += _leftover_guest(info, volume)
    actions.append(f"stopped the container {name}" if engine.stop(name) else f"{name} was not running")
    if remove or purge:
        engine.remove(name)
        actions.append(f"removed the container {name}")
    if info.models_volume and not purge:
        actions.append(f"kept the models volume {info.models_volume}")
    elif info.models_volume and engine.remove_volume(info.models_volume):
        actions.append(f"removed the volume {info.models_volume} (the bundled Ollama's models)")
    if purge and volume:
        if engine.remove_volume(volume):
            actions.append(f"removed the volume {volume} (all Open WebUI data)")
        if instance.forget(volume):
            actions.append(f"forgot the sign-in and secret key kept for {volume}")
    elif volume:
        actions.append(f"kept the data volume {volume}")
    return DownResult(name, actions)


def _leftover_guest(info: ContainerInfo, volume: str) -> list[str]:
    """A guest that a killed `up --guest` left behind is removed (with its chats) while Open WebUI still runs;
    one kept on purpose (--keep-guest) stays. An `up` still running for this name removes its own."""
    from owui_dev import guest

    secrets = instance.load(volume)
    if secrets is None or not secrets.guest_id:
        return []
    if secrets.guest_kept:
        return [f"kept the guest account {secrets.guest_email} (kept on purpose with --keep-guest)"]
    if read_run_record(info.name) is not None:
        return []
    if not (info.running and info.host_port):
        return [
            f"the guest account {secrets.guest_email} left by an earlier run stays: removing it needs Open WebUI "
            "running (the next `owui-dev up` removes it)"
        ]
    return guest.remove_guest(f"http://127.0.0.1:{info.host_port}", volume)


def logs(name: str, *, follow: bool, tail: int | None) -> Iterator[str]:
    engine = DockerEngine.connect()
    try:
        info: ContainerInfo = engine.require_managed(name)
        yield from engine.stream_logs(info.name, follow=follow, tail=tail)
    finally:
        engine.close()


# -- qr and check: what a running `up` published -----------------------------------------------------


def running_session(name: str) -> RunRecord:
    """The record of the `up` that runs for `name`; NotRunningError when none does."""
    from owui_dev import problems

    record = read_run_record(name)
    if record is None or not record.public_url or not record.local_url:
        raise problems.NOT_RUNNING(name=name, name_option=name_option(name))
    return record


def call_target(name: str) -> CallTarget:
    """Everything the call-path checks need, from the running `up`, Docker's labels and the kept sign-in."""
    from owui_dev.ollama import OllamaSource
    from owui_dev.readiness import CallTarget

    record = running_session(name)
    assert record.public_url is not None  # running_session checked both
    assert record.local_url is not None
    if record.attached or record.external_url:
        # An instance owui-dev did not start: no sign-in of its own kept (the checks that need one say so).
        return CallTarget(
            public_url=record.public_url,
            local_url=record.local_url,
            gated=record.gated,
            environment=_attached_environment(record.attached),
            model_source=OllamaSource.from_dict(record.model_source),
        )
    engine = DockerEngine.connect()
    try:
        info = engine.require_managed(name)
    finally:
        engine.close()
    secrets = instance.load(info.volume) if info.volume else None
    signs_in = secrets is not None and secrets.admin_verified
    return CallTarget(
        public_url=record.public_url,
        local_url=record.local_url,
        admin_email=secrets.admin_email if secrets and signs_in else None,
        admin_password=secrets.admin_password if secrets and signs_in else None,
        gated=record.gated,
        environment=info.environment,
        model_source=OllamaSource.from_dict(record.model_source),
    )


def _attached_environment(name: str | None) -> dict[str, str]:
    if name is None:
        return {}
    engine = DockerEngine.connect()
    try:
        info = engine.find(name)
    finally:
        engine.close()
    return info.environment if info is not None else {}


def forget_transcription(name: str) -> Callable[[str], bool]:
    """Deletes, inside the container, the clip and transcript one transcription left in Open WebUI's cache."""

    def forget(filename: str) -> bool:
        try:
            engine = DockerEngine.connect()
        except OwuiDevError:
            return False
        try:
            return remove_transcription(engine, name, filename)
        finally:
            engine.close()

    return forget


def remove_transcription(engine: DockerEngine, name: str, filename: str) -> bool:
    command = openwebui.forget_transcription_command(filename)
    return command is not None and engine.run_inside(name, command)
