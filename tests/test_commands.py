"""Every command of the README, run as its user runs it: the venv's ``flask`` in a process of its own, from
the project folder, on a fresh instance folder and database, in the README's order.

In-process tests share one interpreter whose mappers, caches and imports earlier tests have long since
warmed up; that hid a crash of ``archive export`` that its first real run hit (issue 14). Here nothing is
shared: each command starts cold, and the tests look at what it leaves behind (files, e-mails, output).

The portal is set up once for the module (``db upgrade``, ``reference-data``, ``demo``: the demo signs
agreements, which takes a while); each test runs its command against it, independent of the others'
order. A new command gets a test that calls ``portal.flask(...)``.
"""
from __future__ import annotations

import email
import email.policy
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, build_opener
from xml.etree import ElementTree

import pytest
from sqlalchemy.engine import make_url

from portal import PROJECT_ROOT, clock
from portal.archive.package import XML_NAMESPACE
from portal.cli import DEMO_PASSWORD, DEMO_PEOPLE
from portal.config import ENVIRONMENT_SETTINGS

from .conftest import csrf_token_from, free_port

FLASK = Path(sys.executable).parent / "flask"
#: The README's set-up, in its order.
SETUP_COMMANDS = [("db", "upgrade"), ("reference-data",), ("demo",)]


@dataclass
class Portal:
    """A portal set up by the README's commands in a folder of its own."""

    instance: Path
    environment: dict[str, str]
    setup: dict[str, subprocess.CompletedProcess[str]]

    def flask(self, *arguments: str, **settings: str) -> subprocess.CompletedProcess[str]:
        """``flask --app portal <arguments>`` in a new process, from the project folder as the README says,
        with ``settings`` as environment variables."""
        return subprocess.run([str(FLASK), "--app", "portal", *arguments], cwd=PROJECT_ROOT,
                              env={**self.environment, **settings}, capture_output=True, text=True, timeout=600)

    def outbox(self) -> dict[str, email.message.EmailMessage]:
        """The e-mails written to the instance's outbox (no mail server is configured), by file name."""
        return {
            path.name: email.message_from_bytes(path.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
            for path in sorted((self.instance / "outbox").glob("*.eml"))
        }


def succeeded(result: subprocess.CompletedProcess[str]) -> str:
    """The command's output, once it has exited with 0 (else its error output is the failure message)."""
    assert result.returncode == 0, f"{' '.join(result.args[1:])} exited with {result.returncode}:\n{result.stderr[-4000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str | None]:
    """None on SQLite (the embedded default, in the instance folder); on PostgreSQL (TEST_DATABASE_URL) a
    schema of its own in the test database, so the commands start from nothing and the suite's tables
    are left alone."""
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        yield None
        return
    import psycopg
    from psycopg import sql

    name = f"commands_{os.getpid()}"
    schema = sql.Identifier(name)
    libpq_url = make_url(server).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(schema))
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(schema))
    yield make_url(server).update_query_dict({"options": f"-csearch_path={name}"}).render_as_string(hide_password=False)
    with psycopg.connect(libpq_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(schema))


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory, database_url: str | None) -> Portal:
    instance = tmp_path_factory.mktemp("commands") / "instance"
    # Only what the README's user would have: none of the portal's settings from the caller's environment.
    environment = {name: value for name, value in os.environ.items()
                   if name not in ENVIRONMENT_SETTINGS and not name.startswith("FLASK_")}
    environment["INSTANCE_PATH"] = str(instance)
    if database_url is not None:
        environment["DATABASE_URL"] = database_url
    made = Portal(instance, environment, {})
    for command in SETUP_COMMANDS:
        made.setup[" ".join(command)] = result = made.flask(*command)
        succeeded(result)
    return made


@pytest.fixture(autouse=True)
def _app_context_and_clean_database() -> Iterator[None]:
    """Replaces the suite's in-process app and clean-up: here only the commands touch the database."""
    yield


