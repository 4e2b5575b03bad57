"""Files for the collateral tests: real PDFs (pypdfium2), a PowerPoint's skeleton, images."""
import io
import zipfile

from PIL import Image


def pdf_bytes(pages=1, width=595, height=842):
    """A real PDF of blank pages (A4 by default)."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument.new()
    for _ in range(pages):
        document.new_page(width, height)
    out = io.BytesIO()
    document.save(out)
    document.close()
    return out.getvalue()


def pptx_bytes():
    """The parts that make a ZIP a PowerPoint file (what kinds.py reads; never unpacked)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("ppt/presentation.xml", "<p:presentation/>")
    return out.getvalue()


def png_bytes(size=(40, 30), color=(200, 30, 30)):
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()
