"""The signing workflow end to end, against the demo PKI served over HTTP on loopback."""
from __future__ import annotations

import functools

import json
import re
import subprocess
from io import BytesIO

import pytest
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.dss import DocumentSecurityStore

from portal.signing import keys, pades
from portal.signing.pades import PadesLevel
from portal.signing.verify import Verdict, verify_pdf

from .conftest import CHIEF, MAYOR, P12_PASSPHRASE, PORTAL_SECRET, stamp
from .support import (
    ALL_FIELDS, CHIEF_FIELD, MAYOR_FIELDS, agreement_pdf, dss_ocsp_statuses, page_changed_after_signing, stamped_in_one_update,
)


def dss_context(pdf: bytes, pki):  # type: ignore[no-untyped-def]
    """A validation context from the document's own DSS and the demo roots: no network."""
    reader = PdfFileReader(BytesIO(pdf))
    store = DocumentSecurityStore.read_dss(reader)
    return reader, store.as_validation_context({"trust_roots": pki.trust_roots, "allow_fetching": False, "revocation_mode": "hard-fail"})


# ---------------------------------------------------------------------------- the fully signed agreement
def test_every_signature_validates_in_pyhanko_as_intact_trusted_and_lta(workflow, pki) -> None:
    reader, vc = dss_context(workflow.closed, pki)
    regular = list(reader.embedded_regular_signatures)
    assert {sig.field_name for sig in regular} == {pades.DEFAULT_SEAL_FIELD, *ALL_FIELDS}
    for embedded in regular:
        status = validate_pdf_signature(embedded, vc, ts_validation_context=vc)
        assert status.intact and status.valid and status.trusted, (embedded.field_name, status.summary())
        assert status.timestamp_validity is not None and status.timestamp_validity.trusted
        assert status.docmdp_ok, embedded.field_name
        assert status.modification_level in (ModificationLevel.FORM_FILLING, ModificationLevel.LTA_UPDATES)
        if embedded.field_name == pades.DEFAULT_SEAL_FIELD:
            assert embedded.docmdp_level == MDPPerm.FILL_FORMS
    [document_timestamp] = list(reader.embedded_timestamp_signatures)
    ts_status = validate_pdf_timestamp(document_timestamp, vc)
    assert ts_status.intact and ts_status.valid and ts_status.trusted
    assert pades.pades_level(workflow.closed) is PadesLevel.B_LTA


def test_the_closing_is_one_revision_holding_the_time_stamp_authoritys_data_and_the_document_time_stamp(workflow) -> None:
    """B-LTA in one incremental update after the last signature: the DSS (with the validation data of the
    authority that stamps the document, gathered before stamping) and the document time-stamp, which so
    covers it; no DSS revision follows the time-stamp."""
    assert len(PdfFileReader(BytesIO(workflow.closed), strict=False).embedded_timestamp_signatures) == 1
    authority = stamped_in_one_update(workflow.all_signed, workflow.closed).signer_cert
    assert dss_ocsp_statuses(workflow.closed).get(authority.serial_number) == "good"


def test_levels_along_the_way(workflow) -> None:
    assert pades.pades_level(workflow.sealed) is PadesLevel.B_T
    assert pades.pades_level(workflow.mayor_signed) is PadesLevel.B_LT
    assert pades.pades_level(workflow.all_signed) is PadesLevel.B_LT
    assert pades.pades_level(workflow.closed) is PadesLevel.B_LTA


def test_the_level_known_from_how_a_revision_was_made_is_the_level_read_from_it(workflow, sealed, mayor_key, pki, timestamper) -> None:
    after = functools.partial(pades.level_after_signature, timestamped=True)
    assert after(None, validation_data=False) is pades.pades_level(workflow.sealed)
    assert after(pades.pades_level(workflow.sealed), validation_data=True) is pades.pades_level(workflow.mayor_signed)
    assert after(pades.pades_level(workflow.chief_signed), validation_data=True) is pades.pades_level(workflow.all_signed)
    mayor = keys.PortalIssuedKey(mayor_key, PORTAL_SECRET, pki.chain).signer()
    without_timestamp = pades.sign_field(sealed, MAYOR_FIELDS[0], mayor, stamp(MAYOR), None)
    assert pades.level_after_signature(pades.pades_level(sealed), timestamped=False, validation_data=False) \
        is pades.pades_level(without_timestamp) is PadesLevel.B_B
    without_data = pades.sign_field(sealed, MAYOR_FIELDS[0], mayor, stamp(MAYOR), timestamper)
    assert after(pades.pades_level(sealed), validation_data=False) is pades.pades_level(without_data) is PadesLevel.B_T


