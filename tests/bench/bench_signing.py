"""Benchmark of the signing layer: `.venv/bin/python -m tests.bench.bench_signing [--runs N]`.

Prints the median time of one approval signature (visible stamp with embedded font, signature
time-stamp from the loopback TSA, validation data), of closing with B-LTA, and of verifying a fully
signed agreement; and, in the same run, of plain pyHanko (``signers.sign_pdf`` with a
``SimpleSigner.load_pkcs12`` of the same key type, ECDSA P-256) signing a one-page PDF, with the ratios.
"""
from __future__ import annotations

import argparse
import gc
import logging
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from io import BytesIO
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers

from portal.signing import keys, pades
from portal.signing.pki import SignatoryIdentity, new_private_key
from portal.signing.verify import verify_pdf
from tests.signing.support import CHIEF_FIELD, MAYOR_FIELDS, agreement_pdf, serve_pki


ONE = "one signature (stamp, time-stamp over HTTP)"
ONE_B_B = "  same, no time-stamp service (B-B)"
PLAIN = "plain pyHanko sign_pdf, SimpleSigner (PKCS#12, ECDSA P-256)"
SAME_CALL = "same call, our LoadedKeySigner + reserved size"


def medians_ms(actions: dict[str, Callable[[], object]], runs: int, clock: Callable[[], float] = time.perf_counter) -> dict[str, float]:
    """Median time of each action (wall time, or ``clock``: ``time.process_time`` for CPU time, steadier on
    a shared machine); the actions take turns in every round, so that a change in the machine's load
    during the run weighs on all of them alike."""
    for action in actions.values():
        action()  # warm-up: imports, font reduction, first connections
    times: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(runs):
        for name, action in actions.items():
            gc.collect()  # so that no action pays for the garbage of the one before
            start = clock()
            action()
            times[name].append((clock() - start) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=11)
    runs = parser.parse_args().runs
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    with tempfile.TemporaryDirectory() as folder:
        served = serve_pki(Path(folder) / "pki")
        try:
            pki, timestamper = served.pki, served.timestamper()
            one_page = agreement_pdf()
            seal = keys.Pkcs12Key(pki.seal_pkcs12_path.read_bytes(), pki.seal_passphrase).signer()
            sealed = pades.seal_and_certify(one_page, seal, timestamper)
            identity = SignatoryIdentity("Ola Ordførar", "Ordførar", "Voss herad", "ordforar@voss.example.org")
            mayor = keys.PortalIssuedKey(keys.PortalIssuedKey.enrol(pki, identity, "hemmeleg"), "hemmeleg", pki.chain).signer()
            stamp = pades.StampText(identity.name, identity.title, identity.organisation, datetime.now(timezone.utc))
            signing_vc = pades.demo_validation_context(pki)

            def one_signature() -> bytes:
                # As the portal signs: stamp, signature time-stamp; the validation data comes at closing.
                return pades.sign_field(sealed, MAYOR_FIELDS[0], mayor, stamp, timestamper)

            def one_signature_with_validation_data() -> bytes:
                return pades.sign_field(sealed, MAYOR_FIELDS[0], mayor, stamp, timestamper, validation_context=signing_vc)

            def one_signature_b_b() -> bytes:
                return pades.sign_field(sealed, MAYOR_FIELDS[0], mayor, stamp, None)

            signed = one_signature()
            signed = pades.sign_field(signed, MAYOR_FIELDS[1], mayor, stamp, timestamper)
            signed = pades.sign_field(signed, CHIEF_FIELD, mayor, stamp, timestamper)
            closed = pades.close_lta(signed, pades.demo_validation_context(pki), timestamper)

            # Plain pyHanko: a PKCS#12 of the same key type, loaded once, signing a one-page PDF.
            key = new_private_key("ec")
            cert = pki.issue_signing_certificate(identity, key.public_key())
            p12_path = Path(folder) / "plain.p12"
            p12_path.write_bytes(pkcs12.serialize_key_and_certificates(b"plain", key, cert, None, serialization.NoEncryption()))
            plain_signer = signers.SimpleSigner.load_pkcs12(str(p12_path), passphrase=None)
            loaded = keys.LoadedKeySigner(key, plain_signer.signing_cert, [])

            def plain(signer: signers.Signer, reserve: int | None = None) -> bytes:
                out = BytesIO()
                signers.sign_pdf(
                    IncrementalPdfFileWriter(BytesIO(one_page)), signers.PdfSignatureMetadata(field_name="Signature1"),
                    signer=signer, output=out, bytes_reserved=reserve,
                )
                return out.getvalue()

            def plain_pyhanko() -> bytes:
                return plain(plain_signer)

            results = medians_ms(
                {
                    ONE: one_signature,
                    ONE_B_B: one_signature_b_b,
                    "  same, with validation data (DSS update)": one_signature_with_validation_data,
                    "closing with B-LTA (DSS + document time-stamp)": (
                        lambda: pades.close_lta(signed, pades.demo_validation_context(pki), timestamper)
                    ),
                    "verifying a fully signed agreement": lambda: verify_pdf(closed, pki.trust_roots),
                    PLAIN: plain_pyhanko,
                    SAME_CALL: lambda: plain(loaded, 8192),
                },
                runs,
            )
        finally:
            served.stop()

    width = max(len(name) for name in results)
    for name, value in results.items():
        print(f"{name:<{width}}  {value:8.1f} ms")
    baseline = results[PLAIN]
    print(f"{'ratio one signature / plain pyHanko':<{width}}  {results[ONE] / baseline:8.2f}")
    print(f"{'ratio one signature, B-B / plain pyHanko':<{width}}  {results[ONE_B_B] / baseline:8.2f}")
    print(f"{'ratio our signer / plain pyHanko (same call)':<{width}}  {results[SAME_CALL] / baseline:8.2f}")


if __name__ == "__main__":
    main()
