"""Signing in and out, lock-out after repeated failures, and what the session cookie promises."""
from datetime import datetime, timedelta, timezone

from portal.extensions import db
from portal.models import User

from .conftest import PASSWORD


def test_a_coordinator_signs_in_and_lands_on_the_agreements(client, people):
    response = client.submit("/sign-in", {"email": people.coordinator.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(response.location).status_code in (200, 302)
    page = client.get("/agreements/")
    assert page.status_code == 200
    assert "Kari Koordinator" in page.get_data(as_text=True)


def test_the_e_mail_address_is_not_case_sensitive(client, people):
    response = client.submit("/sign-in", {"email": people.coordinator.email.upper(), "password": PASSWORD})
    assert response.status_code == 302


def test_a_wrong_password_and_an_unknown_address_get_the_same_answer(client, people):
    wrong = client.submit("/sign-in", {"email": people.coordinator.email, "password": "feil passord"})
    unknown = client.submit("/sign-in", {"email": "ingen@example.org", "password": "feil passord"})
    assert wrong.status_code == unknown.status_code == 400
    assert "or the password is wrong" in wrong.get_data(as_text=True) or "passordet er feil" in wrong.get_data(as_text=True)
    assert _alert_text(wrong) == _alert_text(unknown)
    assert client.get("/agreements/").status_code == 302  # still signed out


def _alert_text(response) -> str:  # type: ignore[no-untyped-def]
    html = response.get_data(as_text=True)
    start = html.index('data-color="danger"')
    return html[start:html.index("</div>", start)]


def test_empty_fields_are_named_in_the_error_summary(client, people):
    response = client.submit("/sign-in", {"email": "", "password": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'class="ds-error-summary"' in html
    assert 'href="#email"' in html and 'href="#password"' in html


def test_five_failures_lock_the_account_even_for_the_right_password(client, people, app):
    for _ in range(app.config["LOCKOUT_THRESHOLD"]):
        client.submit("/sign-in", {"email": people.coordinator.email, "password": "gjett"})
    locked = client.submit("/sign-in", {"email": people.coordinator.email, "password": PASSWORD})
    assert locked.status_code == 400
    assert "locked" in locked.get_data(as_text=True) or "låst" in locked.get_data(as_text=True)
    user = db.session.get(User, people.coordinator.id)
    db.session.refresh(user)
    assert user.locked_until is not None


def test_the_lock_lifts_when_its_time_is_up(client, people, app):
    for _ in range(app.config["LOCKOUT_THRESHOLD"]):
        client.submit("/sign-in", {"email": people.coordinator.email, "password": "gjett"})
    user = db.session.get(User, people.coordinator.id)
    user.locked_until = datetime.now(timezone.utc) - timedelta(seconds=1)
    db.session.commit()
    assert client.submit("/sign-in", {"email": people.coordinator.email, "password": PASSWORD}).status_code == 302


def test_a_successful_sign_in_resets_the_failure_count(client, people, app):
    for _ in range(app.config["LOCKOUT_THRESHOLD"] - 1):
        client.submit("/sign-in", {"email": people.coordinator.email, "password": "gjett"})
    client.sign_in(people.coordinator)
    user = db.session.get(User, people.coordinator.id)
    db.session.refresh(user)
    assert user.failed_sign_ins == 0


def test_passwords_are_stored_as_argon2id_hashes(people):
    assert people.coordinator.password_hash.startswith("$argon2id$")
    assert PASSWORD not in people.coordinator.password_hash


def test_the_session_cookie_is_secure_http_only_and_same_site(client, people):
    response = client.submit("/sign-in", {"email": people.coordinator.email, "password": PASSWORD})
    cookie = next(value for value in response.headers.getlist("Set-Cookie") if value.startswith("session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_sign_out_ends_the_session(client, people):
    client.sign_in(people.coordinator)
    response = client.submit("/sign-out", token_from="/agreements/")
    assert response.status_code == 302
    assert client.get("/agreements/").status_code == 302


def test_sign_in_does_not_redirect_to_another_site(client, people):
    token = client.csrf_token()
    response = client.post("/sign-in?next=https://evil.example/", data={"email": people.coordinator.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert response.location == "/" or response.location.endswith("/")
    assert "evil" not in response.location


def test_sign_in_returns_to_the_page_asked_for(client, people):
    token = client.csrf_token()
    response = client.post("/sign-in?next=/agreements/", data={"email": people.coordinator.email, "password": PASSWORD, "csrf_token": token})
    assert response.location == "/agreements/"


def test_an_invited_person_without_a_password_cannot_sign_in(client, people, password_hash):
    people.mayor.password_hash = None
    db.session.commit()
    response = client.submit("/sign-in", {"email": people.mayor.email, "password": PASSWORD})
    assert response.status_code == 400


def test_the_chosen_language_survives_signing_in_and_out(client, people):
    client.choose_language("nn")
    assert client.submit("/sign-in", {"email": people.coordinator.email, "password": PASSWORD}).status_code == 302
    assert '<html lang="nn"' in client.get("/agreements/").get_data(as_text=True)
    client.submit("/sign-out", token_from="/agreements/")
    assert '<html lang="nn"' in client.get("/sign-in").get_data(as_text=True)
