"""Offline geocoding: ward and street names found in a typed address or a report's text.

The gazetteer knows a province's communes/wards (from the boundaries), a list of
well-known streets with a point (`config/provinces/<code>/streets.csv`) and the names of
others (`street_names.txt`): a name without a point places nothing, but it stops a ward
name inside it being read as the ward ("phố Trần Hưng Đạo" is not xã Hưng Đạo). It needs
no network; an optional Nominatim server can be tried first (`geocoding.geocode`).

Matching compares words, not substrings, on two keys per word: the folded key (no
diacritics, so "hai chau" matches "Hải Châu") and an exact key (diacritics kept, tone
mark position normalised, so "Hoà" = "Hòa"). A text typed with Vietnamese diacritics
whose words only agree with a name once folded ("hai cháu" = two grandchildren) is not
that name.
"""

from __future__ import annotations

import csv
import math
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast

from flask_babel import lazy_gettext as _l

from config.settings import ROOT
from webapp.errors import ValidationError
from webapp.infra.text import Token, exact_key, split_words
from webapp.services.geography.geo_index import distance_m

if TYPE_CHECKING:
    from webapp.services.geography.geojson_reader import UnitShape

PROJECT_ROOT = ROOT

Precision = Literal["street", "ward", "address"]

_WARD_PREFIXES = (("phuong",), ("xa",), ("dac", "khu"), ("thi", "tran"))
_STREET_PREFIXES = (
    ("duong",),
    ("pho",),
    ("kiet",),
    ("hem",),
    ("ngo",),
    ("ngach",),
    ("dai", "lo"),
)
# Numbered divisions ("tổ 12", "thôn 3") come before a unit name, not a house number.
_DIVISIONS = frozenset({"to", "khu", "thon", "khoi", "ap", "doi", "xom", "phuong", "quan", "xa"})

# Unit names that are ordinary words even when typed with diacritics; they count only
# after "phường"/"xã" (many communes in other provinces bear them). Exact keys.
_COMMON_WORDS_VI = (
    "an bình",
    "an toàn",
    "bình an",
    "bình yên",
    "chiến thắng",
    "đoàn kết",
    "độc lập",
    "đồng tâm",
    "hạnh phúc",
    "hoà bình",
    "hợp tiến",
    "hữu nghị",
    "phát triển",
    "quyết thắng",
    "quyết tiến",
    "tân tiến",
    "thanh bình",
    "thành công",
    "thắng lợi",
    "thống nhất",
    "tiến bộ",
    "trung tâm",
    "tự do",
    "văn minh",
    "yên bình",
)

# A folded name this short ("ba na", "la ee") or of one syllable turns up by chance in
# text typed without diacritics; such names count only after a prefix.
_MIN_LETTERS_UNPREFIXED = 5


_COMMON_KEYS = frozenset(tuple(exact_key(w) for w in phrase.split()) for phrase in _COMMON_WORDS_VI)


# ---------------------------------------------------------------------------------------
# Gazetteer
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlaceUnit:
    """A commune/ward as the gazetteer needs it: code, names and a point inside it."""

    code: str
    name: str
    full_name: str
    lat: float
    lon: float
    area_km2: float | None = None

    @property
    def reach_m(self) -> float:
        """How far from its point a place can still be "in" the unit (2 × equal-area radius)."""
        area = self.area_km2 if self.area_km2 and self.area_km2 > 0 else 10.0
        return max(3000.0, 2000.0 * math.sqrt(area / math.pi))


@dataclass(frozen=True)
class Street:
    """A well-known street: a point in its central part and the ward holding that point."""

    name: str
    lat: float
    lon: float
    ward_code: str


@dataclass(frozen=True)
class GazetteerMatch:
    """A place found in a text: the point, its ward, and what the point stands for.

    precision "street": the point is on the named street; "ward": the point is inside
    the ward but says nothing more ("street" may still name a street that was found in
    the text but not in that ward); "address": an online geocoder's answer.
    """

    unit_code: str | None
    street: str | None
    lat: float
    lon: float
    precision: Precision
    matched_text: str


