"""What the benchmarks submit: report drafts as residents send them, and photos.

Drafts for the intake bench say what the webapp's history says reports look like
(webapp/services/administration/history.py: categories, words, points in the wards); photos
are camera-like JPEGs for intake, and for the abuse bench 12 MP phone photos and the hostile
images (decompression bombs, scan bombs, the dearest the limits accept) sized against the
server's own cost function.
"""

from __future__ import annotations

import io
import random
from typing import Any

from harness import PROVINCE

from webapp.services.administration import history


class DraftFactory:
    """ReportDrafts as residents send them: pins in wards, typed addresses, contacts, ids."""

    def __init__(self, rng, wards: list[history.Ward], jpegs: list[bytes]):
        self.rng, self.wards, self.jpegs = rng, wards, jpegs
        self.ward_names = {w.code: w.full_name for w in wards}
        self.streets = history.load_streets(PROVINCE)
        self.phones = [f"09{rng.randrange(10**8):08d}" for _ in range(400)]
        self.chat_ids = [str(rng.randrange(10**8, 10**10)) for _ in range(300)]
        self.stats: dict[str, int] = {}

    def _count(self, key: str) -> None:
        self.stats[key] = self.stats.get(key, 0) + 1

    def draft(self, photos: int):
        """One draft: 80 % pin inside a ward, 20 % typed address; channels web/Telegram/Zalo."""
        from webapp.services.intake.reports import (
            ChannelIdentity,
            Contact,
            PhotoUpload,
            ReportDraft,
        )

        rng = self.rng
        street, street_ward = rng.choice(self.streets)
        ward = rng.choice(self.wards)
        category = history.pick(rng, history.CATEGORY_MIX)
        self.last_category = category  # what the report is about (classify_throughput's NLU)
        fields: dict[str, Any] = {}
        if rng.random() < 0.8:
            fields["lat"], fields["lon"] = history.random_point(rng, ward.geometry)
            fields["location_source"] = "device" if rng.random() < 0.15 else "pin"
            self._count("pin")
        else:
            ward_name = self.ward_names.get(street_ward, ward.full_name)
            fields["address"] = f"{rng.randrange(1, 400)} {street}, {ward_name}, Đà Nẵng"
            self._count("address")
        roll = rng.random()
        if roll < 0.7:
            channel = "web"
            if rng.random() < 0.4:
                name = rng.choice(history.NAMES) if rng.random() < 0.5 else None
                fields["contact"] = Contact(name=name, phone=rng.choice(self.phones))
                self._count("contact")
        else:
            channel = "telegram" if roll < 0.85 else "zalo"
            fields["identity"] = ChannelIdentity(
                channel, rng.choice(self.chat_ids), rng.choice(history.NAMES)
            )
            self._count("identity")
        self._count(f"channel_{channel}")
        uploads = [
            PhotoUpload(rng.choice(self.jpegs), f"IMG_{rng.randrange(10000):04d}.jpg")
            for _ in range(photos)
        ]
        # The bot asked the category, and its required questions (config/categories.yml); a
        # web resident who picks a category must answer them too.
        hint = category if channel != "web" and rng.random() < 0.5 else None
        return ReportDraft(
            channel=channel,
            description=history.describe(rng, category, street, ward.name),
            photos=uploads,
            category_hint=hint,
            attributes=REQUIRED_ANSWERS.get(hint or ""),
            consent=True,
            **fields,
        )


# A resident's answers to the categories' required questions (config/categories.yml).
REQUIRED_ANSWERS = {"trees": {"anyone_hurt": "no"}}


# --------------------------------------------------------------------------- photos


def make_jpegs(rng, count: int = 8) -> list[bytes]:
    """Small camera-like JPEGs (640×480, noisy gradient, ~40–80 KB)."""
    from PIL import Image, ImageDraw

    out = []
    for _ in range(count):
        base = Image.linear_gradient("L").resize((640, 480)).convert("RGB")
        tint = Image.new("RGB", (640, 480), tuple(rng.randrange(40, 220) for _ in range(3)))
        image = Image.blend(base, tint, 0.5)
        noise = Image.effect_noise((640, 480), 40).convert("RGB")
        image = Image.blend(image, noise, 0.25)
        draw = ImageDraw.Draw(image)
        for _ in range(12):
            x, y = rng.randrange(600), rng.randrange(440)
            box = (x, y, x + rng.randrange(10, 120), y + rng.randrange(10, 90))
            draw.rectangle(box, fill=tuple(rng.randrange(256) for _ in range(3)))
        buf = io.BytesIO()
        image.save(buf, "JPEG", quality=85)
        out.append(buf.getvalue())
    return out


