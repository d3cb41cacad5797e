"""A fake NLU and a chat that drives the real dialog, for the bot tests."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from bot.dialog import Dialog, Incoming, Outgoing
from webapp.infra.text import fold

HAI_CHAU = (16.0700, 108.2246)  # Bạch Đằng riverside, phường Hải Châu

# Keyword → category, the way a trained model would rank them.
_RULES = (
    ("rac", "waste"),
    ("o ga", "road_damage"),
    ("den duong", "street_lighting"),
    ("ngap", "drainage_flooding"),
    ("cay", "trees"),
    ("on ao", "noise"),
)
_CHAT = {
    "xin chao": "greet",
    "chao ban": "greet",
    "cam on nhe": "thanks",
    "hom nay troi dep qua nhi": "out_of_scope",
    "phan anh cua toi the nao roi": "ask_status",
}


@dataclass
class FakeAnswer:
    """Shaped like nlu.client.NluResult."""

    intent: str
    confidence: float
    category: str | None
    is_report: bool
    ranking: list[tuple[str, float]] = field(default_factory=list)
    entities: dict[str, list[str]] = field(default_factory=dict)


class FakeClassifier:
    """A keyword NLU; `down = True` makes it behave like an unreachable server."""

    def __init__(self) -> None:
        self.down = False
        self.calls: list[str] = []
        self.threads: set[int] = set()  # where it ran: never the bot's event loop

    def __call__(self, text: str) -> FakeAnswer | None:
        self.calls.append(text)
        self.threads.add(threading.get_ident())
        if self.down:
            return None
        key = fold(text)
        if key in _CHAT:
            return FakeAnswer(_CHAT[key], 0.95, None, False, [(_CHAT[key], 0.95)])
        hits = [code for word, code in _RULES if word in key]
        if not hits:
            return FakeAnswer("other", 0.4, "other", True, [("other", 0.4)])
        others = [c for c in ("pollution", "drainage_flooding", "road_damage") if c not in hits]
        ranking = [(hits[0], 0.91), *[(c, 0.03) for c in others[:2]]]
        return FakeAnswer(hits[0], 0.91, hits[0], True, ranking)


class Chat:
    """One resident talking to the dialog; keeps the last replies."""

    def __init__(self, dialog: Dialog, channel: str = "telegram", user_id: str = "1001"):
        self.dialog = dialog
        self.channel = channel
        self.user_id = user_id
        self.replies: list[Outgoing] = []

    def send(
        self,
        text: str | None = None,
        *,
        photo: bytes | None = None,
        location: tuple[float, float] | None = None,
        button: str | None = None,
        key: str | None = None,
    ) -> list[Outgoing]:
        """Send a message (or press a button by payload) and return the replies."""
        incoming = Incoming(
            channel=self.channel,
            user_id=self.user_id,
            display_name="Lan",
            text=text,
            photo=photo,
            photo_name="hien-truong.jpg" if photo else None,
            location=location,
            button=button,
        )
        self.replies = self.dialog.handle(incoming, event_key=key)
        return self.replies

    def press(self, label_start: str) -> list[Outgoing]:
        """Press the button whose label starts with the given text."""
        for reply in reversed(self.replies):
            for row in reply.buttons:
                for b in row:
                    if b.label.startswith(label_start):
                        return self.send(button=b.payload)
        raise AssertionError(f"no button {label_start!r} in {self.labels}")

    @property
    def text(self) -> str:
        """All reply texts joined."""
        return "\n".join(r.text for r in self.replies)

    @property
    def labels(self) -> list[str]:
        """Labels of every button offered in the last replies."""
        return [b.label for r in self.replies for row in r.buttons for b in row]


def resolve_with_result_photo(report_id: int, note: str = "Đã thu gom toàn bộ rác.") -> None:
    """Route a report to its agency and resolve it with a photo of the result (committed)."""
    from tests.fixtures.images import make_jpeg
    from webapp.extensions import db
    from webapp.infra import storage
    from webapp.models import Report, ReportStatus
    from webapp.services.casework import routing, workflow
    from webapp.services.intake import photos, reports

    report = db.session.get(Report, report_id)
    assert report is not None
    processed = photos.process_photo(make_jpeg(color=(30, 160, 60)), "ket-qua.jpg")
    saved = storage.photo_store().store(processed)
    report.photos.append(reports.photo_row(processed, saved.key, len(report.photos), kind="result"))
    if report.status == ReportStatus.RECEIVED:
        report.category_code = report.category_hint or "waste"
        workflow.transition(report, ReportStatus.CLASSIFIED)
        routing.assign(report, routing.route(report.category_code, report.unit_code))
    report.public_note = note
    workflow.transition(report, ReportStatus.RESOLVED, note=note)
    db.session.commit()


def deliver_new_messages(report_id: int, after_id: int = 0) -> list[str]:
    """Deliver the report's outbox rows created after `after_id`, as the worker would."""
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import OutboxMessage
    from webapp.services.messaging import outbox

    ids = db.session.scalars(
        select(OutboxMessage.id)
        .where(OutboxMessage.report_id == report_id, OutboxMessage.id > after_id)
        .where(OutboxMessage.recipient_kind == "resident")
        .order_by(OutboxMessage.id)
    ).all()
    return [outbox.deliver(message_id) for message_id in ids]


def last_outbox_id() -> int:
    """The id of the newest outbox row (0 when none)."""
    from sqlalchemy import func, select

    from webapp.extensions import db
    from webapp.models import OutboxMessage

    return db.session.scalar(select(func.coalesce(func.max(OutboxMessage.id), 0)))
