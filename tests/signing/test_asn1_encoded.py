"""asn1crypto with the portal's speed-up (:mod:`portal.signing.asn1_encoded`): a value built in memory is
encoded once, to the same DER, and a change made after encoding it is still written."""
from __future__ import annotations

from asn1crypto import cms, core, x509

from portal.signing import asn1_encoded


def signer_info(serial: int, signature: bytes = b"\x02" * 70) -> cms.SignerInfo:
    """A SignerInfo (RFC 5652 § 5.3) built in memory, its signer named through a CHOICE."""
    return cms.SignerInfo({
        "version": "v1",
        "sid": cms.SignerIdentifier({"issuer_and_serial_number": {
            "issuer": x509.Name.build({"common_name": "Politirådsportalen segl"}), "serial_number": serial}}),
        "digest_algorithm": {"algorithm": "sha256"},
        "signed_attrs": [{"type": "content_type", "values": ["data"]}, {"type": "message_digest", "values": [b"\x01" * 32]}],
        "signature_algorithm": {"algorithm": "sha256_ecdsa"},
        "signature": signature,
    })


def container(info: cms.SignerInfo) -> cms.ContentInfo:
    return cms.ContentInfo({"content_type": "signed_data", "content": cms.SignedData({
        "version": "v1", "digest_algorithms": [{"algorithm": "sha256"}],
        "encap_content_info": {"content_type": "data"}, "signer_infos": [info]})})


def test_a_signature_container_built_in_memory_has_the_same_der_as_with_asn1cryptos_own_code() -> None:
    built = container(signer_info(7)).dump()
    with asn1_encoded.unpatched():
        plain = container(signer_info(7)).dump()
    assert built == plain
    assert cms.ContentInfo.load(built).dump(force=True) == built


def test_each_part_is_encoded_once_however_often_the_container_is(monkeypatch) -> None:
    calls: list[str] = []
    original = core.Sequence._set_contents

    def counted(self, force=False):  # type: ignore[no-untyped-def]
        calls.append(type(self).__name__)
        original(self, force)

    monkeypatch.setattr(core.Sequence, "_set_contents", counted)
    content = container(signer_info(7))
    first = content.dump()
    encoded = len(calls)
    assert content.dump() == first and content.dump() == first
    assert len(calls) == encoded, "nothing encoded again"


def test_a_change_after_encoding_is_written_also_behind_a_choice_or_an_any() -> None:
    content = container(signer_info(7))
    content.dump()
    info = content["content"]["signer_infos"][0]
    info["signature"] = b"\x03" * 70  # a field of the SignerInfo, inside the SignedData of an ANY-like field
    assert content.dump() == container(signer_info(7, b"\x03" * 70)).dump()
    info["sid"].chosen["serial_number"] = 8  # inside the CHOICE that names the signer
    assert content.dump() == container(signer_info(8, b"\x03" * 70)).dump()
    assert cms.ContentInfo.load(content.dump()).dump(force=True) == content.dump()
