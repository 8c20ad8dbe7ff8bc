"""Every e-mail about an agreement is in one written standard, the agreement's, and names the organisation
it is sent for, the agreement, the deadline where there is one, and a person to contact (issue 9, item 6)."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from portal import clock
from portal.agreements.reminders import send_due_reminders
from portal.extensions import db
from portal.models import AgreementStatus, MemberRole, WrittenStandard

from . import factories

#: Words that belong to one written standard only: an e-mail in the other must not use them.
BOKMAL_ONLY = ("ikke", "fra", "innen", "dager", "lenken", "velg", "ennå", "hvert", "begrunnelsen", "endrer", "en koordinator")
NYNORSK_ONLY = ("ikkje", "frå", "innan", "dagar", "lenkja", "vel", "enno", "kvart", "grunngjevinga", "endrar", "ein koordinator")


def words_of(message) -> str:  # type: ignore[no-untyped-def]
    """Subject and text, without the links and the e-mail addresses (they are not words)."""
    text = f"{message['Subject']}\n{message.get_content()}"
    return re.sub(r"\S+@\S+|https?://\S+", " ", text).lower()


def assert_one_standard(message, standard: WrittenStandard) -> None:  # type: ignore[no-untyped-def]
    text = words_of(message)
    foreign = NYNORSK_ONLY if standard is WrittenStandard.BOKMAL else BOKMAL_ONLY
    found = [word for word in foreign if re.search(rf"\b{word}\b", text)]
    assert found == [], (found, text)


@pytest.mark.parametrize("standard", [WrittenStandard.NYNORSK, WrittenStandard.BOKMAL])
def test_the_signing_email_is_in_the_agreements_standard_and_says_who_what_by_when_and_whom_to_ask(client, people, smtp_server, standard):
    agreement = factories.complete_agreement(people.coordinator, standard=standard)
    agreement.start_date = clock.today() + timedelta(days=30)
    for member in agreement.members:
        if member.role is MemberRole.STATION_CHIEF:  # an existing account, named as in the agreement
            member.email, member.name = people.station_chief.email, people.station_chief.name
    db.session.commit()
    client.sign_in(people.coordinator)
    assert client.submit(f"/agreements/{agreement.id}/finalise", token_from=f"/agreements/{agreement.id}").status_code == 302
    by_address = {message["To"]: message for message in smtp_server.messages}
    new_mayor, chief = by_address["ordforar.4621@example.org"], by_address[people.station_chief.email]
    deadline = f"{agreement.start_date.day}. "
    for message in (new_mayor, chief):
        assert_one_standard(message, standard)
        text = message.get_content()
        assert "Voss kommune" in message["Subject"] and agreement.reference in message["Subject"]
        assert "Samarbeidsavtale mellom Voss kommune og Vest politidistrikt" in text
        assert deadline in text and str(agreement.start_date.year) in text
        assert people.coordinator.name in text and people.coordinator.email in text  # the contact person
        assert "Politirådsportalen" in text and "Voss kommune" in text.split("-- ")[-1]  # the sender
    assert "/invitation/" in new_mayor.get_content() and "/invitation/" not in chief.get_content()


def test_the_decline_email_is_in_the_agreements_standard_and_names_whom_to_ask(client, people, smtp_server):
    agreement = factories.finalised_agreement(people.coordinator, people.mayor, people.station_chief)
    smtp_server.messages.clear()
    client.sign_in(people.station_chief)
    client.submit(f"/agreements/{agreement.id}/decline", {"reason": "Politikontakten manglar."},
                  token_from=f"/agreements/{agreement.id}/sign")
    [message] = [m for m in smtp_server.messages if people.coordinator.email in m["To"]]
    assert_one_standard(message, WrittenStandard.NYNORSK)
    text = message.get_content()
    assert "Avslått" in message["Subject"] and agreement.reference in message["Subject"]
    assert "Politikontakten manglar." in text and "Samarbeidsavtale mellom Voss kommune og Vest politidistrikt" in text
    assert people.station_chief.name in text and people.station_chief.email in text


def test_the_renewal_reminder_is_in_the_agreements_standard_and_names_whom_to_ask(people, smtp_server):
    agreement = factories.complete_agreement(people.coordinator, standard=WrittenStandard.BOKMAL)
    agreement.status = AgreementStatus.ACTIVE
    factories.put_in_force(agreement, clock.today() - timedelta(days=320))
    db.session.commit()
    send_due_reminders(clock.today())
    [message] = smtp_server.messages
    assert_one_standard(message, WrittenStandard.BOKMAL)
    text = message.get_content()
    assert agreement.renewal_due_on.strftime("%d.%m.%Y") in text  # the deadline
    assert "Samarbeidsavtale mellom Voss kommune og Vest politidistrikt" in text
    assert people.coordinator.name in text and people.coordinator.email in text
