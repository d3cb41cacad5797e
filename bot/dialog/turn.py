"""One message being answered: what it says, the conversation's data, the replies.

The flows' functions take the `Turn` and return the state the conversation is left in.
`Turn.state` is the state the message arrived in; the state table (`bot.dialog.table`)
chooses the handler by it, and the engine writes the state the handler returns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import current_app

from bot.dialog.vocabulary import (
    ASIDE_STATES,
    CODE_RE,
    DRAFT_STATES,
    IDLE,
    PHRASES,
    SLASH_COMMANDS,
    Incoming,
    Keyboard,
    NluAnswer,
    Outgoing,
    State,
)
from webapp.infra.i18n import DEFAULT_LANGUAGE
from webapp.infra.text import fold
from webapp.services.messaging import drafts, turns


class Turn:
    """One message: reads the state, decides, and writes the new state and the replies."""

    def __init__(
        self,
        claimed: turns.Claimed,
        incoming: Incoming,
        classify: Callable[[str], NluAnswer | None],
        prompts: Mapping[State, Callable[[Turn], None]],
    ):
        self.claimed = claimed
        self.conv = claimed.conversation
        self.incoming = incoming
        self.classify = classify
        self.prompts = prompts
        self.cfg = current_app.config
        self.state: State = self.conv.state
        self.data: dict[str, Any] = dict(self.conv.data or {})
        self.replies: list[Outgoing] = []
        # The privacy notice was shown in this turn (a first message, or a new version).
        self.notice_shown = False
        # The resident's data was erased in this turn, their conversation with it: the engine
        # must not save the dialog's state (that would write their messenger id back).
        self.erased = False

    # -- the message --------------------------------------------------------------------------

    @property
    def text(self) -> str:
        """The message text, trimmed."""
        return (self.incoming.text or "").strip()

    @property
    def key(self) -> str:
        """The message text folded for comparison."""
        return fold(self.text)

    @property
    def language(self) -> str:
        """The language the resident chose (/english, /tiengviet); Vietnamese until then."""
        return self.data.get("lang") or DEFAULT_LANGUAGE

    @property
    def who(self) -> tuple[str, str]:
        """The sender: (channel, user id)."""
        return self.incoming.channel, self.incoming.user_id

    def typed_choice(self) -> str | None:
        """A choice typed by its number or its label instead of pressed."""
        choices = self.data.get("choices") or []
        key = self.key
        if not key or not choices:
            return None
        if key.isdigit() and self.data.get("numbered", True) and 1 <= int(key) <= len(choices):
            return choices[int(key) - 1][0]
        for payload, label in choices:
            if fold(label) == key:
                return payload
        return None

    def command(self) -> tuple[str | None, str]:
        """A slash command or a phrase meaning one, and what follows it."""
        text = self.text
        if text.startswith("/"):
            word, _, rest = text[1:].partition(" ")
            word = word.split("@")[0]
            return SLASH_COMMANDS.get(fold(word).replace(" ", ""), "help"), rest.strip()
        key = self.key
        for command, phrases in PHRASES.items():
            if key in phrases:
                return command, ""
        if key.startswith("tra cuu") and CODE_RE.search(text):
            return "lookup", text
        return None, ""

    # -- replies and state --------------------------------------------------------------------

    def say(self, text: str, buttons: Keyboard | None = None, **kw: Any) -> Outgoing:
        """Add a reply."""
        reply = Outgoing(text, buttons or [], **kw)
        self.replies.append(reply)
        return reply

    def persist(self, state: State) -> None:
        """Write the state (with the choices just offered) and mark the update handled."""
        offered = next((r for r in reversed(self.replies) if r.buttons), None)
        self.data["choices"] = (
            [[b.payload, b.label] for row in offered.buttons for b in row] if offered else []
        )
        self.data["numbered"] = offered.numbered if offered else True
        turns.record(self.claimed, state, self.data)

    def prompt(self, state: State) -> None:
        """Ask again what the step `state` needs (nothing when idle)."""
        ask = self.prompts.get(state)
        if ask is not None:
            ask(self)

    def remind(self, state: State) -> State:
        """Ask again for the draft step `state` after an answer given aside; returns `state`."""
        if state in DRAFT_STATES:
            self.prompt(state)
        return state

    def suspend(self, aside: State, current: State | None = None) -> State:
        """Step aside to `aside` (look-up, reopening), remembering the step to come back to;
        returns `aside`.

        `current` is the step this turn has reached when it moved on from `self.state`.
        """
        current = self.state if current is None else current
        if current not in ASIDE_STATES:
            self.data["resume"] = current
        return aside

    def resumed(self) -> State:
        """The step the resident stepped aside from (idle if none), forgotten here."""
        return self.data.pop("resume", IDLE)

    def resume(self) -> State:
        """Back to the step the resident stepped aside from, asking for it again."""
        self.data.pop("reopen", None)
        return self.remind(self.resumed())

    # -- the draft ----------------------------------------------------------------------------

    @property
    def draft(self) -> dict[str, Any]:
        """The report being written."""
        return self.data.setdefault("draft", {})

    @property
    def photo_count(self) -> int:
        """How many photos the draft has."""
        return drafts.photo_count(self.conv)

    def start_draft(self) -> None:
        """Forget any draft and start a new one (the caller moves to DESCRIBE)."""
        self.discard_draft()
        self.data["draft"] = {}

    def discard_draft(self) -> None:
        """Forget the draft, its photos, and any step aside."""
        drafts.drop_photos(self.conv)
        for key in ("draft", "resume", "reopen"):
            self.data.pop(key, None)
