"""SENTRY_DSN sends unhandled errors of the web and the workers to Sentry, without a resident's
words, contact, cookies or private link."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sentry_sdk
from flask import Flask

from tests.support.fake_sentry import FakeSentry

PHONE = "0905123456"
EMAIL = "chi.lan@example.vn"
TOKEN = "Xk9-private-tracking-token"


@pytest.fixture
def reported(app: Flask, app_config: dict) -> Iterator[tuple[Flask, FakeSentry]]:
    from webapp import create_app

    with FakeSentry() as sentry:
        other = create_app("testing", overrides={**app_config, "SENTRY_DSN": sentry.dsn})
        try:
            yield other, sentry
        finally:
            sentry_sdk.init()  # no DSN: the SDK is off again for the rest of the session
            app.extensions["celery"].set_default()


def test_an_unhandled_web_error_is_reported_without_personal_data(reported):
    other, sentry = reported

    @other.post("/t-boom/<token>")
    def boom(token: str) -> str:
        raise RuntimeError(f"could not notify {PHONE} <{EMAIL}>")

    other.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: a 500, not a raise
    client = other.test_client()
    client.set_cookie("session", "secret-session-cookie")
    response = client.post(
        f"/t-boom/{TOKEN}?phone={PHONE}",
        data={"description": "Nhà tôi ở kiệt 12, gọi cho tôi", "phone": PHONE},
        headers={"Authorization": "Bearer api-secret", "X-Request-ID": "req-42"},
    )
    assert response.status_code == 500
    sentry_sdk.flush(timeout=5)
    sent = sentry.text()
    assert "RuntimeError" in sent and "could not notify" in sent
    assert "/t-boom/<token>" in sent and "req-42" in sent
    for secret in (PHONE, EMAIL, TOKEN, "kiệt 12", "secret-session-cookie", "api-secret"):
        assert secret not in sent, secret


def test_a_failing_task_is_reported(reported, monkeypatch):
    other, sentry = reported

    def broken(report_id: int, client=None) -> str:
        raise ValueError(f"[parameters: ('{PHONE}', 'Ổ gà trước nhà')] report {report_id}")

    monkeypatch.setattr("webapp.services.casework.classification.classify_and_route", broken)
    celery = other.extensions["celery"]
    celery.loader.import_default_modules()
    celery.tasks["workers.tasks.classify_report"].apply(args=(7,))
    sentry_sdk.flush(timeout=5)
    sent = sentry.text()
    assert "ValueError" in sent and "report 7" in sent and "classify_report" in sent
    assert PHONE not in sent and "Ổ gà trước nhà" not in sent
