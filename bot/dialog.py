"""The messenger dialog, the same on every channel: report a problem, follow one already
reported nearby, track a code, list one's reports, rate and reopen.

Adapters turn an update into an `Incoming` and show the `Outgoing` replies; nothing here
knows Telegram or Zalo. The state lives in the `conversations` row, locked for one turn and
committed with it, so any process continues any conversation and a restart loses nothing.
Every step understands text typed without diacritics: input is compared folded ("huy" is
"Hủy"), and an offered choice can be typed by its label or its number.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from webapp.errors import DomainError
from webapp.extensions import db
from webapp.models import AdminUnit, Category, InboundEvent, Report, ReportEvent
from webapp.services.casework import feedback
from webapp.services.geography import places
from webapp.services.intake import followers, photos, reports
from webapp.services.intake.serializers import public_url, status_label, tracking_url
from webapp.services.messaging import conversations, messengers
from webapp.services.messaging.notifications import result_photo_key
from webapp.services.text import fold

log = logging.getLogger(__name__)
LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CODE_RE = re.compile(r"\b[A-Za-z]{2,5}-\d{4}-\d{6,}\b")

# States. The draft states keep a report being written in data["draft"].
IDLE = conversations.IDLE
DESCRIBE, PHOTOS, PLACE, NEARBY, CATEGORY, CONFIRM = (
    "describe",
    "photos",
    "place",
    "nearby",
    "category",
    "confirm",
)
LOOKUP, REOPEN_ASK, REOPEN_REASON = "lookup", "reopen_ask", "reopen_reason"
DRAFT_STATES = frozenset({DESCRIBE, PHOTOS, PLACE, NEARBY, CATEGORY, CONFIRM})
ASIDE_STATES = frozenset({LOOKUP, REOPEN_ASK, REOPEN_REASON})

# Slash commands (Telegram shows them in its menu; on Zalo they can be typed).
COMMANDS = {
    "baocao": "new",
    "phananh": "new",
    "huy": "cancel",
    "tracuu": "lookup",
    "cuatoi": "mine",
    "help": "help",
    "start": "help",
    "giup": "help",
}
# Whole messages meaning a command, folded (no diacritics, lower case).
PHRASES = {
    "new": {"bao cao", "phan anh", "gui phan anh", "bao cao moi", "phan anh moi", "tao phan anh"},
    "cancel": {"huy", "huy bo", "huy phan anh", "thoi", "cancel"},
    "help": {"help", "giup", "giup do", "tro giup", "huong dan", "menu", "start"},
    "mine": {"cua toi", "phan anh cua toi", "bao cao cua toi", "danh sach phan anh"},
    "lookup": {"tra cuu", "tra cuu phan anh", "kiem tra phan anh", "xem tien do"},
}
YES = {"co", "dung", "dung roi", "phai", "ok", "oke", "okay", "dong y", "yes", "vang", "u"}
YES |= {"gui", "gui di", "xac nhan", "chinh xac", "da", "duoc"}
NO = {"khong", "ko", "k", "khong phai", "sai", "no", "khong can", "thoi khoi"}
DONE = {"xong", "bo qua", "khong", "ko", "k", "khong co", "khong co anh", "het", "skip"}
DONE |= {"tiep", "tiep tuc", "xong roi", "khong chup", "khong co hinh"}
GREETINGS = {"xin chao", "chao", "chao ban", "chao bot", "hello", "hi", "alo", "a lo", "hey"}
THANKS = {"cam on", "cam on ban", "cam on nhieu", "thanks", "thank you", "tks", "camon", "cmon"}
BYE = {"tam biet", "bye", "hen gap lai", "bai bai"}
CHAT_INTENTS = {"greet", "thanks", "goodbye", "ask_status", "out_of_scope"}


# -- Value objects ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Button:
    """A choice offered to the resident; `payload` comes back as `Incoming.button`."""

    label: str
    payload: str


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
    buttons: list[list[Button]] = field(default_factory=list)
    photo_key: str | None = None
    photo: bytes | None = field(default=None, repr=False)
    # The messenger may offer a "share my location" button (Telegram does).
    ask_location: bool = False

    def button_rows(self) -> list[list[dict[str, str]]]:
        """The buttons as plain dicts, as the messenger senders take them."""
        return [[{"label": b.label, "payload": b.payload} for b in row] for row in self.buttons]


class NluAnswer(Protocol):
    """What the dialog reads of an NLU answer (nlu.client.NluResult)."""

    intent: str
    confidence: float
    category: str | None
    is_report: bool
    ranking: list[tuple[str, float]]
    entities: dict[str, list[str]]


# Text → NLU answer, or None when the NLU cannot be reached.
Classifier = Callable[[str], NluAnswer | None]


def default_classifier(text: str) -> NluAnswer | None:
    """The app's NLU client; None when the NLU server is down (the dialog then asks)."""
    try:
        from nlu.client import NluError
        from webapp.services.casework.classification import nlu_client
    except ImportError:
        log.warning("NLU client not available; the bot asks for the category")
        return None
    try:
        return nlu_client().parse(text)
    except NluError as error:  # unreachable, or an answer it cannot use
        log.warning("NLU unavailable (%s); the bot asks for the category", error)
        return None


