"""The archive's queries and its archive package, as pure functions for the pages and ``flask archive export``.

An archive package (one ZIP per agreement version) holds:

- ``<stem>-signert.pdf``: the signed PDF exactly as stored (``AgreementDocument.signed_pdf``);
- ``<stem>-evaluering.pdf``: the evaluation made of this agreement when it was renewed, where there is one;
- ``validation-report.json``: the signature validation report (``portal.signing.verify``, as ``/verify`` shows it);
- ``validation-report-etsi.xml``: the same validation as an ETSI TS 119 102-2 report (``portal.signing.etsi_report``);
- ``audit-trail.json``: every audit event of the agreement, oldest first;
- ``metadata.json`` and ``metadata.xml``: parties, dates, signatories, the versions of the same reference and
  the SHA-256 of every other file in the package.

``<stem>`` is ``PR-2026-00001-v1``. The ZIP is deterministic: the same stored data gives the same bytes.
"""
from __future__ import annotations

import io
import json
import zipfile
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Callable, Iterable, Mapping
from xml.etree import ElementTree

from flask import current_app, has_request_context
from flask_babel import force_locale
from sqlalchemy import Select, or_, select

from .. import evaluation
from ..access import SIGNED_STATES
from ..agreements.finalise import pdf_filename
from ..agreements.lifecycle import versions_of
from ..documents import sha256_hex
from ..extensions import db
from ..models import (
    Agreement, AgreementDocument, AgreementStatus, AuditEvent, DocumentRendition, Municipality, Party, SignatureSlot,
)

XML_NAMESPACE = "urn:politiradsportalen:archive-package:1"
PACKAGE_FORMAT = "politiradsportalen-archive-package/1"
METADATA_FILES = ("metadata.json", "metadata.xml")
#: Element names for the items of the metadata's lists in the XML.
_XML_ITEMS = {"parties": "party", "signatories": "signatory", "versions": "version", "files": "file", "amr": "method",
              "previous_renditions": "rendition"}


# ---------------------------------------------------------------- finding agreements


@dataclass(frozen=True)
class ArchiveFilter:
    """The archive's filter: municipality number, police district id, year active, state and free text."""

    municipality: str = ""
    police_district: int | None = None
    year: int | None = None
    state: str = ""
    q: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> ArchiveFilter:
        """From a query string; values that make no sense are ignored."""
        states = {status.value for status in SIGNED_STATES}
        return cls(
            municipality=args.get("municipality", "").strip()[:4],
            police_district=_int(args.get("police_district")),
            year=_int(args.get("year")),
            state=args.get("state", "") if args.get("state", "") in states else "",
            q=args.get("q", "").strip()[:200],
        )

    def as_args(self) -> dict[str, str]:
        """The filter as query-string arguments (only those set)."""
        values = {"municipality": self.municipality, "police_district": self.police_district, "year": self.year,
                  "state": self.state, "q": self.q}
        return {key: str(value) for key, value in values.items() if value not in (None, "")}

    def apply(self, query: Select[tuple[Agreement]]) -> Select[tuple[Agreement]]:
        if self.municipality:
            query = query.where(Agreement.parties.any(Party.municipality_number == self.municipality))
        if self.police_district is not None:
            query = query.where(Agreement.police_district_id == self.police_district)
        if self.year is not None:
            query = query.where(Agreement.active_from >= date(self.year, 1, 1), Agreement.active_from < date(self.year + 1, 1, 1))
        if self.state:
            query = query.where(Agreement.status == AgreementStatus(self.state))
        if self.q:
            pattern = f"%{self.q.replace('%', '').replace('_', '')}%"
            query = query.where(or_(
                Agreement.reference.ilike(pattern),
                Agreement.police_station.ilike(pattern),
                Agreement.parties.any(Party.municipality.has(Municipality.name.ilike(pattern))),
                Agreement.signature_slots.any(or_(SignatureSlot.name.ilike(pattern), SignatureSlot.signer_name.ilike(pattern))),
            ))
        return query


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def archived(query: Select[tuple[Agreement]]) -> Select[tuple[Agreement]]:
    """Only the signed agreements (active, renewal due, superseded, expired) of ``query`` that have their
    signed PDF, newest first."""
    return query.where(
        Agreement.status.in_(SIGNED_STATES), Agreement.document.has(AgreementDocument.signed_pdf.is_not(None))
    ).order_by(
        Agreement.active_from.desc(), Agreement.reference, Agreement.version.desc())


# ---------------------------------------------------------------- the files


def file_stem(agreement: Agreement) -> str:
    """``PR-2026-00001-v1``: the start of every file name of the agreement's package."""
    return pdf_filename(agreement, draft=False).removesuffix(".pdf")


def signed_pdf_name(agreement: Agreement) -> str:
    return pdf_filename(agreement, draft=False, kind="signert")


