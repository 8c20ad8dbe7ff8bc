"""A coordinator writes an agreement in a real browser: the whole wizard, by keyboard where natural,
with axe-core run on every page on the way, then «Back» keeping what was typed, and the wizard without
JavaScript.

Elements are found by id, name and value, not by their words: the translations are still changing.
Where a test reads words, it reads the user's own answers.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from forms.steps import STEP_NAMES
from portal.extensions import db
from tests import factories
from tests.conftest import PASSWORD

from .conftest import axe_check, screenshot, sign_in

pytestmark = pytest.mark.browser

NEXT = "main .portal-buttons button[name=action][value=next]"
BACK = "main .portal-buttons button[name=action][value=back]"
STEP_URL = re.compile(r"/agreements/(\d+)/steps/([a-z_]+)")


def on_step(page, name: str) -> int:  # type: ignore[no-untyped-def]
    """The page is step ``name`` of an agreement; returns the agreement's id."""
    match = STEP_URL.search(urlsplit(page.url).path)
    assert match and match.group(2) == name, f"expected step «{name}», the browser is at {page.url}"
    position = STEP_NAMES.index(name) + 1
    assert page.locator("main h1").count() == 1
    progress = page.locator(".portal-progress").inner_text()
    assert re.search(rf"\b{position}\D+{len(STEP_NAMES)}\b", progress), f"«{progress}» should say step {position} of {len(STEP_NAMES)}"
    return int(match.group(1))


def press_enter(page, selector: str) -> None:  # type: ignore[no-untyped-def]
    """Focus the element and press Enter, as a keyboard user does, and wait for the next page."""
    page.locator(selector).focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")


def follow(page, locator) -> None:  # type: ignore[no-untyped-def]
    """Click ``locator`` (a link, or a button that sends the form) and wait for the page it loads: a click
    returns once the next page has begun to load, and the «add a row» buttons load the same address again."""
    with page.expect_navigation():
        locator.click()


def continue_with_keyboard(page) -> None:  # type: ignore[no-untyped-def]
    press_enter(page, NEXT)


