"""Verifying a signed agreement: per signature and overall (ETSI EN 319 102-1 validation, PAdES levels of
ETSI EN 319 142-1, ISO 32000-2 § 12.8 modification detection).

The report says, for each signature, who signed, into which field, when (and whether that time comes
from an RFC 3161 time-stamp token or is only claimed by the signer), the certificate chain and whether it
leads to a trusted root (RFC 5280 § 6), whether the signed bytes are intact, how the document changed
after signing and whether that change was allowed (pyHanko's difference analysis, not only the digest:
a digest check alone accepts a page changed in a later incremental update), and the PAdES level.

The report holds codes, not prose: the page words them. It holds plain JSON types only (str, int, bool,
None, lists): pyHanko's own strings still point into the parsed PDF, so a report made of them would drag
the whole reader along into every copy (``dataclasses.asdict``) and cache. Errors the page must tell
apart are raised as :class:`VerificationError` subclasses with a ``code``.

Speed: the difference analysis (pyHanko's ``StandardDiffPolicy``) runs once per document, one revision
against the one before, and every signature takes the worst change made after its own revision
(:func:`_document_changes`); the signatures are then validated without a diff of their own against
validation contexts shared by every signature of the document.
"""
from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, DiffResult, ModificationLevel, SuspiciousModification
from pyhanko.sign.validation import dss
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko.sign.validation.pdf_embedded import (
    EmbeddedPdfSignature,
    async_validate_pdf_signature,
    async_validate_pdf_timestamp,
)
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers.api import FetcherBackend

from .pades import PadesLevel, _level_of, certificates_in, has_signature_timestamp
from . import seed_values, shared_analysis

__all__ = [
    "CorruptPdf",
    "DocumentTimestampReport",
    "EncryptedPdf",
    "NotAPdf",
    "PdfTooLarge",
    "SignatureReport",
    "VerificationError",
    "VerificationReport",
    "Verdict",
    "verify_pdf",
]

DEFAULT_MAX_BYTES = 20 * 1024 * 1024


class VerificationError(Exception):
    """The file cannot be verified at all; ``code`` names the reason."""

    code = "unreadable"


class NotAPdf(VerificationError):
    code = "not_pdf"


class CorruptPdf(VerificationError):
    """Truncated or structurally broken."""

    code = "corrupt"


class EncryptedPdf(VerificationError):
    code = "encrypted"


class PdfTooLarge(VerificationError):
    code = "too_large"


class Verdict:
    """Overall verdict codes, worst first."""

    ALTERED = "altered"  # a signature is not intact, or the document changed in a way not allowed
    INVALID = "invalid"  # a signature is cryptographically invalid or could not be checked
    REVOKED = "revoked"  # intact, but a signer's certificate was revoked (CRL or OCSP) before the time it is validated at
    UNTRUSTED = "untrusted"  # intact, but a certificate chain does not lead to a trusted root
    FIELD_RULES_BROKEN = "field_rules_broken"  # a signature breaks its field's seed values (ISO 32000-1 § 12.7.4.5)
    UNSIGNED = "unsigned"  # no signature at all
    INCOMPLETE = "incomplete"  # all good so far, but signature fields remain empty
    VALID = "valid"


@dataclass
class SignatureReport:
    """One signature (ETSI EN 319 102-1 terms where they apply)."""

    field: str
    signer_name: str | None
    signer_organisation: str | None
    signer_email: str | None
    certification: bool  # the certification (DocMDP) signature, else an approval
    signing_time: str | None  # ISO 8601
    signing_time_source: str  # "timestamp" (RFC 3161 token, trusted or not) | "claimed" | "none"
    timestamp_trusted: bool | None
    chain: list[str]  # certificate subjects, signer first
    trusted: bool
    intact: bool  # the digest of the signed byte ranges matches
    valid: bool  # the cryptographic signature verifies
    covers_whole_document: bool
    modification_level: str | None  # pyHanko ModificationLevel name: NONE, LTA_UPDATES, FORM_FILLING, ANNOTATIONS, OTHER
    changes_allowed: bool  # the changes after signing are allowed (DocMDP and pyHanko's diff policy)
    pades_level: str
    problem: str | None = None  # AdES sub-indication or error code, when something failed
    seed_value_problems: list[str] = field(default_factory=list)  # see portal.signing.seed_values.problems
    chain_names: list[str] = field(default_factory=list)  # the chain by name (common name, organisation), signer first
    revoked: bool = False  # the signer's certificate (or a CA above it) was revoked


