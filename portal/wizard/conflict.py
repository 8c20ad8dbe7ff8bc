"""A step's answers side by side: what someone else saved, and what the user typed on top of an older page."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Iterator

from flask_babel import gettext as _
from wtforms import BooleanField, Field, FieldList, Form, FormField, HiddenField, SelectField
from wtforms.csrf.core import CSRFTokenField

from ..templating import norwegian_date


@dataclass(frozen=True)
class Row:
    question: str
    theirs: str
    yours: str

    @property
    def differs(self) -> bool:
        return self.theirs != self.yours


def side_by_side(theirs: Form, yours: Form) -> list[Row]:
    """One row per question of either form, in page order: the saved answer and the typed one, as text."""
    saved, typed = dict(_answers(theirs)), dict(_answers(yours))
    questions = list(saved) + [question for question in typed if question not in saved]
    return [Row(question, saved.get(question, ""), typed.get(question, "")) for question in questions]


def _answers(form: Form, suffix: str = "") -> Iterator[tuple[str, str]]:
    for field in form:
        if isinstance(field, (CSRFTokenField, HiddenField)):
            continue
        if isinstance(field, FieldList):
            for number, entry in enumerate(field.entries, start=1):
                if isinstance(entry, FormField):
                    yield from _answers(entry.form, f" ({number})")
                else:
                    yield f"{entry.label.text}{suffix} ({number})", _shown(entry)
        elif isinstance(field, FormField):
            yield from _answers(field.form, suffix)
        else:
            yield f"{field.label.text}{suffix}", _shown(field)


def _shown(field: Field) -> str:
    value: Any = field.data
    if isinstance(field, BooleanField):
        return _("Yes") if value else _("No")
    if isinstance(value, date):
        return norwegian_date(value)
    if isinstance(field, SelectField) and value not in (None, ""):  # radio buttons too: the words, not the code
        return next((str(choice.label) for choice in field.iter_choices() if choice.selected), str(value))
    return "" if value is None else str(value).strip()
