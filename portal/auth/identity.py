"""A person's proven identity: its keyed hash, and what the provider said about how it was proven.

The identity number (ID-porten's ``pid``) is personal data. The portal keeps only an HMAC-SHA-256 of it
under a server secret (``IDENTITY_HMAC_KEY``, else one derived from ``SECRET_KEY``): the same person gives
the same value, so the account can be found again, but the number cannot be read back or guessed from it
without the secret. The number itself is never stored, shown, logged, mailed or put in a document.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app


def _secret(label: str) -> bytes:
    configured = current_app.config.get("IDENTITY_HMAC_KEY") if label == "identity" else ""
    if configured:
        return str(configured).encode()
    return hmac.new(str(current_app.config["SECRET_KEY"]).encode(), f"politirad-{label}".encode(), hashlib.sha256).digest()


def identity_hmac(identity_number: str) -> str:
    """The keyed hash under which an account is bound to ``identity_number``."""
    return hmac.new(_secret("identity"), identity_number.strip().encode(), hashlib.sha256).hexdigest()


def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_secret("id-token")))


def seal(text: str) -> bytes:
    """Encrypt a provider token for keeping on the server (it names the person)."""
    return _fernet().encrypt(text.encode())


def unseal(data: bytes | None) -> str | None:
    if not data:
        return None
    try:
        return _fernet().decrypt(data).decode()
    except InvalidToken:
        return None


@dataclass(frozen=True)
class Authentication:
    """How the provider proved the person, from a validated ID token: assurance level (``acr``), methods
    (``amr``, e.g. BankID) and when (``auth_time``)."""

    acr: str | None
    amr: list[str] = field(default_factory=list)
    at: datetime | None = None

    def describe(self) -> str:
        """For the audit trail: «acr idporten-loa-high; amr BankID; authenticated 2026-…Z»."""
        when = self.at.strftime("%Y-%m-%dT%H:%M:%SZ") if self.at else "unknown"
        return f"acr {self.acr or 'none'}; amr {' '.join(self.amr) or 'none'}; authenticated {when}"
