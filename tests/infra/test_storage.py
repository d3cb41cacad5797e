"""Photos and exports in a store: the local folder and a real S3 server (SeaweedFS) behave alike,
originals stay private, and any web process serves what another stored."""

from __future__ import annotations

import io
import stat
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from flask import Flask

from tests.factories import SubmittedReportFactory
from tests.fixtures.images import make_jpeg, make_png
from tests.support.seaweed import BUCKET, SeaweedS3
from webapp.errors import NotFound
from webapp.infra.storage import PhotoStore, photo_store
from webapp.infra.storage.objects import (
    LocalStore,
    MissingObject,
    ObjectStore,
    S3Location,
    S3Store,
    check_name,
    open_store,
)
from webapp.services.intake.photo_limits import PhotoLimits
from webapp.services.intake.photos import process_photo

DA_NANG = (16.0544, 108.2022)


@pytest.fixture(params=["local", "s3"])
def objects(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "local":
        return LocalStore(tmp_path / "media")
    server: SeaweedS3 = request.getfixturevalue("seaweed")
    return open_store(server.storage_url(f"t-{uuid.uuid4().hex[:8]}"), "", "photos/")


@pytest.fixture
def store(objects: ObjectStore) -> PhotoStore:
    return PhotoStore(objects)


@pytest.fixture
def photo():
    return process_photo(make_jpeg(gps=DA_NANG), "photo.jpg", PhotoLimits())


def test_store_writes_three_objects_and_reads_them_back(store, photo):
    stored = store.store(photo)
    assert len(stored.key) == 32 and int(stored.key, 16) >= 0
    assert store.read_original(stored.key) == photo.original
    assert store.read_public(stored.key, "web") == photo.web
    assert store.read_public(stored.key, "thumb") == photo.thumb
    assert stored.original.startswith("originals/") and stored.original.endswith(".jpg")
    assert stored.web.startswith("public/") and stored.thumb.startswith("public/")
    names = sorted(name for name, _ in store.objects.entries())
    assert names == sorted([stored.original, stored.web, stored.thumb]), "nothing else left"


def test_original_never_lands_among_the_public_copies(store):
    stored = store.store(process_photo(make_png(gps=DA_NANG), "p.png", PhotoLimits()))
    assert stored.original.endswith(".png")
    public = [store.objects.get(name) for name, _ in store.objects.entries("public/")]
    assert len(public) == 2 and store.read_original(stored.key) not in public


def test_keys_are_unique(store, photo):
    assert store.store(photo).key != store.store(photo).key


def test_delete_removes_everything_and_is_idempotent(store, photo):
    stored, other = store.store(photo), store.store(photo)
    store.delete(stored.key)
    store.delete(stored.key)
    for read in (
        lambda: store.read_public(stored.key, "web"),
        lambda: store.read_original(stored.key),
    ):
        with pytest.raises(NotFound):
            read()
    assert store.read_original(other.key) == photo.original


@pytest.mark.parametrize(
    "key",
    ["../../etc/passwd", "..", "", "/etc/passwd", "ab/../../../../etc/passwd", "A" * 32,
     "a" * 31, "a" * 33, "a" * 31 + "/", "a" * 32 + "\n", "g" * 32, None],
)  # fmt: skip
def test_keys_from_urls_cannot_name_anything_else(store, photo, key):
    store.store(photo)
    for call in (
        lambda: store.read_public(key, "web"),
        lambda: store.read_original(key),
        lambda: store.delete(key),
    ):
        with pytest.raises(NotFound):
            call()


def test_a_variant_cannot_escape(store, photo):
    stored = store.store(photo)
    for variant in ("../originals", "original", "web/../../x", ""):
        with pytest.raises(NotFound):
            store.read_public(stored.key, variant)  # type: ignore[arg-type]


def test_a_failed_store_leaves_nothing_behind(store, photo, monkeypatch):
    real_put, calls = store.objects.put, []

    def flaky_put(name, data, **kw):
        calls.append(name)
        if len(calls) == 2:
            raise OSError("disk full")
        real_put(name, data, **kw)

    monkeypatch.setattr(store.objects, "put", flaky_put)
    with pytest.raises(OSError, match="disk full"):
        store.store(photo)
    assert list(store.objects.entries()) == []


def test_blurring_replaces_a_public_copy(store, photo):
    stored = store.store(photo)
    store.replace_public(stored.key, "web", b"blurred")
    assert store.read_public(stored.key, "web") == b"blurred"
    assert store.read_original(stored.key) == photo.original


@pytest.mark.parametrize("name", ["", "/etc/passwd", "../x", "a/../../x", "a//b", "./a"])
def test_object_names_cannot_leave_the_store(objects, name):
    with pytest.raises(ValueError):
        check_name(name)
    with pytest.raises(ValueError):
        objects.put(name, b"x", private=True, content_type="text/plain")


def test_put_file_entries_and_missing_objects(objects, tmp_path):
    source = tmp_path / "list.csv"
    source.write_bytes(b"a,b\n")
    objects.put_file("weekly/list.csv", source, private=True, content_type="text/csv")
    assert not source.exists(), "the local file is moved into the store"
    assert objects.get("weekly/list.csv") == b"a,b\n" and objects.exists("weekly/list.csv")
    [(name, written)] = list(objects.entries("weekly/"))
    assert name == "weekly/list.csv"
    assert abs(written - datetime.now(UTC)) < timedelta(minutes=5)
    with pytest.raises(MissingObject):
        objects.get("weekly/none.csv")
    assert not objects.exists("weekly/none.csv")


def test_local_originals_are_owner_only(tmp_path, photo):
    store = PhotoStore(LocalStore(tmp_path))
    stored = store.store(photo)
    assert stat.S_IMODE((tmp_path / stored.original).stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / stored.web).stat().st_mode) == 0o644
    assert store.public_file(stored.key, "web") == tmp_path / stored.web


