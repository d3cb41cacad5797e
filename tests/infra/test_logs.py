"""One request id from the request to its tasks; JSON log lines that carry it."""

from __future__ import annotations

import io
import json
import logging

import pytest

from webapp.infra import logs


def test_every_response_carries_a_request_id_and_a_good_one_is_kept(client):
    fresh = client.get("/healthz").headers[logs.HEADER]
    assert len(fresh) == 32
    assert client.get("/healthz").headers[logs.HEADER] != fresh, "one per request"
    given = client.get("/healthz", headers={logs.HEADER: "proxy-1234abcd"})
    assert given.headers[logs.HEADER] == "proxy-1234abcd"


@pytest.mark.parametrize(
    "bad", ["short", "x" * 65, "abc\ndef12345", "id with spaces 123", "%(x)s123"]
)
def test_a_request_id_that_could_forge_log_lines_is_replaced(client, bad):
    response = client.get("/healthz", environ_base={"HTTP_X_REQUEST_ID": bad})
    assert response.headers[logs.HEADER] != bad


def test_tasks_enqueued_by_a_request_carry_its_id(app, monkeypatch):
    sent = []
    celery = app.extensions["celery"]
    monkeypatch.setattr(celery, "send_task", lambda name, **options: sent.append(options))
    response = app.test_client().post(
        "/api/v1/reports",
        data={"description": "Đèn đường hỏng cả tuần ở kiệt 45 Trần Phú"},
        headers={logs.HEADER: "req-from-proxy-42"},
    )
    assert response.status_code == 201
    assert sent and all(o["headers"]["request_id"] == "req-from-proxy-42" for o in sent)


def test_a_task_runs_under_the_id_it_was_sent_with(app):
    celery = app.extensions["celery"]

    @celery.task(name="tests.echo_request_id")
    def echo() -> str | None:
        return logs.current_id()

    try:
        assert echo.apply(headers={"request_id": "req-from-web-7"}).get() == "req-from-web-7"
        assert echo.apply().get() is None
        assert logs.current_id() is None, "nothing leaks out of the task"
    finally:
        celery.tasks.unregister("tests.echo_request_id")  # the registry is the app's


def test_json_lines_carry_the_request_id():
    stream = io.StringIO()
    logs.configure("json")
    try:
        handler = next(h for h in logging.getLogger().handlers if getattr(h, "phananh", False))
        handler.setStream(stream)  # type: ignore[attr-defined]
        token = logs.set_id("req-json-0001")
        logging.getLogger("phananh.test").warning("report %s stored", "PA-2612-000001")
        logs.reset_id(token)
    finally:
        logs.configure("text")
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert line["message"] == "report PA-2612-000001 stored"
    assert (line["request_id"], line["level"], line["name"]) == (
        "req-json-0001",
        "WARNING",
        "phananh.test",
    )
