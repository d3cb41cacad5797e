"""Photo uploads: validate untrusted image bytes, derive metadata-free copies, store them."""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import io
import math
import os
import re
import struct
import tempfile
import threading
import unicodedata
import uuid
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal

from PIL import ExifTags, Image, ImageFilter

from webapp.errors import NotFound, PayloadTooLarge, PhotoError, ServiceBusy

_MB = 1024 * 1024

_MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}

# Every exception type Pillow's decoders are known to raise on hostile or damaged input.
# Listed rather than `except Exception` so that genuine programming errors still surface.
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    TypeError,
    EOFError,
    IndexError,
    KeyError,
    struct.error,
    ZeroDivisionError,
)

_KEY_RE = re.compile(r"[0-9a-f]{32}")

Variant = Literal["web", "thumb"]


@dataclass(frozen=True)
class PhotoLimits:
    """Limits applied to each uploaded photo, to one request's photos and to decoding.

    What decoding costs is the pixels it materialises, not the bytes uploaded: a 130 KB PNG
    can hold 40 megapixels. Every limit below is checked from the headers alone, for all the
    photos of a request, before the first pixel is decoded (`process_photos`).

    - `max_pixels`: any file, by its header size. JPEGs are decoded with libjpeg's DCT scaling
      (`Image.draft`) straight to about the size of the web copy, so a 48/50 MP (8000×6000)
      or 64 MP (9248×6936) phone photo costs about what a 12 MP one does.
    - `max_full_decode_pixels`: files that can only be decoded at full size: PNG, WebP and
      progressive JPEG (libjpeg keeps every DCT coefficient of a progressive file in memory,
      6 bytes a pixel at 4:4:4, whatever the output scale). Screenshots and images saved by
      apps are 1–15 MP; 20 MP takes a 5K screenshot or a 5472×3648 camera export.
    - `max_request_pixels`: the cost of a request's photos together (`_decode_cost`): the
      pixels decoding materialises (a JPEG at its reduced decode size, 3 MP for a 12 MP or
      a 48 MP photo; a PNG or WebP at its full size, counted 1¼) plus one per byte of the
      file (entropy decoding, parsing the upload, hashing and storing it). Measured on the
      server (bench/abuse.py), one unit is 20–30 ns of CPU whatever the format, so the default
      keeps a submission under a second. Five 12 MP phone photos of up to 3.9 MB each fit
      (3.5 MB each: 33 M); so do a 48 MP photo of 10 MB (13.5 M) or a 20 MP PNG (25 M); five
      39.6 MP PNGs (the 640 KB attack of finding 4b, 6.8 s of CPU before) do not, nor do two
      15 MP PNGs.
    - `decode_concurrency` / `decode_wait_seconds`: at most that many requests of this
      process decode at once (the rest of the server's threads stay free for everything
      else); a request that cannot start within the wait is refused with `ServiceBusy` (503).
    """

    max_bytes: int = 10 * _MB
    max_pixels: int = 65_000_000
    max_full_decode_pixels: int = 20_000_000
    max_request_pixels: int = 35_000_000
    max_count: int = 5
    web_size: int = 1600
    thumb_size: int = 320
    allowed_formats: tuple[str, ...] = ("JPEG", "PNG", "WEBP")
    web_quality: int = 85
    thumb_quality: int = 80
    decode_concurrency: int = 2
    decode_wait_seconds: float = 10.0

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> PhotoLimits:
        """Limits from the app config (`PHOTO_*` settings); missing keys keep the defaults."""
        names = {
            "max_bytes": "PHOTO_MAX_BYTES",
            "max_pixels": "PHOTO_MAX_PIXELS",
            "max_full_decode_pixels": "PHOTO_MAX_FULL_DECODE_PIXELS",
            "max_request_pixels": "PHOTO_MAX_REQUEST_PIXELS",
            "max_count": "PHOTO_MAX_COUNT",
            "decode_concurrency": "PHOTO_DECODE_CONCURRENCY",
            "decode_wait_seconds": "PHOTO_DECODE_WAIT_SECONDS",
        }
        return cls(**{attr: cfg[key] for attr, key in names.items() if key in cfg})


