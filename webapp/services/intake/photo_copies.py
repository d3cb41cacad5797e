"""Decoding an admitted photo and deriving its copies: oriented, sRGB, resized, re-encoded
with no metadata (the web and thumbnail copies, and the moderation tools' blurred ones)."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass, field
from datetime import datetime

from PIL import ExifTags, Image, ImageFilter

from webapp.services.intake.photo_budget import OpenedPhoto, open_photo
from webapp.services.intake.photo_exif import read_exif, read_gps, read_taken_at
from webapp.services.intake.photo_limits import (
    DECODE_ERRORS,
    DEFAULT_LIMITS,
    PhotoLimits,
    corrupt,
    too_many_pixels,
)

_MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


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


def _load(opened: OpenedPhoto, filename: str | None, limits: PhotoLimits) -> None:
    """Decode the pixels of an opened photo."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            opened.image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            size = (opened.width, opened.height)
            raise too_many_pixels(filename, limits, size) from None
        except DECODE_ERRORS:
            raise corrupt(filename) from None


def _oriented_size(opened: OpenedPhoto, exif: Image.Exif) -> tuple[int, int]:
    if exif.get(ExifTags.Base.Orientation) in (5, 6, 7, 8):  # the transposing orientations
        return opened.height, opened.width
    return opened.width, opened.height


def _orient(im: Image.Image, exif: Image.Exif) -> Image.Image:
    method = _TRANSPOSE.get(exif.get(ExifTags.Base.Orientation))  # type: ignore[arg-type]
    if method is None:
        return im
    try:
        return im.transpose(method)
    except DECODE_ERRORS:
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
    goes through `photos.process_photos`, its budget and its decode slots.
    """
    opened = open_photo(data, filename, limits)
    _load(opened, filename, limits)
    exif = read_exif(opened.image)
    width, height = _oriented_size(opened, exif)
    image = _to_srgb_rgb(_orient(_resizable(opened.image), exif))
    return _Decoded(image, opened.format, width, height, exif)


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
    except (ImportError, *DECODE_ERRORS):
        # ImageCms.PyCMSError is an OSError; an unusable profile just means "assume sRGB".
        return im


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


def build_photo(
    opened: OpenedPhoto, data: bytes, filename: str | None, limits: PhotoLimits
) -> ProcessedPhoto:
    """Decode an opened photo and derive its copies; the decoded pixels are freed on return."""
    im = opened.image
    web_image = None
    try:
        _load(opened, filename, limits)
        exif = read_exif(im)
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


def strip_metadata(data: bytes) -> bytes:
    """Re-encode an image as a JPEG of its oriented pixels only (no EXIF/GPS/XMP/ICC/comment)."""
    return _clean_jpeg(_decode(data, None, DEFAULT_LIMITS).image, quality=90)


def blur_image(data: bytes, radius: int = 24) -> bytes:
    """A blurred, metadata-free JPEG of an image, for moderated public copies."""
    image = _decode(data, None, DEFAULT_LIMITS).image
    return _clean_jpeg(image.filter(ImageFilter.GaussianBlur(radius)), quality=85)
