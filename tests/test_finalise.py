"""The draft PDF, finalising, and the final document: who may do what, what is stored, and that the
stored bytes are what is served."""
from __future__ import annotations

import hashlib
import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from forms.steps import STEP_NAMES
from portal.extensions import db
from portal.models import Agreement, AgreementDocument, AgreementStatus, AuditEvent

from . import factories


def reload(agreement_id: int) -> Agreement:
    db.session.expire_all()
    found = db.session.get(Agreement, agreement_id)
    assert found is not None
    return found


def documents_of(agreement_id: int) -> list[AgreementDocument]:
    db.session.expire_all()
    return list(db.session.scalars(select(AgreementDocument).where(AgreementDocument.agreement_id == agreement_id)))


def pdf_text(data: bytes) -> str:
    """The PDF's words, one space between each, whatever the line breaks."""
    return " ".join(" ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages).split())


def finalise(client, agreement_id: int):  # type: ignore[no-untyped-def]
    return client.submit(f"/agreements/{agreement_id}/finalise", token_from=f"/agreements/{agreement_id}")


@pytest.fixture
def coordinator(client, people):  # type: ignore[no-untyped-def]
    client.sign_in(people.coordinator)
    client.choose_language("en")
    return client


@pytest.fixture
def draft(people) -> Agreement:
    agreement = factories.complete_agreement(people.coordinator)
    db.session.commit()
    return agreement


def test_the_coordinator_reads_the_draft_as_a_pdf_marked_utkast(coordinator, draft):
    response = coordinator.get(f"/agreements/{draft.id}/preview.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'inline; filename="{draft.reference}-v1-utkast.pdf"'
    assert response.headers["Cache-Control"] == "no-store"
    text = pdf_text(response.data)
    assert "UTKAST" in text and "Samarbeidsavtale mellom Voss kommune" in text
    assert reload(draft.id).status is AgreementStatus.DRAFT, "reading changes nothing"


def test_another_municipality_gets_404_for_the_draft_pdf(client, people, draft):
    client.sign_in(people.other_coordinator)
    assert client.get(f"/agreements/{draft.id}/preview.pdf").status_code == 404
    assert client.get(f"/agreements/{draft.id}/document.pdf").status_code == 404
    assert client.submit(f"/agreements/{draft.id}/finalise", token_from="/agreements/").status_code == 404
    assert reload(draft.id).status is AgreementStatus.DRAFT


def test_signed_out_visitors_are_sent_to_sign_in(client, draft):
    response = client.get(f"/agreements/{draft.id}/preview.pdf")
    assert response.status_code == 302 and "/sign-in" in response.location


def test_a_signatory_cannot_finalise(client, people, draft):
    client.sign_in(people.mayor)
    assert client.submit(f"/agreements/{draft.id}/finalise", token_from="/agreements/").status_code == 403
    assert reload(draft.id).status is AgreementStatus.DRAFT
    assert documents_of(draft.id) == []


def test_finalising_is_refused_while_a_step_is_missing(coordinator, people):
    agreement = factories.complete_agreement(people.coordinator)
    agreement.completed_steps = [name for name in STEP_NAMES if name != "slt"]
    db.session.commit()

    page = coordinator.get(f"/agreements/{agreement.id}").get_data(as_text=True)
    assert "Finalise the agreement" not in page, "no button to press on an unfinished draft"
    assert "The agreement can be finalised when every step is answered." in page

    response = finalise(coordinator, agreement.id)
    assert response.status_code == 302 and response.location.endswith(f"/agreements/{agreement.id}")
    page = coordinator.get(response.location).get_data(as_text=True)
    assert "The agreement cannot be finalised yet. Answer «Relation to SLT» first." in page
    assert reload(agreement.id).status is AgreementStatus.DRAFT
    assert documents_of(agreement.id) == []


def test_finalising_stores_the_final_pdf_and_serves_exactly_those_bytes(coordinator, people, draft):
    page = coordinator.get(f"/agreements/{draft.id}").get_data(as_text=True)
    assert "Download the draft as PDF" in page and "Finalise the agreement" in page

    response = finalise(coordinator, draft.id)
    assert response.status_code == 302 and response.location.endswith(f"/agreements/{draft.id}")
    assert "The agreement is finalised." in coordinator.get(response.location).get_data(as_text=True)

    agreement = reload(draft.id)
    assert agreement.status is AgreementStatus.FINALISED
    (stored,) = documents_of(draft.id)
    assert stored.pdf.startswith(b"%PDF-") and stored.sha256 == hashlib.sha256(stored.pdf).hexdigest()
    text = pdf_text(stored.pdf)
    assert "UTKAST" not in text and "Samarbeidsavtale mellom Voss kommune og Vest politidistrikt" in text
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.agreement_id == draft.id, AuditEvent.action == "finalised"))
    assert event is not None and event.user_id == people.coordinator.id and stored.sha256 in event.detail

    # What is served is the sealed revision: the finalised bytes with the portal's seal appended.
    assert stored.signed_pdf is not None and stored.signed_pdf.startswith(stored.pdf)
    assert stored.signed_sha256 == hashlib.sha256(stored.signed_pdf).hexdigest()
    download = coordinator.get(f"/agreements/{draft.id}/document.pdf")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert download.data == stored.signed_pdf
    assert hashlib.sha256(download.data).hexdigest() == stored.signed_sha256
    assert download.headers["Content-Disposition"] == f'attachment; filename="{draft.reference}-v1.pdf"'

    page = coordinator.get(f"/agreements/{draft.id}").get_data(as_text=True)
    assert stored.signed_sha256 in re.sub(r"<wbr>", "", page), "the page shows the checksum to compare with"
    assert "Download the final agreement as PDF" in page and "Finalise the agreement" not in page
    # the draft link now leads to the final document, never to a new rendering
    assert coordinator.get(f"/agreements/{draft.id}/preview.pdf").location.endswith(f"/agreements/{draft.id}/document.pdf")

    # the signatories can now fetch the same bytes
    coordinator.sign_in(people.station_chief)
    assert coordinator.get(f"/agreements/{draft.id}/document.pdf").data == stored.signed_pdf


