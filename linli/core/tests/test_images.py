import io

import pytest
from django.utils import translation
from PIL import Image

from linli.core.errors import DomainError
from linli.core.images import image_clean


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def _jpeg(size=(1200, 900), exif=None, colour="navy") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="JPEG", exif=exif or Image.Exif())
    return buffer.getvalue()


def _exif_with_gps() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0112] = 6  # rotated: the cleaned image must come out upright
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (37.0, 24.0, 0.0), 3: "E", 4: (118.0, 36.0, 0.0)})
    return exif


def test_a_photo_is_re_encoded_upright_without_metadata_and_its_position_is_read():
    clean = image_clean(_jpeg(exif=_exif_with_gps()))
    assert clean.gps == pytest.approx((118.6, 37.4))
    with Image.open(io.BytesIO(clean.content)) as image:
        assert image.format == "JPEG"
        assert dict(image.getexif()) == {}
        assert image.size == (900, 1200) == (clean.width, clean.height)
    with Image.open(io.BytesIO(clean.thumbnail)) as thumb:
        assert max(thumb.size) == 320


def test_large_photos_are_scaled_down_to_the_long_edge():
    clean = image_clean(_jpeg(size=(4000, 3000)))
    assert (clean.width, clean.height) == (2048, 1536)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"<script>alert(1)</script>", "not a readable image"),
        (b"%PDF-1.4 fake", "not a readable image"),
        (b"", "empty"),
    ],
)
def test_files_that_are_not_images_are_refused_whatever_their_name(payload, message):
    with pytest.raises(DomainError) as caught:
        image_clean(payload, field="photo")
    assert message in str(caught.value.message)
    assert "photo" in caught.value.fields


def test_a_truncated_jpeg_is_refused():
    with pytest.raises(DomainError):
        image_clean(_jpeg()[:400])


def test_a_photo_over_the_size_limit_is_refused_before_decoding(settings):
    settings.LINLI_MAX_IMAGE_BYTES = 1024
    with pytest.raises(DomainError) as caught:
        image_clean(_jpeg())
    assert "limit" in str(caught.value.message)


def test_a_decompression_bomb_is_refused():
    buffer = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(buffer, format="PNG")
    with pytest.raises(DomainError) as caught:
        image_clean(buffer.getvalue())
    assert "pixels" in str(caught.value.message)


def test_the_refusal_is_in_chinese_by_default():
    with translation.override("zh-hans"):
        with pytest.raises(DomainError) as caught:
            image_clean(b"<script>", field="photo")
    assert caught.value.fields["photo"] == ["该文件不是可识别的图片。"]
