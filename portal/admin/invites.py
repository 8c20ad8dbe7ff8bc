"""The people of the administrator's organisation: invite someone, change a role."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from ..access import roles_required
from ..auth.invitations import PURPOSE as INVITATION
from ..auth.passwords import make_link_token
from ..extensions import db
from ..labels import ROLE_LABELS
from ..mail import queue_mail
from ..auth import sessions
from ..auth.provider import configured, provider_name
from ..models import Role, User, UserSession
from . import bp
from .forms import InviteForm, RoleForm


def _colleague(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.organisation_id != current_user.organisation_id:
        abort(404)
    return user


def send_invitation(user: User, invited_by: User) -> None:
    link = current_app.config["PUBLIC_BASE_URL"] + url_for("auth.accept_invitation", token=make_link_token(user, INVITATION))
    days = current_app.config["INVITATION_MAX_AGE_DAYS"]
    if configured():
        body = _(
            "Hello %(name)s,\n\n%(inviter)s has invited you to Politirådsportalen for %(organisation)s.\n"
            "Open this link within %(days)d days and prove who you are with %(provider)s:\n\n%(link)s\n",
            name=user.name, inviter=invited_by.name, organisation=user.organisation.name, days=days, link=link,
            provider=provider_name(),
        ) + "\n" + _(
            "If you have questions, contact %(inviter)s: %(email)s\n\n-- \nSent by Politirådsportalen for %(organisation)s.\n",
            inviter=invited_by.name, email=invited_by.email, organisation=user.organisation.name,
        )
        queue_mail(user.email, _("You are invited to Politirådsportalen"), body)
        return
    queue_mail(
        user.email,
        _("You are invited to Politirådsportalen"),
        _(
            "Hello %(name)s,\n\n%(inviter)s has invited you to Politirådsportalen for %(organisation)s, where the "
            "municipalities and the police write, sign and renew their politiråd agreements.\n"
            "Choose your password with this link within %(days)d days:\n\n%(link)s\n\n"
            "If you have questions, contact %(inviter)s: %(email)s\n\n-- \nSent by Politirådsportalen for %(organisation)s.\n",
            name=user.name, inviter=invited_by.name, organisation=user.organisation.name, days=days, link=link,
            email=invited_by.email,
        ),
    )


@bp.route("/users")
@roles_required(Role.ADMINISTRATOR)
def users():
    people = db.session.scalars(
        select(User).where(User.organisation_id == current_user.organisation_id).order_by(User.name)
    ).all()
    live = dict(db.session.execute(
        select(UserSession.user_id, func.count()).where(UserSession.ended_at.is_(None), UserSession.user_id.in_([p.id for p in people]))
        .group_by(UserSession.user_id)
    ).all())
    return render_template("admin/users.html", people=people, live_sessions=live, provider_name=provider_name())


@bp.route("/users/invite", methods=["GET", "POST"])
@roles_required(Role.ADMINISTRATOR)
def invite():
    form = InviteForm()
    if form.validate_on_submit():
        email = form.email.data.strip()
        if db.session.scalar(select(User).where(func.lower(User.email) == email.lower())) is not None:
            form.email.errors.append(_("Someone with this e-mail address already has an account"))
        else:
            user = User(
                name=form.name.data.strip(), email=email, title=(form.title.data or "").strip(),
                role=Role(form.role.data), organisation=current_user.organisation, password_hash=None,
            )
            db.session.add(user)
            db.session.commit()
            send_invitation(user, current_user)
            flash(_("An invitation is sent to %(email)s.", email=email), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/invite.html", form=form), (400 if form.errors else 200)


@bp.route("/users/<int:user_id>/role", methods=["GET", "POST"])
@roles_required(Role.ADMINISTRATOR)
def change_role(user_id: int):
    person = _colleague(user_id)
    if person.id == current_user.id:
        flash(_("You cannot change your own role. Ask another administrator."), "warning")
        return redirect(url_for("admin.users"))
    form = RoleForm(data={"role": person.role.value})
    if form.validate_on_submit():
        person.role = Role(form.role.data)
        db.session.commit()
        flash(_("%(name)s is now: %(role)s.", name=person.name, role=ROLE_LABELS[person.role.value]), "success")
        return redirect(url_for("admin.users"))
    return render_template("admin/role.html", form=form, person=person), (400 if form.errors else 200)


@bp.route("/users/<int:user_id>/invitation", methods=["POST"])
@roles_required(Role.ADMINISTRATOR)
def resend_invitation(user_id: int):
    person = _colleague(user_id)
    if person.is_active:
        flash(_("%(name)s has already accepted the invitation.", name=person.name), "info")
    else:
        send_invitation(person, current_user)
        flash(_("A new invitation is sent to %(email)s.", email=person.email), "success")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/sessions/end", methods=["POST"])
@roles_required(Role.ADMINISTRATOR)
def end_sessions(user_id: int):
    """End every session of a colleague at once (a lost laptop, someone leaving): they must sign in again."""
    person = _colleague(user_id)
    ended = sessions.end_all_of(person)
    flash(_("%(name)s is signed out everywhere (%(count)d sessions ended).", name=person.name, count=ended), "success")
    return redirect(url_for("admin.users"))