@dataclass(frozen=True)
class _Entry:
    key: tuple[str, ...]
    exact: tuple[str, ...]
    needs_prefix: bool
    payload: object


@dataclass(frozen=True)
class _Hit:
    entry: _Entry
    start: int  # token index of the name
    end: int  # token index past the name
    prefix: int  # number of prefix tokens before the name (0: none)
    exact: bool

    @property
    def span(self) -> tuple[int, int]:
        return (self.start - self.prefix, self.end)

    def rank(self) -> tuple[int, int, int, int]:
        # Prefixed beats bare, longer beats shorter ("Hội An Tây" over "Hội An"),
        # diacritics-exact beats folded, earlier beats later.
        return (-bool(self.prefix), -(self.end - self.start), -self.exact, self.start)


def _entry(name: str, payload: object) -> _Entry | None:
    tokens = split_words(name)
    if not tokens:
        return None
    key = tuple(t.key for t in tokens)
    exact = tuple(t.exact for t in tokens)
    needs_prefix = (
        len(tokens) == 1
        or sum(len(w) for w in key) < _MIN_LETTERS_UNPREFIXED
        or exact in _COMMON_KEYS
        # "2 Tháng 9", "Cách Mạng Tháng 8" are also dates and events.
        or any(c.isdigit() for w in key for c in w)
    )
    return _Entry(key, exact, needs_prefix, payload)


def _index(entries: Iterable[_Entry]) -> dict[str, list[_Entry]]:
    by_first: dict[str, list[_Entry]] = {}
    for entry in entries:
        by_first.setdefault(entry.key[0], []).append(entry)
    return by_first


def _prefix_length(tokens: list[Token], at: int, prefixes: tuple[tuple[str, ...], ...]) -> int:
    for prefix in prefixes:
        n = len(prefix)
        if at >= n and tuple(t.key for t in tokens[at - n : at]) == prefix:
            return n
    return 0


def _house_number_before(tokens: list[Token], at: int) -> bool:
    # "12 Bạch Đằng", "K12/3 Lê Duẩn": a number in front says the name is a street.
    if at < 1 or not any(c.isdigit() for c in tokens[at - 1].key):
        return False
    return not (at >= 2 and tokens[at - 2].key in _DIVISIONS)


def _street_word_before(tokens: list[Token], at: int) -> bool:
    """Whether a street word or house number precedes the name ("đường Hoàng Sa")."""
    n = _prefix_length(tokens, at, _STREET_PREFIXES)
    # "đèn đường Hải Châu" is a street light in the ward, not a street.
    if n and not (tokens[at - 1].key == "duong" and at >= 2 and tokens[at - 2].key == "den"):
        return True
    return _house_number_before(tokens, at)


