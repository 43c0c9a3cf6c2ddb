"""Photo processing for a report (linli.core.images.image_clean: sniff, size and pixel
checks, verify, EXIF read and strip, upright, scale to the long edge, re-encode, thumbnail)
against a bare Pillow decode and re-encode of the same phone photo: what the checks cost
beyond the work any image pipeline does."""

import io

from bench.common import best_of, report

NEEDS_DEMO_DATABASE = False
ROUNDS = 10
# A 12-megapixel phone photo, the common case, and a 2-megapixel one from an older phone.
SIZES = [(4000, 3000), (1600, 1200)]


def _phone_photo(size: tuple[int, int]) -> bytes:
    """A photo-like JPEG (smooth gradients and noise, so the encoder has real work) with
    the EXIF block a phone writes, GPS included."""
    from PIL import Image

    width, height = size
    base = Image.linear_gradient("L").resize(size)
    noise = Image.effect_noise(size, 40)
    image = Image.merge("RGB", (base, noise, base.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0112] = 1
    exif.get_ifd(0x8825).update({1: "N", 2: (37.0, 24.0, 0.0), 3: "E", 4: (118.0, 36.0, 0.0)})
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=92, exif=exif)
    return out.getvalue()


def main() -> None:
    from PIL import Image

    from linli.core.images import image_clean

    for size in SIZES:
        data = _phone_photo(size)

        def clean(data=data):
            for _ in range(ROUNDS):
                image_clean(data)

        def bare(data=data):
            for _ in range(ROUNDS):
                with Image.open(io.BytesIO(data)) as image:
                    out = io.BytesIO()
                    image.convert("RGB").save(out, format="JPEG", quality=85)

        megapixels = size[0] * size[1] / 1e6
        report(
            f"image_clean, {megapixels:.0f} MP phone JPEG ({len(data) / 1e6:.1f} MB)",
            ROUNDS / best_of(clean),
            "photos/s",
            "bare Pillow decode + re-encode",
            ROUNDS / best_of(bare),
        )
