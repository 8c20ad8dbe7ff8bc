"""Twelve calendar months after the last signature an agreement is due for renewal: marked once, by a
command safe to run again and on several servers at once, and shown right even before it has run."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.agreements.renewals import mark_due_renewals, mark_expired, twelve_months_after
from portal.extensions import db
from portal.models import Agreement, AgreementStatus, AuditEvent

from . import factories
from .conftest import at_the_same_moment


@pytest.mark.parametrize(("signed", "due"), [
    (date(2025, 11, 23), date(2026, 11, 23)),
    (date(2024, 2, 29), date(2025, 2, 28)),  # leap day: the next year has no 29 February
    (date(2023, 2, 28), date(2024, 2, 28)),  # not moved to the leap year's 29th
    (date(2025, 1, 31), date(2026, 1, 31)),  # month end stays the month end
    (date(2025, 12, 31), date(2026, 12, 31)),  # year end
])
def test_the_renewal_date_is_twelve_calendar_months_later(signed, due):
    assert twelve_months_after(signed) == due


def active_agreement(people, signed_on: date) -> Agreement:  # type: ignore[no-untyped-def]
    agreement = factories.complete_agreement(people.coordinator)
    agreement.status = AgreementStatus.ACTIVE
    factories.put_in_force(agreement, signed_on)
    db.session.commit()
    return agreement


def renewal_events(agreement_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.agreement_id == agreement_id, AuditEvent.action == "renewal_due"))


def test_an_agreement_is_marked_on_exactly_the_day_twelve_months_after_its_last_signature(people):
    agreement = active_agreement(people, date(2024, 2, 29))
    assert mark_due_renewals(date(2025, 2, 27)) == []
    assert mark_due_renewals(date(2025, 2, 28)) == [agreement.id]
    db.session.expire_all()
    assert db.session.get(Agreement, agreement.id).status is AgreementStatus.RENEWAL_DUE
    assert renewal_events(agreement.id) == 1


def test_running_the_command_again_marks_nothing_more(people):
    agreement = active_agreement(people, date(2025, 5, 1))
    assert mark_due_renewals(date(2026, 6, 1)) == [agreement.id]
    assert mark_due_renewals(date(2026, 6, 1)) == []
    assert mark_due_renewals(date(2026, 6, 2)) == []
    assert renewal_events(agreement.id) == 1


def test_only_active_agreements_are_marked(people):
    draft = factories.complete_agreement(people.coordinator)
    draft.renewal_due_on = date(2020, 1, 1)  # a draft is never due, whatever its dates say
    db.session.commit()
    assert mark_due_renewals(date(2026, 1, 1)) == []


def test_the_state_is_right_before_the_command_has_run(people):
    agreement = active_agreement(people, date(2025, 3, 31))
    assert agreement.status_on(date(2026, 3, 30)) is AgreementStatus.ACTIVE
    assert agreement.status_on(date(2026, 3, 31)) is AgreementStatus.RENEWAL_DUE
    assert agreement.status is AgreementStatus.ACTIVE  # nothing stored until the command runs


def test_an_agreement_not_renewed_within_twelve_months_of_its_renewal_date_expires(people):
    agreement = active_agreement(people, date(2023, 2, 28))  # due 28 February 2024, expires 28 February 2025
    assert agreement.status_on(date(2025, 2, 27)) is AgreementStatus.RENEWAL_DUE
    assert agreement.status_on(date(2025, 2, 28)) is AgreementStatus.EXPIRED  # shown before the command runs
    assert mark_expired(date(2025, 2, 27)) == []
    assert mark_due_renewals(date(2025, 2, 28)) == [agreement.id]
    assert mark_expired(date(2025, 2, 28)) == [agreement.id]
    assert mark_expired(date(2025, 3, 1)) == []  # once
    db.session.expire_all()
    assert db.session.get(Agreement, agreement.id).status is AgreementStatus.EXPIRED
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.agreement_id == agreement.id, AuditEvent.action == "expired")) == 1


def test_expiry_counts_calendar_months_from_a_leap_day(people):
    agreement = active_agreement(people, date(2023, 2, 28))
    agreement.renewal_due_on = date(2024, 2, 29)
    db.session.commit()
    assert agreement.expires_on == date(2025, 2, 28)
    assert mark_expired(date(2025, 2, 27)) == []
    assert mark_expired(date(2025, 2, 28)) == [agreement.id]


def test_two_runs_at_the_same_moment_mark_each_agreement_once(app, people):
    agreements = [active_agreement(people, date(2025, 1, 15)) for _ in range(5)]
    results = at_the_same_moment(app, lambda: mark_due_renewals(date(2026, 1, 15)), timeout=60)
    marked = sorted(results[0] + results[1])
    assert marked == sorted(a.id for a in agreements)  # every one marked, none twice
    assert all(renewal_events(a.id) == 1 for a in agreements)


def test_the_cron_command_reports_what_it_marked(app, people):
    agreement = active_agreement(people, date.today() - timedelta(days=400))
    result = app.test_cli_runner().invoke(args=["renewals"])
    assert result.exit_code == 0
    assert "1 agreement(s) marked for renewal" in result.output
    assert app.test_cli_runner().invoke(args=["renewals"]).output.startswith("0 agreement(s)")
    db.session.expire_all()
    assert db.session.get(Agreement, agreement.id).status is AgreementStatus.RENEWAL_DUE
