"""The report a resident is writing in a messenger: its photos, kept with the conversation
until the report is submitted (the text and choices are in the conversation's data)."""

from __future__ import annotations

from webapp.models import Conversation
from webapp.services.intake.reports import PhotoUpload


def photo_count(conversation: Conversation) -> int:
    """How many photos the draft has."""
    return len(conversation.photos)


def uploads(conversation: Conversation) -> list[PhotoUpload]:
    """The draft's photos, in the order sent, as intake takes them."""
    return [PhotoUpload(p.data, p.filename) for p in conversation.photos]


def drop_photos(conversation: Conversation) -> None:
    """Forget the draft's photos (deleted with the turn's commit)."""
    conversation.photos.clear()
