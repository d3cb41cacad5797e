"""Administrators see which NLU model classifies reports and the figures each candidate was
judged on, and can run the learning loop now; nobody else can."""

from __future__ import annotations

import re

import pytest

from tests.backoffice.conftest import login
from webapp.blueprints.backoffice import nlu_models as page_module
from webapp.extensions import db
from webapp.infra import task_names
from webapp.models import NluModel

PAGE = "/bo/quan-tri/mo-hinh-nlu"
RETRAIN = "/bo/quan-tri/mo-hinh-nlu/huan-luyen"


def _figures(f1: float, precision: float) -> dict:
    return {
        "digest": "x",
        "sets": {
            "dev": {"macro_f1": 0.95, "routed": 0.9, "routed_precision": 1.0},
            "heldout_vi": {"macro_f1": f1, "routed": 0.95, "routed_precision": precision},
        },
    }


@pytest.fixture()
def models(app):
    with app.app_context():
        base = NluModel(name="base", path="/m/base.tar.gz", base_hash="h", state="retired")
        db.session.add(base)
        db.session.flush()
        better = NluModel(
            name="cand-better",
            path="/m/b.tar.gz",
            base_hash="h",
            state="current",
            examples=25,
            compared_with_id=base.id,
            figures=_figures(0.9123, 0.941),
        )
        worse = NluModel(
            name="cand-worse",
            path="/m/w.tar.gz",
            base_hash="h",
            state="refused",
            examples=40,
            compared_with_id=base.id,
            figures=_figures(0.8, 0.9),
        )
        db.session.add_all([better, worse])
        db.session.commit()
        return {"base": base.id, "better": better.id, "worse": worse.id}


def _row(page: str, model_id: int) -> str:
    row = page.split(f'id="nlu-model-{model_id}"', 1)[1]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row.split('id="nlu-model-', 1)[0]))


def test_the_history_newest_first_with_states_and_figures(app, models):
    page = login(app.test_client(), "admin").get(PAGE).get_data(as_text=True)
    order = [page.index(f'id="nlu-model-{models[k]}"') for k in ("worse", "better", "base")]
    assert order == sorted(order)
    better = _row(page, models["better"])
    assert "Đang dùng" in better and "25" in better
    # The wrong share, derived for a record that does not store it: 95 % × 5.9 % = 5.6 %.
    assert "heldout_vi 91.2 95.0 94.1 5.6 " in better + " "
    assert "dev 95.0 90.0 100.0 0.0 " in better
    assert f"kém hơn mô hình #{models['base']}" in _row(page, models["worse"])
    assert "Chưa chấm điểm." in _row(page, models["base"])


def test_english_page(app, models):
    page = login(app.test_client(), "admin").get(PAGE + "?lang=en").get_data(as_text=True)
    assert "In use" in page and "Retrain now" in page


def test_empty_history(app):
    page = login(app.test_client(), "admin").get(PAGE).get_data(as_text=True)
    assert "Chưa có mô hình nào được ghi lại" in page


def test_retrain_now_queues_the_loop(app, monkeypatch):
    sent = []
    monkeypatch.setattr(page_module, "enqueue", lambda *args: sent.append(args) or True)
    client = login(app.test_client(), "admin")
    resp = client.post(RETRAIN)
    assert resp.status_code == 302 and resp.location.endswith(PAGE)
    assert sent == [(task_names.NLU_RETRAIN, True)]
    assert "Đã xếp lịch huấn luyện lại" in client.get(PAGE).get_data(as_text=True)


@pytest.mark.parametrize("role", ["staff", "lead", "operator", "viewer"])
def test_only_administrators(app, role, monkeypatch):
    sent = []
    monkeypatch.setattr(page_module, "enqueue", lambda *args: sent.append(args) or True)
    client = login(app.test_client(), role)
    assert client.get(PAGE).status_code == 403
    assert client.post(RETRAIN).status_code == 403
    assert sent == []


def test_the_admin_home_links_to_the_page(app):
    page = login(app.test_client(), "admin").get("/bo/quan-tri/").get_data(as_text=True)
    assert f'href="{PAGE}"' in page
