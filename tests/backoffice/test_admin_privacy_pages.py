"""Administrators' pages on residents' messages and data: the paid channels' monthly budgets,
and the register of personal-data processing activities."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from itertools import count

import pytest

from tests.backoffice.conftest import login
from webapp.extensions import db
from webapp.models import OutboxMessage, OutboxStatus
from webapp.models.types import utcnow
from webapp.services.messaging import budgets, fallback

BUDGETS = "/bo/quan-tri/ngan-sach-tin-nhan"
ACTIVITIES = "/bo/quan-tri/du-lieu-ca-nhan"
_keys = count(1)


def _row(
    channel: str,
    status: str,
    when: datetime,
    recipient_kind: str = "resident",
    last_error: str | None = None,
) -> OutboxMessage:
    """An outbox row as delivery leaves it: sent at `when`, or last tried at `when`."""
    return OutboxMessage(
        dedupe_key=f"budget-test-{next(_keys)}>{channel}",
        recipient_kind=recipient_kind,
        channel=channel,
        address="0905000000",
        body="Phản ánh của bạn đã được xử lý.",
        status=status,
        attempts=1,
        sent_at=when if status == OutboxStatus.SENT else None,
        last_error=last_error,
        created_at=when,
        updated_at=when,
    )


@pytest.fixture()
def month_of_messages(app, monkeypatch):
    """zns: 3 of 3 sent (exhausted) and one dead; sms: 2 of 10 sent; zalo_transaction: no
    budget, 1 sent; last month's rows and one pending row that must not count; one resident
    message this month (and one last month) that found no way left."""
    monkeypatch.setitem(app.config, "MESSAGE_BUDGETS", "zns=3, sms=10, zms=7")
    with app.app_context():
        now = utcnow()
        last_month = fallback.month_start(now) - timedelta(days=2)
        no_way = (
            f"Undeliverable: zalo: outside the window | {fallback.NO_WAY_LEFT}; sms: no address"
        )
        db.session.add_all(
            [
                *(_row("zns", OutboxStatus.SENT, now) for _ in range(3)),
                _row("zns", OutboxStatus.DEAD, now, last_error="Undeliverable: template"),
                _row("zns", OutboxStatus.PENDING, now),
                *(_row("sms", OutboxStatus.SENT, now) for _ in range(2)),
                _row("sms", OutboxStatus.SENT, last_month),
                _row("sms", OutboxStatus.FAILED, last_month, last_error="HTTPError: 502"),
                _row("zalo_transaction", OutboxStatus.SENT, now),
                _row("email", OutboxStatus.SENT, now, recipient_kind="agency"),
                _row("zalo", OutboxStatus.DEAD, now, last_error=no_way),
                _row("telegram", OutboxStatus.DEAD, last_month, last_error=no_way),
                _row("email", OutboxStatus.DEAD, now, last_error="SMTPError: refused"),
            ]
        )
        db.session.commit()


def _cells(page: str, channel: str) -> dict[str, str]:
    """The cells of one channel's row on the budget page, by class, as text."""
    row = page.split(f'id="budget-{channel}"', 1)[1].split("</tr>", 1)[0]
    return {
        name: re.sub(r"<[^>]+>", "", html).strip()
        for name, html in re.findall(r'<td class="([a-z]+)">(.*?)</td>', row, re.S)
    }


@pytest.mark.parametrize("url", [BUDGETS, ACTIVITIES])
@pytest.mark.parametrize("role", ["staff", "lead", "operator", "viewer"])
def test_only_administrators_open_the_pages(app, role, url):
    assert login(app.test_client(), role).get(url).status_code == 403


@pytest.mark.parametrize("url", [BUDGETS, ACTIVITIES])
def test_anonymous_visitors_are_sent_to_login(client, url):
    resp = client.get(url)
    assert resp.status_code == 302 and "/bo/login" in resp.location


def test_the_admin_home_links_to_both_pages(app):
    page = login(app.test_client(), "admin").get("/bo/quan-tri/").get_data(as_text=True)
    assert f'href="{BUDGETS}"' in page and f'href="{ACTIVITIES}"' in page


def test_the_summary_counts_this_month_only(app, month_of_messages):
    with app.app_context():
        summary = budgets.budget_summary()
    by_channel = {c.channel: c for c in summary.channels}
    assert list(by_channel) == ["zalo_transaction", "zns", "sms"]
    zns, sms, zalo = by_channel["zns"], by_channel["sms"], by_channel["zalo_transaction"]
    assert (zns.budget, zns.sent, zns.failed, zns.remaining) == (3, 3, 1, 0)
    assert zns.exhausted and zns.share_used == 1.0 and zns.percent_used == 100
    assert (sms.budget, sms.sent, sms.failed, sms.remaining) == (10, 2, 0, 8)
    assert not sms.exhausted and sms.share_used == pytest.approx(0.2) and sms.percent_used == 20
    assert (zalo.budget, zalo.sent, zalo.remaining, zalo.share_used) == (None, 1, None, None)
    assert zalo.unlimited and not zalo.exhausted
    assert summary.no_way_left == 1
    assert summary.unknown == ["zms"] and summary.any_exhausted


