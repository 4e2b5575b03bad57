"""A fake rear camera for Chromium: an MJPEG video of a QR label, fed through
--use-file-for-fake-video-capture, so that scanning is tested end to end (camera, decoder, page)."""
import io

import qrcode
from PIL import Image
from qrcode.constants import ERROR_CORRECT_Q

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS


def label_video(text, path, frames=20):
    """Write an MJPEG (concatenated JPEG frames) showing a QR code of `text` on white, as a phone
    camera held over a label would see it."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_Q, box_size=10, border=4)
    qr.add_data(text)
    qr.make(fit=True)
    code = qr.make_image(fill_color="black", back_color="white").convert("RGB").resize((360, 360), Image.NEAREST)
    canvas = Image.new("RGB", (640, 480), "white")
    canvas.paste(code, (140, 60))
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=90)
    with open(path, "wb") as video:
        video.write(buffer.getvalue() * frames)
    return path


def camera_browser(playwright, video_path):
    """A Chromium whose camera shows `video_path`, with camera permission granted without asking."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True,
        args=CHROMIUM_ARGS + ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                              f"--use-file-for-fake-video-capture={video_path}"],
    )
