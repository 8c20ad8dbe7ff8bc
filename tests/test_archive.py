"""The archive: archivists find signed agreements (never drafts), download them byte for byte with their
validation report, and take archive packages one by one, in bulk or with ``flask archive export``;
every download is in the agreement's history."""
from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from datetime import date
from xml.etree import ElementTree

import pytest
from sqlalchemy import func, select

from portal.archive.package import XML_NAMESPACE
from portal.extensions import db
from portal.models import Agreement, AgreementStatus, AuditEvent

from . import factories

NS = {"p": XML_NAMESPACE}


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def events(agreement_id: int, action: str) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.agreement_id == agreement_id, AuditEvent.action == action)) or 0


def check_package(files: dict[str, bytes], agreement: Agreement, stem: str = "") -> dict:
    """Every checksum in metadata.json and metadata.xml matches the bytes of its file; returns metadata.json."""
    files = {name: data for name, data in files.items() if name.startswith(stem)}
    meta = json.loads(files[stem + "metadata.json"])
    listed = {entry["name"]: entry["sha256"] for entry in meta["files"]}
    assert set(listed) == {name.removeprefix(stem) for name in files} - {"metadata.json", "metadata.xml"}
    for name, digest in listed.items():
        assert hashlib.sha256(files[stem + name]).hexdigest() == digest, name
    root = ElementTree.fromstring(files[stem + "metadata.xml"])
    assert root.tag == f"{{{XML_NAMESPACE}}}agreement-package"
    in_xml = {f.findtext("p:name", namespaces=NS): f.findtext("p:sha256", namespaces=NS) for f in root.iterfind("p:files/p:file", NS)}
    assert in_xml == listed
    assert root.findtext("p:agreement/p:reference", namespaces=NS) == agreement.reference
    assert meta["agreement"]["reference"] == agreement.reference and meta["agreement"]["version"] == agreement.version
    return meta


def bulk_zip(client, **chosen: str) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    """Ask for the bulk ZIP of a filter on the archive's list, follow it, and fetch it when ready."""
    started = client.submit("/archive/bulk", chosen, token_from="/archive/")
    assert started.status_code == 302 and "/archive/bulk/" in started.location
    page = client.get(started.location).get_data(as_text=True)
    link = re.search(r'id="bulk-download" href="([^"]+)"', page)
    assert link, page
    response = client.get(link.group(1))
    assert response.status_code == 200 and response.mimetype == "application/zip"
    return unzip(response.data)


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.fixture
def signed(people) -> Agreement:
    return factories.signed_agreement(people, active_from=date(2026, 2, 10))


def test_an_archivist_downloads_the_signed_pdf_byte_for_byte_with_its_report(client, people, signed):
    stored = signed.document.signed_pdf
    client.sign_in(people.archivist)
    client.choose_language("en")
    page = text_of(client.get(f"/archive/{signed.id}"))
    shown = re.search(r'id="signed-sha256">(.*?)</code>', page).group(1).replace("<wbr>", "")
    assert shown == hashlib.sha256(stored).hexdigest() == signed.document.signed_sha256

    download = client.get(f"/archive/{signed.id}/signed.pdf")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert download.data == stored
    assert download.headers["Content-Disposition"] == f'attachment; filename="{signed.reference}-v1-signert.pdf"'

    report_page = client.get(f"/archive/{signed.id}/validation")
    assert report_page.status_code == 200
    assert "Valid. Every signature is intact" in text_of(report_page) and "B-LTA" in text_of(report_page)
    report = client.get(f"/archive/{signed.id}/validation-report.json")
    assert "attachment" in report.headers["Content-Disposition"]
    assert report.json["verdict"] == "valid" and report.json["pades_level"] == "B-LTA"
    assert {s["signer_name"] for s in report.json["signatures"]} >= {people.mayor.name, people.station_chief.name}

    assert events(signed.id, "downloaded") == 1
    assert events(signed.id, "validation_report_downloaded") == 2


