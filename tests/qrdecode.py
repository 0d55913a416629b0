"""Read a QR code back off a terminal as a phone camera sees it, with a real decoder (zxing-cpp).

A terminal shows character cells. Each cell has a background colour and draws its glyph in a foreground
colour; cells without an explicit colour show the terminal theme's own colours. So the captured output
(ANSI escape sequences included) is replayed onto a grid of cells, and each cell is painted with the colours
it really has: '▀' foreground on top and background below, '▄' the other way round, '█' all foreground,
' ' all background. The picture is surrounded by the terminal's own background (dark or light theme), and
nothing else: no margin is added, so the code's own quiet zone has to be there.

The decoder is told not to try inverted (light-on-dark) codes: many phone cameras do not, and a code that
only reads inverted is a code that fails on half the phones.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
CSI = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])|\x1b\][^\x07]*\x07")
BLOCKS = {" ": (0, 0), "▀": (1, 0), "▄": (0, 1), "█": (1, 1)}
GLYPHS = set(BLOCKS)

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Theme:
    """A terminal theme: what cells without an explicit colour look like."""

    name: str
    foreground: RGB
    background: RGB


DARK = Theme("dark", foreground=(0xD4, 0xD4, 0xD4), background=(0x1E, 0x1E, 0x1E))
LIGHT = Theme("light", foreground=(0x1E, 0x1E, 0x1E), background=(0xFF, 0xFF, 0xFF))
THEMES = (DARK, LIGHT)

# The 16 ANSI colours as xterm shows them (themes vary; black and white are what matter here).
_ANSI16: list[RGB] = [
    (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
    (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255),
    (255, 255, 255),
]  # fmt: skip


def xterm_256(index: int) -> RGB:
    """The xterm 256-colour palette: 16 ANSI colours, a 6x6x6 cube, 24 greys."""
    if index < 16:
        return _ANSI16[index]
    if index < 232:
        index -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return steps[index // 36], steps[(index // 6) % 6], steps[index % 6]
    grey = 8 + (index - 232) * 10
    return grey, grey, grey


@dataclass(frozen=True)
class Cell:
    char: str
    fg: RGB | None  # None: the theme's foreground
    bg: RGB | None  # None: the theme's background
    reverse: bool = False

    def colours(self, theme: Theme) -> tuple[RGB, RGB]:
        fg = self.fg or theme.foreground
        bg = self.bg or theme.background
        return (bg, fg) if self.reverse else (fg, bg)


def strip_ansi(text: str) -> str:
    return ANSI.sub("", text)


def screen_rows(text: str) -> list[list[Cell]]:
    """Replay terminal output into rows of cells, keeping each cell's SGR colours.

    Good enough for line-oriented output: '\\r' returns to column 0, '\\n' starts a new row, SGR sequences
    set colours; other control sequences (cursor moves of a spinner) are ignored.
    """
    rows: list[list[Cell]] = []
    fg: RGB | None = None
    bg: RGB | None = None
    reverse = False
    for line in text.split("\n"):
        row: list[Cell] = []
        col = 0
        pos = 0
        while pos < len(line):
            match = CSI.match(line, pos)
            if match:
                pos = match.end()
                if match.group(2) == "m":
                    fg, bg, reverse = _sgr(match.group(1), fg, bg, reverse)
                continue
            char = line[pos]
            pos += 1
            if char == "\r":
                col = 0
                continue
            if char == "\x1b" or ord(char) < 32:
                continue
            cell = Cell(char, fg, bg, reverse)
            if col < len(row):
                row[col] = cell
            else:
                row.append(cell)
            col += 1
        rows.append(row)
    return rows


def _sgr(params: str, fg: RGB | None, bg: RGB | None, reverse: bool) -> tuple[RGB | None, RGB | None, bool]:
    codes = [int(p) if p.isdigit() else 0 for p in params.split(";")] if params else [0]
    i = 0
    while i < len(codes):
        code = codes[i]
        if code == 0:
            fg, bg, reverse = None, None, False
        elif code == 7:
            reverse = True
        elif code == 27:
            reverse = False
        elif 30 <= code <= 37:
            fg = _ANSI16[code - 30]
        elif 90 <= code <= 97:
            fg = _ANSI16[code - 90 + 8]
        elif code == 39:
            fg = None
        elif 40 <= code <= 47:
            bg = _ANSI16[code - 40]
        elif 100 <= code <= 107:
            bg = _ANSI16[code - 100 + 8]
        elif code == 49:
            bg = None
        elif code in (38, 48):
            colour: RGB | None = None
            if codes[i + 1 : i + 2] == [5]:
                colour = xterm_256(codes[i + 2])
                i += 2
            elif codes[i + 1 : i + 2] == [2]:
                r, g, b = codes[i + 2 : i + 5]
                colour = (r, g, b)
                i += 4
            if code == 38:
                fg = colour
            else:
                bg = colour
        i += 1
    return fg, bg, reverse


def _is_qr_row(row: Sequence[Cell]) -> bool:
    # A row of the quiet zone is all spaces, but painted: it belongs to the code as much as the glyphs do.
    chars = {cell.char for cell in row}
    painted = any(cell.bg is not None or cell.reverse for cell in row)
    return bool(row) and chars <= GLYPHS and (bool(chars & {"▀", "▄", "█"}) or painted)


def qr_rows(text: str) -> list[list[Cell]]:
    """The longest run of consecutive rows made only of block glyphs and spaces, with their colours."""
    best: list[list[Cell]] = []
    run: list[list[Cell]] = []
    for row in [*screen_rows(text), []]:
        if _is_qr_row(row):
            run.append(row)
            continue
        if len(run) > len(best):
            best = run
        run = []
    return best


def qr_lines(text: str) -> list[str]:
    return ["".join(cell.char for cell in row) for row in qr_rows(text)]


CELL_W, CELL_H = 6, 12  # a terminal cell is about twice as tall as wide
TERMINAL_MARGIN = 8  # cells of the terminal's own background around what was printed (the screen goes on)


def paint(rows: Sequence[Sequence[Cell]], theme: Theme) -> Any:
    """The cells as the terminal shows them, in the given theme, on that theme's background."""
    from PIL import Image

    width = max(len(row) for row in rows) + 2 * TERMINAL_MARGIN
    height = len(rows) + 2 * TERMINAL_MARGIN
    image = Image.new("RGB", (width * CELL_W, height * CELL_H), theme.background)
    pixels = image.load()
    for y, row in enumerate(rows):
        for x, cell in enumerate(row):
            fg, bg = cell.colours(theme)
            top, bottom = BLOCKS.get(cell.char, (0, 0))
            x0, y0 = (x + TERMINAL_MARGIN) * CELL_W, (y + TERMINAL_MARGIN) * CELL_H
            for dy in range(CELL_H):
                ink = top if dy < CELL_H // 2 else bottom
                colour = fg if ink else bg
                for dx in range(CELL_W):
                    pixels[x0 + dx, y0 + dy] = colour
    return image


