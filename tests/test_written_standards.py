"""The agreement keeps the official template's sentences word for word (the seed template is the legal
text), while what the portal adds to it is in the agreement's written standard: nynorsk in a nynorsk
document, bokmål in a bokmål one (issue 9, item 15)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from portal.documents import agreement_html
from portal.extensions import db
from portal.models import MemberRole, WrittenStandard

from . import factories
from .wizard_answers import answer

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


def seed_template() -> Path:
    """The official template (``../shared/seeds/002_*.txt``, beside the project as in CI)."""
    found = sorted(SEEDS.glob("002_*.txt"))
    if not found:
        raise FileNotFoundError(f"the official template (002_*.txt) was not found in {SEEDS}: ../shared must be beside the project")
    return found[0]


def plain(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", str(html))).replace(" .", ".").replace(" ,", ",")


def template_sentences() -> list[str]:
    """The template's running text from «1. Formål» on: its paragraphs and list items, without the lines
    that are only blanks to fill in. The template's own alternative «kommunens/ kommunenes» is filled
    for one municipality; the follow-up sentence names its responsible in a blank of its own."""
    text = seed_template().read_text(encoding="utf-8")
    body = text[text.index("1. Formål:"):]
    sentences = []
    for line in body.splitlines():
        line = line.strip().removeprefix("- ").strip()
        if len(line) < 30 or "_" in line or not line.endswith("."):
            continue
        line = line.replace("kommunens/ kommunenes", "kommunens")
        line = line.removeprefix("SLT-koordinator, politikontakt eller andre utpekte ansvarlige, ")
        sentences.append(line)
    return sentences


def test_the_nynorsk_agreement_keeps_every_sentence_of_the_official_template(people):
    assert len(template_sentences()) >= 15
    agreement = factories.complete_agreement(people.coordinator)
    agreement.agenda_days_before = 7
    text = plain(agreement_html(agreement, draft=False))
    missing = [sentence for sentence in template_sentences() if sentence not in text]
    assert missing == []
    assert "Det vert halde 4 møter pr. år, minimum 2." in text


@pytest.mark.parametrize(("standard", "own", "other"), [
    (WrittenStandard.NYNORSK, ["Vald i nære relasjonar", "Beredskap og samfunnstryggleik", "Politiavdelingsleiar"],
     ["Vold i nære relasjoner", "omgivelser", "Politiavdelingsleder"]),
    (WrittenStandard.BOKMAL, ["Vold i nære relasjoner", "Beredskap og samfunnssikkerhet", "Politiavdelingsleder"],
     ["Vald i nære relasjonar", "omgivnader", "samfunnstryggleik", "Politiavdelingsleiar"]),
])
def test_suggestions_and_titles_are_offered_in_the_agreements_written_standard(client, people, standard, own, other):
    agreement = factories.complete_agreement(people.coordinator, standard=standard)
    db.session.commit()
    client.sign_in(people.coordinator)
    pages = client.get(f"/agreements/{agreement.id}/steps/priorities").get_data(as_text=True)
    pages += client.get(f"/agreements/{agreement.id}/steps/members").get_data(as_text=True)
    for words in own:
        assert words in pages, words
    for words in other:
        assert words not in pages, words


def test_a_title_follows_the_agreement_into_the_other_written_standard(client, people):
    agreement = factories.complete_agreement(people.coordinator, (factories.BERGEN,), standard=WrittenStandard.BOKMAL)
    agreement.members_in(MemberRole.STATION_CHIEF)[0].title = "Politiavdelingsleder"
    db.session.commit()
    client.sign_in(people.other_coordinator)
    response = answer(client, agreement.id, "police", {"written_standard": "nynorsk"})
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    db.session.expire_all()
    chief = db.session.get(type(agreement), agreement.id).members_in(MemberRole.STATION_CHIEF)[0]
    assert chief.title == "Politiavdelingsleiar"
    assert "Politiavdelingsleiar" in plain(agreement_html(chief.agreement, draft=True))