DEFAULT_LIMITS = PhotoLimits()


@dataclass(frozen=True)
class ProcessedPhoto:
    """A validated upload: the untouched original, its metadata and metadata-free JPEG copies."""

    original: bytes = field(repr=False)
    original_format: str
    mime: str
    sha256: str
    width: int
    height: int
    gps: tuple[float, float] | None
    # Timezone-aware when the camera recorded OffsetTimeOriginal, otherwise naive camera time.
    taken_at: datetime | None
    web: bytes = field(repr=False)
    thumb: bytes = field(repr=False)


@dataclass(frozen=True)
class StoredPhoto:
    """Where the three files of a stored photo live."""

    key: str
    original_path: Path
    web_path: Path
    thumb_path: Path


# --------------------------------------------------------------------------- errors


def _display_name(filename: str | None) -> str:
    if not filename:
        return ""
    # Only the last path component, without control characters: it is echoed back to the user.
    name = re.split(r"[\\/]", filename)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    return name[:80] + "…" if len(name) > 80 else name


def _quoted(filename: str | None) -> str:
    name = _display_name(filename)
    return f' "{name}"' if name else ""


def _formats_text(limits: PhotoLimits) -> str:
    return ", ".join(limits.allowed_formats)


def _not_an_image(filename: str | None, limits: PhotoLimits) -> PhotoError:
    name, formats = _quoted(filename), _formats_text(limits)
    return PhotoError(
        f"Tệp{name} không phải là ảnh hợp lệ ({formats})",
        f"File{name} is not a valid image ({formats})",
        field="photos",
    )


def _corrupt(filename: str | None) -> PhotoError:
    name = _quoted(filename)
    return PhotoError(
        f"Ảnh{name} bị hỏng hoặc không đầy đủ, không đọc được",
        f"Image{name} is damaged or incomplete and cannot be read",
        field="photos",
    )


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:g}"


def _too_many_pixels(
    filename: str | None,
    limits: PhotoLimits,
    size: tuple[int, int] | None,
    *,
    limit: int | None = None,
    kind: str | None = None,
) -> PhotoError:
    name = _quoted(filename)
    megapixels = _megapixels(limits.max_pixels if limit is None else limit)
    dims = f" ({size[0]}×{size[1]})" if size else ""
    kind_vi = f" đối với ảnh {kind}" if kind else ""
    kind_en = f" for a {kind} image" if kind else ""
    return PhotoError(
        f"Ảnh{name} có kích thước quá lớn{dims}: tối đa {megapixels} triệu điểm ảnh{kind_vi}",
        f"Image{name} is too large{dims}: at most {megapixels} megapixels{kind_en}",
        field="photos",
    )


def _over_request_budget() -> PayloadTooLarge:
    # No figure: the budget counts decoding work (`_decode_cost`), which the resident cannot
    # read off their photos; what they can do about it is in the message.
    return PayloadTooLarge(
        "Các ảnh gửi kèm quá lớn để xử lý cùng một lúc. "
        "Vui lòng gửi ít ảnh hơn hoặc ảnh có độ phân giải thấp hơn.",
        "The photos are too large to process together. "
        "Please send fewer photos or photos of a lower resolution.",
        field="photos",
    )


def _busy() -> ServiceBusy:
    return ServiceBusy(
        "Hệ thống đang bận, vui lòng thử lại sau ít phút.",
        "The service is busy, please try again in a few minutes.",
    )


def _too_large(filename: str | None, limits: PhotoLimits) -> PayloadTooLarge:
    name = _quoted(filename)
    megabytes = f"{limits.max_bytes / _MB:g}"
    return PayloadTooLarge(
        f"Ảnh{name} vượt quá dung lượng tối đa {megabytes} MB",
        f"Image{name} is larger than the {megabytes} MB limit",
        field="photos",
    )