def test_db_upgrade_reference_data_and_demo_set_up_a_fresh_portal(portal: Portal, database_url: str | None) -> None:
    assert "Running upgrade  -> 0001" in portal.setup["db upgrade"].stderr  # Alembic logs to stderr
    # The database is the one configured: SQLite in the instance folder by default, else DATABASE_URL's.
    assert (portal.instance / "portal.sqlite3").exists() is (database_url is None)
    assert portal.setup["reference-data"].stdout.split(", ") == ["15 counties", "357 municipalities", "12 police districts\n"]

    demo = portal.setup["demo"].stdout
    assert DEMO_PASSWORD in demo
    assert all(person[0] in demo for person in DEMO_PEOPLE)
    # Everything it made at run time is in the instance folder: the secret key and the demo PKI that signed.
    assert len((portal.instance / "secret_key").read_text().strip()) >= 48
    assert (portal.instance / "pki" / "root-ca.cert.pem").read_text().startswith("-----BEGIN CERTIFICATE-----")


def test_renewals_marks_due_and_expired_agreements_and_sends_each_reminder(portal: Portal) -> None:
    """The demo's Voss agreement has been due for three weeks; Bergen's renewal came into force today."""
    today = clock.today()
    before = set(portal.outbox())
    assert succeeded(portal.flask("renewals", "--today", today.isoformat())).splitlines() == [
        f"0 agreement(s) marked for renewal on {today.isoformat()}.",  # the demo marked Voss already
        "0 agreement(s) marked as expired, a year after their renewal date.",
        "1 renewal reminder(s) sent.",
    ]
    reminders = [message for name, message in portal.outbox().items() if name not in before]
    assert len(reminders) == 1
    assert "ordforar@voss.demo" in reminders[0]["To"] and "Voss" in reminders[0]["Subject"]

    # A year and a month on, Voss was never renewed (expired) and Bergen's renewal is due in its turn.
    later = today + timedelta(days=400)
    before = set(portal.outbox())
    assert succeeded(portal.flask("renewals", "--today", later.isoformat())).splitlines() == [
        f"1 agreement(s) marked for renewal on {later.isoformat()}.",
        "1 agreement(s) marked as expired, a year after their renewal date.",
        "1 renewal reminder(s) sent.",
    ]
    reminders = [message for name, message in portal.outbox().items() if name not in before]
    assert len(reminders) == 1
    assert "ordforer@bergen.demo" in reminders[0]["To"] and "Bergen" in reminders[0]["Subject"]


def _package(files: dict[str, bytes]) -> dict:  # type: ignore[type-arg]
    """The package's metadata, once every file it lists is there with that SHA-256 and nothing else is."""
    metadata = json.loads(files["metadata.json"])
    listed = {entry["name"]: entry["sha256"] for entry in metadata["files"]}
    assert set(files) == set(listed) | {"metadata.json", "metadata.xml"}
    assert {name: hashlib.sha256(files[name]).hexdigest() for name in listed} == listed
    stem = f"{metadata['agreement']['reference']}-v{metadata['agreement']['version']}"
    signed = files[f"{stem}-signert.pdf"]
    assert signed.startswith(b"%PDF-") and hashlib.sha256(signed).hexdigest() == metadata["document"]["signed_sha256"]
    assert json.loads(files["validation-report.json"])["verdict"] == "valid"
    xml = ElementTree.fromstring(files["metadata.xml"])
    assert xml.tag == f"{{{XML_NAMESPACE}}}agreement-package"
    assert xml.findtext(f"{{{XML_NAMESPACE}}}document/{{{XML_NAMESPACE}}}signed-sha256") == metadata["document"]["signed_sha256"]
    return metadata


def _who(metadata: dict) -> tuple[str, int]:  # type: ignore[type-arg]
    return ", ".join(party["name"] for party in metadata["parties"]), metadata["agreement"]["version"]


def test_archive_export_writes_a_package_per_signed_agreement(portal: Portal, tmp_path: Path) -> None:
    out = tmp_path / "export"
    printed = succeeded(portal.flask("archive", "export", "--out", str(out))).splitlines()
    assert printed[-1] == f"3 archive package(s) written to {out}."
    written = sorted(out.iterdir())
    assert [str(path) for path in written] == sorted(printed[:-1])

    packages = {}
    for path in written:
        with zipfile.ZipFile(path) as archive:
            files = {name: archive.read(name) for name in archive.namelist()}
        metadata = _package(files)
        agreement = metadata["agreement"]
        assert path.name == f"{agreement['reference']}-v{agreement['version']}-arkiv.zip"
        packages[_who(metadata)] = files
    # The demo's signed agreements: Voss's, and Bergen's of last year with its signed renewal.
    assert set(packages) == {("Voss", 1), ("Bergen", 1), ("Bergen", 2)}
    # Last year's Bergen agreement was evaluated when it was renewed: its package holds the evaluation.
    assert any(name.endswith("-evaluering.pdf") for name in packages[("Bergen", 1)])
    assert not any(name.endswith("-evaluering.pdf") for name in packages[("Voss", 1)])