def test_the_page_shows_each_channel_and_flags_the_exhausted_one(app, month_of_messages):
    page = login(app.test_client(), "admin").get(BUDGETS)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    zns, sms, zalo = (_cells(html, c) for c in ("zns", "sms", "zalo_transaction"))
    assert (zns["budget"], zns["sent"], zns["failed"], zns["remaining"]) == ("3", "3", "1", "0")
    assert "100%" in zns["used"] and zns["state"] == "Đã hết ngân sách"
    assert (sms["budget"], sms["sent"], sms["failed"], sms["remaining"]) == ("10", "2", "0", "8")
    assert "20%" in sms["used"] and sms["state"] == "Còn ngân sách"
    assert zalo["budget"] == "Không giới hạn" and zalo["sent"] == "1"
    assert '<meter min="0" max="1"' in html and 'id="budget-exhausted-note"' in html
    assert "<caption>" in html and 'scope="col"' in html
    assert re.search(r'id="no-way-left"><strong>1</strong>', html)
    assert "zms" in html.split('id="budget-unknown"')[1].split("</p>")[0]


def test_a_larger_budget_lifts_the_flag(app, month_of_messages, monkeypatch):
    monkeypatch.setitem(app.config, "MESSAGE_BUDGETS", "zns=4,sms=2")
    html = login(app.test_client(), "admin").get(BUDGETS).get_data(as_text=True)
    zns, sms = _cells(html, "zns"), _cells(html, "sms")
    assert (zns["remaining"], zns["state"]) == ("1", "Còn ngân sách")
    assert (sms["remaining"], sms["state"]) == ("0", "Đã hết ngân sách")
    # Not `"zms" not in html`: a random nonce or token on the page can hold those letters.
    assert 'id="budget-unknown"' not in html


def test_the_register_shows_the_settings(app, monkeypatch):
    monkeypatch.setitem(app.config, "RETENTION_IDENTITY_MONTHS", 37)
    monkeypatch.setitem(app.config, "RETENTION_PHOTO_MONTHS", 5)
    monkeypatch.setitem(app.config, "PRIVACY_CONTROLLER", "Sở Thông tin Thử nghiệm")
    monkeypatch.setitem(app.config, "PRIVACY_CONTACT", "dulieu@thu.example.vn")
    monkeypatch.setitem(app.config, "PRIVACY_NOTICE_VERSION", "2031-07")
    page = login(app.test_client(), "admin").get(ACTIVITIES)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Danh mục hoạt động xử lý dữ liệu cá nhân" in html
    retention = html.split('id="retention"')[1].split("</ul>")[0]
    assert "37 tháng" in retention and "5 tháng" in retention
    assert "Xóa 37 tháng sau khi phản ánh được đóng" in html.split('id="activity-identity"')[1]
    assert "Ảnh gốc xóa 5 tháng" in html.split('id="activity-reports"')[1]
    assert 'href="#luu-tru"' in html and 'id="luu-tru"' in html
    assert "Sở Thông tin Thử nghiệm" in html and "dulieu@thu.example.vn" in html
    assert "phiên bản thông báo 2031-07" in html
    assert "24 tháng" not in html and "12 tháng" not in html
    for item in ("Họ tên", "Số điện thoại", "E-mail", "Mã người dùng Telegram hoặc Zalo"):
        assert item in html.split('id="activity-identity"')[1].split("</table>")[0]
    assert "EXIF" in html and "mã băm có khóa" in html
    assert "/dulieu" in html and "/xoadulieu" in html
    assert 'href="/bo/quan-tri/truy-cap-danh-tinh"' in html
    for processor in ("telegram", "zalo", "sms", "email"):
        assert f'id="processor-{processor}"' in html


def test_processors_show_hosts_only(app, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_URL", "https://user:pw@sms.example.vn/send?key=secret")
    monkeypatch.setitem(app.config, "SMTP_HOST", "")
    html = login(app.test_client(), "admin").get(ACTIVITIES).get_data(as_text=True)
    sms = html.split('id="processor-sms"')[1].split("</tr>")[0]
    assert "<code>sms.example.vn</code>" in sms and "secret" not in html and "pw@" not in html
    assert "Chưa cấu hình" in html.split('id="processor-email"')[1].split("</tr>")[0]


def test_the_register_in_english(app, monkeypatch):
    monkeypatch.setitem(app.config, "RETENTION_IDENTITY_MONTHS", 30)
    monkeypatch.setitem(app.config, "RETENTION_PHOTO_MONTHS", 9)
    client = login(app.test_client(), "admin")
    html = client.get(f"{ACTIVITIES}?lang=en").get_data(as_text=True)
    assert "Register of personal data processing activities" in html
    assert "Danh mục hoạt động" not in html and "Cơ sở pháp lý" not in html
    retention = html.split('id="retention"')[1].split("</ul>")[0]
    assert "30 months" in retention and "9 months" in retention
    assert "Legal basis" in html and "Consent of the resident" in html
    budgets_page = client.get(BUDGETS).get_data(as_text=True)
    assert "Monthly message budgets" in budgets_page and "Ngân sách" not in budgets_page


@pytest.mark.parametrize("url", [BUDGETS, ACTIVITIES])
def test_pages_have_no_inline_script_or_style(app, month_of_messages, url):
    html = login(app.test_client(), "admin").get(url).get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert not re.search(r"\sstyle\s*=", html) and "<style" not in html
