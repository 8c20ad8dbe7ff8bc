"""Renewal reminders through a real SMTP server: the right people, the right words, and never twice."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from portal.agreements.reminders import send_due_reminders
from portal.extensions import db
from portal.models import AgreementStatus, RenewalReminder

from . import factories

SIGNED = date(2025, 6, 10)
DUE = date(2026, 6, 10)


def active_agreement(people):  # type: ignore[no-untyped-def]
    agreement = factories.complete_agreement(people.coordinator, municipality_numbers=(factories.VOSS, factories.ULVIK))
    agreement.status = AgreementStatus.ACTIVE
    factories.put_in_force(agreement, SIGNED)
    db.session.commit()
    return agreement


def test_reminders_go_60_and_30_days_before_and_on_the_day_each_once(people, smtp_server):
    agreement = active_agreement(people)
    assert send_due_reminders(DUE - timedelta(days=61)) == []
    assert send_due_reminders(DUE - timedelta(days=60)) == [(agreement.id, 60)]
    assert send_due_reminders(DUE - timedelta(days=59)) == []
    assert send_due_reminders(DUE - timedelta(days=30)) == [(agreement.id, 30)]
    assert send_due_reminders(DUE) == [(agreement.id, 0)]
    assert send_due_reminders(DUE) == []
    assert send_due_reminders(DUE + timedelta(days=5)) == []
    assert len(smtp_server.messages) == 3


def test_the_reminder_reaches_the_coordinators_and_the_signatories_in_the_agreements_language(people, smtp_server):
    agreement = active_agreement(people)
    send_due_reminders(DUE - timedelta(days=30))
    [message] = smtp_server.messages
    recipients = set(message["X-Envelope-To"].split(", "))
    assert recipients == {
        people.coordinator.email, people.police_coordinator.email,  # both sides' coordinators
        "ordforar.4621@example.org", "ordforar.4620@example.org", "kari.nordmann@politiet.example.org",  # the signatories
    }
    assert people.other_coordinator.email not in recipients  # Bergen is no party
    text = message.get_content()
    assert "10.06.2026" in message["Subject"]
    assert agreement.reference in text and "Voss kommune, Ulvik kommune og Vest politidistrikt" in text and "Voss og Ulvik" in message["Subject"]
    assert f"https://portal.test/agreements/{agreement.id}" in text
    assert "The politiråd agreement" not in message["Subject"]  # nynorsk agreement, nynorsk reminder


def test_after_a_pause_only_the_latest_reminder_goes_out(people, smtp_server):
    agreement = active_agreement(people)
    assert send_due_reminders(DUE - timedelta(days=10)) == [(agreement.id, 30)]
    assert len(smtp_server.messages) == 1
    recorded = db.session.scalars(select(RenewalReminder.days_before).where(RenewalReminder.agreement_id == agreement.id)).all()
    assert sorted(recorded) == [30, 60]
    assert send_due_reminders(DUE - timedelta(days=9)) == []


def test_drafts_and_superseded_agreements_get_no_reminders(people, smtp_server):
    agreement = active_agreement(people)
    agreement.status = AgreementStatus.SUPERSEDED
    db.session.commit()
    assert send_due_reminders(DUE) == []
    assert smtp_server.messages == []
    assert db.session.scalar(select(func.count()).select_from(RenewalReminder)) == 0


def test_the_cron_command_sends_through_the_mail_service(app, people, outbox):
    active_agreement(people)
    result = app.test_cli_runner().invoke(args=["renewals", "--today", DUE.isoformat()])
    assert result.exit_code == 0, result.output
    assert "1 agreement(s) marked for renewal" in result.output
    assert "1 renewal reminder(s) sent" in result.output
    assert len(list(outbox.glob("*.eml"))) == 1
