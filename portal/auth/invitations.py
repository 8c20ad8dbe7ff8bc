"""Accepting an invitation: the invited person chooses a password and is signed in."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import login_user

from ..extensions import db
from . import bp
from .forms import ChoosePasswordForm
from .passwords import set_password, user_from_link_token

PURPOSE = "invitation"


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    max_age = current_app.config["INVITATION_MAX_AGE_DAYS"] * 86400
    user = user_from_link_token(token, PURPOSE, max_age)
    if user is None:
        return render_template("auth/link_invalid.html"), 400
    form = ChoosePasswordForm()
    if form.validate_on_submit():
        set_password(user, form.password.data or "")
        db.session.commit()
        session.clear()
        login_user(user)
        flash(_("Welcome, %(name)s. Your account is ready.", name=user.name), "success")
        return redirect(url_for("pages.home"))
    return render_template(
        "auth/choose_password.html", form=form, heading=_("Choose a password for your account"), user=user
    ), (400 if form.errors else 200)
