"""Tests for the cost limits of photo intake: pixel budget, decode slots, memory release."""

from __future__ import annotations

import io
import struct
import sys
import threading
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageFile

# The suite must run with --noconftest, so nothing else puts the project root on sys.path.
_ROOT = str(Path(__file__).resolve().parents[3])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from config.settings import Config  # noqa: E402
from tests.fixtures.images import make_bomb, make_jpeg, make_png, make_webp  # noqa: E402
from webapp.errors import PayloadTooLarge, PhotoError, ServiceBusy, ValidationError  # noqa: E402
from webapp.services.intake import photo_budget, photo_copies  # noqa: E402
from webapp.services.intake.photo_limits import PhotoLimits  # noqa: E402
from webapp.services.intake.photos import process_photo, process_photos  # noqa: E402

LIMITS = PhotoLimits()
BUDGET_MESSAGE_VI = (
    "Các ảnh gửi kèm quá lớn để xử lý cùng một lúc. "
    "Vui lòng gửi ít ảnh hơn hoặc ảnh có độ phân giải thấp hơn."
)


def _chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def black_png(width: int, height: int) -> bytes:
    """A valid all-black 8-bit RGB PNG, written row by row (Pillow would allocate it whole)."""
    row = b"\x00" * (1 + 3 * width)  # filter byte + pixels
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", data)
        + _chunk(b"IEND", b"")
    )


def repeated_scans(data: bytes, extra: int) -> bytes:
    """A progressive JPEG with its last scan repeated `extra` more times."""
    last_scan = data.rindex(b"\xff\xda")
    end = data.rindex(b"\xff\xd9")
    return data[:end] + data[last_scan:end] * extra + data[end:]


@pytest.fixture(scope="module")
def attack_png() -> bytes:
    # 7680×5160 = 39.6 MP in ~130 KB: five of them were 6.8 s of CPU and 731 MB of RSS.
    data = black_png(7680, 5160)
    assert len(data) < 200_000
    return data


@pytest.fixture(scope="module")
def phone_48mp() -> bytes:
    return make_jpeg(8000, 6000, gps=(16.0678, 108.2208))


@pytest.fixture(scope="module")
def phone_12mp() -> bytes:
    return make_jpeg(4032, 3024)


@pytest.fixture
def no_decoding(monkeypatch):
    """Any pixel decoded from now on fails the test."""

    def refuse(self):
        raise AssertionError("pixels were decoded before the request was refused")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


