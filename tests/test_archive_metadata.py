"""The archive's metadata and lists (issue 9, item 14): every time carries its time zone, the agreement
list shows the version in force rather than the one it superseded, and English pages write English dates."""
from __future__ import annotations

import re
from datetime import date, datetime

from portal.agreements.lifecycle import new_version, record_event
from portal.archive.package import audit_trail, metadata, metadata_xml
from portal.extensions import db
from portal.models import Agreement, AgreementStatus

from . import factories


def test_every_time_in_the_archive_metadata_carries_its_time_zone(people):
    agreement = factories.archived_agreement(people.coordinator)
    record_event(agreement, "created", people.coordinator)
    db.session.commit()
    db.session.expire_all()  # read back from the database, as an export does
    agreement = db.session.get(Agreement, agreement.id)
    meta = metadata(agreement, {})
    times = [meta["agreement"]["created_at"], meta["document"]["finalised_at"],
             *[slot["signed_at"] for slot in meta["signatories"]], *[event["at"] for event in audit_trail(agreement)]]
    assert len(times) >= 4
    for text in times:
        assert datetime.fromisoformat(text).utcoffset() is not None, text
    xml = metadata_xml(meta).decode()
    assert re.search(r"<signed-at>[^<]+\+00:00</signed-at>", xml)
    assert meta["agreement"]["start_date"] == "2026-03-01"  # a date stays a date


def test_the_archivists_agreement_list_shows_the_version_in_force_not_the_superseded_one(client, people):
    old = factories.archived_agreement(people.coordinator, active_from=date(2025, 1, 1))
    renewal = new_version(old, people.coordinator, "renewal", renewal_of=old)
    renewal.status, renewal.active_from = AgreementStatus.ACTIVE, date(2026, 1, 1)
    old.status = AgreementStatus.SUPERSEDED
    db.session.commit()
    client.sign_in(people.archivist)
    listing = client.get("/agreements/").get_data(as_text=True)
    assert f'href="/agreements/{renewal.id}"' in listing
    assert f'href="/agreements/{old.id}"' not in listing
    assert f'href="/agreements/{old.id}"' in client.get(f"/agreements/{renewal.id}").get_data(as_text=True)  # one click away


def test_english_pages_write_english_dates(client, people):
    agreement = factories.archived_agreement(people.coordinator, active_from=date(2026, 3, 1))
    db.session.commit()
    client.sign_in(people.archivist)
    client.choose_language("en")
    english = re.sub(r"\s+", " ", client.get(f"/archive/{agreement.id}").get_data(as_text=True))
    assert "1 March 2026" in english and "1. mars 2026" not in english and "1. March" not in english
    assert "1 Mar 2026" in re.sub(r"\s+", " ", client.get("/archive/").get_data(as_text=True))
    client.choose_language("nb")
    norwegian = re.sub(r"\s+", " ", client.get(f"/archive/{agreement.id}").get_data(as_text=True))
    assert "1. mars 2026" in norwegian
