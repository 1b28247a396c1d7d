"""E-mail through an SMTP relay: one message per customer, a plain-text and an HTML part.

``SMTP_URL`` is ``smtp://user:pass@host:587`` (STARTTLS whenever the relay offers it) or
``smtps://user:pass@host:465`` (TLS from the first byte). Sending is the stdlib's
``smtplib`` in a worker thread. A relay that is down, drops the connection, refuses the
login or answers 4xx raises :class:`ServiceUnavailable`, so the outbox parks the message and
retries it; a permanent 5xx refusal of the message or of every recipient raises
:class:`MailRefused`. The Message-ID is chosen before the first attempt and kept with a
parked message, so what is recorded is what the customer receives.
"""

from __future__ import annotations

import asyncio
import html
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any
from urllib.parse import unquote, urlsplit

from bot.observability.metrics import Metrics
from bot.slack.outbox import ServiceUnavailable

EMAIL_SEND = "email.send"
"""The outbox's pseudo-method for one e-mail."""
TIMEOUT_SECONDS = 30.0
DEFAULT_PORTS = {"smtp": 587, "smtps": 465}


class MailRefused(Exception):
    """The relay refused the message for good (a 5xx answer)."""


@dataclass(frozen=True)
class Relay:
    implicit_tls: bool
    host: str
    port: int
    user: str | None
    password: str | None

    @classmethod
    def from_url(cls, url: str) -> Relay:
        parts = urlsplit(url)
        return cls(
            implicit_tls=parts.scheme == "smtps",
            host=str(parts.hostname),
            port=parts.port or DEFAULT_PORTS[parts.scheme],
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


def mail_args(sender: str, to: tuple[str, ...], subject: str, text: str) -> dict[str, Any]:
    """One customer's message, as the outbox keeps it (JSON) until it is sent."""
    domain = sender.rpartition("@")[2].strip(">") or None
    return {
        "from": sender,
        "to": list(to),
        "subject": subject,
        "text": text,
        "message_id": make_msgid(domain=domain),
    }


def build_message(args: dict[str, Any]) -> EmailMessage:
    message = EmailMessage()
    message["From"] = args["from"]
    message["To"] = ", ".join(args["to"])
    message["Subject"] = args["subject"]
    message["Message-ID"] = args["message_id"]
    message.set_content(args["text"])
    paragraphs = "".join(
        f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in args["text"].split("\n\n")
    )
    message.add_alternative(f"<html><body>{paragraphs}</body></html>", subtype="html")
    return message


class Mailer:
    def __init__(self, url: str, metrics: Metrics) -> None:
        self.relay = Relay.from_url(url)
        self.metrics = metrics

    async def send(self, args: dict[str, Any]) -> dict[str, Any]:
        """Send one message (the outbox's ``email.send``); Slack-shaped answer with its id."""
        message = build_message(args)
        try:
            await asyncio.to_thread(self._send, message)
        except Exception:
            self.metrics.mail_failed.inc()
            raise
        self.metrics.mail_sent.inc()
        return {"ok": True, "message_id": args["message_id"]}

    def _send(self, message: EmailMessage) -> None:
        try:
            with self._connect() as smtp:
                if self.relay.user:
                    smtp.login(self.relay.user, self.relay.password or "")
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if all(code >= 500 for code in codes):
                raise MailRefused(f"every recipient refused: {codes}") from None
            raise ServiceUnavailable(f"recipients deferred: {codes}") from None
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code >= 500 and not isinstance(exc, smtplib.SMTPAuthenticationError):
                raise MailRefused(f"refused: {exc.smtp_code}") from None
            raise ServiceUnavailable(f"smtp {exc.smtp_code}") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise ServiceUnavailable(f"relay unreachable: {type(exc).__name__}") from None

    def _connect(self) -> smtplib.SMTP:
        relay, context = self.relay, ssl.create_default_context()
        if relay.implicit_tls:
            return smtplib.SMTP_SSL(
                relay.host, relay.port, timeout=TIMEOUT_SECONDS, context=context
            )
        smtp = smtplib.SMTP(relay.host, relay.port, timeout=TIMEOUT_SECONDS)
        smtp.ehlo()
        if smtp.has_extn("starttls"):
            smtp.starttls(context=context)
            smtp.ehlo()
        return smtp
