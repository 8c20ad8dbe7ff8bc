"""The dashboard for coordinators and administrators: their agreements by state, renewals coming up,
renewals overdue, and signatures still missing, with whom they wait for.

Only the agreements the user may read (``access.visible_agreements``) are counted or listed. States are
taken as they are *today* (``Agreement.status_on``), so an agreement past its renewal date shows as due
even before the nightly ``flask renewals`` has marked it.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

from flask import Blueprint, render_template
from flask_babel import to_user_timezone
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, load_only
from sqlalchemy.orm.attributes import set_committed_value

from .access import roles_required, visible_agreements
from .agreements.lifecycle import renewals_under_way
from .clock import today  # the day the dashboard is drawn for; tests replace it here
from .extensions import db, id_list
from .language import page_language
from .models import Agreement, AgreementDocument, AgreementStatus, AuditEvent, Party, Role, SignatureSlot, User, status_on
from .templating import agreement_link, norwegian_date

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


class AgreementName(NamedTuple):
    """An agreement as a table row names and links it (``agreement_link``)."""

    id: int
    reference: str
    version: int


@dataclass
class MissingSignature:
    """A signatory who has neither signed nor declined yet: their slot's columns."""

    agreement: AgreementName
    field_name: str
    name: str
    title: str
    organisation_name: str
    email: str
    waiting_since: date
    days_waiting: int


@dataclass
class Overview:
    today: date
    counts: dict[AgreementStatus, int]
    due_soon: list[Renewal]
    overdue: list[Renewal]
    missing_signatures: list[MissingSignature]
    #: The agreements of the renewal tables, kept so that the page finds each one in the session, not in a query per row.
    agreements: list[Agreement]


def overview(user: User, day: date) -> Overview:
    """What the dashboard shows ``user`` on ``day``."""
    # The states are counted from two columns of each agreement; the agreements in the renewal tables are
    # loaded then, with their parties and municipalities, not every one counted.
    rows = db.session.execute(visible_agreements(user).with_only_columns(Agreement.id, Agreement.status, Agreement.renewal_due_on)
                              .order_by(Agreement.id)).all()
    states = {row.id: status_on(row.status, row.renewal_due_on, day) for row in rows}
    counts = {status: 0 for status in AgreementStatus}
    for status in states.values():
        counts[status] += 1

    horizon = day + timedelta(days=HORIZON_DAYS)
    renewable = [row.id for row in rows if (states[row.id] is AgreementStatus.ACTIVE and row.renewal_due_on and row.renewal_due_on <= horizon)
                 or (states[row.id] is AgreementStatus.RENEWAL_DUE and row.renewal_due_on)]
    agreements = db.session.scalars(select(Agreement).where(Agreement.id.in_(id_list(renewable))).options(_SHOWN_COLUMNS)
                                    .order_by(Agreement.id)).all() if renewable else []
    due_soon = [a for a in agreements if states[a.id] is AgreementStatus.ACTIVE]
    overdue = [a for a in agreements if states[a.id] is AgreementStatus.RENEWAL_DUE]
    renewals = renewals_under_way([a.id for a in agreements])
    _load_parties(agreements)

    def renewal(agreement: Agreement) -> Renewal:
        assert agreement.renewal_due_on is not None
        return Renewal(agreement, (agreement.renewal_due_on - day).days, renewals.get(agreement.id))

    return Overview(
        today=day,
        counts=counts,
        due_soon=sorted(map(renewal, due_soon), key=lambda r: (r.days, r.agreement.id)),
        overdue=sorted(map(renewal, overdue), key=lambda r: (r.days, r.agreement.id)),
        missing_signatures=_missing_signatures([row.id for row in rows if states[row.id] is AgreementStatus.FINALISED], day),
        agreements=list(agreements),
    )


#: The columns of an agreement the dashboard reads: its answers (some of them JSON) are not loaded.
_SHOWN_COLUMNS = load_only(Agreement.id, Agreement.reference, Agreement.version, Agreement.status, Agreement.renewal_due_on)


