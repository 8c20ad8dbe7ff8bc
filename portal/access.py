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
from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.interfaces import ORMOption

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


def _organisation_of(user: User) -> tuple[int, str | None, int | None]:
    """What the agreements an organisation is party to depend on: its id, municipality and police district."""
    organisation = user.organisation
    return organisation.id, organisation.municipality_number, organisation.police_district_id


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
    return _visible(user.role, _organisation_of(user))


def _visible(role: Role, organisation: tuple[int, str | None, int | None]) -> Select[tuple[Agreement]]:
    query = select(Agreement)
    if role is Role.ARCHIVIST:
        return query.where(Agreement.status.in_(SIGNED_STATES))
    query = query.where(_organisation_clause(*organisation))
    if role is Role.SIGNATORY:
        query = query.where(Agreement.status != AgreementStatus.DRAFT)
    return query


@lru_cache(maxsize=512)
def _one_visible(role: Role, organisation: tuple[int, str | None, int | None], loading: tuple[ORMOption, ...]) -> Select[tuple[Agreement]]:
    """The statement of :func:`agreement_for_reading` (the agreement's id a parameter), kept per role,
    organisation and loader options: SQLAlchemy keeps a statement's cache key on the statement, and working
    it out anew for a new one (its EXISTS, the options) cost about as much as running the query."""
    return _visible(role, organisation).where(Agreement.id == bindparam("agreement_id")).options(*loading)


def with_list_details(query: Select[tuple[Agreement]]) -> Select[tuple[Agreement]]:
    """``query`` loading with its agreements what the list pages show of each one (parties and their
    municipalities, signature slots) in a query per relationship (the parties with their municipalities),
    not in queries per row."""
    return query.options(
        selectinload(Agreement.parties).joinedload(Party.municipality, innerjoin=True),
        selectinload(Agreement.signature_slots),
    )


def agreement_for_reading(agreement_id: int, *loading: ORMOption) -> Agreement:
    """The agreement if ``current_user`` may read it, else 404. ``loading``: the page's loader options, made
    once (module constants), so that the statement kept for them is found again."""
    statement = _one_visible(current_user.role, _organisation_of(current_user), loading)
    agreement = db.session.scalar(statement, {"agreement_id": agreement_id})
    if agreement is None:
        abort(404)
    return agreement


def agreement_for_editing(agreement_id: int, *loading: ORMOption) -> Agreement:
    """A draft the current coordinator may change; 404 if not theirs to see, 403 if not theirs to change."""
    agreement = agreement_for_reading(agreement_id, *loading)
    if current_user.role is not Role.COORDINATOR:
        abort(403)
    return agreement
