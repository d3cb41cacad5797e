"""What the dialog exchanges with a messenger, and its words.

The value objects an adapter builds and shows (`Incoming`, `Outgoing`, `Button`), the
states, the words understood (commands, phrases, yes and no), and every text and keyboard
the resident is sent. Words are compared folded: "huy" is "Hủy" (`webapp.infra.text`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypeAlias

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from config.settings import VN_TZ
from webapp.services.messaging import conversations

# -- Value objects ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Button:
    """A choice offered to the resident; `payload` comes back as `Incoming.button`."""

    label: str
    payload: str


Keyboard: TypeAlias = list[list[Button]]


@dataclass(frozen=True)
class Incoming:
    """One message from a resident, whatever the messenger."""

    channel: str
    user_id: str
    display_name: str | None = None
    text: str | None = None
    photo: bytes | None = field(default=None, repr=False)
    photo_name: str | None = None
    location: tuple[float, float] | None = None
    button: str | None = None


@dataclass
class Outgoing:
    """One reply: text, rows of buttons, and optionally a stored photo (key and bytes)."""

    text: str
    buttons: Keyboard = field(default_factory=list)
    photo_key: str | None = None
    photo: bytes | None = field(default=None, repr=False)
    # The messenger may offer a "share my location" button (Telegram does).
    ask_location: bool = False
    share_location_label: str = ""
    # Whether a typed number picks a button ("1" = the first); not where a number is the
    # answer asked for.
    numbered: bool = True

    def __post_init__(self) -> None:
        # Texts may be lazy catalog strings: rendered now, in the turn's language.
        self.text = str(self.text)
        if self.ask_location and not self.share_location_label:
            self.share_location_label = str(SHARE_LOCATION)

    def button_rows(self) -> list[list[dict[str, str]]]:
        """The buttons as plain dicts, as the messenger senders take them."""
        return [[{"label": b.label, "payload": b.payload} for b in row] for row in self.buttons]


class NluAnswer(Protocol):
    """What the dialog reads of an NLU answer (nlu.client.NluResult)."""

    @property
    def intent(self) -> str: ...
    @property
    def confidence(self) -> float: ...
    @property
    def category(self) -> str | None: ...
    @property
    def is_report(self) -> bool: ...
    @property
    def ranking(self) -> list[tuple[str, float]]: ...
    @property
    def entities(self) -> dict[str, list[str]]: ...


# Text → NLU answer, or None when the NLU cannot be reached.
Classifier = Callable[[str], NluAnswer | None]

# -- States ----------------------------------------------------------------------------------
# `bot.dialog.table` maps each to its handler. The draft states keep a report being written
# in data["draft"]; the aside states are left for the step they interrupted (data["resume"]).

State: TypeAlias = str

IDLE: State = conversations.IDLE
DESCRIBE: State = "describe"
SPLIT: State = "split"
PHOTOS: State = "photos"
PLACE: State = "place"
NEARBY: State = "nearby"
CATEGORY: State = "category"
QUESTIONS: State = "questions"
CONFIRM: State = "confirm"
LOOKUP: State = "lookup"
REOPEN_ASK: State = "reopen_ask"
REOPEN_REASON: State = "reopen_reason"
ERASE_ASK: State = "erase_ask"
DRAFT_STATES = frozenset({DESCRIBE, SPLIT, PHOTOS, PLACE, NEARBY, CATEGORY, QUESTIONS, CONFIRM})
ASIDE_STATES = frozenset({LOOKUP, REOPEN_ASK, REOPEN_REASON, ERASE_ASK})

# -- Words understood ------------------------------------------------------------------------

CODE_RE = re.compile(r"\b[A-Za-z]{2,5}-\d{4}-\d{6,}\b")

# Slash commands (Telegram shows them in its menu; on Zalo they can be typed).
SLASH_COMMANDS = {
    "baocao": "new",
    "phananh": "new",
    "huy": "cancel",
    "tracuu": "lookup",
    "cuatoi": "mine",
    "help": "help",
    "start": "help",
    "giup": "help",
    "english": "english",
    "en": "english",
    "tiengviet": "vietnamese",
    "vi": "vietnamese",
    "dulieu": "mydata",
    "mydata": "mydata",
    "xoadulieu": "erase",
    "deletemydata": "erase",
}
# Whole messages meaning a command, folded (no diacritics, lower case).
PHRASES = {
    "new": {"bao cao", "phan anh", "gui phan anh", "bao cao moi", "phan anh moi", "tao phan anh"},
    "cancel": {"huy", "huy bo", "huy phan anh", "thoi", "cancel"},
    "help": {"help", "giup", "giup do", "tro giup", "huong dan", "menu", "start"},
    "mine": {"cua toi", "phan anh cua toi", "bao cao cua toi", "danh sach phan anh"},
    "lookup": {"tra cuu", "tra cuu phan anh", "kiem tra phan anh", "xem tien do"},
    "english": {"english", "tieng anh", "in english", "speak english"},
    "vietnamese": {"tieng viet", "vietnamese", "noi tieng viet"},
    "mydata": {"du lieu cua toi", "xem du lieu cua toi", "my data"},
    "erase": {"xoa du lieu", "xoa du lieu cua toi", "delete my data"},
}

YES = {"co", "dung", "dung roi", "phai", "ok", "oke", "okay", "dong y", "yes", "vang", "u"}
YES |= {"gui", "gui di", "xac nhan", "chinh xac", "da", "duoc", "send", "sure", "yep"}
NO = {"khong", "ko", "k", "khong phai", "sai", "no", "khong can", "thoi khoi"}
DONE = {"xong", "bo qua", "khong", "ko", "k", "khong co", "khong co anh", "het", "skip"}
DONE |= {"tiep", "tiep tuc", "xong roi", "khong chup", "khong co hinh", "done", "next", "none"}
FILE_ANYWAY = YES | {"van gui", "gui moi", "gui phan anh moi"}
GREETINGS = {"xin chao", "chao", "chao ban", "chao bot", "hello", "hi", "alo", "a lo", "hey"}
THANKS = {"cam on", "cam on ban", "cam on nhieu", "thanks", "thank you", "tks", "camon", "cmon"}
BYE = {"tam biet", "bye", "hen gap lai", "bai bai"}
CHAT_INTENTS = {"greet", "thanks", "goodbye", "ask_status", "out_of_scope"}

# -- Texts -----------------------------------------------------------------------------------
# Templates are filled with str.format.

EXPIRED = _l("Phản ánh bạn soạn dở lần trước đã quá lâu nên đã được hủy.")
STALE_CHOICE = _l("Lựa chọn này không còn hiệu lực.")
HELP = _l(
    "Mình là trợ lý tiếp nhận phản ánh hiện trường của {province}.\n"
    "• /baocao — gửi phản ánh mới (mô tả, ảnh, vị trí)\n"
    "• /tracuu <mã> — xem tiến độ xử lý, ví dụ /tracuu PA-2611-000123\n"
    "• /cuatoi — các phản ánh bạn đã gửi hoặc đang theo dõi\n"
    "• /huy — hủy phản ánh đang soạn\n"
    "• /english — trả lời bằng tiếng Anh (English)\n"
    "Bạn cũng có thể gõ ngay nội dung sự việc, ví dụ: "
    "“Rác thải đổ bừa bãi ở đầu kiệt 12 đường Bạch Đằng”."
)
LANGUAGE_CHOSEN = _l("Từ giờ mình trả lời bằng tiếng Việt. Gõ /english để chuyển sang tiếng Anh.")
SOME_PROVINCE = _l("tỉnh/thành phố")
GREET = _l(
    "Xin chào{name}! 👋 Mình là trợ lý tiếp nhận phản ánh hiện trường của "
    "{province}. Bạn gặp sự việc gì (rác thải, ổ gà, đèn đường hỏng, "
    "ngập nước…)? Hãy mô tả cho mình, hoặc bấm “Gửi phản ánh”."
)
YOU_ARE_WELCOME = _l("Không có gì ạ! Cảm ơn bạn đã chung tay vì thành phố. 💚")
GOODBYE = _l("Tạm biệt bạn! Khi cần phản ánh sự việc, cứ nhắn cho mình nhé.")
OUT_OF_SCOPE = _l(
    "Xin lỗi, mình chỉ tiếp nhận và tra cứu phản ánh hiện trường (hạ tầng, môi "
    "trường, trật tự đô thị…). Bạn muốn gửi phản ánh hay tra cứu?"
)
CANCELLED = _l("Đã hủy.")
DRAFT_CANCELLED = _l("Đã hủy phản ánh đang soạn.")
NO_DRAFT = _l("Hiện không có phản ánh nào đang soạn.")

ASK_DESCRIPTION = _l(
    "📝 Bạn hãy mô tả sự việc: chuyện gì, ở đâu, từ khi nào. Có thể gửi ảnh hoặc vị trí trước."
)
TOO_SHORT = _l(
    "Bạn mô tả chi tiết hơn một chút nhé (ít nhất {minimum} ký tự): sự việc gì, ở đâu, từ khi nào."
)
ADDED_TO_DESCRIPTION = _l("Đã bổ sung vào mô tả.")
ASK_PHOTOS = _l(
    "📷 Bạn có ảnh chụp hiện trường không? Gửi ảnh (tối đa {maximum}), hoặc bấm Bỏ qua."
)
ASK_MORE_PHOTOS = _l("Đã có {count} ảnh. Gửi thêm ảnh (tối đa {maximum}) hoặc bấm Xong.")
PHOTO_RECEIVED = _l("📷 Đã nhận {count} ảnh.")
PHOTO_REFUSED = _l("Mỗi phản ánh có tối đa {maximum} ảnh; ảnh này không được thêm.")
PHOTOS_ENOUGH = _l("Đã đủ {maximum} ảnh.")

SHARE_LOCATION = _l("📍 Gửi vị trí hiện tại")
ASK_PLACE = _l(
    "📍 Sự việc ở đâu? Gửi vị trí (ghim trên bản đồ), hoặc gõ địa chỉ, "
    "ví dụ: “12 Bạch Đằng, Hải Châu”."
)
PLACE_IN_PHOTO = _l("Ảnh của bạn có vị trí chụp tại {ward}.")
PLACE_IN_TEXT = _l("Trong mô tả có nhắc đến: {label}.")
PLACE_NOT_FOUND = _l(
    "Chưa tìm thấy “{address}” trên bản đồ. Bạn có thể gửi vị trí (ghim), "
    "gõ lại rõ hơn (số nhà, tên đường, phường/xã), hoặc giữ nguyên địa chỉ này."
)
LOCATION_RECEIVED = _l("📍 Đã nhận vị trí: {place}.")
PLACE_UNKNOWN = _l("chưa rõ")
OUTSIDE_PROVINCE = _l("ngoài địa bàn tỉnh/thành phố")
# How a place was given, shown after the ward.
PLACE_SOURCES = {
    "pin": _l("vị trí bạn gửi"),
    "exif": _l("vị trí trong ảnh"),
    "address": _l("theo địa chỉ"),
    "text": _l("theo mô tả"),
}

NEARBY_HEADER = _l("🔔 Gần vị trí này đã có phản ánh tương tự đang được xử lý:")
NEARBY_LINE = _l("{number}. {code} · {category} · {status} · cách {distance} m\n   “{description}”")
NEARBY_FOOTER = _l(
    "Bạn có thể theo dõi phản ánh đó để nhận thông báo khi có kết quả, "
    "thay vì gửi một phản ánh trùng lặp."
)
UNCLASSIFIED = _l("chưa phân loại")
FOLLOWING = _l(
    "🔔 Bạn đang theo dõi phản ánh {code}. Bạn sẽ nhận được thông báo "
    "khi phản ánh có cập nhật. Cảm ơn bạn!\n{url}"
)

GUESS_CATEGORY = _l("Có phải phản ánh về: {category}?")
ASK_CATEGORY = _l("Phản ánh của bạn thuộc lĩnh vực nào?")
ASK_CONFIRM = _l(
    "Vui lòng kiểm tra lại phản ánh:\n"
    "• Nội dung: {description}\n"
    "• Ảnh: {photos}\n"
    "• Vị trí: {place}\n"
    "• Lĩnh vực: {category}\n"
    "Gửi phản ánh này?"
)
NO_CATEGORY = _l("chưa chọn")
# Two problems in one message (nlu.problems): one report each, since each has its own agency.
TWO_PROBLEMS = _l(
    "Tin nhắn có vẻ nói về {count} vấn đề khác nhau:\n{lines}\n"
    "Mỗi vấn đề do một cơ quan xử lý riêng. Tách thành {count} phản ánh?"
)
NEXT_PROBLEM = _l("Tiếp theo, phản ánh về: {description}\n(cùng vị trí với phản ánh trước)")
# The chosen category's questions (config/categories.yml), one at a time.
QUESTION = _l("❓ Câu hỏi {number}/{total}: {question}")
TYPE_ANSWER = _l("Bạn trả lời bằng một tin nhắn.")
TYPE_NUMBER = _l("Bạn trả lời bằng một con số.")
MAY_SKIP = _l("Nếu không rõ, bấm “Bỏ qua”.")
ANSWER_REQUIRED = _l("Câu hỏi này cần câu trả lời để cơ quan xử lý đúng và nhanh.")
CHOOSE_ANSWER = _l("Vui lòng chọn một câu trả lời bên dưới.")
SUBMITTED = _l(
    "✅ Đã gửi phản ánh. Mã phản ánh của bạn: {code}\n"
    "Theo dõi tiến độ: {url}\n"
    "Gõ /tracuu {code} bất cứ lúc nào để xem kết quả xử lý."
)

ASK_CODE = _l("🔎 Bạn gửi mã phản ánh cần tra cứu, ví dụ PA-2611-000123.")
CODE_FORMAT = _l("Mã phản ánh có dạng PA-2611-000123 (có trong tin nhắn xác nhận).")
STATUS = _l("📋 Phản ánh {code}: {status}")
STATUS_CATEGORY = _l("Lĩnh vực: {}")
STATUS_UNIT = _l("Địa bàn: {}")
STATUS_AGENCY = _l("Cơ quan xử lý: {}")
STATUS_DUE = _l("Hạn xử lý: {}")
STATUS_RESULT = _l("Kết quả: {}")
STATUS_LATEST = _l("Cập nhật mới nhất: {}")
STATUS_LINK = _l("Chi tiết: {}")
NO_REPORTS = _l("Bạn chưa gửi phản ánh nào.")
MINE_HEADER = _l("📋 Phản ánh của bạn (mới nhất trước):")
MINE_LINE = _l("• {code} — {status}{mark}\n  {description}")
MINE_FOLLOWED = _l(" · đang theo dõi")

RATED = _l("Cảm ơn bạn đã đánh giá {stars}/5 ⭐! Ý kiến của bạn giúp cơ quan xử lý làm tốt hơn.")
RATED_LOW = _l("Cảm ơn bạn đã đánh giá {stars}/5. Rất tiếc kết quả chưa làm bạn hài lòng.")
THANKS_FOR_FEEDBACK = _l("Cảm ơn bạn đã phản hồi!")
ASK_REOPEN = _l("Bạn có muốn yêu cầu cơ quan xử lý lại phản ánh {code} không?")
ASK_REOPEN_REASON = _l(
    "Bạn hãy cho biết vấn đề còn tồn tại là gì (ví dụ: rác vẫn chưa được dọn, "
    "ổ gà vá xong đã vỡ lại). Nội dung này sẽ được gửi kèm cho cơ quan xử lý."
)
REOPEN_CANCELLED = _l("Đã hủy yêu cầu xử lý lại.")
REOPENED = _l(
    "🔁 Đã gửi lại phản ánh {code} cho {agency} kèm ý kiến của bạn.{due}\n"
    "Bạn sẽ nhận được thông báo khi có kết quả."
)
REOPENED_DUE = _l(" Hạn xử lý mới: {}.")
COORDINATORS = _l("bộ phận điều phối")

# Personal data (Decree 13/2023): the notice itself is webapp.services.privacy.notice's.
HELP_PRIVACY = _l("🔒 Dữ liệu cá nhân: /dulieu để xem, /xoadulieu để xoá.")
DATA_LINK = _l(
    "📄 Bản sao dữ liệu cá nhân của bạn (JSON): {url}\n"
    "Đường dẫn có hiệu lực trong {minutes} phút. Đừng chia sẻ đường dẫn này cho người khác."
)
NO_DATA = _l("Mình không lưu dữ liệu cá nhân nào về bạn: bạn chưa gửi hay theo dõi phản ánh nào.")
ASK_ERASE = _l(
    "🗑 Xoá dữ liệu cá nhân của bạn?\n"
    "Sẽ bị xoá: tên và mã tài khoản {messenger} của bạn, thông tin liên hệ, ảnh không công "
    "khai, cuộc trò chuyện này và phản ánh đang soạn dở (nếu có).\n"
    "Nội dung công khai của các phản ánh bạn đã gửi (đã lược bỏ thông tin cá nhân) vẫn được "
    "giữ lại, nhưng bạn sẽ không nhận được thông báo về các phản ánh đó nữa.\n"
    "Việc xoá không thể hoàn tác."
)
ERASE_CANCELLED = _l("Đã hủy. Dữ liệu của bạn được giữ nguyên.")
ERASED = _l(
    "✅ Đã xoá dữ liệu cá nhân của bạn. Số phản ánh được giữ lại ở dạng công khai, không "
    "còn gắn với bạn: {count}."
)
ERASED_CODES = _l("Mã phản ánh: {codes} (xem tiến độ bằng /tracuu <mã>).")
NOTHING_TO_ERASE = _l(
    "Mình không lưu phản ánh nào của bạn; cuộc trò chuyện này và phản ánh đang soạn dở "
    "(nếu có) đã được xoá."
)

LOCAL_TZ = VN_TZ


def short(text: str, length: int) -> str:
    """The text on one line, cut to `length` characters with an ellipsis."""
    text = " ".join((text or "").split())
    return text if len(text) <= length else text[: length - 1] + "…"


def local_time(value: datetime) -> str:
    """A time as residents read it: local hour, then day/month/year."""
    return value.astimezone(LOCAL_TZ).strftime("%H:%M %d/%m/%Y")


# -- Keyboards -------------------------------------------------------------------------------


def menu() -> Keyboard:
    """What the bot does: file a report, look one up, list one's own."""
    return [
        [Button(_("📝 Gửi phản ánh"), "new")],
        [Button(_("🔎 Tra cứu mã phản ánh"), "lookup"), Button(_("📋 Phản ánh của tôi"), "mine")],
    ]


