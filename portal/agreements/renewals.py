"""The yearly revision: twelve calendar months after the last signature an agreement is due for renewal.

``mark_due_renewals`` is what ``flask --app portal renewals`` runs from cron. It is one guarded UPDATE, so
running it twice, or on several app servers at the same moment, marks each agreement exactly once: the
database's row locks decide, and the second run finds nothing left to mark.
"""
from __future__ import annotations

import calendar
from datetime import date

from sqlalchemy import update

from ..extensions import db
from ..models import Agreement, AgreementStatus
from .lifecycle import record_event


def twelve_months_after(day: date) -> date:
    """The same day a year later; 29 February becomes 28 February when the next year has none."""
    year = day.year + 1
    return date(year, day.month, min(day.day, calendar.monthrange(year, day.month)[1]))


def activate(agreement: Agreement, last_signed_on: date) -> None:
    """The agreement is in force from its last signature and is to be renewed twelve months later."""
    agreement.active_from = last_signed_on
    agreement.renewal_due_on = twelve_months_after(last_signed_on)


def mark_due_renewals(today: date) -> list[int]:
    """Mark every active agreement whose renewal date has come; return the ids marked by this run."""
    marked = db.session.execute(
        update(Agreement)
        .where(Agreement.status == AgreementStatus.ACTIVE, Agreement.renewal_due_on <= today)
        .values(status=AgreementStatus.RENEWAL_DUE)
        .returning(Agreement.id)
        .execution_options(synchronize_session=False)
    ).scalars().all()
    for agreement_id in marked:
        record_event(db.session.get(Agreement, agreement_id), AgreementStatus.RENEWAL_DUE.value, None,
                     f"twelve months after the last signature; marked on {today.isoformat()}")
    db.session.commit()
    return list(marked)