def check_count(n: int, limits: PhotoLimits = DEFAULT_LIMITS) -> None:
    """Refuse a report with more photos than `limits.max_count`."""
    if n > limits.max_count:
        raise PhotoError(
            f"Tối đa {limits.max_count} ảnh cho mỗi phản ánh",
            f"At most {limits.max_count} photos per report",
            field="photos",
        )


# --------------------------------------------------------------------------- decoding

_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

# libjpeg's default progressive script has 10 scans (6 for greyscale); mozjpeg and Photoshop
# write fewer. Each scan is one more pass over every coefficient of the image, so a hostile
# file repeating scans costs ~0.4 ms per megapixel per scan for a few bytes each.
_USUAL_SCANS = 10
# A decoded pixel costs the server ~23 ns through decode, resize and encode for a JPEG (IDCT
# and colour conversion at the DCT scale, the resize of ~3 MP), up to ~30 for a PNG or WebP
# (inflate, unfilter, flattening transparency, then the resize of the full size); a byte of
# the upload 20–25 ns (entropy decoding 11–18 ms per MB, parsing the multipart body ~5 ms,
# hashing and storing the original with fsync ~4 ms). Measured by bench/abuse.py.
_FULL_DECODE_PIXEL_COST = (5, 4)


@dataclass
class _Opened:
    """A photo whose header was read and checked; not one pixel has been decoded yet."""

    image: Image.Image  # lazily opened; for JPEG, `draft` already chose the DCT scale
    format: str
    progressive: bool
    width: int  # header size, before orientation
    height: int
    cost: int  # what decoding and storing it costs, in pixels (`_decode_cost`)


def _kind(fmt: str, progressive: bool) -> str:
    return "JPEG progressive" if progressive else fmt


def _open(
    data: bytes, filename: str | None, limits: PhotoLimits, target: int | None = None
) -> _Opened:
    """Check `data` by its content and header only, and plan a reduced JPEG decode.

    `Image.open` reads the header (format, size, EXIF of a JPEG), never the pixels; `draft`
    only tells libjpeg which DCT scale to decode at, so `target` costs nothing here.
    """
    if len(data) > limits.max_bytes:
        raise _too_large(filename, limits)
    if not data:
        raise _not_an_image(filename, limits)

    # catch_warnings is process-wide before Python 3.14; a race between threads can at worst
    # leave this same "error" filter installed, which only makes Pillow stricter.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            # `formats` makes Pillow sniff the content with these plugins only; the filename
            # and the client's Content-Type are never consulted.
            im = Image.open(io.BytesIO(data), formats=list(limits.allowed_formats))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels(filename, limits, None) from None
        except Image.UnidentifiedImageError:
            raise _not_an_image(filename, limits) from None
        except _DECODE_ERRORS:
            raise _corrupt(filename) from None

    try:
        # Phones write MPO (a JPEG with extra frames); it is a JPEG file as far as we care.
        fmt = "JPEG" if im.format == "MPO" else im.format
        if fmt not in limits.allowed_formats:
            raise _not_an_image(filename, limits)

        width, height = im.size
        if width <= 0 or height <= 0:
            raise _corrupt(filename)
        if width * height > limits.max_pixels:
            raise _too_many_pixels(filename, limits, (width, height))
        progressive = fmt == "JPEG" and bool(im.info.get("progressive"))
        if (fmt != "JPEG" or progressive) and width * height > limits.max_full_decode_pixels:
            raise _too_many_pixels(
                filename,
                limits,
                (width, height),
                limit=limits.max_full_decode_pixels,
                kind=_kind(fmt, progressive),
            )
        if fmt == "JPEG" and target:
            # libjpeg decodes at 1/2, 1/4 or 1/8 scale: the smallest that still covers the web
            # copy (asked for its exact box: a square box would keep a 4:3 photo at full size).
            im.draft(im.mode, _fitted_size(width, height, target))
    except BaseException:
        im.close()
        raise
    opened = _Opened(im, fmt, progressive, width, height, 0)
    opened.cost = _decode_cost(opened, data)
    return opened


