"""Stored photos: a private original and two public copies (web, thumbnail) per key.

Names in the object store: `originals/ab/cd/<key>.<ext>` and `public/ab/cd/<key>-web.jpg`
(two levels of 256 folders keep a local folder small at millions of photos).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, TypeGuard

from flask_babel import lazy_gettext as _l

from webapp.errors import NotFound
from webapp.infra.storage.objects import MissingObject, ObjectStore

_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
_CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
_KEY_RE = re.compile(r"[0-9a-f]{32}")
PHOTO_NOT_FOUND = _l("Không tìm thấy ảnh")

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
    """The names of a stored photo's three objects."""

    key: str
    original: str
    web: str
    thumb: str


def _shard(key: str) -> str:
    return f"{key[:2]}/{key[2:4]}"


def original_name(key: str, ext: str) -> str:
    """Where the private original of `key` lives."""
    return f"originals/{_shard(key)}/{key}.{ext}"


def public_name(key: str, variant: str) -> str:
    """Where a public copy of `key` lives."""
    return f"public/{_shard(key)}/{key}-{variant}.jpg"


class PhotoStore:
    """Photos in an object store: private originals, public web/thumbnail copies."""

    def __init__(self, objects: ObjectStore):
        self.objects = objects

    @staticmethod
    def check_key(key: str) -> str:
        """The key, if it has our own uuid4 hex shape (keys reach us from URLs)."""
        if not isinstance(key, str) or not _KEY_RE.fullmatch(key):
            raise NotFound(PHOTO_NOT_FOUND)
        return key

    def store(self, photo: PhotoFiles) -> StoredPhoto:
        """Write the original and both copies under a new random key."""
        key = uuid.uuid4().hex
        ext = _EXTENSIONS[photo.original_format]
        stored = StoredPhoto(
            key, original_name(key, ext), public_name(key, "web"), public_name(key, "thumb")
        )
        try:
            # Originals may hold the reporter's GPS and identity: private.
            self.objects.put(
                stored.original, photo.original, private=True, content_type=_CONTENT_TYPES[ext]
            )
            self.objects.put(stored.web, photo.web, private=False, content_type="image/jpeg")
            self.objects.put(stored.thumb, photo.thumb, private=False, content_type="image/jpeg")
        except BaseException:
            self.delete(key)
            raise
        return stored

    def delete(self, key: str) -> None:
        """Remove a photo's objects; missing ones are fine (used to undo a failed transaction)."""
        self.check_key(key)
        for ext in _EXTENSIONS.values():
            self.objects.delete(original_name(key, ext))
        for variant in VARIANTS:
            self.objects.delete(public_name(key, variant))

    def delete_original(self, key: str) -> None:
        """Remove only the private original (retention); the public copies stay."""
        self.check_key(key)
        for ext in _EXTENSIONS.values():
            self.objects.delete(original_name(key, ext))

    def _public(self, key: str, variant: str) -> str:
        self.check_key(key)
        if not is_variant(variant):
            raise NotFound(PHOTO_NOT_FOUND)
        return public_name(key, variant)

    def read_public(self, key: str, variant: Variant = "web") -> bytes:
        """Bytes of a public (metadata-free) copy; NotFound for unknown keys or variants."""
        try:
            return self.objects.get(self._public(key, variant))
        except MissingObject:
            raise NotFound(PHOTO_NOT_FOUND) from None

    def read_original(self, key: str) -> bytes:
        """Bytes of the private original; callers must check permissions before serving it."""
        self.check_key(key)
        for ext in _EXTENSIONS.values():
            try:
                return self.objects.get(original_name(key, ext))
            except MissingObject:
                continue
        raise NotFound(PHOTO_NOT_FOUND)

    def replace_public(self, key: str, variant: Variant, data: bytes) -> None:
        """Overwrite a public copy (moderation blurs it)."""
        self.objects.put(self._public(key, variant), data, private=False, content_type="image/jpeg")

    def public_exists(self, key: str, variant: Variant) -> bool:
        """Whether the public copy is stored."""
        return self.objects.exists(self._public(key, variant))

    def public_file(self, key: str, variant: Variant) -> Path | None:
        """The local file of a public copy, for the web server to send (None in S3)."""
        return self.objects.local_path(self._public(key, variant))

    def public_url(self, key: str, variant: Variant, seconds: int) -> str | None:
        """A short-lived URL of a public copy on the object store (None for local files)."""
        return self.objects.presigned_url(self._public(key, variant), seconds)
