"""The agreement list: a row per agreement with its link, municipalities, state, last change and what the
user can do next, in the chosen language, names written as text. (The rows are written in Python,
``portal.agreements.listing.agreement_rows``; these are what a reader of the table gets.)"""
from __future__ import annotations

import html
import re

from portal.extensions import db
from portal.models import Municipality

from . import factories


def rows(page: str) -> dict[str, dict[str, str]]:
    """By agreement reference: each cell's words by its column name (``data-label``), and the action cell."""
    body = re.search(r"<tbody>(.*?)</tbody>", page, re.DOTALL)
    assert body, "no table of agreements"
    found = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.DOTALL):
        cells = re.findall(r'<td(?: data-label="([^"]*)")?>(.*?)</td>', row, re.DOTALL)
        words = {html.unescape(label) or "actions": " ".join(html.unescape(re.sub(r"<[^>]+>", "", cell)).split())
                 for label, cell in cells}
        found[re.search(r'<a class="ds-link" href="/agreements/\d+">([^<]+)</a>', row).group(1)] = words | {"markup": row}  # type: ignore[union-attr]
    return found


def test_each_row_links_the_agreement_and_says_what_the_coordinator_can_do_next(client, people):
    complete = factories.complete_agreement(people.coordinator, (factories.VOSS, "4637"))  # Voss and Hyllestad
    half_way = factories.complete_agreement(people.coordinator)
    half_way.completed_steps = ["parties", "police"]
    active = factories.archived_agreement(people.coordinator)
    db.session.commit()
    client.sign_in(people.coordinator)
    client.choose_language("en")
    listed = rows(client.get("/agreements/").get_data(as_text=True))

    row = listed[complete.reference]
    assert row["Agreement"] == f"{complete.reference}, version 1"
    assert f'<a class="ds-link" href="/agreements/{complete.id}">{complete.reference}</a>, version 1' in row["markup"]
    assert row["Municipalities"] == "Voss and Hyllestad"
    assert row["State"] == "Draft" and 'data-color="neutral"' in row["markup"]
    assert re.fullmatch(r"\d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d", row["Last changed"]), row["Last changed"]
    assert row["actions"] == f"Check the answers {complete.reference}"
    assert f'href="/agreements/{complete.id}/check">Check the answers<span class="ds-sr-only"> {complete.reference}</span></a>' in row["markup"]

    assert listed[half_way.reference]["actions"] == f"Continue {half_way.reference}"
    assert f'href="/agreements/{half_way.id}/steps/purpose"' in listed[half_way.reference]["markup"]  # the first step not answered

    assert listed[active.reference]["State"] == "Active" and 'data-color="success"' in listed[active.reference]["markup"]
    assert listed[active.reference]["actions"] == ""  # nothing to do on a signed agreement


def test_the_signatory_is_offered_only_what_awaits_their_signature(client, people):
    awaiting = factories.finalised_agreement(people.coordinator, people.mayor, people.station_chief)
    draft = factories.complete_agreement(people.coordinator)
    db.session.commit()
    client.sign_in(people.mayor)
    listed = rows(client.get("/agreements/").get_data(as_text=True))
    assert draft.reference not in listed  # a signatory does not see drafts
    assert listed[awaiting.reference]["actions"] == f"Signer {awaiting.reference}"
    assert listed[awaiting.reference]["Status"] == "Venter på signering"


def test_the_list_speaks_nynorsk_when_chosen(client, people):
    agreement = factories.complete_agreement(people.coordinator, (factories.VOSS, "4637"))
    db.session.commit()
    client.sign_in(people.coordinator)
    client.choose_language("nn")
    row = rows(client.get("/agreements/").get_data(as_text=True))[agreement.reference]
    assert row["Kommunar"] == "Voss og Hyllestad"
    assert row["Avtale"] == f"{agreement.reference}, versjon 1"
    client.choose_language("nb")
    assert rows(client.get("/agreements/").get_data(as_text=True))[agreement.reference]["Kommuner"] == "Voss og Hyllestad"


def test_names_and_references_are_written_as_text(client, people):
    agreement = factories.complete_agreement(people.coordinator, (factories.VOSS, "4637"))
    agreement.reference = 'PR-<i>"1"</i>&'
    db.session.get(Municipality, "4637").name = "Hyllestad <b>&</b>"
    db.session.commit()
    client.sign_in(people.coordinator)
    page = client.get("/agreements/").get_data(as_text=True)
    assert "<b>" not in page and "<i>" not in page
    assert "Voss og Hyllestad &lt;b&gt;&amp;&lt;/b&gt;" in page
    assert '<span class="ds-sr-only"> PR-&lt;i&gt;&#34;1&#34;&lt;/i&gt;&amp;</span>' in page
    assert rows(page)['PR-&lt;i&gt;&#34;1&#34;&lt;/i&gt;&amp;']["Kommuner"] == "Voss og Hyllestad <b>&</b>"
