"""What every upload of an image shares (product photos, collateral files): the pixel limit read
from the header before anything is decoded, and Pillow's strict decoding while an upload is read."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import ImageFile

# 40 megapixels: more than any phone camera takes, a tenth of what took a worker to 780 MB.
MAX_PIXELS = 40_000_000
TOO_LARGE = (f"That photo is too large: at most {MAX_PIXELS // 1_000_000} megapixels "
             "(for example 7,000 × 5,700). Make it smaller and try again.")


_strict = threading.Lock()


@contextmanager
def strict_decoding() -> Iterator[None]:
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