def test_the_package_holds_the_files_and_every_checksum_matches(client, people, signed):
    client.sign_in(people.archivist)
    response = client.get(f"/archive/{signed.id}/package.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{signed.reference}-v1-arkiv.zip"'
    files = unzip(response.data)
    stem = f"{signed.reference}-v1"
    assert {f"{stem}-signert.pdf", "validation-report.json", "audit-trail.json", "metadata.json", "metadata.xml"} <= set(files)
    assert files[f"{stem}-signert.pdf"] == signed.document.signed_pdf
    meta = check_package(files, signed)
    assert [p["municipality_number"] for p in meta["parties"]] == [factories.VOSS]
    assert {s["name"] for s in meta["signatories"]} == {people.mayor.name, people.station_chief.name}  # from the certificates
    assert all(s["signed_at"] for s in meta["signatories"])
    assert meta["agreement"]["active_from"] == "2026-02-10" and meta["document"]["pades_level"] == "B-LTA"
    assert meta["versions"] == [{"id": signed.id, "reference": signed.reference, "version": 1, "status": "active",
                                 "previous_version_id": None, "renewal_of_id": None, "active_from": "2026-02-10"}]
    assert json.loads(files["validation-report.json"])["verdict"] == "valid"
    trail = json.loads(files["audit-trail.json"])
    assert [e["action"] for e in trail][:2] == ["finalised", "sealed"] and "active" in [e["action"] for e in trail]
    assert events(signed.id, "package_downloaded") == 1
    # The same stored data gives the same package (apart from the history, which now has the download).
    again = unzip(client.get(f"/archive/{signed.id}/package.zip").data)
    assert again[f"{stem}-signert.pdf"] == files[f"{stem}-signert.pdf"] and again["validation-report.json"] == files["validation-report.json"]


def test_an_archivist_finds_agreements_by_filter_and_search_and_never_a_draft(client, people):
    voss = factories.archived_agreement(people.coordinator, active_from=date(2025, 5, 1))
    bergen = factories.archived_agreement(people.other_coordinator, (factories.BERGEN,), status=AgreementStatus.SUPERSEDED)
    eigersund = factories.archived_agreement(people.coordinator, (factories.EIGERSUND,), status=AgreementStatus.EXPIRED)
    draft = factories.complete_agreement(people.coordinator, (factories.OSLO,))
    finalised = factories.complete_agreement(people.coordinator, (factories.ULVIK,))
    finalised.status = AgreementStatus.FINALISED
    db.session.commit()
    client.sign_in(people.archivist)

    def found(**args: str) -> set[str]:
        html = client.get("/archive/", query_string=args).get_data(as_text=True)
        return set(re.findall(r'<tr data-agreement="(\d+)">', html))

    everyone = {str(a.id) for a in (voss, bergen, eigersund)}
    assert found() == everyone, "drafts and agreements awaiting signatures are not in the archive"
    assert found(municipality=factories.BERGEN) == {str(bergen.id)}
    assert found(police_district=str(factories.police_district("Sør-Vest politidistrikt").id)) == {str(eigersund.id)}
    assert found(year="2025") == {str(voss.id)}
    assert found(state="superseded") == {str(bergen.id)}
    assert found(q="bergen") == {str(bergen.id)}, "by municipality name"
    assert found(q=eigersund.reference) == {str(eigersund.id)}, "by reference"
    assert found(q="Ordførar Eigersund") == {str(eigersund.id)}, "by signatory name"
    assert found(q="lensmannskontor") == everyone, "by police station"
    assert found(q="Oslo") == set() and found(state="draft") == everyone
    assert client.get(f"/archive/{draft.id}").status_code == 404
    assert client.get(f"/archive/{finalised.id}").status_code == 404


def test_the_archive_is_paged(client, people, monkeypatch):
    from portal.archive import views

    monkeypatch.setattr(views, "PER_PAGE", 2)
    for _ in range(3):
        factories.archived_agreement(people.coordinator)
    db.session.commit()
    client.sign_in(people.archivist)
    client.choose_language("en")
    first, second = text_of(client.get("/archive/")), text_of(client.get("/archive/?page=2"))
    assert first.count("<tr data-agreement=") == 2 and "Page 1 of 2" in first and "Next page" in first
    assert second.count("<tr data-agreement=") == 1


def test_others_see_only_their_own_organisations_signed_agreements(client, people):
    voss = factories.archived_agreement(people.coordinator)
    bergen = factories.archived_agreement(people.other_coordinator, (factories.BERGEN,))
    db.session.commit()
    client.sign_in(people.other_coordinator)
    listing = client.get("/archive/").get_data(as_text=True)
    assert f'data-agreement="{bergen.id}"' in listing and f'data-agreement="{voss.id}"' not in listing
    for path in ("", "/signed.pdf", "/validation", "/validation-report.json", "/package.zip"):
        assert client.get(f"/archive/{voss.id}{path}").status_code == 404, path
    bulk = bulk_zip(client)
    assert {name.split("/")[0] for name in bulk} == {f"{bergen.reference}-v1"}
    assert events(voss.id, "downloaded") == events(voss.id, "package_downloaded") == 0
    for person in (people.coordinator, people.mayor, people.administrator):
        client.sign_in(person)
        listing = client.get("/archive/").get_data(as_text=True)
        assert f'data-agreement="{voss.id}"' in listing and f'data-agreement="{bergen.id}"' not in listing, person.email
    client.sign_in(people.station_chief)  # Vest politidistrikt is party to both
    listing = client.get("/archive/").get_data(as_text=True)
    assert f'data-agreement="{voss.id}"' in listing and f'data-agreement="{bergen.id}"' in listing


def test_the_bulk_package_holds_exactly_the_filtered_agreements(client, people, signed):
    bergen = factories.signed_agreement(people, (factories.BERGEN,), created_by=people.other_coordinator, active_from=date(2025, 6, 1))
    ulvik = factories.signed_agreement(people, (factories.ULVIK,), active_from=date(2026, 1, 5))
    client.sign_in(people.archivist)
    listing = client.get("/archive/", query_string={"year": "2026"}).get_data(as_text=True)
    assert 'name="year" value="2026"' in listing.split('id="bulk-package"')[1].split("</form>")[0]  # the filter goes along
    files = bulk_zip(client, year="2026")
    folders = {name.split("/")[0] for name in files}
    assert folders == {f"{signed.reference}-v1", f"{ulvik.reference}-v1"}
    for agreement in (signed, ulvik):
        stem = f"{agreement.reference}-v1/"
        check_package(files, agreement, stem)
        assert files[f"{stem}{agreement.reference}-v1-signert.pdf"] == agreement.document.signed_pdf
    assert events(signed.id, "package_downloaded") == events(ulvik.id, "package_downloaded") == 1
    assert events(bergen.id, "package_downloaded") == 0
    client.choose_language("en")
    started = client.submit("/archive/bulk", {"q": "no such agreement"}, token_from="/archive/")
    assert "The ZIP file is ready: 0 agreements." in text_of(client.get(started.location))


def test_a_bulk_package_has_no_cap_shows_its_progress_and_is_only_for_who_asked(client, people):
    from portal.models import BackgroundTask, TaskState

    made = [factories.archived_agreement(people.coordinator, (number,)) for number in (factories.VOSS, factories.BERGEN, factories.ULVIK)]
    db.session.commit()
    client.sign_in(people.archivist)
    client.choose_language("en")
    started = client.submit("/archive/bulk", {"state": "active"}, token_from="/archive/")
    task = db.session.get(BackgroundTask, started.location.rsplit("/", 1)[1])
    assert task.state is TaskState.DONE and (task.done, task.total) == (3, 3) and task.started_by_id == people.archivist.id
    page = text_of(client.get(started.location))
    assert "The ZIP file is ready: 3 agreements." in page
    download = f"{started.location}/archive.zip"
    assert {name.split("/")[0] for name in unzip(client.get(download).data)} == {f"{a.reference}-v1" for a in made}
    client.sign_in(people.coordinator)  # someone else may neither follow nor fetch it
    assert client.get(started.location).status_code == 404 and client.get(download).status_code == 404


def test_a_bulk_package_in_progress_or_failed_says_so(client, people):
    from portal.models import BackgroundTask, TaskState

    running = BackgroundTask(id="bulk-running", kind="build_bulk_package", state=TaskState.RUNNING, started_by_id=people.archivist.id, done=120, total=357)
    failed = BackgroundTask(id="bulk-failed", kind="build_bulk_package", state=TaskState.FAILED, started_by_id=people.archivist.id,
                            error="OSError: No space left on device")
    db.session.add_all([running, failed])
    db.session.commit()
    client.sign_in(people.archivist)
    client.choose_language("en")
    page = client.get("/archive/bulk/bulk-running").get_data(as_text=True)
    assert "120 of 357 agreements packed" in page and '<progress id="bulk-progress" value="120" max="357">' in page
    assert 'data-poll="true"' in page and client.get("/archive/bulk/bulk-running/archive.zip").status_code == 404
    page = text_of(client.get("/archive/bulk/bulk-failed"))
    assert "could not be made" in page and "No space left on device" in page


def test_finished_bulk_files_are_removed_after_a_day_and_their_page_says_so(app, client, people, tmp_path):
    import os
    import time

    from portal.models import BackgroundTask

    saved = app.config["JOB_FILES"]
    app.config["JOB_FILES"] = str(tmp_path / "jobs")
    try:
        factories.archived_agreement(people.coordinator)
        db.session.commit()
        client.sign_in(people.archivist)
        client.choose_language("en")
        first = client.submit("/archive/bulk", {}, token_from="/archive/").location
        first_zip = tmp_path / "jobs" / f"{first.rsplit('/', 1)[1]}.zip"
        day_old = time.time() - 25 * 3600
        os.utime(first_zip, (day_old, day_old))
        abandoned, writing = tmp_path / "jobs" / "gone.part", tmp_path / "jobs" / "writing.part"
        for partial, when in ((abandoned, day_old), (writing, time.time())):
            partial.write_bytes(b"PK")
            os.utime(partial, (when, when))

        second = client.submit("/archive/bulk", {}, token_from="/archive/").location  # its job cleans up first
        assert sorted(path.name for path in (tmp_path / "jobs").iterdir()) == sorted(
            [f"{second.rsplit('/', 1)[1]}.zip", "writing.part"])
        page = text_of(client.get(first))
        assert "The ZIP file has been removed: finished ZIP files are kept for 24 hours." in page and "bulk-download" not in page
        assert client.get(f"{first}/archive.zip").status_code == 404
        assert 'id="bulk-download"' in client.get(second).get_data(as_text=True)

        second_zip = tmp_path / "jobs" / f"{second.rsplit('/', 1)[1]}.zip"
        os.utime(second_zip, (day_old, day_old))
        result = app.test_cli_runner().invoke(args=["renewals", "--today", "2026-11-30"])  # the daily run cleans up too
        assert result.exit_code == 0 and "1 bulk download file(s) older than 24 hours removed." in result.output
        assert not second_zip.exists() and writing.exists()
        assert db.session.get(BackgroundTask, second.rsplit("/", 1)[1]) is not None  # the task stays, its page says why
    finally:
        app.config["JOB_FILES"] = saved


def test_the_export_command_writes_the_packages_since_a_day(app, people, signed, tmp_path):
    older = factories.signed_agreement(people, (factories.ULVIK,), active_from=date(2025, 12, 31))
    result = app.test_cli_runner().invoke(args=["archive", "export", "--out", str(tmp_path / "out"), "--since", "2026-01-01"])
    assert result.exit_code == 0, result.output
    written = sorted(path.name for path in (tmp_path / "out").iterdir())
    assert written == [f"{signed.reference}-v1-arkiv.zip"]
    files = unzip((tmp_path / "out" / written[0]).read_bytes())
    check_package(files, signed)
    assert files[f"{signed.reference}-v1-signert.pdf"] == signed.document.signed_pdf
    db.session.expire_all()
    assert events(signed.id, "package_downloaded") == 1 and events(older.id, "package_downloaded") == 0

    result = app.test_cli_runner().invoke(args=["archive", "export", "--out", str(tmp_path / "all"), "--unpacked"])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "all" / f"{older.reference}-v1"
    check_package({path.name: path.read_bytes() for path in folder.iterdir()}, older)
    assert sorted(path.name for path in (tmp_path / "all").iterdir()) == sorted([f"{signed.reference}-v1", f"{older.reference}-v1"])


def test_the_versions_of_a_reference_are_in_the_metadata(client, people):
    first = factories.archived_agreement(people.coordinator, status=AgreementStatus.SUPERSEDED, active_from=date(2025, 1, 1))
    second = factories.archived_agreement(people.coordinator, active_from=date(2026, 1, 1))
    second.reference, second.version, second.previous_version_id, second.renewal_of_id = first.reference, 2, first.id, first.id
    draft = factories.complete_agreement(people.coordinator)
    draft.reference, draft.version, draft.previous_version_id = first.reference, 3, second.id
    db.session.commit()
    client.sign_in(people.archivist)
    meta = check_package(unzip(client.get(f"/archive/{second.id}/package.zip").data), second)
    assert [(v["version"], v["status"], v["previous_version_id"]) for v in meta["versions"]] == [(1, "superseded", None), (2, "active", first.id)]
    assert meta["versions"][1]["renewal_of_id"] == first.id
    assert meta["agreement"]["renewal_of_id"] == first.id
    client.choose_language("en")
    page = text_of(client.get(f"/archive/{second.id}"))
    assert f'href="/archive/{first.id}">1</a>' in page and "2 (this version)" in page and ">3<" not in page, "a draft is not shown"
    # The stand-in PDF is not a real signed PDF: the report says so instead of failing.
    assert json.loads(unzip(client.get(f"/archive/{second.id}/package.zip").data)["validation-report.json"])["verdict"] == "error"


def test_the_evaluation_pdf_is_packed_where_there_is_one(client, people):
    from portal.models import PriorityAreaEvaluation

    evaluated = factories.archived_agreement(people.coordinator, status=AgreementStatus.SUPERSEDED)
    evaluated.priority_areas[0].evaluation = PriorityAreaEvaluation(
        what_was_done="Natteravnar kvar helg.", achieved="Færre meldingar om uro i sentrum.", carried_forward="Halde fram.")
    not_evaluated = factories.archived_agreement(people.coordinator)
    db.session.commit()
    client.sign_in(people.archivist)
    files = unzip(client.get(f"/archive/{evaluated.id}/package.zip").data)
    evaluation = files[f"{evaluated.reference}-v1-evaluering.pdf"]
    assert evaluation.startswith(b"%PDF-")
    check_package(files, evaluated)
    assert not any(name.endswith("-evaluering.pdf") for name in unzip(client.get(f"/archive/{not_evaluated.id}/package.zip").data))
