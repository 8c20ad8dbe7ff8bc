"""The mayor and the station chief sign in Chromium through the signing page, the one with the portal's
own key and the other with an uploaded PKCS#12 file; axe-core runs on every page on the way.

Elements are found by id and name, not by their words: the translations are still changing.
"""
from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from sqlalchemy import select

from portal.extensions import db
from portal.models import Agreement, AgreementStatus, User
from portal.signing.pki import SignatoryIdentity, new_private_key
from portal.signing.services import current_pki
from tests import factories
from tests.conftest import PASSWORD

from .conftest import axe_check, screenshot, sign_in

pytestmark = pytest.mark.browser
P12_PASSPHRASE = "stasjonssjef-passord"
SIGN_BUTTON = "main form[action$='/sign'] button[type=submit]"


def _finalise(app, coordinator_id: int, mayor_email: str, chief_email: str) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        users = [db.session.scalar(select(User).where(User.email == email)) for email in (mayor_email, chief_email)]
        return factories.finalised_agreement(db.session.get(User, coordinator_id), *users).id


@pytest.fixture
def finalised(app, people) -> int:
    """Finalised and sealed as the finalise page does it; in a thread of its own, because pyHanko's
    synchronous calls run an event loop and Playwright's already runs one in the test's thread."""
    db.session.commit()
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(_finalise, app, people.coordinator.id, people.mayor.email, people.station_chief.email).result(timeout=120)


def test_mayor_and_station_chief_sign_in_the_browser(page, people, finalised, tmp_path):  # type: ignore[no-untyped-def]
    sign_in(page, people.mayor.email, PASSWORD)
    page.goto(f"/agreements/{finalised}")
    axe_check(page)
    page.goto(f"/agreements/{finalised}/sign")
    axe_check(page)
    assert page.locator("#key_source-0").is_checked()

    # A wrong password first: an error summary, nothing signed.
    page.locator("#password").fill("feil passord heilt")
    with page.expect_navigation():
        page.locator(SIGN_BUTTON).click()
    assert page.locator("#error-summary a[href='#password']").count() == 1
    axe_check(page)

    page.locator("#password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator(SIGN_BUTTON).click()
    assert re.search(rf"/agreements/{finalised}/sign$", page.url)
    assert page.locator(SIGN_BUTTON).count() == 0, "signed once: no second signature to give"
    assert page.locator("#signature-slots tr[data-field=Signatur_ordforar_4621]").get_attribute("data-state") == "signed"
    assert page.locator("#signature-slots tr[data-field=Signatur_stasjonssjef]").get_attribute("data-state") == "waiting"
    # Where it stands, and which row is the mayor's own (issue 9, item 8).
    after_first = page.locator("#where-it-stands").inner_text()
    assert after_first.strip(), "once signed, the page says so"
    assert page.locator("#signature-slots tr[data-yours=true]").get_attribute("data-field") == "Signatur_ordforar_4621"
    axe_check(page)

    # The station chief signs with a PKCS#12 file of their own.
    key = new_private_key("ec")
    chief = people.station_chief
    certificate = current_pki().issue_signing_certificate(
        SignatoryIdentity(chief.name, chief.title, chief.organisation.name, chief.email), key.public_key()
    )
    p12 = tmp_path / "stasjonssjef.p12"
    p12.write_bytes(pkcs12.serialize_key_and_certificates(
        b"chief", key, certificate, None, serialization.BestAvailableEncryption(P12_PASSPHRASE.encode())
    ))
    page.context.clear_cookies()
    sign_in(page, chief.email, PASSWORD)
    page.goto(f"/agreements/{finalised}/sign")
    axe_check(page)
    page.locator("#key_source-1").check()
    page.locator("#pkcs12_file").set_input_files(str(p12))
    page.locator("#passphrase").fill(P12_PASSPHRASE)
    page.locator("#password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator(SIGN_BUTTON).click()
    assert "B-LTA" in page.locator("main").inner_text()
    assert page.locator("#where-it-stands").inner_text().strip() not in ("", after_first), "now signed by everyone"
    assert page.locator("#signature-slots tr[data-yours=true]").get_attribute("data-field") == "Signatur_stasjonssjef"
    screenshot(page, "signing-signed-by-everyone")
    axe_check(page)

    page.goto(f"/agreements/{finalised}")
    page.locator("#technical-details summary").click()  # the PAdES level is a technical detail, behind a disclosure
    page.locator("#technical-details p").first.wait_for(state="visible", timeout=5000)
    assert "B-LTA" in page.locator("main").inner_text()
    axe_check(page)

    db.session.expire_all()
    agreement = db.session.get(Agreement, finalised)
    assert agreement is not None and agreement.status is AgreementStatus.ACTIVE

    # Anyone may verify the downloaded document on the public verify page.
    signed = tmp_path / "signed.pdf"
    signed.write_bytes(agreement.document.signed_pdf)
    page.context.clear_cookies()
    page.goto("/verify")
    axe_check(page)
    page.locator("#pdf").set_input_files(str(signed))
    with page.expect_navigation():
        page.locator("#verify-submit").click()
    assert page.locator("#verdict[data-color=success]").count() == 1
    axe_check(page)
