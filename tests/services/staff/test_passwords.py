"""The password policy: length, common passwords (zxcvbn's list and a Vietnamese one), guessable
ones given the account's own name and e-mail."""

from __future__ import annotations

import pytest

from webapp.errors import ValidationError
from webapp.services.staff import passwords


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("ngắn-quá", "ít nhất 12"),
        ("x" * 201, "tối đa 200"),
        ("password1234", "phổ biến"),  # zxcvbn's list
        ("Matkhau@2026", "phổ biến"),  # the Vietnamese list, digits and symbols stripped
        ("anhyeuem123456", "phổ biến"),
        ("123456789012", "phổ biến"),
        ("nguyenvanbinh2026", "dễ đoán"),  # the account's own name
        ("abcdefghijklmnop", "dễ đoán"),  # a sequence
    ],
)
def test_refused(app, password, why):
    with app.app_context(), pytest.raises(ValidationError) as refused:
        passwords.check(password, email="binh.nv@demo.vn", name="Nguyễn Văn Bình")
    assert why in refused.value.message("vi")
    assert refused.value.field == "password"


@pytest.mark.parametrize(
    "password", ["mưa-phùn trên cầu Rồng 47", "phananh-demo-2026", "tàu-nhanh.Bắc-Nam.ghế.12"]
)
def test_accepted(app, password):
    with app.app_context():
        passwords.check(password, email="binh.nv@demo.vn", name="Nguyễn Văn Bình")


def test_the_length_is_a_setting(app):
    app.config["PASSWORD_MIN_LENGTH"] = 20
    try:
        with app.app_context(), pytest.raises(ValidationError, match="20"):
            passwords.check("mưa-phùn cầu Rồng", email="a@b.vn")
    finally:
        app.config["PASSWORD_MIN_LENGTH"] = 12
