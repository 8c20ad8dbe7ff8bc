"""The signing page's two forms: sign (confirm who you are, choose the key) and decline (with a reason)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import PasswordField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

KEY_SOURCES = [
    SelectChoice("portal", _l("My signing key in the portal, opened with my password")),
    SelectChoice("pkcs12", _l("My own certificate file (PKCS#12: .p12 or .pfx) and its passphrase")),
]
#: Offered instead of ``portal`` when the signatories' keys are on a token (``SIGNING_KEY_SOURCE=pkcs11``).
PKCS11_CHOICE = SelectChoice("pkcs11", _l("My signing key in the key store (HSM), opened with its PIN"))
PKCS12_MAX_BYTES = 1024 * 1024


class SignForm(FlaskForm):
    password = PasswordField(
        _l("Your password"),
        description=_l("Confirm who you are with the password you sign in with."),
        validators=[DataRequired(_l("Enter your password"))],
    )
    key_source = RadioField(_l("Sign with"), choices=KEY_SOURCES, default="portal",
                            validators=[DataRequired(_l("Choose what to sign with"))])
    pkcs12_file = FileField(_l("Certificate file (.p12 or .pfx)"), description=_l("Used for this signature only and never stored."))
    passphrase = PasswordField(_l("Passphrase of the certificate file"))
    pin = PasswordField(_l("PIN for the signing key"), description=_l("The PIN of your signing key in the key store. It is never stored."))

    def use_key_sources(self, configured: str) -> None:
        """Offer the key sources of the configuration: a token replaces the portal-issued key."""
        if configured == "pkcs11":
            self.key_source.choices = [PKCS11_CHOICE, KEY_SOURCES[1]]
        else:
            self.key_source.choices = list(KEY_SOURCES)

    def validate_pin(self, field) -> None:  # type: ignore[no-untyped-def]
        if self.key_source.data == "pkcs11" and not field.data:
            raise ValidationError(_l("Enter the PIN for your signing key"))

    def validate_pkcs12_file(self, field) -> None:  # type: ignore[no-untyped-def]
        if self.key_source.data != "pkcs12":
            return
        upload = field.data
        if upload is None or not getattr(upload, "filename", ""):
            raise ValidationError(_l("Choose your certificate file (.p12 or .pfx)"))
        if not upload.filename.lower().endswith((".p12", ".pfx")):
            raise ValidationError(_l("The certificate file must be a .p12 or .pfx file"))


class DeclineForm(FlaskForm):
    reason = TextAreaField(
        _l("Why do you decline to sign?"),
        description=_l("The coordinators get your reason and a new version of the agreement to change."),
        validators=[DataRequired(_l("Write why you decline to sign")), Length(max=2000, message=_l("Write at most %(max)d characters", max=2000))],
    )
