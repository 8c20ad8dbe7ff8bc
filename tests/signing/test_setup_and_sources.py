"""Configuration, the PKCS#11 seal, pyHanko's own TSA client, and signing from the same revision at once."""
from __future__ import annotations

import threading

import pytest
from pyhanko.sign.timestamps.aiohttp_client import HTTPTimeStamper

from portal.signing import keys, pades
from portal.signing.pades import PadesLevel
from portal.signing.services import TimeStampAuthority
from portal.signing.setup import SigningSetup
from portal.signing.verify import Verdict, verify_pdf

from .conftest import CHIEF, MAYOR, P12_PASSPHRASE, PORTAL_SECRET, stamp
from .support import ALL_FIELDS, CHIEF_FIELD, MAYOR_FIELDS


def test_the_default_configuration_signs_to_b_lta_in_process(tmp_path, agreement) -> None:
    setup = SigningSetup.from_config({"PUBLIC_BASE_URL": "https://portal.test"}, tmp_path)
    assert setup.key_source == "browser" and isinstance(setup.timestamper, TimeStampAuthority)
    assert setup.key_sources() == ["browser", "pkcs12"], "the portal-held key is off by default"
    assert setup.level_when_closed is PadesLevel.B_LTA
    assert setup.pki is not None and setup.pki.tsa_url == "https://portal.test/pki/tsa"
    document = pades.seal_and_certify(agreement, setup.seal_signer(), setup.timestamper)
    from portal.signing.pki import SignatoryIdentity

    for field in ALL_FIELDS:
        stored = keys.PortalIssuedKey.enrol(setup.pki, SignatoryIdentity(field, "Ordførar", "Voss herad", ""), "s")
        signer = keys.PortalIssuedKey(stored, "s", setup.issuer_chain()).signer()
        document = pades.sign_field(document, field, signer, stamp(MAYOR), setup.timestamper)
    closed = pades.close_lta(document, setup.validation_context(), setup.timestamper)
    report = verify_pdf(closed, setup.trust_roots, setup.verify_max_bytes)
    assert (report.verdict, report.pades_level) == (Verdict.VALID, "B-LTA")


def test_without_a_timestamp_url_the_level_is_b_b(tmp_path) -> None:
    setup = SigningSetup.from_config({"TIMESTAMP_URL": ""}, tmp_path)
    assert setup.timestamper is None and setup.level_when_closed is PadesLevel.B_B


def test_an_unknown_key_source_is_refused(tmp_path) -> None:
    with pytest.raises(ValueError):
        SigningSetup.from_config({"SIGNING_KEY_SOURCE": "usb-stick"}, tmp_path)


def test_the_portal_held_key_is_offered_only_when_an_administrator_allows_it(tmp_path) -> None:
    with pytest.raises(ValueError, match="PORTAL_HELD_KEYS"):
        SigningSetup.from_config({"SIGNING_KEY_SOURCE": "portal"}, tmp_path)
    allowed = SigningSetup.from_config({"PORTAL_HELD_KEYS": "true"}, tmp_path)
    assert allowed.key_sources() == ["browser", "pkcs12", "portal"]
    assert SigningSetup.from_config({"SIGNING_KEY_SOURCE": "portal", "PORTAL_HELD_KEYS": True}, tmp_path).key_sources()[0] == "portal"


def test_the_seal_can_live_in_a_pkcs11_token(agreement, softhsm_token, timestamper, pki) -> None:
    with keys.Pkcs11Key(
        softhsm_token.label, softhsm_token.pin, softhsm_token.key_label,
        module=softhsm_token.module, certificate=softhsm_token.certificate, chain=pki.chain,
    ) as token_key:
        sealed = pades.seal_and_certify(agreement, token_key.signer(), timestamper)
    report = verify_pdf(sealed, pki.trust_roots)
    [seal] = report.signatures
    assert seal.certification and seal.intact and seal.trusted and seal.pades_level == "B-T"
    assert report.verdict == Verdict.INCOMPLETE


def test_a_wrong_pkcs11_pin_is_a_clear_error(softhsm_token) -> None:
    with pytest.raises(keys.KeySourceError):
        keys.Pkcs11Key(softhsm_token.label, "0000", softhsm_token.key_label, module=softhsm_token.module)


def test_pyhankos_own_http_client_gets_tokens_from_the_portal_tsa(agreement, seal, pki) -> None:
    sealed = pades.seal_and_certify(agreement, seal, HTTPTimeStamper(pki.tsa_url))
    assert pades.pades_level(sealed) is PadesLevel.B_T
    [report] = verify_pdf(sealed, pki.trust_roots).signatures
    assert report.signing_time_source == "timestamp" and report.timestamp_trusted


def test_signing_is_pure_two_signatories_at_once_on_the_same_revision(sealed, mayor_key, chief_p12, timestamper, pki) -> None:
    """Both signatures succeed from the same input; storing the second over the first would lose one,
    which is why the caller re-applies on top of the latest revision under a per-agreement lock."""
    before = bytes(sealed)
    results: dict[str, bytes] = {}
    mayor = keys.PortalIssuedKey(mayor_key, PORTAL_SECRET, pki.chain).signer()
    chief = keys.Pkcs12Key(chief_p12, P12_PASSPHRASE, pki.chain).signer()

    def sign(field: str, signer, who) -> None:  # type: ignore[no-untyped-def]
        results[field] = pades.sign_field(sealed, field, signer, stamp(who), timestamper)

    threads = [
        threading.Thread(target=sign, args=(MAYOR_FIELDS[0], mayor, MAYOR)),
        threading.Thread(target=sign, args=(CHIEF_FIELD, chief, CHIEF)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sealed == before
    for field, document in results.items():
        report = verify_pdf(document, pki.trust_roots)
        assert report.verdict == Verdict.INCOMPLETE
        assert {s.field for s in report.signatures} == {pades.DEFAULT_SEAL_FIELD, field}
    # Under the lock, the second signatory signs on top of the first's revision: both signatures stay.
    both = pades.sign_field(results[MAYOR_FIELDS[0]], CHIEF_FIELD, chief, stamp(CHIEF), timestamper)
    assert {s.field for s in verify_pdf(both, pki.trust_roots).signatures} == {pades.DEFAULT_SEAL_FIELD, MAYOR_FIELDS[0], CHIEF_FIELD}
