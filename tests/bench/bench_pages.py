"""Benchmark of pages under load: `.venv/bin/python -m tests.bench.bench_pages [--seconds N]` (or: make bench).

Builds a temporary SQLite database with the test suite's people and 60 agreements of Voss (drafts,
agreements awaiting signatures, signed ones, each with a second municipality of its own), starts the
portal under gunicorn with 2 workers (``tests.bench.pages_app``), signs in as the coordinator and lets
``wrk`` (Debian's ``wrk``; 2 threads, 20 connections) load each page in turn: a bare Flask endpoint on the
same gunicorn (the yardstick), the wizard's members step (GET), the agreement list and the dashboard.
The pages take turns for a few rounds; prints the median requests per second and the ratio to the bare
endpoint measured in the same run, and the workers' CPU time per request (from /proc): on a machine
shared with other work the requests per second fall with its load, the CPU per request much less. The
ratio of requests per second also favours the bare endpoint on a busy machine: its workers sleep between
short requests, and the scheduler gives such tasks their turn before CPU-bound ones, while the pages'
workers are CPU-bound and share the cores with everything else running. Not a test.
"""
from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import date
from pathlib import Path

from sqlalchemy import select

from portal import create_app
from portal.extensions import db
from portal.models import AgreementStatus, Municipality
from portal.reference_data import load_reference_data
from tests import factories
from tests.bench.signed_documents import people
from tests.conftest import PASSWORD, free_port

AGREEMENTS = 60
USER_AGENT = "politirad-bench"  # the same for sign-in and wrk: Flask-Login's strong session protection


def build_database(url: str) -> int:
    """The people and :data:`AGREEMENTS` agreements; returns the id of a draft for the wizard step."""
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    with app.app_context():
        db.create_all()
        load_reference_data()
        who = people()
        others = db.session.scalars(select(Municipality.number).where(Municipality.number != factories.VOSS)
                                    .order_by(Municipality.number).limit(AGREEMENTS)).all()
        draft_id = 0
        for index, other in enumerate(others):
            numbers = (factories.VOSS, other)
            if index % 3 == 0:
                draft_id = draft_id or factories.complete_agreement(who.coordinator, numbers).id
                if draft_id and index:
                    factories.complete_agreement(who.coordinator, numbers)
            else:
                agreement = factories.archived_agreement(who.coordinator, numbers, active_from=date(2026, 1 + index % 12, 1))
                if index % 3 == 2:
                    agreement.status = AgreementStatus.FINALISED
                    for slot in agreement.signature_slots[1:]:
                        slot.signed_at = None
        db.session.commit()
        return draft_id


def sign_in(base: str, email: str) -> str:
    """The session cookie of ``email`` after signing in through the form."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", USER_AGENT)]
    page = opener.open(base + "/sign-in").read().decode()
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    form = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": PASSWORD}).encode()
    opener.open(base + "/sign-in", data=form).read()
    return next(cookie.value for cookie in jar if cookie.name == "session")  # type: ignore[misc]


def workers_cpu_seconds(master: int) -> float:
    """CPU time (user + system) the gunicorn master's workers have used so far."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    ticks = 0
    for pid in children:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return ticks / os.sysconf("SC_CLK_TCK")


def load(url: str, cookie: str, seconds: int, master: int) -> tuple[float, float]:
    """Requests per second under wrk, and the workers' CPU milliseconds per request: the second does not
    depend on how busy the rest of the machine is, the first does."""
    before = workers_cpu_seconds(master)
    result = subprocess.run(
        ["wrk", "-t2", "-c20", f"-d{seconds}s", "-H", f"Cookie: session={cookie}", "-H", f"User-Agent: {USER_AGENT}", url],
        capture_output=True, text=True, check=True,
    )
    used = workers_cpu_seconds(master) - before
    if "Non-2xx" in result.stdout:
        raise SystemExit(f"{url} answered errors under load:\n{result.stdout}")
    requests = int(re.search(r"(\d+) requests in", result.stdout).group(1))  # type: ignore[union-attr]
    return float(re.search(r"Requests/sec:\s+([\d.]+)", result.stdout).group(1)), used * 1000 / max(requests, 1)  # type: ignore[union-attr]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=3, help="seconds of load per page and round (default 3)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over the pages; the median counts (default 3)")
    arguments = parser.parse_args()
    seconds, rounds = arguments.seconds, arguments.rounds
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: make bench installs it (Debian package wrk)")

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'pages.sqlite3'}"
        draft_id = build_database(url)
        port = free_port()
        environment = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench", "SESSION_COOKIE_SECURE": "false",
                       "PKI_FOLDER": str(Path(folder) / "pki"), "MAIL_SERVER": ""}
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
             "tests.bench.pages_app:app"], env=environment)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(base + "/bench/bare").read()
                    break
                except OSError:
                    time.sleep(0.2)
            cookie = sign_in(base, "koordinator@voss.example.org")
            pages = {
                "bare Flask endpoint (same gunicorn)": "/bench/bare",
                "wizard step GET (members)": f"/agreements/{draft_id}/steps/members",
                f"agreement list ({AGREEMENTS} agreements)": "/agreements/",
                "dashboard": "/dashboard",
            }
            rates: dict[str, list[float]] = {name: [] for name in pages}
            costs: dict[str, list[float]] = {name: [] for name in pages}
            for _ in range(rounds):  # the pages take turns, so that the machine's load weighs on all alike
                for name, path in pages.items():
                    rate, cost = load(base + path, cookie, seconds, server.pid)
                    rates[name].append(rate)
                    costs[name].append(cost)
            results = {name: statistics.median(values) for name, values in rates.items()}
            cpu = {name: statistics.median(values) for name, values in costs.items()}
        finally:
            server.terminate()
            server.wait(timeout=30)

    bare = results["bare Flask endpoint (same gunicorn)"]
    bare_cpu = cpu["bare Flask endpoint (same gunicorn)"]
    width = max(len(name) for name in results)
    print(f"{'page (gunicorn -w 2, wrk -t2 -c20)':<{width}}  {'req/s':>8}  {'/ bare':>7}  {'worker CPU/request':>18}  {'bare/page CPU':>13}")
    for name, value in results.items():
        print(f"{name:<{width}}  {value:8.1f}  {value / bare:6.1%}  {cpu[name]:15.2f} ms  {bare_cpu / cpu[name]:12.1%}")
    print(f"(medians of {rounds} rounds of {seconds} s; load average before the run: {load_before:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
