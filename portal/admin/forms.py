from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length, Optional

from forms.fields import email_field, name_field, radio_field

from ..language import lazy_gettext as _l

ROLE_CHOICES = [
    ("coordinator", _l("Coordinator: drafts and manages agreements")),
    ("signatory", _l("Signatory: mayor or station chief, reads and signs")),
    ("archivist", _l("Archivist: reads and downloads signed agreements")),
    ("administrator", _l("Administrator: invites people and sets roles")),
]


class InviteForm(FlaskForm):
    name = name_field(_l("Full name"), _l("Enter the person's full name"))
    email = email_field(_l("E-mail address"), _l("Enter the person's e-mail address"))
    title = StringField(_l("Title (optional)"), description=_l("For example «Ordfører» or «SLT-koordinator»."), validators=[Optional(), Length(max=200, message=_l("Use at most 200 characters"))])
    role = radio_field(_l("Role"), ROLE_CHOICES, _l("Choose a role"))


class RoleForm(FlaskForm):
    role = radio_field(_l("Role"), ROLE_CHOICES, _l("Choose a role"))
