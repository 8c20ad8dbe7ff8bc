"""A job for tests/test_jobs.py that stops in the middle until told to go on, so that a test can kill the
worker at a known point. It follows the rule every real job follows: check what is done, do only the rest."""
from __future__ import annotations

import os
import time
from pathlib import Path

from sqlalchemy import select

from portal.agreements.lifecycle import record_event
from portal.extensions import db
from portal.models import Agreement, AuditEvent

ACTION = "test_job"


def note_once(agreement_id: int, folder: str) -> None:
    """Record one audit event on the agreement, pausing half-way until ``folder/go`` exists."""
    done = db.session.scalar(select(AuditEvent.id).where(AuditEvent.agreement_id == agreement_id, AuditEvent.action == ACTION))
    if done is not None:
        return
    Path(folder, f"started-{os.getpid()}").touch()
    while not Path(folder, "go").exists():
        time.sleep(0.05)
    record_event(db.session.get(Agreement, agreement_id), ACTION, None, "done once")
    db.session.commit()
