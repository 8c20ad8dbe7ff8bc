"""Signing an agreement: sealing at finalising, the signatories' signatures, closing, declining.

The service functions take and return plain objects and never touch a Flask request, so the pages and
the ``flask demo`` command use the same code. They need an app context (configuration, database).

Concurrency: the signed revision is stored in ``AgreementDocument.signed_pdf``; every signature is
applied on top of the latest stored revision and stored with ``UPDATE ... WHERE revision = :seen``.
When another signature was stored in the meantime the update touches no row: the signature is made
again on the new revision (a few tries). No row is locked while signing, so this works the same on
SQLite and PostgreSQL, and no signature is ever lost or applied twice.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone

from flask import current_app, has_request_context, url_for
from pyhanko.sign.signers import Signer
from sqlalchemy import func, select, update

from .. import clock, jobs
from ..auth import provider
from ..auth.identity import Authentication
from ..documents import agreement_pdf, sha256_hex, signatories
from ..extensions import db
from ..mail import queue_mail
from ..models import (
    Agreement,
    AgreementDocument,
    AgreementStatus,
    MemberRole,
    Organisation,
    OrganisationKind,
    Role,
    SignatureSlot,
    TaskState,
    User,
)
from ..signing import keys, pades, seed_values
from ..signing.future import simulate_future_validation
from ..signing.identity import certificate_name, same_name
from ..signing.models import PortalSigningKey
from ..signing.pki import SignatoryIdentity
from ..signing.setup import SigningSetup
from ..signing.shared_analysis import sharing_readers
from . import notices
from .editing import lock_agreement
from .lifecycle import change_status, coordinators_of, new_version, record_event
from .renewals import activate, supersede_renewed

_SETUP_KEY = "politirad_signing_setup"
#: How often a signature is made again on a newer revision before giving up.
MAX_TRIES = 5

# ---------------------------------------------------------------- errors the pages word


class SigningError(Exception):
    """The signature was not made; the document is unchanged. ``code`` names why."""

    code = "failed"


class NoSlot(SigningError):
    code = "no_slot"


class AlreadySigned(SigningError):
    code = "already_signed"


class NotOpenForSigning(SigningError):
    code = "not_open"  # a draft, a declined or superseded version, or already fully signed


class WrongPassword(SigningError):
    code = "wrong_password"


class Locked(SigningError):
    code = "locked"  # too many wrong passwords: the same lock as signing in


class NameMismatch(SigningError):
    """The agreement names someone else for this signature than the signer: the account's name, or the
    name in the certificate of the key, is not the name the agreement gives."""

    code = "name_mismatch"


class KeyProblem(SigningError):
    code = "key"


class IssuerNotAccepted(KeyProblem):
    """The key's certificate is not issued under an issuer the portal accepts (the fields' seed values)."""


class Conflict(SigningError):
    code = "conflict"  # others kept signing at the same moment, MAX_TRIES times in a row


# ---------------------------------------------------------------- configuration


def signing_setup() -> SigningSetup:
    """The app's signing configuration, built once per app."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    setup = app.extensions.get(_SETUP_KEY)
    if setup is None:
        setup = SigningSetup.from_config(app.config, app.instance_path)
        app.extensions[_SETUP_KEY] = setup
    return setup


def _link(endpoint: str, **values: object) -> str:
    """An absolute link for an e-mail, from a request or not (the CLI)."""
    if has_request_context():
        path = url_for(endpoint, **values)
    else:
        with current_app.test_request_context():
            path = url_for(endpoint, **values)
    return current_app.config["PUBLIC_BASE_URL"] + path


# ---------------------------------------------------------------- finalising: seal and slots


@dataclass
class Invitation:
    slot: SignatureSlot
    new_user: bool


@dataclass
class SignatoryAccount:
    """A signatory as the agreement names them, and the account their e-mail address already belongs to
    (accounts are found by e-mail address), so a coordinator sees before finalising who will sign."""

    field_name: str
    role: MemberRole
    municipality_number: str | None
    name: str
    title: str
    organisation: str
    email: str
    account: User | None

    @property
    def name_differs(self) -> bool:
        """The account with this e-mail address is in another person's name: that person must not sign."""
        return self.account is not None and not same_name(self.account.name, self.name)

    @property
    def not_a_signatory(self) -> bool:
        """The account with this e-mail address cannot sign anything (a coordinator, an archivist...)."""
        return self.account is not None and self.account.role is not Role.SIGNATORY

    @property
    def must_be_corrected(self) -> bool:
        return self.name_differs or self.not_a_signatory


