"""Sign-in, binding, step-up and logout through a real OpenID provider (oidc-provider on loopback, set up
like ID-porten; see tests/oidc/). The portal's pages go through the test client, the provider's through a
stand-in for the person's browser."""
from __future__ import annotations

import email
import email.policy
import logging
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from portal.agreements import signing
from portal.auth.identity import identity_hmac
from portal.auth.invitations import PURPOSE as INVITATION
from portal.auth.passwords import make_link_token
from portal.extensions import db
from portal.models import AuditEvent, Role, SignatureSlot, User, UserSession

from . import factories
from .conftest import Browserless, csrf_token_from
from .oidc.fixtures import CHIEF_PID, MAYOR_PID, OTHER_PID, PersonAtProvider
from .pii import assert_identity_number_nowhere


def through_provider(client: Browserless, start: str, person: PersonAtProvider, pid: str, eid: str = "minid"):  # type: ignore[no-untyped-def]
    """Open ``start`` in the portal, log in at the provider, and come back: the portal's answer."""
    began = client.get(start)
    assert began.status_code == 302, began.get_data(as_text=True)
    return client.get(person.log_in(began.location, pid, eid))


def invited(email: str, role: Role, organisation) -> User:  # type: ignore[no-untyped-def]
    user = factories.user(email, role, organisation, None, "Nina Ny", "Ordførar")
    db.session.commit()
    return user


def bind(user: User, pid: str) -> None:
    user.identity_hmac = identity_hmac(pid)
    db.session.commit()


def signed_in_as(client: Browserless) -> str | None:
    page = client.get("/agreements/")
    return None if page.status_code != 200 else page.get_data(as_text=True)


def test_an_invitation_is_accepted_with_the_provider_and_binds_the_identity(client, people, oidc):
    user = invited("ny@voss.example.org", Role.COORDINATOR, people.coordinator.organisation)
    person = PersonAtProvider(oidc)
    token = make_link_token(user, INVITATION)
    page = client.get(f"/invitation/{token}").get_data(as_text=True)
    assert f"/invitation/{token}/provider" in page  # the invitation offers the provider

    began = client.get(f"/invitation/{token}/provider")
    asked = parse_qs(urlsplit(began.location).query)
    assert asked["response_type"] == ["code"] and asked["client_id"] == [oidc.settings()["OIDC_CLIENT_ID"]]
    assert asked["code_challenge_method"] == ["S256"] and len(asked["code_challenge"][0]) >= 43
    assert asked["state"][0] and asked["nonce"][0] and asked["acr_values"] == ["idporten-loa-substantial"]
    assert asked["ui_locales"] == ["nb"] and "openid" in asked["scope"][0].split()
    answer = client.get(person.log_in(began.location, MAYOR_PID, "minid"))
    assert answer.status_code == 302 and answer.location == "/"
    assert "Nina Ny" in signed_in_as(client)

    db.session.expire_all()
    bound = db.session.get(User, user.id)
    assert bound.identity_hmac == identity_hmac(MAYOR_PID) and MAYOR_PID not in bound.identity_hmac
    assert bound.password_hash is None and bound.is_active
    record = db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    assert record.method == "provider" and record.acr == "idporten-loa-substantial" and record.amr == ["Minid-PIN"]
    assert record.sid and record.issuer == oidc.issuer

    # Signing out ends the session here and sends the browser to the provider's end_session_endpoint.
    out = client.submit("/sign-out", token_from="/agreements/")
    logout = urlsplit(out.location)
    assert f"{logout.scheme}://{logout.netloc}{logout.path}" == f"{oidc.issuer}/session/end"
    assert parse_qs(logout.query)["post_logout_redirect_uri"] == ["https://portal.test/sign-in"]
    assert parse_qs(logout.query)["id_token_hint"][0].count(".") == 2
    assert signed_in_as(client) is None

    # From now on the person signs in with the provider alone, and the invitation is spent.
    assert through_provider(client, "/sign-in/provider", person, MAYOR_PID).location == "/"
    assert "Nina Ny" in signed_in_as(client)
    stranger = Browserless(client.application.test_client())
    assert stranger.get(f"/invitation/{token}").status_code == 400
    assert stranger.get(f"/invitation/{token}/provider").status_code == 400