def plain_rows(lines: Sequence[str]) -> list[list[Cell]]:
    """Plain rendered lines as a terminal would show them painted black on white (the console's style)."""
    return [[Cell(char, (0, 0, 0), (255, 255, 255)) for char in line] for line in lines]


class QrUnreadableError(AssertionError):
    pass


def decode_image(image: Any, *, quiet_zone: int) -> str:
    """Decode like a phone camera (no inverted codes), and insist on `quiet_zone` light modules all round."""
    import zxingcpp

    results = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode, try_invert=False)
    if not results:
        raise QrUnreadableError("zxing-cpp found no dark-on-light QR code")
    result = results[0]
    _check_quiet_zone(image.convert("L"), result, quiet_zone)
    return str(result.text)


def _check_quiet_zone(grey: Any, result: Any, modules: int) -> None:
    """The `modules`-wide band around the symbol must be light: a camera finds the code by that margin."""
    pos = result.position
    xs = [p.x for p in (pos.top_left, pos.top_right, pos.bottom_left, pos.bottom_right)]
    ys = [p.y for p in (pos.top_left, pos.top_right, pos.bottom_left, pos.bottom_right)]
    left, right, top, bottom = min(xs), max(xs), min(ys), max(ys)
    pixels = grey.load()
    # The top-left finder pattern's outer ring is 7 modules wide: its dark run gives the module size.
    y = top + 1
    x = left
    while x < grey.width and pixels[x, y] < 128:
        x += 1
    module = (x - left) / 7
    if module <= 0:
        raise QrUnreadableError("could not measure the module size")
    # The corners zxing reports can be a pixel off either way: allow a quarter module of slack on each edge.
    slack = max(1, round(module / 4))
    margin = round(modules * module) - slack
    box = (left - margin, top - margin, right + margin, bottom + margin)
    if box[0] < 0 or box[1] < 0 or box[2] >= grey.width or box[3] >= grey.height:
        raise QrUnreadableError(f"less than {modules} modules of quiet zone: the code touches the picture's edge")
    dark = [
        (px, py)
        for py in range(box[1], box[3] + 1)
        for px in range(box[0], box[2] + 1)
        if not (left - slack <= px <= right + slack and top - slack <= py <= bottom + slack) and pixels[px, py] < 128
    ]
    if dark:
        raise QrUnreadableError(f"dark pixels within {modules} modules of the code (no quiet zone): {dark[:3]}")


def decode_terminal_qr(text: str, theme: Theme = DARK, *, quiet_zone: int = 2, save: Path | None = None) -> str:
    """The URL in the QR code of captured terminal output, as the terminal paints it in `theme`."""
    rows = qr_rows(text)
    if not rows:
        raise QrUnreadableError("no QR code found in the output")
    image = paint(rows, theme)
    if save is not None:
        image.save(save)
    try:
        return decode_image(image, quiet_zone=quiet_zone)
    except QrUnreadableError as err:
        raise QrUnreadableError(f"{err} ({theme.name} theme):\n" + "\n".join(qr_lines(text))) from None


def decode_png(path: Path, *, quiet_zone: int = 4) -> str:
    """A QR image file as written: no margin added; the standard 4-module quiet zone must be in the file."""
    from PIL import Image

    with Image.open(path) as image:
        return decode_image(image.convert("RGB"), quiet_zone=quiet_zone)
