"""Signing with a key at a remote signing service through the CSC API, against a real CSC server on
loopback (certomancer-csc-dummy, see tests/csc_service.py): the signatory picks a credential and types
its PIN on the signing page; SCAL 2 binds each authorisation to the hash signed."""
from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess

import pytest

from portal.agreements import signing
from portal.models import AgreementStatus
from portal.signing import verify
from portal.signing.services import current_pki

from . import factories
from .conftest import PASSWORD, signing_settings
from .csc_service import PIN, LoopbackCsc, certomancer_config
from .test_signing_flow import reload, stored_bytes, text_of


@pytest.fixture
def csc(app, people, tmp_path):  # type: ignore[no-untyped-def]
    config = certomancer_config(current_pki(), tmp_path / "csc", {
        "mayor": (people.mayor.name, people.mayor.email), "chief": (people.station_chief.name, people.station_chief.email),
    })
    service = LoopbackCsc.start(config)
    with signing_settings(app, CSC_URL=service.url):
        yield service
    service.stop()


@pytest.fixture
def finalised(people):  # type: ignore[no-untyped-def]
    return factories.finalised_agreement(people.coordinator, people.mayor, people.station_chief)


def sign_with_csc(client, user, agreement_id: int, credential: str, pin: str = PIN):  # type: ignore[no-untyped-def]
    client.sign_in(user)
    client.choose_language("en")
    url = f"/agreements/{agreement_id}/sign"
    return client.submit(url, {"key_source": "csc", "csc_credential": credential, "csc_pin": pin, "password": PASSWORD},
                         token_from=url, content_type="multipart/form-data")


def test_the_signatories_pick_their_credential_and_sign_an_agreement_end_to_end(client, people, finalised, csc, tmp_path):
    client.sign_in(people.mayor)
    client.choose_language("en")
    page = text_of(client.get(f"/agreements/{finalised.id}/sign"))
    assert "My signing key at the signing service" in page
    offered = re.findall(r'name="csc_credential"[^>]*value="([^"]+)"', client.get(f"/agreements/{finalised.id}/sign").get_data(as_text=True))
    assert sorted(offered) == ["portal/chief", "portal/mayor"], "signing credentials only, not the CAs'"

    response = sign_with_csc(client, people.mayor, finalised.id, "portal/mayor")
    assert response.status_code == 302, text_of(response)
    response = sign_with_csc(client, people.station_chief, finalised.id, "portal/chief")
    assert response.status_code == 302, text_of(response)
    assert "the agreement is in force" in text_of(client.get(response.location))

    agreement = reload(finalised.id)
    assert agreement.status is AgreementStatus.ACTIVE and agreement.document.pades_level == "B-LTA"
    assert {slot.key_source for slot in agreement.signature_slots} == {"csc"}
    report = verify.verify_pdf(agreement.document.signed_pdf, signing.signing_setup().trust_roots)
    assert report.verdict == verify.Verdict.VALID, report
    assert {s.signer_email for s in report.signatures if not s.certification} == {people.mayor.email, people.station_chief.email}
    path = tmp_path / "signed.pdf"
    path.write_bytes(agreement.document.signed_pdf)
    out = subprocess.run([shutil.which("pdfsig") or "pdfsig", str(path)], capture_output=True, text=True)
    statuses = [s for s in re.findall(r"Signature Validation: (.+)", out.stdout) if "not yet been verified" not in s]
    assert len(statuses) == 3 and all(s == "Signature is Valid." for s in statuses), out.stdout

    # SCAL 2: every authorisation named the one hash it allows, with the PIN.
    assert len(csc.app.authorisations) == 2
    for authorisation in csc.app.authorisations:
        assert authorisation["PIN"] == PIN and authorisation["numSignatures"] == 1 and len(authorisation["hash"]) == 1
        assert len(base64.b64decode(authorisation["hash"][0])) == hashlib.sha256().digest_size


def test_a_wrong_pin_signs_nothing(client, people, finalised, csc):
    before = stored_bytes(finalised.id)
    response = sign_with_csc(client, people.mayor, finalised.id, "portal/mayor", pin="0000")
    assert response.status_code == 400
    assert "The signing service did not accept the PIN. Nothing was signed." in text_of(response)
    assert stored_bytes(finalised.id) == before


def test_an_expired_authorisation_signs_nothing(client, people, finalised, csc):
    csc.app.sad_lifetime = -1  # every SAD has expired by the time signHash sees it
    before = stored_bytes(finalised.id)
    response = sign_with_csc(client, people.mayor, finalised.id, "portal/mayor")
    assert response.status_code == 400
    assert "did not accept the authorisation; it may have expired" in text_of(response)
    assert stored_bytes(finalised.id) == before
    assert all(slot.signed_at is None for slot in reload(finalised.id).signature_slots)


