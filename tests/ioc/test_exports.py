"""CSV/Excel exports: filtered lists (at once or in the background), KPI tables, weekly summary."""

from __future__ import annotations

import csv
import io
import os
import re
from datetime import date, timedelta

import openpyxl
import pytest
import time_machine
from sqlalchemy import func, select

from tests.factories import ReportFactory, ResidentFactory, UserFactory
from tests.ioc.conftest import agency, at, login, user
from tests.ioc.test_stats import NOW, hand_made_set
from webapp.extensions import db
from webapp.infra import storage
from webapp.models import AdminUnit, ExportJob, OutboxMessage, Report
from webapp.services.ioc import stats
from webapp.services.ioc.exports import kpi, lists, writers
from webapp.services.ioc.exports.jobs import job_file, start_job
from webapp.services.messaging import outbox
from workers.export_tasks import purge_exports as purge_exports_task
from workers.export_tasks import run_export
from workers.export_tasks import weekly_summary as weekly_summary_task

NAME, PHONE, EMAIL = "Lê Văn Danh Tính", "0912345678", "danh.tinh@example.vn"
FORMULA = '=HYPERLINK("http://evil.example","bấm vào đây")'


@pytest.fixture()
def listed(app):
    """Reports of two agencies, with a resident's identity and a formula-like description.

    Stored in a context of their own: requests must not share one (Flask-Login keeps the
    signed-in user in `g`, which would leak from one test client to the next).
    """
    with app.app_context():
        resident = ResidentFactory(display_name=NAME, phone=PHONE, email=EMAIL)
        light, waste = agency("CHIEUSANG"), agency("MTDT")
        for n in range(6):
            ReportFactory(
                agency_id=light.id, category_code="street_lighting", resident_id=resident.id,
                created_at=at(f"2026-03-0{n + 1} 08:00"), lat=16.07, lon=108.22,
                description=f"Đèn đường hỏng số {n}",
            )  # fmt: skip
        for n in range(4):
            ReportFactory(
                agency_id=waste.id, category_code="waste", resident_id=resident.id,
                created_at=at(f"2026-03-1{n} 08:00"), description=f"Rác thải chưa thu gom {n}",
            )  # fmt: skip
        ReportFactory(
            agency_id=waste.id, category_code="waste", description=FORMULA,
            created_at=at("2026-03-20 08:00"), resident_id=resident.id,
        )  # fmt: skip
        db.session.commit()
        ids = {"light": light.id, "waste": waste.id}
        db.session.remove()
    return ids


def _csv(resp) -> list[list[str]]:
    text = resp.get_data().decode("utf-8")
    assert text.startswith("\ufeff")  # Excel needs the BOM to read Vietnamese
    return list(csv.reader(io.StringIO(text[1:])))


def _xlsx(data: bytes) -> dict[str, list[tuple]]:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}


def _no_identity(blob: str) -> None:
    for secret in (NAME, PHONE, EMAIL):
        assert secret not in blob


def test_csv_of_a_filtered_list(app, listed):
    client = login(app.test_client(), "viewer")
    resp = client.post("/ioc/xuat", data={"fmt": "csv", "category": "waste"})
    assert resp.status_code == 200
    assert resp.headers["Content-Disposition"].startswith('attachment; filename="phan-anh-')
    rows = _csv(resp)
    assert rows[0][:4] == ["Mã phản ánh", "Thời điểm tiếp nhận", "Kênh", "Trạng thái"]
    assert len(rows) == 1 + 5
    assert {r[4] for r in rows[1:]} == {"Rác thải"}
    assert {r[5] for r in rows[1:]} == {"Công ty Cổ phần Môi trường đô thị Đà Nẵng"}
    assert rows[1][1] == "2026-03-10 15:00"  # local time
    # A resident's text never runs as a formula in a spreadsheet.
    assert "'" + FORMULA in [r[19] for r in rows[1:]]
    _no_identity(resp.get_data().decode("utf-8"))


def test_xlsx_of_a_filtered_list(app, listed):
    client = login(app.test_client(), "viewer")
    resp = client.post("/ioc/xuat", data={"fmt": "xlsx", "agency": str(listed["light"])})
    assert resp.status_code == 200
    assert resp.mimetype == writers.MIMETYPES["xlsx"]
    sheets = _xlsx(resp.get_data())
    rows = sheets["Phản ánh"]
    assert rows[0][0] == "Mã phản ánh" and len(rows) == 1 + 6
    assert sorted(r[19] for r in rows[1:]) == [f"Đèn đường hỏng số {n}" for n in range(6)]
    assert all(r[6] for r in rows[1:])  # the ward the points lie in
    _no_identity(repr(sheets))


