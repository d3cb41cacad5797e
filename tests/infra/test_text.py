"""Text folding: one comparison key for typed and stored Vietnamese text."""

from __future__ import annotations

import pytest

from webapp.infra import text as text_module
from webapp.infra.text import ascii_name, fold


def test_ascii_name_removes_vietnamese_diacritics():
    assert ascii_name("Điện Bàn Đông") == "Dien Ban Dong"
    assert ascii_name("Hoà Khánh") == ascii_name("Hòa Khánh") == "Hoa Khanh"


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("P.Hải Châu", "phuong hai chau"),
        ("p hai chau", "phuong hai chau"),
        ("Phường  Hải   Châu", "phuong hai chau"),
        ("Hải Châu", "hai chau"),
        ("X.Hòa Vang", "xa hoa vang"),
        ("Q. Sơn Trà, TP Đà Nẵng", "quan son tra thanh pho da nang"),
        ("TP.Hội An", "thanh pho hoi an"),
        ("ĐƯỜNG Nguyễn Văn Linh", "duong nguyen van linh"),
        ("Hoà Khánh", "hoa khanh"),
        ("Hòa Khánh", "hoa khanh"),
        ("kiệt 12/3 Lê Duẩn", "kiet 12 3 le duan"),
        ("", ""),
    ],
)
def test_fold(text, folded):
    assert fold(text) == folded


def test_fold_is_stable_under_unicode_normalisation():
    decomposed = "Ha\u0309i Cha\u0302u"  # NFD input, as some keyboards send it
    assert fold(decomposed) == fold("Hải Châu") == "hai chau"


def test_only_short_words_are_cached():
    """Folding keeps a cache of syllables; a long token (an attacker's, a number) stays out
    of it, and folds the same either way."""
    long_word = "Đường" * 40
    text_module._cached_keys.cache_clear()
    assert fold(f"Đường {long_word} hỏng") == f"duong {'duong' * 40} hong"
    cached = text_module._cached_keys.cache_info().currsize
    assert cached == 2  # "Đường" and "hỏng", not the 200-letter token
    assert fold("Đường hỏng") == "duong hong"
    assert text_module._cached_keys.cache_info().hits >= 2
