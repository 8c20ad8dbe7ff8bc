"""Fixtures for the signing tests: one demo PKI per run, its TSA and CRLs served over real HTTP on
loopback, a SoftHSM2 token, and an agreement taken through the whole signing workflow once."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from portal.signing import keys, pades
from portal.signing.pki import DemoPki, SignatoryIdentity, new_private_key

from .support import (
    CHIEF_FIELD, MAYOR_FIELDS, SOFTHSM_MODULE, ServedPki, agreement_pdf, serve_pki, softhsm_available,
)
from .support import softhsm_token as make_softhsm_token

TOKEN_LABEL, TOKEN_PIN, KEY_LABEL = "politirad-test", "1234", "ordforar-bergen"
PORTAL_SECRET = "korrekt hest batteri"
P12_PASSPHRASE = "stasjonssjef-passord"

MAYOR = SignatoryIdentity("Ola Ordførar", "Ordførar", "Voss herad", "ordforar@voss.example.org")
CHIEF = SignatoryIdentity("Siv Stasjonssjef", "Politistasjonssjef", "Vest politidistrikt", "stasjonssjef@politiet.example.org")
SECOND_MAYOR = SignatoryIdentity("Marte Mæland", "Ordfører", "Bergen kommune", "ordforer@bergen.example.org")


@pytest.fixture(autouse=True)
def _app_context_and_clean_database():
    """The signing layer needs no app or database: override the suite-wide fixture with nothing."""
    yield


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory):
    served = serve_pki(tmp_path_factory.mktemp("pki"))
    yield served
    served.stop()


@pytest.fixture(scope="session")
def pki(served: ServedPki) -> DemoPki:
    return served.pki


@pytest.fixture(scope="session")
def timestamper(served: ServedPki):
    return served.timestamper()


@pytest.fixture(scope="session")
def agreement() -> bytes:
    return agreement_pdf()


@pytest.fixture(scope="session")
def seal(pki: DemoPki):
    return keys.Pkcs12Key(pki.seal_pkcs12_path.read_bytes(), pki.seal_passphrase).signer()


@pytest.fixture(scope="session")
def sealed(agreement: bytes, seal, timestamper) -> bytes:
    return pades.seal_and_certify(agreement, seal, timestamper)


@pytest.fixture(scope="session")
def mayor_key(pki: DemoPki) -> keys.StoredPortalKey:
    return keys.PortalIssuedKey.enrol(pki, MAYOR, PORTAL_SECRET)


@pytest.fixture(scope="session")
def chief_p12(pki: DemoPki) -> bytes:
    """The station chief's own certificate as a PKCS#12 upload (RSA-2048, as many real ones are)."""
    key = new_private_key("rsa")
    cert = pki.issue_signing_certificate(CHIEF, key.public_key())
    return pkcs12.serialize_key_and_certificates(
        b"stasjonssjef", key, cert, [pki.issuing_certificate], serialization.BestAvailableEncryption(P12_PASSPHRASE.encode())
    )


@dataclass
class Token:
    module: str
    label: str
    pin: str
    key_label: str
    certificate: object


@pytest.fixture(scope="session")
def softhsm_token(pki: DemoPki, tmp_path_factory: pytest.TempPathFactory) -> Token:
    """A SoftHSM2 token in a temporary folder holding the second mayor's ECDSA key."""
    if not softhsm_available():
        pytest.skip("SoftHSM2 is not installed (Debian package softhsm2)")
    key = new_private_key("ec")
    make_softhsm_token(TOKEN_LABEL, TOKEN_PIN, [(KEY_LABEL, key, None)])
    return Token(SOFTHSM_MODULE, TOKEN_LABEL, TOKEN_PIN, KEY_LABEL, pki.issue_signing_certificate(SECOND_MAYOR, key.public_key()))


def stamp(who: SignatoryIdentity) -> pades.StampText:
    return pades.StampText(who.name, who.title, who.organisation, datetime.now(timezone.utc))


@dataclass
class Workflow:
    """Every revision of the agreement through the workflow."""

    sealed: bytes
    mayor_signed: bytes
    chief_signed: bytes
    all_signed: bytes
    closed: bytes


@pytest.fixture(scope="session")
def workflow(pki: DemoPki, sealed: bytes, mayor_key, chief_p12: bytes, softhsm_token: Token, timestamper) -> Workflow:
    """Seal → mayor (portal-issued key) → station chief (PKCS#12) → second mayor (PKCS#11) → B-LTA.

    Revocation data is fetched over HTTP from the loopback CRL service (the certificates' CRL DPs).
    """
    vc = pades.validation_context_for(pki.trust_roots, pki.chain)
    mayor = keys.PortalIssuedKey(mayor_key, PORTAL_SECRET, pki.chain)
    mayor_signed = pades.sign_field(sealed, MAYOR_FIELDS[0], mayor.signer(), stamp(MAYOR), timestamper, validation_context=vc)
    chief = keys.Pkcs12Key(chief_p12, P12_PASSPHRASE, pki.chain)
    chief_signed = pades.sign_field(mayor_signed, CHIEF_FIELD, chief.signer(), stamp(CHIEF), timestamper, validation_context=vc)
    with keys.Pkcs11Key(
        softhsm_token.label, softhsm_token.pin, softhsm_token.key_label,
        module=softhsm_token.module, certificate=softhsm_token.certificate, chain=pki.chain,
    ) as token_key:
        all_signed = pades.sign_field(
            chief_signed, MAYOR_FIELDS[1], token_key.signer(), stamp(SECOND_MAYOR), timestamper, validation_context=vc
        )
    closed = pades.close_lta(all_signed, pades.validation_context_for(pki.trust_roots, pki.chain), timestamper)
    return Workflow(sealed, mayor_signed, chief_signed, all_signed, closed)
