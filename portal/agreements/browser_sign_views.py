"""The signing page's calls for a key in the browser (JSON, sent by ``static/browser_signing.js``).

Enrolment: ``POST /agreements/devices/challenge`` gives a one-time challenge (kept in the session);
``POST /agreements/devices/enrol`` takes ``{"public_key", "proof"}`` (base64: SPKI DER, and the key's
raw ECDSA signature over the challenge) and answers with the certificate. Signing:
``POST /agreements/<id>/sign/prepare`` takes ``{"certificate_id"}`` and answers with what to sign;
``POST /agreements/<id>/sign/finish`` takes ``{"pending", "signature"}`` and answers ``signed`` (with
where to go) or ``again`` (sign this instead: another signature came first). Nothing else travels: no
password, no private key. CSRF: the ``X-CSRFToken`` header, as Flask-WTF checks it for every POST.

A signatory who proves who they are at the identity provider must have done so lately at the signing
level, as on the signing page, to enrol a browser key, prepare or finish a signature; otherwise the answer
is ``403 {"status": "step_up", "location"}`` (where to prove it again; none for enrolment: the signing
page offers it). That authentication is recorded with the signature.
"""
from __future__ import annotations

import base64
import binascii
import time

from flask import current_app, flash, jsonify, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import roles_required
from ..auth import provider
from ..auth.identity import Authentication
from ..extensions import db
from ..models import Agreement, Role
from ..signing.browser_keys import b64decode
from . import bp, browser_signing, signing
from .sign_views import _proves_with_provider, _recent_authentication, _refusal, _signatory_agreement, signed_message

_CHALLENGE = "device_challenge"
_CHALLENGE_SECONDS = 300


def _problem(message: str, status: int, code: str):  # type: ignore[no-untyped-def]
    return jsonify({"status": "error", "error": code, "message": message}), status


def _to_sign(step: browser_signing.ToSign, status: str = "sign"):  # type: ignore[no-untyped-def]
    return jsonify({
        "status": status, "pending": step.pending_id, "document_sha256": step.document_sha256,
        "to_be_signed": base64.b64encode(step.to_be_signed).decode("ascii"),
    })


class _StepUpNeeded(Exception):
    pass


def _signing_authentication() -> Authentication | None:
    """The recent signing-level authentication at the provider of a signatory bound to a proven identity
    (None for one who is not); :class:`_StepUpNeeded` when it is missing or too old, as on the signing page."""
    if not _proves_with_provider():
        return None
    authentication = _recent_authentication()
    if authentication is None:
        raise _StepUpNeeded()
    return authentication


def _step_up(agreement_id: int | None):  # type: ignore[no-untyped-def]
    message = _("Before you sign, prove who you are with %(provider)s at the high security level (BankID, Buypass or "
                "Commfides). You then have %(minutes)d minutes to sign, and you come back to this page.",
                provider=provider.provider_name(), minutes=current_app.config["OIDC_STEP_UP_MAX_AGE"] // 60)
    location = url_for("auth.step_up", agreement_id=agreement_id) if agreement_id is not None else None
    return jsonify({"status": "step_up", "error": "step_up", "message": message, "location": location}), 403


def _json_field(name: str) -> str:
    body = request.get_json(silent=True)
    value = body.get(name) if isinstance(body, dict) else None
    return value if isinstance(value, str) else str(value) if isinstance(value, int) else ""


@bp.post("/devices/challenge")
@roles_required(Role.SIGNATORY)
def device_challenge():
    challenge = browser_signing.browser_keys.new_challenge()
    session[_CHALLENGE] = [challenge, int(time.time())]
    return jsonify({"challenge": challenge})


@bp.post("/devices/enrol")
@roles_required(Role.SIGNATORY)
def enrol_device():
    try:
        _signing_authentication()
    except _StepUpNeeded:
        return _step_up(None)
    stored = session.pop(_CHALLENGE, None)
    if not stored or time.time() - stored[1] > _CHALLENGE_SECONDS:
        return _problem(_("The page waited too long. Try again."), 400, "challenge")
    try:
        public_key, proof = b64decode(_json_field("public_key")), b64decode(_json_field("proof"))
    except (binascii.Error, ValueError):
        return _problem(_("Your browser sent a key the portal cannot read. Nothing was signed."), 400, "proof")
    try:
        enrolled = browser_signing.enrol(current_user._get_current_object(), public_key, stored[0], proof,
                                         request.headers.get("User-Agent", ""))
    except signing.KeyProblem:
        db.session.rollback()
        return _problem(_("Your browser could not show that it holds the key. Nothing was signed."), 400, "proof")
    return jsonify({"certificate_id": enrolled.id, "certificate": base64.b64encode(enrolled.certificate_der).decode("ascii")})


@bp.post("/devices/<int:certificate_id>/revoke")
@roles_required(Role.SIGNATORY)
def revoke_device(certificate_id: int):
    if browser_signing.revoke_device(current_user._get_current_object(), certificate_id):
        flash(_("The key of that browser can no longer sign. Its certificate is revoked."), "success")
    return redirect(request.form.get("next") if request.form.get("next", "").startswith("/agreements/") else url_for("agreements.index"))


def _signing_problem(error: signing.SigningError, agreement_id: int):  # type: ignore[no-untyped-def]
    db.session.rollback()
    if isinstance(error, browser_signing.NotEnrolled):
        return jsonify({"status": "enrol"}), 409
    if isinstance(error, browser_signing.NoPendingSignature):
        return _problem(_("The page waited too long. Try again."), 409, error.code)
    if isinstance(error, signing.KeyProblem):
        return _problem(_("The signature from your browser does not fit the key enrolled for it. Nothing was signed."), 400, "bad_signature")
    agreement = db.session.get(Agreement, agreement_id, populate_existing=True)
    return _problem(_refusal(error, agreement), 409, error.code)  # type: ignore[arg-type]


@bp.post("/<int:agreement_id>/sign/prepare")
@roles_required(Role.SIGNATORY)
def prepare_browser_signature(agreement_id: int):
    agreement = _signatory_agreement(agreement_id)
    try:
        _signing_authentication()
    except _StepUpNeeded:
        return _step_up(agreement_id)
    certificate_id = _json_field("certificate_id")
    try:
        step = browser_signing.prepare(agreement, current_user._get_current_object(),
                                       int(certificate_id) if certificate_id.isdigit() else None)
    except signing.SigningError as error:
        return _signing_problem(error, agreement_id)
    return _to_sign(step)


@bp.post("/<int:agreement_id>/sign/finish")
@roles_required(Role.SIGNATORY)
def finish_browser_signature(agreement_id: int):
    agreement = _signatory_agreement(agreement_id)
    try:
        authentication = _signing_authentication()
    except _StepUpNeeded:
        return _step_up(agreement_id)
    try:
        signature = b64decode(_json_field("signature"))
    except (binascii.Error, ValueError):
        signature = b""
    try:
        outcome = browser_signing.finish(agreement, current_user._get_current_object(), _json_field("pending"), signature,
                                         authentication)
    except signing.SigningError as error:
        return _signing_problem(error, agreement_id)
    if isinstance(outcome, browser_signing.ToSign):
        return _to_sign(outcome, "again")
    flash(signed_message(outcome, agreement_id), "success")
    return jsonify({"status": "signed", "location": url_for("agreements.sign", agreement_id=agreement_id)})
