"""The portal's speed-ups of pyHanko and asn1crypto internals give what the libraries' own code gives:
the same verification reports, the same strings, the same errors."""
from __future__ import annotations

import re
from io import BytesIO

import pytest
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PdfReadError, PdfStreamError

from portal.signing import pyhanko_speedups
from portal.signing.verify import VerificationError, verify_pdf

from .support import page_changed_after_signing, page_rotated_after_signing


def outcome(data: bytes, pki) -> dict | str:  # type: ignore[no-untyped-def]
    try:
        return verify_pdf(data, pki.trust_roots).as_dict()
    except VerificationError as error:
        return f"{error.code}: {error}"


def both_ways(data: bytes, pki) -> tuple[dict | str, dict | str]:  # type: ignore[no-untyped-def]
    pyhanko_speedups.forget()
    sped_up = outcome(data, pki)
    with pyhanko_speedups.unpatched():
        plain = outcome(data, pki)
    return sped_up, plain


def flipped_page_byte(pdf: bytes) -> bytes:
    data = bytearray(pdf)
    start = data.index(b"stream", data.index(b"/Length")) + len(b"stream\n") + 20
    data[start] ^= 0x01
    return bytes(data)


def bad_digit_in_a_signature(pdf: bytes) -> bytes:
    """A byte of the last signature's /Contents that is no hex digit (pyHanko's own reader decides)."""
    last = list(re.finditer(rb"/Contents <", pdf))[-1]
    at = last.end() + 10
    return pdf[:at] + b"x" + pdf[at + 1:]


def test_the_speedups_are_in_place_for_the_versions_they_were_written_for() -> None:
    assert pyhanko_speedups.installed()


@pytest.mark.parametrize("tampering", [None, flipped_page_byte, bad_digit_in_a_signature])
def test_a_report_is_the_same_with_and_without_the_speedups(workflow, pki, tampering) -> None:
    data = tampering(workflow.closed) if tampering else workflow.closed
    sped_up, plain = both_ways(data, pki)
    assert sped_up == plain
    if tampering is None:
        assert sped_up["verdict"] == "valid"
    elif tampering is flipped_page_byte:
        assert sped_up["verdict"] == "altered"


def test_a_page_changed_after_signing_is_reported_the_same_way(workflow, pki) -> None:
    sped_up, plain = both_ways(page_rotated_after_signing(workflow.all_signed), pki)
    assert sped_up == plain and sped_up["verdict"] == "altered"


@pytest.mark.parametrize("changed", [False, True])
def test_the_etsi_report_and_the_30_year_check_are_the_same_with_and_without_the_speedups(workflow, pki, changed) -> None:
    """The AdES validations behind them gather the document's time-stamp evidence and DSS once per reading
    with the speed-ups, once per signature without; what they conclude is the same, for a closed agreement
    and for one with a page changed after it was closed."""
    from datetime import datetime, timezone

    from portal.signing.etsi_report import etsi_report_xml
    from portal.signing.future import simulate_future_validation
    from portal.signing.shared_analysis import sharing_readers

    from .test_shared_analysis import without_validation_times

    data = page_changed_after_signing(workflow.closed) if changed else workflow.closed
    now = datetime.now(timezone.utc)

    def readings() -> tuple[str, object]:
        with sharing_readers():  # as the closing job reads the file
            future = simulate_future_validation(data, pki.trust_roots, now=now)
            return without_validation_times(etsi_report_xml(data, pki.trust_roots)), future

    sped_up = readings()
    with pyhanko_speedups.unpatched():
        plain = readings()
    assert sped_up == plain
    assert sped_up[0].count("<vr:SignatureValidationReport") == 4  # the seal and three signatures
    if not changed:
        assert sped_up[1].passed


HEX_STRINGS = [
    b"<>", b"<41>", b"<4142 43\n44\t45>", b"<414>", b"<FEFF00e6>", b"<  >", b"<0>",
    b"<41" + b"42" * 40000 + b">",  # longer than one chunk
    b"<41 % a comment > with a bracket\n42>",  # a comment: pyHanko's reader
]


@pytest.mark.parametrize("text", HEX_STRINGS)
def test_a_hex_string_reads_as_pyhankos_own_reader_reads_it(text: bytes) -> None:
    fast, plain = BytesIO(text + b" /Next"), BytesIO(text + b" /Next")
    fast_value = pyhanko_speedups.read_hex_string_from_stream(fast)
    with pyhanko_speedups.unpatched():
        plain_value = generic.read_hex_string_from_stream(plain)
    assert (type(fast_value), fast_value) == (type(plain_value), plain_value)
    assert fast.tell() == plain.tell()  # just after the ">"


