"""Helpers shared by the signing tests and the benchmark: a demo PKI served over real HTTP on loopback,
and a one-page PDF/A-2b agreement with the signatories' empty signature fields."""
from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.fields import SigFieldSpec, append_signature_field
from werkzeug.serving import BaseWSGIServer, make_server

from portal.signing.pki import DemoPki
from portal.signing.services import create_service_app
from portal.signing.timestamps import UrlTimeStamper

MAYOR_FIELDS = ("Signatur_ordforar_4621", "Signatur_ordforar_4601")
CHIEF_FIELD = "Signatur_stasjonssjef"
ALL_FIELDS = (*MAYOR_FIELDS, CHIEF_FIELD)

AGREEMENT_HTML = """<!doctype html><html lang="nn"><head><meta charset="utf-8"><title>Politirådsavtale</title>
<style>@page { size: A4; margin: 2cm } body { font-family: 'DejaVu Sans'; font-size: 11pt }</style></head>
<body><h1>Samarbeidsavtale om politiråd</h1><p>Voss herad, Bergen kommune og Vest politidistrikt.</p>
<p>Partane skal samarbeide om førebygging av kriminalitet.</p></body></html>"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class ServedPki:
    """A demo PKI whose TSA and CRLs answer over HTTP on loopback."""

    pki: DemoPki
    server: BaseWSGIServer
    thread: threading.Thread

    def timestamper(self) -> UrlTimeStamper:
        return UrlTimeStamper(self.pki.tsa_url)

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


def serve_pki(folder: Path) -> ServedPki:
    port = free_port()
    pki = DemoPki(folder, f"http://127.0.0.1:{port}")
    server = make_server("127.0.0.1", port, create_service_app(pki), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="pki-services", daemon=True)
    thread.start()
    return ServedPki(pki, server, thread)


def agreement_pdf(field_names: tuple[str, ...] = ALL_FIELDS) -> bytes:
    """A one-page PDF/A-2b document (WeasyPrint) with an empty signature field per signatory."""
    from weasyprint import HTML

    rendered = HTML(string=AGREEMENT_HTML).write_pdf(pdf_variant="pdf/a-2b")
    writer = IncrementalPdfFileWriter(BytesIO(rendered))
    for index, name in enumerate(field_names):
        x = 57 + (index % 3) * 165
        append_signature_field(writer, SigFieldSpec(name, on_page=0, box=(x, 80, x + 155, 150)))
    out = BytesIO()
    writer.write(out)
    return out.getvalue()
