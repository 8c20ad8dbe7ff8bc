"""Background work without Redis (``REDIS_URL`` empty, as after ``make run``): the same jobs run at once in
the request, keep the same task rows, and a failure is recorded and shown, not raised. (The queue itself,
with Redis and worker processes, is tested in tests/test_jobs.py.)"""
from __future__ import annotations

from sqlalchemy import func, select

from portal import documents, jobs
from portal.agreements import signing
from portal.extensions import db
from portal.mail import deliver_mail
from portal.models import AgreementStatus, AuditEvent, BackgroundTask, TaskState
from portal.signing import pades, shared_analysis

from .test_signing_flow import finalised, portal_held_keys, messages, reload, sign_as, text_of  # noqa: F401  (fixtures)


def test_without_redis_the_last_signature_closes_the_agreement_at_once(client, people, finalised):  # noqa: F811
    sign_as(client, people.mayor, finalised.id)
    response = sign_as(client, people.station_chief, finalised.id)
    page = text_of(client.get(response.location))
    assert "the agreement is in force from" in page and "The document is at PAdES level B-LTA" in page
    task = db.session.get(BackgroundTask, signing.closing_job_id(finalised.id))
    assert task.state is TaskState.DONE and task.attempts == 1 and task.started_by_id == people.station_chief.id
    assert reload(finalised.id).status is AgreementStatus.ACTIVE


def test_the_closing_reads_the_closed_pdf_once_for_its_30_year_check_and_the_archives_report(client, people, finalised, monkeypatch):  # noqa: F811
    """The closing's 30-year check and the intake validation after it (the portal's report and the ETSI
    report) share one reading of the closed PDF, and the agreement enters the archive with both results."""
    read: list[bytes] = []

    class CountedReader(shared_analysis.PdfFileReader):  # type: ignore[misc, valid-type]
        def __init__(self, stream, *args, **kwargs):  # type: ignore[no-untyped-def]
            read.append(stream.getvalue())
            super().__init__(stream, *args, **kwargs)

    monkeypatch.setattr(shared_analysis, "PdfFileReader", CountedReader)
    sign_as(client, people.mayor, finalised.id)
    sign_as(client, people.station_chief, finalised.id)
    document = reload(finalised.id).document
    assert read.count(document.signed_pdf) == 1
    assert document.future_validation_result == "passed" and document.pades_level == "B-LTA"
    assert document.validation_report_sha256 == document.signed_sha256 and document.validation_report["verdict"] == "valid"
    assert document.validation_report_etsi.count("<vr:SignatureValidationReport") == 3  # the seal, two signatures


def test_a_failed_closing_is_shown_and_the_nightly_run_closes_it(client, people, finalised, monkeypatch, app):  # noqa: F811
    real_close = pades.close_lta

    def no_time_stamps(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise ConnectionError("the time-stamp service does not answer")

    monkeypatch.setattr(pades, "close_lta", no_time_stamps)
    sign_as(client, people.mayor, finalised.id)
    response = sign_as(client, people.station_chief, finalised.id)
    assert response.status_code == 302  # the signature itself is stored: only the closing failed
    assert "being closed" in text_of(client.get(response.location))
    agreement = reload(finalised.id)
    assert agreement.status is AgreementStatus.FINALISED and all(slot.signed_at for slot in agreement.signature_slots)
    task = db.session.get(BackgroundTask, signing.closing_job_id(finalised.id))
    assert task.state is TaskState.FAILED and "time-stamp service does not answer" in task.error

    client.sign_in(people.coordinator)
    client.choose_language("en")
    page = text_of(client.get(f"/agreements/{finalised.id}"))
    assert "closing the agreement failed" in page and "time-stamp service does not answer" in page
    client.sign_in(people.mayor)  # the signatory sees it on the signing page too, without the button
    client.choose_language("en")
    page = text_of(client.get(f"/agreements/{finalised.id}/sign"))
    assert "closing the agreement failed" in page and "Try closing again" not in page

    monkeypatch.setattr(pades, "close_lta", real_close)
    result = app.test_cli_runner().invoke(args=["renewals"])
    assert result.exit_code == 0 and "1 fully signed agreement(s) put on the way to being closed again" in result.output
    agreement = reload(finalised.id)
    assert agreement.status is AgreementStatus.ACTIVE and agreement.document.pades_level == "B-LTA"
    again = app.test_cli_runner().invoke(args=["renewals"])
    assert "closed again" not in again.output  # nothing left waiting
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.agreement_id == finalised.id, AuditEvent.action == "active")) == 1