def test_pdfsig_finds_every_cms_signature_valid(workflow, tmp_path) -> None:
    path = tmp_path / "signed.pdf"
    path.write_bytes(workflow.closed)
    result = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True)
    cms_blocks = [block for block in re.split(r"Signature #\d+:", result.stdout)[1:] if "ETSI.CAdES.detached" in block]
    assert len(cms_blocks) == 4, result.stdout
    for block in cms_blocks:
        assert "Signature Validation: Signature is Valid." in block, block


def test_qpdf_check_is_clean(workflow, tmp_path) -> None:
    path = tmp_path / "signed.pdf"
    path.write_bytes(workflow.closed)
    result = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_verify_report(workflow, pki) -> None:
    report = verify_pdf(workflow.closed, pki.trust_roots)
    assert report.verdict == Verdict.VALID, json.dumps(report.as_dict(), indent=1)
    assert report.pades_level == "B-LTA"
    assert not report.empty_signature_fields
    by_field = {sig.field: sig for sig in report.signatures}
    assert by_field[pades.DEFAULT_SEAL_FIELD].certification
    mayor = by_field[MAYOR_FIELDS[0]]
    assert (mayor.signer_name, mayor.signer_organisation) == (MAYOR.name, MAYOR.organisation)
    assert mayor.signing_time_source == "timestamp" and mayor.timestamp_trusted
    assert mayor.chain[-1].startswith("Common Name: Politirådsportalen Root CA")
    for sig in report.signatures:
        assert sig.intact and sig.valid and sig.trusted and sig.changes_allowed and sig.pades_level == "B-LTA"
    [ts] = report.document_timestamps
    assert ts.intact and ts.trusted and ts.changes_allowed
    json.dumps(report.as_dict())  # serialisable as it is


def test_a_report_holds_only_plain_json_types_and_each_signature_its_own_changes(workflow, pki) -> None:
    """pyHanko's strings point into the parsed PDF; a report holding them would copy the whole reader."""
    report = verify_pdf(workflow.closed, pki.trust_roots)

    def plain(value: object) -> bool:
        if type(value) is dict:
            return all(type(key) is str and plain(item) for key, item in value.items())
        if type(value) is list:
            return all(plain(item) for item in value)
        return value is None or type(value) in (str, int, bool)

    as_dict = report.as_dict()
    assert plain(as_dict)
    assert json.loads(json.dumps(as_dict)) == as_dict
    # The difference analysis ran once for the document, yet each signature reports what came after it:
    # the seal saw signatures added, the last signature only the validation data and the time-stamp.
    by_field = {sig.field: sig for sig in report.signatures}
    assert by_field[pades.DEFAULT_SEAL_FIELD].modification_level == "FORM_FILLING"
    assert report.signatures[-1].modification_level == "LTA_UPDATES"


def test_an_incomplete_agreement_is_reported_as_such(workflow, pki) -> None:
    # The DSS holds OCSP responses for the two signers only (fetched over HTTP while signing); the seal's
    # status is asked of the CA, as /verify asks the portal's own CA.
    report = verify_pdf(workflow.chief_signed, pki.trust_roots, allow_fetching=True)
    assert report.verdict == Verdict.INCOMPLETE
    assert report.empty_signature_fields == [MAYOR_FIELDS[1]]


def test_stamp_font_is_embedded_and_metadata_stays_consistent(workflow) -> None:
    reader = PdfFileReader(BytesIO(workflow.closed))
    fonts_checked = 0
    for embedded in reader.embedded_regular_signatures:
        if embedded.field_name == pades.DEFAULT_SEAL_FIELD:
            continue
        appearance = embedded.sig_field["/AP"]["/N"]
        for font in appearance["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"] if "/DescendantFonts" in font else font["/FontDescriptor"]
            assert "/FontFile2" in descriptor or "/FontFile3" in descriptor
            fonts_checked += 1
    assert fonts_checked >= 3
    xmp = reader.root["/Metadata"].get_object().data.decode()
    assert "pdfaid:part" in xmp or 'pdfaid:part="2"' in xmp
    info_producer = str(reader.trailer["/Info"]["/Producer"])
    assert f"<pdf:Producer>{info_producer}</pdf:Producer>" in xmp or f'pdf:Producer="{info_producer}"' in xmp


