"""A Noark 5 v5.0 extraction package («arkivuttrekk») of signed agreements, as Arkivverket's schemas define it.

The package (:func:`extraction_files`, written by ``flask archive export --format noark5`` and the archive's
«Noark 5» button) holds:

- ``arkivstruktur.xml``: one ``arkiv`` → one ``arkivdel`` → one ``saksmappe`` per agreement reference → one
  ``journalpost`` per version that left the draft stage (finalised, signed, declined, superseded, expired).
  Its main document is the signed PDF/A (or, unsigned, the finalised one), ``fmt/477``, ``Arkivformat``,
  SHA-256; attachments are the evaluation PDF and, for signed versions, the validation report.
  Parties are ``korrespondansepart`` (the reference data has no organisation numbers, so none are given);
  dates in force and of renewal are in the journal post's ``virksomhetsspesifikkeMetadata`` (``xs:anyType``
  in the schema: our own elements, namespace :data:`PORTAL_NS`), as is every signature with the details its
  certificate and the portal's validation give (signer, time, PAdES level, issuer, serial number, key
  source, security level) and the portal's seal.
  The signed document's ``elektroniskSignatur`` records the portal's validation: M507 (see
  :func:`security_level`), M508, M622 the day of the validation report stored with the agreement (the
  extraction's day only where there is none), M623 the portal.
- ``endringslogg.xml``: the one change every signed document has had: its checksum, when signing replaced the
  finalised PDF by the signed one.
- ``arkivuttrekk.xml`` (ADDML 8.3): what the package is and the SHA-256 of each XML file.
- the schemas, unmodified, and ``DOKUMENT/<reference>/<file>``.

Identifiers (``systemID``) are UUID 5 of the portal's ids, so the same data gives the same package.
"""
from __future__ import annotations

import hashlib
import io
import uuid
import zipfile
from datetime import date, datetime, timezone
from itertools import groupby
from pathlib import Path
from typing import Any, Iterable

from lxml import etree

from .. import clock
from ..access import SIGNED_STATES
from ..agreements.lifecycle import versions_of
from ..models import Agreement, AgreementStatus, SignatureSlot
from .package import evaluation_pdf, file_stem, json_bytes, validation_report

N5 = "http://www.arkivverket.no/standarder/noark5/arkivstruktur"
N5_LOG = "http://www.arkivverket.no/standarder/noark5/endringslogg"
ADDML = "http://www.arkivverket.no/standarder/addml"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
PORTAL = "Politirådsportalen"
#: The portal's own metadata inside ``virksomhetsspesifikkeMetadata``.
PORTAL_NS = "urn:politiradsportalen:noark5:1"
SCHEMAS = {"noark5-v5.0": ("arkivstruktur.xsd", "metadatakatalog.xsd", "endringslogg.xsd"), "addml-8.3": ("addml.xsd",)}
_IDS = uuid.UUID("7f1c3f2e-4d8a-5b7e-9c61-0a2b3c4d5e6f")

#: M507 (elektroniskSignaturSikkerhetsnivaa). Arkivverket's metadatakatalog.xsd leaves it a string; the
#: catalogue's code list (as KS's Fiks Arkiv code list spells it: SK, V, PS, PH) has these values.
SEAL_LEVEL = "Sendt med PKI/virksomhetssertifikat"  # V: an organisation's certificate (the portal's seal)
STANDARD_LEVEL = "Sendt med PKI/'person standard'-sertifikat"  # PS
HIGH_LEVEL = "Sendt med PKI/'person høy'-sertifikat"  # PH
#: Key sources whose key can be in a qualified signature creation device (a qualified remote signing
#: service, a token); a key in a browser, a PKCS#12 file or kept by the portal is software.
DEVICE_SOURCES = ("csc", "pkcs11")
_QC_STATEMENTS = "1.3.6.1.5.5.7.1.3"  # RFC 3739 qcStatements
_QC_SSCD = bytes.fromhex("060604008e460104")  # DER of ETSI EN 319 412-5 QcSSCD, 0.4.0.1862.1.4
#: M508, for a signature the portal validated / could not validate.
VERIFIED = "Signatur påført og verifisert"
NOT_VERIFIED = "Signatur påført, ikke verifisert"


