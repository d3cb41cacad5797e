"""The real Rasa server, a real worker and real Redis route reports to their agencies."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import SubmittedReportFactory
from tests.support.processes import Worker, wait_until, worker_env
from webapp.extensions import db
from webapp.models import AdminUnit, Report, ReportStatus

pytestmark = [pytest.mark.integration, pytest.mark.rasa]

# (text as a resident types it, ward name, expected category, expected agency code;
#  "ward" means the People's Committee of the report's commune/ward)
CASES = [
    ("Đèn đường trên đường Bạch Đằng bị tắt cả tuần nay, buổi tối rất tối",
     "Hải Châu", "street_lighting", "CHIEUSANG"),
    ("Rác thải sinh hoạt đổ thành đống ở đầu kiệt, bốc mùi hôi thối mấy ngày chưa ai thu gom",
     "Hội An", "waste", "MTDT"),
    ("Quán karaoke hát ồn ào đến 1 giờ sáng mỗi đêm, cả xóm không ngủ được",
     "Sơn Trà", "noise", "ward"),
    ("Ống nước bị vỡ, nước chảy lênh láng ra đường, cả khu mất nước từ sáng",
     "Liên Chiểu", "water_supply", "DAWACO"),
    ("cay xanh bi gay nhanh lon de len via he sau con mua, nguy hiem qua",
     "Tam Kỳ", "trees", "CVCX"),
]  # fmt: skip


def _ward(name: str) -> AdminUnit:
    return db.session.scalar(
        select(AdminUnit).where(AdminUnit.level == "ward", AdminUnit.name == name)
    )


def test_reports_are_classified_and_routed_by_the_real_nlu(
    app, app_config, rasa_server_url, tmp_path
):
    env = worker_env(app_config, RASA_URL=rasa_server_url)
    with app.app_context():
        ids = {}
        for text, ward_name, category, agency in CASES:
            ward = _ward(ward_name)
            assert ward is not None, ward_name
            report = SubmittedReportFactory(
                description=text, point=(ward.center_lat, ward.center_lon)
            )
            ids[report.id] = (ward.code, category, agency)
        worker = Worker(env, log=tmp_path / "worker.log").start()
        try:

            def routed() -> bool:
                db.session.remove()
                statuses = db.session.scalars(
                    select(Report.status).where(Report.id.in_(list(ids)))
                ).all()
                return all(s != ReportStatus.RECEIVED for s in statuses)

            assert wait_until(routed, 180), (tmp_path / "worker.log").read_text()[-3000:]
        finally:
            worker.stop()
        for report_id, (ward_code, category, agency) in ids.items():
            report = db.session.get(Report, report_id)
            assert report.status == ReportStatus.ASSIGNED, (report.description, report.status)
            assert report.category_code == category
            assert report.unit_code == ward_code
            expected = f"UBND-{ward_code}" if agency == "ward" else agency
            assert report.agency.code == expected
            assert report.confidence >= app.config["NLU_CONFIDENCE_THRESHOLD"]
            assert report.due_at is not None
