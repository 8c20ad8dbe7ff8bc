"""The dashboard shows a coordinator or administrator their agreements by state (as they are today),
renewals coming up and overdue, and who has still to sign; and nothing of another municipality's."""
from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest

from portal import clock, dashboard
from portal.agreements.lifecycle import change_status, start_renewal
from portal.extensions import db
from portal.models import Agreement, AgreementStatus, User

from . import factories

TODAY = dashboard.today() + timedelta(days=7)  # a week on: what was finalised today has waited 7 days


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch) -> date:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(dashboard, "today", lambda: TODAY)
    return TODAY


def renewable_agreement(coordinator: User, due_in: int, status: AgreementStatus = AgreementStatus.ACTIVE) -> Agreement:
    """An agreement signed a year before it is due, ``due_in`` days after TODAY (negative: overdue)."""
    agreement = factories.complete_agreement(coordinator)
    due = TODAY + timedelta(days=due_in)
    factories.put_in_force(agreement, date(due.year - 1, due.month, min(due.day, 28) if due.month == 2 else due.day))
    change_status(agreement, status, coordinator)
    db.session.commit()
    return agreement


def finalised_agreement(people) -> Agreement:  # type: ignore[no-untyped-def]
    """Finalised and sealed for real, the people fixture's mayor and station chief its signatories."""
    return factories.finalised_agreement(people.coordinator, people.mayor, people.station_chief)


def section(page: str, section_id: str) -> str:
    """The words of one section of the page, as a reader gets them."""
    match = re.search(rf'<section[^>]*id="{section_id}".*?</section>', page, re.DOTALL)
    assert match, f"no section {section_id}"
    words = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", match.group(0))))
    return re.sub(r" ([,)])", r"\1", words).strip()


def dashboard_as(client, user: User) -> str:  # type: ignore[no-untyped-def]
    client.sign_in(user)
    client.choose_language("en")
    response = client.get("/dashboard")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_agreements_are_counted_by_their_state_today(client, people):
    factories.complete_agreement(people.coordinator)  # a draft
    renewable_agreement(people.coordinator, 30)
    renewable_agreement(people.coordinator, 120)
    renewable_agreement(people.coordinator, -10)  # stored as active; the nightly command has not run yet
    renewable_agreement(people.coordinator, -40, AgreementStatus.RENEWAL_DUE)
    renewable_agreement(people.coordinator, -400, AgreementStatus.SUPERSEDED)
    db.session.commit()

    counts = section(dashboard_as(client, people.coordinator), "states")
    for label, count in (("Draft", 1), ("Awaiting signatures", 0), ("Active", 2), ("Renewal due", 2), ("Superseded", 1)):
        assert f"{label} {count} " in counts + " ", counts


def test_renewals_due_within_90_days_are_listed_soonest_first(client, people):
    in_60 = renewable_agreement(people.coordinator, 60)
    in_30 = renewable_agreement(people.coordinator, 30)
    in_120 = renewable_agreement(people.coordinator, 120)
    overdue = renewable_agreement(people.coordinator, -10)

    due_soon = section(dashboard_as(client, people.coordinator), "due-soon")
    days_left = (in_30.renewal_due_on - TODAY).days  # type: ignore[operator]
    assert f"{in_30.reference}" in due_soon and f"{days_left} days left" in due_soon
    assert due_soon.index(in_30.reference) < due_soon.index(in_60.reference), "soonest first"
    assert in_120.reference not in due_soon
    assert overdue.reference not in due_soon
    assert "Not started" in due_soon


def test_overdue_renewals_say_how_late_and_whether_a_renewal_is_under_way(client, people):
    late = renewable_agreement(people.coordinator, -45)
    marked = renewable_agreement(people.coordinator, -5, AgreementStatus.RENEWAL_DUE)
    superseded = renewable_agreement(people.coordinator, -400, AgreementStatus.SUPERSEDED)
    soon = renewable_agreement(people.coordinator, 30)
    renewal = start_renewal(marked, people.coordinator, TODAY)
    db.session.commit()

    page = dashboard_as(client, people.coordinator)
    overdue = section(page, "overdue")
    late_days = (TODAY - late.renewal_due_on).days  # type: ignore[operator]
    assert f"{late_days} days overdue" in overdue
    assert overdue.index(late.reference) < overdue.index(marked.reference), "longest overdue first"
    assert superseded.reference not in overdue and soon.reference not in overdue
    assert f"Yes: {renewal.reference}, version {renewal.version}" in overdue
    assert "Not started" in overdue  # the other one
    assert f'href="/agreements/{renewal.id}"' in page and f'href="/agreements/{late.id}"' in page