def test_xlsx_keeps_formula_like_text_as_text(app, listed):
    client = login(app.test_client(), "viewer")
    resp = client.post("/ioc/xuat", data={"fmt": "xlsx", "from": "2026-03-20", "to": "2026-03-20"})
    wb = openpyxl.load_workbook(io.BytesIO(resp.get_data()))
    cell = wb["Phản ánh"].cell(row=2, column=20)
    assert cell.value == FORMULA and cell.data_type == "s"


def test_agency_staff_export_only_their_reports_and_no_identity(app, listed):
    client = login(app.test_client(), "other_staff")  # MTDT
    form = client.get("/ioc/xuat").get_data(as_text=True)
    assert "5 phản ánh" in form
    rows = _csv(client.post("/ioc/xuat", data={"fmt": "csv"}))
    assert len(rows) == 1 + 5
    assert {r[5] for r in rows[1:]} == {"Công ty Cổ phần Môi trường đô thị Đà Nẵng"}
    _no_identity(repr(rows))


def test_large_lists_are_exported_in_the_background(app, listed, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "EXPORT_BACKGROUND_ROWS", 3)
    monkeypatch.setitem(app.config, "EXPORT_DIR", str(tmp_path))
    queued = []
    monkeypatch.setattr(
        "webapp.infra.queue.enqueue", lambda name, *args: queued.append((name, args)) or True
    )
    client = login(app.test_client(), "staff")  # CHIEUSANG: 6 reports, more than 3
    assert "trong nền" in client.get("/ioc/xuat").get_data(as_text=True)
    resp = client.post("/ioc/xuat", data={"fmt": "xlsx"})
    assert resp.status_code == 302
    job_id = int(re.search(r"/ioc/xuat/(\d+)$", resp.headers["Location"]).group(1))
    assert queued == [("workers.export_tasks.run_export", (job_id,))]
    page = client.get(f"/ioc/xuat/{job_id}").get_data(as_text=True)
    assert 'data-status="pending"' in page and 'data-poll="5"' in page  # export-job.js asks again
    assert client.get(f"/ioc/xuat/{job_id}/tai-ve").status_code == 409

    # The worker's task, run here directly (the Celery task function itself).
    with app.app_context():
        assert run_export.run(job_id) == "done"
        assert run_export.run(job_id) == "done"  # safe to run twice
        job = db.session.get(ExportJob, job_id)
        assert (job.status, job.row_count, job.fmt) == ("done", 6, "xlsx")
        assert (tmp_path / job_file(job)).is_file()

    status = client.get(f"/ioc/xuat/{job_id}?json=1").get_json()
    assert status["status"] == "done" and status["download_url"].endswith("/tai-ve")
    download = client.get(f"/ioc/xuat/{job_id}/tai-ve")
    assert download.status_code == 200
    rows = _xlsx(download.get_data())["Phản ánh"]
    assert len(rows) == 1 + 6
    _no_identity(repr(rows))

    # Only the requester and the IOC may fetch it.
    assert (
        login(app.test_client(), "other_staff").get(f"/ioc/xuat/{job_id}/tai-ve").status_code == 404
    )
    assert login(app.test_client(), "viewer").get(f"/ioc/xuat/{job_id}/tai-ve").status_code == 200
    assert app.test_client().get(f"/ioc/xuat/{job_id}/tai-ve").status_code == 302


def test_background_csv_and_failure(app, listed, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "EXPORT_DIR", str(tmp_path))
    with app.app_context():
        viewer = user("giamsat@demo.vn")
        monkeypatch.setattr("webapp.infra.queue.enqueue", lambda *a: True)
        job = start_job(viewer, "reports", "csv", {"filter": {"category": "waste"}})
        assert run_export.run(job.id) == "done"
        job = db.session.get(ExportJob, job.id)
        text = storage.export_objects().get(job_file(job)).decode("utf-8-sig")
        assert job.row_count == 5 and len(list(csv.reader(io.StringIO(text)))) == 6
        broken = start_job(viewer, "kpi", "csv", {})
        assert run_export.run(broken.id) == "failed"
        assert db.session.get(ExportJob, broken.id).status == "failed"
        monkeypatch.setattr("webapp.infra.queue.enqueue", lambda *a: False)
        refused = start_job(viewer, "reports", "csv", {})
        assert refused.status == "failed"  # the broker is down: say so instead of waiting


def _march_set(app) -> str:
    with app.app_context():
        a, b = agency("CHIEUSANG"), agency("MTDT")
        wards = db.session.scalars(
            select(AdminUnit.code).where(AdminUnit.level == "ward").order_by(AdminUnit.code)
        ).all()
        hand_made_set(a.id, b.id, wards[0], wards[1])
        name = a.name
        db.session.remove()
    return name


