"""The yearly renewal, through the pages: «Start renewal» on a signed agreement → the evaluation of last
year's priority areas → the prefilled draft → finalise → sign → the old agreement is superseded, and the
chain of versions shows from both ends."""
from __future__ import annotations

import io
from datetime import date

import pdfplumber
import pytest
from sqlalchemy import select

from portal.agreements import signing
from portal.agreements.renewals import mark_due_renewals
from portal.extensions import db
from portal.models import Agreement, AgreementStatus, AuditEvent, PriorityAreaEvaluation

from . import factories
from .conftest import PASSWORD

A_YEAR_AND_A_BIT_AGO = date(date.today().year - 1, 1, 15) if date.today() > date(date.today().year, 1, 15) else date(date.today().year - 2, 12, 1)


def reload(agreement_id: int) -> Agreement:
    db.session.expire_all()
    agreement = db.session.get(Agreement, agreement_id)
    assert agreement is not None
    return agreement


def evaluation_answers(count: int, **override: str) -> dict[str, str]:
    answers: dict[str, str] = {"action": "next"}
    for index in range(count):
        answers[f"areas-{index}-what_was_done"] = f"Natteravnar og nye fritidstilbod i område {index + 1}."
        answers[f"areas-{index}-achieved"] = f"Færre meldingar om uro i område {index + 1}."
        answers[f"areas-{index}-carried_forward"] = f"Start tidlegare på hausten i område {index + 1}."
    answers.update(override)
    return answers


@pytest.fixture
def due(people) -> Agreement:
    """A signed agreement for Voss, in force since more than twelve months, marked for renewal."""
    agreement = factories.signed_agreement(people, active_from=A_YEAR_AND_A_BIT_AGO)
    assert mark_due_renewals(date.today()) == [agreement.id]
    return reload(agreement.id)


def start_renewal(client, people, agreement: Agreement):  # type: ignore[no-untyped-def]
    client.sign_in(people.coordinator)
    client.choose_language("en")
    page = client.get(f"/agreements/{agreement.id}").get_data(as_text=True)
    assert "Start renewal" in page
    return client.submit(f"/agreements/{agreement.id}/renew", token_from=f"/agreements/{agreement.id}")