def rendition_name(agreement: Agreement, rendition: DocumentRendition) -> str:
    """``PR-2026-00001-v1-signert-revisjon-4.pdf``: an earlier rendition of the signed PDF, by its revision."""
    return f"{signed_pdf_name(agreement).removesuffix('.pdf')}-revisjon-{rendition.revision}.pdf"


def package_name(agreement: Agreement) -> str:
    return f"{file_stem(agreement)}-arkiv.zip"


def signed_pdf(agreement: Agreement) -> bytes:
    """The signed PDF exactly as stored."""
    document = agreement.document
    if document is None or document.signed_pdf is None:
        raise LookupError(f"{agreement.reference} v{agreement.version} has no signed document")
    return document.signed_pdf


def evaluation_pdf(agreement: Agreement) -> bytes | None:
    """The evaluation made of the agreement when it was renewed, as a PDF, or None where there is none."""
    return evaluation.evaluation_pdf(agreement) if evaluation.has_evaluation(agreement) else None


def validation_report(agreement: Agreement) -> dict[str, Any]:
    """The signature validation report of the agreement's signed PDF as ``POST /verify.json`` gives it,
    from the report stored when it was closed (made and stored now where there is none); ``error`` where
    the file cannot be verified at all. Worded in the page's language, or outside a request (the CLI) in
    the default one."""
    from ..signing import verify
    from ..validation_reports import report_for_agreement
    from ..verify_page import error_message, report_json

    words = nullcontext() if has_request_context() else force_locale(current_app.config["BABEL_DEFAULT_LOCALE"])
    with words:
        try:
            return report_json(report_for_agreement(agreement))
        except verify.VerificationError as error:  # a validator failure is reported, not raised
            return {"verdict": "error", "error": error.code, "message": error_message(error)}


def etsi_report(agreement: Agreement) -> bytes:
    """The ETSI TS 119 102-2 XML report stored with the agreement (made now where there is none)."""
    from ..validation_reports import etsi_report_for_agreement

    return etsi_report_for_agreement(agreement).encode("utf-8")


def audit_trail(agreement: Agreement) -> list[dict[str, Any]]:
    """Every audit event of the agreement, oldest first."""
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.agreement_id == agreement.id).order_by(AuditEvent.at, AuditEvent.id))
    return [
        {"at": _iso(event.at), "action": event.action, "detail": event.detail,
         "user": event.user.name if event.user else None, "user_email": event.user.email if event.user else None,
         **({"signer": event.signer_name} if event.signer_name else {}),
         "remote_address": event.remote_address}
        for event in events
    ]


def versions(agreement: Agreement) -> list[dict[str, Any]]:
    """The versions that have left the draft stage, for the metadata."""
    return [
        {"id": version.id, "reference": version.reference, "version": version.version, "status": version.status.value,
         "previous_version_id": version.previous_version_id, "renewal_of_id": version.renewal_of_id,
         "active_from": _iso(version.active_from)}
        for version in versions_of(agreement, drafts=False)
    ]


def metadata(agreement: Agreement, files: Mapping[str, bytes]) -> dict[str, Any]:
    """What an archive needs to know of the agreement, with the SHA-256 of each of ``files``."""
    document = agreement.document
    district = agreement.police_district
    return {
        "format": PACKAGE_FORMAT,
        "agreement": {
            "id": agreement.id, "reference": agreement.reference, "version": agreement.version,
            "status": agreement.status.value,
            "written_standard": agreement.written_standard.value if agreement.written_standard else None,
            "created_at": _iso(agreement.created_at), "start_date": _iso(agreement.start_date),
            "active_from": _iso(agreement.active_from), "renewal_due_on": _iso(agreement.renewal_due_on),
            "place": agreement.place, "previous_version_id": agreement.previous_version_id,
            "renewal_of_id": agreement.renewal_of_id,
        },
        "parties": [
            {"municipality_number": party.municipality_number, "name": party.municipality.name,
             "county": party.municipality.county.name}
            for party in agreement.parties
        ],
        "police": {"district": district.name_bokmal if district else None, "station": agreement.police_station},
        "signatories": [
            {"field": slot.field_name, "role": slot.role.value, "name": slot.shown_name, "name_in_agreement": slot.name,
             "title": slot.title,
             "organisation": slot.organisation_name, "email": slot.email, "signed_at": _iso(slot.signed_at),
             "key_source": slot.key_source,
             # How the identity provider proved the signatory just before signing (Noark's «elektronisk
             # signatur sikkerhetsnivå»); all null when a password confirmed the signature.
             "authentication": {"acr": slot.authentication_acr, "amr": slot.authentication_amr,
                                "authenticated_at": _iso(slot.authenticated_at)}}
            for slot in agreement.signature_slots
        ],
        "document": {
            "finalised_at": _iso(document.created_at) if document else None,
            "finalised_sha256": document.sha256 if document else None,
            "signed_sha256": document.signed_sha256 if document else None,
            "pades_level": document.pades_level if document else None,
            "revision": document.revision if document else None,
            # Would it still validate in 30 years with the data it holds (checked when it was closed)?
            "future_validation": {
                "result": document.future_validation_result, "simulated_at": _iso(document.future_validation_time),
                "checked_at": _iso(document.future_validation_checked_at),
            } if document and document.future_validation_result else None,
            # The signed PDF as it was before each renewal of its archival time-stamp.
            "previous_renditions": [
                {"revision": rendition.revision, "sha256": rendition.sha256, "size": rendition.size,
                 "replaced_at": _iso(rendition.replaced_at), "reason": rendition.reason}
                for rendition in document.renditions
            ] if document else [],
        },
        "versions": versions(agreement),
        "files": [{"name": name, "sha256": sha256_hex(data), "size": len(data)} for name, data in files.items()],
    }


