"""Signing in (with lock-out after repeated failures) and signing out."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from ..extensions import db
from ..models import Role, User
from ..safety import is_safe_redirect
from . import bp, provider, sessions
from .forms import SignInForm
from .identity import unseal
from .passwords import PasswordCheck, check_password

fresh_session = sessions.fresh_session  # kept importable from here


def _find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("pages.home"))
    form = SignInForm()
    error = None
    passwords = provider.passwords_allowed()
    if passwords and form.validate_on_submit():
        user = _find_user(form.email.data or "")
        check = check_password(user, form.password.data or "", form.email.data or "")
        matched = check is PasswordCheck.MATCHES and user is not None and user.is_active
        if matched and not provider.passwords_allowed(user.role is Role.SIGNATORY):
            db.session.commit()
            error = _("Signatories sign in with %(provider)s, not with a password.", provider=provider.provider_name())
        elif matched:
            sessions.begin(user, "password")
            target = request.args.get("next")
            return redirect(target if is_safe_redirect(target) else url_for("pages.home"))
        else:
            # The same words whether the address is unknown, the password wrong, or the guesses throttled,
            # so the form does not reveal who has an account (OWASP ASVS 2.2.1).
            error = _("The e-mail address or the password is wrong. After several wrong attempts, signing in from "
                      "here is paused for %(minutes)d minutes; you can also reset your password.",
                      minutes=current_app.config["LOCKOUT_MINUTES"])
    elif not passwords and form.is_submitted():
        error = _("Sign in with %(provider)s.", provider=provider.provider_name())
    target = request.args.get("next")
    return render_template(
        "auth/sign_in.html", form=form, error=error, passwords=passwords,
        provider_name=provider.provider_name() if provider.configured() else None,
        provider_link=url_for("auth.provider_sign_in", next=target if is_safe_redirect(target) else None),
    ), (400 if error or form.errors else 200)


@bp.route("/sign-out", methods=["POST"])
@login_required
def sign_out():
    """Sign out here, and at the provider too when the session began there (RP-initiated logout)."""
    from .. import select_locale

    language = select_locale()
    record = sessions.end_current("sign-out")
    flash(_("You are signed out."), "info")
    if record is not None and record.id_token_encrypted is not None and provider.configured():  # the provider took part
        after = current_app.config["PUBLIC_BASE_URL"] + url_for("auth.sign_in")
        elsewhere = provider.logout_url(unseal(record.id_token_encrypted), after, language)
        if elsewhere:
            return redirect(elsewhere)
    return redirect(url_for("auth.sign_in"))
