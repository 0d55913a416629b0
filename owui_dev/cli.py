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
from owui_dev.config import (
    DEFAULT_NAME,
    DEFAULT_PORT,
    DEFAULT_VOLUME,
    NGROK_REGIONS,
    OAuthProvider,
    PullPolicy,
    QrStyle,
    validate_name,
)
from owui_dev.errors import EXIT_CODES, EXIT_INTERRUPTED, Interrupted, OwuiDevError, UsageError
from owui_dev.openwebui import DEFAULT_IMAGE, DEFAULT_READY_TIMEOUT

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
    return click.option(
        "--name",
        default=DEFAULT_NAME,
        show_default=True,
        callback=lambda ctx, param, value: _validated(validate_name, value),
        help="Name of the managed container.",
    )(command)


def _qr_style_option(command: Callable[P, R]) -> Callable[P, R]:
    return click.option(
        "--qr",
        "qr_style",
        type=click.Choice([QrStyle.HALF.value, QrStyle.FULL.value]),
        default=QrStyle.HALF.value,
        show_default=True,
        help="QR style: compact half-blocks, or full blocks for terminals whose line spacing breaks them.",
    )(command)


def _config_option(command: Callable[P, R]) -> Callable[P, R]:
    return click.option(
        "--config",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Config file with defaults for `up` [env OWUI_DEV_CONFIG; default ~/.config/owui-dev/config.toml].",
    )(command)


def _given(options: dict[str, Any]) -> dict[str, Any]:
    """Only the options set on the command line, so the config file can fill in the rest."""
    from click.core import ParameterSource

    context = click.get_current_context()
    return {
        key: value
        for key, value in options.items()
        if context.get_parameter_source(key) not in {ParameterSource.DEFAULT, None}
    }


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


