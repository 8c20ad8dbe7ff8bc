"""Who may see and change what. Every view asks here; nothing else decides access.

- A coordinator drafts and manages the agreements their organisation is party to (either side).
- A signatory reads the agreements of their organisation that have left the draft stage.
- An archivist reads signed agreements of every organisation, and no drafts.
- An administrator manages the people of their own organisation and reads its agreements.
Someone who may not see an agreement gets 404, so its existence is not revealed either.
"""
from __future__ import annotations

from functools import lru_cache, wraps
from typing import Callable, TypeVar

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import selectinload

from .extensions import db
from .models import Agreement, AgreementStatus, Party, Role, User

F = TypeVar("F", bound=Callable[..., object])

SIGNED_STATES = (AgreementStatus.ACTIVE, AgreementStatus.RENEWAL_DUE, AgreementStatus.SUPERSEDED, AgreementStatus.EXPIRED)


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Signed in, and holding one of ``roles``; otherwise 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):  # type: ignore[no-untyped-def]
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def _own_organisation_clause(user: User):  # type: ignore[no-untyped-def]
    organisation = user.organisation
    return _organisation_clause(organisation.id, organisation.municipality_number, organisation.police_district_id)


@lru_cache(maxsize=256)
def _organisation_clause(organisation_id: int, municipality_number: str | None, police_district_id: int | None):  # type: ignore[no-untyped-def]
    """The agreements an organisation is party to, as a SQL condition: kept per organisation (an expression
    does not change once made), as building the party's EXISTS cost more than the rest of a page's query."""
    clauses = [Agreement.owner_organisation_id == organisation_id]
    if municipality_number:
        clauses.append(Agreement.parties.any(Party.municipality_number == municipality_number))
    if police_district_id:
        clauses.append(Agreement.police_district_id == police_district_id)
    return or_(*clauses)


def visible_agreements(user: User) -> Select[tuple[Agreement]]:
    """A query for the agreements ``user`` may read."""
    query = select(Agreement)
    if user.role is Role.ARCHIVIST:
        return query.where(Agreement.status.in_(SIGNED_STATES))
    query = query.where(_own_organisation_clause(user))
    if user.role is Role.SIGNATORY:
        query = query.where(Agreement.status != AgreementStatus.DRAFT)
    return query


def with_list_details(query: Select[tuple[Agreement]]) -> Select[tuple[Agreement]]:
    """``query`` loading with its agreements what the list pages show of each one (parties and their
    municipalities, signature slots) in a query per relationship (the parties with their municipalities),
    not in queries per row."""
    return query.options(
        selectinload(Agreement.parties).joinedload(Party.municipality, innerjoin=True),
        selectinload(Agreement.signature_slots),
    )


def agreement_for_reading(agreement_id: int) -> Agreement:
    agreement = db.session.scalar(visible_agreements(current_user).where(Agreement.id == agreement_id))
    if agreement is None:
        abort(404)
    return agreement


def agreement_for_editing(agreement_id: int) -> Agreement:
    """A draft the current coordinator may change; 404 if not theirs to see, 403 if not theirs to change."""
    agreement = agreement_for_reading(agreement_id)
    if current_user.role is not Role.COORDINATOR:
        abort(403)
    return agreement
