"""The job queue against the real Redis (127.0.0.1:6379, or TEST_REDIS_URL) and real worker processes
(``flask --app portal worker``): closing after the last signature, a failing job that says why, the same
work queued once, and a worker killed (SIGKILL) in the middle of a job.

Each test run uses a queue of its own, so runs in parallel on one Redis never see each other's jobs.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal import jobs
from portal.agreements import signing
from portal.extensions import db
from portal.models import Agreement, AgreementStatus, AuditEvent, BackgroundTask, TaskState

from . import factories, job_functions
from .test_signing_flow import finalised, portal_held_keys, reload, sign_as, text_of  # noqa: F401  (fixtures)

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
FLASK = str(Path(sys.executable).with_name("flask"))
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def queue(app):
    """Jobs go to Redis, on a queue of this test's own; emptied afterwards."""
    saved = {key: app.config[key] for key in ("REDIS_URL", "JOB_QUEUE", "JOB_RETRY_INTERVALS", "JOB_HEARTBEAT_SECONDS")}
    app.config.update(REDIS_URL=REDIS_URL, JOB_QUEUE=f"test-{uuid.uuid4().hex}", JOB_RETRY_INTERVALS=[0, 0],
                      JOB_HEARTBEAT_SECONDS=1)
    app.extensions.pop(jobs._REDIS_KEY, None)
    the_queue = jobs.queue(app)
    the_queue.connection.ping()  # Redis must be there: CI starts it
    try:
        yield the_queue
    finally:
        from rq.registry import FailedJobRegistry, FinishedJobRegistry, StartedJobRegistry

        for registry in (StartedJobRegistry, FinishedJobRegistry, FailedJobRegistry):
            for job_id in registry(queue=the_queue).get_job_ids():
                the_queue.connection.delete(f"rq:job:{job_id}")
        the_queue.delete(delete_jobs=True)
        app.config.update(saved)
        app.extensions.pop(jobs._REDIS_KEY, None)


