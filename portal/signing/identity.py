"""Who signed: the name a signature's certificate states, and whether it is the name the agreement gives.

The agreement's text names each signatory; the certificate names the person whose key made the signature.
The portal lets a signature be made only when the two are the same person's name, and everything that
says who signed (the stamp, the lists, the audit trail, the archive's metadata) takes the name from the
certificate, never from text someone typed.
"""
from __future__ import annotations

import unicodedata

from asn1crypto import x509


def certificate_name(certificate: x509.Certificate) -> str:
    """The signer's name as their certificate states it: the subject's common name (RFC 5280 § 4.1.2.6,
    X.520 ``commonName``), or its given name and surname where it has no common name."""
    subject = certificate.subject.native
    name = subject.get("common_name") or " ".join(part for part in (subject.get("given_name"), subject.get("surname")) if part)
    if isinstance(name, list):  # a multi-valued attribute: the first value is the name
        name = name[0]
    return str(name or "").strip()


def comparable_name(name: str) -> str:
    """A name as compared: Unicode NFC, case-folded, runs of white space as one space."""
    return " ".join(unicodedata.normalize("NFC", name or "").casefold().split())


def same_name(first: str, second: str) -> bool:
    """The two name the same person as far as text can tell: equal but for case, white space and
    Unicode composition («Ola  ordførar» is «Ola Ordførar»); an empty name matches nothing."""
    return bool(comparable_name(first)) and comparable_name(first) == comparable_name(second)