# -- The dialog ------------------------------------------------------------------------------


class Dialog:
    """Handles one incoming message at a time, inside an app context, and commits."""

    def __init__(self, classifier: Classifier | None = None):
        self.classifier = classifier or default_classifier

    def classify(self, text: str) -> NluAnswer | None:
        """The classifier's answer; None (never an exception) when it fails."""
        try:
            return self.classifier(text)
        except Exception:  # the resident must still be answered
            log.exception("classifier failed")
            return None

    def handle(self, incoming: Incoming, event_key: str | None = None) -> list[Outgoing]:
        """Answer one message; the state is committed before the replies are returned.

        `event_key` is the update's id on the messenger: an update seen before gets no
        answer, so a replayed webhook or an update redelivered after a crash counts once.
        """
        try:
            return self._turn(incoming, event_key)
        except DomainError as error:  # refused by a service: say why, keep the step
            db.session.rollback()
            return self._turn(incoming, event_key, failure=error)
        except BaseException:
            db.session.rollback()
            raise

    def _turn(
        self, incoming: Incoming, event_key: str | None, failure: DomainError | None = None
    ) -> list[Outgoing]:
        event = None
        if event_key is not None:
            event = conversations.claim(incoming.channel, event_key)
            if event is None:
                return []
        conversation, expired = conversations.load(incoming.channel, incoming.user_id)
        turn = _Turn(self, conversation, incoming, event)
        if failure is not None:
            turn.say(failure.message_vi)
            turn.prompt_current()
        else:
            if expired:
                turn.say("Phản ánh bạn soạn dở lần trước đã quá lâu nên đã được hủy.")
            turn.run()
        turn.persist()
        db.session.commit()
        return turn.replies