def test_on_s3_nothing_is_public_without_a_signature(seaweed, photo):
    store = PhotoStore(open_store(seaweed.storage_url("private"), "", "photos/"))
    stored = store.store(photo)
    assert isinstance(store.objects, S3Store)
    for name in (stored.original, stored.web):
        plain = f"{seaweed.endpoint}/{BUCKET}/private/photos/{name}"
        assert httpx.get(plain).status_code == 403
    signed = store.public_url(stored.key, "web", seconds=60)
    assert signed is not None and httpx.get(signed).content == photo.web
    assert store.public_file(stored.key, "web") is None


def test_storage_urls_are_parsed_strictly():
    location = S3Location.parse("s3://bucket/a/b/?endpoint=http://h:8333&region=vn-1")
    assert (location.bucket, location.prefix, location.endpoint, location.region) == (
        "bucket",
        "a/b/",
        "http://h:8333",
        "vn-1",
    )
    assert S3Location.parse("s3://bucket").prefix == ""
    for bad in ("http://bucket/x", "s3:///x", "bucket"):
        with pytest.raises(ValueError):
            S3Location.parse(bad)


# -- two web processes, two disks, one object store ------------------------------------------


@pytest.fixture
def two_apps(app: Flask, app_config: dict, seaweed: SeaweedS3, tmp_path: Path) -> Iterator[tuple]:
    """Two apps on the same database and bucket, each with its own (empty) local folders."""
    from webapp import create_app

    url = seaweed.storage_url(f"shared-{uuid.uuid4().hex[:8]}")
    made = []
    for name in ("a", "b"):
        overrides = {
            **app_config,
            "STORAGE_URL": url,
            "UPLOAD_DIR": str(tmp_path / name / "uploads"),
            "EXPORT_DIR": str(tmp_path / name / "exports"),
        }
        made.append(create_app("testing", overrides=overrides))
    yield tuple(made)


def test_a_photo_stored_by_one_process_is_served_by_the_other(two_apps, tmp_path):
    first, second = two_apps
    jpeg = make_jpeg(gps=DA_NANG)
    response = first.test_client().post(
        "/api/v1/reports",
        data={
            "description": "Ổ gà lớn giữa đường Nguyễn Văn Linh",
            "photos": [(io.BytesIO(jpeg), "o-ga.jpg")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    with first.app_context():
        from webapp.services.intake.reports import get_by_code

        key = get_by_code(response.json["code"]).photos[0].key
        served_by_first = photo_store().read_public(key, "web")
    assert not any((tmp_path / "a").rglob("*.jpg")), "nothing on the first process's disk"
    page = second.test_client().get(f"/anh/{key}/web.jpg")
    assert page.status_code == 200 and page.data == served_by_first
    assert page.mimetype == "image/jpeg"


def test_an_export_written_by_a_worker_is_downloaded_from_another_process(two_apps, monkeypatch):
    from tests.backoffice.conftest import login, user
    from webapp.extensions import db
    from webapp.models import ExportJob
    from webapp.services.ioc.exports import jobs

    first, second = two_apps
    with first.app_context():
        SubmittedReportFactory(description="Rác thải chất đống ở chợ Cồn, bốc mùi")
        monkeypatch.setattr("webapp.infra.queue.enqueue", lambda *a: True)
        job = jobs.start_job(user("giamsat@demo.vn"), "reports", "csv", {"filter": {}})
        assert jobs.run_job(job.id) == "done"
        job_id = job.id
        assert db.session.get(ExportJob, job_id).status == "done"
    client = login(second.test_client(), "viewer")
    download = client.get(f"/ioc/xuat/{job_id}/tai-ve")
    assert download.status_code == 200
    assert "Rác thải chất đống" in download.data.decode("utf-8-sig")
