"""Helpers shared by the signing tests and the benchmark: a demo PKI served over real HTTP on loopback,
a one-page PDF/A-2b agreement with the signatories' empty signature fields, and SoftHSM2 tokens."""
from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
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


def ocsp_status(url: str, cert: x509.Certificate, issuer: x509.Certificate, *, nonce: bytes | None = None, get: bool = False):  # type: ignore[no-untyped-def]
    """Ask the OCSP responder at ``url`` over HTTP about ``cert`` (RFC 6960: ``POST``, or ``GET`` with the
    request base64- and URL-encoded), with a request built by ``cryptography``; the parsed response."""
    import base64
    import urllib.parse
    import urllib.request

    from cryptography.hazmat.primitives import hashes
    from cryptography.x509 import ocsp

    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1())
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    der = builder.build().public_bytes(serialization.Encoding.DER)
    if get:
        request = urllib.request.Request(f"{url}/{urllib.parse.quote(base64.b64encode(der).decode(), safe='')}")
    else:
        request = urllib.request.Request(url, data=der, headers={"Content-Type": "application/ocsp-request"}, method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        assert (response.status, response.headers["Content-Type"]) == (200, "application/ocsp-response")
        return ocsp.load_der_ocsp_response(response.read())


def dss_ocsp_statuses(pdf: bytes) -> dict[int, str]:
    """The OCSP responses in the document's DSS (ETSI EN 319 142-1 § 5.4.2, ``/OCSPs``): certificate serial
    number → status (``good``, ``revoked``)."""
    from asn1crypto import ocsp
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    store = DocumentSecurityStore.read_dss(PdfFileReader(BytesIO(pdf), strict=False))
    answered = {}
    for reference in store.ocsps:
        response = ocsp.OCSPResponse.load(reference.get_object().data)
        for single in response.basic_ocsp_response["tbs_response_data"]["responses"]:
            answered[single["cert_id"]["serial_number"].native] = single["cert_status"].name
    return answered


def stamped_in_one_update(before: bytes, after: bytes):  # type: ignore[no-untyped-def]
    """The document time-stamp that ``after`` adds to ``before``, asserting that it came as one incremental
    update whose DSS holds the time-stamp authority's certificate (its validation data gathered before
    stamping, so that the stamp covers it)."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    earlier, later = (PdfFileReader(BytesIO(pdf), strict=False) for pdf in (before, after))
    assert later.xrefs.total_revisions == earlier.xrefs.total_revisions + 1
    stamp = later.embedded_timestamp_signatures[-1]
    assert stamp.signed_revision == later.xrefs.total_revisions - 1
    stored_certificates = {stored.get_object().data for stored in DocumentSecurityStore.read_dss(later).certs.values()}
    assert stamp.signer_cert.dump() in stored_certificates
    return stamp


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


# ---------------------------------------------------------------- SoftHSM2 tokens
SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
_softhsm_folder: Path | None = None


def softhsm_available() -> bool:
    return bool(shutil.which("softhsm2-util")) and os.path.exists(SOFTHSM_MODULE)


def _softhsm_tokens() -> Path:
    """One SoftHSM2 token folder for the whole test process (``SOFTHSM2_CONF`` points at it).

    SoftHSM2 reads its configuration and finds its tokens when the library is initialised, once per
    process: every token is made in this one folder and the library is initialised again after each
    (see :func:`softhsm_token`), so tokens made by different tests in any order are all seen.
    """
    global _softhsm_folder
    if _softhsm_folder is None:
        folder = Path(tempfile.mkdtemp(prefix="softhsm-"))
        atexit.register(shutil.rmtree, folder, True)
        (folder / "tokens").mkdir()
        conf = folder / "softhsm2.conf"
        conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
        _softhsm_folder = folder
    os.environ["SOFTHSM2_CONF"] = str(_softhsm_folder / "softhsm2.conf")
    return _softhsm_folder


def softhsm_token(label: str, pin: str, objects: Iterable[tuple[str, object, x509.Certificate | None]] = (), *, so_pin: str = "5678") -> None:
    """A new SoftHSM2 token ``label`` holding, for each ``(object label, private key, certificate or None)``,
    the key and (when given) the certificate under that label; then the PKCS#11 library of this process is
    initialised again so that it sees the new token."""
    import pkcs11
    from pkcs11.util.x509 import decode_x509_certificate

    folder = _softhsm_tokens()
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", label, "--so-pin", so_pin, "--pin", pin],
        check=True, capture_output=True,
    )
    objects = list(objects)
    for number, (object_label, key, _certificate) in enumerate(objects, start=1):
        pem = folder / "key.pem"
        pem.write_bytes(key.private_bytes(  # type: ignore[attr-defined]
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        try:
            subprocess.run(
                ["softhsm2-util", "--import", str(pem), "--token", label, "--label", object_label, "--id", f"{number:02x}", "--pin", pin],
                check=True, capture_output=True,
            )
        finally:
            pem.unlink()
    library = pkcs11.lib(SOFTHSM_MODULE)
    library.reinitialize()
    certificates = [(number, object_label, cert) for number, (object_label, _key, cert) in enumerate(objects, start=1) if cert is not None]
    if certificates:
        with library.get_token(token_label=label).open(user_pin=pin, rw=True) as session:
            for number, object_label, cert in certificates:
                attributes = decode_x509_certificate(cert.public_bytes(serialization.Encoding.DER))
                attributes.update({pkcs11.Attribute.LABEL: object_label, pkcs11.Attribute.ID: bytes([number]),
                                   pkcs11.Attribute.TOKEN: True})
                session.create_object(attributes)


def page_changed_after_signing(pdf: bytes) -> bytes:
    """``pdf`` with one more incremental update that adds text to its first page: a change no signature allows."""
    def add_text(writer: IncrementalPdfFileWriter, page) -> None:  # type: ignore[no-untyped-def]
        from pyhanko.pdf_utils import generic

        extra = writer.add_object(generic.StreamObject(stream_data=b"BT /F1 24 Tf 100 700 Td (Endra) Tj ET"))
        contents = page["/Contents"]
        page["/Contents"] = generic.ArrayObject([*(contents if isinstance(contents, generic.ArrayObject) else [contents]), extra])

    return _first_page_changed(pdf, add_text)


def page_rotated_after_signing(pdf: bytes) -> bytes:
    """``pdf`` with one more incremental update that turns its first page: a change no signature allows."""
    def rotate(writer: IncrementalPdfFileWriter, page) -> None:  # type: ignore[no-untyped-def]
        from pyhanko.pdf_utils import generic

        page["/Rotate"] = generic.NumberObject(90)

    return _first_page_changed(pdf, rotate)


def _first_page_changed(pdf: bytes, change) -> bytes:  # type: ignore[no-untyped-def]
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    change(writer, page)
    writer.update_container(page)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()
