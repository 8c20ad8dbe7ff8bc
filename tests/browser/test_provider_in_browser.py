"""A new signatory goes from the signing e-mail to a signed agreement in Chromium without ever choosing a
portal password: the invitation is accepted through the OpenID provider (oidc-provider on loopback, set
up like ID-porten) with MinID, the signing page asks for BankID (step-up), the provider asks again, and
the signatory is back on the same signing page to sign. Signing out ends the session at the provider too.
Afterwards the identity number is looked for everywhere it must not be."""
from __future__ import annotations

import email
import email.policy
import logging
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, MemberRole, SignatureSlot, User, UserSession
from tests import factories
from tests.oidc.fixtures import MAYOR_PID, LoopbackProvider
from tests.pii import assert_identity_number_nowhere

from .conftest import axe_check

pytestmark = pytest.mark.browser
SIGN_BUTTON = "main form[action$='/sign'] button[type=submit]"


@pytest.fixture(scope="module")
def provider_for_browser(app, live_server, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The provider with the live server registered as the client's redirect and logout addresses, and the
    portal configured for it (its public address the live server's)."""
    provider = LoopbackProvider(live_server, tmp_path_factory.mktemp("oidc-browser"))
    provider.start()
    settings = {**provider.settings(), "PUBLIC_BASE_URL": live_server}
    saved = {name: app.config[name] for name in settings}
    app.config.update(settings)
    yield provider
    app.config.update(saved)
    provider.stop()


def _finalise_and_invite(app, coordinator_id: int, chief_email: str) -> int:  # type: ignore[no-untyped-def]
    """Finalise as the finalise page does and send the signing e-mails; the mayor is new to the portal."""
    from portal.agreements import signing

    with app.app_context():
        coordinator = db.session.get(User, coordinator_id)
        agreement = factories.complete_agreement(coordinator)
        for member in agreement.members:
            if member.role is MemberRole.STATION_CHIEF:
                member.email = chief_email
        invitations = signing.finalise(agreement, coordinator)
        db.session.commit()
        assert not signing.send_signing_invitations(agreement, invitations, coordinator)
        return agreement.id


def _mail_to(outbox, address: str) -> str:  # type: ignore[no-untyped-def]
    for path in outbox.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if address in str(message["To"]):
            return message.get_content()
    raise AssertionError(f"no e-mail to {address}")


def _log_in_at_provider(page, pid: str, eid: str) -> None:  # type: ignore[no-untyped-def]
    page.locator("#pid").fill(pid)
    page.locator("#eid").select_option(eid)
    page.locator("#log-in").click()


def test_a_new_signatory_signs_with_the_provider_and_no_password(app, new_page, people, provider_for_browser, outbox, caplog):  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    db.session.commit()
    with ThreadPoolExecutor(1) as pool:  # pyHanko's event loop must not meet Playwright's
        agreement_id = pool.submit(_finalise_and_invite, app, people.coordinator.id, people.station_chief.email).result(timeout=120)
    mayor_email = next(slot.email for slot in db.session.scalars(select(SignatureSlot).where(SignatureSlot.agreement_id == agreement_id))
                       if slot.role is MemberRole.MAYOR)
    mail = _mail_to(outbox, mayor_email)
    invitation = re.search(r"(http://127\.0\.0\.1:\d+/invitation/\S+)", mail).group(1)
    sign_page = f"/agreements/{agreement_id}/sign"

    page = new_page()
    page.goto(invitation)
    assert page.locator("input[type=password]").count() == 2  # passwords are still allowed here, but not chosen
    axe_check(page)
    page.locator("#accept-with-provider").click()
    page.wait_for_url(f"{provider_for_browser.issuer}/**")
    _log_in_at_provider(page, MAYOR_PID, "minid")

    # Back in the portal, on the signing page the e-mail pointed to; MinID is not enough to sign.
    page.wait_for_url(f"**{sign_page}")
    assert page.locator("#step-up").count() == 1 and page.locator(SIGN_BUTTON).count() == 0
    axe_check(page)
    page.locator("#step-up").click()
    page.wait_for_url(f"{provider_for_browser.issuer}/**")
    _log_in_at_provider(page, MAYOR_PID, "bankid")
    page.wait_for_url(f"**{sign_page}")
    assert page.locator("#password").count() == 0, "no portal password is asked for"
    axe_check(page)
    with page.expect_navigation():
        page.locator(SIGN_BUTTON).click()
    assert page.locator(f"#signature-slots tr[data-state=signed]").count() == 1
    assert "idporten-loa-high" in page.locator("#signature-slots").inner_text()
    axe_check(page)

    db.session.expire_all()
    mayor = db.session.scalar(select(User).where(User.email == mayor_email))
    assert mayor.password_hash is None and mayor.identity_hmac
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.agreement_id == agreement_id, AuditEvent.action == "signed"))
    assert event.user_id == mayor.id and "acr idporten-loa-high; amr BankID" in event.detail

    # Signing out ends the session here and at the provider, whose front-channel logout frames the portal.
    page.locator("header form[action$='/sign-out'] button").click()
    page.wait_for_url("**/sign-in")  # through the provider's logout and front-channel pages
    page.wait_for_load_state()
    axe_check(page)
    assert "Front-channel logout ended" in caplog.text
    assert db.session.scalar(select(UserSession.ended_by).where(UserSession.user_id == mayor.id)) == "sign-out"
    page.goto(sign_page)
    assert "/sign-in" in page.url

    assert_identity_number_nowhere(MAYOR_PID, outbox, caplog.text)
