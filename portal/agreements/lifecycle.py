"""Every change of an agreement's state goes through here, with its audit event, so the two cannot disagree."""
from __future__ import annotations

from datetime import date, datetime, timezone

from flask import has_request_context, request

from sqlalchemy import func, or_, select

from .. import clock
from ..extensions import db
from ..models import Agreement, AgreementStatus, AuditEvent, Member, Organisation, Party, PriorityArea, Role, User

#: The states from which a signed agreement can be renewed (an expired one too: the renewal revives it).
RENEWABLE_STATES = (AgreementStatus.ACTIVE, AgreementStatus.RENEWAL_DUE, AgreementStatus.EXPIRED)
#: A renewal in these states is still under way (not yet signed, not declined).
UNDER_WAY_STATES = (AgreementStatus.DRAFT, AgreementStatus.FINALISED)


def record_event(agreement: Agreement | None, action: str, actor: User | None, detail: str = "") -> AuditEvent:
    """Append an audit event (who, what, when, from where). Events are never changed or deleted."""
    event = AuditEvent(
        agreement=agreement,
        user=actor,
        action=action,
        detail=detail,
        remote_address=request.remote_addr if has_request_context() else None,
        at=datetime.now(timezone.utc),
    )
    db.session.add(event)
    return event


def start_agreement(creator: User, detail: str = "", **answers: object) -> Agreement:
    """A new draft owned by the creator's organisation, its reference made from its id (so two started at
    once never share one), and the «created» event; the caller commits."""
    answers.setdefault("completed_steps", [])
    if "police_district" not in answers:  # a police coordinator starts with their own district
        answers.setdefault("police_district_id", creator.organisation.police_district_id)
    agreement = Agreement(reference="pending", owner_organisation=creator.organisation, created_by=creator,
                          unsaved_input={}, changed_by=creator, changed_at=datetime.now(timezone.utc), **answers)
    db.session.add(agreement)
    db.session.flush()
    agreement.reference = f"PR-{clock.today().year}-{agreement.id:05d}"
    record_event(agreement, "created", creator, detail)
    return agreement


def untouched_draft_of(creator: User) -> Agreement | None:
    """The draft ``creator`` started and has not answered anything in yet, if any: «Start a new agreement»
    opens it again instead of leaving one more empty draft behind each time it is pressed."""
    drafts = db.session.scalars(
        select(Agreement).where(Agreement.created_by_id == creator.id, Agreement.status == AgreementStatus.DRAFT,
                                Agreement.previous_version_id.is_(None), Agreement.renewal_of_id.is_(None))
        .order_by(Agreement.id.desc())
    )
    return next((draft for draft in drafts if draft.is_untouched), None)


def delete_draft(agreement: Agreement, actor: User) -> None:
    """Delete a draft that was never finalised, with its answers; the caller commits. The audit event
    outlives it (it names the reference, the version and the id), as do the events recorded before."""
    if not agreement.is_deletable:
        raise ValueError(f"{agreement.reference} version {agreement.version} cannot be deleted")
    record_event(None, "draft_deleted", actor,
                 f"{agreement.reference} version {agreement.version} (id {agreement.id}), never finalised")
    db.session.delete(agreement)


def change_status(agreement: Agreement, status: AgreementStatus, actor: User | None, detail: str = "") -> AuditEvent:
    """Move the agreement to ``status`` and record it, queueing its Fiks Arkiv messages where the status is
    one the municipalities' archives receive (signed, superseded); the caller commits."""
    from ..archive.fiks_arkiv import queue_messages  # the archive builds on the lifecycle

    previous = agreement.status
    agreement.status = status
    queue_messages(agreement, status)
    return record_event(agreement, status.value, actor, detail or f"{previous.value} → {status.value}")


