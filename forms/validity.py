"""Step «validity»: §4 Gyldighet. The agreement is revised every year from its start date."""
from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from wtforms import DateField, StringField
from wtforms.validators import Length, ValidationError

from portal.language import lazy_gettext as _l

from .fields import Required


class NorwegianDateField(DateField):
    """A date typed as 31.12.2026 or chosen in the browser's date picker (2026-12-31)."""

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Enter a real date, like 01.01.2027")) from None


class ValidityForm(FlaskForm):
    start_date = NorwegianDateField(
        _l("Start date"),
        description=_l("The agreement applies from this date and is revised every year."),
        format=["%Y-%m-%d", "%d.%m.%Y"],
        validators=[Required(_l("Enter the date the agreement starts"))],
    )
    place = StringField(
        _l("Place"),
        description=_l("Where the agreement is made, for example the municipality's administrative centre."),
        validators=[Required(_l("Enter the place")), Length(max=100, message=_l("Use at most 100 characters"))],
    )

    def prepare(self, today: date) -> None:
        self.today = today

    def validate_start_date(self, field: NorwegianDateField) -> None:
        if field.data is None:
            return
        if field.data.year < self.today.year - 1:
            raise ValidationError(_l("The start date cannot be more than a year back"))
        if (field.data - self.today).days > 2 * 366:
            raise ValidationError(_l("The start date cannot be more than two years ahead"))
