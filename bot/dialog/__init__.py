"""The messenger dialog, the same on every channel: report a problem, follow one already
reported nearby, track a code, list one's reports, rate and reopen, see or erase one's data.

Adapters turn an update into an `Incoming` and show the `Outgoing` replies; nothing here
knows Telegram or Zalo. The state lives in the `conversations` row, locked for one turn and
committed with it, so any process continues any conversation and a restart loses nothing.
Every step understands text typed without diacritics: input is compared folded ("huy" is
"Hủy"), and an offered choice can be typed by its label or its number.

| module | what it holds |
| --- | --- |
| `engine` | `Dialog`: one message, one transaction (`webapp.services.messaging.turns`) |
| `table` | the state → handler table, the commands and buttons valid at any step |
| `turn` | `Turn`: the message, the conversation's data, the replies; stepping aside |
| `vocabulary` | value objects, states, words understood, texts and keyboards |
| `filing` | filing a report: a first message, describe, photos, place, a report nearby |
| `submitting` | filing a report, the end: category, confirmation, submission |
| `draft` | the report being written: photos, place, the NLU's guesses (shared by both) |
| `tracking` | a report's status by code, one's own reports |
| `rating` | rating a resolved report, reopening it |
| `talk` | help, chit-chat, cancelling |
| `privacy` | the privacy notice at first contact, /dulieu, /xoadulieu (erasure, confirmed) |
"""

from bot.dialog.engine import Dialog, default_classifier
from bot.dialog.vocabulary import Button, Classifier, Incoming, NluAnswer, Outgoing

__all__ = [
    "Button",
    "Classifier",
    "Dialog",
    "Incoming",
    "NluAnswer",
    "Outgoing",
    "default_classifier",
]
