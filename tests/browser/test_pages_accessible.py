"""axe-core (WCAG 2.1 A and AA) on every kind of page, as each role sees it, and keyboard use:
the skip link comes first and shows itself, and every element the Tab key reaches shows that it has focus.
"""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from forms.steps import STEP_NAMES
from portal.extensions import db
from portal.models import Role
from tests import factories
from tests.conftest import PASSWORD

from .conftest import axe_check, screenshot, sign_in

pytestmark = pytest.mark.browser


def visit(page, path: str, status: int = 200) -> None:  # type: ignore[no-untyped-def]
    response = page.goto(path)
    assert response is not None and response.status == status, f"{path} answered {response and response.status}"
    assert urlsplit(page.url).path == urlsplit(path).path, f"{path} was sent on to {page.url}"


def submit_main_form(page) -> None:  # type: ignore[no-untyped-def]
    """Press the first submit button of the page's own form (not the language form in the header)."""
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()


def test_signed_out_pages(page, subtests):  # type: ignore[no-untyped-def]
    for path in ("/", "/sign-in", "/password-reset", "/accessibility"):
        with subtests.test(path=path):
            visit(page, path)
            assert page.locator("main h1").count() == 1, "every page has one main heading"
            assert page.title().strip(), "every page has a title"
            assert page.locator("html").get_attribute("lang") in ("nb", "nn", "en")
            axe_check(page)


def test_sign_in_with_errors(page, people):  # type: ignore[no-untyped-def]
    visit(page, "/sign-in")
    submit_main_form(page)  # nothing typed
    assert urlsplit(page.url).path == "/sign-in"
    summary = page.locator("#error-summary")
    assert summary.is_visible()
    assert page.evaluate("() => document.activeElement.id") == "error-summary"
    assert summary.locator("a").evaluate_all("links => links.map(link => link.getAttribute('href'))") == ["#email", "#password"]
    for field in ("#email", "#password"):
        assert page.locator(field).get_attribute("aria-invalid") == "true"
    axe_check(page)
    screenshot(page, "sign-in-errors")

    # A wrong password: the message says so without telling which of the two was wrong.
    page.locator("#email").fill(people.coordinator.email)
    page.locator("#password").fill("feil passord")
    submit_main_form(page)
    assert urlsplit(page.url).path == "/sign-in"
    assert page.locator("#error-summary").is_visible()
    assert page.evaluate("() => document.activeElement.id") == "error-summary"
    axe_check(page)


def test_password_reset_with_errors(page):  # type: ignore[no-untyped-def]
    visit(page, "/password-reset")
    page.locator("#email").fill("ikkje-ei-adresse")
    submit_main_form(page)
    assert page.locator("#error-summary a[href='#email']").is_visible()
    axe_check(page)


def test_coordinator_pages_of_a_complete_draft(page, people, subtests):  # type: ignore[no-untyped-def]
    agreement = factories.complete_agreement(people.coordinator, (factories.VOSS, factories.ULVIK))
    db.session.commit()
    agreement_id, reference, email = agreement.id, agreement.reference, people.coordinator.email
    db.session.close()

    sign_in(page, email, PASSWORD)
    with subtests.test(page="agreement list"):
        visit(page, "/agreements/")
        assert reference in page.locator("main table").inner_text()
        axe_check(page)
    with subtests.test(page="agreement"):
        visit(page, f"/agreements/{agreement_id}")
        axe_check(page)
        screenshot(page, "agreement-page")
    with subtests.test(page="check your answers"):
        visit(page, f"/agreements/{agreement_id}/check")
        axe_check(page)
    for name in STEP_NAMES:
        with subtests.test(step=name):
            visit(page, f"/agreements/{agreement_id}/steps/{name}")
            assert page.locator("main form .portal-buttons button[value=next]").is_visible()
            axe_check(page)
            if name == "members":
                screenshot(page, "step-members")


def test_administrator_pages(page, people, subtests):  # type: ignore[no-untyped-def]
    factories.user("invitert@voss.example.org", Role.SIGNATORY, people.administrator.organisation, None, "Ida Invitert")
    db.session.commit()
    email = people.administrator.email
    db.session.close()

    sign_in(page, email, PASSWORD)
    with subtests.test(page="people"):
        visit(page, "/admin/users")
        assert "Ida Invitert" in page.locator("main table").inner_text()
        axe_check(page)
        screenshot(page, "admin-people")
    with subtests.test(page="invite"):
        visit(page, "/admin/users/invite")
        axe_check(page)
    with subtests.test(page="invite with errors"):
        submit_main_form(page)
        assert page.locator("#error-summary").is_visible()
        assert page.locator("#role-error").is_visible(), "the radio group shows its error"
        colours = page.locator("main .ds-validation-message").evaluate_all("messages => messages.map(m => getComputedStyle(m).color)")
        assert len(colours) >= 3 and len(set(colours)) == 1, f"every error message should look the same: {colours}"
        axe_check(page)
        screenshot(page, "admin-invite-errors")


