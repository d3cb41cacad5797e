"""Scrubbing of personal data from the public text of a report (webapp.services.intake.scrub)."""

from __future__ import annotations

import random
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webapp.services.intake.scrub import (
    EMAIL,
    ID_NUMBER,
    PHONE,
    PLACEHOLDERS,
    PLATE,
    Match,
    find,
    scrub,
    scrub_with_count,
)

TEL, MAIL, ID, BSX = (PLACEHOLDERS[k] for k in (PHONE, EMAIL, ID_NUMBER, PLATE))


def test_placeholders_are_vietnamese_words_in_brackets():
    assert (TEL, MAIL, ID, BSX) == ("[số điện thoại]", "[email]", "[số giấy tờ]", "[biển số xe]")


# --- phone numbers -------------------------------------------------------------------

PHONES = [
    # mobiles, every usual spelling
    ("0905123456", TEL),
    ("0905 123 456", TEL),
    ("0905.123.456", TEL),
    ("0905-123-456", TEL),
    ("090 512 3456", TEL),
    ("0905 12 34 56", TEL),
    ("0905.123456", TEL),
    ("0905 123456", TEL),
    ("0905-123456", TEL),
    ("+84 905 123 456", TEL),
    ("+84905123456", TEL),
    ("+84-905-123-456", TEL),
    ("+84.905.123.456", TEL),
    ("84905123456", TEL),
    ("84 905 123 456", TEL),
    ("(+84) 905-123-456", TEL),
    ("(+84)905123456", TEL),
    ("+84 (0) 905 123 456", TEL),
    ("0084 905 123 456", TEL),
    ("0912345678", TEL),
    ("0362 345 678", TEL),
    ("0865.123.456", TEL),
    ("0701234567", TEL),
    ("0561234567", TEL),
    ("０９０５１２３４５６", TEL),  # full-width digits
    # landlines with an area code
    ("0236 3822 123", TEL),
    ("0236.3.822.123", TEL),
    ("(0236) 3822123", TEL),
    ("(0236)3822123", TEL),
    ("0236-3822-123", TEL),
    ("02363822123", TEL),
    ("024 3822 1234", TEL),
    ("028.3822.1234", TEL),
    ("+84 236 3822 123", TEL),
    # inside Vietnamese sentences, with and without diacritics
    ("sdt 0905123456", f"sdt {TEL}"),
    ("SĐT: 0905 123 456.", f"SĐT: {TEL}."),
    ("liên hệ: 0905.123.456 (anh Nam)", f"liên hệ: {TEL} (anh Nam)"),
    ("lien he 0905.123.456 anh Nam", f"lien he {TEL} anh Nam"),
    ("đt:0905123456", f"đt:{TEL}"),
    ("dt:0905123456", f"dt:{TEL}"),
    ("zalo 0905 123 456", f"zalo {TEL}"),
    ("Gọi 0905 123 456, gặp chị Lan.", f"Gọi {TEL}, gặp chị Lan."),
    ("tel:+84905123456", f"tel:{TEL}"),
    ("sđt 0905123456 đ/c 12 Lê Lợi", f"sđt {TEL} đ/c 12 Lê Lợi"),
    ("sđt 0905123456 đ.c 12 Lê Lợi", f"sđt {TEL} đ.c 12 Lê Lợi"),
    ("0905123456 đồng ý", f"{TEL} đồng ý"),
    # glued to words or to each other
    ("sdt0905123456", f"sdt{TEL}"),
    ("ĐT0905 123 456anh", f"ĐT{TEL}anh"),
    ("sđt0905.123.456", f"sđt{TEL}"),
    ("sđt(0236) 3822123", f"sđt{TEL}"),
    ("0905123456-0914222333", f"{TEL}-{TEL}"),
    ("0905123456/0914222333", f"{TEL}/{TEL}"),
    ("0905123456,0914222333", f"{TEL},{TEL}"),
    ("0905123456 0914222333", f"{TEL} {TEL}"),
    ("0905 123 456 - 0914 222 333", f"{TEL} - {TEL}"),
    ("0905 123 456 hoặc 0236 3822 123", f"{TEL} hoặc {TEL}"),
    ("0905 123 456 789", f"{TEL} 789"),
    # next to dates and times, which stay
    ("12/05/2026 0905 123 456", f"12/05/2026 {TEL}"),
    ("0905123456 lúc 9:30", f"{TEL} lúc 9:30"),
    ("ngày 08.12.2026 gọi 0905.123.456", f"ngày 08.12.2026 gọi {TEL}"),
]