def new_version(agreement: Agreement, actor: User | None, detail: str, *, renewal_of: Agreement | None = None) -> Agreement:
    """A draft copy of ``agreement`` as the next version of its reference, every answer and step copied;
    the caller commits. A renewal names the signed agreement it will supersede (a new version of a
    declined renewal keeps naming it)."""
    skipped = {"id", "reference", "version", "status", "created_at", "updated_at", "previous_version_id",
               "renewal_of_id", "active_from", "renewal_due_on", "created_by_id", "unsaved_input",
               "draft_version", "changed_by_id", "changed_at", "step_changes"}
    copied = {column.key: getattr(agreement, column.key) for column in Agreement.__table__.columns if column.key not in skipped}
    copied["completed_steps"] = list(agreement.completed_steps or [])
    copied["additional_main_tasks"] = list(agreement.additional_main_tasks or [])
    latest = db.session.scalar(select(func.max(Agreement.version)).where(Agreement.reference == agreement.reference))
    new = Agreement(**copied, reference=agreement.reference, version=(latest or agreement.version) + 1,
                    status=AgreementStatus.DRAFT, previous_version_id=agreement.id,
                    renewal_of=renewal_of or agreement.renewal_of, created_by=actor or agreement.created_by,
                    unsaved_input={}, changed_by=actor, changed_at=datetime.now(timezone.utc))
    for party in agreement.parties:
        new.parties.append(Party(municipality_number=party.municipality_number, position=party.position))
    for member in agreement.members:
        new.members.append(Member(role=member.role, municipality_number=member.municipality_number, name=member.name,
                                  title=member.title, email=member.email, organisation_name=member.organisation_name,
                                  position=member.position))
    for area in agreement.priority_areas:
        new.priority_areas.append(PriorityArea(title=area.title, expected_results=area.expected_results, position=area.position))
    db.session.add(new)
    db.session.flush()
    record_event(new, "new_version", actor, detail)
    return new


def renewals_under_way(agreement_ids: list[int]) -> dict[int, Agreement]:
    """For each of ``agreement_ids`` that has one, its renewal being drafted or signed (the newest version)."""
    if not agreement_ids:
        return {}
    found = db.session.scalars(
        select(Agreement).where(Agreement.renewal_of_id.in_(agreement_ids), Agreement.status.in_(UNDER_WAY_STATES))
        .order_by(Agreement.version, Agreement.id)
    )
    return {renewal.renewal_of_id: renewal for renewal in found if renewal.renewal_of_id is not None}


def renewal_under_way(agreement: Agreement) -> Agreement | None:
    """The renewal of ``agreement`` being drafted or signed, if one is."""
    return renewals_under_way([agreement.id]).get(agreement.id)


def start_renewal(agreement: Agreement, actor: User, today: date) -> Agreement:
    """The yearly revision: a new draft version prefilled from the signed ``agreement``. It opens with
    the evaluation of last year's priority areas; its start date is offered as the renewal date and must
    be confirmed. A renewal already under way is returned instead of a second one. The caller commits."""
    under_way = renewal_under_way(agreement)
    if under_way is not None:
        return under_way
    renewal = new_version(agreement, actor, f"renewal of version {agreement.version}", renewal_of=agreement)
    # Every renewal evaluates the year behind it, also the renewal of a renewal (whose copied steps say
    # «evaluation» done: that was last year's evaluation, of other priority areas).
    renewal.completed_steps = [name for name in renewal.completed_steps if name not in ("evaluation", "validity")]
    renewal.start_date = max(agreement.renewal_due_on or today, today)
    record_event(agreement, "renewal_started", actor, f"version {renewal.version}")
    return renewal


def versions_of(agreement: Agreement, *, drafts: bool = True) -> list[Agreement]:
    """Every version of the agreement's reference, oldest first: the chain a renewal or a decline adds to
    (without drafts for the archive, which never shows that one exists)."""
    query = select(Agreement).where(Agreement.reference == agreement.reference)
    if not drafts:
        query = query.where(Agreement.status != AgreementStatus.DRAFT)
    return list(db.session.scalars(query.order_by(Agreement.version)))


def coordinators_of(agreement: Agreement) -> list[User]:
    """The coordinators of the owning organisation and of every party (municipalities, police district)."""
    clauses = [User.organisation_id == agreement.owner_organisation_id]
    numbers = [party.municipality_number for party in agreement.parties]
    if numbers:
        clauses.append(User.organisation.has(Organisation.municipality_number.in_(numbers)))
    if agreement.police_district_id:
        clauses.append(User.organisation.has(Organisation.police_district_id == agreement.police_district_id))
    return list(db.session.scalars(select(User).where(User.role == Role.COORDINATOR, or_(*clauses)).order_by(User.id)))
