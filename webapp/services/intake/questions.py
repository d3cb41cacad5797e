"""A category's extra questions (config/categories.yml `questions`) and the answers to them.

Definitions are checked the same way from the YAML file and from the administration's
editor (`definitions`, `from_text`): known keys only, codes unique, texts bounded, a list
with its answers, so a typo ("requried") is refused rather than silently ignored.

Answers are checked against the question: a string of at most MAX_ANSWER characters, a
number, or one of a list's keys; unknown questions are ignored; a required question without
an answer refuses the report where the category is chosen by the sender (Open311's
service_code, the web form's or a bot's category), since elsewhere the category is only
known after classification.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from flask_babel import lazy_gettext as _l

from webapp.errors import ValidationError
from webapp.extensions import db
from webapp.models import Category, Report

MAX_ANSWER = 200
DATATYPES = ("string", "number", "singlevaluelist")
MAX_QUESTIONS = 10  # a resident on a phone answers a few, not a survey
MAX_VALUES = 20
MAX_TEXT = 200
MAX_SOURCE = 20_000  # characters of YAML in the editor
CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
QUESTION_KEYS = {"code", "vi", "en", "datatype", "required", "values"}
VALUE_KEYS = {"key", "vi", "en"}
FIELD = "questions"


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


def of_code(code: str | None) -> list[Question]:
    """The questions of the category with this code (none for an unknown one)."""
    return of(db.session.get(Category, code)) if code else []


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
        answers[question.code] = check(question, value)
    return answers or None


def check(question: Question, value: str) -> Any:
    """One answer, checked and converted; ValidationError in the resident's words."""
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


# -- definitions (the YAML file and the administration's editor) ----------------------------


def _refuse(message: Any) -> ValidationError:
    return ValidationError(message, field=FIELD)


def _text(item: Mapping[str, Any], name: str, where: str, required: bool) -> str | None:
    value = item.get(name)
    if value is None or value == "":
        if required:
            raise _refuse(_l("Câu hỏi %(where)s: thiếu “%(name)s”.", where=where, name=name))
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise _refuse(_l("Câu hỏi %(where)s: “%(name)s” phải là chữ.", where=where, name=name))
    value = str(value).strip()
    if len(value) > MAX_TEXT or any(ord(c) < 32 for c in value):
        raise _refuse(
            _l(
                "Câu hỏi %(where)s: “%(name)s” quá dài hoặc có ký tự không hợp lệ.",
                where=where,
                name=name,
            )
        )
    return value


def _values(item: Mapping[str, Any], where: str) -> list[dict[str, str]]:
    raw = item.get("values")
    if not isinstance(raw, list) or not 2 <= len(raw) <= MAX_VALUES:
        raise _refuse(
            _l(
                "Câu hỏi %(where)s: danh sách cần từ 2 đến %(maximum)s câu trả lời (values).",
                where=where,
                maximum=MAX_VALUES,
            )
        )
    values, keys = [], set()
    for value in raw:
        if not isinstance(value, dict) or set(value) - VALUE_KEYS:
            raise _refuse(_l("Câu hỏi %(where)s: mỗi câu trả lời gồm key, vi, en.", where=where))
        key = str(value.get("key", "")).strip()
        if not KEY_RE.match(key) or key in keys:
            raise _refuse(
                _l(
                    "Câu hỏi %(where)s: key “%(key)s” không hợp lệ hoặc bị trùng.",
                    where=where,
                    key=key[:40],
                )
            )
        keys.add(key)
        vi = _text(value, "vi", where, True) or ""
        values.append({"key": key, "vi": vi, "en": _text(value, "en", where, False) or vi})
    return values


def definitions(raw: Any) -> list[dict[str, Any]] | None:
    """The questions of a category, checked and normalised; None for none."""
    if raw is None or raw == []:
        return None
    if not isinstance(raw, list) or len(raw) > MAX_QUESTIONS:
        raise _refuse(
            _l("Câu hỏi thêm phải là một danh sách, tối đa %(maximum)s câu.", maximum=MAX_QUESTIONS)
        )
    checked, codes = [], set()
    for number, item in enumerate(raw, start=1):
        where = str(number)
        if not isinstance(item, dict):
            raise _refuse(_l("Câu hỏi %(where)s: phải có code, vi, datatype…", where=where))
        unknown = sorted(map(str, set(item) - QUESTION_KEYS))
        if unknown:
            raise _refuse(
                _l(
                    "Câu hỏi %(where)s: không hiểu “%(keys)s”.",
                    where=where,
                    keys=", ".join(unknown),
                )
            )
        code = str(item.get("code", "")).strip()
        if not CODE_RE.match(code) or code in codes:
            raise _refuse(
                _l(
                    "Câu hỏi %(where)s: code “%(code)s” không hợp lệ (chữ thường, số, _) "
                    "hoặc bị trùng.",
                    where=where,
                    code=code[:40],
                )
            )
        codes.add(code)
        datatype = item.get("datatype", "string")
        if datatype not in DATATYPES:
            raise _refuse(
                _l(
                    "Câu hỏi %(where)s: datatype phải là string, number hoặc singlevaluelist.",
                    where=where,
                )
            )
        if not isinstance(item.get("required", False), bool):
            raise _refuse(_l("Câu hỏi %(where)s: required phải là true hoặc false.", where=where))
        if "values" in item and datatype != "singlevaluelist":
            raise _refuse(_l("Câu hỏi %(where)s: chỉ danh sách mới có values.", where=where))
        vi = _text(item, "vi", where, True) or ""
        question: dict[str, Any] = {
            "code": code,
            "vi": vi,
            "en": _text(item, "en", where, False) or vi,
            "datatype": datatype,
            "required": bool(item.get("required", False)),
        }
        if datatype == "singlevaluelist":
            question["values"] = _values(item, where)
        checked.append(question)
    return checked


def from_text(text: str) -> list[dict[str, Any]] | None:
    """The questions written in the editor (YAML, as in config/categories.yml)."""
    if len(text) > MAX_SOURCE:
        raise _refuse(_l("Câu hỏi thêm quá dài (tối đa %(maximum)s ký tự).", maximum=MAX_SOURCE))
    try:
        raw = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        raise _refuse(_l("Câu hỏi thêm: YAML không hợp lệ (dòng %(line)s).", line=line)) from None
    return definitions(raw)


def to_text(defined: list[dict[str, Any]] | None) -> str:
    """The questions as the editor shows them (YAML)."""
    if not defined:
        return ""
    return yaml.safe_dump(defined, allow_unicode=True, sort_keys=False, width=100)