def test_renewal_from_evaluation_to_signed_supersedes_the_old_agreement(client, people):
    old = factories.signed_agreement(people, active_from=A_YEAR_AND_A_BIT_AGO)
    mark_due_renewals(date.today())
    old = reload(old.id)
    assert old.status is AgreementStatus.RENEWAL_DUE
    area_count = len(old.priority_areas)

    # «Start renewal» opens a new draft version at its first step, the evaluation.
    response = start_renewal(client, people, old)
    assert response.status_code == 302
    renewal = db.session.scalar(select(Agreement).where(Agreement.renewal_of_id == old.id))
    assert renewal is not None
    assert response.headers["Location"].endswith(f"/agreements/{renewal.id}/steps/evaluation")
    assert (renewal.reference, renewal.version, renewal.status) == (old.reference, old.version + 1, AgreementStatus.DRAFT)
    assert [p.municipality_number for p in renewal.parties] == [p.municipality_number for p in old.parties]
    assert [a.title for a in renewal.priority_areas] == [a.title for a in old.priority_areas]
    assert renewal.police_station == old.police_station and renewal.meetings_per_year == old.meetings_per_year

    # Later steps wait for the evaluation.
    assert client.get(f"/agreements/{renewal.id}/steps/validity").headers["Location"].endswith("/steps/evaluation")
    page = client.get(f"/agreements/{renewal.id}/steps/evaluation").get_data(as_text=True)
    for area in old.priority_areas:
        assert area.title in page and area.expected_results in page

    # An incomplete evaluation is refused with a message, and nothing is stored.
    url = f"/agreements/{renewal.id}/steps/evaluation"
    refused = client.submit(url, evaluation_answers(area_count, **{"areas-0-achieved": "  "}))
    assert refused.status_code == 400
    assert "Enter what the work achieved" in refused.get_data(as_text=True)
    assert db.session.scalars(select(PriorityAreaEvaluation)).all() == []

    # A complete one is stored with the old agreement, and the wizard goes on to the prefilled steps.
    saved = client.submit(url, evaluation_answers(area_count))
    assert saved.status_code == 302 and saved.headers["Location"].endswith(f"/agreements/{renewal.id}/steps/parties")
    old = reload(old.id)
    assert [area.evaluation.achieved for area in old.priority_areas] == [f"Færre meldingar om uro i område {n + 1}." for n in range(area_count)]
    assert old.priority_areas[0].evaluation.evaluated_by_id == people.coordinator.id

    # Last year's learning points are shown where this year's priority areas are set.
    priorities = client.get(f"/agreements/{renewal.id}/steps/priorities").get_data(as_text=True)
    assert "Start tidlegare på hausten i område 1." in priorities

    # The evaluation can be downloaded as a PDF from the old agreement's page, and the download is recorded.
    assert "Download the evaluation as PDF" in client.get(f"/agreements/{old.id}").get_data(as_text=True)
    download = client.get(f"/agreements/{old.id}/evaluation.pdf")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert f"{old.reference}-v{old.version}-evaluering.pdf" in download.headers["Content-Disposition"]
    with pdfplumber.open(io.BytesIO(download.data)) as pdf:
        text = "\n".join(page.extract_text() or "" for page in pdf.pages)
    assert "Evaluering av politirådet sitt arbeid" in text
    assert "Natteravnar og nye fritidstilbod i område 1." in text and "Læringspunkt vidare" in text
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.agreement_id == old.id, AuditEvent.action == "evaluation_downloaded"))

    # Starting again opens the same renewal rather than a second one.
    again = client.submit(f"/agreements/{old.id}/renew", token_from=f"/agreements/{old.id}")
    assert f"/agreements/{renewal.id}/" in again.headers["Location"]
    assert len(db.session.scalars(select(Agreement).where(Agreement.renewal_of_id == old.id)).all()) == 1

    # The start date must be confirmed; then the draft is complete and can be finalised.
    start = date(date.today().year + 1, 1, 1)
    validity = client.submit(f"/agreements/{renewal.id}/steps/validity",
                             {"start_date": start.isoformat(), "place": "Voss", "action": "next"})
    assert validity.headers["Location"].endswith(f"/agreements/{renewal.id}/check")
    check = client.get(f"/agreements/{renewal.id}/check").get_data(as_text=True)
    assert "Natteravnar og nye fritidstilbod i område 1." in check and f"/agreements/{renewal.id}/steps/evaluation" in check
    finalised = client.submit(f"/agreements/{renewal.id}/finalise", token_from=f"/agreements/{renewal.id}")
    assert finalised.status_code == 302
    renewal = reload(renewal.id)
    assert renewal.status is AgreementStatus.FINALISED

    # The same signatories sign the renewal; with the last signature the old agreement is superseded.
    for slot in renewal.signature_slots:
        signing.sign(reload(renewal.id), slot.user, PASSWORD)
    renewal, old = reload(renewal.id), reload(old.id)
    assert renewal.status is AgreementStatus.ACTIVE
    assert old.status is AgreementStatus.SUPERSEDED
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.agreement_id == old.id, AuditEvent.action == "superseded"))

    # The chain shows from both ends.
    old_page = client.get(f"/agreements/{old.id}").get_data(as_text=True)
    assert "Superseded" in old_page and f'href="/agreements/{renewal.id}"' in old_page
    assert "Start renewal" not in old_page
    new_page = client.get(f"/agreements/{renewal.id}").get_data(as_text=True)
    assert f"This is the renewal of version {old.version}." in new_page and f'href="/agreements/{old.id}"' in new_page


def test_a_draft_cannot_be_renewed(client, people):
    draft = factories.complete_agreement(people.coordinator)
    db.session.commit()
    client.sign_in(people.coordinator)
    client.choose_language("en")
    response = client.submit(f"/agreements/{draft.id}/renew", token_from=f"/agreements/{draft.id}")
    assert response.headers["Location"].endswith(f"/agreements/{draft.id}")
    assert "Only an agreement in force can be renewed." in client.get(f"/agreements/{draft.id}").get_data(as_text=True)
    assert db.session.scalars(select(Agreement).where(Agreement.renewal_of_id == draft.id)).all() == []


def test_the_evaluation_step_belongs_to_renewals_only(client, people):
    draft = factories.complete_agreement(people.coordinator)
    db.session.commit()
    client.sign_in(people.coordinator)
    assert client.get(f"/agreements/{draft.id}/steps/evaluation").status_code == 404
    assert client.get(f"/agreements/{draft.id}/evaluation.pdf").status_code == 404


