"""Partners' API keys in the back office: issued once, listed without the key, revoked,
audited under the administrator's name; administrators only."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import delete, func, select, update

from tests.backoffice.conftest import USERS, agency, login, user
from webapp.errors import PermissionDenied
from webapp.extensions import db
from webapp.models import AuditEntry, Partner, Report
from webapp.services.partners import keys

PAGE = "/bo/quan-tri/doi-tac"
ONCE = "Sao chép khóa này ngay: nó sẽ không được hiển thị lại"
HAI_CHAU = ("16.0700", "108.2246")


@pytest.fixture()
def cleanup(app):
    """Partners and their audit lines are not transient tables: remove those a test made."""
    with app.app_context():
        before = db.session.scalar(select(func.coalesce(func.max(Partner.id), 0)))
    yield
    with app.app_context():
        made = select(Partner.id).where(Partner.id > before)
        ids = [str(i) for i in db.session.scalars(made)]
        # A report posted with the key still names its partner (reports go after this).
        db.session.execute(update(Report).where(Report.partner_id > before).values(partner_id=None))
        db.session.execute(
            delete(AuditEntry).where(AuditEntry.entity == "partners", AuditEntry.entity_id.in_(ids))
        )
        db.session.execute(delete(Partner).where(Partner.id > before))
        db.session.commit()


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Partner.id)))


def _issue(client, app, name: str = "Hệ thống Chiếu sáng") -> tuple[int, str, int]:
    """Issue a key with submit + CHIEUSANG's scope: (partner id, key, agency id)."""
    with app.app_context():
        agency_id = agency("CHIEUSANG").id
    resp = client.post(PAGE, data={"name": name, "scope": ["submit"], "agency": str(agency_id)})
    assert resp.status_code == 200, resp.data
    html = resp.get_data(as_text=True)
    assert ONCE in html and "no-store" in resp.headers["Cache-Control"]
    key = re.search(r'id="new-key-value" value="([^"]+)"', html).group(1)
    with app.app_context():
        partner = db.session.scalar(select(Partner).where(Partner.key_prefix == key[:8]))
        return partner.id, key, agency_id


def test_an_admin_issues_a_key_shown_once_stored_hashed_and_working(app, client, cleanup):
    login(client, "admin")
    partner_id, key, agency_id = _issue(client, app)
    assert key.startswith("pa_") and len(key) > 30
    with app.app_context():
        partner = db.session.get(Partner, partner_id)
        assert partner.key_hash != key and key not in partner.key_hash
        assert partner.scope_list == [f"agency:{agency_id}", "submit"] and partner.active
        assert partner.created_by_id == user(USERS["admin"]).id
        agency_name = agency("CHIEUSANG").name
    # The key posts a report through Open311 and the use is counted.
    answer = client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": key,
            "service_code": "street_lighting",
            "description": "Đèn đường trước số 12 Trần Phú không sáng ba đêm nay",
            "lat": HAI_CHAU[0],
            "long": HAI_CHAU[1],
        },
    )
    assert answer.status_code == 201, answer.data
    # The list shows the prefix, the scopes in words, the use; never the key again.
    listed = client.get(PAGE)
    page = listed.get_data(as_text=True)
    assert listed.status_code == 200
    assert key not in page and ONCE not in page
    row = re.search(rf'<tr id="partner-{partner_id}".*?</tr>', page, re.S).group(0)
    assert f"{key[:8]}…" in row and agency_name in row and "Gửi phản ánh" in row
    assert re.search(r'class="uses">1<', row) and "Đang hoạt động" in row
    assert key not in client.get("/bo/quan-tri/").get_data(as_text=True)


