"""Read a QR code back off terminal text with a real decoder (zxing-cpp), as a phone camera would.

Each character cell is one pixel wide and two tall: '▀' dark on top, '▄' dark below, '█' both, ' '
neither. That covers both renderings (half blocks, and full blocks drawn as '██' per module).
"""

from __future__ import annotations

import re

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
BLOCKS = {" ": (0, 0), "▀": (1, 0), "▄": (0, 1), "█": (1, 1)}


def strip_ansi(text: str) -> str:
    return ANSI.sub("", text)


def qr_lines(text: str) -> list[str]:
    """The longest run of consecutive lines made only of block characters and spaces."""
    best: list[str] = []
    run: list[str] = []
    for raw in strip_ansi(text).replace("\r", "").split("\n"):
        line = raw.rstrip("\n")
        if line.strip() and set(line) <= set(BLOCKS) and set(line) & {"▀", "▄", "█"}:
            run.append(line)
        else:
            if len(run) > len(best):
                best = run
            run = []
    return run if len(run) > len(best) else best


def decode_terminal_qr(text: str) -> str:
    import zxingcpp
    from PIL import Image

    lines = qr_lines(text)
    if not lines:
        raise AssertionError("no QR code found in the output")
    width = max(len(line) for line in lines)
    margin, scale = 8, 6
    image = Image.new("L", ((width + 2 * margin) * scale, (len(lines) * 2 + 2 * margin) * scale), 255)
    pixels = image.load()
    for row, line in enumerate(lines):
        for col, char in enumerate(line.ljust(width)):
            for half, dark in enumerate(BLOCKS[char]):
                if not dark:
                    continue
                x0, y0 = (col + margin) * scale, (row * 2 + half + margin) * scale
                for dx in range(scale):
                    for dy in range(scale):
                        pixels[x0 + dx, y0 + dy] = 0
    results = zxingcpp.read_barcodes(image)
    if not results:
        raise AssertionError("zxing-cpp found no readable QR code in:\n" + "\n".join(lines))
    return str(results[0].text)
