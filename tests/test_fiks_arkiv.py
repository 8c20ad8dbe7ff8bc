"""Fiks Arkiv messages (issue 12): when an agreement is fully signed and when it is superseded, one
``arkivmelding.opprett`` per municipality party, valid against KS's schema, delivered once through the chosen
channel by a job on the background job queue (in-process, and on Redis with real workers, one killed in the
middle of a delivery), its state on the archive page."""
from __future__ import annotations

import hashlib
import http.server
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select

from portal import jobs
from portal.agreements import signing
from portal.archive import fiks_arkiv
from portal.archive.noark5 import schema_folder
from portal.extensions import db
from portal.models import AgreementStatus, ArchiveMessage, TaskState

from . import factories
from .test_jobs import kill_worker, queue, run_worker, task_of, wait_until, worker  # noqa: F401  (fixture)
from .test_signing_flow import finalised, portal_held_keys, sign_as, text_of  # noqa: F401  (fixtures)

BERGEN = "4601"


def _valid(xml: bytes) -> etree._Element:
    schema = etree.XMLSchema(etree.parse(str(schema_folder() / "fiks-arkiv-v1" / f"{fiks_arkiv.MESSAGE_TYPE}.xsd")))
    tree = etree.fromstring(xml)
    assert schema.validate(tree), [str(error) for error in schema.error_log]
    return tree


@pytest.fixture
def utboks(app, tmp_path) -> Path:
    """The folder channel, in a folder of this test's own."""
    saved = {key: app.config[key] for key in ("ARCHIVE_OUTBOX", "ARCHIVE_ENDPOINT")}
    app.config.update(ARCHIVE_OUTBOX=str(tmp_path / "utboks"), ARCHIVE_ENDPOINT="")
    yield tmp_path / "utboks"
    app.config.update(saved)


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802
        archive: ArchiveSystem = self.server  # type: ignore[assignment]
        body = self.rfile.read(int(self.headers["Content-Length"]))
        key = self.headers["Idempotency-Key"]
        archive.requests.append(key)
        if archive.refuse:
            archive.refuse -= 1
            self.send_response(503)
            self.end_headers()
            return
        archive.records.setdefault(key, body)  # one record per message id, as the archive system keeps them
        if archive.hold:  # received and recorded, and the answer not yet given
            archive.hold = False
            archive.received.set()
            archive.go.wait(60)
        try:
            self.send_response(201)
            self.end_headers()
        except OSError:
            pass  # the sender is gone

    def log_message(self, *args: object) -> None:
        pass


class ArchiveSystem(http.server.ThreadingHTTPServer):
    """A municipality's archive system on loopback: refuses the first ``refuse`` requests (503); with ``hold``,
    keeps the first request it records waiting for its answer until ``go`` is set."""

    daemon_threads = True

    def __init__(self, *, refuse: int = 0, hold: bool = False) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.refuse, self.hold = refuse, hold
        self.requests: list[str] = []
        self.records: dict[str, bytes] = {}
        self.received, self.go = threading.Event(), threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}/arkiv"


@pytest.fixture
def archive_system(app):  # type: ignore[no-untyped-def]
    """Start one with ``archive_system(refuse=…, hold=…)``; ARCHIVE_ENDPOINT points to it for the test."""
    started: list[ArchiveSystem] = []
    saved = app.config["ARCHIVE_ENDPOINT"]

    def start(**options: object) -> ArchiveSystem:
        server = ArchiveSystem(**options)  # type: ignore[arg-type]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)
        app.config["ARCHIVE_ENDPOINT"] = server.url
        return server

    yield start
    app.config["ARCHIVE_ENDPOINT"] = saved
    for server in started:
        server.go.set()
        server.shutdown()


def messages_of(agreement_id: int) -> list[ArchiveMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(ArchiveMessage).where(ArchiveMessage.agreement_id == agreement_id)
                                   .order_by(ArchiveMessage.id)))


def test_a_fully_signed_agreement_sends_each_municipality_one_valid_message_with_its_pdf(app, client, people, utboks):
    """Without Redis the delivery jobs run as soon as the closing has committed the messages."""
    agreement = factories.signed_agreement(people, (factories.VOSS, BERGEN))
    messages = messages_of(agreement.id)
    assert sorted((m.municipality_number, m.event, m.state, m.attempts) for m in messages) == [
        (BERGEN, "signed", "delivered", 1), (factories.VOSS, "signed", "delivered", 1)]
    assert [task_of(fiks_arkiv.delivery_job_id(m.message_id)).state for m in messages] == [TaskState.DONE] * 2

    for message in messages:
        folder = utboks / message.message_id
        tree = _valid((folder / "arkivmelding.xml").read_bytes())
        ns = {"a": fiks_arkiv.NAMESPACE}
        name = tree.findtext(".//a:dokumentobjekt/a:referanseDokumentfil", namespaces=ns)
        pdf = (folder / name).read_bytes()
        assert pdf == agreement.document.signed_pdf
        assert tree.findtext(".//a:dokumentobjekt/a:sjekksum", namespaces=ns) == hashlib.sha256(pdf).hexdigest()
    client.sign_in(people.archivist)
    client.choose_language("en")
    assert text_of(client.get(f"/archive/{agreement.id}")).count("Delivered") == 2

    # Queue again, deliver again, close again: nothing new, nothing delivered twice.
    assert fiks_arkiv.queue_messages(agreement, AgreementStatus.ACTIVE) == []
    assert fiks_arkiv.deliver_due() == []
    fiks_arkiv.deliver_in_background(agreement.id)
    signing.close_signed_agreement(agreement.id)
    assert sorted(path.name for path in utboks.iterdir()) == sorted(m.message_id for m in messages)
    assert [m.attempts for m in messages_of(agreement.id)] == [1, 1]


