"""Steps «members» (the fixed members), «leadership» (who leads, who is secretariat) and «contacts»."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, HiddenField, StringField
from wtforms.validators import Length, Optional, ValidationError

from portal.language import lazy_gettext as _l

from .fields import Required, email_field, name_field, options, radio_field

#: Titles in today's usage first; the older ones stay selectable. The title is printed in the agreement,
#: so it is offered in the agreement's written standard, in the same order in both.
STATION_CHIEF_TITLES = {
    "nynorsk": [
        ("Politistasjonssjef", _l("Politistasjonssjef (station chief)")),
        ("Lensmann", _l("Lensmann")),
        ("Politiavdelingsleiar", _l("Politiavdelingsleiar (head of police department)")),
    ],
    "bokmal": [
        ("Politistasjonssjef", _l("Politistasjonssjef (station chief)")),
        ("Lensmann", _l("Lensmann")),
        ("Politiavdelingsleder", _l("Politiavdelingsleder (head of police department)")),
    ],
}


def station_chief_title_in(title: str, standard: str) -> str:
    """The same title in the other written standard («Politiavdelingsleder» → «Politiavdelingsleiar»)."""
    for titles in STATION_CHIEF_TITLES.values():
        values = [value for value, _label in titles]
        if title in values:
            return STATION_CHIEF_TITLES[standard][values.index(title)][0]
    return title
CHIEF_EXECUTIVE_TITLES = [
    ("Kommunedirektør", _l("Kommunedirektør (chief municipal executive)")),
    ("Rådmann", _l("Rådmann")),
]
MAX_CONTACTS = 30


class MunicipalMembersForm(Form):
    """The mayor and the chief executive of one of the municipalities."""

    municipality_number = HiddenField()
    mayor_name = name_field(_l("Mayor's name"), _l("Enter the mayor's name"))
    mayor_email = email_field(_l("Mayor's e-mail address"), _l("Enter the mayor's e-mail address"))
    chief_executive_name = name_field(_l("Chief executive's name"), _l("Enter the chief executive's name"))
    chief_executive_title = radio_field(
        _l("Chief executive's title"), CHIEF_EXECUTIVE_TITLES, _l("Choose the chief executive's title"),
        default="Kommunedirektør",
    )
    chief_executive_email = email_field(_l("Chief executive's e-mail address"), _l("Enter the chief executive's e-mail address"))


class MembersForm(FlaskForm):
    municipalities = FieldList(FormField(MunicipalMembersForm))
    station_chief_name = name_field(_l("Station chief's name"), _l("Enter the station chief's name"))
    station_chief_title = radio_field(
        _l("Station chief's title"), STATION_CHIEF_TITLES["nynorsk"], _l("Choose the station chief's title"),
        default="Politistasjonssjef",
    )
    station_chief_email = email_field(_l("Station chief's e-mail address"), _l("Enter the station chief's e-mail address"))
    police_contact_name = name_field(_l("Police contact's name"), _l("Enter the police contact's name"))
    police_contact_email = email_field(_l("Police contact's e-mail address"), _l("Enter the police contact's e-mail address"))
    slt_coordinator_name = name_field(_l("Name of the SLT coordinator or secretary"), _l("Enter the name of the SLT coordinator or secretary"))
    slt_coordinator_title = StringField(
        _l("Title of the SLT coordinator or secretary"),
        default="SLT-koordinator",
        validators=[Required(_l("Enter the title of the SLT coordinator or secretary")), Length(max=200, message=_l("Use at most 200 characters"))],
    )
    slt_coordinator_email = email_field(_l("E-mail address of the SLT coordinator or secretary"), _l("Enter the e-mail address of the SLT coordinator or secretary"))

    def prepare(self, municipality_names: dict[str, str], standard: str) -> None:
        """One group of mayor and chief executive for each municipality that is a party, in order; the
        station chief's titles in the agreement's written standard."""
        self.municipality_names = municipality_names
        self.station_chief_title.choices = options(STATION_CHIEF_TITLES[standard])

    def validate_municipalities(self, field: FieldList) -> None:
        numbers = [entry.form.municipality_number.data for entry in field.entries]
        if numbers != list(self.municipality_names):
            raise ValidationError(_l("The municipalities have changed since this page was opened. Check the names and save again."))


class LeadershipForm(FlaskForm):
    leadership = radio_field(
        _l("Who leads the council?"),
        [
            ("mayor", _l("The mayor leads the council")),
            ("rotating", _l("The leadership rotates between the mayor and the station chief")),
        ],
        _l("Choose who leads the council"),
        default="mayor",
    )
    secretariat = radio_field(
        _l("Who is the secretariat?"),
        [
            ("slt_coordinator", _l("The SLT coordinator")),
            ("police_contact", _l("The police contact")),
            ("other", _l("Someone else")),
        ],
        _l("Choose who is the secretariat"),
        default="slt_coordinator",
    )
    secretariat_other = StringField(
        _l("If someone else: who is the secretariat?"),
        validators=[Length(max=200, message=_l("Use at most 200 characters"))],
    )

    def prepare(self, leader_choices: list[tuple[str, str]]) -> None:
        """Who may lead depends on the parties: «the mayor», or with several municipalities, which one."""
        self.leadership.choices = options(leader_choices)

    def validate_secretariat_other(self, field: StringField) -> None:
        if self.secretariat.data == "other" and not (field.data or "").strip():
            raise ValidationError(_l("Say who is the secretariat"))


class ContactForm(Form):
    """A contact from business, a voluntary organisation or an interest organisation."""

    category = radio_field(
        _l("Kind of contact"),
        [
            ("business_contact", _l("Business")),
            ("voluntary_contact", _l("Voluntary organisation")),
            ("interest_contact", _l("Interest organisation")),
        ],
        _l("Choose the kind of contact"),
    )
    organisation_name = name_field(_l("Organisation"), _l("Enter the name of the organisation"))
    name = StringField(_l("Contact person (optional)"), validators=[Optional(), Length(max=200, message=_l("Use at most 200 characters"))])
    email = email_field(_l("E-mail address (optional)"))


class ContactsForm(FlaskForm):
    contacts = FieldList(FormField(ContactForm), min_entries=0, max_entries=MAX_CONTACTS)

    def prepare(self) -> None:
        pass
