"""Step «parties»: the municipalities, and step «police»: district, station and written standard."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import FieldList, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, StopValidation, ValidationError

from portal.language import lazy_gettext as _l

from .fields import Required, options, radio_field

MAX_MUNICIPALITIES = 10


class PartiesForm(FlaskForm):
    municipalities = FieldList(
        SelectField(
            _l("Municipality"),
            validators=[Required(_l("Choose a municipality from the list, or remove the empty row"))],
            invalid_choice_message=_l("Choose a municipality from the list"),
        ),
        min_entries=1,
        max_entries=MAX_MUNICIPALITIES,
    )

    def prepare(self, municipality_choices: dict[str, list[tuple[str, str]]], required_municipality: tuple[str, str] | None) -> None:
        """``municipality_choices`` are grouped by county; ``required_municipality`` is the user's own."""
        self.required_municipality = required_municipality
        choices = [SelectChoice("", _l("Choose a municipality"))]
        for county, pairs in municipality_choices.items():
            choices += options(pairs, optgroup=county)
        for entry in self.municipalities:
            entry.choices = choices

    def validate_municipalities(self, field: FieldList) -> None:
        chosen = [entry.data for entry in field.entries if entry.data]
        seen: set[str] = set()
        for entry in field.entries:
            if entry.data and entry.data in seen:  # the message goes to the row that repeats one
                entry.errors.append(_l("This municipality is already chosen above. Choose another one, or remove this row"))
            seen.add(entry.data)
        if len(set(chosen)) != len(chosen):
            field.errors = [entry.errors for entry in field.entries]
            raise StopValidation()
        if self.required_municipality and self.required_municipality[0] not in chosen:
            raise ValidationError(
                _l("%(name)s must be one of the parties, because you draft the agreement on its behalf",
                   name=self.required_municipality[1])
            )


class PoliceForm(FlaskForm):
    police_district = SelectField(
        _l("Police district"),
        description=_l("Suggested from the municipality's county. Choose another if the municipality belongs elsewhere."),
        validators=[Required(_l("Choose the police district"))],
        invalid_choice_message=_l("Choose the police district from the list"),
    )
    police_station = StringField(
        _l("Police station or lensmann office"),
        description=_l("The local police unit that takes part, for example «Voss politistasjon»."),
        validators=[Required(_l("Enter the police station or lensmann office")), Length(max=200, message=_l("Use at most 200 characters"))],
    )
    written_standard = radio_field(
        _l("Written standard of the agreement"),
        [("nynorsk", _l("Nynorsk")), ("bokmal", _l("Bokmål"))],
        _l("Choose nynorsk or bokmål"),
    )

    def prepare(self, district_choices: list[tuple[str, str]], allowed_standards: list[str], standard_reason: str | None) -> None:
        self.police_district.choices = options([("", _l("Choose a police district")), *district_choices])
        self.allowed_standards = allowed_standards
        self.standard_reason = standard_reason

    def validate_written_standard(self, field: RadioField) -> None:
        if field.data and field.data not in self.allowed_standards:
            raise ValidationError(self.standard_reason or _l("Choose nynorsk or bokmål"))