@cli.command()
@_name_option
@click.option("--image", default=DEFAULT_IMAGE, show_default=True, help="Open WebUI image to run.")
@click.option(
    "--pull",
    type=click.Choice([p.value for p in PullPolicy]),
    default=PullPolicy.MISSING.value,
    show_default=True,
    help="When to pull the image.",
)
@click.option(
    "--port",
    type=int,
    default=None,
    help=f"Local port for Open WebUI on 127.0.0.1 [default: {DEFAULT_PORT}, or the next free one if busy].",
)
@click.option("--volume", default=DEFAULT_VOLUME, show_default=True, help="Named volume that keeps the data.")
@click.option("--env", "env", multiple=True, metavar="KEY=VALUE", help="Setting passed to Open WebUI (repeatable).")
@click.option(
    "--timeout",
    type=float,
    default=DEFAULT_READY_TIMEOUT,
    show_default=True,
    help="Seconds to wait for Open WebUI to become healthy (first start downloads models).",
)
@click.option(
    "--ngrok-path",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    help="ngrok binary to use [env NGROK_PATH; else `ngrok` on PATH; else a managed download].",
)
@click.option("--authtoken", default=None, help="ngrok authtoken [env NGROK_AUTHTOKEN; else ngrok's own config].")
@click.option("--domain", default=None, help="Your ngrok static domain, e.g. my-name.ngrok-free.app.")
@click.option(
    "--region",
    type=click.Choice(NGROK_REGIONS),
    default=None,
    help="ngrok region [default: the agent picks the nearest].",
)
@_qr_style_option
@click.option("--no-qr", is_flag=True, help="Print the URL without a QR code.")
@click.option(
    "--qr-png", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Also save the QR as PNG."
)
@click.option("--keep", is_flag=True, help="Leave the container running after Ctrl+C.")
@click.option("--restart", is_flag=True, help="Restart Open WebUI if its container dies while serving (up to 5 times).")
@click.option(
    "--admin-email", default=None, help="E-mail of the admin created on a fresh instance [default: admin@localhost]."
)
@click.option("--admin-password", default=None, help="Its password [default: a generated one, kept for you].")
@click.option(
    "--allow-no-auth",
    is_flag=True,
    help="Allow a public tunnel to an instance with WEBUI_AUTH=False (anyone is admin).",
)
@click.option(
    "--oauth",
    type=click.Choice([p.value for p in OAuthProvider]),
    default=None,
    help="Gate the URL with ngrok OAuth: visitors sign in with this provider first.",
)
@click.option(
    "--oauth-allow", multiple=True, metavar="EMAIL|DOMAIN", help="Only these OAuth identities get through (repeatable)."
)
@click.option(
    "--allow-cidr", multiple=True, metavar="CIDR", help="Only these client addresses get through (repeatable)."
)
@click.option(
    "--call",
    is_flag=True,
    help="The QR code opens a new chat straight in voice-call mode (Open WebUI asks to confirm first).",
)
@click.option("--model", default=None, metavar="ID", help="Model for --call [default: the first the instance offers].")
@click.option("--open", "open_browser", is_flag=True, help="Also open the URL in this machine's browser (for demos).")
@click.option(
    "--no-ollama-detect",
    is_flag=True,
    help="Do not connect an Ollama found on this machine (127.0.0.1:11434) to Open WebUI.",
)
@click.option(
    "--check-voice",
    is_flag=True,
    help="Once the URL is announced, also send a spoken clip through it to speech-to-text (see `check --voice`).",
)
@click.option(
    "--guest",
    is_flag=True,
    help="Also create a shared guest account (role user, generated password) for an audience; removed on the way out.",
)
@click.option("--guest-email", default=None, metavar="EMAIL", help="The guest's e-mail [default: guest@localhost].")
@click.option("--keep-guest", is_flag=True, help="Keep the guest account (and its chats) after the run.")
@click.option(
    "--present",
    is_flag=True,
    help="Output for a projector: no admin password, the guest's sign-in large, the QR code in full blocks.",
)
@click.option("--basic-auth", default=None, hidden=True)
@_config_option
@_common
@_boundary
def up(json_output: bool, debug: bool, config: Path | None, **options: Any) -> None:
    """Start Open WebUI and put it on a public HTTPS URL until Ctrl+C.

    Reuses the managed container when it exists, publishes it on 127.0.0.1 only, waits until it is
    healthy, opens an ngrok tunnel, checks Open WebUI answers through it, then prints the URL and a QR
    code. Ctrl+C (or SIGTERM) closes the tunnel, ends ngrok and stops the container if this run started
    it; the data volume always stays.

    Before the tunnel opens, a fresh instance gets an admin account (shown once ready, kept for
    `owui-dev status --show-password`) and closed sign-up, so nobody else can claim it.

    Once the URL works, the call path is checked (trusted HTTPS, the realtime channel through the tunnel,
    a model, speech-to-text, text-to-speech, latency) and shown under the URL: what is missing, and how to
    fix it, before the phone is out. When you give no model connection and an Ollama answers on this
    machine, Open WebUI is pointed at it.
    """
    from owui_dev.config import build_up_settings, load_config_file, merge_with_file
    from owui_dev.console import make_reporter
    from owui_dev.session import run_up

    options = merge_with_file(load_config_file(config), _given(options))
    settings = build_up_settings(json=json_output, **options)  # type: ignore[arg-type]
    program = click.get_current_context().find_root().obj
    if isinstance(program, Program):
        program.exit_at_once = True  # from here on, every way out has undone what it started
    run_up(settings, make_reporter(json_output=json_output))


@cli.command()
@_name_option
@click.option("--rm", "remove", is_flag=True, help="Also remove the container (the data volume stays).")
@click.option("--purge", is_flag=True, help="Remove the container AND its data volume (asks first).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before --purge.")
@_common
@_boundary
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


@cli.command()
@_name_option
@click.option("--show-password", is_flag=True, help="Also show the admin password owui-dev created.")
@_common
@_boundary
def status(name: str, show_password: bool, json_output: bool, debug: bool) -> None:
    """Show the managed container: state, health, published port, image, sign-in, and the public URL if `up` runs."""
    from owui_dev.console import make_reporter
    from owui_dev.manage import status as read_status

    report = read_status(name, show_password=show_password)

    def human(out: Console) -> None:
        from rich.table import Table

        if not report.exists:
            out.print(f"No container named {name}. Start one with `owui-dev up`.")
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
            ("sign-in", _sign_in_text(report.admin_email, report.admin_password, show_password=show_password)),
        ]
        if report.guest_email:
            rows.append(("guest", f"{report.guest_email} / {report.guest_password}"))
        for key, value in rows:
            table.add_row(f"[bold]{key}[/]", value)
        out.print(table)

    make_reporter(json_output=json_output).result(report.as_dict(), human)


