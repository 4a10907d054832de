"""Deliver e-mail: by SMTP when ``LNHM_SMTP_HOST`` is set, else as ``.eml`` files in the outbox.

A ``Mailer`` sends one message at a time and raises ``DeliveryError`` when that message was not
accepted, so the caller records only what was really delivered. Credentials come from the
settings and never appear in messages or logs.
"""

from __future__ import annotations

import contextlib
import os
import re
import smtplib
import ssl
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from lnhm.settings import Settings

SMTP_TIMEOUT_S = 30


class DeliveryError(RuntimeError):
    """A message was not delivered; the text says why in one line."""


class ConnectError(DeliveryError):
    """The SMTP server could not be reached or refused the login: no message can go out."""


class Mailer(Protocol):
    def send(self, message: EmailMessage, name: str) -> None: ...


class OutboxMailer:
    """Write each message as ``<outbox>/<UTC time>-<name>.eml`` (written whole, then renamed)."""

    def __init__(self, outbox: Path):
        self.outbox = outbox

    def send(self, message: EmailMessage, name: str) -> None:
        self.outbox.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")[:120] or "message"
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        target = self.outbox / f"{stamp}-{slug}.eml"
        fd, tmp = tempfile.mkstemp(dir=self.outbox, prefix=".tmp-", suffix=".eml")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(message.as_bytes())
            os.replace(tmp, target)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise DeliveryError(f"cannot write {target}: {exc}") from exc


class SmtpMailer:
    """One SMTP connection per job run, opened on the first message, reopened if dropped."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.client: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        where = f"SMTP {s.smtp_host}:{s.smtp_port} ({s.smtp_tls})"
        try:
            if s.smtp_tls == "ssl":
                client = smtplib.SMTP_SSL(
                    s.smtp_host,
                    s.smtp_port,
                    timeout=SMTP_TIMEOUT_S,
                    context=ssl.create_default_context(),
                )
            else:
                client = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=SMTP_TIMEOUT_S)
                if s.smtp_tls == "starttls":
                    client.starttls(context=ssl.create_default_context())
            if s.smtp_user:
                client.login(s.smtp_user, s.smtp_password)
        except smtplib.SMTPAuthenticationError as exc:
            raise ConnectError(
                f"{where}: login as {s.smtp_user!r} refused ({exc.smtp_code}); "
                "check LNHM_SMTP_USER / LNHM_SMTP_PASSWORD"
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ConnectError(f"{where}: cannot connect: {reason}") from None
        return client

    def send(self, message: EmailMessage, name: str) -> None:
        for attempt in (1, 2):
            if self.client is None:
                self.client = self._connect()
            try:
                refused = self.client.send_message(message)
            except smtplib.SMTPServerDisconnected:
                self.client = None
                if attempt == 2:
                    raise DeliveryError("SMTP server closed the connection twice") from None
                continue
            except smtplib.SMTPRecipientsRefused as exc:
                raise DeliveryError(f"recipient refused: {', '.join(exc.recipients)}") from None
            except smtplib.SMTPResponseException as exc:
                said = f"{exc.smtp_code}: {exc.smtp_error!r}"
                raise DeliveryError(f"SMTP server said {said}") from None
            except (OSError, smtplib.SMTPException) as exc:
                self.close()
                raise DeliveryError(f"SMTP error: {type(exc).__name__}: {exc}") from None
            if refused:
                raise DeliveryError(f"recipient refused: {', '.join(refused)}")
            return

    def close(self) -> None:
        if self.client is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.client.quit()
            self.client = None


@contextlib.contextmanager
def mailer(settings: Settings) -> Iterator[Mailer]:
    if not settings.smtp_host:
        yield OutboxMailer(settings.outbox_dir)
        return
    smtp = SmtpMailer(settings)
    try:
        yield smtp
    finally:
        smtp.close()
