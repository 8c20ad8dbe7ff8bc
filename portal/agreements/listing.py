"""The rows of the agreement list, read as plain columns and written in Python.

The list shows a few columns of every agreement the user may read. Loading them as ORM objects with their
parties, municipalities and signature slots made some 360 objects per request of a list of 60 (a third
of the page's time); here it is three queries of tuples, whatever the number of agreements. Its rows were
then a third of the page's time in Jinja (twenty output pieces and three helper calls a row):
:func:`agreement_rows` writes each as one string.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from collections.abc import Mapping

from markupsafe import Markup, escape
from sqlalchemy import select

from . import bp
from ..access import visible_agreements
from ..extensions import db, id_list
from ..labels import STATUS_LABELS
from ..language import page_language
from ..models import Agreement, AgreementStatus, Municipality, Party, Role, SignatureSlot, User, status_on
from ..templating import agreement_link, agreement_url, name_list, norwegian_date, state_tag
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


#: A row of the list, the markup the template's loop wrote: every value put in is escaped or Markup. The
#: column names are the page's ``words``.
_ROW = """
    <tr>
      <td data-label="{agreement}">{link}</td>
      <td data-label="{municipalities}">{names}</td>
      <td data-label="{state}">{tag}</td>
      <td data-label="{changed}">{updated}</td>
      <td>
        {action}
      </td>
    </tr>
  """
#: A row's action: continue or check a draft, sign.
_ACTION = '<a class="ds-link" href="{url}">{word}<span class="ds-sr-only"> {reference}</span></a>'


@bp.app_template_global()
def agreement_rows(agreements: list[ListedAgreement], words: Mapping[str, str], coordinator: bool) -> Markup:
    """The table rows of ``agreements``; ``words`` are the page's column names and link texts, translated
    once for the page. A coordinator continues drafts; a signatory signs what awaits them."""
    words = {name: escape(word) for name, word in words.items()}
    tags = {state: state_tag(state, STATUS_LABELS) for state in {agreement.state for agreement in agreements}}
    language = page_language()  # once for the rows, not in every cell
    rows = []
    for agreement in agreements:
        if agreement.is_editable and coordinator:
            url, word = ((agreement_url("wizard.step", agreement.id, step_name=agreement.open_step), words["continue"])
                         if agreement.open_step else (agreement_url("wizard.check_answers", agreement.id), words["check"]))
        elif agreement.awaits_signature:
            url, word = agreement_url("agreements.sign", agreement.id), words["sign"]
        else:
            url = None
        rows.append(_ROW.format(
            **words, link=agreement_link(agreement, language),
            names=escape(name_list(agreement.municipality_names, language) or words["none_chosen"]),
            tag=tags[agreement.state], updated=escape(norwegian_date(agreement.updated_at, "short", language)),
            action=_ACTION.format(url=escape(url), word=word, reference=escape(agreement.reference)) if url else "",
        ))
    return Markup("".join(rows))
