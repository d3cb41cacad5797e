"""What a photo upload may cost, and how each refusal reads to the resident."""

from __future__ import annotations

import re
import struct
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from webapp.errors import PayloadTooLarge, PhotoError, ServiceBusy

_MB = 1024 * 1024

# Every exception type Pillow's decoders are known to raise on hostile or damaged input.
# Listed rather than `except Exception` so that genuine programming errors still surface.
DECODE_ERRORS = (
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


@dataclass(frozen=True)
class PhotoLimits:
    """Limits applied to each uploaded photo, to one request's photos and to decoding.

    What decoding costs is the pixels it materialises, not the bytes uploaded: a 130 KB PNG
    can hold 40 megapixels. Every limit below is checked from the headers alone, for all the
    photos of a request, before the first pixel is decoded (`photos.process_photos`).

    - `max_pixels`: any file, by its header size. JPEGs are decoded with libjpeg's DCT scaling
      (`Image.draft`) straight to about the size of the web copy, so a 48/50 MP (8000×6000)
      or 64 MP (9248×6936) phone photo costs about what a 12 MP one does.
    - `max_full_decode_pixels`: files that can only be decoded at full size: PNG, WebP and
      progressive JPEG (libjpeg keeps every DCT coefficient of a progressive file in memory,
      6 bytes a pixel at 4:4:4, whatever the output scale). Screenshots and images saved by
      apps are 1–15 MP; 20 MP takes a 5K screenshot or a 5472×3648 camera export.
    - `max_request_pixels`: the cost of a request's photos together
      (`photo_budget.decode_cost`): the pixels decoding materialises (a JPEG at its reduced
      decode size, 3 MP for a 12 MP or a 48 MP photo; a PNG or WebP at its full size, counted
      1¼) plus one per byte of the file (entropy decoding, parsing the upload, hashing and
      storing it). Measured on the server (bench/abuse.py), one unit is 20–30 ns of CPU
      whatever the format, so the default keeps a submission under a second. Five 12 MP phone
      photos of up to 3.9 MB each fit (3.5 MB each: 33 M); so do a 48 MP photo of 10 MB
      (13.5 M) or a 20 MP PNG (25 M); five 39.6 MP PNGs (the 640 KB attack of finding 4b,
      6.8 s of CPU before) do not, nor do two 15 MP PNGs.
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


def check_count(n: int, limits: PhotoLimits = DEFAULT_LIMITS) -> None:
    """Refuse a report with more photos than `limits.max_count`."""
    if n > limits.max_count:
        raise PhotoError(
            _l("Tối đa %(count)s ảnh cho mỗi phản ánh", count=limits.max_count),
            field="photos",
        )


# --------------------------------------------------------------------------- refusals


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


def not_an_image(filename: str | None, limits: PhotoLimits) -> PhotoError:
    """The file is not one of the allowed image formats, by its content."""
    name, formats = _quoted(filename), _formats_text(limits)
    return PhotoError(
        _l("Tệp%(name)s không phải là ảnh hợp lệ (%(formats)s)", name=name, formats=formats),
        field="photos",
    )


def corrupt(filename: str | None) -> PhotoError:
    """The image is damaged or truncated."""
    name = _quoted(filename)
    return PhotoError(
        _l("Ảnh%(name)s bị hỏng hoặc không đầy đủ, không đọc được", name=name),
        field="photos",
    )


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:g}"


def too_many_pixels(
    filename: str | None,
    limits: PhotoLimits,
    size: tuple[int, int] | None,
    *,
    limit: int | None = None,
    kind: str | None = None,
) -> PhotoError:
    """The image is larger than `limit` pixels (by default `limits.max_pixels`)."""
    name = _quoted(filename)
    megapixels = _megapixels(limits.max_pixels if limit is None else limit)
    dims = f" ({size[0]}×{size[1]})" if size else ""
    values = {"name": name, "dims": dims, "megapixels": megapixels, "kind": kind}
    if kind:
        return PhotoError(
            _l(
                "Ảnh%(name)s có kích thước quá lớn%(dims)s: tối đa %(megapixels)s triệu điểm ảnh "
                "đối với ảnh %(kind)s",
                **values,
            ),
            field="photos",
        )
    return PhotoError(
        _l(
            "Ảnh%(name)s có kích thước quá lớn%(dims)s: tối đa %(megapixels)s triệu điểm ảnh",
            **values,
        ),
        field="photos",
    )


def over_request_budget() -> PayloadTooLarge:
    """The photos of one request cost more than `max_request_pixels` together."""
    # No figure: the budget counts decoding work (`photo_budget.decode_cost`), which the
    # resident cannot read off their photos; what they can do about it is in the message.
    return PayloadTooLarge(
        _l(
            "Các ảnh gửi kèm quá lớn để xử lý cùng một lúc. Vui lòng gửi ít ảnh hơn "
            "hoặc ảnh có độ phân giải thấp hơn."
        ),
        field="photos",
    )


def busy() -> ServiceBusy:
    """No decode slot freed up in time."""
    return ServiceBusy(
        _l("Hệ thống đang bận, vui lòng thử lại sau ít phút."),
    )


def too_large(filename: str | None, limits: PhotoLimits) -> PayloadTooLarge:
    """The file has more bytes than `limits.max_bytes`."""
    name = _quoted(filename)
    megabytes = f"{limits.max_bytes / _MB:g}"
    return PayloadTooLarge(
        _l(
            "Ảnh%(name)s vượt quá dung lượng tối đa %(megabytes)s MB",
            name=name,
            megabytes=megabytes,
        ),
        field="photos",
    )