class _Turn:
    """One message: reads the state, decides, and writes the new state and the replies."""

    def __init__(self, dialog: Dialog, conversation, incoming: Incoming, event):
        self.dialog = dialog
        self.cfg = current_app.config
        self.conv = conversation
        self.incoming = incoming
        self.event: InboundEvent | None = event
        self.state: str = conversation.state
        self.data: dict[str, Any] = dict(conversation.data or {})
        self.replies: list[Outgoing] = []

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def draft(self) -> dict[str, Any]:
        """The report being written."""
        return self.data.setdefault("draft", {})

    @property
    def text(self) -> str:
        """The message text, trimmed."""
        return (self.incoming.text or "").strip()

    @property
    def key(self) -> str:
        """The message text folded for comparison."""
        return fold(self.text)

    def say(self, text: str, buttons: list[list[Button]] | None = None, **kw) -> Outgoing:
        """Add a reply."""
        reply = Outgoing(text, buttons or [], **kw)
        self.replies.append(reply)
        return reply

    def persist(self) -> None:
        """Write the state (with the choices just offered) and mark the update handled."""
        offered = next((r for r in reversed(self.replies) if r.buttons), None)
        self.data["choices"] = (
            [[b.payload, b.label] for row in offered.buttons for b in row] if offered else []
        )
        conversations.save(self.conv, self.state, self.data)
        if self.event is not None:
            conversations.mark_done(self.event)

    def _typed_choice(self) -> str | None:
        """A choice typed by its number or its label instead of pressed."""
        choices = self.data.get("choices") or []
        key = self.key
        if not key or not choices:
            return None
        if key.isdigit() and 1 <= int(key) <= len(choices):
            return choices[int(key) - 1][0]
        for payload, label in choices:
            if fold(label) == key:
                return payload
        return None

    def _command(self) -> tuple[str | None, str]:
        text = self.text
        if text.startswith("/"):
            word, _, rest = text[1:].partition(" ")
            word = word.split("@")[0]
            return COMMANDS.get(fold(word).replace(" ", ""), "help"), rest.strip()
        key = self.key
        for command, phrases in PHRASES.items():
            if key in phrases:
                return command, ""
        if key.startswith("tra cuu") and CODE_RE.search(text):
            return "lookup", text
        return None, ""

    # -- dispatch ---------------------------------------------------------------------------

    def run(self) -> None:
        """Commands and global buttons first, then the handler of the current step."""
        payload = self.incoming.button or self._typed_choice()
        if payload:
            if self._on_global(payload):
                return
        else:
            command, arg = self._command()
            if command:
                self._on_command(command, arg)
                return
        handler = getattr(self, f"_on_{self.state}", self._on_idle)
        handler(payload)

    def _on_global(self, payload: str) -> bool:
        if payload in ("new", "help", "mine", "lookup", "cancel"):
            self._on_command(payload, "")
            return True
        kind, _, rest = payload.partition(":")
        if kind == "status":
            self._show_status(rest)
            self._remind_draft()
            return True
        if kind == "rate":
            code, _, stars = rest.rpartition(":")
            self._rate(code, int(stars) if stars.isdigit() else 0)
            return True
        if kind == "reopen":
            self._ask_reopen_reason(rest)
            return True
        if payload == "noreopen" and self.state not in (REOPEN_ASK, REOPEN_REASON):
            self.say("Cảm ơn bạn đã phản hồi!")
            return True
        return False

    def _on_command(self, command: str, arg: str) -> None:
        if command == "new":
            self._start_draft()
            self._prompt_describe()
        elif command == "cancel":
            self._cancel()
        elif command == "help":
            self._help()
            self._remind_draft()
        elif command == "mine":
            self._show_mine()
            self._remind_draft()
        elif command == "lookup":
            match = CODE_RE.search(arg)
            if match:
                self._show_status(match.group())
                self._remind_draft()
            else:
                self._suspend(LOOKUP)
                self._prompt_lookup()

    def prompt_current(self) -> None:
        """Ask again what the current step needs."""
        prompts: dict[str, Callable[[], None]] = {
            DESCRIBE: self._prompt_describe,
            PHOTOS: self._prompt_photos,
            PLACE: self._ask_place,
            NEARBY: self._show_nearby,
            CATEGORY: self._ask_category,
            CONFIRM: self._ask_confirm,
            LOOKUP: self._prompt_lookup,
            REOPEN_ASK: self._prompt_reopen,
            REOPEN_REASON: self._prompt_reopen_reason,
        }
        prompt = prompts.get(self.state)
        if prompt is not None:
            prompt()

    def _remind_draft(self) -> None:
        if self.state in DRAFT_STATES:
            self.prompt_current()

    def _suspend(self, state: str) -> None:
        """Step aside (look-up, reopening) and come back to the draft afterwards."""
        if self.state not in ASIDE_STATES:
            self.data["resume"] = self.state
        self.state = state

    def _resume(self) -> None:
        self.state = self.data.pop("resume", IDLE)
        self.data.pop("reopen", None)
        self._remind_draft()

    # -- help, chit-chat, cancel ------------------------------------------------------------

    def _province(self) -> str:
        unit = db.session.get(AdminUnit, self.cfg["PROVINCE_CODE"])
        return unit.full_name if unit else "tỉnh/thành phố"

    @staticmethod
    def _menu() -> list[list[Button]]:
        return [
            [Button("📝 Gửi phản ánh", "new")],
            [Button("🔎 Tra cứu mã phản ánh", "lookup"), Button("📋 Phản ánh của tôi", "mine")],
        ]

    def _help(self) -> None:
        self.say(
            f"Mình là trợ lý tiếp nhận phản ánh hiện trường của {self._province()}.\n"
            "• /baocao — gửi phản ánh mới (mô tả, ảnh, vị trí)\n"
            "• /tracuu <mã> — xem tiến độ xử lý, ví dụ /tracuu PA-2611-000123\n"
            "• /cuatoi — các phản ánh bạn đã gửi hoặc đang theo dõi\n"
            "• /huy — hủy phản ánh đang soạn\n"
            "Bạn cũng có thể gõ ngay nội dung sự việc, ví dụ: "
            "“Rác thải đổ bừa bãi ở đầu kiệt 12 đường Bạch Đằng”.",
            self._menu(),
        )

    def _chat(self, intent: str) -> None:
        name = f" {self.incoming.display_name}" if self.incoming.display_name else ""
        if intent == "greet":
            self.say(
                f"Xin chào{name}! 👋 Mình là trợ lý tiếp nhận phản ánh hiện trường của "
                f"{self._province()}. Bạn gặp sự việc gì (rác thải, ổ gà, đèn đường hỏng, "
                "ngập nước…)? Hãy mô tả cho mình, hoặc bấm “Gửi phản ánh”.",
                self._menu() if self.state == IDLE else None,
            )
        elif intent == "thanks":
            self.say("Không có gì ạ! Cảm ơn bạn đã chung tay vì thành phố. 💚")
        elif intent == "goodbye":
            self.say("Tạm biệt bạn! Khi cần phản ánh sự việc, cứ nhắn cho mình nhé.")
        elif intent == "ask_status":
            self._suspend(LOOKUP)
            self._prompt_lookup()
            return
        else:
            self.say(
                "Xin lỗi, mình chỉ tiếp nhận và tra cứu phản ánh hiện trường (hạ tầng, môi "
                "trường, trật tự đô thị…). Bạn muốn gửi phản ánh hay tra cứu?",
                self._menu() if self.state == IDLE else None,
            )
        self._remind_draft()

    def _chat_intent(self, answer: NluAnswer | None) -> str | None:
        """The chit-chat intent of the message, if it is chit-chat and not a report."""
        key = self.key
        if key in GREETINGS:
            return "greet"
        if key in THANKS:
            return "thanks"
        if key in BYE:
            return "goodbye"
        if answer is not None and not answer.is_report and answer.intent in CHAT_INTENTS:
            return answer.intent
        return None

    def _cancel(self) -> None:
        if self.state in ASIDE_STATES:
            self.say("Đã hủy.")
            self._resume()
            return
        had_draft = self.state in DRAFT_STATES
        self._discard_draft()
        self.state = IDLE
        self.say(
            "Đã hủy phản ánh đang soạn." if had_draft else "Hiện không có phản ánh nào đang soạn.",
            self._menu(),
        )

    # -- the draft --------------------------------------------------------------------------

    def _start_draft(self) -> None:
        self._discard_draft()
        self.data["draft"] = {}
        self.state = DESCRIBE

    def _discard_draft(self) -> None:
        self.conv.photos.clear()
        for key in ("draft", "resume", "reopen"):
            self.data.pop(key, None)

    def _on_idle(self, payload: str | None) -> None:
        inc = self.incoming
        if payload:
            self.say("Lựa chọn này không còn hiệu lực.")
            self._help()
            return
        if inc.photo is not None or inc.location is not None:
            self._start_draft()
            self._on_describe(None)
            return
        text = self.text
        if not text:
            self._help()
            return
        code = CODE_RE.search(text)
        if code and len(self.key.split()) <= 5:
            self._show_status(code.group())
            return
        # Greetings are known without the NLU; anything else is asked to it.
        answer = None if self._chat_intent(None) else self.dialog.classify(text)
        intent = self._chat_intent(answer)
        if intent:
            self._chat(intent)
            return
        if len(text) < self.cfg["DESCRIPTION_MIN_LENGTH"] and not _names_a_problem(answer):
            self._help()
            return
        self._start_draft()
        self._take_description(text, answer)

    def _prompt_describe(self) -> None:
        self.say(
            "📝 Bạn hãy mô tả sự việc: chuyện gì, ở đâu, từ khi nào. "
            "Có thể gửi ảnh hoặc vị trí trước.",
            [[Button("❌ Hủy", "cancel")]],
        )

    def _take_media(self) -> None:
        """A photo or a location sent at any step of the draft is kept."""
        inc = self.incoming
        if inc.photo is not None and self._add_photo():
            self.say(f"📷 Đã nhận {len(self.conv.photos)} ảnh.")
        if inc.location is not None:
            self._set_place("pin", *inc.location)
            self.say(f"📍 Đã nhận vị trí: {self._place_text()}.")

    def _on_describe(self, payload: str | None) -> None:
        self._take_media()
        if self.text and not payload:
            self._take_description(self.text, None)
        else:
            self._prompt_describe()

    def _take_description(self, text: str, answer: NluAnswer | None) -> None:
        if answer is None:
            answer = self.dialog.classify(text)
        intent = self._chat_intent(answer)
        if intent in ("greet", "thanks", "goodbye", "ask_status"):
            self._chat(intent)
            return
        minimum = self.cfg["DESCRIPTION_MIN_LENGTH"]
        if len(text) < minimum:
            self.state = DESCRIBE
            self.say(
                f"Bạn mô tả chi tiết hơn một chút nhé (ít nhất {minimum} ký tự): "
                "sự việc gì, ở đâu, từ khi nào."
            )
            return
        draft = self.draft
        draft["description"] = text[: self.cfg["DESCRIPTION_MAX_LENGTH"]]
        draft["guess"] = self._guess(answer)
        draft["text_place"] = self._place_in_text(text, answer)
        self.state = PHOTOS
        self._prompt_photos()

    def _guess(self, answer: NluAnswer | None) -> list[str]:
        """The NLU's three likeliest categories, best first ("other" is no guess: it is
        in the full list behind "Khác")."""
        if answer is None:
            return []
        known = self._categories()
        codes = [answer.category] if answer.category else []
        codes += [code for code, _ in answer.ranking]
        unique = list(dict.fromkeys(c for c in codes if c in known and c != "other"))
        return unique[:3]

    def _place_in_text(self, text: str, answer: NluAnswer | None) -> dict | None:
        """Ward and street names in the description (gazetteer, then the NLU's entities)."""
        match = places.find_place_names(text)
        if match is None and answer is not None:
            entities = answer.entities or {}
            for name in [*entities.get("street", []), *entities.get("ward", [])]:
                match = places.find_place_names(name if " " in name else f"phường {name}")
                if match:
                    break
        if match is None:
            return None
        return {"lat": match.lat, "lon": match.lon, "label": match.matched_text[:60]}

    # photos

    def _prompt_photos(self) -> None:
        count = len(self.conv.photos)
        if count:
            self.say(
                f"Đã có {count} ảnh. Gửi thêm ảnh (tối đa {self._max_photos()}) hoặc bấm Xong.",
                [[Button("✅ Xong", "done")]],
            )
        else:
            self.say(
                "📷 Bạn có ảnh chụp hiện trường không? Gửi ảnh "
                f"(tối đa {self._max_photos()}), hoặc bấm Bỏ qua.",
                [[Button("Bỏ qua", "skip")]],
            )

    def _max_photos(self) -> int:
        return int(self.cfg["PHOTO_MAX_COUNT"])

    def _add_photo(self) -> bool:
        inc = self.incoming
        assert inc.photo is not None
        limits = reports.photo_limits()
        if len(self.conv.photos) >= limits.max_count:
            self.say(f"Mỗi phản ánh có tối đa {limits.max_count} ảnh; ảnh này không được thêm.")
            return False
        try:
            processed = photos.process_photo(inc.photo, inc.photo_name, limits)
        except DomainError as error:
            self.say(error.message_vi)
            return False
        conversations.add_photo(self.conv, inc.photo, inc.photo_name)
        if processed.gps and not self.draft.get("photo_gps"):
            self.draft["photo_gps"] = list(processed.gps)
        return True

    def _on_photos(self, payload: str | None) -> None:
        inc = self.incoming
        if payload in ("done", "skip"):
            self._ask_place()
            return
        if inc.photo is not None:
            if self._add_photo() and len(self.conv.photos) >= self._max_photos():
                self.say(f"Đã đủ {self._max_photos()} ảnh.")
                self._ask_place()
                return
            self._prompt_photos()
            return
        if inc.location is not None:
            self._set_place("pin", *inc.location)
            self._after_place()
            return
        if not self.text or self.key in DONE:
            self._ask_place()
            return
        match = places.geocode(self.text)
        if match is not None:
            self._set_place("address", match.lat, match.lon, address=self.text)
            self._after_place()
            return
        self.draft["description"] = f"{self.draft.get('description', '')}\n{self.text}".strip()
        self.say("Đã bổ sung vào mô tả.")
        self._prompt_photos()

    # place

    def _set_place(self, kind: str, lat: float, lon: float, address: str | None = None) -> None:
        placement = places.place(lat, lon)
        self.draft["place"] = {
            "kind": kind,
            "lat": lat,
            "lon": lon,
            "unit_code": placement.unit_code,
            "address": address,
        }

    def _unit_name(self, unit_code: str | None) -> str:
        unit = db.session.get(AdminUnit, unit_code) if unit_code else None
        return unit.full_name if unit else "ngoài địa bàn tỉnh/thành phố"

    def _place_text(self) -> str:
        place = self.draft.get("place") or {}
        if place.get("lat") is None:
            return place.get("address") or "chưa rõ"
        ward = self._unit_name(place.get("unit_code"))
        how = {
            "pin": "vị trí bạn gửi",
            "exif": "vị trí trong ảnh",
            "address": "theo địa chỉ",
            "text": "theo mô tả",
        }.get(place["kind"], "")
        address = f"{place['address']}, " if place.get("address") else ""
        return f"{address}{ward} ({how})" if how else f"{address}{ward}"

    def _ask_place(self) -> None:
        draft = self.draft
        if draft.get("place"):
            self._after_place()
            return
        self.state = PLACE
        lines = [
            "📍 Sự việc ở đâu? Gửi vị trí (ghim trên bản đồ), hoặc gõ địa chỉ, "
            "ví dụ: “12 Bạch Đằng, Hải Châu”."
        ]
        buttons: list[list[Button]] = []
        gps = draft.get("photo_gps")
        if gps:
            ward = self._unit_name(places.place(*gps).unit_code)
            lines.append(f"Ảnh của bạn có vị trí chụp tại {ward}.")
            buttons.append([Button("📷 Dùng vị trí trong ảnh", "place:photo")])
        text_place = draft.get("text_place")
        if text_place:
            lines.append(f"Trong mô tả có nhắc đến: {text_place['label']}.")
            buttons.append([Button(f"📝 {text_place['label'][:40]}", "place:text")])
        buttons.append([Button("Bỏ qua", "skip")])
        self.say("\n".join(lines), buttons, ask_location=True)

    def _on_place(self, payload: str | None) -> None:
        inc, draft = self.incoming, self.draft
        if payload == "place:photo" and draft.get("photo_gps"):
            self._set_place("exif", *draft["photo_gps"])
        elif payload == "place:text" and draft.get("text_place"):
            self._set_place("text", draft["text_place"]["lat"], draft["text_place"]["lon"])
        elif payload == "place:keep" and draft.get("pending_address"):
            draft["place"] = {"kind": "address", "address": draft.pop("pending_address")}
        elif payload == "skip" or (self.text and self.key in DONE):
            draft["place"] = {"kind": "none"}
        elif inc.location is not None:
            self._set_place("pin", *inc.location)
        elif inc.photo is not None:
            self._add_photo()
            self._ask_place()
            return
        elif self.text:
            match = places.geocode(self.text)
            if match is None:
                draft["pending_address"] = self.text[:500]
                self.say(
                    f"Chưa tìm thấy “{self.text[:100]}” trên bản đồ. Bạn có thể gửi vị trí (ghim), "
                    "gõ lại rõ hơn (số nhà, tên đường, phường/xã), hoặc giữ nguyên địa chỉ này.",
                    [[Button("Giữ địa chỉ này", "place:keep")], [Button("Bỏ qua", "skip")]],
                    ask_location=True,
                )
                return
            self._set_place("address", match.lat, match.lon, address=self.text[:500])
        else:
            self._ask_place()
            return
        self._after_place()

    def _after_place(self) -> None:
        draft = self.draft
        place = draft.get("place") or {}
        if place.get("lat") is not None and "nearby" not in draft:
            found = followers.nearby(
                place["lat"],
                place["lon"],
                radius_m=self.cfg["BOT_NEARBY_METERS"],
                categories=draft.get("guess") or None,
            )
            mine = {r.id for r, _ in followers.reports_of(*self._who(), limit=50)}
            draft["nearby"] = [
                [n.report.code, round(n.distance_m)] for n in found if n.report.id not in mine
            ]
            if draft["nearby"]:
                self.state = NEARBY
                self._show_nearby()
                return
        self._ask_category()

    # nearby reports

    def _show_nearby(self) -> None:
        lines = ["🔔 Gần vị trí này đã có phản ánh tương tự đang được xử lý:"]
        buttons = []
        for i, (code, distance) in enumerate(self.draft.get("nearby") or [], 1):
            report = db.session.scalar(select(Report).where(Report.code == code))
            if report is None:
                continue
            category = report.category or db.session.get(
                Category, report.category_hint or report.category_code or ""
            )
            label = category.name_vi if category else "chưa phân loại"
            lines.append(
                f"{i}. {code} · {label} · {status_label(report.status)} · cách {distance} m\n"
                f"   “{_short(report.description, 80)}”"
            )
            buttons.append([Button(f"🔔 Theo dõi {code}", f"follow:{code}")])
        lines.append(
            "Bạn có thể theo dõi phản ánh đó để nhận thông báo khi có kết quả, "
            "thay vì gửi một phản ánh trùng lặp."
        )
        buttons.append([Button("📝 Vẫn gửi phản ánh mới", "file_new")])
        self.say("\n".join(lines), buttons)

    def _on_nearby(self, payload: str | None) -> None:
        if payload and payload.startswith("follow:"):
            code = payload.split(":", 1)[1]
            report = reports.get_by_code(code)
            channel, user_id = self._who()
            followers.follow(report, channel, user_id, self.incoming.display_name)
            self._discard_draft()
            self.state = IDLE
            self.say(
                f"🔔 Bạn đang theo dõi phản ánh {report.code}. Bạn sẽ nhận được thông báo "
                f"khi phản ánh có cập nhật. Cảm ơn bạn!\n{public_url(report)}"
            )
            return
        if payload == "file_new" or self.key in YES | {"van gui", "gui moi", "gui phan anh moi"}:
            self._ask_category()
            return
        self._take_media()
        self._show_nearby()

    # category

    def _categories(self) -> dict[str, str]:
        rows = db.session.scalars(
            select(Category).where(Category.active).order_by(Category.sort_order, Category.code)
        )
        return {c.code: c.name_vi for c in rows}

    def _ask_category(self) -> None:
        self.state = CATEGORY
        cats = self._categories()
        guess = [g for g in self.draft.get("guess") or [] if g in cats]
        if guess and not self.draft.get("all_categories"):
            rows = [[Button(cats[code], f"cat:{code}")] for code in guess]
            rows.append([Button("Khác", "cat:*")])
            self.say(f"Có phải phản ánh về: {cats[guess[0]]}?", rows)
            return
        items = [Button(label, f"cat:{code}") for code, label in cats.items()]
        rows = [items[i : i + 2] for i in range(0, len(items), 2)]
        self.say("Phản ánh của bạn thuộc lĩnh vực nào?", rows)

    def _on_category(self, payload: str | None) -> None:
        cats = self._categories()
        if payload == "cat:*":
            self.draft["all_categories"] = True
            self._ask_category()
            return
        code = payload[4:] if payload and payload.startswith("cat:") else None
        if code is None and self.text:
            guess = [g for g in self.draft.get("guess") or [] if g in cats]
            key = self.key
            if key in YES and guess and not self.draft.get("all_categories"):
                code = guess[0]
            else:
                code = next(
                    (c for c, label in cats.items() if key and fold(label).startswith(key)), None
                )
        if code in cats:
            self.draft["category"] = code
            self._ask_confirm()
            return
        self._take_media()
        self._ask_category()

    # confirm and submit

    def _ask_confirm(self) -> None:
        self.state = CONFIRM
        draft = self.draft
        cats = self._categories()
        self.say(
            "Vui lòng kiểm tra lại phản ánh:\n"
            f"• Nội dung: {_short(draft.get('description', ''), 300)}\n"
            f"• Ảnh: {len(self.conv.photos)}\n"
            f"• Vị trí: {self._place_text()}\n"
            f"• Lĩnh vực: {cats.get(draft.get('category', ''), 'chưa chọn')}\n"
            "Gửi phản ánh này?",
            [
                [Button("✅ Gửi phản ánh", "send")],
                [Button("🏷 Đổi lĩnh vực", "cat:*"), Button("❌ Hủy", "cancel")],
            ],
        )

    def _on_confirm(self, payload: str | None) -> None:
        if payload == "send" or (not payload and self.key in YES):
            self._submit()
        elif payload == "cat:*":
            self.draft["all_categories"] = True
            self._ask_category()
        else:
            self._take_media()
            self._ask_confirm()

    def _who(self) -> tuple[str, str]:
        return self.incoming.channel, self.incoming.user_id

    def _submit(self) -> None:
        draft = self.draft
        place = draft.get("place") or {}
        uploads = [reports.PhotoUpload(p.data, p.filename) for p in self.conv.photos]
        channel, user_id = self._who()
        report_draft = reports.ReportDraft(
            channel=channel,
            description=draft.get("description", ""),
            photos=uploads,
            lat=place.get("lat"),
            lon=place.get("lon"),
            location_source=place.get("kind") if place.get("lat") is not None else None,
            address=place.get("address"),
            identity=reports.ChannelIdentity(channel, user_id, self.incoming.display_name),
            category_hint=draft.get("category"),
        )
        # The conversation is back to idle in the same commit as the report.
        self._discard_draft()
        self.state = IDLE
        self.persist()
        result = reports.submit_report(report_draft)
        report = db.session.get(Report, result.report_id)
        assert report is not None
        self.say(
            f"✅ Đã gửi phản ánh. Mã phản ánh của bạn: {result.code}\n"
            f"Theo dõi tiến độ: {tracking_url(report)}\n"
            f"Gõ /tracuu {result.code} bất cứ lúc nào để xem kết quả xử lý.",
            self._menu(),
        )

    # -- tracking ---------------------------------------------------------------------------

    def _prompt_lookup(self) -> None:
        self.say(
            "🔎 Bạn gửi mã phản ánh cần tra cứu, ví dụ PA-2611-000123.",
            [[Button("📋 Phản ánh của tôi", "mine"), Button("Hủy", "cancel")]],
        )

    def _on_lookup(self, payload: str | None) -> None:
        match = CODE_RE.search(self.text)
        if match:
            self.state = self.data.pop("resume", IDLE)
            self._show_status(match.group())
            self._remind_draft()
            return
        self.say("Mã phản ánh có dạng PA-2611-000123 (có trong tin nhắn xác nhận).")
        self._prompt_lookup()

    def _link_for(self, report: Report) -> str:
        """The secret link for the resident who sent the report; the public page for others."""
        identity = report.identity
        channel, user_id = self._who()
        if identity is not None and (identity.channel, identity.external_id) == (channel, user_id):
            return tracking_url(report)
        return public_url(report)

    def _show_status(self, code: str) -> None:
        report = reports.get_by_code(code)
        lines = [f"📋 Phản ánh {report.code}: {status_label(report.status)}"]
        if report.category:
            lines.append(f"Lĩnh vực: {report.category.name_vi}")
        if report.unit:
            lines.append(f"Địa bàn: {report.unit.full_name}")
        if report.agency:
            lines.append(f"Cơ quan xử lý: {report.agency.name}")
        if report.due_at and report.is_open:
            lines.append(f"Hạn xử lý: {_local(report.due_at)}")
        latest = _latest_public_note(report)
        if report.public_note and not report.is_open:
            lines.append(f"Kết quả: {report.public_note}")
        elif latest:
            lines.append(f"Cập nhật mới nhất: {latest}")
        lines.append(f"Chi tiết: {self._link_for(report)}")
        key = result_photo_key(report) if not report.is_open else None
        photo = None
        if key:
            try:
                photo = messengers.public_photo_bytes(key)
            except (DomainError, OSError):
                key = None
        self.say("\n".join(lines), photo_key=key, photo=photo)

    def _show_mine(self) -> None:
        items = followers.reports_of(*self._who())
        if not items:
            self.say("Bạn chưa gửi phản ánh nào.", [[Button("📝 Gửi phản ánh", "new")]])
            return
        lines = ["📋 Phản ánh của bạn (mới nhất trước):"]
        for report, own in items:
            mark = "" if own else " · đang theo dõi"
            lines.append(
                f"• {report.code} — {status_label(report.status)}{mark}\n"
                f"  {_short(report.description, 60)}"
            )
        buttons = [[Button(f"🔎 {r.code}", f"status:{r.code}")] for r, _ in items[:5]]
        self.say("\n".join(lines), buttons)

    # -- rating and reopening ---------------------------------------------------------------

    def _rate(self, code: str, stars: int) -> None:
        report = reports.get_by_code(code)
        channel, user_id = self._who()
        low = feedback.rate(report, channel, user_id, stars)
        if not low:
            self.say(
                f"Cảm ơn bạn đã đánh giá {stars}/5 ⭐! "
                "Ý kiến của bạn giúp cơ quan xử lý làm tốt hơn."
            )
            self._remind_draft()
            return
        self._suspend(REOPEN_ASK)
        self.data["reopen"] = report.code
        self.say(f"Cảm ơn bạn đã đánh giá {stars}/5. Rất tiếc kết quả chưa làm bạn hài lòng.")
        self._prompt_reopen()

    def _prompt_reopen(self) -> None:
        code = self.data.get("reopen", "")
        self.say(
            f"Bạn có muốn yêu cầu cơ quan xử lý lại phản ánh {code} không?",
            [[Button("🔁 Có, xử lý lại", f"reopen:{code}")], [Button("Không", "noreopen")]],
        )

    def _on_reopen_ask(self, payload: str | None) -> None:
        if self.key in YES:
            self._ask_reopen_reason(self.data.get("reopen", ""))
        elif payload == "noreopen" or self.key in NO:
            self.say("Cảm ơn bạn đã phản hồi!")
            self._resume()
        else:
            self._prompt_reopen()

    def _ask_reopen_reason(self, code: str) -> None:
        report = reports.get_by_code(code)
        self._suspend(REOPEN_REASON)
        self.data["reopen"] = report.code
        self._prompt_reopen_reason()

    def _prompt_reopen_reason(self) -> None:
        self.say(
            "Bạn hãy cho biết vấn đề còn tồn tại là gì (ví dụ: rác vẫn chưa được dọn, "
            "ổ gà vá xong đã vỡ lại). Nội dung này sẽ được gửi kèm cho cơ quan xử lý.",
            [[Button("Hủy", "noreopen")]],
        )

    def _on_reopen_reason(self, payload: str | None) -> None:
        if payload == "noreopen":
            self.say("Đã hủy yêu cầu xử lý lại.")
            self._resume()
            return
        if not self.text:
            self._prompt_reopen_reason()
            return
        report = reports.get_by_code(self.data.get("reopen", ""))
        channel, user_id = self._who()
        feedback.reopen(report, channel, user_id, self.text)
        agency = report.agency.name if report.agency else "bộ phận điều phối"
        due = f" Hạn xử lý mới: {_local(report.due_at)}." if report.due_at else ""
        self.say(
            f"🔁 Đã gửi lại phản ánh {report.code} cho {agency} kèm ý kiến của bạn.{due}\n"
            "Bạn sẽ nhận được thông báo khi có kết quả."
        )
        self._resume()


def _names_a_problem(answer: NluAnswer | None) -> bool:
    """Whether the NLU recognised a kind of problem (even in a few words: "ổ gà")."""
    return answer is not None and answer.is_report and answer.category not in (None, "other")


def _short(text: str, length: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= length else text[: length - 1] + "…"


def _local(value: datetime) -> str:
    return value.astimezone(LOCAL_TZ).strftime("%H:%M %d/%m/%Y")


def _latest_public_note(report: Report) -> str | None:
    """The latest public reply or status note (never an internal note)."""
    event = db.session.scalar(
        select(ReportEvent)
        .where(
            ReportEvent.report_id == report.id,
            ReportEvent.public.is_(True),
            ReportEvent.kind.in_(["reply", "status"]),
            ReportEvent.note.is_not(None),
        )
        .order_by(ReportEvent.id.desc())
        .limit(1)
    )
    return event.note if event else None