def _fitted_size(width: int, height: int, box: int) -> tuple[int, int]:
    """The size of a `width`×`height` image shrunk to fit a `box`×`box` square."""
    if max(width, height) <= box:
        return width, height
    scale = box / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _decode_cost(opened: _Opened, data: bytes) -> int:
    """What accepting `opened` costs, in pixels: the unit of `max_request_pixels`.

    The pixels decoding materialises: for a baseline JPEG its size at the DCT scale `draft`
    chose (all libjpeg allocates and outputs); for PNG and WebP their full size, 1¼ each;
    for a progressive JPEG its full size (every coefficient is kept in memory) times its
    scans over the usual 10, counted from the SOS markers in the bytes, 1¼ each too. That
    count cannot be low: every scan starts with FF DA and entropy-coded data never contains
    it (an FF there is followed by 00 or a restart marker); one in an EXIF thumbnail only
    adds to it. Plus one per byte of the file: three 10 MB JPEGs decode to 4 MP each but
    are a second of work.
    """
    if opened.progressive:
        scans = data.count(b"\xff\xda")
        pixels = math.ceil(opened.width * opened.height * max(1.0, scans / _USUAL_SCANS))
    else:
        width, height = opened.image.size  # after draft
        pixels = width * height
    if opened.format != "JPEG" or opened.progressive:
        pixels = pixels * _FULL_DECODE_PIXEL_COST[0] // _FULL_DECODE_PIXEL_COST[1]
    return pixels + len(data)


def _load(opened: _Opened, filename: str | None, limits: PhotoLimits) -> None:
    """Decode the pixels of an opened photo."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            opened.image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            size = (opened.width, opened.height)
            raise _too_many_pixels(filename, limits, size) from None
        except _DECODE_ERRORS:
            raise _corrupt(filename) from None


def _oriented_size(opened: _Opened, exif: Image.Exif) -> tuple[int, int]:
    if exif.get(ExifTags.Base.Orientation) in (5, 6, 7, 8):  # the transposing orientations
        return opened.height, opened.width
    return opened.width, opened.height


def _orient(im: Image.Image, exif: Image.Exif) -> Image.Image:
    method = _TRANSPOSE.get(exif.get(ExifTags.Base.Orientation))  # type: ignore[arg-type]
    if method is None:
        return im
    try:
        return im.transpose(method)
    except _DECODE_ERRORS:
        return im  # a broken EXIF block must not cost the citizen their photo


@dataclass
class _Decoded:
    image: Image.Image  # oriented, RGB
    format: str
    width: int  # full size after orientation
    height: int
    exif: Image.Exif


def _decode(data: bytes, filename: str | None, limits: PhotoLimits) -> _Decoded:
    """Validate `data` by content and decode it whole.

    For the moderation tools, which re-encode the public copies (1600 px at most); intake
    goes through `process_photos`, its budget and its decode slots.
    """
    opened = _open(data, filename, limits)
    _load(opened, filename, limits)
    exif = _read_exif(opened.image)
    width, height = _oriented_size(opened, exif)
    image = _to_srgb_rgb(_orient(_resizable(opened.image), exif))
    return _Decoded(image, opened.format, width, height, exif)


def _read_exif(im: Image.Image) -> Image.Exif:
    try:
        return im.getexif()
    except _DECODE_ERRORS:
        return Image.Exif()


def _resizable(im: Image.Image) -> Image.Image:
    """Palette, bilevel and 16/32-bit images in a mode that resizes with a real filter."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale would otherwise be clipped to white by convert("L").
        return im.convert("I").point(lambda v: v / 256).convert("L")
    if im.mode == "F":
        return im.convert("L")
    if im.mode == "1":
        return im.convert("L")
    if im.mode in ("P", "PA"):
        has_alpha = im.mode == "PA" or "transparency" in im.info
        return im.convert("RGBA" if has_alpha else "RGB")
    return im


