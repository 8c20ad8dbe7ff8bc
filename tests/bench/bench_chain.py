"""Benchmark of the agreement's chain through the portal's own services, as ratios measured in one run:

    .venv/bin/python -m tests.bench.bench_chain [--runs 7] [--agreements 20] [--wall] [--portal-held-keys] [--profile STEP]
    (or: make bench)

Median CPU time of this process by default (steadier on a shared machine; ``--wall`` for wall time).
The signatories sign as by default (and in the demo): with a key in their browser, through the portal's
enrolment and prepare/finish (``browser_signing.sign_with_device``, as ``factories.sign_as``); the
signature rows time the server's part, prepare + finish, and not the key's own signature, which is the
browser's work (an ECDSA P-256 signature, well under a millisecond here).

* plain pyHanko signing one signature into the same sealed agreement (``signers.sign_pdf`` with a
  ``SimpleSigner`` from a PKCS#12, a signature time-stamp from the same TSA): the baseline of the ratios;
* one signature, server side (prepare: stamp, digest, signed attributes; finish: check, time-stamp, store);
* the last signature as the signer waits for it (with Redis: the closing is only queued), and the
  closing job that follows in the background: DSS + document time-stamp, the 30-year check, coming into
  force, and the intake validation (the reports the archive reads);
* with ``--portal-held-keys`` (off by default, as in the portal): one signature with the key the portal
  holds for the signatory (``signing.sign``: password and key, stamp, time-stamp, store), and the key
  opening in it (scrypt);
* finalise (``signing.finalise``: render the PDF/A with WeasyPrint, seal, slots), and the draft preview
  again for the same content (cached);
* the whole chain per agreement (finalise, two signatures, closing), and N agreements through it one after
  the other, extrapolated to all 357 municipalities (the device's own signatures are in these); with
  Redis also N agreements whose jobs (closing, archive messages) a real worker runs, as in production
  (``flask worker --burst`` in a process of its own): its CPU time per agreement once warm (less a burst
  of one agreement: start-up and the first job's loading);
* and N agreements through the chain as the portal is deployed, the web server's part (finalise, two
  signatures) in this process while one worker, then two, run the closings beside it (each warmed first
  with one agreement, as workers that have run for a while), and then in two web server processes (this
  one and one forked from it, as gunicorn -w 2 forks its workers) beside two workers: the wall time from
  the first finalise until the last closing is stored (the throughput the machine's cores give).

Runs on a temporary SQLite database with the demo PKI (time-stamps in-process). Uses Redis at
``REDIS_URL`` (default ``redis://127.0.0.1:6379/0``, a queue of its own) when it answers; without it the
closing runs in the signer's request, and the figures say so. Not a test: pytest does not collect it.
"""
from __future__ import annotations

import argparse
import cProfile
import gc
import logging
import os
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from collections import defaultdict
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import TypeVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from sqlalchemy import select

from portal import create_app, documents, jobs
from portal.agreements import browser_signing, signing
from portal.auth.passwords import hash_password
from portal.extensions import db
from portal.models import Agreement, AgreementStatus, Role, User
from portal.reference_data import load_reference_data
from portal.signing import pades
from portal.signing.browser_keys import SoftwareDevice
from portal.signing.pki import SignatoryIdentity, new_private_key
from tests import factories