def test_the_signing_invitation_of_a_new_signatory_leads_through_the_provider(people, oidc, outbox):
    agreement = factories.complete_agreement(people.coordinator)
    invitations = signing.finalise(agreement, people.coordinator)
    db.session.commit()
    signing.send_signing_invitations(agreement, invitations, people.coordinator)
    mails = [email.message_from_bytes(path.read_bytes(), policy=email.policy.default).get_content() for path in outbox.glob("*.eml")]
    invitations = [mail for mail in mails if "/invitation/" in mail]
    assert len(mails) == 2 and len(invitations) == 2  # both signatories are new to the portal
    for mail in invitations:
        assert "prov kven du er med ID-porten" in mail and "passord" not in mail  # Voss writes nynorsk
        assert f"?next=/agreements/{agreement.id}/sign" in mail


@pytest.mark.parametrize("spoiled", ["nonce", "foreign-key", "expired"])
def test_an_id_token_that_fails_validation_is_refused(client, people, oidc, spoiled, caplog):
    bind(people.coordinator, MAYOR_PID)
    oidc.spoil_next_id_token(spoiled)
    answer = through_provider(client, "/sign-in/provider", PersonAtProvider(oidc), MAYOR_PID)
    assert answer.status_code == 400
    text = answer.get_data(as_text=True)
    assert "kunne ikke bekreftes" in text and "Traceback" not in text
    assert signed_in_as(client) is None
    assert db.session.scalar(select(UserSession)) is None


def test_a_wrong_state_is_refused(client, people, oidc):
    bind(people.coordinator, MAYOR_PID)
    began = client.get("/sign-in/provider")
    callback = PersonAtProvider(oidc).log_in(began.location, MAYOR_PID)
    state = parse_qs(urlsplit(callback).query)["state"][0]
    answer = client.get(callback.replace(f"state={state}", "state=not-the-state-we-sent"))
    assert answer.status_code == 400 and "hører ikke til" in answer.get_data(as_text=True)
    assert signed_in_as(client) is None


def test_a_replayed_code_is_refused_by_the_provider(client, people, oidc):
    bind(people.coordinator, MAYOR_PID)
    began = client.get("/sign-in/provider")
    callback = PersonAtProvider(oidc).log_in(began.location, MAYOR_PID)
    session_cookie = client.get_cookie("session").value  # what an attacker who also stole the cookie holds
    assert client.get(callback).status_code == 302
    assert signed_in_as(client)

    thief = Browserless(client.application.test_client())
    thief.set_cookie("session", session_cookie, domain="localhost")
    answer = thief.get(callback)  # the same state (with its PKCE verifier and nonce) and the spent code
    assert answer.status_code == 400 and "kunne ikke bekreftes" in answer.get_data(as_text=True)
    assert signed_in_as(thief) is None
    # And the plain replay, state and all, finds no sign-in under way.
    assert client.get(callback).status_code == 400


def test_a_signing_key_rotated_at_the_provider_is_fetched_again(client, people, oidc):
    bind(people.coordinator, MAYOR_PID)
    assert through_provider(client, "/sign-in/provider", PersonAtProvider(oidc), MAYOR_PID).status_code == 302
    oidc.restart()  # new keys under new key ids; the portal has the old JWKS cached
    other = Browserless(client.application.test_client())
    assert through_provider(other, "/sign-in/provider", PersonAtProvider(oidc), MAYOR_PID).status_code == 302
    assert signed_in_as(other)


def test_private_key_jwt_client_authentication(app, client, people, oidc):
    app.config.update(oidc.settings(private_key_jwt=True))
    bind(people.coordinator, MAYOR_PID)
    answer = through_provider(client, "/sign-in/provider", PersonAtProvider(oidc), MAYOR_PID)
    assert answer.status_code == 302 and signed_in_as(client)


def test_an_identity_bound_to_another_account_is_refused(client, people, oidc):
    bind(people.mayor, MAYOR_PID)
    newcomer = invited("ny@voss.example.org", Role.SIGNATORY, people.mayor.organisation)
    token = make_link_token(newcomer, INVITATION)
    answer = through_provider(client, f"/invitation/{token}/provider", PersonAtProvider(oidc), MAYOR_PID)
    assert answer.status_code == 409
    assert "allerede knyttet til en annen konto" in answer.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, newcomer.id).identity_hmac is None
    assert signed_in_as(client) is None