def _has_alpha(im: Image.Image) -> bool:
    return im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info


def _flattened(im: Image.Image) -> Image.Image:
    """Transparency flattened onto white (a new RGB image without `info`), else `im`."""
    if not _has_alpha(im):
        return im
    rgba = im if im.mode == "RGBA" else im.convert("RGBA")
    flat = Image.new("RGB", rgba.size, (255, 255, 255))
    flat.paste(rgba, mask=rgba)
    return flat


def _to_srgb_rgb(im: Image.Image) -> Image.Image:
    """Pixels as plain RGB in sRGB, transparency flattened onto white."""
    icc = im.info.get("icc_profile")
    if icc and im.mode in ("RGB", "CMYK"):
        # The profile is dropped from the copies, so convert first or wide-gamut (Display P3)
        # phone photos would look washed out.
        im = _convert_profile(im, icc)
    im = _flattened(_resizable(im))
    return im if im.mode == "RGB" else im.convert("RGB")


def _convert_profile(im: Image.Image, icc: bytes) -> Image.Image:
    try:
        from PIL import ImageCms

        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        srgb = ImageCms.createProfile("sRGB")
        return ImageCms.profileToProfile(im, source, srgb, outputMode="RGB") or im
    except (ImportError, *_DECODE_ERRORS):
        # ImageCms.PyCMSError is an OSError; an unusable profile just means "assume sRGB".
        return im


# --------------------------------------------------------------------------- EXIF metadata


def _ref(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", "ignore")
    if not isinstance(value, str):
        return None
    return value.strip("\x00 ").upper() or None


def _degrees(value: Any) -> float | None:
    if not isinstance(value, tuple | list):
        value = (value,)  # a single rational is read back as a scalar
    try:
        parts = [float(part) for part in value]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not 1 <= len(parts) <= 3:
        return None
    parts += [0.0] * (3 - len(parts))
    # IFDRational turns a zero denominator into NaN rather than raising.
    if not all(math.isfinite(p) and p >= 0 for p in parts):
        return None
    return parts[0] + parts[1] / 60 + parts[2] / 3600


def _coordinate(value: Any, ref: Any, positive: str, negative: str, bound: float) -> float | None:
    degrees = _degrees(value)
    if degrees is None or degrees > bound:
        return None
    ref_text = _ref(ref)
    if ref_text in (None, positive):
        # A missing ref is a sloppy writer, not a southern/western hemisphere.
        return degrees
    if ref_text == negative:
        return -degrees
    return None


def read_gps(exif: Image.Exif) -> tuple[float, float] | None:
    """(latitude, longitude) in signed decimal degrees from the GPSInfo IFD, if plausible."""
    try:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    except _DECODE_ERRORS:
        return None
    if not gps:
        return None
    lat = _coordinate(
        gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef), "N", "S", 90
    )
    lon = _coordinate(
        gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef), "E", "W", 180
    )
    # Devices without a fix write 0/1 rationals; an exact 0.0 is never a real reading.
    if lat is None or lon is None or lat == 0 or lon == 0:
        return None
    return round(lat, 7), round(lon, 7)


def _offset(value: Any) -> timezone | None:
    text = _ref(value)
    match = re.fullmatch(r"([+-])(\d{2}):(\d{2})", text or "")
    if not match:
        return None
    sign = 1 if match[1] == "+" else -1
    delta = timedelta(hours=int(match[2]), minutes=int(match[3]))
    if delta > timedelta(hours=14):
        return None
    return timezone(sign * delta)


