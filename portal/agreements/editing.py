"""Writing to an agreement: one writer at a time, and no silent overwrite.

Every write to an agreement (a wizard step, finalise, renewal start, decline, delete) first takes the
agreement row's write lock with :func:`lock_agreement`, then reads the agreement fresh, then writes and
commits. On PostgreSQL that is ``SELECT … FOR UPDATE`` on the row; on SQLite it is ``BEGIN IMMEDIATE``
(SQLite locks the whole database for writing, so writers queue, and nothing they read can change under
them). Two saves of one step can then never interleave, and a reader never sees half a step.

Every write to a draft then goes through :func:`record_change`, which bumps the draft version and notes
who changed which step when, with its audit event. A save based on an older draft version than the step's
last change is a conflict (:func:`step_conflict`), shown to the user instead of stored.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable

from flask_babel import gettext as _
from sqlalchemy import select

from forms.steps import STEPS_BY_NAME

from ..extensions import db
from ..models import Agreement, User
from ..templating import norwegian_date, person_name
from .lifecycle import record_event


def lock_agreement(agreement_id: int) -> Agreement | None:
    """Take the write lock of the agreement's row until the transaction ends, and return the agreement as
    it is now in the database (None if it is gone). Everything read before is expired, so nothing read
    before the lock is used after it."""
    session = db.session
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        # pysqlite starts a transaction only at the first write (and reads outside one); start it now,
        # taking the write lock, so the reads that follow see what the last writer committed.
        if not connection.connection.driver_connection.in_transaction:  # type: ignore[union-attr]
            connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.execute(select(Agreement.id).where(Agreement.id == agreement_id).with_for_update())
    session.expire_all()
    return session.get(Agreement, agreement_id)


def record_change(agreement: Agreement, actor: User | None, action: str, detail: str = "", *, steps: Iterable[str] = ()) -> None:
    """A write to the draft: bump its version, note who changed it (and which steps) when, and record the
    audit event. Call with the lock held; the caller commits."""
    now = datetime.now(timezone.utc)
    agreement.draft_version = (agreement.draft_version or 0) + 1
    agreement.changed_by = actor
    agreement.changed_at = now
    changes = dict(agreement.step_changes or {})  # a new dict, so SQLAlchemy sees the JSON change
    for step_name in steps:
        changes[step_name] = {"version": agreement.draft_version, "by": actor.id if actor else None, "at": now.isoformat()}
    agreement.step_changes = changes
    record_event(agreement, action, actor, detail)


@dataclass(frozen=True)
class Change:
    """Someone's change to a step (or to the draft) made after the version a page was shown at."""

    step_name: str | None
    by: User | None
    at: datetime | None


def shown_version(raw: str | None) -> int | None:
    """The draft version a form says it was shown at; None when it says none (or nonsense)."""
    return int(raw) if raw is not None and raw.strip().isdigit() else None


def step_conflict(agreement: Agreement, step_name: str, shown: int | None) -> Change | None:
    """The change to ``step_name`` made after the page was shown at draft version ``shown``, if any. A form
    that does not say which version it was shown at is treated as older than every change."""
    change = (agreement.step_changes or {}).get(step_name)
    if not change or (shown is not None and int(change["version"]) <= shown):  # type: ignore[call-overload]
        return None
    return Change(step_name, _user(change.get("by")), datetime.fromisoformat(str(change["at"])))


def changes_since(agreement: Agreement, shown: int | None) -> list[Change]:
    """The steps changed after draft version ``shown``, oldest change first (or, where no step was, one
    change of the draft as a whole). Empty when the draft is as it was shown."""
    if shown is not None and agreement.draft_version == shown:
        return []
    changes = [change for name in (agreement.step_changes or {}) if (change := step_conflict(agreement, name, shown))]
    return sorted(changes, key=lambda change: change.at or agreement.created_at) or [Change(None, agreement.changed_by, agreement.changed_at)]


def describe_change(change: Change) -> str:
    """«Per Politikoordinator (Vest politidistrikt) changed «Priority areas» on 29. november 2026 kl. 23:10.»"""
    if change.step_name in STEPS_BY_NAME:
        return _("%(name)s changed «%(step)s» on %(time)s.", name=person_name(change.by),
                 step=STEPS_BY_NAME[change.step_name].title, time=norwegian_date(change.at))
    return _("%(name)s changed the draft on %(time)s.", name=person_name(change.by), time=norwegian_date(change.at))


def _user(user_id: object) -> User | None:
    return db.session.get(User, int(user_id)) if isinstance(user_id, int) else None