def test_a_declined_renewal_keeps_its_evaluation_and_still_renews_the_same_agreement(client, people, due):
    start_renewal(client, people, due)
    renewal = db.session.scalar(select(Agreement).where(Agreement.renewal_of_id == due.id))
    client.submit(f"/agreements/{renewal.id}/steps/evaluation", evaluation_answers(len(due.priority_areas)))
    client.submit(f"/agreements/{renewal.id}/steps/validity",
                  {"start_date": date(date.today().year + 1, 1, 1).isoformat(), "place": "Voss", "action": "next"})
    client.submit(f"/agreements/{renewal.id}/finalise", token_from=f"/agreements/{renewal.id}")
    renewal = reload(renewal.id)

    newer = signing.decline(renewal, people.mayor, "Satsingsområda må drøftast i kommunestyret først.")
    assert newer.renewal_of_id == due.id and newer.version == renewal.version + 1
    assert "evaluation" in newer.completed_steps
    assert reload(due.id).status is AgreementStatus.RENEWAL_DUE  # still in force until a renewal is signed
    page = client.get(f"/agreements/{due.id}").get_data(as_text=True)
    assert f'href="/agreements/{newer.id}"' in page and "is under way" in page


def test_the_evaluation_pdf_is_pdfa_in_the_agreements_written_standard_and_reproducible(people, tmp_path):
    import re
    import subprocess

    from pypdf import PdfReader

    from portal.evaluation import evaluation_pdf
    from portal.models import PriorityAreaEvaluation, WrittenStandard

    agreement = factories.complete_agreement(people.coordinator)
    agreement.written_standard = WrittenStandard.BOKMAL
    agreement.priority_areas[0].evaluation = PriorityAreaEvaluation(
        what_was_done="Felles kontroller av skjenkesteder.", achieved="Ingen skjenking til mindreårige.",
        carried_forward="", evaluated_by=people.coordinator)
    db.session.commit()

    pdf = evaluation_pdf(agreement)
    assert evaluation_pdf(reload(agreement.id)) == pdf, "the same evaluation gives the same bytes"
    reader = PdfReader(io.BytesIO(pdf))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode("utf-8")
    assert re.search(r'pdfaid:part(="|>)2', xmp) and re.search(r'pdfaid:conformance(="|>)B', xmp)
    assert reader.trailer["/Root"]["/Lang"] == "nb-NO"
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Evaluering av politirådets arbeid" in text and "Hva ble gjort" in text
    assert "Ingen læringspunkter ført videre." in text  # the empty learning points, said in words
    assert "Ikke evaluert." in text  # the areas nobody evaluated are marked, not left out
    path = tmp_path / "evaluering.pdf"
    path.write_bytes(pdf)
    check = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_an_expired_agreement_can_still_be_renewed_and_the_renewal_supersedes_it(client, people):
    from portal.agreements.renewals import mark_expired, supersede_renewed

    old = factories.archived_agreement(people.coordinator)
    factories.put_in_force(old, date(date.today().year - 3, 6, 1))
    db.session.commit()
    mark_expired(date.today())
    assert reload(old.id).status is AgreementStatus.EXPIRED
    client.sign_in(people.coordinator)
    client.choose_language("en")
    assert "It can still be renewed." in client.get(f"/agreements/{old.id}").get_data(as_text=True)

    start_renewal(client, people, old)
    renewal = db.session.scalar(select(Agreement).where(Agreement.renewal_of_id == old.id))
    assert renewal is not None and renewal.status is AgreementStatus.DRAFT
    supersede_renewed(renewal, people.mayor)  # what the last signature does (see the flow above)
    db.session.commit()
    assert reload(old.id).status is AgreementStatus.SUPERSEDED


def test_every_renewal_of_any_generation_starts_with_its_own_evaluation(client, people):
    """Last year's renewal had its evaluation done; this year's renewal of it must still evaluate last
    year's priority areas, not find the step already done (issue 9, item 1)."""
    from portal.agreements import lifecycle

    first = factories.archived_agreement(people.coordinator)
    db.session.commit()
    last_year = lifecycle.start_renewal(first, people.coordinator, date.today())
    assert "evaluation" not in last_year.completed_steps
    # As the renewal is when signed: every step done, the evaluation first.
    last_year.completed_steps = [*last_year.completed_steps, "evaluation", "validity"]
    last_year.status, last_year.active_from, last_year.renewal_due_on = AgreementStatus.RENEWAL_DUE, A_YEAR_AND_A_BIT_AGO, date.today()
    db.session.commit()

    response = start_renewal(client, people, last_year)
    this_year = db.session.scalar(select(Agreement).where(Agreement.renewal_of_id == last_year.id))
    assert this_year is not None and this_year.version == last_year.version + 1
    assert response.headers["Location"].endswith(f"/agreements/{this_year.id}/steps/evaluation")
    assert "evaluation" not in this_year.completed_steps
    assert client.get(f"/agreements/{this_year.id}/steps/validity").headers["Location"].endswith("/steps/evaluation")
    # It cannot go to signing without its evaluation.
    client.submit(f"/agreements/{this_year.id}/finalise", token_from=f"/agreements/{this_year.id}")
    assert reload(this_year.id).status is AgreementStatus.DRAFT
