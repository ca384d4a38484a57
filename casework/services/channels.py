"""Deliver one rendered digest through a channel: email over SMTP, a WeCom group robot, an SMS gateway over HTTP.

A transport raises ``DeliveryFailed`` with a short reason; ``unreachable`` says the channel itself is
down (refused, timed out), so the sender defers the rest of that channel's digests instead of
waiting on each in turn. Nothing here touches the database.
"""

from __future__ import annotations

import base64
import json
import os
import smtplib
import socket
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any, Protocol

from casework.services.notify_settings import EmailChannel, SmsChannel, WecomChannel


@dataclass(frozen=True)
class Message:
    """A digest ready to go: ``key`` is the outbox row's, so that a resent message can be recognised."""

    key: str
    to: str | None  # an email address or a mobile number; None for a group robot
    subject: str
    text: str
    short: str  # for SMS


class DeliveryFailed(Exception):
    def __init__(self, reason: str, unreachable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason[:500]
        self.unreachable = unreachable


class Transport(Protocol):
    def send(self, message: Message) -> None: ...
    def close(self) -> None: ...


def _unreachable(exc: BaseException) -> bool:
    return isinstance(exc, ConnectionError | TimeoutError | socket.timeout | socket.gaierror) or (
        isinstance(exc, urllib.error.URLError)
        and isinstance(exc.reason, ConnectionError | TimeoutError | socket.timeout | socket.gaierror | OSError)
    )


_WORD_BYTES = 45  # UTF-8 bytes per encoded word: 60 characters of base64, 72 with the =?utf-8?b?…?=


def encoded_words(text: str) -> str:
    """``text`` as RFC 2047 "B" encoded words of at most 75 characters, folded with CRLF and a space.

    What email.header.Header(text, "utf-8").encode() gives, without its cost (a third of a
    digest's own work) and with the folding an SMTP message needs: Header folds with a bare LF.
    A word never splits a character: it ends before a UTF-8 continuation byte.
    """
    raw = text.encode("utf-8")
    words, start = [], 0
    while start < len(raw):
        end = min(start + _WORD_BYTES, len(raw))
        while end < len(raw) and raw[end] & 0xC0 == 0x80:
            end -= 1
        words.append(f"=?utf-8?b?{base64.b64encode(raw[start:end]).decode('ascii')}?=")
        start = end
    return "\r\n ".join(words)


def mail_bytes(sender: str, message: Message) -> bytes:
    """The digest as a MIME message: UTF-8 text in base64, the subject RFC 2047-encoded.

    Written out directly rather than through email.message.EmailMessage, whose generator costs
    more than the SMTP exchange itself when a sender delivers a thousand digests a second.
    """
    body = base64.encodebytes(message.text.encode("utf-8")).replace(b"\n", b"\r\n")
    head = (
        f"From: {sender}\r\nTo: {message.to}\r\nSubject: {encoded_words(message.subject)}\r\n"
        f"Date: {formatdate(localtime=False)}\r\nMessage-ID: <casework-notification-{message.key}@casework>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    )
    return head.encode("ascii") + body


class _Smtp(smtplib.SMTP):
    """smtplib's client, noting when a message has been handed over (its DATA command sent)."""

    handed_over = False

    def data(self, msg: Any) -> tuple[int, bytes]:
        self.handed_over = True
        return super().data(msg)


class SmtpTransport:
    """One SMTP connection kept for a run of digests: STARTTLS and login once, then a message each."""

    def __init__(self, channel: EmailChannel, timeout: float) -> None:
        self.channel, self.timeout = channel, timeout
        self._smtp: _Smtp | None = None

    def _connect(self) -> _Smtp:
        c = self.channel
        smtp = _Smtp(c.host, c.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if c.starttls:
                smtp.starttls(context=ssl.create_default_context(cafile=c.cafile))
                smtp.ehlo()
            if c.username:
                password = os.environ.get(c.password_env or "", "")
                if not password:
                    raise DeliveryFailed(f"no password in the environment variable {c.password_env}")
                smtp.login(c.username, password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: Message) -> None:
        if not message.to:
            raise DeliveryFailed("no email address")
        mail = mail_bytes(self.channel.sender, message)
        for attempt in range(2):  # a kept connection the server closed meanwhile is opened again once
            smtp = self._smtp
            try:
                if smtp is None:
                    smtp = self._smtp = self._connect()
                smtp.handed_over = False
                smtp.sendmail(self.channel.sender, [message.to], mail)
                return
            except smtplib.SMTPServerDisconnected as exc:
                self._smtp = None
                # smtplib reports a reply that did not come in time as a closed connection too. Once
                # the message is handed over, the server may have taken it: sending it again now
                # could deliver it twice, so the digest waits for its next attempt instead.
                if attempt or (smtp is not None and smtp.handed_over):
                    raise DeliveryFailed(f"SMTP: {exc}", unreachable=True) from exc
            except smtplib.SMTPResponseException as exc:
                raise DeliveryFailed(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from exc
            except (smtplib.SMTPException, ssl.SSLError) as exc:
                self.close()
                raise DeliveryFailed(f"SMTP: {exc}") from exc
            except OSError as exc:
                self.close()
                raise DeliveryFailed(f"SMTP: {type(exc).__name__}: {exc}", unreachable=True) from exc

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None


def post(url: str, body: bytes, content_type: str, timeout: float) -> bytes:
    """POST and return the answer; anything but 2xx is a failure, as is no answer in time."""
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - URL from the settings
            return bytes(answer.read())
    except urllib.error.HTTPError as exc:
        raise DeliveryFailed(f"HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        raise DeliveryFailed(f"{type(reason).__name__}: {reason}", unreachable=_unreachable(exc)) from exc


class WecomTransport:
    """A WeCom (企业微信) group robot: {"msgtype": "text", "text": {"content": …}}; errcode 0 is success."""

    def __init__(self, channel: WecomChannel, timeout: float) -> None:
        self.channel, self.timeout = channel, timeout

    def send(self, message: Message) -> None:
        body = json.dumps({"msgtype": "text", "text": {"content": message.text}}, ensure_ascii=False).encode()
        answer = post(self.channel.webhook, body, "application/json", self.timeout)
        try:
            code = json.loads(answer or b"{}").get("errcode", 0)
        except (ValueError, AttributeError) as exc:
            raise DeliveryFailed("WeCom: the answer is not JSON") from exc
        if code != 0:
            raise DeliveryFailed(f"WeCom errcode {code}")

    def close(self) -> None:
        pass


class SmsTransport:
    """An SMS gateway: the body template with {phone}, {text} and {key} replaced (JSON-escaped for JSON)."""

    def __init__(self, channel: SmsChannel, timeout: float) -> None:
        self.channel, self.timeout = channel, timeout

    def send(self, message: Message) -> None:
        if not message.to:
            raise DeliveryFailed("no mobile number")
        json_body = "json" in self.channel.content_type

        def value(text: str) -> str:
            return json.dumps(text, ensure_ascii=False)[1:-1] if json_body else text

        body = self.channel.body
        for name, text in (("phone", message.to), ("text", message.short), ("key", message.key)):
            body = body.replace("{" + name + "}", value(text))
        post(self.channel.url, body.encode(), self.channel.content_type, self.timeout)

    def close(self) -> None:
        pass
