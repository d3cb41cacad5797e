"""The password policy for staff accounts.

A password is refused when it is shorter than PASSWORD_MIN_LENGTH, is one of the common
passwords (zxcvbn's list of 30,000 plus config/common_passwords_vi.txt, compared with the
digits and symbols around it stripped, so "Matkhau@2026" is as weak as "matkhau"), or when
zxcvbn scores it below PASSWORD_MIN_SCORE given the account's own name and e-mail.
"""

from __future__ import annotations

import re
from functools import cache

from flask import current_app
from flask_babel import lazy_gettext as _l
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from config.settings import ROOT
from webapp.errors import ValidationError
from webapp.infra.text import ascii_name

MAX_LENGTH = 200
# zxcvbn's work grows with the length; what follows this many characters adds no doubt.
SCORED_LENGTH = 64
VI_LIST = ROOT / "config" / "common_passwords_vi.txt"
_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")


@cache
def common_passwords() -> frozenset[str]:
    """The refused list, lower-case."""
    local = [
        line.strip().lower()
        for line in VI_LIST.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return frozenset(FREQUENCY_LISTS["passwords"]) | frozenset(local)


def _is_common(password: str) -> bool:
    lowered = password.lower()
    core = _EDGES.sub("", lowered)
    common = common_passwords()
    return lowered in common or (core in common) or not core


def _personal_words(email: str, name: str) -> list[str]:
    """The account's own words, as typed and without diacritics (zxcvbn's user_inputs)."""
    local = email.split("@")[0]
    words = [email, local, *re.split(r"[._+-]", local), *name.split(), name.replace(" ", "")]
    return sorted({w for word in words if word for w in (word.lower(), ascii_name(word).lower())})


def check(password: str, *, email: str = "", name: str = "") -> None:
    """Raise ValidationError (field "password") when the policy refuses the password."""
    minimum = int(current_app.config.get("PASSWORD_MIN_LENGTH", 12))
    if len(password) < minimum:
        raise ValidationError(
            _l("Mật khẩu cần ít nhất %(minimum)s ký tự.", minimum=minimum),
            field="password",
        )
    if len(password) > MAX_LENGTH:
        raise ValidationError(
            _l("Mật khẩu tối đa %(maximum)s ký tự.", maximum=MAX_LENGTH),
            field="password",
        )
    if _is_common(password):
        raise ValidationError(
            _l("Mật khẩu này quá phổ biến, hãy chọn mật khẩu khác."),
            field="password",
        )
    inputs = _personal_words(email, name)
    score = zxcvbn(password[:SCORED_LENGTH], user_inputs=inputs)["score"]
    if score < int(current_app.config.get("PASSWORD_MIN_SCORE", 3)):
        raise ValidationError(
            _l(
                "Mật khẩu dễ đoán (tên, e-mail, chuỗi lặp hoặc từ thông dụng). Hãy dùng "
                "một câu dài hơn hoặc vài từ ngẫu nhiên."
            ),
            field="password",
        )
