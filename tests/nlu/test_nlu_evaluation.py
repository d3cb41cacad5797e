"""Metrics of nlu.evaluation on hand-made examples with known values."""

from __future__ import annotations

import pytest

from nlu.evaluation import (
    NO_CATEGORY,
    budget_threshold,
    calibration_error,
    evaluate,
    format_report,
    routing_table,
)


def test_known_confusion():
    # 3 classes. Gold: a a a b b c.  Predicted: a a b b b a.
    # a: tp 2, predicted 3, gold 3 -> P 2/3 R 2/3 F1 2/3
    # b: tp 2, predicted 3, gold 2 -> P 2/3 R 1   F1 0.8
    # c: tp 0, predicted 0, gold 1 -> P 0   R 0   F1 0
    gold = ["a", "a", "a", "b", "b", "c"]
    predicted = ["a", "a", "b", "b", "b", "a"]
    report = evaluate(gold, predicted)
    assert report.total == 6
    assert report.accuracy == pytest.approx(4 / 6)
    assert report.per_class["a"].f1 == pytest.approx(2 / 3)
    assert report.per_class["b"].precision == pytest.approx(2 / 3)
    assert report.per_class["b"].recall == pytest.approx(1.0)
    assert report.per_class["b"].f1 == pytest.approx(0.8)
    assert report.per_class["c"].f1 == 0.0
    assert report.per_class["c"].support == 1
    assert report.macro_f1 == pytest.approx((2 / 3 + 0.8 + 0.0) / 3)
    assert report.confusions == [("a", "b", 1), ("c", "a", 1)]


def test_a_chat_intent_or_none_is_a_miss_but_not_a_class():
    report = evaluate(["a", "b"], ["a", None])
    assert set(report.per_class) == {"a", "b"}
    assert report.per_class["b"].f1 == 0.0
    assert report.macro_f1 == pytest.approx(0.5)
    assert report.confusions == [("b", NO_CATEGORY, 1)]


def test_explicit_labels_and_errors():
    report = evaluate(["a", "a"], ["a", "b"], labels=["a", "b", "c"], texts=["x", "y"])
    assert set(report.per_class) == {"a", "b", "c"}
    assert report.errors == [("y", "a", "b")]


def test_lengths_must_match():
    with pytest.raises(ValueError):
        evaluate(["a"], [])


def test_latency_and_format():
    report = evaluate(["a", "b"], ["a", "b"], latencies_ms=[10.0, 30.0])
    assert report.latency_p50_ms == pytest.approx(20.0)
    assert report.latency_p95_ms == pytest.approx(29.0)
    text = format_report(report, show_errors=True)
    assert "macro-F1     1.000" in text
    assert "latency p95  29.0 ms" in text


def test_routing_table_counts_what_the_intake_does():
    gold = ["waste", "waste", "noise", "trees", "trees"]
    predicted = ["waste", "noise", "noise", None, "trees"]
    confidences = [0.9, 0.7, 0.55, 0.99, 0.3]
    rows = {r.threshold: r for r in routing_table(gold, predicted, confidences, [0.5, 0.6, 0.8])}
    # 0.5: waste(ok), noise(wrong), noise(ok) routed; None is triage whatever its confidence.
    assert rows[0.5].routed == pytest.approx(3 / 5) and rows[0.5].precision == pytest.approx(2 / 3)
    assert rows[0.5].triage == pytest.approx(2 / 5)
    assert (rows[0.6].routed, rows[0.6].precision) == (pytest.approx(2 / 5), pytest.approx(1 / 2))
    assert (rows[0.8].routed, rows[0.8].precision) == (pytest.approx(1 / 5), 1.0)


def test_calibration_error_is_zero_when_confidence_matches_the_hit_rate():
    gold = ["a"] * 10
    right_at_80 = ["a"] * 8 + ["b"] * 2
    assert calibration_error(gold, right_at_80, [0.8] * 10) == pytest.approx(0.0)
    # Certain and right half the time: the gap is one half.
    half = ["a"] * 5 + ["b"] * 5
    assert calibration_error(gold, half, [1.0] * 10) == pytest.approx(0.5)


def test_the_report_prints_the_configured_threshold_and_the_table():
    report = evaluate(
        ["a", "b", "a"], ["a", "b", "b"], confidences=[0.95, 0.65, 0.4], threshold=0.6
    )
    text = format_report(report)
    assert "at the threshold 0.60: routed 66.7%, of which to the right category 100.0%" in text
    assert "triage 33.3%" in text and "<- configured" in text
    assert "calibration error (ECE, 10 bins)" in text
    assert [r.threshold for r in report.routing] == sorted(r.threshold for r in report.routing)


def test_a_triage_budget_picks_the_most_precise_threshold_within_it():
    # Ten reports: the two wrong answers are the least confident of those routed.
    gold = ["a"] * 10
    predicted = ["a"] * 6 + ["b", "b"] + ["a", None]
    confidences = [0.95, 0.9, 0.9, 0.85, 0.8, 0.75, 0.62, 0.55, 0.4, 0.99]
    # 10 % (the None answer alone): 0.30–0.40 route the other nine, 7 of them right.
    loose = budget_threshold(gold, predicted, confidences, 0.10)
    assert loose is not None and loose.threshold == 0.3 and loose.triage == pytest.approx(0.1)
    # 40 %: 0.63–0.75 route the six right ones and leave four to triage: all right.
    strict = budget_threshold(gold, predicted, confidences, 0.40)
    assert strict is not None and strict.threshold == 0.63
    assert (strict.precision, strict.triage) == (1.0, pytest.approx(0.4))
    # Less than what the None answer alone takes: no threshold keeps within it.
    assert budget_threshold(gold, predicted, confidences, 0.05) is None


def test_the_report_prints_the_budget_threshold():
    gold, predicted = ["a", "a", "a", "a"], ["a", "a", "b", "a"]
    # 0.30–0.50 route all four (one wrong); 0.51–0.80 leave the wrong one to triage (25 %).
    report = evaluate(gold, predicted, confidences=[0.9, 0.8, 0.5, 0.95], triage_budget=0.25)
    assert report.budget_row is not None and report.budget_row.threshold == 0.51
    text = format_report(report)
    assert "for a triage budget of 25%: threshold 0.51, routed 75.0%" in text
    nothing = evaluate(gold, [None] * 4, confidences=[0.0] * 4, triage_budget=0.25)
    assert "no threshold keeps triage within it" in format_report(nothing)