def test_kpi_tables_as_csv_and_xlsx(app):
    light_name = _march_set(app)
    with time_machine.travel(NOW, tick=False):  # signed in then: the session cookie is dated
        client = login(app.test_client(), "viewer")
        rows = _csv(client.get("/ioc/chi-so/xuat?fmt=csv&by=agency&from=2026-03-01&to=2026-03-31"))
        book = _xlsx(client.get("/ioc/chi-so/xuat?fmt=xlsx&from=2026-03-01&to=2026-03-31").data)
    assert rows[0][:5] == ["Đơn vị", "Tiếp nhận", "Đã xử lý", "Đang xử lý", "Quá hạn"]
    light = next(r for r in rows if r[0] == light_name)
    # received, resolved, open, overdue, on time, late, late+ext, no deadline, rate, medians, rating
    assert light[1:14] == [
        "6",
        "4",
        "2",
        "1",
        "1",
        "2",
        "1",
        "0",
        "20.0",
        "4.0",
        "144.0",
        "3.0",
        "3",
    ]
    assert list(book) == [
        "Toàn tỉnh",
        "Theo cơ quan",
        "Theo lĩnh vực",
        "Theo xã, phường",
        "Theo tuần",
    ]
    total = book["Toàn tỉnh"]
    assert total[0][0] == "Phản ánh tiếp nhận từ 01/03/2026 – 31/03/2026"
    assert total[3][:9] == ("Toàn tỉnh", 9, 5, 3, 1, 2, 2, 1, 0)
    weeks = book["Theo tuần"]
    assert [r[1] for r in weeks[3:]] == [0, 6, 2, 0, 0, 1]


def test_weekly_summary_for_the_leadership(app):
    _march_set(app)
    with time_machine.travel(at("2026-03-11 02:00"), tick=False):  # Wednesday of the next week
        client = login(app.test_client(), "viewer")
        assert stats.Period.last_week() == stats.Period(date(2026, 3, 2), date(2026, 3, 8))
        resp = client.get("/ioc/chi-so/tong-hop-tuan.xlsx")
    assert resp.status_code == 200
    assert "tong-hop-tuan-20260302-20260308.xlsx" in resp.headers["Content-Disposition"]
    book = _xlsx(resp.get_data())
    assert list(book) == ["Toàn tỉnh", "Theo cơ quan", "Theo lĩnh vực", "Đang quá hạn"]
    assert book["Theo cơ quan"][0][0] == "Báo cáo tổng hợp xử lý phản ánh tuần"
    agencies = {r[0]: r for r in book["Theo cơ quan"][5:]}
    assert agencies["Công ty Chiếu sáng và Thiết bị đô thị"][1:8] == (6, 4, 2, 1, 1, 2, 1)
    overdue = book["Đang quá hạn"]
    assert overdue[4][:2] == ("Công ty Chiếu sáng và Thiết bị đô thị", 1)


def test_csv_and_xlsx_on_sqlite(lite):
    """Exports work on the embedded default too (no identity there either)."""
    from webapp.models import Agency

    a = db.session.scalar(select(Agency).where(Agency.code == "A"))
    ReportFactory(agency_id=a.id, category_code="waste", created_at=at("2026-03-02 08:00"),
                  due_at=at("2026-03-03 08:00"), resolved_at=at("2026-03-02 20:00"),
                  status="resolved", description=FORMULA)  # fmt: skip
    db.session.commit()
    ioc = UserFactory.build(ioc_viewer=True)
    rows = list(lists.report_rows(ioc, lists.ReportFilter()))
    assert len(rows) == 1 and rows[0][16] == "Đúng hạn" and rows[0][19] == FORMULA
    text = b"".join(writers.csv_chunks(["x"] * 21, rows)).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text)))[1][19] == "'" + FORMULA
    book = kpi.kpi_export(stats.Period(date(2026, 3, 1), date(2026, 3, 31)), None, "xlsx")
    assert _xlsx(book.body)["Toàn tỉnh"][3][:3] == ("Toàn tỉnh", 1, 1)


def _created_between(start: str, end: str) -> int:
    """Reports created in [start, end) by a plain count, to check the mail's figure."""
    return db.session.scalar(
        select(func.count()).where(Report.created_at >= at(start), Report.created_at < at(end))
    )