@pytest.fixture
def decoded_sizes(monkeypatch) -> list[tuple[int, int]]:
    """The size every image had when its pixels were decoded."""
    sizes: list[tuple[int, int]] = []
    original = ImageFile.ImageFile.load

    def spy(self):
        if self.tile:  # not yet decoded (load() returns at once afterwards)
            sizes.append(self.size)
        return original(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    return sizes


# --------------------------------------------------------------------------- the budget


@pytest.mark.parametrize(
    "limits",
    [LIMITS, PhotoLimits(max_full_decode_pixels=40_000_000)],
    ids=["defaults", "per-file-limit-raised"],
)
def test_five_40_megapixel_pngs_are_refused_before_any_pixel_is_decoded(
    attack_png,
    no_decoding,
    limits,
    ctx,  # ctx: the catalog's English needs an app context
):
    uploads = [(attack_png, f"anh{i}.png") for i in range(5)]

    with pytest.raises(ValidationError) as info:  # PhotoError (422) or PayloadTooLarge (413)
        process_photos(uploads, limits)

    error = info.value
    assert error.field == "photos"
    assert "quá lớn" in error.message_vi
    assert "too large" in error.message_en


def test_five_40_megapixel_pngs_are_refused_by_the_request_budget(attack_png, no_decoding):
    # With both per-file limits out of the way, the sum alone must still refuse them.
    limits = PhotoLimits(max_pixels=40_000_000, max_full_decode_pixels=40_000_000)
    with pytest.raises(PayloadTooLarge) as info:
        process_photos([(attack_png, f"anh{i}.png") for i in range(5)], limits)
    assert info.value.message_vi == BUDGET_MESSAGE_VI
    assert info.value.status_code == 413


def test_a_48_megapixel_phone_photo_is_accepted_and_decoded_reduced(phone_48mp, decoded_sizes):
    [photo] = process_photos([(phone_48mp, "IMG_20240517.jpg")], LIMITS)

    assert (photo.width, photo.height) == (8000, 6000)
    assert photo.gps == pytest.approx((16.0678, 108.2208), abs=1e-5)
    assert Image.open(io.BytesIO(photo.web)).size == (1600, 1200)
    # libjpeg's DCT scaling: 1/4 of each side, 3 MP instead of 48.
    assert decoded_sizes == [(2000, 1500)]


def test_five_ordinary_12_megapixel_phone_photos_are_accepted(phone_12mp, decoded_sizes):
    result = process_photos([(phone_12mp, f"IMG_{i}.jpg") for i in range(5)], LIMITS)

    assert [(p.width, p.height) for p in result] == [(4032, 3024)] * 5
    assert decoded_sizes == [(2016, 1512)] * 5  # decoded at half size, not 12 MP


def test_photos_each_acceptable_but_over_budget_together_are_refused(no_decoding):
    png = black_png(4900, 3265)  # 16 MP: under the 20 MP per-file limit
    uploads = [(png, "chup-man-hinh-1.png"), (png, "chup-man-hinh-2.png")]

    with pytest.raises(PayloadTooLarge) as info:
        process_photos(uploads, LIMITS)

    assert info.value.field == "photos"
    assert info.value.message_vi == BUDGET_MESSAGE_VI
    assert info.value.to_dict()["field"] == "photos"


def test_one_of_those_photos_alone_is_accepted():
    [photo] = process_photos([(black_png(4900, 3265), "chup-man-hinh.png")], LIMITS)
    assert (photo.width, photo.height) == (4900, 3265)


def test_png_over_the_full_decode_limit_is_refused_with_its_format(no_decoding, ctx):
    with pytest.raises(PhotoError) as info:
        process_photos([(black_png(5000, 4200), "ban-do.png")], LIMITS)  # 21 MP

    assert "(5000×4200)" in info.value.message_vi
    assert "tối đa 20 triệu điểm ảnh đối với ảnh PNG" in info.value.message_vi
    assert "at most 20 megapixels for a PNG image" in info.value.message_en


def test_repeated_progressive_scans_count_against_the_budget():
    progressive = make_jpeg(1600, 1200, quality=80)
    progressive = _progressive(progressive)
    assert len(process_photos([(progressive, "a.jpg")], LIMITS)) == 1

    bomb = repeated_scans(progressive, 300)  # each scan is one more pass over every block
    assert len(bomb) < len(progressive) + 300 * 2_000

    def refuse(self):
        raise AssertionError("a scan bomb must be refused before it is decoded")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ImageFile.ImageFile, "load", refuse)
        with pytest.raises(PayloadTooLarge):
            process_photos([(bomb, "a.jpg")], LIMITS)


def _progressive(data: bytes) -> bytes:
    out = io.BytesIO()
    Image.open(io.BytesIO(data)).save(out, "JPEG", progressive=True, quality=80)
    return out.getvalue()


def test_pillow_bomb_protection_still_applies_when_our_limits_are_lifted(no_decoding):
    unlimited = PhotoLimits(
        max_pixels=10**10, max_full_decode_pixels=10**10, max_request_pixels=10**12
    )
    assert Image.MAX_IMAGE_PIXELS is not None
    with pytest.raises(PhotoError) as info:
        process_photos([(make_bomb(20_000, 20_000), "bomb.png")], unlimited)
    assert "quá lớn" in info.value.message_vi


def test_too_many_photos_are_refused_before_anything_is_opened(monkeypatch, ctx):
    def refuse(*_args, **_kwargs):
        raise AssertionError("opened")

    monkeypatch.setattr(Image, "open", refuse)
    with pytest.raises(PhotoError, match="At most 5 photos"):
        process_photos([(b"x", "a.jpg")] * 6, LIMITS)


# --------------------------------------------------------------------------- results


def test_results_come_back_in_the_order_of_the_uploads():
    uploads = [
        (make_jpeg(640, 480, color=(200, 0, 0)), "1.jpg"),
        (make_png(300, 200), "2.png"),
        (make_webp(500, 400), "3.webp"),
        (make_jpeg(480, 640, color=(0, 0, 200)), "4.jpg"),
    ]

    result = process_photos(uploads, LIMITS)

    assert [(p.width, p.height) for p in result] == [(640, 480), (300, 200), (500, 400), (480, 640)]
    assert [p.original for p in result] == [data for data, _ in uploads]
    assert [p.original_format for p in result] == ["JPEG", "PNG", "WEBP", "JPEG"]


def test_no_uploads_give_no_results():
    assert process_photos([], LIMITS) == []


def test_process_photo_is_process_photos_of_one():
    data = make_jpeg(2000, 1500, gps=(16.0678, 108.2208))
    single = process_photo(data, "a.jpg", LIMITS)
    [batch] = process_photos([(data, "a.jpg")], LIMITS)
    assert single == batch


# --------------------------------------------------------------------------- decode slots


