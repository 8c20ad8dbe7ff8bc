"""Benchmark of renewing the archival time-stamp: `.venv/bin/python -m tests.bench.bench_timestamp_renewal [--runs N]`
(or: make bench).

For a fully signed agreement of 1 and of 3 municipalities (signed and closed at B-LTA through the portal's
own services, in a temporary SQLite database, with the demo TSA in-process), the median CPU time
(``--wall``: wall time) of

- plain pyHanko adding a document time-stamp (``PdfTimeStamper.timestamp_pdf``, no validation data): the
  yardstick;
- the portal's renewal of the file (:func:`portal.signing.pades.renew_archival_timestamp`: fresh validation
  data for every signature and time-stamp into the DSS, then the document time-stamp and its own data);
- the 30-year check (:func:`portal.signing.future.simulate_future_validation`), made at closing and after
  each renewal;
- the whole renewal of the agreement as ``flask archive renew-timestamps`` does it (renewal, verification
  of the new file, the stored reports made again with the ETSI report, the 30-year check, storing): each
  run renews the file the run before stored, so the file grows by one time-stamp a run;

each also as a ratio to the yardstick measured in the same run. Not a test: pytest does not collect it.
"""
from __future__ import annotations

import argparse
import logging
import time
from io import BytesIO

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.signers.pdf_signer import PdfTimeStamper

from portal.agreements.signing import signing_setup
from portal.archive.timestamp_renewal import renew
from portal.extensions import db
from portal.models import Agreement
from portal.signing import pades
from portal.signing.future import simulate_future_validation
from tests.bench.signing_bench import medians_ms
from tests.bench.signed_documents import bench_app, people, print_ratio_table, ratio_rows, signed_agreements

PLAIN = "plain pyHanko: a document time-stamp"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--wall", action="store_true", help="wall time instead of the process's CPU time")
    arguments = parser.parse_args()
    runs, clock = arguments.runs, (time.perf_counter if arguments.wall else time.process_time)
    logging.disable(logging.WARNING)  # pyHanko's notes on revocation fetching

    rows: list[tuple[str, float, float]] = []
    with bench_app():
        agreements = signed_agreements(people())
        setup = signing_setup()
        for count, agreement in agreements.items():
            pdf, agreement_id = agreement.document.signed_pdf, agreement.id

            def plain() -> object:
                out = BytesIO()
                PdfTimeStamper(setup.timestamper).timestamp_pdf(IncrementalPdfFileWriter(BytesIO(pdf), strict=False), "sha256", output=out)
                return out

            def whole() -> object:
                outcome = renew(agreement_id, "digest_not_accepted")
                assert outcome.result == "renewed", outcome.message
                db.session.expire_all()
                return outcome

            results = medians_ms({
                PLAIN: plain,
                "renewal of the file (DSS + time-stamp)": lambda: pades.renew_archival_timestamp(
                    pdf, setup.validation_context(pades.embedded_certificates(pdf)), setup.timestamper),
                "30-year check (simulated validation)": lambda: simulate_future_validation(pdf, setup.trust_roots),
                "whole renewal of the agreement (command)": whole,
            }, runs, clock)
            assert len(db.session.get(Agreement, agreement_id).document.renditions) == runs + 1
            rows.extend(ratio_rows(count, results, PLAIN))

    print_ratio_table('renewing the time-stamp (' + ('wall' if arguments.wall else 'CPU') + ' time)', rows)


if __name__ == "__main__":
    main()
