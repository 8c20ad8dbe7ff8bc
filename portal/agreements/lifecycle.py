"""Every change of an agreement's state goes through here, with its audit event, so the two cannot disagree."""
from __future__ import annotations

from datetime import date, datetime, timezone

from flask import has_request_context, request

from ..extensions import db
from ..models import Agreement, AgreementStatus, AuditEvent, User


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
                          unsaved_input={}, **answers)
    db.session.add(agreement)
    db.session.flush()
    agreement.reference = f"PR-{date.today().year}-{agreement.id:05d}"
    record_event(agreement, "created", creator, detail)
    return agreement


def change_status(agreement: Agreement, status: AgreementStatus, actor: User | None, detail: str = "") -> AuditEvent:
    """Move the agreement to ``status`` and record it; the caller commits."""
    previous = agreement.status
    agreement.status = status
    return record_event(agreement, status.value, actor, detail or f"{previous.value} → {status.value}")
