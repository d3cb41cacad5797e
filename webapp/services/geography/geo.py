"""Geography services: ward boundaries, point → ward lookup, heatmap cells, distances.

Pure functions and classes, no Flask and no database: the DB layer stores what these
return and builds a `GeoIndex` from its rows at start-up.

Coordinates: the public API speaks (lat, lon) like GPS and the messengers do; shapely
and GeoJSON speak (x=lon, y=lat). The conversion happens only inside this module.
"""

from __future__ import annotations

import gzip
import importlib.resources
import json
import math
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import h3
import numpy as np
import shapely
import shapely.affinity
import shapely.errors
import shapely.ops
from geopy.distance import geodesic
from shapely.geometry import MultiPolygon, Point, Polygon, mapping
from shapely.geometry.base import BaseGeometry

from webapp.errors import NotFound, ValidationError
from webapp.services.text import ascii_name

CELL_RESOLUTIONS = (6, 8, 10)

# Mean length of one degree of latitude; good to 1 % anywhere in Vietnam, which is all
# an approximate disc radius or an area estimate needs.
KM_PER_DEGREE = 111.32

# Disc area of an approximate cell, as a multiple of the ward's official area: big
# enough that neighbouring discs overlap (no gaps inside the province), small enough
# that a coastal or border ward does not swallow the sea or the next province.
APPROX_DISC_AREA_FACTOR = 2.0


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


