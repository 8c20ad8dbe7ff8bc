"""Renewing the archival time-stamp of signed agreements: ``flask archive renew-timestamps``, for cron.

A B-LTA document stays verifiable only while its last document time-stamp can be trusted: until the
certificate of the time-stamping authority (TSA) that made it expires, and while its digest algorithm is
still accepted. An agreement is due when its last document time-stamp's TSA certificate expires within
``TIMESTAMP_RENEWAL_MARGIN_DAYS`` (default 730), or when that time-stamp uses a digest algorithm not in
``ACCEPTED_TIMESTAMP_DIGESTS`` (default ``sha256 sha384 sha512``). Its renewal
(:func:`portal.signing.pades.renew_archival_timestamp`) adds fresh validation data for every certificate
in the document to its DSS and a new document time-stamp over it all, as an incremental update: the
earlier bytes stay a prefix of the new file.

The new file replaces the stored one only if it validates (the portal's own verification, now, at
B-LTA); otherwise nothing changes and the failure is reported. The old bytes are kept as a
:class:`~portal.models.DocumentRendition` with their SHA-256, the renewal is an audit event on the
agreement, the stored validation report is made again for the new bytes, and so is the check that the
document would still validate in 30 years (:mod:`portal.signing.future`).

Safe to run again, and on several servers at once: each new file is stored with ``UPDATE ... WHERE
revision = <the revision it was made from>`` (as every signature is), so of two runs renewing the same
agreement at the same moment one stores its file and the other stores nothing; a renewed agreement is
no longer due, so the next run leaves it alone.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from io import BytesIO

from flask import current_app
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.timestamps import TimestampRequestError
from sqlalchemy import select, update

from ..agreements.lifecycle import record_event
from ..agreements.signing import signing_setup
from ..documents import sha256_hex
from ..extensions import db
from ..models import Agreement, AgreementDocument, DocumentRendition
from ..signing import pades, verify
from ..signing.shared_analysis import sharing_readers
from ..signing.verify import certificate_name
from ..validation_reports import cached_report, check_future_validation, store_validation_report
from .package import archived

__all__ = ["LastTimestamp", "Outcome", "due_for_renewal", "last_timestamp", "renew", "renew_due", "renewal_reason"]


@dataclass(frozen=True)
class LastTimestamp:
    """The last document time-stamp of a PDF: its time, its TSA, when the TSA's certificate expires, and
    the digest algorithms it uses (of the signature over the token and of the document's imprint)."""

    time: datetime
    tsa: str
    tsa_expires: datetime
    digests: frozenset[str]


def last_timestamp(pdf: bytes) -> LastTimestamp | None:
    """The last document time-stamp of ``pdf``, or None where it has none (not B-LTA)."""
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    timestamps = reader.embedded_timestamp_signatures
    if not timestamps:
        return None
    last = timestamps[-1]
    cert = last.signer_cert
    info = last.signed_data["encap_content_info"]["content"].parsed
    digests = {last.signer_info["digest_algorithm"]["algorithm"].native,
               info["message_imprint"]["hash_algorithm"]["algorithm"].native}
    return LastTimestamp(info["gen_time"].native, certificate_name(cert), cert.not_valid_after, frozenset(digests))


def accepted_digests() -> list[str]:
    """``ACCEPTED_TIMESTAMP_DIGESTS``, in its order (a list, or a string separated by spaces or commas)."""
    setting = current_app.config["ACCEPTED_TIMESTAMP_DIGESTS"]
    names = setting if isinstance(setting, (list, tuple)) else re.split(r"[\s,]+", str(setting))
    return [name.strip().lower() for name in names if name.strip()]


def renewal_reason(pdf: bytes, now: datetime, margin: timedelta, accepted: list[str]) -> tuple[str, str] | None:
    """Why ``pdf``'s archival time-stamp must be renewed at ``now``: a code (``tsa_expiring`` or
    ``digest_not_accepted``, see :data:`portal.labels.RENEWAL_REASON_LABELS`) and the detail; None where
    it need not be, or cannot be (no document time-stamp)."""
    last = last_timestamp(pdf)
    if last is None:
        return None
    if last.tsa_expires <= now + margin:
        return "tsa_expiring", f"the certificate of {last.tsa} expires {last.tsa_expires:%Y-%m-%d %H:%M} UTC"
    rejected = sorted(last.digests - set(accepted))
    if rejected:
        return "digest_not_accepted", f"the last document time-stamp uses {', '.join(rejected)}, not accepted"
    return None


def due_for_renewal(now: datetime | None = None) -> list[tuple[int, str, str]]:
    """The signed agreements (in the archive) whose archival time-stamp is due for renewal: (agreement id,
    reason code, detail), oldest agreement first. Each signed PDF is read once, one at a time."""
    now = now or datetime.now(timezone.utc)
    margin = timedelta(days=int(current_app.config["TIMESTAMP_RENEWAL_MARGIN_DAYS"]))
    accepted = accepted_digests()
    ids = db.session.scalars(archived(select(Agreement.id)).order_by(None).order_by(Agreement.id)).all()
    due = []
    for agreement_id in ids:
        pdf = db.session.scalar(select(AgreementDocument.signed_pdf).where(AgreementDocument.agreement_id == agreement_id))
        reason = renewal_reason(pdf, now, margin, accepted) if pdf else None
        if reason is not None:
            due.append((agreement_id, *reason))
    return due


@dataclass(frozen=True)
class Outcome:
    """What became of one agreement: ``renewed``, ``failed`` (nothing changed; ``message`` says why) or
    ``skipped`` (another run renewed it meanwhile)."""

    agreement_id: int
    label: str
    result: str
    message: str


def renew_due(now: datetime | None = None) -> list[Outcome]:
    """Renew every agreement :func:`due_for_renewal`, each in a transaction of its own: one that fails
    (whatever the reason: a TSA or CRL server not answering...) is reported and the others still renewed."""
    outcomes = []
    for agreement_id, code, detail in due_for_renewal(now):
        try:
            outcomes.append(renew(agreement_id, code, detail))
        except Exception as error:  # noqa: BLE001 — reported; nothing of it was stored
            db.session.rollback()
            outcomes.append(Outcome(agreement_id, f"agreement {agreement_id}", "failed",
                                    f"not renewed: {type(error).__name__}: {error}"))
    return outcomes


@sharing_readers()  # the renewed file verified, reported on and checked for 30 years: parsed and analysed once
def renew(agreement_id: int, reason: str, detail: str = "") -> Outcome:
    """Renew the archival time-stamp of one agreement (see the module's description). Commits."""
    setup = signing_setup()
    agreement = db.session.get(Agreement, agreement_id)
    assert agreement is not None and agreement.document is not None
    label = f"{agreement.reference} v{agreement.version}"
    document = agreement.document
    old, seen_revision, document_id = document.signed_pdf, document.revision, document.id
    assert old is not None
    if setup.timestamper is None:
        return Outcome(agreement_id, label, "failed", "no time-stamp service is configured (TIMESTAMP_URL is empty)")
    accepted = accepted_digests()
    md = "sha256" if "sha256" in accepted else accepted[0]
    try:
        new, stale = pades.renew_archival_timestamp(
            old, setup.validation_context(pades.embedded_certificates(old)), setup.timestamper, md)
    except (pades.SigningRefused, TimestampRequestError) as error:
        return Outcome(agreement_id, label, "failed", f"not renewed: {error}")
    if not new.startswith(old):  # an incremental update never rewrites what was there
        return Outcome(agreement_id, label, "failed", "not renewed: the new file does not keep the old one as its prefix")
    try:
        report = cached_report(new, max_bytes=len(new) + 1)
    except verify.VerificationError as error:
        return Outcome(agreement_id, label, "failed", f"not renewed: the renewed file cannot be verified ({error.code})")
    if report.verdict != verify.Verdict.VALID or report.pades_level != pades.PadesLevel.B_LTA.value:
        return Outcome(agreement_id, label, "failed",
                       f"not renewed: the renewed file does not validate (verdict {report.verdict}, PAdES {report.pades_level}); "
                       "the stored file is unchanged")
    stored = db.session.execute(
        update(AgreementDocument)
        .where(AgreementDocument.id == document_id, AgreementDocument.revision == seen_revision)
        .values(signed_pdf=new, signed_sha256=sha256_hex(new), revision=seen_revision + 1,
                pades_level=pades.PadesLevel.B_LTA.value)
        .execution_options(synchronize_session=False)
    ).rowcount
    if stored != 1:
        db.session.rollback()
        return Outcome(agreement_id, label, "skipped", "renewed or changed by another run meanwhile")
    db.session.add(DocumentRendition(document_id=document_id, revision=seen_revision, pdf=old, sha256=sha256_hex(old),
                                     size=len(old), reason=reason))
    db.session.expire_all()  # the update bypassed the session: read the document afresh
    agreement = db.session.get(Agreement, agreement_id)
    assert agreement is not None
    store_validation_report(agreement)
    check_future_validation(agreement.document)
    new_last = last_timestamp(new)
    assert new_last is not None
    not_refreshed = f"; no fresh validation data could be had for {', '.join(stale)}" if stale else ""
    record_event(agreement, "timestamp_renewed", None,
                 f"{detail or reason}; new document time-stamp ({md}) by {new_last.tsa}, its certificate valid until "
                 f"{new_last.tsa_expires:%Y-%m-%d}; previous SHA-256 {sha256_hex(old)} kept; new SHA-256 {sha256_hex(new)}{not_refreshed}")
    db.session.commit()
    return Outcome(agreement_id, label, "renewed",
                   f"renewed ({detail or reason}); the new time-stamp's TSA certificate is valid until {new_last.tsa_expires:%Y-%m-%d}")
