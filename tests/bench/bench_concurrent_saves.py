"""Concurrent saves of one draft through a real server: throughput, latency, and whether any draft mixed.

    .venv/bin/python -m tests.bench.bench_concurrent_saves [--clients 20] [--seconds 15] [--database URL]
    (or: make bench)

Starts gunicorn with 2 workers on a fresh database (a temporary SQLite file, or the PostgreSQL database
given with --database, which is emptied first), and N client threads, each signed in as a coordinator
of its own. Every client saves the «priority areas» step (three areas named after the save) again and
again, in turn on the one draft all share and on a draft of its own, each time on the page as it is
now; when someone else saved in between (409, the conflict page) it saves again on top, as a person
who has read the conflict would. A reader samples the shared draft from the database all the while.

Prints requests per second, the median and 99th percentile of a save, how many saves met a conflict,
and the number of drafts whose stored content is not exactly one acknowledged save (must be 0), with
the number of half-written steps the reader saw (must be 0). Not a test: pytest does not collect it.
"""
from __future__ import annotations

import argparse
import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import func, select

from portal import PROJECT_ROOT, create_app
from portal.auth.passwords import hash_password
from portal.extensions import db
from portal.models import Agreement, AuditEvent, PriorityArea, Role
from portal.reference_data import load_reference_data
from tests import factories
from tests.wizard_answers import priority_answers, whole_save

PASSWORD = "benk benk benk benk"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')
VERSION = re.compile(r'name="draft_version" value="(\d+)"')


