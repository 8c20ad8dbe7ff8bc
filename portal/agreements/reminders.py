"""Renewal reminders by e-mail to the coordinators and the signatories, before the renewal date and on
the day (``RENEWAL_REMINDER_DAYS``), each sent once, through the portal's one mail service."""
from __future__ import annotations

from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..mail import queue_mail
from ..models import Agreement, AgreementStatus, MemberRole, RenewalReminder
from . import notices
from .lifecycle import coordinators_of, record_event

SIGNATORY_ROLES = (MemberRole.MAYOR, MemberRole.STATION_CHIEF)


def reminder_recipients(agreement: Agreement) -> list[str]:
    """The coordinators of every organisation party to the agreement, and its signatories."""
    # Coordinators still invited (no password yet) cannot act on a reminder.
    addresses = sorted(user.email for user in coordinators_of(agreement) if user.password_hash is not None)
    addresses += [member.email for member in agreement.fixed_members if member.role in SIGNATORY_ROLES and member.email]
    return list(dict.fromkeys(address.lower() for address in addresses))


def send_due_reminders(today: date) -> list[tuple[int, int]]:
    """Send every reminder whose day has come and that has not gone out; return (agreement id, days before).

    Where several thresholds have passed unsent (the command did not run for a while), only the latest
    goes out and the earlier ones are recorded as passed, so nobody gets a pile of reminders at once.
    """
    thresholds = sorted(current_app.config["RENEWAL_REMINDER_DAYS"], reverse=True)
    sent: list[tuple[int, int]] = []
    candidates = db.session.scalars(
        select(Agreement).where(
            Agreement.status.in_((AgreementStatus.ACTIVE, AgreementStatus.RENEWAL_DUE)),
            Agreement.renewal_due_on <= today + timedelta(days=max(thresholds)),
        ).order_by(Agreement.id)
    ).all()
    for agreement in candidates:
        done = set(db.session.scalars(select(RenewalReminder.days_before).where(RenewalReminder.agreement_id == agreement.id)))
        passed = [days for days in thresholds if agreement.renewal_due_on - timedelta(days=days) <= today and days not in done]
        if not passed:
            continue
        recipients = reminder_recipients(agreement)
        try:
            for days in passed:
                db.session.add(RenewalReminder(agreement_id=agreement.id, days_before=days, sent_on=today,
                                               recipients=", ".join(recipients) if days == passed[-1] else ""))
            db.session.flush()  # another server that got here first makes this fail: then it has sent them
        except IntegrityError:
            db.session.rollback()
            continue
        record_event(agreement, "renewal_reminder", None, f"{passed[-1]} days before; to {', '.join(recipients)}")
        db.session.commit()
        _send(agreement, passed[-1], recipients)  # queued: retried until the mail server takes it
        sent.append((agreement.id, passed[-1]))
    return sent


def _send(agreement: Agreement, days_before: int, recipients: list[str]) -> None:
    link = current_app.config["PUBLIC_BASE_URL"] + f"/agreements/{agreement.id}"
    notice = notices.renewal_reminder(agreement, days_before, link)
    queue_mail(recipients, notice.subject, notice.body, job_id=f"renewal-reminder-{agreement.id}-{days_before}")
