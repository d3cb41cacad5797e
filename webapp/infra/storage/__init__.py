"""Where files live: stored photos and export files, on the local disk or an S3 object store.

The code that writes a file and the code that reads it back (a channel attaching the weekly
workbook, a messenger sending a result photo, another web process serving a photo) all come
here, so neither imports the other and no process assumes another's disk. `objects` holds the
two backends (`STORAGE_URL`), `photos` the photo layout.
"""

from __future__ import annotations

import io
from pathlib import Path

from flask import Response, current_app, send_file

from webapp.infra.storage.objects import MissingObject, ObjectStore, check_name, open_store
from webapp.infra.storage.photos import (
    VARIANTS,
    PhotoFiles,
    PhotoStore,
    StoredPhoto,
    Variant,
    is_variant,
)

__all__ = [
    "VARIANTS",
    "MissingObject",
    "ObjectStore",
    "PhotoFiles",
    "PhotoStore",
    "StoredPhoto",
    "Variant",
    "export_objects",
    "exports_dir",
    "is_variant",
    "photo_store",
    "public_photo_bytes",
    "send_public_photo",
]


def photo_store() -> PhotoStore:
    """The photo store: UPLOAD_DIR, or `photos/` in the STORAGE_URL bucket."""
    cfg = current_app.config
    return PhotoStore(open_store(cfg["STORAGE_URL"], cfg["UPLOAD_DIR"], "photos/"))


def public_photo_bytes(key: str, variant: Variant = "web") -> bytes:
    """Bytes of a stored photo's public (metadata-free) copy; NotFound for an unknown key."""
    return photo_store().read_public(key, variant)


def public_photo_url(key: str) -> str:
    """The absolute address of a photo's public (metadata-free) web copy, served by the app
    (Zalo fetches it; agencies' systems and residents' data copies link it)."""
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/anh/{key}/web.jpg"


def send_public_photo(key: str, variant: Variant, max_age: int) -> Response:
    """The response carrying a public copy: the file itself when local, else its bytes read
    from the object store (the app stays the only origin the pages load images from)."""
    store = photo_store()
    path = store.public_file(key, variant)
    if path is not None:
        return send_file(path, mimetype="image/jpeg", max_age=max_age)
    data = store.read_public(key, variant)
    return send_file(io.BytesIO(data), mimetype="image/jpeg", max_age=max_age, etag=False)


def exports_dir() -> Path:
    """The local folder of export files (EXPORT_DIR; empty means instance/exports)."""
    configured = current_app.config["EXPORT_DIR"]
    path = Path(configured) if configured else Path(current_app.instance_path, "exports")
    path.mkdir(parents=True, exist_ok=True)
    return path


def export_objects() -> ObjectStore:
    """Export files: the exports folder, or `exports/` in the STORAGE_URL bucket."""
    url = current_app.config["STORAGE_URL"]
    return open_store(url, exports_dir() if not url else "", "exports/")


def export_name(relative: str) -> str:
    """A checked export file name (never outside the exports)."""
    return check_name(relative)