def test_missing_signatures_name_who_has_not_signed(client, people, monkeypatch):
    agreement = finalised_agreement(people)
    # A week after the day it was finalised: that day taken now, not when the module was read (TODAY), as a
    # run may cross midnight in Norway in between.
    week_on = clock.today() + timedelta(days=7)
    monkeypatch.setattr(dashboard, "today", lambda: week_on)
    factories.sign_as(agreement, people.mayor)
    db.session.expire_all()
    slots = {slot.email: slot for slot in db.session.get(Agreement, agreement.id).signature_slots}  # type: ignore[union-attr]
    mayor, chief = slots[people.mayor.email], slots[people.station_chief.email]
    assert mayor.signed_at is not None and chief.signed_at is None

    missing = section(dashboard_as(client, people.coordinator), "missing-signatures")
    assert agreement.reference in missing
    assert chief.name in missing and chief.title in missing and chief.organisation_name in missing
    assert people.station_chief.email in missing
    assert "7 days" in missing, missing
    assert mayor.name not in missing and people.mayor.email not in missing


def test_empty_sections_say_so(client, people):
    page = dashboard_as(client, people.administrator)
    assert "no agreements for you here yet" in section(page, "states")
    assert "No agreement is due for renewal" in section(page, "due-soon")
    assert "No agreement is overdue" in section(page, "overdue")
    assert "No agreement is waiting for signatures" in section(page, "missing-signatures")
    assert "<table" not in page


def test_a_coordinator_of_another_municipality_sees_none_of_it(client, people):
    agreements = [renewable_agreement(people.coordinator, 30), renewable_agreement(people.coordinator, -10), finalised_agreement(people)]
    page = dashboard_as(client, people.other_coordinator)
    assert not any(agreement.reference in page for agreement in agreements)
    assert people.station_chief.email not in page and "<table" not in page

    page = dashboard_as(client, people.police_coordinator)  # the police district is party to all three
    assert all(agreement.reference in page for agreement in agreements)


def test_the_menu_leads_coordinators_and_administrators_to_the_dashboard(client, people):
    for user in (people.coordinator, people.administrator):
        page = dashboard_as(client, user)
        assert re.search(r'<a class="ds-link" href="/dashboard" aria-current="page">', page)
        assert page.count("<h1") == 1 and page.count("<h2") == 4
    client.sign_in(people.mayor)
    assert 'href="/dashboard"' not in client.get("/agreements/").get_data(as_text=True)
    assert client.get("/dashboard").status_code == 403


def test_missing_signatures_link_the_agreement_and_write_names_as_text(client, people, monkeypatch):
    agreement = finalised_agreement(people)
    monkeypatch.setattr(dashboard, "today", lambda: clock.today() + timedelta(days=7))  # as above: the day it was finalised, a week on
    chief, mayor = sorted(agreement.signature_slots, key=lambda slot: slot.email != people.station_chief.email)
    chief.name, chief.title = "Kari <b>Nordmann</b>", "Sjef & leiar"
    mayor.declined_at = mayor.agreement.updated_at  # declined: not waiting for a signature
    db.session.commit()

    page = dashboard_as(client, people.coordinator)
    rows = re.findall(r"<tr data-agreement=.*?</tr>", page, re.DOTALL)
    assert len(rows) == 1, rows
    row = rows[0]
    assert f'data-agreement="{agreement.reference}" data-field="{chief.field_name}"' in row
    assert f'<a class="ds-link" href="/agreements/{agreement.id}">{agreement.reference}</a>, version {agreement.version}' in row
    assert "Kari &lt;b&gt;Nordmann&lt;/b&gt;, Sjef &amp; leiar" in row and "<b>" not in page
    assert f'<a class="ds-link" href="mailto:{chief.email}">{chief.email}</a>' in row
    assert f'data-label="For">{chief.organisation_name}</td>' in row
    assert "(7 days)" in row
