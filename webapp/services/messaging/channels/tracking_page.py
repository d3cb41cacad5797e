"""The tracking page: residents without a messenger or a confirmed e-mail read the news there.

`notifications.resident_route` picks this channel; the outbox row is the record that the
resident was told, and the event it reports is already on the page.
"""

from __future__ import annotations

from webapp.models import OutboxMessage
from webapp.services.messaging.channels.base import Sender


class TrackingPageSender(Sender):
    """Nothing to push: the event is already shown on the tracking page."""

    channel = "tracking"

    def send(self, message: OutboxMessage) -> None:
        """Done at once: the page shows the event."""