@dataclass
class DocumentTimestampReport:
    """A document time-stamp (ISO 32000-2 § 12.8.5)."""

    field: str
    time: str | None
    tsa: str | None
    intact: bool
    valid: bool
    trusted: bool
    modification_level: str | None
    changes_allowed: bool


@dataclass
class VerificationReport:
    """The whole document: verdict, PAdES level, signatures in signing order, document time-stamps."""

    verdict: str
    pades_level: str
    signatures: list[SignatureReport] = field(default_factory=list)
    document_timestamps: list[DocumentTimestampReport] = field(default_factory=list)
    empty_signature_fields: list[str] = field(default_factory=list)
    revisions: int = 0
    sha256: str = ""  # of the file verified
    # Serial numbers (hex) of every certificate the file carries: which revocations can change this report.
    certificate_serials: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VerificationReport:
        """The report again from :meth:`as_dict` (a stored or cached report)."""
        return cls(
            verdict=data["verdict"], pades_level=data["pades_level"],
            signatures=[SignatureReport(**entry) for entry in data.get("signatures", [])],
            document_timestamps=[DocumentTimestampReport(**entry) for entry in data.get("document_timestamps", [])],
            empty_signature_fields=list(data.get("empty_signature_fields", [])), revisions=data.get("revisions", 0),
            sha256=data.get("sha256", ""), certificate_serials=list(data.get("certificate_serials", [])),
        )


def verify_pdf(
    data: bytes,
    trust_roots: Iterable[asn1_x509.Certificate],
    max_bytes: int = DEFAULT_MAX_BYTES,
    *,
    allow_fetching: bool = False,
    validation_time: datetime | None = None,
    crls: Iterable[bytes] = (),
    fetcher_backend: FetcherBackend | None = None,
) -> VerificationReport:
    """Verify every signature and document time-stamp in ``data`` against ``trust_roots``.

    Validation data comes from the document's DSS, and from ``fetcher_backend`` when given (the portal's
    own CA answered in-process, :mod:`.pki_fetchers`), or else, with ``allow_fetching``, from the network.
    A signature covered by a later document time-stamp is validated at that time-stamp's time, and so is
    a document time-stamp covered by a later one, so a B-LTA document still validates once its
    certificates, and the certificates of its earlier time-stamps' TSAs, have expired (ETSI EN 319 102-1
    § 5.6.2; the chain of time-stamps of § 5.6.3). The last time-stamp is validated at
    ``validation_time``: now, unless a test asks what a validator would say at another moment, with the
    revocation data (``crls``, DER) a validator would fetch then.
    """
    reader = _open(data, max_bytes)
    report = asyncio.run(_verify(reader, list(trust_roots), allow_fetching, validation_time, list(crls), fetcher_backend))
    report.sha256 = hashlib.sha256(data).hexdigest()
    report.certificate_serials = sorted({format(cert.serial_number, "x") for cert in certificates_in(reader)})
    return report


