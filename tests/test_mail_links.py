"""Password reset and invitations: links by e-mail through a real SMTP server, valid once and for a while."""
from sqlalchemy import select

from portal.extensions import db
from portal.models import Role, User

from .conftest import PASSWORD, link_in

NEW_PASSWORD = "et nytt og langt passord"


def test_a_reset_link_is_mailed_and_sets_a_new_password_once(client, people, smtp_server):
    response = client.submit("/password-reset", {"email": people.coordinator.email})
    assert response.status_code == 200
    [message] = smtp_server.messages
    assert message["X-Envelope-To"] == people.coordinator.email
    assert message["To"] == people.coordinator.email
    link = link_in(message)

    assert client.get(link).status_code == 200
    changed = client.submit(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert changed.status_code == 302
    assert client.submit("/sign-in", {"email": people.coordinator.email, "password": PASSWORD}).status_code == 400
    assert client.submit("/sign-in", {"email": people.coordinator.email, "password": NEW_PASSWORD}).status_code == 302

    used_again = client.get(link)
    assert used_again.status_code == 400  # the link is spent once the password has changed


def test_an_unknown_address_gets_the_same_page_and_no_mail(client, people, smtp_server):
    known = client.submit("/password-reset", {"email": people.coordinator.email})
    unknown = client.submit("/password-reset", {"email": "ingen@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert len(smtp_server.messages) == 1


def test_a_forged_or_expired_reset_link_is_refused(client, people, app, smtp_server):
    client.submit("/password-reset", {"email": people.coordinator.email})
    link = link_in(smtp_server.messages[0])
    assert client.get(link[:-3] + "abc").status_code == 400
    saved = app.config["PASSWORD_RESET_MAX_AGE_HOURS"]
    app.config["PASSWORD_RESET_MAX_AGE_HOURS"] = -1
    try:
        assert client.get(link).status_code == 400
    finally:
        app.config["PASSWORD_RESET_MAX_AGE_HOURS"] = saved


def test_a_short_or_mismatched_new_password_is_refused_and_nothing_changes(client, people, smtp_server):
    client.submit("/password-reset", {"email": people.coordinator.email})
    link = link_in(smtp_server.messages[0])
    short = client.submit(link, {"password": "kort", "confirm": "kort"})
    mismatch = client.submit(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"})
    assert short.status_code == mismatch.status_code == 400
    assert client.submit("/sign-in", {"email": people.coordinator.email, "password": PASSWORD}).status_code == 302


def test_an_administrator_invites_a_person_who_chooses_a_password(client, people, smtp_server):
    client.sign_in(people.administrator)
    response = client.submit("/admin/users/invite", {
        "name": "Nina Ny", "email": "nina.ny@voss.example.org", "title": "Kommunalsjef", "role": "coordinator",
    })
    assert response.status_code == 302
    invited = db.session.scalar(select(User).where(User.email == "nina.ny@voss.example.org"))
    assert invited.role is Role.COORDINATOR
    assert invited.organisation_id == people.administrator.organisation_id
    assert invited.password_hash is None

    [message] = smtp_server.messages
    assert message["To"] == "nina.ny@voss.example.org"
    assert "Adam Admin" in message.get_content()
    link = link_in(message)

    newcomer = client.application.test_client()
    from .conftest import Browserless

    newcomer = Browserless(newcomer)
    accepted = newcomer.submit(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert accepted.status_code == 302
    assert newcomer.get("/agreements/").status_code == 200  # signed in
    assert newcomer.get(link).status_code == 400  # the invitation works once


def test_an_address_that_has_an_account_cannot_be_invited_again(client, people, smtp_server):
    client.sign_in(people.administrator)
    response = client.submit("/admin/users/invite", {
        "name": "Kari igjen", "email": people.coordinator.email.upper(), "role": "coordinator",
    })
    assert response.status_code == 400
    assert smtp_server.messages == []


def test_without_an_smtp_server_mail_goes_to_the_outbox_folder(client, people, outbox):
    client.submit("/password-reset", {"email": people.coordinator.email})
    [saved] = list(outbox.glob("*.eml"))
    text = saved.read_text()
    assert f"To: {people.coordinator.email}" in text
    assert "/password-reset/" in text
