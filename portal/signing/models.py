"""What the signing layer keeps in the database.

Only the portal-issued keys need a table: the private key encrypted under the signatory's own secret
(see :class:`portal.signing.keys.StoredPortalKey`) and the certificate the demo CA issued for it.
PKCS#12 uploads are never stored; PKCS#11 keys stay in their token.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import DateTime, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db

from .keys import StoredPortalKey


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class PortalSigningKey(db.Model):
    """A signatory's portal-issued key pair: at most one live key per user (``revoked_at`` is None)."""

    __tablename__ = "portal_signing_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    encrypted_key: Mapped[bytes] = mapped_column(LargeBinary)  # PPK1 || salt || nonce || AES-GCM(PKCS#8)
    certificate_der: Mapped[bytes] = mapped_column(LargeBinary)
    certificate_serial: Mapped[str] = mapped_column(String(64))  # hex, for revocation and audit
    not_after: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The user's password fingerprint (portal.auth.passwords) when the key was last opened with their
    # password: while it is unchanged, opening the key is the password check (no argon2 as well).
    password_fingerprint: Mapped[str | None] = mapped_column(String(64))

    @classmethod
    def from_stored(cls, user_id: int, stored: StoredPortalKey, password_fingerprint: str | None = None) -> PortalSigningKey:
        cert = stored.certificate
        return cls(
            user_id=user_id,
            password_fingerprint=password_fingerprint,
            encrypted_key=stored.encrypted_key,
            certificate_der=stored.certificate_der,
            certificate_serial=format(cert.serial_number, "x"),
            not_after=cert.not_valid_after_utc,
        )

    def as_stored(self) -> StoredPortalKey:
        return StoredPortalKey(self.encrypted_key, self.certificate_der)