def _open(data: bytes, max_bytes: int) -> PdfFileReader:
    if len(data) > max_bytes:
        raise PdfTooLarge(f"The file is larger than {max_bytes} bytes.")
    if b"%PDF-" not in data[:1024]:
        raise NotAPdf("The file is not a PDF.")
    if not data.rstrip().endswith(b"%%EOF"):  # a complete PDF ends with %%EOF and a line end (ISO 32000-2 § 7.5.5)
        raise CorruptPdf("The PDF is truncated.")
    try:
        reader = shared_analysis.reader_for(data)  # the job's other readings of the file share it
        encrypted = reader.encrypt_dict is not None
        if not encrypted:
            reader.root  # noqa: B018  (resolve the catalogue now, to catch broken files here)
            reader.embedded_signatures  # noqa: B018
    except (PdfError, ValueError, KeyError, TypeError, IndexError) as error:
        raise CorruptPdf(f"The PDF cannot be read: {error}") from error
    if encrypted:
        raise EncryptedPdf("The PDF is encrypted.")
    return reader


async def _verify(reader: PdfFileReader, trust_roots: list[asn1_x509.Certificate], allow_fetching: bool,
                  validation_time: datetime | None, crls: list[bytes],
                  fetcher_backend: FetcherBackend | None) -> VerificationReport:
    try:
        store = dss.DocumentSecurityStore.read_dss(reader)
    except Exception:  # no DSS, or an unreadable one: validate without it
        store = None
    contexts: dict[datetime | None, ValidationContext] = {}

    def context(moment: datetime | None = None) -> ValidationContext:
        """One context (and so one fetcher and one cache of validated paths) per validation time."""
        if moment not in contexts:
            kwargs: dict[str, Any] = {
                "trust_roots": trust_roots,
                "allow_fetching": allow_fetching or fetcher_backend is not None,
                "revocation_mode": "soft-fail",
                "moment": moment or validation_time,
                "crls": crls,
            }
            if fetcher_backend is not None:
                kwargs["fetcher_backend"] = fetcher_backend
            contexts[moment] = store.as_validation_context(kwargs) if store is not None else ValidationContext(**kwargs)
        return contexts[moment]

    level = _level_of(reader)
    report = VerificationReport(verdict=Verdict.VALID, pades_level=level.value, revisions=reader.xrefs.total_revisions)
    shared_analysis.analyse_changes(reader)  # _document_changes, once per reader

    def covered_at(revision: int) -> datetime | None:
        """The time of the first good document time-stamp after ``revision``: what it proves existed then
        is validated at that time (None: at the validation time)."""
        later = [t for sig, r, t in timestamps if sig.signed_revision > revision and r.intact and r.valid and r.trusted and t]
        return min(later) if later else None

    # The last document time-stamp first: each earlier one is validated at the time of the later ones.
    timestamps: list[tuple[EmbeddedPdfSignature, DocumentTimestampReport, datetime | None]] = []
    for embedded in reversed(reader.embedded_timestamp_signatures):
        ts_report, ts_time = await _document_timestamp(embedded, context(covered_at(embedded.signed_revision)))
        timestamps.append((embedded, ts_report, ts_time))
    timestamps.reverse()
    report.document_timestamps = [ts_report for _sig, ts_report, _time in timestamps]

    for embedded in reader.embedded_regular_signatures:
        # The signature and its own time-stamp token are both covered by the document time-stamp.
        moment = covered_at(embedded.signed_revision)
        report.signatures.append(await _signature(embedded, context(moment), context(moment), level))

    report.empty_signature_fields = [str(name) for name, value, _ in fields.enumerate_sig_fields(reader, filled_status=False)]
    report.verdict = _verdict(report)
    if report.verdict in (Verdict.ALTERED, Verdict.INVALID):
        report.pades_level = PadesLevel.NONE.value  # an altered or broken document reaches no level at all
    return report


