"""The portal's own small public-key infrastructure, for the demo and the tests.

Certificates and CRLs follow RFC 5280 (X.509 profile); the time-stamping certificate carries the
critical ``id-kp-timeStamping`` extended key usage RFC 3161 § 2.3 requires. Signing certificates carry
the non-repudiation (``contentCommitment``) key usage that PAdES validators (ETSI EN 319 102-1) expect.

Layout of the folder (created on first use, private keys readable by the owner only)::

    root-ca.key.pem / root-ca.cert.pem        self-signed trust anchor
    issuing-ca.key.pem / issuing-ca.cert.pem  issues the TSA, seal and signatory certificates
    tsa.key.pem / tsa.cert.pem                RFC 3161 time-stamping unit
    ocsp.key.pem / ocsp.cert.pem              the issuing CA's delegated OCSP responder (RFC 6960 § 4.2.2.2:
                                              id-kp-OCSPSigning, and id-pkix-ocsp-nocheck)
    seal.p12 / seal.p12.passphrase            the portal's organisation seal (PKCS#12)
    revoked.json                              serial numbers revoked by each CA, with the time of revocation
    base_url                                  where the CRLs and the TSA are published (written last)

The issuing CA answers for its certificates in two ways: its CRL, and an OCSP responder (RFC 6960). Every
end-entity certificate it issues names both: the CRL in its CRL distribution points and the responder in
its Authority Information Access (RFC 5280 § 4.2.2.1), with the CA's certificate as ``caIssuers``.

In production the portal uses a real trust service: the timestamp URL, trust anchors and keys are
configuration, and this module is not used.
"""
from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import logging
import os
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes, PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

__all__ = ["CA_NAMES", "TSA_VALIDITY", "DemoPki", "SignatoryIdentity", "new_private_key", "to_asn1"]

logger = logging.getLogger(__name__)

#: The two certification authorities, by the name used in file names and URLs.
CA_NAMES = ("root-ca", "issuing-ca")

