"""Ward boundaries for drawing on maps (simplified; lookups use the full polygons)."""

from __future__ import annotations

import json

from flask import current_app
from shapely.geometry import shape

from webapp.extensions import db
from webapp.models import AdminUnit
from webapp.services.geography import geo_index


def display_geojson() -> dict:
    """A FeatureCollection of the wards, simplified, cached per app until units change."""
    cache = current_app.extensions.setdefault("places", {})
    if "display" not in cache:
        features = []
        wards = db.session.scalars(
            db.select(AdminUnit).where(AdminUnit.level == "ward", AdminUnit.geometry.is_not(None))
        )
        for unit in wards:
            features.append(
                {
                    "type": "Feature",
                    "properties": {
                        "code": unit.code,
                        "name": unit.full_name,
                        "approximate": unit.approximate,
                    },
                    "geometry": geo_index.simplify_for_display(shape(json.loads(unit.geometry))),
                }
            )
        cache["display"] = {"type": "FeatureCollection", "features": features}
    return cache["display"]