def signatory_accounts(agreement: Agreement) -> list[SignatoryAccount]:
    """Every signatory of ``agreement`` in the order of the signature block, with their account if any."""
    result = []
    for signatory in signatories(agreement):
        role = MemberRole.STATION_CHIEF if signatory.field_name == "Signatur_stasjonssjef" else MemberRole.MAYOR
        number = signatory.field_name.rsplit("_", 1)[1] if role is MemberRole.MAYOR else None
        member = agreement.member(role, number)
        email = (member.email if member else "").strip()
        account = db.session.scalar(select(User).where(func.lower(User.email) == email.lower())) if email else None
        result.append(SignatoryAccount(signatory.field_name, role, number, signatory.name, signatory.title,
                                       signatory.organisation, email, account))
    return result


def finalise(agreement: Agreement, actor: User | None) -> list[Invitation]:
    """Freeze a complete draft: render and store the final PDF with its SHA-256, mark the agreement
    finalised, seal it and prepare a slot per signatory. The caller commits, then sends the invitations."""
    pdf = agreement_pdf(agreement, draft=False)
    document = AgreementDocument(agreement=agreement, pdf=pdf, sha256=sha256_hex(pdf))
    db.session.add(document)
    change_status(agreement, AgreementStatus.FINALISED, actor, f"SHA-256 {document.sha256}")
    return seal_and_prepare(agreement, document, actor)


def seal_and_prepare(agreement: Agreement, document: AgreementDocument, actor: User | None) -> list[Invitation]:
    """Seal the final PDF with the portal's certification signature, store it as the first signed
    revision, and create one signature slot per signatory (with an invited user where none exists).
    The caller commits, then calls :func:`send_signing_invitations`."""
    setup = signing_setup()
    sealed = pades.seal_and_certify(document.pdf, setup.seal_signer(), setup.timestamper)
    document.signed_pdf = sealed
    document.signed_sha256 = sha256_hex(sealed)
    document.revision = 1
    document.pades_level = pades.level_after_signature(None, timestamped=setup.timestamper is not None,
                                                       validation_data=False).value
    record_event(agreement, "sealed", actor, f"SHA-256 {document.signed_sha256}")
    invitations = []
    for position, signatory in enumerate(signatory_accounts(agreement)):
        if not signatory.email:
            raise SigningError(f"The signatory of {signatory.field_name} has no e-mail address.")
        if signatory.must_be_corrected:
            raise NameMismatch(f"The account of {signatory.email} cannot sign {signatory.field_name} for {signatory.name}.")
        user, created = signatory.account or _invited_signatory(signatory, agreement), signatory.account is None
        slot = SignatureSlot(
            agreement=agreement, field_name=signatory.field_name, role=signatory.role,
            municipality_number=signatory.municipality_number, name=signatory.name, title=signatory.title,
            organisation_name=signatory.organisation, email=signatory.email, user=user, position=position,
        )
        db.session.add(slot)
        invitations.append(Invitation(slot, created))
    db.session.flush()
    return invitations


def _invited_signatory(signatory: SignatoryAccount, agreement: Agreement) -> User:
    """A new signatory account in the agreement's name for the signatory, to be invited."""
    if signatory.role is MemberRole.MAYOR:
        number = signatory.municipality_number
        organisation = db.session.scalar(select(Organisation).where(Organisation.municipality_number == number))
        if organisation is None:
            organisation = Organisation(kind=OrganisationKind.MUNICIPALITY, municipality_number=number)
    else:
        organisation = db.session.scalar(select(Organisation).where(Organisation.police_district_id == agreement.police_district_id))
        if organisation is None:
            organisation = Organisation(kind=OrganisationKind.POLICE_DISTRICT, police_district_id=agreement.police_district_id)
    db.session.add(organisation)
    user = User(email=signatory.email, name=signatory.name or signatory.email, title=signatory.title, role=Role.SIGNATORY,
                organisation=organisation, password_hash=None)
    db.session.add(user)
    db.session.flush()
    return user


