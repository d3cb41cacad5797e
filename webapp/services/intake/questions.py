"""A category's extra questions (config/categories.yml `questions`) and the answers to them.

Answers are checked against the question: a string of at most MAX_ANSWER characters, a
number, or one of a list's keys; unknown questions are ignored; a required question without
an answer refuses the report where the category is chosen by the sender (Open311's
service_code), since elsewhere the category is only known after classification.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from webapp.errors import ValidationError
from webapp.extensions import db
from webapp.models import Category, Report

MAX_ANSWER = 200
DATATYPES = ("string", "number", "singlevaluelist")


@dataclass(frozen=True)
class Question:
    """One question of a category."""

    code: str
    vi: str
    en: str
    datatype: str
    required: bool
    values: tuple[tuple[str, str, str], ...]  # (key, vi, en)

    def label(self, locale: str = "vi") -> str:
        """The question in the locale."""
        return self.en if locale.startswith("en") else self.vi

    def value_label(self, key: str, locale: str = "vi") -> str:
        """The words of one of a list's keys."""
        for value, vi, en in self.values:
            if value == key:
                return en if locale.startswith("en") else vi
        return key


def of(category: Category | None) -> list[Question]:
    """The category's questions, in order."""
    found = []
    for item in (category.questions or []) if category else []:
        datatype = item.get("datatype", "string")
        found.append(
            Question(
                code=str(item["code"]),
                vi=str(item.get("vi", item["code"])),
                en=str(item.get("en", item.get("vi", item["code"]))),
                datatype=datatype if datatype in DATATYPES else "string",
                required=bool(item.get("required", False)),
                values=tuple(
                    (str(v["key"]), str(v.get("vi", v["key"])), str(v.get("en", v["key"])))
                    for v in item.get("values") or []
                ),
            )
        )
    return found


def clean(
    category: Category | None, raw: Mapping[str, Any], *, enforce_required: bool
) -> dict[str, Any] | None:
    """The answers, checked; None when there are none."""
    answers: dict[str, Any] = {}
    for question in of(category):
        value = raw.get(question.code)
        value = "" if value is None else str(value).strip()
        if not value:
            if question.required and enforce_required:
                raise ValidationError(
                    _l("Vui lòng trả lời: %(question)s", question=question.vi),
                    field=f"attribute[{question.code}]",
                )
            continue
        answers[question.code] = _checked(question, value)
    return answers or None


def _checked(question: Question, value: str) -> Any:
    if question.datatype == "number":
        try:
            number = float(value.replace(",", "."))
        except ValueError:
            number = float("nan")
        if number != number or abs(number) > 1e9:
            raise ValidationError(
                _l("Câu trả lời phải là một số: %(question)s", question=question.vi),
                field=f"attribute[{question.code}]",
            )
        return int(number) if number.is_integer() else number
    if question.datatype == "singlevaluelist":
        if value not in {key for key, _vi, _en in question.values}:
            raise ValidationError(
                _l("Câu trả lời không có trong danh sách: %(question)s", question=question.vi),
                field=f"attribute[{question.code}]",
            )
        return value
    return value[:MAX_ANSWER]


def answered(report: Report, locale: str = "vi") -> list[tuple[str, str]]:
    """The report's answers as (question, answer) in the locale, for the agency's page."""
    if not report.attributes:
        return []
    category = report.category
    if category is None and report.category_hint:
        category = db.session.get(Category, report.category_hint)
    shown = []
    for question in of(category):
        if question.code in report.attributes:
            value = str(report.attributes[question.code])
            shown.append((question.label(locale), question.value_label(value, locale)))
    return shown
