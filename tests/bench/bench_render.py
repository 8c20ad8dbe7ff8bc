"""How long the agreement's PDF takes to render, and how much memory it takes.

    .venv/bin/python -m tests.bench.bench_render [--runs 5]      (or: make bench)

Builds a typical agreement (1 municipality, 3 priority areas) and a large one (3 municipalities,
20 priority areas, long text) in a temporary SQLite database, renders each several times
(``portal.documents.agreement_pdf``: WeasyPrint layout, PDF/A, signature fields) and prints the median
time, the Python heap's peak during one more render (tracemalloc), and the process's peak resident
memory (getrusage). Not a test: pytest does not collect it.
"""
from __future__ import annotations

import argparse
import io
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from pypdf import PdfReader

from portal import create_app, documents
from portal.extensions import db
from portal.models import Role
from portal.reference_data import load_reference_data
from tests import factories

CASES = {
    "typical (1 municipality, 3 priority areas)": dict(municipality_numbers=(factories.VOSS,), priority_area_count=3),
    "large (3 municipalities, 20 priority areas, long text)": dict(
        municipality_numbers=(factories.VOSS, factories.ULVIK, "4619"), priority_area_count=20, long_text=True
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="renders per agreement (default 5)")
    runs = parser.parse_args().runs

    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"DATABASE_URL": f"sqlite:///{Path(folder) / 'bench.sqlite3'}", "SECRET_KEY": "bench"})
        with app.app_context():
            db.create_all()
            load_reference_data()
            organisation = factories.organisation_for_municipality(factories.VOSS)
            author = factories.user("bench@voss.example.org", Role.COORDINATOR, organisation, None, "Benk Benken")
            documents.agreement_pdf(factories.complete_agreement(author), draft=True)  # warm up fonts and templates

            print(f"{'agreement':<56} {'pages':>5} {'size':>8} {'median':>9} {'min':>8} {'max':>8} {'py peak':>9}")
            for name, options in CASES.items():
                agreement = factories.complete_agreement(author, **options)
                times = []
                for _ in range(runs):
                    start = time.perf_counter()
                    pdf = documents.agreement_pdf(agreement, draft=False)
                    times.append(time.perf_counter() - start)
                tracemalloc.start()
                documents.agreement_pdf(agreement, draft=False)
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                pages = len(PdfReader(io.BytesIO(pdf)).pages)
                print(
                    f"{name:<56} {pages:>5} {len(pdf) / 1024:>6.0f}kB {statistics.median(times) * 1000:>7.0f}ms"
                    f" {min(times) * 1000:>6.0f}ms {max(times) * 1000:>6.0f}ms {peak / 2**20:>7.1f}MB"
                )
            db.session.rollback()

    maxrss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    print(f"peak resident memory of the process: {maxrss_kb / 1024:.0f} MB ({runs} runs each, Python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
