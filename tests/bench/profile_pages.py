"""CPU per request of the pages of ``tests.bench.bench_pages``, in one process with Flask's test client, and
a cProfile of one of them: `.venv/bin/python -m tests.bench.profile_pages [--requests N] [--profile PAGE]
[--rounds N] [--callers REGEX] [--save-html DIR]`.

The same database as bench_pages (the test suite's people, 60 agreements of Voss), signed in as the
coordinator. Without the HTTP server and its parsing, so the figures are a little below bench_pages'
worker CPU per request; they move with the same changes. ``--save-html`` writes each page (CSRF tokens
masked) to compare a change's pages with the ones before it. Not a test.
"""
from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import re
import tempfile
import time
from pathlib import Path

from tests.bench.bench_pages import AGREEMENTS, USER_AGENT, build_database
from tests.conftest import PASSWORD


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per page (default 200)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over the pages; the least counts (default 3)")
    parser.add_argument("--profile", choices=["bare", "base", "wizard", "list", "dashboard"], help="profile this page")
    parser.add_argument("--sort", default="cumulative", help="pstats sort key of the profile (default cumulative)")
    parser.add_argument("--lines", type=int, default=60, help="lines of the profile printed (default 60)")
    parser.add_argument("--callers", help="also print who calls the functions matching this regular expression")
    parser.add_argument("--save-html", type=Path, help="write each page's HTML into this folder")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'pages.sqlite3'}"
        draft_id = build_database(url)
        os.environ.update({"DATABASE_URL": url, "SECRET_KEY": "bench", "SESSION_COOKIE_SECURE": "false",
                           "PKI_FOLDER": str(Path(folder) / "pki"), "MAIL_SERVER": ""})
        from tests.bench.pages_app import app  # as gunicorn loads it (gc.freeze included)

        client = app.test_client()
        headers = {"User-Agent": USER_AGENT}
        page = client.get("/sign-in", headers=headers).get_data(as_text=True)
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        client.post("/sign-in", headers=headers,
                    data={"csrf_token": token, "email": "koordinator@voss.example.org", "password": PASSWORD})
        pages = {
            "bare": "/bench/bare",
            "base": "/accessibility",  # the base template and what every signed-in request costs
            "wizard": f"/agreements/{draft_id}/steps/members",
            "list": "/agreements/",
            "dashboard": "/dashboard",
        }
        for name, path in pages.items():  # warm up (templates compiled, caches filled)
            response = client.get(path, headers=headers)
            assert response.status_code == 200, (path, response.status_code)
            if arguments.save_html:
                arguments.save_html.mkdir(parents=True, exist_ok=True)
                html = re.sub(r'(name="csrf_token" (?:type="hidden" )?value=)"[^"]+"', r'\1"…"', response.get_data(as_text=True))
                (arguments.save_html / f"{name}.html").write_text(html)
        costs: dict[str, list[float]] = {name: [] for name in pages}
        for _ in range(arguments.rounds):  # the pages take turns; the least of the rounds is the least disturbed
            for name, path in pages.items():
                gc.collect()
                start = time.process_time()
                for _ in range(arguments.requests):
                    client.get(path, headers=headers)
                costs[name].append((time.process_time() - start) * 1000 / arguments.requests)
        print(f"{'page':<12} {'CPU ms/request':>15}   (least of {arguments.rounds} rounds of {arguments.requests} requests, "
              f"test client, {AGREEMENTS} agreements)")
        for name, values in costs.items():
            print(f"{name:<12} {min(values):15.2f}")
        if arguments.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(arguments.requests):
                client.get(pages[arguments.profile], headers=headers)
            profiler.disable()
            stats = pstats.Stats(profiler)
            stats.sort_stats(arguments.sort).print_stats(arguments.lines)
            if arguments.callers:
                stats.print_callers(arguments.callers)


if __name__ == "__main__":
    main()
