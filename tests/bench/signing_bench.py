"""What the signing benchmarks (bench_signing, bench_browser_signing) share: the command line, the median
timer, and the scene: a demo PKI whose TSA and CRLs/OCSP answer over HTTP on loopback, a one-page agreement
sealed by the portal, a signatory, and plain pyHanko with a PKCS#12 of the same key type (ECDSA P-256)
as the yardstick. bench_verify uses the timer too.
"""
from __future__ import annotations

import argparse
import gc
import logging
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from io import BytesIO
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import TimeStamper

from portal.signing import keys, pades
from portal.signing.pki import DemoPki, SignatoryIdentity, new_private_key
from tests.signing.support import agreement_pdf, serve_pki

__all__ = ["SigningScene", "medians_ms", "print_results", "signing_scene"]


def medians_ms(actions: dict[str, Callable[[], object]], runs: int, clock: Callable[[], float] = time.perf_counter,
               before: dict[str, Callable[[], object]] | None = None) -> dict[str, float]:
    """Median time of each action (wall time, or ``clock``: ``time.process_time`` for CPU time, steadier on
    a shared machine); the actions take turns in every round, so that a change in the machine's load
    during the run weighs on all of them alike. ``before[name]``, when given, runs untimed before each
    timing of that action."""
    for action in actions.values():
        action()  # warm-up: imports, font reduction, first connections
    times: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(runs):
        for name, action in actions.items():
            if before and name in before:
                before[name]()
            gc.collect()  # so that no action pays for the garbage of the one before
            start = clock()
            action()
            times[name].append((clock() - start) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


@dataclass
class SigningScene:
    """One benchmark run's PKI, TSA, sealed page, signatory and yardstick."""

    folder: Path
    pki: DemoPki
    timestamper: TimeStamper
    one_page: bytes  # the agreement, unsigned (signature fields only)
    sealed: bytes  # sealed and certified by the portal, as every agreement is before its signatories sign
    identity: SignatoryIdentity
    stamp: pades.StampText
    runs: int
    clock: Callable[[], float]
    clock_name: str  # "CPU" or "wall"

    def plain_signer(self) -> tuple[signers.SimpleSigner, ec.EllipticCurvePrivateKey]:
        """Plain pyHanko's signer: a PKCS#12 file of a fresh ECDSA P-256 key, certified for the
        signatory and loaded with ``SimpleSigner.load_pkcs12``, once; and that key."""
        key = new_private_key("ec")
        cert = self.pki.issue_signing_certificate(self.identity, key.public_key())
        path = self.folder / "plain.p12"
        path.write_bytes(pkcs12.serialize_key_and_certificates(b"plain", key, cert, None, serialization.NoEncryption()))
        return signers.SimpleSigner.load_pkcs12(str(path), passphrase=None), key  # type: ignore[return-value]

    def plain_sign(self, pdf: bytes, field: str, signer: signers.Signer, *, timestamper: TimeStamper | None = None,
                   existing_fields_only: bool = False, reserve: int | None = None) -> bytes:
        """Plain pyHanko ``signers.sign_pdf`` (PAdES) of ``field`` in ``pdf``."""
        out = BytesIO()
        signers.sign_pdf(
            IncrementalPdfFileWriter(BytesIO(pdf)),
            signers.PdfSignatureMetadata(field_name=field, subfilter=fields.SigSeedSubFilter.PADES),
            signer=signer, timestamper=timestamper, output=out, existing_fields_only=existing_fields_only,
            bytes_reserved=reserve,
        )
        return out.getvalue()

    def medians(self, actions: dict[str, Callable[[], object]], before: dict[str, Callable[[], object]] | None = None) -> dict[str, float]:
        return medians_ms(actions, self.runs, self.clock, before)


@contextmanager
def signing_scene(description: str) -> Iterator[SigningScene]:
    """Parse the command line (``--runs N``, ``--wall``) and set the scene up; everything goes when the block ends."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--runs", type=int, default=11, help="rounds of each action; the median counts (default 11)")
    parser.add_argument("--wall", action="store_true",
                        help="wall time instead of the process's CPU time (which includes the loopback services' threads)")
    arguments = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as folder:
        served = serve_pki(Path(folder) / "pki")
        try:
            pki, timestamper = served.pki, served.timestamper()
            one_page = agreement_pdf()
            seal = keys.Pkcs12Key(pki.seal_pkcs12_path.read_bytes(), pki.seal_passphrase).signer()
            identity = SignatoryIdentity("Ola Ordførar", "Ordførar", "Voss herad", "ordforar@voss.example.org", "PRP-0000000000000000")
            yield SigningScene(
                folder=Path(folder), pki=pki, timestamper=timestamper, one_page=one_page,
                sealed=pades.seal_and_certify(one_page, seal, timestamper), identity=identity,
                stamp=pades.StampText(identity.name, identity.title, identity.organisation, datetime.now(timezone.utc)),
                runs=arguments.runs, clock=time.perf_counter if arguments.wall else time.process_time,
                clock_name="wall" if arguments.wall else "CPU",
            )
        finally:
            served.stop()


def print_results(scene: SigningScene, results: dict[str, float], ratios: dict[str, tuple[float, float]]) -> None:
    """The medians, then each ratio ``label: (numerator, denominator)``."""
    width = max(len(name) for name in [*results, *ratios])
    print(f"median {scene.clock_name} time of {scene.runs} runs")
    for name, value in results.items():
        print(f"{name:<{width}}  {value:8.1f} ms")
    for name, (numerator, denominator) in ratios.items():
        print(f"{name:<{width}}  {numerator / denominator:8.2f}")
