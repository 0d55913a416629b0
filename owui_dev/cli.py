"""Command-line wiring: arguments, output mode, exit codes. Nothing else lives here.

Commands import their implementation lazily so that `owui-dev --help` loads neither docker, pyngrok,
qrcode nor rich.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar

import click

from owui_dev import __version__
from owui_dev.errors import EXIT_CODES, EXIT_INTERRUPTED, Interrupted, OwuiDevError, UsageError
from owui_dev.setting_names import (
    DEFAULT_IMAGE,
    DEFAULT_NAME,
    DEFAULT_PORT,
    DEFAULT_READY_TIMEOUT,
    DEFAULT_VOLUME,
    ENV_CONFIG,
    ENV_PROFILE,
    NGROK_REGIONS,
    OAuthProvider,
    PullPolicy,
    QrStyle,
    name_option,
)
from owui_dev.sources import InstanceCommand, SettingsCommand, config_options, setting_option, shares_up_settings

if TYPE_CHECKING:
    from rich.console import Console

P = ParamSpec("P")
R = TypeVar("R")

EPILOG = "\b\nExit codes:\n" + "\n".join(f"  {code:>3}  {text}" for code, text in EXIT_CODES.items())


def _boundary(command: Callable[P, R]) -> Callable[P, R]:
    """The error boundary: an OwuiDevError becomes a short message and its exit code, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        json_output = bool(kwargs.get("json_output"))
        debug = bool(kwargs.get("debug"))
        try:
            return command(*args, **kwargs)
        except OwuiDevError as err:
            _report(err, json_output=json_output, debug=debug)
            sys.exit(err.exit_code)
        except (KeyboardInterrupt, Interrupted):
            sys.exit(EXIT_INTERRUPTED)
        except click.exceptions.Exit:
            raise
        except Exception as err:  # noqa: BLE001 - the boundary: any bug becomes a message, not a traceback
            _report(
                OwuiDevError(
                    f"Unexpected error: {type(err).__name__}: {err}",
                    hint="This is a bug in owui-dev. Run again with --debug and report the output.",
                ),
                json_output=json_output,
                debug=debug,
            )
            sys.exit(1)

    return wrapper


def _report(err: OwuiDevError, *, json_output: bool, debug: bool) -> None:
    import traceback

    from owui_dev.console import make_reporter

    make_reporter(json_output=json_output).error(err, traceback.format_exc() if debug else None)


def _common(command: Callable[P, R]) -> Callable[P, R]:
    command = click.option("--debug", is_flag=True, help="Show tracebacks and the agent's log lines on errors.")(
        command
    )
    return click.option("--json", "json_output", is_flag=True, help="Machine output: JSON on stdout.")(command)


def _name_option(command: Callable[P, R]) -> Callable[P, R]:
    return setting_option(
        "--name",
        default=DEFAULT_NAME,
        show_default=True,
        callback=lambda ctx, param, value: _validated(_validate_name, value),
        help="Name of the managed container.",
    )(command)


def _qr_style_option(command: Callable[P, R]) -> Callable[P, R]:
    return setting_option(
        "--qr",
        "qr_style",
        type=click.Choice([QrStyle.HALF.value, QrStyle.FULL.value]),
        default=QrStyle.HALF.value,
        show_default=True,
        help="QR style: compact half-blocks, or full blocks for terminals whose line spacing breaks them.",
    )(command)