# ------------------------------------------------------------------ keyboard

LOOK = """element => {
    // Designsystemet draws the focus ring of a radio button or check box on its field, the parent.
    const parts = [element, element.parentElement].map(part => getComputedStyle(part));
    const style = parts[0];
    const box = element.getBoundingClientRect();
    return {
        look: parts.map(part => [part.outlineStyle, part.outlineWidth, part.outlineColor, part.boxShadow, part.borderColor,
               part.backgroundColor, part.color, part.textDecorationLine, part.clip].join(' | ')).join(' || ') + ` ${box.width}x${box.height}`,
        outline: parts.some(part => part.outlineStyle !== 'none' && parseFloat(part.outlineWidth) > 0),
        shadow: parts.some(part => part.boxShadow !== 'none'),
        skip: element.classList.contains('ds-skip-link'),
        visible: box.width > 1 && box.height > 1 && box.bottom > 0 && box.right > 0
                 && box.top < innerHeight && box.left < innerWidth && style.visibility !== 'hidden',
        name: (element.tagName + (element.id ? '#' + element.id : '') + ' «' + (element.innerText || element.value || element.getAttribute('aria-label') || '').trim().slice(0, 40) + '»'),
    };
}"""


def tab_stops(page, limit: int = 80) -> list[dict]:  # type: ignore[no-untyped-def]
    """Press Tab from the top of the page until focus leaves the page; for each element reached, how it
    looked with focus and how it looks after focus moved on."""
    stops: list[dict] = []
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.__stops = []; }")
    for _ in range(limit):
        page.keyboard.press("Tab")
        stop = page.evaluate(
            f"""() => {{
                const look = {LOOK};
                const element = document.activeElement;
                if (!element || element === document.body || window.__stops.includes(element)) return null;
                window.__stops.push(element);
                return look(element);
            }}"""
        )
        if stop is None:
            break
        stops.append(stop)
    afterwards = page.evaluate(f"() => window.__stops.map({LOOK})")
    for stop, after in zip(stops, afterwards):
        stop["look_without_focus"] = after["look"]
    return stops


def without_focus_indicator(stops: list[dict]) -> list[str]:
    return [
        stop["name"] for stop in stops
        if not stop["visible"] or stop["look"] == stop["look_without_focus"] or not (stop["outline"] or stop["shadow"] or stop["skip"])
    ]


def test_skip_link_comes_first_and_shows_itself(page):  # type: ignore[no-untyped-def]
    visit(page, "/sign-in")
    skip = page.locator("a.ds-skip-link")
    hidden = skip.bounding_box()
    assert hidden is not None and hidden["width"] <= 1 and hidden["height"] <= 1, "the skip link is hidden until it has focus"

    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.classList.contains('ds-skip-link')"), "Tab should reach the skip link first"
    assert skip.get_attribute("href") == "#main"
    shown = skip.bounding_box()
    assert shown is not None and shown["width"] > 100 and shown["height"] > 20, f"the focused skip link is not visible: {shown}"
    assert shown["y"] >= 0 and shown["y"] < 200, "the focused skip link is at the top of the window"
    assert skip.is_visible()
    screenshot(page, "skip-link-focused")

    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main", "the skip link moves focus to the main content"
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "email", "after the skip link, Tab goes on in the main content"


def test_every_focused_element_shows_focus_on_sign_in(page):  # type: ignore[no-untyped-def]
    visit(page, "/sign-in")
    stops = tab_stops(page)
    names = [stop["name"] for stop in stops]
    assert stops[0]["skip"], f"the skip link should be the first tab stop: {names}"
    assert any(name.startswith("INPUT#email") for name in names) and any(name.startswith("INPUT#password") for name in names), names
    assert not without_focus_indicator(stops), f"no visible focus indicator on: {without_focus_indicator(stops)}"


def test_every_focused_element_shows_focus_in_the_wizard(page, people):  # type: ignore[no-untyped-def]
    agreement = factories.complete_agreement(people.coordinator, (factories.VOSS, factories.ULVIK))
    db.session.commit()
    agreement_id, email = agreement.id, people.coordinator.email
    db.session.close()

    sign_in(page, email, PASSWORD)
    for name in ("members", "contacts", "priorities"):  # text boxes, radio buttons, repeating groups
        visit(page, f"/agreements/{agreement_id}/steps/{name}")
        stops = tab_stops(page, limit=120)
        assert len(stops) > 10, [stop["name"] for stop in stops]
        assert not without_focus_indicator(stops), f"step {name}: no visible focus indicator on {without_focus_indicator(stops)}"