def read_taken_at(exif: Image.Exif) -> datetime | None:
    """DateTimeOriginal, timezone-aware when OffsetTimeOriginal is present."""
    try:
        sub = exif.get_ifd(ExifTags.IFD.Exif)
    except _DECODE_ERRORS:
        return None
    text = _ref(sub.get(ExifTags.Base.DateTimeOriginal))
    if not text:
        return None
    try:
        taken = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:  # includes the "0000:00:00 00:00:00" placeholder
        return None
    tz = _offset(sub.get(ExifTags.Base.OffsetTimeOriginal))
    return taken.replace(tzinfo=tz) if tz else taken


# --------------------------------------------------------------------------- encoding

# Pillow's own thumbnail() filter. A web copy is at most 2× smaller than a JPEG decoded with
# DCT scaling, where BICUBIC and LANCZOS are indistinguishable; BICUBIC costs 40 % less.
_RESAMPLE = Image.Resampling.BICUBIC
# Larger images are first reduced by an integer factor in boxes (the one step that reads every
# pixel, and the cheapest), leaving the filter at least this much to shrink.
_REDUCING_GAP = 1.5


def _fit(im: Image.Image, size: int, *, in_place: bool = False) -> Image.Image:
    """`im` shrunk to fit a `size`×`size` square; `in_place` replaces the pixels of `im`."""
    if max(im.size) <= size:
        return im
    resized = im if in_place else im.copy()
    resized.thumbnail((size, size), _RESAMPLE, reducing_gap=_REDUCING_GAP)
    return resized


def _clean_jpeg(im: Image.Image, quality: int) -> bytes:
    """Encode only the pixels: a fresh image has no info dict, so nothing can ride along.

    Saving `im` itself would not be enough: Pillow's JPEG writer copies `im.info["comment"]`,
    and resize/transpose carry `info` (EXIF, XMP, ICC) over to their results.
    """
    pixels = Image.frombytes("RGB", im.size, im.tobytes())
    buf = io.BytesIO()
    pixels.save(buf, "JPEG", quality=quality, optimize=True)
    return buf.getvalue()


def _build(
    opened: _Opened, data: bytes, filename: str | None, limits: PhotoLimits
) -> ProcessedPhoto:
    """Decode an opened photo and derive its copies; the decoded pixels are freed on return."""
    im = opened.image
    web_image = None
    try:
        _load(opened, filename, limits)
        exif = _read_exif(im)
        # Shrink first: orientation and colour profile are then applied to 2 MP instead of
        # the full size. Transparency goes before (resizing RGBA premultiplies it, two more
        # passes over every pixel).
        web_image = _fit(_flattened(_resizable(im)), limits.web_size, in_place=True)
    finally:
        if web_image is not im:
            im.close()  # frees the full-size pixels now, not whenever the request ends
    width, height = _oriented_size(opened, exif)
    web_image = _to_srgb_rgb(_orient(web_image, exif))
    thumb_image = _fit(web_image, limits.thumb_size)
    return ProcessedPhoto(
        original=data,
        original_format=opened.format,
        mime=_MIME[opened.format],
        sha256=hashlib.sha256(data).hexdigest(),
        width=width,
        height=height,
        gps=read_gps(exif),
        taken_at=read_taken_at(exif),
        web=_clean_jpeg(web_image, limits.web_quality),
        thumb=_clean_jpeg(thumb_image, limits.thumb_quality),
    )


