"""Files that cannot be verified get a clear, distinct error."""
from __future__ import annotations

from io import BytesIO

import pytest
from pypdf import PdfReader, PdfWriter

from portal.signing.verify import CorruptPdf, EncryptedPdf, NotAPdf, PdfTooLarge, Verdict, verify_pdf


def test_bytes_that_are_not_a_pdf(pki) -> None:
    with pytest.raises(NotAPdf) as caught:
        verify_pdf(b"PK\x03\x04 a zip file, not a PDF" * 10, pki.trust_roots)
    assert caught.value.code == "not_pdf"


def test_a_truncated_pdf(workflow, pki) -> None:
    with pytest.raises(CorruptPdf) as caught:
        verify_pdf(workflow.closed[: len(workflow.closed) * 2 // 3], pki.trust_roots)
    assert caught.value.code == "corrupt"


def test_a_pdf_with_a_broken_structure(agreement, pki) -> None:
    broken = agreement.replace(b"startxref", b"startxreF")
    with pytest.raises(CorruptPdf):
        verify_pdf(broken, pki.trust_roots)


def test_an_encrypted_pdf(agreement, pki) -> None:
    writer = PdfWriter(clone_from=PdfReader(BytesIO(agreement)))
    writer.encrypt(user_password="", owner_password="eigar", algorithm="AES-256")
    out = BytesIO()
    writer.write(out)
    with pytest.raises(EncryptedPdf) as caught:
        verify_pdf(out.getvalue(), pki.trust_roots)
    assert caught.value.code == "encrypted"


def test_an_oversized_file(workflow, pki) -> None:
    with pytest.raises(PdfTooLarge) as caught:
        verify_pdf(workflow.closed, pki.trust_roots, max_bytes=len(workflow.closed) - 1)
    assert caught.value.code == "too_large"


def test_an_unsigned_pdf_is_reported_unsigned(agreement, pki) -> None:
    report = verify_pdf(agreement, pki.trust_roots)
    assert report.verdict == Verdict.UNSIGNED and report.pades_level == "none"


def test_signatures_from_another_pki_are_untrusted(workflow, tmp_path) -> None:
    from portal.signing.pki import DemoPki

    stranger = DemoPki(tmp_path / "other", "http://127.0.0.1:9")
    report = verify_pdf(workflow.closed, stranger.trust_roots)
    assert report.verdict == Verdict.UNTRUSTED
    assert all(sig.intact and not sig.trusted for sig in report.signatures)
