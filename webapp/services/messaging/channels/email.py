"""E-mail over SMTP: agencies, the IOC, the leadership and residents who left an address."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from flask import current_app
from flask_babel import lazy_gettext as _l

from webapp.infra import storage
from webapp.models import OutboxMessage
from webapp.services.messaging.channels.base import Sender, SendError, Undeliverable

DEFAULT_SUBJECT = _l("Phản ánh hiện trường")


class EmailSender(Sender):
    """One plain-text e-mail per message, with the export file it names attached."""

    channel = "email"

    def send(self, message: OutboxMessage) -> None:
        """Send one plain-text e-mail."""
        cfg = current_app.config
        if not cfg["SMTP_HOST"]:
            raise SendError("SMTP_HOST is not configured")
        if not message.address:  # retrying would not give it one
            raise Undeliverable("no e-mail address")
        mail = EmailMessage()
        mail["From"] = cfg["MAIL_FROM"]
        mail["To"] = message.address
        mail["Subject"] = message.subject or str(DEFAULT_SUBJECT)
        mail["Message-ID"] = f"<outbox-{message.id}-{message.dedupe_key[:40]}@phananh>"
        mail.set_content(message.body)
        attachment = (message.payload or {}).get("attachment")
        if attachment:
            try:
                data = storage.export_objects().get(attachment["file"])
            except storage.MissingObject:
                raise SendError(f"attachment {attachment['file']} is missing") from None
            except ValueError:
                raise SendError(
                    f"attachment {attachment['file']!r} is outside the exports directory"
                ) from None
            main, _, sub = attachment["mimetype"].partition("/")
            name = attachment["filename"]
            mail.add_attachment(data, maintype=main, subtype=sub, filename=name)
        with smtplib.SMTP(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=10) as smtp:
            if cfg["SMTP_STARTTLS"]:
                smtp.starttls()
            if cfg["SMTP_USER"]:
                smtp.login(cfg["SMTP_USER"], cfg["SMTP_PASSWORD"])
            smtp.send_message(mail)
