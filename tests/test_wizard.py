"""The agreement wizard on the test client: every step checks its answers on the server, saves the
draft only when the whole page is valid, can be left and resumed, and cannot be reached out of order."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from forms.steps import STEP_NAMES, STEPS_BY_NAME
from portal.extensions import db
from portal.models import Agreement, AgreementStatus, AuditEvent, MemberRole, WrittenStandard
from portal.wizard.answers import municipality_choices

from . import factories
from .test_list_queries import counting_queries
from .wizard_answers import VALID_ANSWERS, answer, answer_all, step_url


def start_agreement(client) -> int:  # type: ignore[no-untyped-def]
    response = client.submit("/agreements/new", token_from="/agreements/")
    assert response.status_code == 302
    match = re.search(r"/agreements/(\d+)/steps/parties", response.location)
    assert match, response.location
    return int(match.group(1))


def reload(agreement_id: int) -> Agreement:
    db.session.expire_all()
    found = db.session.get(Agreement, agreement_id)
    assert found is not None
    return found


@pytest.fixture
def coordinator(client, people):  # type: ignore[no-untyped-def]
    client.sign_in(people.coordinator)
    client.choose_language("en")
    return client


def test_a_coordinator_completes_every_step_and_reaches_check_your_answers(coordinator):
    agreement_id = start_agreement(coordinator)
    first = coordinator.get(step_url(agreement_id, "parties")).get_data(as_text=True)
    assert '<option selected value="4621">' in first  # their own municipality is already chosen

    answer_all(coordinator, agreement_id)
    agreement = reload(agreement_id)
    assert set(agreement.completed_steps) == set(STEP_NAMES)
    assert [m.name for m in agreement.municipalities] == ["Voss", "Ulvik"]
    assert agreement.police_district.name_bokmal == "Vest politidistrikt"
    assert agreement.written_standard is WrittenStandard.NYNORSK
    assert agreement.additional_main_tasks == ["Følgje opp handlingsplanen", "Felles tryggleiksvandring"]
    assert [m.name for m in agreement.members_in(MemberRole.MAYOR)] == ["Ola Ordførar", "Ingrid Ulvik"]
    assert {m.title for m in agreement.members_in(MemberRole.MAYOR)} == {"Ordførar"}  # nynorsk agreement
    assert agreement.members_in(MemberRole.STATION_CHIEF)[0].title == "Lensmann"
    assert [c.organisation_name for c in agreement.contacts] == ["Voss Næringsråd"]
    assert agreement.meetings_per_year == 4 and agreement.agenda_days_before == 10 and agreement.minutes_archived
    assert [a.title for a in agreement.priority_areas] == ["Barn og unge", "Skjenking og utelivsbransjen"]
    assert agreement.start_date.isoformat() == "2027-01-01"
    assert agreement.status is AgreementStatus.DRAFT

    check = coordinator.get(f"/agreements/{agreement_id}/check")
    html = check.get_data(as_text=True)
    assert check.status_code == 200
    for expected in ("Voss and Ulvik", "Ola Ordførar", "Ingrid Ulvik", "Lensmann", "Barn og unge", "Voss Næringsråd", "Kommunalsjef for oppvekst"):
        assert expected in html, expected
    for step in STEP_NAMES:
        assert f'href="/agreements/{agreement_id}/steps/{step}?return=check"' in html, step


def test_every_save_is_recorded_in_the_audit_trail(coordinator):
    agreement_id = start_agreement(coordinator)
    answer_all(coordinator, agreement_id, until="purpose")
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.agreement_id == agreement_id).order_by(AuditEvent.id)).all()
    assert actions == ["created", "step_saved", "step_saved"]


# ------------------------------------------------------------ each step's checks

INVALID_ANSWERS = [
    ("parties", {"municipalities-0": "", "municipalities-1": None}, "Choose a municipality from the list, or remove the empty row"),
    ("parties", {"municipalities-1": "9999"}, "Choose a municipality from the list"),
    ("parties", {"municipalities-1": "4621"}, "This municipality is already chosen above"),
    ("parties", {"municipalities-0": "4620", "municipalities-1": None}, "Voss kommune must be one of the parties"),
    ("police", {"police_district": ""}, "Choose the police district"),
    ("police", {"police_district": "999"}, "Choose the police district from the list"),
    ("police", {"police_station": "   "}, "Enter the police station or lensmann office"),
    ("police", {"written_standard": "bokmal"}, "has chosen nynorsk as its written standard"),
    ("purpose", {"accept_standard_text": None}, "Confirm that the council agrees"),
    ("purpose", {"additional_main_tasks": "\n".join(f"Oppgåve {n}" for n in range(16))}, "Add at most 15 main tasks"),
    ("members", {"municipalities-1-mayor_name": ""}, "Enter the mayor&#39;s name"),
    ("members", {"station_chief_email": "siv(at)politiet"}, "Enter an e-mail address in the right format"),
    ("members", {"station_chief_title": "Sjef"}, "Choose the station chief&#39;s title"),
    ("members", {"municipalities-1-municipality_number": "4601"}, "The municipalities have changed since this page was opened"),
    ("leadership", {"leadership": None}, "Choose who leads the council"),
    ("leadership", {"secretariat": "other", "secretariat_other": ""}, "Say who is the secretariat"),
    ("contacts", {"contacts-0-organisation_name": ""}, "Enter the name of the organisation"),
    ("contacts", {"contacts-0-category": None}, "Choose the kind of contact"),
    ("meetings", {"meetings_per_year": "1"}, "The council must meet at least 2"),
    ("meetings", {"meetings_per_year": "fire"}, "Enter a whole number, like 4"),
    ("meetings", {"agenda_days_before": "3"}, "at least 7"),
    ("meetings", {"minutes_archived": None}, "minutes are written and archived"),
    ("priorities", {"priority_areas-0-expected_results": ""}, "Enter the expected results for the priority area"),
    ("priorities", {"priority_areas-1-title": "barn og unge"}, "Each priority area can be listed only once"),
    ("priorities", {"follow_up_responsible": ""}, "Enter who is responsible for follow-up"),
    ("slt", {"slt_relation": None}, "Choose how the council relates to SLT"),
    ("slt", {"slt_relation": "coordinated", "slt_relation_description": ""}, "Describe how the council and SLT coordinate"),
    ("validity", {"start_date": "31.02.2027"}, "Enter a real date, like 01.01.2027"),
    ("validity", {"start_date": ""}, "Enter the date the agreement starts"),
    ("validity", {"start_date": "2099-01-01"}, "cannot be more than two years ahead"),
    ("validity", {"place": ""}, "Enter the place"),
]


@pytest.mark.parametrize(("step", "changes", "message"), INVALID_ANSWERS, ids=[f"{s}-{i}" for i, (s, _c, _m) in enumerate(INVALID_ANSWERS)])
def test_an_invalid_answer_is_explained_and_leaves_the_draft_as_it_was(coordinator, step, changes, message):
    agreement_id = start_agreement(coordinator)
    answer_all(coordinator, agreement_id, until=step)
    before = _snapshot(reload(agreement_id))

    response = answer(coordinator, agreement_id, step, changes)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'class="ds-error-summary"' in html
    summary = html[html.index('class="ds-error-summary"'):html.index("</div>", html.index('class="ds-error-summary"'))]
    assert message in summary
    anchor = re.search(r'href="#([^"]+)"', summary).group(1)
    assert f'id="{anchor}"' in html  # the summary's link leads to the field
    assert _snapshot(reload(agreement_id)) == before


def _snapshot(agreement: Agreement) -> dict[str, object]:
    return {
        "steps": list(agreement.completed_steps), "updated": agreement.updated_at,
        "parties": [p.municipality_number for p in agreement.parties],
        "members": [(m.role.value, m.name, m.email, m.title) for m in agreement.members],
        "areas": [(a.title, a.expected_results) for a in agreement.priority_areas],
        "meetings": agreement.meetings_per_year, "standard": agreement.written_standard,
        "start": agreement.start_date, "place": agreement.place,
    }


def test_the_answers_on_a_failed_page_are_shown_again_as_typed(coordinator):
    agreement_id = start_agreement(coordinator)
    answer_all(coordinator, agreement_id, until="meetings")
    html = answer(coordinator, agreement_id, "meetings", {"meetings_per_year": "1", "minutes_archive_location": "Arkivet i rådhuset"}).get_data(as_text=True)
    assert 'value="Arkivet i rådhuset"' in html
    assert 'id="meetings_per_year"' in html and 'value="1"' in html
    assert 'aria-invalid="true"' in html


def test_a_norwegian_date_and_a_written_number_with_spaces_are_understood(coordinator):
    agreement_id = start_agreement(coordinator)
    answer_all(coordinator, agreement_id, until="meetings")
    assert answer(coordinator, agreement_id, "meetings", {"meetings_per_year": " 6 "}).status_code == 302
    assert reload(agreement_id).meetings_per_year == 6
    answer_all(coordinator, agreement_id, until="validity")
    assert answer(coordinator, agreement_id, "validity", {"start_date": "15.03.2027"}).status_code == 302
    assert reload(agreement_id).start_date.isoformat() == "2027-03-15"


def test_error_messages_are_in_bokmal_by_default(client, people):
    client.sign_in(people.coordinator)
    agreement_id = start_agreement(client)
    answer_all(client, agreement_id, until="meetings")
    html = answer(client, agreement_id, "meetings", {"meetings_per_year": "1"}).get_data(as_text=True)
    assert '<html lang="nb"' in html
    assert "The council must meet" not in html
    assert "Politirådet må møtes minst 2" in html or "minst 2" in html


# ------------------------------------------------------------ order, resume, back

def test_a_later_step_cannot_be_reached_before_the_earlier_ones(coordinator):
    agreement_id = start_agreement(coordinator)
    response = coordinator.get(step_url(agreement_id, "validity"))
    assert response.status_code == 302 and response.location.endswith(step_url(agreement_id, "parties"))

    crafted = answer(coordinator, agreement_id, "validity")
    assert crafted.status_code == 302 and crafted.location.endswith(step_url(agreement_id, "parties"))
    agreement = reload(agreement_id)
    assert agreement.start_date is None and agreement.completed_steps == []

    assert coordinator.get(f"/agreements/{agreement_id}/check").location.endswith(step_url(agreement_id, "parties"))
    assert coordinator.get(step_url(agreement_id, "no-such-step")).status_code == 404


def test_a_draft_left_half_way_is_resumed_from_the_list(coordinator):
    agreement_id = start_agreement(coordinator)
    answer_all(coordinator, agreement_id, until="members")
    saved = answer(coordinator, agreement_id, "members", action="save")
    assert saved.status_code == 302 and saved.location.endswith("/agreements/")

    listing = coordinator.get("/agreements/").get_data(as_text=True)
    assert f'href="{step_url(agreement_id, "leadership")}"' in listing  # «Continue» goes to the first open step
    page = coordinator.get(step_url(agreement_id, "members")).get_data(as_text=True)
    assert 'value="Ingrid Ulvik"' in page  # what was saved is shown again


def test_back_saves_a_valid_page_and_goes_to_the_step_before(coordinator):
    agreement_id = start_agreement(coordinator)
    answer_all(coordinator, agreement_id, until="leadership")
    response = answer(coordinator, agreement_id, "leadership", action="back")
    assert response.location.endswith(step_url(agreement_id, "members"))
    assert reload(agreement_id).leadership == "rotating"


def test_back_on_an_unfinished_page_keeps_the_input_without_saving_it(coordinator):
    agreement_id = start_agreement(coordinator)
    answer_all(coordinator, agreement_id, until="meetings")
    response = answer(coordinator, agreement_id, "meetings", {"meetings_per_year": "1", "minutes_archive_location": "Arkivet i rådhuset"}, action="back")
    assert response.status_code == 302 and response.location.endswith(step_url(agreement_id, "contacts"))
    agreement = reload(agreement_id)
    assert agreement.meetings_per_year is None and "meetings" not in agreement.completed_steps

    again = coordinator.get(step_url(agreement_id, "meetings")).get_data(as_text=True)
    assert 'value="Arkivet i rådhuset"' in again and 'value="1"' in again
    assert "not saved" in again

    answer_all(coordinator, agreement_id, until="meetings")
    check = coordinator.get(f"/agreements/{agreement_id}/check")
    assert check.location.endswith(step_url(agreement_id, "meetings"))  # the step with unsaved input is open

    assert answer(coordinator, agreement_id, "meetings").status_code == 302
    assert reload(agreement_id).unsaved_input == {}
    assert 'value="Arkivet i rådhuset"' not in coordinator.get(step_url(agreement_id, "meetings")).get_data(as_text=True)


def test_changing_an_answer_from_check_your_answers_returns_there(coordinator):
    agreement_id = start_agreement(coordinator)
    answer_all(coordinator, agreement_id)
    response = answer(coordinator, agreement_id, "meetings", {"meetings_per_year": "6"}, query="?return=check")
    assert response.location.endswith(f"/agreements/{agreement_id}/check")
    assert "6" in coordinator.get(response.location).get_data(as_text=True)


# ------------------------------------------------------------ repeating groups

def test_adding_and_removing_a_municipality_keeps_the_input_and_saves_nothing(coordinator):
    agreement_id = start_agreement(coordinator)
    added = coordinator.submit(step_url(agreement_id, "parties"), {"municipalities-0": "4621", "action": "add-municipalities"})
    html = added.get_data(as_text=True)
    assert added.status_code == 200
    assert 'id="municipalities-1"' in html and '<option selected value="4621">' in html
    new_row = html[html.index('id="municipalities-1"'):]
    new_row = new_row[:new_row.index("</select>")]
    assert 'value="4620">Ulvik (4620)' in new_row  # the new row offers every municipality
    assert reload(agreement_id).parties == []

    removed = coordinator.submit(step_url(agreement_id, "parties"), {
        "municipalities-0": "4620", "municipalities-1": "4621", "municipalities-2": "4622", "action": "remove-municipalities-0",
    })
    html = removed.get_data(as_text=True)
    assert 'id="municipalities-2"' not in html
    selects = re.findall(r'<select[^>]*id="(municipalities-\d)"', html)
    assert selects == ["municipalities-0", "municipalities-1"]
    assert re.search(r'id="municipalities-0".*?selected value="4621"', html, re.S)
    assert reload(agreement_id).parties == []


def test_priority_areas_and_contacts_can_be_added_and_removed(coordinator):
    agreement_id = start_agreement(coordinator)
    answer_all(coordinator, agreement_id, until="contacts")
    assert answer(coordinator, agreement_id, "contacts", {"contacts-0-category": None, "contacts-0-organisation_name": None, "contacts-0-name": None, "contacts-0-email": None}).status_code == 302
    assert reload(agreement_id).contacts == []  # other contacts are optional

    answer_all(coordinator, agreement_id, until="priorities")
    page = answer(coordinator, agreement_id, "priorities", action="add-priority_areas").get_data(as_text=True)
    assert 'id="priority_areas-2-title"' in page and 'value="Skjenking og utelivsbransjen"' in page
    page = answer(coordinator, agreement_id, "priorities", action="remove-priority_areas-0").get_data(as_text=True)
    assert 'id="priority_areas-1-title"' not in page and 'value="Skjenking og utelivsbransjen"' in page
    assert 'id="priority-area-suggestions"' in page and "Narkotikasituasjonen" in page  # the typical areas are offered


def test_changing_the_municipalities_asks_for_the_members_again(coordinator):
    agreement_id = start_agreement(coordinator)
    answer_all(coordinator, agreement_id)
    assert answer(coordinator, agreement_id, "parties", {"municipalities-1": None}).status_code == 302
    agreement = reload(agreement_id)
    assert "members" not in agreement.completed_steps
    assert [m.municipality_number for m in agreement.members_in(MemberRole.MAYOR)] == ["4621"]  # Ulvik's mayor went
    assert coordinator.get(f"/agreements/{agreement_id}/check").location.endswith(step_url(agreement_id, "members"))


# ------------------------------------------------------------ written standard and the police side

def test_a_neutral_municipality_chooses_its_written_standard(client, people):
    client.sign_in(people.other_coordinator)  # Bergen: neutral
    client.choose_language("en")
    agreement_id = start_agreement(client)
    assert answer(client, agreement_id, "parties", {"municipalities-0": "4601", "municipalities-1": None}).status_code == 302
    page = client.get(step_url(agreement_id, "police")).get_data(as_text=True)
    assert re.search(r'<input[^>]*name="written_standard"[^>]*type="radio"[^>]*value="bokmal"', page)  # a real choice
    assert answer(client, agreement_id, "police", {"written_standard": "bokmal"}).status_code == 302
    assert reload(agreement_id).written_standard is WrittenStandard.BOKMAL


def test_municipalities_that_differ_let_the_user_choose(coordinator):
    agreement_id = start_agreement(coordinator)
    assert answer(coordinator, agreement_id, "parties", {"municipalities-1": "1101"}).status_code == 302  # Eigersund: bokmål
    assert answer(coordinator, agreement_id, "police", {"written_standard": "bokmal"}).status_code == 302


def test_a_police_coordinator_starts_with_their_own_district(client, people):
    client.sign_in(people.police_coordinator)
    agreement_id = start_agreement(client)
    assert answer(client, agreement_id, "parties", {"municipalities-0": "4620", "municipalities-1": None}).status_code == 302
    page = client.get(step_url(agreement_id, "police")).get_data(as_text=True)
    district_id = people.police_coordinator.organisation.police_district_id
    assert f'<option selected value="{district_id}">' in page


def test_a_finalised_agreement_cannot_be_changed_in_the_wizard(coordinator):
    agreement_id = start_agreement(coordinator)
    answer_all(coordinator, agreement_id)
    agreement = reload(agreement_id)
    agreement.status = AgreementStatus.FINALISED
    db.session.commit()
    assert coordinator.get(step_url(agreement_id, "meetings")).location.endswith(f"/agreements/{agreement_id}")
    assert answer(coordinator, agreement_id, "meetings", {"meetings_per_year": "9"}).status_code == 302
    assert reload(agreement_id).meetings_per_year == 4


def test_check_your_answers_warns_of_changes_left_unsaved_on_a_later_page(coordinator):
    agreement_id = start_agreement(coordinator)
    answer_all(coordinator, agreement_id)
    answer(coordinator, agreement_id, "validity", {"start_date": "31.02.2027"}, action="back")
    page = coordinator.get(f"/agreements/{agreement_id}/check").get_data(as_text=True)
    assert "Some changes are not saved" in page
    assert f'href="{step_url(agreement_id, "validity")}?return=check"' in page


def test_the_mayors_title_follows_the_written_standard(client, people):
    client.sign_in(people.other_coordinator)  # Bergen: neutral, so the standard is chosen
    agreement_id = start_agreement(client)
    answer(client, agreement_id, "parties", {"municipalities-0": "4601", "municipalities-1": None})
    answer(client, agreement_id, "police", {"written_standard": "bokmal"})
    answer(client, agreement_id, "purpose")
    answer(client, agreement_id, "members", {key: None for key in VALID_ANSWERS["members"] if key.startswith("municipalities-1")} | {"municipalities-0-municipality_number": "4601"})
    assert reload(agreement_id).members_in(MemberRole.MAYOR)[0].title == "Ordfører"
    answer(client, agreement_id, "police", {"written_standard": "nynorsk"})
    assert reload(agreement_id).members_in(MemberRole.MAYOR)[0].title == "Ordførar"


def test_a_council_of_several_municipalities_names_the_mayor_who_leads_it(coordinator):
    from portal.documents import agreement_html

    agreement_id = start_agreement(coordinator)
    answer_all(coordinator, agreement_id, until="leadership")
    page = coordinator.get(step_url(agreement_id, "leadership")).get_data(as_text=True)
    assert 'value="mayor:4621"' in page and 'value="mayor:4620"' in page and 'value="mayor"' not in page
    assert answer(coordinator, agreement_id, "leadership", {"leadership": "mayor"}).status_code == 400  # which mayor?
    assert answer(coordinator, agreement_id, "leadership", {"leadership": "mayor:4620"}).status_code == 302
    agreement = reload(agreement_id)
    assert agreement.leadership == "mayor:4620"
    assert "Ordføraren i Ulvik kommune leier politirådet." in agreement_html(agreement, draft=True)


# ------------------------------------------------------------ what each page loads

def test_the_steps_menu_and_the_form_lead_to_each_steps_own_address(coordinator):
    """The menu's links are made from one URL with each step's name put in: they must stay the addresses
    the steps are served at, which holds while the names need no quoting in a URL."""
    assert all(re.fullmatch(r"[a-z]+", name) for name in STEPS_BY_NAME)
    agreement_id = start_agreement(coordinator)
    answer_all(coordinator, agreement_id, until="members")
    page = coordinator.get(step_url(agreement_id, "members")).get_data(as_text=True)
    menu = re.search(r'id="steps-heading".*?</nav>', page, re.S).group(0)  # type: ignore[union-attr]
    assert re.findall(r'<a class="ds-link" href="([^"]+)">', menu) == [step_url(agreement_id, name) for name in ("parties", "police", "purpose")]
    assert f'action="{step_url(agreement_id, "members")}"' in page
    again = coordinator.get(step_url(agreement_id, "purpose") + "?return=check").get_data(as_text=True)
    assert f'action="{step_url(agreement_id, "purpose")}?return=check"' in again


def test_the_members_step_has_a_group_for_every_municipality_in_order(client, people):
    """The draft comes with its parties in one query: every party must still be there, in order."""
    draft = factories.complete_agreement(people.coordinator, (factories.VOSS, "4620", factories.BERGEN))
    db.session.commit()
    client.sign_in(people.coordinator)
    page = client.get(step_url(draft.id, "members")).get_data(as_text=True)
    assert re.findall(r'<legend class="ds-heading" data-size="xs">(\w+) kommune</legend>', page) == ["Voss", "Ulvik", "Bergen"]


def test_the_municipality_choices_come_in_one_query_grouped_by_county(people):
    with counting_queries() as statements:
        choices = municipality_choices()
    assert len(statements) == 1
    assert ("4621", "Voss (4621)") in choices["Vestland"] and ("4601", "Bergen (4601)") in choices["Vestland"]
    assert all(number not in dict(choices["Vestland"]) for number in ("0301", "5001"))
    assert list(choices) == sorted(choices)
