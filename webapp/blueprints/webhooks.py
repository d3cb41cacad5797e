"""Messenger webhooks: verify the caller, record the event once, queue it, answer at once;
and the SMS gateway's delivery reports.

Zalo expects an answer within 2 seconds and Telegram retries slow webhooks: the dialog
runs later in a Celery task (bot.tasks). A call that cannot prove it comes from the
messenger is refused with 403 and nothing is stored.
"""

from __future__ import annotations

import json

from flask import Blueprint, Flask, Response, jsonify, request
from flask.typing import ResponseReturnValue

from webapp.extensions import csrf
from webapp.infra import task_names as names
from webapp.services.messaging import conversations
from webapp.services.messaging.channels.phone import record_delivery_report, sms_token_ok
from webapp.services.messaging.channels.telegram import telegram_event_key, telegram_secret_ok
from webapp.services.messaging.channels.zalo import zalo_event_key, zalo_signature_ok

bp = Blueprint("webhooks", __name__)
ZALO_TASK = names.HANDLE_ZALO_EVENT
TELEGRAM_TASK = names.HANDLE_TELEGRAM_UPDATE


def _refused() -> tuple[Response, int]:
    return jsonify(error="forbidden"), 403


@bp.post("/zalo")
def zalo() -> ResponseReturnValue:
    """A Zalo OA event, signed with X-ZEvent-Signature."""
    raw = request.get_data()
    try:
        event = json.loads(raw)
    except ValueError:
        return _refused()
    if not isinstance(event, dict):
        return _refused()
    signature = request.headers.get("X-ZEvent-Signature")
    if not zalo_signature_ok(raw, event.get("timestamp"), signature):
        return _refused()
    new = conversations.accept_inbound("zalo", zalo_event_key(event), event, ZALO_TASK)
    return jsonify(ok=True, duplicate=not new)


@bp.post("/telegram")
def telegram() -> ResponseReturnValue:
    """A Telegram update, carrying our secret in X-Telegram-Bot-Api-Secret-Token."""
    if not telegram_secret_ok(request.headers.get("X-Telegram-Bot-Api-Secret-Token")):
        return _refused()
    update = request.get_json(silent=True)
    if not isinstance(update, dict) or "update_id" not in update:
        return jsonify(error="bad_request"), 400
    key = telegram_event_key(update)
    new = conversations.accept_inbound("telegram", key, update, TELEGRAM_TASK)
    return jsonify(ok=True, duplicate=not new)


@bp.post("/sms/dlr")
def sms_delivery_report() -> ResponseReturnValue:
    """The SMS gateway's delivery report, carrying SMS_DLR_TOKEN in ?token=."""
    if not sms_token_ok(request.args.get("token")):
        return _refused()
    report = request.get_json(silent=True)
    if not isinstance(report, dict):
        return jsonify(error="bad_request"), 400
    known = record_delivery_report(report.get("ref"), report.get("status"))
    return jsonify(ok=True, known=known)


def init_app(app: Flask) -> None:
    """Register the webhooks under /webhooks, without CSRF (callers prove themselves)."""
    csrf.exempt(bp)
    app.register_blueprint(bp, url_prefix="/webhooks")
