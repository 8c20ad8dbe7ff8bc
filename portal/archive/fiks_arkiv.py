"""KS Fiks Arkiv v1 messages: ``no.ks.fiks.arkiv.v1.arkivering.arkivmelding.opprett`` for each municipality party's
archive system, when an agreement is fully signed and when it is superseded.

The message is queued (an :class:`~portal.models.ArchiveMessage` row, «waiting») in the same transaction as the
change of state (:func:`queue_messages`, called by ``lifecycle.change_status``). After that commit the closing job
(``signing.close_signed_agreement``, which also supersedes the renewed agreement) puts one delivery job per message
on the background job queue (:func:`deliver_in_background` → :func:`deliver_message`, job id
``fiks-arkiv-<message id>``). The job sends the message through an :class:`OutboundChannel` chosen by setting:

- :class:`FolderChannel` (the default): ``ARCHIVE_OUTBOX/<message id>/`` with ``arkivmelding.xml`` (the payload
  file name ``meldingstyper.json`` gives) and the signed PDF;
- :class:`HttpChannel` when ``ARCHIVE_ENDPOINT`` is set: a POST of a ZIP of the same files, the message id in the
  ``Idempotency-Key`` header.

Retries: a delivery that fails is recorded on the message («failed», with the reason) and the job raises, so the
queue tries again after ``JOB_RETRY_INTERVALS``; once those are spent (or without Redis, where a job runs once,
in-process), :func:`deliver_due` (``flask archive deliver``, for cron) tries again with the message's own back-off
(1, 2, 4 … minutes, at most a day).

Idempotency: the message id is UUID 5 of agreement, municipality and event, unique in the database, so the same
message is never made twice; a delivered message is never sent again; and a worker that dies after sending but
before recording it sends the same id again: a folder already there is not written again, and an HTTP receiver
sees the same ``Idempotency-Key``.
"""
from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import uuid
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Protocol

from flask import current_app
from lxml import etree
from sqlalchemy import or_, select

from .. import jobs
from ..extensions import db
from ..models import Agreement, AgreementStatus, ArchiveMessage
from .package import signed_pdf, signed_pdf_name

MESSAGE_TYPE = "no.ks.fiks.arkiv.v1.arkivering.arkivmelding.opprett"
NAMESPACE = "https://ks-no.github.io/standarder/fiks-protokoll/fiks-arkiv/arkivmelding/opprett/v1"
CATALOGUE = "https://ks-no.github.io/standarder/fiks-protokoll/fiks-arkiv/metadatakatalog/v1"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
PAYLOAD = "arkivmelding.xml"
SYSTEM = "Politirådsportalen"
_IDS = uuid.UUID("0c1f6a4e-2b7d-5e3a-8f90-1a2b3c4d5e60")
#: Which changes of state make a message, and the event each is.
EVENTS = {AgreementStatus.ACTIVE: "signed", AgreementStatus.SUPERSEDED: "superseded"}
MAX_BACKOFF = timedelta(days=1)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def message_id(agreement: Agreement, municipality_number: str, event: str) -> str:
    return str(uuid.uuid5(_IDS, f"{agreement.id}:{municipality_number}:{event}"))


def queue_messages(agreement: Agreement, status: AgreementStatus) -> list[ArchiveMessage]:
    """One waiting message per municipality party, when ``status`` is one that goes to the archive; the caller
    commits. A message already queued is not queued again."""
    event = EVENTS.get(status)
    if event is None:
        return []
    queued = []
    for party in agreement.parties:
        ident = message_id(agreement, party.municipality_number, event)
        if db.session.scalar(select(ArchiveMessage.id).where(ArchiveMessage.message_id == ident)) is None:
            message = ArchiveMessage(message_id=ident, agreement=agreement, municipality_number=party.municipality_number,
                                     event=event, state="waiting", next_attempt_at=_now())
            db.session.add(message)
            queued.append(message)
    return queued


def _add(parent: etree._Element, tag: str, text: object = None, namespace: str = NAMESPACE) -> etree._Element:
    element = etree.SubElement(parent, f"{{{namespace}}}{tag}")
    if text is not None:
        element.text = str(text)
    return element


