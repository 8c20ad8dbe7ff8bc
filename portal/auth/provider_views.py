"""Signing in through the OpenID provider (ID-porten and the like): sign-in, accepting an invitation by
proving one's identity, the step-up before signing, and front-channel logout."""
from __future__ import annotations

from flask import abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ..extensions import db
from ..models import Role, User
from ..safety import is_safe_redirect
from . import bp, provider, sessions
from .identity import seal
from .invitations import invited_user


def _language() -> str:
    from .. import select_locale

    return select_locale()


def _problem(title: str, message: str, status: int, retry: str | None = None):  # type: ignore[no-untyped-def]
    return render_template("error.html", title=title, message=message, retry=retry), status


def unavailable_page():  # type: ignore[no-untyped-def]
    return _problem(
        _("%(provider)s cannot be reached", provider=provider.provider_name()),
        _("The portal could not reach %(provider)s, where you prove who you are. Nothing was changed. Try again in a few minutes.",
          provider=provider.provider_name()),
        503, retry=url_for("auth.sign_in"),
    )


def _refused(reason: str):  # type: ignore[no-untyped-def]
    name = provider.provider_name()
    title = _("The sign-in was not completed")
    messages = {
        "state": _("The answer from %(provider)s does not belong to a sign-in started in this browser, or it has been used already. Start again.", provider=name),
        "denied": _("The sign-in at %(provider)s was cancelled. You are not signed in.", provider=name),
        "token": _("The answer from %(provider)s could not be verified, so it was not accepted. You are not signed in. Start again.", provider=name),
        "identity": _("%(provider)s did not say who you are, so you cannot be signed in.", provider=name),
        "level": _("You signed in at a lower security level than this needs. Sign in again with BankID, Buypass or Commfides."),
        "stale": _("%(provider)s did not ask you to prove who you are again. Start again.", provider=name),
        "unknown": _("No account in the portal is bound to you. Open the invitation you were sent by e-mail, or ask your administrator for one."),
        "bound-elsewhere": _("You are already bound to another account in the portal, so this invitation cannot be accepted with your identity. Ask your administrator."),
        "other-person": _("You proved the identity of another person than the one signed in. Nothing was signed."),
    }
    status = {"unknown": 403, "bound-elsewhere": 409, "other-person": 403}.get(reason, 400)
    return _problem(title, messages.get(reason, messages["token"]), status, retry=url_for("auth.sign_in"))


def _go(purpose: str, *, acr: str, fresh: bool = False, **data: object):  # type: ignore[no-untyped-def]
    if not provider.configured():
        abort(404)
    try:
        return redirect(provider.authorization_url(purpose, acr=acr, language=_language(), fresh=fresh, **data))
    except provider.ProviderUnavailable:
        return unavailable_page()


@bp.route("/sign-in/provider")
def provider_sign_in():
    target = request.args.get("next")
    return _go("sign-in", acr=current_app.config["OIDC_SIGN_IN_ACR"], next=target if is_safe_redirect(target) else None)


@bp.route("/invitation/<token>/provider")
def accept_invitation_with_provider(token: str):
    """Accept an invitation by proving one's identity: the account is bound to it from then on."""
    if invited_user(token) is None:
        return render_template("auth/link_invalid.html"), 400
    target = request.args.get("next")
    return _go("invitation", acr=current_app.config["OIDC_SIGN_IN_ACR"], token=token,
               next=target if is_safe_redirect(target) else None)


@bp.route("/agreements/<int:agreement_id>/sign/step-up")
@login_required
def step_up(agreement_id: int):
    """Prove one's identity again, at the signing level, before signing; then back to the signing page."""
    if current_user.role is not Role.SIGNATORY or not current_user.identity_hmac:
        abort(403)
    return _go("step-up", acr=current_app.config["OIDC_SIGNING_ACR"], fresh=True, agreement=agreement_id)


@bp.route("/sign-in/provider/callback")
def provider_callback():
    if not provider.configured():
        abort(404)
    try:
        flow = provider.pending_flow()
    except provider.ProviderUnavailable:
        return unavailable_page()
    if flow is None:
        return _refused("state")
    try:
        proven = provider.complete(flow)
    except provider.SignInRefused as refusal:
        return _refused(refusal.reason)
    except provider.ProviderUnavailable:
        return unavailable_page()
    purpose = flow.get("purpose")
    target = flow.get("next") if is_safe_redirect(flow.get("next")) else None
    bound = db.session.scalar(select(User).where(User.identity_hmac == proven.identity_hmac))

    if purpose == "step-up":
        record = sessions.current()
        if record is None or not current_user.is_authenticated:
            return redirect(url_for("auth.sign_in"))
        if current_user.identity_hmac != proven.identity_hmac:
            return _refused("other-person")
        sessions.note_authentication(record, proven.authentication)
        record.issuer, record.sid = proven.issuer, proven.sid or record.sid
        record.id_token_encrypted = seal(proven.id_token)
        db.session.commit()
        return redirect(url_for("agreements.sign", agreement_id=int(flow.get("agreement") or 0)))

    if purpose == "invitation":
        user = invited_user(str(flow.get("token") or ""))
        if user is None:
            return render_template("auth/link_invalid.html"), 400
        if bound is not None:
            return _refused("bound-elsewhere")
        user.identity_hmac = proven.identity_hmac
        sessions.begin(user, "provider", issuer=proven.issuer, sid=proven.sid,
                       authentication=proven.authentication, id_token=proven.id_token)
        flash(_("Welcome, %(name)s. Your account is ready, and you sign in with %(provider)s.",
                name=user.name, provider=provider.provider_name()), "success")
        return redirect(target or url_for("pages.home"))

    if bound is None or not bound.is_active:
        return _refused("unknown")
    sessions.begin(bound, "provider", issuer=proven.issuer, sid=proven.sid,
                   authentication=proven.authentication, id_token=proven.id_token)
    return redirect(target or url_for("pages.home"))


@bp.route("/logout/frontchannel")
def front_channel_logout():
    """OpenID Connect Front-Channel Logout: the provider loads this in an iframe with the ``iss`` and
    ``sid`` of a session that has ended there; the portal session begun by it ends too."""
    issuer, sid = request.args.get("iss", ""), request.args.get("sid", "")
    if not provider.configured() or not sid or issuer.rstrip("/") != current_app.config["OIDC_ISSUER"].rstrip("/"):
        abort(400)
    ended = sessions.end_by_provider_session(issuer, sid)
    current_app.logger.info("Front-channel logout ended %d session(s)", ended)
    response = make_response(render_template("auth/front_channel_logout.html"))
    response.headers["Cache-Control"] = "no-store"
    # The provider's page frames this one; only it may.
    response.headers["Content-Security-Policy"] = f"default-src 'none'; style-src 'self'; frame-ancestors {provider.issuer_origin()}"
    return response