def _document_changes(reader: PdfFileReader) -> None:
    """Run pyHanko's difference analysis once for the whole document and give every signature (and
    document time-stamp) its result, so that validating it needs no diff of its own (``skip_diff``).

    Each revision after the first signed one is compared, as pyHanko's ``review_file`` does, with the
    signed revision it follows (the latest signed revision before it), under the certification's DocMDP
    permission (ISO 32000-2 § 12.8.2.2) where the document is certified; a signature's result is the worst
    change among all revisions after its own. So each revision is compared once, and each signed revision
    is indexed once, where pyHanko compares every later revision again for every signature. A signature whose field carries a FieldMDP lock (/Lock) gets
    pyHanko's own review, since the lock is its own. Signatures over the whole file need no diff at all.
    """
    signatures = list(reader.embedded_signatures)
    if not signatures:
        return
    certification = next((sig for sig in signatures if sig.docmdp_level is not None), None)
    first = min(sig.signed_revision for sig in signatures)
    changes: dict[int, DiffResult | SuspiciousModification] = {}
    signed_revisions = sorted({sig.signed_revision for sig in signatures})
    for revision in range(first + 1, reader.xrefs.total_revisions):
        base = max(signed for signed in signed_revisions if signed < revision)
        doc_mdp = certification.docmdp_level if certification is not None and certification.signed_revision <= base else None
        try:
            changes[revision] = DEFAULT_DIFF_POLICY.apply(
                old=reader.get_historical_resolver(base), new=reader.get_historical_resolver(revision), doc_mdp=doc_mdp)
        except SuspiciousModification as suspicious:
            changes[revision] = suspicious
        except Exception as error:  # noqa: BLE001 — a revision the analysis cannot read is not an allowed change
            changes[revision] = SuspiciousModification(f"revision {revision} could not be compared: {error}")
    for sig in signatures:
        if sig.fieldmdp is not None:
            continue  # validated with its own diff
        coverage = sig.evaluate_signature_coverage()
        if coverage < SignatureCoverageLevel.ENTIRE_REVISION:  # as pyHanko: an odd byte range explains nothing
            sig.diff_result = SuspiciousModification("Nonstandard signature coverage level")
            continue
        later = [changes[revision] for revision in changes if revision > sig.signed_revision]
        suspicious = next((change for change in later if isinstance(change, SuspiciousModification)), None)
        if suspicious is not None:
            sig.diff_result = suspicious
        else:
            results = [change for change in later if isinstance(change, DiffResult)]
            sig.diff_result = DiffResult(
                max((result.modification_level for result in results), default=ModificationLevel.NONE),
                set().union(*(result.changed_form_fields for result in results)),
            )


async def _signature(embedded: EmbeddedPdfSignature, vc: ValidationContext, ts_vc: ValidationContext, level: PadesLevel) -> SignatureReport:
    cert = embedded.signer_cert
    subject = cert.subject.native
    signature_level = level.value if level is not PadesLevel.B_B else PadesLevel.B_B.value
    if level is not PadesLevel.B_B and not has_signature_timestamp(embedded):
        signature_level = PadesLevel.B_B.value
    base = dict(
        field=str(embedded.field_name),
        signer_name=_text(subject.get("common_name")),
        signer_organisation=_text(subject.get("organization_name")),
        signer_email=_text(subject.get("email_address")),
        certification=embedded.docmdp_level is not None,
        pades_level=signature_level,
    )
    try:
        status = await async_validate_pdf_signature(embedded, signer_validation_context=vc, ts_validation_context=ts_vc,
                                                    skip_diff=embedded.diff_result is not None)
    except Exception as error:  # a malformed signature is reported, not raised
        return SignatureReport(
            **base, signing_time=None, signing_time_source="none", timestamp_trusted=None, chain=[subject_line(cert)],
            trusted=False, intact=False, valid=False, covers_whole_document=False, modification_level=None,
            changes_allowed=False, problem=type(error).__name__, chain_names=[certificate_name(cert)],
        )
    if status.timestamp_validity is not None:
        time, source, ts_trusted = status.timestamp_validity.timestamp, "timestamp", bool(status.timestamp_validity.trusted)
    elif status.signer_reported_dt is not None:
        time, source, ts_trusted = status.signer_reported_dt, "claimed", None
    else:
        time, source, ts_trusted = None, "none", None
    path = status.validation_path
    certificates = list(reversed(list(path))) if path is not None else [cert]
    chain = [subject_line(c) for c in certificates]
    modification = status.modification_level
    return SignatureReport(
        **base,
        signing_time=time.isoformat() if time else None,
        signing_time_source=source,
        timestamp_trusted=ts_trusted,
        chain=chain,
        trusted=bool(status.trusted),
        intact=bool(status.intact),
        valid=bool(status.valid),
        covers_whole_document=status.coverage is not None and status.coverage.name == "ENTIRE_FILE",
        modification_level=modification.name if modification is not None else None,
        changes_allowed=bool(status.docmdp_ok) and modification is not None and modification != ModificationLevel.OTHER,
        problem=str(status.trust_problem_indic.name) if status.trust_problem_indic is not None else None,
        seed_value_problems=seed_values.problems(embedded),
        chain_names=[certificate_name(c) for c in certificates],
        revoked=bool(status.revoked),
    )