def process_photos(
    uploads: list[tuple[bytes, str | None]], limits: PhotoLimits = DEFAULT_LIMITS
) -> list[ProcessedPhoto]:
    """Validate the photos of one submission by content and build their copies, in order.

    A drop-in for `[process_photo(data, filename, limits) for ...]` that bounds the whole
    submission. Every photo's header is checked first (`_open`: count, bytes, format, pixels
    per file) and their decode costs are summed against `limits.max_request_pixels`, so an
    expensive submission is refused before one pixel is decoded and without waiting for a
    slot. Decoding then waits for one of `limits.decode_concurrency` slots (`ServiceBusy`
    after `limits.decode_wait_seconds`); the photos are decoded one after the other, each
    one's full-size pixels freed before the next, and the memory is trimmed afterwards.
    """
    check_count(len(uploads), limits)
    opened: list[_Opened] = []
    try:
        for data, filename in uploads:
            opened.append(_open(data, filename, limits, target=limits.web_size))
        cost = sum(item.cost for item in opened)
        if cost > limits.max_request_pixels:
            raise _over_request_budget()
        if not opened:
            return []
        with _decode_slot(limits):
            try:
                return [
                    _build(item, data, filename, limits)
                    for item, (data, filename) in zip(opened, uploads, strict=True)
                ]
            finally:
                if cost >= _TRIM_AFTER_PIXELS:
                    release_memory()
    finally:
        for item in opened:
            item.image.close()


def process_photo(
    data: bytes, filename: str | None, limits: PhotoLimits = DEFAULT_LIMITS
) -> ProcessedPhoto:
    """Validate one upload by its content and build its web and thumbnail copies."""
    return process_photos([(data, filename)], limits)[0]


def strip_metadata(data: bytes) -> bytes:
    """Re-encode an image as a JPEG of its oriented pixels only (no EXIF/GPS/XMP/ICC/comment)."""
    return _clean_jpeg(_decode(data, None, DEFAULT_LIMITS).image, quality=90)


def blur_image(data: bytes, radius: int = 24) -> bytes:
    """A blurred, metadata-free JPEG of an image, for moderated public copies."""
    image = _decode(data, None, DEFAULT_LIMITS).image
    return _clean_jpeg(image.filter(ImageFilter.GaussianBlur(radius)), quality=85)


# --------------------------------------------------------------------------- decode slots

_slots_lock = threading.Lock()
_slots: dict[int, threading.BoundedSemaphore] = {}


def decode_slots(concurrency: int) -> threading.BoundedSemaphore:
    """The process-wide semaphore of `concurrency` decode slots (one per configured size)."""
    with _slots_lock:
        if concurrency not in _slots:
            _slots[concurrency] = threading.BoundedSemaphore(max(1, concurrency))
        return _slots[concurrency]


@contextmanager
def _decode_slot(limits: PhotoLimits) -> Iterator[None]:
    """Hold one decode slot, or raise `ServiceBusy` if none frees up in time.

    The web server has a handful of threads (waitress: 4): without this, a burst of large
    uploads occupies all of them decoding and every other page waits behind it. Requests
    over the slots wait their turn; only a sustained burst is refused.
    """
    slots = decode_slots(limits.decode_concurrency)
    if not slots.acquire(timeout=max(0.0, limits.decode_wait_seconds)):
        raise _busy()
    try:
        yield
    finally:
        slots.release()


# --------------------------------------------------------------------------- memory

# After a submission whose cost (`_decode_cost`) reached this (a 12 MP phone photo: 12 MB of
# RGB plus decoder buffers), freed memory is handed back to the system.
_TRIM_AFTER_PIXELS = 4_000_000


def _load_malloc_trim() -> Any:
    name = ctypes.util.find_library("c")
    try:
        trim = ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to call
        return None
    if trim is not None:
        trim.argtypes = [ctypes.c_size_t]
        trim.restype = ctypes.c_int
    return trim


_malloc_trim = _load_malloc_trim()