def _code(parent: etree._Element, tag: str, code: str, description: str) -> None:
    element = _add(parent, tag)
    _add(element, "kode", code, CATALOGUE)  # the code list's own elements are the catalogue's
    _add(element, "beskrivelse", description, CATALOGUE)


def message_files(message: ArchiveMessage) -> dict[str, bytes]:
    """``arkivmelding.xml`` and the signed PDF it names."""
    agreement = message.agreement
    pdf, name = signed_pdf(agreement), signed_pdf_name(agreement)
    made = agreement.document.created_at if agreement.document else agreement.created_at
    root = etree.Element(f"{{{NAMESPACE}}}arkivmelding", nsmap={None: NAMESPACE, "mdk": CATALOGUE, "xsi": XSI})
    _add(root, "system", SYSTEM)
    _add(root, "antallFiler", 1)
    post = _add(root, "registrering")
    post.set(f"{{{XSI}}}type", "journalpost")
    _add(post, "opprettetDato", made.isoformat(timespec="seconds"))
    _add(post, "opprettetAv", SYSTEM)
    description = _add(post, "dokumentbeskrivelse")
    _code(description, "dokumenttype", "AVTALE", "Avtale")
    _code(description, "dokumentstatus", "F", "Dokumentet er ferdigstilt")
    _add(description, "tittel", "Signert politirådsavtale")
    _code(description, "tilknyttetRegistreringSom", "H", "Hoveddokument")
    _add(description, "dokumentnummer", 1)
    document = _add(description, "dokumentobjekt")
    _add(document, "versjonsnummer", 1)
    _code(document, "variantformat", "A", "Arkivformat")
    _code(document, "format", "fmt/477", "PDF/A-2b")
    _add(document, "mimeType", "application/pdf")
    _add(document, "filnavn", name)
    _add(document, "referanseDokumentfil", name)
    _add(document, "sjekksum", hashlib.sha256(pdf).hexdigest())
    _add(document, "sjekksumAlgoritme", "SHA256")
    _add(document, "filstoerrelse", len(pdf))
    _add(post, "registreringsID", f"{agreement.reference}-v{agreement.version}")
    superseded = " (erstattet av ny versjon)" if message.event == "superseded" else ""
    parties = ", ".join(party.municipality.name for party in agreement.parties)
    district = agreement.police_district.name_bokmal if agreement.police_district else "politiet"
    _add(post, "tittel", f"Politirådsavtale {agreement.reference} versjon {agreement.version}: {parties} og {district}{superseded}")
    if agreement.police_district is not None:
        correspondent = _add(post, "korrespondansepart")
        _code(correspondent, "korrespondanseparttype", "EA", "Ekstern avsender")
        _add(correspondent, "korrespondansepartNavn", agreement.police_district.name_bokmal)
    key = _add(post, "referanseEksternNoekkel")
    _add(key, "fagsystem", SYSTEM, CATALOGUE)
    _add(key, "noekkel", f"{agreement.reference}-v{agreement.version}:{message.event}", CATALOGUE)
    _code(post, "journalposttype", "I", "Inngående dokument")
    if agreement.active_from is not None:
        _add(post, "dokumentetsDato", agreement.active_from.isoformat())
    xml = etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
    return {PAYLOAD: xml, name: pdf}


class OutboundChannel(Protocol):
    """Where messages go. ``send`` raises on failure; it must accept the same message id twice without
    making a second record (Fiks IO would be a third implementation: see README)."""

    def send(self, message_id: str, files: dict[str, bytes]) -> None: ...


