"""The page behind an e-mailed link (invitation or password reset) where a person chooses a password."""
from __future__ import annotations

from typing import Callable

from flask import render_template
from werkzeug.wrappers import Response

from ..extensions import db
from ..models import User
from .forms import ChoosePasswordForm
from .passwords import set_password, user_from_link_token


def choose_password_from_link(
    token: str, purpose: str, max_age_seconds: int, heading: str, when_chosen: Callable[[User], Response]
):  # type: ignore[no-untyped-def]
    """Refuse a forged, expired or spent link; otherwise let the person choose a password, then ``when_chosen``."""
    user = user_from_link_token(token, purpose, max_age_seconds)
    if user is None:
        return render_template("auth/link_invalid.html"), 400
    form = ChoosePasswordForm()
    if form.validate_on_submit():
        set_password(user, form.password.data or "")
        db.session.commit()
        return when_chosen(user)
    return render_template("auth/choose_password.html", form=form, heading=heading, user=user), (400 if form.errors else 200)
