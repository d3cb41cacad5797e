"""The real ward polygons of ../shared/geo, extracted once per province into a cache."""

from __future__ import annotations

import json
import os
from pathlib import Path

from webapp.services.geography import geojson_reader

ROOT = Path(__file__).resolve().parents[2]
SHARED_WARDS = ROOT.parent / "shared" / "geo" / "wards.geojson.gz"
CACHE = Path(os.environ.get("PHANANH_CACHE_DIR", Path.home() / ".cache" / "phananh")) / "geo"


def province_geojson(code: str = "48") -> Path | None:
    """Path of a GeoJSON with only this province's wards (None without ../shared/geo)."""
    if not SHARED_WARDS.exists():
        return None
    target = CACHE / f"wards-{code}-{int(SHARED_WARDS.stat().st_mtime)}.geojson"
    if not target.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        shapes = geojson_reader.read_units_geojson(SHARED_WARDS, province_code=code)
        features = [
            {
                "type": "Feature",
                "properties": {
                    "code": s.code,
                    "name": s.name,
                    "full_name": s.full_name,
                    "name_en": s.name_en,
                    "province_code": s.province_code,
                    "province_name": s.province_name,
                    "area_km2": s.area_km2,
                },
                "geometry": s.geometry.__geo_interface__,
            }
            for s in shapes
        ]
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
        tmp.replace(target)
    return target