def error_links(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator("#error-summary a").evaluate_all("links => links.map(link => link.getAttribute('href'))")


def test_coordinator_completes_the_whole_wizard(page, people):  # type: ignore[no-untyped-def]
    coordinator_email = people.coordinator.email

    # Sign in through the form.
    page.goto("/sign-in")
    axe_check(page)
    sign_in(page, coordinator_email, PASSWORD)
    axe_check(page)

    # «Agreements» in the menu, then «Start a new agreement».
    follow(page, page.locator("nav a[href='/agreements/']"))
    assert urlsplit(page.url).path == "/agreements/"
    axe_check(page)
    follow(page, page.locator("main form[action='/agreements/new'] button[type=submit]"))

    # Step 1: the coordinator's own municipality is chosen already; add Ulvik in a second row.
    agreement_id = on_step(page, "parties")
    assert page.locator("#municipalities-0").input_value() == factories.VOSS
    assert page.locator("#municipalities-1").count() == 0
    axe_check(page)
    follow(page, page.locator("main button[name=action][value=add-municipalities]"))
    on_step(page, "parties")
    assert page.locator("#municipalities-0").input_value() == factories.VOSS, "adding a row lost the first choice"
    new_row = page.locator("#municipalities-1")
    assert new_row.input_value() == "", "the new row should start empty"
    for row in (0, 1):
        assert page.locator(f"main label[for='municipalities-{row}']").inner_text().strip(), "each row's list has a label"
    assert new_row.locator(f"option[value='{factories.ULVIK}']").count() == 1, "the new row should offer every municipality"
    axe_check(page)
    # Search as you type (JavaScript): typing the name narrows the list and chooses the match.
    search = page.locator("#municipalities-1-filter")
    assert search.is_visible(), "the new row should have a search box"
    search.press_sequentially("ulvik")
    offered = new_row.evaluate("select => [...select.options].filter(option => !option.hidden && option.value).map(option => option.value)")
    assert offered == [factories.ULVIK], offered
    assert new_row.input_value() == factories.ULVIK
    axe_check(page)
    screenshot(page, "wizard-1-parties")
    continue_with_keyboard(page)

    # Step 2: the police district is suggested; the station is typed.
    on_step(page, "police")
    assert page.locator("#police_district option:checked").inner_text() == "Vest politidistrikt"
    axe_check(page)
    page.locator("#police_station").fill("Voss politistasjon")
    press_enter(page, "#police_station")  # Enter in a text box submits with the form's first button: «Save and continue»

    # Step 3: the standard text is agreed to with the keyboard (Space on the check box).
    on_step(page, "purpose")
    axe_check(page)
    page.locator("#accept_standard_text").focus()
    page.keyboard.press("Space")
    assert page.locator("#accept_standard_text").is_checked()
    page.locator("#purpose_addition").fill("Trygge møteplassar for unge i begge kommunane.")
    continue_with_keyboard(page)

    # Step 4: a group for each municipality, in the order chosen, then the police and SLT.
    on_step(page, "members")
    axe_check(page)
    legends = page.locator("main fieldset.portal-group > legend").all_inner_texts()
    assert "Voss" in legends[0] and "Ulvik" in legends[1], legends
    answers = {
        "#municipalities-0-mayor_name": "Astrid Vossaordførar",
        "#municipalities-0-mayor_email": "ordforar@voss.example.org",
        "#municipalities-0-chief_executive_name": "Rolf Vossadirektør",
        "#municipalities-0-chief_executive_email": "direktor@voss.example.org",
        "#municipalities-1-mayor_name": "Hans Ulvikordførar",
        "#municipalities-1-mayor_email": "ordforar@ulvik.example.org",
        "#municipalities-1-chief_executive_name": "Guri Ulvikdirektør",
        "#municipalities-1-chief_executive_email": "direktor@ulvik.example.org",
        "#station_chief_name": "Siv Stasjonssjef",
        "#station_chief_email": "stasjonssjef@politiet.example.org",
        "#police_contact_name": "Per Politikontakt",
        "#police_contact_email": "politikontakt@politiet.example.org",
        "#slt_coordinator_name": "Kari Koordinator",
        "#slt_coordinator_email": "koordinator@voss.example.org",
    }
    for selector, value in answers.items():
        page.locator(selector).fill(value)
    assert page.locator("#slt_coordinator_title").input_value() == "SLT-koordinator"
    page.locator("#municipalities-1-chief_executive_title-1").check()  # Ulvik still has a rådmann
    screenshot(page, "wizard-4-members")
    continue_with_keyboard(page)

    # Step 5: the arrow keys move between radio buttons.
    on_step(page, "leadership")
    axe_check(page)
    assert page.locator("#leadership-0").is_checked()
    page.locator("#leadership-0").focus()
    page.keyboard.press("ArrowDown")
    assert page.locator("#leadership-1").is_checked(), "ArrowDown should choose the next option"
    continue_with_keyboard(page)

    # Step 6: one contact.
    on_step(page, "contacts")
    axe_check(page)
    follow(page, page.locator("main button[name=action][value=add-contacts]"))
    on_step(page, "contacts")
    axe_check(page)
    page.locator("#contacts-0-category-1").check()
    page.locator("#contacts-0-organisation_name").fill("Voss Frivilligsentral")
    page.locator("#contacts-0-name").fill("Frida Frivillig")
    continue_with_keyboard(page)

    # Step 7: a wrong number first. The error summary gets focus; its link moves focus to the field.
    on_step(page, "meetings")
    axe_check(page)
    page.locator("#minutes_archived").check()
    page.locator("#meetings_per_year").fill("1")
    continue_with_keyboard(page)
    on_step(page, "meetings")
    summary = page.locator("#error-summary")
    assert summary.is_visible()
    assert page.evaluate("() => document.activeElement.id") == "error-summary", "the error summary should have focus"
    assert page.title().startswith(("Error", "Feil")), page.title()
    assert error_links(page) == ["#meetings_per_year"]
    field = page.locator("#meetings_per_year")
    assert field.get_attribute("aria-invalid") == "true"
    assert "meetings_per_year-error" in (field.get_attribute("aria-describedby") or "").split()
    assert page.locator("#meetings_per_year-error").is_visible()
    assert field.input_value() == "1", "the wrong value should be shown again for correcting"
    assert page.locator("#minutes_archived").is_checked(), "the rest of the input should be kept"
    axe_check(page)
    screenshot(page, "wizard-7-meetings-error")
    page.keyboard.press("Tab")  # from the summary to its first link
    assert page.evaluate("() => document.activeElement.getAttribute('href')") == "#meetings_per_year"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "meetings_per_year", "the link should move focus to the field"
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("6")
    continue_with_keyboard(page)

    # Step 8: a second priority area.
    on_step(page, "priorities")
    axe_check(page)
    page.locator("#priority_areas-0-title").fill("Barn og unge")
    page.locator("#priority_areas-0-expected_results").fill("Færre unge som blir rekrutterte til kriminelle miljø.")
    follow(page, page.locator("main button[name=action][value=add-priority_areas]"))
    on_step(page, "priorities")
    assert page.locator("#priority_areas-0-title").input_value() == "Barn og unge", "adding a row lost the first"
    axe_check(page)
    page.locator("#priority_areas-1-title").fill("Vald i nære relasjonar")
    page.locator("#priority_areas-1-expected_results").fill("Fleire saker blir melde og følgde opp.")
    screenshot(page, "wizard-8-priorities")
    continue_with_keyboard(page)

    # Step 9.
    on_step(page, "slt")
    axe_check(page)
    page.locator("#slt_relation-0").check()
    continue_with_keyboard(page)

    # Step 10: the place is suggested from the first municipality.
    on_step(page, "validity")
    axe_check(page)
    assert page.locator("#place").input_value() == "Voss"
    page.locator("#start_date").fill("2027-01-01")
    continue_with_keyboard(page)

    # «Check your answers».
    assert urlsplit(page.url).path == f"/agreements/{agreement_id}/check", page.url
    axe_check(page)
    screenshot(page, "wizard-check")
    rows = page.locator("main .portal-summary .portal-summary__row").evaluate_all(
        """rows => rows.map(row => ({
            value: row.querySelector('dd').innerText.trim(),
            links: [...row.querySelectorAll('a')].map(link => link.getAttribute('href')),
        }))"""
    )
    assert rows, "the page lists no answers"
    for row in rows:
        assert len(row["links"]) == 1, f"each answer should have one «Change» link: {row}"
        assert row["links"][0].startswith(f"/agreements/{agreement_id}/steps/"), row

    def step_of(value_pattern: str) -> set[str]:
        found = {STEP_URL.search(row["links"][0]).group(2) for row in rows if re.search(value_pattern, row["value"])}
        assert found, f"no answer reads {value_pattern!r}: {[row['value'] for row in rows]}"
        return found

    assert step_of(r"^Voss og Ulvik$") == {"parties"}
    assert step_of(r"Voss politistasjon") == {"police"}
    assert step_of(r"Trygge møteplassar") == {"purpose"}
    assert step_of(r"Astrid Vossaordførar") == {"members"}
    assert step_of(r"Hans Ulvikordførar") == {"members"}
    assert step_of(r"Guri Ulvikdirektør, Rådmann") == {"members"}
    assert step_of(r"Voss Frivilligsentral, Frida Frivillig") == {"contacts"}
    assert step_of(r"^6$") == {"meetings"}
    assert step_of(r"Færre unge") == {"priorities"}
    assert step_of(r"Fleire saker") == {"priorities"}
    assert step_of(r"2027") == {"validity"}
    assert step_of(r"^Voss$") == {"validity"}
    assert {STEP_URL.search(row["links"][0]).group(2) for row in rows} == set(STEP_NAMES), "a step has no «Change» link"
    main_text = page.locator("main").inner_text()
    for words in ("Voss", "Ulvik", "Astrid Vossaordførar", "Hans Ulvikordførar", "Barn og unge", "Vald i nære relasjonar"):
        assert words in main_text, f"«Check your answers» does not show {words!r}"

    # «Change» on the municipalities leads to step 1 with the answers in place, and back to the check.
    press_enter(page, "main .portal-summary a[href*='/steps/parties'] >> nth=0")
    on_step(page, "parties")
    assert [page.locator(f"#municipalities-{n}").input_value() for n in (0, 1)] == [factories.VOSS, factories.ULVIK]
    axe_check(page)
    continue_with_keyboard(page)
    assert urlsplit(page.url).path == f"/agreements/{agreement_id}/check", "saving a changed answer should return to the check"

    # «Change» on a priority area: change its title, and the check shows the new one.
    follow(page, page.locator("main .portal-summary a[href*='/steps/priorities']").first)
    on_step(page, "priorities")
    assert page.locator("#priority_areas-1-title").input_value() == "Vald i nære relasjonar"
    axe_check(page)
    page.locator("#priority_areas-1-title").fill("Vald og overgrep i nære relasjonar")
    continue_with_keyboard(page)
    assert urlsplit(page.url).path == f"/agreements/{agreement_id}/check"
    assert "Vald og overgrep i nære relasjonar" in " ".join(page.locator("main .portal-summary").all_inner_texts())
    axe_check(page)


def test_back_keeps_what_was_typed(page, people):  # type: ignore[no-untyped-def]
    agreement = factories.complete_agreement(people.coordinator)
    agreement.completed_steps = list(STEP_NAMES[: STEP_NAMES.index("meetings")])  # answered up to «contacts»
    agreement.minutes_archived = False  # not yet ticked on «meetings»
    db.session.commit()
    agreement_id, coordinator_email = agreement.id, people.coordinator.email
    db.session.close()

    sign_in(page, coordinator_email, PASSWORD)
    page.goto(f"/agreements/{agreement_id}/steps/meetings")
    on_step(page, "meetings")
    axe_check(page)

    # An unfinished page (minutes not ticked): «Back» saves nothing, but keeps what was typed.
    page.locator("#meetings_per_year").fill("5")
    page.locator("#minutes_archive_location").fill("Rådhusarkivet")
    press_enter(page, BACK)
    on_step(page, "contacts")
    axe_check(page)
    continue_with_keyboard(page)
    on_step(page, "meetings")
    assert page.locator("#meetings_per_year").input_value() == "5"
    assert page.locator("#minutes_archive_location").input_value() == "Rådhusarkivet"
    assert page.locator("main .ds-alert[data-color=warning]").is_visible(), "the page should say the input is not saved yet"
    axe_check(page)
    screenshot(page, "back-restored")

    # A finished page: «Back» saves it, and the answers are there when the user comes forward again.
    page.locator("#minutes_archived").check()
    continue_with_keyboard(page)
    on_step(page, "priorities")
    page.locator("#priority_areas-0-title").fill("Trafikktryggleik")
    follow(page, page.locator(BACK))
    on_step(page, "meetings")
    assert page.locator("#meetings_per_year").input_value() == "5"
    assert page.locator("main .ds-alert[data-color=warning]").count() == 0, "saved answers are not «unsaved input»"
    continue_with_keyboard(page)
    on_step(page, "priorities")
    assert page.locator("#priority_areas-0-title").input_value() == "Trafikktryggleik"
    axe_check(page)


def test_enter_in_a_text_box_saves_and_removes_nothing(page, people):  # type: ignore[no-untyped-def]
    """Enter in a text box presses the form's first submit button: it must be «Save and continue»,
    not the «Remove» button of the first municipality, priority area or contact."""
    agreement = factories.complete_agreement(people.coordinator, priority_area_count=2, contacts=2)  # Voss only
    db.session.commit()
    agreement_id, coordinator_email = agreement.id, people.coordinator.email
    db.session.close()

    sign_in(page, coordinator_email, PASSWORD)
    for step, field, typed in (
        ("priorities", "#priority_areas-1-title", "Trafikktryggleik"),
        ("contacts", "#contacts-1-organisation_name", "Voss Næringsråd"),
    ):
        page.goto(f"/agreements/{agreement_id}/steps/{step}")
        groups = page.locator("main fieldset.portal-group").count()
        assert groups == 2, f"{step}: expected two groups, found {groups}"
        page.locator(field).fill(typed)
        press_enter(page, field)
        assert urlsplit(page.url).path == f"/agreements/{agreement_id}/check", f"Enter on «{step}» did not save: {page.url}"
        answers = " ".join(page.locator("main .portal-summary").all_inner_texts())
        assert typed in answers, f"{typed!r} is not among the answers"
        assert ("Satsingsområde 1" if step == "priorities" else "Organisasjon 1") in answers, f"Enter on «{step}» removed the first group"

    # The municipality search box: Enter only picks the match (the page stays, nothing is removed);
    # the user then saves as usual.
    page.goto(f"/agreements/{agreement_id}/steps/parties")
    follow(page, page.locator("main button[name=action][value=add-municipalities]"))
    page.locator("#municipalities-1-filter").press_sequentially("Ulvik")
    page.locator("#municipalities-1-filter").press("Enter")
    assert urlsplit(page.url).path == f"/agreements/{agreement_id}/steps/parties"
    assert [page.locator(f"#municipalities-{n}").input_value() for n in (0, 1)] == [factories.VOSS, factories.ULVIK]
    continue_with_keyboard(page)
    on_step(page, "police")
    page.goto(f"/agreements/{agreement_id}/steps/parties")
    assert [page.locator(f"#municipalities-{n}").input_value() for n in (0, 1)] == [factories.VOSS, factories.ULVIK]


def test_wizard_works_without_javascript(new_page, people):  # type: ignore[no-untyped-def]
    page = new_page(java_script_enabled=False)
    coordinator_email = people.coordinator.email
    sign_in(page, coordinator_email, PASSWORD)
    page.goto("/agreements/")
    follow(page, page.locator("main form[action='/agreements/new'] button[type=submit]"))
    agreement_id = on_step(page, "parties")
    assert page.locator("#municipalities-0-filter").count() == 0, "JavaScript is off: no search box"

    # Add two rows, remove the middle one: the rows are renumbered and the choices kept.
    add = "main button[name=action][value=add-municipalities]"
    follow(page, page.locator(add))
    page.locator("#municipalities-1").select_option(factories.ULVIK)
    follow(page, page.locator(add))
    page.locator("#municipalities-2").select_option(factories.BERGEN)
    assert page.locator("#municipalities-1").input_value() == factories.ULVIK, "adding a row lost a choice"
    follow(page, page.locator("main button[name=action][value=remove-municipalities-1]"))
    on_step(page, "parties")
    assert page.locator("main select[name^=municipalities-]").count() == 2
    assert page.locator("#municipalities-0").input_value() == factories.VOSS
    assert page.locator("#municipalities-1").input_value() == factories.BERGEN
    assert page.locator("#municipalities-2").count() == 0
    screenshot(page, "no-js-parties")

    follow(page, page.locator(NEXT))
    on_step(page, "police")
    page.goto(f"/agreements/{agreement_id}/steps/parties")
    assert [page.locator(f"#municipalities-{n}").input_value() for n in (0, 1)] == [factories.VOSS, factories.BERGEN]
