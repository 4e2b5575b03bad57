"""Product photos: re-encoded by Pillow (which also proves the upload is an image and drops
its metadata, such as a phone's GPS position), kept in the database (blobs/) by the product rules.

An upload is untrusted: Pillow opens only the three photo formats (a PostScript file named .png
must never reach Pillow's Ghostscript plugin), the pixel count is checked from the header before
anything is decoded (a 17 KB PNG can declare 12000 x 12000 pixels, hundreds of MB once decoded),
and oversized text chunks are refused. Each refusal is InvalidInput (400) with a message."""
from __future__ import annotations

import io
import warnings
from typing import IO

from PIL import Image, UnidentifiedImageError
from werkzeug.datastructures import FileStorage

from ..errors import InvalidInput
from ..images import MAX_PIXELS, TOO_LARGE, strict_decoding  # noqa: F401 (MAX_PIXELS: read here by tests)

MAX_SIDE = 1200
FORMATS = ("JPEG", "PNG", "WEBP")
NOT_A_PHOTO = "That file is not a photo we can read (use JPEG, PNG or WebP)."
TOO_MUCH_TEXT = "That photo carries too much embedded text or metadata to read; export it again and try once more."


def open_photo(stream: IO[bytes]) -> Image.Image:
    """The upload decoded as a Pillow image, or InvalidInput saying why it is refused."""
    try:
        with strict_decoding(), warnings.catch_warnings():
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


def prepare_photo(upload: FileStorage | None) -> bytes | None:
    """The uploaded photo as the JPEG to keep (at most MAX_SIDE pixels a side, metadata gone),
    or None when nothing was uploaded. The product rules store it in the database."""
    if upload is None or not getattr(upload, "filename", ""):
        return None
    image = open_photo(upload.stream)
    image = image.convert("RGB")
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()
