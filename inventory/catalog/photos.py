"""Product photos: re-encoded by Pillow (which also proves the upload is an image and drops
its metadata, such as a phone's GPS position), stored in the instance folder."""
import os
import secrets

from flask import current_app
from PIL import Image, UnidentifiedImageError

from ..errors import InvalidInput

MAX_SIDE = 1200


def photo_dir():
    path = os.path.join(current_app.instance_path, "photos")
    os.makedirs(path, exist_ok=True)
    return path


def save_photo(upload):
    """Store an uploaded photo; returns its file name, or None when nothing was uploaded."""
    if upload is None or not getattr(upload, "filename", ""):
        return None
    try:
        image = Image.open(upload.stream)
        image.load()
    except (UnidentifiedImageError, OSError):
        raise InvalidInput("That file is not a photo we can read (use JPEG, PNG or WebP).") from None
    image = image.convert("RGB")
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    name = secrets.token_hex(12) + ".jpg"
    image.save(os.path.join(photo_dir(), name), "JPEG", quality=85, optimize=True)
    return name
