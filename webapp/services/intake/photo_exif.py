"""What a photo's EXIF block says about where and when it was taken, read defensively."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from PIL import ExifTags, Image

from webapp.services.intake.photo_limits import DECODE_ERRORS


def read_exif(im: Image.Image) -> Image.Exif:
    """The EXIF block of an opened image; an empty one when it cannot be read."""
    try:
        return im.getexif()
    except DECODE_ERRORS:
        return Image.Exif()


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
    except DECODE_ERRORS:
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
    except DECODE_ERRORS:
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
