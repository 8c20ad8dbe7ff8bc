"""Forgotten password: a link by e-mail, valid for a short time and only once."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from ..mail import queue_mail
from . import bp
from .choose_password import choose_password_from_link
from .forms import RequestPasswordResetForm
from .passwords import make_link_token
from .sign_in import _find_user

PURPOSE = "password-reset"


@bp.route("/password-reset", methods=["GET", "POST"])
def request_password_reset():
    form = RequestPasswordResetForm()
    if form.validate_on_submit():
        user = _find_user(form.email.data or "")
        if user is not None:
            link = current_app.config["PUBLIC_BASE_URL"] + url_for(
                "auth.reset_password", token=make_link_token(user, PURPOSE)
            )
            hours = current_app.config["PASSWORD_RESET_MAX_AGE_HOURS"]
            queue_mail(
                user.email,
                _("Reset your password for Politirådsportalen"),
                _(
                    "Hello %(name)s,\n\nSomeone (hopefully you) asked to reset your password for Politirådsportalen.\n"
                    "Open this link within %(hours)d hours to choose a new password:\n\n%(link)s\n\n"
                    "If you did not ask for this, you can ignore this message; your password stays as it is.\n",
                    name=user.name,
                    hours=hours,
                    link=link,
                ),
            )
        # The same answer whether or not the address has an account.
        return render_template("auth/password_reset_sent.html", email=form.email.data)
    return render_template("auth/request_password_reset.html", form=form), (400 if form.errors else 200)


@bp.route("/password-reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    def changed(user):  # type: ignore[no-untyped-def]
        flash(_("Your password is changed. You can sign in with it now."), "success")
        return redirect(url_for("auth.sign_in"))

    max_age = current_app.config["PASSWORD_RESET_MAX_AGE_HOURS"] * 3600
    return choose_password_from_link(token, PURPOSE, max_age, _("Choose a new password"), changed)
