"""Accepting an invitation: the invited person chooses a password and is signed in."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _


from ..models import Role, User
from ..safety import is_safe_redirect
from . import bp, provider, sessions
from .choose_password import choose_password_from_link
from .passwords import user_from_link_token

PURPOSE = "invitation"


def invited_user(token: str) -> User | None:
    """The person an invitation link was made for, while the link is unused: forged, expired or spent links
    (a password chosen, or an identity bound) give None."""
    user = user_from_link_token(token, PURPOSE, current_app.config["INVITATION_MAX_AGE_DAYS"] * 86400)
    return user if user is not None and user.identity_hmac is None else None


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    if invited_user(token) is None:
        return render_template("auth/link_invalid.html"), 400
    target = request.args.get("next")
    target = target if is_safe_redirect(target) else None

    def welcome(user):  # type: ignore[no-untyped-def]
        sessions.begin(user, "password")
        flash(_("Welcome, %(name)s. Your account is ready.", name=user.name), "success")
        return redirect(target or url_for("pages.home"))

    max_age = current_app.config["INVITATION_MAX_AGE_DAYS"] * 86400
    # With a provider configured the invitation is accepted by proving one's identity there; a password
    # is offered beside it only where passwords are still allowed for the person's role.
    with_provider = (
        url_for("auth.accept_invitation_with_provider", token=token, next=target) if provider.configured() else None
    )
    return choose_password_from_link(
        token, PURPOSE, max_age, _("Choose a password for your account"), welcome, with_provider=with_provider,
        passwords_for=lambda user: provider.passwords_allowed(user.role is Role.SIGNATORY),
    )