class Client:
    """One person in one browser: a keep-alive connection and the session cookie."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.cookie = ""

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, str, str]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        text = response.read().decode()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie" and value.startswith("session="):
                self.cookie = value.split(";", 1)[0]
        return response.status, response.getheader("Location") or "", text

    def hidden(self, page: str) -> dict[str, str]:
        token = CSRF.search(page)
        assert token, "no CSRF token on the page"
        fields = {"csrf_token": token.group(1) or token.group(2)}
        version = VERSION.search(page)
        if version:
            fields["draft_version"] = version.group(1)
        return fields


@dataclass
class Tally:
    save_times: list[float] = field(default_factory=list)
    requests: int = 0
    conflicts: int = 0
    refused: int = 0
    acknowledged: dict[int, list[str]] = field(default_factory=dict)  # agreement id → labels
    lock: threading.Lock = field(default_factory=threading.Lock)


def signed_in(port: int, email: str) -> Client:
    client = Client(port)
    status, _, page = client.request("GET", "/sign-in")
    status, _, _ = client.request("POST", "/sign-in", {"email": email, "password": PASSWORD, **client.hidden(page)})
    assert status == 302, f"{email} could not sign in ({status})"
    return client


def run_client(client: Client, drafts: list[int], deadline: float, tally: Tally, number: int) -> None:
    round_ = 0
    while time.monotonic() < deadline:
        agreement_id = drafts[round_ % len(drafts)]
        url = f"/agreements/{agreement_id}/steps/priorities"
        label = f"Klient {number} lagring {round_}"
        status, _, page = client.request("GET", url)
        started = time.perf_counter()
        status, location, page = client.request("POST", url, {**priority_answers(label), **client.hidden(page)})
        requests, conflicted = 2, status == 409
        if status == 409:  # the conflict page: save again on top, knowingly
            status, location, page = client.request("POST", url, {**priority_answers(label), **client.hidden(page)})
            requests += 1
        elapsed = time.perf_counter() - started
        with tally.lock:
            tally.requests += requests
            tally.save_times.append(elapsed)
            tally.conflicts += conflicted
            if status == 302 and ("/steps/" in location or location.endswith("/check")):
                tally.acknowledged.setdefault(agreement_id, []).append(label)
            else:
                tally.refused += 1
        round_ += 1


def stored(agreement_id: int) -> list[tuple[int, str]]:
    rows = db.session.execute(select(PriorityArea.position, PriorityArea.title)
                              .where(PriorityArea.agreement_id == agreement_id).order_by(PriorityArea.position, PriorityArea.id))
    return [tuple(row) for row in rows]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(port: int, server: subprocess.Popen) -> None:
    for _ in range(300):
        if server.poll() is not None:
            sys.exit(f"gunicorn stopped with code {server.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit("gunicorn did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20, help="client threads (default 20)")
    parser.add_argument("--seconds", type=float, default=15, help="how long to run (default 15)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--database", help="PostgreSQL URL of a database to empty and use (default: a temporary SQLite file)")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        url = arguments.database or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
        with app.app_context():
            db.drop_all()
            db.create_all()
            load_reference_data()
            voss = factories.organisation_for_municipality(factories.VOSS)
            password_hash = hash_password(PASSWORD)
            people = [factories.user(f"koordinator{n}@voss.example.org", Role.COORDINATOR, voss, password_hash, f"Koordinator {n}")
                      for n in range(arguments.clients)]
            shared = factories.complete_agreement(people[0])
            own = [factories.complete_agreement(person) for person in people]
            db.session.commit()
            emails = [person.email for person in people]
            shared_id, own_ids = shared.id, [agreement.id for agreement in own]
            versions_before = {agreement.id: agreement.draft_version for agreement in [shared, *own]}

        port = free_port()
        environment = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench", "SESSION_COOKIE_SECURE": "false"}
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "--workers", str(arguments.workers), "--bind", f"127.0.0.1:{port}",
             "--log-level", "warning", "wsgi:app"],
            cwd=PROJECT_ROOT, env=environment,
        )
        try:
            wait_for(port, server)
            tally = Tally()
            samples: list[list[tuple[int, str]]] = []
            done = threading.Event()

            def read() -> None:
                with app.app_context():
                    while not done.is_set():
                        samples.append(stored(shared_id))
                        db.session.rollback()
                        time.sleep(0.01)

            reader = threading.Thread(target=read)
            clients = [signed_in(port, email) for email in emails]  # before the clock starts: argon2 is slow by design
            deadline = time.monotonic() + arguments.seconds
            threads = [threading.Thread(target=run_client, args=(clients[n], [shared_id, own_ids[n]], deadline, tally, n))
                       for n in range(arguments.clients)]
            started = time.perf_counter()
            reader.start()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
            done.set()
            reader.join()
        finally:
            server.terminate()
            server.wait(timeout=30)

        with app.app_context():
            problems = []
            for agreement_id, before in versions_before.items():
                labels = tally.acknowledged.get(agreement_id, [])
                recorded = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
                    AuditEvent.agreement_id == agreement_id, AuditEvent.action == "step_saved"))
                version = db.session.scalar(select(Agreement.draft_version).where(Agreement.id == agreement_id))
                content = stored(agreement_id)
                whole = content in [whole_save(label) for label in labels] if labels else content == [(n, f"Satsingsområde {n + 1}") for n in range(3)]
                if not whole or recorded != len(labels) or version != before + len(labels):
                    problems.append((agreement_id, content[:6], len(labels), recorded))
            wholes = [whole_save(label) for label in tally.acknowledged.get(shared_id, [])] + [[(n, f"Satsingsområde {n + 1}") for n in range(3)]]
            half_written = sum(1 for sample in samples if sample not in wholes)
            db.session.remove()  # end the reading transaction, or PostgreSQL waits for it before dropping
            if not url.startswith("sqlite"):
                db.drop_all()

    saves = len(tally.save_times)
    times = sorted(tally.save_times)
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))] if times else 0.0
    print(f"database: {'SQLite' if url.startswith('sqlite') else 'PostgreSQL'}; gunicorn, {arguments.workers} workers; "
          f"{arguments.clients} clients for {arguments.seconds:.0f} s; 1 shared draft and 1 draft each")
    print(f"requests: {tally.requests} in {elapsed:.1f} s = {tally.requests / elapsed:.1f} req/s (GET page + POST save, + POST again on a conflict)")
    print(f"saves: {saves} = {saves / elapsed:.1f}/s; p50 {statistics.median(times) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms"
          f" (POST, with the second POST after a conflict)" if times else "saves: none")
    print(f"acknowledged: {sum(len(labels) for labels in tally.acknowledged.values())}; met a conflict first: {tally.conflicts}; "
          f"a conflict again on saving on top (not saved): {tally.refused}")
    print(f"reader: {len(samples)} samples of the shared draft, {half_written} half-written")
    print(f"drafts whose stored content is not exactly one acknowledged save: {len(problems)}")
    for problem in problems[:5]:
        print(f"  agreement {problem[0]}: {problem[1]} ({problem[2]} acknowledged, {problem[3]} in the audit trail)")
    if problems or half_written:
        sys.exit(1)


if __name__ == "__main__":
    main()
