"""Confidence intervals of the evaluation's figures (nlu.intervals), on cases with known
answers: Wilson's textbook values, and bootstraps whose width must follow the data."""

from __future__ import annotations

import random

import pytest

from nlu import intervals
from nlu.evaluation import evaluate, format_report
from nlu.intervals import bootstrap_f1, percentile, wilson


@pytest.mark.parametrize(
    ("successes", "total", "low", "high"),
    [
        (0, 10, 0.0, 0.2775),  # upper bound z²/(n + z²)
        (10, 10, 0.7225, 1.0),
        (50, 100, 0.4038, 0.5962),
        (95, 100, 0.8882, 0.9785),
    ],
)
def test_wilson_matches_the_textbook(successes, total, low, high):
    assert wilson(successes, total) == pytest.approx((low, high), abs=1e-4)


def test_wilson_of_nothing_says_nothing():
    assert wilson(0, 0) == (0.0, 1.0)


def _answers(per_class: int, wrong_every: int) -> tuple[list[str], list[str]]:
    """Two classes; every `wrong_every`-th message of class a is answered b."""
    gold = ["a"] * per_class + ["b"] * per_class
    predicted = [
        "b" if label == "a" and index % wrong_every == 0 else label
        for index, label in enumerate(gold)
    ]
    return gold, predicted


def test_the_interval_holds_the_figure_and_narrows_with_more_messages():
    small, small_macro = bootstrap_f1(*_answers(10, 5), ["a", "b"])
    large, large_macro = bootstrap_f1(*_answers(200, 5), ["a", "b"])
    f1_a = evaluate(*_answers(10, 5)).per_class["a"].f1
    assert small["a"][0] < f1_a < small["a"][1]
    assert small_macro[0] < large_macro[0] and large_macro[1] < small_macro[1]
    assert large["a"][1] - large["a"][0] < (small["a"][1] - small["a"][0]) / 2


def test_perfect_answers_have_no_spread_and_the_same_file_prints_the_same():
    gold = ["a", "b", "c"] * 5
    intervals, macro = bootstrap_f1(gold, gold, ["a", "b", "c"])
    assert macro == (1.0, 1.0) and intervals["b"] == (1.0, 1.0)
    draw = random.Random(5)  # four classes, about a fifth of the answers wrong anywhere
    gold = [label for label in "abcd" for _ in range(30)]
    said = [g if draw.random() < 0.8 else draw.choice("abcd") for g in gold]
    assert bootstrap_f1(gold, said, "abcd") == bootstrap_f1(gold, said, "abcd")
    assert bootstrap_f1(gold, said, "abcd", seed=1) != bootstrap_f1(gold, said, "abcd")


def test_a_small_class_is_in_every_resample():
    # 20 a and 2 b, all right: drawn from all 22 at once, a resample would often hold no b.
    gold = ["a"] * 20 + ["b"] * 2
    intervals, macro = bootstrap_f1(gold, gold, ["a", "b"])
    assert intervals["b"] == (1.0, 1.0) and macro == (1.0, 1.0)
    # A label absent from the whole set counts 0 in macro-F1, as in nlu.evaluation.
    report = evaluate(gold, gold, labels=["a", "b", "c"])
    assert report.macro_f1 == pytest.approx(2 / 3)
    assert report.macro_f1_interval == pytest.approx((2 / 3, 2 / 3))
    assert report.f1_intervals["c"] == (0.0, 0.0)


def test_the_report_prints_each_interval():
    gold, predicted = _answers(10, 5)
    report = evaluate(gold, predicted, confidences=[0.9] * len(gold), threshold=0.8)
    text = format_report(report)
    low, high = report.macro_f1_interval
    assert f"macro-F1     {report.macro_f1:.3f} (95% CI {low:.3f}–{high:.3f})" in text
    a_low, a_high = report.f1_intervals["a"]
    assert f"{a_low:.2f}–{a_high:.2f}" in next(line for line in text.splitlines() if "a " in line)
    # At 0.8 all 20 are routed, 18 of them right: Wilson's interval of 18/20.
    r_low, r_high = wilson(18, 20)
    assert f"right category 90.0% (95% CI {r_low:.1%}–{r_high:.1%})" in text
    plain = format_report(evaluate(gold, predicted, intervals=False))
    assert "CI" not in plain


def test_percentiles():
    values = [10.0, 20.0, 30.0, 40.0, 50.0]
    assert percentile(values, 50) == 30.0
    assert percentile(values, 0) == 10.0
    assert percentile(values, 100) == 50.0
    assert percentile(values, 95) == pytest.approx(48.0)
    assert percentile([7.0], 95) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)


def test_the_bootstrap_interval_interpolates_between_ranks():
    # 101 values 0..100: the middle 95 % runs from the 2.5th to the 97.5th percentile.
    assert intervals._middle([float(v) for v in range(101)]) == pytest.approx((2.5, 97.5))
