"""Outbound channels: one sender class per channel behind one interface, chosen by a registry.

A sender raises SendError (or any exception) on failure; the outbox records it and retries.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from typing import ClassVar

from flask import current_app

from webapp.models import OutboxMessage


class SendError(Exception):
    """Delivery failed; the message is retried later."""


class Sender:
    """Delivers an outbox message on one channel."""

    channel: ClassVar[str]

    def send(self, message: OutboxMessage) -> None:
        """Deliver or raise."""
        raise NotImplementedError


SENDERS: dict[str, type[Sender]] = {}


def register(cls: type[Sender]) -> type[Sender]:
    """Class decorator adding a sender to the registry under its channel."""
    SENDERS[cls.channel] = cls
    return cls


def sender_for(channel: str) -> Sender:
    """A sender instance for the channel, or SendError when none is registered."""
    try:
        return SENDERS[channel]()
    except KeyError:
        raise SendError(f"no sender for channel {channel!r}") from None


@register
class TrackingPageSender(Sender):
    """Residents without a messenger or e-mail read their answers on the tracking page."""

    channel = "tracking"

    def send(self, message: OutboxMessage) -> None:
        """Nothing to push: the event is already on the page."""


@register
class EmailSender(Sender):
    """E-mail over SMTP (agencies, the IOC, residents who left an address)."""

    channel = "email"

    def send(self, message: OutboxMessage) -> None:
        """Send one plain-text e-mail."""
        cfg = current_app.config
        if not cfg["SMTP_HOST"]:
            raise SendError("SMTP_HOST is not configured")
        if not message.address:
            raise SendError("no e-mail address")
        mail = EmailMessage()
        mail["From"] = cfg["MAIL_FROM"]
        mail["To"] = message.address
        mail["Subject"] = message.subject or "Phản ánh hiện trường"
        mail["Message-ID"] = f"<outbox-{message.id}-{message.dedupe_key[:40]}@phananh>"
        mail.set_content(message.body)
        attachment = (message.payload or {}).get("attachment")
        if attachment:
            from webapp.services.ioc.exports import attachment_path

            path = attachment_path(attachment["file"])
            if not path.exists():
                raise SendError(f"attachment {attachment['file']} is missing")
            main, _, sub = attachment["mimetype"].partition("/")
            name = attachment["filename"]
            mail.add_attachment(path.read_bytes(), maintype=main, subtype=sub, filename=name)
        with smtplib.SMTP(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=10) as smtp:
            if cfg["SMTP_STARTTLS"]:
                smtp.starttls()
            if cfg["SMTP_USER"]:
                smtp.login(cfg["SMTP_USER"], cfg["SMTP_PASSWORD"])
            smtp.send_message(mail)