def new_report() -> Keyboard:
    """Only "file a report" (nothing filed yet)."""
    return [[Button(_("📝 Gửi phản ánh"), "new")]]


def cancel_draft() -> Keyboard:
    """Cancel the report being written."""
    return [[Button(_("❌ Hủy"), "cancel")]]


def photos_done(count: int) -> Keyboard:
    """Done with photos, or skip them when none was sent."""
    return [[Button(_("✅ Xong"), "done")]] if count else [[Button(_("Bỏ qua"), "skip")]]


def place_choices(photo_place: bool, text_place: str | None) -> Keyboard:
    """The places already known (the photo's GPS, a name in the description), or skip."""
    rows: Keyboard = []
    if photo_place:
        rows.append([Button(_("📷 Dùng vị trí trong ảnh"), "place:photo")])
    if text_place:
        rows.append([Button(f"📝 {text_place[:40]}", "place:text")])
    rows.append([Button(_("Bỏ qua"), "skip")])
    return rows


def keep_address() -> Keyboard:
    """Keep an address the map does not know, or skip the place."""
    return [[Button(_("Giữ địa chỉ này"), "place:keep")], [Button(_("Bỏ qua"), "skip")]]


def follow_or_file(codes: list[str]) -> Keyboard:
    """Follow one of the reports nearby, or file a new one anyway."""
    rows = [[Button(_("🔔 Theo dõi {code}").format(code=code), f"follow:{code}")] for code in codes]
    rows.append([Button(_("📝 Vẫn gửi phản ánh mới"), "file_new")])
    return rows