def test_the_service_down_signs_nothing_and_says_so(client, people, finalised, csc):
    csc.stop()
    before = stored_bytes(finalised.id)
    client.sign_in(people.mayor)
    client.choose_language("en")
    assert "cannot be reached now" in text_of(client.get(f"/agreements/{finalised.id}/sign"))
    response = sign_with_csc(client, people.mayor, finalised.id, "portal/mayor")
    assert response.status_code == 400
    assert stored_bytes(finalised.id) == before


def test_a_signature_the_service_made_with_another_key_is_refused(client, people, finalised, csc):
    """The service signs with the chief's key while the mayor's certificate is in the signature: caught."""
    from portal.signing import csc as csc_client

    real = csc_client.sign_hash
    csc_client.sign_hash = lambda setup, credential_id, pin, data: real(setup, "portal/chief", pin, data)  # type: ignore[assignment]
    try:
        before = stored_bytes(finalised.id)
        response = sign_with_csc(client, people.mayor, finalised.id, "portal/mayor")
    finally:
        csc_client.sign_hash = real  # type: ignore[assignment]
    assert response.status_code == 409
    assert stored_bytes(finalised.id) == before


def test_a_credential_from_a_ca_the_portal_does_not_accept_is_refused_before_the_pin_is_used(app, client, people, finalised, tmp_path):
    """Another CA under the very names of the portal's CAs, but with keys of its own: its credentials'
    certificates are not issued by an accepted issuer (the fields' seed values), whatever they claim."""
    from portal.signing.pki import DemoPki

    impostor = DemoPki(tmp_path / "other-pki", "http://127.0.0.1:9")
    service = LoopbackCsc.start(certomancer_config(impostor, tmp_path / "csc", {"mayor": (people.mayor.name, people.mayor.email)}))
    try:
        with signing_settings(app, CSC_URL=service.url):
            before = stored_bytes(finalised.id)
            client.sign_in(people.mayor)
            client.choose_language("nn")
            url = f"/agreements/{finalised.id}/sign"
            response = client.submit(url, {"key_source": "csc", "csc_credential": "portal/mayor", "csc_pin": PIN, "password": PASSWORD},
                                     token_from=url, content_type="multipart/form-data")
    finally:
        service.stop()
    assert response.status_code == 400
    assert "ikkje utferda av ein instans portalen godtek for signaturar" in text_of(response)
    assert stored_bytes(finalised.id) == before
    assert service.app.authorisations == [], "the PIN never went to the service"


def test_the_portal_signs_at_a_service_behind_oauth2_with_its_client_credentials(app, client, people, finalised, oidc_provider, tmp_path):
    """The service accepts only requests with a bearer token its authorisation server (the loopback
    oidc-provider) says is active. The portal gets one with its client credentials (RFC 6749 § 4.4) from
    ``CSC_TOKEN_URL`` and sends it with every request; a wrong secret gets none, and nothing is signed."""
    from .oidc.fixtures import CSC_CLIENT_ID, CSC_CLIENT_SECRET, CSC_SERVICE_ID, CSC_SERVICE_SECRET

    config = certomancer_config(current_pki(), tmp_path / "csc", {"mayor": (people.mayor.name, people.mayor.email)})
    service = LoopbackCsc.start(config, introspection=(f"{oidc_provider.issuer}/token/introspection", CSC_SERVICE_ID, CSC_SERVICE_SECRET))
    oauth2 = {"CSC_URL": service.url, "CSC_TOKEN_URL": f"{oidc_provider.issuer}/token", "CSC_CLIENT_ID": CSC_CLIENT_ID}
    try:
        before = stored_bytes(finalised.id)
        for secret in (None, "not-the-secret"):  # no OAuth2 client configured, or the wrong secret
            settings = {**oauth2, "CSC_CLIENT_SECRET": secret} if secret else {"CSC_URL": service.url}
            with signing_settings(app, **settings):
                response = sign_with_csc(client, people.mayor, finalised.id, "portal/mayor")
            assert response.status_code == 400
            assert "The signing service lists no key for you, or cannot be reached now." in text_of(response)
            assert stored_bytes(finalised.id) == before
        assert None in service.app.token_clients and CSC_CLIENT_ID not in service.app.token_clients

        service.app.token_clients.clear()
        with signing_settings(app, **oauth2, CSC_CLIENT_SECRET=CSC_CLIENT_SECRET):
            response = sign_with_csc(client, people.mayor, finalised.id, "portal/mayor")
    finally:
        service.stop()
    assert response.status_code == 302, text_of(response)
    assert {slot.user_id: slot.key_source for slot in reload(finalised.id).signature_slots}[people.mayor.id] == "csc"
    # credentials/list, credentials/info, credentials/authorize, signatures/signHash: each with the portal's token.
    assert len(service.app.token_clients) >= 4 and set(service.app.token_clients) == {CSC_CLIENT_ID}
