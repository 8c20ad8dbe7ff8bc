"""The dashboard for coordinators and administrators: their agreements by state, renewals coming up,
renewals overdue, and signatures still missing, with whom they wait for.

Only the agreements the user may read (``access.visible_agreements``) are counted or listed. States are
taken as they are *today* (``Agreement.status_on``), so an agreement past its renewal date shows as due
even before the nightly ``flask renewals`` has marked it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import Blueprint, render_template
from flask_babel import to_user_timezone
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, load_only
from sqlalchemy.orm.attributes import set_committed_value

from .access import roles_required, visible_agreements
from .agreements.lifecycle import renewals_under_way
from .clock import today  # the day the dashboard is drawn for; tests replace it here
from .extensions import db, id_list
from .models import Agreement, AgreementDocument, AgreementStatus, AuditEvent, Party, Role, SignatureSlot, User, status_on

bp = Blueprint("dashboard", __name__)

#: How far ahead «renewals due soon» looks.
HORIZON_DAYS = 90


@dataclass
class Renewal:
    """An agreement to be renewed: ``days`` until its renewal date (negative: overdue), and the renewal
    being written for it, if any."""

    agreement: Agreement
    days: int
    renewal: Agreement | None

    @property
    def days_overdue(self) -> int:
        return -self.days


@dataclass
class MissingSignature:
    slot: SignatureSlot
    waiting_since: date
    days_waiting: int


@dataclass
class Overview:
    today: date
    counts: dict[AgreementStatus, int]
    due_soon: list[Renewal]
    overdue: list[Renewal]
    missing_signatures: list[MissingSignature]
    #: The agreements in the tables, kept so that the page finds each one in the session, not in a query per row.
    agreements: list[Agreement]


def overview(user: User, day: date) -> Overview:
    """What the dashboard shows ``user`` on ``day``."""
    # The states are counted from two columns of each agreement; the agreements in the tables are loaded
    # then, with what the tables show (parties and municipalities, signature slots), not every one counted.
    rows = db.session.execute(visible_agreements(user).with_only_columns(Agreement.id, Agreement.status, Agreement.renewal_due_on)
                              .order_by(Agreement.id)).all()
    states = {row.id: status_on(row.status, row.renewal_due_on, day) for row in rows}
    counts = {status: 0 for status in AgreementStatus}
    for status in states.values():
        counts[status] += 1

    horizon = day + timedelta(days=HORIZON_DAYS)
    shown = [row.id for row in rows if (states[row.id] is AgreementStatus.ACTIVE and row.renewal_due_on and row.renewal_due_on <= horizon)
             or (states[row.id] is AgreementStatus.RENEWAL_DUE and row.renewal_due_on) or states[row.id] is AgreementStatus.FINALISED]
    agreements = db.session.scalars(select(Agreement).where(Agreement.id.in_(id_list(shown))).options(_SHOWN_COLUMNS)
                                    .order_by(Agreement.id)).all() if shown else []
    due_soon = [a for a in agreements if states[a.id] is AgreementStatus.ACTIVE]
    overdue = [a for a in agreements if states[a.id] is AgreementStatus.RENEWAL_DUE]
    renewals = renewals_under_way([a.id for a in due_soon + overdue])
    finalised = [a for a in agreements if states[a.id] is AgreementStatus.FINALISED]
    _load_collection(due_soon + overdue, "parties", Party, joinedload(Party.municipality, innerjoin=True))
    _load_collection(finalised, "signature_slots", SignatureSlot)

    def renewal(agreement: Agreement) -> Renewal:
        assert agreement.renewal_due_on is not None
        return Renewal(agreement, (agreement.renewal_due_on - day).days, renewals.get(agreement.id))

    return Overview(
        today=day,
        counts=counts,
        due_soon=sorted(map(renewal, due_soon), key=lambda r: (r.days, r.agreement.id)),
        overdue=sorted(map(renewal, overdue), key=lambda r: (r.days, r.agreement.id)),
        missing_signatures=_missing_signatures(finalised, day),
        agreements=list(agreements),
    )


#: The columns of an agreement the dashboard reads: its answers (some of them JSON) are not loaded.
_SHOWN_COLUMNS = load_only(Agreement.id, Agreement.reference, Agreement.version, Agreement.status, Agreement.renewal_due_on)


def _load_collection(agreements: list[Agreement], name: str, child: type[Party] | type[SignatureSlot], *options) -> None:  # type: ignore[no-untyped-def]
    """Load the collection ``name`` (parties or signature slots, in their order) of ``agreements``, already
    in the session, in one query of the children alone (``selectinload`` would read the agreements again)."""
    if not agreements:
        return
    children: dict[int, list] = {agreement.id: [] for agreement in agreements}
    by_id = {agreement.id: agreement for agreement in agreements}
    for item in db.session.scalars(select(child).where(child.agreement_id.in_(id_list(children))).order_by(child.agreement_id, child.position).options(*options)):
        children[item.agreement_id].append(item)
        # Its agreement too: the tables read ``slot.agreement`` per row, a lazy load (from the session) each time.
        set_committed_value(item, "agreement", by_id[item.agreement_id])
    for agreement in agreements:
        set_committed_value(agreement, name, children[agreement.id])


def _missing_signatures(finalised: list[Agreement], day: date) -> list[MissingSignature]:
    """The slots of finalised agreements neither signed nor declined, longest waiting first. They wait
    since the agreement was (last) finalised. The slots come loaded with the agreements."""
    if not finalised:
        return []
    agreement_ids = [agreement.id for agreement in finalised]
    slots = [slot for agreement in finalised for slot in agreement.signature_slots
             if slot.signed_at is None and slot.declined_at is None]
    finalised_at: dict[int, datetime] = dict(db.session.execute(
        select(AuditEvent.agreement_id, func.max(AuditEvent.at))
        .where(AuditEvent.agreement_id.in_(id_list(agreement_ids)), AuditEvent.action == AgreementStatus.FINALISED.value)
        .group_by(AuditEvent.agreement_id)
    ).all())
    documents_made: dict[int, datetime] = dict(db.session.execute(  # the dates only, not the PDFs
        select(AgreementDocument.agreement_id, AgreementDocument.created_at).where(AgreementDocument.agreement_id.in_(id_list(agreement_ids)))
    ).all())
    waiting_since: dict[int, date] = {}  # by agreement: its slots wait since the same day
    for agreement_id in agreement_ids:
        when = finalised_at.get(agreement_id) or documents_made.get(agreement_id)
        waiting_since[agreement_id] = to_user_timezone(when).date() if when else day  # the day in Norway
    missing = [MissingSignature(slot, waiting_since[slot.agreement_id], (day - waiting_since[slot.agreement_id]).days)
               for slot in slots]
    return sorted(missing, key=lambda m: (m.waiting_since, m.slot.agreement_id, m.slot.position))


@bp.route("/dashboard")
@roles_required(Role.COORDINATOR, Role.ADMINISTRATOR)
def dashboard():
    return render_template("dashboard.html", overview=overview(current_user, today()), horizon_days=HORIZON_DAYS)
