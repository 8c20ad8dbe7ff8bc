"""Two people, one draft: saves that never mix, and no silent overwrites (issue 13).

Real threads send real requests at the same moment, against the real database of the run (SQLite, or
PostgreSQL when TEST_DATABASE_URL is set). Afterwards the draft holds exactly one whole save, every save
that was acknowledged is in the audit trail, and finalise either saw a save or refused.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Agreement, AgreementDocument, AgreementStatus, AuditEvent, PriorityArea, User

from . import factories
from .conftest import DRAFT_VERSION_PATTERN, Browserless, csrf_token_from
from .test_finalise import pdf_text
from .wizard_answers import priority_answers, step_url, whole_save

SAVERS = 6


def signed_in(app, user: User, language: str = "en") -> Browserless:  # type: ignore[no-untyped-def]
    client = Browserless(app.test_client())
    client.sign_in(user)
    client.choose_language(language)
    return client



def hidden_fields(page: str) -> dict[str, str]:
    """What a page's form sends besides the answers: the CSRF token and the draft version it was shown at."""
    return {"csrf_token": csrf_token_from(page), "draft_version": DRAFT_VERSION_PATTERN.search(page).group(1)}


def page_form(client: Browserless, url: str) -> dict[str, str]:
    """The hidden fields of the page at ``url`` as it is shown now."""
    return hidden_fields(client.get(url).get_data(as_text=True))


def stored_areas(agreement_id: int) -> list[tuple[int, str]]:
    rows = db.session.execute(
        select(PriorityArea.position, PriorityArea.title).where(PriorityArea.agreement_id == agreement_id)
        .order_by(PriorityArea.position, PriorityArea.id)
    )
    return [tuple(row) for row in rows]


def saves_recorded(agreement_id: int, step: str = "priorities") -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.agreement_id == agreement_id, AuditEvent.action == "step_saved", AuditEvent.detail == step))


@pytest.fixture
def draft(people) -> Agreement:
    agreement = factories.complete_agreement(people.coordinator)
    db.session.commit()
    return agreement


@pytest.fixture
def savers(app, people) -> list[Browserless]:
    """Coordinators of both parties (the municipality's and the police's), each in a session of their own."""
    return [signed_in(app, people.coordinator if number % 2 else people.police_coordinator) for number in range(SAVERS)]


def test_saves_of_one_page_at_once_store_exactly_one_and_show_the_others_a_conflict(app, draft, savers):
    url = step_url(draft.id, "priorities")
    shown = [page_form(client, url) for client in savers]  # everyone opened the same page
    start = threading.Barrier(len(savers))

    def save(number: int):  # type: ignore[no-untyped-def]
        start.wait()
        return savers[number].post(url, data={**priority_answers(f"Lagring {number}"), **shown[number]})

    with ThreadPoolExecutor(len(savers)) as pool:
        responses = list(pool.map(save, range(len(savers))))

    acknowledged = [number for number, response in enumerate(responses) if response.status_code == 302]
    refused = [number for number, response in enumerate(responses) if response.status_code == 409]
    assert len(acknowledged) == 1 and len(refused) == len(savers) - 1, [r.status_code for r in responses]
    db.session.expire_all()
    assert stored_areas(draft.id) == whole_save(f"Lagring {acknowledged[0]}")
    assert saves_recorded(draft.id) == 1
    for number in refused:
        page = responses[number].get_data(as_text=True)
        assert "Someone else changed this step while you were working on it" in page
        assert f'value="Lagring {number} område 1"' in page, "the refused input is kept in the form"