@pytest.mark.parametrize(("text", "expected"), PHONES)
def test_phone_numbers_are_scrubbed(text, expected):
    assert scrub(text) == expected


HOTLINES = [
    "1900 1234",
    "1800 1234",
    "19001234",
    "1900.1234",
    "1900 123 456",
    "18001091",
    "hotline 1022",
    "gọi 113, 114, 115",
    "tổng đài 1900 1234 của điện lực",
]


@pytest.mark.parametrize("text", HOTLINES)
def test_hotlines_and_short_numbers_stay(text):
    """Public-service numbers identify no person: the public may keep reading them."""
    assert scrub(text) == text
    assert find(text) == []


# --- e-mails -------------------------------------------------------------------------

EMAILS = [
    ("nam@gmail.com", MAIL),
    ("NAM@GMAIL.COM", MAIL),
    ("nam.nguyen@gmail.com", MAIL),
    ("nam.nguyen+phananh@mail.danang.gov.vn", MAIL),
    ("nam_nguyen-1990@yahoo.com.vn", MAIL),
    ("x@y.co", MAIL),
    ("email: nam@gmail.com.", f"email: {MAIL}."),
    ("email:abc@gmail.com;def@yahoo.com.vn", f"email:{MAIL};{MAIL}"),
    ("(nam@gmail.com)", f"({MAIL})"),
    ("nguyễn.văn@gmail.com", MAIL),
    ("nam0905123456@gmail.com", MAIL),  # the whole address, not a phone inside it
    ("nam (at) gmail.com", MAIL),
    ("nam [at] gmail.com", MAIL),
    ("nam(AT)gmail.com", MAIL),
    ("nam (a còng) gmail.com", MAIL),
    ("nam @ gmail.com", MAIL),
]


@pytest.mark.parametrize(("text", "expected"), EMAILS)
def test_emails_are_scrubbed(text, expected):
    assert scrub(text) == expected


@pytest.mark.parametrize("text", ["a@b", "nam@gmail", "gặp @ 5h", "a@b.c", "@nam", "giá 5$ @ 2"])
def test_no_email_without_a_domain(text):
    assert scrub(text) == text


# --- ID numbers ----------------------------------------------------------------------

IDS = [
    ("CMND 201234567", f"CMND {ID}"),
    ("CMND: 201.234.567", f"CMND: {ID}"),
    ("Số CMND: 201234567 cấp ngày 12/05/2010", f"Số CMND: {ID} cấp ngày 12/05/2010"),
    ("cmnd so 201 234 567", f"cmnd so {ID}"),
    ("CCCD 079096001234", f"CCCD {ID}"),
    ("CCCD: 0790 9600 1234", f"CCCD: {ID}"),
    ("CCCD số 079 096 001 234", f"CCCD số {ID}"),
    ("căn cước công dân số 079096001234", f"căn cước công dân số {ID}"),
    ("can cuoc 079096001234", f"can cuoc {ID}"),
    ("số định danh 079.096.001.234", f"số định danh {ID}"),
    ("số định danh cá nhân: 079-096-001-234", f"số định danh cá nhân: {ID}"),
    ("chứng minh nhân dân 201234567", f"chứng minh nhân dân {ID}"),
    # standalone
    ("079096001234", ID),
    ("0790 9600 1234", ID),
    ("079 096 001 234", ID),
    ("201234567", ID),
    ("201 234 567", ID),
    ("tôi là Nam, 079096001234, ở tổ 5", f"tôi là Nam, {ID}, ở tổ 5"),
    ("CMND 201234567, sđt 0905123456", f"CMND {ID}, sđt {TEL}"),
    ("201234567 đ/c 12 Lê Lợi", f"{ID} đ/c 12 Lê Lợi"),
    ("CCCD 079096001234 và SĐT 0905 123 456", f"CCCD {ID} và SĐT {TEL}"),
]


