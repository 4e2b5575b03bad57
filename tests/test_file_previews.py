"""Previews are made in a child process (inventory/files/preview_process.py): what decoding a
picture takes never stays with the app's worker, a file that cannot be read is refused with the
same words as before, and one that takes too long is refused as too heavy."""
import io
import resource
import struct
import zlib

import pytest

from files_helpers import pdf_bytes, png_bytes
from inventory.errors import InvalidInput
from inventory.files import previews
from inventory.files.kinds import NOT_AN_IMAGE, sniff


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def flat_png(width, height):
    """A valid RGBA PNG of one colour, written row by row (the pixels never all in memory): a
    few hundred KB that decode to width × height × 4 bytes."""
    packer, row, parts = zlib.compressobj(9), b"\x00" + b"\xc8\x1e\x1e\xff" * width, []
    for _ in range(height):
        parts.append(packer.compress(row))
    parts.append(packer.flush())
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b""))


def peak_mb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024


def made(content):
    stream = io.BytesIO(content)
    return previews.preview(stream, sniff(stream))


def test_a_pdf_and_an_image_get_their_jpeg_from_the_child():
    for content in (pdf_bytes(), png_bytes()):
        data = made(content)
        assert data[:3] == b"\xff\xd8\xff" and len(data) > 100


def test_a_40_megapixel_png_is_decoded_in_the_child_not_in_the_worker():
    content = flat_png(7000, 5700)  # the most kinds.py lets through: 160 MB of pixels from ~170 KB
    assert len(content) < 1024 * 1024
    before = peak_mb()
    data = made(content)
    assert data[:3] == b"\xff\xd8\xff"
    # The child decoded it (its peak is the largest of this process's children so far) ...
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 > 150
    # ... and this process, the worker, did not: in-process the same preview took it up by 330 MB.
    assert peak_mb() - before < 50


def test_a_large_upload_on_disk_is_read_by_the_child_from_its_own_file(tmp_path):
    """werkzeug spools an upload over 500 KB to a temporary file: the child reads that file (no
    copy through a pipe), and the stream is left at its start for the upload to be stored."""
    path = tmp_path / "upload.pdf"
    path.write_bytes(pdf_bytes(pages=40) + b"\n%" + b"x" * 600_000 + b"\n")
    with open(path, "rb+") as stream:
        stream.read(10)
        data = previews.preview(stream, sniff(stream))
        assert data[:3] == b"\xff\xd8\xff" and stream.tell() == 0


# A PNG whose chunks and checksums are sound (kinds.py's verify() passes) but whose pixels are
# not zlib data: decoding it raised OSError in the worker, a 500, before previews moved out.
BROKEN_PIXELS_PNG = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 40, 30, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", b"\x78\x9cnot zlib at all") + chunk(b"IEND", b""))


@pytest.mark.parametrize("content, message", [
    (b"%PDF-1.7\nnot really a PDF", previews.NOT_A_PDF),
    (BROKEN_PIXELS_PNG, NOT_AN_IMAGE),
])
def test_a_file_that_cannot_be_read_is_refused_in_the_same_words(content, message):
    with pytest.raises(InvalidInput) as refused:
        made(content)
    assert refused.value.message == message


def test_a_preview_that_takes_too_long_is_refused_as_too_heavy(monkeypatch):
    monkeypatch.setattr(previews, "RENDER_SECONDS", 0.001)
    with pytest.raises(InvalidInput) as refused:
        made(pdf_bytes())
    assert refused.value.message == previews.HEAVY_PDF
