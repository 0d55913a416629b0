"""URL -> QR matrix -> lines of terminal text (or a PNG).

The renderings here are plain characters; the console paints them black on white explicitly, so the
code reads the same on a dark and on a light terminal theme. Each rendering keeps the quiet zone (the
light margin a camera needs to find the code).
"""

from __future__ import annotations

from pathlib import Path

QUIET_ZONE = 2  # modules; the spec asks 4, phone cameras read 2 reliably and it saves 4 lines

Matrix = list[list[bool]]


def qr_matrix(data: str, *, border: int = QUIET_ZONE) -> Matrix:
    """Dark modules as True, quiet zone included; the smallest version that fits, medium error correction."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=border)
    code.add_data(data)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def render_half_blocks(matrix: Matrix) -> list[str]:
    """Two module rows per text line: compact, square-looking modules on most terminal fonts."""
    rows = [*matrix, [False] * len(matrix[0])] if len(matrix) % 2 else matrix
    chars = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}
    return [
        "".join(chars[top, bottom] for top, bottom in zip(rows[y], rows[y + 1], strict=True))
        for y in range(0, len(rows), 2)
    ]


def render_full_blocks(matrix: Matrix) -> list[str]:
    """One module row per line, two characters per module: for fonts whose line spacing splits half-blocks."""
    return ["".join("██" if dark else "  " for dark in row) for row in matrix]


def rendered_width(matrix: Matrix, *, full: bool) -> int:
    return len(matrix[0]) * (2 if full else 1)


def save_png(data: str, path: Path, *, scale: int = 10) -> Path:
    """The same code as an image, with the standard 4-module quiet zone, for sharing or printing."""
    import png

    matrix = qr_matrix(data, border=4)
    rows = [[0 if dark else 1 for dark in row for _ in range(scale)] for row in matrix for _ in range(scale)]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        png.Writer(len(rows[0]), len(rows), greyscale=True, bitdepth=1).write(handle, rows)
    return path
