"""The signing configuration of an app: trust anchors, time-stamp service, seal, key sources.

Read from ``app.config`` (all optional; the defaults run the demo PKI in ``instance/pki/`` so the portal
signs out of the box):

==========================  ==========================================================================
``SIGNING_KEY_SOURCE``      the key source the signing page offers first: ``browser`` (default: a key
                            the signatory's browser makes and keeps, see :mod:`.browser_keys`),
                            ``csc`` (a remote signing service, see :mod:`.csc`), ``pkcs12``
                            (signatory uploads), ``pkcs11`` (the signatories' keys on a token/HSM,
                            see below) or ``portal`` (needs ``PORTAL_HELD_KEYS``)
``PORTAL_HELD_KEYS``        ``true`` lets signatories choose a key the portal makes and keeps for them,
                            encrypted under their password (default ``false``: the portal then never
                            holds a signatory's key)
``ACCEPTED_ISSUERS_FILE``   PEM file of further CAs whose signing certificates the portal accepts (named in
                            each signature field's seed values; the demo PKI's issuing CA always is)
``CSC_URL``                 base URL of a CSC API v1 remote signing service (offers ``csc``); with
                            ``CSC_CLIENT_ID``, ``CSC_CLIENT_SECRET``, ``CSC_TOKEN_URL`` (OAuth2)
``SIGNATORY_PKCS11_TOKEN``  with ``pkcs11``: label of the token (e.g. an HSM partition) that holds the
                            signatories' keys, reached through ``PKCS11_MODULE``
``PKI_FOLDER``              demo PKI folder (default ``<instance>/pki``); ``""`` with production settings
``PKI_BASE_URL``            where :mod:`.services` is published (default ``PUBLIC_BASE_URL``)
``PKI_TSA_VALIDITY_DAYS``   days the demo TSA's certificate is valid when the demo PKI is made (default
                            20 years; the tests make it short to see a time-stamp outlive it)
``TIMESTAMP_URL``           RFC 3161 service; unset: the demo TSA in-process; ``""``: none (PAdES B-B)
``TRUST_ROOTS_FILE``        PEM file of trust anchors (default: the demo root)
``SEAL_PKCS12_FILE``        the seal's PKCS#12 (default: the demo's ``seal.p12``)
``SEAL_PKCS12_PASSPHRASE``  its passphrase (default: the demo's)
``SEAL_PKCS11_TOKEN``       use a PKCS#11 seal instead: token label, with ``SEAL_PKCS11_PIN``,
                            ``SEAL_PKCS11_KEY_LABEL``, ``PKCS11_MODULE``
``PKCS11_MODULE``           PKCS#11 module (default ``/usr/lib/softhsm/libsofthsm2.so``)
``REVOCATION_FETCHING``     fetch CRL/OCSP over the network when signing (default: off for the demo,
                            whose CRLs are given in-process; on otherwise)
``VERIFY_MAX_BYTES``        largest file :func:`.verify.verify_pdf` accepts (default 20 MiB)
==========================  ==========================================================================

With the demo PKI the portal does not call its own HTTP services while handling a request (a
single-worker server would wait on itself): the demo TSA and CRLs are used in-process, and the same
services are published under ``/pki/`` for others.

Signatories' keys on a PKCS#11 token (``SIGNING_KEY_SOURCE=pkcs11``): the operator installs, on the token
``SIGNATORY_PKCS11_TOKEN``, one private key per signatory whose label (``CKA_LABEL``) is the signatory's
e-mail address in lower case, and next to it the signatory's certificate as a certificate object with
the same label. The signatory opens the token with its user PIN, typed on the signing page with their
portal password; the PIN is used for that one signature and never stored or logged. A key without a
certificate on the token is refused (:class:`~.keys.NoCertificateOnToken`): the certificate is not made
by the portal. The chain embedded with each signature is the configured trust chain (the demo PKI's
issuing CA and root).
"""
from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asn1crypto import pem, x509 as asn1_x509
from pyhanko.sign.signers import Signer
from pyhanko.sign.timestamps import TimeStamper
from pyhanko_certvalidator import ValidationContext

