"""Where files live: stored photos (UPLOAD_DIR) and export files (EXPORT_DIR).

The code that writes a file and the code that reads it back (a channel attaching the weekly
workbook, a messenger sending a result photo) both find it here, so neither imports the other.
"""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, TypeGuard

from flask import current_app

from webapp.errors import NotFound

_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
_KEY_RE = re.compile(r"[0-9a-f]{32}")

Variant = Literal["web", "thumb"]
VARIANTS: tuple[Variant, ...] = ("web", "thumb")


def is_variant(value: str) -> TypeGuard[Variant]:
    """Whether `value` names a public copy ("web" or "thumb")."""
    return value in VARIANTS


class PhotoFiles(Protocol):
    """What the store writes for one photo (intake's ProcessedPhoto); read only."""

    @property
    def original_format(self) -> str: ...
    @property
    def original(self) -> bytes: ...
    @property
    def web(self) -> bytes: ...
    @property
    def thumb(self) -> bytes: ...


@dataclass(frozen=True)
class StoredPhoto:
    """Where the three files of a stored photo live."""

    key: str
    original_path: Path
    web_path: Path
    thumb_path: Path


class PhotoStore:
    """Files of stored photos: private originals and public web/thumbnail copies."""

    def __init__(self, base_dir: str | os.PathLike[str]):
        self.base_dir = Path(base_dir)
        self.originals_dir = self.base_dir / "originals"
        self.public_dir = self.base_dir / "public"

    @staticmethod
    def _check_key(key: str) -> str:
        # Keys reach us from URLs: only our own uuid4 hex shape can ever name a file.
        if not isinstance(key, str) or not _KEY_RE.fullmatch(key):
            raise NotFound("Không tìm thấy ảnh", "Photo not found")
        return key

    @staticmethod
    def _shard(root: Path, key: str) -> Path:
        # Two levels of 256 directories keep each directory small at millions of photos.
        return root / key[:2] / key[2:4]

    def _original_candidates(self, key: str) -> list[Path]:
        folder = self._shard(self.originals_dir, key)
        return [folder / f"{key}.{ext}" for ext in _EXTENSIONS.values()]

    def _public_path(self, key: str, variant: str) -> Path:
        return self._shard(self.public_dir, key) / f"{key}-{variant}.jpg"

    def store(self, photo: PhotoFiles) -> StoredPhoto:
        """Write the original and both copies under a new random key."""
        key = uuid.uuid4().hex
        ext = _EXTENSIONS[photo.original_format]
        stored = StoredPhoto(
            key=key,
            original_path=self._shard(self.originals_dir, key) / f"{key}.{ext}",
            web_path=self._public_path(key, "web"),
            thumb_path=self._public_path(key, "thumb"),
        )
        try:
            # Originals may hold the reporter's GPS and identity: owner-only permissions.
            _atomic_write(stored.original_path, photo.original, 0o600)
            _atomic_write(stored.web_path, photo.web, 0o644)
            _atomic_write(stored.thumb_path, photo.thumb, 0o644)
        except BaseException:
            self.delete(key)
            raise
        return stored

    def delete(self, key: str) -> None:
        """Remove a photo's files; missing files are fine (used to undo a failed transaction)."""
        self._check_key(key)
        paths = [
            *self._original_candidates(key),
            self._public_path(key, "web"),
            self._public_path(key, "thumb"),
        ]
        # Shard directories are left in place: removing them could race a concurrent store().
        for path in paths:
            path.unlink(missing_ok=True)

    def open_public(self, key: str, variant: Variant) -> Path:
        """Path of a public copy ("web" or "thumb"); NotFound for unknown keys or variants."""
        self._check_key(key)
        if variant not in ("web", "thumb"):
            raise NotFound("Không tìm thấy ảnh", "Photo not found")
        path = self._public_path(key, variant)
        if not path.is_file():
            raise NotFound("Không tìm thấy ảnh", "Photo not found")
        return path

    def open_original(self, key: str) -> Path:
        """Path of the private original; callers must check permissions before serving it."""
        self._check_key(key)
        for path in self._original_candidates(key):
            if path.is_file():
                return path
        raise NotFound("Không tìm thấy ảnh", "Photo not found")


def _atomic_write(path: Path, data: bytes, mode: int) -> None:
    """Write via a temporary file and os.replace, so readers never see a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
            os.fchmod(handle.fileno(), mode)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def photo_store() -> PhotoStore:
    """The photo store under the configured upload directory."""
    return PhotoStore(current_app.config["UPLOAD_DIR"])


def public_photo_bytes(key: str, variant: Variant = "web") -> bytes:
    """Bytes of a stored photo's public (metadata-free) copy; NotFound for an unknown key."""
    return photo_store().open_public(key, variant).read_bytes()


def exports_dir() -> Path:
    """Where export files are written (EXPORT_DIR; empty means instance/exports)."""
    configured = current_app.config["EXPORT_DIR"]
    path = Path(configured) if configured else Path(current_app.instance_path, "exports")
    path.mkdir(parents=True, exist_ok=True)
    return path


def export_file(relative: str) -> Path:
    """A file under the exports directory, named relative to it; never outside it."""
    root = exports_dir().resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        raise ValueError(f"attachment outside the exports directory: {relative}")
    return path
