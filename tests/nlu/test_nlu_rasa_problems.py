"""Two problems in one message on the real Rasa server: genuine pairs are found, and the
formulae residents close a complaint with are not taken for a second problem (they sent a
single-problem report to triage as `several_problems`)."""

from __future__ import annotations

import pytest

from nlu import problems
from nlu.client import NluClient
from webapp.services.administration.history import CLOSINGS

pytestmark = pytest.mark.rasa

# New messages (not in the training data), each naming two problems.
PAIRS = {
    "đèn đường hỏng và rác ngập hẻm": {"street_lighting", "waste"},
    "Đường Lê Duẩn có ổ gà lớn, còn đèn đường thì tắt cả tuần nay": {
        "road_damage",
        "street_lighting",
    },
    "mat nuoc 2 ngay roi va day dien truoc nha bi vong xuong sat dau": {
        "water_supply",
        "electricity",
    },
    "Xưởng gỗ xả khói đen mỗi tối và có nhóm thanh niên tụ tập đánh nhau": {
        "pollution",
        "public_security",
    },
    "Nhà số 12 xây thêm tầng không phép. Ngoài ra cống trước nhà bị vỡ nắp": {
        "illegal_construction",
        "drainage_flooding",
    },
    "the street light is broken and garbage piles up in the alley": {"street_lighting", "waste"},
}
# One problem each; the closings (the demo history's) are not in the training data.
SINGLE = (
    "Ổ gà lớn trên đường Hùng Vương gần số nhà 40, xe máy đi qua rất dễ té ngã.",
    "Karaoke gia đình ở kiệt 12 Lê Lợi hát ồn ào đến khuya mỗi ngày.",
    "Đèn chiếu sáng trên đường Trần Phú bị hỏng từ tuần trước, buổi tối rất tối.",
    "Rác thải tập kết bừa bãi ở đầu kiệt 8 Hải Phòng nhiều ngày chưa được thu gom.",
    "Trụ điện trước số 65 Ông Ích Khiêm phát tia lửa khi trời mưa.",
    "Khu vực chợ Cồn thường xuyên có nhóm thanh niên tụ tập gây mất trật tự ban đêm.",
)


@pytest.mark.timeout(1800)
def test_two_problems_are_found_and_closing_formulae_are_not_a_second_one(rasa_server_url):
    with NluClient(rasa_server_url, timeout=10.0) as client:
        found = {text: {c for _, c in problems.split(text, client.parse)} for text in PAIRS}
        closings = [c for c in CLOSINGS if c.strip()]
        assert len(closings) >= 2
        false = {
            text + closing: problems.split(text + closing, client.parse)
            for text in SINGLE
            for closing in closings
        }
    assert found == PAIRS
    assert {text: parts for text, parts in false.items() if parts} == {}