def test_an_unknown_identity_is_not_signed_in(client, people, oidc):
    answer = through_provider(client, "/sign-in/provider", PersonAtProvider(oidc), OTHER_PID)
    assert answer.status_code == 403 and "Ingen konto" in answer.get_data(as_text=True)
    assert signed_in_as(client) is None


@pytest.fixture
def open_for_signing(people):  # type: ignore[no-untyped-def]
    agreement = factories.finalised_agreement(people.coordinator, people.mayor, people.station_chief)
    bind(people.mayor, MAYOR_PID)
    return agreement


def test_signing_needs_a_recent_high_level_authentication(client, people, oidc, open_for_signing, outbox, caplog):
    caplog.set_level(logging.DEBUG)
    agreement = open_for_signing
    person = PersonAtProvider(oidc)
    assert through_provider(client, "/sign-in/provider", person, MAYOR_PID, "minid").status_code == 302
    sign_page = f"/agreements/{agreement.id}/sign"

    page = client.get(sign_page).get_data(as_text=True)
    assert 'id="step-up"' in page and 'name="key_source"' not in page  # substantial is not enough to sign
    refused = client.submit(sign_page, {"key_source": "portal"}, token_from=sign_page)
    assert refused.status_code == 302 and refused.location == f"{sign_page}/step-up"

    began = client.get(f"{sign_page}/step-up")
    asked = parse_qs(urlsplit(began.location).query)
    assert asked["acr_values"] == ["idporten-loa-high"] and asked["prompt"] == ["login"] and asked["max_age"] == ["300"]
    back = client.get(person.log_in(began.location, MAYOR_PID, "bankid"))
    assert back.status_code == 302 and back.location == sign_page  # back on the same signing page
    assert person.login_pages == 2  # prompt=login: the provider asked again

    page = client.get(sign_page).get_data(as_text=True)
    assert 'name="key_source"' in page and 'name="password"' not in page
    signed = client.submit(sign_page, {"key_source": "portal"})
    assert signed.status_code == 302, signed.get_data(as_text=True)

    db.session.expire_all()
    slot = db.session.scalar(select(SignatureSlot).where(SignatureSlot.agreement_id == agreement.id, SignatureSlot.user_id == people.mayor.id))
    assert slot.signed_at is not None and slot.authentication_acr == "idporten-loa-high" and slot.authentication_amr == ["BankID"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.agreement_id == agreement.id, AuditEvent.action == "signed"))
    assert "acr idporten-loa-high; amr BankID; authenticated 20" in event.detail
    assert "idporten-loa-high" in client.get(f"/agreements/{agreement.id}").get_data(as_text=True)
    assert_identity_number_nowhere(MAYOR_PID, outbox, caplog.text)


def test_a_step_up_at_too_low_a_level_or_by_another_person_is_refused(client, people, oidc, open_for_signing):
    agreement = open_for_signing
    sign_page = f"/agreements/{agreement.id}/sign"
    assert through_provider(client, "/sign-in/provider", PersonAtProvider(oidc), MAYOR_PID, "bankid").status_code == 302
    db.session.execute(UserSession.__table__.update().values(authenticated_at=datetime.now(timezone.utc) - timedelta(hours=1)))
    db.session.commit()
    assert 'id="step-up"' in client.get(sign_page).get_data(as_text=True)  # too old

    low = through_provider(client, f"{sign_page}/step-up", PersonAtProvider(oidc), MAYOR_PID, "minid")
    assert low.status_code == 400 and "lavere sikkerhetsnivå" in low.get_data(as_text=True)
    other = through_provider(client, f"{sign_page}/step-up", PersonAtProvider(oidc), OTHER_PID, "bankid")
    assert other.status_code == 403 and "en annen person" in other.get_data(as_text=True)
    assert 'id="step-up"' in client.get(sign_page).get_data(as_text=True)  # still not allowed to sign
    db.session.expire_all()
    assert all(slot.signed_at is None for slot in db.session.get(type(agreement), agreement.id).signature_slots)


