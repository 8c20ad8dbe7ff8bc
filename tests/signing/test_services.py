"""The trust services over real HTTP: RFC 3161 time-stamps and CRLs."""
from __future__ import annotations

import hashlib
import urllib.request

from asn1crypto import crl, tsp

from portal.signing.pki import SignatoryIdentity, new_private_key
from portal.signing.services import TimeStampRejection

from . import support


def post(url: str, body: bytes, content_type: str) -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read()


def test_the_tsa_grants_a_token_for_a_sha256_imprint(pki) -> None:
    query = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": hashlib.sha256(b"avtale").digest()},
            "nonce": 12345,
            "cert_req": True,
        }
    )
    status, content_type, body = post(pki.tsa_url, query.dump(), "application/timestamp-query")
    assert (status, content_type) == (200, "application/timestamp-reply")
    response = tsp.TimeStampResp.load(body)
    assert response["status"]["status"].native == "granted"
    info = response["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed
    assert info["nonce"].native == 12345
    assert info["message_imprint"]["hashed_message"].native == hashlib.sha256(b"avtale").digest()


def test_the_tsa_rejects_garbage_and_wrong_content_types(pki) -> None:
    status, _, body = post(pki.tsa_url, b"not DER", "application/timestamp-query")
    assert status == 200
    rejection = TimeStampRejection.load(body)
    assert rejection["status"]["status"].native == "rejection"
    assert rejection["status"]["fail_info"].native == {"bad_data_format"}
    status, _, _ = post(pki.tsa_url, b"x", "text/plain")
    assert status == 415


def test_each_ca_publishes_a_crl_and_revoked_certificates_appear_on_it(pki) -> None:
    for name in ("root-ca", "issuing-ca"):
        with urllib.request.urlopen(pki.crl_url(name), timeout=5) as response:
            assert response.headers["Content-Type"] == "application/pkix-crl"
            crl.CertificateList.load(response.read())
    cert = pki.issue_signing_certificate(SignatoryIdentity("Tidlegare Tilsett", "", "Voss herad", ""), new_private_key().public_key())
    pki.revoke(cert)
    with urllib.request.urlopen(pki.crl_url("issuing-ca"), timeout=5) as response:
        revoked = crl.CertificateList.load(response.read())["tbs_cert_list"]["revoked_certificates"]
    assert cert.serial_number in {entry["user_certificate"].native for entry in revoked}


def test_issued_certificates_point_to_the_published_crl(pki, mayor_key) -> None:
    from cryptography import x509

    cert = mayor_key.certificate
    points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert points[0].full_name[0].value == pki.crl_url("issuing-ca")
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment
    tsa_eku = pki.tsa_certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert tsa_eku.critical


# ---------------------------------------------------------------- OCSP (RFC 6960)


def ocsp_status(pki, cert, **kwargs):  # type: ignore[no-untyped-def]
    return support.ocsp_status(pki.ocsp_url, cert, pki.issuing_certificate, **kwargs)


def test_issued_certificates_name_the_ocsp_responder_and_it_answers_good_then_revoked(pki) -> None:
    from cryptography import x509
    from cryptography.x509 import ocsp
    from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

    cert = pki.issue_signing_certificate(SignatoryIdentity("Ny Tilsett", "", "Voss herad", ""), new_private_key().public_key())
    access = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    assert [d.access_location.value for d in access if d.access_method == AuthorityInformationAccessOID.OCSP] == [pki.ocsp_url]
    for leaf in (pki.tsa_certificate,):  # the TSA (and the seal) name it too
        assert leaf.extensions.get_extension_for_class(x509.AuthorityInformationAccess)

    answer = ocsp_status(pki, cert, nonce=b"0123456789abcdef")
    assert answer.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert (answer.certificate_status, answer.serial_number) == (ocsp.OCSPCertStatus.GOOD, cert.serial_number)
    assert answer.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == b"0123456789abcdef"
    # Signed by the delegated responder, which the issuing CA certified for exactly this.
    responder = answer.certificates[0]
    assert responder.issuer == pki.issuing_certificate.subject
    assert responder.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value == x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING])
    assert responder.extensions.get_extension_for_class(x509.OCSPNoCheck)
    responder.public_key().verify(answer.signature, answer.tbs_response_bytes, _ecdsa())
    pki.issuing_certificate.public_key().verify(responder.signature, responder.tbs_certificate_bytes, _ecdsa())

    pki.revoke(cert)
    for get in (False, True):
        answer = ocsp_status(pki, cert, get=get)
        assert answer.certificate_status is ocsp.OCSPCertStatus.REVOKED
        assert answer.revocation_time_utc is not None and answer.revocation_time_utc <= answer.this_update_utc
    with urllib.request.urlopen(pki.crl_url("issuing-ca"), timeout=5) as response:
        revoked = crl.CertificateList.load(response.read())["tbs_cert_list"]["revoked_certificates"]
    [entry] = [e for e in revoked if e["user_certificate"].native == cert.serial_number]
    assert entry["revocation_date"].native == answer.revocation_time_utc, "the CRL and OCSP agree on when"


def _ecdsa():  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.ECDSA(hashes.SHA256())


def test_the_ocsp_responder_refuses_garbage_and_other_cas_certificates(pki) -> None:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import ocsp

    status, _, body = post(pki.ocsp_url, b"not DER", "application/ocsp-request")
    assert status == 200 and ocsp.load_der_ocsp_response(body).response_status is ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    assert post(pki.ocsp_url, b"x", "text/plain")[0] == 415
    # The root CA's certificate of the issuing CA: not the issuing CA's to answer for.
    request = ocsp.OCSPRequestBuilder().add_certificate(pki.issuing_certificate, pki.root_certificate, hashes.SHA256()).build()
    status, _, body = post(pki.ocsp_url, request.public_bytes(serialization.Encoding.DER), "application/ocsp-request")
    assert ocsp.load_der_ocsp_response(body).response_status is ocsp.OCSPResponseStatus.UNAUTHORIZED
