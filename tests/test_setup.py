"""Setting up: the schema comes from the migrations, settings come from the environment and instance/."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask

from portal.config import load_settings
from portal.extensions import db


def test_the_migrations_build_exactly_the_schema_the_models_describe(app):
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert differences == []


# Run in a fresh interpreter: in this one the mappers were configured long ago by earlier tests.
MODEL_ATTRIBUTES_BEFORE_AND_AFTER_CONFIGURING = """
import json
from sqlalchemy.orm import configure_mappers
from portal import create_app
from portal.extensions import db

create_app()
mappers = db.Model.registry.mappers
before = {m.class_.__name__: set(dir(m.class_)) for m in mappers}
configure_mappers()
print(json.dumps({m.class_.__name__: sorted(set(dir(m.class_)) - before[m.class_.__name__]) for m in mappers}))
"""


def test_every_model_attribute_exists_before_the_mappers_are_configured(tmp_path):
    """A ``backref`` adds its attribute to the other class only when the mappers are configured (first
    query or instance), so a fresh process that builds a query from it first fails (issue 14)."""
    environment = {**os.environ, "INSTANCE_PATH": str(tmp_path / "instance")}
    probe = subprocess.run([sys.executable, "-c", MODEL_ATTRIBUTES_BEFORE_AND_AFTER_CONFIGURING],
                           env=environment, capture_output=True, text=True, check=True)
    added = json.loads(probe.stdout)
    assert "Agreement" in added and "SignatureSlot" in added  # the probe saw the models
    assert {name: attributes for name, attributes in added.items() if attributes} == {}


def test_every_relationship_is_declared_on_both_of_its_classes(app):
    for mapper in db.Model.registry.mappers:
        for relationship in mapper.relationships:
            assert relationship.back_populates, f"{relationship} names no other side"
            other = relationship.mapper.relationships[relationship.back_populates]
            assert (other.mapper, other.back_populates) == (mapper, relationship.key), f"{relationship} and {other} disagree"


def _app_in(tmp_path) -> Flask:  # type: ignore[no-untyped-def]
    return Flask("probe", instance_path=str(tmp_path / "instance"), instance_relative_config=True)


def test_a_secret_key_is_generated_once_and_kept_private(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first, second = _app_in(tmp_path), _app_in(tmp_path)
    load_settings(first)
    load_settings(second)
    key_file = tmp_path / "instance" / "secret_key"
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"] == key_file.read_text().strip()
    assert len(first.config["SECRET_KEY"]) >= 48
    assert key_file.stat().st_mode & 0o077 == 0


def test_the_embedded_default_is_sqlite_in_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    probe = _app_in(tmp_path)
    load_settings(probe)
    assert probe.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'instance' / 'portal.sqlite3'}"
    assert probe.config["SESSION_COOKIE_SECURE"] is True


def test_environment_and_instance_config_override_the_defaults(tmp_path, monkeypatch):
    (tmp_path / "instance").mkdir()
    (tmp_path / "instance" / "config.py").write_text("MAIL_SERVER = 'smtp.kommune.example'\nLOCKOUT_THRESHOLD = 3\n")
    monkeypatch.setenv("DATABASE_URL", "postgresql://portal@db.example/politirad")
    monkeypatch.setenv("LOCKOUT_THRESHOLD", "7")
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "false")
    probe = _app_in(tmp_path)
    load_settings(probe)
    assert probe.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://portal@db.example/politirad"
    assert probe.config["MAIL_SERVER"] == "smtp.kommune.example"
    assert probe.config["LOCKOUT_THRESHOLD"] == 7  # the environment wins over instance/config.py
    assert probe.config["SESSION_COOKIE_SECURE"] is False


def test_pages_carry_security_headers(client):
    response = client.get("/sign-in")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_font_is_served_but_nothing_else_from_node_modules(client):
    css = client.get("/vendor/inter/latin-400.css")
    assert css.status_code == 200 and b"inter-latin-400-normal.woff2" in css.data
    assert client.get("/vendor/inter/files/inter-latin-400-normal.woff2").status_code == 200
    assert client.get("/vendor/inter/../../package.json").status_code == 404
    assert client.get("/vendor/inter/LICENSE").status_code == 404
    assert client.get("/vendor/package.json").status_code == 404


def test_the_test_app_writes_its_runtime_files_outside_the_repository(app):
    """The suite's app (in-process jobs included: Fiks Arkiv deliveries, bulk ZIPs, mail) never writes into the
    repository's instance/ folder, which belongs to the developer's own portal."""
    from portal import PROJECT_ROOT

    written = {"instance": app.instance_path, **{name: app.config[name] for name in
                                                 ("MAIL_OUTBOX", "ARCHIVE_OUTBOX", "JOB_FILES", "PKI_FOLDER")}}
    inside = {name: path for name, path in written.items() if Path(path).resolve().is_relative_to(PROJECT_ROOT)}
    assert inside == {}
