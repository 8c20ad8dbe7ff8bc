"""Validation reports made once and kept: validating a signed agreement takes a good part of a second,
and the same bytes under the same trust settings always give the same report.

- In the process: a bounded LRU keyed by the file's SHA-256 and a fingerprint of the trust settings, so
  the same document verified again (on ``/verify``, in the archive) is answered from memory.
- In the database: the report of an agreement's signed revision is stored with its document when the
  agreement is closed (:func:`store_validation_report`), and the archive reads it
  (:func:`report_for_agreement`) instead of validating again. A stored report is used only for the bytes
  and trust settings it was made for; otherwise it is made again and stored.

Reports are kept as ``VerificationReport.as_dict()`` (plain JSON types): codes, not words, so every
reader words them in their own language.
"""
from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

from pyhanko_certvalidator.fetchers.api import FetcherBackend

from .agreements.signing import signing_setup
from .documents import sha256_hex
from .lru import LruCache
from .models import Agreement, AgreementDocument
from .signing import verify
from .signing.etsi_report import etsi_report_xml
from .signing.pki_fetchers import DemoFetcherBackend
from .signing.setup import SigningSetup
from .signing.shared_analysis import sharing_readers

__all__ = [
    "Busy", "ReportCache", "cached_etsi_report", "cached_report", "check_future_validation", "etsi_report_for_agreement",
    "report_for_agreement",
    "store_validation_report", "trust_fingerprint",
]

#: Reports kept in each process (a report is a few kilobytes).
CACHE_SIZE = 256


class ReportCache(LruCache["dict | str"]):
    """A bounded, thread-safe LRU of reports (dicts, or XML text) by key."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        super().__init__(size)


_cache = ReportCache()


class Busy(Exception):
    """As many validations as allowed are running already; try again in a moment."""


@contextmanager
def _place(gate: threading.Semaphore | None, wait_seconds: float) -> Iterator[None]:
    """A place at ``gate`` for one validation, waited for at most ``wait_seconds``; :class:`Busy` if none."""
    if gate is not None and not gate.acquire(timeout=wait_seconds):
        raise Busy()
    try:
        yield
    finally:
        if gate is not None:
            gate.release()


def cached_report(data: bytes, max_bytes: int | None = None, *, gate: threading.Semaphore | None = None,
                  wait_seconds: float = 2.0) -> verify.VerificationReport:
    """The report on ``data`` under the app's trust settings, from the process's cache when the same bytes
    were verified before. A new validation waits at most ``wait_seconds`` for a place at ``gate`` (a
    semaphore bounding validations at once), else raises :class:`Busy`. Raises
    :class:`verify.VerificationError` as ``verify_pdf`` does."""
    setup = signing_setup()
    limit = max_bytes or setup.verify_max_bytes
    if len(data) > limit:
        raise verify.PdfTooLarge(f"The file is larger than {limit} bytes.")
    key = (sha256_hex(data), trust_fingerprint(setup))
    entry = _cache.get(key)
    if entry is None:
        with _place(gate, wait_seconds):
            entry = verify.verify_pdf(data, setup.trust_roots, limit, fetcher_backend=_own_ca(setup)).as_dict()
        _cache.put(key, entry)
    return verify.VerificationReport.from_dict(entry)


def _own_ca(setup: SigningSetup) -> FetcherBackend | None:
    """The portal's own CA's OCSP responder and CRLs, asked in-process (a revoked device certificate shows)."""
    return DemoFetcherBackend(setup.pki) if setup.pki is not None else None


def trust_fingerprint(setup: SigningSetup, serials: Iterable[str] | None = None) -> str:
    """SHA-256 over what a report depends on besides the file: the trust anchors, the validation rules
    (revocation checking soft-fail, no fetching but the portal's own CA), the own CA's revocations so far,
    and the report format's version. With ``serials`` (the certificates a report's file carries), only
    their revocations count: a device re-enrolled elsewhere leaves the stored reports of the archive be."""
    digest = hashlib.sha256(b"politirad-verification/3\n")
    for der in sorted(root.dump() for root in setup.trust_roots):
        digest.update(hashlib.sha256(der).digest())
    if setup.pki is not None:
        digest.update(setup.pki.revocations_digest(serials))
    return digest.hexdigest()


@sharing_readers()  # the report it verifies first and the ETSI report read the file once
def cached_etsi_report(data: bytes, max_bytes: int | None = None, *, gate: threading.Semaphore | None = None,
                       wait_seconds: float = 2.0) -> str:
    """The ETSI TS 119 102-2 XML report on ``data`` (see :mod:`.signing.etsi_report`), cached as
    :func:`cached_report` is; the file is first verified by it, so a file that cannot be read raises the
    same :class:`verify.VerificationError`."""
    cached_report(data, max_bytes, gate=gate, wait_seconds=wait_seconds)
    setup = signing_setup()
    key = (sha256_hex(data), trust_fingerprint(setup), "etsi")
    xml = _cache.get(key)
    if xml is None:
        with _place(gate, wait_seconds):
            xml = etsi_report_xml(data, setup.trust_roots).decode("utf-8")
        _cache.put(key, xml)
    return xml  # type: ignore[return-value]


@sharing_readers()  # its report and its ETSI report read the file once
def store_validation_report(agreement: Agreement) -> verify.VerificationReport:
    """Validate the agreement's signed revision once and store the report with its document (the
    caller commits). Called when an agreement is closed; safe to call again (it stores the same report).
    Raises :class:`verify.VerificationError` for a stored file that cannot be verified at all."""
    document = agreement.document
    if document is None or document.signed_pdf is None:
        raise LookupError(f"{agreement.reference} v{agreement.version} has no signed document")
    data = document.signed_pdf
    report = cached_report(data, max_bytes=len(data) + 1)  # a stored PDF is never too large
    document.validation_report = report.as_dict()
    document.validation_report_sha256 = sha256_hex(data)
    document.validation_report_trust = trust_fingerprint(signing_setup(), report.certificate_serials)
    document.validated_at = datetime.now(timezone.utc)
    document.validation_report_etsi = cached_etsi_report(data, max_bytes=len(data) + 1)
    return report


def report_for_agreement(agreement: Agreement) -> verify.VerificationReport:
    """The stored report of the agreement's signed revision when it still holds (same bytes, same trust
    settings); otherwise made now and stored (the caller commits)."""
    document = agreement.document
    if (
        document is not None and document.validation_report is not None and document.signed_pdf is not None
        and document.validation_report_sha256 == document.signed_sha256
        and document.validation_report_trust
        == trust_fingerprint(signing_setup(), document.validation_report.get("certificate_serials", []))
    ):
        return verify.VerificationReport.from_dict(document.validation_report)
    return store_validation_report(agreement)


def etsi_report_for_agreement(agreement: Agreement) -> str:
    """The ETSI TS 119 102-2 XML report stored with the agreement's signed revision (made and stored now
    where there is none, or where it no longer holds; the caller commits)."""
    report_for_agreement(agreement)
    document = agreement.document
    if document.validation_report_etsi is None:
        store_validation_report(agreement)
    return document.validation_report_etsi  # type: ignore[return-value]


def check_future_validation(document: AgreementDocument) -> None:
    """Simulate now whether the document's signed PDF would still validate 30 years on with the data it
    holds today (:mod:`.signing.future`), and store the result with it (the caller commits)."""
    from .signing.future import simulate_future_validation

    assert document.signed_pdf is not None
    result = simulate_future_validation(document.signed_pdf, signing_setup().trust_roots)
    document.future_validation_result = result.result
    document.future_validation_time = result.at
    document.future_validation_checked_at = result.checked_at
