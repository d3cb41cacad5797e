"""Admission before decoding: a photo's header checked and its decode cost counted, the
process's decode slots, and the memory handed back after a large submission."""

from __future__ import annotations

import ctypes
import ctypes.util
import io
import math
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from PIL import Image, UnidentifiedImageError

from webapp.services.intake.photo_limits import (
    DECODE_ERRORS,
    PhotoLimits,
    busy,
    corrupt,
    not_an_image,
    too_large,
    too_many_pixels,
)

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
class OpenedPhoto:
    """A photo whose header was read and checked; not one pixel has been decoded yet."""

    image: Image.Image  # lazily opened; for JPEG, `draft` already chose the DCT scale
    format: str
    progressive: bool
    width: int  # header size, before orientation
    height: int
    cost: int  # what decoding and storing it costs, in pixels (`decode_cost`)


def _kind(fmt: str, progressive: bool) -> str:
    return "JPEG progressive" if progressive else fmt


def open_photo(
    data: bytes, filename: str | None, limits: PhotoLimits, target: int | None = None
) -> OpenedPhoto:
    """Check `data` by its content and header only, and plan a reduced JPEG decode.

    `Image.open` reads the header (format, size, EXIF of a JPEG), never the pixels; `draft`
    only tells libjpeg which DCT scale to decode at, so `target` costs nothing here.
    """
    if len(data) > limits.max_bytes:
        raise too_large(filename, limits)
    if not data:
        raise not_an_image(filename, limits)

    # catch_warnings is process-wide before Python 3.14; a race between threads can at worst
    # leave this same "error" filter installed, which only makes Pillow stricter.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            # `formats` makes Pillow sniff the content with these plugins only; the filename
            # and the client's Content-Type are never consulted.
            im = Image.open(io.BytesIO(data), formats=list(limits.allowed_formats))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise too_many_pixels(filename, limits, None) from None
        except UnidentifiedImageError:
            raise not_an_image(filename, limits) from None
        except DECODE_ERRORS:
            raise corrupt(filename) from None

    try:
        # Phones write MPO (a JPEG with extra frames); it is a JPEG file as far as we care.
        fmt = "JPEG" if im.format == "MPO" else im.format
        if fmt not in limits.allowed_formats:
            raise not_an_image(filename, limits)

        width, height = im.size
        if width <= 0 or height <= 0:
            raise corrupt(filename)
        if width * height > limits.max_pixels:
            raise too_many_pixels(filename, limits, (width, height))
        progressive = fmt == "JPEG" and bool(im.info.get("progressive"))
        if (fmt != "JPEG" or progressive) and width * height > limits.max_full_decode_pixels:
            raise too_many_pixels(
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
    opened = OpenedPhoto(im, fmt, progressive, width, height, 0)
    opened.cost = decode_cost(opened, data)
    return opened


def _fitted_size(width: int, height: int, box: int) -> tuple[int, int]:
    """The size of a `width`×`height` image shrunk to fit a `box`×`box` square."""
    if max(width, height) <= box:
        return width, height
    scale = box / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def decode_cost(opened: OpenedPhoto, data: bytes) -> int:
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
def decode_slot(limits: PhotoLimits) -> Iterator[None]:
    """Hold one decode slot, or raise `ServiceBusy` if none frees up in time.

    The web server has a handful of threads (waitress: 4): without this, a burst of large
    uploads occupies all of them decoding and every other page waits behind it. Requests
    over the slots wait their turn; only a sustained burst is refused.
    """
    slots = decode_slots(limits.decode_concurrency)
    if not slots.acquire(timeout=max(0.0, limits.decode_wait_seconds)):
        raise busy()
    try:
        yield
    finally:
        slots.release()


# --------------------------------------------------------------------------- memory

# After a submission whose cost (`decode_cost`) reached this (a 12 MP phone photo: 12 MB of
# RGB plus decoder buffers), freed memory is handed back to the system.
TRIM_AFTER_PIXELS = 4_000_000


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
    only after a submission that cost `TRIM_AFTER_PIXELS` or more. Pillow's own block cache
    is emptied first: it is off unless PILLOW_BLOCKS_MAX is set (`Image.core.set_blocks_max`),
    and if an operator sets it, a burst's blocks would otherwise stay cached.
    """
    # Pillow's C core, reached as its comments ask (Image.core); its typing does not export it.
    Image.core.clear_cache()  # type: ignore[attr-defined]
    if _malloc_trim is not None:
        _malloc_trim(0)
