"""Bulk archive downloads as a background job: every package a filter finds, in one ZIP, however many.

The archivist asks for it on the archive's list (:func:`start`); a job (:func:`build_bulk_package`) writes
the ZIP into ``JOB_FILES`` with its progress on the task row; the page that follows it shows the progress
and, when it is ready, the link to fetch it. Only the person who asked may follow or fetch it.

Finished ZIP files are kept ``JOB_FILES_MAX_AGE_HOURS`` (default 24): :func:`remove_old_job_files` runs at the
start of every bulk job and in the daily run (``flask renewals``); the page then says the file is gone.
"""
from __future__ import annotations

import json
import os
import time
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


def remove_old_job_files(now: float | None = None) -> list[Path]:
    """Remove the ZIP files in ``JOB_FILES`` finished more than ``JOB_FILES_MAX_AGE_HOURS`` ago (and the
    partial files of jobs that stopped long before that); returns what was removed."""
    folder = Path(current_app.config["JOB_FILES"])
    if not folder.is_dir():
        return []
    max_age = float(current_app.config["JOB_FILES_MAX_AGE_HOURS"]) * 3600
    # A partial file is never older than the job's timeout while its job is alive.
    oldest = {".zip": max_age, ".part": max(max_age, float(current_app.config["JOB_TIMEOUT_SECONDS"]))}
    now = time.time() if now is None else now
    removed = []
    for path in folder.iterdir():
        try:
            if path.suffix in oldest and path.is_file() and now - path.stat().st_mtime > oldest[path.suffix]:
                path.unlink()
                removed.append(path)
        except FileNotFoundError:  # removed at the same moment by another job or server
            continue
    return removed


def build_bulk_package(user_id: int, filter_args: dict[str, str]) -> None:
    """The job: write the ZIP (again from the start when retried: the file appears only when complete),
    removing old finished ones first."""
    remove_old_job_files()
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
