"""A file's preview: the first page of a PDF rendered on the server (pypdfium2), or an image
scaled down, as a JPEG at most PREVIEW_SIDE pixels on its longer side; made once at upload and
stored beside the file. Office files have none (the page shows their type). Rendering a PDF is
also what proves it is one: a file that only starts like a PDF is refused here.

Both are made in a child process (preview_process.py says why: the pictures are decoded whole,
and that memory must not stay with the worker), capped at RENDER_MEMORY_MB and waited for
RENDER_SECONDS at most: what takes more is refused as too heavy."""
from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
import tempfile
from typing import IO

from ..errors import InvalidInput
from . import preview_process
from .kinds import NOT_AN_IMAGE, FileType

PREVIEW_SIDE = 800
RENDER_MEMORY_MB, RENDER_SECONDS = 1024, 20
NOT_A_PDF = "That PDF cannot be opened: it may be damaged. Export it again."
LOCKED_PDF = "That PDF is locked with a password: a client could not open it either. Save it without one."
HEAVY_PDF = ("That PDF's first page is too heavy to show: its pictures are far larger than print needs. "
             "Export it with pictures at 300 dpi and try again.")
HEAVY_IMAGE = "That image is too heavy to show. Export it smaller, or as a PDF."
_PDF_MESSAGES = {preview_process.NOT_A_PDF: NOT_A_PDF, preview_process.LOCKED: LOCKED_PDF,
                 preview_process.TOO_LARGE: HEAVY_PDF}
_IMAGE_MESSAGES = {preview_process.TOO_LARGE: HEAVY_IMAGE}
_KNOWN = {0, preview_process.NOT_A_PDF, preview_process.LOCKED, preview_process.TOO_LARGE,
          preview_process.NOT_AN_IMAGE}
log = logging.getLogger(__name__)


def _disk_file(stream: IO[bytes]) -> int | None:
    """The descriptor of the regular file under `stream` (werkzeug spools a large upload to a
    temporary file), flushed; None for a stream in memory (a small upload: werkzeug's
    SpooledTemporaryFile not rolled over to disk, which asking for its descriptor would do)."""
    if isinstance(stream, tempfile.SpooledTemporaryFile) and not getattr(stream, "_rolled", True):
        return None
    try:
        stream.flush()
        fileno = stream.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
        return None
    return fileno if stat.S_ISREG(os.fstat(fileno).st_mode) else None


def _in_child(stream: IO[bytes], kind: str) -> tuple[int | None, bytes]:
    """(exit status, standard output) of preview_process.py on the upload; status None: it took
    longer than RENDER_SECONDS (and was killed)."""
    stream.seek(0)
    fileno = _disk_file(stream)
    command = [sys.executable, "-P", preview_process.__file__, kind, str(PREVIEW_SIDE), str(RENDER_MEMORY_MB)]
    try:
        # The child reads the upload's own file (sharing its offset: the worker waits meanwhile),
        # or, for an upload held in memory (a small one), a copy through a pipe.
        done = subprocess.run(command, stdin=fileno, input=None if fileno is not None else stream.read(),
                              capture_output=True, timeout=RENDER_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        log.warning("a %s preview took over %s s: refused as too heavy", kind, RENDER_SECONDS)
        return None, b""
    finally:
        stream.seek(0)
    if done.returncode not in _KNOWN:  # killed, crashed, or the child could not start (a broken install)
        log.warning("the %s preview process ended with status %s: %s", kind, done.returncode,
                    done.stderr.decode(errors="replace").strip()[-2000:])
    return done.returncode, done.stdout


def preview(stream: IO[bytes], file_type: FileType) -> bytes | None:
    """The preview JPEG of the upload, None for a type that has none; InvalidInput for a PDF
    that cannot be opened, or a PDF or an image too heavy to show."""
    if file_type.name == "pdf":
        kind, messages, heavy, broken = "pdf", _PDF_MESSAGES, HEAVY_PDF, NOT_A_PDF
    elif file_type.is_image:
        kind, messages, heavy, broken = "image", _IMAGE_MESSAGES, HEAVY_IMAGE, NOT_AN_IMAGE
    else:
        return None
    status, data = _in_child(stream, kind)
    if status is None:
        raise InvalidInput(heavy)
    if status != 0 or not data:
        raise InvalidInput(messages.get(status, broken))
    return data
