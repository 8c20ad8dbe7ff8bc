"""Keys that live in the signatory's browser (WebCrypto) and the certificates the portal's CA gives them.

The browser makes a non-extractable ECDSA P-256 key (``crypto.subtle.generateKey``) and keeps the
``CryptoKey`` in IndexedDB. The portal only ever sees:

* the public key (``SubjectPublicKeyInfo``, RFC 5280 § 4.1.2.7, as ``crypto.subtle.exportKey("spki")``),
* a proof of possession: the key's signature over a one-time challenge from the server, and
* later, signatures over the CMS signed attributes of a prepared signature (:mod:`.interrupted`).

WebCrypto returns ECDSA signatures as the raw ``r || s`` (IEEE P1363, W3C Web Cryptography API § 23.4);
CMS wants the DER ``Ecdsa-Sig-Value`` (RFC 5480 § 2.2 / RFC 3279 § 2.2.3): :func:`der_from_raw`.

:class:`SoftwareDevice` stands in for a browser where there is none (the ``flask demo`` command, tests
and benchmarks): it holds its own key in memory, the portal never gets it, and it speaks to the portal
through the same enrolment and prepare/finish path as the page.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

__all__ = [
    "NotProofOfPossession",
    "SoftwareDevice",
    "check_proof_of_possession",
    "der_from_raw",
    "new_challenge",
    "pseudonym_for",
]

_P256_COORDINATE = 32


class NotProofOfPossession(ValueError):
    """The public key is not an ECDSA P-256 key, or the proof is not its signature over the challenge."""


def new_challenge() -> str:
    """A one-time challenge (256 random bits, base64url) for a proof of possession."""
    return secrets.token_urlsafe(32)


def der_from_raw(raw: bytes) -> bytes:
    """A WebCrypto ECDSA P-256 signature (``r || s``, 64 bytes) as a DER ``Ecdsa-Sig-Value``."""
    if len(raw) != 2 * _P256_COORDINATE:
        raise NotProofOfPossession("An ECDSA P-256 signature from WebCrypto is 64 bytes.")
    return encode_dss_signature(int.from_bytes(raw[:_P256_COORDINATE], "big"), int.from_bytes(raw[_P256_COORDINATE:], "big"))


def load_p256_public_key(spki_der: bytes) -> ec.EllipticCurvePublicKey:
    try:
        key = serialization.load_der_public_key(spki_der)
    except (ValueError, TypeError) as error:
        raise NotProofOfPossession("Not a public key (SubjectPublicKeyInfo, DER).") from error
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise NotProofOfPossession("Only ECDSA P-256 keys are accepted.")
    return key


def check_proof_of_possession(spki_der: bytes, challenge: str, raw_signature: bytes) -> ec.EllipticCurvePublicKey:
    """The public key, if ``raw_signature`` is its ECDSA/SHA-256 signature over the challenge's characters."""
    key = load_p256_public_key(spki_der)
    try:
        key.verify(der_from_raw(raw_signature), challenge.encode("ascii"), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as error:
        raise NotProofOfPossession("The proof is not this key's signature over the challenge.") from error
    return key


def pseudonym_for(user_id: int, secret: str | bytes) -> str:
    """A stable pseudonym for a person in their certificates (never an identity number): ``PRP-`` and
    16 hex digits of an HMAC of the user id under the portal's secret."""
    key = secret.encode() if isinstance(secret, str) else secret
    return "PRP-" + hmac.new(key, f"signatory:{user_id}".encode(), hashlib.sha256).hexdigest()[:16].upper()


_BROWSERS = (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Chromium/", "Chromium"), ("Safari/", "Safari"))
_SYSTEMS = (("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iPadOS"), ("Windows", "Windows"), ("Mac OS X", "macOS"),
            ("Linux", "Linux"))


def device_label(user_agent: str) -> str:
    """A browser's User-Agent in words a person recognises: «Chrome, Linux» (empty when it says nothing known)."""
    browser = next((name for token, name in _BROWSERS if token in user_agent), "")
    system = next((name for token, name in _SYSTEMS if token in user_agent), "")
    return ", ".join(part for part in (browser, system) if part)


def b64decode(text: str) -> bytes:
    """Standard or URL-safe base64, padded or not (what a page's ``btoa`` or a test sends)."""
    cleaned = text.strip().replace("-", "+").replace("_", "/")
    return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True)


class SoftwareDevice:
    """A stand-in for a signatory's browser: an ECDSA P-256 key held in this object's memory only,
    answering as WebCrypto does (raw ``r || s`` signatures over SHA-256)."""

    def __init__(self, name: str | None = None) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        # What the portal lists as the browser; each stand-in is a device of its own unless named alike
        # (enrolling a device of the same name again revokes the earlier certificate).
        self.name = name or f"software key {secrets.token_hex(4)}"
        self.certificate_id: int | None = None

    @property
    def public_key_der(self) -> bytes:
        return self._key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    def sign(self, data: bytes) -> bytes:
        r, s = decode_dss_signature(self._key.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(_P256_COORDINATE, "big") + s.to_bytes(_P256_COORDINATE, "big")