T = TypeVar("T")
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

    def __init__(self, folder: Path, redis_url: str | None, portal_held_keys: bool = False) -> None:
        overrides: dict[str, object] = {
            "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}", "SECRET_KEY": "bench", "PKI_FOLDER": str(folder / "pki"),
            "MAIL_OUTBOX": str(folder / "outbox"), "PUBLIC_BASE_URL": "https://portal.bench",
            "PORTAL_HELD_KEYS": portal_held_keys,  # off by default, as in the portal
        }
        if redis_url:
            overrides.update(REDIS_URL=redis_url, JOB_QUEUE=f"bench-{uuid.uuid4().hex}")
        self.app = create_app(overrides, instance_path=folder)
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
        # Each signatory's browser key, enrolled on its first signature (the warm-up).
        self.devices = {self.mayor.id: SoftwareDevice("mayor's browser"), self.chief.id: SoftwareDevice("chief's browser")}

    def close(self) -> None:
        if jobs.uses_queue(self.app):
            jobs.queue(self.app).delete(delete_jobs=True)
        self.context.pop()

    def draft(self) -> Agreement:
        agreement = factories.complete_agreement(self.coordinator)
        factories.name_signatories(agreement, self.mayor, self.chief)  # finalising refuses a name that differs
        db.session.commit()
        return agreement

    def finalise(self, agreement: Agreement) -> Agreement:
        signing.finalise(agreement, self.coordinator)
        db.session.commit()
        return agreement

    def sign(self, agreement: Agreement, user: User) -> signing.SignResult:
        """The default path: the signing page's round trip with the signatory's browser key."""
        return browser_signing.sign_with_device(db.session.get(Agreement, agreement.id), db.session.get(User, user.id),
                                                self.devices[user.id])

    def sign_timed(self, agreement: Agreement, user: User, clock: Callable[[], float]) -> tuple[float, float]:
        """The same round trip (the device enrolled), timing the server's prepare and finish in ms; the
        device's own signature in between is the browser's work and is not counted."""
        device = self.devices[user.id]
        agreement, user = db.session.get(Agreement, agreement.id), db.session.get(User, user.id)  # type: ignore[assignment]
        gc.collect()
        start = clock()
        step = browser_signing.prepare(agreement, user, device.certificate_id)
        prepared = clock()
        signature = device.sign(step.to_be_signed)
        gc.collect()
        finishing = clock()
        outcome = browser_signing.finish(agreement, user, step.pending_id, signature)
        done = clock()
        assert isinstance(outcome, signing.SignResult), "nobody else signs here: finish stores at once"
        return (prepared - start) * 1000, (done - finishing) * 1000

    def sign_portal_held(self, agreement: Agreement, user: User) -> signing.SignResult:
        """With the key the portal holds for the signatory (``PORTAL_HELD_KEYS``), opened with the password."""
        return signing.sign(db.session.get(Agreement, agreement.id), db.session.get(User, user.id), PASSWORD)

    def run_closing(self, agreement: Agreement) -> None:
        """The closing job (with the intake validation), here and now (what a worker does)."""
        signing.close_signed_agreement(agreement.id)

    def finalise_and_sign(self, agreement: Agreement) -> Agreement:
        """The web server's part of the chain for the draft ``agreement``: finalised, signed by both
        signatories (with Redis, the closing is then queued)."""
        self.finalise(agreement)
        self.sign(agreement, self.mayor)
        self.sign(agreement, self.chief)
        return agreement

    def _worker_command(self, *options: str) -> tuple[list[str], dict[str, str]]:
        """``flask --app portal worker`` on this portal's database, PKI and queue, as in production."""
        config = self.app.config
        env = dict(os.environ, INSTANCE_PATH=self.app.instance_path, SECRET_KEY="bench", **{
            name: str(config[name]) for name in ("DATABASE_URL", "PKI_FOLDER", "PUBLIC_BASE_URL", "REDIS_URL", "JOB_QUEUE")})
        return [sys.executable, "-m", "flask", "--app", "portal", "worker", *options], env

    def jobs_by_a_worker(self, count: int) -> float:
        """``count`` agreements finalised and signed here, their jobs queued to Redis and run by a worker as
        in production: ``flask --app portal worker --burst`` in a process of its own, on this portal's
        database, PKI and queue. Its CPU time (with any process it starts) per agreement in ms, as a worker
        that has run for a while spends it: less a burst with one agreement's jobs (start-up, and the first
        job's one-off loading of modules and caches)."""
        command, env = self._worker_command("--burst")

        def burst(agreements: int) -> float:
            for _ in range(agreements):
                self.finalise_and_sign(self.draft())
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run(command, env=env, check=True, capture_output=True)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            return ((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)) * 1000

        jobs.queue(self.app).empty()  # the jobs of the agreements before, which ran here
        start_up = burst(1)
        return (burst(1 + count) - start_up) / count

    def as_deployed(self, count: int, workers: int, web: int = 1) -> float:
        """``count`` agreements through the chain as the portal is deployed: ``web`` web server processes
        do the web server's part (finalise, two signatures), this one and ``web`` - 1 forked from it as
        gunicorn forks its workers, each its share of the agreements (drafts made beforehand), while
        ``workers`` workers (``flask worker``, each a process of its own, started and warmed beforehand with
        one agreement each, as workers that have run for a while) run the closings beside them. The wall
        time in seconds from the first finalise until every closing (with its intake validation) is done."""
        from rq import Worker

        from portal.models import TaskState

        command, env = self._worker_command()
        queue = jobs.queue(self.app)
        queue.empty()
        started = [subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                   for _ in range(workers)]

        def closed(agreement_ids: list[int]) -> None:
            """Wait until the workers have closed every one of the agreements."""
            closings = [signing.closing_job_id(agreement_id) for agreement_id in agreement_ids]
            while True:
                db.session.rollback()  # read the workers' commits afresh
                states = [getattr(jobs.task(job), "state", None) for job in closings]
                if TaskState.FAILED in states:
                    raise RuntimeError("a closing failed in the worker")
                if all(state is TaskState.DONE for state in states):
                    return
                time.sleep(0.02)

        def web_part(agreement_ids: list[int]) -> None:
            for agreement_id in agreement_ids:
                self.finalise_and_sign(db.session.get(Agreement, agreement_id))

        try:
            while len(Worker.all(queue=queue)) < workers:  # each worker registers once it is ready
                time.sleep(0.05)
            warm_up = [self.finalise_and_sign(self.draft()).id for _ in range(workers)]
            closed(warm_up)  # the workers' first jobs load what they use
            drafts = [self.draft().id for _ in range(count)]  # the coordinators' work before the chain
            shares = [drafts[index::web] for index in range(web)]
            db.session.commit()  # no database connection in use across the fork
            start = time.perf_counter()
            forked = [_forked(lambda share=share: web_part(share)) for share in shares[1:]]
            web_part(shares[0])
            for pid in forked:
                if os.waitpid(pid, 0)[1] != 0:
                    raise RuntimeError("a forked web server process failed")
            closed(drafts)
            return time.perf_counter() - start
        finally:
            for worker in started:
                worker.terminate()
            for worker in started:
                worker.wait()

    def whole_chain(self) -> Agreement:
        agreement = self.finalise_and_sign(self.draft())
        if jobs.uses_queue(self.app):
            self.run_closing(agreement)
        assert db.session.get(Agreement, agreement.id, populate_existing=True).status is AgreementStatus.ACTIVE
        return agreement


