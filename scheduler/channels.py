"""The ways a reminder leaves the Secretariat: an e-mail (SMTP) and a signed webhook (HTTP POST).

A channel's `send` returns only once the receiver has acknowledged the message (the SMTP
server accepted it, the webhook answered 2xx) and raises `DeliveryFailed` otherwise; the
worker retries then. A crash between the acknowledgement and the worker marking the row
delivered sends it again on the next try, so both channels carry the delivery's id for the
receiver to de-duplicate by: the e-mail's Message-ID and the webhook's `Secretariat-Delivery`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import httpx

from domain.registry import WORKFLOW_ITEMS
from domain.reminders import MENTIONED

RUNG_WORDS = {"upcoming": "Coming up", "due_soon": "Due tomorrow", "overdue": "Overdue",
              "escalated": "Escalated: still overdue"}
SEND_TIMEOUT_SECONDS = 10.0  # well inside the worker's lease, so a slow receiver cannot outlive our claim
# Runs of whitespace (line breaks, tabs, U+2028...) and control characters: a header is one line, and
# EmailMessage refuses a line break in one (ValueError on every try, until the delivery is failed).
_NOT_ONE_LINE = re.compile(r"[\s\x00-\x1f\x7f-\x9f]+")


class DeliveryFailed(Exception):
    """The receiver did not acknowledge the message; the text says why (and holds no secret)."""


@dataclass(frozen=True)
class Delivery:
    """One message to send: the outbox row's id, the reminder (a JSON document) and the addresses."""

    id: str
    reminder: dict[str, Any]
    addresses: list[str]
    now: datetime


class Channel(Protocol):
    name: str  # the outbox's `channel` value
    needs_addresses: bool  # True: a reminder nobody can be written to is 'no_recipients', not sent

    def send(self, delivery: Delivery) -> str | None:
        """Send and wait for the acknowledgement; a note for `last_error` (e.g. refused addresses), or None."""


# -- e-mail ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    security: str  # "none", "starttls" or "tls"
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> "SmtpServer":
        """`smtp://[user:pass@]host[:25]`, `smtp+starttls://…[:587]` or `smtps://…[:465]`.

        Errors never repeat the URL: it may hold a password.
        """
        parts = urlsplit(url)
        security = {"smtp": "none", "smtp+starttls": "starttls", "smtps": "tls"}.get(parts.scheme)
        if security is None:
            raise ValueError("an SMTP URL starts with smtp://, smtp+starttls:// or smtps://")
        try:
            port = parts.port
        except ValueError:
            raise ValueError("the SMTP URL's port is not a number from 1 to 65535") from None
        if not parts.hostname:
            raise ValueError("the SMTP URL names no host, e.g. smtp+starttls://user:password@mail.example:587")
        default_port = {"none": 25, "starttls": 587, "tls": 465}[security]
        return cls(parts.hostname, port or default_port, security,
                   unquote(parts.username) if parts.username else None,
                   unquote(parts.password) if parts.password else None)

    def __repr__(self) -> str:  # the dataclass's would show the password
        return f"SmtpServer({self.security}://{self.host}:{self.port})"


