"""The page behind an e-mailed link (invitation or password reset) where a person chooses a password."""
from __future__ import annotations

from typing import Callable

from flask import abort, render_template, request
from werkzeug.wrappers import Response

from ..extensions import db
from ..models import User
from .forms import ChoosePasswordForm
from .passwords import set_password, user_from_link_token
from .provider import provider_name


def choose_password_from_link(
    token: str, purpose: str, max_age_seconds: int, heading: str, when_chosen: Callable[[User], Response],
    *, with_provider: str | None = None, passwords_for: Callable[[User], bool] = lambda user: True,
):  # type: ignore[no-untyped-def]
    """Refuse a forged, expired or spent link; otherwise let the person choose a password, then ``when_chosen``.
    ``with_provider``: the link that accepts by proving one's identity instead; ``passwords_for``: whether
    this person may use a password at all."""
    user = user_from_link_token(token, purpose, max_age_seconds)
    if user is None:
        return render_template("auth/link_invalid.html"), 400
    form = ChoosePasswordForm()
    passwords = passwords_for(user)
    if not passwords:
        form = None
    if form is not None and form.validate_on_submit():
        set_password(user, form.password.data or "")
        db.session.commit()
        return when_chosen(user)
    if form is None and request.method == "POST":
        abort(400)
    return render_template("auth/choose_password.html", form=form, heading=heading, user=user, with_provider=with_provider,
                           provider_name=provider_name() if with_provider else None), (400 if form is not None and form.errors else 200)