def slot_belongs_to(slot: SignatureSlot, user: User) -> bool:
    """A slot is the signatory's whose e-mail matches and whose role is signatory."""
    return user.role is Role.SIGNATORY and slot.email.strip().lower() == user.email.strip().lower()


def send_signing_invitations(agreement: Agreement, invitations: list[Invitation], invited_by: User | None) -> list[str]:
    """E-mail every signatory the link to the signing page (and an account invitation to new users), in the
    background. Returns the addresses already known not to be reached (with a queue: none yet)."""
    from ..auth.invitations import PURPOSE as INVITATION
    from ..auth.passwords import make_link_token

    failed = []
    sign_link = _link("agreements.sign", agreement_id=agreement.id)
    contact = invited_by or agreement.created_by
    sign_path = sign_link[len(current_app.config["PUBLIC_BASE_URL"]):]
    for invitation in invitations:
        slot = invitation.slot
        account_link = None
        if invitation.new_user and slot.user is not None:
            # The account link leads on to the signing page once the account is ready.
            account_link = _link("auth.accept_invitation", token=make_link_token(slot.user, INVITATION), next=sign_path)
        notice = notices.signing_invitation(agreement, slot.name or slot.email, sign_link, account_link,
                                            current_app.config["INVITATION_MAX_AGE_DAYS"], contact,
                                            provider_name=provider.provider_name() if provider.configured() else None)
        sent = queue_mail(slot.email, notice.subject, notice.body, job_id=f"signing-invitation-{slot.id}")
        if sent.state is TaskState.FAILED:  # known at once without a queue; the agreement is sealed anyway
            failed.append(slot.email)
    return failed


# ---------------------------------------------------------------- signing


@dataclass
class KeyChoice:
    """How the signatory signs on the server's side (a browser key signs through :mod:`.browser_signing`):
    ``csc`` (a credential at the remote signing service, authorised with its PIN), ``portal`` (their
    portal-held key, opened with their password, when an administrator allows it),
    ``pkcs12`` (an uploaded PKCS#12 file and its passphrase, used once and never stored) or ``pkcs11``
    (their key on the configured token, labelled with their e-mail address, opened with the token PIN,
    used once and never stored)."""

    source: str = "portal"
    pkcs12_data: bytes | None = None
    pkcs12_passphrase: str | None = None
    pin: str | None = None
    credential_id: str | None = None  # csc: the credential the signatory chose at the remote service

    def __repr__(self) -> str:  # never show the secrets in a log or a traceback
        return f"KeyChoice(source={self.source!r})"


@dataclass
class SignResult:
    slot: SignatureSlot
    completed: bool  # this was the last signature: the agreement is being closed (see close_signed_agreement)
    pades_level: str  # of the revision just stored (before the closing)


def slot_for(agreement: Agreement, user: User) -> SignatureSlot | None:
    return next((slot for slot in agreement.signature_slots if slot_belongs_to(slot, user)), None)


def is_named_for(slot: SignatureSlot, user: User) -> bool:
    """The agreement names ``user`` (by their account's name) for ``slot``, so they may sign it."""
    return same_name(slot.name, user.name)


def check_can_sign(agreement: Agreement, user: User) -> SignatureSlot:
    """The user's slot, or the reason they cannot sign now."""
    slot = slot_for(agreement, user)
    if slot is None:
        raise NoSlot("You are not a signatory of this agreement.")
    if agreement.status is not AgreementStatus.FINALISED:
        raise NotOpenForSigning(agreement.status.value)
    if slot.signed_at is not None:
        raise AlreadySigned(slot.field_name)
    return slot


def _identity_secret(user: User) -> str:
    """What opens the portal-issued key of a signatory who proves who they are at the identity provider
    (and has no password): a server secret bound to the account and its identity. The key is used only
    after a recent authentication at the signing level, which the signing page checks."""
    message = f"portal-signing-key|{user.id}|{user.identity_hmac}".encode()
    return hmac.new(str(current_app.config["SECRET_KEY"]).encode(), message, hashlib.sha256).hexdigest()