def test_archive_export_since_a_day_takes_only_what_came_into_force_from_then_and_unpacked_writes_folders(
    portal: Portal, tmp_path: Path,
) -> None:
    """Only Bergen's renewal came into force this week (the demo dates the others back a year)."""
    since = clock.today() - timedelta(days=7)
    out = tmp_path / "export"
    printed = succeeded(portal.flask("archive", "export", "--out", str(out), "--since", since.isoformat(), "--unpacked"))
    [folder] = out.iterdir()
    assert folder.is_dir() and printed.splitlines() == [str(folder), f"1 archive package(s) written to {out}."]
    metadata = _package({path.name: path.read_bytes() for path in folder.iterdir()})
    assert _who(metadata) == ("Bergen", 2) and metadata["agreement"]["renewal_of_id"] is not None
    assert date.fromisoformat(metadata["agreement"]["active_from"]) >= since
    assert folder.name == f"{metadata['agreement']['reference']}-v2"


def test_archive_export_noark5_writes_one_extraction_of_every_demo_agreement_that_validates(portal: Portal, tmp_path: Path) -> None:
    """The README's Noark 5 command: Arkivverket's schemas accept it, each file is there with its checksum."""
    from .noark5_checks import XMLNS, check_extraction, read_folder

    out = tmp_path / "uttrekk"
    printed = succeeded(portal.flask("archive", "export", "--format", "noark5", "--out", str(out)))
    files = read_folder(out)
    assert printed.strip() == f"Noark 5 extraction of 2 agreement reference(s) ({len(files)} files) written to {out}."
    structure = check_extraction(files)
    folders = structure.findall(".//n5:mappe", XMLNS)
    posts = {folder.findtext("n5:tittel", namespaces=XMLNS): [p.findtext("n5:virksomhetsspesifikkeMetadata/{*}status", namespaces=XMLNS)
                                                             for p in folder.findall("n5:registrering", XMLNS)] for folder in folders}
    # Voss's agreement, and Bergen's of last year superseded by its signed renewal, in one case file (their
    # states depend on how far the `renewals` test before this one has moved them on).
    assert set(posts) == {"Politirådsavtale: Voss og Vest politidistrikt", "Politirådsavtale: Bergen og Vest politidistrikt"}
    assert posts["Politirådsavtale: Voss og Vest politidistrikt"] in (["renewal_due"], ["expired"])
    superseded, renewal = posts["Politirådsavtale: Bergen og Vest politidistrikt"]
    assert superseded == "superseded" and renewal in ("active", "renewal_due")


def test_demo_delivered_a_valid_fiks_arkiv_message_for_each_municipality_of_each_fully_signed_agreement(portal: Portal) -> None:
    """`flask demo` delivers to instance/arkiv-utboks/; `flask archive deliver` then finds nothing left to send."""
    from lxml import etree

    from portal.archive.fiks_arkiv import MESSAGE_TYPE, NAMESPACE
    from portal.archive.noark5 import schema_folder

    assert "Fiks Arkiv message(s) for the signed demo agreements delivered" in portal.setup["demo"].stdout
    schema = etree.XMLSchema(etree.parse(str(schema_folder() / "fiks-arkiv-v1" / f"{MESSAGE_TYPE}.xsd")))
    titles = []
    for folder in sorted((portal.instance / "arkiv-utboks").iterdir()):
        tree = etree.fromstring((folder / "arkivmelding.xml").read_bytes())
        assert schema.validate(tree), [str(error) for error in schema.error_log]
        name = tree.findtext(".//{*}dokumentobjekt/{*}referanseDokumentfil")
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == tree.findtext(".//{*}dokumentobjekt/{*}sjekksum")
        titles.append(tree.findtext(f"{{{NAMESPACE}}}registrering/{{{NAMESPACE}}}tittel"))
    # Voss's and Bergen's agreements when signed, Bergen's of last year again when its renewal superseded it.
    assert sorted(title.split(": ")[1] for title in titles) == [
        "Bergen og Vest politidistrikt", "Bergen og Vest politidistrikt", "Bergen og Vest politidistrikt (erstattet av ny versjon)",
        "Voss og Vest politidistrikt"]
    assert succeeded(portal.flask("archive", "deliver")).strip() == "0 of 0 archive message(s) delivered."


