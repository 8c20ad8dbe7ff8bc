"""Where signing keys come from: one interface, three sources.

Every source gives a pyHanko :class:`~pyhanko.sign.signers.Signer` that produces the raw signature of a
CMS ``SignedData`` (RFC 5652) for a PAdES signature (ETSI EN 319 142-1):

* :class:`PortalIssuedKey`: the portal's CA issues the signatory a certificate on first use; the private
  key is stored encrypted (scrypt, RFC 7914, then AES-256-GCM) under the signatory's own secret, so the
  server alone cannot use it.
* :class:`Pkcs12Key`: a PKCS#12 file (RFC 7292) the signatory uploads with its passphrase; used once,
  never stored.
* :class:`Pkcs11Key`: a key in a hardware token or HSM behind a PKCS#11 module (tested with SoftHSM2).

The organisation seal is a :class:`Pkcs12Key` (the demo PKI's ``seal.p12``) or a :class:`Pkcs11Key`.
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from asn1crypto import algos, cms, pkcs12 as asn1_pkcs12, x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.sign.signers import Signer
from pyhanko_certvalidator.registry import SimpleCertificateStore

from .pki import DemoPki, SignatoryIdentity, new_private_key, to_asn1

__all__ = [
    "InvalidPkcs12",
    "KeySourceError",
    "LoadedKeySigner",
    "NoCertificateOnToken",
    "NoKeyOnToken",
    "Pkcs11Key",
    "Pkcs12Key",
    "PortalIssuedKey",
    "SigningKeySource",
    "StoredPortalKey",
    "WrongPassphrase",
    "WrongPin",
    "WrongSecret",
]


class KeySourceError(Exception):
    """A key could not be made ready for signing; ``code`` names the reason for the page."""

    code = "key_unavailable"


class WrongPassphrase(KeySourceError):
    """The PKCS#12 file could not be decrypted with the passphrase given."""

    code = "wrong_passphrase"


class InvalidPkcs12(KeySourceError):
    """The upload is not a PKCS#12 file, or holds no private key with its certificate."""

    code = "not_pkcs12"


class WrongSecret(KeySourceError):
    """The portal-issued key could not be decrypted with the secret given."""

    code = "wrong_secret"


class WrongPin(KeySourceError):
    """The PKCS#11 token refused the PIN (wrong, or of a length it never accepts)."""

    code = "wrong_pin"


class NoKeyOnToken(KeySourceError):
    """The PKCS#11 token holds no private key with the label asked for."""

    code = "no_key"


class NoCertificateOnToken(KeySourceError):
    """The PKCS#11 token holds the key but no certificate with the label asked for."""

    code = "no_certificate"


@runtime_checkable
class SigningKeySource(Protocol):
    """Anything that can give a ready pyHanko signer and name its certificate."""

    def signer(self) -> Signer:
        """A signer holding the key and the certificate chain (embedded in each signature)."""
        ...


class LoadedKeySigner(Signer):
    """A pyHanko signer that keeps its private key loaded (``cryptography`` object), ECDSA or RSA.

    pyHanko's ``SimpleSigner`` parses its key again for every raw signature, twice per PDF signature
    (a dry run sizes the CMS container). This signer parses it once and answers the dry run with a
    signature of the maximal size without computing one (ECDSA: DER ``Ecdsa-Sig-Value``, RFC 5480
    § 2.2; RSA: PKCS #1 v1.5, RFC 8017 § 8.2).
    """

    def __init__(
        self,
        private_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
        certificate: asn1_x509.Certificate,
        other_certs: Iterable[asn1_x509.Certificate] = (),
    ) -> None:
        if isinstance(private_key, ec.EllipticCurvePrivateKey):
            mechanism = "sha256_ecdsa"
            size = private_key.key_size // 8 + 1
            self._dry_run_size = 2 * (size + 2) + 2 + 1  # two INTEGERs with sign byte, SEQUENCE header
        elif isinstance(private_key, rsa.RSAPrivateKey):
            mechanism = "sha256_rsa"
            self._dry_run_size = private_key.key_size // 8
        else:
            raise KeySourceError(f"Unsupported key type: {type(private_key).__name__}")
        self._private_key = private_key
        super().__init__(
            signing_cert=certificate,
            cert_registry=SimpleCertificateStore.from_certs(list(other_certs)),
            signature_mechanism=algos.SignedDigestAlgorithm({"algorithm": mechanism}),
            embed_roots=True,
        )
        # The signer identifier (RFC 5652 § 5.3) never changes: encode it once.
        self._sid_der = cms.SignerIdentifier(
            {"issuer_and_serial_number": {"issuer": certificate.issuer, "serial_number": certificate.serial_number}}
        ).dump()

    def signer_info(self, digest_algorithm: str, signed_attrs: cms.CMSAttributes, signature: bytes) -> cms.SignerInfo:
        """The ``SignerInfo`` (RFC 5652 § 5.3), with the signer identifier encoded once per signer."""
        return cms.SignerInfo(
            {
                "version": "v1",
                "sid": cms.SignerIdentifier.load(self._sid_der),
                "digest_algorithm": algos.DigestAlgorithm({"algorithm": digest_algorithm}),
                "signature_algorithm": self.get_signature_mechanism_for_digest(digest_algorithm),
                "signed_attrs": signed_attrs,
                "signature": signature,
            }
        )

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        if dry_run:
            return bytes(self._dry_run_size)
        hash_algorithm = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}[digest_algorithm]
        if isinstance(self._private_key, ec.EllipticCurvePrivateKey):
            return self._private_key.sign(data, ec.ECDSA(hash_algorithm))
        return self._private_key.sign(data, padding.PKCS1v15(), hash_algorithm)


