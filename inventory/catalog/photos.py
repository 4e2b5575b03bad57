"""Product photos: re-encoded by Pillow (which also proves the upload is an image and drops
its metadata, such as a phone's GPS position), stored in the instance folder.

An upload is untrusted: Pillow opens only the three photo formats (a PostScript file named .png
must never reach Pillow's Ghostscript plugin), the pixel count is checked from the header before
anything is decoded (a 17 KB PNG can declare 12000 x 12000 pixels, hundreds of MB once decoded),
and oversized text chunks are refused. Each refusal is InvalidInput (400) with a message."""
from __future__ import annotations

import os
import secrets
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from flask import current_app
from PIL import Image, ImageFile, UnidentifiedImageError
from werkzeug.datastructures import FileStorage

from ..errors import InvalidInput

MAX_SIDE = 1200
FORMATS = ("JPEG", "PNG", "WEBP")
# 40 megapixels: more than any phone camera takes, a tenth of what took a worker to 780 MB.
MAX_PIXELS = 40_000_000
NOT_A_PHOTO = "That file is not a photo we can read (use JPEG, PNG or WebP)."
TOO_LARGE = (f"That photo is too large: at most {MAX_PIXELS // 1_000_000} megapixels "
             "(for example 7,000 × 5,700). Make it smaller and try again.")
TOO_MUCH_TEXT = "That photo carries too much embedded text or metadata to read; export it again and try once more."


def photo_dir() -> str:
    path = os.path.join(current_app.instance_path, "photos")
    os.makedirs(path, exist_ok=True)
    return path


_strict = threading.Lock()


@contextmanager
def _strict_decoding() -> Iterator[None]:
    """Pillow's strict mode while an upload is decoded. WeasyPrint (the label PDFs) switches on
    ImageFile.LOAD_TRUNCATED_IMAGES for the whole process when it is imported, after which Pillow
    quietly drops an oversized text chunk and reads half an image; an upload must get the same
    answer whatever page the process drew before."""
    with _strict:
        before = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = before


def open_photo(stream: IO[bytes]) -> Image.Image:
    """The upload decoded as a Pillow image, or InvalidInput saying why it is refused."""
    try:
        with _strict_decoding(), warnings.catch_warnings():
            # Pillow only warns between its own limit and twice that; here a bomb is an error.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(stream, formats=list(FORMATS))
            width, height = image.size
            if width * height > MAX_PIXELS:  # from the header: nothing decoded yet
                raise InvalidInput(TOO_LARGE)
            image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # a JPEG decodes at a reduced scale when it can
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidInput(TOO_LARGE) from None
    except UnidentifiedImageError:
        raise InvalidInput(NOT_A_PHOTO) from None
    except ValueError as error:  # PngImagePlugin: decompressed data too large (zTXt, iTXt, iCCP), or
        # too much memory used in text chunks (MAX_TEXT_CHUNK, MAX_TEXT_MEMORY)
        text = str(error).lower()
        raise InvalidInput(TOO_MUCH_TEXT if "too large" in text or "too much memory" in text else NOT_A_PHOTO) \
            from None
    except (OSError, SyntaxError, EOFError):  # truncated or corrupt
        raise InvalidInput(NOT_A_PHOTO) from None
    return image


def save_photo(upload: FileStorage | None) -> str | None:
    """Store an uploaded photo; returns its file name, or None when nothing was uploaded."""
    if upload is None or not getattr(upload, "filename", ""):
        return None
    image = open_photo(upload.stream)
    image = image.convert("RGB")
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    name = secrets.token_hex(12) + ".jpg"
    image.save(os.path.join(photo_dir(), name), "JPEG", quality=85, optimize=True)
    return name
