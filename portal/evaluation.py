"""The year-end evaluation of an agreement's priority areas, as a short archival PDF.

The evaluation is written in the first step of the agreement's renewal and stored with the agreement it
evaluates (``PriorityAreaEvaluation``). Its PDF is PDF/A-2b like the agreement (ISO 19005-2), in the
agreement's written standard, rendered from ``pdf_templates/evaluation.html`` with the same fonts,
fetcher and reproducible metadata, so the same evaluation always gives the same bytes.
"""
from __future__ import annotations

from dataclasses import dataclass

from .documents import (
    PDF_OPTIONS, _as_utc, _context, _environment, _finish, document_standard, norwegian_date, paragraphs, render_pdf_document,
)
from .models import Agreement


@dataclass(frozen=True)
class AreaEvaluationText:
    title: str
    expected_results: list[str]
    evaluated: bool
    what_was_done: list[str]
    achieved: list[str]
    carried_forward: list[str]


def has_evaluation(agreement: Agreement) -> bool:
    """Whether any of the agreement's priority areas has been evaluated."""
    return any(area.evaluation is not None for area in agreement.priority_areas)


def evaluation_html(agreement: Agreement) -> str:
    """The whole HTML document of the evaluation, for WeasyPrint."""
    context = _context(agreement, draft=False, heading_level=1)
    standard = document_standard(agreement)
    words = context["t"]["evaluation"]
    evaluations = [area.evaluation for area in agreement.priority_areas if area.evaluation is not None]
    latest = max(evaluations, key=lambda evaluation: _as_utc(evaluation.evaluated_at), default=None)
    reference = {"reference": agreement.reference, "version": agreement.version}
    start = norwegian_date(agreement.active_from or agreement.start_date, standard)
    period = (words["period_until"].format(start=start, end=norwegian_date(agreement.renewal_due_on, standard), **reference)
              if agreement.renewal_due_on else words["period"].format(start=start, **reference))
    evaluated_by = ""
    if latest is not None and latest.evaluated_by is not None:
        evaluated_by = words["evaluated_by"].format(
            name=latest.evaluated_by.name, date=norwegian_date(_as_utc(latest.evaluated_at).date(), standard))
    modified = _as_utc(latest.evaluated_at) if latest else _as_utc(agreement.updated_at)
    return _environment().get_template("evaluation.html").render(
        t=context["t"], e=words, draft=False, lang=context["lang"], html_lang=context["html_lang"],
        title=context["title"], full_title=f"{words['kind']} – {context['title']}", authors=context["authors"],
        subject=words["subject"].format(**reference), keywords=[*context["keywords"], words["kind"].lower()],
        created=modified.isoformat(), modified=modified.isoformat(),
        footer_reference=words["footer_reference"].format(**reference), period=period, evaluated_by=evaluated_by,
        areas=[
            AreaEvaluationText(
                area.title.strip(), paragraphs(area.expected_results), area.evaluation is not None,
                paragraphs(area.evaluation.what_was_done if area.evaluation else ""),
                paragraphs(area.evaluation.achieved if area.evaluation else ""),
                paragraphs(area.evaluation.carried_forward if area.evaluation else ""),
            )
            for area in agreement.priority_areas
        ],
    )


def evaluation_pdf(agreement: Agreement) -> bytes:
    """The evaluation of ``agreement`` as a PDF/A-2b document."""
    return render_pdf_document(evaluation_html(agreement)).write_pdf(finisher=_finish, **PDF_OPTIONS)