def release_memory() -> None:
    """Give the memory freed by decoding back to the system.

    Pillow allocates pixels in blocks of up to 16 MB (`PIL.Image.core.get_block_size()`),
    libjpeg and zlib their buffers, all with malloc. glibc serves the first such block with
    mmap and returns it on free, but then raises its mmap threshold to that size (up to
    32 MB), so later blocks come from the heap of the decoding thread's arena; freed there,
    they stay in the process and RSS only ever grows with the largest burst it has seen.
    Measured: 60 at-budget submissions from 4 threads left RSS 250 MB higher without this,
    within 20 MB with it (bench/abuse.py measures the server). `malloc_trim(0)` releases the
    free pages of every arena (madvise, glibc ≥ 2.8); it costs a few milliseconds, so it runs
    only after a submission that cost `_TRIM_AFTER_PIXELS` or more. Pillow's own block cache
    is emptied first: it is off unless PILLOW_BLOCKS_MAX is set (`Image.core.set_blocks_max`),
    and if an operator sets it, a burst's blocks would otherwise stay cached.
    """
    Image.core.clear_cache()
    if _malloc_trim is not None:
        _malloc_trim(0)


# --------------------------------------------------------------------------- storage


class PhotoStore:
    """Files of stored photos: private originals and public web/thumbnail copies."""

    def __init__(self, base_dir: str | os.PathLike[str]):
        self.base_dir = Path(base_dir)
        self.originals_dir = self.base_dir / "originals"
        self.public_dir = self.base_dir / "public"

    @staticmethod
    def _check_key(key: str) -> str:
        # Keys reach us from URLs: only our own uuid4 hex shape can ever name a file.
        if not isinstance(key, str) or not _KEY_RE.fullmatch(key):
            raise NotFound("Không tìm thấy ảnh", "Photo not found")
        return key

    @staticmethod
    def _shard(root: Path, key: str) -> Path:
        # Two levels of 256 directories keep each directory small at millions of photos.
        return root / key[:2] / key[2:4]

    def _original_candidates(self, key: str) -> list[Path]:
        folder = self._shard(self.originals_dir, key)
        return [folder / f"{key}.{ext}" for ext in _EXTENSIONS.values()]

    def _public_path(self, key: str, variant: str) -> Path:
        return self._shard(self.public_dir, key) / f"{key}-{variant}.jpg"

    def store(self, photo: ProcessedPhoto) -> StoredPhoto:
        """Write the original and both copies under a new random key."""
        key = uuid.uuid4().hex
        ext = _EXTENSIONS[photo.original_format]
        stored = StoredPhoto(
            key=key,
            original_path=self._shard(self.originals_dir, key) / f"{key}.{ext}",
            web_path=self._public_path(key, "web"),
            thumb_path=self._public_path(key, "thumb"),
        )
        try:
            # Originals may hold the reporter's GPS and identity: owner-only permissions.
            _atomic_write(stored.original_path, photo.original, 0o600)
            _atomic_write(stored.web_path, photo.web, 0o644)
            _atomic_write(stored.thumb_path, photo.thumb, 0o644)
        except BaseException:
            self.delete(key)
            raise
        return stored

    def delete(self, key: str) -> None:
        """Remove a photo's files; missing files are fine (used to undo a failed transaction)."""
        self._check_key(key)
        paths = [
            *self._original_candidates(key),
            self._public_path(key, "web"),
            self._public_path(key, "thumb"),
        ]
        # Shard directories are left in place: removing them could race a concurrent store().
        for path in paths:
            path.unlink(missing_ok=True)

    def open_public(self, key: str, variant: Variant) -> Path:
        """Path of a public copy ("web" or "thumb"); NotFound for unknown keys or variants."""
        self._check_key(key)
        if variant not in ("web", "thumb"):
            raise NotFound("Không tìm thấy ảnh", "Photo not found")
        path = self._public_path(key, variant)
        if not path.is_file():
            raise NotFound("Không tìm thấy ảnh", "Photo not found")
        return path

    def open_original(self, key: str) -> Path:
        """Path of the private original; callers must check permissions before serving it."""
        self._check_key(key)
        for path in self._original_candidates(key):
            if path.is_file():
                return path
        raise NotFound("Không tìm thấy ảnh", "Photo not found")


def _atomic_write(path: Path, data: bytes, mode: int) -> None:
    """Write via a temporary file and os.replace, so readers never see a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
            os.fchmod(handle.fileno(), mode)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
