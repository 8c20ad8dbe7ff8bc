"""One date is in force: the agreement's own start date, or its last signature when that is later. The
renewal date follows from it, and the pages, the dashboard, the archive, the exports and the reminders
all use it (issue 9, item 3)."""
from __future__ import annotations

import json
import re
from datetime import date, timedelta

from babel.dates import format_date

from portal import clock
from portal.agreements.reminders import send_due_reminders
from portal.agreements.renewals import activate
from portal.archive.package import metadata
from portal.clock import twelve_months_after

from . import factories


def test_an_agreement_signed_before_its_start_date_is_in_force_from_the_start_date(client, people, smtp_server):
    start = clock.today() + timedelta(days=40)
    agreement = factories.signed_agreement(people, start_date=start)
    due = twelve_months_after(start)
    assert (agreement.active_from, agreement.renewal_due_on) == (start, due)

    client.sign_in(people.archivist)
    page = re.sub(r"\s+", " ", client.get(f"/archive/{agreement.id}").get_data(as_text=True))
    assert format_date(start, "d. MMMM y", locale="nb") in page and format_date(due, "d. MMMM y", locale="nb") in page
    assert format_date(clock.today(), "d. MMMM y", locale="nb") not in page.split("Fornyes")[0].split("Gjelder fra")[-1]
    listed = client.get("/archive/", query_string={"year": str(start.year)}).get_data(as_text=True)
    assert f'data-agreement="{agreement.id}"' in listed
    assert metadata(agreement, {})["agreement"]["active_from"] == start.isoformat()

    client.sign_in(people.coordinator)
    shown = re.sub(r"\s+", " ", client.get(f"/agreements/{agreement.id}").get_data(as_text=True))
    assert format_date(start, "d. MMMM y", locale="nb") in shown and format_date(due, "d. MMMM y", locale="nb") in shown

    # The reminders count from the date in force, not from the signatures.
    assert send_due_reminders(twelve_months_after(clock.today()) - timedelta(days=30)) == []
    assert send_due_reminders(due - timedelta(days=30)) == [(agreement.id, 30)]
    assert due.strftime("%d.%m.%Y") in smtp_server.messages[0]["Subject"]


def test_an_agreement_signed_after_its_start_date_is_in_force_from_the_last_signature(people):
    agreement = factories.complete_agreement(people.coordinator)
    agreement.start_date = date(2027, 1, 1)
    activate(agreement, date(2027, 2, 3))
    assert (agreement.active_from, agreement.renewal_due_on) == (date(2027, 2, 3), date(2028, 2, 3))
    activate(agreement, date(2026, 12, 15))
    assert (agreement.active_from, agreement.renewal_due_on) == (date(2027, 1, 1), date(2028, 1, 1))


def test_the_export_since_a_day_uses_the_date_in_force(app, people, tmp_path):
    start = clock.today() + timedelta(days=40)
    agreement = factories.signed_agreement(people, start_date=start)
    runner = app.test_cli_runner()
    later = runner.invoke(args=["archive", "export", "--out", str(tmp_path / "later"), "--since", (start + timedelta(days=1)).isoformat()])
    assert later.exit_code == 0, later.output
    assert "0 archive package(s)" in later.output
    on_the_day = runner.invoke(args=["archive", "export", "--out", str(tmp_path / "day"), "--since", start.isoformat(), "--unpacked"])
    assert on_the_day.exit_code == 0, on_the_day.output
    meta = json.loads((tmp_path / "day" / f"{agreement.reference}-v1" / "metadata.json").read_text())
    assert meta["agreement"]["active_from"] == start.isoformat()
