"""Step «purpose»: §1 Formål and Hovudoppgåver. The standard text stands; the council may add to it."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, TextAreaField
from wtforms.validators import Length, ValidationError

from portal.language import lazy_gettext as _l

from .fields import Required

MAX_ADDITIONAL_TASKS = 15


class PurposeForm(FlaskForm):
    accept_standard_text = BooleanField(
        _l("We agree to the purpose and main tasks as written above"),
        validators=[Required(_l("Confirm that the council agrees to the standard purpose and main tasks"))],
    )
    purpose_addition = TextAreaField(
        _l("Local addition to the purpose (optional)"),
        description=_l("Added after the standard text, in the agreement's written standard."),
        validators=[Length(max=2000, message=_l("Use at most 2000 characters"))],
    )
    additional_main_tasks = TextAreaField(
        _l("Additional main tasks (optional)"),
        description=_l("One task per line. They are added to the list of main tasks."),
        validators=[Length(max=4000, message=_l("Use at most 4000 characters"))],
    )

    def prepare(self) -> None:
        pass

    def validate_additional_main_tasks(self, field: TextAreaField) -> None:
        tasks = task_lines(field.data)
        if len(tasks) > MAX_ADDITIONAL_TASKS:
            raise ValidationError(_l("Add at most %(count)d main tasks", count=MAX_ADDITIONAL_TASKS))
        if any(len(task) > 300 for task in tasks):
            raise ValidationError(_l("Each main task can be at most 300 characters"))


def task_lines(text: str | None) -> list[str]:
    """The non-empty lines of the main tasks box, without list marks a user may have typed."""
    return [line.strip().lstrip("-–•*").strip() for line in (text or "").splitlines() if line.strip().lstrip("-–•*").strip()]
