"""Open311 GeoReport v2: the categories as services, reports as service requests."""
