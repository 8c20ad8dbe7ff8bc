"""The signing page: read the agreement as it will be signed, sign it, or decline it with a reason."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from ..access import agreement_for_reading, roles_required
from ..auth import provider, sessions
from ..auth.identity import Authentication
from ..documents import agreement_html
from ..extensions import db
from .. import jobs
from ..templating import norwegian_date
from ..models import Agreement, AgreementStatus, BackgroundTask, Role, TaskState
from . import bp, browser_signing, signing
from .forms import PKCS12_MAX_BYTES, DeclineForm, SignForm
from .lifecycle import record_event, versions_of


def _not_open_message(agreement: Agreement) -> str:
    status = agreement.status
    if status is AgreementStatus.DECLINED:
        return _("This version was declined and can no longer be signed. The coordinators are working on a new version.")
    if status is AgreementStatus.SUPERSEDED:
        return _("This version has been replaced by a newer one and can no longer be signed.")
    if status is AgreementStatus.DRAFT:
        return _("This agreement is still a draft. It can be signed when it has been finalised.")
    if status in (AgreementStatus.ACTIVE, AgreementStatus.RENEWAL_DUE, AgreementStatus.EXPIRED):
        return _("The agreement is signed by everyone and is in force.")
    return _("This agreement cannot be signed now.")


def _refusal(error: signing.SigningError, agreement: Agreement) -> str:
    if isinstance(error, signing.NameMismatch):
        return _("The agreement names someone else for this signature than the holder of this account or key. Nothing was signed.")
    if isinstance(error, signing.AlreadySigned):
        return _("You have already signed this agreement. A person signs only once.")
    if isinstance(error, signing.NotOpenForSigning):
        return _not_open_message(agreement)
    if isinstance(error, signing.Conflict):
        return _("Many signed at the same moment and your signature could not be added. Nothing was changed. Try again.")
    return _("The agreement could not be signed, and the document is unchanged. Try again in a moment.")


def _offer_key_sources(form: SignForm) -> None:
    """The key sources of the configuration, and the signatory's credentials at the signing service."""
    setup = signing.signing_setup()
    form.use_key_sources(setup.key_sources())
    if "csc" in setup.key_sources():
        from ..signing import csc

        try:
            form.csc_credential.choices = [(c.credential_id, c.label) for c in csc.credentials_of(setup, current_user.email)]
        except csc.CscError:
            form.csc_credential.choices = []


def _where_it_stands(agreement: Agreement, slot) -> str | None:  # type: ignore[no-untyped-def]
    """Once the signatory has signed, or everyone has: what state the agreement is in, in a sentence."""
    if agreement.status in (AgreementStatus.ACTIVE, AgreementStatus.RENEWAL_DUE, AgreementStatus.EXPIRED):
        return _not_open_message(agreement)
    if agreement.status is AgreementStatus.FINALISED and slot is not None and slot.signed_at is not None:
        waiting = sum(1 for other in agreement.signature_slots if other.signed_at is None)
        return ngettext("You have signed. %(num)d signature is still missing.",
                        "You have signed. %(num)d signatures are still missing.", waiting)
    return None


def _correction_request(slot, user) -> str:  # type: ignore[no-untyped-def]
    """What the coordinators are asked to correct when the agreement names someone else than the account."""
    return _("The agreement names %(named)s for this signature, but the e-mail address %(email)s belongs to my account "
             "in the name of %(name)s. Please correct the name or the e-mail address in a new version.",
             named=slot.name, email=slot.email, name=user.name)


def _proves_with_provider() -> bool:
    """A signatory bound to a proven identity confirms a signature at the identity provider, not with a password."""
    return provider.configured() and current_user.identity_hmac is not None


def _recent_authentication() -> Authentication | None:
    """This session's authentication at the provider, if it is at the signing level and recent enough."""
    record = sessions.current()
    if record is None or not provider.recent_enough_for_signing(record.acr, record.authenticated_at):
        return None
    return Authentication(record.acr, list(record.amr or []), record.authenticated_at)


def _page(agreement: Agreement, sign_form: SignForm, decline_form: DeclineForm, *, refusal: str | None = None, status: int = 200):
    slot = signing.slot_for(agreement, current_user)
    setup = signing.signing_setup()
    if not sign_form.key_source.choices:
        _offer_key_sources(sign_form)
    open_slot = slot is not None and slot.signed_at is None and agreement.status is AgreementStatus.FINALISED
    named_for = slot is not None and signing.is_named_for(slot, current_user)
    if open_slot and not named_for and not decline_form.reason.data:
        decline_form.reason.data = _correction_request(slot, current_user)
    step_up = None
    if _proves_with_provider():
        if "password" in sign_form:
            del sign_form.password
        if _recent_authentication() is None:
            step_up = url_for("auth.step_up", agreement_id=agreement.id)
    return render_template(
        "agreements/sign.html",
        agreement=agreement,
        slot=slot,
        sign_form=sign_form,
        decline_form=decline_form,
        refusal=refusal,
        can_sign=open_slot and named_for,
        name_mismatch=open_slot and not named_for,
        where_it_stands=_where_it_stands(agreement, slot),
        not_open=None if agreement.status is AgreementStatus.FINALISED else _not_open_message(agreement),
        closed_level=setup.level_when_closed.value,
        offered=setup.key_sources(),
        devices=browser_signing.devices_of(current_user) if slot is not None else [],
        step_up=step_up,
        provider_name=provider.provider_name(),
        step_up_minutes=current_app.config["OIDC_STEP_UP_MAX_AGE"] // 60,
        document=agreement_html(agreement, draft=False, heading_level=3),
    ), status


