"""Step «evaluation», the first of a renewal: the year-end evaluation of last year's priority areas.

The template: the council evaluates its measures at the end of the year and carries what it learned
(«læringspunkter») into next year's work. One group of answers per priority area of the agreement
being renewed; the areas themselves come from that agreement and are not changed here.
"""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, TextAreaField
from wtforms.validators import Length, ValidationError

from portal.language import lazy_gettext as _l

from .fields import Required

MAX_TEXT = 3000


class AreaEvaluationForm(Form):
    what_was_done = TextAreaField(
        _l("What was done"),
        description=_l("The measures and activities of the past year in this priority area."),
        validators=[Required(_l("Enter what was done in the priority area")), Length(max=MAX_TEXT, message=_l("Use at most 3000 characters"))],
    )
    achieved = TextAreaField(
        _l("What it achieved"),
        description=_l("Measured against the expected results, where that is possible."),
        validators=[Required(_l("Enter what the work achieved")), Length(max=MAX_TEXT, message=_l("Use at most 3000 characters"))],
    )
    carried_forward = TextAreaField(
        _l("Learning points carried forward (optional)"),
        description=_l("What the council takes with it into next year's work. Leave empty if there is nothing."),
        validators=[Length(max=MAX_TEXT, message=_l("Use at most 3000 characters"))],
    )


class EvaluationForm(FlaskForm):
    areas = FieldList(FormField(AreaEvaluationForm))

    def prepare(self, areas: list[tuple[str, str]]) -> None:
        """``areas``: (title, expected results) of each priority area being evaluated, in order."""
        self.evaluated_areas = areas
        while len(self.areas.entries) < len(areas):
            self.areas.append_entry()

    def validate(self, extra_validators=None) -> bool:  # type: ignore[no-untyped-def]
        valid = super().validate(extra_validators)
        # Every area asks the same questions: name the area in each message, so the error summary's
        # links say which one they lead to.
        for (title, _expected), entry in zip(getattr(self, "evaluated_areas", []), self.areas.entries):
            for field in entry.form:
                field.errors = [f"{title}: {message}" for message in field.errors]
        return valid

    def validate_areas(self, field: FieldList) -> None:
        if len(field.entries) != len(self.evaluated_areas):
            raise ValidationError(_l("Evaluate each priority area of last year's agreement"))
