"""The portal's own small public-key infrastructure, for the demo and the tests.

Certificates and CRLs follow RFC 5280 (X.509 profile); the time-stamping certificate carries the
critical ``id-kp-timeStamping`` extended key usage RFC 3161 § 2.3 requires. Signing certificates carry
the non-repudiation (``contentCommitment``) key usage that PAdES validators (ETSI EN 319 102-1) expect.

Layout of the folder (created on first use, private keys readable by the owner only)::

    root-ca.key.pem / root-ca.cert.pem        self-signed trust anchor
    issuing-ca.key.pem / issuing-ca.cert.pem  issues the TSA, seal and signatory certificates
    tsa.key.pem / tsa.cert.pem                RFC 3161 time-stamping unit
    seal.p12 / seal.p12.passphrase            the portal's organisation seal (PKCS#12)
    revoked.json                              serial numbers revoked by each CA
    base_url                                  where the CRLs and the TSA are published (written last)

In production the portal uses a real trust service: the timestamp URL, trust anchors and keys are
configuration, and this module is not used.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Mapping

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes, PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["CA_NAMES", "TSA_VALIDITY", "DemoPki", "SignatoryIdentity", "new_private_key", "to_asn1"]

logger = logging.getLogger(__name__)

#: The two certification authorities, by the name used in file names and URLs.
CA_NAMES = ("root-ca", "issuing-ca")

_CA_VALIDITY = timedelta(days=20 * 365)
#: The demo TSA's certificate: as long as the CAs (less a day, inside the issuing CA's validity).
TSA_VALIDITY = _CA_VALIDITY - timedelta(days=1)
_LEAF_VALIDITY = timedelta(days=3 * 365)
_CRL_VALIDITY = timedelta(days=7)


def tsa_validity_setting(config: Mapping[str, Any]) -> timedelta:
    """The demo TSA certificate's validity from ``PKI_TSA_VALIDITY_DAYS`` (default :data:`TSA_VALIDITY`)."""
    days = config.get("PKI_TSA_VALIDITY_DAYS")
    return timedelta(days=int(days)) if days else TSA_VALIDITY


def to_asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    """A ``cryptography`` certificate as the ``asn1crypto`` object pyHanko works with."""
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def new_private_key(kind: str = "ec") -> ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey:
    """A fresh key pair: ECDSA P-256 (``"ec"``, the default: fast) or RSA-2048 (``"rsa"``)."""
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


@dataclass(frozen=True)
class SignatoryIdentity:
    """Who a signing certificate names: the subject's CN, title, O and e-mail address (RFC 5280 § 4.1.2.6),
    and a ``pseudonym``: the subject's serialNumber attribute (X.520), a stable reference to the person
    that is never their national identity number (as ETSI EN 319 412-1 § 5.1.3 allows)."""

    name: str
    title: str
    organisation: str
    email: str
    pseudonym: str = ""

    def subject(self) -> x509.Name:
        attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "NO"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, self.organisation)]
        if self.title:
            attributes.append(x509.NameAttribute(NameOID.TITLE, self.title))
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, self.name))
        if self.pseudonym:
            attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, self.pseudonym))
        if self.email:
            attributes.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, self.email))
        return x509.Name(attributes)


