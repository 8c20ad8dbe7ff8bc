"""Fully signed agreements for the benchmarks: a temporary app (SQLite, demo PKI) with the test suite's
people, and an agreement for 1 and for 3 municipalities finalised, signed by every signatory and closed
at B-LTA through the portal's own services."""
from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask

from portal import create_app
from portal.auth.passwords import hash_password
from portal.extensions import db
from portal.models import Agreement, Role
from portal.reference_data import load_reference_data
from tests import factories
from tests.conftest import PASSWORD, People

MUNICIPALITIES = {1: (factories.VOSS,), 3: (factories.VOSS, factories.ULVIK, "4619")}


@contextmanager
def bench_app(**settings: object) -> Iterator[Flask]:
    """An app on a fresh SQLite database with the reference data, in an app context; ``settings`` added."""
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"DATABASE_URL": f"sqlite:///{Path(folder) / 'bench.sqlite3'}", "SECRET_KEY": "bench",
                          "PKI_FOLDER": str(Path(folder) / "pki"), "PUBLIC_BASE_URL": "https://portal.test",
                          "MAIL_SERVER": "", "MAIL_OUTBOX": str(Path(folder) / "outbox"), **settings},
                         instance_path=folder)
        with app.app_context():
            db.create_all()
            load_reference_data()
            yield app


def people() -> People:
    """The test suite's people (coordinator, mayor, station chief... of Voss and Vest politidistrikt)."""
    password_hash = hash_password(PASSWORD)
    voss = factories.organisation_for_municipality(factories.VOSS)
    bergen = factories.organisation_for_municipality(factories.BERGEN)
    vest = factories.organisation_for_police_district()
    made = People(
        coordinator=factories.user("koordinator@voss.example.org", Role.COORDINATOR, voss, password_hash, "Kari Koordinator"),
        mayor=factories.user("ordforar@voss.example.org", Role.SIGNATORY, voss, password_hash, "Ola Ordførar", "Ordførar"),
        archivist=factories.user("arkivar@voss.example.org", Role.ARCHIVIST, voss, password_hash, "Anne Arkivar"),
        administrator=factories.user("admin@voss.example.org", Role.ADMINISTRATOR, voss, password_hash, "Adam Admin"),
        station_chief=factories.user("stasjonssjef@politiet.example.org", Role.SIGNATORY, vest, password_hash, "Siv Stasjonssjef", "Politistasjonssjef"),
        police_coordinator=factories.user("koordinator@politiet.example.org", Role.COORDINATOR, vest, password_hash, "Per Politikoordinator"),
        other_coordinator=factories.user("koordinator@bergen.example.org", Role.COORDINATOR, bergen, password_hash, "Berit Bergen"),
    )
    db.session.commit()
    return made


def signed_agreements(who: People) -> dict[int, Agreement]:
    """A fully signed agreement (B-LTA) per number of municipalities in :data:`MUNICIPALITIES`."""
    return {count: factories.signed_agreement(who, numbers) for count, numbers in MUNICIPALITIES.items()}


if __name__ == "__main__":  # write the PDFs for a look or a profile: python -m tests.bench.signed_documents DIR
    import sys

    target = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    with bench_app():
        for count, agreement in signed_agreements(people()).items():
            (target / f"signed-{count}.pdf").write_bytes(agreement.document.signed_pdf)
            print(target / f"signed-{count}.pdf")


def ratio_rows(count: int, results: dict[str, float], baseline: str) -> list[tuple[str, float, float]]:
    """The rows of one agreement size: each median (ms) with its ratio to the ``baseline`` row's."""
    return [(f"{count} municipalit{'y' if count == 1 else 'ies'}: {name}", value, value / results[baseline])
            for name, value in results.items()]


def print_ratio_table(title: str, rows: list[tuple[str, float, float]]) -> None:
    """The rows as a table: name, median and ratio, under ``title``."""
    width = max(len(name) for name, _, _ in rows)
    print(f"{title:<{width}}  {'median':>10}  {'/ plain':>8}")
    for name, value, ratio in rows:
        print(f"{name:<{width}}  {value:7.1f} ms  {ratio:8.2f}")
