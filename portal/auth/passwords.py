"""Password hashing (argon2id), the lock-out after repeated wrong passwords, and the signed, single-use
links for invitations and password resets."""
from __future__ import annotations

import enum
import hashlib
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..extensions import db
from ..models import User

_hasher = PasswordHasher()
MINIMUM_PASSWORD_LENGTH = 12


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(user: User, password: str) -> bool:
    if not user.password_hash:
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class PasswordCheck(enum.Enum):
    MATCHES = "matches"
    WRONG = "wrong"
    LOCKED = "locked"


def is_locked(user: User, now: datetime) -> bool:
    locked_until = user.locked_until
    if locked_until is None:
        return False
    if locked_until.tzinfo is None:  # SQLite gives naive datetimes back
        locked_until = locked_until.replace(tzinfo=timezone.utc)
    return locked_until > now


def check_password(user: User, password: str) -> PasswordCheck:
    """The user's password, under the one lock-out that signing in and signing share: after
    ``LOCKOUT_THRESHOLD`` wrong passwords in a row the account is locked for ``LOCKOUT_MINUTES``. A match
    clears the count (the caller commits); a wrong password is counted and committed at once."""
    now = datetime.now(timezone.utc)
    if is_locked(user, now):
        return PasswordCheck.LOCKED
    if password_matches(user, password):
        user.failed_sign_ins, user.locked_until = 0, None
        return PasswordCheck.MATCHES
    record_wrong_password(user)
    return PasswordCheck.WRONG


def record_wrong_password(user: User) -> None:
    """Count a wrong password (however it was found wrong) towards the lock-out, and commit at once."""
    user.failed_sign_ins = (user.failed_sign_ins or 0) + 1
    if user.failed_sign_ins >= current_app.config["LOCKOUT_THRESHOLD"]:
        user.locked_until = datetime.now(timezone.utc) + timedelta(minutes=current_app.config["LOCKOUT_MINUTES"])
        user.failed_sign_ins = 0
    db.session.commit()


def set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    user.failed_sign_ins = 0
    user.locked_until = None


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"politirad-{purpose}")


def password_fingerprint(user: User) -> str:
    """Changes whenever the password does. Part of every link, so links made before a password change stop
    working (single use); kept with a portal-issued signing key to know it was made under this password."""
    return hashlib.sha256((user.password_hash or "unset").encode()).hexdigest()[:16]


def make_link_token(user: User, purpose: str) -> str:
    return _serializer(purpose).dumps({"user": user.id, "fp": password_fingerprint(user)})


def user_from_link_token(token: str, purpose: str, max_age_seconds: int) -> User | None:
    """The user the link was made for, or None if the link is forged, expired or already used."""
    try:
        data = _serializer(purpose).loads(token, max_age=max_age_seconds)
    except (SignatureExpired, BadSignature):
        return None
    user = db.session.get(User, int(data.get("user", 0)))
    if user is None or data.get("fp") != password_fingerprint(user):
        return None
    return user