def test_after_finalising_nothing_changes_the_agreement(coordinator, draft):
    assert finalise(coordinator, draft.id).status_code == 302
    (stored,) = documents_of(draft.id)

    step = coordinator.get(f"/agreements/{draft.id}/steps/parties")
    assert step.status_code == 302 and not step.location.endswith("/steps/parties")
    response = coordinator.submit(
        f"/agreements/{draft.id}/steps/validity", {"start_date": "01.02.2027", "place": "Endra"}, token_from=f"/agreements/{draft.id}"
    )
    assert response.status_code == 302
    assert reload(draft.id).place == "Voss"

    again = finalise(coordinator, draft.id)
    assert again.status_code == 302
    assert "This agreement is already finalised." in coordinator.get(again.location).get_data(as_text=True)
    (still,) = documents_of(draft.id)
    assert (still.id, still.pdf) == (stored.id, stored.pdf)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "finalised")) == 1


@pytest.mark.parametrize("failing", ["agreement_pdf", "change_status"])
def test_a_failure_while_finalising_stores_nothing(coordinator, draft, monkeypatch, failing):
    from portal.agreements import signing as module  # where finalising renders, stores and seals

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(module, failing, broken)
    response = finalise(coordinator, draft.id)
    assert response.status_code == 302
    assert "could not be finalised, and nothing was changed" in coordinator.get(response.location).get_data(as_text=True)
    assert reload(draft.id).status is AgreementStatus.DRAFT
    assert documents_of(draft.id) == []
    assert coordinator.get(f"/agreements/{draft.id}/document.pdf").status_code == 404


def test_a_just_started_draft_can_be_previewed_with_blanks(coordinator, people):
    from portal.agreements.lifecycle import start_agreement
    from portal.models import Party

    agreement = start_agreement(people.coordinator, completed_steps=["parties"])
    agreement.parties.append(Party(municipality_number=factories.VOSS, position=0))
    db.session.commit()
    response = coordinator.get(f"/agreements/{agreement.id}/preview.pdf")
    assert response.status_code == 200
    text = pdf_text(response.data)
    assert "Samarbeidsavtale mellom Voss kommune og ________ politidistrikt" in text
    assert sorted(PdfReader(io.BytesIO(response.data)).get_fields()) == ["Signatur_ordforar_4621", "Signatur_stasjonssjef"]
