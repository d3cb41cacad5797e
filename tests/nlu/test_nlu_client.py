"""nlu.client against a tiny fake Rasa server started in the test."""

from __future__ import annotations

import time

import pytest
from nlu_fakes import free_port, rasa_body

from nlu import CATEGORY_CODES, CHAT_INTENTS
from nlu.client import NluClient, NluError, NluResult, NluUnavailable


def test_constants():
    assert len(CATEGORY_CODES) == 16
    assert "other" in CATEGORY_CODES
    assert set(CHAT_INTENTS) == {"greet", "thanks", "goodbye", "ask_status", "out_of_scope"}
    assert not set(CATEGORY_CODES) & set(CHAT_INTENTS)


def test_parse_a_report(fake_rasa):
    entities = [
        {"entity": "ward", "value": "Hải Châu", "start": 0, "end": 8},
        {"entity": "ward", "value": "Hải Châu", "start": 40, "end": 48},
        {"entity": "street", "value": "Lê Duẩn", "start": 10, "end": 17},
    ]
    server = fake_rasa([(200, rasa_body("road_damage", 0.87, entities), 0)])
    with NluClient(server.url) as client:
        result = client.parse("Đường Lê Duẩn phường Hải Châu có ổ gà")
    assert result == NluResult(
        intent="road_damage",
        confidence=0.87,
        category="road_damage",
        is_report=True,
        ranking=[("road_damage", 0.87), ("waste", pytest.approx(0.13))],
        entities={"ward": ["Hải Châu"], "street": ["Lê Duẩn"]},
    )
    assert server.requests == [
        ("POST", "/model/parse", {"text": "Đường Lê Duẩn phường Hải Châu có ổ gà"})
    ]


@pytest.mark.parametrize("intent", CHAT_INTENTS)
def test_chat_intents_have_no_category(fake_rasa, intent):
    server = fake_rasa([(200, rasa_body(intent), 0)])
    with NluClient(server.url) as client:
        result = client.parse("xin chào")
    assert result.intent == intent
    assert result.category is None
    assert result.is_report is False
    # The triage suggestions keep only category codes.
    assert [name for name, _ in result.category_ranking] == ["waste"]


def test_empty_text_is_not_sent(fake_rasa):
    server = fake_rasa([(200, rasa_body("waste"), 0)])
    with NluClient(server.url) as client:
        result = client.parse("   ")
    assert result.category is None and result.intent == "" and result.confidence == 0.0
    assert server.requests == []


def test_server_errors_are_retried_then_succeed(fake_rasa):
    server = fake_rasa([(500, None, 0), (503, None, 0), (200, rasa_body("noise"), 0)])
    with NluClient(server.url, retries=2, backoff=0.01) as client:
        assert client.parse("karaoke tới 2h sáng").category == "noise"
    assert len(server.requests) == 3


def test_persistent_server_errors_raise_unavailable(fake_rasa):
    server = fake_rasa([(500, None, 0)])
    with NluClient(server.url, retries=2, backoff=0.01) as client, pytest.raises(NluUnavailable):
        client.parse("mất điện")
    assert len(server.requests) == 3  # one try and two retries


def test_client_errors_are_not_retried(fake_rasa):
    server = fake_rasa([(400, {"error": "bad request"}, 0)])
    with NluClient(server.url, retries=2, backoff=0.01) as client, pytest.raises(NluError) as info:
        client.parse("mất điện")
    assert not isinstance(info.value, NluUnavailable)
    assert len(server.requests) == 1


def test_timeouts_are_retried_then_raise_unavailable(fake_rasa):
    server = fake_rasa([(200, rasa_body("waste"), 1.0)])
    started = time.monotonic()
    client = NluClient(server.url, timeout=0.2, retries=1, backoff=0.01)
    with client, pytest.raises(NluUnavailable):
        client.parse("rác")
    assert len(server.requests) == 2
    assert time.monotonic() - started < 1.5


def test_a_slow_answer_within_the_timeout_is_fine(fake_rasa):
    server = fake_rasa([(200, rasa_body("waste"), 0.1)])
    with NluClient(server.url, timeout=2.0, retries=0) as client:
        assert client.parse("rác").category == "waste"


def test_connection_refused_raises_unavailable():
    url = f"http://127.0.0.1:{free_port()}"
    with NluClient(url, retries=2, backoff=0.01) as client:
        with pytest.raises(NluUnavailable, match="3 attempts"):
            client.parse("ổ gà")
        assert client.ping() is False


def test_ping(fake_rasa):
    server = fake_rasa([(200, {"hello": "rasa"}, 0)])
    with NluClient(server.url + "/") as client:
        assert client.ping() is True
    assert server.requests[0][:2] == ("GET", "/")


def test_from_rasa_tolerates_missing_fields():
    result = NluResult.from_rasa({"intent": None, "entities": [{"entity": "ward"}]})
    assert result.intent == ""
    assert result.category is None
    assert result.ranking == []
    assert result.entities == {}
