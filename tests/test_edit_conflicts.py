"""No silent lost update: a save on top of someone else's newer change to the same step, and a finalise of a
draft that changed since the page was shown, are refused with who changed what and when (issue 13)."""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Agreement, AgreementStatus, AuditEvent, PriorityArea

from . import factories
from .test_concurrent_saves import hidden_fields, page_form, signed_in, stored_areas
from .wizard_answers import VALID_ANSWERS, priority_answers, step_url, whole_save

POLICE_COORDINATOR = "Per Politikoordinator (Vest politidistrikt)"


@pytest.fixture
def draft(people) -> Agreement:
    agreement = factories.complete_agreement(people.coordinator)
    db.session.commit()
    return agreement


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


def test_a_save_on_top_of_a_newer_change_shows_both_answers_and_keeps_the_input(app, people, draft):
    kari = signed_in(app, people.coordinator, "nb")
    per = signed_in(app, people.police_coordinator, "nb")
    url = step_url(draft.id, "priorities")
    karis_page = page_form(kari, url)
    assert per.post(url, data={**priority_answers("Pers"), **page_form(per, url)}).status_code == 302

    refused = kari.post(url, data={**priority_answers("Karis"), **karis_page})
    assert refused.status_code == 409
    page = text_of(refused)
    assert "Noen andre endret dette steget mens du arbeidet med det" in page
    assert f"{POLICE_COORDINATOR} endret «Satsingsområder og oppfølging» den " in page
    assert "Svarene dine er ikke lagret" in page
    # Both versions side by side, and Kari's input still in the form.
    assert "<td>Pers område 1</td>" in page and "<td>Karis område 1</td>" in page
    assert f"Lagret av {POLICE_COORDINATOR}" in page
    assert 'value="Karis område 1"' in page and "Resultat Karis 3</textarea>" in page
    db.session.expire_all()
    assert stored_areas(draft.id) == whole_save("Pers"), "nothing of Per's was overwritten"

    # Saving again from the conflict page is the deliberate choice: Kari's answers replace Per's.
    assert "Lagre mine svar i stedet for den andres" in page
    again = hidden_fields(page)
    assert kari.post(url, data={**priority_answers("Karis"), **again}).status_code == 302
    db.session.expire_all()
    assert stored_areas(draft.id) == whole_save("Karis")
    saves = db.session.scalars(select(AuditEvent.user_id).where(
        AuditEvent.agreement_id == draft.id, AuditEvent.action == "step_saved").order_by(AuditEvent.id)).all()
    assert saves == [people.police_coordinator.id, people.coordinator.id]


def test_the_conflict_is_said_in_nynorsk_too(app, people, draft):
    kari = signed_in(app, people.coordinator, "nn")
    per = signed_in(app, people.police_coordinator, "nn")
    url = step_url(draft.id, "priorities")
    karis_page = page_form(kari, url)
    assert per.post(url, data={**priority_answers("Pers"), **page_form(per, url)}).status_code == 302
    page = text_of(kari.post(url, data={**priority_answers("Karis"), **karis_page}))
    assert "Nokon andre endra dette steget medan du arbeidde med det" in page
    assert f"{POLICE_COORDINATOR} endra «" in page and "Svara dine er ikkje lagra" in page


def test_a_change_to_another_step_is_no_conflict(app, people, draft):
    kari = signed_in(app, people.coordinator)
    per = signed_in(app, people.police_coordinator)
    url = step_url(draft.id, "priorities")
    karis_page = page_form(kari, url)
    meetings = step_url(draft.id, "meetings")
    assert per.post(meetings, data={**VALID_ANSWERS["meetings"], "action": "next", **page_form(per, meetings)}).status_code == 302

    assert kari.post(url, data={**priority_answers("Karis"), **karis_page}).status_code == 302
    db.session.expire_all()
    agreement = db.session.get(Agreement, draft.id)
    assert stored_areas(draft.id) == whole_save("Karis") and agreement.agenda_days_before == 10, "both saves kept"


def test_the_version_shown_travels_with_the_input_through_add_and_errors(app, people, draft):
    kari = signed_in(app, people.coordinator)
    per = signed_in(app, people.police_coordinator)
    url = step_url(draft.id, "priorities")
    karis_page = page_form(kari, url)
    assert per.post(url, data={**priority_answers("Pers"), **page_form(per, url)}).status_code == 302

    # «Add another» and a page with errors show the page again: still as of the version Kari opened.
    added = kari.post(url, data={**priority_answers("Karis"), **karis_page, "action": "add-priority_areas"})
    assert added.status_code == 200
    with_errors = kari.post(url, data={**priority_answers("Karis"), **hidden_fields(text_of(added)), "priority_areas-0-title": ""})
    assert with_errors.status_code == 400
    assert hidden_fields(text_of(with_errors))["draft_version"] == karis_page["draft_version"]
    refused = kari.post(url, data={**priority_answers("Karis"), **hidden_fields(text_of(with_errors))})
    assert refused.status_code == 409


