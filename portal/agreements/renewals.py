"""The yearly revision: an agreement is in force from one date (:func:`in_force_from`: its own start date,
or the last signature if that is later); twelve calendar months after that date it is due for renewal; one
not renewed within twelve months of that has expired.

``mark_due_renewals`` and ``mark_expired`` are what ``flask --app portal renewals`` runs from cron. Each is
one guarded UPDATE, so running it twice, or on several app servers at the same moment, marks each agreement
exactly once: the database's row locks decide, and the second run finds nothing left to mark.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import and_, select, update

from ..clock import twelve_months_after
from ..extensions import db
from ..models import Agreement, AgreementStatus, User
from .lifecycle import RENEWABLE_STATES, change_status, record_event


def in_force_from(agreement: Agreement, last_signed_on: date) -> date:
    """The one date the agreement is in force from: the start date its text names, or the day of the last
    signature when that is later (an agreement cannot apply before it is signed)."""
    return max(agreement.start_date or last_signed_on, last_signed_on)


def activate(agreement: Agreement, last_signed_on: date) -> None:
    """Fully signed: in force from :func:`in_force_from`, to be renewed twelve months after that. The
    PDF, the pages, the dashboard, the archive, the exports and the reminders all read these two dates."""
    agreement.active_from = in_force_from(agreement, last_signed_on)
    agreement.renewal_due_on = twelve_months_after(agreement.active_from)


def supersede_renewed(renewal: Agreement, actor: User | None) -> None:
    """A fully signed renewal takes the place of the agreement it renews; the caller commits."""
    old = renewal.renewal_of
    if old is not None and old.status in RENEWABLE_STATES:
        change_status(old, AgreementStatus.SUPERSEDED, actor, f"superseded by version {renewal.version}")


def _mark(condition, status: AgreementStatus, reason: str, today: date) -> list[int]:  # type: ignore[no-untyped-def]
    """One guarded UPDATE to ``status`` of the agreements meeting ``condition``, an audit event for each."""
    marked = db.session.execute(
        update(Agreement).where(condition).values(status=status)
        .returning(Agreement.id).execution_options(synchronize_session=False)
    ).scalars().all()
    for agreement_id in marked:
        record_event(db.session.get(Agreement, agreement_id), status.value, None, f"{reason}; marked on {today.isoformat()}")
    db.session.commit()
    return list(marked)


def mark_due_renewals(today: date) -> list[int]:
    """Mark every active agreement whose renewal date has come; return the ids marked by this run."""
    return _mark(and_(Agreement.status == AgreementStatus.ACTIVE, Agreement.renewal_due_on <= today),
                 AgreementStatus.RENEWAL_DUE, "twelve months after the agreement came into force", today)


def mark_expired(today: date) -> list[int]:
    """Mark every agreement whose renewal date passed twelve months ago without a signed renewal as
    expired; return the ids marked by this run."""
    waiting = (AgreementStatus.ACTIVE, AgreementStatus.RENEWAL_DUE)
    rows = db.session.execute(
        select(Agreement.id, Agreement.renewal_due_on)
        .where(Agreement.status.in_(waiting), Agreement.renewal_due_on <= today - timedelta(days=365))
    ).all()
    # Calendar months in Python (leap days), the guarded UPDATE in the database.
    ids = [agreement_id for agreement_id, due in rows if twelve_months_after(due) <= today]
    if not ids:
        return []
    return _mark(and_(Agreement.id.in_(ids), Agreement.status.in_(waiting)),
                 AgreementStatus.EXPIRED, "not renewed within twelve months of the renewal date", today)


def daily_renewals(day: str) -> dict[str, int]:
    """The daily run (``flask --app portal renewals``, or its job): mark due and expired agreements, send the
    reminders whose day has come, queue again the closing of fully signed agreements still waiting for
    it (a closing whose every try failed), and remove old bulk download files. Each part is safe to repeat;
    returns how many of each."""
    from ..archive.bulk import remove_old_job_files
    from .reminders import send_due_reminders
    from .signing import close_waiting_agreements

    today = date.fromisoformat(day)
    return {
        "marked": len(mark_due_renewals(today)),
        "expired": len(mark_expired(today)),
        "reminded": len(send_due_reminders(today)),
        "closing": close_waiting_agreements(),
        "job_files_removed": len(remove_old_job_files()),
    }
