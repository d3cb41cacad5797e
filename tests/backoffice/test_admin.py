"""Administration in the browser's forms: changes land in the audit trail; admins only."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.backoffice.conftest import login
from webapp.extensions import db
from webapp.models import Agency, AuditEntry, Category, User


@pytest.fixture()
def restore_category(app):
    yield
    with app.app_context():
        cat = db.session.get(Category, "noise")
        cat.sla_normal_days = 3
        db.session.commit()


def test_admin_changes_an_sla_and_it_is_audited(app, client, restore_category):
    login(client, "admin")
    resp = client.post(
        "/bo/quan-tri/categories/sua/noise",
        data={
            "code": "noise",
            "name_vi": "Tiếng ồn",
            "name_en": "Noise",
            "default_urgency": "normal",
            "sla_urgent_hours": "4",
            "sla_normal_days": "2",
            "sla_complex_days": "10",
            "active": "on",
        },
    )
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.get(Category, "noise").sla_normal_days == 2
        entry = db.session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()))
        assert (entry.entity, entry.entity_id, entry.action) == ("categories", "noise", "update")
        assert entry.before["sla_normal_days"] == 3 and entry.after["sla_normal_days"] == 2
    assert "sla_normal_days" in client.get("/bo/quan-tri/").get_data(as_text=True)


def test_admin_creates_a_user_without_leaking_the_hash_into_the_trail(app, client):
    login(client, "admin")
    resp = client.post(
        "/bo/quan-tri/users/sua",
        data={
            "email": "canbo.moi@demo.vn",
            "name": "Cán bộ mới",
            "role": "agency_staff",
            "agency_id": "",
            "active": "on",
            "password": "mat-khau-dai-2026",
        },
    )
    assert resp.status_code == 302
    with app.app_context():
        created = db.session.scalar(select(User).where(User.email == "canbo.moi@demo.vn"))
        assert created.check_password("mat-khau-dai-2026")
        entry = db.session.scalar(
            select(AuditEntry).where(
                AuditEntry.entity == "users", AuditEntry.entity_id == str(created.id)
            )
        )
        assert "password" not in entry.after and "password_hash" not in entry.after
        db.session.delete(entry)
        db.session.delete(created)
        db.session.commit()


def test_invalid_value_is_refused_with_a_message(app, client):
    login(client, "admin")
    resp = client.post(
        "/bo/quan-tri/categories/sua/noise",
        data={"code": "noise", "name_vi": "Tiếng ồn", "name_en": "Noise", "sla_normal_days": "x"},
    )
    assert resp.status_code == 200 and "phải là số" in resp.get_data(as_text=True)


@pytest.mark.parametrize("role", ["staff", "lead", "operator", "viewer"])
def test_only_admins_administer(app, client, role):
    login(client, role)
    assert client.get("/bo/quan-tri/").status_code == 403
    assert client.post("/bo/quan-tri/categories/sua/noise", data={}).status_code == 403


def test_an_agency_is_set_to_its_own_system_and_the_secret_never_shows(app, client):
    login(client, "admin")
    with app.app_context():
        agency = db.session.scalar(select(Agency).where(Agency.code == "CVCX"))
        agency_id, name = agency.id, agency.name
    form = {"code": "CVCX", "name": name, "kind": "department", "active": "on",
            "delivery": "webhook", "delivery_url": "https://cayxanh.example.vn/hook",
            "delivery_secret": "bi-mat-rat-dai-0123456789"}  # fmt: skip
    assert client.post("/bo/quan-tri/agencies/sua/x", data=form).status_code == 404
    assert client.post(f"/bo/quan-tri/agencies/sua/{agency_id}", data=form).status_code == 302
    bad = client.post(f"/bo/quan-tri/agencies/sua/{agency_id}", data={**form, "delivery": "fax"})
    assert "Cách nhận phản ánh không hợp lệ" in bad.get_data(as_text=True)
    # Saved again with the secret left blank: it stays.
    kept = {**form, "delivery_secret": ""}
    assert client.post(f"/bo/quan-tri/agencies/sua/{agency_id}", data=kept).status_code == 302
    pages = client.get(f"/bo/quan-tri/agencies/sua/{agency_id}").get_data(as_text=True)
    pages += client.get("/bo/quan-tri/agencies").get_data(as_text=True)
    pages += client.get("/bo/quan-tri/").get_data(as_text=True)
    assert "bi-mat-rat-dai" not in pages
    with app.app_context():
        agency = db.session.get(Agency, agency_id)
        assert (
            agency.delivery == "webhook" and agency.delivery_secret == "bi-mat-rat-dai-0123456789"
        )
        trail = db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.entity == "agencies", AuditEntry.entity_id == str(agency_id)
            )
        ).all()
        assert trail and all("bi-mat" not in str(e.before) + str(e.after) for e in trail)
        agency.delivery, agency.delivery_url, agency.delivery_secret = "backoffice", None, None
        db.session.commit()
