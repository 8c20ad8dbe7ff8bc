"""Signing with a key in the signatory's browser: enrolment, then prepare → the browser signs → finish.

The server never holds the key (see :mod:`portal.signing.browser_keys`). A signature is prepared on the
latest stored revision and waits in :class:`~portal.signing.models.PendingSignature` for a few minutes;
when the browser's signature comes back, the server finishes it, time-stamps it and stores it under the
same optimistic locking as every signature (:func:`.signing.store_signature`). If another signature was
stored in between, or the prepared one expired, the server prepares again on the newer revision and the
page signs once more (:class:`ToSign` instead of a :class:`~.signing.SignResult`), without the signatory
having to do anything.

Like :mod:`.signing`, these functions never touch a Flask request.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from cryptography.hazmat.primitives import serialization
from flask import current_app
from sqlalchemy import delete, select

from ..auth.identity import Authentication
from ..extensions import db
from ..models import Agreement, SignatureSlot, User
from ..signing import browser_keys, interrupted, pades
from ..signing.models import DeviceCertificate, PendingSignature
from ..signing.pki import SignatoryIdentity
from .signing import (
    MAX_TRIES, AlreadySigned, Conflict, KeyProblem, NameMismatch, SignResult, SigningError, check_can_sign,
    checked_signer_name, is_named_for, latest_revision, signing_setup, stamp_for, store_signature,
)

#: How long a prepared signature waits for the browser's signature.
PENDING_MINUTES = 5
SOURCE = "browser"


class NotEnrolled(SigningError):
    """This browser's key has no live certificate (never enrolled, revoked, expired): enrol again."""

    code = "enrol"


class NoPendingSignature(SigningError):
    code = "no_pending"


@dataclass(frozen=True)
class ToSign:
    """What the page signs: the DER of the CMS signed attributes, and the document digest they hold."""

    pending_id: str
    to_be_signed: bytes
    document_digest: bytes

    @property
    def document_sha256(self) -> str:
        return self.document_digest.hex()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # SQLite gives naive datetimes


# ---------------------------------------------------------------- enrolment


def enrol(user: User, public_key_der: bytes, challenge: str, proof: bytes, device: str) -> DeviceCertificate:
    """Certify the browser key ``public_key_der`` for ``user`` once ``proof`` shows the browser holds it
    (its signature over ``challenge``). The certificate the same browser (``device``) enrolled before is
    revoked. Commits. Raises :class:`KeyProblem` (``proof``) when the proof fails."""
    try:
        public_key = browser_keys.check_proof_of_possession(public_key_der, challenge, proof)
    except browser_keys.NotProofOfPossession as error:
        raise KeyProblem("proof") from error
    setup = signing_setup()
    if setup.pki is None:
        raise KeyProblem("Browser keys need the portal's certificate authority, which is not configured.")
    pseudonym = browser_keys.pseudonym_for(user.id, current_app.config["SECRET_KEY"])
    identity = SignatoryIdentity(user.name, user.title, user.organisation.name, user.email, pseudonym)
    certificate = setup.pki.issue_signing_certificate(identity, public_key)
    device = device[:300]
    for earlier in db.session.scalars(select(DeviceCertificate).where(
        DeviceCertificate.user_id == user.id, DeviceCertificate.device == device, DeviceCertificate.revoked_at.is_(None)
    )):
        _revoke(earlier)
    enrolled = DeviceCertificate(
        user_id=user.id, device=device, certificate_der=certificate.public_bytes(serialization.Encoding.DER),
        certificate_serial=format(certificate.serial_number, "x"), not_after=certificate.not_valid_after_utc,
    )
    db.session.add(enrolled)
    db.session.commit()
    current_app.logger.info("Browser key enrolled for user %s: certificate %s", user.id, enrolled.certificate_serial)
    return enrolled


def devices_of(user: User) -> list[DeviceCertificate]:
    """The user's browsers with a live certificate, newest first."""
    return list(db.session.scalars(select(DeviceCertificate).where(
        DeviceCertificate.user_id == user.id, DeviceCertificate.revoked_at.is_(None)
    ).order_by(DeviceCertificate.id.desc())))


def revoke_device(user: User, certificate_id: int) -> bool:
    """Revoke one of the user's device certificates (a lost or given away computer). Commits."""
    found = db.session.get(DeviceCertificate, certificate_id)
    if found is None or found.user_id != user.id or found.revoked_at is not None:
        return False
    _revoke(found)
    db.session.commit()
    return True


def _revoke(enrolled: DeviceCertificate) -> None:
    """Mark revoked and put on the issuing CA's CRL (RFC 5280 § 5)."""
    from cryptography import x509

    enrolled.revoked_at = _now()
    pki = signing_setup().pki
    if pki is not None:
        pki.revoke(x509.load_der_x509_certificate(enrolled.certificate_der))


def _live_certificate(user: User, certificate_id: int | None) -> DeviceCertificate:
    found = db.session.get(DeviceCertificate, certificate_id) if certificate_id else None
    if (found is None or found.user_id != user.id or found.revoked_at is not None
            or _aware(found.not_after) <= _now()):
        raise NotEnrolled("enrol")
    return found


# ---------------------------------------------------------------- prepare and finish


def prepare(agreement: Agreement, user: User, certificate_id: int | None) -> ToSign:
    """Prepare the user's signature with their browser key ``certificate_id`` on the latest revision."""
    slot = check_can_sign(agreement, user)
    if not is_named_for(slot, user):
        raise NameMismatch(slot.field_name)
    enrolled = _live_certificate(user, certificate_id)
    return _prepare(agreement, user, slot, enrolled)


