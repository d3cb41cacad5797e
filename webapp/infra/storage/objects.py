"""Named blobs in a local folder (the embedded default) or an S3-compatible object store.

`STORAGE_URL` chooses: empty keeps files under the configured folders; `s3://BUCKET/PREFIX`
puts them in that bucket (any S3 server: AWS, MinIO, SeaweedFS), with the endpoint and region
as query parameters (`?endpoint=http://127.0.0.1:8333&region=us-east-1`) and the credentials
from the environment as boto3 reads them (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`).
boto3 speaks the protocol; what is written here is only the seam both backends share (put,
get, exists, delete, list, and how a file can be handed to a browser), so photos and exports
do not care where they live and any process can read what another wrote.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol
from urllib.parse import parse_qs, urlsplit


class MissingObject(LookupError):
    """No object under that name."""


class ObjectStore(Protocol):
    """What photos and exports need of a store; names are relative POSIX paths."""

    def put(self, name: str, data: bytes, *, private: bool, content_type: str) -> None: ...
    def put_file(self, name: str, path: Path, *, private: bool, content_type: str) -> None: ...
    def get(self, name: str) -> bytes: ...
    def exists(self, name: str) -> bool: ...
    def delete(self, name: str) -> None: ...
    def entries(self, prefix: str = "") -> Iterator[tuple[str, datetime]]: ...
    def local_path(self, name: str) -> Path | None: ...
    def presigned_url(self, name: str, seconds: int) -> str | None: ...


def check_name(name: str) -> str:
    """A relative name without `..`, absolute parts or empty segments (names reach us from
    job rows and URLs: never a way out of the store)."""
    if not isinstance(name, str) or any(p in ("", ".", "..") for p in name.split("/")):
        raise ValueError(f"invalid object name: {name!r}")
    return name


class LocalStore:
    """Files under `root`; writes are atomic, private files owner-only (0600)."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    def _path(self, name: str) -> Path:
        return self.root / check_name(name)

    def put(self, name: str, data: bytes, *, private: bool, content_type: str) -> None:
        _atomic_write(self._path(name), lambda out: out.write(data), 0o600 if private else 0o644)

    def put_file(self, name: str, path: Path, *, private: bool, content_type: str) -> None:
        """Move a finished local file into place; readers never see it half-written."""
        with path.open("rb") as source:
            _atomic_write(self._path(name), lambda out: shutil.copyfileobj(source, out),
                          0o600 if private else 0o644)  # fmt: skip
        path.unlink(missing_ok=True)

    def get(self, name: str) -> bytes:
        try:
            return self._path(name).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as error:
            raise MissingObject(name) from error

    def exists(self, name: str) -> bool:
        return self._path(name).is_file()

    def delete(self, name: str) -> None:
        # Folders stay: removing them could race a concurrent put().
        self._path(name).unlink(missing_ok=True)

    def entries(self, prefix: str = "") -> Iterator[tuple[str, datetime]]:
        """Every object whose name starts with `prefix`, with its time of writing."""
        if not self.root.is_dir():
            return
        for path in sorted(self.root.rglob("*")):
            name = path.relative_to(self.root).as_posix()
            if path.is_file() and name.startswith(prefix) and not path.name.startswith("."):
                yield name, datetime.fromtimestamp(path.stat().st_mtime, UTC)

    def local_path(self, name: str) -> Path | None:
        path = self._path(name)
        return path if path.is_file() else None

    def presigned_url(self, name: str, seconds: int) -> str | None:
        return None  # the app serves local files itself


def _atomic_write(path: Path, fill: Callable[[BinaryIO], object], mode: int) -> None:
    """Write via a temporary file and os.replace, so readers never see a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            fill(handle)
            handle.flush()
            os.fsync(handle.fileno())
            os.fchmod(handle.fileno(), mode)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class S3Location:
    """Where `STORAGE_URL` points: bucket, key prefix, endpoint and region."""

    bucket: str
    prefix: str
    endpoint: str | None
    region: str

    @classmethod
    def parse(cls, url: str) -> S3Location:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"STORAGE_URL must look like s3://BUCKET/PREFIX?endpoint=…: {url!r}")
        query = parse_qs(parts.query)
        prefix = parts.path.strip("/")
        return cls(
            bucket=parts.netloc,
            prefix=f"{prefix}/" if prefix else "",
            endpoint=query["endpoint"][0] if query.get("endpoint") else None,
            region=(query.get("region") or ["us-east-1"])[0],
        )


@functools.lru_cache(maxsize=8)
def _client(endpoint: str | None, region: str) -> Any:
    """One boto3 client per process and endpoint (clients are thread-safe)."""
    import boto3
    from botocore.config import Config

    config = Config(
        s3={"addressing_style": "path"},
        signature_version="s3v4",
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=5,
        read_timeout=30,
    )
    return boto3.client("s3", endpoint_url=endpoint, region_name=region, config=config)


class S3Store:
    """Objects under `prefix` in an S3 bucket. Nothing is public: browsers get presigned URLs
    (or the app's own routes), so originals stay private whatever the bucket policy says."""

    def __init__(self, location: S3Location, prefix: str = ""):
        self.location = location
        self.bucket = location.bucket
        self.prefix = location.prefix + prefix
        self.client = _client(location.endpoint, location.region)

    def _key(self, name: str) -> str:
        return self.prefix + check_name(name)

    def put(self, name: str, data: bytes, *, private: bool, content_type: str) -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=self._key(name), Body=data, ContentType=content_type
        )

    def put_file(self, name: str, path: Path, *, private: bool, content_type: str) -> None:
        """Upload a finished local file (multipart when large), then remove it."""
        self.client.upload_file(
            str(path), self.bucket, self._key(name), ExtraArgs={"ContentType": content_type}
        )
        path.unlink(missing_ok=True)

    def get(self, name: str) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(name))
        except self.client.exceptions.NoSuchKey as error:
            raise MissingObject(name) from error
        return bytes(response["Body"].read())

    def exists(self, name: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(name))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def delete(self, name: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(name))

    def entries(self, prefix: str = "") -> Iterator[tuple[str, datetime]]:
        """Every object whose name starts with `prefix`, with its time of writing."""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix + prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                yield item["Key"][len(self.prefix) :], item["LastModified"]

    def local_path(self, name: str) -> Path | None:
        return None

    def presigned_url(self, name: str, seconds: int) -> str | None:
        return str(
            self.client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": self._key(name)},
                ExpiresIn=seconds,
            )
        )

    def create_bucket(self) -> bool:
        """Create the bucket when it is missing (set-up and tests); True when created."""
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
            return False
        except ClientError:
            self.client.create_bucket(Bucket=self.bucket)
            return True


def open_store(storage_url: str, local_root: str | os.PathLike[str], prefix: str) -> ObjectStore:
    """The store for one kind of file: `local_root` when `storage_url` is empty, else the
    S3 location with `prefix` ("photos/", "exports/") under its own prefix."""
    if not storage_url:
        return LocalStore(local_root)
    return S3Store(S3Location.parse(storage_url), prefix)
