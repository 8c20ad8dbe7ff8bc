"""At 390 px wide (a phone) no page of the portal scrolls sideways: tables become stacked rows, long words
wrap (issue 9, item 10). Every HTML page the app has is visited, as a role that may see it; a page added
later without a visit here fails the test."""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlsplit

import pytest

from forms.steps import STEP_NAMES
from portal.agreements.lifecycle import start_renewal
from portal.auth.invitations import PURPOSE as INVITATION
from portal.auth.password_reset import PURPOSE as PASSWORD_RESET
from portal.auth.passwords import make_link_token
from portal.extensions import db
from portal.models import DocumentRendition, Role
from tests import factories
from tests.conftest import PASSWORD

from .conftest import axe_check, screenshot, sign_in
from .test_signing_in_browser import finalised  # noqa: F401  (the fixture: sealed off the main thread)

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
#: Files, not pages: they have no width to keep.
NOT_PAGES = {"static", "pages.vendor", "pages.inter_font", "pages.agreement_css", "pki.crl", "pki.ca_certificate", "pki.ocsp_get",
             "agreements.document_pdf", "agreements.preview_pdf", "agreements.evaluation_document", "archive.package",
             "archive.signed_pdf_download", "archive.validation_json", "archive.validation_etsi", "archive.bulk_download",
             "archive.noark5", "archive.bulk_noark5", "archive.rendition_download",
             "archive.bulk_package"}
#: Not pages of ours: they send the browser on to the identity provider (or answer its front-channel
#: logout in an invisible frame); the provider's own pages are the provider's to fit.
PROVIDER_HANDOFFS = {"auth.provider_sign_in", "auth.accept_invitation_with_provider", "auth.step_up",
                     "auth.provider_callback", "auth.front_channel_logout"}

WIDTHS = """() => {
    const wider = [...document.querySelectorAll('body *')].filter(element => {
        const box = element.getBoundingClientRect();
        return box.right > document.documentElement.clientWidth + 1;
    }).slice(-5).map(element => element.tagName + (element.id ? '#' + element.id : '') + '.' + element.className
                      + ' ' + Math.round(element.getBoundingClientRect().right) + ' «' + (element.innerText || '').slice(0, 30) + '»');
    return {scroll: document.documentElement.scrollWidth, viewport: document.documentElement.clientWidth, wider};
}"""


def test_no_page_scrolls_sideways_at_390_px(app, new_page, people, finalised, subtests):  # type: ignore[no-untyped-def]  # noqa: F811
    draft = factories.complete_agreement(people.coordinator, (factories.VOSS, factories.ULVIK), long_text=True)
    signed = factories.archived_agreement(people.coordinator)
    # The archive page with a previous rendition (its table) and a 30-year check that failed (the longer text).
    document = signed.document
    document.future_validation_result, document.future_validation_time = "REVOCATION_OUT_OF_BOUNDS_NO_POE", datetime(2056, 3, 1, tzinfo=timezone.utc)
    document.future_validation_checked_at = datetime(2026, 3, 1, tzinfo=timezone.utc)
    db.session.add(DocumentRendition(document=document, revision=1, pdf=document.signed_pdf, sha256=document.signed_sha256,
                                     size=len(document.signed_pdf), reason="digest_not_accepted"))
    renewal = start_renewal(signed, people.coordinator, signed.active_from)
    invited = factories.user("invitert@voss.example.org", Role.SIGNATORY, people.administrator.organisation, None, "Ida Invitert")
    db.session.commit()
    ids = {"draft": draft.id, "signed": signed.id, "renewal": renewal.id, "finalised": finalised, "invited": invited.id}
    tokens = {"invitation": make_link_token(invited, INVITATION), "reset": make_link_token(people.coordinator, PASSWORD_RESET)}
    emails = {role: getattr(people, role).email for role in ("coordinator", "mayor", "archivist", "administrator")}
    db.session.close()

    visits: dict[str | None, list[str]] = {
        None: ["/", "/sign-in", "/password-reset", "/accessibility", "/verify",
               f"/invitation/{tokens['invitation']}", f"/password-reset/{tokens['reset']}"],
        "coordinator": ["/agreements/", "/dashboard", f"/agreements/{ids['draft']}", f"/agreements/{ids['draft']}/check",
                        f"/agreements/{ids['draft']}/delete", f"/agreements/{ids['signed']}",
                        *[f"/agreements/{ids['draft']}/steps/{step}" for step in STEP_NAMES],
                        f"/agreements/{ids['renewal']}/steps/evaluation"],
        "mayor": [f"/agreements/{ids['finalised']}", f"/agreements/{ids['finalised']}/sign"],
        "archivist": ["/archive/", f"/archive/{ids['signed']}", f"/archive/{ids['signed']}/validation"],
        "administrator": ["/admin/users", "/admin/users/invite", f"/admin/users/{ids['invited']}/role"],
    }
    adapter = app.url_map.bind("localhost")
    visited = set()
    for role, paths in visits.items():
        page = new_page(viewport=PHONE)
        if role is not None:
            sign_in(page, emails[role], PASSWORD)
        for path in paths:
            with subtests.test(role=role, path=path):
                response = page.goto(path)
                assert response is not None and response.status == 200, f"{path} answered {response and response.status}"
                assert urlsplit(page.url).path == urlsplit(path).path, f"{path} was sent on to {page.url}"
                visited.add(adapter.match(urlsplit(path).path)[0])
                widths = page.evaluate(WIDTHS)
                if widths["scroll"] > widths["viewport"]:
                    screenshot(page, "narrow-" + path.strip("/").replace("/", "-"))
                assert widths["scroll"] <= widths["viewport"], f"{path} as {role} is {widths['scroll']} px wide: {widths['wider']}"
        if role == "coordinator":
            page.goto(f"/agreements/{ids['signed']}")
            axe_check(page)  # the stacked tables are still tables to a screen reader
            screenshot(page, "narrow-agreement")
            page.goto(f"/agreements/{ids['draft']}/delete")
            axe_check(page)  # the confirmation page for deleting a draft

    html_pages = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods} - NOT_PAGES - PROVIDER_HANDOFFS
    assert html_pages - visited == set(), "pages not visited at 390 px"
