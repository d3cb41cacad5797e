"""Telegram adapter (python-telegram-bot 22): updates in, `Incoming`; `Outgoing`, Bot API out.

Two ways in, the same handlers: polling for development (`python -m bot telegram`), and in
production Telegram calling the web app's `POST /webhooks/telegram`, which stores the update
and queues `bot.tasks.handle_telegram_update` (`handle_stored_update` below). The dialog
(database, NLU, photo checks) is blocking work: it runs in a thread with its own app
context, never on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from dataclasses import dataclass

from flask import Flask
from flask_babel import lazy_gettext as _l
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.dialog import Dialog, Incoming, Outgoing
from webapp.extensions import db
from webapp.infra.i18n import bilingual, in_language
from webapp.models import InboundEvent
from webapp.services.messaging.channels.telegram import (
    TELEGRAM_CAPTION_LIMIT,
    TELEGRAM_TEXT_LIMIT,
    telegram_event_key,
    telegram_file_base_url,
)

log = logging.getLogger(__name__)
CHANNEL = "telegram"
# The command menu. Shown in Vietnamese to everyone: most Vietnamese residents run Telegram
# in English (it has no official Vietnamese), so the app's language says nothing about theirs.
COMMANDS = [
    ("baocao", _l("Gửi phản ánh mới")),
    ("tracuu", _l("Tra cứu tiến độ theo mã phản ánh")),
    ("cuatoi", _l("Phản ánh của tôi")),
    ("huy", _l("Hủy phản ánh đang soạn")),
    ("english", _l("Trả lời bằng tiếng Anh (English)")),
    ("dulieu", _l("Xem dữ liệu cá nhân của tôi")),
    ("xoadulieu", _l("Xoá dữ liệu cá nhân của tôi")),
    ("help", _l("Hướng dẫn")),
]
SYSTEM_ERROR = _l("Xin lỗi, hệ thống đang gặp sự cố. Bạn vui lòng thử lại sau ít phút.")
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | None


@dataclass
class Runtime:
    """What the handlers need: the Flask app (for app contexts) and the dialog."""

    flask_app: Flask
    dialog: Dialog

    def handle(self, incoming: Incoming, event_key: str) -> list[Outgoing]:
        """Run one dialog turn in an app context (called in a worker thread)."""
        with self.flask_app.app_context():
            try:
                return self.dialog.handle(incoming, event_key=event_key)
            finally:
                db.session.remove()


def event_key(update: Update) -> str:
    """The id under which this update is recorded as handled."""
    return telegram_event_key(update.to_dict())


async def _photo(message: Message) -> dict:
    """The photo of a message fetched with getFile: a photo, or an image sent as a file.

    Telegram recompresses photos and drops their EXIF; an image sent as a file keeps it,
    GPS included.
    """
    if message.photo:
        file_id, name = message.photo[-1].file_id, None
    elif message.document and (message.document.mime_type or "").startswith("image/"):
        file_id, name = message.document.file_id, message.document.file_name
    else:
        return {}
    file = await message.get_bot().get_file(file_id)
    data = bytes(await file.download_as_bytearray())
    return {"photo": data, "photo_name": name or "telegram.jpg"}


async def on_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A message from a resident: text, command, photo, image file or shared location."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    location = message.location
    incoming = Incoming(
        channel=CHANNEL,
        user_id=str(user.id),
        display_name=user.full_name,
        text=message.text or message.caption,
        location=(location.latitude, location.longitude) if location else None,
        **await _photo(message),
    )
    await _answer(update, context, incoming)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A pressed inline button: its callback data is the dialog's payload."""
    query = update.callback_query
    if query is None:
        return
    with suppress(TelegramError):  # the spinner on the button; not worth failing for
        await query.answer()
    incoming = Incoming(
        channel=CHANNEL,
        user_id=str(query.from_user.id),
        display_name=query.from_user.full_name,
        button=query.data,
    )
    await _answer(update, context, incoming)


async def _answer(update: Update, context: ContextTypes.DEFAULT_TYPE, incoming: Incoming) -> None:
    runtime: Runtime = context.application.bot_data["runtime"]
    replies = await asyncio.to_thread(runtime.handle, incoming, event_key(update))
    chat = update.effective_chat
    if chat is None:
        return
    for reply in replies:
        await send_reply(context.bot, chat.id, reply)