# ---------------------------------------------------------------------------------------
# Reading GeoJSON
# ---------------------------------------------------------------------------------------

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

    def _error(self, detail_vi: str, detail_en: str) -> ValidationError:
        return ValidationError(
            f"Tệp ranh giới {self._source} không hợp lệ: {detail_vi}.",
            f"Boundary file {self._source} is not valid: {detail_en}.",
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
                raise self._error("chuỗi không kết thúc", "unterminated string")

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
                raise self._error("tệp bị cắt cụt", "truncated file")

    def _search(self, pattern: re.Pattern[bytes], pos: int) -> re.Match[bytes]:
        while True:
            match = pattern.search(self._buf, pos)
            if match:
                return match
            # Keep pos: the buffer only grows while a structure is open.
            if not self._more():
                raise self._error("tệp bị cắt cụt", "truncated file")

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
        raise self._error(
            'không phải FeatureCollection có mảng "features"',
            'not a FeatureCollection with a "features" array',
        )

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
                raise self._error("phần tử của mảng features không phải đối tượng", "bad feature")
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


def _normalise_code(value: Any, width: int) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    if not text.isdigit():
        return None
    return text.zfill(width)


def _polygonal(geometry: BaseGeometry) -> BaseGeometry:
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
    code = _normalise_code(raw_code, 5)
    if code is None:
        raise ValidationError(
            f"Đơn vị {label} trong {source} thiếu mã (code) hoặc mã không phải số: {raw_code!r}.",
            f"Feature {label} in {source} has a missing or non-numeric code: {raw_code!r}.",
            field="code",
        )
    label = f"#{index} (code {code}{', ' + name if name else ''})"
    raw_province = props.get("province_code")
    province_code = _normalise_code(raw_province, 2)
    if province_code is None and raw_province not in (None, ""):
        raise ValidationError(
            f"Đơn vị {label} trong {source} có mã tỉnh không hợp lệ: {raw_province!r}.",
            f"Feature {label} in {source} has an invalid province_code: {raw_province!r}.",
            field="province_code",
        )
    province_code = province_code or default_province
    if province_code is None:
        raise ValidationError(
            f"Đơn vị {label} trong {source} thiếu mã tỉnh (province_code).",
            f"Feature {label} in {source} has no province_code.",
            field="province_code",
        )
    if geometry_json is None:
        raise ValidationError(
            f"Đơn vị {label} trong {source} không có hình học (geometry).",
            f"Feature {label} in {source} has no geometry.",
            field="geometry",
        )
    try:
        geometry = shapely.from_geojson(geometry_json)
    except (shapely.errors.GEOSException, ValueError) as exc:
        raise ValidationError(
            f"Hình học của đơn vị {label} trong {source} không đọc được: {exc}.",
            f"Geometry of feature {label} in {source} cannot be read: {exc}.",
            field="geometry",
        ) from exc
    if not isinstance(geometry, Polygon | MultiPolygon):
        raise ValidationError(
            f"Hình học của đơn vị {label} trong {source} phải là Polygon/MultiPolygon, "
            f"không phải {geometry.geom_type}.",
            f"Geometry of feature {label} in {source} must be a Polygon/MultiPolygon, "
            f"not {geometry.geom_type}.",
            field="geometry",
        )
    if not geometry.is_valid:
        # Self-touching rings and slivers are common in exported boundaries; GEOS's
        # repair keeps the area, whereas buffer(0) can silently drop whole parts.
        geometry = _polygonal(shapely.make_valid(geometry))
    if geometry.is_empty or geometry.area == 0:
        raise ValidationError(
            f"Hình học của đơn vị {label} trong {source} rỗng hoặc có diện tích bằng 0.",
            f"Geometry of feature {label} in {source} is empty or has no area.",
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
    wanted = _normalise_code(province_code, 2) if province_code is not None else None
    if province_code is not None and wanted is None:
        raise ValidationError(
            f"Mã tỉnh không hợp lệ: {province_code!r}.",
            f"Invalid province code: {province_code!r}.",
            field="province_code",
        )
    if not path.is_file():
        raise ValidationError(
            f"Không tìm thấy tệp ranh giới {path}.",
            f"Boundary file {path} not found.",
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
                            f"Thuộc tính của đơn vị #{index} trong {source} không đọc được.",
                            f"Properties of feature #{index} in {source} cannot be read: {exc}.",
                        ) from exc
            if wanted is not None:
                raw = props.get("province_code")
                # A feature without a province code is taken as the wanted province's
                # (a province's own file); an unreadable one is refused below.
                if raw not in (None, "") and _normalise_code(raw, 2) not in (None, wanted):
                    continue
            geometry_json = None
            if b"geometry" in keys:
                start, end = keys[b"geometry"]
                if end > start:
                    geometry_json = feature[start:end]
            unit = _unit_from_feature(index, props, geometry_json, wanted, source)
            if unit.code in seen:
                raise ValidationError(
                    f"Mã đơn vị {unit.code} xuất hiện hai lần trong {source}.",
                    f"Unit code {unit.code} appears twice in {source}.",
                    field="code",
                )
            seen.add(unit.code)
            units.append(unit)
    return units


# ---------------------------------------------------------------------------------------
# Approximate cells from the vietnamadminunits package
# ---------------------------------------------------------------------------------------


def _dataset_path() -> Path:
    return Path(str(importlib.resources.files("vietnamadminunits") / "data" / "dataset.db"))


def _dataset_rows(sql: str, *params: Any) -> list[tuple[Any, ...]]:
    # Read-only: the package directory may belong to root on a server.
    conn = sqlite3.connect(f"{_dataset_path().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _disc(lon: float, lat: float, area_km2: float) -> Polygon:
    """An ellipse in degrees that is a circle on the ground with the given area."""
    radius_km = math.sqrt(area_km2 / math.pi)
    ry = radius_km / KM_PER_DEGREE
    rx = ry / math.cos(math.radians(lat))
    circle = Point(0, 0).buffer(1.0, quad_segs=16)
    return shapely.affinity.affine_transform(circle, [rx, 0, 0, ry, lon, lat])


def approximate_units(province_code: str) -> list[UnitShape]:
    """Approximate ward cells for a province from the vietnamadminunits centre points."""
    wanted = _normalise_code(province_code, 2)
    if wanted is None:
        raise ValidationError(
            f"Mã tỉnh không hợp lệ: {province_code!r}.",
            f"Invalid province code: {province_code!r}.",
            field="province_code",
        )
    rows = _dataset_rows(
        "SELECT wardCode, ward, wardShort, wardLat, wardLon, wardAreaKm2, province "
        "FROM admin_units WHERE provinceCode = ? ORDER BY wardCode",
        wanted,
    )
    rows = [r for r in rows if r[3] is not None and r[4] is not None]
    if not rows:
        raise NotFound(
            f"Không có dữ liệu đơn vị hành chính cho tỉnh {wanted}.",
            f"No administrative units known for province {wanted}.",
            field="province_code",
        )
    areas = [float(r[5]) for r in rows if r[5]]
    fallback_area = float(np.median(areas)) if areas else 20.0
    centres = [(float(r[4]), float(r[3])) for r in rows]
    discs = [
        _disc(lon, lat, APPROX_DISC_AREA_FACTOR * float(r[5] or fallback_area))
        for (lon, lat), r in zip(centres, rows, strict=True)
    ]
    coverage = shapely.union_all(discs)
    if len(rows) == 1:
        cells = [discs[0]]
    else:
        # ordered=True keeps the input order, so cell i belongs to centre i even where
        # the package has two wards at (almost) the same point.
        voronoi = shapely.voronoi_polygons(
            shapely.MultiPoint(centres), extend_to=coverage.envelope.buffer(1.0), ordered=True
        )
        cells = list(voronoi.geoms)
    units: list[UnitShape] = []
    for row, disc, cell in zip(rows, discs, cells, strict=True):
        code, full_name, short, _lat, _lon, area, province = row
        # Clipping to the union (not only the own disc) lets a cell reach into the gap
        # where only a neighbour's disc is, so the approximate cells leave no holes
        # between neighbours; the own disc is part of the union, so the cell always
        # keeps its centre.
        geometry = _polygonal(cell.intersection(coverage)) if len(rows) > 1 else disc
        name = str(short or full_name)
        units.append(
            UnitShape(
                code=str(code).zfill(5),
                name=name,
                full_name=str(full_name or name),
                name_en=ascii_name(name),
                province_code=wanted,
                province_name=str(province or ""),
                area_km2=float(area) if area else None,
                geometry=geometry,
                approximate=True,
            )
        )
    return units


def unit_centres(province_code: str) -> dict[str, tuple[float, float]]:
    """The (lat, lon) centre points the vietnamadminunits package gives a province's wards."""
    rows = _dataset_rows(
        "SELECT wardCode, wardLat, wardLon FROM admin_units WHERE provinceCode = ?",
        _normalise_code(province_code, 2),
    )
    return {str(c).zfill(5): (lat, lon) for c, lat, lon in rows if lat is not None}


# ---------------------------------------------------------------------------------------
# Point → ward index
# ---------------------------------------------------------------------------------------


def _check_latlon(lat: float, lon: float) -> tuple[float, float]:
    try:
        lat_f, lon_f = float(lat), float(lon)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            "Toạ độ phải là số.", "Coordinates must be numbers.", field="location"
        ) from exc
    if not (-90.0 <= lat_f <= 90.0 and -180.0 <= lon_f <= 180.0) or math.isnan(lat_f + lon_f):
        raise ValidationError(
            f"Toạ độ không hợp lệ: {lat}, {lon}.",
            f"Invalid coordinates: {lat}, {lon}.",
            field="location",
        )
    return lat_f, lon_f


class GeoIndex:
    """Point → ward code lookup over a set of ward polygons; read-only after construction.

    A grid of `cell_deg` squares (0.01° for a province) maps each square to the wards
    that touch it; a square entirely inside one ward answers without any geometry test
    (most of a province), the others test the few candidate polygons, prepared by GEOS.
    That is ~5 µs a point, against ~35-50 µs for one STRtree query per point (measured
    on Đà Nẵng), where the Python→GEOS call overhead dominates. The STRtree is kept for
    the nearest-ward search of `locate(..., tolerance_m=...)`.

    Border rule: the test is "intersects" (interior or boundary), so a point exactly on
    the border of two wards is found in both instead of in neither ("within" excludes
    the boundary). Such ties, and points in the slivers where two official polygons
    overlap (8 pairs nationally, digitising artefacts of a few m²), go to the ward with
    the smaller area, then the lower code. Neither side is more right than the other;
    what matters is that the answer never depends on the file order or on a rebuild, so
    the same point always lands in the same ward for routing, dedupe and statistics.
    The smaller unit goes first because it is usually the urban ward whose boundary was
    drawn at the finer scale.

    Thread safety: nothing is mutated after __init__. GEOS builds a prepared polygon's
    point locator lazily on first use, so __init__ runs one query against every polygon
    to build them all before the index is shared between threads.
    """

    def __init__(
        self,
        units: Iterable[UnitShape | tuple[str, BaseGeometry]],
        *,
        cell_deg: float | None = None,
    ):
        pairs: list[tuple[str, BaseGeometry]] = []
        for unit in units:
            if isinstance(unit, UnitShape):
                pairs.append((unit.code, unit.geometry))
            else:
                code, geometry = unit
                pairs.append((str(code), geometry))
        if not pairs:
            raise ValidationError(
                "Không có đơn vị hành chính nào để lập chỉ mục.",
                "No administrative units to index.",
            )
        codes = [c for c, _ in pairs]
        if len(set(codes)) != len(codes):
            dupes = sorted({c for c in codes if codes.count(c) > 1})
            raise ValidationError(
                f"Mã đơn vị bị trùng: {', '.join(dupes)}.",
                f"Duplicate unit codes: {', '.join(dupes)}.",
            )
        # Rank order = tie-break order; candidates are kept sorted by rank, so the first
        # polygon that contains the point is the answer.
        pairs.sort(key=lambda p: (p[1].area, p[0]))
        self._codes: tuple[str, ...] = tuple(c for c, _ in pairs)
        self._geoms = np.array([g for _, g in pairs], dtype=object)
        self._rank = {code: i for i, code in enumerate(self._codes)}
        if cell_deg is None:
            # 0.01° (~1 km) squares for a province; coarser for a whole country, so the
            # grid stays around 100,000 squares (build time and memory) whatever the area.
            bounds = shapely.bounds(self._geoms)
            spread = float(np.sum((bounds[:, 2] - bounds[:, 0]) * (bounds[:, 3] - bounds[:, 1])))
            cell_deg = max(0.01, math.sqrt(spread / 100_000))
        self._step = float(cell_deg)
        shapely.prepare(self._geoms)
        self._tree = shapely.STRtree(self._geoms)
        inside = shapely.point_on_surface(self._geoms)
        self._points = {code: (p.y, p.x) for code, p in zip(self._codes, inside, strict=True)}
        self._bounds = tuple(float(v) for v in shapely.total_bounds(self._geoms))
        self._grid = self._build_grid()
        for geometry, point in zip(self._geoms, inside, strict=True):
            # A point inside the envelope, or GEOS skips the locator it has to build.
            shapely.intersects_xy(geometry, point.x, point.y)

    def _build_grid(self) -> dict[tuple[int, int], int | tuple[int, ...]]:
        step = self._step
        # Squares are grown by a hair so a point that floor() puts in a square because
        # of rounding is still inside that square's closed box.
        eps = step * 1e-6
        touching: dict[tuple[int, int], list[int]] = {}
        covered: dict[tuple[int, int], int] = {}
        for rank, geometry in enumerate(self._geoms):
            minx, miny, maxx, maxy = geometry.bounds
            ixs = np.arange(math.floor(minx / step), math.floor(maxx / step) + 1)
            iys = np.arange(math.floor(miny / step), math.floor(maxy / step) + 1)
            gx, gy = (a.ravel() for a in np.meshgrid(ixs, iys))
            boxes = shapely.box(
                gx * step - eps, gy * step - eps, (gx + 1) * step + eps, (gy + 1) * step + eps
            )
            hits = shapely.intersects(geometry, boxes)
            inside = shapely.contains_properly(geometry, boxes[hits])
            for ix, iy, full in zip(gx[hits], gy[hits], inside, strict=True):
                key = (int(ix), int(iy))
                touching.setdefault(key, []).append(rank)
                if full:
                    covered[key] = rank
        grid: dict[tuple[int, int], int | tuple[int, ...]] = {}
        for key, ranks in touching.items():
            if len(ranks) == 1 and covered.get(key) == ranks[0]:
                grid[key] = ranks[0]
            else:
                grid[key] = tuple(sorted(ranks))
        return grid

    def __len__(self) -> int:
        return len(self._codes)

    def __contains__(self, code: object) -> bool:
        return code in self._rank

    @property
    def codes(self) -> tuple[str, ...]:
        """The indexed unit codes, in tie-break order."""
        return self._codes

    def _locate_xy(self, x: float, y: float) -> str | None:
        entry = self._grid.get((math.floor(x / self._step), math.floor(y / self._step)))
        if entry is None:
            return None
        if type(entry) is int:
            return self._codes[entry]
        for rank in entry:  # type: ignore[union-attr]
            if shapely.intersects_xy(self._geoms[rank], x, y):
                return self._codes[rank]
        return None

    def locate(self, lat: float, lon: float, *, tolerance_m: float = 0.0) -> str | None:
        """The code of the ward containing (lat, lon), or None outside every ward."""
        lat, lon = _check_latlon(lat, lon)
        code = self._locate_xy(lon, lat)
        if code is None and tolerance_m > 0:
            code = self._nearest(lat, lon, tolerance_m)
        return code

    def _nearest(self, lat: float, lon: float, tolerance_m: float) -> str | None:
        # A GPS fix on the beach or a river bank can fall just outside the polygons;
        # a tolerance snaps it to the nearest ward. The degree radius is generous
        # (longitude degrees are shorter), the geodesic check below is exact enough.
        max_deg = tolerance_m / 1000.0 / KM_PER_DEGREE / max(math.cos(math.radians(lat)), 0.1)
        point = Point(lon, lat)
        found = self._tree.query_nearest(point, max_distance=max_deg, all_matches=True)
        if len(found) == 0:
            return None
        rank = int(min(found))
        nearest = shapely.ops.nearest_points(self._geoms[rank], point)[0]
        if distance_m((lat, lon), (nearest.y, nearest.x)) > tolerance_m:
            return None
        return self._codes[rank]

    def locate_many(self, points: Iterable[tuple[float, float]]) -> list[str | None]:
        """The ward code of each (lat, lon), None where outside."""
        return [self._locate_xy(lon, lat) for lat, lon in (_check_latlon(*p) for p in points)]

    def contains_province(self, lat: float, lon: float) -> bool:
        """True when the point lies in one of the indexed wards (the province's territory)."""
        # The province follows from the ward, not from an outline: island wards lie
        # outside their province's outline in the official data.
        return self.locate(lat, lon) is not None

    def representative_point(self, code: str) -> tuple[float, float]:
        """A (lat, lon) inside the ward, for placing its label or a ward-precision report."""
        try:
            return self._points[code]
        except KeyError:
            raise NotFound(
                f"Không có đơn vị hành chính mã {code}.", f"No unit with code {code}."
            ) from None

    def geometry(self, code: str) -> BaseGeometry:
        """The indexed boundary of a ward."""
        if code not in self._rank:
            raise NotFound(f"Không có đơn vị hành chính mã {code}.", f"No unit with code {code}.")
        return self._geoms[self._rank[code]]

    def bounds(self) -> tuple[float, float, float, float]:
        """(min_lat, min_lon, max_lat, max_lon) of all indexed wards."""
        minx, miny, maxx, maxy = self._bounds
        return (miny, minx, maxy, maxx)


# ---------------------------------------------------------------------------------------
# Cells, distances, display
# ---------------------------------------------------------------------------------------


def cells_for(lat: float, lon: float) -> dict[str, str]:
    """The H3 cells a report stores for server-side heatmaps, keyed "h3_r<resolution>"."""
    lat, lon = _check_latlon(lat, lon)
    return {f"h3_r{res}": h3.latlng_to_cell(lat, lon, res) for res in CELL_RESOLUTIONS}


def distance_m(a: Sequence[float], b: Sequence[float]) -> float:
    """Geodesic (WGS84) distance in metres between two (lat, lon) points."""
    return geodesic(_check_latlon(a[0], a[1]), _check_latlon(b[0], b[1])).meters


def simplify_for_display(geometry: BaseGeometry, tolerance: float = 0.0005) -> dict[str, Any]:
    """A simplified GeoJSON geometry mapping for drawing a boundary (never for lookups)."""
    simplified = geometry.simplify(tolerance, preserve_topology=True)
    # Six decimals is ~0.1 m: more only inflates the JSON sent to the browser.
    simplified = shapely.transform(simplified, lambda coords: np.round(coords, 6))
    return mapping(simplified)


def feature_collection(units: Iterable[UnitShape], tolerance: float = 0.0005) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of simplified ward boundaries for the map."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "code": u.code,
                    "name": u.name,
                    "full_name": u.full_name,
                    "approximate": u.approximate,
                },
                "geometry": simplify_for_display(u.geometry, tolerance),
            }
            for u in units
        ],
    }