Upload = tuple[str, bytes, str]  # filename, bytes, content type


def _encode(im: Any, fmt: str, **params: Any) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **params)
    return buf.getvalue()


def _noise_rgb(size: tuple[int, int], sigma: float) -> Any:
    from PIL import Image

    return Image.merge("RGB", [Image.effect_noise(size, sigma) for _ in range(3)])


def phone_photo(rng: random.Random, size: tuple[int, int] = (4032, 3024)) -> bytes:
    """A 12 MP JPEG like a phone's: a street scene of flat shapes under sensor noise, ~3.5 MB."""
    from PIL import Image, ImageChops, ImageDraw, ImageFilter

    w, h = size
    sky = Image.linear_gradient("L").resize((w, h // 2))
    scene = Image.new("RGB", size, (110, 110, 105))
    scene.paste(Image.merge("RGB", [sky.point(lambda v: 120 + v // 3)] * 2 + [sky]), (0, 0))
    draw = ImageDraw.Draw(scene)
    for _ in range(60):  # buildings, signs, motorbikes
        x, y = rng.randrange(w), rng.randrange(h // 3, h)
        bw, bh = rng.randrange(80, 900), rng.randrange(80, 1200)
        colour = tuple(rng.randrange(30, 230) for _ in range(3))
        draw.rectangle((x, y - bh, x + bw, y), fill=colour)
    scene = scene.filter(ImageFilter.GaussianBlur(2))
    noisy = ImageChops.add(scene, _noise_rgb(size, 9), scale=1.0, offset=-128)
    return _encode(noisy, "JPEG", quality=90)


def compressible_png(size: tuple[int, int], mode: str = "RGB") -> bytes:
    """A PNG of one colour: a few hundred KB on the wire, `size` pixels to decode."""
    from PIL import Image

    colour = (40, 120, 200, 128) if mode == "RGBA" else (40, 120, 200)
    return _encode(Image.new(mode, size, colour), "PNG", compress_level=9)


def dense_jpeg(size: tuple[int, int], max_bytes: int) -> bytes:
    """The JPEG of `size` with the most entropy-coded data that fits `max_bytes` (pure noise)."""
    im = _noise_rgb(size, 40)
    low, high, best = 20, 95, b""
    while low <= high:  # the highest quality under the limit
        quality = (low + high) // 2
        data = _encode(im, "JPEG", quality=quality, subsampling=0)
        if len(data) <= max_bytes:
            best, low = data, quality + 1
        else:
            high = quality - 1
    return best


def scan_bomb(size: tuple[int, int], extra_scans: int) -> bytes:
    """A progressive JPEG whose last scan is repeated: each copy is a pass over every block."""
    from PIL import Image

    data = _encode(Image.new("RGB", size, (90, 90, 90)), "JPEG", progressive=True, quality=50)
    last_sos = data.rindex(b"\xff\xda")
    end = data.rindex(b"\xff\xd9")
    return data[:end] + data[last_sos:end] * extra_scans + data[end:]


def decode_cost(data: bytes, limits: Any) -> int:
    """What the server's photo budget counts for `data` (webapp.services.intake.photos)."""
    from webapp.services.intake import photos

    opened = photos._open(data, None, limits, target=limits.web_size)
    opened.image.close()
    return opened.cost


def largest_png(cost: int, limits: Any, mode: str = "RGBA") -> bytes:
    """The largest 4:3 one-colour PNG whose decode cost is at most `cost`."""
    low, high, best = 64, int((limits.max_full_decode_pixels * 4 / 3) ** 0.5), b""
    while low <= high:  # the per-file limit first, then the cost
        width = (low + high) // 2
        fits = width * (width * 3 // 4) <= limits.max_full_decode_pixels
        data = compressible_png((width, width * 3 // 4), mode) if fits else b""
        if fits and decode_cost(data, limits) <= cost:
            best, low = data, width + 1
        else:
            high = width - 1
    return best


def megapixels(data: bytes) -> str:
    """'12.2 MP': the size of an image, for the labels."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return f"{im.size[0] * im.size[1] / 1e6:.1f} MP"
