"""Photo uploads: a submission's photos admitted, decoded into metadata-free copies, stored.

The parts live beside this module: `photo_limits` (the limits and their refusals),
`photo_budget` (header checks, the decode cost, decode slots, memory), `photo_copies`
(decoding and the web/thumbnail copies) and `photo_exif` (GPS and time taken).
"""

from __future__ import annotations

from webapp.services.intake import photo_budget, photo_copies
from webapp.services.intake.photo_copies import ProcessedPhoto
from webapp.services.intake.photo_limits import (
    DEFAULT_LIMITS,
    PhotoLimits,
    check_count,
    over_request_budget,
)

# Re-export for bench/abuse.py (owned elsewhere), which calls `photos._open`; its new home is
# `photo_budget.open_photo`.
_open = photo_budget.open_photo


def process_photos(
    uploads: list[tuple[bytes, str | None]], limits: PhotoLimits = DEFAULT_LIMITS
) -> list[ProcessedPhoto]:
    """Validate the photos of one submission by content and build their copies, in order.

    A drop-in for `[process_photo(data, filename, limits) for ...]` that bounds the whole
    submission. Every photo's header is checked first (`photo_budget.open_photo`: count,
    bytes, format, pixels per file) and their decode costs are summed against
    `limits.max_request_pixels`, so an expensive submission is refused before one pixel is
    decoded and without waiting for a slot. Decoding then waits for one of
    `limits.decode_concurrency` slots (`ServiceBusy` after `limits.decode_wait_seconds`); the
    photos are decoded one after the other, each one's full-size pixels freed before the
    next, and the memory is trimmed afterwards.
    """
    check_count(len(uploads), limits)
    opened: list[photo_budget.OpenedPhoto] = []
    try:
        for data, filename in uploads:
            opened.append(photo_budget.open_photo(data, filename, limits, target=limits.web_size))
        cost = sum(item.cost for item in opened)
        if cost > limits.max_request_pixels:
            raise over_request_budget()
        if not opened:
            return []
        with photo_budget.decode_slot(limits):
            try:
                return [
                    photo_copies.build_photo(item, data, filename, limits)
                    for item, (data, filename) in zip(opened, uploads, strict=True)
                ]
            finally:
                if cost >= photo_budget.TRIM_AFTER_PIXELS:
                    photo_budget.release_memory()
    finally:
        for item in opened:
            item.image.close()


def process_photo(
    data: bytes, filename: str | None, limits: PhotoLimits = DEFAULT_LIMITS
) -> ProcessedPhoto:
    """Validate one upload by its content and build its web and thumbnail copies."""
    return process_photos([(data, filename)], limits)[0]


# --------------------------------------------------------------------------- storage
