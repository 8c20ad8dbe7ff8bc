"""Benchmark of the agreement's chain through the portal's own services, as ratios measured in one run:

    .venv/bin/python -m tests.bench.bench_chain [--runs 7] [--agreements 20] [--profile STEP]   (or: make bench)

* plain pyHanko signing one signature into the same sealed agreement (``signers.sign_pdf`` with a
  ``SimpleSigner`` from a PKCS#12, a signature time-stamp from the same TSA): the baseline of the ratios;
* one signature, server side (``signing.sign``: password and key, stamp, time-stamp, store);
* the last signature as the signer waits for it (with Redis: the closing is only queued), and the
  closing job (DSS + document time-stamp, coming into force) that follows in the background;
* finalise (``signing.finalise``: render the PDF/A with WeasyPrint, seal, slots), and the draft preview
  again for the same content (cached);
* the whole chain per agreement (finalise, two signatures, closing), and N agreements through it one after
  the other, extrapolated to all 357 municipalities.

Runs on a temporary SQLite database with the demo PKI (time-stamps in-process). Uses Redis at
``REDIS_URL`` (default ``redis://127.0.0.1:6379/0``, a queue of its own) when it answers; without it the
closing runs in the signer's request, and the figures say so. Not a test: pytest does not collect it.
"""
from __future__ import annotations

import argparse
import cProfile
import logging
import os
import pstats
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from sqlalchemy import select

from portal import create_app, documents, jobs
from portal.agreements import signing
from portal.auth.passwords import hash_password
from portal.extensions import db
from portal.models import Agreement, AgreementStatus, MemberRole, Role, User
from portal.reference_data import load_reference_data
from portal.signing.pki import SignatoryIdentity, new_private_key
from tests import factories

PASSWORD = "benk-passord-som-er-langt"
PLAIN = "plain pyHanko: one signature into the sealed agreement"


def _redis_url() -> str | None:
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        from redis import Redis

        Redis.from_url(url, socket_connect_timeout=1).ping()
        return url
    except Exception:  # noqa: BLE001 — no Redis: the jobs run in-process
        return None


class Chain:
    """People and agreements in a temporary portal, and the steps of the chain as callables."""

    def __init__(self, folder: Path, redis_url: str | None) -> None:
        overrides: dict[str, object] = {
            "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}", "SECRET_KEY": "bench", "PKI_FOLDER": str(folder / "pki"),
            "MAIL_OUTBOX": str(folder / "outbox"), "PUBLIC_BASE_URL": "https://portal.bench",
            "PORTAL_HELD_KEYS": True,  # the signatures are made server side with the portal-held keys (off by default)
        }
        if redis_url:
            overrides.update(REDIS_URL=redis_url, JOB_QUEUE=f"bench-{uuid.uuid4().hex}")
        self.app = create_app(overrides)
        self.context = self.app.app_context()
        self.context.push()
        db.create_all()
        load_reference_data()
        password_hash = hash_password(PASSWORD)
        voss = factories.organisation_for_municipality(factories.VOSS)
        vest = factories.organisation_for_police_district()
        self.coordinator = factories.user("koordinator@voss.bench", Role.COORDINATOR, voss, password_hash, "Kari Koordinator")
        self.mayor = factories.user("ordforar@voss.bench", Role.SIGNATORY, voss, password_hash, "Ola Ordførar", "Ordførar")
        self.chief = factories.user("sjef@politiet.bench", Role.SIGNATORY, vest, password_hash, "Siv Sjef", "Politistasjonssjef")
        db.session.commit()

    def close(self) -> None:
        if jobs.uses_queue(self.app):
            jobs.queue(self.app).delete(delete_jobs=True)
        self.context.pop()

    def draft(self) -> Agreement:
        agreement = factories.complete_agreement(self.coordinator)
        for member in agreement.members:
            if member.role is MemberRole.MAYOR:  # finalising refuses an account of another name
                member.email, member.name = self.mayor.email, self.mayor.name
            if member.role is MemberRole.STATION_CHIEF:
                member.email, member.name = self.chief.email, self.chief.name
        db.session.commit()
        return agreement

    def finalise(self, agreement: Agreement) -> Agreement:
        signing.finalise(agreement, self.coordinator)
        db.session.commit()
        return agreement

    def sign(self, agreement: Agreement, user: User) -> signing.SignResult:
        return signing.sign(db.session.get(Agreement, agreement.id), db.session.get(User, user.id), PASSWORD)

    def run_closing(self, agreement: Agreement) -> None:
        """The closing job, here and now (what a worker does)."""
        signing.close_signed_agreement(agreement.id)

    def whole_chain(self) -> Agreement:
        agreement = self.finalise(self.draft())
        self.sign(agreement, self.mayor)
        self.sign(agreement, self.chief)
        if jobs.uses_queue(self.app):
            self.run_closing(agreement)
        assert db.session.get(Agreement, agreement.id, populate_existing=True).status is AgreementStatus.ACTIVE
        return agreement


