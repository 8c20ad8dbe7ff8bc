"""Signing in (with lock-out after repeated failures) and signing out."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, select

from ..extensions import db
from ..models import User
from ..safety import is_safe_redirect
from . import bp
from .forms import SignInForm
from .passwords import PasswordCheck, check_password


def _find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def fresh_session() -> None:
    """Start a new session (no session fixation), keeping only the language the person chose."""
    language = session.get("language")
    session.clear()
    if language:
        session["language"] = language


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("pages.home"))
    form = SignInForm()
    error = None
    if form.validate_on_submit():
        user = _find_user(form.email.data or "")
        check = check_password(user, form.password.data or "", form.email.data or "")
        if check is PasswordCheck.MATCHES and user is not None and user.is_active:
            db.session.commit()
            fresh_session()
            login_user(user)
            if user.language:
                session["language"] = user.language
            target = request.args.get("next")
            return redirect(target if is_safe_redirect(target) else url_for("pages.home"))
        else:
            # The same words whether the address is unknown, the password wrong, or the guesses throttled,
            # so the form does not reveal who has an account (OWASP ASVS 2.2.1).
            error = _("The e-mail address or the password is wrong. After several wrong attempts, signing in from "
                      "here is paused for %(minutes)d minutes; you can also reset your password.",
                      minutes=current_app.config["LOCKOUT_MINUTES"])
    return render_template("auth/sign_in.html", form=form, error=error), (400 if error or form.errors else 200)


@bp.route("/sign-out", methods=["POST"])
@login_required
def sign_out():
    logout_user()
    fresh_session()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.sign_in"))