def _portal_signer(user: User, password: str, *, identity_proven: bool = False) -> Signer:
    """The user's portal-issued key, opened with their password; enrolled on first use, and again when
    the password has changed since (the old key can no longer be opened and is retired).

    The key is encrypted under the password (scrypt, AES-GCM), so opening it proves the password: while
    the key was enrolled under the password the user has now (``password_fingerprint``), that one scrypt
    is the whole check, under the same lock-out as signing in. Only after a password change is the
    password checked with argon2 first (the slow path, once)."""
    from ..auth import throttle
    from ..auth.passwords import password_fingerprint

    setup = signing_setup()
    live = db.session.scalar(
        select(PortalSigningKey).where(PortalSigningKey.user_id == user.id, PortalSigningKey.revoked_at.is_(None))
        .order_by(PortalSigningKey.id.desc())
    )
    fingerprint = password_fingerprint(user)
    if live is not None and live.password_fingerprint == fingerprint:
        address, now = throttle.client_address(), throttle.now_utc()
        if throttle.is_throttled(user.email, address, now):
            raise Locked("locked")
        try:
            opened = keys.PortalIssuedKey(live.as_stored(), password, setup.issuer_chain())
        except keys.WrongSecret as error:
            throttle.record_failure(user.email, address, now)  # counted as a wrong password when signing in is
            db.session.commit()
            raise WrongPassword("wrong password") from error
        throttle.forget_failures(user.email, address)
        db.session.commit()
        return opened.signer()
    if not identity_proven:  # a signatory who proved who they are at the provider has no password to check
        _confirm_password(user, password)
    if live is not None:
        try:
            opened = keys.PortalIssuedKey(live.as_stored(), password, setup.issuer_chain())
            live.password_fingerprint = fingerprint  # the same password, hashed anew: the fast path from now on
            db.session.commit()
            return opened.signer()
        except keys.WrongSecret:
            live.revoked_at = datetime.now(timezone.utc)
    if setup.pki is None:
        raise KeyProblem("Portal-issued keys need the portal's certificate authority, which is not configured.")
    identity = SignatoryIdentity(user.name, user.title, user.organisation.name, user.email)
    stored = keys.PortalIssuedKey.enrol(setup.pki, identity, password)
    db.session.add(PortalSigningKey.from_stored(user.id, stored, fingerprint))
    db.session.commit()  # the key is the signatory's whatever becomes of this signature
    return keys.PortalIssuedKey(stored, password, setup.issuer_chain()).signer()


def _confirm_password(user: User, password: str) -> None:
    """The signatory's password, counted against the same lock-out as signing in (no guessing here instead)."""
    from ..auth.passwords import PasswordCheck, check_password

    check = check_password(user, password)
    if check is PasswordCheck.LOCKED:
        raise Locked("locked")
    if check is PasswordCheck.WRONG:
        raise WrongPassword("wrong password")


@contextmanager
def _signer(user: User, password: str, choice: KeyChoice, *, identity_proven: bool = False) -> Iterator[Signer]:
    if choice.source == "pkcs12":
        try:
            uploaded = keys.Pkcs12Key(choice.pkcs12_data or b"", choice.pkcs12_passphrase or None, signing_setup().issuer_chain())
        except keys.WrongPassphrase as error:
            raise KeyProblem("wrong_passphrase") from error
        except keys.KeySourceError as error:
            raise KeyProblem("invalid_pkcs12") from error
        yield uploaded.signer()
        return
    if choice.source == "pkcs11":
        try:
            token_key = signing_setup().signatory_pkcs11_key(user.email, choice.pin or "")
        except keys.WrongPin as error:
            raise KeyProblem("wrong_pin") from error
        except keys.NoKeyOnToken as error:
            raise KeyProblem("no_token_key") from error
        except keys.NoCertificateOnToken as error:
            current_app.logger.error("The PKCS#11 token holds the key of user %s but no certificate for it", user.id)
            raise KeyProblem("no_token_certificate") from error
        except keys.KeySourceError as error:
            current_app.logger.error("The PKCS#11 token could not be used for user %s: %s", user.id, error)
            raise KeyProblem("token_unavailable") from error
        with token_key:
            yield token_key.signer()
        return
    if choice.source != "portal" or not signing_setup().portal_keys_allowed:
        raise KeyProblem("not_offered")  # browser keys sign through .browser_signing; the portal's only if allowed
    yield _portal_signer(user, password, identity_proven=identity_proven)  # checks the password itself, with the key