def plain_pyhanko_signer(chain: Chain, folder: Path) -> Callable[[bytes], bytes]:
    """pyHanko as its documentation shows it: a SimpleSigner from a PKCS#12 (ECDSA P-256, like the portal's
    keys), a time-stamp from the same TSA, signing into the existing field."""
    setup = signing.signing_setup()
    identity = SignatoryIdentity("Plain Pyhanko", "Ordførar", "Voss herad", "plain@voss.bench")
    key = new_private_key("ec")
    cert = setup.pki.issue_signing_certificate(identity, key.public_key())  # type: ignore[union-attr]
    path = folder / "plain.p12"
    path.write_bytes(pkcs12.serialize_key_and_certificates(b"plain", key, cert, None, serialization.NoEncryption()))
    signer = signers.SimpleSigner.load_pkcs12(str(path), passphrase=None)

    def sign(pdf: bytes) -> bytes:
        out = BytesIO()
        field = next(name for name, value, _ in fields.enumerate_sig_fields(
            IncrementalPdfFileWriter(BytesIO(pdf), strict=False).prev, filled_status=False))
        signers.sign_pdf(IncrementalPdfFileWriter(BytesIO(pdf), strict=False),
                         signers.PdfSignatureMetadata(field_name=field, subfilter=fields.SigSeedSubFilter.PADES),
                         signer=signer, timestamper=setup.timestamper, output=out, existing_fields_only=True)
        return out.getvalue()

    return sign


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="rounds of each step (default 7)")
    parser.add_argument("--agreements", type=int, default=20, help="agreements through the whole chain (default 20)")
    parser.add_argument("--profile", choices=["sign", "last", "finalise", "closing"], help="print a profile of one step instead")
    options = parser.parse_args()
    logging.disable(logging.WARNING)  # pyHanko's notes on fetching and font subsetting
    redis_url = _redis_url()

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        chain = Chain(folder, redis_url)
        try:
            plain = plain_pyhanko_signer(chain, folder)
            chain.whole_chain()  # warm-up: fonts, templates, the signatories' keys enrolled, first time-stamps
            if options.profile:
                profile(chain, options.profile)
                return
            rows: dict[str, list[float]] = {key: [] for key in (PLAIN, "sign", "key", "last", "closing", "finalise", "preview", "preview again", "chain")}
            from portal.signing import keys
            from portal.signing.models import PortalSigningKey

            stored = db.session.scalar(select(PortalSigningKey).where(PortalSigningKey.user_id == chain.mayor.id)).as_stored()
            for _ in range(options.runs):
                agreement = chain.draft()
                rows["preview"].append(timed(lambda: documents.agreement_pdf(agreement, draft=True)))
                rows["preview again"].append(timed(lambda: documents.agreement_pdf(agreement, draft=True)))
                rows["finalise"].append(timed(lambda: chain.finalise(agreement)))
                sealed = agreement.document.signed_pdf
                rows[PLAIN].append(timed(lambda: plain(sealed)))
                rows["sign"].append(timed(lambda: chain.sign(agreement, chain.mayor)))
                rows["key"].append(timed(lambda: keys.PortalIssuedKey(stored, PASSWORD, [])))
                rows["last"].append(timed(lambda: chain.sign(agreement, chain.chief)))
                if redis_url:
                    rows["closing"].append(timed(lambda: chain.run_closing(agreement)))
                rows["chain"].append(timed(chain.whole_chain))
            start = time.perf_counter()
            for _ in range(options.agreements):
                chain.whole_chain()
            many = time.perf_counter() - start
        finally:
            chain.close()

    median = {key: statistics.median(values) for key, values in rows.items() if values}
    base = median[PLAIN]
    queue_note = "closing queued to Redis" if redis_url else "NO REDIS: closing runs in the signer's request"
    lines = [
        (PLAIN, median[PLAIN], 1.0),
        ("one signature, server side (password, key, stamp, time-stamp, store)", median["sign"], median["sign"] / base),
        ("  of which opening the key, which checks the password (scrypt)", median["key"], median["key"] / base),
        (f"last signature, as the signer waits ({queue_note})", median["last"], median["last"] / base),
    ]
    if "closing" in median:
        lines.append(("  closing job in the background (DSS, document time-stamp, in force)", median["closing"], median["closing"] / base))
    lines += [
        ("finalise (render PDF/A + seal + slots)", median["finalise"], median["finalise"] / base),
        ("draft preview (render)", median["preview"], median["preview"] / base),
        ("draft preview again, same content (cached)", median["preview again"], median["preview again"] / base),
        ("whole chain per agreement (finalise, 2 signatures, closing)", median["chain"], median["chain"] / base),
    ]
    width = max(len(line[0]) for line in lines)
    print(f"{'step':<{width}}  {'median':>9}  {'× plain pyHanko':>15}")
    for label, ms, ratio in lines:
        print(f"{label:<{width}}  {ms:7.1f}ms  {ratio:15.2f}")
    per = many / options.agreements
    print(f"{options.agreements} agreements through the chain, one process: {many:.1f} s ({per * 1000:.0f} ms each); "
          f"357 agreements ≈ {per * 357 / 60:.1f} min")


def profile(chain: Chain, step: str) -> None:
    agreement = chain.draft()
    actions: dict[str, Callable[[], object]] = {"finalise": lambda: chain.finalise(agreement)}
    if step != "finalise":
        chain.finalise(agreement)
        actions["sign"] = lambda: chain.sign(agreement, chain.mayor)
        if step in ("last", "closing"):
            chain.sign(agreement, chain.mayor)
            actions["last"] = lambda: chain.sign(agreement, chain.chief)
        if step == "closing":
            chain.sign(agreement, chain.chief)
            actions["closing"] = lambda: chain.run_closing(agreement)
    profiler = cProfile.Profile()
    profiler.runcall(actions[step])
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)


if __name__ == "__main__":
    main()