def test_revoking_stops_the_key_and_both_changes_name_the_admin(app, client, cleanup):
    login(client, "admin")
    partner_id, key, _agency_id = _issue(client, app, "Nền tảng chia sẻ dữ liệu tỉnh")
    revoke = f"{PAGE}/{partner_id}/thu-hoi"
    unconfirmed = client.post(revoke, data={})
    assert unconfirmed.status_code == 422
    assert "Đánh dấu ô xác nhận" in unconfirmed.get_data(as_text=True)
    with app.app_context():
        assert keys.authenticate(key, "submit").id == partner_id
        db.session.commit()
    resp = client.post(revoke, data={"confirm": "yes"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(PAGE)
    page = client.get(PAGE).get_data(as_text=True)
    row = re.search(rf'<tr id="partner-{partner_id}".*?</tr>', page, re.S).group(0)
    assert "Đã thu hồi" in row and "thu-hoi" not in row
    with app.app_context():
        with pytest.raises(PermissionDenied):
            keys.authenticate(key, "submit")
        partner = db.session.get(Partner, partner_id)
        assert not partner.active and partner.revoked_at is not None
        admin_id = user(USERS["admin"]).id
        trail = db.session.execute(
            select(AuditEntry.action, AuditEntry.actor_id).where(
                AuditEntry.entity == "partners", AuditEntry.entity_id == str(partner_id)
            )
        ).all()
        assert sorted(trail) == [("create", admin_id), ("revoke", admin_id)]
        assert all(key not in str(e.after) for e in db.session.scalars(select(AuditEntry)))
    # Revoked twice: no second line in the trail.
    assert client.post(revoke, data={"confirm": "yes"}).status_code == 302
    with app.app_context():
        again = select(func.count(AuditEntry.id)).where(
            AuditEntry.entity == "partners", AuditEntry.entity_id == str(partner_id)
        )
        assert db.session.scalar(again) == 2


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "  ", "scope": ["submit"]}, "Cần tên của hệ thống đối tác."),
        ({"name": "Cổng dữ liệu tỉnh"}, "Cần ít nhất một phạm vi."),
        ({"name": "Cổng dữ liệu tỉnh", "scope": ["admin"]}, "Cần ít nhất một phạm vi."),
        ({"name": "Cổng dữ liệu tỉnh", "agency": "999999"}, "Phạm vi không hợp lệ"),
        ({"name": "Cổng dữ liệu tỉnh", "agency": "x' OR 1=1"}, "Phạm vi không hợp lệ"),
    ],
)
def test_a_bad_form_is_refused_with_a_message_and_nothing_stored(
    app, client, cleanup, form, message
):
    login(client, "admin")
    before = _count(app)
    resp = client.post(PAGE, data=form)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and message in html
    assert ONCE not in html and 'id="new-key-value"' not in html
    assert _count(app) == before


def test_the_error_is_in_english_for_an_english_reader(app, client, cleanup):
    login(client, "admin")
    resp = client.post(PAGE, data={"name": "Portal"}, query_string={"lang": "en"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "At least one scope is needed." in html
    assert "Partner systems' API keys" in html.replace("&#39;", "'")


@pytest.mark.parametrize("partner_id", ["999999", "x", "-1", "1.5", "99999999999999999999"])
def test_an_unknown_or_garbage_id_is_404(app, client, partner_id):
    login(client, "admin")
    assert client.post(f"{PAGE}/{partner_id}/thu-hoi", data={"confirm": "yes"}).status_code == 404


@pytest.mark.parametrize("role", ["staff", "lead", "operator", "viewer"])
def test_only_admins_manage_keys(app, client, cleanup, role):
    login(client, role)
    before = _count(app)
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, data={"name": "X", "scope": ["submit"]}).status_code == 403
    assert client.post(f"{PAGE}/1/thu-hoi", data={"confirm": "yes"}).status_code == 403
    assert _count(app) == before


def test_the_admin_home_links_the_page(app, client):
    login(client, "admin")
    assert 'href="/bo/quan-tri/doi-tac"' in client.get("/bo/quan-tri/").get_data(as_text=True)


def test_signed_out_visitors_are_sent_to_the_login(app, client):
    resp = client.get(PAGE)
    assert resp.status_code in (302, 401)
