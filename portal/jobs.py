"""Background work on a job queue: RQ on Redis when ``REDIS_URL`` is set, else in this process at once.

Work a person should not wait for (closing a fully signed agreement at B-LTA, the intake validation,
bulk archive downloads, e-mail, the daily renewals) goes through :func:`enqueue`::

    jobs.enqueue(close_agreement, agreement.id, job_id=f"close-agreement-{agreement.id}")

* **Idempotent ids.** A job id names the work. Asking again for work that is queued, running or done
  returns the task already there and queues nothing; a failed task is queued anew. In Redis the job's id
  is the task's after ``JOB_QUEUE`` (:func:`queued_id`): RQ's job ids are keys of the whole Redis, so
  portals (or test runs) sharing one Redis, each with a queue of its own, never share or delete a job.
* **Safe to retry.** A job that raises is retried with back-off (``JOB_RETRY_INTERVALS`` seconds, RQ's
  ``Retry``). A worker that dies in the middle of a job (SIGKILL, a lost machine) stops renewing the job's
  heartbeat; after ``3 × JOB_HEARTBEAT_SECONDS`` any worker puts the job back on the queue (RQ's
  started-job registry). So a job may run again after it had done part or all of its work: every job
  function checks what is already done (guarded UPDATEs, unique rows) and does only the rest.
* **A task row** (:class:`~portal.models.BackgroundTask`) keeps each job's state, progress and, when it
  failed, why, in the database: the page that started the work reads it, with Redis or without.
* **Without ``REDIS_URL``** (the default, so that ``make run`` needs no Redis) :func:`enqueue` runs the
  job here and now, with the same task row; a failure is recorded on the row, not raised.

``flask --app portal worker`` runs a worker (:func:`run_worker`).
"""
from __future__ import annotations

import gc
import importlib
import os
import re
import threading
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from .extensions import db
from .models import BackgroundTask, TaskState, utcnow

__all__ = ["enqueue", "queued_id", "report_progress", "requeue_abandoned", "run_worker", "task", "uses_queue"]

_REDIS_KEY = "portal.jobs.redis"
#: The task id of the job running in this context (for :func:`report_progress`).
_current_task: ContextVar[str | None] = ContextVar("current_task", default=None)
#: The app a worker process runs its jobs in (set by :func:`run_worker`).
_worker_app: Flask | None = None


def uses_queue(app: Flask | None = None) -> bool:
    """Whether jobs go to Redis (``REDIS_URL`` set) rather than run in this process."""
    return bool((app or current_app).config.get("REDIS_URL"))


def _redis(app: Flask):  # type: ignore[no-untyped-def]
    from redis import Redis

    connection = app.extensions.get(_REDIS_KEY)
    if connection is None:
        connection = app.extensions[_REDIS_KEY] = Redis.from_url(app.config["REDIS_URL"])
    return connection


def queue(app: Flask | None = None):  # type: ignore[no-untyped-def]
    """The app's RQ queue (``JOB_QUEUE`` on ``REDIS_URL``)."""
    from rq import Queue

    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    return Queue(app.config["JOB_QUEUE"], connection=_redis(app))


def queued_id(job_id: str, app: Flask | None = None) -> str:
    """The RQ job id of the task ``job_id``: namespaced by ``JOB_QUEUE``, the one name a portal has of its
    own on a shared Redis (two portals doing work named alike, such as one day's renewals, get two jobs)."""
    return f"{(app or current_app).config['JOB_QUEUE']}-{job_id}"


#: What RQ allows in a job id, so in ``JOB_QUEUE`` too (see :func:`queued_id`).
_QUEUE_NAME = re.compile(r"[A-Za-z0-9_-]+")


def _dotted(function: Callable[..., Any]) -> str:
    return f"{function.__module__}:{function.__qualname__}"


def _resolve(path: str) -> Callable[..., Any]:
    module, _, name = path.partition(":")
    found: Any = importlib.import_module(module)
    for part in name.split("."):
        found = getattr(found, part)
    return found


def task(job_id: str) -> BackgroundTask | None:
    """The task row of ``job_id`` as stored now (for the page that started it)."""
    return db.session.get(BackgroundTask, job_id, populate_existing=True)


