"""Two coordinators, two browsers, one draft (issue 13): the municipality's coordinator and the police's
open the same step; the police saves first; the municipality's coordinator, saving second, sees the
conflict page with both versions, still has what she typed, and may save it on top by choice.

Elements are found by id, name and value; the words read are the users' own answers and the names.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import PriorityArea
from tests import factories
from tests.conftest import PASSWORD

from .conftest import axe_check, screenshot, sign_in

pytestmark = pytest.mark.browser

NEXT = "main .portal-buttons button[name=action][value=next]"


def stored_titles(agreement_id: int) -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(PriorityArea.title).where(PriorityArea.agreement_id == agreement_id).order_by(PriorityArea.position)))


def test_the_second_to_save_sees_both_versions_and_keeps_their_input(new_page, people):  # type: ignore[no-untyped-def]
    draft = factories.complete_agreement(people.coordinator)
    db.session.commit()
    step = f"/agreements/{draft.id}/steps/priorities"

    kari, per = new_page(), new_page()
    sign_in(kari, people.coordinator.email, PASSWORD)
    sign_in(per, people.police_coordinator.email, PASSWORD)
    kari.goto(step)
    per.goto(step)

    # Both type; Kari's text is long, so losing it would hurt.
    kari.locator("#priority_areas-0-title").fill("Tryggare skuleveg")
    kari.locator("#priority_areas-0-expected_results").fill("Ingen alvorlege ulukker på skulevegen.\nFleire som går eller syklar.")
    per.locator("#priority_areas-0-title").fill("Narkotika blant unge")
    with per.expect_navigation():
        per.locator(NEXT).click()
    assert stored_titles(draft.id)[0] == "Narkotika blant unge"

    with kari.expect_navigation():
        kari.locator(NEXT).click()
    conflict = kari.locator("#conflict")
    assert conflict.is_visible()
    assert people.police_coordinator.name in conflict.inner_text()
    table = kari.locator("table.portal-conflict")
    first = table.locator("tbody tr").first
    assert first.locator("td").nth(0).inner_text() == "Narkotika blant unge"  # what Per saved
    assert first.locator("td").nth(1).inner_text() == "Tryggare skuleveg"  # what Kari typed
    assert kari.locator("#priority_areas-0-title").input_value() == "Tryggare skuleveg"
    assert kari.locator("#priority_areas-0-expected_results").input_value() == "Ingen alvorlege ulukker på skulevegen.\nFleire som går eller syklar."
    assert stored_titles(draft.id)[0] == "Narkotika blant unge", "nothing of Per's was overwritten"
    axe_check(kari)
    screenshot(kari, "conflict-page")

    # Kari reads both and saves hers on top, by choice.
    with kari.expect_navigation():
        kari.locator(NEXT).click()
    assert "/check" in kari.url
    assert stored_titles(draft.id)[0] == "Tryggare skuleveg"

    # The agreement page says who changed the draft last.
    per.goto(f"/agreements/{draft.id}")
    assert people.coordinator.name in per.locator("#last-changed").inner_text()
    axe_check(per)