def sign(agreement: Agreement, user: User, password: str | None, choice: KeyChoice | None = None, *,
         now: datetime | None = None, authentication: Authentication | None = None) -> SignResult:
    """Sign the user's field of ``agreement``. Raises :class:`SigningError` (document unchanged).

    The password confirms who signs (and opens a portal-issued key); or, for a signatory bound to a proven
    identity, ``authentication``: the recent authentication at the signing level that the caller checked,
    recorded with the signature (slot and audit event). Each try signs the latest stored
    revision and stores it only if no other signature was stored meanwhile; the last signature also
    closes the document (B-LTA when a time-stamp service is configured) and activates the agreement.
    """
    choice = choice or KeyChoice("portal")
    slot = check_can_sign(agreement, user)
    if not is_named_for(slot, user):
        raise NameMismatch(slot.field_name)
    if authentication is not None:
        if not user.identity_hmac:
            raise WrongPassword("no proven identity")
    elif choice.source != "portal":
        _confirm_password(user, password or "")  # a portal key is opened with the password: that is the check
    secret = password if authentication is None else _identity_secret(user)
    try:
        if choice.source == "csc":  # the key is at a remote signing service: prepare, it signs, finish
            from .csc_signing import sign_with_csc

            return sign_with_csc(agreement, user, slot, choice.credential_id or "", choice.pin or "", authentication)
        with _signer(user, secret or "", choice, identity_proven=authentication is not None) as signer:
            return _sign_latest(agreement, user, slot, signer, choice.source, now, authentication)
    except SigningError:
        db.session.rollback()
        raise
    except Exception as error:  # a time-stamp service down, a broken revision: nothing was stored
        db.session.rollback()
        current_app.logger.exception("Signing agreement %s as user %s failed", agreement.id, user.id)
        raise SigningError(str(error)) from error


def _sign_latest(agreement: Agreement, user: User, slot: SignatureSlot, signer: Signer, source: str, now: datetime | None,
                 authentication: Authentication | None = None) -> SignResult:
    setup = signing_setup()
    check_accepted_issuer(signer.signing_cert, list(signer.cert_registry))
    for _attempt in range(MAX_TRIES):
        seen_pdf, seen_revision = latest_revision(agreement, slot)
        signed_at = now or datetime.now(timezone.utc)
        signer_name = checked_signer_name(signer.signing_cert, slot)
        try:
            signed = pades.sign_field(seen_pdf, slot.field_name, signer, stamp_for(user, signer_name, signed_at), setup.timestamper,
                                      validation_context=setup.validation_context())
        except pades.FieldAlreadySigned as error:
            raise AlreadySigned(slot.field_name) from error
        except pades.SigningRefused as error:
            raise SigningError(str(error)) from error
        result = store_signature(agreement, user, slot, signed, seen_revision, signed_at, source, signer_name, authentication,
                                 timestamped=setup.timestamper is not None, validation_data=True)
        if result is not None:
            return result
    db.session.rollback()
    raise Conflict("too many signatures at the same moment")


def stamp_for(user: User, signer_name: str, signed_at: datetime) -> pades.StampText:
    """The visible stamp: the name in the signing certificate, the signatory's title and organisation."""
    return pades.StampText(signer_name, user.title, user.organisation.name, signed_at)


def check_accepted_issuer(certificate, others) -> None:  # type: ignore[no-untyped-def]
    """Refuse (:class:`IssuerNotAccepted`, ``issuer``) a certificate that is not issued under one of the
    issuers the portal accepts, the ones every signature field names in its seed values, before anything is
    signed: an uploaded, token or remote key of another CA would otherwise leave a signature the verify page
    reports as breaking its field's rules."""
    issuers = signing_setup().accepted_issuers()
    if issuers and not seed_values.issued_under(certificate, [c for c in others if c is not None], issuers):
        raise IssuerNotAccepted("issuer")


def checked_signer_name(certificate, slot: SignatureSlot) -> str:  # type: ignore[no-untyped-def]
    """The name in the signing certificate, which must be the one the agreement names for ``slot``
    (else :class:`NameMismatch`: an uploaded, token or remote key of someone else)."""
    signer_name = certificate_name(certificate)
    if not same_name(signer_name, slot.name):
        raise NameMismatch(slot.field_name)
    return signer_name


