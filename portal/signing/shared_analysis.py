"""One parse and one difference analysis per signed PDF, shared by the portal's readings of it: its own
report (:func:`.verify.verify_pdf`), the ETSI TS 119 102-2 report (:mod:`.etsi_report`) and the 30-year
check (:mod:`.future`).

pyHanko's AdES validations review the document's changes (``DiffPolicy.review_file``) for every embedded
signature, and again for every signature they validate: on an agreement with three signatures and a
document time-stamp, some thirty comparisons of two revisions per reading. The portal's own analysis
(``verify._document_changes``) compares each revision once with the signed revision before it and gives
every signature its result; :func:`diff_policy_for` runs it once per reader and hands pyHanko a diff
policy that answers each signature's review from it (a signature with a FieldMDP lock, or a review it did
not make, goes to pyHanko's default policy). The AdES indications, the ETSI report and the 30-year result
do not read the change level at all (pyHanko 0.38); the portal's own report does, from the same analysis.
So the 30-year check at closing makes none (:func:`diff_policy_if_analysed`): the intake validation's
``verify_pdf`` analyses the closed file, once.

Within :func:`sharing_readers` (one job's work on one file), :func:`reader_for` gives the same reader for
the same bytes, so the file is parsed, indexed and analysed once. A reader is not thread-safe: a scope
belongs to the thread (context) that opened it, and outside one every call parses its own.
"""
from __future__ import annotations

import hashlib
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from io import BytesIO

from pyhanko.pdf_utils.reader import HistoricalResolver, PdfFileReader
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, DiffPolicy, DiffResult, SuspiciousModification
from pyhanko.sign.fields import FieldMDPSpec, MDPPerm

__all__ = ["ANALYSED_DIFF_POLICY", "AnalysedDiffPolicy", "analyse_changes", "diff_policy_for", "diff_policy_if_analysed", "reader_for", "sharing_readers"]

_readers: ContextVar[dict[bytes, PdfFileReader] | None] = ContextVar("shared_pdf_readers", default=None)
_analysed: weakref.WeakSet[PdfFileReader] = weakref.WeakSet()  # weak: a reader goes when its reading ends


@contextmanager
def sharing_readers() -> Iterator[None]:
    """Within the block (this thread or context only), :func:`reader_for` gives one reader per file; a
    block within another shares the outer one's readers. Also a decorator (``@sharing_readers()``)."""
    if _readers.get() is not None:
        yield
        return
    token = _readers.set({})
    try:
        yield
    finally:
        _readers.reset(token)


def reader_for(data: bytes) -> PdfFileReader:
    """A reader of ``data`` (``strict=False``, as every reading in the portal): within
    :func:`sharing_readers` the one made before for the same bytes (by SHA-256), else a new one."""
    readers = _readers.get()
    if readers is None:
        return PdfFileReader(BytesIO(data), strict=False)
    key = hashlib.sha256(data).digest()
    if key not in readers:
        readers[key] = PdfFileReader(BytesIO(data), strict=False)
    return readers[key]


def analyse_changes(reader: PdfFileReader) -> None:
    """Run the difference analysis of ``reader``'s document (``verify._document_changes``, which sets
    each signature's ``diff_result``) unless it ran on this reader before."""
    if reader not in _analysed:
        from .verify import _document_changes  # verify reads through this module

        _document_changes(reader)
        _analysed.add(reader)


def diff_policy_for(reader: PdfFileReader) -> DiffPolicy:
    """The diff policy for pyHanko's validations of ``reader``: each signature's review from the
    document's analysis (run now if it has not run on this reader)."""
    analyse_changes(reader)
    return ANALYSED_DIFF_POLICY


def diff_policy_if_analysed(reader: PdfFileReader) -> DiffPolicy | None:
    """The diff policy of :func:`diff_policy_for` when ``reader``'s analysis has run, else None: for a
    reading whose result does not depend on the change level (pyHanko then reviews nothing), where the
    file's own analysis is made by the reading that does (``verify_pdf``)."""
    return ANALYSED_DIFF_POLICY if reader in _analysed else None


class AnalysedDiffPolicy(DiffPolicy):
    """pyHanko's default diff policy, except that the review of a signature (its signed revision
    against the current file, under its own DocMDP and no FieldMDP lock) that was reviewed already is
    that signature's ``diff_result``: with :func:`analyse_changes` run, the document's analysis."""

    def apply(self, old: HistoricalResolver, new: HistoricalResolver, field_mdp_spec: FieldMDPSpec | None = None,
              doc_mdp: MDPPerm | None = None) -> DiffResult:
        return DEFAULT_DIFF_POLICY.apply(old, new, field_mdp_spec, doc_mdp)

    def review_file(self, reader: PdfFileReader, base_revision: int | HistoricalResolver,
                    field_mdp_spec: FieldMDPSpec | None = None,
                    doc_mdp: MDPPerm | None = None) -> DiffResult | SuspiciousModification:
        if field_mdp_spec is None and isinstance(base_revision, int):
            for sig in reader.embedded_signatures:
                if (sig.signed_revision == base_revision and sig.docmdp_level == doc_mdp and sig.fieldmdp is None
                        and sig.diff_result is not None):
                    return sig.diff_result
        return DEFAULT_DIFF_POLICY.review_file(reader, base_revision, field_mdp_spec, doc_mdp)


ANALYSED_DIFF_POLICY = AnalysedDiffPolicy()
