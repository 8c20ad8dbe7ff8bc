"""Step «meetings»: how often the council meets, when the agenda goes out, and the minutes."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import Length, NumberRange, Optional

from portal.language import lazy_gettext as _l

from .fields import Required, WholeNumberField


class MeetingsForm(FlaskForm):
    meetings_per_year = WholeNumberField(
        _l("Meetings per year"),
        description=_l("At least 2, as Politidirektoratet recommends."),
        default=4,
        validators=[
            Required(_l("Enter how many meetings the council holds each year")),
            NumberRange(min=2, max=52, message=_l("The council must meet at least 2 and at most 52 times a year")),
        ],
    )
    agenda_days_before = WholeNumberField(
        _l("Days before the meeting the agenda is sent out"),
        description=_l("At least 7 days (one week)."),
        default=7,
        validators=[
            Required(_l("Enter how many days before the meeting the agenda is sent out")),
            NumberRange(min=7, max=90, message=_l("The agenda must go out at least 7 and at most 90 days before the meeting")),
        ],
    )
    minutes_archived = BooleanField(
        _l("Minutes are written for every meeting and archived"),
        validators=[Required(_l("The agreement must say that minutes are written and archived"))],
    )
    minutes_archive_location = StringField(
        _l("Where the minutes are archived (optional)"),
        description=_l("For example «the municipality's case and archive system»."),
        validators=[Optional(), Length(max=200, message=_l("Use at most 200 characters"))],
    )

    def prepare(self) -> None:
        pass