def latest_revision(agreement: Agreement, slot: SignatureSlot) -> tuple[bytes, int]:
    """The latest stored revision and its number, once the agreement and the slot are seen to be still open."""
    db.session.rollback()  # see what others have stored since
    row = db.session.execute(
        select(AgreementDocument.signed_pdf, AgreementDocument.revision).where(AgreementDocument.id == agreement.document.id)
    ).one()
    state = db.session.execute(
        select(SignatureSlot.signed_at, SignatureSlot.declined_at).where(SignatureSlot.id == slot.id)
    ).one()
    status = db.session.scalar(select(Agreement.status).where(Agreement.id == agreement.id))
    if status is not AgreementStatus.FINALISED:
        raise NotOpenForSigning(status.value if status else "gone")
    if state.signed_at is not None:
        raise AlreadySigned(slot.field_name)
    return row.signed_pdf, row.revision


def store_signature(agreement: Agreement, user: User, slot: SignatureSlot, signed: bytes, seen_revision: int,
                    signed_at: datetime, source: str, signer_name: str,
                    authentication: Authentication | None = None, *, timestamped: bool,
                    validation_data: bool = False) -> SignResult | None:
    """Store ``signed`` as the next revision unless another signature was stored after ``seen_revision``
    (then ``None``: sign again on the newer revision). Records the signer's name and, for a signatory who
    proved who they are at the identity provider, that ``authentication`` (slot and audit event). After
    the last signature, whatever the key source, the closing (B-LTA, coming into force, the intake
    validation that stores the report) is queued: :func:`close_signed_agreement`. The PAdES level
    ``signed`` reaches follows from the level of the revision it was made on and how it was made: with a
    signature time-stamp (``timestamped``), with its validation data in the DSS (``validation_data``)
    (:func:`.pades.level_after_signature`; read from ``signed`` only where the earlier level is not on
    record). Commits."""
    agreement_id, document_id, slot_id = agreement.id, agreement.document.id, slot.id
    others_unsigned = db.session.scalar(
        select(func.count()).select_from(SignatureSlot)
        .where(SignatureSlot.agreement_id == agreement_id, SignatureSlot.id != slot_id, SignatureSlot.signed_at.is_(None))
    )
    completed = not others_unsigned
    seen_level = db.session.scalar(select(AgreementDocument.pades_level).where(
        AgreementDocument.id == document_id, AgreementDocument.revision == seen_revision))
    # From how the signature was just made, not from parsing the whole signed PDF again.
    level = (pades.level_after_signature(seen_level, timestamped=timestamped, validation_data=validation_data).value
             if seen_level else pades.pades_level(signed).value)
    stored = db.session.execute(
        update(AgreementDocument)
        .where(AgreementDocument.id == document_id, AgreementDocument.revision == seen_revision)
        .values(signed_pdf=signed, signed_sha256=sha256_hex(signed), revision=seen_revision + 1, pades_level=level)
        .execution_options(synchronize_session=False)
    ).rowcount
    if stored != 1:
        db.session.rollback()
        return None
    marked = db.session.execute(
        update(SignatureSlot)
        .where(SignatureSlot.id == slot_id, SignatureSlot.signed_at.is_(None))
        .values(signed_at=signed_at, key_source=source, signer_name=signer_name,
                authentication_acr=authentication.acr if authentication else None,
                authentication_amr=list(authentication.amr) if authentication else None,
                authenticated_at=authentication.at if authentication else None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if marked != 1:
        db.session.rollback()
        raise AlreadySigned(slot.field_name)
    db.session.expire_all()  # the updates above bypass the session: the document and slot are read afresh
    agreement = db.session.get(Agreement, agreement_id, populate_existing=True)  # type: ignore[assignment]
    proof = f"; {authentication.describe()}" if authentication else ""
    event = record_event(agreement, "signed", user, f"{slot.field_name}; {source}; SHA-256 {sha256_hex(signed)}{proof}")
    event.signer_name = signer_name
    db.session.commit()
    if completed:
        # The signer has their answer now; the closing (B-LTA) and coming into force follow in the background.
        jobs.enqueue(close_signed_agreement, agreement_id, job_id=closing_job_id(agreement_id), started_by=user.id)
    db.session.expire_all()
    return SignResult(db.session.get(SignatureSlot, slot_id), completed, level)  # type: ignore[arg-type]


# ---------------------------------------------------------------- closing, in the background


def closing_job_id(agreement_id: int) -> str:
    return f"close-agreement-{agreement_id}"


def being_closed(agreement: Agreement) -> bool:
    """Every signatory has signed and the closing (B-LTA, coming into force) has not finished yet."""
    return (agreement.status is AgreementStatus.FINALISED and bool(agreement.signature_slots)
            and all(slot.signed_at is not None for slot in agreement.signature_slots))


@sharing_readers()  # the closed PDF is read once, by the 30-year check and the intake validation
def close_signed_agreement(agreement_id: int) -> None:
    """The job after the last signature: add the validation data and a document time-stamp (B-LTA, when a
    time-stamp service is configured) and check that the result would still validate in 30 years
    (:mod:`portal.signing.future`, stored with the document), then bring the agreement into force from the day of its last
    signature, and supersede the agreement it renews; then queue the delivery of the Fiks Arkiv messages
    those changes of state queued, and validate the closed PDF for the archive (:func:`validate_at_intake`).

    Safe to run again at any point: an agreement no longer waiting to be closed is left alone (but for
    the work after its closing), and the closed PDF and the new state are stored in one transaction, the
    PDF only on the revision it was made from.
    """
    agreement = db.session.get(Agreement, agreement_id)
    if agreement is None:
        return
    if not being_closed(agreement):  # closed before (perhaps by a worker that died before queueing the rest)
        if agreement.status is not AgreementStatus.FINALISED:
            _after_closing(agreement)
        return
    setup = signing_setup()
    document = agreement.document
    closed, level = document.signed_pdf, pades.PadesLevel(document.pades_level or "none")
    if setup.timestamper is not None and level is not pades.PadesLevel.B_LTA:
        closed = pades.close_lta(document.signed_pdf, setup.validation_context(), setup.timestamper)
        level = pades.PadesLevel.B_LTA
        # Before it enters the archive: would it still validate in 30 years with what it holds today?
        future = simulate_future_validation(closed, setup.trust_roots)
        stored = db.session.execute(
            update(AgreementDocument)
            .where(AgreementDocument.id == document.id, AgreementDocument.revision == document.revision)
            .values(signed_pdf=closed, signed_sha256=sha256_hex(closed), revision=document.revision + 1,
                    pades_level=level.value, future_validation_result=future.result,
                    future_validation_time=future.at, future_validation_checked_at=future.checked_at)
            .execution_options(synchronize_session=False)
        ).rowcount
        if stored != 1:
            raise Conflict("the document changed while it was being closed")  # retried by the queue
    moved = db.session.execute(
        update(Agreement).where(Agreement.id == agreement_id, Agreement.status == AgreementStatus.FINALISED)
        .values(status=AgreementStatus.ACTIVE).execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        db.session.rollback()
        return
    last = max(agreement.signature_slots, key=lambda slot: _aware(slot.signed_at))
    agreement.status = AgreementStatus.FINALISED  # change_status below records the move
    change_status(agreement, AgreementStatus.ACTIVE, last.user, f"all signatures; PAdES {level.value}")
    activate(agreement, _aware(last.signed_at).astimezone(clock.OSLO).date())
    supersede_renewed(agreement, last.user)
    db.session.commit()
    _after_closing(agreement)


def _after_closing(agreement: Agreement) -> None:
    """The work after a closing: queue the delivery of the Fiks Arkiv messages the closing queued (each
    once, by its job id), then validate the closed PDF for the archive, here in the closing's job (with
    the closing's reading of the file). A retried closing may do both again: the deliveries are not
    queued twice, and the validation stores the same report."""
    from ..archive.fiks_arkiv import deliver_in_background  # the archive builds on the agreements

    agreement_id, renewed_id = agreement.id, agreement.renewal_of_id
    deliver_in_background(agreement_id, renewed_id)
    validate_at_intake(agreement_id)


def close_waiting_agreements() -> int:
    """Queue the closing of every fully signed agreement that is still not closed because its closing failed
    (run daily); returns how many. A closing still queued or running is left to finish."""
    from ..models import BackgroundTask

    waiting = db.session.scalars(
        select(Agreement.id).where(Agreement.status == AgreementStatus.FINALISED,
                                   ~Agreement.signature_slots.any(SignatureSlot.signed_at.is_(None)),
                                   Agreement.signature_slots.any())
    ).all()
    again = 0
    for agreement_id in waiting:
        existing = db.session.get(BackgroundTask, closing_job_id(agreement_id))
        if existing is None or existing.state is TaskState.FAILED:
            jobs.enqueue(close_signed_agreement, agreement_id, job_id=closing_job_id(agreement_id))
            again += 1
    return again


def _aware(moment: datetime | None) -> datetime:
    assert moment is not None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # SQLite gives naive datetimes back


def validate_at_intake(agreement_id: int) -> None:
    """After the closing: validate the signed PDF once and store the report with the agreement, so that
    the archive reads the stored report instead of validating again."""
    agreement = db.session.get(Agreement, agreement_id)
    if agreement is None or agreement.document is None or agreement.document.signed_pdf is None:
        return
    from ..validation_reports import store_validation_report

    store_validation_report(agreement)  # safe to run again: the job is retried after a failure
    db.session.commit()


# ---------------------------------------------------------------- declining


def decline(agreement: Agreement, user: User, reason: str) -> Agreement:
    """The signatory declines this version: it is kept on record as DECLINED and the coordinators get a
    new version (a copy, a complete draft) and an e-mail with the reason. Returns the new version."""
    agreement = lock_agreement(agreement.id) or agreement  # one writer at a time (see ``editing``)
    slot = check_can_sign(agreement, user)
    now = datetime.now(timezone.utc)
    # Guarded: only one of two simultaneous declines (or a decline racing the last signature) wins.
    changed = db.session.execute(
        update(Agreement).where(Agreement.id == agreement.id, Agreement.status == AgreementStatus.FINALISED)
        .values(status=AgreementStatus.DECLINED).execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        db.session.rollback()
        raise NotOpenForSigning("changed")
    agreement.status = AgreementStatus.FINALISED  # change_status below records the move
    change_status(agreement, AgreementStatus.DECLINED, user, reason)
    slot.declined_at, slot.decline_reason = now, reason
    record_event(agreement, "declined", user, f"{slot.field_name}: {reason}")
    new = new_version(agreement, user, f"version {agreement.version + 1} after version {agreement.version} was declined")
    db.session.commit()
    notify_coordinators_of_decline(agreement, new, user, reason)
    notify_other_signatories_of_decline(agreement, new, slot, reason)
    return new


def declined_before(agreement: Agreement) -> SignatureSlot | None:
    """If ``agreement`` is the new version made when its previous version was declined: the signature slot
    that was declined (who declined, when, and why)."""
    previous = agreement.previous_version
    if previous is None or previous.status is not AgreementStatus.DECLINED:
        return None
    return next((slot for slot in previous.signature_slots if slot.declined_at is not None), None)


def notify_other_signatories_of_decline(old: Agreement, new: Agreement, declined: SignatureSlot, reason: str) -> None:
    """Tell the other signatories of the declined version why it was declined, and that their signing link
    leads to the new version once the coordinators have finalised it."""
    decliner = declined.user.name if declined.user else declined.name
    link = _link("agreements.sign", agreement_id=old.id)
    for slot in old.signature_slots:
        if slot.id == declined.id:
            continue
        notice = notices.declined_to_signatory(old, new, slot.name or slot.email, decliner, reason, link)
        queue_mail(slot.email, notice.subject, notice.body,
                   job_id=f"decline-notice-{old.id}-{slot.id}")  # the decline is stored; the mail follows


def notify_coordinators_of_decline(old: Agreement, new: Agreement, user: User, reason: str) -> None:
    recipients = [person.email for person in coordinators_of(old)]
    if not recipients:
        return
    notice = notices.declined_notice(old, new, user, reason, _link("wizard.check_answers", agreement_id=new.id))
    queue_mail(recipients, notice.subject, notice.body, job_id=f"decline-notice-{old.id}")