def _prepare(agreement: Agreement, user: User, slot: SignatureSlot, enrolled: DeviceCertificate) -> ToSign:
    setup = signing_setup()
    user_id, agreement_id, enrolled_id, certificate_der = user.id, agreement.id, enrolled.id, enrolled.certificate_der
    pdf, revision = latest_revision(agreement, slot)
    signed_at = _now()
    signer_name = checked_signer_name(_asn1(certificate_der), slot)
    try:
        prepared = interrupted.prepare_field(
            pdf, slot.field_name, _asn1(certificate_der), setup.issuer_chain(), stamp_for(user, signer_name, signed_at),
            with_timestamp=setup.timestamper is not None,
        )
    except pades.FieldAlreadySigned as error:
        raise AlreadySigned(slot.field_name) from error
    except pades.SigningRefused as error:
        raise SigningError(str(error)) from error
    # One waiting signature per person and agreement; expired ones of anybody go too.
    db.session.execute(delete(PendingSignature).where(
        (PendingSignature.expires_at < signed_at)
        | ((PendingSignature.user_id == user_id) & (PendingSignature.agreement_id == agreement_id))
    ))
    pending = PendingSignature(
        id=secrets.token_urlsafe(32), user_id=user_id, agreement_id=agreement_id, key_source=SOURCE,
        certificate_der=certificate_der, device_certificate_id=enrolled_id, seen_revision=revision,
        prepared_pdf=prepared.pdf, document_digest=prepared.document_digest, reserved_start=prepared.reserved_start,
        reserved_end=prepared.reserved_end, to_be_signed=prepared.to_be_signed, signed_at=signed_at,
        expires_at=signed_at + timedelta(minutes=PENDING_MINUTES),
    )
    db.session.add(pending)
    db.session.commit()
    return ToSign(pending.id, prepared.to_be_signed, prepared.document_digest)


def finish(agreement: Agreement, user: User, pending_id: str, raw_signature: bytes,
           authentication: Authentication | None = None) -> SignResult | ToSign:
    """Finish the waiting signature ``pending_id`` with the browser's ``r || s`` signature. For a signatory
    who proves who they are at the identity provider, ``authentication`` is the recent signing-level
    authentication the caller checked; it is recorded with the signature.

    Returns the :class:`SignResult`, or a new :class:`ToSign` when the signature must be made again on a
    newer revision (another signature came first, or the prepared one expired)."""
    pending = db.session.get(PendingSignature, pending_id) if pending_id else None
    if pending is None or pending.user_id != user.id or pending.agreement_id != agreement.id:
        raise NoPendingSignature("no_pending")
    slot = check_can_sign(agreement, user)
    enrolled = _live_certificate(user, pending.device_certificate_id)
    if _aware(pending.expires_at) <= _now():
        return _prepare(agreement, user, slot, enrolled)
    try:
        signature = browser_keys.der_from_raw(raw_signature)
    except browser_keys.NotProofOfPossession as error:
        raise KeyProblem("bad_signature") from error
    prepared = interrupted.PreparedSignature(
        pending.prepared_pdf, pending.document_digest, pending.reserved_start, pending.reserved_end, pending.to_be_signed,
    )
    seen_revision, signed_at, enrolled_id = pending.seen_revision, _aware(pending.signed_at), enrolled.id
    _pdf, revision = latest_revision(agreement, slot)
    if revision != seen_revision:
        return _prepare(agreement, user, slot, db.session.get(DeviceCertificate, enrolled_id))  # type: ignore[arg-type]
    setup = signing_setup()
    try:
        signed = interrupted.finish_field(prepared, _asn1(pending.certificate_der), setup.issuer_chain(), signature, setup.timestamper)
    except interrupted.BadSignature as error:
        raise KeyProblem("bad_signature") from error
    except pades.SigningRefused as error:
        raise SigningError(str(error)) from error
    signer_name = checked_signer_name(_asn1(pending.certificate_der), slot)
    result = store_signature(agreement, user, slot, signed, seen_revision, signed_at, SOURCE, signer_name, authentication,
                             timestamped=setup.timestamper is not None)
    if result is None:
        return _prepare(agreement, user, slot, db.session.get(DeviceCertificate, enrolled_id))  # type: ignore[arg-type]
    db.session.execute(delete(PendingSignature).where(PendingSignature.id == pending_id))
    enrolled = db.session.get(DeviceCertificate, enrolled_id)  # type: ignore[assignment]
    enrolled.last_used_at = _now()
    db.session.commit()
    return result


def _asn1(certificate_der: bytes):  # type: ignore[no-untyped-def]
    from asn1crypto import x509 as asn1_x509

    return asn1_x509.Certificate.load(certificate_der)


# ---------------------------------------------------------------- without a browser


def sign_with_device(agreement: Agreement, user: User, device: browser_keys.SoftwareDevice,
                     authentication: Authentication | None = None) -> SignResult:
    """The signing page's round trip for a key held outside the portal, without a browser (the ``flask
    demo`` command, tests): enrol the device on first use, prepare, let the device sign, finish."""
    if device.certificate_id is None:
        challenge = browser_keys.new_challenge()
        device.certificate_id = enrol(user, device.public_key_der, challenge, device.sign(challenge.encode("ascii")),
                                      device.name).id
    step = prepare(agreement, user, device.certificate_id)
    for _attempt in range(MAX_TRIES):
        outcome = finish(agreement, user, step.pending_id, device.sign(step.to_be_signed), authentication)
        if isinstance(outcome, SignResult):
            return outcome
        step = outcome
    raise Conflict("too many signatures at the same moment")