def test_saves_one_on_top_of_another_never_mix_and_every_acknowledged_one_is_recorded(app, draft, savers):
    """Each saver saves again and again, each time on the page as it is now, and on a conflict saves
    again on top (the deliberate choice). A reader samples the stored step all the while."""
    url = step_url(draft.id, "priorities")
    rounds = 4
    acknowledged: list[str] = []
    seen_by_reader: list[list[tuple[int, str]]] = []
    done = threading.Event()

    def save(number: int) -> None:
        client = savers[number]
        for round_ in range(rounds):
            label = f"Lagring {number}.{round_}"
            response = client.post(url, data={**priority_answers(label), **page_form(client, url)})
            if response.status_code == 409:  # someone came between: save again, knowing it replaces theirs
                response = client.post(url, data={**priority_answers(label), **hidden_fields(response.get_data(as_text=True))})
            assert response.status_code in (302, 409), response.status_code
            if response.status_code == 302:
                acknowledged.append(label)

    def read() -> None:
        while not done.is_set():
            with app.app_context():
                seen_by_reader.append(stored_areas(draft.id))

    before = db.session.get(Agreement, draft.id).draft_version
    reader = threading.Thread(target=read)
    reader.start()
    try:
        with ThreadPoolExecutor(len(savers)) as pool:
            list(pool.map(save, range(len(savers))))
    finally:
        done.set()
        reader.join()

    db.session.expire_all()
    agreement = db.session.get(Agreement, draft.id)
    assert acknowledged, "some saves went through"
    assert stored_areas(draft.id) in [whole_save(label) for label in acknowledged], "exactly one whole save"
    assert saves_recorded(draft.id) == len(acknowledged), "every acknowledged save is in the audit trail"
    assert agreement.draft_version == before + len(acknowledged), "each save counted once: none lost"
    wholes = [whole_save(label) for label in acknowledged] + [[(n, f"Satsingsområde {n + 1}") for n in range(3)]]
    mixed = [sample for sample in seen_by_reader if sample not in wholes]
    assert seen_by_reader and not mixed, f"the reader saw {len(mixed)} half-written steps, e.g. {mixed[:1]}"


@pytest.mark.parametrize("finalise_page", ["shown with the save", "shown before the save"])
def test_a_save_racing_finalise_is_either_in_the_final_document_or_refused(app, people, draft, savers, finalise_page):
    saver, finaliser = savers[0], savers[1]
    url = step_url(draft.id, "priorities")
    shown_step = page_form(saver, url)
    start = threading.Barrier(2)
    results: dict[str, object] = {}
    save_answered = threading.Event()

    def save() -> None:
        start.wait()
        results["save"] = saver.post(url, data={**priority_answers("Kappløp"), **shown_step})
        save_answered.set()

    def finalise() -> None:
        if finalise_page == "shown with the save":
            start.wait()
            save_answered.wait()  # open the check page once the save is answered
        form = page_form(finaliser, f"/agreements/{draft.id}/check")
        if finalise_page == "shown before the save":
            start.wait()
        results["finalise"] = finaliser.post(f"/agreements/{draft.id}/finalise", data=form)

    threads = [threading.Thread(target=save), threading.Thread(target=finalise)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    db.session.expire_all()
    agreement = db.session.get(Agreement, draft.id)
    # An acknowledged save goes on to «check your answers»; one refused because the draft is finalised
    # goes to the agreement's page.
    saved = results["save"].status_code == 302 and results["save"].location.endswith("/check")  # type: ignore[attr-defined]
    finalised = agreement.status is AgreementStatus.FINALISED
    assert saves_recorded(draft.id) == (1 if saved else 0)
    if finalised:
        text = pdf_text(db.session.scalar(select(AgreementDocument.pdf).where(AgreementDocument.agreement_id == draft.id)))
        if saved:
            assert "Kappløp område 1" in text, "finalise saw the save: the final document holds it"
        else:
            assert "Kappløp" not in text and "Satsingsområde 1" in text
            assert stored_areas(draft.id) == [(n, f"Satsingsområde {n + 1}") for n in range(3)], "the refused save left nothing"
    else:
        assert saved, "finalise refused only because the draft changed under it"
        assert results["finalise"].location.endswith(f"/agreements/{draft.id}/check")  # type: ignore[attr-defined]
        assert stored_areas(draft.id) == whole_save("Kappløp")
    if finalise_page == "shown before the save":
        assert saved != finalised, "from the same page, exactly one of the two goes through"
    else:
        assert saved and finalised, "a finalise from a page that showed the save goes through, with the save"


def test_two_presses_of_start_renewal_at_once_open_one_renewal(app, people):
    old = factories.archived_agreement(people.coordinator)
    db.session.commit()
    clients = [signed_in(app, people.coordinator), signed_in(app, people.police_coordinator)]
    forms = [{"csrf_token": client.csrf_token(f"/agreements/{old.id}")} for client in clients]
    start = threading.Barrier(len(clients))

    def press(number: int):  # type: ignore[no-untyped-def]
        start.wait()
        return clients[number].post(f"/agreements/{old.id}/renew", data=forms[number])

    with ThreadPoolExecutor(len(clients)) as pool:
        responses = list(pool.map(press, range(len(clients))))
    assert [response.status_code for response in responses] == [302, 302]
    db.session.expire_all()
    renewals = db.session.scalars(select(Agreement).where(Agreement.renewal_of_id == old.id)).all()
    assert len(renewals) == 1
    assert {response.location for response in responses} == {f"/agreements/{renewals[0].id}/steps/evaluation"}