# ---------------------------------------------------------------------- PKCS#12 uploads (RFC 7292)
class Pkcs12Key:
    """A key and certificate from a PKCS#12 file (``.p12``/``.pfx``) and its passphrase.

    Nothing is kept beyond the lifetime of the object: the caller signs once and drops it.
    Raises :class:`InvalidPkcs12` or :class:`WrongPassphrase` when it cannot be opened.
    """

    def __init__(self, data: bytes, passphrase: str | bytes | None, extra_certs: Iterable[asn1_x509.Certificate] = ()) -> None:
        secret = passphrase.encode() if isinstance(passphrase, str) else passphrase
        try:
            asn1_pkcs12.Pfx.load(data)["auth_safe"].native  # noqa: B018  (parse, to tell "not PKCS#12" apart)
        except (ValueError, TypeError, KeyError) as error:
            raise InvalidPkcs12("The file is not a PKCS#12 file.") from error
        try:
            key, cert, additional = pkcs12.load_key_and_certificates(data, secret or None)
        except ValueError as error:
            raise WrongPassphrase("The passphrase does not open this PKCS#12 file.") from error
        if key is None or cert is None:
            raise InvalidPkcs12("The PKCS#12 file holds no private key with its certificate.")
        if not isinstance(key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
            raise InvalidPkcs12(f"Unsupported key type in the PKCS#12 file: {type(key).__name__}")
        if cert.public_key().public_numbers() != key.public_key().public_numbers():  # type: ignore[union-attr]
            raise InvalidPkcs12("The certificate in the PKCS#12 file does not belong to its key.")
        self.certificate = cert
        self._signer = LoadedKeySigner(key, to_asn1(cert), [*(to_asn1(c) for c in additional), *extra_certs])

    def signer(self) -> Signer:
        return self._signer


# ---------------------------------------------------------------------- portal-issued keys
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**15, 8, 1
_MAGIC = b"PPK1"


@dataclass(frozen=True)
class StoredPortalKey:
    """What the portal keeps for a signatory (in the DB): the encrypted key and the certificate (DER).

    ``encrypted_key`` is ``PPK1 || salt(16) || nonce(12) || AES-256-GCM(PKCS#8 DER)``, the AES key
    derived from the signatory's secret with scrypt (N=2^15, r=8, p=1); the certificate's DER is the
    associated data, so the key cannot be paired with another certificate.
    """

    encrypted_key: bytes
    certificate_der: bytes

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_der_x509_certificate(self.certificate_der)


class PortalIssuedKey:
    """A signatory's key pair, made and certified by the portal's CA on first use.

    :meth:`enrol` creates the key pair and certificate and returns the :class:`StoredPortalKey` to keep;
    a :class:`PortalIssuedKey` opens it again with the signatory's secret (else :class:`WrongSecret`).
    """

    def __init__(self, stored: StoredPortalKey, secret: str, chain: Iterable[asn1_x509.Certificate]) -> None:
        blob = stored.encrypted_key
        if not blob.startswith(_MAGIC) or len(blob) < 4 + 16 + 12 + 16:
            raise KeySourceError("The stored key is damaged.")
        salt, nonce, ciphertext = blob[4:20], blob[20:32], blob[32:]
        try:
            der = AESGCM(_derive(secret, salt)).decrypt(nonce, ciphertext, stored.certificate_der)
        except InvalidTag as error:
            raise WrongSecret("The secret does not open this signing key.") from error
        key = serialization.load_der_private_key(der, None)
        assert isinstance(key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey))
        self.certificate = stored.certificate
        self._signer = LoadedKeySigner(key, to_asn1(self.certificate), chain)

    @classmethod
    def enrol(cls, pki: DemoPki, identity: SignatoryIdentity, secret: str, key_type: str = "ec") -> StoredPortalKey:
        """A new key pair for ``identity``, certified by ``pki``, encrypted under ``secret``."""
        if not secret:
            raise KeySourceError("A secret is needed to protect the signing key.")
        key = new_private_key(key_type)
        certificate = pki.issue_signing_certificate(identity, key.public_key())
        cert_der = certificate.public_bytes(serialization.Encoding.DER)
        der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        salt, nonce = os.urandom(16), os.urandom(12)
        ciphertext = AESGCM(_derive(secret, salt)).encrypt(nonce, der, cert_der)
        return StoredPortalKey(_MAGIC + salt + nonce + ciphertext, cert_der)

    def signer(self) -> Signer:
        return self._signer


