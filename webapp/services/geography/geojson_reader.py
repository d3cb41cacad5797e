"""Ward boundaries read from GeoJSON: `UnitShape`, and the streaming reader of big files.

`read_units_geojson` reads a FeatureCollection (plain or .gz), optionally only one
province's wards, without parsing the features it drops. `UnitShape` is what every source
of boundaries gives (this reader, `demo_cells`) and `geo_index` indexes. No Flask, no DB.

Coordinates: the public API speaks (lat, lon) like GPS and the messengers do; shapely and
GeoJSON speak (x=lon, y=lat). The conversion happens only inside the geography modules.
"""

from __future__ import annotations

import gzip
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import shapely
import shapely.errors
from flask_babel import lazy_gettext as _l
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from webapp.errors import ValidationError
from webapp.infra.text import ascii_name

# Mean length of one degree of latitude; good to 1 % anywhere in Vietnam, which is all
# an approximate disc radius or an area estimate needs.
KM_PER_DEGREE = 111.32


@dataclass
class UnitShape:
    """A commune/ward with its boundary (WGS84) and identity."""

    code: str
    name: str
    full_name: str
    name_en: str
    province_code: str
    province_name: str
    area_km2: float | None
    geometry: BaseGeometry
    approximate: bool = False

    @property
    def representative_point(self) -> tuple[float, float]:
        """A (lat, lon) guaranteed to lie inside the unit."""
        point = self.geometry.representative_point()
        return (point.y, point.x)


