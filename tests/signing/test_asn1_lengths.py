"""asn1crypto with the portal's correction (:mod:`portal.signing.asn1_lengths`): a CMS part whose DER length
ends in the byte 0x80 is written back as it was read, not encoded again as if it had an indefinite length."""
from __future__ import annotations

import pytest
from asn1crypto import cms, core

from portal.signing.asn1_lengths import has_indefinite_length


def signer_info_of(length: int) -> bytes:
    """The DER of a SignerInfo (RFC 5652 § 5.3) whose contents are ``length`` bytes, its signature padded to fit."""
    def encoded(signature_length: int) -> bytes:
        return cms.SignerInfo({
            "version": "v1",
            "sid": cms.SignerIdentifier({"subject_key_identifier": b"\x01" * 20}),
            "digest_algorithm": {"algorithm": "sha256"},
            "signature_algorithm": {"algorithm": "sha256_ecdsa"},
            "signature": b"\x02" * signature_length,
        }).dump()

    total = length + 4  # with its header: tag, 0x82 and two length octets
    signature_length = total - len(encoded(0))
    while len(encoded(signature_length)) > total:  # the longer signature needs longer length fields
        signature_length -= 1
    der = encoded(signature_length)
    assert len(der) == total
    return der


#: 3200 bytes of contents: the header is 30 82 0c 80, its last octet 0x80.
SIGNER_INFO_3200 = signer_info_of(3200)


@pytest.fixture
def reencodings(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Each time a SignerInfo is encoded again from its parts (True when forced)."""
    calls: list[bool] = []
    original = cms.SignerInfo._set_contents

    def counted(self: cms.SignerInfo, force: bool = False) -> None:
        calls.append(force)
        original(self, force)

    monkeypatch.setattr(cms.SignerInfo, "_set_contents", counted)
    return calls


def test_a_signer_info_of_3200_bytes_is_written_back_as_read(reencodings: list[bool]) -> None:
    der = SIGNER_INFO_3200
    assert der[:4] == bytes.fromhex("30820c80")
    signer_info = cms.SignerInfo.load(der)

    assert signer_info.dump() == der
    assert signer_info.dump() == der
    assert reencodings == []


def test_a_signature_container_built_around_it_does_not_encode_it_again(reencodings: list[bool]) -> None:
    """As pyHanko builds a CMS object around the parts it has (a time-stamp token, say): the part read from
    DER keeps its bytes, however many times the container around it is encoded."""
    der = SIGNER_INFO_3200
    content = cms.ContentInfo({
        "content_type": "signed_data",
        "content": cms.SignedData({
            "version": "v1",
            "digest_algorithms": [{"algorithm": "sha256"}],
            "encap_content_info": {"content_type": "data"},
            "signer_infos": [cms.SignerInfo.load(der)],
        }),
    })

    first = content.dump()
    assert content.dump() == first
    assert der in first
    assert reencodings == []
    assert cms.ContentInfo.load(first).dump(force=True) == first  # the same DER as a full re-encoding


def test_a_value_read_with_an_indefinite_length_is_still_written_in_der() -> None:
    ber = bytes.fromhex("3080" "020105" "0000")  # SEQUENCE { INTEGER 5 }, indefinite length (BER)

    class Numbers(core.SequenceOf):
        _child_spec = core.Integer

    assert Numbers.load(ber).dump() == bytes.fromhex("3003" "020105")


@pytest.mark.parametrize(("header", "indefinite"), [
    ("3080", True),  # indefinite
    ("3081 80", False),  # 128
    ("3082 0c80", False),  # 3200
    ("3082 0180", False),  # 384
    ("a080 3080", True),  # an explicit tag around an indefinite length
    ("a082 0c84 3082 0c80", False),  # an explicit tag around 3200 bytes
    ("bf1f 80", True),  # a tag number of 31 and over, in more identifier octets
    ("bf81 00 81 80", False),
])
def test_the_header_is_read_whole(header: str, indefinite: bool) -> None:
    assert has_indefinite_length(bytes.fromhex(header.replace(" ", ""))) is indefinite
