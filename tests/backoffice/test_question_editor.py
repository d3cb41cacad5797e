"""Administrators edit a category's questions (YAML, as in config/categories.yml): checked,
audited, and asked at once on the web form, by the bots and through Open311."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.backoffice.conftest import login
from webapp.extensions import db
from webapp.models import AuditEntry, Category
from webapp.services.intake import questions

URL = "/bo/quan-tri/categories/sua/noise"
NOISE = {
    "code": "noise",
    "name_vi": "Tiếng ồn",
    "name_en": "Noise",
    "default_urgency": "normal",
    "sla_urgent_hours": "4",
    "sla_normal_days": "3",
    "sla_complex_days": "10",
    "active": "on",
}
WHEN = """
- code: when
  vi: "Tiếng ồn thường vào lúc nào?"
  en: "When is the noise usually heard?"
  datatype: singlevaluelist
  required: true
  values:
    - {key: day, vi: "Ban ngày", en: "Daytime"}
    - {key: night, vi: "Ban đêm (sau 22 giờ)", en: "At night (after 10 pm)"}
- code: source
  vi: "Nguồn gây ồn (quán karaoke, công trình…)"
"""


@pytest.fixture()
def restore_noise(app):
    yield
    with app.app_context():
        db.session.get(Category, "noise").questions = None
        db.session.commit()


def _post(client, text: str | None):
    data = dict(NOISE) if text is None else {**NOISE, "questions": text}
    return client.post(URL, data=data)


def test_an_admin_adds_questions_and_they_are_asked_everywhere(app, client, restore_noise):
    login(client, "admin")
    assert "Câu hỏi thêm" in client.get(URL).get_data(as_text=True)
    assert _post(client, WHEN).status_code == 302
    with app.app_context():
        stored = db.session.get(Category, "noise").questions
        assert [q["code"] for q in stored] == ["when", "source"]
        assert stored[1] == {
            "code": "source",
            "vi": "Nguồn gây ồn (quán karaoke, công trình…)",
            "en": "Nguồn gây ồn (quán karaoke, công trình…)",  # no English: the Vietnamese
            "datatype": "string",
            "required": False,
        }
        entry = db.session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()))
        assert (entry.entity, entry.entity_id) == ("categories", "noise")
        assert entry.before["questions"] is None and entry.after["questions"] == stored
    listing = client.get("/bo/quan-tri/categories").get_data(as_text=True)
    assert "when, source" in listing
    edit = client.get(URL).get_data(as_text=True)
    assert "Tiếng ồn thường vào lúc nào?" in edit, "shown again as YAML to edit"
    form = client.get("/").get_data(as_text=True)
    assert 'name="attribute[noise.when]"' in form and "Ban đêm (sau 22 giờ)" in form
    definition = client.get("/open311/v2/services/noise.json").get_json()
    assert [a["code"] for a in definition["attributes"]] == ["when", "source"]
    with app.app_context():
        assert [q.code for q in questions.of_code("noise")] == ["when", "source"]


def test_a_form_without_the_field_keeps_the_questions(app, client):
    login(client, "admin")
    trees = {**NOISE, "code": "trees", "name_vi": "Cây xanh", "name_en": "Trees"}
    assert client.post("/bo/quan-tri/categories/sua/trees", data=trees).status_code == 302
    with app.app_context():
        assert [q.code for q in questions.of_code("trees")] == ["anyone_hurt"]
        db.session.get(Category, "trees").sla_urgent_hours = 4
        db.session.commit()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- code: when\n  vi: [unclosed", "YAML không hợp lệ (dòng 2)"),
        ("- code: when\n  vi: Khi nào?\n  requried: true", "không hiểu “requried”"),
        ("- {code: a, vi: A}\n- {code: a, vi: B}", "code “a” không hợp lệ"),
        ("- {code: Giờ, vi: A}", "code “Giờ” không hợp lệ"),
        ("- {code: a, vi: A, datatype: singlevaluelist}", "từ 2 đến 20 câu trả lời"),
        ("- {code: a, vi: A, datatype: date}", "datatype phải là"),
        ("- {code: a, vi: A, required: 'yes'}", "required phải là true hoặc false"),
        ("- {code: a}", "thiếu “vi”"),
        ("just words", "phải là một danh sách"),
        ("- {code: a, vi: A, values: [{key: x, vi: X}, {key: y, vi: Y}]}", "chỉ danh sách"),
        ("x" * 30_000, "quá dài"),
    ],
)
def test_bad_questions_are_refused_with_a_message_and_the_text_kept(
    app, client, restore_noise, text, message
):
    login(client, "admin")
    page = _post(client, text)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and message in html
    if len(text) < 1000:
        assert text.split("\n")[0].replace("'", "&#39;") in html, "the admin's text is not lost"
    with app.app_context():
        assert db.session.get(Category, "noise").questions is None


def test_emptying_the_field_removes_the_questions(app, client, restore_noise):
    login(client, "admin")
    assert _post(client, WHEN).status_code == 302
    assert _post(client, "").status_code == 302
    with app.app_context():
        assert db.session.get(Category, "noise").questions is None