def security_level(certificate: Any, key_source: str | None) -> str:
    """M507 for one signatory's signature. «Person høy» is a qualified electronic signature: a certificate whose
    issuer states (QcSSCD) that the key is in a qualified signature creation device, used through a key source
    that can be one (a qualified remote service over the CSC API, or a PKCS#11 token). Everything else a
    signatory can use here (a key in the browser, a PKCS#12 file, the portal-held key, a remote service or a
    token without a qualified certificate) makes an advanced signature with a personal certificate: «person
    standard». The portal's seal is «virksomhetssertifikat» (:data:`SEAL_LEVEL`); a document is recorded at
    the weakest level among its signatories' signatures."""
    if certificate is not None and key_source in DEVICE_SOURCES:
        for extension in certificate["tbs_certificate"]["extensions"] or []:
            if extension["extn_id"].dotted == _QC_STATEMENTS and _QC_SSCD in extension["extn_value"].contents:
                return HIGH_LEVEL
    return STANDARD_LEVEL


def signature_details(version: Agreement) -> dict[str | None, dict[str, str]]:
    """For each signature in the version's signed PDF, by field name (the seal under ``None``): the details
    its certificate (signer, issuer, serial number) and the portal's validation report (time, PAdES level,
    verified) give, and its M507 level."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    from ..validation_reports import report_for_agreement
    from ..signing import verify

    document = version.document
    if document is None or document.signed_pdf is None:
        return {}
    try:
        checked = {signature.field: signature for signature in report_for_agreement(version).signatures}
    except verify.VerificationError:
        checked = {}
    sources = {slot.field_name: slot.key_source for slot in version.signature_slots}
    try:
        embedded_signatures = PdfFileReader(io.BytesIO(document.signed_pdf), strict=False).embedded_regular_signatures
    except (PdfError, ValueError):  # not a PDF that can be read: the validation report says so
        return {}
    details: dict[str | None, dict[str, str]] = {}
    for embedded in embedded_signatures:
        certificate, report = embedded.signer_cert, checked.get(embedded.field_name)
        seal = embedded.field_name not in sources
        details[None if seal else embedded.field_name] = {
            "certificateName": certificate.subject.native.get("common_name") or certificate.subject.human_friendly,
            "certificateIssuer": certificate.issuer.human_friendly,
            "certificateSerialNumber": format(certificate.serial_number, "x"),
            "signingTime": report.signing_time if report else None,
            "signingTimeSource": report.signing_time_source if report else None,
            "padesLevel": report.pades_level if report else None,
            "verified": ("true" if report.valid and report.intact and report.trusted else "false") if report else None,
            "securityLevel": SEAL_LEVEL if seal else security_level(certificate, sources[embedded.field_name]),
        }
    return details


def schema_folder() -> Path:
    """``../shared/standards`` beside the project (as in CI and on the developers' machines)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent.parent / "shared" / "standards"
        if (candidate / "noark5-v5.0" / "arkivstruktur.xsd").is_file():
            return candidate
    raise FileNotFoundError("the standards' schemas (../shared/standards) were not found")


def _id(*parts: object) -> str:
    return str(uuid.uuid5(_IDS, ":".join(str(part) for part in parts)))


def _stamp(value: datetime | date) -> str:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat(timespec="seconds")
    return datetime(value.year, value.month, value.day, tzinfo=timezone.utc).isoformat()


class _Builder:
    """Appends elements in the order the schema demands; a value of None or "" is left out (no empty elements)."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace

    def add(self, parent: etree._Element, tag: str, value: Any = None, /) -> etree._Element | None:
        if value is None or value == "":
            return None
        element = etree.SubElement(parent, f"{{{self.namespace}}}{tag}")
        element.text = _stamp(value) if isinstance(value, (date, datetime)) else str(value)
        return element

    def node(self, parent: etree._Element, tag: str, /, **attributes: str) -> etree._Element:
        return etree.SubElement(parent, f"{{{self.namespace}}}{tag}", attributes)


def _date(value: date | datetime) -> str:
    return (value.date() if isinstance(value, datetime) else value).isoformat()


class Extraction:
    """The extraction of ``agreements`` (any version of a reference brings in the whole chain)."""

    def __init__(self, agreements: Iterable[Agreement], now: datetime) -> None:
        seen: dict[str, list[Agreement]] = {}
        for agreement in agreements:
            if agreement.reference not in seen:
                seen[agreement.reference] = versions_of(agreement, drafts=False)
        self.chains = [seen[reference] for reference in sorted(seen)]
        self.now = now
        self.documents: dict[str, bytes] = {}
        self.changes: list[dict[str, str]] = []
        self._details: dict[int, dict[str | None, dict[str, str]]] = {}

    def details(self, version: Agreement) -> dict[str | None, dict[str, str]]:
        if version.id not in self._details:
            self._details[version.id] = signature_details(version)
        return self._details[version.id]

    # ------------------------------------------------------------ arkivstruktur

    def arkivstruktur(self) -> bytes:
        n5 = _Builder(N5)
        root = etree.Element(f"{{{N5}}}arkiv", nsmap={None: N5, "xsi": XSI, "p": PORTAL_NS})
        root.set(f"{{{XSI}}}schemaLocation", f"{N5} arkivstruktur.xsd")
        first = min((v.created_at for chain in self.chains for v in chain), default=self.now)
        n5.add(root, "systemID", _id("arkiv"))
        n5.add(root, "tittel", "Politiråd: samarbeidsavtaler mellom kommune og politi")
        n5.add(root, "arkivstatus", "Avsluttet")
        n5.add(root, "opprettetDato", first)
        n5.add(root, "opprettetAv", PORTAL)
        n5.add(root, "avsluttetDato", self.now)
        n5.add(root, "avsluttetAv", PORTAL)
        creator = n5.node(root, "arkivskaper")
        n5.add(creator, "arkivskaperID", PORTAL)
        n5.add(creator, "arkivskaperNavn", PORTAL)
        part = n5.node(root, "arkivdel")
        n5.add(part, "systemID", _id("arkivdel"))
        n5.add(part, "tittel", "Politirådsavtaler")
        n5.add(part, "arkivdelstatus", "Avsluttet periode")
        n5.add(part, "opprettetDato", first)
        n5.add(part, "opprettetAv", PORTAL)
        n5.add(part, "avsluttetDato", self.now)
        n5.add(part, "avsluttetAv", PORTAL)
        for number, chain in enumerate(self.chains, start=1):
            self._saksmappe(n5, part, chain, number)
        return _serialise(root)

    def _saksmappe(self, n5: _Builder, parent: etree._Element, chain: list[Agreement], number: int) -> None:
        first, last = chain[0], chain[-1]
        folder = n5.node(parent, "mappe", **{f"{{{XSI}}}type": "saksmappe"})
        n5.add(folder, "systemID", _id("saksmappe", first.reference))
        n5.add(folder, "mappeID", first.reference)
        n5.add(folder, "tittel", f"Politirådsavtale: {_party_names(last)} og {_district(last)}")
        n5.add(folder, "opprettetDato", first.created_at)
        n5.add(folder, "opprettetAv", first.created_by.name or first.created_by.email)
        closed = last.status in (AgreementStatus.SUPERSEDED, AgreementStatus.EXPIRED)
        # The schema wants every folder of an extraction closed: one still in force is closed by the extraction.
        n5.add(folder, "avsluttetDato", last.updated_at if closed else self.now)
        n5.add(folder, "avsluttetAv", PORTAL)
        for journal_number, version in enumerate(chain, start=1):
            self._journalpost(n5, folder, version, journal_number)
        n5.add(folder, "saksaar", first.created_at.year)
        n5.add(folder, "sakssekvensnummer", number)
        n5.add(folder, "saksdato", _date(first.created_at))
        n5.add(folder, "administrativEnhet", last.owner_organisation.name)
        n5.add(folder, "saksansvarlig", first.created_by.name or first.created_by.email)
        n5.add(folder, "saksstatus", "Avsluttet" if closed else "Under behandling")

    def _journalpost(self, n5: _Builder, parent: etree._Element, version: Agreement, number: int) -> None:
        post = n5.node(parent, "registrering", **{f"{{{XSI}}}type": "journalpost"})
        document = version.document
        made = document.created_at if document else version.created_at
        n5.add(post, "systemID", _id("journalpost", version.id))
        n5.add(post, "opprettetDato", made)
        n5.add(post, "opprettetAv", PORTAL)
        n5.add(post, "arkivertDato", self.now)
        n5.add(post, "arkivertAv", PORTAL)
        signature = self._documents(n5, post, version)
        n5.add(post, "registreringsID", f"{version.reference}-v{version.version}")
        n5.add(post, "tittel", f"Politirådsavtale {version.reference} versjon {version.version}: "
                               f"{_party_names(version)} og {_district(version)}")
        self._portal_metadata(n5, post, version)
        for party in version.parties:
            self._correspondent(n5, post, party.municipality.name)
        if version.police_district is not None:
            self._correspondent(n5, post, version.police_district.name_bokmal)
        n5.add(post, "journalaar", made.year)
        n5.add(post, "journalsekvensnummer", version.id)
        n5.add(post, "journalpostnummer", number)
        n5.add(post, "journalposttype", "Organinternt dokument uten oppfølging")
        n5.add(post, "journalstatus", "Arkivert")
        n5.add(post, "journaldato", _date(made))
        n5.add(post, "dokumentetsDato", _date(version.active_from or made))
        n5.add(post, "antallVedlegg", len(post.findall(f"{{{N5}}}dokumentbeskrivelse")) - 1 or None)
        if signature is not None:
            post.append(signature)

    def _correspondent(self, n5: _Builder, post: etree._Element, name: str) -> None:
        correspondent = n5.node(post, "korrespondansepart")
        n5.add(correspondent, "korrespondanseparttype", "Intern avsender")
        n5.add(correspondent, "korrespondansepartNavn", name)

    def _portal_metadata(self, n5: _Builder, post: etree._Element, version: Agreement) -> None:
        """Dates in force and of renewal, the state and every signature: not in Noark's catalogue."""
        extra = n5.node(post, "virksomhetsspesifikkeMetadata")
        portal = _Builder(PORTAL_NS)
        portal.add(extra, "status", version.status.value)
        portal.add(extra, "startDate", version.start_date and version.start_date.isoformat())
        portal.add(extra, "activeFrom", version.active_from and version.active_from.isoformat())
        portal.add(extra, "renewalDueOn", version.renewal_due_on and version.renewal_due_on.isoformat())
        portal.add(extra, "expiresOn", version.expires_on and version.expires_on.isoformat())
        portal.add(extra, "renewalOf", version.renewal_of and f"{version.renewal_of.reference}-v{version.renewal_of.version}")
        portal.add(extra, "pades", version.document.pades_level if version.document else None)
        details = self.details(version)
        for slot in version.signature_slots:
            element = portal.node(extra, "signature")
            portal.add(element, "field", slot.field_name)
            portal.add(element, "role", slot.role.value)
            portal.add(element, "name", slot.shown_name)
            portal.add(element, "title", slot.title)
            portal.add(element, "organisation", slot.organisation_name)
            portal.add(element, "signedAt", slot.signed_at and _stamp(slot.signed_at))
            portal.add(element, "declinedAt", slot.declined_at and _stamp(slot.declined_at))
            portal.add(element, "keySource", slot.key_source if slot.signed_at else None)
            for name, value in details.get(slot.field_name, {}).items():
                portal.add(element, name, value)
        if None in details:  # the portal's seal, put on when the agreement was finalised
            element = portal.node(extra, "seal")
            for name, value in details[None].items():
                portal.add(element, name, value)
        if len(extra) == 0:
            post.remove(extra)

    def _documents(self, n5: _Builder, post: etree._Element, version: Agreement) -> etree._Element | None:
        """The document descriptions; returns the journal post's ``elektroniskSignatur`` for a signed version."""
        document = version.document
        if document is None:
            return None
        stem, folder = file_stem(version), f"DOKUMENT/{version.reference}"
        signed = document.signed_pdf
        main = signed if signed is not None else document.pdf
        report = validation_report(version) if signed is not None else None
        # Finalising seals the PDF (signed_pdf); it is «signed» once every signatory has signed.
        kind = "signert" if version.status in SIGNED_STATES else "ferdigstilt"
        files: list[tuple[str, str, str, bytes, datetime]] = [
            ("Hoveddokument", f"{stem}-{kind}.pdf", "fmt/477", main,
             _last_signature(version) or document.created_at)]
        evaluation = evaluation_pdf(version)
        if evaluation is not None:
            files.append(("Vedlegg", f"{stem}-evaluering.pdf", "fmt/477", evaluation, document.created_at))
        if report is not None:
            files.append(("Vedlegg", f"{stem}-valideringsrapport.json", "fmt/817", json_bytes(report), self.now))
        signature = None
        if signed is not None:
            details = self.details(version)
            levels = {detail["securityLevel"] for field, detail in details.items() if field is not None}
            if not levels:  # sealed, signed by no signatory yet (a declined version)
                level = SEAL_LEVEL if None in details else STANDARD_LEVEL
            else:  # the weakest of the signatories' signatures
                level = STANDARD_LEVEL if STANDARD_LEVEL in levels else HIGH_LEVEL
            verified_on = document.validated_at or self.now  # the stored report's validation
            signature = _signature(n5, report, level, verified_on)
        for number, (role, name, puid, data, made) in enumerate(files, start=1):
            path = f"{folder}/{name}"
            self.documents[path] = data
            description = n5.node(post, "dokumentbeskrivelse")
            n5.add(description, "systemID", _id("dokumentbeskrivelse", version.id, number))
            n5.add(description, "dokumenttype", "Avtale" if number == 1 else "Rapport")
            n5.add(description, "dokumentstatus", "Dokumentet er ferdigstilt")
            n5.add(description, "tittel", {"signert": "Signert avtale", "ferdigstilt": "Ferdigstilt avtale, ikke signert av alle",
                                           "evaluering": "Evaluering av avtalen",
                                           "valideringsrapport": "Valideringsrapport for signaturene"}[name.rsplit("-", 1)[1].split(".")[0]])
            n5.add(description, "opprettetDato", made)
            n5.add(description, "opprettetAv", PORTAL)
            n5.add(description, "tilknyttetRegistreringSom", role)
            n5.add(description, "dokumentnummer", number)
            n5.add(description, "tilknyttetDato", made)
            n5.add(description, "tilknyttetAv", PORTAL)
            obj = n5.node(description, "dokumentobjekt")
            object_id = _id("dokumentobjekt", version.id, number)
            n5.add(obj, "systemID", object_id)
            n5.add(obj, "versjonsnummer", 1)
            n5.add(obj, "variantformat", "Arkivformat")
            n5.add(obj, "format", puid)
            n5.add(obj, "opprettetDato", made)
            n5.add(obj, "opprettetAv", PORTAL)
            n5.add(obj, "referanseDokumentfil", path)
            n5.add(obj, "sjekksum", hashlib.sha256(data).hexdigest())
            n5.add(obj, "sjekksumAlgoritme", "SHA256")
            n5.add(obj, "filstoerrelse", len(data))
            if number == 1 and signed is not None:
                obj.append(_signature(n5, report, level, verified_on))
                self.changes.append({"object": object_id, "at": _stamp(made), "by": _last_signer(version),
                                     "before": document.sha256, "after": hashlib.sha256(data).hexdigest()})
        return signature

    # ------------------------------------------------------------ endringslogg and arkivuttrekk

    def endringslogg(self) -> bytes:
        log = _Builder(N5_LOG)
        root = etree.Element(f"{{{N5_LOG}}}endringslogg", nsmap={None: N5_LOG})
        for change in self.changes:
            entry = log.node(root, "endring")
            log.add(entry, "referanseArkivenhet", change["object"])
            log.add(entry, "referanseMetadata", "sjekksum")
            log.add(entry, "endretDato", change["at"])
            log.add(entry, "endretAv", change["by"])
            log.add(entry, "tidligereVerdi", change["before"])
            log.add(entry, "nyVerdi", change["after"])
        return _serialise(root)

    def arkivuttrekk(self, files: dict[str, bytes]) -> bytes:
        addml = _Builder(ADDML)
        root = etree.Element(f"{{{ADDML}}}addml", nsmap={None: ADDML})
        dataset = addml.node(root, "dataset", name=_id("uttrekk", self.now.isoformat()))
        addml.add(dataset, "description", f"Noark 5-uttrekk fra {PORTAL}: {len(self.chains)} saksmappe(r), "
                                          f"{sum(len(c) for c in self.chains)} journalpost(er)")
        reference = addml.node(dataset, "reference")
        context = addml.node(reference, "context")
        elements = addml.node(context, "additionalElements")
        for name, value in (("systemType", "Noark5"), ("systemName", PORTAL), ("archivalPeriod", self.now.date().isoformat())):
            element = addml.node(elements, "additionalElement", name=name)
            addml.add(element, "value", value)
        objects = addml.node(dataset, "dataObjects")
        package = addml.node(objects, "dataObject", name="Noark 5 arkivuttrekk")
        properties = addml.node(package, "properties")
        for name, value in (("info", "Noark 5 v5.0"), ("documents", str(len(self.documents)))):
            prop = addml.node(properties, "property", name=name)
            addml.add(prop, "value", value)
        inner = addml.node(package, "dataObjects")
        for name, data in files.items():
            item = addml.node(inner, "dataObject", name=name.removesuffix(".xml"))
            props = addml.node(addml.node(item, "properties"), "property", name="file")
            nested = addml.node(props, "properties")
            for key, value in (("name", name), ("checksum", hashlib.sha256(data).hexdigest())):
                prop = addml.node(nested, "property", name=key)
                if key == "checksum":
                    sub = addml.node(prop, "properties")
                    for sub_key, sub_value in (("algorithm", "SHA256"), ("value", value)):
                        addml.add(addml.node(sub, "property", name=sub_key), "value", sub_value)
                else:
                    addml.add(prop, "value", value)
        return _serialise(root)


def _signature(n5: _Builder, report: dict[str, Any] | None, level: str, verified_on: datetime) -> etree._Element:
    element = etree.Element(f"{{{N5}}}elektroniskSignatur")
    n5.add(element, "elektroniskSignaturSikkerhetsnivaa", level)
    n5.add(element, "elektroniskSignaturVerifisert", VERIFIED if report and report.get("verdict") == "valid" else NOT_VERIFIED)
    n5.add(element, "verifisertDato", _oslo_day(verified_on))
    n5.add(element, "verifisertAv", PORTAL)
    return element


def _oslo_day(moment: datetime) -> str:
    """The Norwegian day of ``moment`` (SQLite gives naive UTC datetimes back)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(clock.OSLO).date().isoformat()


def _last_signature(version: Agreement) -> datetime | None:
    return max((slot.signed_at for slot in version.signature_slots if slot.signed_at), default=None)


def _last_signer(version: Agreement) -> str:
    signed = [slot for slot in version.signature_slots if slot.signed_at]
    return max(signed, key=lambda slot: slot.signed_at).shown_name if signed else PORTAL  # type: ignore[arg-type,return-value]


def _party_names(agreement: Agreement) -> str:
    return ", ".join(party.municipality.name for party in agreement.parties)


def _district(agreement: Agreement) -> str:
    return agreement.police_district.name_bokmal if agreement.police_district else "politiet"


def _serialise(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


def extraction_files(agreements: Iterable[Agreement], now: datetime | None = None) -> dict[str, bytes]:
    """Every file of the extraction by its path in the package."""
    extraction = Extraction(agreements, now or datetime.now(timezone.utc).replace(microsecond=0))
    xml = {"arkivstruktur.xml": extraction.arkivstruktur(), "endringslogg.xml": extraction.endringslogg()}
    files = {"arkivuttrekk.xml": extraction.arkivuttrekk(xml), **xml}
    folder = schema_folder()
    for sub, names in SCHEMAS.items():
        for name in names:
            files[name] = (folder / sub / name).read_bytes()
    files.update(extraction.documents)
    return files


def extraction_zip(agreements: Iterable[Agreement]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in extraction_files(agreements).items():
            archive.writestr(name, data)
    return buffer.getvalue()