#: The demo CAs: 50 years. The portal checks at closing that an agreement would still validate 30 years on
#: (:mod:`.future`); pyHanko validates a CA's certificate at the validation time itself, and an expired
#: issuing CA is a CERTIFICATE_CHAIN_GENERAL_FAILURE that no proof of existence or revocation data in the
#: document can mend (only an expired end-entity certificate, the signer's or the TSA's, goes on to past
#: validation). So the demo issuing CA outlives the check of every agreement closed in its first 20 years.
#: A real archive keeps its trust anchors' status by a trusted list (ETSI TS 119 612), not by their certificates.
_CA_VALIDITY = timedelta(days=50 * 365)
#: The demo TSA's certificate: 20 years, as a real TSA's is shorter than its CA's. Agreements outlive it:
#: their validation then rests on the data the DSS holds (past validation) and on archival time-stamp renewal.
TSA_VALIDITY = timedelta(days=20 * 365 - 1)
_LEAF_VALIDITY = timedelta(days=3 * 365)
_CRL_VALIDITY = timedelta(days=7)
_OCSP_VALIDITY = timedelta(hours=12)  # nextUpdate of an OCSP response (RFC 6960 § 4.2.2.1)
_OCSP_RESPONDER_VALIDITY = timedelta(days=365)


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
        self._crl_cache: dict[str, tuple[datetime, int, bytes]] = {}
        self._ensure()

    # ------------------------------------------------------------------ published locations
    @property
    def tsa_url(self) -> str:
        return f"{self.base_url}/pki/tsa"

    def crl_url(self, ca_name: str) -> str:
        return f"{self.base_url}/pki/crl/{ca_name}.crl"

    @property
    def ocsp_url(self) -> str:
        """The issuing CA's OCSP responder (RFC 6960; ``POST``, or ``GET <url>/<base64 request>``)."""
        return f"{self.base_url}/pki/ocsp"

    def ca_certificate_url(self, ca_name: str) -> str:
        return f"{self.base_url}/pki/ca/{ca_name}.crt"

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
    def ocsp_responder_certificate(self) -> x509.Certificate:
        return self._certs["ocsp"]

    @functools.cached_property
    def trust_roots(self) -> list[asn1_x509.Certificate]:
        """The trust anchors a validator of the portal's documents needs (as pyHanko wants them). The same
        objects every time (asn1crypto keeps what it computed of them, e.g. hashes): do not change the list."""
        return [to_asn1(self.root_certificate)]

    @functools.cached_property
    def chain(self) -> list[asn1_x509.Certificate]:
        """The certificates between an issued certificate and the root, root included. The same objects
        every time, as :attr:`trust_roots`."""
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
        """Revoke ``certificate`` now: on its issuer's next CRL, and so answered by the OCSP responder."""
        issuer = "root-ca" if certificate.issuer == self.root_certificate.subject else "issuing-ca"
        with self._lock, open(self.folder / ".lock", "w") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)  # several workers may revoke at once
            revoked = self._revoked()
            revoked.setdefault(issuer, {}).setdefault(certificate.serial_number, datetime.now(timezone.utc).replace(microsecond=0))
            written = self.folder / "revoked.json.new"
            written.write_text(json.dumps(
                {ca: {str(serial): moment.isoformat() for serial, moment in entries.items()} for ca, entries in revoked.items()}
            ))
            os.replace(written, self.folder / "revoked.json")  # readers see the old list or the new, never half
            self._crl_cache.pop(issuer, None)

    def revoked_at(self, certificate: x509.Certificate) -> datetime | None:
        """When the issuing CA revoked ``certificate`` (None while it is not revoked)."""
        return self._revoked().get("issuing-ca", {}).get(certificate.serial_number)

    def crl(self, ca_name: str, at: datetime | None = None) -> bytes:
        """The current DER-encoded CRL of ``ca_name`` (``root-ca`` or ``issuing-ca``), renewed daily; with
        ``at``, the CRL the CA would publish at that moment (for a test that moves the clock; not kept)."""
        if ca_name not in CA_NAMES:
            raise KeyError(ca_name)
        now = at or datetime.now(timezone.utc)
        with self._lock:
            cached = self._crl_cache.get(ca_name)
            listed = self._revocations_version()  # another process may have revoked since
            if at is None and cached and now - cached[0] < timedelta(days=1) and cached[1] == listed:
                return cached[2]
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
            for serial, moment in self._revoked().get(ca_name, {}).items():
                builder = builder.add_revoked_certificate(
                    x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(moment).build()
                )
            der = builder.sign(issuer_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)  # type: ignore[arg-type]
            if at is None:
                self._crl_cache[ca_name] = (now, listed, der)
            return der

    def ocsp_response(self, request_der: bytes) -> bytes:
        """The DER ``OCSPResponse`` (RFC 6960 § 4.2) to a DER ``OCSPRequest`` about a certificate of the
        issuing CA: ``good``, or ``revoked`` with the time of revocation, signed by the delegated responder,
        echoing the request's nonce (§ 4.4.1). A request that cannot be read gets ``malformedRequest``,
        one about another CA's certificate ``unauthorized`` (§ 2.3)."""
        try:
            request = ocsp.load_der_ocsp_request(request_der)
            algorithm = request.hash_algorithm
        except (ValueError, TypeError, NotImplementedError):
            return _unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
        name_hash, key_hash = _issuer_hashes(self.issuing_certificate, algorithm)
        if (request.issuer_name_hash, request.issuer_key_hash) != (name_hash, key_hash):
            return _unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
        now = datetime.now(timezone.utc).replace(microsecond=0)
        revoked_at = self._revoked().get("issuing-ca", {}).get(request.serial_number)
        responder = self._certs["ocsp"]
        builder = (
            ocsp.OCSPResponseBuilder()
            .add_response_by_hash(
                name_hash, key_hash, request.serial_number, algorithm,
                ocsp.OCSPCertStatus.REVOKED if revoked_at else ocsp.OCSPCertStatus.GOOD,
                this_update=now, next_update=now + _OCSP_VALIDITY, revocation_time=revoked_at, revocation_reason=None,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, responder)
            .certificates([responder])
        )
        try:
            nonce = request.extensions.get_extension_for_class(x509.OCSPNonce).value
            builder = builder.add_extension(x509.OCSPNonce(nonce.nonce), critical=False)
        except x509.ExtensionNotFound:
            pass
        return builder.sign(self._keys["ocsp"], hashes.SHA256()).public_bytes(serialization.Encoding.DER)  # type: ignore[arg-type]

    def revocations_digest(self, serials: Iterable[str] | None = None) -> bytes:
        """SHA-256 of the revocation list: changes with every revocation (what a cached report depends on).
        With ``serials`` (hex), only of the revocations of those certificates: what can change the report on
        a document that carries just them."""
        if serials is None:
            path = self.folder / "revoked.json"
            return hashlib.sha256(path.read_bytes() if path.exists() else b"").digest()
        wanted = set(serials)
        relevant = sorted(f"{ca} {serial:x} {moment.isoformat()}" for ca, entries in self._revoked().items()
                          for serial, moment in entries.items() if format(serial, "x") in wanted)
        return hashlib.sha256("\n".join(relevant).encode()).digest()

    def _revocations_version(self) -> int:
        path = self.folder / "revoked.json"
        return path.stat().st_mtime_ns if path.exists() else 0

    def _revoked(self) -> dict[str, dict[int, datetime]]:
        """Revoked serial numbers by CA, with when (a list without times, from before, counts as revoked
        when the file was written)."""
        path = self.folder / "revoked.json"
        if not path.exists():
            return {}
        stored = json.loads(path.read_text())
        written = datetime.fromtimestamp(int(path.stat().st_mtime), timezone.utc)
        return {
            ca: ({int(serial): datetime.fromisoformat(moment) for serial, moment in entries.items()}
                 if isinstance(entries, dict) else {int(serial): written for serial in entries})
            for ca, entries in stored.items()
        }

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
                self._load(name)
            if not (self.folder / "ocsp.cert.pem").exists():  # a folder made before the OCSP responder
                self._create_ocsp_responder()
            self._load("ocsp")

    def _load(self, name: str) -> None:
        self._keys[name] = serialization.load_pem_private_key((self.folder / f"{name}.key.pem").read_bytes(), None)
        self._certs[name] = x509.load_pem_x509_certificate((self.folder / f"{name}.cert.pem").read_bytes())

    def _create_ocsp_responder(self) -> None:
        """The issuing CA's delegated OCSP responder: id-kp-OCSPSigning, and id-pkix-ocsp-nocheck so that
        validators do not ask about the responder's own certificate (RFC 6960 § 4.2.2.2.1)."""
        key = new_private_key()
        certificate = (
            self._builder(_org_name(self.organisation, "Politirådsportalen OCSP Responder (demo)"), key.public_key(), "issuing-ca",
                          _OCSP_RESPONDER_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=True)
            .add_extension(x509.OCSPNoCheck(), critical=False)
            .sign(self._keys["issuing-ca"], hashes.SHA256())  # type: ignore[arg-type]
        )
        _write_private(self.folder / "ocsp.key.pem", key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ))
        (self.folder / "ocsp.cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))

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
        self._create_ocsp_responder()
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
            .add_extension(x509.AuthorityInformationAccess([
                x509.AccessDescription(AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(self.ocsp_url)),
                x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS,
                                       x509.UniformResourceIdentifier(self.ca_certificate_url("issuing-ca"))),
            ]), critical=False)
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


def _unsuccessful(status: ocsp.OCSPResponseStatus) -> bytes:
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(serialization.Encoding.DER)


def _issuer_hashes(issuer: x509.Certificate, algorithm: hashes.HashAlgorithm) -> tuple[bytes, bytes]:
    """The CertID's issuerNameHash and issuerKeyHash (RFC 6960 § 4.1.1): the hash of the issuer's DER name
    and of its subjectPublicKey BIT STRING's value (the key without its algorithm identifier)."""
    key_bits = to_asn1(issuer).public_key["public_key"].contents[1:]  # after the unused-bits octet
    digests = []
    for data in (issuer.subject.public_bytes(), key_bits):
        digest = hashes.Hash(algorithm)
        digest.update(data)
        digests.append(digest.finalize())
    return digests[0], digests[1]


def _ca_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(True, False, False, False, False, True, True, False, False)


def _signing_key_usage() -> x509.KeyUsage:
    # digital_signature, content_commitment (non-repudiation)
    return x509.KeyUsage(True, True, False, False, False, False, False, False, False)


def _write_private(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