class Gazetteer:
    """Ward and street names of one province, matched in free text; read-only after build."""

    def __init__(
        self,
        units: Iterable[PlaceUnit],
        streets: Iterable[Street] = (),
        names: Iterable[str] = (),
    ):
        self._units: dict[str, PlaceUnit] = {}
        ward_entries: list[_Entry] = []
        for unit in units:
            self._units[unit.code] = unit
            entry = _entry(unit.name, unit)
            if entry:
                ward_entries.append(entry)
        self._streets: list[Street] = list(streets)
        street_entries: dict[tuple[str, ...], _Entry] = {}
        self._street_rows: dict[tuple[str, ...], list[Street]] = {}
        for street in self._streets:
            entry = _entry(street.name, street.name)
            if entry is None:
                continue
            # One entry per name; the rows keep the CSV order, which is the order of
            # preference when the text gives no ward ("Trần Phú" of Đà Nẵng first).
            street_entries.setdefault(entry.key, entry)
            self._street_rows.setdefault(entry.key, []).append(street)
        for name in names:  # streets known by name only: no row, no point
            entry = _entry(name, name)
            if entry is not None and entry.key not in street_entries:
                street_entries[entry.key] = entry
                self._street_rows[entry.key] = []
        self._wards = _index(ward_entries)
        self._street_index = _index(street_entries.values())

    @classmethod
    def from_units(
        cls,
        units: Iterable[UnitShape],
        streets: Iterable[Street] | str | Path | None = None,
        names: Iterable[str] = (),
    ) -> Gazetteer:
        """Build from ward shapes (a point inside each), a street list or CSV path, and the
        names of streets without a point."""
        places = []
        for unit in units:
            lat, lon = unit.representative_point
            places.append(PlaceUnit(unit.code, unit.name, unit.full_name, lat, lon, unit.area_km2))
        if isinstance(streets, str | Path):
            streets = load_streets(streets)
        return cls(places, streets or (), names)

    @property
    def streets(self) -> list[Street]:
        """The streets known to the gazetteer, in file order."""
        return list(self._streets)

    def _hits(
        self,
        tokens: list[Token],
        index: dict[str, list[_Entry]],
        prefixes: tuple[tuple[str, ...], ...],
        street: bool,
    ) -> list[_Hit]:
        typed_with_marks = any(t.exact != t.key for t in tokens)
        keys = [t.key for t in tokens]
        hits = []
        for i, word in enumerate(keys):
            for entry in index.get(word, ()):
                n = len(entry.key)
                if tuple(keys[i : i + n]) != entry.key:
                    continue
                exact = tuple(t.exact for t in tokens[i : i + n]) == entry.exact
                prefix = _prefix_length(tokens, i, prefixes)
                if not prefix and street and _house_number_before(tokens, i):
                    prefix = 1
                if not prefix and not street and _street_word_before(tokens, i):
                    # "đường Hoàng Sa", "12 Hải Phòng": a street named after a unit.
                    continue
                if not prefix and (entry.needs_prefix or (typed_with_marks and not exact)):
                    continue
                hits.append(_Hit(entry, i, i + n, prefix, exact))
        return hits

    def _pick_row(self, hit: _Hit, ward: PlaceUnit | None, ward_prefixed: bool) -> Street | None:
        """The row of a street name the text means, given the ward the text names."""
        rows = self._street_rows[hit.entry.key]
        if not rows:  # known by name only
            return None
        if ward is None:
            return rows[0]
        # The ward restricts the street: a name found in several wards is the one in
        # the ward the text gives.
        inside = [r for r in rows if r.ward_code == ward.code]
        if inside:
            return inside[0]
        if ward_prefixed:
            # "phường X" is the resident's own statement of the 2025 ward; the street's
            # one known point lies elsewhere, so only the ward is certain.
            return None
        # A bare name is often a pre-2025 district ("Ngô Quyền, Sơn Trà" is in today's
        # phường An Hải): take the street's nearest point if it is close to that unit.
        nearest = min(rows, key=lambda r: distance_m((r.lat, r.lon), (ward.lat, ward.lon)))
        if distance_m((nearest.lat, nearest.lon), (ward.lat, ward.lon)) <= ward.reach_m:
            return nearest
        return None

    def find(self, text: str) -> GazetteerMatch | None:
        """The best place named in the text (street with its ward, or ward), or None."""
        tokens = split_words(text)
        if not tokens:
            return None
        wards = self._hits(tokens, self._wards, _WARD_PREFIXES, street=False)
        streets = self._hits(tokens, self._street_index, _STREET_PREFIXES, street=True)
        wards, streets = _resolve_overlaps(wards, streets)

        ward_hit = min(wards, key=_Hit.rank) if wards else None
        ward = cast(PlaceUnit, ward_hit.entry.payload) if ward_hit else None

        street_hit: _Hit | None = None
        row: Street | None = None
        for hit in sorted(streets, key=_Hit.rank):
            row = self._pick_row(hit, ward, bool(ward_hit and ward_hit.prefix))
            if row is not None:
                street_hit = hit
                break
        if row is not None and street_hit is not None:
            pieces = [street_hit] + ([ward_hit] if ward_hit else [])
            return GazetteerMatch(
                unit_code=row.ward_code,
                street=row.name,
                lat=row.lat,
                lon=row.lon,
                precision="street",
                matched_text=_quote(text, tokens, pieces),
            )
        if ward is not None and ward_hit is not None:
            # A street named in the text but not known in this ward is still reported,
            # for the operator; the point stays the ward's.
            named = min(streets, key=_Hit.rank) if streets else None
            street_name = str(named.entry.payload) if named else None
            return GazetteerMatch(
                unit_code=ward.code,
                street=street_name,
                lat=ward.lat,
                lon=ward.lon,
                precision="ward",
                matched_text=_quote(text, tokens, [ward_hit]),
            )
        return None