def enqueue(function: Callable[..., Any], *args: Any, job_id: str | None = None, started_by: int | None = None,
            **kwargs: Any) -> BackgroundTask:
    """Run ``function(*args, **kwargs)`` in the background and return its task row.

    ``function`` must be a module-level function taking plain values (ids, strings, numbers), run in an
    app context. ``job_id`` names the work for idempotency (default: a new id each time);
    ``started_by`` is the id of the user who asked, who may follow it. Commits the session.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    job_id = job_id or f"{function.__name__}-{uuid.uuid4().hex}"
    existing = task(job_id)
    if existing is not None and existing.state is not TaskState.FAILED:
        return existing
    if existing is None:
        existing = BackgroundTask(id=job_id, kind=function.__name__, started_by_id=started_by)
        db.session.add(existing)
    existing.state, existing.error, existing.done, existing.total = TaskState.QUEUED, None, 0, None
    existing.updated_at = utcnow()
    try:
        db.session.commit()
    except IntegrityError:  # the same work asked for at the same moment: theirs stands
        db.session.rollback()
        return task(job_id)  # type: ignore[return-value]
    if not uses_queue(app):
        _perform(job_id, _dotted(function), args, kwargs, in_process=True)
        db.session.expire_all()
        return task(job_id)  # type: ignore[return-value]
    from rq import Callback, Retry

    from redis.exceptions import RedisError

    intervals = list(app.config["JOB_RETRY_INTERVALS"])
    try:
        queue(app).enqueue(
            _perform, job_id, _dotted(function), args, kwargs,
            job_id=queued_id(job_id, app), retry=Retry(max=len(intervals), interval=intervals) if intervals else None,
            job_timeout=app.config["JOB_TIMEOUT_SECONDS"], on_failure=Callback(_record_abandoned),
            description=f"{function.__name__}{args!r}",
        )
    except RedisError as error:  # what started the work is stored: say why its rest did not start
        app.logger.exception("Job %s could not be queued", job_id)
        _set(job_id, state=TaskState.FAILED, error=f"The job queue could not be reached: {_reason(error)}")
        return task(job_id)  # type: ignore[return-value]
    return existing


def _set(job_id: str, **values: Any) -> None:
    db.session.execute(update(BackgroundTask).where(BackgroundTask.id == job_id).values(updated_at=utcnow(), **values))
    db.session.commit()


def current_task_id() -> str | None:
    """The id of the job running in this context, if any."""
    return _current_task.get()


def report_progress(done: int, total: int) -> None:
    """From inside a job: ``done`` of ``total`` steps are done (shown on the page that follows it)."""
    job_id = _current_task.get()
    if job_id is not None:
        _set(job_id, done=done, total=total)


def record_result(result: str) -> None:
    """From inside a job: what it made (a file name, a count), kept on its task row."""
    job_id = _current_task.get()
    if job_id is not None:
        _set(job_id, result=result)


def _perform(job_id: str, function_path: str, args: tuple[Any, ...], kwargs: dict[str, Any], *, in_process: bool = False) -> None:
    """Run one job in an app context of its own, keeping its task row up to date."""
    app = current_app._get_current_object() if in_process else _worker_app  # type: ignore[attr-defined]
    assert app is not None, "jobs run in a worker started by `flask --app portal worker`"
    with app.app_context():
        token = _current_task.set(job_id)
        try:
            _set(job_id, state=TaskState.RUNNING, attempts=BackgroundTask.attempts + 1)
            _resolve(function_path)(*args, **kwargs)
            _set(job_id, state=TaskState.DONE, error=None)
        except Exception as error:  # noqa: BLE001 — recorded on the task, then retried by RQ (or not, here)
            db.session.rollback()
            retries_left = 0 if in_process else _retries_left()
            app.logger.exception("Job %s failed (%d retries left)", job_id, retries_left)
            _set(job_id, state=TaskState.QUEUED if retries_left else TaskState.FAILED, error=_reason(error))
            if not in_process:
                raise
        finally:
            _current_task.reset(token)
            db.session.remove()


def _reason(error: BaseException) -> str:
    return (f"{type(error).__name__}: {error}" if str(error) else type(error).__name__)[:2000]


def _retries_left() -> int:
    from rq import get_current_job

    job = get_current_job()
    return int(job.retries_left or 0) if job is not None else 0


def _record_abandoned(job, connection, exception_type, exception, traceback) -> None:  # type: ignore[no-untyped-def]
    """RQ's failure callback. For a job abandoned by a dead worker (the job itself recorded nothing):
    say so on its task, queued again while it has retries left, failed when it has none."""
    from rq.exceptions import AbandonedJobError

    if _worker_app is None or not isinstance(exception, AbandonedJobError):
        return
    with _worker_app.app_context():
        state = TaskState.QUEUED if (job.retries_left or 0) > 0 else TaskState.FAILED
        _set(job.args[0], state=state, error="The worker stopped in the middle of this job.")  # _perform's task id
        db.session.remove()


# ---------------------------------------------------------------- the worker


def requeue_abandoned(app: Flask | None = None) -> None:
    """Put the jobs of dead workers back on the queue (retried while they have retries left).

    A job counts as abandoned once its heartbeat is older than its TTL (see ``PortalWorker``). A short
    lock lets only one worker at a time do this, so a job is never put back twice.
    """
    from rq.registry import StartedJobRegistry

    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    the_queue = queue(app)
    lock = _redis(app).lock(f"portal:requeue-abandoned:{the_queue.name}", timeout=30, blocking=False)
    if lock.acquire():
        try:
            StartedJobRegistry(queue=the_queue).cleanup()
        finally:
            lock.release()


def _worker_class():  # type: ignore[no-untyped-def]
    from rq import SimpleWorker
    from rq.worker import WorkerStatus

    class PortalWorker(SimpleWorker):
        """RQ's worker that runs each job in its own process, not in one forked for the job: jobs find the
        worker's code loaded and its caches warm, where a process forked per job copied the pages it
        touched and began every job cold (a closing cost a third more CPU; ``tests/bench/bench_chain.py``).

        A thread renews the job's heartbeat every ``job_monitoring_interval`` (``JOB_HEARTBEAT_SECONDS``)
        while it runs, as RQ's forking worker does from the parent: a job whose worker died is found
        abandoned after three missed heartbeats, not RQ's fixed minute, and every maintenance pass puts
        abandoned jobs back on the queue. RQ's time limit (``JOB_TIMEOUT_SECONDS``) still ends a job that
        runs too long."""

        def get_heartbeat_ttl(self, job, working_time: float = 0.0) -> int:  # type: ignore[no-untyped-def]
            return 3 * self.job_monitoring_interval

        def clean_registries(self) -> None:
            assert _worker_app is not None
            requeue_abandoned(_worker_app)
            super().clean_registries()

        def execute_job(self, job, queue) -> None:  # type: ignore[no-untyped-def]
            execution = self.prepare_execution(job)
            finished = threading.Event()

            def keep_beating() -> None:
                while not finished.wait(self.job_monitoring_interval):
                    try:
                        self.maintain_heartbeats(job, execution)
                    except Exception:  # noqa: BLE001 — Redis away for a moment: the next beat tries again
                        self.log.exception("Worker %s: the heartbeat of job %s failed", self.name, job.id)

            heartbeat = threading.Thread(target=keep_beating, name=f"heartbeat of {job.id}", daemon=True)
            heartbeat.start()
            try:
                self.perform_job(job, queue, execution)
            finally:
                finished.set()
                heartbeat.join()
            self.set_state(WorkerStatus.IDLE)

    return PortalWorker


def run_worker(app: Flask, *, burst: bool = False) -> None:
    """Work on ``JOB_QUEUE`` until stopped (or, with ``burst``, until it is empty)."""
    global _worker_app
    if not uses_queue(app):
        raise RuntimeError("REDIS_URL is not set: jobs run in the web process, and a worker has nothing to do.")
    if not _QUEUE_NAME.fullmatch(app.config["JOB_QUEUE"]):
        raise RuntimeError("JOB_QUEUE may hold only letters A-Z, digits, '-' and '_' (it begins every job's id).")
    _worker_app = app
    requeue_abandoned(app)
    # What start-up loaded (modules, the app) lives as long as the worker: out of the cyclic collector's
    # full collections, which would otherwise walk all of it again during every job. As wsgi.py does.
    gc.freeze()
    worker = _worker_class()(
        [queue(app)], connection=_redis(app), job_monitoring_interval=int(app.config["JOB_HEARTBEAT_SECONDS"]),
        name=f"portal-{os.getpid()}-{uuid.uuid4().hex[:6]}",
    )
    try:
        worker.work(burst=burst, with_scheduler=True)
    finally:
        gc.unfreeze()  # a burst run may return to a caller that goes on (a test)