@pytest.mark.parametrize(("text", "expected"), IDS)
def test_id_numbers_are_scrubbed(text, expected):
    assert scrub(text) == expected


# --- licence plates ------------------------------------------------------------------

PLATES = [
    # cars
    "43A-123.45",
    "43A 123.45",
    "43A12345",
    "43A-1234",
    "51F-12345",
    "30E-123.45",
    "43LD-012.34",
    "43AA-123.45",
    "43a-123.45",
    "43ld-012.34",
    # motorbikes
    "43-B1 234.56",
    "43B1-234.56",
    "43B1 234.56",
    "43B123456",
    "29-X1 123.45",
    "59-T1 234.56",
    "59-t1 234.56",
    "29-X1 1234",
]


@pytest.mark.parametrize("plate", PLATES)
def test_licence_plates_are_scrubbed(plate):
    assert scrub(plate) == BSX
    assert scrub(f"xe {plate} đỗ trên vỉa hè.") == f"xe {BSX} đỗ trên vỉa hè."
    assert scrub(f"(BS: {plate})") == f"(BS: {BSX})"


# --- what must survive ---------------------------------------------------------------

SURVIVORS = [
    # dates and times
    "12/05/2026",
    "12-05-2026",
    "12.05.2026",
    "2026-05-12",
    "ngày 12/5/2026",
    "10/3/2026-15/3/2026",
    "7:30",
    "19h30",
    "7g30",
    "08.12.2026 09:30",
    "ngày 08/12/2026 lúc 09:30, 09h30",
    "lúc 07h30 ngày 12/05/2026",
    # money
    "500.000 đồng",
    "1.200.000đ",
    "2 triệu",
    "12.000.000",
    "1.200.000.000 đồng",
    "2.500.000.000 đồng",
    "2.000.000 - 3.000.000 đồng",
    "123.456.789 đồng",
    "905.123.456",
    "900000000 đồng",
    "500000000đ",
    "99.999.999",
    # addresses and house numbers
    "số 12 Lê Lợi",
    "kiệt 45/12 Hoàng Diệu",
    "K123/45 Nguyễn Văn Linh",
    "hẻm 12/34/56 Phạm Văn Đồng",
    "Kiệt 123/4/5 đường 30/4",
    "tổ 5",
    "số 123 tổ 45 phường 6",
    "nhà 12A 2024",
    "nhà 12A Lê Lợi",
    # roads, posts, lamps
    "cột điện số 0123",
    "trụ đèn ĐL-045",
    "QL1A km 935+200",
    "QL14B",
    "đường 2/9",
    "ĐT605",
    # measurements
    "dài 3m, sâu 0,5 m",
    "50cm",
    "12m 3456",
    "cao 2,5m rộng 1.200mm",
    "19h 3000",
    # years, counts, codes, short numbers
    "từ 2020 đến 2026",
    "từ 2025-2026",
    "các năm 2024 2025 2026",
    "có 15 hộ dân, 3 xe máy",
    "PA-2611-000123",
    "mã PA-2611-000123 và PA-2611-000124",
    "PA-2611-1234567",
    "12345678",
    "1234567890",
    "0123456789",
    "123456789012345",
    "179096001234",
    "3822123",
    "2026 0905",
    "20251205",
    "",
    "   ",
    "Đường Lê Lợi có ổ gà lớn, nguy hiểm cho người đi xe máy.",
]


@pytest.mark.parametrize("text", SURVIVORS)
def test_ordinary_text_survives(text):
    assert find(text) == []
    assert scrub(text) == text