def _forked(work: Callable[[], None]) -> int:
    """``work`` in a process forked from this one, with database connections of its own; its pid."""
    pid = os.fork()
    if pid:
        return pid
    status = 1
    try:
        db.engine.dispose(close=False)  # the parent's pooled connections stay the parent's
        work()
        status = 0
    except BaseException:  # noqa: BLE001 — said here, where the parent cannot see it
        traceback.print_exc()
    finally:
        os._exit(status)


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


class Parts:
    """Time spent inside some functions while a step runs (``module.name`` wrapped for the whole run)."""

    def __init__(self, clock: Callable[[], float], **wrapped: tuple[object, str]) -> None:
        self.spent = dict.fromkeys(wrapped, 0.0)
        for part, (module, name) in wrapped.items():
            setattr(module, name, self._wrap(part, getattr(module, name), clock))

    def _wrap(self, part: str, function: Callable[..., object], clock: Callable[[], float]) -> Callable[..., object]:
        def timed_part(*args: object, **kwargs: object) -> object:
            start = clock()
            try:
                return function(*args, **kwargs)
            finally:
                self.spent[part] += (clock() - start) * 1000
        return timed_part

    def during(self, action: Callable[[], T]) -> tuple[T, dict[str, float]]:
        """``action``'s result, and the time spent in each part while it ran."""
        before = dict(self.spent)
        result = action()
        return result, {part: self.spent[part] - before[part] for part in self.spent}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="rounds of each step (default 7)")
    parser.add_argument("--agreements", type=int, default=20, help="agreements through the whole chain (default 20)")
    parser.add_argument("--wall", action="store_true", help="wall time instead of this process's CPU time")
    parser.add_argument("--portal-held-keys", action="store_true",
                        help="also time a signature with a portal-held key (PORTAL_HELD_KEYS, off by default)")
    parser.add_argument("--profile", choices=["sign", "last", "finalise", "closing"], help="print a profile of one step instead")
    parser.add_argument("--sort", default="cumulative", choices=["cumulative", "tottime"], help="the profile's order (default: cumulative)")
    parser.add_argument("--profile-file", help="also keep the profile in this file (pstats), to read its callers")
    options = parser.parse_args()
    logging.disable(logging.WARNING)  # pyHanko's notes on fetching and font subsetting
    redis_url = _redis_url()
    clock = time.perf_counter if options.wall else time.process_time

    def timed(action: Callable[[], object]) -> float:
        gc.collect()  # so that no step pays for the garbage of the one before
        start = clock()
        action()
        return (clock() - start) * 1000

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        chain = Chain(folder, redis_url, options.portal_held_keys)
        try:
            plain = plain_pyhanko_signer(chain, folder)
            chain.whole_chain()  # warm-up: fonts, templates, the signatories' devices enrolled, first time-stamps
            gc.freeze()  # what start-up loaded, out of the full collections, as in wsgi.py and the job worker
            if options.profile:
                profile(chain, options.profile, options.sort, options.profile_file)
                return
            rows: dict[str, list[float]] = defaultdict(list)
            parts = Parts(clock, lta=(pades, "close_lta"), future=(signing, "simulate_future_validation"),
                          intake=(signing, "validate_at_intake"))
            if options.portal_held_keys:
                from portal.signing import keys
                from portal.signing.models import PortalSigningKey

                chain.sign_portal_held(chain.finalise(chain.draft()), chain.mayor)  # warm-up: the mayor's portal key made
                stored = db.session.scalar(select(PortalSigningKey).where(PortalSigningKey.user_id == chain.mayor.id)).as_stored()
            for _ in range(options.runs):
                agreement = chain.draft()
                rows["preview"].append(timed(lambda: documents.agreement_pdf(agreement, draft=True)))
                rows["preview again"].append(timed(lambda: documents.agreement_pdf(agreement, draft=True)))
                rows["finalise"].append(timed(lambda: chain.finalise(agreement)))
                sealed = agreement.document.signed_pdf
                rows[PLAIN].append(timed(lambda: plain(sealed)))
                prepare, finish = chain.sign_timed(agreement, chain.mayor, clock)
                rows["prepare"].append(prepare)
                rows["finish"].append(finish)
                rows["sign"].append(prepare + finish)
                # Without Redis, the closing (with the intake validation) runs in the last signature's finish.
                (prepare, finish), spent = parts.during(lambda: chain.sign_timed(agreement, chain.chief, clock))
                rows["last"].append(prepare + finish)
                if redis_url:
                    closing, spent = parts.during(lambda: timed(lambda: chain.run_closing(agreement)))
                    rows["closing"].append(closing)
                rows["lta"].append(spent["lta"])
                rows["future"].append(spent["future"])
                rows["intake"].append(spent["intake"])
                if options.portal_held_keys:
                    other = chain.finalise(chain.draft())
                    rows["portal sign"].append(timed(lambda: chain.sign_portal_held(other, chain.mayor)))
                    rows["portal key"].append(timed(lambda: keys.PortalIssuedKey(stored, PASSWORD, [])))
                rows["chain"].append(timed(chain.whole_chain))
            many = timed(lambda: [chain.whole_chain() for _ in range(options.agreements)]) / 1000
            by_worker = chain.jobs_by_a_worker(options.agreements) if redis_url else None
            # As deployed (wall time): the web part here while one worker, then two, run the closings beside
            # it; then two web server processes (as gunicorn -w 2) and two workers.
            deployed = {(web, workers): chain.as_deployed(options.agreements, workers, web)
                        for web, workers in ((1, 1), (1, 2), (2, 2))} if redis_url else {}
        finally:
            chain.close()

    median = {key: statistics.median(values) for key, values in rows.items() if values}
    base = median[PLAIN]
    queue_note = "closing queued to Redis" if redis_url else "NO REDIS: the closing in the signer's request"
    indent = "    " if redis_url else "  "  # under the closing job, or under the last signature
    lines = [
        (PLAIN, PLAIN),
        ("one signature, server side: prepare + finish (browser key, the default)", "sign"),
        ("  of which prepare (stamp, digest, signed attributes)", "prepare"),
        ("  of which finish (check, signature time-stamp, store)", "finish"),
        (f"last signature, prepare + finish, as the signer waits ({queue_note})", "last"),
    ]
    if redis_url:
        lines.append(("  closing job in the background (DSS, time-stamp, 30-year check, in force, intake validation)", "closing"))
    lines += [
        (f"{indent}of which DSS + document time-stamp (pades.close_lta)", "lta"),
        (f"{indent}of which the 30-year check (future.simulate_future_validation)", "future"),
        (f"{indent}of which the intake validation (the report and the ETSI report, stored)", "intake"),
    ]
    if options.portal_held_keys:
        lines += [
            ("EXTRA, off by default: one signature with a portal-held key (password, key, stamp, time-stamp, store)", "portal sign"),
            ("  of which opening the key, which checks the password (scrypt)", "portal key"),
        ]
    lines += [
        ("finalise (render PDF/A + seal + slots)", "finalise"),
        ("draft preview (render)", "preview"),
        ("draft preview again, same content (cached)", "preview again"),
        ("whole chain per agreement (finalise, 2 browser-key signatures, closing, intake validation)", "chain"),
    ]
    width = max(len(label) for label, _ in lines)
    print(f"median {'wall' if options.wall else 'CPU'} time of {options.runs} runs")
    print(f"{'step':<{width}}  {'median':>9}  {'× plain pyHanko':>15}")
    for label, key in lines:
        ms = median[key]
        print(f"{label:<{width}}  {ms:7.1f}ms  {ms / base:15.2f}")
    per = many / options.agreements
    print(f"{options.agreements} agreements through the chain, one process ({'wall' if options.wall else 'CPU'} time): "
          f"{many:.1f} s ({per * 1000:.0f} ms each); 357 agreements ≈ {per * 357 / 60:.1f} min")
    if by_worker is not None:
        print(f"{options.agreements} agreements' jobs (closing with intake validation, archive messages) run by a worker, "
              f"`flask worker`: {by_worker:.0f} ms of its CPU per agreement "
              f"(357 agreements ≈ {by_worker * 357 / 60000:.1f} min for one worker)")
    for (web, workers), wall in deployed.items():
        servers = "this process the web server" if web == 1 else f"{web} web server processes (this one and {web - 1} forked, as gunicorn -w {web})"
        print(f"{options.agreements} agreements through the chain as deployed, {servers} and "
              f"{workers} worker{'s' if workers > 1 else ''} (`flask worker`) beside {'it' if web == 1 else 'them'} ({os.cpu_count()} cores), wall time from the first finalise to the "
              f"last closing stored: {wall:.1f} s ({wall / options.agreements * 1000:.0f} ms each); "
              f"357 agreements ≈ {wall / options.agreements * 357 / 60:.1f} min")


def profile(chain: Chain, step: str, sort: str = "cumulative", keep_in: str | None = None) -> None:
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
    pstats.Stats(profiler).sort_stats(sort).print_stats(35)
    if keep_in:
        profiler.dump_stats(keep_in)


if __name__ == "__main__":
    main()
