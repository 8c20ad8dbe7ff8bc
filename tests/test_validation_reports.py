"""Validation reports are made once: the same bytes verified again come from the process's cache, and an
agreement's report is stored when it is closed and read from there by the archive."""
from __future__ import annotations

from datetime import date

import pytest
from cryptography import x509

from portal import validation_reports
from portal.extensions import db
from portal.models import Agreement
from portal.signing import pades, verify
from portal.signing.pki import SignatoryIdentity, new_private_key

from . import factories


@pytest.fixture
def signed(people) -> Agreement:
    return factories.signed_agreement(people, active_from=date(2026, 2, 10))


@pytest.fixture
def counted(monkeypatch) -> list[bytes]:
    """Every file the validator really validates (not answered from a cache or the database)."""
    calls: list[bytes] = []
    real = verify.verify_pdf

    def counting(data, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(data)
        return real(data, *args, **kwargs)

    monkeypatch.setattr(verify, "verify_pdf", counting)
    validation_reports._cache.clear()
    return calls


def test_closing_stores_the_report_and_the_archive_reads_it(client, people, signed, counted):
    document = signed.document
    assert document.validation_report["verdict"] == "valid" and document.validation_report["pades_level"] == "B-LTA"
    assert document.validation_report_sha256 == document.signed_sha256 and document.validated_at is not None
    # Mark the stored report: whatever the archive shows must come from it, not from a new validation.
    stored = dict(document.validation_report)
    stored["signatures"] = [dict(entry) for entry in stored["signatures"]]
    stored["signatures"][1]["signer_name"] = "Namn frå den lagra rapporten"
    document.validation_report = stored
    db.session.commit()

    client.sign_in(people.archivist)
    assert "Namn frå den lagra rapporten" in client.get(f"/archive/{signed.id}/validation").get_data(as_text=True)
    report = client.get(f"/archive/{signed.id}/validation-report.json").json
    assert report["signatures"][1]["signer_name"] == "Namn frå den lagra rapporten"
    assert client.get(f"/archive/{signed.id}/package.zip").status_code == 200
    assert counted == []


def test_a_stored_report_for_other_trust_settings_is_made_again(client, people, signed, counted):
    signed.document.validation_report_trust = "0" * 64  # as if the trust anchors had changed since
    db.session.commit()
    client.sign_in(people.archivist)
    assert client.get(f"/archive/{signed.id}/validation-report.json").json["verdict"] == "valid"
    assert counted == [signed.document.signed_pdf]
    db.session.expire_all()
    document = db.session.get(Agreement, signed.id).document
    assert document.validation_report_trust == validation_reports.trust_fingerprint(
        validation_reports.signing_setup(), document.validation_report["certificate_serials"])


def test_a_revocation_elsewhere_keeps_the_stored_report_and_one_of_its_own_certificates_makes_it_again(
        client, people, signed, counted):
    """Re-enrolling any device revokes a certificate; only a revocation of a certificate the file carries
    can change what its report says, so only that sends the archive back to the validator."""
    pki = validation_reports.signing_setup().pki
    stranger = pki.issue_signing_certificate(SignatoryIdentity("Ein Annan", "Ordførar", "Ulvik kommune", "annan@ulvik.demo"),
                                             new_private_key("ec").public_key())
    pki.revoke(stranger)
    client.sign_in(people.archivist)
    assert client.get(f"/archive/{signed.id}/validation-report.json").json["verdict"] == "valid"
    assert counted == []

    carried = signed.document.validation_report["certificate_serials"]
    signatories = [cert for cert in pades.embedded_certificates(signed.document.signed_pdf)
                   if format(cert.serial_number, "x") in carried and cert.subject.native.get("email_address")]
    assert signatories, "the signatories' certificates are carried by the file"
    pki.revoke(x509.load_der_x509_certificate(signatories[0].dump()))
    client.get(f"/archive/{signed.id}/validation-report.json")
    assert counted == [signed.document.signed_pdf]


def test_the_same_file_verified_again_comes_from_the_cache(client, signed, counted):
    pdf = signed.document.signed_pdf
    first = client.post("/verify.json", data=pdf, content_type="application/pdf")
    again = client.post("/verify.json", data=pdf, content_type="application/pdf")
    assert first.status_code == again.status_code == 200 and first.json == again.json
    assert first.json["verdict"] == "valid"
    assert counted == [pdf]
    other = pdf[:-6] + b"\n%%EOF\n"  # other bytes (a trailing comment), so another key: validated again
    assert client.post("/verify.json", data=other, content_type="application/pdf").status_code == 200
    assert len(counted) == 2


def test_the_cache_keeps_only_the_most_recently_used_reports():
    cache = validation_reports.ReportCache(size=2)
    cache.put(("a", "t"), {"verdict": "valid"})
    cache.put(("b", "t"), {"verdict": "valid"})
    assert cache.get(("a", "t")) is not None  # «a» is now the most recently used
    cache.put(("c", "t"), {"verdict": "altered"})
    assert cache.get(("b", "t")) is None and cache.get(("a", "t")) is not None and len(cache) == 2


def test_the_etsi_report_is_stored_at_closing_and_offered_on_verify_and_in_the_archive(client, people, signed):
    """ETSI TS 119 102-2: one SignatureValidationReport per signature, each «total-passed» for a valid agreement."""
    from xml.etree import ElementTree
    import io
    import zipfile

    vr = "{http://uri.etsi.org/19102/v1.2.1#}"
    stored = signed.document.validation_report_etsi
    root = ElementTree.fromstring(stored.encode())
    assert root.tag == f"{vr}ValidationReport"
    indications = [report.findtext(f"{vr}SignatureValidationStatus/{vr}MainIndication")
                   for report in root.findall(f"{vr}SignatureValidationReport")]
    assert indications == ["urn:etsi:019102:mainindication:total-passed"] * 3
    # Each signer's certificate is listed once among the validation objects, as a validator resolves it.
    listed = [element.get("id") for element in root.iterfind(f"{vr}SignatureValidationObjects/{vr}ValidationObject")]
    assert len(listed) == len(set(listed))
    signers = [element.get("VOReference") for element in root.iter(f"{vr}SignerCertificate")]
    assert len(set(signers)) == 3 and set(signers) <= set(listed)

    client.sign_in(people.archivist)
    download = client.get(f"/archive/{signed.id}/validation-report-etsi.xml")
    assert download.status_code == 200 and download.data.decode() == stored
    assert download.headers["Content-Disposition"] == f'attachment; filename="{signed.reference}-v1-validation-report-etsi.xml"'
    with zipfile.ZipFile(io.BytesIO(client.get(f"/archive/{signed.id}/package.zip").data)) as package:
        assert package.read("validation-report-etsi.xml").decode() == stored

    client.delete_cookie("session")
    response = client.submit("/verify", {"pdf": (io.BytesIO(signed.document.signed_pdf), "avtale.pdf"), "report": "etsi"},
                             content_type="multipart/form-data")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    assert response.headers["Content-Disposition"] == 'attachment; filename="avtale-validation-report-etsi.xml"'
    uploaded = ElementTree.fromstring(response.data)
    assert len(uploaded.findall(f"{vr}SignatureValidationReport")) == 3
