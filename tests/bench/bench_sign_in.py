"""How long a failed sign-in takes for an existing account and for an unknown e-mail address.

    .venv/bin/python -m tests.bench.bench_sign_in [--runs 15]      (or: make bench)

Both should take the same time (one argon2id verification each, a dummy hash for the unknown address),
so the answer's time does not reveal which accounts exist (issue 9, item 5). Posts the sign-in form
through the Flask test client, against a temporary SQLite database, alternating the two cases, each from
its own client address so the throttle does not stop the runs; prints the median and spread. Not a test:
pytest does not collect it.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from portal import create_app
from portal.auth.passwords import hash_password
from portal.extensions import db
from portal.models import Role
from portal.reference_data import load_reference_data
from tests import factories

CASES = {"existing account, wrong password": "ordforar@voss.example.org", "unknown e-mail address": "ingen@voss.example.org"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="attempts per case (default 15)")
    runs = parser.parse_args().runs

    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"DATABASE_URL": f"sqlite:///{Path(folder) / 'bench.sqlite3'}", "SECRET_KEY": "bench",
                          "WTF_CSRF_ENABLED": False, "LOCKOUT_ADDRESS_THRESHOLD": 10**6})
        with app.app_context():
            db.create_all()
            load_reference_data()
            organisation = factories.organisation_for_municipality(factories.VOSS)
            factories.user(CASES["existing account, wrong password"], Role.SIGNATORY, organisation, hash_password("riktig passord her"), "Ola Ordførar")
            db.session.commit()
        client = app.test_client()
        times: dict[str, list[float]] = {name: [] for name in CASES}
        for attempt in range(runs + 1):
            for number, (name, email) in enumerate(CASES.items()):
                address = {"REMOTE_ADDR": f"192.0.2.{(attempt * 2 + number) % 250 + 1}"}
                start = time.perf_counter()
                response = client.post("/sign-in", data={"email": email, "password": "feil passord"}, environ_base=address)
                elapsed = time.perf_counter() - start
                assert response.status_code == 400, response.status_code
                if attempt:  # the first round warms up (the dummy hash is made on first use)
                    times[name].append(elapsed)
        print(f"{'failed sign-in':<36} {'median':>8} {'min':>8} {'max':>8}")
        for name, measured in times.items():
            print(f"{name:<36} {statistics.median(measured) * 1000:>6.0f}ms {min(measured) * 1000:>6.0f}ms {max(measured) * 1000:>6.0f}ms")
        medians = [statistics.median(measured) for measured in times.values()]
        print(f"ratio of the medians (unknown / existing): {medians[1] / medians[0]:.2f} ({runs} runs each)")


if __name__ == "__main__":
    main()
