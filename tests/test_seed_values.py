"""Each signature field says who may fill it and how (seed values, ISO 32000-1 § 12.7.4.5), and the verify
page reports a signature that breaks them."""
from __future__ import annotations

import subprocess
from datetime import datetime, timedelta, timezone
from io import BytesIO

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields

from portal.agreements import signing
from portal.signing import interrupted, pades, verify
from portal.signing.pki import SignatoryIdentity, to_asn1
from portal.signing.services import current_pki

from . import factories
from .test_signing_flow import stored_bytes


@pytest.fixture
def finalised(people):  # type: ignore[no-untyped-def]
    return factories.finalised_agreement(people.coordinator, people.mayor, people.station_chief)


def test_every_signatory_field_requires_pades_a_time_stamp_and_the_portals_issuer(people, finalised):
    reader = PdfFileReader(BytesIO(finalised.document.pdf))
    found = {name: ref.get_object() for name, _value, ref in fields.enumerate_sig_fields(reader, filled_status=None)}
    assert set(found) == {"Signatur_ordforar_4621", "Signatur_stasjonssjef"}
    for name, field in found.items():
        spec = fields.SigSeedValueSpec.from_pdf_object(field["/SV"])
        assert spec.subfilters == [fields.SigSeedSubFilter.PADES] and spec.flags & fields.SigSeedValFlags.SUBFILTER
        assert spec.timestamp_required and spec.timestamp_server_url == current_pki().tsa_url
        assert [c.subject for c in spec.cert.issuers] == [to_asn1(current_pki().issuing_certificate).subject]
    for slot in finalised.signature_slots:  # screen readers announce who signs in each field
        assert found[slot.field_name]["/TU"] == f"Signatur: {slot.name}, {slot.title}, {slot.organisation_name}"



def test_the_sealed_document_holds_every_empty_field_with_its_rules_under_a_valid_seal(people, finalised, tmp_path):
    """What a signatory's reader and an archivist find in the sealed PDF: the seal valid (pdfsig), a
    certification that lets the fields be filled, and under it every signatory's empty field with its
    seed values and its /TU, a widget on the signature block's page with an appearance; still tagged."""
    sealed = finalised.document.signed_pdf
    path = tmp_path / "sealed.pdf"
    path.write_bytes(sealed)
    report = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout
    assert report.count("Signature Validation: Signature is Valid.") == 1
    assert report.count("The signature form field is not signed.") == len(finalised.signature_slots)

    reader = PdfFileReader(BytesIO(sealed))
    (seal,) = reader.embedded_signatures
    assert seal.docmdp_level is fields.MDPPerm.FILL_FORMS and seal.signed_revision == reader.xrefs.total_revisions - 1
    empty = {name: ref.get_object() for name, _value, ref in fields.enumerate_sig_fields(reader, filled_status=False)}
    assert set(empty) == {slot.field_name for slot in finalised.signature_slots}
    for slot in finalised.signature_slots:
        field = empty[slot.field_name]
        assert field["/TU"] == f"Signatur: {slot.name}, {slot.title}, {slot.organisation_name}"
        assert fields.SigSeedValueSpec.from_pdf_object(field["/SV"]).timestamp_required
        assert field["/F"] & 4 and "/N" in field["/AP"], "printed, with an appearance (PDF/A)"
        page = field["/P"]
        assert any(annotation.get_object() is field for annotation in page["/Annots"])
    root = reader.root
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]

def _foreign_certificate(identity: SignatoryIdentity, key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    """A certificate from a CA the portal does not accept (self-issued, with the signing key usage)."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, identity.name)])
    now = datetime.now(timezone.utc)
    return (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
        .sign(key, hashes.SHA256())
    )


def _signed_outside_the_rules(pdf: bytes, certificate: x509.Certificate, key: ec.EllipticCurvePrivateKey, chain) -> bytes:  # type: ignore[no-untyped-def]
    """A signature in the mayor's field made without a time-stamp (as other software could)."""
    prepared = interrupted.prepare_field(pdf, "Signatur_ordforar_4621", to_asn1(certificate), chain,
                                         pades.StampText("X", "", "", datetime.now(timezone.utc)), with_timestamp=False)
    signature = key.sign(prepared.to_be_signed, ec.ECDSA(hashes.SHA256()))
    return interrupted.finish_field(prepared, to_asn1(certificate), chain, signature, None)


def test_the_verify_page_reports_a_signature_without_the_required_time_stamp(client, people, finalised):
    key = ec.generate_private_key(ec.SECP256R1())
    pki = current_pki()
    certificate = pki.issue_signing_certificate(SignatoryIdentity(people.mayor.name, "", "Voss herad", people.mayor.email), key.public_key())
    signed = _signed_outside_the_rules(stored_bytes(finalised.id), certificate, key, pki.chain)
    report = verify.verify_pdf(signed, signing.signing_setup().trust_roots)
    (mayors,) = [s for s in report.signatures if s.field == "Signatur_ordforar_4621"]
    assert mayors.trusted and mayors.intact and mayors.seed_value_problems == ["timestamp"]
    assert report.verdict == verify.Verdict.FIELD_RULES_BROKEN

    client.choose_language("en")
    page = client.submit("/verify", {"pdf": (BytesIO(signed), "a.pdf")}, content_type="multipart/form-data").get_data(as_text=True)
    assert "breaks the rules its signature field sets" in page
    assert "The field requires a signature time-stamp; this signature has none." in page


def test_a_certificate_from_an_authority_the_field_does_not_name_is_reported(people, finalised):
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = _foreign_certificate(SignatoryIdentity("Ola Ordførar", "", "", ""), key)
    signed = _signed_outside_the_rules(stored_bytes(finalised.id), certificate, key, [])
    report = verify.verify_pdf(signed, signing.signing_setup().trust_roots)
    (mayors,) = [s for s in report.signatures if s.field == "Signatur_ordforar_4621"]
    assert set(mayors.seed_value_problems) == {"timestamp", "issuer"}


def test_signatures_made_by_the_portal_keep_their_fields_rules(people, finalised):
    for slot in list(finalised.signature_slots):
        factories.sign_as(finalised, slot.user)
    report = verify.verify_pdf(stored_bytes(finalised.id), signing.signing_setup().trust_roots)
    assert report.verdict == verify.Verdict.VALID
    assert all(s.seed_value_problems == [] for s in report.signatures)
