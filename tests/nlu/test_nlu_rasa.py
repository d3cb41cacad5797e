"""The real Rasa server with the current model (builds the env and trains on first use)."""

from __future__ import annotations

import pytest

from nlu.client import NluClient

pytestmark = pytest.mark.rasa

# Clear, new messages (not in the training data) and the category each must get.
CLEAR_MESSAGES = {
    "Đường trước nhà tôi có ổ gà rất to, xe máy sụp vào té liên tục": "road_damage",
    "den giao thong o nga tu bi hu tu sang, xe cong chen lan loan xa": "traffic",
    "Rác chất đống ở đầu kiệt cả tuần nay không ai thu gom, bốc mùi hôi": "waste",
    "nha may xa khoi den va mui hoi suot dem, dan ho suot": "pollution",
    "Hàng xóm hát karaoke đến 2 giờ sáng, không ai ngủ được": "noise",
    "Đèn đường trong hẻm bị hư cả tháng nay, tối om": "street_lighting",
    "nha em mat nuoc may 3 ngay roi ko co thong bao": "water_supply",
    "Mưa một chút là đường ngập sâu, cống thoát nước bị nghẹt": "drainage_flooding",
    "Cây xanh bật gốc đổ chắn ngang đường sau cơn giông": "trees",
    "Nhà bên cạnh xây thêm tầng không có giấy phép xây dựng": "illegal_construction",
    "Quán nhậu bày bàn ghế chiếm hết vỉa hè, người đi bộ phải xuống lòng đường": "encroachment",
    "Khu trọ mất trộm xe máy liên tục, đề nghị công an tăng cường tuần tra": "public_security",
    "Cả khu phố bị cúp điện từ sáng tới giờ, điện lực chưa khắc phục": "electricity",
    "Ăn cơm ở quán đầu chợ xong cả nhà bị ngộ độc, đau bụng tiêu chảy": "food_health",
    "Nộp hồ sơ làm sổ đỏ ở phường 3 tháng rồi vẫn chưa có kết quả": "public_service",
    "Bờ sông sau xóm bị sạt lở nặng, xin địa phương làm kè": "other",
}


@pytest.mark.timeout(1800)
def test_clear_messages_are_classified(rasa_server_url):
    with NluClient(rasa_server_url, timeout=10.0) as client:
        got = {text: client.parse(text).category for text in CLEAR_MESSAGES}
    wrong = {text: (want, got[text]) for text, want in CLEAR_MESSAGES.items() if got[text] != want}
    assert not wrong


@pytest.mark.timeout(1800)
def test_chat_messages_are_not_reports(rasa_server_url):
    with NluClient(rasa_server_url, timeout=10.0) as client:
        greeting = client.parse("xin chào")
        thanks = client.parse("cảm ơn nhiều nha")
        status = client.parse("phản ánh PA-2611-000123 xử lý tới đâu rồi")
    assert greeting.intent == "greet"
    assert greeting.category is None and not greeting.is_report
    assert thanks.intent == "thanks" and thanks.category is None
    assert status.intent == "ask_status" and status.category is None


@pytest.mark.timeout(1800)
def test_ward_and_street_entities(rasa_server_url):
    with NluClient(rasa_server_url, timeout=10.0) as client:
        accented = client.parse("Đường Nguyễn Văn Linh phường Hải Châu có ổ gà lớn")
        bare = client.parse("mat dien o p.hoa khanh tu sang toi gio")
    assert accented.entities.get("ward") == ["Hải Châu"]
    assert accented.entities.get("street") == ["Nguyễn Văn Linh"]
    assert accented.category == "road_damage"
    assert bare.entities.get("ward") == ["Hòa Khánh"]
    assert 0.0 < accented.confidence <= 1.0
    assert accented.ranking[0] == (accented.intent, accented.confidence)


# English reports as visitors write them (issue 18's example first): classified like
# Vietnamese ones, not taken for chit-chat.
ENGLISH_MESSAGES = {
    "The street lights on our lane have been off for a week": "street_lighting",
    "rubbish bags piled up in our alley, nobody has collected them for days": "waste",
    "no water from the tap since yesterday morning in our apartment": "water_supply",
    "karaoke next door blasting music till 1am every night": "noise",
}


@pytest.mark.timeout(1800)
def test_english_reports_are_classified_and_english_chat_is_not_a_report(rasa_server_url):
    with NluClient(rasa_server_url, timeout=10.0) as client:
        got = {text: client.parse(text) for text in ENGLISH_MESSAGES}
        hello = client.parse("hi there")
    wrong = {
        t: (want, got[t].category)
        for t, want in ENGLISH_MESSAGES.items()
        if got[t].category != want
    }
    assert not wrong
    assert all(answer.is_report for answer in got.values())
    assert hello.category is None and not hello.is_report


@pytest.mark.timeout(1800)
def test_a_permit_question_is_a_procedure_and_nc_is_water(rasa_server_url):
    with NluClient(rasa_server_url, timeout=10.0) as client:
        question = client.parse("cho mình hỏi muốn xây nhà 3 tầng thì xin giấy phép ở đâu?")
        report = client.parse("Nhà bên cạnh đang xây tầng 5, không treo biển giấy phép")
        water = client.parse("khu em mat nc tu sang, ko ai bao truoc")
    assert question.category == "public_service"
    assert report.category == "illegal_construction"
    assert water.category == "water_supply"