def markup(reply: Outgoing) -> Markup:
    """Inline buttons; or, when a place is asked, a keyboard with "share my location"."""
    if reply.ask_location:
        share = reply.share_location_label
        rows = [[KeyboardButton(share, request_location=True)]]
        rows += [[KeyboardButton(b.label) for b in row] for row in reply.buttons]
        return ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=True)
    if reply.buttons:
        return InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(b.label, callback_data=b.payload) for b in row]
                for row in reply.buttons
            ]
        )
    return None


async def send_reply(bot: Bot, chat_id: int | str, reply: Outgoing) -> None:
    """sendMessage, or sendPhoto with the text as caption when it fits."""
    keyboard = markup(reply)
    if reply.photo is not None:
        if len(reply.text) <= TELEGRAM_CAPTION_LIMIT:
            await bot.send_photo(
                chat_id, photo=reply.photo, caption=reply.text, reply_markup=keyboard
            )
            return
        await bot.send_photo(chat_id, photo=reply.photo)
    await bot.send_message(chat_id, reply.text[:TELEGRAM_TEXT_LIMIT], reply_markup=keyboard)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log first, then tell the resident something went wrong."""
    log.error("Telegram update failed", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        runtime: Runtime = context.application.bot_data["runtime"]
        with runtime.flask_app.app_context():  # the catalog; the resident's language is unknown
            text = bilingual(SYSTEM_ERROR)
        with suppress(TelegramError):
            await context.bot.send_message(update.effective_chat.id, text)


def bot_commands(flask_app: Flask, language: str = "vi") -> list[BotCommand]:
    """The command menu in `language`."""
    with flask_app.app_context():
        return [BotCommand(command, in_language(text, language)) for command, text in COMMANDS]


async def _post_init(application: Application) -> None:
    runtime: Runtime = application.bot_data["runtime"]
    with suppress(TelegramError):  # the command menu is a nicety
        await application.bot.set_my_commands(bot_commands(runtime.flask_app))


def build_application(
    flask_app: Flask, dialog: Dialog | None = None, *, token: str | None = None
) -> Application:
    """The Telegram application: Bot API address from the settings, handlers, error handler."""
    cfg = flask_app.config
    with flask_app.app_context():
        file_base_url = telegram_file_base_url()
    application = (
        Application.builder()
        .token(token or cfg["TELEGRAM_BOT_TOKEN"])
        .base_url(cfg["TELEGRAM_API_BASE_URL"])
        .base_file_url(file_base_url)
        .post_init(_post_init)
        .build()
    )
    application.bot_data["runtime"] = Runtime(flask_app, dialog or Dialog())
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    content = filters.TEXT | filters.PHOTO | filters.LOCATION | filters.Document.IMAGE
    application.add_handler(MessageHandler(private & content, on_message))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_error_handler(on_error)
    return application


def run_polling(flask_app: Flask, dialog: Dialog | None = None) -> None:
    """Poll the Bot API until stopped (development, or where no webhook can reach us)."""
    if not flask_app.config.get("TELEGRAM_BOT_TOKEN"):
        raise SystemExit("TELEGRAM_BOT_TOKEN is not set")
    application = build_application(flask_app, dialog)
    application.run_polling(allowed_updates=["message", "callback_query"])


async def _process(flask_app: Flask, payload: dict, dialog: Dialog | None) -> None:
    application = build_application(flask_app, dialog)
    async with application:
        await application.process_update(Update.de_json(payload, application.bot))


def handle_stored_update(flask_app: Flask, row_id: int, dialog: Dialog | None = None) -> str:
    """Run the handlers on an update the webhook stored (the Celery task's body)."""
    event = db.session.get(InboundEvent, row_id)
    if event is None or event.status == "done":
        db.session.rollback()
        return "skip"
    payload = dict(event.payload or {})
    db.session.rollback()  # hold no transaction while talking to Telegram
    asyncio.run(_process(flask_app, payload, dialog))
    return "handled"


async def set_webhook(flask_app: Flask, url: str) -> None:
    """Ask Telegram to call `url` (…/webhooks/telegram) with our secret token."""
    secret = flask_app.config.get("TELEGRAM_WEBHOOK_SECRET")
    if not secret:
        raise SystemExit("TELEGRAM_WEBHOOK_SECRET is not set")
    application = build_application(flask_app)
    async with application:
        await application.bot.set_webhook(
            url, secret_token=secret, allowed_updates=["message", "callback_query"]
        )
