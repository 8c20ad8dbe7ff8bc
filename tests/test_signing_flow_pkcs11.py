"""Signing through the page with the signatories' keys on a PKCS#11 token (``SIGNING_KEY_SOURCE=pkcs11``):
a SoftHSM2 token holds each signatory's key and certificate under their e-mail address; they confirm with
their portal password and open the key with the token's PIN."""
from __future__ import annotations

import logging
import re
import shutil
import subprocess

import pytest

from portal.agreements import signing
from portal.models import AgreementStatus
from portal.signing import keys, verify
from portal.signing.pki import SignatoryIdentity, new_private_key
from portal.signing.services import current_pki

from .conftest import PASSWORD, signing_settings
from .signing.support import SOFTHSM_MODULE, softhsm_available, softhsm_token
from .test_signing_flow import finalised, reload, stored_bytes, text_of  # noqa: F401  (finalised: a fixture)

TOKEN, EMPTY_TOKEN, PIN = "politirad-signatarar", "politirad-tom", "271828"
MAYOR_EMAIL, CHIEF_EMAIL = "ordforar@voss.example.org", "stasjonssjef@politiet.example.org"
WITHOUT_CERTIFICATE = "utan.sertifikat@voss.example.org"


@pytest.fixture(scope="module")
def tokens(app) -> None:
    """``TOKEN``: the mayor's ECDSA key and the station chief's RSA key, each with its certificate from the
    app's demo PKI, labelled with their e-mail addresses; ``EMPTY_TOKEN``: only a key without a certificate."""
    if not softhsm_available():
        pytest.skip("SoftHSM2 is not installed (Debian package softhsm2)")
    with app.app_context():
        pki = current_pki()
        mayor_key, chief_key = new_private_key("ec"), new_private_key("rsa")
        mayor = SignatoryIdentity("Ola Ordførar", "Ordførar", "Voss herad", MAYOR_EMAIL)
        chief = SignatoryIdentity("Siv Stasjonssjef", "Politistasjonssjef", "Vest politidistrikt", CHIEF_EMAIL)
        softhsm_token(TOKEN, PIN, [
            (MAYOR_EMAIL, mayor_key, pki.issue_signing_certificate(mayor, mayor_key.public_key())),
            (CHIEF_EMAIL, chief_key, pki.issue_signing_certificate(chief, chief_key.public_key())),
        ])
        softhsm_token(EMPTY_TOKEN, PIN, [(WITHOUT_CERTIFICATE, new_private_key("ec"), None)])


@pytest.fixture
def pkcs11_source(app, tokens):  # type: ignore[no-untyped-def]
    """The app signs with the token's keys for the length of the test."""
    with signing_settings(app, SIGNING_KEY_SOURCE="pkcs11", SIGNATORY_PKCS11_TOKEN=TOKEN, PKCS11_MODULE=SOFTHSM_MODULE):
        yield app


def sign_with_pin(client, user, agreement_id: int, pin: str = PIN):  # type: ignore[no-untyped-def]
    client.sign_in(user)
    client.choose_language("en")
    data = {"password": PASSWORD, "key_source": "pkcs11", "pin": pin}
    return client.submit(f"/agreements/{agreement_id}/sign", data, content_type="multipart/form-data")


def test_both_sign_with_their_token_keys_and_the_agreement_closes_at_b_lta(pkcs11_source, client, people, finalised, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    client.sign_in(people.mayor)
    client.choose_language("en")
    page = text_of(client.get(f"/agreements/{finalised.id}/sign"))
    assert "PIN for the signing key" in page and "key store (HSM)" in page
    assert "My signing key in the portal" not in page

    assert sign_with_pin(client, people.mayor, finalised.id).status_code == 302
    assert reload(finalised.id).status is AgreementStatus.FINALISED
    assert sign_with_pin(client, people.station_chief, finalised.id).status_code == 302

    agreement = reload(finalised.id)
    assert agreement.status is AgreementStatus.ACTIVE
    assert agreement.document.pades_level == "B-LTA"
    assert {slot.key_source for slot in agreement.signature_slots} == {"pkcs11"}
    report = verify.verify_pdf(agreement.document.signed_pdf, signing.signing_setup().trust_roots)
    assert report.verdict == verify.Verdict.VALID and report.pades_level == "B-LTA"
    signers = {s.signer_email for s in report.signatures if not s.certification}
    assert signers == {MAYOR_EMAIL, CHIEF_EMAIL}

    if shutil.which("pdfsig"):
        path = tmp_path / "signed.pdf"
        path.write_bytes(agreement.document.signed_pdf)
        out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        statuses = re.findall(r"Signature Validation: (.+)", out.stdout)
        cms = [s for s in statuses if "not yet been verified" not in s]  # pdfsig cannot check document time-stamps
        assert len(cms) == 3 and all(s == "Signature is Valid." for s in cms), out.stdout
    assert PIN not in caplog.text, "the PIN is never logged"


def test_a_wrong_pin_is_a_form_error_and_signs_nothing(pkcs11_source, client, people, finalised, caplog):
    caplog.set_level(logging.DEBUG)
    before = stored_bytes(finalised.id)
    response = sign_with_pin(client, people.mayor, finalised.id, pin="000000")
    assert response.status_code == 400
    assert "The PIN does not open your signing key. Nothing was signed." in text_of(response)
    assert "000000" not in response.get_data(as_text=True) and "000000" not in caplog.text
    assert stored_bytes(finalised.id) == before
    assert all(slot.signed_at is None for slot in reload(finalised.id).signature_slots)

    empty = sign_with_pin(client, people.mayor, finalised.id, pin="")
    assert empty.status_code == 400 and "Enter the PIN for your signing key" in text_of(empty)
    assert stored_bytes(finalised.id) == before


def test_a_signatory_without_a_key_on_the_token_is_told_so(pkcs11_source, client, people, finalised):
    pkcs11_source.config["SIGNATORY_PKCS11_TOKEN"] = EMPTY_TOKEN
    pkcs11_source.extensions.pop(signing._SETUP_KEY, None)
    before = stored_bytes(finalised.id)
    response = sign_with_pin(client, people.station_chief, finalised.id)
    assert response.status_code == 400
    assert f"There is no signing key for {CHIEF_EMAIL} in the key store." in text_of(response)
    assert stored_bytes(finalised.id) == before
    assert all(slot.signed_at is None for slot in reload(finalised.id).signature_slots)


def test_a_key_without_its_certificate_on_the_token_is_a_clear_error(pkcs11_source):
    pkcs11_source.config["SIGNATORY_PKCS11_TOKEN"] = EMPTY_TOKEN
    pkcs11_source.extensions.pop(signing._SETUP_KEY, None)
    with pytest.raises(keys.NoCertificateOnToken):
        signing.signing_setup().signatory_pkcs11_key(WITHOUT_CERTIFICATE.upper(), PIN)


def test_pkcs11_needs_the_token_label(tmp_path):
    from portal.signing.setup import SigningSetup

    with pytest.raises(ValueError, match="SIGNATORY_PKCS11_TOKEN"):
        SigningSetup.from_config({"SIGNING_KEY_SOURCE": "pkcs11", "PKI_FOLDER": str(tmp_path)}, tmp_path)