def _overlaps(a: _Hit, b: _Hit) -> bool:
    return a.span[0] < b.span[1] and b.span[0] < a.span[1]


def _holds(street: _Hit, ward: _Hit) -> bool:
    """Whether the street's name is longer than the ward's and contains it."""
    longer = street.end - street.start > ward.end - ward.start
    return longer and street.start <= ward.start and ward.end <= street.end


def _resolve_overlaps(wards: list[_Hit], streets: list[_Hit]) -> tuple[list[_Hit], list[_Hit]]:
    """Drop the ward or the street reading of a span that could be either.

    A prefix decides ("đường Ngũ Hành Sơn" is the street, "phường Ngũ Hành Sơn" the
    ward); without one the ward wins, as a unit name is the likelier meaning and a
    street named after a unit can always be written with "đường" — unless the street's
    name is longer and holds the ward's ("Trần Hưng Đạo" holds "Hưng Đạo").
    """
    kept_wards = []
    for ward in wards:
        clash = [s for s in streets if _overlaps(ward, s)]
        if any(s.prefix and not ward.prefix for s in clash):
            continue
        if not ward.prefix and any(_holds(s, ward) for s in clash):
            continue
        kept_wards.append(ward)
    kept_streets = [
        s for s in streets if not any(_overlaps(w, s) and not s.prefix for w in kept_wards)
    ]
    return kept_wards, kept_streets


def _quote(text: str, tokens: list[Token], hits: list[_Hit]) -> str:
    text = unicodedata.normalize("NFC", text)
    parts = []
    for hit in sorted(hits, key=lambda h: h.span[0]):
        first, last = hit.span
        parts.append(text[tokens[first].start : tokens[last - 1].end])
    return ", ".join(parts)


def streets_path(province_code: str) -> Path:
    """Where a province's street list lives in the project."""
    return PROJECT_ROOT / "config" / "provinces" / province_code / "streets.csv"


def street_names_path(province_code: str) -> Path:
    """Where a province's names-only street list lives in the project."""
    return streets_path(province_code).with_name("street_names.txt")


def load_street_names(path: str | Path) -> list[str]:
    """Names of a street_names.txt: one per line, blank lines and `#` comments skipped."""
    lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def load_streets(path: str | Path) -> list[Street]:
    """Read a streets CSV (name,lat,lon,ward_code), validating every row."""
    path = Path(path)
    streets = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"name", "lat", "lon", "ward_code"} - set(reader.fieldnames or ())
        if missing:
            raise ValidationError(
                _l(
                    "Tệp %(name)s thiếu cột: %(columns)s.",
                    name=path.name,
                    columns=", ".join(sorted(missing)),
                ),
            )
        for line, row in enumerate(reader, start=2):
            name = (row["name"] or "").strip()
            ward_code = (row["ward_code"] or "").strip()
            try:
                lat, lon = float(row["lat"]), float(row["lon"])
            except (TypeError, ValueError):
                lat = lon = float("nan")
            if not name or not ward_code.isdigit() or not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValidationError(
                    _l(
                        "Dòng %(line)s của %(name)s không hợp lệ: %(row)s.",
                        line=line,
                        name=path.name,
                        row=row,
                    ),
                )
            streets.append(Street(name, lat, lon, ward_code.zfill(5)))
    return streets