@pytest.mark.parametrize("text", [b"<41 4G>", b"<4142", b"<41\x80>"])
def test_a_broken_hex_string_fails_with_pyhankos_own_error(text: bytes) -> None:
    with pytest.raises(PdfStreamError) as fast:
        pyhanko_speedups.read_hex_string_from_stream(BytesIO(text))
    with pyhanko_speedups.unpatched(), pytest.raises(PdfStreamError) as plain:
        generic.read_hex_string_from_stream(BytesIO(text))
    assert str(fast.value) == str(plain.value)


TOKENS = [
    b"/Type /Page", b"/Type/Page", b"/StructTreeRoot<<", b"/K[1 0 R]", b"123 0 R", b"-4.25]", b"true>>", b"/A#20B ",
    b"/Caf#C3#A9)", b"/Latin#E9 ", b"/Name", b"", b"/", b"/" + b"x" * 300 + b" ", b"/" + b"y" * 300,
    b"/Tab\there", b"/Null\x00byte", b"/%comment", b"/Bad#4", b"/Bad#GG ", b"/Caf\xc3\xa9 ", b"/Del\x7f ",
]


@pytest.mark.parametrize("text", TOKENS)
def test_a_token_and_a_name_read_as_pyhankos_own_reader_reads_them(text: bytes) -> None:
    """Up to the token's end (white space, a delimiter, the end of the stream), the stream left there;
    a name decoded, or refused with pyHanko's own error."""
    def read(stream: BytesIO) -> tuple[object, int, object, int]:
        stream.read(1 if stream.getvalue().startswith(b"/") else 0)
        token = generic.read_until_delimiter(stream)
        after_token = stream.tell()
        stream.seek(0)
        try:
            name = generic.NameObject.read_from_stream(stream) if text.startswith(b"/") else None
        except PdfReadError as error:
            name = f"{type(error).__name__}: {error}"
        return token, after_token, (type(name), name), stream.tell()

    fast = read(BytesIO(text))
    with pyhanko_speedups.unpatched():
        plain = read(BytesIO(text))
    assert fast == plain


@pytest.mark.parametrize("value", ["Voss kommune", "  Ola   Ordførar ", "soft\u00adhyphen", "Ærlig Ørn Åse", "tab\there"])
def test_a_name_is_prepared_as_asn1crypto_prepares_it(value: str) -> None:
    name = asn1_x509.Name.build({"common_name": value})
    with pyhanko_speedups.unpatched():
        plain = asn1_x509.Name.build({"common_name": value}).hashable
    pyhanko_speedups.forget()
    assert name.hashable == plain


def test_a_malformed_name_fails_every_time_as_before() -> None:
    malformed = "\u05d0a\u05d0"  # right-to-left letters around a left-to-right one (RFC 4518 § 2.4)
    for _ in range(2):
        with pytest.raises(ValueError):
            asn1_x509.Name.build({"common_name": malformed}).hashable  # noqa: B018
    with pyhanko_speedups.unpatched(), pytest.raises(ValueError):
        asn1_x509.Name.build({"common_name": malformed}).hashable  # noqa: B018


def test_other_library_versions_are_left_unpatched(monkeypatch) -> None:
    with pyhanko_speedups.unpatched():
        monkeypatch.setitem(pyhanko_speedups.WRITTEN_FOR, "pyhanko", "0.37.0")
        assert not pyhanko_speedups.install()
        assert generic.read_hex_string_from_stream is not pyhanko_speedups.read_hex_string_from_stream
        monkeypatch.undo()
    assert pyhanko_speedups.installed()


def object_paths(pdf: bytes) -> list[dict[tuple[int, int], set[tuple]]]:
    """Every revision's paths from the trailer to each object, as the difference analysis reads them."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(BytesIO(pdf), strict=False)
    maps = []
    for revision in range(reader.xrefs.total_revisions):
        resolver = reader.get_historical_resolver(revision)
        resolver._load_reverse_xref_cache()
        maps.append({(ref.idnum, ref.generation): {path._tag() for path in resolver._get_usages_of_ref(ref)}
                     for ref in resolver._indirect_object_access_cache})
    return maps


@pytest.mark.parametrize("which", ["closed", "page_changed"])
def test_the_paths_to_every_object_are_pyhankos_in_every_revision(workflow, which) -> None:
    # the page_changed file has a later revision that changes the page tree
    pdf = page_rotated_after_signing(workflow.closed) if which == "page_changed" else workflow.closed
    sped_up = object_paths(pdf)
    with pyhanko_speedups.unpatched():
        plain = object_paths(pdf)
    assert sped_up == plain
    assert len(sped_up) >= 6 and all(len(paths) >= 20 for paths in sped_up)


NAMES = [
    ({"common_name": "Voss kommune", "country_name": "NO"}, {"common_name": "Voss kommune", "country_name": "NO"}),
    ({"common_name": "Voss  Kommune"}, {"common_name": "voss kommune"}),  # RFC 4518: case and spaces
    ({"common_name": "Voss kommune"}, {"common_name": "Ulvik herad"}),
    ({"common_name": "Ola", "organization_name": "Voss"}, {"common_name": "Ola"}),
]


@pytest.mark.parametrize(("first", "second"), NAMES)
def test_names_compare_and_hash_as_in_asn1crypto(first: dict, second: dict) -> None:
    def judged(printable: bool) -> tuple:
        a, b = asn1_x509.Name.build(first), asn1_x509.Name.build(second, use_printable=printable)
        return a == b, a != b, b == a, a.hashable, b.hashable

    pyhanko_speedups.forget()
    sped_up = [judged(False), judged(True), judged(False)]  # the last from the memo
    with pyhanko_speedups.unpatched():
        plain = [judged(False), judged(True), judged(False)]
    assert sped_up == plain


def signed_by_a_new_key(data: bytes):  # type: ignore[no-untyped-def]
    """An ECDSA P-256 signature over ``data``, with the key and algorithm as pyHanko's validator takes them."""
    from asn1crypto import algos, keys
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    public = keys.PublicKeyInfo.load(key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))
    return key.sign(data, ec.ECDSA(hashes.SHA256())), public, algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"})