class DemoPki:
    """A root CA, an issuing CA, a TSA certificate and the organisation seal, kept in ``folder``.

    :param folder: where the keys, certificates and the seal's PKCS#12 file live (``instance/pki/``).
    :param base_url: where the portal publishes the services of :mod:`portal.signing.services`
        (``PKI_BASE_URL``); issued certificates name ``<base_url>/pki/crl/<ca>.crl`` as their CRL
        distribution point (RFC 5280 § 4.2.1.13), and the TSA answers at ``<base_url>/pki/tsa``.
    :param organisation: the organisation named in the CA and seal certificates.
    :param tsa_validity: how long the TSA certificate made with the PKI is valid (default
        :data:`TSA_VALIDITY`); a short one lets the tests see a time-stamp outlive its TSA's certificate.

    Everything is created on first use; later instances read the files back.
    """

    def __init__(self, folder: str | os.PathLike[str], base_url: str, organisation: str = "Politirådsportalen",
                 *, tsa_validity: timedelta = TSA_VALIDITY) -> None:
        self.folder = Path(folder)
        self.base_url = base_url.rstrip("/")
        self.organisation = organisation
        self.tsa_validity = tsa_validity
        self._lock = threading.Lock()
        self._keys: dict[str, PrivateKeyTypes] = {}
        self._certs: dict[str, x509.Certificate] = {}
        self._crl_cache: dict[str, tuple[datetime, bytes]] = {}
        self._ensure()

    # ------------------------------------------------------------------ published locations
    @property
    def tsa_url(self) -> str:
        return f"{self.base_url}/pki/tsa"

    def crl_url(self, ca_name: str) -> str:
        return f"{self.base_url}/pki/crl/{ca_name}.crl"

    # ------------------------------------------------------------------ certificates and keys
    @property
    def root_certificate(self) -> x509.Certificate:
        return self._certs["root-ca"]

    @property
    def issuing_certificate(self) -> x509.Certificate:
        return self._certs["issuing-ca"]

    @property
    def tsa_certificate(self) -> x509.Certificate:
        return self._certs["tsa"]

    @property
    def tsa_private_key(self) -> PrivateKeyTypes:
        return self._keys["tsa"]

    @property
    def trust_roots(self) -> list[asn1_x509.Certificate]:
        """The trust anchors a validator of the portal's documents needs (as pyHanko wants them)."""
        return [to_asn1(self.root_certificate)]

    @property
    def chain(self) -> list[asn1_x509.Certificate]:
        """The certificates between an issued certificate and the root, root included."""
        return [to_asn1(self.issuing_certificate), to_asn1(self.root_certificate)]

    @property
    def seal_pkcs12_path(self) -> Path:
        return self.folder / "seal.p12"

    @property
    def seal_passphrase(self) -> bytes:
        return (self.folder / "seal.p12.passphrase").read_bytes().strip()

    def issue_signing_certificate(
        self, identity: SignatoryIdentity, public_key: CertificatePublicKeyTypes, validity: timedelta = _LEAF_VALIDITY
    ) -> x509.Certificate:
        """A certificate for a signatory's public key, issued by the issuing CA (RFC 5280 end entity).

        Key usage ``digitalSignature`` and ``contentCommitment`` (non-repudiation); the e-mail address
        also goes into the subject alternative name.
        """
        extra: list[tuple[x509.ExtensionType, bool]] = []
        if identity.email:
            extra.append((x509.SubjectAlternativeName([x509.RFC822Name(identity.email)]), False))
        return self._issue_leaf(identity.subject(), public_key, _signing_key_usage(), extra, validity)

    # ------------------------------------------------------------------ revocation (RFC 5280 § 5)
    def revoke(self, certificate: x509.Certificate) -> None:
        """Put ``certificate`` on its issuer's next CRL."""
        issuer = "root-ca" if certificate.issuer == self.root_certificate.subject else "issuing-ca"
        with self._lock:
            revoked = self._revoked()
            revoked.setdefault(issuer, [])
            if certificate.serial_number not in revoked[issuer]:
                revoked[issuer].append(certificate.serial_number)
            (self.folder / "revoked.json").write_text(json.dumps(revoked))
            self._crl_cache.pop(issuer, None)

    def crl(self, ca_name: str, at: datetime | None = None) -> bytes:
        """The current DER-encoded CRL of ``ca_name`` (``root-ca`` or ``issuing-ca``), renewed daily; with
        ``at``, the CRL the CA would publish at that moment (for a test that moves the clock; not kept)."""
        if ca_name not in CA_NAMES:
            raise KeyError(ca_name)
        now = at or datetime.now(timezone.utc)
        with self._lock:
            cached = self._crl_cache.get(ca_name)
            if at is None and cached and now - cached[0] < timedelta(days=1):
                return cached[1]
            issuer_cert, issuer_key = self._certs[ca_name], self._keys[ca_name]
            builder = (
                x509.CertificateRevocationListBuilder()
                .issuer_name(issuer_cert.subject)
                .last_update(now - timedelta(minutes=5))
                .next_update(now + _CRL_VALIDITY)
                .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
                .add_extension(
                    x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_cert.public_key()), critical=False  # type: ignore[arg-type]
                )
            )
            for serial in self._revoked().get(ca_name, []):
                builder = builder.add_revoked_certificate(
                    x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(now - timedelta(minutes=5)).build()
                )
            der = builder.sign(issuer_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)  # type: ignore[arg-type]
            if at is None:
                self._crl_cache[ca_name] = (now, der)
            return der

    def _revoked(self) -> dict[str, list[int]]:
        path = self.folder / "revoked.json"
        return json.loads(path.read_text()) if path.exists() else {}

    # ------------------------------------------------------------------ creation
    def _ensure(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        with self._lock, open(self.folder / ".lock", "w") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)  # several workers may start at once: one creates
            if not (self.folder / "base_url").exists():  # written last: the PKI is complete
                self._create()
            published = (self.folder / "base_url").read_text().strip()
            if published != self.base_url:
                logger.warning(
                    "The demo PKI in %s was created for %s; its certificates name CRLs there, not under %s.",
                    self.folder, published, self.base_url,
                )
            for name in ("root-ca", "issuing-ca", "tsa"):
                self._keys[name] = serialization.load_pem_private_key((self.folder / f"{name}.key.pem").read_bytes(), None)
                self._certs[name] = x509.load_pem_x509_certificate((self.folder / f"{name}.cert.pem").read_bytes())

    def _create(self) -> None:
        now = datetime.now(timezone.utc)
        root_key = new_private_key()
        root_name = _org_name(self.organisation, "Politirådsportalen Root CA (demo)")
        root = (
            x509.CertificateBuilder()
            .subject_name(root_name)
            .issuer_name(root_name)
            .public_key(root_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + _CA_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(_ca_key_usage(), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256())
        )
        self._keys["root-ca"], self._certs["root-ca"] = root_key, root

        issuing_key = new_private_key()
        issuing = (
            self._builder(_org_name(self.organisation, "Politirådsportalen Issuing CA (demo)"), issuing_key.public_key(), "root-ca", _CA_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_ca_key_usage(), critical=True)
            .sign(root_key, hashes.SHA256())
        )
        self._keys["issuing-ca"], self._certs["issuing-ca"] = issuing_key, issuing

        tsa_key, tsa = self._new_tsa(self.tsa_validity)
        seal_key = new_private_key()
        seal = self._issue_leaf(
            _org_name(self.organisation, f"{self.organisation} segl"), seal_key.public_key(), _signing_key_usage(), [], _LEAF_VALIDITY
        )
        for name, key, cert in (("root-ca", root_key, root), ("issuing-ca", issuing_key, issuing), ("tsa", tsa_key, tsa)):
            _write_private(self.folder / f"{name}.key.pem", key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ))
            (self.folder / f"{name}.cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        passphrase = secrets.token_urlsafe(24).encode()
        _write_private(self.folder / "seal.p12.passphrase", passphrase)
        _write_private(
            self.seal_pkcs12_path,
            pkcs12.serialize_key_and_certificates(
                b"seal", seal_key, seal, [issuing, root], serialization.BestAvailableEncryption(passphrase)
            ),
        )
        (self.folder / "base_url").write_text(self.base_url)

    def _new_tsa(self, validity: timedelta) -> tuple[PrivateKeyTypes, x509.Certificate]:
        tsa_key = new_private_key()
        tsa = self._issue_leaf(
            _org_name(self.organisation, "Politirådsportalen Time Stamping Authority (demo)"),
            tsa_key.public_key(),
            x509.KeyUsage(True, False, False, False, False, False, False, False, False),
            [(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), True)],
            validity,
        )
        return tsa_key, tsa

    def renew_tsa_certificate(self, validity: timedelta = TSA_VALIDITY) -> x509.Certificate:
        """Give the TSA a new key and certificate valid for ``validity`` (as a real TSA does before its
        certificate expires); time-stamps made from now on use them, the earlier ones keep the old ones.
        A :class:`~.services.TimeStampAuthority` made before keeps the old key: make a new one."""
        with self._lock, open(self.folder / ".lock", "w") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            key, cert = self._new_tsa(validity)
            _write_private(self.folder / "tsa.key.pem", key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
            (self.folder / "tsa.cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
            self._keys["tsa"], self._certs["tsa"] = key, cert
        return cert

    def _builder(self, subject: x509.Name, public_key: CertificatePublicKeyTypes, issuer: str, validity: timedelta) -> x509.CertificateBuilder:
        now = datetime.now(timezone.utc)
        issuer_cert = self._certs[issuer]
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer_cert.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(min(now + validity, issuer_cert.not_valid_after_utc))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_cert.public_key()), critical=False  # type: ignore[arg-type]
            )
            .add_extension(
                x509.CRLDistributionPoints(
                    [x509.DistributionPoint([x509.UniformResourceIdentifier(self.crl_url(issuer))], None, None, None)]
                ),
                critical=False,
            )
        )

    def _issue_leaf(
        self,
        subject: x509.Name,
        public_key: CertificatePublicKeyTypes,
        key_usage: x509.KeyUsage,
        extra: list[tuple[x509.ExtensionType, bool]],
        validity: timedelta,
    ) -> x509.Certificate:
        builder = (
            self._builder(subject, public_key, "issuing-ca", validity)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(key_usage, critical=True)
        )
        for extension, critical in extra:
            builder = builder.add_extension(extension, critical=critical)
        return builder.sign(self._keys["issuing-ca"], hashes.SHA256())  # type: ignore[arg-type]


def _org_name(organisation: str, common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "NO"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _ca_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(True, False, False, False, False, True, True, False, False)


def _signing_key_usage() -> x509.KeyUsage:
    # digital_signature, content_commitment (non-repudiation)
    return x509.KeyUsage(True, True, False, False, False, False, False, False, False)


def _write_private(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