def guessed_categories(names: list[tuple[str, str]]) -> Keyboard:
    """The NLU's guesses (code, name), one a row, then "another one"."""
    rows = [[Button(name, f"cat:{code}")] for code, name in names]
    rows.append([Button(_("Khác"), "cat:*")])
    return rows


def all_categories(names: dict[str, str]) -> Keyboard:
    """Every category, two a row."""
    items = [Button(name, f"cat:{code}") for code, name in names.items()]
    return [items[i : i + 2] for i in range(0, len(items), 2)]


def split_or_keep(count: int) -> Keyboard:
    """Split a message naming several problems into as many reports, or keep one."""
    return [
        [Button(_("✂️ Tách thành {count} phản ánh").format(count=count), "split:yes")],
        [Button(_("Giữ một phản ánh"), "split:no")],
    ]


def answers(values: list[tuple[str, str]], skippable: bool) -> Keyboard:
    """A question's answers (key, words), one a row, and "skip" unless it is required."""
    rows = [[Button(label, f"ans:{key}")] for key, label in values]
    if skippable:
        rows.append([Button(_("Bỏ qua"), "skip")])
    return rows


def confirm() -> Keyboard:
    """Send the report, change its category, or cancel it."""
    return [
        [Button(_("✅ Gửi phản ánh"), "send")],
        [Button(_("🏷 Đổi lĩnh vực"), "cat:*"), Button(_("❌ Hủy"), "cancel")],
    ]


def lookup() -> Keyboard:
    """One's own reports instead of a code, or cancel."""
    return [[Button(_("📋 Phản ánh của tôi"), "mine"), Button(_("Hủy"), "cancel")]]


def statuses(codes: list[str]) -> Keyboard:
    """The status of each report listed."""
    return [[Button(f"🔎 {code}", f"status:{code}")] for code in codes]


def reopen(code: str) -> Keyboard:
    """Ask for the report to be handled again, or not."""
    return [[Button(_("🔁 Có, xử lý lại"), f"reopen:{code}")], [Button(_("Không"), "noreopen")]]


def cancel_reopen() -> Keyboard:
    """Give up asking for the report to be handled again."""
    return [[Button(_("Hủy"), "noreopen")]]


# The answers to "erase my data?", understood only while it is asked (never a stale button).
ERASE_YES = "erase_yes"
ERASE_NO = "erase_no"


def confirm_erase() -> Keyboard:
    """Erase one's personal data, or not."""
    return [[Button(_("🗑 Có, xoá dữ liệu"), ERASE_YES)], [Button(_("Không"), ERASE_NO)]]