def worker(app, *, burst: bool = True, **environment: str) -> subprocess.Popen:  # type: ignore[no-untyped-def]
    """``flask --app portal worker`` in a process of its own, on the test's database, PKI and queue."""
    env = {**os.environ, "INSTANCE_PATH": app.instance_path, "DATABASE_URL": app.config["DATABASE_URL"], "REDIS_URL": app.config["REDIS_URL"],
           "JOB_QUEUE": app.config["JOB_QUEUE"], "JOB_HEARTBEAT_SECONDS": "1", "PKI_FOLDER": app.config["PKI_FOLDER"],
           "SECRET_KEY": app.config["SECRET_KEY"], "PUBLIC_BASE_URL": app.config["PUBLIC_BASE_URL"],
           "ARCHIVE_OUTBOX": app.config["ARCHIVE_OUTBOX"], **environment}
    return subprocess.Popen([FLASK, "--app", "portal", "worker", *(["--burst"] if burst else [])], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def run_worker(app, **environment: str) -> str:  # type: ignore[no-untyped-def]
    process = worker(app, **environment)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, output
    return output


def task_of(job_id: str) -> BackgroundTask:
    db.session.rollback()
    found = db.session.get(BackgroundTask, job_id, populate_existing=True)
    assert found is not None
    return found


def kill_worker_and_its_horse(process: subprocess.Popen) -> None:  # type: ignore[type-arg]
    """SIGKILL the worker and the process it forked for the job (RQ puts that one in a group of its own)."""
    children = [int(pid) for pid in Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()]
    for pid in (process.pid, *children):
        os.kill(pid, signal.SIGKILL)
    process.wait(timeout=10)


def wait_until(condition, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "waited too long"
        time.sleep(0.05)


def test_the_last_signer_is_answered_at_once_and_a_worker_closes_the_agreement(client, people, finalised, queue, app):  # noqa: F811
    assert sign_as(client, people.mayor, finalised.id).status_code == 302
    response = sign_as(client, people.station_chief, finalised.id)
    assert response.status_code == 302
    assert "now being closed for long-term validation" in text_of(client.get(response.location))
    agreement = reload(finalised.id)
    assert agreement.status is AgreementStatus.FINALISED and agreement.document.pades_level == "B-LT"
    assert task_of(signing.closing_job_id(finalised.id)).state is TaskState.QUEUED and queue.count == 1
    page = client.get(f"/agreements/{finalised.id}").get_data(as_text=True)
    assert 'data-task-state="queued"' in page and "is being closed" in re.sub(r"\s+", " ", page)

    run_worker(app)
    agreement = reload(finalised.id)
    assert agreement.status is AgreementStatus.ACTIVE and agreement.document.pades_level == "B-LTA"
    assert agreement.active_from is not None and task_of(signing.closing_job_id(finalised.id)).state is TaskState.DONE
    page = text_of(client.get(f"/agreements/{finalised.id}"))
    assert "task-status" not in page and "B-LTA" in page
    from portal.signing import verify

    report = verify.verify_pdf(agreement.document.signed_pdf, signing.signing_setup().trust_roots)
    assert report.verdict == verify.Verdict.VALID and report.pades_level == "B-LTA"


def test_a_closing_that_keeps_failing_says_why_and_can_be_tried_again(client, people, finalised, queue, app):  # noqa: F811
    sign_as(client, people.mayor, finalised.id)
    sign_as(client, people.station_chief, finalised.id)
    run_worker(app, TIMESTAMP_URL="http://127.0.0.1:9/tsa")  # the time-stamp service does not answer
    task = task_of(signing.closing_job_id(finalised.id))
    assert task.state is TaskState.FAILED and task.attempts == 3  # the first try and two retries
    assert reload(finalised.id).status is AgreementStatus.FINALISED
    client.sign_in(people.coordinator)
    client.choose_language("en")
    page = text_of(client.get(f"/agreements/{finalised.id}"))
    assert "closing the agreement failed" in page and "127.0.0.1" in page and "Try closing again" in page
    client.submit(f"/agreements/{finalised.id}/close", token_from=f"/agreements/{finalised.id}")
    assert task_of(signing.closing_job_id(finalised.id)).state is TaskState.QUEUED
    run_worker(app)
    assert reload(finalised.id).status is AgreementStatus.ACTIVE


def test_the_same_work_asked_for_twice_is_queued_once(people, queue):
    agreement = factories.archived_agreement(people.coordinator)
    db.session.commit()
    first = jobs.enqueue(job_functions.note_once, agreement.id, "/nonexistent", job_id=f"note-{agreement.id}")
    again = jobs.enqueue(job_functions.note_once, agreement.id, "/nonexistent", job_id=f"note-{agreement.id}")
    assert first.id == again.id and queue.count == 1


def test_a_worker_killed_in_the_middle_of_a_job_leaves_it_to_the_next_which_does_it_once(app, people, queue, tmp_path):
    agreement = factories.archived_agreement(people.coordinator)
    db.session.commit()
    job_id = f"note-{agreement.id}"
    jobs.enqueue(job_functions.note_once, agreement.id, str(tmp_path), job_id=job_id)
    first = worker(app, burst=False)
    try:
        wait_until(lambda: any(tmp_path.glob("started-*")))
        assert task_of(job_id).state is TaskState.RUNNING
    finally:
        kill_worker_and_its_horse(first)
    (tmp_path / "go").touch()
    from rq.registry import StartedJobRegistry

    wait_until(lambda: StartedJobRegistry(queue=queue).get_expired_job_ids(), timeout=30)  # three missed heartbeats
    run_worker(app)
    task = task_of(job_id)
    assert task.state is TaskState.DONE and task.attempts == 2 and task.error is None
    done = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.agreement_id == agreement.id, AuditEvent.action == job_functions.ACTION))
    assert done == 1 and len(list(tmp_path.glob("started-*"))) == 2


def test_a_worker_killed_while_closing_leaves_one_closing_done_once(client, people, finalised, queue, app):  # noqa: F811
    sign_as(client, people.mayor, finalised.id)
    sign_as(client, people.station_chief, finalised.id)
    job_id = signing.closing_job_id(finalised.id)
    first = worker(app, burst=False)
    try:
        wait_until(lambda: task_of(job_id).state is not TaskState.QUEUED)
    finally:
        kill_worker_and_its_horse(first)  # in the middle of closing, or just after it committed
    from rq.registry import StartedJobRegistry

    if task_of(job_id).state is TaskState.RUNNING:
        wait_until(lambda: StartedJobRegistry(queue=queue).get_expired_job_ids(), timeout=30)
    run_worker(app)
    agreement = reload(finalised.id)
    assert agreement.status is AgreementStatus.ACTIVE and agreement.document.pades_level == "B-LTA"
    assert task_of(job_id).state is TaskState.DONE
    actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.agreement_id == finalised.id)))
    assert actions.count("active") == 1 and actions.count("signed") == 2
    assert agreement.document.revision == 4  # sealed, two signatures, closed: the closing stored once


def test_the_daily_renewals_go_on_the_queue_once_a_day_and_a_worker_runs_them(app, people, queue):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["renewals", "--queue", "--today", "2026-11-30"])
    again = runner.invoke(args=["renewals", "--queue", "--today", "2026-11-30"])
    assert first.exit_code == again.exit_code == 0 and "queued" in first.output and queue.count == 1
    run_worker(app)
    assert task_of("renewals-2026-11-30").state is TaskState.DONE
