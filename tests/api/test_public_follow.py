"""Someone with the same problem follows a report from its public page (where the web form's
"already reported nearby" list leads) instead of filing it again: a code to their e-mail or
phone first, then the report's news, as the bots' followers get them."""

from __future__ import annotations

from sqlalchemy import select

from tests.backoffice.conftest import USERS, user
from tests.factories import AssignedReportFactory
from webapp.extensions import db
from webapp.models import OutboxMessage, ReportFollower, ResidentIdentity
from webapp.services.casework import handling

NEIGHBOUR = "hang.xom@example.vn"


def _code(report) -> str:
    db.session.expire_all()
    row = db.session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.report_id == report.id, OutboxMessage.dedupe_key.like("code:%"))
        .order_by(OutboxMessage.id.desc())
    )
    assert row is not None and row.address == NEIGHBOUR
    return row.payload["template_data"]["otp"]


def test_a_neighbour_follows_with_a_proved_email_and_gets_the_news(ctx, client):
    report = AssignedReportFactory(agency="CHIEUSANG")
    page = client.get(f"/theo-doi/{report.code}").get_data(as_text=True)
    assert 'id="follow-form"' in page
    sent = client.post(f"/theo-doi/{report.code}/nhan-tin", data={"contact": NEIGHBOUR})
    assert sent.status_code == 200 and 'id="follow-code-form"' in sent.get_data(as_text=True)
    assert "h***@example.vn" in sent.get_data(as_text=True)
    assert db.session.scalar(select(ReportFollower)) is None, "nothing before the code"

    wrong = client.post(
        f"/theo-doi/{report.code}/xac-nhan", data={"contact": NEIGHBOUR, "code": "000000"}
    )
    assert wrong.status_code == 422
    code = _code(report)
    done = client.post(
        f"/theo-doi/{report.code}/xac-nhan", data={"contact": NEIGHBOUR, "code": code}
    )
    assert done.status_code == 200 and 'id="follow-done"' in done.get_data(as_text=True)
    identity = db.session.scalar(
        select(ResidentIdentity).join(
            ReportFollower, ReportFollower.identity_id == ResidentIdentity.id
        )
    )
    assert (identity.channel, identity.external_id) == ("email", NEIGHBOUR)

    handling.resolve(user(USERS["staff"]), report, "Đã thay bóng đèn mới.")
    db.session.commit()
    news = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.address == NEIGHBOUR, OutboxMessage.dedupe_key.like("evt:%:follower:%")
        )
    ).all()
    assert news and "Cập nhật phản ánh bạn đang theo dõi" in news[-1].body
    assert report.tracking_token not in news[-1].body, "the public page, never the author's link"


def test_garbage_and_closed_reports_are_refused_never_a_500(ctx, client):
    report = AssignedReportFactory(agency="CHIEUSANG")
    for contact in ("", "not an address", "x" * 500, "0123", "<script>@x"):
        answer = client.post(f"/theo-doi/{report.code}/nhan-tin", data={"contact": contact})
        assert answer.status_code == 422, contact
    answer = client.post(
        f"/theo-doi/{report.code}/xac-nhan", data={"contact": NEIGHBOUR, "code": "12"}
    )
    assert answer.status_code == 422
    assert (
        client.post("/theo-doi/PA-0000-000000/nhan-tin", data={"contact": NEIGHBOUR}).status_code
        == 404
    )
    handling.resolve(user(USERS["staff"]), report, "Đã xử lý xong.")
    db.session.commit()
    page = client.get(f"/theo-doi/{report.code}").get_data(as_text=True)
    assert 'id="follow-form"' not in page, "a closed report is not followed"
    closed = client.post(f"/theo-doi/{report.code}/nhan-tin", data={"contact": NEIGHBOUR})
    assert closed.status_code == 422


def test_one_report_page_cannot_send_codes_without_end(limits_on, ctx, client):
    report = AssignedReportFactory(agency="CHIEUSANG")
    answers = [
        client.post(
            f"/theo-doi/{report.code}/nhan-tin", data={"contact": f"nguoi{n}@example.vn"}
        ).status_code
        for n in range(11)
    ]
    assert answers == [200] * 10 + [429]
