"""Steps «priorities» (local priority areas, expected results, follow-up) and «slt» (relation to SLT)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, StringField, TextAreaField
from wtforms.validators import Length, ValidationError

from portal.language import lazy_gettext as _l

from .fields import Required, radio_field

MAX_PRIORITY_AREAS = 20

#: Typical priority areas, from KS's guidance on SLT and politiråd. Offered as suggestions only, in the
#: agreement's written standard (a chosen one is printed in it).
SUGGESTED_PRIORITY_AREAS = {
    "nynorsk": [
        "Oppvekst og levekår",
        "Barn og unge",
        "Barnevern",
        "Fritid",
        "Organisert kriminalitet",
        "Ordenssituasjonen",
        "Planlegging av fysiske omgivnader og reguleringsplanar",
        "Trafikktilhøve og samferdsel",
        "Skjenking og utelivsbransjen",
        "Narkotikasituasjonen",
        "Integrering",
        "Prostitusjon og menneskehandel",
        "Store arrangement",
        "Vald i nære relasjonar",
        "Beredskap og samfunnstryggleik",
    ],
    "bokmal": [
        "Oppvekst og levekår",
        "Barn og unge",
        "Barnevern",
        "Fritid",
        "Organisert kriminalitet",
        "Ordenssituasjonen",
        "Planlegging av fysiske omgivelser og reguleringsplaner",
        "Trafikkforhold og samferdsel",
        "Skjenking og utelivsbransjen",
        "Narkotikasituasjonen",
        "Integrering",
        "Prostitusjon og menneskehandel",
        "Store arrangementer",
        "Vold i nære relasjoner",
        "Beredskap og samfunnssikkerhet",
    ],
}


class PriorityAreaForm(Form):
    title = StringField(
        _l("Priority area"),
        validators=[Required(_l("Enter the priority area")), Length(max=200, message=_l("Use at most 200 characters"))],
    )
    expected_results = TextAreaField(
        _l("Expected results"),
        description=_l("What the council expects to achieve, so that it can be evaluated at the end of the year."),
        validators=[Required(_l("Enter the expected results for the priority area")), Length(max=3000, message=_l("Use at most 3000 characters"))],
    )


class PriorityAreasForm(FlaskForm):
    priority_areas = FieldList(FormField(PriorityAreaForm), min_entries=1, max_entries=MAX_PRIORITY_AREAS)
    follow_up_responsible = StringField(
        _l("Who is responsible for following up the council's recommendations?"),
        description=_l("For example «the SLT coordinator and the police contact»."),
        default="SLT-koordinator og politikontakt",
        validators=[Required(_l("Enter who is responsible for follow-up")), Length(max=300, message=_l("Use at most 300 characters"))],
    )

    def prepare(self, standard: str) -> None:
        self.suggestions = SUGGESTED_PRIORITY_AREAS[standard]

    def validate_priority_areas(self, field: FieldList) -> None:
        if not field.entries:
            raise ValidationError(_l("Add at least one priority area"))
        titles = [(entry.form.title.data or "").strip().lower() for entry in field.entries]
        if len(set(titles)) != len(titles):
            raise ValidationError(_l("Each priority area can be listed only once"))


class SltForm(FlaskForm):
    slt_relation = radio_field(
        _l("How does the council relate to SLT?"),
        [
            ("steering_group", _l("The council is the steering group for SLT")),
            ("coordinated", _l("SLT has its own steering group; the council and SLT coordinate their work")),
            ("no_slt", _l("There is no SLT cooperation in the municipality")),
        ],
        _l("Choose how the council relates to SLT"),
    )
    slt_relation_description = TextAreaField(
        _l("Describe how the council and SLT work together"),
        description=_l("Needed when SLT has its own steering group; optional otherwise."),
        validators=[Length(max=2000, message=_l("Use at most 2000 characters"))],
    )

    def prepare(self) -> None:
        pass

    def validate_slt_relation_description(self, field: TextAreaField) -> None:
        if self.slt_relation.data == "coordinated" and not (field.data or "").strip():
            raise ValidationError(_l("Describe how the council and SLT coordinate their work"))
