"""The verify report as a mayor reads it (issue 9, item 9): one plain sentence first; times as the portal
writes them, in Norwegian time; certificate names without English attribute labels; no bare codes; an
altered document is never called «B-LTA»; the technical details (PAdES level, SHA-256, certificate
chains) behind a «Tekniske detaljar» disclosure, on the agreement and signing pages too."""
from __future__ import annotations

import hashlib
import io
import re
from datetime import timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from . import factories


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


@pytest.fixture
def signed(people):  # type: ignore[no-untyped-def]
    return factories.signed_agreement(people)


def upload(client, data: bytes, language: str = "nn"):  # type: ignore[no-untyped-def]
    client.choose_language(language)
    return client.submit("/verify", {"pdf": (io.BytesIO(data), "avtale.pdf")}, content_type="multipart/form-data")


def test_the_report_starts_with_one_plain_sentence_and_keeps_the_technical_details_apart(client, signed):
    pdf = signed.document.signed_pdf
    response = upload(client, pdf)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    summary = re.search(r'id="verdict-summary"><strong>(.*?)</strong>', html).group(1)
    assert summary in {f"{a} og {b} signerte dette dokumentet, og det er ikkje endra sidan."
                       for a, b in (("Ola Ordførar", "Siv Stasjonssjef"), ("Siv Stasjonssjef", "Ola Ordførar"))}

    before, details = html.split('<details class="ds-details" id="technical-details">')
    # Times as the portal writes them, in Norwegian time (the slot's time is when the signature was made).
    for slot in signed.signature_slots:
        local = slot.signed_at.replace(tzinfo=slot.signed_at.tzinfo or timezone.utc).astimezone(ZoneInfo("Europe/Oslo"))
        shown = {(local + timedelta(minutes=extra)).strftime("%d.%m.%Y kl. %H:%M") for extra in (0, 1)}  # time-stamped a moment later
        assert any(moment in before for moment in shown), (slot.name, shown)
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d", html)
    # No untranslated codes or English labels anywhere on the page.
    for code in ("none", "Common Name", "Organization", "B-LTA", "LTA_UPDATES", "FORM_FILLING"):
        assert code not in text_of_part(before), code
    assert "Tekniske detaljar" in details
    assert "B-LTA" in details and hashlib.sha256(pdf).hexdigest()[:16] in details
    assert "Politirådsportalen Root CA" in details and "Common Name" not in details


def text_of_part(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def test_an_altered_document_is_not_called_b_lta(client, signed):
    writer = IncrementalPdfFileWriter(io.BytesIO(signed.document.signed_pdf))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    extra = writer.add_object(generic.StreamObject(stream_data=b"BT /F1 24 Tf 100 700 Td (Endra) Tj ET"))
    contents = page["/Contents"]
    page["/Contents"] = generic.ArrayObject([*(contents if isinstance(contents, generic.ArrayObject) else [contents]), extra])
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)

    response = upload(client, out.getvalue(), "nb")
    text = text_of(response)
    assert "Dokumentet er endret etter at det ble signert. Ikke stol på det." in text
    assert "B-LTA" not in text and "Ingen: dokumentet har ingen signatur som holder" in text
    as_json = client.post("/verify.json", data=out.getvalue(), content_type="application/pdf").json
    assert as_json["verdict"] == "altered" and as_json["pades_level"] == "none"


def test_the_agreement_and_signing_pages_keep_the_technical_details_behind_a_disclosure(client, people, signed):
    client.sign_in(people.mayor)
    client.choose_language("nn")
    for url in (f"/agreements/{signed.id}", f"/agreements/{signed.id}/sign"):
        html = client.get(url).get_data(as_text=True)
        before, details = html.split('<details class="ds-details" id="technical-details">')
        assert "<summary>Tekniske detaljar</summary>" in details
        assert signed.document.signed_sha256[:16] in details and "B-LTA" in details
        assert signed.document.signed_sha256[:16] not in before and "PAdES" not in text_of_part(before), url