def _derive(secret: str, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P).derive(secret.encode())


# ---------------------------------------------------------------------- PKCS#11 (OASIS PKCS #11)
class Pkcs11Key:
    """A key in a PKCS#11 token or HSM, through pyHanko's ``PKCS11Signer``.

    :param module: path of the PKCS#11 module (SoftHSM2: ``/usr/lib/softhsm/libsofthsm2.so``).
    :param token_label: the token's label.
    :param pin: the user PIN.
    :param key_label: the private key's label.
    :param certificate: the signer's certificate, when it is not stored on the token
        (else it is read from the token under ``cert_label``, default ``key_label``; none there:
        :class:`NoCertificateOnToken`).
    :param chain: the other certificates to embed.
    :param use_raw_mechanism: hash in software and have the token sign the digest (default: for EC keys,
        which SoftHSM2 and many tokens support only as raw ``CKM_ECDSA``).

    Raises :class:`WrongPin` when the token refuses the PIN, :class:`NoKeyOnToken` when no private key
    has ``key_label``, :class:`KeySourceError` for other reasons (no such token...).

    Use as a context manager, or call :meth:`close`: the PKCS#11 session stays open until then.
    """

    DEFAULT_MODULE = "/usr/lib/softhsm/libsofthsm2.so"

    def __init__(
        self,
        token_label: str,
        pin: str,
        key_label: str,
        *,
        module: str = DEFAULT_MODULE,
        certificate: x509.Certificate | None = None,
        cert_label: str | None = None,
        chain: Iterable[asn1_x509.Certificate] = (),
        use_raw_mechanism: bool | None = None,
    ) -> None:
        import pkcs11
        from pyhanko.config.pkcs11 import TokenCriteria
        from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session

        try:
            self._session = open_pkcs11_session(module, token_criteria=TokenCriteria(label=token_label), user_pin=pin)
        except (pkcs11.PinIncorrect, pkcs11.PinInvalid, pkcs11.PinLenRange) as error:
            raise WrongPin("The PIN does not open the PKCS#11 token.") from error
        except Exception as error:  # python-pkcs11 raises many kinds (NoSuchToken, PinLocked...)
            raise KeySourceError(f"The PKCS#11 token could not be opened: {type(error).__name__}") from error
        try:
            if not self._find(pkcs11.ObjectClass.PRIVATE_KEY, key_label):
                raise NoKeyOnToken(f"The PKCS#11 token holds no private key labelled {key_label!r}.")
            if certificate is None:
                label = cert_label or key_label
                found = self._find(pkcs11.ObjectClass.CERTIFICATE, label)
                if not found:
                    raise NoCertificateOnToken(f"The PKCS#11 token holds no certificate labelled {label!r}.")
                certificate = x509.load_der_x509_certificate(bytes(found[0][pkcs11.Attribute.VALUE]))
        except BaseException:
            self._session.close()
            raise
        self.certificate = certificate
        self._signer = PKCS11Signer(
            self._session,
            key_label=key_label,
            signing_cert=to_asn1(certificate),
            ca_chain=list(chain),
            # Hash here and let the token sign the digest (CKM_ECDSA): SoftHSM2 has no CKM_ECDSA_SHA256.
            use_raw_mechanism=(
                isinstance(certificate.public_key(), ec.EllipticCurvePublicKey) if use_raw_mechanism is None
                else use_raw_mechanism
            ),
        )

    def _find(self, object_class: object, label: str) -> list:  # type: ignore[type-arg]
        from pkcs11 import Attribute

        return list(self._session.get_objects({Attribute.CLASS: object_class, Attribute.LABEL: label}))

    def signer(self) -> Signer:
        return self._signer

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Pkcs11Key:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
