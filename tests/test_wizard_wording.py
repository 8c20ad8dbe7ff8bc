"""The wizard's words (issue 9, items 11 and 13): plurals that follow the number of municipalities, lists
joined with «og», plain questions, each error once and at the row it is about, and a warning for a start
date that has passed."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from portal import clock

from .test_wizard import reload, start_agreement
from .wizard_answers import answer, answer_all, step_url


@pytest.fixture
def coordinator_nn(client, people):  # type: ignore[no-untyped-def]
    client.sign_in(people.coordinator)
    client.choose_language("nn")
    return client


def text(response) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def error_summary(html: str) -> list[tuple[str, str]]:
    start = html.index('class="ds-error-summary"')
    summary = html[start:html.index("</div>", start)]
    return re.findall(r'<a class="ds-link" href="#([^"]+)">([^<]*)</a>', summary)


def test_with_several_municipalities_the_mayors_are_plural_and_the_names_are_joined_with_og(coordinator_nn):
    agreement_id = start_agreement(coordinator_nn)
    answer_all(coordinator_nn, agreement_id, until="members")
    members = text(coordinator_nn.get(step_url(agreement_id, "members")))
    assert "Ordførarane og politistasjonssjefen signerer avtalen" in members
    answer_all(coordinator_nn, agreement_id, until="leadership")
    leadership = text(coordinator_nn.get(step_url(agreement_id, "leadership")))
    assert "mellom ordførarane og politistasjonssjefen" in leadership
    answer_all(coordinator_nn, agreement_id)
    check = text(coordinator_nn.get(f"/agreements/{agreement_id}/check"))
    assert "Voss og Ulvik" in check and "Voss, Ulvik" not in check
    listing = text(coordinator_nn.get("/agreements/"))
    assert "Voss og Ulvik" in listing


def test_with_one_municipality_the_mayor_is_singular(coordinator_nn):
    agreement_id = start_agreement(coordinator_nn)
    for step, changes in (("parties", {"municipalities-1": None}), ("police", {}), ("purpose", {})):
        assert answer(coordinator_nn, agreement_id, step, changes).status_code == 302
    members = text(coordinator_nn.get(step_url(agreement_id, "members")))
    assert "Ordføraren og politistasjonssjefen signerer avtalen" in members and "Ordførarane" not in members


def test_the_question_about_another_secretariat_is_plain(client, people):
    client.sign_in(people.coordinator)  # bokmål, the default
    agreement_id = start_agreement(client)
    answer_all(client, agreement_id, until="leadership")
    page = text(client.get(step_url(agreement_id, "leadership")))
    assert "Hvem er sekretariat, da?" not in page
    assert "Hvis noen andre: hvem er sekretariatet?" in page


def test_a_repeated_municipality_is_marked_at_the_row_that_repeats_it(coordinator_nn):
    agreement_id = start_agreement(coordinator_nn)
    response = answer(coordinator_nn, agreement_id, "parties", {"municipalities-1": "4621"})
    assert response.status_code == 400
    html = text(response)
    [(anchor, message)] = error_summary(html)
    assert anchor == "municipalities-1" and "allereie vald" in message
    second_row = html[html.index("Kommune 2</legend>"):]
    second_row = second_row[:second_row.index("</fieldset>")]
    assert 'id="municipalities-1-error"' in second_row and message in second_row
    first_row = html[html.index("Kommune 1</legend>"):html.index("Kommune 2</legend>")]
    assert "ds-validation-message" not in first_row
    assert reload(agreement_id).completed_steps == []


def test_text_where_a_number_belongs_gets_one_message(coordinator_nn):
    agreement_id = start_agreement(coordinator_nn)
    answer_all(coordinator_nn, agreement_id, until="meetings")
    response = answer(coordinator_nn, agreement_id, "meetings", {"meetings_per_year": "fire"})
    assert response.status_code == 400
    errors = error_summary(text(response))
    assert [anchor for anchor, _message in errors] == ["meetings_per_year"], errors


def test_a_start_date_in_the_past_is_accepted_with_a_warning_on_check_your_answers(coordinator_nn):
    agreement_id = start_agreement(coordinator_nn)
    answer_all(coordinator_nn, agreement_id)
    assert "start-date-warning" not in text(coordinator_nn.get(f"/agreements/{agreement_id}/check"))

    past = clock.today() - timedelta(days=20)
    assert answer(coordinator_nn, agreement_id, "validity", {"start_date": past.isoformat()}).status_code == 302
    assert reload(agreement_id).start_date == past
    check = text(coordinator_nn.get(f"/agreements/{agreement_id}/check"))
    assert 'id="start-date-warning"' in check
    warning = check[check.index('id="start-date-warning"'):]
    warning = warning[:warning.index("</div>")]
    assert "Startdatoen er passert" in warning and "siste signatur" in warning
    assert f'href="/agreements/{agreement_id}/steps/validity?return=check"' in warning
