"""Throttling password guesses without letting a stranger lock anyone out (OWASP ASVS 4.0 § 2.2.1, 2.2.3).

Failures are counted in a sliding window of ``LOCKOUT_MINUTES`` at three levels:

- the account *from one client address* (``LOCKOUT_THRESHOLD``, 5): the guesser is stopped, while the
  account's owner, from their own address, still signs in and signs;
- one client address, whatever accounts it tries (``LOCKOUT_ADDRESS_THRESHOLD``, 20): spraying guesses
  over many accounts is stopped too;
- the account from every address together (``LOCKOUT_ACCOUNT_THRESHOLD``, 100): a guesser with many
  addresses is slowed down; reaching it takes five addresses worth of guesses inside one window.

Accounts are counted by the e-mail address typed, known to the portal or not, so an unknown address is
throttled exactly like a real one and the answers never reveal which accounts exist. A correct password
clears the account's count from that address; a new password clears the account's count everywhere.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import current_app, has_request_context, request
from sqlalchemy import delete, func, select

from ..extensions import db
from ..models import PasswordFailure


def client_address() -> str:
    """The client's address as the app sees it (behind a proxy, configure ProxyFix so this is the client)."""
    return (request.remote_addr or "") if has_request_context() else "local"


def _account(email: str) -> str:
    return email.strip().lower()


def _count(*conditions, since: datetime) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count(PasswordFailure.id)).where(PasswordFailure.at > since, *conditions)) or 0


def is_throttled(email: str, address: str, now: datetime) -> bool:
    """Too many wrong passwords lately for this account from this address, from this address, or for this
    account from everywhere."""
    config = current_app.config
    since = now - timedelta(minutes=config["LOCKOUT_MINUTES"])
    account = _account(email)
    return (
        _count(PasswordFailure.account == account, PasswordFailure.address == address, since=since) >= config["LOCKOUT_THRESHOLD"]
        or _count(PasswordFailure.address == address, since=since) >= config["LOCKOUT_ADDRESS_THRESHOLD"]
        or _count(PasswordFailure.account == account, since=since) >= config["LOCKOUT_ACCOUNT_THRESHOLD"]
    )


def record_failure(email: str, address: str, now: datetime) -> None:
    """Count a wrong password (and forget those older than the window); the caller commits."""
    since = now - timedelta(minutes=current_app.config["LOCKOUT_MINUTES"])
    db.session.execute(delete(PasswordFailure).where(PasswordFailure.at <= since))
    db.session.add(PasswordFailure(account=_account(email), address=address, at=now))


def forget_failures(email: str, address: str | None = None) -> None:
    """A correct password from ``address`` (or, with None, a new password) clears the account's count."""
    condition = [PasswordFailure.account == _account(email)]
    if address is not None:
        condition.append(PasswordFailure.address == address)
    db.session.execute(delete(PasswordFailure).where(*condition))


def now_utc() -> datetime:
    return datetime.now(timezone.utc)
