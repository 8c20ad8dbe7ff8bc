"""Signing in and out, lock-out after repeated failures, and what the session cookie promises."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import update

from portal.extensions import db
from portal.models import User

from .conftest import PASSWORD, csrf_token_from


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


STRANGER = {"REMOTE_ADDR": "203.0.113.66"}
OWNER = {"REMOTE_ADDR": "198.51.100.7"}


def sign_in_from(client, address: dict[str, str], email: str, password: str):  # type: ignore[no-untyped-def]
    """A sign-in attempt from the client address in ``address``."""
    token = csrf_token_from(client.get("/sign-in", environ_base=address).get_data(as_text=True))
    return client.post("/sign-in", data={"email": email, "password": password, "csrf_token": token}, environ_base=address)


def test_five_failures_stop_the_guesser_even_with_the_right_password(client, people, app):
    for _ in range(app.config["LOCKOUT_THRESHOLD"]):
        sign_in_from(client, STRANGER, people.coordinator.email, "gjett")
    stopped = sign_in_from(client, STRANGER, people.coordinator.email, PASSWORD)
    assert stopped.status_code == 400 and client.get("/agreements/").status_code == 302


def test_the_lock_out_answers_alike_for_existing_and_unknown_accounts(client, people, app):
    """The sixth wrong password for a real account reads exactly as for an address nobody has (issue 9, item 5)."""
    answers = {}
    for email in (people.mayor.email, "ingen.ordforar@example.org"):
        client.delete_cookie("session")
        answers[email] = [(response.status_code, _alert_text(response)) for response in
                          (sign_in_from(client, STRANGER, email, "gjett") for _ in range(app.config["LOCKOUT_THRESHOLD"] + 1))]
    existing, unknown = answers.values()
    assert existing == unknown
    assert {status for status, _text in existing} == {400} and len({text for _status, text in existing}) == 1


def test_a_stranger_cannot_lock_the_owner_out_of_signing_in(client, people, app):
    for _ in range(app.config["LOCKOUT_THRESHOLD"] + 1):
        sign_in_from(client, STRANGER, people.mayor.email, "gjett")
    assert sign_in_from(client, STRANGER, people.mayor.email, PASSWORD).status_code == 400
    client.delete_cookie("session")
    assert sign_in_from(client, OWNER, people.mayor.email, PASSWORD).status_code == 302


def test_one_address_guessing_over_many_accounts_is_stopped_too(client, people, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOCKOUT_ADDRESS_THRESHOLD", 6)  # fewer slow argon2 checks than the default 20
    for number in range(app.config["LOCKOUT_ADDRESS_THRESHOLD"]):
        sign_in_from(client, STRANGER, f"person{number}@example.org", "gjett")
    assert sign_in_from(client, STRANGER, people.coordinator.email, PASSWORD).status_code == 400
    assert sign_in_from(client, OWNER, people.coordinator.email, PASSWORD).status_code == 302


def test_an_unknown_account_costs_one_argon2_verification_like_a_real_one(client, people, monkeypatch):
    """The same work, so the same time (the figures: tests/bench/bench_sign_in.py)."""
    from portal.auth import passwords

    calls: list[str] = []
    real = passwords._hasher

    class CountingHasher:
        def verify(self, stored: str, password: str) -> bool:
            calls.append(stored)
            return real.verify(stored, password)

        def hash(self, password: str) -> str:
            return real.hash(password)

    monkeypatch.setattr(passwords, "_hasher", CountingHasher())
    for email in (people.coordinator.email, "ingen@example.org"):
        sign_in_from(client, STRANGER, email, "gjett")
    assert len(calls) == 2 and all(stored.startswith("$argon2id$") for stored in calls)


def test_the_throttle_lifts_when_its_time_is_up_and_a_new_password_lifts_it_at_once(client, people, app):
    from portal.models import PasswordFailure

    for _ in range(app.config["LOCKOUT_THRESHOLD"]):
        sign_in_from(client, STRANGER, people.coordinator.email, "gjett")
    db.session.execute(update(PasswordFailure).values(at=datetime.now(timezone.utc) - timedelta(minutes=app.config["LOCKOUT_MINUTES"], seconds=1)))
    db.session.commit()
    assert sign_in_from(client, STRANGER, people.coordinator.email, PASSWORD).status_code == 302

    from portal.auth.passwords import set_password

    client.delete_cookie("session")
    for _ in range(app.config["LOCKOUT_THRESHOLD"]):
        sign_in_from(client, STRANGER, people.coordinator.email, "gjett")
    set_password(db.session.get(User, people.coordinator.id), PASSWORD)
    db.session.commit()
    assert sign_in_from(client, STRANGER, people.coordinator.email, PASSWORD).status_code == 302


def test_a_successful_sign_in_resets_the_failure_count(client, people, app):
    for _ in range(app.config["LOCKOUT_THRESHOLD"] - 1):
        sign_in_from(client, STRANGER, people.coordinator.email, "gjett")
    assert sign_in_from(client, STRANGER, people.coordinator.email, PASSWORD).status_code == 302
    client.delete_cookie("session")
    for _ in range(app.config["LOCKOUT_THRESHOLD"] - 1):
        sign_in_from(client, STRANGER, people.coordinator.email, "gjett")
    assert sign_in_from(client, STRANGER, people.coordinator.email, PASSWORD).status_code == 302


def test_passwords_are_stored_as_argon2id_hashes(client, people, password_hash):
    """A password the portal stores itself (the people's is the suite's cheap hash, see conftest.py), at
    the portal's argon2id cost, and good for signing in."""
    from argon2 import PasswordHasher

    from portal.auth.passwords import set_password

    set_password(people.coordinator, PASSWORD)
    db.session.commit()
    stored = db.session.get(User, people.coordinator.id).password_hash
    assert stored.startswith("$argon2id$") and stored != password_hash
    assert PASSWORD not in stored
    assert not PasswordHasher().check_needs_rehash(stored)  # argon2-cffi's recommended cost, not the suite's
    assert sign_in_from(client, OWNER, people.coordinator.email, PASSWORD).status_code == 302


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