def checks_made(monkeypatch) -> list[bytes]:  # type: ignore[no-untyped-def]
    """The signed bytes of every signature check that reaches the library's own code, from now on."""
    checks: list[bytes] = []
    original = pyhanko_speedups._original_validate_signature
    monkeypatch.setattr(pyhanko_speedups, "_original_validate_signature",
                        lambda self, signature, data, *rest: (checks.append(data), original(self, signature, data, *rest)))
    return checks


def test_a_signature_check_that_passed_is_answered_again_without_the_arithmetic(monkeypatch) -> None:
    from pyhanko_certvalidator.sig_validate import DEFAULT_SIGNATURE_VALIDATOR

    checks = checks_made(monkeypatch)
    pyhanko_speedups.forget()
    signature, public_key, algorithm = signed_by_a_new_key(b"the agreement's signed attributes")
    for _ in range(3):
        DEFAULT_SIGNATURE_VALIDATOR.validate_signature(signature, b"the agreement's signed attributes", public_key, algorithm)
    assert checks == [b"the agreement's signed attributes"]


def test_a_signature_that_fails_fails_every_time_even_after_the_genuine_one_passed(monkeypatch) -> None:
    from cryptography.exceptions import InvalidSignature
    from pyhanko_certvalidator.sig_validate import DEFAULT_SIGNATURE_VALIDATOR

    checks = checks_made(monkeypatch)
    signature, public_key, algorithm = signed_by_a_new_key(b"signed")
    DEFAULT_SIGNATURE_VALIDATOR.validate_signature(signature, b"signed", public_key, algorithm)
    _other_signature, other_key, _ = signed_by_a_new_key(b"signed")
    tampered = bytearray(signature)
    tampered[-1] ^= 0x01
    for forged in [(signature, b"signed!", public_key), (signature, b"signed", other_key),
                   (bytes(tampered), b"signed", public_key)]:
        for _ in range(2):
            with pytest.raises(InvalidSignature):
                DEFAULT_SIGNATURE_VALIDATOR.validate_signature(forged[0], forged[1], forged[2], algorithm)
    assert len(checks) == 1 + 3 * 2  # every failed check was made again, none answered from memory


def test_the_time_stamps_evidence_is_validated_once_per_report_and_again_for_other_trust(workflow, pki, monkeypatch) -> None:
    """The ETSI report validates its four signatures at one moment with one spec: the document
    time-stamps (the evidence record) are validated for the first signature only. A report against other
    trust anchors, in the same reading of the file, validates them again, for each signature, since
    without trust they fail and a failure is not remembered; and it concludes otherwise."""
    from portal.signing.etsi_report import etsi_report_xml
    from portal.signing.shared_analysis import sharing_readers

    validations: list[object] = []
    original = pyhanko_speedups._original_validate_poe

    async def counted(*args: object) -> object:
        validations.append(args[2])
        return await original(*args)

    monkeypatch.setattr(pyhanko_speedups, "_original_validate_poe", counted)
    with sharing_readers():
        trusted = etsi_report_xml(workflow.closed, pki.trust_roots)
        assert trusted.count(b"<vr:SignatureValidationReport") == 4 and len(validations) == 1
        untrusted = etsi_report_xml(workflow.closed, [])
    assert len(validations) == 1 + 4 and len(set(validations[1:])) == 1 and validations[0] != validations[1]
    assert trusted.count(b"urn:etsi:019102:mainindication:total-passed") == 4
    assert b"urn:etsi:019102:mainindication:total-passed" not in untrusted
