from __future__ import annotations

import pytest
from qrdecode import decode_terminal_qr

from owui_dev import qr

URLS = [
    "https://3f9c-81-2-69-142.ngrok-free.app",
    "https://example.ngrok.app",
    "https://127.0.0.1:44321",
]


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("render", [qr.render_half_blocks, qr.render_full_blocks])
def test_terminal_renderings_decode_back_to_the_url(url: str, render) -> None:
    lines = render(qr.qr_matrix(url))
    assert decode_terminal_qr("\n".join(lines)) == url


def test_quiet_zone_is_light_all_round() -> None:
    matrix = qr.qr_matrix("https://example.ngrok.app")
    border = qr.QUIET_ZONE
    assert all(not any(row) for row in matrix[:border] + matrix[-border:])
    assert all(not any(row[:border]) and not any(row[-border:]) for row in matrix)


def test_half_blocks_are_half_as_tall_as_full_blocks() -> None:
    matrix = qr.qr_matrix("https://example.ngrok.app")
    half, full = qr.render_half_blocks(matrix), qr.render_full_blocks(matrix)
    assert len(half) == (len(matrix) + 1) // 2
    assert len(full) == len(matrix)
    assert qr.rendered_width(matrix, full=True) == 2 * qr.rendered_width(matrix, full=False) == len(full[0])


def test_png_decodes_to_the_url(tmp_path) -> None:
    import zxingcpp
    from PIL import Image

    url = "https://example.ngrok.app"
    path = qr.save_png(url, tmp_path / "sub" / "qr.png")
    results = zxingcpp.read_barcodes(Image.open(path))
    assert [r.text for r in results] == [url]