def _config_file_option(help_text: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """--config alone, not as the default_map of the command's own options (config_options does that):
    for commands that only read the file, or read it as `up` would."""
    return click.option(
        "--config",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        envvar=ENV_CONFIG,
        help=f"{help_text} [env {ENV_CONFIG}].",
    )


def _config_option(command: Callable[P, R]) -> Callable[P, R]:
    """--config and --profile: the config file's [up] and [profile.NAME] become defaults (owui_dev.sources)."""
    return config_options(command)


def _validate_name(name: str) -> str:
    from owui_dev.config import validate_name  # not at import: `--help` loads none of the settings' checks

    return validate_name(name)


def _validated(check: Callable[[str], str], value: str) -> str:
    try:
        return check(value)
    except OwuiDevError as err:
        raise click.BadParameter(f"{err.message} {err.hint or ''}".strip()) from None


_JSON_WANTED = "owui_dev.json"


def _json_requested(args: Sequence[str]) -> bool:
    """--json anywhere among the options, even after the one click refuses (it never gets to read it then)."""
    args = list(args)
    return "--json" in (args[: args.index("--")] if "--" in args else args)


class _JsonUsageError(click.UsageError):
    """Click's own usage error (a bad --port, an unknown option…), shown as the JSON line every other error is."""

    def __init__(self, original: click.UsageError, command_path: str) -> None:
        super().__init__(original.format_message(), original.ctx)
        self.original = original
        # Some parser errors come without a context: then the nearest command known is named.
        self.command_path = original.ctx.command_path if original.ctx else command_path

    def show(self, file: Any = None) -> None:
        from owui_dev.console import JsonReporter

        hint = f"Try '{self.command_path} --help' for help."
        JsonReporter().error(UsageError(self.original.format_message(), hint=hint))


@contextlib.contextmanager
def _usage_errors_as_json(enabled: bool, command_path: str) -> Iterator[None]:
    try:
        yield
    except click.UsageError as err:
        if not enabled or isinstance(err, _JsonUsageError):
            raise
        raise _JsonUsageError(err, command_path) from err


class _Group(click.Group):
    """owui-dev's command group: with --json, click's usage errors are JSON too (parsing happens in these two)."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        wanted = _json_requested(args)
        with _usage_errors_as_json(wanted, info_name or "owui-dev"):
            ctx = super().make_context(info_name, args, parent, **extra)
        ctx.meta[_JSON_WANTED] = wanted
        return ctx

    def invoke(self, ctx: click.Context) -> Any:
        with _usage_errors_as_json(bool(ctx.meta.get(_JSON_WANTED)), ctx.command_path):
            return super().invoke(ctx)


@click.group(
    cls=_Group,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EPILOG,
)
@click.version_option(__version__, prog_name="owui-dev")
def cli() -> None:
    """Put a local Open WebUI on your phone over HTTPS, where voice calls work.

    `owui-dev up` starts Open WebUI in Docker, opens an ngrok HTTPS tunnel to it, and prints the URL
    and a QR code. For development and demos only — not for production.
    """


@cli.command(cls=SettingsCommand)
@_name_option
@setting_option("--image", default=DEFAULT_IMAGE, show_default=True, help="Open WebUI image to run.")
@setting_option(
    "--pull",
    type=click.Choice([p.value for p in PullPolicy]),
    default=PullPolicy.MISSING.value,
    show_default=True,
    help="When to pull the image.",
)
@setting_option(
    "--port",
    type=int,
    default=None,
    help=f"Local port for Open WebUI on 127.0.0.1 [default: {DEFAULT_PORT}, or the next free one if busy].",
)
@setting_option("--volume", default=DEFAULT_VOLUME, show_default=True, help="Named volume that keeps the data.")
@setting_option("--env", "env", multiple=True, metavar="KEY=VALUE", help="Setting passed to Open WebUI (repeatable).")
@setting_option(
    "--timeout",
    type=float,
    default=DEFAULT_READY_TIMEOUT,
    show_default=True,
    help="Seconds to wait for Open WebUI to become healthy (first start downloads models).",
)
@setting_option(
    "--ngrok-path",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    help="ngrok binary to use [env NGROK_PATH; else `ngrok` on PATH; else a managed download].",
)
@setting_option("--authtoken", default=None, help="ngrok authtoken [env NGROK_AUTHTOKEN; else ngrok's own config].")
@setting_option("--domain", default=None, help="Your ngrok static domain, e.g. my-name.ngrok-free.app.")
@setting_option(
    "--region",
    type=click.Choice(NGROK_REGIONS),
    default=None,
    help="ngrok region [default: the agent picks the nearest].",
)
@_qr_style_option
@setting_option("--no-qr", is_flag=True, help="Print the URL without a QR code.")
@setting_option(
    "--qr-png", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Also save the QR as PNG."
)
@setting_option("--keep", is_flag=True, help="Leave the container running after Ctrl+C.")
@setting_option(
    "--restart", is_flag=True, help="Restart Open WebUI if its container dies while serving (up to 5 times)."
)
@setting_option(
    "--admin-email", default=None, help="E-mail of the admin created on a fresh instance [default: admin@localhost]."
)
@setting_option("--admin-password", default=None, help="Its password [default: a generated one, kept for you].")
@setting_option(
    "--allow-no-auth",
    is_flag=True,
    help="Allow a public tunnel to an instance with WEBUI_AUTH=False (anyone is admin).",
)
@setting_option(
    "--oauth",
    type=click.Choice([p.value for p in OAuthProvider]),
    default=None,
    help="Gate the URL with ngrok OAuth: visitors sign in with this provider first.",
)
@setting_option(
    "--oauth-allow", multiple=True, metavar="EMAIL|DOMAIN", help="Only these OAuth identities get through (repeatable)."
)
@setting_option(
    "--allow-cidr", multiple=True, metavar="CIDR", help="Only these client addresses get through (repeatable)."
)
@setting_option(
    "--call",
    is_flag=True,
    help="The QR code opens a new chat straight in voice-call mode (Open WebUI asks to confirm first).",
)
@setting_option(
    "--model", default=None, metavar="ID", help="Model for --call [default: the first the instance offers]."
)
@setting_option("--open", "open_browser", is_flag=True, help="Also open the URL in this machine's browser (for demos).")
@setting_option(
    "--no-ollama-detect",
    is_flag=True,
    help="Do not connect an Ollama found on this machine (127.0.0.1:11434) to Open WebUI.",
)
@setting_option(
    "--check-voice",
    is_flag=True,
    help="Once the URL is announced, also send a spoken clip through it to speech-to-text (see `check --voice`).",
)
@setting_option(
    "--guest",
    is_flag=True,
    help="Also create a shared guest account (role user, generated password) for an audience; removed on the way out.",
)
@setting_option("--guest-email", default=None, metavar="EMAIL", help="The guest's e-mail [default: guest@localhost].")
@setting_option("--keep-guest", is_flag=True, help="Keep the guest account (and its chats) after the run.")
@setting_option(
    "--present",
    is_flag=True,
    help="Output for a projector: no admin password, the guest's sign-in large, the QR code in full blocks.",
)
@setting_option(
    "--gpu", is_flag=True, help="Open WebUI's CUDA image (:cuda) with the engine's NVIDIA GPUs (as `--gpus all`)."
)
@setting_option(
    "--bundled-ollama",
    is_flag=True,
    help="Open WebUI's image with Ollama inside (:ollama); its models stay in the volume NAME-ollama.",
)
@setting_option(
    "--version",
    "openwebui_version",
    default=None,
    metavar="X.Y.Z",
    help="Pin an Open WebUI release: its official tag (:vX.Y.Z, with --gpu/--bundled-ollama :vX.Y.Z-cuda/-ollama).",
)
@setting_option(
    "--url",
    default=None,
    metavar="http://127.0.0.1:PORT",
    help="Serve an Open WebUI that already runs at this local address (e.g. `open-webui serve`); no container.",
)
@setting_option(
    "--attach",
    default=None,
    metavar="NAME",
    help="Serve this running Open WebUI container that owui-dev did not make; it is never stopped or changed.",
)
@setting_option("--basic-auth", default=None, hidden=True)
@_config_option
@_common
@_boundary
def up(json_output: bool, debug: bool, **options: Any) -> None:
    """Start Open WebUI and put it on a public HTTPS URL until Ctrl+C.

    Reuses the managed container when it exists, publishes it on 127.0.0.1 only, waits until it is
    healthy, opens an ngrok tunnel, checks Open WebUI answers through it, then prints the URL and a QR
    code. Ctrl+C (or SIGTERM) closes the tunnel, ends ngrok and stops the container if this run started
    it; the data volume always stays.

    Before the tunnel opens, a fresh instance gets an admin account (shown once ready, kept for
    `owui-dev status --show-password`) and closed sign-up, so nobody else can claim it.

    An Open WebUI you already run: `--url http://127.0.0.1:PORT` or `--attach CONTAINER` serves it instead
    (same checks, no second instance); it is never stopped, re-created or changed, and keeps running after.

    Once the URL works, the call path is checked (trusted HTTPS, the realtime channel through the tunnel,
    a model, speech-to-text, text-to-speech, latency) and shown under the URL: what is missing, and how to
    fix it, before the phone is out. When you give no model connection and an Ollama answers on this
    machine, Open WebUI is pointed at it.
    """
    from owui_dev.config import build_up_settings
    from owui_dev.console import make_reporter
    from owui_dev.external import refuse_container_options, refuse_own_only_settings
    from owui_dev.session import run_up
    from owui_dev.sources import Layer, resolve

    resolved = resolve(click.get_current_context(), up)  # flags, environment, profile, file, defaults
    url, attach = resolved.values.get("url"), resolved.values.get("attach")
    flags = {name: value for name, value in resolved.values.items() if resolved.layers[name] is Layer.FLAG}
    refuse_container_options(flags, url=url is not None, attach=attach is not None)
    settings = build_up_settings(json=json_output, **resolved.arguments())
    refuse_own_only_settings(settings)
    program = click.get_current_context().find_root().obj
    if isinstance(program, Program):
        program.exit_at_once = True  # from here on, every way out has undone what it started
    run_up(settings, make_reporter(json_output=json_output))


@cli.command(cls=InstanceCommand)
@_name_option
@click.option("--rm", "remove", is_flag=True, help="Also remove the container (the data volume stays).")
@click.option("--purge", is_flag=True, help="Remove the container AND its data volume (asks first).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before --purge.")
@_config_option
@_common
@_boundary
@shares_up_settings
def down(name: str, remove: bool, purge: bool, yes: bool, json_output: bool, debug: bool) -> None:
    """Stop the managed container. The data volume stays unless --purge."""
    from owui_dev.console import make_reporter
    from owui_dev.manage import down as run_down

    reporter = make_reporter(json_output=json_output)
    if yes and not purge:
        # A warning, not a refusal: --yes only answers --purge's question, so alone it changes nothing.
        reporter.warn("--yes does nothing without --purge (it only skips the question --purge asks).")

    def confirm(volume: str) -> bool:
        if yes:
            return True
        if json_output or not sys.stdin.isatty():
            return False
        return click.confirm(
            f"Delete the volume {volume} with all Open WebUI data (accounts, chats)?", default=False, err=True
        )

    result = run_down(name, remove=remove, purge=purge, confirm_purge=confirm)

    def human(out: Console) -> None:
        for action in result.actions:
            out.print(f"[green]✓[/] {action[0].upper()}{action[1:]}")

    reporter.result(result.as_dict(), human)


@cli.command(cls=InstanceCommand)
@_name_option
@click.option("--show-password", is_flag=True, help="Also show the admin password owui-dev created.")
@_config_option
@_common
@_boundary
@shares_up_settings
def status(name: str, show_password: bool, json_output: bool, debug: bool) -> None:
    """Show the managed container: state, health, published port, image, sign-in, and the public URL if `up` runs."""
    from owui_dev.console import make_reporter
    from owui_dev.manage import status as read_status

    report = read_status(name, show_password=show_password)

    def human(out: Console) -> None:
        from rich.table import Table

        if not report.exists:
            out.print(f"No container named {name}. Start one with `owui-dev up{name_option(name)}`.")
            return
        table = Table(show_header=False, box=None, pad_edge=False)
        health = {True: "[green]healthy[/]", False: "[red]not answering[/]", None: "-"}[report.healthy]
        exposure = (
            "-"
            if report.loopback_only is None
            else "127.0.0.1 only"
            if report.loopback_only
            else "[red]all interfaces[/] (reachable from the network)"
        )
        rows = [
            ("container", f"{report.name}" + ("" if report.managed else " [red](not managed by owui-dev)[/]")),
            ("state", report.state + (f" (exit code {report.exit_code})" if report.exit_code is not None else "")),
            ("health", health),
            ("image", report.image or "-"),
            ("published", f"{report.published or '-'}  ({exposure})"),
            ("local URL", report.local_url or "-"),
            ("public URL", report.public_url or "- (no `owui-dev up` running)"),
            ("volume", report.volume or "-"),
            *([("variant", _variant_text(report.variant, report.models_volume))] if report.variant else []),
            ("sign-in", _sign_in_text(report.admin_email, report.admin_password, show_password=show_password)),
        ]
        if report.guest_email:
            rows.append(("guest", f"{report.guest_email} / {report.guest_password}"))
        if report.serves:  # `up --attach` / `up --url`: an instance owui-dev did not start
            what = f"the container {report.attached}" if report.attached else f"the Open WebUI at {report.external_url}"
            rows[0] = ("serves", f"{what} [bold](not started by owui-dev, never stopped by it)[/]")
            rows = [row for row in rows if row[0] != "sign-in" and (row[0] != "volume" or report.attached)]
        for key, value in rows:
            table.add_row(f"[bold]{key}[/]", value)
        out.print(table)

    make_reporter(json_output=json_output).result(report.as_dict(), human)


@cli.command(cls=InstanceCommand)
@_name_option
@click.option("--follow", "-f", is_flag=True, help="Keep printing new lines until Ctrl+C.")
@click.option("--tail", type=click.IntRange(min=0), default=None, help="Only the last N lines [default: all].")
@_config_option
@_common
@_boundary
@shares_up_settings
def logs(name: str, follow: bool, tail: int | None, json_output: bool, debug: bool) -> None:
    """Print the managed container's logs."""
    from owui_dev.manage import logs as read_logs
    from owui_dev.startup import start_up_over

    try:
        start_up_over()  # it may keep running: the collector is back (owui_dev.startup)
        for chunk in read_logs(name, follow=follow, tail=tail):
            sys.stdout.write(chunk)
            sys.stdout.flush()
    except KeyboardInterrupt:
        return


def _variant_text(variant: dict[str, Any], models_volume: str | None) -> str:
    text = str(variant["name"]) + (f", Open WebUI {variant['version']}" if variant.get("version") else "")
    return text + (f" (models in the volume {models_volume})" if models_volume else "")


def _sign_in_text(email: str | None, password: str | None, *, show_password: bool) -> str:
    if not email:
        return "- (no admin created by owui-dev for this volume)"
    if password:
        return f"{email} / {password}"
    return f"{email} / " + ("(not kept)" if show_password else "******** (--show-password)")


@cli.command(cls=SettingsCommand)
@_name_option
@setting_option("--image", default=DEFAULT_IMAGE, show_default=True, help="Open WebUI image `up` would run.")
@setting_option(
    "--port",
    type=int,
    default=None,
    help=f"Local port `up` would use on 127.0.0.1 [default: {DEFAULT_PORT}, or the next free one if busy].",
)
@setting_option(
    "--ngrok-path",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    help="ngrok binary to check [env NGROK_PATH; else `ngrok` on PATH; else the managed download].",
)
@setting_option("--authtoken", default=None, help="ngrok authtoken [env NGROK_AUTHTOKEN; else ngrok's own config].")
@_config_option
@_common
@_boundary
def doctor(json_output: bool, debug: bool, **options: Any) -> None:
    """Check what `up` needs, each with a fix; starts nothing, downloads nothing.

    Checks the Docker engine and its version, disk space for the image, the image, the container name,
    the local port, the ngrok binary and its version, the authtoken (never shown), and whether ngrok's
    service is reachable (one TCP connection, no tunnel; OWUI_DEV_NGROK_PROBE=HOST:PORT probes elsewhere,
    =off skips it). Exits 10 when a check fails; warnings alone exit 0.
    """
    from owui_dev.config import build_doctor_settings
    from owui_dev.console import make_reporter
    from owui_dev.doctor import failed, report, run_checks
    from owui_dev.errors import ChecksFailedError
    from owui_dev.sources import resolve

    # Every setting `up` would take is checked as `up` would check it; doctor then uses those it checks.
    resolved = resolve(click.get_current_context(), up)
    checks = run_checks(build_doctor_settings(**resolved.arguments()))

    def human(out: Console) -> None:
        from owui_dev.console import checks_table

        out.print(checks_table(checks, verdict=": ready for `up`."))

    make_reporter(json_output=json_output).result(report(checks), human)
    if failed(checks):
        names = ", ".join(check.name for check in failed(checks))
        raise ChecksFailedError(
            f"{len(failed(checks))} check(s) failed: {names}.", hint="Fix them as their hints say, then run again."
        )


@cli.command(cls=InstanceCommand)
@_name_option
@setting_option(
    "--call", is_flag=True, help="The code opens a new chat in voice-call mode (with the model `up` chose)."
)
@_qr_style_option
@click.option("--png", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Also save it as PNG.")
@_config_option
@_common
@_boundary
@shares_up_settings
def qr(name: str, call: bool, qr_style: str, png: Path | None, json_output: bool, debug: bool) -> None:
    """Show the URL and QR code of the running `up` again (it starts nothing)."""
    from owui_dev.console import HumanReporter, make_reporter
    from owui_dev.manage import running_session

    record = running_session(name)
    url = (record.call_url if call else None) or record.public_url or ""
    saved = None
    if png is not None:
        from owui_dev.qr import save_png

        try:
            saved = str(save_png(url, png))
        except OSError as err:
            raise UsageError(
                f"--png {png}: cannot write it ({err.strerror or err}).",
                hint="Choose a file in a folder you can write to.",
            ) from None
    reporter = make_reporter(json_output=json_output)

    def human(out: Console) -> None:
        out.print(f"  [bold green]{url}[/]")
        if isinstance(reporter, HumanReporter):
            reporter.print_qr(url, qr_style)
        if saved:
            out.print(f"  QR image: {saved}")

    data = {"public_url": record.public_url, "call_url": record.call_url, "qr_url": url, "qr_png": saved}
    reporter.result(data, human)


@cli.command(cls=InstanceCommand)
@_name_option
@click.option(
    "--voice",
    is_flag=True,
    help="Also send a short spoken clip (shipped with owui-dev) through the URL to speech-to-text and compare.",
)
@click.option(
    "--voice-clip",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Check with your own recording instead (any format the instance accepts); prints what was heard.",
)
@_config_option
@_common
@_boundary
@shares_up_settings
def check(name: str, voice: bool, voice_clip: Path | None, json_output: bool, debug: bool) -> None:
    """Check the call path of the running `up` again: HTTPS, realtime channel, model, speech, latency.

    Reads the URL and the admin's sign-in from the running `up` and owui-dev's state; starts nothing.
    With --voice, a spoken clip goes through the tunnel to Open WebUI's speech-to-text, as a call's
    audio does; the files Open WebUI keeps of it are deleted again. Exits 14 when a check fails;
    warnings alone exit 0.
    """
    from owui_dev.checks import failed, report
    from owui_dev.console import make_reporter
    from owui_dev.errors import CallCheckFailedError
    from owui_dev.manage import call_target, forget_transcription
    from owui_dev.readiness import run_call_checks
    from owui_dev.voice import Clip

    clip = Clip.from_file(voice_clip) if voice_clip else Clip.shipped() if voice else None
    target = call_target(name)
    reporter = make_reporter(json_output=json_output)
    with reporter.activity(f"Checking the call path of {target.public_url}…"):
        checks = run_call_checks(target, voice=clip, forget=forget_transcription(name)).checks

    def human(out: Console) -> None:
        from owui_dev.console import checks_table

        out.print(f"Call readiness of [bold]{target.public_url}[/]")
        out.print(checks_table(checks, verdict="."))

    reporter.result({"public_url": target.public_url, **report(checks)}, human)
    if failed(checks):
        names = ", ".join(item.name for item in failed(checks))
        raise CallCheckFailedError(
            f"{len(failed(checks))} call-path check(s) failed: {names}.", hint="Fix them as their hints say."
        )


@cli.group(cls=_Group)
def export() -> None:
    """Write what runs the local instance in production (nothing is started)."""


@export.command("caddy")
@click.option("--domain", required=True, metavar="NAME", help="The public domain, e.g. chat.example.com.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to write into [default: a folder named after the domain, in the current directory].",
)
@click.option("--force", is_flag=True, help="Replace compose.yaml, Caddyfile, .env and README.md if they exist.")
@click.option("--email", default=None, help="E-mail for the ACME account (certificate expiry notices).")
@_name_option
@click.option("--image", default=None, help="Image for production [default: the local instance's].")
@click.option("--env", "env", multiple=True, metavar="KEY=VALUE", help="Setting for production (repeatable; wins).")
@click.option("--new-secret-key", is_flag=True, help="A new WEBUI_SECRET_KEY instead of the local instance's.")
@_config_file_option("Config file `up` reads, for an instance without a container")
@click.option(
    "--profile",
    default=None,
    metavar="NAME",
    envvar=ENV_PROFILE,
    help="Profile of the config file `up` would use, for an instance without a container [env OWUI_DEV_PROFILE].",
)
@_common
@_boundary
def export_caddy(
    domain: str,
    out: Path | None,
    force: bool,
    email: str | None,
    name: str,
    image: str | None,
    env: tuple[str, ...],
    new_secret_key: bool,
    config: Path | None,
    profile: str | None,
    json_output: bool,
    debug: bool,
) -> None:
    """Write compose.yaml, Caddyfile, .env and a README of next steps: Open WebUI behind Caddy with HTTPS.

    Reads the image, settings and secret key of the local instance (the container --name when it exists, else
    the settings `up` would use), drops what only a laptop has (ngrok URLs, host.docker.internal), sets
    WEBUI_URL and CORS_ALLOW_ORIGIN to https://DOMAIN, and writes the secrets to .env (0600), never to the
    terminal. Caddy alone publishes ports 80 and 443 (and 443/udp for HTTP/3). Existing files stay unless --force.
    """
    from owui_dev.config import build_up_settings, parse_environment, validate_image
    from owui_dev.console import make_reporter
    from owui_dev.export import export_caddy as run_export
    from owui_dev.export import local_instance
    from owui_dev.sources import resolve

    overrides = parse_environment(env)
    if image is not None:
        validate_image(image)

    def up_settings() -> Any:
        # The settings `up` would run with for this name: the same cascade (file, environment), read as `up` reads it.
        # (Not this command's own default_map: the file's image and env are not production overrides.)
        arguments = ["--name", name, *(["--config", str(config)] if config is not None else [])]
        arguments += ["--profile", profile] if profile is not None else []
        with up.make_context("up", arguments) as up_context:
            return build_up_settings(**resolve(up_context, up).arguments())

    result = run_export(
        domain,
        folder=out,
        force=force,
        local=lambda: local_instance(name, up_settings),
        image=image,
        overrides=overrides,
        new_secret_key=new_secret_key,
        email=email,
    )
    reporter = make_reporter(json_output=json_output)
    for note in result.notes:
        reporter.note(note)
    for change in result.changes:
        reporter.note(f"{change.key} {change.action}: {change.why}.")

    def human(out_console: Console) -> None:
        out_console.print(f"[green]✓[/] From {result.description}: {result.image}")
        for path in result.files:
            out_console.print(f"[green]✓[/] Wrote {path}")
        out_console.print(f"Next: DNS, firewall, `docker compose up -d` — see {result.folder / 'README.md'}.")

    reporter.result(result.as_dict(), human)


@cli.group("config", cls=_Group)
def config_group() -> None:
    """The settings `up` runs with: where each comes from, and which config file is read."""


def _config_show(json_output: bool, debug: bool, **options: Any) -> None:
    """Show the settings `up` would run with, and where each comes from: default, file, profile, environment, flag.

    Takes the same options as `up` (`owui-dev config show --profile demo --port 3005` shows what that `up`
    would do) and refuses what `up` would refuse; starts nothing. Secrets are masked: the authtoken, the
    admin password, and --env values whose names say key, secret, token or password.
    """
    from owui_dev.config import build_up_settings
    from owui_dev.console import make_reporter
    from owui_dev.sources import describe, resolve

    resolved = resolve(click.get_current_context(), up)
    settings = build_up_settings(json=json_output, **resolved.arguments())
    rows = describe(resolved, settings, up)
    data = {
        "config_file": str(resolved.file.path) if resolved.file.path else None,
        "config_file_exists": resolved.file.exists,
        "profile": resolved.profile,
        "settings": rows,
    }

    def human(out: Console) -> None:
        from rich.markup import escape
        from rich.table import Table

        found = "" if resolved.file.exists else " [dim](not found)[/]"
        out.print(f"Config file: {escape(str(data['config_file']))}{found}")
        if resolved.profile:
            out.print(f"Profile: [bold]{escape(resolved.profile)}[/]")
        table = Table(box=None, pad_edge=False)
        for column in ("setting", "value", "source", "from"):
            table.add_column(column, style="bold" if column == "setting" else None, overflow="fold")
        for key, row in rows.items():
            value = row["value"]
            if isinstance(value, dict):
                value = [f"{k}={v}" for k, v in value.items()]
            text = " ".join(str(item) for item in value) if isinstance(value, list) else value
            text = "-" if text is None or text == "" else text
            source = row["source"] if row["source"] == "default" else f"[green]{row['source']}[/]"
            table.add_row(key, escape(str(text)), source, escape(row["from"] or ""))
        out.print(table)

    make_reporter(json_output=json_output).result(data, human)


config_group.add_command(
    SettingsCommand(
        "show",
        params=list(up.params),
        callback=_boundary(_config_show),
        help=_config_show.__doc__,
        short_help="Show the settings `up` would run with, and where each comes from.",
        context_settings={"max_content_width": 100},
    )
)


@config_group.command("path")
@_config_file_option("Config file [default ~/.config/owui-dev/config.toml]")
@_common
@_boundary
def config_path(config: Path | None, json_output: bool, debug: bool) -> None:
    """Show which config file is read, why that one, and whether it exists."""
    from click.core import ParameterSource

    from owui_dev.config import default_config_path
    from owui_dev.console import make_reporter

    source = click.get_current_context().get_parameter_source("config")
    origin = {ParameterSource.COMMANDLINE: "--config", ParameterSource.ENVIRONMENT: ENV_CONFIG}.get(
        source,  # type: ignore[arg-type]
        "default",
    )
    path = config or default_config_path()
    data = {"path": str(path), "exists": path.is_file(), "from": origin}

    def human(out: Console) -> None:
        from rich.markup import escape

        state = "exists" if data["exists"] else "does not exist (create it to set defaults for `up`)"
        why = "the default location" if origin == "default" else origin
        out.print(f"{escape(str(path))}  [dim](from {why}; {state})[/]")

    make_reporter(json_output=json_output).result(data, human)


@cli.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
@_boundary
def completion(shell: str) -> None:
    """Print the shell completion script for SHELL (bash, zsh or fish); the README says where it goes."""
    from click.shell_completion import get_completion_class

    completer = get_completion_class(shell)
    assert completer is not None  # click knows the three shells the Choice allows
    sys.stdout.write(completer(cli, {}, "owui-dev", "_OWUI_DEV_COMPLETE").source() + "\n")


class Program:
    """What `main` learns from the command it ran (click's root context object)."""

    exit_at_once = False


def main() -> None:
    from owui_dev.startup import pause_collector, start_up_over

    pause_collector()  # until the command has what it needs (owui_dev.startup)
    program = Program()
    try:
        cli(prog_name="owui-dev", obj=program)
    except SystemExit as done:
        if program.exit_at_once:
            _exit_at_once(done.code)
        raise
    finally:
        start_up_over()


def _exit_at_once(code: object) -> NoReturn:
    """`up` has undone what it started and said so: the interpreter's own clean-up (freeing docker, rich,
    pyngrok... module by module, about 0.1 s) would only make Ctrl+C slower than a `docker stop`."""
    import os

    if code is not None and not isinstance(code, int):
        sys.stderr.write(f"{code}\n")
        code = 1
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code or 0)
