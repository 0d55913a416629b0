"""One `owui-dev up` session, start to end, as one readable flow over the adapters.

Every step that starts something registers its undo on an ExitStack, so each way out — success,
an error, Ctrl+C or SIGTERM at any moment — undoes exactly what this run started, in reverse order,
and nothing that was there before. The data volume always stays.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, replace
from types import FrameType

from owui_dev import openwebui, problems
from owui_dev.config import PullPolicy, Secret, UpSettings, authtoken_from
from owui_dev.console import Announcement, Reporter
from owui_dev.docker_engine import ContainerInfo, ContainerSpec, DockerEngine
from owui_dev.errors import Interrupted, OwuiDevError, PortInUseError
from owui_dev.net import HttpAnswer, find_free_port, port_is_free, ssl_context
from owui_dev.problems import AUTHTOKEN_URL
from owui_dev.security import (
    container_environment,
    instance_secrets,
    refuse_unsafe_environment,
    secure_instance,
)
from owui_dev.state import RunLock, RunRecord
from owui_dev.tunnel import NgrokBinary, NgrokTunnel, find_authtoken, resolve_binary, traffic_policy

VERIFY_TIMEOUT = 30.0
WATCH_INTERVAL = 1.0


@dataclass
class Teardown:
    """Undo steps on the run's ExitStack, and what they did, to tell the user.

    A second Ctrl+C during teardown forces a quick exit: the step it interrupts and the slow ones after
    it are skipped — except ending the ngrok agent, which is quick and must never be left behind.
    """

    actions: list[str]
    forced: bool = False

    def add(self, text: str) -> None:
        self.actions.append(text)

    def undo(self, stack: ExitStack, step: Callable[[], list[str]], *, essential: bool = False) -> None:
        def run() -> None:
            if self.forced and not essential:
                return
            try:
                self.actions.extend(step())
            except (KeyboardInterrupt, Interrupted):
                if not self.forced:
                    self.forced = True
                    self.add("second interrupt: exiting without waiting for the rest of the clean-up")
                if essential:
                    self.actions.extend(step())

        stack.callback(run)


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl+C, so `kill` and `docker stop`-style shutdowns also clean up."""

    def raise_interrupted(signum: int, frame: FrameType | None) -> None:
        raise Interrupted(signal.Signals(signum).name)

    previous = signal.signal(signal.SIGTERM, raise_interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_up(settings: UpSettings, reporter: Reporter) -> None:
    teardown = Teardown([])
    announced = False
    try:
        with sigterm_as_interrupt(), ExitStack() as stack:
            lock = stack.enter_context(RunLock.acquire(settings.name))

            # preflight: everything that can be checked before any side effect
            engine = DockerEngine.connect()
            stack.callback(engine.close)
            reporter.step(f"Docker {engine.info.server_version} ({engine.info.context})")
            if not engine.info.is_local:
                reporter.warn(
                    f"The Docker engine at {engine.info.endpoint} looks remote: Open WebUI's port is published on "
                    "that host's 127.0.0.1, which the tunnel on this machine cannot reach."
                )
            binary = resolve_binary(settings.ngrok_path, settings.ngrok_path_source)
            authtoken = _authtoken(settings, reporter)
            existing = _existing_container(engine, settings.name)
            refuse_unsafe_environment(dict(settings.environment), settings)
            if existing is not None and existing.running:
                refuse_unsafe_environment(existing.environment, settings, reused=True)
            port = _choose_port(settings, existing, reporter)
            secrets = instance_secrets(settings)

            _ensure_ngrok_binary(binary, reporter)
            _ensure_image(engine, settings, reporter, reuse=existing is not None and existing.running)

            container = _start_container(
                engine, settings, existing, port, container_environment(settings, secrets), stack, teardown, reporter
            )
            local_url = f"http://127.0.0.1:{container.host_port}"
            _wait_ready(engine, settings, local_url, reporter)
            access = secure_instance(local_url, secrets, settings, reporter)

            tunnel = NgrokTunnel(
                binary,
                authtoken,
                run_name=settings.name,
                region=settings.region,
                domain=settings.domain,
                policy=traffic_policy(
                    oauth=settings.oauth, oauth_allow=settings.oauth_allow, cidrs=settings.allow_cidr
                ),
            )
            teardown.undo(stack, tunnel.close, essential=True)
            with reporter.activity("Opening the ngrok HTTPS tunnel…"):
                info = tunnel.open(container.host_port or port)
            reporter.step(f"ngrok tunnel open: {info.public_url}")
            _verify(info.public_url, reporter, gated=settings.gated)

            qr_png = _save_qr(settings, info.public_url)
            announcement = Announcement(
                public_url=info.public_url,
                local_url=local_url,
                container_name=settings.name,
                image=container.image,
                volume=container.volume or settings.volume,
                inspector_url=info.api_url,
                qr_style=settings.qr_style.value,
                qr_png=qr_png,
                notes=access.notes(),
                extra={"agent_pid": info.agent_pid, "host_port": container.host_port, **access.as_json()},
            )
            reporter.announce(announcement)
            announced = True
            lock.publish(RunRecord(pid=os.getpid(), public_url=info.public_url, local_url=local_url))
            _watch(engine, settings, tunnel, reporter, announcement, lock)
    except (KeyboardInterrupt, Interrupted):
        _finish(reporter, teardown, settings)
        if not announced:
            raise Interrupted("SIGINT") from None
        return
    except BaseException:
        _finish(reporter, teardown, settings, failed=True)
        raise
    _finish(reporter, teardown, settings)


def _finish(reporter: Reporter, teardown: Teardown, settings: UpSettings, *, failed: bool = False) -> None:
    if not teardown.actions and failed:
        return
    actions = [*teardown.actions]
    if teardown.actions:
        actions.append(f"kept the data volume {settings.volume}")
    reporter.stopped(actions)


def _authtoken(settings: UpSettings, reporter: Reporter) -> Secret:
    token = find_authtoken(settings.authtoken)
    if token is not None:
        reporter.step(f"ngrok authtoken (from {token.source})")
        return token
    from owui_dev.tunnel import save_authtoken

    typed = reporter.ask_secret(f"ngrok needs your account's authtoken (free account; copy it from {AUTHTOKEN_URL}).")
    if not typed or not typed.strip():
        raise problems.NO_AUTHTOKEN()
    token = authtoken_from(typed, "what you typed")  # refused before it is saved
    path = save_authtoken(token.value)
    reporter.step(f"ngrok authtoken saved to {path}")
    return Secret(token.value, str(path))


def _existing_container(engine: DockerEngine, name: str) -> ContainerInfo | None:
    from owui_dev.docker_engine import name_conflict

    existing = engine.find(name)
    if existing is not None and not existing.managed:
        raise name_conflict(name)
    return existing


def _choose_port(settings: UpSettings, existing: ContainerInfo | None, reporter: Reporter) -> int:
    if existing is not None and existing.running and existing.host_port:
        if settings.port_explicit and settings.port != existing.host_port:
            reporter.warn(
                f"{settings.name} already runs on port {existing.host_port}; --port {settings.port} is ignored "
                "(`owui-dev down` first to change it)."
            )
        return existing.host_port
    if port_is_free(settings.port):
        reporter.step(f"Port {settings.port} free")
        return settings.port
    if settings.port_explicit:
        raise problems.PORT_BUSY(port=settings.port)
    free = find_free_port(settings.port)
    if free is None:
        raise PortInUseError("No free local port was found for Open WebUI.", hint="Pass one with --port.")
    reporter.warn(f"Port {settings.port} is busy; using {free} instead.")
    return free


def _ensure_ngrok_binary(binary: NgrokBinary, reporter: Reporter) -> None:
    if not binary.needs_install:
        return
    from owui_dev.tunnel import install_managed_binary

    with reporter.activity("Downloading the ngrok agent (first run only)…"):
        install_managed_binary(binary)
    reporter.step(f"ngrok agent installed at {binary.path}")


def _ensure_image(engine: DockerEngine, settings: UpSettings, reporter: Reporter, *, reuse: bool) -> None:
    if reuse:
        return
    present = engine.has_image(settings.image)
    if settings.pull is PullPolicy.NEVER and not present:
        raise problems.IMAGE_ABSENT_PULL_NEVER(image=settings.image)
    if settings.pull is PullPolicy.ALWAYS or not present:
        with reporter.pull(settings.image) as on_progress:
            engine.pull(settings.image, on_progress)
    else:
        reporter.step(f"Image {settings.image} present")


def _start_container(
    engine: DockerEngine,
    settings: UpSettings,
    existing: ContainerInfo | None,
    port: int,
    environment: tuple[tuple[str, str], ...],
    stack: ExitStack,
    teardown: Teardown,
    reporter: Reporter,
) -> ContainerInfo:
    if existing is not None and existing.running:
        reporter.step(f"Container {settings.name} already running; using it (it keeps running after this run)")
        return existing
    spec = ContainerSpec(settings.name, settings.image, port, settings.volume, environment)
    if existing is not None and existing.fingerprint != spec.fingerprint():
        engine.remove(settings.name)
        reporter.note(
            f"Settings changed since {settings.name} was created: re-creating it (data stays in "
            f"volume {settings.volume})."
        )
        existing = None
    if existing is None:
        engine.create(spec)

    def stop() -> list[str]:
        return [f"stopped the container {settings.name}"] if engine.stop(settings.name) else []

    if settings.keep:
        stack.callback(teardown.add, f"left the container {settings.name} running (--keep)")
    else:
        teardown.undo(stack, stop)
    info = engine.start(settings.name, host_port=port)
    reporter.step(f"Container {settings.name} started ({settings.image}, port {info.host_port} on 127.0.0.1)")
    return info


def _wait_ready(engine: DockerEngine, settings: UpSettings, local_url: str, reporter: Reporter) -> None:
    def probe() -> bool:
        return openwebui.is_healthy(openwebui.health(local_url, timeout=1.0))

    with reporter.waiting("Starting Open WebUI…") as on_tick:
        elapsed = engine.wait_until_ready(settings.name, probe, timeout=settings.timeout, on_tick=on_tick)
    reporter.step(f"Open WebUI is ready on {local_url} ({elapsed:.1f} s)")


def _verify(public_url: str, reporter: Reporter, *, gated: bool = False, timeout: float = VERIFY_TIMEOUT) -> None:
    """The URL is announced only once it answers over verified HTTPS: Open WebUI itself, or (with a gate
    in front) the gate — ngrok's OAuth redirect, or its IP-restriction refusal of this machine."""
    context = ssl_context()
    deadline = time.monotonic() + timeout
    with reporter.activity("Checking Open WebUI through the tunnel…"):
        while True:
            answer = openwebui.health(public_url, timeout=5.0, context=context)
            if openwebui.is_healthy(answer):
                reporter.step("HTTPS tunnel verified (Open WebUI answers through it)")
                return
            if gated and _gate_answer(answer):
                reporter.step(f"HTTPS tunnel verified (the gate answers: {_gate_answer(answer)})")
                return
            untrusted = "certificate verify failed" in (answer.error or "").lower()  # retrying cannot help
            if untrusted or "ERR_NGROK_725" in answer.body or time.monotonic() > deadline:
                raise _verify_failure(public_url, answer.error or f"HTTP {answer.status}", answer.body)
            time.sleep(0.5)


def _gate_answer(answer: HttpAnswer) -> str | None:
    if answer.status in {301, 302, 303, 307} and answer.location and "ngrok" in answer.location:
        return "redirect to sign-in"
    if answer.status == 403 and "ERR_NGROK_3205" in answer.body:
        return "this machine's address is not on the allow-list"
    return None


def _verify_failure(public_url: str, why: str, body: str) -> OwuiDevError:
    if "ERR_NGROK_725" in body:
        return problems.VERIFY_USAGE_LIMIT()
    if "CERTIFICATE_VERIFY_FAILED" in why or "certificate verify failed" in why:
        problem = problems.VERIFY_CERT
    elif "ERR_NGROK_8012" in body:
        problem = problems.VERIFY_NO_UPSTREAM
    else:
        problem = problems.VERIFY_FAILED
    return problem(url=public_url, why=why)


def _save_qr(settings: UpSettings, public_url: str) -> str | None:
    if settings.qr_png is None:
        return None
    from owui_dev.qr import save_png

    return str(save_png(public_url, settings.qr_png))


MAX_RESTARTS = 5


def _watch(
    engine: DockerEngine,
    settings: UpSettings,
    tunnel: NgrokTunnel,
    reporter: Reporter,
    announcement: Announcement,
    lock: RunLock,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Stay in the foreground until Ctrl+C / SIGTERM, keeping an eye on both halves.

    The container dying ends the run with its logs (or restarts it with --restart); a tunnel that drops
    is reported, and once ngrok reconnects it is verified again and a changed URL is announced anew.
    """
    restarts = 0
    down_since: float | None = None
    tunnel.session_events()  # what the agent said while starting is not news
    while True:
        sleep(WATCH_INTERVAL)
        info = engine.inspect(settings.name)
        if not info.running:
            logs = engine.logs_tail(settings.name)
            what = f"exit code {info.exit_code}" + (", out of memory" if info.oom_killed else "")
            if not settings.restart or restarts >= MAX_RESTARTS:
                raise problems.DIED_WHILE_SERVING(
                    name=settings.name,
                    what=what,
                    details=logs,
                )
            restarts += 1
            reporter.warn(f"The container {settings.name} stopped ({what}); restarting it ({restarts}/{MAX_RESTARTS}).")
            reporter.event("container_restart", exit_code=info.exit_code, restarts=restarts)
            engine.start(settings.name, host_port=info.host_port)
            _wait_ready(engine, settings, announcement.local_url, reporter)
        if not tunnel.agent_alive():
            raise problems.AGENT_DIED()
        for event in tunnel.session_events():
            if event == "down" and down_since is None:
                down_since = time.monotonic()
                reporter.warn("The tunnel dropped (network or ngrok); the agent is reconnecting…")
                reporter.event("tunnel_down")
            elif event == "up" and down_since is not None:
                outage = time.monotonic() - down_since
                down_since = None
                url = tunnel.refresh_url()
                _verify(url, reporter, gated=settings.gated)
                changed = url != announcement.public_url
                reporter.event("tunnel_up", public_url=url, changed=changed, outage_seconds=round(outage, 1))
                if changed:
                    reporter.warn(f"The tunnel came back on a new URL after {outage:.0f} s: scan the new code.")
                    announcement = replace(announcement, public_url=url)
                    reporter.announce(announcement, again=True)
                    lock.publish(RunRecord(pid=os.getpid(), public_url=url, local_url=announcement.local_url))
                else:
                    reporter.step(f"The tunnel is back after {outage:.0f} s (same URL)")
