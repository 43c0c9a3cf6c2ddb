"""Small builders the test suites of several apps share (not used by the application)."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

GPS_IFD = 0x8825


def jpeg_bytes(
    size: tuple[int, int] = (800, 600),
    *,
    colour: str = "olive",
    gps: tuple[float, float] | None = None,
) -> bytes:
    """A JPEG as a phone would send it; `gps` (lon, lat) writes an EXIF position."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    if gps is not None:
        lon, lat = gps

        def dms(value: float) -> tuple[float, float, float]:
            degrees = int(value)
            minutes = (value - degrees) * 60
            return (float(degrees), float(int(minutes)), round((minutes - int(minutes)) * 60, 4))

        info = exif.get_ifd(GPS_IFD)
        info.update({1: "N", 2: dms(lat), 3: "E", 4: dms(lon)})
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def photo_upload(name: str = "photo.jpg", **options) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, jpeg_bytes(**options), content_type="image/jpeg")
