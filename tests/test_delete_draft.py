"""A coordinator deletes a draft that was never finalised, after confirming it; «Start a new agreement»
leaves no empty draft behind (issue 9, item 12)."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Agreement, AgreementStatus, AuditEvent

from . import factories
from .test_wizard import start_agreement
from .wizard_answers import answer


def agreement_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Agreement)) or 0


def test_a_coordinator_deletes_a_draft_after_confirming_it(client, people):
    draft = factories.complete_agreement(people.coordinator)
    db.session.commit()
    draft_id, reference = draft.id, draft.reference
    client.sign_in(people.coordinator)
    client.choose_language("en")
    page = client.get(f"/agreements/{draft_id}").get_data(as_text=True)
    assert f'href="/agreements/{draft_id}/delete"' in page

    confirmation = client.get(f"/agreements/{draft_id}/delete")
    text = re.sub(r"\s+", " ", confirmation.get_data(as_text=True))
    assert confirmation.status_code == 200
    assert f"Delete the draft {reference}?" in text and "cannot be undone" in text
    assert agreement_count() == 1, "the confirmation page deletes nothing"

    response = client.submit(f"/agreements/{draft_id}/delete", token_from=f"/agreements/{draft_id}/delete")
    assert response.status_code == 302 and response.location.endswith("/agreements/")
    db.session.expire_all()
    assert db.session.get(Agreement, draft_id) is None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "draft_deleted"))
    assert event is not None and event.user_id == people.coordinator.id and reference in event.detail
    listing = client.get("/agreements/").get_data(as_text=True)
    assert f">{reference}</a>" not in listing
    assert client.get(f"/agreements/{draft_id}").status_code == 404


def test_a_finalised_agreement_cannot_be_deleted(client, people):
    agreement = factories.complete_agreement(people.coordinator)
    agreement.status = AgreementStatus.FINALISED
    db.session.commit()
    client.sign_in(people.coordinator)
    assert f"/agreements/{agreement.id}/delete" not in client.get(f"/agreements/{agreement.id}").get_data(as_text=True)
    response = client.submit(f"/agreements/{agreement.id}/delete", token_from="/agreements/")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Agreement, agreement.id) is not None


def test_another_municipality_cannot_delete_the_draft(client, people):
    draft = factories.complete_agreement(people.coordinator)
    db.session.commit()
    client.sign_in(people.other_coordinator)
    assert client.submit(f"/agreements/{draft.id}/delete", token_from="/agreements/").status_code == 404
    assert agreement_count() == 1


def test_start_a_new_agreement_leaves_no_empty_draft_behind(client, people):
    client.sign_in(people.coordinator)
    first = start_agreement(client)
    assert start_agreement(client) == first
    assert start_agreement(client) == first
    assert agreement_count() == 1
    assert answer(client, first, "parties").status_code == 302  # once answered, the next press starts anew
    second = start_agreement(client)
    assert second != first and agreement_count() == 2
    client.sign_in(people.police_coordinator)  # a colleague's empty draft is theirs, not yours
    assert start_agreement(client) not in (first, second)