def test_a_closing_stopped_after_its_commit_validates_for_the_archive_when_run_again(client, people, finalised, monkeypatch):  # noqa: F811
    def stopped(agreement):  # type: ignore[no-untyped-def]
        raise RuntimeError("the worker stopped after the closing's commit")

    real_after_closing = signing._after_closing
    monkeypatch.setattr(signing, "_after_closing", stopped)
    sign_as(client, people.mayor, finalised.id)
    sign_as(client, people.station_chief, finalised.id)
    agreement = reload(finalised.id)
    assert agreement.status is AgreementStatus.ACTIVE and agreement.document.validation_report is None
    assert db.session.get(BackgroundTask, signing.closing_job_id(finalised.id)).state is TaskState.FAILED

    monkeypatch.setattr(signing, "_after_closing", real_after_closing)
    jobs.enqueue(signing.close_signed_agreement, finalised.id, job_id=signing.closing_job_id(finalised.id))  # the retry
    agreement = reload(finalised.id)
    assert agreement.document.validation_report_sha256 == agreement.document.signed_sha256
    assert agreement.document.validation_report["verdict"] == "valid"
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.agreement_id == finalised.id, AuditEvent.action == "active")) == 1


def test_each_signing_invitation_is_one_message_however_often_it_is_asked_for(people, finalised, outbox):  # noqa: F811
    sent = messages(outbox)
    assert len(sent) == 2
    slot_ids = {slot.id for slot in finalised.signature_slots}
    assert {message["Message-ID"] for message in sent} == {f"<signing-invitation-{slot_id}@politirad.invalid>" for slot_id in slot_ids}
    invitations = [signing.Invitation(slot, False) for slot in finalised.signature_slots]
    assert signing.send_signing_invitations(finalised, invitations, people.coordinator) == []
    assert len(messages(outbox)) == 2


def test_a_failed_message_is_recorded_and_reported(people, finalised, app, outbox):  # noqa: F811
    app.config["MAIL_SERVER"], saved_port = "127.0.0.1", app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = 9  # nothing listens
    try:
        task = jobs.enqueue(deliver_mail, "someone@example.org", "Emne", "Tekst", job_id="test-mail-refused")
    finally:
        app.config["MAIL_SERVER"], app.config["MAIL_PORT"] = "", saved_port
    assert task.state is TaskState.FAILED and "refused" in task.error.lower()


def test_the_draft_preview_is_rendered_once_per_content(client, people, monkeypatch):
    from . import factories

    draft = factories.complete_agreement(people.coordinator)
    draft.place = "Vossevangen"
    db.session.commit()
    renders = []
    real = documents._pdf

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        renders.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(documents, "_pdf", counted)
    client.sign_in(people.coordinator)
    first = client.get(f"/agreements/{draft.id}/preview.pdf").data
    assert client.get(f"/agreements/{draft.id}/preview.pdf").data == first and len(renders) == 1
    draft = db.session.merge(draft)
    draft.place = "Skulestadmo"
    db.session.commit()
    changed = client.get(f"/agreements/{draft.id}/preview.pdf").data
    assert changed != first and len(renders) == 2


def test_renewals_on_the_queue_need_a_queue(app):
    result = app.test_cli_runner().invoke(args=["renewals", "--queue"])
    assert result.exit_code != 0 and "REDIS_URL" in result.output


def test_a_queue_that_cannot_be_reached_fails_the_task_not_the_request(client, people, finalised, app):  # noqa: F811
    sign_as(client, people.mayor, finalised.id)
    app.config["REDIS_URL"] = "redis://127.0.0.1:9/0"  # nothing listens
    app.extensions.pop(jobs._REDIS_KEY, None)
    try:
        response = sign_as(client, people.station_chief, finalised.id)
    finally:
        app.config["REDIS_URL"] = ""
        app.extensions.pop(jobs._REDIS_KEY, None)
    assert response.status_code == 302  # the signature is stored
    task = db.session.get(BackgroundTask, signing.closing_job_id(finalised.id))
    assert task.state is TaskState.FAILED and "job queue could not be reached" in task.error
    client.sign_in(people.coordinator)
    client.choose_language("en")
    assert "Try closing again" in text_of(client.get(f"/agreements/{finalised.id}"))