def _load_parties(agreements: list[Agreement]) -> None:
    """Load the parties (in their order, with their municipalities) of ``agreements``, already in the
    session, in one query of the parties alone (``selectinload`` would read the agreements again)."""
    if not agreements:
        return
    parties: dict[int, list[Party]] = {agreement.id: [] for agreement in agreements}
    for party in db.session.scalars(select(Party).where(Party.agreement_id.in_(id_list(parties))).order_by(Party.agreement_id, Party.position)
                                    .options(joinedload(Party.municipality, innerjoin=True))):
        parties[party.agreement_id].append(party)
    for agreement in agreements:
        set_committed_value(agreement, "parties", parties[agreement.id])


def _missing_signatures(finalised_ids: list[int], day: date) -> list[MissingSignature]:
    """The slots of the finalised agreements neither signed nor declined, longest waiting first, read as
    plain columns with their agreement's in one query (ORM objects were half the dashboard's time). They
    wait since the agreement was (last) finalised, or else since its document was made."""
    if not finalised_ids:
        return []
    finalised_at = (select(func.max(AuditEvent.at))
                    .where(AuditEvent.agreement_id == SignatureSlot.agreement_id, AuditEvent.action == AgreementStatus.FINALISED.value)
                    .scalar_subquery())
    document_made = select(AgreementDocument.created_at).where(AgreementDocument.agreement_id == SignatureSlot.agreement_id).scalar_subquery()
    slots = db.session.execute(
        select(SignatureSlot.agreement_id, Agreement.reference, Agreement.version, SignatureSlot.position, SignatureSlot.field_name,
               SignatureSlot.name, SignatureSlot.title, SignatureSlot.organisation_name, SignatureSlot.email,
               finalised_at.label("finalised_at"), document_made.label("document_made"))  # the dates only, not the PDFs
        .join(SignatureSlot.agreement)
        .where(SignatureSlot.agreement_id.in_(id_list(finalised_ids)), SignatureSlot.signed_at.is_(None), SignatureSlot.declined_at.is_(None))
    ).all()
    waiting_since: dict[int, date] = {}  # by agreement: its slots wait since the same day
    for slot in slots:
        if slot.agreement_id not in waiting_since:
            when = slot.finalised_at or slot.document_made
            waiting_since[slot.agreement_id] = to_user_timezone(when).date() if when else day  # the day in Norway
    slots = sorted(slots, key=lambda slot: (waiting_since[slot.agreement_id], slot.agreement_id, slot.position))
    return [MissingSignature(AgreementName(slot.agreement_id, slot.reference, slot.version), slot.field_name,
                             slot.name or slot.email,  # as SignatureSlot.shown_name names an unsigned slot
                             slot.title, slot.organisation_name, slot.email, waiting_since[slot.agreement_id],
                             (day - waiting_since[slot.agreement_id]).days)
            for slot in slots]


#: A row of «Signatures still missing», as the template's loop wrote it: every value put in is escaped or
#: Markup. The column names are the page's ``words``.
_MISSING_ROW = """
      <tr data-agreement="{reference}" data-field="{field}">
        <td data-label="{agreement}">{link}</td>
        <td data-label="{signatory}">{signatory_name}</td>
        <td data-label="{for}">{organisation}</td>
        <td data-label="{email}"><a class="ds-link" href="mailto:{address}">{address}</a></td>
        <td data-label="{waiting_since}">{since} ({days})</td>
      </tr>
    """


@bp.app_template_global()
def missing_signature_rows(missing: list[MissingSignature], words: Mapping[str, str]) -> Markup:
    """The rows of «Signatures still missing», one string each (some twenty-five output pieces and three
    helper calls each in Jinja); ``words`` are the page's column names, translated once for the page."""
    words = {name: escape(word) for name, word in words.items()}
    language = page_language()  # once for the rows, not in every cell
    translations = language.translations
    return Markup("".join(_MISSING_ROW.format(
        **words, reference=escape(item.agreement.reference), field=escape(item.field_name), link=agreement_link(item.agreement, language),
        signatory_name=escape(f"{item.name}, {item.title}" if item.title else item.name), organisation=escape(item.organisation_name),
        address=escape(item.email), since=escape(norwegian_date(item.waiting_since, language=language)),
        days=translations.ungettext("%(num)d day", "%(num)d days", item.days_waiting) % {"num": item.days_waiting},  # a number: nothing to escape
    ) for item in missing))


@bp.route("/dashboard")
@roles_required(Role.COORDINATOR, Role.ADMINISTRATOR)
def dashboard():
    return render_template("dashboard.html", overview=overview(current_user, today()), horizon_days=HORIZON_DAYS)
