"""A mayor checks the signed agreement on «Kontroller ein signert PDF» in Chromium (issue 9, item 9): the
report starts with one sentence, shows times as the portal writes them, and keeps the technical details
(PAdES level, SHA-256, certificate chain) closed behind «Tekniske detaljar» until opened; the agreement
page does the same. axe-core finds nothing on the way, with the details closed and open.

Elements are found by id; the words checked are the sentence and the disclosure a reader sees.
"""
from __future__ import annotations

import re

import pytest

from portal.extensions import db
from portal.models import Agreement
from tests.conftest import PASSWORD

from .conftest import axe_check, screenshot, sign_in

pytestmark = pytest.mark.browser




def choose_nynorsk(page) -> None:  # type: ignore[no-untyped-def]
    page.locator("#language-choice").select_option("nn")
    with page.expect_navigation():
        page.locator("form.portal-language button").click()


def test_a_mayor_reads_the_verify_report_and_opens_the_technical_details(page, people, signed, tmp_path):  # type: ignore[no-untyped-def]
    agreement = db.session.get(Agreement, signed)
    pdf = tmp_path / "avtale.pdf"
    pdf.write_bytes(agreement.document.signed_pdf)

    page.goto("/verify")
    choose_nynorsk(page)
    page.goto("/verify")
    page.locator("#pdf").set_input_files(str(pdf))
    with page.expect_navigation():
        page.locator("#verify-submit").click()
    summary = page.locator("#verdict-summary").inner_text()
    assert summary.endswith("signerte dette dokumentet, og det er ikkje endra sidan.")
    assert "Ola Ordførar" in summary and "Siv Stasjonssjef" in summary
    details = page.locator("#technical-details")
    assert details.get_attribute("open") is None and not page.locator("#report-pades-level").is_visible()
    main = page.locator("main").inner_text()
    assert re.search(r"\d\d\.\d\d\.\d{4} kl\. \d\d:\d\d", main) and not re.search(r"\d{4}-\d\d-\d\dT", main)
    assert "none" not in main and "Common Name" not in main
    axe_check(page)

    page.locator("#technical-details summary").click()
    page.locator("#report-pades-level").wait_for(state="visible", timeout=5000)
    assert "B-LTA" in page.locator("#report-pades-level").inner_text()
    assert agreement.document.signed_sha256[:16] in details.inner_text().replace("\u200b", "")
    axe_check(page)
    screenshot(page, "verify-report-details")

    sign_in(page, people.mayor.email, PASSWORD)
    page.goto(f"/agreements/{signed}")
    assert not page.locator("#document-sha256").is_visible()
    page.locator("#technical-details summary").click()
    page.locator("#document-sha256").wait_for(state="visible", timeout=5000)
    assert page.locator("#document-sha256").inner_text().replace("\u200b", "").strip() == agreement.document.signed_sha256
    axe_check(page)
