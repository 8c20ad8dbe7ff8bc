"""The portal's one mail service: SMTP when configured, otherwise ``.eml`` files in ``instance/outbox/``.

:func:`queue_mail` sends in the background (``portal.jobs``: retried with back-off when the SMTP server
does not answer); :func:`send_mail` sends now and raises on failure."""
from __future__ import annotations

import smtplib
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from flask import current_app

from .models import BackgroundTask


def queue_mail(to: str | list[str], subject: str, body: str, *, job_id: str | None = None) -> BackgroundTask:
    """Send one plain-text message in the background; its task says whether it went (at once, without Redis).

    ``job_id`` names the message, so asking twice sends it once; it is also the Message-ID, so that a
    message sent again after a worker died in the middle is recognisably the same one."""
    from .jobs import enqueue

    return enqueue(deliver_mail, to, subject, body, job_id=job_id)


def deliver_mail(to: str | list[str], subject: str, body: str) -> None:
    """The job :func:`queue_mail` queues."""
    from .jobs import current_task_id

    send_mail(to, subject, body, message_id=current_task_id())


def send_mail(to: str | list[str], subject: str, body: str, *, message_id: str | None = None) -> EmailMessage:
    """Send one plain-text message and return it. Raises on SMTP failure so the caller can tell the user."""
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = ", ".join([to] if isinstance(to, str) else to)
    message["Subject"] = subject
    message["Message-ID"] = f"<{message_id}@politirad.invalid>" if message_id else make_msgid(domain="politirad.invalid")
    message["Date"] = datetime.now(timezone.utc)
    message.set_content(body)

    if config["MAIL_SERVER"]:
        with smtplib.SMTP(config["MAIL_SERVER"], int(config["MAIL_PORT"]), timeout=30) as smtp:
            if config["MAIL_USE_TLS"]:
                smtp.starttls()
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(message)
    else:
        outbox = Path(config["MAIL_OUTBOX"])
        outbox.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
        (outbox / f"{stamp}.eml").write_bytes(bytes(message))
    return message
