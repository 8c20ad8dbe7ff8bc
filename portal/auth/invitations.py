"""Accepting an invitation: the invited person chooses a password and is signed in."""
from __future__ import annotations

from flask import current_app, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import login_user

from . import bp
from .choose_password import choose_password_from_link
from .sign_in import fresh_session

PURPOSE = "invitation"


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    def welcome(user):  # type: ignore[no-untyped-def]
        fresh_session()
        login_user(user)
        flash(_("Welcome, %(name)s. Your account is ready.", name=user.name), "success")
        return redirect(url_for("pages.home"))

    max_age = current_app.config["INVITATION_MAX_AGE_DAYS"] * 86400
    return choose_password_from_link(token, PURPOSE, max_age, _("Choose a password for your account"), welcome)
