"""The learning loop exports operators' corrections in Rasa's format."""

from __future__ import annotations

import yaml

from tests.backoffice.conftest import USERS, user
from tests.factories import AssignedReportFactory
from webapp.extensions import db
from webapp.models import ReportStatus
from webapp.models.types import utcnow
from webapp.services.casework import handling, nlu_feedback, workflow


def test_corrections_become_rasa_training_examples(ctx):
    report = AssignedReportFactory(
        agency="CHIEUSANG", description="Cột đèn nghiêng sắp đổ vào nhà dân"
    )
    report.classified_at = utcnow()
    workflow.transition(report, ReportStatus.NEEDS_TRIAGE)
    db.session.commit()
    handling.triage(user(USERS["operator"]), report, "electricity")
    items = nlu_feedback.corrections()
    assert [(i["predicted"], i["corrected"]) for i in items] == [("street_lighting", "electricity")]
    doc = yaml.safe_load(nlu_feedback.to_rasa_yaml(items))
    assert doc["version"] == "3.1"
    [block] = doc["nlu"]
    assert block["intent"] == "electricity"
    assert block["examples"].strip() == "- Cột đèn nghiêng sắp đổ vào nhà dân"