def test_decoding_happens_while_holding_a_slot(monkeypatch):
    limits = PhotoLimits(decode_concurrency=1)
    slots = photo_budget.decode_slots(1)
    free_during_decode: list[bool] = []
    build = photo_copies.build_photo

    def spy(*args, **kwargs):
        free_during_decode.append(slots.acquire(blocking=False))
        if free_during_decode[-1]:
            slots.release()
        return build(*args, **kwargs)

    monkeypatch.setattr(photo_copies, "build_photo", spy)
    process_photos([(make_jpeg(), "a.jpg"), (make_png(), "b.png")], limits)

    assert free_during_decode == [False, False]
    assert slots.acquire(blocking=False)  # and released afterwards
    slots.release()


def test_busy_when_every_slot_stays_taken():
    limits = PhotoLimits(decode_concurrency=3, decode_wait_seconds=0.01)
    slots = photo_budget.decode_slots(3)
    for _ in range(3):  # three requests decoding
        assert slots.acquire(blocking=False)
    try:
        with pytest.raises(ServiceBusy) as info:
            process_photos([(make_jpeg(), "a.jpg")], limits)
    finally:
        for _ in range(3):
            slots.release()

    error = info.value
    assert error.status_code == 503
    assert error.code == "busy"
    assert error.message_vi == "Hệ thống đang bận, vui lòng thử lại sau ít phút."
    assert error.to_dict() == {"error": "busy", "message": error.message_vi}
    # The slots were the only reason: freed, the same call goes through.
    assert len(process_photos([(make_jpeg(), "a.jpg")], limits)) == 1


def test_a_call_waits_for_a_slot_to_free_up(monkeypatch):
    held = threading.BoundedSemaphore(1)
    held.acquire()  # another request is decoding
    waiting = threading.Event()

    class Slots:
        def acquire(self, timeout=None):
            waiting.set()
            return held.acquire(timeout=timeout)

        def release(self):
            held.release()

    monkeypatch.setattr(photo_budget, "decode_slots", lambda concurrency: Slots())
    other_request = threading.Thread(target=lambda: waiting.wait(30) and held.release())
    other_request.start()
    try:
        result = process_photos([(make_jpeg(), "a.jpg")], PhotoLimits(decode_wait_seconds=60))
    finally:
        other_request.join()

    assert waiting.is_set()
    assert len(result) == 1


def test_refused_requests_take_no_slot(attack_png, monkeypatch):
    def no_slot(concurrency):
        raise AssertionError("a refused request must not wait for a decode slot")

    monkeypatch.setattr(photo_budget, "decode_slots", no_slot)
    with pytest.raises(ValidationError):
        process_photos([(attack_png, "a.png")] * 5, LIMITS)


# --------------------------------------------------------------------------- memory


def test_memory_is_given_back_after_a_large_request_only(monkeypatch, phone_12mp):
    calls: list[str] = []
    monkeypatch.setattr(photo_budget, "release_memory", lambda: calls.append("trim"))

    process_photos([(make_jpeg(800, 600), "small.jpg")], LIMITS)
    assert calls == []

    process_photos([(phone_12mp, "a.jpg"), (phone_12mp, "b.jpg")], LIMITS)
    assert calls == ["trim"]


def test_release_memory_trims_the_c_heap(monkeypatch):
    trims: list[int] = []
    monkeypatch.setattr(photo_budget, "_malloc_trim", trims.append)
    photo_budget.release_memory()
    assert trims == [0]


def test_malloc_trim_is_found_on_glibc():
    import platform

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("malloc_trim is a glibc function")
    assert photo_budget._malloc_trim is not None


# --------------------------------------------------------------------------- settings


def test_config_defaults_are_the_photo_limits_defaults():
    settings = {name: getattr(Config, name) for name in dir(Config) if name.startswith("PHOTO_")}
    assert PhotoLimits.from_config(settings) == PhotoLimits()
    assert settings["PHOTO_MAX_PIXELS"] >= 8160 * 6120  # a 50 MP phone photo


def test_limits_from_config_read_every_photo_setting():
    limits = PhotoLimits.from_config(
        {
            "PHOTO_MAX_BYTES": 1,
            "PHOTO_MAX_PIXELS": 2,
            "PHOTO_MAX_FULL_DECODE_PIXELS": 3,
            "PHOTO_MAX_REQUEST_PIXELS": 4,
            "PHOTO_MAX_COUNT": 5,
            "PHOTO_DECODE_CONCURRENCY": 6,
            "PHOTO_DECODE_WAIT_SECONDS": 7.5,
            "UNRELATED": 8,
        }
    )
    assert (
        limits.max_bytes,
        limits.max_pixels,
        limits.max_full_decode_pixels,
        limits.max_request_pixels,
        limits.max_count,
        limits.decode_concurrency,
        limits.decode_wait_seconds,
    ) == (1, 2, 3, 4, 5, 6, 7.5)
