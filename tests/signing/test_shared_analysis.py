"""The portal's readings of one signed PDF (its own report, the ETSI report, the 30-year check) share one
parse and one difference analysis (:mod:`portal.signing.shared_analysis`) and say what they say alone."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from io import BytesIO

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, StandardDiffPolicy

from portal.signing import etsi_report, future
from portal.signing.etsi_report import etsi_report_xml
from portal.signing.future import simulate_future_validation
from portal.signing.shared_analysis import reader_for, sharing_readers
from portal.signing.verify import Verdict, verify_pdf

from .support import page_changed_after_signing


def without_validation_times(xml: bytes) -> str:
    """The report without the moments it was made at."""
    return re.sub(r"<vr:ValidationTime>[^<]*<", "<vr:ValidationTime><", xml.decode())


def test_the_etsi_report_and_the_30_year_check_say_what_they_say_with_pyhankos_own_review(workflow, pki, monkeypatch) -> None:
    """Made from the portal's one analysis of the file, the ETSI report and the 30-year result are the ones
    pyHanko makes reviewing every signature's changes itself, for an intact file and a changed one."""
    now = datetime.now(timezone.utc)
    for pdf in (workflow.closed, page_changed_after_signing(workflow.closed)):
        with sharing_readers():
            verify_pdf(pdf, pki.trust_roots)
            shared = etsi_report_xml(pdf, pki.trust_roots), simulate_future_validation(pdf, pki.trust_roots, now=now)
        alone = simulate_future_validation(pdf, pki.trust_roots, now=now)  # without the file's analysis: none made
        with monkeypatch.context() as patched:
            patched.setattr(etsi_report, "diff_policy_for", lambda reader: DEFAULT_DIFF_POLICY)
            patched.setattr(future, "diff_policy_if_analysed", lambda reader: DEFAULT_DIFF_POLICY)
            own = etsi_report_xml(pdf, pki.trust_roots), simulate_future_validation(pdf, pki.trust_roots, now=now)
        assert without_validation_times(shared[0]) == without_validation_times(own[0])
        assert shared[1] == own[1] == alone
    assert simulate_future_validation(workflow.closed, pki.trust_roots).passed


def test_within_a_scope_each_file_is_parsed_and_its_revisions_compared_once(workflow, pki, monkeypatch) -> None:
    """The three readings of the closed file in one job (as a renewal does): each revision after the first
    signed one is compared once with the signed revision before it, where each reading alone compared it
    again for every signature."""
    compared: list[tuple[int, int]] = []
    apply = StandardDiffPolicy.apply

    def counted(self, old, new, *args, **kwargs):  # type: ignore[no-untyped-def]
        compared.append((old.revision, new.revision))
        return apply(self, old, new, *args, **kwargs)

    monkeypatch.setattr(StandardDiffPolicy, "apply", counted)
    reader = PdfFileReader(BytesIO(workflow.closed), strict=False)
    first_signed = min(sig.signed_revision for sig in reader.embedded_signatures)
    with sharing_readers():
        assert verify_pdf(workflow.closed, pki.trust_roots).verdict == Verdict.VALID
        etsi_report_xml(workflow.closed, pki.trust_roots)
        assert simulate_future_validation(workflow.closed, pki.trust_roots).passed
    assert sorted(new for _old, new in compared) == list(range(first_signed + 1, reader.xrefs.total_revisions))
    compared.clear()
    assert simulate_future_validation(workflow.closed, pki.trust_roots).passed  # the closing's check alone
    assert not compared  # makes no analysis of its own: the intake validation's verify_pdf makes it


def test_a_scope_shares_a_reader_only_between_the_same_bytes(workflow, pki) -> None:
    """Two different files read in one scope each get their own reading; outside a scope every reading
    parses the file afresh."""
    changed = page_changed_after_signing(workflow.closed)
    with sharing_readers():
        outer = reader_for(workflow.closed)
        assert reader_for(bytes(bytearray(workflow.closed))) is outer  # equal bytes, another object
        assert reader_for(changed) is not reader_for(workflow.closed)
        closed_report = verify_pdf(workflow.closed, pki.trust_roots)
        changed_report = verify_pdf(changed, pki.trust_roots)
        closed_again = verify_pdf(workflow.closed, pki.trust_roots)
        with sharing_readers():  # a scope within another shares its readers
            assert reader_for(workflow.closed) is outer
    assert closed_report.verdict == Verdict.VALID
    assert changed_report.verdict == Verdict.ALTERED
    assert closed_again.as_dict() == closed_report.as_dict()
    assert reader_for(workflow.closed) is not reader_for(workflow.closed)
