"""Password hashing (argon2id), checking a password under the throttle of :mod:`portal.auth.throttle`, and
the signed, single-use links for invitations and password resets."""
from __future__ import annotations

import enum
import hashlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..extensions import db
from ..models import User
from . import throttle

_hasher = PasswordHasher()
MINIMUM_PASSWORD_LENGTH = 12


def hash_password(password: str) -> str:
    return _hasher.hash(password)


_DUMMY_HASH: list[str] = []


def _dummy_hash() -> str:
    """An argon2id hash of nothing anyone types, so that an unknown account costs the same as a real one."""
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(_hasher.hash("no account has this password " + hashlib.sha256(b"dummy").hexdigest()))
    return _DUMMY_HASH[0]


def password_matches(user: User | None, password: str) -> bool:
    """Whether ``password`` is the user's. Always one argon2 verification, also for an unknown account or
    one without a password yet (against a dummy hash), so the time taken does not tell them apart."""
    stored = user.password_hash if user is not None and user.password_hash else None
    try:
        return _hasher.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


class PasswordCheck(enum.Enum):
    MATCHES = "matches"
    WRONG = "wrong"
    LOCKED = "locked"  # too many wrong passwords lately (see portal.auth.throttle)


def check_password(user: User | None, password: str, email: str | None = None) -> PasswordCheck:
    """The password of ``user`` (None for an e-mail address ``email`` that has no account), under the one
    throttle that signing in and signing share (portal.auth.throttle): per account from the client's
    address, per address, and per account from everywhere. Every path does the same work — one argon2
    verification, one count — so neither the answer nor its time tells whether the account exists. A wrong
    password is counted and committed at once; a match clears the count from this address (the caller
    commits)."""
    account = user.email if user is not None else (email or "")
    address, now = throttle.client_address(), throttle.now_utc()
    throttled = throttle.is_throttled(account, address, now)
    matches = password_matches(user, password)  # also when throttled: the same time either way
    if throttled:
        return PasswordCheck.LOCKED
    if matches:
        throttle.forget_failures(account, address)
        return PasswordCheck.MATCHES
    throttle.record_failure(account, address, now)
    db.session.commit()
    return PasswordCheck.WRONG


def set_password(user: User, password: str) -> None:
    """A new password (chosen through an invitation or a reset link) also lifts the throttle on the account."""
    user.password_hash = hash_password(password)
    throttle.forget_failures(user.email)


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
