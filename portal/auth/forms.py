"""Forms for signing in and choosing a password."""
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from ..language import lazy_gettext as _l
from .passwords import MINIMUM_PASSWORD_LENGTH


class SignInForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(_l("Enter your e-mail address"))])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password"))])


class RequestPasswordResetForm(FlaskForm):
    email = EmailField(
        _l("E-mail address"),
        validators=[
            DataRequired(_l("Enter your e-mail address")),
            Email(_l("Enter an e-mail address in the right format, like navn@kommune.no")),
        ],
    )


class ChoosePasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        description=_l("At least %(count)d characters.", count=MINIMUM_PASSWORD_LENGTH),
        validators=[
            DataRequired(_l("Enter a new password")),
            Length(
                min=MINIMUM_PASSWORD_LENGTH,
                max=200,
                message=_l("The password must be at least %(count)d characters long", count=MINIMUM_PASSWORD_LENGTH),
            ),
        ],
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[
            DataRequired(_l("Repeat the new password")),
            EqualTo("password", _l("The two passwords are not the same")),
        ],
    )
