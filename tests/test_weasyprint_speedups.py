"""The portal's speed-ups of WeasyPrint's layout give what WeasyPrint's own code gives: the
same PDF, byte for byte, for agreements of every shape and for the evaluation."""
from __future__ import annotations

import pytest

from portal import documents, weasyprint_speedups
from portal.evaluation import evaluation_pdf
from portal.extensions import db
from portal.models import PriorityAreaEvaluation, WrittenStandard

from . import factories

LONG_WORD = "Kriminalitetsførebyggingssamarbeidskoordineringsansvarsfordelingsprinsipp"


def both_ways(render) -> tuple[bytes, bytes]:  # type: ignore[no-untyped-def]
    sped_up = render()
    with weasyprint_speedups.unpatched():
        assert not weasyprint_speedups.installed()
        plain = render()
    return sped_up, plain


def test_the_speedup_is_in_place_for_the_version_it_was_written_for() -> None:
    assert weasyprint_speedups.installed()


@pytest.mark.parametrize("shape", ["one municipality, final", "three municipalities in bokmål, draft", "long text, final"])
def test_an_agreement_gives_the_same_pdf_with_and_without_the_speedup(people, shape) -> None:
    if shape.startswith("one"):
        agreement = factories.complete_agreement(people.coordinator)
    elif shape.startswith("three"):
        agreement = factories.complete_agreement(people.coordinator, municipality_numbers=(factories.VOSS, factories.ULVIK, "4619"),
                                                 standard=WrittenStandard.BOKMAL)
    else:
        agreement = factories.complete_agreement(people.coordinator, municipality_numbers=(factories.VOSS, factories.ULVIK, "4619"),
                                                 priority_area_count=10, long_text=True)
        agreement.priority_areas[0].title = LONG_WORD
    db.session.flush()
    html = documents.document_html(agreement, draft="draft" in shape)
    wanted = tuple((signatory.element_id, signatory.field_name) for signatory in documents.signatories(agreement))
    sped_up, plain = both_ways(lambda: documents._pdf(html, wanted))
    assert sped_up == plain


def test_the_evaluation_gives_the_same_pdf_with_and_without_the_speedup(people) -> None:
    agreement = factories.complete_agreement(people.coordinator)
    agreement.priority_areas[0].evaluation = PriorityAreaEvaluation(
        what_was_done="Felles kontroller av skjenkesteder.", achieved="Ingen skjenking til mindreårige.",
        carried_forward="", evaluated_by=people.coordinator)
    db.session.flush()
    sped_up, plain = both_ways(lambda: evaluation_pdf(agreement))
    assert sped_up == plain


def test_other_versions_are_left_unpatched(monkeypatch) -> None:
    with weasyprint_speedups.unpatched():
        monkeypatch.setitem(weasyprint_speedups.WRITTEN_FOR, "weasyprint", "69.0")
        assert not weasyprint_speedups.install()
        monkeypatch.undo()
    assert weasyprint_speedups.installed()
