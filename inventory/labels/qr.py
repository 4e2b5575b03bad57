"""QR codes for label URLs: an SVG path (crisp at any print size) and a PNG (for documents that
cannot take SVG).

Error correction level Q restores up to a quarter of the code, enough for a scuffed or partly
torn label. Codes are cached: a label URL never changes meaning (docs/design.md, invariant 5), and
choosing the best mask is the slow part of making a code (about 3 ms each), so a second
sheet of the same 300 bins renders without making any code again.
"""
from __future__ import annotations

import io
from functools import lru_cache

import qrcode
from PIL import Image
from qrcode.constants import ERROR_CORRECT_Q

# The white margin the QR standard asks for, in modules, included in every image we serve.
QUIET_ZONE = 4
PNG_SCALE = 10  # pixels per module by default: a 41-module code is 410 px wide
MAX_PNG_SCALE = 40


@lru_cache(maxsize=8192)
def matrix(text: str) -> tuple[tuple[bool, ...], ...]:
    """The QR code of `text` as rows of booleans (True = dark), quiet zone included."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_Q, border=QUIET_ZONE, box_size=1)
    code.add_data(text)
    code.make(fit=True)
    return tuple(tuple(row) for row in code.get_matrix())


@lru_cache(maxsize=8192)
def svg_path(text: str) -> tuple[int, str]:
    """(size, d): the code as one SVG path in a `size` x `size` module grid, to be drawn with a
    stroke one module wide (`stroke-width="1"`, butt caps: the default).

    Each run of dark modules in a row is one horizontal line through the middle of the row,
    "M<x> <y>.5h<length>": an exact rectangle, and two path commands where a filled rectangle
    takes five. WeasyPrint draws the paths of a 300-label sheet in a third of the time.
    """
    rows = matrix(text)
    parts = []
    for y, row in enumerate(rows):
        x, width = 0, len(row)
        while x < width:
            if not row[x]:
                x += 1
                continue
            start = x
            while x < width and row[x]:
                x += 1
            parts.append(f"M{start} {y}.5h{x - start}")
    return len(rows), "".join(parts)


SVG_PATH_ATTRIBUTES = 'fill="none" stroke="#000" stroke-width="1"'


def svg(text: str, pixels_per_module: int = 8) -> str:
    """A standalone SVG document of the code, on a white background (it may be embedded on
    any colour) with the quiet zone included."""
    size, d = svg_path(text)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'width="{size * pixels_per_module}" height="{size * pixels_per_module}" shape-rendering="crispEdges">'
        f'<title>{_escape(text)}</title>'
        f'<rect width="{size}" height="{size}" fill="#fff"/><path {SVG_PATH_ATTRIBUTES} d="{d}"/></svg>\n'
    )


@lru_cache(maxsize=1024)
def png(text: str, scale: int = PNG_SCALE) -> bytes:
    """The code as a black-and-white PNG, `scale` pixels per module."""
    rows = matrix(text)
    size = len(rows)
    image = Image.new("1", (size, size), 1)
    image.putdata([0 if dark else 1 for row in rows for dark in row])
    image = image.resize((size * scale, size * scale), Image.Resampling.NEAREST)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
