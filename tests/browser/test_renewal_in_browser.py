"""The renewal in Chromium: «Start renewal» from the agreement page, the evaluation step with its error
summary, then the version chain on the old agreement's page; axe-core on every page on the way."""
from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

import pytest

from portal.extensions import db
from tests import factories
from tests.conftest import PASSWORD

from .conftest import axe_check, screenshot, sign_in

pytestmark = pytest.mark.browser


def test_a_coordinator_starts_a_renewal_and_evaluates_last_year(page, people):  # type: ignore[no-untyped-def]
    # A stand-in signed agreement (no pyHanko here: Playwright's loop runs in this thread), due for renewal.
    agreement = factories.archived_agreement(people.coordinator, active_from=date(date.today().year - 1, 1, 10))
    factories.put_in_force(agreement, agreement.active_from)
    db.session.commit()
    agreement_id, email = agreement.id, people.coordinator.email
    db.session.close()

    sign_in(page, email, PASSWORD)
    page.goto(f"/agreements/{agreement_id}")
    renewal_section = page.locator("section[aria-labelledby=renewal-heading]")
    assert renewal_section.is_visible(), "an agreement due for renewal offers the renewal"
    axe_check(page)

    # Keyboard: the button is reached with Tab and pressed with Enter.
    button = renewal_section.locator("button[type=submit]")
    button.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert urlsplit(page.url).path.endswith("/steps/evaluation")
    assert page.locator("main h1").count() == 1
    fieldsets = page.locator("main form fieldset")
    assert fieldsets.count() == 3, "one group of questions per priority area of last year"
    axe_check(page)

    # Nothing filled in: the error summary takes focus and links to each missing answer.
    with page.expect_navigation():
        page.locator("main form .portal-buttons button[value=next]").click()
    summary = page.locator("#error-summary")
    assert summary.is_visible()
    assert page.evaluate("() => document.activeElement.id") == "error-summary"
    targets = summary.locator("a").evaluate_all("links => links.map(link => link.getAttribute('href'))")
    assert "#areas-0-what_was_done" in targets and "#areas-2-achieved" in targets
    assert "#areas-0-carried_forward" not in targets, "learning points are optional"
    axe_check(page)
    screenshot(page, "renewal-evaluation-errors")

    for index in range(3):
        page.locator(f"#areas-{index}-what_was_done").fill(f"Tiltak i satsingsområde {index + 1}.")
        page.locator(f"#areas-{index}-achieved").fill("Færre saker enn året før.")
    page.locator("#areas-0-carried_forward").fill("Involver skulane tidlegare.")
    with page.expect_navigation():
        page.locator("main form .portal-buttons button[value=next]").click()
    assert urlsplit(page.url).path.endswith("/steps/parties")

    # The learning point is shown where this year's priority areas are chosen.
    renewal_path = urlsplit(page.url).path.rsplit("/steps/", 1)[0]
    page.goto(f"{renewal_path}/steps/priorities")
    assert "Involver skulane tidlegare." in page.locator("main").inner_text()
    axe_check(page)

    # The start date is offered and only confirmed; «check your answers» then shows the evaluation too.
    page.goto(f"{renewal_path}/steps/validity")
    assert page.locator("#start_date").input_value(), "the renewal date is offered as the start date"
    with page.expect_navigation():
        page.locator("main form .portal-buttons button[value=next]").click()
    assert urlsplit(page.url).path == f"{renewal_path}/check"
    assert "Tiltak i satsingsområde 2." in page.locator("section[aria-labelledby=evaluation-heading]").inner_text()
    axe_check(page)

    # Both versions, from the old agreement's page; the evaluation is there to download.
    page.goto(f"/agreements/{agreement_id}")
    versions = page.locator("section[aria-labelledby=versions-heading] table tbody tr")
    assert versions.count() == 2
    assert page.locator(f"main a[href='{renewal_path}']").count() >= 1
    assert page.locator(f"main a[href='/agreements/{agreement_id}/evaluation.pdf']").is_visible()
    axe_check(page)
    screenshot(page, "renewal-versions")


def test_the_renewal_of_a_renewal_starts_with_its_own_evaluation(page, people):  # type: ignore[no-untyped-def]
    """Issue 9, item 1: last year's renewal had its evaluation; this year's renewal of it evaluates again."""
    from portal.agreements import lifecycle
    from portal.models import AgreementStatus

    first = factories.archived_agreement(people.coordinator, active_from=date(date.today().year - 2, 1, 10))
    db.session.commit()
    last_year = lifecycle.start_renewal(first, people.coordinator, date.today())
    last_year.completed_steps = [*last_year.completed_steps, "evaluation", "validity"]  # as when it was signed
    last_year.status = AgreementStatus.RENEWAL_DUE
    factories.put_in_force(last_year, date(date.today().year - 1, 1, 10))
    db.session.commit()
    agreement_id, email = last_year.id, people.coordinator.email
    db.session.close()

    sign_in(page, email, PASSWORD)
    page.goto(f"/agreements/{agreement_id}")
    with page.expect_navigation():
        page.locator("section[aria-labelledby=renewal-heading] button[type=submit]").click()
    assert urlsplit(page.url).path.endswith("/steps/evaluation")
    assert page.locator("main form fieldset").count() == 3, "last year's three priority areas to evaluate"
    axe_check(page)
    # No later step can be reached before the evaluation is written.
    renewal_path = urlsplit(page.url).path.rsplit("/steps/", 1)[0]
    page.goto(f"{renewal_path}/check")
    assert urlsplit(page.url).path.endswith("/steps/evaluation")
    screenshot(page, "renewal-of-a-renewal-evaluation")
