"""The job queue against the real Redis (127.0.0.1:6379, or TEST_REDIS_URL) and real worker processes
(``flask --app portal worker``): closing after the last signature, a failing job that says why, the same
work queued once, and a worker killed (SIGKILL) in the middle of a job, and one that runs for longer than the heartbeats that tell a dead
worker's jobs.

Each test uses a queue of its own, and the portal names its jobs in Redis after its queue
(``jobs.queued_id``), so runs at once on one Redis (other developers, the SQLite and the PostgreSQL run)
never see, overwrite or delete each other's jobs, though their task ids (``close-agreement-1``) are alike.
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

from portal import create_app, jobs
from portal.agreements import signing
from portal.extensions import db
from portal.models import Agreement, AgreementStatus, AuditEvent, BackgroundTask, TaskState

from . import factories, job_functions
from .test_signing_flow import finalised, portal_held_keys, reload, sign_as, text_of  # noqa: F401  (fixtures)

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
FLASK = str(Path(sys.executable).with_name("flask"))
ROOT = Path(__file__).resolve().parent.parent
#: Seconds a test waits at most for a worker process: it imports the portal and then does real work (a
#: closing at B-LTA), which on a busy machine (several suites at once on two cores) takes minutes, not the
#: seconds it takes alone. Every wait ends as soon as what it waits for happens, or the worker has ended.
WORKER_PATIENCE = 600


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
        # Every key of this queue: the queue and its intermediate list, its registries, its jobs (whose ids
        # begin with its name), their executions and results. The name is unique: no other run's keys.
        for key in the_queue.connection.scan_iter(match=f"*{the_queue.name}*", count=1000):
            the_queue.connection.delete(key)
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
    """A burst worker: it does every job on the queue, then ends; its output."""
    process = worker(app, **environment)
    output, _ = process.communicate(timeout=WORKER_PATIENCE)
    assert process.returncode == 0, output
    return output


def task_of(job_id: str) -> BackgroundTask:
    db.session.rollback()
    found = db.session.get(BackgroundTask, job_id, populate_existing=True)
    assert found is not None
    return found


def kill_worker(process: subprocess.Popen) -> None:  # type: ignore[type-arg]
    """SIGKILL the worker (which runs the job) and any process it started (RQ's scheduler, in a group of its own)."""
    children = [int(pid) for pid in Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()]
    for pid in (process.pid, *children):
        os.kill(pid, signal.SIGKILL)
    process.wait(timeout=10)


def wait_until(condition, timeout: float = WORKER_PATIENCE, *, worker: subprocess.Popen | None = None) -> None:  # type: ignore[no-untyped-def,type-arg]
    """Wait until ``condition()`` holds: fail after ``timeout`` seconds, or at once, with its output, when
    ``worker`` (the process that is to make it hold) has ended."""
    deadline = time.monotonic() + timeout
    while not condition():
        if worker is not None and worker.poll() is not None:
            pytest.fail(f"the worker ended (exit status {worker.returncode}) first:\n{worker.stdout.read()}")  # type: ignore[union-attr]
        assert time.monotonic() < deadline, f"waited {timeout} s"
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
        wait_until(lambda: any(tmp_path.glob("started-*")), worker=first)
        assert task_of(job_id).state is TaskState.RUNNING
    finally:
        kill_worker(first)
    (tmp_path / "go").touch()
    from rq.registry import StartedJobRegistry

    wait_until(lambda: StartedJobRegistry(queue=queue).get_expired_job_ids(), timeout=30)  # three missed heartbeats
    run_worker(app)
    task = task_of(job_id)
    assert task.state is TaskState.DONE and task.attempts == 2 and task.error is None
    done = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.agreement_id == agreement.id, AuditEvent.action == job_functions.ACTION))
    assert done == 1 and len(list(tmp_path.glob("started-*"))) == 2


def test_a_job_running_longer_than_three_heartbeats_is_not_taken_for_abandoned(app, people, queue, tmp_path):
    """The worker runs the job itself and keeps its heartbeat going while it runs: another worker's
    maintenance leaves it be, and it is done once."""
    from rq.registry import StartedJobRegistry

    agreement = factories.archived_agreement(people.coordinator)
    db.session.commit()
    job_id = f"note-{agreement.id}"
    jobs.enqueue(job_functions.note_once, agreement.id, str(tmp_path), job_id=job_id)
    running = worker(app)
    try:
        wait_until(lambda: any(tmp_path.glob("started-*")), worker=running)
        time.sleep(4.5)  # JOB_HEARTBEAT_SECONDS is 1: a job whose worker died is abandoned after three
        assert running.poll() is None and task_of(job_id).state is TaskState.RUNNING
        assert not StartedJobRegistry(queue=queue).get_expired_job_ids()
        jobs.requeue_abandoned(app)  # what every worker's maintenance pass does
        assert queue.count == 0
    finally:
        (tmp_path / "go").touch()
    output, _ = running.communicate(timeout=WORKER_PATIENCE)
    assert running.returncode == 0, output
    task = task_of(job_id)
    assert task.state is TaskState.DONE and task.attempts == 1 and len(list(tmp_path.glob("started-*"))) == 1


def test_a_worker_killed_while_closing_leaves_one_closing_done_once(client, people, finalised, queue, app):  # noqa: F811
    sign_as(client, people.mayor, finalised.id)
    sign_as(client, people.station_chief, finalised.id)
    job_id = signing.closing_job_id(finalised.id)
    first = worker(app, burst=False)
    try:
        wait_until(lambda: task_of(job_id).state is not TaskState.QUEUED, worker=first)
    finally:
        kill_worker(first)  # in the middle of closing, or just after it committed
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


def test_a_second_portal_on_the_same_redis_queuing_the_same_days_renewals_leaves_ours_alone(app, people, queue, tmp_path):
    """Another portal on this Redis, with a JOB_QUEUE and a database of its own, queues the same day's
    renewals (a task of the same id) and then empties its queue: ours is still queued, and our worker runs it."""
    ours = app.test_cli_runner().invoke(args=["renewals", "--queue", "--today", "2026-11-30"])
    other = create_app({"TESTING": True, "SECRET_KEY": app.config["SECRET_KEY"], "MAIL_SERVER": "",
                        "DATABASE_URL": f"sqlite:///{tmp_path / 'other.sqlite3'}", "REDIS_URL": REDIS_URL,
                        "JOB_QUEUE": f"{queue.name}-other"}, instance_path=tmp_path / "other")
    with other.app_context():
        db.create_all()
        theirs = other.test_cli_runner().invoke(args=["renewals", "--queue", "--today", "2026-11-30"])
        assert theirs.exit_code == 0 and "queued" in theirs.output and jobs.queue(other).count == 1
        jobs.queue(other).empty()
    assert ours.exit_code == 0 and "queued" in ours.output and queue.count == 1
    run_worker(app)
    assert task_of("renewals-2026-11-30").state is TaskState.DONE


def test_a_worker_refuses_a_queue_name_that_cannot_begin_a_job_id(app):
    saved = {key: app.config[key] for key in ("REDIS_URL", "JOB_QUEUE")}
    app.config.update(REDIS_URL=REDIS_URL, JOB_QUEUE="politirad:voss")
    try:
        result = app.test_cli_runner().invoke(args=["worker", "--burst"])
    finally:
        app.config.update(saved)
    assert result.exit_code != 0 and "JOB_QUEUE may hold only" in result.output
