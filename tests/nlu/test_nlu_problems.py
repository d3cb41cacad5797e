"""Two problems in one message: cut where complaints are joined, each part classified."""

from __future__ import annotations

from dataclasses import dataclass

from nlu.problems import split


@dataclass
class Answer:
    category: str | None
    confidence: float


WORDS = {"đèn": "street_lighting", "rác": "waste", "ổ gà": "road_damage", "ổ voi": "road_damage"}


def classify(text: str) -> Answer:
    for word, category in WORDS.items():
        if word in text.lower():
            return Answer(category, 0.9)
    return Answer("other", 0.3)


def test_two_categories_joined_by_va_are_two_problems():
    assert split("đèn đường hỏng và rác ngập hẻm", classify) == [
        ("đèn đường hỏng", "street_lighting"),
        ("rác ngập hẻm", "waste"),
    ]


def test_a_comma_then_con_and_a_full_stop_also_join_complaints():
    assert len(split("Đèn hỏng cả tuần nay, còn rác thì không ai dọn", classify)) == 2
    assert len(split("Đèn hỏng cả tuần nay. Rác cũng không ai dọn", classify)) == 2


def test_one_problem_said_twice_or_too_unsure_is_one():
    assert split("Ổ gà và ổ voi khắp đường Âu Cơ", classify) == []
    assert split("đèn đường hỏng và chuyện khác nữa", classify) == [], "the other part is unsure"
    assert split("Rác chất đống ở đầu kiệt 12", classify) == []
    assert split("", classify) == []


def test_an_nlu_that_does_not_answer_finds_nothing():
    assert split("đèn đường hỏng và rác ngập hẻm", lambda text: None) == []
