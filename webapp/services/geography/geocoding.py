"""Geocoders: an address typed by a resident turned into a point, online or offline.

`geocode` tries a Nominatim server (`NominatimGeocoder`) when one is configured and falls
back to the offline gazetteer of the province (`gazetteer.Gazetteer`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from webapp.services.geography.gazetteer import Gazetteer, GazetteerMatch

if TYPE_CHECKING:
    from webapp.services.geography.geo_index import GeoIndex

log = logging.getLogger(__name__)


@runtime_checkable
class Geocoder(Protocol):
    """Anything that turns an address into a (lat, lon), or None."""

    def geocode(self, text: str) -> tuple[float, float] | None:
        """The point of the address, or None when unknown or unavailable."""
        ...


class NominatimGeocoder:
    """A Nominatim server (geopy); never raises on network or server errors, logs them."""

    def __init__(
        self,
        domain: str,
        user_agent: str,
        timeout: float = 5.0,
        *,
        scheme: str = "https",
        country_codes: str | None = "vn",
        viewbox: tuple[tuple[float, float], tuple[float, float]] | None = None,
    ):
        from geopy.geocoders import Nominatim

        self.domain = domain
        self._country_codes = country_codes
        self._viewbox = viewbox
        self._client = Nominatim(
            domain=domain, scheme=scheme, user_agent=user_agent, timeout=timeout
        )

    def geocode(self, text: str) -> tuple[float, float] | None:
        """The first result's (lat, lon), or None (no result, or the server failed)."""
        from geopy.exc import GeopyError

        if not text or not text.strip():
            return None
        try:
            location = self._client.geocode(
                text,
                exactly_one=True,
                country_codes=self._country_codes,
                viewbox=self._viewbox,
            )
        except (GeopyError, OSError, ValueError) as exc:
            # Intake must go on without the geocoder: the offline gazetteer takes over.
            # Never the typed text: it is the resident's address (personal data).
            log.warning("Nominatim at %s failed (%d characters): %s", self.domain, len(text), exc)
            return None
        if location is None:
            return None
        return (float(location.latitude), float(location.longitude))


class OfflineGeocoder:
    """The gazetteer behind the Geocoder interface."""

    def __init__(self, gazetteer: Gazetteer):
        self.gazetteer = gazetteer

    def geocode(self, text: str) -> tuple[float, float] | None:
        """The gazetteer's point for the text, or None."""
        match = self.gazetteer.find(text)
        return (match.lat, match.lon) if match else None


def geocode(
    text: str,
    online: Geocoder | None,
    offline: Gazetteer,
    *,
    index: GeoIndex | None = None,
) -> GazetteerMatch | None:
    """Geocode an address: the online geocoder first when configured, then the gazetteer.

    With an index, an online answer outside the province's wards is ignored (Nominatim
    happily finds a "Hải Châu" elsewhere) and the answer carries its ward code.
    """
    if online is not None and not isinstance(online, OfflineGeocoder):
        point = online.geocode(text)
        if point is not None:
            unit_code = index.locate(*point) if index is not None else None
            if index is None or unit_code is not None:
                return GazetteerMatch(
                    unit_code=unit_code,
                    street=None,
                    lat=point[0],
                    lon=point[1],
                    precision="address",
                    matched_text=text.strip(),
                )
            log.info("An online geocode fell outside the province")
    return offline.find(text)
