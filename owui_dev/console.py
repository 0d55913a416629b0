"""Everything the user sees: the one place that knows about rich, colours, widths and JSON lines.

Results go to stdout, progress and errors to stderr. With `--json`, stdout carries exactly one JSON
object per result and stderr carries JSON event lines, so a machine never parses prose.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from owui_dev.checks import Check
    from owui_dev.docker_engine import PullProgress
    from owui_dev.errors import OwuiDevError

QR_STYLE = "#000000 on #ffffff"


@dataclass(frozen=True)
class Announcement:
    public_url: str
    local_url: str
    container_name: str
    image: str
    volume: str
    inspector_url: str | None = None
    qr_style: str = "half"
    qr_png: str | None = None
    stop_hint: str = "Press Ctrl+C to stop."
    notes: Sequence[str] = field(default_factory=tuple)
    # The call-path checks (owui_dev.readiness), shown under the URL.
    checks: Sequence[Check] = field(default_factory=tuple)
    # --call: the QR code opens a new chat in voice-call mode, with `model` when there is one.
    call: bool = False
    model: str | None = None
    # What the phone shows, in order (said once, numbered), and tips beside them.
    phone_steps: Sequence[str] = field(default_factory=tuple)
    phone_notes: Sequence[str] = field(default_factory=tuple)
    extra: dict[str, Any] = field(default_factory=dict)
    # Single keys answer while `up` runs (owui_dev.keys): the footer names them.
    keys: bool = False
    # --present: made for a projector (no admin password; the guest's sign-in large, with a QR of its password).
    present: bool = False

    @property
    def guest(self) -> tuple[str, str] | None:
        email, password = self.extra.get("guest_email"), self.extra.get("guest_password")
        return (str(email), str(password)) if email and password else None

    @property
    def call_url(self) -> str:
        from owui_dev.openwebui import call_url

        return call_url(self.public_url, self.model)

    @property
    def qr_url(self) -> str:
        """What the QR code opens."""
        return self.call_url if self.call else self.public_url

    def as_json(self) -> dict[str, Any]:
        return {
            "event": "ready",
            "public_url": self.public_url,
            "call_url": self.call_url,
            "qr_url": self.qr_url,
            "model": self.model,
            "local_url": self.local_url,
            "container_name": self.container_name,
            "image": self.image,
            "volume": self.volume,
            "inspector_url": self.inspector_url,
            "qr_png": self.qr_png,
            "checks": [check.as_dict() for check in self.checks],
            **self.extra,
        }


class Reporter(Protocol):
    """What a command needs from the screen; `HumanReporter` and `JsonReporter` provide it."""

    def step(self, text: str) -> None: ...
    def note(self, text: str) -> None: ...
    def warn(self, text: str) -> None: ...
    def event(self, name: str, **fields: Any) -> None: ...
    def activity(self, text: str) -> contextlib.AbstractContextManager[None]: ...
    def pull(self, ref: str) -> contextlib.AbstractContextManager[Callable[[PullProgress], None]]: ...
    def waiting(self, text: str) -> contextlib.AbstractContextManager[Callable[[float, str], None]]: ...
    def announce_head(self, announcement: Announcement) -> None: ...
    def announce_access(self, announcement: Announcement) -> None: ...
    def announce(self, announcement: Announcement, *, again: bool = False, head_shown: bool = False) -> None: ...
    def stopped(self, actions: Sequence[str]) -> None: ...
    def checks(self, checks: Sequence[Check]) -> None: ...
    def ask_secret(self, prompt: str) -> str | None: ...
    def result(self, data: dict[str, Any], human: Callable[[Console], None]) -> None: ...


def _consoles() -> tuple[Console, Console]:
    from rich.console import Console

    out, err = Console(highlight=False), Console(stderr=True, highlight=False)
    for console in (out, err):
        # Into a file or a pipe, lines stay whole: hard wraps only hurt grep and log viewers.
        console.soft_wrap = not console.is_terminal
    return out, err


class HumanReporter:
    def __init__(self) -> None:
        self.out, self.err = _consoles()

    def step(self, text: str) -> None:
        self.err.print(f"[green]✓[/] {text}")

    def note(self, text: str) -> None:
        self.err.print(f"  [dim]{_escape(text)}[/]")

    def warn(self, text: str) -> None:
        self.err.print(f"[yellow]![/] {_escape(text)}")

    def event(self, name: str, **fields: Any) -> None:
        """Machine events have no human form; the human side uses step/note/warn."""

    @contextlib.contextmanager
    def activity(self, text: str) -> Iterator[None]:
        with self.err.status(text, spinner="dots"):
            yield

    @contextlib.contextmanager
    def pull(self, ref: str) -> Iterator[Callable[[PullProgress], None]]:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TransferSpeedColumn,
        )

        columns = (
            SpinnerColumn(),
            TextColumn(f"Pulling {_escape(ref)}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TextColumn("[dim]{task.fields[layers]}"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=self.err, transient=True) as bar:
            task = bar.add_task("pull", total=None, layers="")

            def update(progress: PullProgress) -> None:
                total = progress.bytes_total or None
                layers = f"{progress.layers_done}/{len(progress.layers)} layers" if progress.layers else ""
                bar.update(task, completed=progress.bytes_done, total=total, layers=layers)

            yield update
        self.step(f"Pulled {ref}")

    @contextlib.contextmanager
    def waiting(self, text: str) -> Iterator[Callable[[float, str], None]]:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        columns = (
            SpinnerColumn(),
            TextColumn(_escape(text)),
            TimeElapsedColumn(),
            TextColumn("[dim]{task.fields[line]}"),
        )
        with Progress(*columns, console=self.err, transient=True) as spinner:
            task = spinner.add_task("wait", total=None, line="")
            room = max(10, self.err.width - len(text) - 20)

            def update(elapsed: float, line: str) -> None:
                line = " ".join(line.split())
                spinner.update(task, line=_escape(line[:room]))

            yield update

    def announce_head(self, a: Announcement) -> None:
        """The warning, the URL and its QR code, as soon as the URL is verified: the phone can scan while the
        call-path checks run; `announce(..., head_shown=True)` then adds the rest under it."""
        from rich.panel import Panel
        from rich.text import Text

        out = self.out
        warning = Text.assemble(
            ("This URL is public: ", "bold"),
            "anyone who has it can reach your Open WebUI. It is for development and demos.\n",
            ("For production", "bold"),
            ", put Open WebUI behind a real reverse proxy (Caddy, Traefik, Nginx) or a cloud "
            "load balancer with a real certificate — not a tunnel from a laptop.",
        )
        out.print()
        out.print(
            Panel(
                warning,
                title="[bold]⚠  DEVELOPMENT ONLY — NOT FOR PRODUCTION[/]",
                border_style="bold yellow",
                expand=False,
                padding=(0, 1),
            )
        )
        scan = "scan to start a voice call on your phone" if a.call else "scan to open on your phone"
        out.print(f"  [bold green]{a.public_url}[/]   [dim]({scan})[/]")
        self.print_qr(a.qr_url, a.qr_style)
        if a.call:
            out.print(f"  Call link: {_escape(a.call_url)}")

    def announce_access(self, a: Announcement) -> None:
        """Who signs in, and how, under the QR code: known once the admin's sign-in (which went on while the
        tunnel opened) is in, a moment after the URL."""
        for note in a.notes:
            self.out.print(f"  {_escape(note)}")
        if a.present and a.guest is not None:
            self.guest_sign_in(*a.guest)

    def announce(self, a: Announcement, *, again: bool = False, head_shown: bool = False) -> None:
        from rich.padding import Padding
        from rich.text import Text

        out = self.out
        if not head_shown:
            self.announce_head(a)
            self.announce_access(a)
        if a.checks and not again:
            out.print("  [bold]Call readiness[/]")
            out.print(checks_table(a.checks, indent=2))
        if a.phone_steps and not again:
            out.print("  [bold]On the phone:[/]")
            for number, step in enumerate(a.phone_steps, 1):
                # Indented as a block, so a wrapped line stays under its step.
                out.print(Padding(Text(f"{number}. {step}"), (0, 0, 0, 4)))
        for note in a.phone_notes if not again else ():
            out.print(Padding(Text(note, style="dim"), (0, 0, 0, 2)))
        out.print(f"  Local: {a.local_url}" + (f"      Inspector: {a.inspector_url}" if a.inspector_url else ""))
        if a.qr_png:
            out.print(f"  QR image: {_escape(a.qr_png)}")
        if a.keys:
            out.print(f"  {keys_footer()}")
        out.print(f"  [bold]{a.stop_hint}[/]")

    def print_qr(self, url: str, style: str) -> None:
        """The QR code for `url` on stdout, where a terminal can show it (not into a pipe or file)."""
        from rich.text import Text

        from owui_dev import qr

        if style == "none":
            return
        if not self.out.is_terminal:
            return
        matrix = qr.qr_matrix(url)
        full = style == "full"
        if full and qr.rendered_width(matrix, full=True) + 2 > self.out.width:
            full = False
        if qr.rendered_width(matrix, full=False) + 2 > self.out.width:
            self.out.print("  [dim](terminal too narrow for the QR code: widen it, or use --qr-png FILE)[/]")
            return
        lines = qr.render_full_blocks(matrix) if full else qr.render_half_blocks(matrix)
        # NO_COLOR keeps decoration away, but the QR code's colours are its content: without them the
        # glyphs take the theme's foreground, and on a dark theme the code comes out inverted, which many
        # phone cameras cannot read. So the code alone stays black on white.
        no_color, self.out.no_color = self.out.no_color, False
        try:
            for line in lines:
                self.out.print(Text("  ") + Text(line, style=QR_STYLE), no_wrap=True, crop=False)
        finally:
            self.out.no_color = no_color

    # -- what the keys show while `up` runs (owui_dev.keys) --------------------------------------------

    def show_url(self, a: Announcement) -> None:
        """q: the URL and its QR code again, without the rest of the announcement."""
        self.out.print()
        self.out.print(f"  [bold green]{a.public_url}[/]")
        self.print_qr(a.qr_url, a.qr_style)
        if a.call:
            self.out.print(f"  (the code opens a voice call: {_escape(a.call_url)})")

    def show_call(self, a: Announcement) -> None:
        """c: the QR code that opens a voice call (what `owui-dev qr --call` shows)."""
        self.out.print()
        self.out.print(f"  Call link: [bold green]{_escape(a.call_url)}[/]")
        self.print_qr(a.call_url, a.qr_style)

    def guest_sign_in(self, email: str, password: str) -> None:
        """--present: the guest's sign-in, large enough to read from the back of the room, and a small QR
        code of its password to copy on the phone."""
        from rich.panel import Panel
        from rich.text import Text

        sign_in = Text.assemble(
            ("Sign in as the guest\n\n", "bold"),
            ("  e-mail    ", "dim"),
            (email, "bold reverse"),
            "\n\n",
            ("  password  ", "dim"),
            (password, "bold reverse"),
        )
        self.out.print(Panel(sign_in, border_style="bold green", expand=False, padding=(1, 3)))
        self.out.print("  [dim]Scan to copy the guest's password (the camera offers to copy the text):[/]")
        self.print_qr(password, "half")

    def show_sign_in(self, a: Announcement) -> None:
        """p: how to sign in; with owui-dev's own admin, a QR code of the password to copy on the phone.
        Under --present the guest's, never the admin's."""
        self.out.print()
        email, password = a.extra.get("admin_email"), a.extra.get("admin_password")
        if a.present:
            if a.guest is not None:
                self.guest_sign_in(*a.guest)
            else:
                self.out.print("  No guest account (--guest): the admin's sign-in is not shown under --present.")
        elif not a.extra.get("auth", True):
            self.out.print("  No sign-in: authentication is off (--allow-no-auth).")
        elif email and password:
            self.out.print(f"  Sign in: {_escape(str(email))} / {_escape(str(password))}")
            self.out.print("  [dim]Scan to copy the password (the camera offers to copy the text):[/]")
            self.print_qr(str(password), a.qr_style)
        else:
            self.out.print("  Sign in with your existing Open WebUI account (this instance already had users).")

    def show_keys(self) -> None:
        """?: the keys and what they do."""
        from owui_dev.keys import KEYS

        self.out.print()
        for key, what in KEYS.items():
            self.out.print(f"  [bold]{_escape(key)}[/]  {_escape(what)}")
        self.out.print("  [bold]Ctrl+C[/]  stop")

    def checks(self, checks: Sequence[Check]) -> None:
        """Checks that come after the announcement (`up --check-voice`), in the same table."""
        self.out.print(checks_table(checks, indent=2))

    def stopped(self, actions: Sequence[str]) -> None:
        for action in actions:
            self.err.print(f"[green]✓[/] {_escape(action[0].upper() + action[1:])}")

    def ask_secret(self, prompt: str) -> str | None:
        import getpass

        if not (sys.stdin.isatty() and self.err.is_terminal):
            return None
        self.err.print(prompt)
        try:
            value = getpass.getpass("ngrok authtoken (input hidden): ")
        except EOFError:
            return None
        return value.strip() or None

    def result(self, data: dict[str, Any], human: Callable[[Console], None]) -> None:
        human(self.out)

    def error(self, err: OwuiDevError, traceback_text: str | None = None) -> None:
        if traceback_text:
            self.err.print(f"[dim]{_escape(traceback_text)}[/]")
        self.err.print(f"[bold red]✗ {_escape(err.message)}[/]")
        for line in err.details:
            self.err.print(f"  [dim]│ {_escape(line)}[/]", no_wrap=True, overflow="ellipsis")
        if err.hint:
            self.err.print(f"  [yellow]→[/] {_escape(err.hint)}")


class JsonReporter:
    """One JSON object on stdout per result; progress and errors as JSON lines on stderr."""

    def __init__(self) -> None:
        self._last_progress = 0.0

    def _emit(self, stream: Any, data: dict[str, Any]) -> None:
        stream.write(json.dumps(data, separators=(",", ":")) + "\n")
        stream.flush()

    def event(self, name: str, **fields: Any) -> None:
        self._emit(sys.stderr, {"event": name, **fields})

    def step(self, text: str) -> None:
        self.event("step", message=text)

    def note(self, text: str) -> None:
        self.event("note", message=text)

    def warn(self, text: str) -> None:
        self.event("warning", message=text)

    @contextlib.contextmanager
    def activity(self, text: str) -> Iterator[None]:
        self.event("activity", message=text)
        yield

    @contextlib.contextmanager
    def pull(self, ref: str) -> Iterator[Callable[[PullProgress], None]]:
        self.event("pull", image=ref, status="started")

        def update(progress: PullProgress) -> None:
            now = time.monotonic()
            if now - self._last_progress >= 1.0:
                self._last_progress = now
                self.event("pull", image=ref, bytes_done=progress.bytes_done, bytes_total=progress.bytes_total)

        yield update
        self.event("pull", image=ref, status="done")

    @contextlib.contextmanager
    def waiting(self, text: str) -> Iterator[Callable[[float, str], None]]:
        self.event("waiting", message=text)
        yield lambda elapsed, line: None

    def announce_head(self, announcement: Announcement) -> None:
        """Machines hear of the verified URL from the `url` event; stdout keeps its one `ready` object."""

    def announce_access(self, announcement: Announcement) -> None:
        """The sign-ins are in the `ready` object."""

    def announce(self, announcement: Announcement, *, again: bool = False, head_shown: bool = False) -> None:
        # stdout carries one object, once; a later URL change is a `tunnel_up` event on stderr.
        if not again:
            self._emit(sys.stdout, announcement.as_json())

    def checks(self, checks: Sequence[Check]) -> None:
        self.event("checks", checks=[check.as_dict() for check in checks])

    def stopped(self, actions: Sequence[str]) -> None:
        self.event("stopped", actions=list(actions))

    def ask_secret(self, prompt: str) -> str | None:
        return None

    def result(self, data: dict[str, Any], human: Callable[[Console], None]) -> None:
        self._emit(sys.stdout, data)

    def error(self, err: OwuiDevError, traceback_text: str | None = None) -> None:
        payload = err.as_dict()
        if traceback_text:
            payload["traceback"] = traceback_text
        self._emit(sys.stderr, {"event": "error", **payload})


CHECK_MARKS = {"ok": "[green]✓[/]", "warn": "[yellow]![/]", "fail": "[bold red]✗[/]"}


def checks_table(checks: Sequence[Check], *, indent: int = 0, verdict: str | None = None) -> Table:
    """Checks as a table: mark, name, detail and (unless ok) how to fix it. Shared by doctor, up and check.

    With `verdict`, a last line says that no check failed (and how many warned), ending with it."""
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("", no_wrap=True)
    table.add_column("check", no_wrap=True)
    table.add_column("detail  [dim](→ how to fix)[/]", overflow="fold")
    for check in checks:
        hint = f"\n[yellow]→[/] {_escape(check.hint)}" if check.hint and check.status != "ok" else ""
        table.add_row(" " * indent + CHECK_MARKS[check.status], check.name, _escape(check.detail) + hint)
    if verdict is not None and not any(check.status == "fail" for check in checks):
        warnings = sum(check.status == "warn" for check in checks)
        table.caption = f"[green]No failing check[/]{f' ({warnings} warning(s))' if warnings else ''}{verdict}"
        table.caption_justify = "left"
    return table


def keys_footer() -> str:
    """The footer's list of keys, e.g. `Keys: q URL+QR · c call QR · …`."""
    from owui_dev.keys import SHORT

    return "Keys: " + " · ".join(f"[bold]{_escape(key)}[/] {label}" for key, label in SHORT.items())


def make_reporter(*, json_output: bool) -> HumanReporter | JsonReporter:
    return JsonReporter() if json_output else HumanReporter()


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
