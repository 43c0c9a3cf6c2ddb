"""Uploaded photos: recognised by their content (never their name), size-limited,
re-encoded as JPEG without any metadata, with a thumbnail. The GPS position, when the
camera wrote one, is read before the EXIF block is thrown away (callers may use it to
place a report; it is never stored with the image)."""

import io
import secrets
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from linli.core.errors import DomainError

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "BMP", "MPO"}
MAX_PIXELS = 40_000_000  # a 40-megapixel photo; anything larger is refused, not decoded
LONG_EDGE = 2048
THUMB_EDGE = 320
GPS_IFD = 0x8825


@dataclass(frozen=True)
class CleanImage:
    content: bytes  # JPEG
    thumbnail: bytes  # JPEG
    width: int
    height: int
    gps: tuple[float, float] | None  # (lon, lat) from EXIF, WGS-84 as cameras write it


def _problem(field: str, message: str) -> DomainError:
    return DomainError("invalid_image", message, {field: [message]})


def _gps(exif) -> tuple[float, float] | None:
    try:
        info = exif.get_ifd(GPS_IFD)
        if not info:
            return None

        def degrees(values, ref) -> float:
            d, m, s = (float(v) for v in values)
            value = d + m / 60 + s / 3600
            return -value if ref in ("S", "W") else value

        lat = degrees(info[2], info.get(1))
        lon = degrees(info[4], info.get(3))
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    return lon, lat


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    # No exif= argument: the re-encoded file carries no metadata at all. No optimize=True:
    # it saved about 5 % of the bytes for three times the encoding time (bench_photos).
    image.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def image_clean(upload, *, field: str = "photo") -> CleanImage:
    """Check and re-encode one uploaded file (a Django UploadedFile or bytes); raise
    DomainError naming `field` for an oversized, unreadable or non-image file."""
    limit = settings.LINLI_MAX_IMAGE_BYTES
    size = len(upload) if isinstance(upload, bytes) else upload.size
    if size > limit:
        raise _problem(
            field,
            _("The photo is %(got).1f MB; the limit is %(mb).0f MB.")
            % {"got": size / 1024 / 1024, "mb": limit / 1024 / 1024},
        )
    if size == 0:
        raise _problem(field, _("The file is empty."))
    data = upload if isinstance(upload, bytes) else upload.read()
    try:
        with warnings.catch_warnings():
            # The pixel count is checked just below, with a clear message.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
        with probe:
            kind = probe.format
            if kind not in ACCEPTED_FORMATS:
                raise _problem(field, _("Only JPEG, PNG, WebP, GIF or BMP photos are accepted."))
            if probe.width * probe.height > MAX_PIXELS:
                raise _problem(field, _("The photo has too many pixels."))
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            gps = _gps(image.getexif())
            # Scale down first and turn upright after: both steps then work on the small
            # image (the box is square, so the order does not change the size). For a
            # JPEG, draft() lets the decoder skip detail the stored size cannot show.
            image.draft("RGB", (LONG_EDGE, LONG_EDGE))
            image.thumbnail((LONG_EDGE, LONG_EDGE))
            image = ImageOps.exif_transpose(image)
            if image.mode != "RGB":
                image = image.convert("RGB")
            width, height = image.size
            content = _jpeg(image, 85)
            thumb = image.copy()
            thumb.thumbnail((THUMB_EDGE, THUMB_EDGE))
            thumbnail = _jpeg(thumb, 75)
    except DomainError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise _problem(field, _("The file is not a readable image.")) from None
    return CleanImage(content=content, thumbnail=thumbnail, width=width, height=height, gps=gps)


def images_store(cleaned: Sequence[CleanImage], make: Callable[[CleanImage], object], stem: str):
    """Write each checked image and its thumbnail to storage and save the row that
    `make(image)` builds for it (a model with `image` and `thumbnail` file fields), named
    `<stem>-<n>-<random>.jpg`. Should one fail, the files already written are removed
    and the error raised (the caller's transaction takes the rows)."""
    stored = []
    try:
        for i, image in enumerate(cleaned, start=1):
            photo = make(image)
            name = f"{stem}-{i}-{secrets.token_hex(4)}.jpg"
            photo.image.save(name, ContentFile(image.content), save=False)
            photo.thumbnail.save(name, ContentFile(image.thumbnail), save=False)
            photo.save()
            stored.append(photo)
    except Exception:
        for photo in stored:
            photo.image.delete(save=False)
            photo.thumbnail.delete(save=False)
        raise
    return stored
