"""Webhooks: only the messenger gets in, every event is handled once, the answer is quick."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select

from bot import telegram_adapter, zalo_adapter
from tests.support.fake_zalo import OA_SECRET_KEY
from webapp.extensions import db
from webapp.models import Conversation, InboundEvent

USER = "246845883529197922"
SECRET = "telegram-webhook-secret-for-tests"


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _nothing_stored(app) -> None:
    assert _count(app, InboundEvent) == 0
    assert _count(app, Conversation) == 0


# -- Zalo -------------------------------------------------------------------------------------


def _tampered_body(raw: bytes) -> bytes:
    event = json.loads(raw)
    event["message"]["text"] = "/huy"
    return json.dumps(event, ensure_ascii=False).encode()


@pytest.mark.parametrize(
    "spoof",
    ["no-signature", "wrong-secret", "tampered-body", "other-timestamp", "not-json"],
)
def test_spoofed_zalo_event_is_refused_and_nothing_stored(app, client, fake_zalo, spoof):
    event = fake_zalo.text_event(USER, "Rác thải chất đống đầu kiệt")
    raw, headers = fake_zalo.signed(event)
    if spoof == "no-signature":
        del headers["X-ZEvent-Signature"]
    elif spoof == "wrong-secret":
        raw, headers = fake_zalo.signed(event, secret="guessed-" + OA_SECRET_KEY)
    elif spoof == "tampered-body":
        raw = _tampered_body(raw)
    elif spoof == "other-timestamp":
        event["timestamp"] = str(int(event["timestamp"]) + 1000)
        raw = json.dumps(event, ensure_ascii=False).encode()
    else:
        raw = b"mac=" + raw[:20]
    response = client.post("/webhooks/zalo", data=raw, headers=headers)
    assert response.status_code == 403
    _nothing_stored(app)
    assert fake_zalo.sent == []


def test_zalo_webhook_refuses_everything_without_an_oa_secret(app, client, fake_zalo):
    event = fake_zalo.text_event(USER, "xin chao")
    raw, headers = fake_zalo.signed(event, secret="")
    app.config["ZALO_OA_SECRET_KEY"] = ""
    response = client.post("/webhooks/zalo", data=raw, headers=headers)
    assert response.status_code == 403
    _nothing_stored(app)


def test_zalo_webhook_answers_at_once_and_leaves_the_work_to_a_task(app, client, fake_zalo):
    raw, headers = fake_zalo.signed(fake_zalo.text_event(USER, "xin chao"))
    started = time.monotonic()
    response = client.post("/webhooks/zalo", data=raw, headers=headers)
    assert time.monotonic() - started < 2.0
    assert response.status_code == 200 and response.get_json() == {"ok": True, "duplicate": False}
    with app.app_context():
        [event] = db.session.scalars(select(InboundEvent)).all()
        assert event.status == "pending" and event.payload["sender"]["id"] == USER
    assert _count(app, Conversation) == 0, "the dialog runs in the task, not in the request"


def test_replayed_zalo_event_is_handled_once(app, client, fake_zalo, dialog):
    raw, headers = fake_zalo.signed(fake_zalo.text_event(USER, "xin chao"))
    first = client.post("/webhooks/zalo", data=raw, headers=headers)
    again = client.post("/webhooks/zalo", data=raw, headers=headers)
    assert first.get_json()["duplicate"] is False and again.get_json()["duplicate"] is True
    with app.app_context():
        [row_id] = db.session.scalars(select(InboundEvent.id)).all()
        assert zalo_adapter.handle_event(row_id, dialog) == "handled"
        assert zalo_adapter.handle_event(row_id, dialog) == "skip", "a redelivered task"
    # Once: the privacy notice (a first message), then the greeting; nothing for the replay.
    notice, greeting = (m["message"]["text"] for m in fake_zalo.sent)
    assert "Thông báo xử lý dữ liệu cá nhân" in notice and "Xin chào" in greeting


def test_zalo_webhook_queues_the_celery_task(app, client, fake_zalo):
    import bot.tasks  # noqa: F401  (registers the tasks, as workers/celery_app imports do)

    celery = app.extensions["celery"]
    celery.conf.task_always_eager = True
    try:
        raw, headers = fake_zalo.signed(fake_zalo.text_event(USER, "xin chao"))
        assert client.post("/webhooks/zalo", data=raw, headers=headers).status_code == 200
    finally:
        celery.conf.task_always_eager = False
    assert "bot.tasks.handle_zalo_event" in celery.tasks
    assert "Xin chào" in fake_zalo.texts_to(USER)[-1]
    with app.app_context():
        assert db.session.scalar(select(InboundEvent.status)) == "done"


# -- Telegram ---------------------------------------------------------------------------------


@pytest.fixture()
def telegram_secret(app):
    app.config["TELEGRAM_WEBHOOK_SECRET"] = SECRET
    yield SECRET
    app.config["TELEGRAM_WEBHOOK_SECRET"] = ""


def _update(fake, text: str = "xin chao") -> dict:
    """An update as Telegram would post it (nobody polls the fake here)."""
    return fake.send_text(1001, text)


@pytest.mark.parametrize("header", [None, "", "wrong-secret", SECRET + "x"])
def test_telegram_webhook_without_the_secret_is_refused(
    app, client, fake_telegram, telegram_secret, header
):
    headers = {} if header is None else {"X-Telegram-Bot-Api-Secret-Token": header}
    response = client.post("/webhooks/telegram", json=_update(fake_telegram), headers=headers)
    assert response.status_code == 403
    _nothing_stored(app)


def test_telegram_webhook_is_closed_when_no_secret_is_configured(app, client, fake_telegram):
    response = client.post(
        "/webhooks/telegram",
        json=_update(fake_telegram),
        headers={"X-Telegram-Bot-Api-Secret-Token": ""},
    )
    assert response.status_code == 403
    _nothing_stored(app)


def test_telegram_webhook_update_is_handled_once(
    app, client, fake_telegram, telegram_secret, dialog
):
    update = _update(fake_telegram)
    headers = {"X-Telegram-Bot-Api-Secret-Token": telegram_secret}
    first = client.post("/webhooks/telegram", json=update, headers=headers)
    again = client.post("/webhooks/telegram", json=update, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.get_json()["duplicate"] is True
    with app.app_context():
        [row_id] = db.session.scalars(select(InboundEvent.id)).all()
        assert telegram_adapter.handle_stored_update(app, row_id, dialog) == "handled"
        assert telegram_adapter.handle_stored_update(app, row_id, dialog) == "skip"
    notice, reply = fake_telegram.messages_to(1001)  # a first message: the notice first
    assert "Thông báo xử lý dữ liệu cá nhân" in notice["text"] and "Xin chào Lan" in reply["text"]
    with app.app_context():
        assert db.session.scalar(select(InboundEvent.status)) == "done"
