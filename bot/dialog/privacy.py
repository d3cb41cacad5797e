"""The resident's personal data in the dialog (Decree 13/2023, Law on Personal Data Protection).

The privacy notice comes before the first answer a resident gets, and again whenever its
version changes (the version seen is kept in the conversation's data, under "notice"); a
report sent after it records that version as the resident's consent. /dulieu answers with a
one-hour link to a JSON copy of what we hold; /xoadulieu steps aside to ask for a
confirmation, then erases the resident everywhere. The erasure deletes the conversation too,
so that turn ends without saving the dialog's state (`Turn.erased`, read by the engine).
"""

from __future__ import annotations

from bot.dialog.turn import Turn
from bot.dialog.vocabulary import (
    ASK_ERASE,
    DATA_LINK,
    ERASE_ASK,
    ERASE_CANCELLED,
    ERASE_NO,
    ERASE_YES,
    ERASED,
    ERASED_CODES,
    IDLE,
    NO,
    NO_DATA,
    NOTHING_TO_ERASE,
    STALE_CHOICE,
    YES,
    State,
    confirm_erase,
)
from webapp.services.privacy import notice, requests

# The answers to the erasure question (buttons), stale once it is no longer asked.
ERASE_ANSWERS = frozenset({ERASE_YES, ERASE_NO})
# Codes listed in the confirmation of an erasure, at most.
CODES_SHOWN = 10


# -- the notice -------------------------------------------------------------------------------


def show_notice(turn: Turn) -> None:
    """The notice, as a message of its own, unless this version was already shown."""
    version = notice.version()
    if turn.data.get("notice") == version:
        return
    turn.say(notice.bot_text())
    turn.data["notice"] = version
    turn.notice_shown = True


def consented(turn: Turn) -> bool:
    """Whether the resident has been shown the current notice (sending means agreeing)."""
    return turn.data.get("notice") == notice.version()


# -- /dulieu ----------------------------------------------------------------------------------


def my_data(turn: Turn, arg: str) -> State:
    """/dulieu: a link to the copy of one's data, valid one hour; a draft is asked again."""
    url = requests.data_link(*turn.who)
    if url is None:
        turn.say(NO_DATA)
    else:
        turn.say(DATA_LINK.format(url=url, minutes=requests.DATA_LINK_MINUTES))
    return turn.remind(turn.state)


# -- /xoadulieu -------------------------------------------------------------------------------


def ask_erase(turn: Turn, arg: str) -> State:
    """/xoadulieu: step aside to ask whether to erase, saying what goes and what stays."""
    prompt_erase(turn)
    return turn.suspend(ERASE_ASK)


def prompt_erase(turn: Turn) -> None:
    """Ask to confirm the erasure."""
    turn.say(ASK_ERASE.format(messenger=turn.incoming.channel.capitalize()), confirm_erase())


def on_erase_ask(turn: Turn, payload: str | None) -> State:
    """Yes erases; no goes back to what was being done; anything else asks again."""
    if payload == ERASE_YES or (not payload and turn.key in YES):
        return erase(turn)
    if payload == ERASE_NO or (not payload and turn.key in NO):
        turn.say(ERASE_CANCELLED)
        return turn.resume()
    prompt_erase(turn)
    return ERASE_ASK


def erase(turn: Turn) -> State:
    """Erase the resident (the service commits), and say how many reports stay, public.

    With nothing held but this conversation, the conversation (and its draft) is all that goes.
    """
    codes = requests.erase_messenger_user(*turn.who)
    turn.erased = True  # the conversation row is gone either way: the turn must not save it
    if codes is None:
        turn.say(NOTHING_TO_ERASE)
        return IDLE
    lines = [ERASED.format(count=len(codes))]
    if codes:
        lines.append(ERASED_CODES.format(codes=", ".join(codes[:CODES_SHOWN])))
    turn.say("\n".join(map(str, lines)))
    return IDLE


def stale_answer(turn: Turn) -> State:
    """A yes or no to an erasure no longer asked: nothing is erased; the step goes on."""
    turn.say(STALE_CHOICE)
    return turn.remind(turn.state)