def test_weekly_summary_is_mailed_to_the_leadership_once(app, smtp, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "LEADERSHIP_EMAILS", "chutich@dn.example.vn; vp@dn.example.vn")
    monkeypatch.setitem(app.config, "EXPORT_DIR", str(tmp_path))
    light_name = _march_set(app)
    # Wednesday 11 March 2026 (a late run: last week is still 2–8 March); one report overdue.
    with app.app_context(), time_machine.travel(at("2026-03-11 02:00"), tick=False):
        assert weekly_summary_task() == 2
        assert weekly_summary_task() == 0, "a second run the same week sends nothing"
        mails = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient_kind == "leadership")
        ).all()
        assert [outbox.deliver(m.id) for m in mails] == ["sent", "sent"]
        # Local 2 March 00:00 to 9 March 00:00 is UTC 1 March 17:00 to 8 March 17:00.
        received = _created_between("2026-03-01 17:00", "2026-03-08 17:00")
    assert received > 0
    assert sorted(m["To"] for m in smtp.messages) == ["chutich@dn.example.vn", "vp@dn.example.vn"]
    mail = smtp.messages[0]
    assert "02/03 – 08/03/2026" in mail["Subject"]
    body = mail.get_body(("plain",)).get_content()
    assert f"- Tiếp nhận: {received}\n" in body
    assert f"- {light_name}: 1 phản ánh" in body  # overdue at the moment of sending
    [part] = list(mail.iter_attachments())
    assert part.get_filename() == "tong-hop-tuan-20260302-20260308.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(part.get_content()), read_only=True)
    assert book.sheetnames == ["Toàn tỉnh", "Theo cơ quan", "Theo lĩnh vực", "Đang quá hạn"]


def test_weekly_summary_without_addresses_or_file_fails_softly(app, monkeypatch, tmp_path, smtp):
    monkeypatch.setitem(app.config, "EXPORT_DIR", str(tmp_path))
    with app.app_context():
        monkeypatch.setitem(app.config, "LEADERSHIP_EMAILS", "")
        assert weekly_summary_task() == 0
        monkeypatch.setitem(app.config, "LEADERSHIP_EMAILS", "chutich@dn.example.vn")
        assert weekly_summary_task() == 1
        [mail] = db.session.scalars(select(OutboxMessage)).all()
        for path in tmp_path.glob("weekly/*"):
            path.unlink()  # removed before the e-mail went out
        assert outbox.deliver(mail.id) == "failed"
        db.session.refresh(mail)
        assert "missing" in mail.last_error and mail.status == "failed"
        escape = {"file": "../../etc/passwd", "filename": "passwd", "mimetype": "text/plain"}
        mail.payload = {"attachment": escape}
        db.session.commit()
        assert outbox.deliver(mail.id) == "failed"
        db.session.refresh(mail)
        assert "outside the exports directory" in mail.last_error
    assert smtp.messages == []


def test_old_export_files_are_purged_and_their_jobs_expire(app, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "EXPORT_DIR", str(tmp_path))
    monkeypatch.setitem(app.config, "EXPORT_KEEP_DAYS", 7)
    with app.app_context():
        viewer = user("giamsat@demo.vn")
        jobs = {}
        for name, age in (("old", 8), ("recent", 2)):
            job = ExportJob(user_id=viewer.id, kind="reports", fmt="csv", status="done",
                            file_name=f"{name}.csv", row_count=1,
                            finished_at=at("2026-03-20 00:00") - timedelta(days=age))  # fmt: skip
            db.session.add(job)
            db.session.flush()
            (tmp_path / job_file(job)).write_text("x")
            jobs[name] = job.id
        weekly = tmp_path / "weekly"
        weekly.mkdir()
        (weekly / "old.xlsx").write_bytes(b"x")
        old = at("2026-03-10 00:00").timestamp()
        os.utime(weekly / "old.xlsx", (old, old))
        db.session.commit()
        with time_machine.travel(at("2026-03-20 00:00"), tick=False):
            assert purge_exports_task() == 2
        old_job, recent_job = (db.session.get(ExportJob, jobs[k]) for k in ("old", "recent"))
        assert (old_job.status, recent_job.status) == ("expired", "done")
        assert not (tmp_path / job_file(old_job)).exists()
        assert (tmp_path / job_file(recent_job)).exists()
        assert not (weekly / "old.xlsx").exists()
    client = login(app.test_client(), "viewer")
    page = client.get(f"/ioc/xuat/{jobs['old']}").get_data(as_text=True)
    assert "Tệp đã được xoá sau 7 ngày" in page
    assert client.get(f"/ioc/xuat/{jobs['old']}/tai-ve").status_code in (404, 409)


def test_beat_schedules_the_weekly_summary_and_the_cleanup(app):
    celery = app.extensions["celery"]
    schedule = celery.conf.beat_schedule
    assert schedule["weekly-summary"]["task"] in celery.tasks
    assert schedule["export-cleanup"]["task"] in celery.tasks
    weekly = schedule["weekly-summary"]["schedule"]
    assert (weekly.day_of_week, weekly.hour, weekly.minute) == ({1}, {7}, {0})
