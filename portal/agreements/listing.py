"""The rows of the agreement list, read as plain columns.

The list shows a few columns of every agreement the user may read. Loading them as ORM objects with their
parties, municipalities and signature slots made some 360 objects per request of a list of 60 (a third
of the page's time); here it is three queries of tuples, whatever the number of agreements.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from ..access import visible_agreements
from ..extensions import db, id_list
from ..models import Agreement, AgreementStatus, Municipality, Party, Role, SignatureSlot, User, status_on
from ..wizard.answers import steps_not_in
from .signing import slot_belongs_to


@dataclass
class ListedAgreement:
    """What the list shows of an agreement."""

    id: int
    reference: str
    version: int
    status: AgreementStatus
    #: The state as it is today (``Agreement.status_on``).
    state: AgreementStatus
    updated_at: datetime
    municipality_names: list[str]
    #: A draft's first step not yet answered (``first_open_step``); None when complete, or not a draft.
    open_step: str | None
    #: The user holds an unsigned slot of this agreement, which is open for signing (``awaits_signature_of``).
    awaits_signature: bool

    @property
    def is_editable(self) -> bool:
        return self.status is AgreementStatus.DRAFT


def listed_agreements(user: User, today: date) -> list[ListedAgreement]:
    """The agreements ``user`` may read, except superseded versions (reached from the agreement that replaced
    them), last changed first."""
    rows = db.session.execute(
        visible_agreements(user)
        .with_only_columns(Agreement.id, Agreement.reference, Agreement.version, Agreement.status, Agreement.renewal_due_on,
                           Agreement.updated_at, Agreement.renewal_of_id, Agreement.completed_steps)
        .where(Agreement.status != AgreementStatus.SUPERSEDED)
        .order_by(Agreement.updated_at.desc(), Agreement.id.desc())
    ).all()
    if not rows:
        return []
    names: dict[int, list[str]] = {row.id: [] for row in rows}
    for agreement_id, name in db.session.execute(
        select(Party.agreement_id, Municipality.name).join(Party.municipality)
        .where(Party.agreement_id.in_(id_list(names))).order_by(Party.agreement_id, Party.position)
    ):
        names[agreement_id].append(name)
    awaiting = _awaiting_signature_of(user, [row.id for row in rows if row.status is AgreementStatus.FINALISED])
    return [
        ListedAgreement(
            id=row.id, reference=row.reference, version=row.version, status=row.status,
            state=status_on(row.status, row.renewal_due_on, today), updated_at=row.updated_at,
            municipality_names=names[row.id],
            open_step=(next(iter(steps_not_in(row.completed_steps, renewal=row.renewal_of_id is not None)), None)
                       if row.status is AgreementStatus.DRAFT else None),
            awaits_signature=row.id in awaiting,
        )
        for row in rows
    ]


def _awaiting_signature_of(user: User, finalised_ids: list[int]) -> set[int]:
    """The agreements among ``finalised_ids`` whose slot of ``user`` (the first that is theirs, as
    ``signing.slot_for`` finds it) is not signed yet. Only signatories hold slots."""
    if user.role is not Role.SIGNATORY or not finalised_ids:
        return set()
    first_slot: dict[int, bool] = {}
    for slot in db.session.execute(
        select(SignatureSlot.agreement_id, SignatureSlot.email, SignatureSlot.signed_at)
        .where(SignatureSlot.agreement_id.in_(id_list(finalised_ids))).order_by(SignatureSlot.agreement_id, SignatureSlot.position)
    ):
        if slot.agreement_id not in first_slot and slot_belongs_to(slot, user):  # type: ignore[arg-type]
            first_slot[slot.agreement_id] = slot.signed_at is None
    return {agreement_id for agreement_id, unsigned in first_slot.items() if unsigned}