# ---------------------------------------------------------------------------- tampering
def test_one_flipped_byte_inside_a_signed_range_is_reported_altered(workflow, pki) -> None:
    data = bytearray(workflow.closed)
    # A byte of the first page's content stream: inside every signature's first signed range.
    start = data.index(b"stream", data.index(b"/Length")) + len(b"stream\n") + 20
    data[start] ^= 0x01
    report = verify_pdf(bytes(data), pki.trust_roots)
    assert report.verdict == Verdict.ALTERED
    assert all(not sig.intact for sig in report.signatures)


def test_a_page_changed_after_signing_is_an_unallowed_modification(workflow, pki) -> None:
    report = verify_pdf(page_changed_after_signing(workflow.all_signed), pki.trust_roots)
    assert report.verdict == Verdict.ALTERED
    for sig in report.signatures:
        assert sig.intact  # the signed bytes themselves are untouched ...
        assert sig.modification_level == "OTHER" and not sig.changes_allowed  # ... but the document changed


# ---------------------------------------------------------------------------- refusals
def test_a_wrong_pkcs12_passphrase_is_a_clear_error_and_changes_nothing(sealed, chief_p12) -> None:
    before = bytes(sealed)
    with pytest.raises(keys.WrongPassphrase):
        keys.Pkcs12Key(chief_p12, "feil passord")
    assert sealed == before
    with pytest.raises(keys.InvalidPkcs12):
        keys.Pkcs12Key(b"this is not a PKCS#12 file", P12_PASSPHRASE)


def test_a_portal_issued_key_needs_the_signatorys_own_secret(mayor_key, pki) -> None:
    with pytest.raises(keys.WrongSecret):
        keys.PortalIssuedKey(mayor_key, "feil hemmelegheit", pki.chain)
    assert PORTAL_SECRET.encode() not in mayor_key.encrypted_key
    assert b"PRIVATE KEY" not in mayor_key.encrypted_key


def test_a_field_not_in_the_document_is_refused(sealed, chief_p12, pki) -> None:
    chief = keys.Pkcs12Key(chief_p12, P12_PASSPHRASE, pki.chain)
    with pytest.raises(pades.NoSuchField):
        pades.sign_field(sealed, "Signatur_ordforar_9999", chief.signer(), stamp(CHIEF))


def test_a_field_is_never_signed_twice(workflow, chief_p12, pki) -> None:
    chief = keys.Pkcs12Key(chief_p12, P12_PASSPHRASE, pki.chain)
    with pytest.raises(pades.FieldAlreadySigned):
        pades.sign_field(workflow.chief_signed, CHIEF_FIELD, chief.signer(), stamp(CHIEF))


def test_certifying_a_signed_document_is_refused(workflow, seal) -> None:
    with pytest.raises(pades.SigningRefused):
        pades.seal_and_certify(workflow.mayor_signed, seal)


# ---------------------------------------------------------------------------- without a TSA: B-B
def test_without_a_timestamp_service_the_portal_signs_b_b_and_says_so(agreement, seal, mayor_key, pki) -> None:
    sealed = pades.seal_and_certify(agreement, seal, None)
    mayor = keys.PortalIssuedKey(mayor_key, PORTAL_SECRET, pki.chain)
    signed = pades.sign_field(sealed, MAYOR_FIELDS[0], mayor.signer(), stamp(MAYOR), None)
    assert pades.pades_level(signed) is PadesLevel.B_B
    report = verify_pdf(signed, pki.trust_roots)
    assert report.pades_level == "B-B"
    assert report.verdict == Verdict.INCOMPLETE
    for sig in report.signatures:
        assert sig.intact and sig.trusted and sig.signing_time_source == "claimed" and sig.pades_level == "B-B"


def test_a_reservation_too_small_falls_back_to_measuring(sealed, chief_p12, pki, monkeypatch) -> None:
    monkeypatch.setattr(pades, "_estimated_reserve", lambda signer, timestamper: 256)
    chief = keys.Pkcs12Key(chief_p12, P12_PASSPHRASE, pki.chain)
    signed = pades.sign_field(sealed, CHIEF_FIELD, chief.signer(), stamp(CHIEF))
    [_, report] = verify_pdf(signed, pki.trust_roots).signatures
    assert report.field == CHIEF_FIELD and report.intact and report.valid


