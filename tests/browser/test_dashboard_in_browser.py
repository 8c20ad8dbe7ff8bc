"""A coordinator reaches the dashboard from the menu with the keyboard alone, finds its four sections,
and axe-core finds nothing wrong with it."""
from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest

from portal.agreements.lifecycle import change_status
from portal.extensions import db
from portal.models import AgreementStatus
from tests import factories
from tests.conftest import PASSWORD

from .conftest import axe_check, screenshot, sign_in
from .test_pages_accessible import tab_stops, without_focus_indicator
from .test_signing_in_browser import finalised  # noqa: F401  (the fixture: sealed off the main thread)

pytestmark = pytest.mark.browser


def test_a_coordinator_opens_the_dashboard_from_the_menu(page, people, finalised):  # type: ignore[no-untyped-def]  # noqa: F811
    today = date.today()
    references = []
    for signed_on in (today - timedelta(days=340), today - timedelta(days=400)):  # due in about 25 days; overdue
        agreement = factories.complete_agreement(people.coordinator)
        factories.put_in_force(agreement, signed_on)
        change_status(agreement, AgreementStatus.ACTIVE, people.coordinator)
        references.append(agreement.reference)
    db.session.commit()
    email = people.coordinator.email
    db.session.close()

    sign_in(page, email, PASSWORD)
    for _ in range(30):  # Tab to the menu's «Overview» and follow it with Enter
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.getAttribute('href')") == "/dashboard":
            break
    else:
        pytest.fail("Tab never reached the dashboard link in the menu")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert urlsplit(page.url).path == "/dashboard"
    assert page.locator("nav a[aria-current=page]").get_attribute("href") == "/dashboard"

    assert page.locator("main h1").count() == 1
    assert page.locator("main section h2").count() == 4
    assert references[0] in page.locator("#due-soon").inner_text()
    assert references[1] in page.locator("#overdue").inner_text()
    assert page.locator("#missing-signatures tbody tr").count() == 2, "neither has signed yet"
    axe_check(page)
    screenshot(page, "dashboard")

    stops = tab_stops(page, limit=120)
    reached = {stop["name"] for stop in stops}
    links = page.locator("main a").count()
    assert sum(name.startswith("A") for name in reached) >= links, f"every link in the page is reachable: {sorted(reached)}"
    assert not without_focus_indicator(stops), f"no visible focus indicator on: {without_focus_indicator(stops)}"
