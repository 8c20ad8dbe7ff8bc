"""A live server, one headless Chromium per run, a fresh browser context per test, and axe-core.

The live server serves the session's ``app`` from a background thread, so the browser reads and writes
the same database the tests prepare with ``people`` and ``tests.factories`` (and that the autouse
fixture in ``tests/conftest.py`` empties after each test).
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from werkzeug.serving import make_server

from portal import PROJECT_ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SCREENSHOTS = Path("/tmp/portal-browser-screenshots")


@pytest.fixture(scope="session")
def live_server(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The portal on a free port of 127.0.0.1; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    """One headless Chromium for the whole run (Debian's; Playwright cannot download its own here)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"The browser tests need Debian's Chromium at {CHROMIUM}, and it is missing. "
            "Install it with `apt-get install chromium`.",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_page(browser, live_server, request) -> Iterator[Callable[..., Any]]:  # type: ignore[no-untyped-def]
    """Open a page in a new browser context (its own cookies); keyword arguments go to ``new_context``."""
    contexts = []

    def open_page(**options: Any):  # type: ignore[no-untyped-def]
        settings: dict[str, Any] = {"base_url": live_server, "viewport": {"width": 1280, "height": 900}}
        settings.update(options)
        context = browser.new_context(**settings)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.problems = problems = []  # type: ignore[attr-defined]
        page.on("console", lambda message: _console_problem(message, problems))
        page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        page.on("response", lambda response: _resource_problem(response, problems))
        page.on("requestfailed", lambda failed: _failed_request(failed, problems))
        return page

    yield open_page
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for number, context in enumerate(contexts):
        if failed:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            for page_number, page in enumerate(context.pages):
                try:
                    page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}-{number}-{page_number}-failed.png"), full_page=True)
                except Exception as error:  # the screenshot only helps to explain a failure reported already
                    print(f"no screenshot of the failed page: {error}")
        context.close()


def _console_problem(message, problems: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Errors in the console, such as a Content-Security-Policy refusal. Failed loads are judged in
    ``_resource_problem`` instead: the console also reports the 400 of a page that shows form errors."""
    if message.type == "error" and not message.text.startswith("Failed to load resource"):
        problems.append(f"console: {message.text}")


def _failed_request(failed, problems: list[str]) -> None:  # type: ignore[no-untyped-def]
    """A request that got no answer; one cut short because the user went on to the next page is fine."""
    if "ERR_ABORTED" not in (failed.failure or ""):
        problems.append(f"{failed.url} failed: {failed.failure}")


def _resource_problem(response, problems: list[str]) -> None:  # type: ignore[no-untyped-def]
    """A style sheet, script, image or font the page asked for and did not get."""
    request = response.request
    if response.status >= 400 and request.resource_type not in ("document", "other") and not request.url.endswith("/favicon.ico"):
        problems.append(f"{request.resource_type} {request.url} answered {response.status}")


@pytest.fixture
def page(new_page):  # type: ignore[no-untyped-def]
    """A page in a fresh context whose relative URLs go to the live server."""
    return new_page()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


# ------------------------------------------------------------------ helpers for the tests


def axe_check(page) -> None:  # type: ignore[no-untyped-def]
    """axe-core finds no WCAG 2.1 A/AA violations on the page as it is now, and the page logged no errors.

    axe is evaluated through the DevTools protocol rather than added as a <script>: the portal's
    Content-Security-Policy (script-src 'self') rightly refuses inline scripts, and the test must not
    switch that policy off.
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(f"() => {{ {AXE.read_text(encoding='utf-8')}\n; window.axe = axe; }}")
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_TAGS,
    )
    violations = result["violations"]
    report = []
    for violation in violations:
        report.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>")
        for node in violation["nodes"]:
            report.append(f"    {' '.join(map(str, node['target']))}: {node.get('failureSummary', '').replace(chr(10), ' ')}")
    assert not violations, f"axe-core found {len(violations)} violation(s) on {page.url}:\n" + "\n".join(report)
    problems = list(page.problems)
    assert not problems, f"the browser reported errors on {page.url}: {problems}"


def sign_in(page, email: str, password: str) -> None:  # type: ignore[no-untyped-def]
    """Sign in through the form, as a person does, and end on the page the portal shows next."""
    page.goto("/sign-in")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    with page.expect_navigation():
        page.locator("#password").press("Enter")
    assert "/sign-in" not in page.url, f"signing in as {email} failed: {page.locator('main').inner_text()}"


def screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _signed_in_a_thread(app, user_ids: dict[str, int]) -> int:  # type: ignore[no-untyped-def]
    from types import SimpleNamespace

    from portal.extensions import db
    from portal.models import User
    from tests import factories

    with app.app_context():
        people = SimpleNamespace(**{role: db.session.get(User, user_id) for role, user_id in user_ids.items()})
        return factories.signed_agreement(people).id


@pytest.fixture
def signed(app, people) -> int:  # type: ignore[no-untyped-def]
    """The id of an agreement signed by the people fixture's mayor and station chief, signed in a thread of
    its own: pyHanko's synchronous calls run an event loop, and Playwright's already runs one in the test's thread."""
    from concurrent.futures import ThreadPoolExecutor

    from portal.extensions import db

    db.session.commit()
    user_ids = {role: getattr(people, role).id for role in ("coordinator", "mayor", "station_chief")}
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(_signed_in_a_thread, app, user_ids).result(timeout=120)