@cli.command()
@_name_option
@click.option("--follow", "-f", is_flag=True, help="Keep printing new lines until Ctrl+C.")
@click.option("--tail", type=click.IntRange(min=0), default=None, help="Only the last N lines [default: all].")
@_common
@_boundary
def logs(name: str, follow: bool, tail: int | None, json_output: bool, debug: bool) -> None:
    """Print the managed container's logs."""
    from owui_dev.manage import logs as read_logs

    try:
        for chunk in read_logs(name, follow=follow, tail=tail):
            sys.stdout.write(chunk)
            sys.stdout.flush()
    except KeyboardInterrupt:
        return


def _sign_in_text(email: str | None, password: str | None, *, show_password: bool) -> str:
    if not email:
        return "- (no admin created by owui-dev for this volume)"
    if password:
        return f"{email} / {password}"
    return f"{email} / " + ("(not kept)" if show_password else "******** (--show-password)")


@cli.command()
@_name_option
@click.option("--image", default=DEFAULT_IMAGE, show_default=True, help="Open WebUI image `up` would run.")
@click.option(
    "--port",
    type=int,
    default=None,
    help=f"Local port `up` would use on 127.0.0.1 [default: {DEFAULT_PORT}, or the next free one if busy].",
)
@click.option(
    "--ngrok-path",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    help="ngrok binary to check [env NGROK_PATH; else `ngrok` on PATH; else the managed download].",
)
@click.option("--authtoken", default=None, help="ngrok authtoken [env NGROK_AUTHTOKEN; else ngrok's own config].")
@_config_option
@_common
@_boundary
def doctor(json_output: bool, debug: bool, config: Path | None, **options: Any) -> None:
    """Check what `up` needs, each with a fix; starts nothing, downloads nothing.

    Checks the Docker engine and its version, disk space for the image, the image, the container name,
    the local port, the ngrok binary and its version, the authtoken (never shown), and whether ngrok's
    service is reachable (one TCP connection, no tunnel; OWUI_DEV_NGROK_PROBE=HOST:PORT probes elsewhere,
    =off skips it). Exits 10 when a check fails; warnings alone exit 0.
    """
    from owui_dev.config import build_doctor_settings, load_config_file, merge_with_file
    from owui_dev.console import make_reporter
    from owui_dev.doctor import failed, report, run_checks
    from owui_dev.errors import ChecksFailedError

    # Every setting of the file is checked as `up` would check it; doctor then uses those it checks.
    merged = merge_with_file(load_config_file(config), _given(options))
    checks = run_checks(build_doctor_settings(**merged))  # type: ignore[arg-type]

    def human(out: Console) -> None:
        from owui_dev.console import checks_table

        out.print(checks_table(checks, verdict=": ready for `up`."))

    make_reporter(json_output=json_output).result(report(checks), human)
    if failed(checks):
        names = ", ".join(check.name for check in failed(checks))
        raise ChecksFailedError(
            f"{len(failed(checks))} check(s) failed: {names}.", hint="Fix them as their hints say, then run again."
        )


@cli.command()
@_name_option
@click.option("--call", is_flag=True, help="The code opens a new chat in voice-call mode (with the model `up` chose).")
@_qr_style_option
@click.option("--png", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Also save it as PNG.")
@_common
@_boundary
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


@cli.command()
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
@_common
@_boundary
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


class Program:
    """What `main` learns from the command it ran (click's root context object)."""

    exit_at_once = False


def main() -> None:
    program = Program()
    try:
        cli(prog_name="owui-dev", obj=program)
    except SystemExit as done:
        if program.exit_at_once:
            _exit_at_once(done.code)
        raise


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
