"""What an upload is, read from its content, never from its name: PDF, PowerPoint (PPTX), Word
(DOCX), PNG, JPEG or WebP. SVG and HTML are refused (a browser runs their scripts), and so is
anything else. An image's pixel count is read from its header and a decompression bomb refused
before anything is decoded (the photos' limits); an Office file is a ZIP whose directory (read,
never unpacked) names its parts."""
from __future__ import annotations

import warnings
import zipfile
from dataclasses import dataclass
from typing import IO

from PIL import Image, UnidentifiedImageError

from ..images import MAX_PIXELS, strict_decoding
from ..errors import InvalidInput


@dataclass(frozen=True)
class FileType:
    name: str  # pdf, pptx, docx, png, jpeg, webp
    label: str
    content_type: str
    extension: str
    # Shown in the browser (a PDF, an image) rather than downloaded.
    inline: bool

    @property
    def is_image(self) -> bool:
        return self.name in ("png", "jpeg", "webp")


TYPES = {t.name: t for t in (
    FileType("pdf", "PDF", "application/pdf", ".pdf", True),
    FileType("pptx", "PowerPoint", "application/vnd.openxmlformats-officedocument.presentationml.presentation",
             ".pptx", False),
    FileType("docx", "Word", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx",
             False),
    FileType("png", "PNG image", "image/png", ".png", True),
    FileType("jpeg", "JPEG image", "image/jpeg", ".jpg", True),
    FileType("webp", "WebP image", "image/webp", ".webp", True),
)}
ACCEPTED = "PDF, PowerPoint (PPTX), Word (DOCX), PNG, JPEG or WebP"
NOT_ACCEPTED = f"That file is not one we keep: upload a {ACCEPTED} file."
MARKUP = ("SVG and HTML files are not accepted: a browser runs the scripts they can carry. "
          "Export a PDF or PNG instead.")
NOT_AN_IMAGE = "That image cannot be read: it may be damaged. Export it again."
IMAGE_TOO_LARGE = (f"That image is too large: at most {MAX_PIXELS // 1_000_000} megapixels. "
                   "Export it smaller, or as a PDF.")
OFFICE_WITH_MACROS = "Files with macros are not accepted: save it as a plain .pptx or .docx."
# Where a PDF's header may start (readers allow some bytes before it).
PDF_HEADER_WITHIN = 1024
_IMAGE_FORMATS = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp"}


def _looks_like_markup(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return text.startswith((b"<?xml", b"<svg", b"<!doctype", b"<html", b"<!--", b"<head", b"<body", b"<script")) \
        or b"<svg" in text[:512] or b"<html" in text[:512]


def _image(stream: IO[bytes]) -> FileType:
    try:
        with strict_decoding(), warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)  # a bomb is an error here
            with Image.open(stream, formats=list(_IMAGE_FORMATS)) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:  # from the header: nothing decoded
                    raise InvalidInput(IMAGE_TOO_LARGE)
                image.verify()  # the structure and checksums, without keeping the pixels
                name = _IMAGE_FORMATS[str(image.format)]
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidInput(IMAGE_TOO_LARGE) from None
    except (UnidentifiedImageError, OSError, SyntaxError, EOFError, ValueError):
        raise InvalidInput(NOT_AN_IMAGE) from None
    finally:
        stream.seek(0)
    return TYPES[name]


def _office(stream: IO[bytes]) -> FileType:
    try:
        with zipfile.ZipFile(stream) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise InvalidInput(NOT_ACCEPTED) from None
    finally:
        stream.seek(0)
    if "[Content_Types].xml" not in names:
        raise InvalidInput(NOT_ACCEPTED)
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise InvalidInput(OFFICE_WITH_MACROS)
    if "ppt/presentation.xml" in names:
        return TYPES["pptx"]
    if "word/document.xml" in names:
        return TYPES["docx"]
    raise InvalidInput(NOT_ACCEPTED)


def sniff(stream: IO[bytes]) -> FileType:
    """The type of the upload in `stream` (left at its start), or InvalidInput saying why not."""
    stream.seek(0)
    head = stream.read(PDF_HEADER_WITHIN + 8)
    stream.seek(0)
    if not head:
        raise InvalidInput("That file is empty.")
    if b"%PDF-" in head[:PDF_HEADER_WITHIN]:
        return TYPES["pdf"]
    if head.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return _image(stream)
    if head.startswith(b"PK\x03\x04"):
        return _office(stream)
    if _looks_like_markup(head):
        raise InvalidInput(MARKUP)
    raise InvalidInput(NOT_ACCEPTED)
