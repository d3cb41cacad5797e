"""Consent at the intake points, codes by ZNS, and export files withdrawn by an erasure."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tests.backoffice.conftest import login
from tests.factories import AssignedReportFactory, ContactFactory
from webapp.extensions import db
from webapp.infra import storage
from webapp.models import ExportJob, OutboxMessage, Report, User
from webapp.models.types import utcnow
from webapp.services.intake import codes
from webapp.services.ioc.exports.jobs import job_file
from webapp.services.messaging import outbox
from webapp.services.privacy import erasure

FORM = {"description": "Cây xanh ngã chắn ngang đường Lê Duẩn", "address": "phường Hải Châu"}


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Report))


def test_the_web_form_needs_the_box_ticked_and_records_the_notice_version(ctx, client):
    page = client.post("/phan-anh", data=FORM)
    assert page.status_code == 422 and "đồng ý với thông báo" in page.get_data(as_text=True)
    assert FORM["description"] in page.get_data(as_text=True)  # the text is kept
    assert _count() == 0
    ctx.config["PRIVACY_NOTICE_VERSION"] = "2026-07"
    try:
        assert client.post("/phan-anh", data={**FORM, "consent": "on"}).status_code == 302
    finally:
        ctx.config["PRIVACY_NOTICE_VERSION"] = "2026-01"
    assert db.session.scalar(select(Report.consent_version)) == "2026-07"


def test_the_form_shows_the_notice_with_the_retention_figures(app, client):
    # No `ctx`: each request has its own app context, so its own language.
    app.config["RETENTION_IDENTITY_MONTHS"] = 18
    try:
        html = client.get("/").get_data(as_text=True)
    finally:
        app.config["RETENTION_IDENTITY_MONTHS"] = 24
    assert 'id="privacy-notice"' in html and "18 tháng sau khi phản ánh kết thúc" in html
    english = client.get("/?lang=en").get_data(as_text=True)
    assert "24 months after the report is closed" in english


def test_the_hotline_operator_confirms_the_notice_was_read(app, client):
    login(client, "operator")
    page = client.post("/bo/ioc/1022", data=FORM)
    assert page.status_code == 422 and 'id="hotline-notice"' in page.get_data(as_text=True)
    with app.app_context():
        assert _count() == 0
    assert client.post("/bo/ioc/1022", data={**FORM, "consent": "1"}).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Report.consent_version)) == "2026-01"


def test_a_phone_code_goes_by_zns_when_zns_comes_first(ctx, fake_zalo, monkeypatch):
    monkeypatch.setitem(ctx.config, "RESIDENT_FALLBACK", "zns,sms")
    monkeypatch.setitem(ctx.config, "ZNS_API_BASE_URL", fake_zalo.url)
    monkeypatch.setitem(ctx.config, "ZNS_TEMPLATES", "code=401")
    fake_zalo.zns_templates = {"401"}
    report = AssignedReportFactory(agency="CHIEUSANG", contact=None)
    codes.send("verify", codes.parse_address("0905 222 333"), report)
    db.session.commit()
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.channel == "zns"))
    outbox.deliver(message.id)
    [zns] = fake_zalo.zns
    assert zns["template_id"] == "401" and zns["phone"] == "84905222333"
    typed = zns["template_data"]["otp"]
    assert codes.check("verify", report, typed).value == "0905222333"


def test_an_erasure_withdraws_export_files_written_since_the_report(ctx, monkeypatch, tmp_path):
    monkeypatch.setitem(ctx.config, "EXPORT_DIR", str(tmp_path))
    report = AssignedReportFactory(agency="CHIEUSANG", contact=ContactFactory())
    viewer = db.session.scalar(select(User).where(User.email == "giamsat@demo.vn"))
    jobs = []
    for name, finished in (("before", report.created_at - timedelta(days=1)), ("after", utcnow())):
        job = ExportJob(user_id=viewer.id, kind="reports", fmt="csv", status="done",
                        file_name=f"{name}.csv", row_count=1, finished_at=finished)  # fmt: skip
        db.session.add(job)
        db.session.flush()
        storage.export_objects().put(job_file(job), b"x", private=True, content_type="text/csv")
        jobs.append(job)
    db.session.commit()
    done = erasure.erase_resident(report.resident)
    db.session.commit()
    assert done.exports == 1
    before, after = jobs
    assert before.status == "done" and storage.export_objects().exists(job_file(before))
    assert after.status == "expired" and not storage.export_objects().exists(job_file(after))