def signed_message(result: signing.SignResult, agreement_id: int) -> str:
    """What the signatory is told after signing, with any key source."""
    closed = db.session.get(Agreement, agreement_id, populate_existing=True)
    if result.completed and closed is not None and closed.status is not AgreementStatus.FINALISED:
        return _("You have signed. That was the last signature: the agreement is in force from %(date)s. The document is at PAdES level %(level)s.",
                 date=norwegian_date(closed.active_from), level=closed.document.pades_level)
    if result.completed:
        return _("You have signed. That was the last signature: the agreement is now being closed for long-term "
                 "validation, and comes into force in a moment.")
    return _("You have signed. The others who are to sign have not all done so yet.")


@bp.app_template_filter("device_label")
def device_label(user_agent: str) -> str:
    from ..signing.browser_keys import device_label as label

    return label(user_agent or "")


@bp.app_template_global("closing_of")
def closing_of(agreement: Agreement) -> BackgroundTask | None:
    """The closing of a fully signed agreement, while it is under way (or failed); None otherwise."""
    if not signing.being_closed(agreement):
        return None
    return jobs.task(signing.closing_job_id(agreement.id)) or BackgroundTask(id=signing.closing_job_id(agreement.id), state=TaskState.QUEUED)


@bp.route("/<int:agreement_id>/close", methods=["POST"])
@roles_required(Role.COORDINATOR)
def close(agreement_id: int):
    """Try the closing of a fully signed agreement again (after it failed)."""
    agreement = agreement_for_reading(agreement_id)
    if signing.being_closed(agreement):
        jobs.enqueue(signing.close_signed_agreement, agreement.id, job_id=signing.closing_job_id(agreement.id),
                     started_by=current_user.id)
        flash(_("Closing the agreement has started again."), "info")
    else:
        flash(_("This agreement is not waiting to be closed."), "info")
    return redirect(url_for("agreements.show", agreement_id=agreement_id))


@bp.app_template_global("awaits_signature_of")
def awaits_signature_of(agreement: Agreement, user) -> bool:  # type: ignore[no-untyped-def]
    """``user`` holds an unsigned slot of ``agreement``, which is open for signing."""
    if agreement.status is not AgreementStatus.FINALISED or not getattr(user, "is_authenticated", False):
        return False
    slot = signing.slot_for(agreement, user)
    return slot is not None and slot.signed_at is None


def _newer_version_to_sign(agreement: Agreement) -> Agreement | None:
    """For a declined version: the newest later version, finalised or further, that the user signs too."""
    if agreement.status is not AgreementStatus.DECLINED:
        return None
    newer = [version for version in versions_of(agreement, drafts=False)
             if version.version > agreement.version and signing.slot_for(version, current_user) is not None]
    return newer[-1] if newer else None


bp.app_template_global("declined_before")(signing.declined_before)


class NotASignatory(Exception):
    """The signed-in signatory holds no signature of the agreement they opened."""

    def __init__(self, agreement: Agreement) -> None:
        self.agreement = agreement


@bp.errorhandler(NotASignatory)
def not_a_signatory(error: NotASignatory):  # type: ignore[no-untyped-def]
    """Not a bare 403: why there is nothing to sign here, who is to sign, and whom to ask."""
    return render_template("agreements/not_signatory.html", agreement=error.agreement), 403


def _signatory_agreement(agreement_id: int) -> Agreement:
    agreement = agreement_for_reading(agreement_id)
    if signing.slot_for(agreement, current_user) is None:
        raise NotASignatory(agreement)
    return agreement