from . import keys, pades
from .pki import DemoPki, tsa_validity_setting
from .services import TimeStampAuthority
from .timestamps import UrlTimeStamper

__all__ = ["KEY_SOURCES", "SigningSetup"]

#: Where a signatory's key can be: their browser, a remote signing service, a file they upload, a
#: token, or (only when an administrator allows it) the portal.
KEY_SOURCES = ("browser", "csc", "pkcs12", "pkcs11", "portal")


def _flag(value: object) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() in {"1", "true", "yes", "on"}


@dataclass
class SigningSetup:
    """Everything the pages need to seal, sign, close and verify, built once per app."""

    key_source: str
    trust_roots: list[asn1_x509.Certificate]
    timestamper: TimeStamper | None
    pki: DemoPki | None
    verify_max_bytes: int
    _config: Mapping[str, Any]
    portal_keys_allowed: bool = False

    @classmethod
    def from_config(cls, config: Mapping[str, Any], instance_path: str | Path) -> SigningSetup:
        folder = config.get("PKI_FOLDER")
        if folder is None:
            folder = str(Path(instance_path) / "pki")
        base_url = config.get("PKI_BASE_URL") or config.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000"
        pki = DemoPki(folder, str(base_url), tsa_validity=tsa_validity_setting(config)) if folder else None
        if config.get("TRUST_ROOTS_FILE"):
            roots = _load_certificates(Path(config["TRUST_ROOTS_FILE"]).read_bytes())
        elif pki is not None:
            roots = pki.trust_roots
        else:
            raise ValueError("TRUST_ROOTS_FILE is needed without the demo PKI (PKI_FOLDER empty).")
        url = config.get("TIMESTAMP_URL")
        timestamper: TimeStamper | None
        if url:
            timestamper = UrlTimeStamper(str(url))
        elif url is None and pki is not None:
            timestamper = TimeStampAuthority(pki)
        else:
            timestamper = None
        source = str(config.get("SIGNING_KEY_SOURCE", "browser"))
        if source not in KEY_SOURCES:
            raise ValueError(f"SIGNING_KEY_SOURCE must be one of {', '.join(KEY_SOURCES)}, not {source!r}")
        portal_keys = _flag(config.get("PORTAL_HELD_KEYS", False))
        if source == "portal" and not portal_keys:
            raise ValueError("SIGNING_KEY_SOURCE=portal needs PORTAL_HELD_KEYS=true: the portal would hold the signatories' keys.")
        if source == "csc" and not config.get("CSC_URL"):
            raise ValueError("SIGNING_KEY_SOURCE=csc needs CSC_URL, the remote signing service.")
        if source == "pkcs11" and not config.get("SIGNATORY_PKCS11_TOKEN"):
            raise ValueError("SIGNING_KEY_SOURCE=pkcs11 needs SIGNATORY_PKCS11_TOKEN, the token holding the signatories' keys.")
        return cls(source, roots, timestamper, pki, int(config.get("VERIFY_MAX_BYTES", 20 * 1024 * 1024)), config, portal_keys)

    @property
    def level_when_closed(self) -> pades.PadesLevel:
        """The level a fully signed agreement reaches with this configuration."""
        return pades.PadesLevel.B_LTA if self.timestamper is not None else pades.PadesLevel.B_B

    def validation_context(self, other_certs: Iterable[asn1_x509.Certificate] = ()) -> ValidationContext:
        """A fresh context for embedding validation data (one per signing or closing), knowing
        ``other_certs`` too (intermediate certificates a document carries)."""
        fetch = self._config.get("REVOCATION_FETCHING")
        if self.pki is not None and not fetch:
            return pades.demo_validation_context(self.pki, other_certs=other_certs)
        chain = self.pki.chain if self.pki is not None else []
        return pades.validation_context_for(self.trust_roots, [*chain, *other_certs], allow_fetching=True)

    @functools.cached_property
    def _seal(self) -> keys.Pkcs12Key | keys.Pkcs11Key:
        config = self._config
        if config.get("SEAL_PKCS11_TOKEN"):
            return keys.Pkcs11Key(
                str(config["SEAL_PKCS11_TOKEN"]), str(config.get("SEAL_PKCS11_PIN", "")), str(config["SEAL_PKCS11_KEY_LABEL"]),
                module=str(config.get("PKCS11_MODULE") or keys.Pkcs11Key.DEFAULT_MODULE),
                chain=self.pki.chain if self.pki is not None else (),
            )
        if config.get("SEAL_PKCS12_FILE"):
            data = Path(config["SEAL_PKCS12_FILE"]).read_bytes()
            passphrase = config.get("SEAL_PKCS12_PASSPHRASE")
        elif self.pki is not None:
            data, passphrase = self.pki.seal_pkcs12_path.read_bytes(), self.pki.seal_passphrase
        else:
            raise ValueError("SEAL_PKCS12_FILE or SEAL_PKCS11_TOKEN is needed without the demo PKI.")
        return keys.Pkcs12Key(data, passphrase)

    def seal_signer(self) -> Signer:
        """The organisation seal, loaded once and kept (its key stays loaded: fast sealing)."""
        return self._seal.signer()

    @property
    def timestamp_url(self) -> str | None:
        """Where signers get signature time-stamps (the seed value of every field), if anywhere."""
        if self.timestamper is None:
            return None
        return str(self._config.get("TIMESTAMP_URL") or (self.pki.tsa_url if self.pki is not None else "")) or None

    def accepted_issuers(self) -> list[asn1_x509.Certificate]:
        """The CAs whose signing certificates the portal accepts: its own issuing CA and ``ACCEPTED_ISSUERS_FILE``."""
        issuers = self.pki.chain[:1] if self.pki is not None else []
        if self._config.get("ACCEPTED_ISSUERS_FILE"):
            issuers += _load_certificates(Path(self._config["ACCEPTED_ISSUERS_FILE"]).read_bytes())
        return issuers

    @property
    def csc_url(self) -> str:
        return str(self._config.get("CSC_URL") or "")

    def key_sources(self) -> list[str]:
        """The key sources the signing page offers, the configured one first."""
        offered = ["browser"]
        if self.csc_url:
            offered.append("csc")
        offered.append("pkcs12")
        if self.key_source == "pkcs11":
            offered.append("pkcs11")
        if self.portal_keys_allowed:
            offered.append("portal")
        return [self.key_source, *(source for source in offered if source != self.key_source)]

    def issuer_chain(self) -> list[asn1_x509.Certificate]:
        return self.pki.chain if self.pki is not None else []

    def signatory_pkcs11_key(self, email: str, pin: str) -> keys.Pkcs11Key:
        """The key of the signatory ``email`` on ``SIGNATORY_PKCS11_TOKEN`` (label: the address in lower
        case), with its certificate from the token. Close it (or use it as a context manager) after signing.

        Raises :class:`~.keys.WrongPin`, :class:`~.keys.NoKeyOnToken`, :class:`~.keys.NoCertificateOnToken`
        or :class:`~.keys.KeySourceError`.
        """
        token = self._config.get("SIGNATORY_PKCS11_TOKEN")
        if not token:
            raise keys.KeySourceError("SIGNATORY_PKCS11_TOKEN is not configured.")
        return keys.Pkcs11Key(
            str(token), pin, email.strip().lower(),
            module=str(self._config.get("PKCS11_MODULE") or keys.Pkcs11Key.DEFAULT_MODULE),
            chain=self.issuer_chain(),
        )


def _load_certificates(data: bytes) -> list[asn1_x509.Certificate]:
    if pem.detect(data):
        return [asn1_x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True)]
    return [asn1_x509.Certificate.load(data)]
