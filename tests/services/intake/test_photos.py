"""Tests for the photos of intake (photos, photo_copies, photo_exif): validation by content,
EXIF, stripping and storage."""

from __future__ import annotations

import contextlib
import hashlib
import io
import sys
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from PIL import ExifTags, Image, ImageDraw, ImageFile, ImageStat
from PIL.TiffImagePlugin import IFDRational

# The suite must run with --noconftest, so nothing else puts the project root on sys.path.
_ROOT = str(Path(__file__).resolve().parents[3])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.fixtures.images import (  # noqa: E402
    DA_NANG,
    make_bomb,
    make_gif,
    make_jpeg,
    make_png,
    make_webp,
    not_an_image,
    srgb_icc_profile,
    truncate,
)
from webapp.errors import PayloadTooLarge, PhotoError, ValidationError  # noqa: E402
from webapp.services.intake.photo_copies import (  # noqa: E402
    ProcessedPhoto,
    blur_image,
    strip_metadata,
)
from webapp.services.intake.photo_limits import PhotoLimits, check_count  # noqa: E402
from webapp.services.intake.photos import process_photo  # noqa: E402

LIMITS = PhotoLimits()
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></x:xmpmeta>'
)


def open_image(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def assert_no_metadata(data: bytes) -> None:
    im = open_image(data)
    assert im.format == "JPEG"
    assert len(im.getexif()) == 0
    for key in ("exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment"):
        assert key not in im.info, key
    # Belt and braces: no EXIF/XMP/ICC signatures anywhere in the byte stream.
    for marker in (b"Exif\x00\x00", b"adobe:ns:meta", b"http://ns.adobe.com/xap", b"ICC_PROFILE"):
        assert marker not in data, marker


def processed(data: bytes, filename: str | None = "photo.jpg", **limits) -> ProcessedPhoto:
    return process_photo(data, filename, PhotoLimits(**limits) if limits else LIMITS)


# --------------------------------------------------------------------------- accepted input


@pytest.mark.parametrize(
    ("data", "fmt", "mime"),
    [
        (make_jpeg(), "JPEG", "image/jpeg"),
        (make_png(), "PNG", "image/png"),
        (make_webp(), "WEBP", "image/webp"),
    ],
)
def test_accepts_allowed_formats_and_keeps_original_bytes(data, fmt, mime):
    photo = processed(data)

    assert photo.original == data
    assert photo.original_format == fmt
    assert photo.mime == mime
    assert photo.sha256 == hashlib.sha256(data).hexdigest()
    assert (photo.width, photo.height) == (800, 600)
    assert open_image(photo.web).size == (800, 600)  # never upscaled
    assert max(open_image(photo.thumb).size) == 320


def test_type_comes_from_content_not_name():
    photo = processed(make_png(), filename="holiday.jpg")
    assert photo.original_format == "PNG"
    assert photo.mime == "image/png"


def test_multi_picture_jpeg_from_phones_is_a_jpeg():
    buf = io.BytesIO()
    first, second = Image.new("RGB", (800, 600), "red"), Image.new("RGB", (400, 300), "blue")
    first.save(buf, "MPO", save_all=True, append_images=[second])
    assert Image.open(buf).format == "MPO"

    photo = processed(buf.getvalue())
    assert (photo.original_format, photo.mime) == ("JPEG", "image/jpeg")
    assert (photo.width, photo.height) == (800, 600)


def test_repr_does_not_dump_image_bytes():
    text = repr(processed(make_jpeg()))
    assert "sha256=" in text
    assert len(text) < 1000


def test_large_photo_is_resized_for_web_and_thumb():
    photo = processed(make_jpeg(4000, 3000))

    assert (photo.width, photo.height) == (4000, 3000)
    assert open_image(photo.web).size == (1600, 1200)
    assert open_image(photo.thumb).size == (320, 240)


def test_portrait_resize_uses_longest_side():
    photo = processed(make_png(1000, 3000))
    assert open_image(photo.web).size == (533, 1600)
    assert open_image(photo.thumb).size == (107, 320)


def test_transparent_png_is_flattened_on_white():
    photo = processed(make_png(200, 100, color=(255, 0, 0, 0), mode="RGBA"))
    web = open_image(photo.web)
    assert web.mode == "RGB"
    assert all(c > 245 for c in web.getpixel((100, 50)))


def test_palette_and_greyscale_pngs_become_rgb():
    for mode, color in (("P", 3), ("L", 128), ("1", 1), ("LA", (10, 255))):
        web = open_image(processed(make_png(64, 64, color=color, mode=mode)).web)
        assert web.mode == "RGB", mode


# --------------------------------------------------------------------------- EXIF


@pytest.mark.parametrize(
    "coords",
    [DA_NANG, (-16.0678, 108.2208), (16.0678, -108.2208), (-33.8688, -151.2093)],
    ids=["N-E", "S-E", "N-W", "S-W"],
)
def test_gps_read_from_exif_with_hemisphere_refs(coords):
    photo = processed(make_jpeg(gps=coords))
    assert photo.gps == pytest.approx(coords, abs=1e-6)


def test_gps_read_from_png_and_webp():
    assert processed(make_png(gps=DA_NANG)).gps == pytest.approx(DA_NANG, abs=1e-6)
    assert processed(make_webp(gps=DA_NANG)).gps == pytest.approx(DA_NANG, abs=1e-6)


def R(num: int, den: int = 1) -> IFDRational:
    return IFDRational(num, den)


@pytest.mark.parametrize(
    "gps_ifd",
    [
        {},
        {1: "N", 2: (R(0), R(0), R(0)), 3: "E", 4: (R(0), R(0), R(0))},  # no fix
        {1: "N", 2: (R(16), R(4), R(4)), 3: "E", 4: (R(0), R(0), R(0))},  # zero longitude
        {1: "N", 2: (R(16), R(4), R(0, 0)), 3: "E", 4: (R(108), R(13), R(0))},  # x/0
        {1: "N", 2: (R(95), R(0), R(0)), 3: "E", 4: (R(108), R(13), R(0))},  # lat > 90
        {1: "N", 2: (R(16), R(4), R(0)), 3: "E", 4: (R(181), R(0), R(0))},  # lon > 180
        {1: "X", 2: (R(16), R(4), R(0)), 3: "E", 4: (R(108), R(13), R(0))},  # bad ref
        {1: "N", 2: (R(16), R(4), R(0))},  # latitude only
    ],
    ids=["empty", "zeros", "zero-lon", "zero-denominator", "lat-range", "lon-range", "ref", "half"],
)
def test_invalid_gps_is_ignored(gps_ifd):
    photo = processed(make_jpeg(gps_ifd=gps_ifd))
    assert photo.gps is None


def test_gps_without_refs_is_read_as_north_east():
    ifd = {ExifTags.GPS.GPSLatitude: (R(16), R(4), R(0)), ExifTags.GPS.GPSLongitude: (R(108),)}
    assert processed(make_jpeg(gps_ifd=ifd)).gps == pytest.approx((16 + 4 / 60, 108.0))


def test_no_exif_means_no_gps_and_no_date():
    photo = processed(make_jpeg())
    assert photo.gps is None
    assert photo.taken_at is None


def test_taken_at_read_from_date_time_original():
    naive = processed(make_jpeg(taken_at="2024:05:17 08:30:15"))
    assert naive.taken_at == datetime(2024, 5, 17, 8, 30, 15)

    aware = processed(make_jpeg(taken_at="2024:05:17 08:30:15", taken_at_offset="+07:00"))
    assert aware.taken_at == datetime(2024, 5, 17, 8, 30, 15, tzinfo=timezone(timedelta(hours=7)))

    assert processed(make_jpeg(taken_at="0000:00:00 00:00:00")).taken_at is None


def test_orientation_6_swaps_width_and_height_and_rotates_pixels():
    # Landscape pixels with a black top-left corner; orientation 6 = rotate 90° clockwise.
    image = Image.new("RGB", (800, 600), "white")
    ImageDraw.Draw(image).rectangle((0, 0, 99, 99), fill="black")
    photo = processed(make_jpeg(image=image, orientation=6))

    assert (photo.width, photo.height) == (600, 800)
    web = open_image(photo.web)
    assert web.size == (600, 800)
    assert sum(web.getpixel((550, 50))) < 60  # corner moved to the top-right
    assert sum(web.getpixel((50, 50))) > 700
    assert open_image(photo.thumb).size == (240, 320)


@pytest.mark.parametrize("orientation", [1, 3])
def test_non_transposing_orientation_keeps_dimensions(orientation):
    photo = processed(make_jpeg(orientation=orientation))
    assert (photo.width, photo.height) == (800, 600)


def test_orientation_applied_for_reduced_decode_of_big_jpeg():
    photo = processed(make_jpeg(4000, 2000, orientation=8))
    assert (photo.width, photo.height) == (2000, 4000)
    assert open_image(photo.web).size == (800, 1600)


# --------------------------------------------------------------------------- stripping


def rich_jpeg() -> bytes:
    return make_jpeg(
        gps=DA_NANG,
        orientation=6,
        taken_at="2024:05:17 08:30:15",
        xmp=XMP,
        comment="Nguyễn Văn A, 0905 123 456",
        icc_profile=srgb_icc_profile(),
    )


def test_fixture_really_carries_metadata():
    im = open_image(rich_jpeg())
    assert im.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert {"exif", "xmp", "comment", "icc_profile"} <= set(im.info)


@pytest.mark.parametrize(
    "data",
    [
        rich_jpeg(),
        # Without rotation or ICC conversion the decoded image keeps its info dict intact.
        make_jpeg(gps=DA_NANG, xmp=XMP, comment="Nguyễn Văn A, 0905 123 456"),
    ],
    ids=["rotated-icc", "plain"],
)
def test_web_and_thumb_carry_no_metadata_and_original_is_untouched(data):
    photo = processed(data)

    assert photo.gps == pytest.approx(DA_NANG, abs=1e-6)
    assert_no_metadata(photo.web)
    assert_no_metadata(photo.thumb)
    assert photo.original == data


def test_png_text_chunks_and_exif_are_not_copied():
    data = make_png(gps=DA_NANG, text={"Author": "Nguyễn Văn A", "XML:com.adobe.xmp": "x"})
    photo = processed(data)
    assert_no_metadata(photo.web)
    assert_no_metadata(photo.thumb)


def test_strip_metadata_keeps_oriented_pixels_only():
    out = strip_metadata(rich_jpeg())
    assert_no_metadata(out)
    assert open_image(out).size == (600, 800)


def test_blur_image_blurs_and_strips():
    image = Image.new("RGB", (400, 400), "white")
    draw = ImageDraw.Draw(image)
    for x in range(0, 400, 20):
        draw.rectangle((x, 0, x + 9, 399), fill="black")
    data = make_jpeg(image=image, gps=DA_NANG, comment="secret")

    out = blur_image(data)

    assert_no_metadata(out)
    blurred = open_image(out)
    assert blurred.size == (400, 400)
    before = ImageStat.Stat(image.convert("L")).stddev[0]
    after = ImageStat.Stat(blurred.convert("L")).stddev[0]
    assert after < before / 5


def test_strip_and_blur_refuse_non_images():
    with pytest.raises(PhotoError):
        strip_metadata(not_an_image())
    with pytest.raises(PhotoError):
        blur_image(b"")


# --------------------------------------------------------------------------- refused input


def test_text_renamed_to_jpg_is_refused(ctx):  # ctx: the catalog's English
    with pytest.raises(PhotoError) as info:
        processed(not_an_image(), filename="anh-ho-ga.jpg")
    err = info.value
    assert err.message_vi == 'Tệp "anh-ho-ga.jpg" không phải là ảnh hợp lệ (JPEG, PNG, WEBP)'
    assert err.message_en == 'File "anh-ho-ga.jpg" is not a valid image (JPEG, PNG, WEBP)'
    assert err.status_code == 422
    assert err.field == "photos"


def test_error_message_uses_only_a_clean_base_name():
    with pytest.raises(PhotoError) as info:
        processed(not_an_image(), filename="../../etc/x\x00\n.jpg")
    assert '"x.jpg"' in info.value.message_vi


@pytest.mark.parametrize("data", [b"", b"\xff\xd8\xff", make_gif()], ids=["empty", "soi", "gif"])
def test_empty_stub_and_disallowed_formats_are_refused(data):
    with pytest.raises(PhotoError):
        processed(data, filename=None)


def test_format_outside_configured_list_is_refused():
    with pytest.raises(PhotoError, match=r"\(JPEG, PNG\)"):
        processed(make_webp(), allowed_formats=("JPEG", "PNG"))


def test_oversize_upload_is_payload_too_large():
    data = make_jpeg(400, 300)
    with pytest.raises(PayloadTooLarge) as info:
        processed(data, max_bytes=len(data) - 1)
    assert info.value.status_code == 413
    assert "MB" in info.value.message_vi


def test_default_size_limit_is_10_megabytes():
    with pytest.raises(PayloadTooLarge, match="10 MB"):
        processed(b"\xff" * (10 * 1024 * 1024 + 1))


def test_truncated_jpeg_is_refused():
    data = truncate(make_jpeg(), 0.6)
    Image.open(io.BytesIO(data))  # the header survives: the failure must come from decoding
    with pytest.raises(PhotoError) as info:
        processed(data)
    assert "bị hỏng" in info.value.message_vi


def test_truncated_png_is_refused():
    with pytest.raises(PhotoError):
        processed(truncate(make_png(), 0.5))


def test_corrupt_scan_data_is_refused_or_decoded_but_never_crashes():
    data = bytearray(make_jpeg())
    data[len(data) // 2 : len(data) // 2 + 200] = b"\xff\x00" * 100
    with contextlib.suppress(PhotoError):
        processed(bytes(data))


@pytest.mark.parametrize(
    ("width", "height"),
    [(20_000, 20_000), (10_000, 10_000), (7_000, 6_000)],
    ids=["pillow-error", "pillow-warning", "our-limit"],
)
def test_decompression_bomb_is_refused_without_decoding(width, height, monkeypatch, ctx):
    bomb = make_bomb(width, height)
    assert len(bomb) < 100_000  # small on disk, huge in memory

    def no_decoding(self):
        raise AssertionError("a bomb must be refused before its pixels are decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)

    with pytest.raises(PhotoError) as info:
        processed(bomb, filename="bomb.png")
    assert "quá lớn" in info.value.message_vi
    assert "megapixels" in info.value.message_en


def test_bomb_raises_no_warning_even_when_warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(PhotoError):
            processed(make_bomb(10_000, 10_000))


def test_pixel_limit_is_configurable():
    with pytest.raises(PhotoError, match=r"800×600"):
        processed(make_jpeg(), max_pixels=100_000)


def test_check_count(ctx):  # ctx: the catalog's English
    check_count(0, LIMITS)
    check_count(5, LIMITS)
    with pytest.raises(PhotoError) as info:
        check_count(6, LIMITS)
    assert isinstance(info.value, ValidationError)
    assert info.value.message_vi == "Tối đa 5 ảnh cho mỗi phản ánh"
    assert info.value.message_en == "At most 5 photos per report"
