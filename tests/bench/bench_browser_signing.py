"""Benchmark of a signature made with a key outside the server (a browser's WebCrypto key):
`.venv/bin/python -m tests.bench.bench_browser_signing [--runs N]`.

Prints the median time of the server's two steps, prepare (the incremental update with the stamp, the
/ByteRange digest, the CMS signed attributes) and finish (check the signature, build the SignedData with
the signature time-stamp from the loopback TSA, put it in place), their sum, and, in the same run, plain
pyHanko (``signers.sign_pdf`` with a ``SimpleSigner`` of the same key type, ECDSA P-256) signing the same
field of the same sealed page, with and without that time-stamp; then the ratios. The key's own signature
(in the browser, here a software stand-in) is not the server's time and is not counted.
"""
from __future__ import annotations

import argparse
import logging
import tempfile
from datetime import datetime, timezone
from io import BytesIO
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

from portal.signing import browser_keys, interrupted, keys, pades
from portal.signing.pki import SignatoryIdentity, new_private_key, to_asn1
from tests.bench.bench_signing import medians_ms
from tests.signing.support import MAYOR_FIELDS, agreement_pdf, serve_pki

PREPARE = "server: prepare (update, stamp, digest, signed attributes)"
FINISH = "server: finish (check, SignedData, signature time-stamp)"
PLAIN_TS = "plain pyHanko sign_pdf, same field, with the time-stamp"
PLAIN = "plain pyHanko sign_pdf, same field, no time-stamp"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=11)
    runs = parser.parse_args().runs
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    with tempfile.TemporaryDirectory() as folder:
        served = serve_pki(Path(folder) / "pki")
        try:
            pki, timestamper = served.pki, served.timestamper()
            seal = keys.Pkcs12Key(pki.seal_pkcs12_path.read_bytes(), pki.seal_passphrase).signer()
            sealed = pades.seal_and_certify(agreement_pdf(), seal, timestamper)
            identity = SignatoryIdentity("Ola Ordførar", "Ordførar", "Voss herad", "ordforar@voss.example.org", "PRP-0000000000000000")
            device = browser_keys.SoftwareDevice()
            public_key = serialization.load_der_public_key(device.public_key_der)
            certificate = to_asn1(pki.issue_signing_certificate(identity, public_key))  # type: ignore[arg-type]
            stamp = pades.StampText(identity.name, identity.title, identity.organisation, datetime.now(timezone.utc))
            field = MAYOR_FIELDS[0]

            def prepare() -> interrupted.PreparedSignature:
                return interrupted.prepare_field(sealed, field, certificate, pki.chain, stamp, with_timestamp=True)

            prepared = prepare()
            signature = browser_keys.der_from_raw(device.sign(prepared.to_be_signed))

            def finish() -> bytes:
                return interrupted.finish_field(prepared, certificate, pki.chain, signature, timestamper)

            # Plain pyHanko: a PKCS#12 of the same key type, loaded once, into the same field of the same page.
            key = new_private_key("ec")
            cert = pki.issue_signing_certificate(identity, key.public_key())
            p12_path = Path(folder) / "plain.p12"
            p12_path.write_bytes(pkcs12.serialize_key_and_certificates(b"plain", key, cert, None, serialization.NoEncryption()))
            plain_signer = signers.SimpleSigner.load_pkcs12(str(p12_path), passphrase=None)

            def plain(with_timestamp: bool) -> bytes:
                out = BytesIO()
                signers.sign_pdf(
                    IncrementalPdfFileWriter(BytesIO(sealed)),
                    signers.PdfSignatureMetadata(field_name=field, subfilter=fields.SigSeedSubFilter.PADES),
                    signer=plain_signer, timestamper=timestamper if with_timestamp else None, output=out,
                    existing_fields_only=True,
                )
                return out.getvalue()

            results = medians_ms({PREPARE: prepare, FINISH: finish, PLAIN_TS: lambda: plain(True), PLAIN: lambda: plain(False)}, runs)
        finally:
            served.stop()

    total = results[PREPARE] + results[FINISH]
    width = max(len(name) for name in [*results, "ratio prepare + finish / plain pyHanko, no time-stamp"])
    for name, value in results.items():
        print(f"{name:<{width}}  {value:8.1f} ms")
    print(f"{'server: prepare + finish':<{width}}  {total:8.1f} ms")
    print(f"{'ratio prepare + finish / plain pyHanko with the time-stamp':<{width}}  {total / results[PLAIN_TS]:8.2f}")
    print(f"{'ratio prepare + finish / plain pyHanko, no time-stamp':<{width}}  {total / results[PLAIN]:8.2f}")


if __name__ == "__main__":
    main()
