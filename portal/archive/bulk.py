"""Bulk archive downloads as a background job: every package a filter finds, in one ZIP, however many.

The archivist asks for it on the archive's list (:func:`start`); a job (:func:`build_bulk_package`) writes
the ZIP into ``JOB_FILES`` with its progress on the task row; the page that follows it shows the progress
and, when it is ready, the link to fetch it. Only the person who asked may follow or fetch it.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from .. import jobs
from ..access import visible_agreements
from ..extensions import db
from ..models import Agreement, BackgroundTask, User
from .package import ArchiveFilter, archived, write_bundle

KIND = "build_bulk_package"


def start(user: User, chosen: ArchiveFilter) -> BackgroundTask:
    """Queue the ZIP of every archived agreement ``user`` may read that ``chosen`` finds."""
    return jobs.enqueue(build_bulk_package, user.id, chosen.as_args(), started_by=user.id)


def zip_path(task_id: str) -> Path:
    return Path(current_app.config["JOB_FILES"]) / f"{task_id}.zip"


def build_bulk_package(user_id: int, filter_args: dict[str, str]) -> None:
    """The job: write the ZIP (again from the start when retried: the file appears only when complete)."""
    user = db.session.get(User, user_id)
    if user is None:
        raise LookupError("The person who asked for the download no longer has an account.")
    query = ArchiveFilter.from_args(filter_args).apply(archived(visible_agreements(user)))
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    task_id = jobs.current_task_id() or "bulk"
    target = zip_path(task_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    jobs.report_progress(0, total)

    def packed(count: int) -> None:
        jobs.report_progress(count, total)

    agreements = db.session.scalars(query).all()
    ids = [agreement.id for agreement in agreements]
    write_bundle(partial, agreements, progress=packed)
    os.replace(partial, target)
    jobs.record_result(json.dumps({"agreements": ids, "bytes": target.stat().st_size}))


def contents(task: BackgroundTask) -> dict:
    """What a finished bulk download holds: ``agreements`` (ids) and ``bytes``."""
    return json.loads(task.result) if task.result else {"agreements": [], "bytes": 0}


def agreements_in(task: BackgroundTask) -> list[Agreement]:
    ids = contents(task)["agreements"]
    return list(db.session.scalars(select(Agreement).where(Agreement.id.in_(ids)))) if ids else []
