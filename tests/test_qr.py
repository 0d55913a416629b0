"""The QR code as a phone camera sees it: painted with the colours the terminal shows, no margin added."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from qrdecode import THEMES, QrUnreadableError, Theme, decode_png, decode_terminal_qr, paint, plain_rows

from owui_dev import qr

URLS = [
    "https://3f9c-81-2-69-142.ngrok-free.app",
    "https://example.ngrok.app",
    "https://127.0.0.1:44321",
]


def console_output(url: str, style: str, *, color_system: str = "truecolor", no_color: bool = False) -> str:
    """What HumanReporter prints for the QR code on a terminal, escape sequences and all."""
    from rich.console import Console

    from owui_dev.console import Announcement, HumanReporter

    reporter = HumanReporter()
    buffer = io.StringIO()
    reporter.out = Console(
        file=buffer,
        force_terminal=True,
        color_system=color_system,
        width=120,
        no_color=no_color,  # type: ignore[arg-type]
    )
    announcement = Announcement(public_url=url, local_url="", container_name="", image="", volume="", qr_style=style)
    reporter.print_qr(announcement.qr_url, announcement.qr_style)
    return buffer.getvalue()


@pytest.mark.parametrize("theme", THEMES, ids=lambda t: t.name)
@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("style", ["half", "full"])
def test_the_printed_code_reads_on_dark_and_light_terminals(url: str, style: str, theme: Theme) -> None:
    assert decode_terminal_qr(console_output(url, style), theme) == url


@pytest.mark.parametrize("theme", THEMES, ids=lambda t: t.name)
@pytest.mark.parametrize("color_system", ["256", "standard"])
def test_fewer_colours_still_read(color_system: str, theme: Theme) -> None:
    url = URLS[0]
    assert decode_terminal_qr(console_output(url, "half", color_system=color_system), theme) == url


@pytest.mark.parametrize("theme", THEMES, ids=lambda t: t.name)
def test_no_color_keeps_the_code_black_on_white(theme: Theme) -> None:
    url = URLS[0]
    assert decode_terminal_qr(console_output(url, "half", no_color=True), theme) == url


@pytest.mark.parametrize("render", [qr.render_half_blocks, qr.render_full_blocks])
def test_the_renderings_keep_the_quiet_zone(render) -> None:  # type: ignore[no-untyped-def]
    url = URLS[0]
    image = paint(plain_rows(render(qr.qr_matrix(url))), THEMES[0])
    from qrdecode import decode_image

    assert decode_image(image, quiet_zone=qr.QUIET_ZONE) == url


def test_the_check_itself_rejects_a_code_without_its_quiet_zone() -> None:
    """The decoder used above is strict enough: a code drawn edge to edge on a dark terminal fails it."""
    lines = qr.render_half_blocks(qr.qr_matrix(URLS[0], border=0))
    image = paint(plain_rows(lines), THEMES[0])
    from qrdecode import decode_image

    with pytest.raises(QrUnreadableError):
        decode_image(image, quiet_zone=2)


def test_half_blocks_are_half_as_tall_as_full_blocks() -> None:
    matrix = qr.qr_matrix("https://example.ngrok.app")
    half, full = qr.render_half_blocks(matrix), qr.render_full_blocks(matrix)
    assert len(half) == (len(matrix) + 1) // 2
    assert len(full) == len(matrix)
    assert qr.rendered_width(matrix, full=True) == 2 * qr.rendered_width(matrix, full=False) == len(full[0])


def test_png_decodes_as_written_with_the_standard_quiet_zone(tmp_path: Path) -> None:
    url = "https://example.ngrok.app"
    path = qr.save_png(url, tmp_path / "sub" / "qr.png")
    assert decode_png(path, quiet_zone=4) == url