class EmailChannel:
    """One e-mail per reminder, To: every recipient with an address, in plain text."""

    name = "email"
    needs_addresses = True

    def __init__(self, server: SmtpServer, mail_from: str, *, base_url: str | None = None,
                 timeout: float = SEND_TIMEOUT_SECONDS) -> None:
        self.server = server
        self.mail_from = mail_from
        self.base_url = base_url.rstrip("/") if base_url else None
        self.timeout = timeout

    def send(self, delivery: Delivery) -> str | None:
        message = self.message(delivery)
        try:
            with self._connect() as smtp:
                refused = smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            raise DeliveryFailed(f"every recipient was refused: {_refusals(error.recipients)}") from None
        except smtplib.SMTPResponseException as error:
            raise DeliveryFailed(f"SMTP {error.smtp_code}: {_text(error.smtp_error)}") from None
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryFailed(f"{type(error).__name__}: {error}") from None
        # Accepted for some: a retry would send the others a second copy, so it counts as delivered.
        return f"refused by the server: {_refusals(refused)}" if refused else None

    def message(self, delivery: Delivery) -> EmailMessage:
        r = delivery.reminder
        message = EmailMessage()
        message["From"] = self.mail_from
        message["To"] = ", ".join(delivery.addresses)
        if r["rung"] == MENTIONED:
            message["Subject"] = one_line(f"{r.get('mentioned_by', 'Someone')} mentioned you: {r['title']}")
        else:
            message["Subject"] = one_line(f"{RUNG_WORDS.get(r['rung'], r['rung'])}: {r['title']} ({_deadline(r)} "
                                          f"{r['due']})")
        message["Date"] = format_datetime(delivery.now)
        # The same id on every try: a mail system or a person can tell a repeat from a new reminder.
        message["Message-ID"] = f"<{delivery.id}@secretariat>"
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies, please
        if r["rung"] == MENTIONED:  # the comment itself is not copied out: it is read where its item is
            lines = [f"{r.get('mentioned_by', 'Someone')} mentioned you in a comment.", "",
                     f"{_collection(r)}: {r['title']}"]
        else:
            lines = [f"{RUNG_WORDS.get(r['rung'], r['rung'])}: {r['title']}", "",
                     f"{_collection(r)}: {r['title']}",
                     f"Deadline: {_deadline(r)}, {r['due']}",
                     f"Reminder: {r['rung'].replace('_', ' ')}",
                     f"Addressed to: {', '.join(r['addressed_to'])}"]
        if self.base_url:
            lines += ["", f"Open it: {self.base_url}/ui/{r['collection']}/{r['item_id']}"]
        lines += ["", "-- ", "The Secretariat sends this reminder by itself; acknowledge it in your inbox there."]
        message.set_content("\n".join(lines) + "\n")
        return message

    def _connect(self) -> smtplib.SMTP:
        s = self.server
        if s.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=self.timeout,
                                                 context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=self.timeout)
        try:
            if s.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if s.username:
                smtp.login(s.username, s.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp


def one_line(text: str) -> str:
    """`text` as a header's value: each run of whitespace and control characters one space, none at the ends."""
    return _NOT_ONE_LINE.sub(" ", text).strip()


def _collection(reminder: dict[str, Any]) -> str:
    workflows = WORKFLOW_ITEMS.workflows
    return workflows[reminder["collection"]].title if reminder["collection"] in workflows else reminder["collection"]


def _deadline(reminder: dict[str, Any]) -> str:
    return reminder["deadline"].replace("_", " ")


def _refusals(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{address} ({code} {_text(reply)})" for address, (code, reply) in refused.items())


def _text(reply: bytes | str) -> str:
    return (reply.decode(errors="replace") if isinstance(reply, bytes) else reply)[:300]


# -- webhook --------------------------------------------------------------------------------------


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>`: HMAC-SHA256 over `{timestamp}.{body}`, as the receiver recomputes it to check us."""
    return "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class WebhookChannel:
    """POSTs the reminder as JSON, signed; the receiver de-duplicates by `Secretariat-Delivery`."""

    name = "webhook"
    needs_addresses = False  # the receiver routes it by the reminder's `addressed_to`

    def __init__(self, url: str, secret: str, *, timeout: float = SEND_TIMEOUT_SECONDS,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.url = url
        self._secret = secret.encode()
        # No redirects: a 3xx is not the receiver's acknowledgement, and would carry the body elsewhere.
        self._client = httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
                                    follow_redirects=False, transport=transport)

    def send(self, delivery: Delivery) -> str | None:
        body = json.dumps(delivery.reminder, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
        timestamp = str(int(delivery.now.timestamp()))
        headers = {"Content-Type": "application/json", "User-Agent": "Secretariat-Webhook/1",
                   "Secretariat-Delivery": delivery.id, "Secretariat-Timestamp": timestamp,
                   "Secretariat-Signature": signature(self._secret, timestamp, body)}
        try:
            response = self._client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as error:  # its text names no URL, which may hold a token
            raise DeliveryFailed(f"{type(error).__name__}: {error}") from None
        if not response.is_success:
            raise DeliveryFailed(f"HTTP {response.status_code}: {response.text[:300]}")
        return None

    def close(self) -> None:
        self._client.close()


def channels_for(*, smtp_url: str | None, mail_from: str, webhook_url: str | None, webhook_secret: str | None,
                 base_url: str | None = None) -> dict[str, Channel]:
    """The channels the settings configure, by name (none: reminders stay in the inbox only)."""
    channels: dict[str, Channel] = {}
    if smtp_url:
        channels["email"] = EmailChannel(SmtpServer.from_url(smtp_url), mail_from, base_url=base_url)
    if webhook_url:
        if not webhook_secret:
            raise ValueError("a webhook needs a secret to sign with")
        channels["webhook"] = WebhookChannel(webhook_url, webhook_secret)
    return channels
