"""The test harness: one app and database per run (SQLite, or PostgreSQL when TEST_DATABASE_URL is set),
emptied between tests; people in every role; and a client that signs in and sends forms with CSRF tokens."""
from __future__ import annotations

import contextlib
import email
import email.policy
import os
import re
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text

from portal import create_app
from portal.extensions import db
from portal.models import County, Municipality, PoliceDistrict, Role, User
from portal.reference_data import load_reference_data

from . import factories

PASSWORD = "riktig hest batteri stift"
REFERENCE_TABLES = {County.__tablename__, Municipality.__tablename__, PoliceDistrict.__tablename__}


def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory):
    # Every runtime file (mail and archive outboxes, job files, the PKI) in a folder of the run's own, never
    # in the repository's instance/: the instance path moves the defaults that are not set here.
    instance = tmp_path_factory.mktemp("instance")
    outbox = tmp_path_factory.mktemp("outbox")
    app = create_app(
        {
            "TESTING": True,
            # The suite verifies many files from one address; tests/test_verify_limits.py sets its own limit.
            "VERIFY_RATE_LIMIT": "1000 per minute",
            "SECRET_KEY": "test-secret-key-not-for-production",
            "DATABASE_URL": database_url(tmp_path_factory),
            "MAIL_SERVER": "",
            "MAIL_OUTBOX": str(outbox),
            "PUBLIC_BASE_URL": "https://portal.test",
            "PKI_FOLDER": str(tmp_path_factory.mktemp("pki")),
        },
        instance_path=instance,
    )
    with app.app_context():
        from flask_migrate import upgrade

        # Start from nothing, then build the schema the way production does: through the migrations.
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()
        load_reference_data()
    yield app


@pytest.fixture(autouse=True)
def _app_context_and_clean_database(app):
    with app.app_context():
        yield
        db.session.rollback()
        db.session.remove()
        with db.engine.begin() as connection:
            for table in reversed(db.metadata.sorted_tables):
                if table.name not in REFERENCE_TABLES:
                    connection.execute(table.delete())


@pytest.fixture(scope="session")
def password_hash() -> str:
    """The people's password as an argon2id hash at argon2's lowest cost. The portal checks it as it checks
    any hash (argon2 reads the cost from the hash itself), in a millisecond instead of 0.2 s of CPU: the
    suite signs in hundreds of times a run. The hashes the portal makes (``hash_password``: new passwords,
    the dummy hash of unknown accounts) keep the portal's cost; tests/test_sign_in.py checks those."""
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)


@dataclass
class People:
    coordinator: User  # Voss kommune
    mayor: User  # Voss kommune, signatory
    archivist: User
    administrator: User  # Voss kommune
    station_chief: User  # Vest politidistrikt, signatory
    police_coordinator: User  # Vest politidistrikt
    other_coordinator: User  # Bergen kommune: must never see Voss's drafts

    def all(self) -> dict[str, User]:
        return dict(vars(self))


@pytest.fixture
def people(password_hash: str) -> People:
    voss = factories.organisation_for_municipality(factories.VOSS)
    bergen = factories.organisation_for_municipality(factories.BERGEN)
    vest = factories.organisation_for_police_district()
    made = People(
        coordinator=factories.user("koordinator@voss.example.org", Role.COORDINATOR, voss, password_hash, "Kari Koordinator", "SLT-koordinator"),
        mayor=factories.user("ordforar@voss.example.org", Role.SIGNATORY, voss, password_hash, "Ola Ordførar", "Ordførar"),
        archivist=factories.user("arkivar@voss.example.org", Role.ARCHIVIST, voss, password_hash, "Anne Arkivar", "Arkivar"),
        administrator=factories.user("admin@voss.example.org", Role.ADMINISTRATOR, voss, password_hash, "Adam Admin", "Systemansvarleg"),
        station_chief=factories.user("stasjonssjef@politiet.example.org", Role.SIGNATORY, vest, password_hash, "Siv Stasjonssjef", "Politistasjonssjef"),
        police_coordinator=factories.user("koordinator@politiet.example.org", Role.COORDINATOR, vest, password_hash, "Per Politikoordinator", "Politikontakt"),
        other_coordinator=factories.user("koordinator@bergen.example.org", Role.COORDINATOR, bergen, password_hash, "Berit Bergen", "SLT-koordinator"),
    )
    db.session.commit()
    return made


CSRF_PATTERN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