def test_an_http_endpoint_that_fails_is_retried_with_back_off_and_the_reason_is_shown(app, client, people, archive_system):
    archive = archive_system(refuse=1)
    agreement = factories.signed_agreement(people)
    [first] = messages_of(agreement.id)
    assert first.state == "failed" and "503" in first.error and first.attempts == 1
    assert task_of(fiks_arkiv.delivery_job_id(first.message_id)).state is TaskState.FAILED  # in-process: tried once
    client.sign_in(people.archivist)
    client.choose_language("en")
    assert "Failed, will be retried" in text_of(client.get(f"/archive/{agreement.id}"))
    assert fiks_arkiv.deliver_due() == []  # not before its back-off
    [again] = fiks_arkiv.deliver_due(first.next_attempt_at + timedelta(seconds=1))
    assert again.state == "delivered" and again.attempts == 2
    assert archive.requests == [again.message_id] * 2 and list(archive.records) == [again.message_id]
    assert "Delivered" in text_of(client.get(f"/archive/{agreement.id}"))


def _signed_and_closed_on_the_queue(client, people, finalised) -> list[ArchiveMessage]:  # type: ignore[no-untyped-def]  # noqa: F811
    """Both signatures through the page; the closing (queued by the last one) run here, so that its delivery
    jobs wait on the queue for a worker."""
    sign_as(client, people.mayor, finalised.id)
    sign_as(client, people.station_chief, finalised.id)
    signing.close_signed_agreement(finalised.id)
    return messages_of(finalised.id)


def test_on_the_job_queue_a_worker_delivers_the_message_retrying_a_refusal(app, client, people, finalised, queue, archive_system):  # noqa: F811
    archive = archive_system(refuse=1)
    [message] = _signed_and_closed_on_the_queue(client, people, finalised)
    assert message.state == "waiting" and message.attempts == 0
    job_id = fiks_arkiv.delivery_job_id(message.message_id)
    assert task_of(job_id).state is TaskState.QUEUED and jobs.queued_id(job_id) in queue.job_ids
    client.sign_in(people.archivist)
    client.choose_language("en")
    assert "Waiting" in text_of(client.get(f"/archive/{finalised.id}"))

    run_worker(app, ARCHIVE_ENDPOINT=archive.url)  # the closing job (already done: nothing more), then the delivery
    [message] = messages_of(finalised.id)
    assert message.state == "delivered" and message.attempts == 2 and message.error is None
    task = task_of(job_id)
    assert task.state is TaskState.DONE and task.attempts == 2  # refused once (503), then retried by the queue
    assert archive.requests == [message.message_id] * 2 and list(archive.records) == [message.message_id]
    assert "Delivered" in text_of(client.get(f"/archive/{finalised.id}"))


def test_a_worker_killed_in_the_middle_of_a_delivery_leaves_it_to_the_next_and_the_archive_gets_one_record(
        app, client, people, finalised, queue, archive_system):  # noqa: F811
    archive = archive_system(hold=True)
    [message] = _signed_and_closed_on_the_queue(client, people, finalised)
    job_id = fiks_arkiv.delivery_job_id(message.message_id)
    first = worker(app, burst=False, ARCHIVE_ENDPOINT=archive.url)
    try:
        wait_until(archive.received.is_set, worker=first)  # the worker sent the message
        assert messages_of(finalised.id)[0].state == "waiting"  # sent, not yet recorded as delivered
    finally:
        kill_worker(first)
    archive.go.set()
    from rq.registry import StartedJobRegistry

    wait_until(lambda: StartedJobRegistry(queue=queue).get_expired_job_ids(), timeout=30)  # three missed heartbeats
    run_worker(app, ARCHIVE_ENDPOINT=archive.url)
    [message] = messages_of(finalised.id)
    assert message.state == "delivered" and message.delivered_at is not None
    assert task_of(job_id).state is TaskState.DONE and task_of(job_id).attempts == 2
    # Sent twice under the same message id (Idempotency-Key): one record in the archive.
    assert archive.requests == [message.message_id] * 2 and list(archive.records) == [message.message_id]