def test_archive_renew_timestamps_renews_what_is_due_once_and_keeps_the_old_files(portal: Portal, tmp_path: Path) -> None:
    """The demo TSA's certificate is valid for years: nothing is due. Once the demo's sha256 time-stamps are no
    longer accepted, each signed agreement gets a new one (sha512), once; the old file is kept beside it."""
    from portal.archive.timestamp_renewal import last_timestamp

    assert succeeded(portal.flask("archive", "renew-timestamps")).strip() == "0 archival time-stamp(s) renewed; 0 failed."
    printed = succeeded(portal.flask("archive", "renew-timestamps", ACCEPTED_TIMESTAMP_DIGESTS="sha512")).splitlines()
    assert printed[-1] == "3 archival time-stamp(s) renewed; 0 failed."
    assert all("renewed (the last document time-stamp uses sha256, not accepted)" in line for line in printed[:-1]), printed
    again = portal.flask("archive", "renew-timestamps", ACCEPTED_TIMESTAMP_DIGESTS="sha512")
    assert succeeded(again).strip() == "0 archival time-stamp(s) renewed; 0 failed."

    out = tmp_path / "export"
    succeeded(portal.flask("archive", "export", "--out", str(out), "--unpacked"))
    for folder in out.iterdir():
        metadata = _package({path.name: path.read_bytes() for path in folder.iterdir()})
        [previous] = metadata["document"]["previous_renditions"]
        assert previous["reason"] == "digest_not_accepted" and previous["sha256"] != metadata["document"]["signed_sha256"]
        signed = (folder / f"{folder.name}-signert.pdf").read_bytes()
        assert last_timestamp(signed).digests == {"sha512"}


def test_the_portal_served_as_in_production_shows_the_archivist_the_signed_agreements(portal: Portal, tmp_path: Path) -> None:
    """``gunicorn wsgi:app`` (the README's production line) on the demo database: its first requests come
    to a cold process, as a user's do."""
    port = free_port()
    # Python's cookie jar sends a Secure cookie over https only (browsers allow http://127.0.0.1 too).
    environment = {**portal.environment, "SESSION_COOKIE_SECURE": "false"}
    log = tmp_path / "gunicorn.log"
    with log.open("w") as log_file:
        server = subprocess.Popen([str(FLASK.parent / "gunicorn"), "--bind", f"127.0.0.1:{port}", "wsgi:app"],
                                  cwd=PROJECT_ROOT, env=environment, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        _wait_for(port, server, log)
        base, browser = f"http://127.0.0.1:{port}", build_opener(HTTPCookieProcessor(CookieJar()))
        token = csrf_token_from(browser.open(f"{base}/sign-in").read().decode())
        form = {"email": "arkivar@voss.demo", "password": DEMO_PASSWORD, "csrf_token": token}
        signed_in = browser.open(f"{base}/sign-in", data=urlencode(form).encode())
        assert signed_in.status == 200 and signed_in.url != f"{base}/sign-in", log.read_text()[-3000:]

        archive = browser.open(f"{base}/archive/").read().decode()
        ids = sorted(set(re.findall(r'href="/archive/(\d+)"', archive)))
        assert len(ids) == 3  # Voss's agreement, Bergen's and its renewal
        pdf = browser.open(f"{base}/archive/{ids[0]}/signed.pdf").read()
        assert pdf.startswith(b"%PDF-")
        page = browser.open(f"{base}/archive/{ids[0]}").read().decode()
        shown = re.search(r'<code id="signed-sha256">(.*?)</code>', page)
        assert shown and shown.group(1).replace("<wbr>", "") == hashlib.sha256(pdf).hexdigest()
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_for(port: int, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, f"gunicorn stopped:\n{log.read_text()[-3000:]}"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"gunicorn did not answer on port {port}:\n{log.read_text()[-3000:]}")
