"""Benchmark of verification: `.venv/bin/python -m tests.bench.bench_verify [--runs N]` (or: make bench).

For a fully signed agreement of 1 and of 3 municipalities (signed and closed at B-LTA through the portal's
own services, in a temporary SQLite database), the median CPU time (``--wall``: wall time) of

- plain pyHanko validating *one* of its signatures (the first mayor's, with pyHanko's own difference
  analysis, on a freshly parsed file): the yardstick, run with pyHanko's and asn1crypto's own code (the
  portal's :mod:`portal.signing.pyhanko_speedups` taken out for it);
- the same with those speed-ups in place (what they alone give);
- the portal's report, cold: a new file, every signature and time-stamp validated; and the same with the
  libraries' own code (before the speed-ups, measured in the same run);
- the same file again (warm): the process's cache (same bytes, same trust settings);
- the stored report: what the archive reads (the report stored when the agreement was closed);
- ``POST /verify.json``, cold and warm, through the Flask app;
- cold reports back to back with the garbage collector left to run as it comes (the timings above each
  start from a collected heap), as in a web worker: once as is, once with the objects made before
  frozen (``gc.freeze()``, as ``wsgi.py`` does after start-up);

each also as a ratio to the yardstick measured in the same run. Not a test: pytest does not collect it.
"""
from __future__ import annotations

import argparse
import gc
import logging
import time
from io import BytesIO

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from portal import validation_reports
from portal.signing import pyhanko_speedups
from portal.agreements.signing import signing_setup
from portal.extensions import db
from portal.models import Agreement
from tests.bench.signing_bench import medians_ms
from tests.bench.signed_documents import bench_app, people, print_ratio_table, ratio_rows, signed_agreements

PLAIN = "plain pyHanko, one signature (with its diff)"
SPED_UP = "the same with the portal's pyHanko speed-ups"


def checked(response):  # type: ignore[no-untyped-def]
    """A timing of a failed request would measure nothing: stop."""
    assert response.status_code == 200 and response.json["verdict"] == "valid", response.get_data(as_text=True)[:300]
    return response


def back_to_back(action, count: int, clock, frozen: bool) -> float:  # type: ignore[no-untyped-def]
    """Mean time of ``count`` calls in a row without collecting in between (after one collection), with
    the objects made so far frozen out of the collector's way or not."""
    gc.collect()
    if frozen:
        gc.freeze()
    try:
        start = clock()
        for _ in range(count):
            action()
        return (clock() - start) * 1000 / count
    finally:
        gc.unfreeze()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--wall", action="store_true", help="wall time instead of the process's CPU time")
    arguments = parser.parse_args()
    runs, clock = arguments.runs, (time.perf_counter if arguments.wall else time.process_time)
    logging.disable(logging.WARNING)  # pyHanko's notes on revocation fetching, once per validation

    rows: list[tuple[str, float, float]] = []
    with bench_app(VERIFY_RATE_LIMIT="100000 per minute") as app:
        agreements = signed_agreements(people())
        roots = signing_setup().trust_roots  # the same trust anchors for plain pyHanko
        client = app.test_client()
        for count, agreement in agreements.items():
            pdf = agreement.document.signed_pdf
            agreement_id = agreement.id

            def plain() -> object:
                with pyhanko_speedups.unpatched():
                    return plain_sped_up()

            def plain_sped_up() -> object:
                pyhanko_speedups.forget()  # no names prepared by an earlier run
                reader = PdfFileReader(BytesIO(pdf), strict=False)
                mayor = next(sig for sig in reader.embedded_regular_signatures if sig.field_name.startswith("Signatur_ordforar"))
                return validate_pdf_signature(mayor, ValidationContext(trust_roots=roots, revocation_mode="soft-fail"))

            def cold() -> object:
                validation_reports._cache.clear()  # as for a file not seen before
                pyhanko_speedups.forget()  # and its certificates' names not prepared before
                return validation_reports.cached_report(pdf)

            def cold_unpatched() -> object:
                with pyhanko_speedups.unpatched():
                    return cold()

            def stored() -> object:
                db.session.expire_all()
                return validation_reports.report_for_agreement(db.session.get(Agreement, agreement_id))

            def json_cold() -> object:
                validation_reports._cache.clear()
                pyhanko_speedups.forget()
                return checked(client.post("/verify.json", data=pdf, content_type="application/pdf"))

            def json_warm() -> object:
                return checked(client.post("/verify.json", data=pdf, content_type="application/pdf"))

            results = medians_ms({
                PLAIN: plain,
                SPED_UP: plain_sped_up,
                "report, cold (new file)": cold,
                "report, cold, without the speed-ups": cold_unpatched,
                "report, warm (same file again: cache)": lambda: validation_reports.cached_report(pdf),
                "report, stored (archive)": stored,
                "POST /verify.json, cold": json_cold,
                "POST /verify.json, warm": json_warm,
            }, runs, clock)
            for name, frozen in (("cold, 8 back to back, garbage collected as it comes", False),
                                 ("the same, start-up objects frozen (gc.freeze(), as wsgi.py)", True)):
                results[name] = back_to_back(cold, 8, clock, frozen)
            rows.extend(ratio_rows(count, results, PLAIN))

    print_ratio_table('verification (' + ('wall' if arguments.wall else 'CPU') + ' time)', rows)


if __name__ == "__main__":
    main()