DRAFT_VERSION_PATTERN = re.compile(r'name="draft_version" value="(\d+)"')


def csrf_token_from(html: str) -> str:
    match = CSRF_PATTERN.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1) or match.group(2)


class Browserless:
    """The Flask test client, with the few steps every test repeats."""

    def __init__(self, client):  # type: ignore[no-untyped-def]
        self.client = client

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.client, name)

    def open(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        # Each request gets an app context of its own, as in production: its own `g` and database
        # session, not the test's.
        with self.client.application.app_context():
            return self.client.open(*args, **kwargs)

    def get(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return self.open(*args, method="GET", **kwargs)

    def post(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return self.open(*args, method="POST", **kwargs)

    def csrf_token(self, url: str = "/sign-in") -> str:
        return csrf_token_from(self.get(url).get_data(as_text=True))

    def submit(self, url: str, data: dict[str, object] | None = None, *, token_from: str | None = None, **kwargs):  # type: ignore[no-untyped-def]
        """POST ``data`` to ``url`` with a valid CSRF token, taken from the page at ``token_from`` (default: ``url``),
        and the draft version that page was shown at, where it carries one and ``data`` names none."""
        payload = dict(data or {})
        page = self.get(token_from or url).get_data(as_text=True)
        payload["csrf_token"] = csrf_token_from(page)
        shown = DRAFT_VERSION_PATTERN.search(page)
        if shown and "draft_version" not in payload:
            payload["draft_version"] = shown.group(1)
        return self.post(url, data=payload, **kwargs)

    def choose_language(self, language: str):  # type: ignore[no-untyped-def]
        return self.submit("/language", {"language": language, "next": "/"}, token_from="/accessibility")

    def sign_in(self, user: User, password: str = PASSWORD):  # type: ignore[no-untyped-def]
        self.client.delete_cookie("session")  # start as someone new, whoever was signed in before
        response = self.submit("/sign-in", {"email": user.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return response


@pytest.fixture
def client(app) -> Browserless:
    return Browserless(app.test_client())


@pytest.fixture
def outbox(app) -> Path:
    """The folder the embedded mail service writes to; emptied before each test."""
    folder = Path(app.config["MAIL_OUTBOX"])
    for message in folder.glob("*.eml"):
        message.unlink()
    return folder


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class CollectingHandler:
    """An aiosmtpd handler that keeps every message it is sent."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(app):
    """A real SMTP server on loopback; the portal sends to it for the length of the test."""
    from aiosmtpd.controller import Controller

    handler = CollectingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    saved = {key: app.config[key] for key in ("MAIL_SERVER", "MAIL_PORT")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    try:
        yield handler
    finally:
        app.config.update(saved)
        controller.stop()


def link_in(message: email.message.EmailMessage) -> str:
    """The path of the portal link in a message's text."""
    body = message.get_content()
    match = re.search(r"https://portal\.test(/\S+)", body)
    assert match, body
    return match.group(1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last. Once Playwright's sync API has started it keeps an event loop running in this
    thread, and pyHanko's synchronous calls (``asyncio.run``) cannot run inside one."""
    items.sort(key=lambda item: item.nodeid.startswith("tests/browser/"))


from .oidc.fixtures import oidc, oidc_provider  # noqa: E402,F401  (the loopback OpenID provider)


@contextlib.contextmanager
def signing_settings(app, **settings: object):  # type: ignore[no-untyped-def]
    """The app's signing configuration with ``settings`` for the length of the block (the cached setup is
    rebuilt before and after)."""
    from portal.agreements import signing

    missing = object()
    saved = {name: app.config.get(name, missing) for name in settings}
    app.config.update(settings)
    app.extensions.pop(signing._SETUP_KEY, None)
    try:
        yield app
    finally:
        for name, value in saved.items():
            if value is missing:
                app.config.pop(name, None)
            else:
                app.config[name] = value
        app.extensions.pop(signing._SETUP_KEY, None)


def at_the_same_moment(app, function, runs: int = 2, timeout: float = 120) -> list:  # type: ignore[no-untyped-def]
    """Call ``function()`` in ``runs`` threads at once, each in an app context of its own (as two servers
    would run a command); returns what each call returned, once all have finished without an error."""
    start = threading.Barrier(runs)
    results: list = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with app.app_context():
                start.wait()
                results.append(function())
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert errors == []
    assert len(results) == runs
    return results
