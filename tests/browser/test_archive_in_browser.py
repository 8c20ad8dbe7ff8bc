"""An archivist finds a signed agreement in the archive, opens it, reads its validation report and
downloads the signed PDF, which is byte for byte the stored one; axe-core finds nothing on the way.

Elements are found by id, not by their words: the translations are still changing.
"""
from __future__ import annotations


import pytest

from portal.extensions import db
from portal.models import Agreement
from tests import factories
from tests.conftest import PASSWORD

from .conftest import axe_check, screenshot, sign_in

pytestmark = pytest.mark.browser




def test_an_archivist_finds_and_downloads_a_signed_agreement(page, people, signed, tmp_path):  # type: ignore[no-untyped-def]
    draft = factories.complete_agreement(people.coordinator, (factories.OSLO,))
    db.session.commit()
    agreement = db.session.get(Agreement, signed)
    assert agreement is not None
    stored = agreement.document.signed_pdf

    sign_in(page, people.archivist.email, PASSWORD)
    page.goto("/archive/")
    assert page.locator("main h1").count() == 1
    assert page.locator(f"#archive-results tr[data-agreement='{draft.id}']").count() == 0
    axe_check(page)

    page.locator("#archive-q").fill(agreement.reference)
    with page.expect_navigation():
        page.locator("#archive-find").click()
    assert page.locator("#archive-results tbody tr").count() == 1
    axe_check(page)
    screenshot(page, "archive-search")
    with page.expect_navigation():
        page.locator(f"#archive-results tr[data-agreement='{signed}'] a").click()
    assert page.locator("#signed-sha256").inner_text().replace("\u200b", "").strip() == agreement.document.signed_sha256
    axe_check(page)
    screenshot(page, "archive-agreement")

    with page.expect_download() as info:
        page.locator("#download-signed-pdf").click()
    download = info.value
    assert download.suggested_filename == f"{agreement.reference}-v1-signert.pdf"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    assert path.read_bytes() == stored

    # Validating fetches revocation data and takes seconds; on a loaded machine more than the default 10.
    with page.expect_navigation(timeout=60_000):
        page.locator("#validation-report").click(no_wait_after=True)
    assert page.locator("#verdict[data-color=success]").count() == 1
    axe_check(page)
