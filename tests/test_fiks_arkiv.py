"""Fiks Arkiv messages (issue 12): when an agreement is fully signed and when it is superseded, one
``arkivmelding.opprett`` per municipality party, valid against KS's schema, delivered once through the chosen
channel, its state on the archive page."""
from __future__ import annotations

import hashlib
import http.server
import threading
from datetime import timedelta
from pathlib import Path

from lxml import etree
from sqlalchemy import select

from portal.archive import fiks_arkiv
from portal.archive.noark5 import schema_folder
from portal.extensions import db
from portal.models import AgreementStatus, ArchiveMessage

from . import factories

BERGEN = "4601"


def _valid(xml: bytes) -> etree._Element:
    schema = etree.XMLSchema(etree.parse(str(schema_folder() / "fiks-arkiv-v1" / f"{fiks_arkiv.MESSAGE_TYPE}.xsd")))
    tree = etree.fromstring(xml)
    assert schema.validate(tree), [str(error) for error in schema.error_log]
    return tree


def test_a_fully_signed_agreement_sends_each_municipality_one_valid_message_with_its_pdf(app, client, people, tmp_path):
    app.config.update(ARCHIVE_OUTBOX=str(tmp_path / "utboks"), ARCHIVE_ENDPOINT="")
    agreement = factories.signed_agreement(people, (factories.VOSS, BERGEN))
    messages = db.session.scalars(select(ArchiveMessage).where(ArchiveMessage.agreement_id == agreement.id)).all()
    assert sorted((m.municipality_number, m.event, m.state) for m in messages) == [
        (BERGEN, "signed", "waiting"), (factories.VOSS, "signed", "waiting")]

    client.sign_in(people.archivist)
    client.choose_language("en")
    assert "Waiting" in client.get(f"/archive/{agreement.id}").get_data(as_text=True)

    assert [m.state for m in fiks_arkiv.deliver_due()] == ["delivered", "delivered"]
    for message in messages:
        folder = tmp_path / "utboks" / message.message_id
        tree = _valid((folder / "arkivmelding.xml").read_bytes())
        ns = {"a": fiks_arkiv.NAMESPACE}
        name = tree.findtext(".//a:dokumentobjekt/a:referanseDokumentfil", namespaces=ns)
        pdf = (folder / name).read_bytes()
        assert pdf == agreement.document.signed_pdf
        assert tree.findtext(".//a:dokumentobjekt/a:sjekksum", namespaces=ns) == hashlib.sha256(pdf).hexdigest()
    assert "Delivered" in client.get(f"/archive/{agreement.id}").get_data(as_text=True)

    # Run again, or queue again: nothing new, nothing delivered twice.
    before = sorted(path.name for path in (tmp_path / "utboks").iterdir())
    assert fiks_arkiv.queue_messages(agreement, AgreementStatus.ACTIVE) == []
    assert fiks_arkiv.deliver_due() == []
    assert sorted(path.name for path in (tmp_path / "utboks").iterdir()) == before == sorted(m.message_id for m in messages)


class _Archive(http.server.BaseHTTPRequestHandler):
    """An archive system's endpoint: refuses the first request (503), then records what it receives."""
    received: list[tuple[str, bytes]] = []
    refuse = True

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if _Archive.refuse:
            _Archive.refuse = False
            self.send_response(503)
            self.end_headers()
            return
        _Archive.received.append((self.headers["Idempotency-Key"], body))
        self.send_response(201)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_an_http_endpoint_that_fails_is_retried_with_back_off_and_the_reason_is_shown(app, client, people):
    server = http.server.HTTPServer(("127.0.0.1", 0), _Archive)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        app.config.update(ARCHIVE_ENDPOINT=f"http://127.0.0.1:{server.server_port}/arkiv")
        agreement = factories.signed_agreement(people)
        [first] = fiks_arkiv.deliver_due()
        assert first.state == "failed" and "503" in first.error and first.attempts == 1
        client.sign_in(people.archivist)
        client.choose_language("en")
        assert "Failed, will be retried" in client.get(f"/archive/{agreement.id}").get_data(as_text=True)
        assert fiks_arkiv.deliver_due() == []  # not before its back-off
        [again] = fiks_arkiv.deliver_due(first.next_attempt_at + timedelta(seconds=1))
        assert again.state == "delivered" and again.attempts == 2
        assert [key for key, _ in _Archive.received] == [again.message_id]
    finally:
        server.shutdown()
