"""The dialog's entry point: one message in, one transaction, the replies out."""

from __future__ import annotations

import logging

from flask_babel import force_locale
from sqlalchemy import inspect

from bot.dialog import privacy, table
from bot.dialog.turn import Turn
from bot.dialog.vocabulary import EXPIRED, Classifier, Incoming, NluAnswer, Outgoing
from webapp.errors import DomainError
from webapp.services.messaging import conversations, turns

log = logging.getLogger(__name__)


def default_classifier(text: str) -> NluAnswer | None:
    """The app's NLU client; None when the NLU server is down (the dialog then asks)."""
    try:
        from nlu.client import NluError
        from webapp.infra import work_stats
        from webapp.services.casework.classification import nlu_client
    except ImportError:
        log.warning("NLU client not available; the bot asks for the category")
        return None
    try:
        with work_stats.nlu_call():
            return nlu_client().parse(text)
    except NluError as error:  # unreachable, or an answer it cannot use
        log.warning("NLU unavailable (%s); the bot asks for the category", error)
        return None


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
            turns.rollback()
            return self._turn(incoming, event_key, failure=error)
        except BaseException:
            turns.rollback()
            raise

    def _turn(
        self, incoming: Incoming, event_key: str | None, failure: DomainError | None = None
    ) -> list[Outgoing]:
        claimed = turns.claim(incoming.channel, incoming.user_id, event_key)
        if claimed is None:
            return []
        turn = Turn(claimed, incoming, self.classify, table.PROMPTS)
        with force_locale(turn.language):  # every text of the turn, in the resident's language
            privacy.show_notice(turn)
            if failure is not None:
                turn.say(failure.message(turn.language))
                turn.prompt(turn.state)
                state = turn.state
            else:
                if claimed.expired:
                    turn.say(EXPIRED)
                state = table.dispatch(turn)
        if turn.erased:
            _after_erasure(claimed)
        else:
            turn.persist(state)
        turns.commit()
        return turn.replies


def _after_erasure(claimed: turns.Claimed) -> None:
    """The resident was erased in this turn, their conversation with them (the service
    committed it): nothing of the dialog is saved, which would write their messenger id back
    in a new conversation; their next message starts a new one. The update is marked handled
    when its row outlived the erasure (a webhook's row, holding their id, did not)."""
    event = claimed.event
    if event is not None and inspect(event).persistent:
        conversations.mark_done(event)
