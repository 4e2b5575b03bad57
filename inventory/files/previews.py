"""A file's preview: the first page of a PDF rendered on the server (pypdfium2), or an image
scaled down, as a JPEG at most PREVIEW_SIDE pixels on its longer side; made once at upload and
stored beside the file. Office files have none (the page shows their type). Rendering a PDF is
also what proves it is one: a file that only starts like a PDF is refused here."""
from __future__ import annotations

import io
import threading
from typing import IO

from PIL import Image

from ..images import strict_decoding
from ..errors import InvalidInput
from .kinds import FileType

PREVIEW_SIDE = 800
NOT_A_PDF = "That PDF cannot be opened: it may be damaged. Export it again."
LOCKED_PDF = "That PDF is locked with a password: a client could not open it either. Save it without one."
# pdfium is not thread-safe: one rendering at a time per process.
_pdfium = threading.Lock()


def _jpeg(image: Image.Image) -> bytes:
    image = image.convert("RGB")
    image.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue()


def _pdf_first_page(stream: IO[bytes]) -> bytes:
    import pypdfium2 as pdfium

    stream.seek(0)
    with _pdfium:
        try:
            document = pdfium.PdfDocument(stream)
        except pdfium.PdfiumError as error:
            raise InvalidInput(LOCKED_PDF if "password" in str(error).lower() else NOT_A_PDF) from None
        try:
            if len(document) == 0:
                raise InvalidInput(NOT_A_PDF)
            page = document[0]
            width, height = page.get_size()
            if width <= 0 or height <= 0:
                raise InvalidInput(NOT_A_PDF)
            scale = min(PREVIEW_SIDE / width, PREVIEW_SIDE / height, 4.0)
            bitmap = page.render(scale=scale)
            image = bitmap.to_pil()
            data = _jpeg(image)
            page.close()
        except pdfium.PdfiumError:
            raise InvalidInput(NOT_A_PDF) from None
        finally:
            document.close()
            stream.seek(0)
    return data


def _image(stream: IO[bytes]) -> bytes:
    stream.seek(0)
    try:
        with strict_decoding(), Image.open(stream, formats=["PNG", "JPEG", "WEBP"]) as image:
            image.draft("RGB", (PREVIEW_SIDE, PREVIEW_SIDE))
            return _jpeg(image)
    finally:
        stream.seek(0)


def preview(stream: IO[bytes], file_type: FileType) -> bytes | None:
    """The preview JPEG of the upload, None for a type that has none; InvalidInput for a PDF
    that cannot be opened."""
    if file_type.name == "pdf":
        return _pdf_first_page(stream)
    if file_type.is_image:
        return _image(stream)
    return None
