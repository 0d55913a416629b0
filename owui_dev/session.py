"""One `owui-dev up` session, start to end, as one readable flow over the adapters.

Every step that starts something registers its undo on an ExitStack, so each way out — success,
an error, Ctrl+C or SIGTERM at any moment — undoes exactly what this run started, in reverse order,
and nothing that was there before. The data volume always stays.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from types import FrameType
from typing import TYPE_CHECKING, Any

from owui_dev import instance, openwebui, problems
from owui_dev.background import in_background
from owui_dev.config import Secret, UpSettings, authtoken_from
from owui_dev.console import Announcement, Reporter
from owui_dev.docker_engine import ContainerInfo, ContainerSpec, DockerEngine
from owui_dev.errors import GpuUnavailableError, Interrupted, OwuiDevError, PortInUseError
from owui_dev.external import Kind, Served, Watch, lan_warning, offer_attach
from owui_dev.external import provide as provide_external
from owui_dev.instance import InstanceSecrets
from owui_dev.net import HttpAnswer, find_free_port, port_is_free, ssl_context, untrusted_certificate
from owui_dev.ollama import OllamaSource
from owui_dev.problems import AUTHTOKEN_URL
from owui_dev.security import (
    Access,
    container_environment,
    instance_secrets,
    refuse_unsafe_environment,
    secure_instance,
)
from owui_dev.setting_names import PullPolicy, QrStyle
from owui_dev.startup import start_up_over
from owui_dev.state import RunLock, RunRecord
from owui_dev.tunnel import (
    NgrokBinary,
    NgrokTunnel,
    end_agents_of_killed_run,
    find_authtoken,
    resolve_binary,
    traffic_policy,
)

if TYPE_CHECKING:
    from owui_dev.checks import Check
    from owui_dev.console import HumanReporter
    from owui_dev.guest import Guest
    from owui_dev.openwebui import PublicConfig
    from owui_dev.readiness import CallReport, CallTarget
    from owui_dev.ssh_forward import SshForward
    from owui_dev.variants import Variant


VERIFY_TIMEOUT = 30.0
READY_PROBE_TIMEOUT = 2.0  # s for one readiness request: a stalled one must not hold up the wait's own clock
WATCH_INTERVAL = 1.0


@dataclass
class Teardown:
    """Undo steps on the run's ExitStack, and what they did, to tell the user.

    A second Ctrl+C during teardown forces a quick exit: the step it interrupts and the slow ones after
    it are skipped — except ending the ngrok agent, which is quick and must never be left behind.
    An `early` step needs nothing else undone before it (ending the agent): it starts in the background as
    soon as the teardown begins, while the others run in order, and `join` (registered right after the run
    lock, so it runs before the lock is released) waits for it. Its lines come first, so what the user is
    told keeps one order whatever finishes first.
    """

    actions: list[str]
    forced: bool = False
    early: list[_Background] = field(default_factory=list)

    def add(self, text: str) -> None:
        self._begin_early()
        self.actions.append(text)

    def undo(
        self, stack: ExitStack, step: Callable[[], list[str]], *, essential: bool = False, early: bool = False
    ) -> None:
        if early:
            self.early.append(_Background(step, essential=essential))
            stack.callback(self._begin_early)
            return

        def run() -> None:
            self._begin_early()
            if self.forced and not essential:
                return
            try:
                self.actions.extend(step())
            except (KeyboardInterrupt, Interrupted):
                self._interrupted()
                if essential:
                    self.actions.extend(step())

        stack.callback(run)

    def join(self) -> None:
        """Wait for the early steps; interrupted again, an essential one is done once more right here."""
        self._begin_early()
        lines: list[str] = []
        for job in self.early:
            try:
                lines.extend(job.result())
            except (KeyboardInterrupt, Interrupted):
                self._interrupted()
                if not job.essential:
                    continue
                lines.extend(job.step())
        self.actions[:0] = lines

    def _begin_early(self) -> None:
        for job in self.early:
            job.begin()

    def _interrupted(self) -> None:
        if not self.forced:
            self.forced = True
            self.add("second interrupt: exiting without waiting for the rest of the clean-up")


class _Background:
    """One early undo step in a thread of its own; `result` hands back its lines or raises its error."""

    def __init__(self, step: Callable[[], list[str]], *, essential: bool) -> None:
        self.step = step
        self.essential = essential
        self._thread: threading.Thread | None = None
        self._lines: list[str] = []
        self._error: BaseException | None = None

    def begin(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="owui-dev-undo", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        try:
            self._lines = self.step()
        except BaseException as err:  # noqa: BLE001 - raised again in the main thread by `result`
            self._error = err

    def result(self) -> list[str]:
        self.begin()
        assert self._thread is not None
        while self._thread.is_alive():
            self._thread.join(0.1)  # in slices: a Ctrl+C reaches the main thread at once
        if self._error is not None:
            raise self._error
        return self._lines


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
            stack.callback(teardown.join)  # the early undo steps (the agent) end before the lock is let go

            # preflight: everything that can be checked before any side effect, what needs no engine first
            secrets: InstanceSecrets | None = None
            if not settings.external:
                refuse_unsafe_environment(dict(settings.environment), settings)
                secrets = instance_secrets(settings)
            binary = resolve_binary(settings.ngrok_path, settings.ngrok_path_source)
            known_token = find_authtoken(settings.authtoken)  # None: asked for, once the engine answers
            agent: _Agent | None = None
            if known_token is not None and not binary.needs_install:
                # Nothing to ask for or download: the agent and its session (no tunnel, nothing public) come up
                # from now on, while the engine is checked. A refusal there ends it, unmentioned (`_Agent`).
                agent = _Agent(settings, binary, known_token, stack, teardown, reporter)
                agent.warm_up()

            engine: DockerEngine | None = None
            if settings.url is None:  # an Open WebUI at a URL needs no Docker engine (owui_dev.external)
                engine = DockerEngine.connect()
                stack.callback(engine.close)
                reporter.step(f"Docker {engine.info.server_version} ({engine.info.context})")
                if not engine.info.is_local and not engine.info.over_ssh:
                    reporter.warn(
                        f"The Docker engine at {engine.info.endpoint} looks remote: Open WebUI's port is published on "
                        "that host's 127.0.0.1, which the tunnel on this machine cannot reach (an ssh:// engine is "
                        "reached through an SSH forward)."
                    )
                if settings.variant.gpu and not settings.external:
                    _gpu_preflight(engine, reporter)
            start_up_over()  # docker-py and pyngrok are in: the collector is back (owui_dev.startup)
            authtoken = _authtoken(known_token, reporter)
            agent = agent or _Agent(settings, binary, authtoken, stack, teardown, reporter)
            tunnel = agent.tunnel

            if settings.external:

                def bring_here(remote_port: int) -> SshForward | None:
                    assert engine is not None  # (only --attach, on an engine, has a port to bring here)
                    return _forward(engine, settings, remote_port, stack, teardown, reporter)

                served = provide_external(engine, settings, reporter, bring_here)
                stack.callback(teardown.add, f"left {served.label} running (owui-dev did not start it)")
                _ensure_ngrok_binary(binary, reporter)
                agent.start()
            else:
                assert engine is not None
                assert secrets is not None
                served = _provide_own(engine, settings, secrets, binary, stack, teardown, reporter, agent)
            agent.wait()
            with reporter.activity("Opening the ngrok HTTPS tunnel…"):
                info = tunnel.open(served.port)
            reporter.step(f"ngrok tunnel open: {info.public_url}")
            _verify(info.public_url, reporter, gated=settings.gated)
            local_url, model_source = served.local_url, served.model_source
            reporter.event("url", public_url=info.public_url, local_url=local_url)
            head = Announcement(
                public_url=info.public_url,
                local_url=local_url,
                container_name=served.label,
                image=served.image,
                volume=served.volume,
                inspector_url=info.api_url,
                qr_style=_qr_style(settings),
                present=settings.present,
                call=settings.call,
                phone_notes=phone_notes(settings),
                extra={
                    "agent_pid": info.agent_pid,
                    "host_port": served.container.host_port if served.container else served.port,
                    "ssh_forward": served.forward.as_json() if served.forward is not None else None,
                    "ollama": model_source.as_dict(),
                    **(_variant_facts(served.container) if served.container and not served.external else {}),
                    **({"serves": served.kind.value, "lan_url": served.lan_url} if served.external else {}),
                },
            )
            if served.external:
                stop_hint = f"Press Ctrl+C to stop the tunnel ({served.label} keeps running: not started by owui-dev)."
                head = replace(head, stop_hint=stop_hint)
            if served.lan_url:
                reporter.warn(lan_warning(served))
            wait = _keys(reporter, stack)  # from here on, keys answer (on a terminal)
            head_shown = not settings.call
            if head_shown:
                head = replace(head, qr_png=_save_qr(settings, head.qr_url), keys=wait is not None)
                announced = True  # the URL is out: from here on, Ctrl+C is the normal way to stop
                reporter.announce_head(head)
            # The admin's sign-in went on while the tunnel opened (a password hash on the real image: often longer
            # than the tunnel took). It decides nothing about who can get in, so the URL did not wait for it; what
            # it tells, the sign-in to show, follows the QR code.
            served = served.settled()
            guest = served.guest
            access = replace(served.access, present=settings.present)

            from owui_dev.readiness import CallTarget

            target = CallTarget(
                public_url=info.public_url,
                local_url=local_url,
                admin_email=access.admin_email,
                admin_password=access.admin_password,
                admin_token=access.admin_token,
                gated=settings.gated,
                environment=served.environment,
                model_source=model_source,
            )
            # The call-path checks run in the background while the sign-in is shown and the phone scans. Only --call
            # waits for them before its QR code: that code opens a call with a model they find.
            checks = in_background(lambda: _call_checks(target, guest), name="owui-dev-call-checks")
            head = replace(head, notes=access.notes(), extra={**head.extra, **access.as_json()})
            if head_shown:
                reporter.announce_access(head)
            with reporter.activity("Checking the call path (realtime channel, model, speech)…"):
                call = checks()
            model = _call_model(settings, call.models, reporter)
            steps = phone_steps(settings, model, access)
            announcement = replace(head, checks=call.checks, model=model, phone_steps=steps)
            if not head_shown:
                qr_png = _save_qr(settings, announcement.qr_url)
                announcement = replace(announcement, qr_png=qr_png, keys=wait is not None)
            announced = True
            reporter.announce(announcement, head_shown=head_shown)
            lock.publish(_record(announcement, settings, model_source))
            if settings.open_browser:
                _open_in_browser(announcement.qr_url, reporter)
            if settings.check_voice:
                assert engine is not None  # (refused for an instance owui-dev did not start)
                _check_voice(engine, settings.name, target, call.stt, reporter, guest)
            outside = Watch(engine, served).check if served.external else None
            _watch(
                engine,
                settings,
                tunnel,
                reporter,
                announcement,
                lock,
                model_source,
                wait=wait,
                outside=outside,
                forward=served.forward,
            )
    except (KeyboardInterrupt, Interrupted):
        _finish(reporter, teardown, settings)
        if not announced:
            raise Interrupted("SIGINT") from None
        return
    except BaseException:
        _finish(reporter, teardown, settings, failed=True)
        raise
    _finish(reporter, teardown, settings)


def _call_checks(target: CallTarget, guest: Guest | None) -> CallReport:
    from owui_dev.readiness import run_call_checks

    call = run_call_checks(target)
    if guest is not None:
        call = replace(call, checks=[*call.checks, _guest_check(target, guest, call.models)])
    return call


def _provide_own(
    engine: DockerEngine,
    settings: UpSettings,
    secrets: InstanceSecrets,
    binary: NgrokBinary,
    stack: ExitStack,
    teardown: Teardown,
    reporter: Reporter,
    agent: _Agent,
) -> Served:
    """owui-dev's own instance: its container made or reused, started, ready and secured, each start's undo on
    the stack. (An Open WebUI someone else started comes from owui_dev.external instead.)

    The ngrok agent joins the run once nothing can be refused any more (it was mostly warmed up long before), so
    that its session comes up while the image is checked and Open WebUI starts; its failure is raised at the
    next poll."""
    existing = _existing_container(engine, settings.name)
    offer_attach(engine, settings, reporter)
    if settings.present and not settings.guest:
        reporter.warn(
            "--present without --guest: the admin's password is not shown, so the room will have no way "
            "in. Add --guest for a shared guest account."
        )
    if existing is not None and existing.running:
        refuse_unsafe_environment(existing.environment, settings, reused=True)
    port = _choose_port(settings, existing, reporter)
    new_volume = not engine.has_volume(settings.volume)
    if new_volume and secrets.release_notes_seen:
        secrets = replace(secrets, release_notes_seen=None)  # a volume made anew: its admin has seen nothing yet
        instance.save(secrets)
    model_source, model_env = _model_source(engine, settings, reporter, new_volume=new_volume)

    _ensure_ngrok_binary(binary, reporter)
    agent.start()
    image_id = _ensure_image(engine, settings, reporter, existing=existing)

    environment = tuple(sorted((model_env | dict(container_environment(settings, secrets))).items()))
    _prepare_imports(qr=not settings.json)  # while the engine starts the container: this process only waits there
    container = _start_container(
        engine,
        settings,
        existing,
        port,
        environment,
        stack,
        teardown,
        reporter,
        image_id=image_id,
        automatic=frozenset(model_env),
    )
    forward = _forward(engine, settings, container.host_port or port, stack, teardown, reporter)
    local_port = forward.local_port if forward is not None else container.host_port or port
    local_url = f"http://127.0.0.1:{local_port}"
    agent.check()
    config = _wait_ready(engine, settings, local_url, reporter, also=agent.check)
    signed_in = secure_instance(local_url, config, secrets, settings, reporter, new_volume=new_volume)
    served = Served(
        kind=Kind.OWN,
        local_url=local_url,
        port=local_port,
        access=Access(accounts=True),  # until the admin's sign-in, which goes on while the tunnel opens
        model_source=model_source,
        image=container.image,
        volume=container.volume or settings.volume,
        label=settings.name,
        environment=container.environment,
        container=container,
        forward=forward,
    )

    def finish() -> Served:
        access = signed_in()
        guest = _guest(settings, local_url, container, access, stack, teardown, reporter)
        if guest is not None:
            access = replace(access, guest_email=guest.email, guest_password=guest.password)
        return replace(served, access=access, guest=guest, finishing=None)

    if settings.guest or _guest_left_behind(settings):
        # A guest is made, or one an earlier run left is removed, before any tunnel: the room may know its password.
        return finish()
    return replace(served, finishing=finish)


def _guest_left_behind(settings: UpSettings) -> bool:
    from owui_dev import guest as guests

    return guests.leftover(settings.volume) is not None


def _guest(
    settings: UpSettings,
    local_url: str,
    container: ContainerInfo,
    access: Access,
    stack: ExitStack,
    teardown: Teardown,
    reporter: Reporter,
) -> Guest | None:
    """--guest: the shared guest account, with its removal (or --keep-guest) registered before it exists, so
    that any way out finds it. Without --guest, a guest that a killed run left behind is removed now."""
    from owui_dev import guest as guests

    if not settings.guest:
        left = guests.leftover(settings.volume)
        if left is not None and access.admin_email:
            for action in guests.remove_guest(local_url, settings.volume, admin_token=access.admin_token):
                reporter.step(f"{action[0].upper()}{action[1:]} (left by an earlier run)")
        return None
    if not access.accounts:
        raise problems.GUEST_NEEDS_ADMIN(why="authentication is off (--allow-no-auth): every visitor is admin")
    if settings.keep_guest:
        teardown.undo(stack, lambda: guests.keep_guest(settings.volume))
    else:
        teardown.undo(stack, lambda: guests.remove_guest(local_url, settings.volume, admin_token=access.admin_token))
    made = guests.ensure_guest(local_url, settings.volume, settings.guest_email, admin_token=access.admin_token)
    how = "signs in (kept from an earlier run)" if made.reused else "created"
    reporter.step(f"Guest account {made.email} {how} (role user)")
    if not openwebui.bypasses_model_access(dict(container.environment)):
        reporter.warn(
            f"The running container {settings.name} was made without --guest, so the guest sees no model: "
            "`owui-dev down`, then `owui-dev up --guest` (the data stays)."
        )
    return made


def _variant_of(container: ContainerInfo) -> Variant:
    """What the container really runs (its labels): a running container is used as it is, whatever was asked."""
    from owui_dev.variants import Variant

    return Variant.from_labels(container.labels) or Variant()


def _variant_facts(container: ContainerInfo) -> dict[str, Any]:
    return {"variant": _variant_of(container).as_dict(), "models_volume": container.models_volume}


def _gpu_preflight(engine: DockerEngine, reporter: Reporter) -> None:
    """--gpu: refused before anything starts where the engine tells that it has no GPU; else the start tells."""
    from owui_dev.variants import GpuSupport

    answer = engine.gpu_support()
    if answer.support is GpuSupport.NO:
        raise problems.GPU_IMPOSSIBLE(why=answer.how)
    if answer.support is GpuSupport.YES:
        reporter.step(f"GPU: {answer.how}")
    else:
        reporter.note(f"GPU: {answer.how}")


def _qr_style(settings: UpSettings) -> str:
    """--present: full blocks (a projected code is scanned from afar), unless --qr/--no-qr said otherwise."""
    if settings.present and settings.qr_style is QrStyle.HALF:
        return QrStyle.FULL.value
    return settings.qr_style.value


def _guest_check(target: CallTarget, guest: Guest, admin_models: list[str]) -> Check:
    from owui_dev.readiness import GUEST, guard, guest_check

    return guard(GUEST, lambda: guest_check(target, guest.email, guest.password, admin_models=admin_models))


def _model_source(
    engine: DockerEngine, settings: UpSettings, reporter: Reporter, *, new_volume: bool
) -> tuple[OllamaSource, dict[str, str]]:
    """Where the models will come from; an Ollama found on this machine is handed to a new Open WebUI.

    Open WebUI stores its Ollama address at its first start and ignores the variable afterwards, so the
    address is only handed over for a new data volume; for an existing one the model check shows what
    Open WebUI really gets. A remote engine's containers cannot reach this machine's Ollama at all."""
    from owui_dev.ollama import SourceKind, plan

    detect = settings.ollama_detect and engine.info.is_local
    bundled = settings.variant.bundled_ollama
    source, env = plan(dict(settings.environment), detect=detect, url=settings.ollama_url, bundled=bundled)
    if source.kind is SourceKind.BUNDLED and not new_volume:
        reporter.note(
            f"Models: the Ollama inside the container. Open WebUI keeps the Ollama address it stored in "
            f"{settings.volume} at its first start: the model check shows what it gets."
        )
    if source.kind is not SourceKind.DETECTED:
        return source, env
    if not new_volume:
        reporter.step(
            f"Ollama {source.version} found at {source.host_url} (Open WebUI keeps the Ollama address it stored "
            f"in {settings.volume} at its first start: the model check shows what it gets)"
        )
        return source, {}
    reporter.step(
        f"Ollama {source.version} found at {source.host_url}: Open WebUI will use it ({source.container_url})"
    )
    return source, env


def _call_model(settings: UpSettings, offered: list[str], reporter: Reporter) -> str | None:
    """The model a call opens with: --model, else the first the instance offers, else none."""
    if settings.model is not None:
        if offered and settings.model not in offered:
            reporter.warn(
                f"--model {settings.model} is not among the models Open WebUI offers ({', '.join(offered[:5])}): "
                "the call page will open without it."
            )
        return settings.model
    return offered[0] if offered else None


def phone_steps(settings: UpSettings, model: str | None, access: Access) -> list[str]:
    """What the phone will show, in order, so nobody is surprised in front of an audience."""
    steps = []
    if settings.call:
        with_model = f"with {model}" if model else "(it will need a model: see the model check)"
        steps.append(f"Scan the code: it opens a new chat in voice-call mode {with_model}.")
    else:
        steps.append("Scan the code (or open the URL): voice calls need this HTTPS address.")
    steps.append("On ngrok's free plan ngrok's warning page comes first: tap “Visit Site” (once every 7 days).")
    if access.guest_email:
        steps.append(f"Sign in with the guest's e-mail and password ({access.guest_email}, shown above).")
    elif access.accounts:
        who = "the e-mail and password above" if access.admin_email else "your Open WebUI account"
        steps.append(f"Sign in with {who}.")
    if settings.call:
        steps.append("Confirm “Start a voice call using your microphone?”.")
    else:
        steps.append("In a chat, tap the call button (headphones) next to the message field.")
    # Open WebUI asks the browser for the microphone when its call overlay starts.
    steps.append("Allow the microphone: the call starts.")
    return steps


def phone_notes(settings: UpSettings) -> list[str]:
    """Tips beside the steps."""
    if settings.domain is not None:
        return []
    return [
        "Tip: with your free static ngrok domain (dashboard → Domains) and --domain, the URL and this code stay "
        "the same across runs, so a printed code or a home-screen shortcut keeps working."
    ]


def _record(announcement: Announcement, settings: UpSettings, source: OllamaSource) -> RunRecord:
    return RunRecord(
        pid=os.getpid(),
        public_url=announcement.public_url,
        local_url=announcement.local_url,
        call_url=announcement.call_url,
        gated=settings.gated,
        model_source=source.as_dict(),
        attached=settings.attach,
        external_url=settings.url,
    )


def _check_voice(
    engine: DockerEngine,
    name: str,
    target: CallTarget,
    stt: dict[str, object],
    reporter: Reporter,
    guest: Guest | None = None,
) -> None:
    """--check-voice: the shipped clip through the tunnel to speech-to-text, once the URL is out; with a
    guest, also as the guest (a guest's call must work, not only the admin's)."""
    from owui_dev.manage import remove_transcription
    from owui_dev.readiness import guard
    from owui_dev.voice import VOICE, Clip, voice_check

    def check(who: CallTarget) -> Check:
        return guard(
            VOICE,
            lambda: voice_check(
                who,
                Clip.shipped(),
                context=ssl_context(),
                forget=lambda filename: remove_transcription(engine, name, filename),
                stt=stt,
            ),
        )

    with reporter.activity("Sending a spoken clip through the tunnel to speech-to-text…"):
        results = [check(target)]
        if guest is not None:
            as_guest = check(replace(target, admin_email=guest.email, admin_password=guest.password))
            results.append(replace(as_guest, id="guest-voice", name="speech → text (guest)"))
    reporter.checks(results)


def _open_in_browser(url: str, reporter: Reporter) -> None:
    """A graphical browser only: a console one (lynx, w3m) would take over this terminal and block `up`."""
    import sys
    import webbrowser

    graphical = sys.platform in {"darwin", "win32"} or any(
        os.environ.get(var) for var in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER")
    )
    if not graphical:
        reporter.warn("No graphical browser on this machine (--open): open the URL yourself.")
        return
    try:
        # The browser inherits stdout: keep its chatter out of it (stdout carries results and JSON only).
        with _stdout_to_devnull():
            opened = webbrowser.open(url)
    except webbrowser.Error:
        opened = False
    if opened:
        reporter.step("Opened it in this machine's browser")
    else:
        reporter.warn("Could not open a browser on this machine (--open): open the URL yourself.")


@contextlib.contextmanager
def _stdout_to_devnull() -> Iterator[None]:
    import sys

    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def _keys(reporter: Reporter, stack: ExitStack) -> Callable[[float, Announcement], None] | None:
    """On a terminal (human output), single keys until the run ends: a wait that answers them, else None.

    The terminal's mode is set here and put back when `stack` unwinds — first, before the teardown steps
    registered earlier, so a second Ctrl+C during the teardown finds the terminal already as it was.
    """
    from owui_dev.console import HumanReporter
    from owui_dev.keys import keypad

    if not isinstance(reporter, HumanReporter):
        return None
    pad = stack.enter_context(keypad())
    if pad is None:
        return None
    actions = KeyActions(reporter)

    def wait(seconds: float, announcement: Announcement) -> None:
        pad.pause(seconds, lambda key: actions.answer(key, announcement))

    return wait


class KeyActions:
    """What each key (owui_dev.keys.KEYS) does while `up` runs."""

    def __init__(self, reporter: HumanReporter) -> None:
        self.reporter = reporter
        self.hinted = False

    def answer(self, key: str, announcement: Announcement) -> None:
        reporter = self.reporter
        key = key.lower()
        if key == "q":
            reporter.show_url(announcement)
        elif key == "c":
            reporter.show_call(announcement)
        elif key == "p":
            reporter.show_sign_in(announcement)
        elif key == "o":
            _open_in_browser(announcement.qr_url, reporter)
        elif key == "?":
            reporter.show_keys()
        elif key.isprintable() and not key.isspace() and not self.hinted:
            self.hinted = True  # once: a cat on the keyboard should not fill the screen
            reporter.note(f"“{key}” is not a key here: ? lists them.")


def _finish(reporter: Reporter, teardown: Teardown, settings: UpSettings, *, failed: bool = False) -> None:
    if not teardown.actions and failed:
        return
    actions = [*teardown.actions]
    if teardown.actions and not settings.external:
        actions.append(f"kept the data volume {settings.volume}")
        if settings.variant.bundled_ollama:
            from owui_dev.variants import models_volume

            actions.append(f"kept the models volume {models_volume(settings.name)}")
    reporter.stopped(actions)


def _authtoken(known: Secret | None, reporter: Reporter) -> Secret:
    """The authtoken found without asking (`known`), said where from; else asked for, and saved."""
    token = known
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


def _ensure_image(
    engine: DockerEngine, settings: UpSettings, reporter: Reporter, *, existing: ContainerInfo | None
) -> str | None:
    """The image to run, pulled as --pull says, by ID: what a stopped container's own image is compared with. None
    where that tag is not here: a running container is used as it is, and under --pull never a stopped one
    still has the image it was made from."""
    if existing is not None and existing.running:
        return None
    present = engine.image_id(settings.image)
    if settings.pull is PullPolicy.NEVER and present is None:
        if existing is None:
            raise problems.IMAGE_ABSENT_PULL_NEVER(image=settings.image)
        reporter.note(
            f"{settings.image} is no longer on this engine (--pull never): {existing.name} starts with the image it "
            "was made from."
        )
        return None
    if settings.pull is PullPolicy.ALWAYS or present is None:
        with reporter.pull(settings.image) as on_progress:
            engine.pull(settings.image, on_progress)
        return engine.image_id(settings.image)
    reporter.step(f"Image {settings.image} present")
    return present


def _start_container(
    engine: DockerEngine,
    settings: UpSettings,
    existing: ContainerInfo | None,
    port: int,
    environment: tuple[tuple[str, str], ...],
    stack: ExitStack,
    teardown: Teardown,
    reporter: Reporter,
    *,
    image_id: str | None = None,
    automatic: frozenset[str] = frozenset(),
) -> ContainerInfo:
    """`image_id`: what the image's tag names now (None: the tag is not here, see _ensure_image); a stopped
    container made from another image is made anew from it, as `docker compose up` does after a pull.
    `automatic`: settings owui-dev chose itself (the Ollama it found), which never re-create a container."""
    if existing is not None and existing.running:
        reporter.step(f"Container {settings.name} already running; using it (it keeps running after this run)")
        running = _variant_of(existing)
        if running != settings.variant:
            reporter.warn(
                f"{settings.name} runs the {running.describe()} variant, not the {settings.variant.describe()} one "
                "asked for: `owui-dev down`, then `owui-dev up` again to switch (the data stays)."
            )
        return existing
    from owui_dev.variants import models_volume

    spec = ContainerSpec(
        settings.name,
        settings.image,
        port,
        settings.volume,
        environment,
        unfingerprinted=automatic,
        gpu=settings.variant.gpu,
        models_volume=models_volume(settings.name) if settings.variant.bundled_ollama else None,
        labels=tuple(settings.variant.labels().items()),
    )
    changed = existing is not None and existing.fingerprint != spec.fingerprint()
    other_image = existing is not None and image_id is not None and existing.image_id not in ("", image_id)
    if existing is not None and (changed or other_image):
        why = (
            f"Settings changed since {settings.name} was created"
            if changed
            else f"{settings.image} is another image than the one {settings.name} was made from (pulled or built since)"
        )
        if image_id is None:  # to be made anew, from a tag that is not here (--pull never): refused before removal
            reporter.note(f"{why}: it must be made anew, from {settings.image}.")
            raise problems.IMAGE_ABSENT_PULL_NEVER(image=settings.image)
        engine.remove(settings.name)
        reporter.note(f"{why}: re-creating it (data stays in volume {settings.volume}).")
        existing = None
    created = existing is None
    if created:
        engine.create(spec)

    def stop() -> list[str]:
        return [f"stopped the container {settings.name}"] if engine.stop(settings.name) else []

    if settings.keep:
        stack.callback(teardown.add, f"left the container {settings.name} running (--keep)")
    else:
        teardown.undo(stack, stop)
    try:
        info = engine.start(settings.name, host_port=port)
    except GpuUnavailableError:
        if created:  # the engine refused --gpu: the container made for it goes too, nothing is left behind
            engine.remove(settings.name)
        raise
    reporter.step(f"Container {settings.name} started ({settings.image}, port {info.host_port} on 127.0.0.1)")
    return info


def _forward(
    engine: DockerEngine,
    settings: UpSettings,
    remote_port: int,
    stack: ExitStack,
    teardown: Teardown,
    reporter: Reporter,
) -> SshForward | None:
    """A remote ssh:// engine publishes Open WebUI on *its* 127.0.0.1: an SSH forward brings it here, before
    anything uses the local URL (the readiness wait already goes through it); None for a local engine."""
    if engine.info.is_local or not engine.info.over_ssh:
        return None
    from owui_dev.ssh_forward import SshTarget, open_forward

    host = SshTarget.from_endpoint(engine.info.endpoint).host
    with reporter.activity(f"Opening an SSH forward to Open WebUI on {host}…"):
        forward = open_forward(engine.info.endpoint, settings.name, remote_port)
    teardown.undo(stack, forward.close, essential=True)
    reporter.step(
        f"Open WebUI runs on the remote host {host}; reached through an SSH forward "
        f"(127.0.0.1:{forward.local_port} here → 127.0.0.1:{remote_port} there)"
    )
    return forward


class _Agent:
    """The run's ngrok agent: started once, with its end on the teardown; tells the user, once, that its session
    is up, whenever that is first seen, and raises its failure.

    `warm_up` starts it ahead of the engine's checks, when nothing about it needs asking or downloading: its
    session takes about a second over the internet, as long as those checks and a warm Open WebUI's start
    together. Until `start` takes it into the run (the container step), it has served nothing and the user has
    not heard of it, so a refusal in between ends it without a line in what the run undid."""

    def __init__(
        self,
        settings: UpSettings,
        binary: NgrokBinary,
        authtoken: Secret,
        stack: ExitStack,
        teardown: Teardown,
        reporter: Reporter,
    ) -> None:
        self.tunnel = NgrokTunnel(
            binary,
            authtoken,
            run_name=settings.name,
            region=settings.region,
            domain=settings.domain,
            policy=traffic_policy(oauth=settings.oauth, oauth_allow=settings.oauth_allow, cidrs=settings.allow_cidr),
        )
        self.name = settings.name
        self.stack = stack
        self.teardown = teardown
        self.reporter = reporter
        self.launched = False
        self.in_run = False
        self.told = False

    def warm_up(self) -> None:
        """The agent and its session, in the background (no tunnel: that waits until the instance is secured)."""
        if self.launched:
            return
        self.launched = True
        for pid in end_agents_of_killed_run(self.name):  # this run holds the name's lock
            self.reporter.step(f"Ended the ngrok agent a killed run of {self.name} left (pid {pid})")
        self.teardown.undo(self.stack, self._end, essential=True, early=True)
        self.tunnel.start()

    def start(self) -> None:
        """Part of the run from now on (warmed up first if it was not): its end is among what the run undid."""
        self.warm_up()
        self.in_run = True

    def _end(self) -> list[str]:
        undone = self.tunnel.close()
        return undone if self.in_run else []

    def check(self) -> None:
        if not self.told and self.tunnel.session_ready():
            self._tell()

    def wait(self) -> None:
        if not self.told and not self.tunnel.session_ready():
            with self.reporter.activity("Waiting for the ngrok agent's session…"):
                self.tunnel.wait_session()
        self.check()

    def _tell(self) -> None:
        self.told = True
        self.reporter.step("ngrok agent connected (the tunnel opens once Open WebUI is secured)")


def _prepare_imports(*, qr: bool) -> None:
    """What the steps after the container's start import (the call checks; the QR, on a terminal), imported in the
    background while the engine starts the container (about a third of a second of waiting here), so that they are
    in before the readiness polls, the tunnel and its check need the interpreter. Only a head start: each step
    still imports what it uses.
    Not websockets (and asyncio with it): a heavy import, and the realtime check comes only after the URL, so
    loaded here it would compete with the steps up to the URL instead."""

    def load() -> None:
        with contextlib.suppress(Exception):
            import owui_dev.readiness  # noqa: F401

            ssl_context()
            if qr:
                import qrcode  # noqa: F401

    threading.Thread(target=load, name="owui-dev-imports", daemon=True).start()


def _wait_ready(
    engine: DockerEngine,
    settings: UpSettings,
    local_url: str,
    reporter: Reporter,
    also: Callable[[], None] | None = None,
) -> PublicConfig | None:
    """Polls GET /api/config, not /health: Open WebUI answers both from the same moment, and what /api/config says
    is the first thing securing the instance needs, so the tunnel is a request nearer. Returns that (None: an
    answer, but not like Open WebUI's). `also` runs at each poll: what else is coming up meanwhile (the agent)
    reports, or fails, there."""
    last: list[HttpAnswer] = []

    def probe() -> bool:
        if also is not None:
            also()
        last[:] = [openwebui.config_answer(local_url, timeout=READY_PROBE_TIMEOUT)]
        return last[0].ok

    def why() -> str:
        if not last or not last[0].status:
            return "GET /api/config got no answer"
        return f"GET /api/config answered HTTP {last[0].status}, last time"

    with reporter.waiting("Starting Open WebUI…") as on_tick:
        elapsed = engine.wait_until_ready(settings.name, probe, timeout=settings.timeout, on_tick=on_tick, why=why)
    reporter.step(f"Open WebUI is ready on {local_url} ({elapsed:.1f} s)")
    return openwebui.PublicConfig.parse(last[0].json())


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
            untrusted = untrusted_certificate(answer)  # retrying cannot help
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
    engine: DockerEngine | None,
    settings: UpSettings,
    tunnel: NgrokTunnel,
    reporter: Reporter,
    announcement: Announcement,
    lock: RunLock,
    model_source: OllamaSource,
    sleep: Callable[[float], None] = time.sleep,
    wait: Callable[[float, Announcement], None] | None = None,
    outside: Callable[[], None] | None = None,
    forward: SshForward | None = None,
) -> None:
    """Stay in the foreground until Ctrl+C / SIGTERM, keeping an eye on both halves (and the SSH forward between
    them, for a remote engine: one that drops is reopened on the same local port).

    The container dying ends the run with its logs (or restarts it with --restart); a tunnel that drops
    is reported, and once ngrok reconnects it is verified again and a changed URL is announced anew.
    Between checks it sleeps, or with `wait` (the keys) answers keys as they come.
    """
    if wait is None:
        wait = lambda seconds, _announcement: sleep(seconds)  # noqa: E731
    restarts = 0
    down_since: float | None = None
    tunnel.session_events()  # what the agent said while starting is not news
    while True:
        wait(WATCH_INTERVAL, announcement)
        if outside is not None:
            outside()  # an instance owui-dev did not start: watched, never restarted (owui_dev.external.Watch)
        info = engine.inspect(settings.name) if outside is None and engine is not None else None
        if info is not None and not info.running:
            assert engine is not None
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
        if forward is not None and not forward.alive():
            reporter.warn(f"The SSH forward to {forward.target.host} ended ({forward.last_words()}); reopening it…")
            forward.reopen()
            reporter.event("ssh_forward_reopened", pid=forward.pid)
            reporter.step(f"SSH forward reopened (pid {forward.pid})")
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
                if changed:
                    announcement = replace(announcement, public_url=url)
                    announcement = replace(announcement, qr_png=_save_qr(settings, announcement.qr_url))
                reporter.event(
                    "tunnel_up",
                    public_url=url,
                    call_url=announcement.call_url,
                    qr_url=announcement.qr_url,
                    qr_png=announcement.qr_png,
                    changed=changed,
                    outage_seconds=round(outage, 1),
                )
                if changed:
                    reporter.warn(f"The tunnel came back on a new URL after {outage:.0f} s: scan the new code.")
                    reporter.announce(announcement, again=True)
                    lock.publish(_record(announcement, settings, model_source))
                else:
                    reporter.step(f"The tunnel is back after {outage:.0f} s (same URL)")
