"""A file's preview JPEG, made in a process of its own: the first page of a PDF (pdfium) or an
image scaled down (Pillow).

    python -P preview_process.py pdf|image SIDE MEMORY_MB < upload > preview.jpg

previews.py runs this file as a child of the app's worker, with the upload as its standard input
(the upload's temporary file itself, so nothing is copied), because making a preview decodes
pictures whole: a 50 MB flyer with a print-resolution photo takes some 150 MB while its page
renders, a PDF of a few KB can hold a JPEG that decodes to gigabytes, and a 170 KB PNG of 40
megapixels (the most kinds.py lets through) decodes to 160 MB and twice that on its way to RGB.
In a child that memory is given back when it exits and never counts against the worker's; the
child's address space is capped at MEMORY_MB, its parent waits a bounded time, and a file that
crashes pdfium ends only the child.

It imports nothing of the app (only Pillow and pypdfium2), so that it starts in a fraction of a
second, with Pillow's defaults (strict decoding: WeasyPrint is never imported here). Exit status:
0 with the JPEG on standard output; NOT_A_PDF, LOCKED, TOO_LARGE or NOT_AN_IMAGE (below);
anything else (killed, crashed) is taken as a file that cannot be opened.
"""
from __future__ import annotations

import io
import resource
import sys
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from PIL.Image import Image

NOT_A_PDF, LOCKED, TOO_LARGE, NOT_AN_IMAGE = 3, 4, 5, 6
IMAGE_FORMATS = ["PNG", "JPEG", "WEBP"]


class PreviewError(Exception):
    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


def jpeg(image: Image, side: int) -> bytes:
    """A PIL image as a JPEG at most `side` pixels on its longer side."""
    image = image.convert("RGB")
    image.thumbnail((side, side))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue()


def pdf_first_page(stream: IO[bytes], side: int) -> bytes:
    """The JPEG of the PDF's first page, or PreviewError."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(stream)
    except pdfium.PdfiumError as error:
        raise PreviewError(LOCKED if "password" in str(error).lower() else NOT_A_PDF) from None
    try:
        if len(document) == 0:
            raise PreviewError(NOT_A_PDF)
        page = document[0]
        width, height = page.get_size()
        if width <= 0 or height <= 0:
            raise PreviewError(NOT_A_PDF)
        scale = min(side / width, side / height, 4.0)
        data = jpeg(page.render(scale=scale).to_pil(), side)
        page.close()
    except pdfium.PdfiumError:
        raise PreviewError(NOT_A_PDF) from None
    finally:
        document.close()
    return data


def image_scaled(stream: IO[bytes], side: int) -> bytes:
    """The image (its type and pixel count already checked by kinds.py) as a JPEG, or PreviewError."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(stream, formats=IMAGE_FORMATS) as image:
            image.draft("RGB", (side, side))  # a JPEG decodes at a reduced scale when it can
            return jpeg(image, side)
    except (UnidentifiedImageError, OSError, SyntaxError, EOFError, ValueError, Image.DecompressionBombError):
        raise PreviewError(NOT_AN_IMAGE) from None


def main(argv: list[str]) -> int:
    kind, side, memory_mb = argv[1], int(argv[2]), int(argv[3])
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    source = sys.stdin.buffer
    stream: IO[bytes] = source if source.seekable() else io.BytesIO(source.read())
    try:
        data = (pdf_first_page if kind == "pdf" else image_scaled)(stream, side)
    except PreviewError as error:
        return error.status
    except MemoryError:
        return TOO_LARGE
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