async def _document_timestamp(embedded: EmbeddedPdfSignature, vc: ValidationContext) -> tuple[DocumentTimestampReport, datetime | None]:
    try:
        status = await async_validate_pdf_timestamp(embedded, validation_context=vc, skip_diff=embedded.diff_result is not None)
    except Exception:
        return DocumentTimestampReport(str(embedded.field_name), None, None, False, False, False, None, False), None
    modification = status.modification_level
    return (
        DocumentTimestampReport(
            field=str(embedded.field_name),
            time=status.timestamp.isoformat(),
            tsa=certificate_name(status.signing_cert),
            intact=bool(status.intact),
            valid=bool(status.valid),
            trusted=bool(status.trusted),
            modification_level=modification.name if modification is not None else None,
            # pyHanko sets no DocMDP verdict on document time-stamps: the diff analysis decides.
            changes_allowed=status.docmdp_ok is not False and modification is not None and modification != ModificationLevel.OTHER,
        ),
        status.timestamp,
    )


def subject_line(cert: asn1_x509.Certificate) -> str:
    return str(cert.subject.human_friendly)


def certificate_name(cert: asn1_x509.Certificate) -> str:
    """Who a certificate names, without attribute labels (which would be English): «common name,
    organisation», either alone where the other is missing or the same."""
    subject = cert.subject.native
    parts = [_text(subject.get("common_name")), _text(subject.get("organization_name"))]
    names = [part for index, part in enumerate(parts) if part and part not in parts[:index]]
    return ", ".join(names) or subject_line(cert)


def _text(value: object) -> str | None:
    """A certificate attribute as a plain string (a multi-valued one joined), or None."""
    if value is None:
        return None
    return ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def _verdict(report: VerificationReport) -> str:
    entries: list[SignatureReport | DocumentTimestampReport] = [*report.signatures, *report.document_timestamps]
    if not report.signatures:
        return Verdict.UNSIGNED if not report.document_timestamps else _verdict_of(entries, report)
    return _verdict_of(entries, report)


def _verdict_of(entries: list[SignatureReport | DocumentTimestampReport], report: VerificationReport) -> str:
    if any(not entry.intact or not entry.changes_allowed for entry in entries):
        return Verdict.ALTERED
    if any(not entry.valid for entry in entries):
        return Verdict.INVALID
    if any(isinstance(entry, SignatureReport) and entry.revoked for entry in entries):
        return Verdict.REVOKED
    if any(not entry.trusted for entry in entries):
        return Verdict.UNTRUSTED
    if any(isinstance(entry, SignatureReport) and entry.seed_value_problems for entry in entries):
        return Verdict.FIELD_RULES_BROKEN
    if not report.signatures:
        return Verdict.UNSIGNED
    if report.empty_signature_fields:
        return Verdict.INCOMPLETE
    return Verdict.VALID
