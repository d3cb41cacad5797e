"""Photo uploads: validate untrusted image bytes, derive metadata-free copies, store them."""

from __future__ import annotations

import hashlib
import io
import math
import os
import re
import struct
import tempfile
import unicodedata
import uuid
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal

from PIL import ExifTags, Image, ImageFilter, ImageOps

from webapp.errors import NotFound, PayloadTooLarge, PhotoError

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
    """Limits applied to each uploaded photo and to the number of photos per report."""

    max_bytes: int = 10 * _MB
    max_pixels: int = 40_000_000
    max_count: int = 5
    web_size: int = 1600
    thumb_size: int = 320
    allowed_formats: tuple[str, ...] = ("JPEG", "PNG", "WEBP")
    web_quality: int = 85
    thumb_quality: int = 80


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


def _too_many_pixels(
    filename: str | None, limits: PhotoLimits, size: tuple[int, int] | None
) -> PhotoError:
    name = _quoted(filename)
    megapixels = f"{limits.max_pixels / 1_000_000:g}"
    dims = f" ({size[0]}×{size[1]})" if size else ""
    return PhotoError(
        f"Ảnh{name} có kích thước quá lớn{dims}: tối đa {megapixels} triệu điểm ảnh",
        f"Image{name} is too large{dims}: at most {megapixels} megapixels",
        field="photos",
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


@dataclass
class _Decoded:
    image: Image.Image  # oriented, RGB, possibly reduced by JPEG draft mode
    format: str
    width: int  # full size after orientation
    height: int
    exif: Image.Exif


def _decode(
    data: bytes, filename: str | None, limits: PhotoLimits, target: int | None = None
) -> _Decoded:
    """Validate `data` by content and decode it; `target` allows a cheaper reduced JPEG decode."""
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

        # Phones write MPO (a JPEG with extra frames); it is a JPEG file as far as we care.
        fmt = "JPEG" if im.format == "MPO" else im.format
        if fmt not in limits.allowed_formats:
            raise _not_an_image(filename, limits)

        # Image.open only parsed the header: refuse bombs before any pixel is decoded.
        width, height = im.size
        if width <= 0 or height <= 0:
            raise _corrupt(filename)
        if width * height > limits.max_pixels:
            raise _too_many_pixels(filename, limits, (width, height))

        try:
            if fmt == "JPEG" and target:
                # libjpeg can decode at 1/2, 1/4 or 1/8 scale: far less memory for 40 MP photos.
                im.draft(im.mode, (target, target))
            im.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels(filename, limits, (width, height)) from None
        except _DECODE_ERRORS:
            raise _corrupt(filename) from None

    exif = _read_exif(im)
    orientation = exif.get(ExifTags.Base.Orientation)
    if orientation in (5, 6, 7, 8):  # the transposing orientations
        width, height = height, width
    try:
        oriented = ImageOps.exif_transpose(im)
    except _DECODE_ERRORS:
        oriented = im  # a broken EXIF block must not cost the citizen their photo
    return _Decoded(_to_srgb_rgb(oriented), fmt, width, height, exif)


def _read_exif(im: Image.Image) -> Image.Exif:
    try:
        return im.getexif()
    except _DECODE_ERRORS:
        return Image.Exif()


def _to_srgb_rgb(im: Image.Image) -> Image.Image:
    """Pixels as plain RGB in sRGB, transparency flattened onto white."""
    icc = im.info.get("icc_profile")
    if icc and im.mode in ("RGB", "CMYK"):
        # The profile is dropped from the copies, so convert first or wide-gamut (Display P3)
        # phone photos would look washed out.
        im = _convert_profile(im, icc)
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale would otherwise be clipped to white by convert("L").
        im = im.convert("I").point(lambda v: v / 256).convert("L")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info:
        rgba = im.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
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


def _fit(im: Image.Image, size: int) -> Image.Image:
    if max(im.size) <= size:
        return im
    resized = im.copy()
    resized.thumbnail((size, size), Image.Resampling.LANCZOS, reducing_gap=3.0)
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


def process_photo(
    data: bytes, filename: str | None, limits: PhotoLimits = DEFAULT_LIMITS
) -> ProcessedPhoto:
    """Validate an upload by its content and build its web and thumbnail copies."""
    decoded = _decode(data, filename, limits, target=limits.web_size)
    web_image = _fit(decoded.image, limits.web_size)
    thumb_image = _fit(web_image, limits.thumb_size)
    return ProcessedPhoto(
        original=data,
        original_format=decoded.format,
        mime=_MIME[decoded.format],
        sha256=hashlib.sha256(data).hexdigest(),
        width=decoded.width,
        height=decoded.height,
        gps=read_gps(decoded.exif),
        taken_at=read_taken_at(decoded.exif),
        web=_clean_jpeg(web_image, limits.web_quality),
        thumb=_clean_jpeg(thumb_image, limits.thumb_quality),
    )


def strip_metadata(data: bytes) -> bytes:
    """Re-encode an image as a JPEG of its oriented pixels only (no EXIF/GPS/XMP/ICC/comment)."""
    return _clean_jpeg(_decode(data, None, DEFAULT_LIMITS).image, quality=90)


def blur_image(data: bytes, radius: int = 24) -> bytes:
    """A blurred, metadata-free JPEG of an image, for moderated public copies."""
    image = _decode(data, None, DEFAULT_LIMITS).image
    return _clean_jpeg(image.filter(ImageFilter.GaussianBlur(radius)), quality=85)


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