def test_a_form_that_names_no_version_does_not_overwrite_a_saved_step(app, people, draft):
    per = signed_in(app, people.police_coordinator)
    url = step_url(draft.id, "priorities")
    assert per.post(url, data={**priority_answers("Pers"), **page_form(per, url)}).status_code == 302
    kari = signed_in(app, people.coordinator)
    unversioned = {"csrf_token": page_form(kari, url)["csrf_token"]}
    assert kari.post(url, data={**priority_answers("Karis"), **unversioned}).status_code == 409
    db.session.expire_all()
    assert stored_areas(draft.id) == whole_save("Pers")


def test_finalise_refuses_a_draft_changed_since_the_check_page_was_shown(app, people, draft):
    kari = signed_in(app, people.coordinator)
    per = signed_in(app, people.police_coordinator)
    shown = page_form(kari, f"/agreements/{draft.id}/check")
    slt = step_url(draft.id, "slt")
    changed = {"slt_relation": "coordinated", "slt_relation_description": "Eiga styringsgruppe.", "action": "next"}
    assert per.post(slt, data={**changed, **page_form(per, slt)}).status_code == 302

    refused = kari.post(f"/agreements/{draft.id}/finalise", data=shown)
    assert refused.status_code == 302 and refused.location.endswith(f"/agreements/{draft.id}/check")
    page = text_of(kari.get(refused.location))
    assert "The agreement was not finalised, because the draft has changed since you opened the page." in page
    assert f"{POLICE_COORDINATOR} changed «Relation to SLT» on " in page
    assert "Eiga styringsgruppe." in page, "the check page shows the answers as they are now"
    db.session.expire_all()
    assert db.session.get(Agreement, draft.id).status is AgreementStatus.DRAFT

    finalised = kari.post(f"/agreements/{draft.id}/finalise", data=hidden_fields(page))
    assert finalised.status_code == 302 and finalised.location.endswith(f"/agreements/{draft.id}")
    db.session.expire_all()
    assert db.session.get(Agreement, draft.id).status is AgreementStatus.FINALISED


def test_the_agreement_page_names_who_changed_the_draft_last(app, people, draft):
    per = signed_in(app, people.police_coordinator)
    url = step_url(draft.id, "priorities")
    assert per.post(url, data={**priority_answers("Pers"), **page_form(per, url)}).status_code == 302
    kari = signed_in(app, people.coordinator)
    page = text_of(kari.get(f"/agreements/{draft.id}"))
    assert f"Last changed by {POLICE_COORDINATOR} on " in page
    assert f"Last changed by {POLICE_COORDINATOR} on " in text_of(kari.get(f"/agreements/{draft.id}/check"))

    started = kari.submit("/agreements/new", token_from="/agreements/")
    new_id = int(started.location.split("/")[2])
    assert "Last changed by Kari Koordinator (Voss kommune) on " in text_of(kari.get(f"/agreements/{new_id}"))


def test_each_save_counts_once_in_the_draft_version(app, people, draft):
    kari = signed_in(app, people.coordinator)
    url = step_url(draft.id, "priorities")
    before = draft.draft_version
    for label in ("En", "To"):
        assert kari.post(url, data={**priority_answers(label), **page_form(kari, url)}).status_code == 302
    db.session.expire_all()
    agreement = db.session.get(Agreement, draft.id)
    assert agreement.draft_version == before + 2
    assert agreement.step_changes["priorities"]["by"] == people.coordinator.id
    assert db.session.scalar(select(func.count()).select_from(PriorityArea).where(PriorityArea.agreement_id == draft.id)) == 3


def test_every_step_shows_a_conflict_with_both_answers(app, people):
    """Whatever the step (repeating groups, choices, dates, yes/no), a save on top of a newer one is shown side by side."""
    from forms.steps import STEP_NAMES

    from .wizard_answers import answer, answer_all

    kari = signed_in(app, people.coordinator)
    per = signed_in(app, people.police_coordinator)
    started = kari.submit("/agreements/new", token_from="/agreements/")
    agreement_id = int(started.location.split("/")[2])
    answer_all(kari, agreement_id)
    for step in STEP_NAMES:
        shown = page_form(kari, step_url(agreement_id, step))["draft_version"]
        assert answer(per, agreement_id, step).status_code == 302, step
        refused = answer(kari, agreement_id, step, {"draft_version": shown})
        assert refused.status_code == 409, step
        page = text_of(refused)
        assert f"{POLICE_COORDINATOR} changed «" in page, step
        same = re.findall(r"<tr>\s*<th scope=\"row\">", page)
        assert same, f"{step}: the same answer on both sides is shown as the same"
        words = {"parties": r"<td>Voss \(4621\)</td>", "slt": "<td>The council is the steering group for SLT</td>",
                 "validity": r"<td>[^<]*January[^<]*2027</td>", "meetings": "<td>Yes</td>"}
        assert re.search(words.get(step, "<td>"), page), f"{step}: answers are shown in words, not codes"