def metadata_xml(meta: Mapping[str, Any]) -> bytes:
    """The metadata as XML: root ``<agreement-package>`` in the namespace :data:`XML_NAMESPACE`, UTF-8."""
    ElementTree.register_namespace("", XML_NAMESPACE)
    root = ElementTree.Element(f"{{{XML_NAMESPACE}}}agreement-package")
    _to_xml(root, meta)
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _to_xml(parent: ElementTree.Element, value: Any, key: str = "") -> None:
    if isinstance(value, Mapping):
        for name, item in value.items():
            child = ElementTree.SubElement(parent, f"{{{XML_NAMESPACE}}}{name.replace('_', '-')}")
            _to_xml(child, item, name)
    elif isinstance(value, list):
        for item in value:
            _to_xml(ElementTree.SubElement(parent, f"{{{XML_NAMESPACE}}}{_XML_ITEMS.get(key, 'item')}"), item)
    elif value is not None:
        parent.text = str(value).lower() if isinstance(value, bool) else str(value)


def json_bytes(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _iso(value: date | datetime | None) -> str | None:
    """ISO 8601; a time always with its offset (UTC, as stored: some databases hand it back without one)."""
    if isinstance(value, datetime):
        value = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    return value.isoformat() if value is not None else None


def package_files(agreement: Agreement) -> dict[str, bytes]:
    """The files of the agreement's archive package by name, in the order they are packed."""
    files = {signed_pdf_name(agreement): signed_pdf(agreement)}
    evaluation = evaluation_pdf(agreement)
    if evaluation is not None:
        files[pdf_filename(agreement, draft=False, kind="evaluering")] = evaluation
    report = validation_report(agreement)
    files["validation-report.json"] = json_bytes(report)
    if "error" not in report:  # a file the validator could read has its ETSI report too
        files["validation-report-etsi.xml"] = etsi_report(agreement)
    files["audit-trail.json"] = json_bytes(audit_trail(agreement))
    meta = metadata(agreement, files)
    files["metadata.json"] = json_bytes(meta)
    files["metadata.xml"] = metadata_xml(meta)
    return files


def _zip_time(agreement: Agreement) -> tuple[int, int, int, int, int, int]:
    day = agreement.active_from or (agreement.document.created_at if agreement.document else agreement.created_at)
    return (max(day.year, 1980), day.month, day.day, 0, 0, 0)


def _write(archive: zipfile.ZipFile, name: str, data: bytes, when: tuple[int, int, int, int, int, int]) -> None:
    info = zipfile.ZipInfo(name, date_time=when)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)


def package_zip(agreement: Agreement) -> bytes:
    """The agreement's archive package as a ZIP."""
    return bundle_zip([agreement], folders=False)


def bundle_zip(agreements: Iterable[Agreement], *, folders: bool = True) -> bytes:
    """Several packages in one ZIP, each in a folder named by its stem (``PR-2026-00001-v1/``)."""
    buffer = io.BytesIO()
    write_bundle(buffer, agreements, folders=folders)
    return buffer.getvalue()


def write_bundle(target: Any, agreements: Iterable[Agreement], *, folders: bool = True,
                 progress: Callable[[int], None] | None = None) -> None:
    """Write :func:`bundle_zip`'s ZIP to ``target`` (a path or a binary file), calling ``progress`` with the
    number of packages written after each one."""
    with zipfile.ZipFile(target, "w") as archive:
        for count, agreement in enumerate(agreements, start=1):
            prefix = f"{file_stem(agreement)}/" if folders else ""
            when = _zip_time(agreement)
            for name, data in package_files(agreement).items():
                _write(archive, prefix + name, data, when)
            if progress is not None:
                progress(count)