@bp.route("/<int:agreement_id>/sign", methods=["GET", "POST"])
@roles_required(Role.SIGNATORY)
def sign(agreement_id: int):
    agreement = _signatory_agreement(agreement_id)
    form = SignForm()
    _offer_key_sources(form)
    if not form.is_submitted():
        newer = _newer_version_to_sign(agreement)
        if newer is not None:  # the link in the first e-mail leads on to the version that replaced it
            flash(_("Version %(old)d was declined. This is version %(new)d, which replaces it.",
                    old=agreement.version, new=newer.version), "info")
            return redirect(url_for("agreements.sign", agreement_id=newer.id))
        form.key_source.data = form.key_source.choices[0].value
        record_event(agreement, "opened", current_user._get_current_object())
        db.session.commit()
        return _page(agreement, form, DeclineForm(formdata=None))
    authentication = None
    if _proves_with_provider():
        authentication = _recent_authentication()
        if authentication is None:  # not proven at the signing level lately: through the provider, then back here
            return redirect(url_for("auth.step_up", agreement_id=agreement_id))
        del form.password
    if not form.validate():
        return _page(agreement, form, DeclineForm(formdata=None), status=400)
    choice = signing.KeyChoice(form.key_source.data)
    if choice.source == "pkcs12":
        data = form.pkcs12_file.data.read(PKCS12_MAX_BYTES + 1)
        if len(data) > PKCS12_MAX_BYTES:
            form.pkcs12_file.errors.append(_("The certificate file is too large to be a certificate file"))
            return _page(agreement, form, DeclineForm(formdata=None), status=400)
        choice.pkcs12_data, choice.pkcs12_passphrase = data, form.passphrase.data or ""
    elif choice.source == "pkcs11":
        choice.pin = form.pin.data or ""
    elif choice.source == "csc":
        choice.credential_id, choice.pin = form.csc_credential.data, form.csc_pin.data or ""
    elif choice.source == "browser":  # the page signs with the browser's key through JavaScript, not this form
        form.key_source.errors.append(_("Signing with a key in this browser needs JavaScript, which is turned off or blocked. "
                                        "Turn it on, or choose another way to sign. Nothing was signed."))
        return _page(agreement, form, DeclineForm(formdata=None), status=400)
    user = current_user._get_current_object()
    try:
        result = signing.sign(agreement, user, form.password.data if authentication is None else None, choice,
                              authentication=authentication)
    except signing.WrongPassword:
        form.password.errors.append(_("The password is not right. Nothing was signed."))
        return _page(agreement, form, DeclineForm(formdata=None), status=400)
    except signing.Locked:
        form.password.errors.append(_("Too many wrong passwords. Try again in %(minutes)d minutes. Nothing was signed.",
                                      minutes=current_app.config["LOCKOUT_MINUTES"]))
        return _page(agreement, form, DeclineForm(formdata=None), status=400)
    except signing.KeyProblem as error:
        db.session.rollback()
        if str(error) == "wrong_passphrase":
            form.passphrase.errors.append(_("The passphrase does not open the certificate file. Nothing was signed."))
        elif str(error) == "invalid_pkcs12":
            form.pkcs12_file.errors.append(_("The file is not a certificate file with a private key (PKCS#12). Nothing was signed."))
        elif str(error) == "wrong_pin":
            form.pin.errors.append(_("The PIN does not open your signing key. Nothing was signed."))
        elif str(error) == "no_token_key":
            form.key_source.errors.append(_("There is no signing key for %(email)s in the key store. Ask the portal's "
                                            "administrator to install your key and certificate. Nothing was signed.",
                                            email=user.email.strip().lower()))
        elif str(error) == "no_token_certificate":
            form.key_source.errors.append(_("Your signing key in the key store has no certificate. Ask the portal's "
                                            "administrator to install your certificate. Nothing was signed."))
        elif str(error) == "issuer":
            form.key_source.errors.append(_("The certificate of this key is not issued by an authority this portal accepts "
                                            "for signatures. Choose another key. Nothing was signed."))
        elif str(error) == "csc_pin":
            form.csc_pin.errors.append(_("The signing service did not accept the PIN. Nothing was signed."))
        elif str(error) == "csc_authorisation":
            form.csc_pin.errors.append(_("The signing service did not accept the authorisation; it may have expired. "
                                         "Enter the PIN again. Nothing was signed."))
        elif str(error) == "csc_unavailable":
            form.key_source.errors.append(_("The signing service cannot be reached now. Try again later, or choose another "
                                            "way to sign. Nothing was signed."))
        else:
            form.key_source.errors.append(_("Signing with this key is not available. Nothing was signed."))
        return _page(agreement, form, DeclineForm(formdata=None), status=400)
    except signing.SigningError as error:
        db.session.rollback()
        agreement = db.session.get(Agreement, agreement_id, populate_existing=True) or agreement
        return _page(agreement, SignForm(formdata=None), DeclineForm(formdata=None), refusal=_refusal(error, agreement), status=409)
    flash(signed_message(result, agreement_id), "success")
    return redirect(url_for("agreements.sign", agreement_id=agreement_id))


@bp.route("/<int:agreement_id>/decline", methods=["POST"])
@roles_required(Role.SIGNATORY)
def decline(agreement_id: int):
    agreement = _signatory_agreement(agreement_id)
    form = DeclineForm()
    if not form.validate():
        return _page(agreement, SignForm(formdata=None), form, status=400)
    try:
        signing.decline(agreement, current_user._get_current_object(), form.reason.data.strip())
    except signing.SigningError as error:
        db.session.rollback()
        agreement = db.session.get(Agreement, agreement_id, populate_existing=True) or agreement
        return _page(agreement, SignForm(formdata=None), DeclineForm(formdata=None), refusal=_refusal(error, agreement), status=409)
    flash(_("You have declined to sign. The coordinators have been told why and get a new version to change."), "success")
    return redirect(url_for("agreements.sign", agreement_id=agreement_id))
