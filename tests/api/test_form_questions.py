"""The web form asks the chosen category's questions: required ones must be answered, the
answers are stored with the report and other categories' fields are ignored."""

from __future__ import annotations

from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Report

FORM = {"description": "Cây phượng ngã chắn ngang đường Lê Duẩn", "consent": "1"}


def _reports() -> int:
    return db.session.scalar(select(func.count()).select_from(Report))


def test_the_form_offers_the_categories_and_their_questions(app, client):
    html = client.get("/").get_data(as_text=True)
    assert 'id="category"' in html and 'value="trees"' in html
    assert 'id="questions-trees"' in html and "Có ai bị thương không?" in html
    assert 'name="attribute[street_lighting.pole_number]"' in html


def test_a_required_question_is_asked_again_and_the_answers_are_stored(ctx, client):
    page = client.post("/phan-anh", data={**FORM, "category": "trees"})
    assert page.status_code == 422 and "Có ai bị thương không?" in page.get_data(as_text=True)
    assert 'value="trees" selected' in page.get_data(as_text=True)  # the choice is kept
    assert _reports() == 0
    answered = {
        **FORM,
        "category": "trees",
        "attribute[trees.anyone_hurt]": "yes",
        "attribute[street_lighting.pole_number]": "not asked",
    }
    assert client.post("/phan-anh", data=answered).status_code == 302
    report = db.session.scalar(select(Report))
    assert report.category_hint == "trees" and report.attributes == {"anyone_hurt": "yes"}


def test_garbage_choices_and_answers_are_refused_or_ignored_never_a_500(ctx, client):
    bad = {**FORM, "category": "trees", "attribute[trees.anyone_hurt]": "maybe"}
    assert client.post("/phan-anh", data=bad).status_code == 422
    unknown = {**FORM, "category": "<script>", "attribute[<script>.x]": "1"}
    assert client.post("/phan-anh", data=unknown).status_code == 302
    report = db.session.scalar(select(Report))
    assert report.category_hint is None and report.attributes is None