def test_a_whole_report():
    text = (
        "Lúc 19h30 ngày 12/5/2026, xe 43A-123.45 đỗ trên vỉa hè trước số 12 Lê Lợi, "
        "che cột điện số 0123. Ổ gà dài 3m, sâu 0,5 m. Tôi đã báo tổng đài 1022 và gửi "
        "phản ánh PA-2611-000123. Liên hệ anh Nam 0905.123.456 hoặc nam.nguyen@gmail.com, "
        "CCCD 079096001234. Tiền sửa khoảng 1.200.000đ."
    )
    expected = (
        f"Lúc 19h30 ngày 12/5/2026, xe {BSX} đỗ trên vỉa hè trước số 12 Lê Lợi, "
        "che cột điện số 0123. Ổ gà dài 3m, sâu 0,5 m. Tôi đã báo tổng đài 1022 và gửi "
        f"phản ánh PA-2611-000123. Liên hệ anh Nam {TEL} hoặc {MAIL}, "
        f"CCCD {ID}. Tiền sửa khoảng 1.200.000đ."
    )
    assert scrub(text) == expected
    assert scrub_with_count(text) == (expected, 4)


def test_find_gives_kind_and_span_in_text_order():
    text = "sdt 0905 123 456, nam@gmail.com, CMND 201234567, xe 43A-123.45"
    matches = find(text)
    assert [m.kind for m in matches] == [PHONE, EMAIL, ID_NUMBER, PLATE]
    assert [text[m.start : m.end] for m in matches] == [
        "0905 123 456",
        "nam@gmail.com",
        "201234567",
        "43A-123.45",
    ]
    assert matches[0] == Match(PHONE, 4, 16)


def test_scrub_with_count():
    assert scrub_with_count("không có gì") == ("không có gì", 0)
    assert scrub_with_count("0905123456, 0914222333") == (f"{TEL}, {TEL}", 2)


# --- robustness ----------------------------------------------------------------------

_ALPHABET = "0123456789" * 4 + " .-/+()@:,;hHAaBbĐđxX_\n\t" + "０٣" + "ễ😀\u200b\x00"
_PIECES = [
    "0905",
    "123",
    "456",
    "+84",
    "84",
    "(0236)",
    "CMND ",
    "CCCD ",
    "43A-",
    "43-B1 ",
    "123.45",
    "@gmail.com",
    "nam",
    " (at) ",
    "12/05/2026",
    "19h30",
    "PA-2611-",
    "000123",
    "1900",
    "đồng",
    "[số điện thoại]",
    "[email]",
]


def _random_texts(seed: int, count: int) -> list[str]:
    rnd = random.Random(seed)
    texts = []
    for _ in range(count):
        if rnd.random() < 0.5:
            size = rnd.randint(0, 80)
            texts.append("".join(rnd.choice(_ALPHABET) for _ in range(size)))
        else:
            parts = rnd.choices(_PIECES + list(_ALPHABET), k=rnd.randint(0, 25))
            texts.append("".join(parts))
    return texts


@pytest.mark.parametrize("seed", range(4))
def test_random_strings_never_raise_and_scrubbing_is_idempotent(seed):
    for text in _random_texts(seed, 300):
        once = scrub(text)
        assert scrub(once) == once, text
        matches = find(text)
        assert all(0 <= m.start < m.end <= len(text) for m in matches), text
        assert all(a.end <= b.start for a, b in pairwise(matches)), text


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_unicode_text_never_raises_and_is_idempotent(text):
    once = scrub(text)
    assert scrub(once) == once


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list("0123456789 .-+()/") + _PIECES)).map("".join))
def test_digit_soup_never_raises_and_is_idempotent(text):
    once, count = scrub_with_count(text)
    assert scrub(once) == once
    assert (count == 0) == (once == text)


@pytest.mark.timeout(5)
@pytest.mark.parametrize(
    "text",
    [
        "".join(random.Random(7).choice("0123456789 .") for _ in range(4000)),
        "".join(random.Random(8).choice("0123456789 .-/+(),:") for _ in range(4000)),
        "0" * 4000,
        "0905 " * 800,
        "1." * 2000,
        "CMND " + "1 " * 2000,
        "43A-" * 1000,
        "a@" + "a-" * 2000,
        "a@" + "b." * 2000,
        "a." * 2000 + "@",
        "(at)" * 1000,
    ],
    ids=lambda t: repr(t[:12]),
)
def test_pathological_inputs_finish(text):
    once = scrub(text)
    assert scrub(once) == once
