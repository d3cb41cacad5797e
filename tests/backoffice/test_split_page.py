"""The operator sees the problems the NLU found in one message and splits the report."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.backoffice.conftest import login
from tests.factories import SubmittedReportFactory
from webapp.extensions import db
from webapp.models import Report, ReportStatus
from webapp.services.casework import workflow

TWO = "Đèn đường tắt cả tuần nay và rác chất đống đầu hẻm không ai dọn"


def _waiting(app) -> str:
    with app.app_context():
        report = SubmittedReportFactory(description=TWO)
        report.nlu_problems = [
            ["Đèn đường tắt cả tuần nay", "street_lighting"],
            ["rác chất đống đầu hẻm không ai dọn", "waste"],
        ]
        workflow.transition(report, ReportStatus.NEEDS_TRIAGE, actor_label="nlu")
        db.session.commit()
        return report.code


def test_the_operator_splits_from_the_report_page(app, client):
    code = _waiting(app)
    login(client, "operator")
    page = client.get(f"/bo/r/{code}").get_data(as_text=True)
    assert 'id="problems"' in page and "rác chất đống đầu hẻm không ai dọn" in page
    assert "Tách thành 2 phản ánh" in page
    answer = client.post(f"/bo/r/{code}/split")
    assert answer.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Report)) == 2
        original = db.session.scalar(select(Report).where(Report.code == code))
        assert original.status == ReportStatus.ASSIGNED and original.nlu_problems is None
    again = client.get(f"/bo/r/{code}").get_data(as_text=True)
    assert 'id="problems"' not in again


def test_a_report_without_problems_has_no_split(app, client):
    with app.app_context():
        code = SubmittedReportFactory(description="Đèn đường tắt cả tuần nay").code
    login(client, "operator")
    assert 'id="problems"' not in client.get(f"/bo/r/{code}").get_data(as_text=True)
    assert client.post(f"/bo/r/{code}/split").status_code in (302, 422)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Report)) == 1
