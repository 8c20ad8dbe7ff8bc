"""The trust services over real HTTP: RFC 3161 time-stamps and CRLs."""
from __future__ import annotations

import hashlib
import urllib.request

from asn1crypto import crl, tsp

from portal.signing.pki import SignatoryIdentity, new_private_key
from portal.signing.services import TimeStampRejection


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
