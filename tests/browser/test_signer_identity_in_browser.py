"""Issue 9, item 2 in Chromium: the coordinator sees before finalising whose account each signatory's
e-mail address belongs to and cannot finalise a mismatch; a signatory whom the agreement does not name by
their account's name is refused on the signing page and asks the coordinators to correct it. axe-core on
every page on the way."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from portal.extensions import db
from portal.models import Agreement, AgreementStatus, MemberRole, User
from tests import factories
from tests.conftest import PASSWORD

from .conftest import axe_check, screenshot, sign_in
from .test_signing_in_browser import finalised  # noqa: F401  (the fixture: sealed off the main thread)

pytestmark = pytest.mark.browser


def test_the_coordinator_sees_whose_account_each_address_is_and_cannot_finalise_a_mismatch(page, people):  # type: ignore[no-untyped-def]
    agreement = factories.complete_agreement(people.coordinator)
    factories.name_signatories(agreement, people.mayor, people.station_chief)
    agreement.member(MemberRole.STATION_CHIEF).name = "Sigrid Haugland"  # with Siv Stasjonssjef's address
    db.session.commit()
    agreement_id, email = agreement.id, people.coordinator.email
    db.session.close()

    sign_in(page, email, PASSWORD)
    page.goto(f"/agreements/{agreement_id}/check")
    accounts = page.locator("#signatory-accounts")
    assert accounts.locator("tr[data-field=Signatur_stasjonssjef]").get_attribute("data-account") == "correct"
    assert "Siv Stasjonssjef" in accounts.locator("tr[data-field=Signatur_stasjonssjef]").inner_text()
    assert accounts.locator("tr[data-field=Signatur_ordforar_4621]").get_attribute("data-account") == "existing"
    assert page.locator("form[action$='/finalise']").count() == 0, "no finalising until it is corrected"
    axe_check(page)
    screenshot(page, "check-signatory-accounts-mismatch")


def _rename(app, user_id: int, name: str) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        db.session.get(User, user_id).name = name  # type: ignore[union-attr]
        db.session.commit()


def test_a_signatory_the_agreement_does_not_name_is_refused_and_asks_for_a_correction(app, page, people, finalised):  # type: ignore[no-untyped-def]  # noqa: F811
    with ThreadPoolExecutor(1) as pool:  # the account changed hands after finalising
        pool.submit(_rename, app, people.station_chief.id, "Sigrid Haugland").result(timeout=30)
    sign_in(page, people.station_chief.email, PASSWORD)
    page.goto(f"/agreements/{finalised}/sign")
    assert page.locator("#name-mismatch").is_visible()
    assert page.locator("main form[action$='/sign']").count() == 0, "nothing to sign with"
    reason = page.locator("#reason").input_value()
    assert "Siv Stasjonssjef" in reason and "Sigrid Haugland" in reason, "the request is filled in"
    axe_check(page)
    screenshot(page, "signing-name-mismatch")

    with page.expect_navigation():
        page.locator("main form[action$='/decline'] button[type=submit]").click()
    axe_check(page)
    db.session.expire_all()
    assert db.session.get(Agreement, finalised).status is AgreementStatus.DECLINED  # type: ignore[union-attr]