def test_front_channel_logout_ends_exactly_that_session(app, people, oidc):
    bind(people.mayor, MAYOR_PID)
    bind(people.station_chief, CHIEF_PID)
    mayor, chief = (Browserless(app.test_client()) for _ in range(2))
    assert through_provider(mayor, "/sign-in/provider", PersonAtProvider(oidc), MAYOR_PID).status_code == 302
    assert through_provider(chief, "/sign-in/provider", PersonAtProvider(oidc), CHIEF_PID).status_code == 302
    mayor_session = db.session.scalar(select(UserSession).where(UserSession.user_id == people.mayor.id))
    assert mayor_session.sid

    assert mayor.get(f"/logout/frontchannel?iss=http://elsewhere.test&sid={mayor_session.sid}").status_code == 400
    assert signed_in_as(mayor)
    ended = chief.get(f"/logout/frontchannel?iss={oidc.issuer}&sid={mayor_session.sid}")  # from any browser: the provider's iframe
    assert ended.status_code == 200
    assert f"frame-ancestors {oidc.issuer}" in ended.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in ended.headers

    assert signed_in_as(mayor) is None
    assert mayor.get("/agreements/").location.startswith("/sign-in")
    assert signed_in_as(chief)
    db.session.expire_all()
    assert db.session.get(UserSession, mayor_session.id).ended_by == "front-channel"


def test_an_administrator_ends_a_persons_sessions(app, client, people):
    mayor = Browserless(app.test_client())
    mayor.sign_in(people.mayor)
    assert signed_in_as(mayor)
    client.sign_in(people.administrator)
    assert "Avslutt øktene" in client.get("/admin/users").get_data(as_text=True)
    answer = client.submit(f"/admin/users/{people.mayor.id}/sessions/end", token_from="/admin/users")
    assert answer.status_code == 302
    assert signed_in_as(mayor) is None
    assert signed_in_as(client)  # the administrator's own session goes on


def test_the_provider_down_gives_a_clear_page(app, client, people, oidc):
    from .conftest import free_port

    app.config["OIDC_ISSUER"] = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    answer = client.get("/sign-in/provider")
    text = answer.get_data(as_text=True)
    assert answer.status_code == 503
    assert "ID-porten kan ikke nås" in text and "Traceback" not in text and "ConnectionError" not in text


def test_passwords_can_be_turned_off_for_signatories_or_everyone(app, client, people, oidc):
    app.config["PASSWORD_SIGN_IN"] = "off-for-signatories"
    token = client.csrf_token()
    refused = client.post("/sign-in", data={"email": people.mayor.email, "password": "riktig hest batteri stift", "csrf_token": token})
    assert refused.status_code == 400 and "signerer logger inn med ID-porten" in refused.get_data(as_text=True)
    client.sign_in(people.coordinator)  # others still may

    app.config["PASSWORD_SIGN_IN"] = "off"
    client.delete_cookie("session")
    page = client.get("/sign-in").get_data(as_text=True)
    assert 'id="sign-in-with-provider"' in page and 'name="password"' not in page
    refused = client.post("/sign-in", data={"email": people.coordinator.email, "password": "riktig hest batteri stift",
                                            "csrf_token": csrf_token_from(page)})
    assert refused.status_code == 400 and signed_in_as(client) is None


def test_without_a_provider_passwords_stay_and_no_provider_is_offered(client, people):
    page = client.get("/sign-in").get_data(as_text=True)
    assert 'name="password"' in page and "sign-in-with-provider" not in page
    assert client.get("/sign-in/provider").status_code == 404


def test_assurance_levels_are_judged_in_the_configured_order(app):
    from portal.auth.provider import acr_at_least

    assert acr_at_least("idporten-loa-high", "idporten-loa-substantial")
    assert not acr_at_least("idporten-loa-substantial", "idporten-loa-high")
    assert not acr_at_least("Level4", "idporten-loa-high") and not acr_at_least(None, "idporten-loa-high")
    assert acr_at_least(None, "")  # no level asked for (Entra ID): none is checked
    saved = app.config["OIDC_ACR_LEVELS"]
    app.config["OIDC_ACR_LEVELS"] = "low substantial high"  # Ansattporten's words
    try:
        assert acr_at_least("high", "substantial") and not acr_at_least("substantial", "high")
    finally:
        app.config["OIDC_ACR_LEVELS"] = saved
