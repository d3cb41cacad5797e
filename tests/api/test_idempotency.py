"""One report per submission however often it is sent: the idempotency key, honoured by the
web form (field or script), /api/v1 and Open311 (header), and the bots (the update's id)."""

from __future__ import annotations

import re
import threading

import requests
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Report
from webapp.services.partners import keys

KEY = "3f2b8c1e-9d4a-4c7e-b1f0-5a6d7e8f9a0b"
FORM = {
    "description": "Ổ gà lớn trước số 12 Nguyễn Văn Linh, xe máy dễ té",
    "consent": "1",
    "client_key": KEY,
}
JSON = {"Accept": "application/json"}


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Report))


def test_the_form_sent_twice_by_its_script_is_one_report(ctx, client):
    first = client.post("/phan-anh", data=FORM, headers=JSON)
    again = client.post("/phan-anh", data=FORM, headers=JSON)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json["code"] == again.json["code"] and again.json["replayed"] is True
    assert first.json["url"] == again.json["url"]
    assert first.headers["Cache-Control"] == "private, no-store"
    assert _count() == 1


def test_the_form_without_script_carries_a_key_so_a_double_tap_is_one_report(ctx, client):
    page = client.get("/").get_data(as_text=True)
    key = re.search(r'name="client_key"[^>]*value="([^"]+)"', page).group(1)
    assert len(key) >= 16 and key not in client.get("/").get_data(as_text=True), "one per page"
    form = {**FORM, "client_key": key}
    first, again = client.post("/phan-anh", data=form), client.post("/phan-anh", data=form)
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    assert _count() == 1


def test_the_same_key_with_other_words_is_another_report(ctx, client):
    client.post("/phan-anh", data=FORM, headers=JSON)
    other = {**FORM, "description": "Đèn đường hỏng cả tuần ở kiệt 45 Hùng Vương"}
    assert client.post("/phan-anh", data=other, headers=JSON).status_code == 201
    assert _count() == 2, "a client reusing keys by mistake loses nothing"


def test_a_refused_form_answers_json_to_the_script(ctx, client):
    bad = client.post("/phan-anh", data={**FORM, "description": "ngắn"}, headers=JSON)
    assert bad.status_code == 422 and bad.json["field"] == "description"
    assert "ít nhất" in bad.json["message"]


def test_garbage_keys_are_refused_and_nothing_is_stored(ctx, client):
    for key in ("short", "x" * 101, "có dấu tiếng việt 12345", "a b c d e f g h i j"):
        answer = client.post("/phan-anh", data={**FORM, "client_key": key}, headers=JSON)
        assert answer.status_code == 422 and answer.json["field"] == "client_key"
    headers = {"Idempotency-Key": "<script>alert(1)</script>"}
    answer = client.post(
        "/api/v1/reports", json={"description": FORM["description"]}, headers=headers
    )
    assert answer.status_code == 422
    assert _count() == 0


def test_the_api_honours_the_idempotency_key_header(ctx, client):
    body = {"description": FORM["description"], "lat": 16.07, "lon": 108.22}
    headers = {"Idempotency-Key": KEY}
    first = client.post("/api/v1/reports", json=body, headers=headers)
    again = client.post("/api/v1/reports", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json["code"] == again.json["code"]
    assert _count() == 1


def test_open311_keys_are_each_partners_own(ctx, client):
    _a, key_a = keys.issue("Sở Xây dựng", ["submit"])
    _b, key_b = keys.issue("Sở Giao thông", ["submit"])
    db.session.commit()
    form = {
        "service_code": "road_damage",
        "description": FORM["description"],
        "lat": "16.07",
        "long": "108.22",
    }
    headers = {"Idempotency-Key": KEY}
    ids = [
        client.post("/open311/v2/requests.json", data={**form, "api_key": k}, headers=headers).json[
            0
        ]
        for k in (key_a, key_a, key_b)
    ]
    assert ids[0]["service_request_id"] == ids[1]["service_request_id"]
    assert ids[2]["service_request_id"] != ids[0]["service_request_id"]
    assert _count() == 2


def test_two_requests_racing_with_one_key_store_one_report(app, live_server):
    session = requests.Session()
    page = session.get(f"{live_server}/").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    key = "race-" + KEY
    start = threading.Barrier(4)
    answers: list[requests.Response] = []

    def send() -> None:
        start.wait()
        answers.append(
            session.post(
                f"{live_server}/phan-anh",
                data={**FORM, "client_key": key, "csrf_token": token},
                headers=JSON,
                timeout=60,
            )
        )

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers)[-1] in (200, 201)
    assert all(a.status_code in (200, 201) for a in answers), [a.text[:200] for a in answers]
    assert len({a.json()["code"] for a in answers}) == 1
    with app.app_context():
        stored = db.session.scalars(
            select(Report).where(Report.code == answers[0].json()["code"])
        ).all()
        assert len(stored) == 1


def test_the_hotline_form_created_twice_by_a_double_click_is_one_report(app, client):
    from tests.backoffice.conftest import login

    login(client, "operator")
    page = client.get("/bo/ioc/1022").get_data(as_text=True)
    key = re.search(r'name="client_key" value="([^"]+)"', page).group(1)
    call = {"description": FORM["description"], "consent": "1", "client_key": key}
    first, again = client.post("/bo/ioc/1022", data=call), client.post("/bo/ioc/1022", data=call)
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    with app.app_context():
        assert _count() == 1