class FolderChannel:
    """``<folder>/<message id>/`` with the message's files; written in a temporary folder and renamed, so a
    reader never sees half a message, and a message whose folder is there is not written again."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message_id: str, files: dict[str, bytes]) -> None:
        target = self.folder / message_id
        if target.exists():
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{message_id}-", dir=self.folder))
        try:
            for name, data in files.items():
                (staging / name).write_bytes(data)
            os.rename(staging, target)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
            if not target.exists():
                raise


class HttpChannel:
    """A POST of the message's files as a ZIP to ``url``, with ``Idempotency-Key`` and ``X-Fiks-Message-Type``."""

    def __init__(self, url: str, timeout: float = 30) -> None:
        self.url, self.timeout = url, timeout

    def send(self, message_id: str, files: dict[str, bytes]) -> None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in files.items():
                archive.writestr(name, data)
        request = urllib.request.Request(self.url, data=buffer.getvalue(), method="POST", headers={
            "Content-Type": "application/zip", "Idempotency-Key": message_id, "X-Fiks-Message-Type": MESSAGE_TYPE})
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # raises for 4xx/5xx
            response.read()


def channel() -> OutboundChannel:
    endpoint = current_app.config.get("ARCHIVE_ENDPOINT") or ""
    return HttpChannel(endpoint) if endpoint else FolderChannel(Path(current_app.config["ARCHIVE_OUTBOX"]))


def deliver(message: ArchiveMessage, via: OutboundChannel, now: datetime) -> None:
    """Try to deliver one message; the caller commits. A delivered message is never sent again."""
    if message.state == "delivered":
        return
    message.attempts += 1
    try:
        via.send(message.message_id, message_files(message))
    except (OSError, urllib.error.URLError, LookupError) as error:
        message.state = "failed"
        message.error = str(error)[:500] or error.__class__.__name__
        message.next_attempt_at = now + min(timedelta(minutes=2 ** (message.attempts - 1)), MAX_BACKOFF)
    else:
        message.state, message.error, message.delivered_at = "delivered", None, now


class DeliveryFailed(Exception):
    """A delivery did not go through (the reason is on the message); the job queue tries again."""


def delivery_job_id(message_id: str) -> str:
    return f"fiks-arkiv-{message_id}"


def deliver_in_background(*agreement_ids: int | None) -> None:
    """After the commit that queued them: a delivery job for each message of these agreements not yet delivered.
    Safe to call again: a job already queued, running or done is not queued twice (its id names the message)."""
    waiting = db.session.scalars(select(ArchiveMessage.message_id).where(
        ArchiveMessage.agreement_id.in_([i for i in agreement_ids if i is not None]),
        ArchiveMessage.state != "delivered").order_by(ArchiveMessage.id)).all()
    for ident in waiting:
        jobs.enqueue(deliver_message, ident, job_id=delivery_job_id(ident))


def deliver_message(ident: str) -> None:
    """The job: deliver one message unless it is delivered already (the row is locked while it is sent, so a
    cron run or a second worker waits and then finds it delivered). Raises :class:`DeliveryFailed` after a
    failure it has recorded, for the queue to retry."""
    message = db.session.scalar(select(ArchiveMessage).where(ArchiveMessage.message_id == ident).with_for_update()
                                .execution_options(populate_existing=True))
    if message is None or message.state == "delivered":
        return
    deliver(message, channel(), _now())
    db.session.commit()
    if message.state == "failed":
        raise DeliveryFailed(message.error)


def deliver_due(now: datetime | None = None) -> list[ArchiveMessage]:
    """Deliver every waiting or failed message whose time has come, committing after each. Each is locked
    on its own while it is sent (one being sent by a job or another server is skipped), so no lock outlives
    the commit before it."""
    now = now or _now()
    via = channel()
    is_due = (or_(ArchiveMessage.state == "waiting", ArchiveMessage.state == "failed"), ArchiveMessage.next_attempt_at <= now)
    done = []
    for message_id in db.session.scalars(select(ArchiveMessage.id).where(*is_due).order_by(ArchiveMessage.id)).all():
        message = db.session.scalar(select(ArchiveMessage).where(ArchiveMessage.id == message_id, *is_due)
                                    .with_for_update(skip_locked=True).execution_options(populate_existing=True))
        if message is None:  # delivered meanwhile, or being sent right now
            db.session.rollback()
            continue
        deliver(message, via, now)
        db.session.commit()
        done.append(message)
    return done