def test_closing_refuses_while_fields_are_empty(workflow, pki, timestamper) -> None:
    with pytest.raises(pades.Incomplete):
        pades.close_lta(workflow.chief_signed, pades.demo_validation_context(pki), timestamper)


def test_the_closed_document_embeds_ocsp_responses_pyhanko_fetched_over_http(workflow, pki) -> None:
    """The workflow fetches revocation data over HTTP from the loopback services (the URLs in the
    certificates): each signer's certificate gets an OCSP response, and the DSS keeps them."""
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives.serialization import Encoding

    reader = PdfFileReader(BytesIO(workflow.closed))
    answered = dss_ocsp_statuses(workflow.closed)
    signers = [sig.signer_cert for sig in reader.embedded_regular_signatures if sig.docmdp_level is None]
    assert len(signers) == 3
    assert all(answered.get(cert.serial_number) == "good" for cert in signers), answered
    issuing = asn1_x509.Certificate.load(pki.issuing_certificate.public_bytes(Encoding.DER))
    assert all(cert.issuer == issuing.subject for cert in signers)


def test_the_closed_document_would_still_validate_in_30_years(workflow, pki) -> None:
    """pyHanko's simulated validation 30 years on, when the signing and TSA certificates have long expired:
    the closed document carries the certificates and revocation data (fetched over HTTP) it needs."""
    from portal.signing.future import simulate_future_validation

    assert simulate_future_validation(workflow.closed, pki.trust_roots).result == "passed"


def test_prepared_signed_attributes_are_the_ones_pyhanko_makes(pki) -> None:
    """interrupted.signed_attributes encodes the signing-certificate attribute once per certificate; the
    result is byte for byte what pyHanko's signer makes for a PAdES signature."""
    import asyncio
    import hashlib

    from portal.signing import interrupted
    from portal.signing.pki import SignatoryIdentity, new_private_key, to_asn1

    cert = to_asn1(pki.issue_signing_certificate(SignatoryIdentity("Ola", "", "Voss herad", ""), new_private_key().public_key()))
    digest = hashlib.sha256(b"avtale").digest()
    pyhanko_made = asyncio.run(interrupted._external_signer(cert, pki.chain).signed_attrs(digest, "sha256", use_pades=True))
    assert interrupted.signed_attributes(digest, cert) == pyhanko_made.dump()


def test_a_preparation_on_a_known_seal_reuses_the_parsed_certification_and_still_obeys_it(pki, sealed, seal, timestamper) -> None:
    """The second preparation on the same sealed agreement takes the certification signature pyHanko
    parsed the first time (pades.certifications); both signatures finish and verify alike, and a
    certification that allows no changes refuses an approval every time."""
    from pyhanko.sign import signers
    from pyhanko.sign.general import SigningError

    from cryptography.hazmat.primitives.serialization import load_der_public_key

    from portal.signing import browser_keys, interrupted
    from portal.signing.pki import to_asn1

    device = browser_keys.SoftwareDevice()
    cert = to_asn1(pki.issue_signing_certificate(MAYOR, load_der_public_key(device.public_key_der)))
    pades.certifications.clear()
    signed = []
    for _time in ("cold", "warm"):
        prepared = interrupted.prepare_field(sealed, MAYOR_FIELDS[0], cert, pki.chain, stamp(MAYOR), with_timestamp=True)
        signature = browser_keys.der_from_raw(device.sign(prepared.to_be_signed))
        signed.append(interrupted.finish_field(prepared, cert, pki.chain, signature, timestamper))
        assert len(pades.certifications._parsed) == 1
    for document in signed:
        report = verify_pdf(document, pki.trust_roots, allow_fetching=True)
        assert report.verdict == Verdict.INCOMPLETE, report
        assert all(s.intact and s.valid and s.trusted and s.changes_allowed for s in report.signatures)

    out = BytesIO()
    signers.sign_pdf(IncrementalPdfFileWriter(BytesIO(agreement_pdf())), signers.PdfSignatureMetadata(
        field_name="Segl_portal", certify=True, docmdp_permissions=MDPPerm.NO_CHANGES), signer=seal, output=out)
    for _time in ("cold", "warm"):
        with pytest.raises(SigningError, match="forbids all changes"):
            interrupted.prepare_field(out.getvalue(), MAYOR_FIELDS[0], cert, pki.chain, stamp(MAYOR), with_timestamp=True)
        assert len(pades.certifications._parsed) == 2
