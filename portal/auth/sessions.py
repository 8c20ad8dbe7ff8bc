"""Sessions the server can find: one record per sign-in, checked on every request.

The signed session cookie holds only a random key; the user is loaded only while that key's record is
live. So a session ends for good when its record is ended: by signing out, by the provider's front-channel
logout (found by issuer + sid), or by an administrator ending a person's sessions.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timezone
from functools import cache

from flask import session
from flask_login import login_user, logout_user
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Organisation, User, UserSession
from .identity import Authentication, seal

SESSION_KEY = "session_key"


def fresh_session() -> None:
    """Start a new session (no session fixation), keeping only the language the person chose."""
    language = session.get("language")
    session.clear()
    if language:
        session["language"] = language


def begin(user: User, method: str, *, issuer: str | None = None, sid: str | None = None,
          authentication: Authentication | None = None, id_token: str | None = None) -> UserSession:
    """Sign ``user`` in: a fresh session cookie and a new live record. Commits."""
    fresh_session()
    record = UserSession(
        key=secrets.token_urlsafe(32), user=user, method=method, issuer=issuer, sid=sid,
        id_token_encrypted=seal(id_token) if id_token else None, started_at=datetime.now(timezone.utc),
    )
    if authentication is not None:
        note_authentication(record, authentication)
    db.session.add(record)
    db.session.commit()
    session[SESSION_KEY] = record.key
    login_user(user)
    if user.language:
        session["language"] = user.language
    return record


def note_authentication(record: UserSession, authentication: Authentication) -> None:
    record.acr, record.amr, record.authenticated_at = authentication.acr, list(authentication.amr), authentication.at


def current() -> UserSession | None:
    """The live record of this request's session, if any."""
    key = session.get(SESSION_KEY)
    if not key:
        return None
    return db.session.scalar(select(UserSession).where(UserSession.key == key, UserSession.ended_at.is_(None)))


def live_user(user_id: int) -> User | None:
    """Flask-Login's user loader: the user, only while this session's record is live and theirs.

    One query on every request: the user through their live session record, with what every page's
    header names of them (their organisation and its name)."""
    key = session.get(SESSION_KEY)
    if not key:
        return None
    return db.session.scalar(_live_user_query(), {"key": key, "user_id": user_id})


@cache
def _live_user_query():  # type: ignore[no-untyped-def]
    """The statement of :func:`live_user`, built once: building it again took a fifth of a small page's time."""
    organisation = joinedload(User.organisation)
    return (
        select(User).join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.key == bindparam("key"), UserSession.ended_at.is_(None), User.id == bindparam("user_id"))
        .options(organisation.joinedload(Organisation.municipality), organisation.joinedload(Organisation.police_district))
    )


def _end(*conditions, reason: str) -> int:  # type: ignore[no-untyped-def]
    ended = db.session.execute(
        update(UserSession).where(UserSession.ended_at.is_(None), *conditions)
        .values(ended_at=datetime.now(timezone.utc), ended_by=reason).execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return ended


def end_current(reason: str = "sign-out") -> UserSession | None:
    """End this request's session (record and cookie); returns the record it was."""
    record = current()
    if record is not None:
        _end(UserSession.id == record.id, reason=reason)
    logout_user()
    fresh_session()
    return record


def end_by_provider_session(issuer: str, sid: str) -> int:
    """Front-channel logout: end the sessions begun by the provider's session ``sid``."""
    return _end(UserSession.issuer == issuer, UserSession.sid == sid, reason="front-channel")


def end_all_of(user: User) -> int:
    """An administrator ends every session of ``user``."""
    return _end(UserSession.user_id == user.id, reason="administrator")


def live_count(user: User) -> int:
    return len(db.session.scalars(select(UserSession.id).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))).all())
