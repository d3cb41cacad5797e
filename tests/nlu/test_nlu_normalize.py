"""Text normalisation shared by the Rasa pipeline and the app."""

from __future__ import annotations

import unicodedata

import pytest

from nlu.normalize import model_text, normalize, strip_diacritics


def test_nfc_and_lower_case():
    decomposed = unicodedata.normalize("NFD", "Đường Hải Châu")
    assert normalize(decomposed) == "đường hải châu"
    assert unicodedata.is_normalized("NFC", normalize(decomposed))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ko có điện", "không có điện"),
        ("k ai dọn", "không ai dọn"),
        ("hok ai sửa", "không ai sửa"),
        ("sửa dc ko", "sửa được không"),
        ("đc chưa", "được chưa"),
        ("ng ta đổ rác", "người ta đổ rác"),
        ("làm j bây giờ", "làm gì bây giờ"),
        ("ai bít đâu", "ai biết đâu"),
        ("ở tp Đà Nẵng", "ở thành phố đà nẵng"),
    ],
)
def test_teencode(text, expected):
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("p.Hòa Khánh", "phường hòa khánh"),
        ("P.17, Q.10", "phường 17, quận 10"),
        ("(P7 Q6)", "(phường 7 quận 6)"),
        ("tp.HCM", "thành phố hồ chí minh"),
        ("q. Hải Châu", "quận hải châu"),
    ],
)
def test_ward_and_district_prefixes(text, expected):
    assert normalize(text) == expected


def test_words_that_only_look_like_teencode_are_kept():
    # "k" inside "50k", "p" in "pin", "ca" (fish, shift) and "A Lưới" stay as they are.
    assert normalize("giá 50k") == "giá 50k"
    assert normalize("thay pin") == "thay pin"
    assert normalize("tan ca xa nha") == "tan ca xa nha"
    assert normalize("thị trấn A Lưới") == "thị trấn a lưới"


def test_police_abbreviation():
    assert normalize("báo CA phường rồi") == "báo công an phường rồi"
    assert normalize("ca p.7 không tới") == "công an phường 7 không tới"
    # Without accents "ca phuong" may be "cả phường" (the whole ward): left alone.
    assert normalize("ca phuong mat dien") == "ca phuong mat dien"


def test_old_and_new_tone_placement_match():
    assert normalize("hoà khánh, thuỷ lợi, khoẻ") == normalize("hòa khánh, thủy lợi, khỏe")
    # Only at the end of a syllable: "hoàn" is written one way.
    assert normalize("hoàn thành") == "hoàn thành"


def test_whitespace_is_collapsed():
    assert normalize("  mất   điện\n\tcả ngày ") == "mất điện cả ngày"
    assert normalize("") == ""


def test_strip_diacritics():
    assert strip_diacritics("đường ổ gà, nước ngập") == "duong o ga, nuoc ngap"
    assert strip_diacritics("ĐÀ NẴNG") == "DA NANG"


def test_model_text_modes():
    text = "Đèn đường ko sáng"
    assert model_text(text, "plain") == "đèn đường không sáng"
    assert model_text(text, "ascii") == "den duong khong sang"
    assert model_text(text, "both") == "đèn đường không sáng den duong khong sang"
    # Text already without accents is not repeated.
    assert model_text("den duong hu", "both") == "den duong hu"


def test_accented_and_unaccented_messages_share_the_stripped_form():
    accented = model_text("Mất nước máy 3 ngày ở P.Hòa Khánh", "both")
    bare = model_text("mat nuoc may 3 ngay o p.hoa khanh", "ascii")
    assert bare == "mat nuoc may 3 ngay o phuong hoa khanh"
    assert accented.endswith(" " + bare)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nha em mat nc 2 ngay r", "nha em mat nước 2 ngay rồi"),
        ("Nc bẩn, có mùi", "nước bẩn, có mùi"),
        ("ngap nc toi dau goi", "ngap nước toi dau goi"),
        # "nc" = "nói chuyện" (to talk) before with/about: left as it is.
        ("da nc voi to truong roi", "da nc voi to truong roi"),
        ("em nc vs chủ nhà r", "em nc với chủ nhà rồi"),
        ("nc chuyện với phường", "nc chuyện với phường"),
    ],
)
def test_nc_is_water_except_when_it_is_talking(text, expected):
    assert normalize(text) == expected
