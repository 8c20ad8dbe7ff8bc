"""The signing page's two forms: sign (confirm who you are, choose the key) and decline (with a reason)."""
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import PasswordField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from ..language import lazy_gettext as _l

#: Every way to sign the page may offer (which it offers: :meth:`SigningSetup.key_sources`).
KEY_SOURCE_LABELS = {
    "browser": _l("A signing key in this browser: made on your device the first time, it never leaves it"),
    "csc": _l("My signing key at the signing service, authorised with its PIN"),
    "pkcs12": _l("My own certificate file (PKCS#12: .p12 or .pfx) and its passphrase"),
    "pkcs11": _l("My signing key in the key store (HSM), opened with its PIN"),
    "portal": _l("The portal signs for you with your key (kept by the portal, opened with your password)"),
}
PKCS12_MAX_BYTES = 1024 * 1024


class SignForm(FlaskForm):
    key_source = RadioField(_l("Sign with"), choices=[], default="browser",
                            validators=[DataRequired(_l("Choose what to sign with"))])
    password = PasswordField(
        _l("Your password"),
        description=_l("Confirm who you are with the password you sign in with (not needed for a key in this browser)."),
    )
    csc_credential = RadioField(_l("Your key at the signing service"), choices=[], validate_choice=False)
    csc_pin = PasswordField(_l("PIN for your key at the signing service"),
                            description=_l("The signing service asks for it to authorise this one signature. It is never stored."))
    pkcs12_file = FileField(_l("Certificate file (.p12 or .pfx)"), description=_l("Used for this signature only and never stored."))
    passphrase = PasswordField(_l("Passphrase of the certificate file"))
    pin = PasswordField(_l("PIN for the signing key"), description=_l("The PIN of your signing key in the key store. It is never stored."))

    def use_key_sources(self, offered: list[str]) -> None:
        """Offer ``offered`` (:meth:`SigningSetup.key_sources`), the first one first."""
        self.key_source.choices = [SelectChoice(source, KEY_SOURCE_LABELS[source]) for source in offered]

    def validate_password(self, field) -> None:  # type: ignore[no-untyped-def]
        if self.key_source.data != "browser" and not field.data:
            raise ValidationError(_l("Enter your password"))

    def validate_csc_credential(self, field) -> None:  # type: ignore[no-untyped-def]
        if self.key_source.data == "csc" and field.data not in {choice[0] for choice in field.choices}:
            raise ValidationError(_l("Choose your key at the signing service"))

    def validate_csc_pin(self, field) -> None:  # type: ignore[no-untyped-def]
        if self.key_source.data == "csc" and not field.data:
            raise ValidationError(_l("Enter the PIN for your key at the signing service"))

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
