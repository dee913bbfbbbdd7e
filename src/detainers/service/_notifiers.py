"""Ways a notice leaves the building: an HTTP webhook to the agency's endpoint, and email over SMTP.

Each notice carries its idempotency key, the same raw text in both: the ``Idempotency-Key`` header of the webhook's
POST, and an ``Idempotency-Key`` header of the email (never RFC 2047-encoded or folded, however long) beside a
``Message-ID`` made from it. A receiver drops the duplicates that retries may produce by that key (docs/api.md).
"""

from __future__ import annotations

import json
import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP
from typing import Any, Protocol

import httpx

__all__ = ["DeliveryError", "Notice", "Notifier", "SmtpNotifier", "WebhookNotifier"]


class DeliveryError(Exception):
    """The notice did not get through; the outbox retries later."""


@dataclass(frozen=True)
class Notice:
    idempotency_key: str
    channel: str
    target: str
    body: dict[str, Any] = field(default_factory=dict)


class Notifier(Protocol):
    def deliver(self, notice: Notice) -> None:
        """Send or raise :class:`DeliveryError`."""


class WebhookNotifier:
    """POSTs the notice as JSON. ``client`` is injectable (httpx transports make tests easy)."""

    def __init__(self, client: httpx.Client | None = None, *, timeout: float = 10.0) -> None:
        self.client = client or httpx.Client(timeout=timeout)

    def deliver(self, notice: Notice) -> None:
        try:
            response = self.client.post(
                notice.target,
                json=notice.body,
                headers={"Idempotency-Key": notice.idempotency_key, "User-Agent": "detainers-desk"},
            )
        except httpx.HTTPError as error:
            raise DeliveryError(f"webhook {type(error).__name__}") from error
        if response.status_code >= 300:
            raise DeliveryError(f"webhook answered HTTP {response.status_code}")

    def close(self) -> None:
        self.client.close()


class SmtpNotifier:
    def __init__(self, host: str, port: int, *, sender: str = "detainer-desk@localhost", timeout: float = 10.0) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.timeout = timeout

    def deliver(self, notice: Notice) -> None:
        # Lines up to SMTP's own limit (998): the default policy folds at 78 and RFC 2047-encodes a long key.
        message = EmailMessage(policy=SMTP.clone(max_line_length=998))
        message["From"] = self.sender
        message["To"] = notice.target
        message["Subject"] = str(notice.body.get("subject", "Release notification"))
        message["Message-ID"] = f"<{notice.idempotency_key.replace(':', '.')}@detainers.invalid>"
        message["Idempotency-Key"] = notice.idempotency_key
        message.set_content(json.dumps(notice.body, indent=2, sort_keys=True))
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryError(f"smtp {type(error).__name__}") from error