_CHUNK = 1 << 22
_WS = b" \t\r\n"
_STRUCT = re.compile(rb'[{}\[\]"]')
_STRING_TAIL = re.compile(rb'[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_PROVINCE_RE = re.compile(rb'"province_code"\s*:\s*"?\s*(\d+)')


class _FeatureScanner:
    """Cuts the features of a FeatureCollection out of a byte stream, one at a time.

    `json.load` of the national file takes ~12 s and 1.5 GB; a province needs 94 of its
    3,321 features. The scanner only looks at braces and quotes (coordinates have
    neither, so memchr skips them) and hands each feature's bytes on; the caller parses
    only the features it keeps: ~2 s and ~25 MB for one province. UTF-8 continuation
    bytes are never ASCII, so scanning bytes is safe.
    """

    def __init__(self, stream: BinaryIO, source: str):
        self._stream = stream
        self._source = source
        self._buf = b""
        self._eof = False
        self._next_at: dict[bytes, int] = {}

    def _more(self) -> bool:
        if self._eof:
            return False
        chunk = self._stream.read(_CHUNK)
        if not chunk:
            self._eof = True
            return False
        self._buf += chunk
        return True

    def _error(self, detail: Any) -> ValidationError:
        """The file is not valid; `detail` (a catalog text) says how."""
        return ValidationError(
            _l(
                "Tệp ranh giới %(source)s không hợp lệ: %(detail)s.",
                source=self._source,
                detail=detail,
            )
        )

    def _skip_ws(self, pos: int) -> int:
        while True:
            while pos < len(self._buf) and self._buf[pos] in _WS:
                pos += 1
            if pos < len(self._buf) or not self._more():
                return pos

    def _string_end(self, pos: int) -> int:
        """Offset just past the closing quote of the string whose opening quote is at pos."""
        while True:
            match = _STRING_TAIL.match(self._buf, pos + 1)
            if match:
                return match.end()
            if not self._more():
                raise self._error(_l("chuỗi không kết thúc"))

    def _next_brace_or_quote(self, pos: int) -> tuple[int, bytes]:
        """Offset and byte of the next '{', '}' or '"' at or after pos.

        Three bytes.find (memchr) with remembered answers: a coordinates array of
        megabytes is crossed at memory speed, ~10× faster than a regex class search.
        """
        while True:
            best = -1
            for char in (b"{", b"}", b'"'):
                at = self._next_at.get(char, -1)
                if at < pos:
                    at = self._buf.find(char, pos)
                    if at < 0:
                        continue
                    self._next_at[char] = at
                if best < 0 or at < best:
                    best = at
            if best >= 0:
                return best, self._buf[best : best + 1]
            if not self._more():
                raise self._error(_l("tệp bị cắt cụt"))

    def _search(self, pattern: re.Pattern[bytes], pos: int) -> re.Match[bytes]:
        while True:
            match = pattern.search(self._buf, pos)
            if match:
                return match
            # Keep pos: the buffer only grows while a structure is open.
            if not self._more():
                raise self._error(_l("tệp bị cắt cụt"))

    def _find_features_array(self) -> int:
        """Offset just past the '[' opening the root object's "features" array."""
        depth = 0
        pos = 0
        while True:
            match = self._search(_STRUCT, pos)
            char = match.group()
            pos = match.end()
            if char in (b"{", b"["):
                depth += 1
            elif char in (b"}", b"]"):
                depth -= 1
                if depth <= 0:
                    break
            else:
                end = self._string_end(match.start())
                key = self._buf[match.start() + 1 : end - 1]
                pos = self._skip_ws(end)
                if depth == 1 and key == b"features" and self._buf[pos : pos + 1] == b":":
                    pos = self._skip_ws(pos + 1)
                    if self._buf[pos : pos + 1] != b"[":
                        break
                    return pos + 1
        raise self._error(_l('không phải FeatureCollection có mảng "features"'))

    def features(self) -> Iterator[tuple[bytes, dict[bytes, tuple[int, int]]]]:
        """Yield (feature bytes, {top-level key: (value start, value end)}) per feature.

        Only object values get an end offset (-1 otherwise): properties and geometry
        are objects, and that is all the reader needs.
        """
        pos = self._find_features_array()
        while True:
            pos = self._skip_ws(pos)
            if pos > _CHUNK:
                # Drop what is consumed, but rarely: each drop copies the buffer.
                self._buf = self._buf[pos:]
                self._next_at.clear()
                pos = 0
            head = self._buf[pos : pos + 1]
            if head == b",":
                pos += 1
                continue
            if head == b"]":
                return
            if head != b"{":
                raise self._error(_l("phần tử của mảng features không phải đối tượng"))
            start = pos
            depth = 1
            keys: dict[bytes, tuple[int, int]] = {}
            current: bytes | None = None
            pos += 1
            while depth:
                at, char = self._next_brace_or_quote(pos)
                pos = at + 1
                if char == b"{":
                    depth += 1
                elif char == b"}":
                    depth -= 1
                    if depth == 1 and current is not None:
                        keys[current] = (keys[current][0], pos - start)
                else:
                    end = self._string_end(at)
                    pos = end
                    if depth == 1:
                        after = self._skip_ws(end)
                        if self._buf[after : after + 1] == b":":
                            current = self._buf[at + 1 : end - 1]
                            pos = self._skip_ws(after + 1)
                            keys[current] = (pos - start, -1)
            yield self._buf[start:pos], keys


def _open_binary(path: Path) -> BinaryIO:
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def normalise_code(value: Any, width: int) -> str | None:
    """A numeric code as a zero-padded string of `width` digits, or None when not numeric."""
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    if not text.isdigit():
        return None
    return text.zfill(width)


def polygonal(geometry: BaseGeometry) -> BaseGeometry:
    """The areal part of a geometry (make_valid can leave lines and points beside it)."""
    if isinstance(geometry, Polygon | MultiPolygon):
        return geometry
    parts = [p for p in shapely.get_parts(geometry) if isinstance(p, Polygon | MultiPolygon)]
    polygons: list[Polygon] = []
    for part in parts:
        polygons.extend(part.geoms if isinstance(part, MultiPolygon) else [part])
    return MultiPolygon(polygons) if polygons else Polygon()


def _area_km2(geometry: BaseGeometry) -> float:
    """Planar area in km² with a cos(lat) correction at the centroid; ±1 % at ward scale."""
    lat = geometry.centroid.y
    return geometry.area * KM_PER_DEGREE**2 * math.cos(math.radians(lat))


def _unit_from_feature(
    index: int,
    props: dict[str, Any],
    geometry_json: bytes | None,
    default_province: str | None,
    source: str,
) -> UnitShape:
    label = f"#{index}"
    name = str(props.get("name") or props.get("full_name") or "").strip()
    raw_code = props.get("code")
    if name:
        label += f" ({name})"
    code = normalise_code(raw_code, 5)
    if code is None:
        raise ValidationError(
            _l(
                "Đơn vị %(label)s trong %(source)s thiếu mã (code) hoặc mã không phải "
                "số: %(raw_code)s.",
                label=label,
                source=source,
                raw_code=repr(raw_code),
            ),
            field="code",
        )
    label = f"#{index} (code {code}{', ' + name if name else ''})"
    raw_province = props.get("province_code")
    province_code = normalise_code(raw_province, 2)
    if province_code is None and raw_province not in (None, ""):
        raise ValidationError(
            _l(
                "Đơn vị %(label)s trong %(source)s có mã tỉnh không hợp lệ: %(raw_province)s.",
                label=label,
                source=source,
                raw_province=repr(raw_province),
            ),
            field="province_code",
        )
    province_code = province_code or default_province
    if province_code is None:
        raise ValidationError(
            _l(
                "Đơn vị %(label)s trong %(source)s thiếu mã tỉnh (province_code).",
                label=label,
                source=source,
            ),
            field="province_code",
        )
    if geometry_json is None:
        raise ValidationError(
            _l(
                "Đơn vị %(label)s trong %(source)s không có hình học (geometry).",
                label=label,
                source=source,
            ),
            field="geometry",
        )
    try:
        geometry = shapely.from_geojson(geometry_json)
    except (shapely.errors.GEOSException, ValueError) as exc:
        raise ValidationError(
            _l(
                "Hình học của đơn vị %(label)s trong %(source)s không đọc được: %(error)s.",
                label=label,
                source=source,
                error=exc,
            ),
            field="geometry",
        ) from exc
    if not isinstance(geometry, Polygon | MultiPolygon):
        raise ValidationError(
            _l(
                "Hình học của đơn vị %(label)s trong %(source)s phải là "
                "Polygon/MultiPolygon, không phải %(kind)s.",
                label=label,
                source=source,
                kind=geometry.geom_type,
            ),
            field="geometry",
        )
    if not geometry.is_valid:
        # Self-touching rings and slivers are common in exported boundaries; GEOS's
        # repair keeps the area, whereas buffer(0) can silently drop whole parts.
        geometry = polygonal(shapely.make_valid(geometry))
    if geometry.is_empty or geometry.area == 0:
        raise ValidationError(
            _l(
                "Hình học của đơn vị %(label)s trong %(source)s rỗng hoặc có diện tích bằng 0.",
                label=label,
                source=source,
            ),
            field="geometry",
        )
    area = props.get("area_km2")
    try:
        area_km2 = float(area) if area not in (None, "") else _area_km2(geometry)
    except (TypeError, ValueError):
        area_km2 = _area_km2(geometry)
    full_name = str(props.get("full_name") or name or code).strip()
    name = name or full_name
    return UnitShape(
        code=code,
        name=name,
        full_name=full_name,
        name_en=str(props.get("name_en") or ascii_name(name)).strip(),
        province_code=province_code,
        province_name=str(props.get("province_name") or "").strip(),
        area_km2=area_km2,
        geometry=geometry,
        approximate=False,
    )


def read_units_geojson(path: str | Path, province_code: str | None = None) -> list[UnitShape]:
    """Read wards from a GeoJSON FeatureCollection (plain or .gz), optionally of one province."""
    path = Path(path)
    source = path.name
    wanted = normalise_code(province_code, 2) if province_code is not None else None
    if province_code is not None and wanted is None:
        raise ValidationError(
            _l("Mã tỉnh không hợp lệ: %(province_code)s.", province_code=repr(province_code)),
            field="province_code",
        )
    if not path.is_file():
        raise ValidationError(
            _l("Không tìm thấy tệp ranh giới %(path)s.", path=path),
            field="path",
        )
    units: list[UnitShape] = []
    seen: set[str] = set()
    with _open_binary(path) as stream:
        scanner = _FeatureScanner(stream, source)
        for index, (feature, keys) in enumerate(scanner.features()):
            if wanted is not None:
                # Cheap pre-filter on the raw bytes; the parsed value decides below.
                hint = _PROVINCE_RE.search(feature)
                if hint and hint.group(1).decode().zfill(2) != wanted:
                    continue
            props: dict[str, Any] = {}
            if b"properties" in keys:
                start, end = keys[b"properties"]
                if end > start:
                    try:
                        props = json.loads(feature[start:end])
                    except ValueError as exc:
                        raise ValidationError(
                            _l(
                                "Thuộc tính của đơn vị #%(index)s trong %(source)s không đọc "
                                "được: %(error)s.",
                                index=index,
                                source=source,
                                error=exc,
                            )
                        ) from exc
            if wanted is not None:
                raw = props.get("province_code")
                # A feature without a province code is taken as the wanted province's
                # (a province's own file); an unreadable one is refused below.
                if raw not in (None, "") and normalise_code(raw, 2) not in (None, wanted):
                    continue
            geometry_json = None
            if b"geometry" in keys:
                start, end = keys[b"geometry"]
                if end > start:
                    geometry_json = feature[start:end]
            unit = _unit_from_feature(index, props, geometry_json, wanted, source)
            if unit.code in seen:
                raise ValidationError(
                    _l(
                        "Mã đơn vị %(code)s xuất hiện hai lần trong %(source)s.",
                        code=unit.code,
                        source=source,
                    ),
                    field="code",
                )
            seen.add(unit.code)
            units.append(unit)
    return units
