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
from io import BytesIO

from flask import current_app, has_request_context, url_for
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields as pdf_fields
from pyhanko.sign.signers import Signer
from sqlalchemy import func, select, update

from .. import clock
from ..auth import provider
from ..auth.identity import Authentication
from ..documents import agreement_pdf, sha256_hex, signatories
from ..extensions import db
from ..mail import send_mail
from ..models import (
    Agreement,
    AgreementDocument,
    AgreementStatus,
    MemberRole,
    Organisation,
    OrganisationKind,
    Role,
    SignatureSlot,
    User,
)
from ..signing import keys, pades
from ..signing.identity import certificate_name, same_name
from ..signing.models import PortalSigningKey
from ..signing.pki import SignatoryIdentity
from ..signing.setup import SigningSetup
from . import notices
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
    document.pades_level = pades.pades_level(sealed).value
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
    """E-mail every signatory the link to the signing page (and an account invitation to new users).
    Returns the addresses that could not be reached."""
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
        try:
            send_mail(slot.email, notice.subject, notice.body)
        except Exception:  # noqa: BLE001 — the agreement is sealed; tell the coordinator who was not reached
            current_app.logger.exception("Could not send the signing invitation to %s", slot.email)
            failed.append(slot.email)
    return failed


# ---------------------------------------------------------------- signing


@dataclass
class KeyChoice:
    """How the signatory signs: ``portal`` (their portal-issued key, opened with their password),
    ``pkcs12`` (an uploaded PKCS#12 file and its passphrase, used once and never stored) or ``pkcs11``
    (their key on the configured token, labelled with their e-mail address, opened with the token PIN,
    used once and never stored)."""

    source: str = "portal"
    pkcs12_data: bytes | None = None
    pkcs12_passphrase: str | None = None
    pin: str | None = None

    def __repr__(self) -> str:  # never show the secrets in a log or a traceback
        return f"KeyChoice(source={self.source!r})"


@dataclass
class SignResult:
    slot: SignatureSlot
    completed: bool  # this was the last signature: the agreement is closed and active
    pades_level: str


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


def _portal_signer(user: User, password: str) -> Signer:
    """The user's portal-issued key, opened with their password; enrolled on first use, and again when
    the password has changed since (the old key can no longer be opened and is retired)."""
    setup = signing_setup()
    live = db.session.scalar(
        select(PortalSigningKey).where(PortalSigningKey.user_id == user.id, PortalSigningKey.revoked_at.is_(None))
        .order_by(PortalSigningKey.id.desc())
    )
    if live is not None:
        try:
            return keys.PortalIssuedKey(live.as_stored(), password, setup.issuer_chain()).signer()
        except keys.WrongSecret:
            live.revoked_at = datetime.now(timezone.utc)
    if setup.pki is None:
        raise KeyProblem("Portal-issued keys need the portal's certificate authority, which is not configured.")
    identity = SignatoryIdentity(user.name, user.title, user.organisation.name, user.email)
    stored = keys.PortalIssuedKey.enrol(setup.pki, identity, password)
    db.session.add(PortalSigningKey.from_stored(user.id, stored))
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
def _signer(user: User, password: str, choice: KeyChoice) -> Iterator[Signer]:
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
    yield _portal_signer(user, password)


def _empty_fields(pdf: bytes) -> list[str]:
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    return [name for name, _value, _ref in pdf_fields.enumerate_sig_fields(reader, filled_status=False)]


def sign(agreement: Agreement, user: User, password: str | None, choice: KeyChoice | None = None, *,
         now: datetime | None = None, authentication: Authentication | None = None) -> SignResult:
    """Sign the user's field of ``agreement``. Raises :class:`SigningError` (document unchanged).

    The password confirms who signs (and opens a portal-issued key); or, for a signatory bound to a proven
    identity, ``authentication``: the recent authentication at the signing level that the caller checked,
    recorded with the signature (slot and audit event). Each try signs the latest stored
    revision and stores it only if no other signature was stored meanwhile; the last signature also
    closes the document (B-LTA when a time-stamp service is configured) and activates the agreement.
    """
    # Without a choice (the ``flask demo`` command, which has no PIN to give) a token is not used.
    choice = choice or KeyChoice(signing_setup().key_source if signing_setup().key_source != "pkcs11" else "portal")
    slot = check_can_sign(agreement, user)
    if not is_named_for(slot, user):
        raise NameMismatch(slot.field_name)
    if authentication is None:
        _confirm_password(user, password or "")
    elif not user.identity_hmac:
        raise WrongPassword("no proven identity")
    secret = password if authentication is None else _identity_secret(user)
    try:
        with _signer(user, secret or "", choice) as signer:
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
    document_id = agreement.document.id
    slot_id = slot.id

    for _attempt in range(MAX_TRIES):
        db.session.rollback()  # see what others have stored since
        row = db.session.execute(
            select(AgreementDocument.signed_pdf, AgreementDocument.revision).where(AgreementDocument.id == document_id)
        ).one()
        state = db.session.execute(
            select(SignatureSlot.signed_at, SignatureSlot.declined_at).where(SignatureSlot.id == slot_id)
        ).one()
        status = db.session.scalar(select(Agreement.status).where(Agreement.id == agreement.id))
        if status is not AgreementStatus.FINALISED:
            raise NotOpenForSigning(status.value if status else "gone")
        if state.signed_at is not None:
            raise AlreadySigned(slot.field_name)
        seen_pdf, seen_revision = row.signed_pdf, row.revision
        signed_at = now or datetime.now(timezone.utc)
        signer_name = certificate_name(signer.signing_cert)
        if not same_name(signer_name, slot.name):  # an uploaded or token key of someone else
            raise NameMismatch(slot.field_name)
        stamp = pades.StampText(signer_name, user.title, user.organisation.name, signed_at)
        try:
            signed = pades.sign_field(seen_pdf, slot.field_name, signer, stamp, setup.timestamper,
                                      validation_context=setup.validation_context())
        except pades.FieldAlreadySigned as error:
            raise AlreadySigned(slot.field_name) from error
        except pades.SigningRefused as error:
            raise SigningError(str(error)) from error
        completed = not _empty_fields(signed)
        if completed and setup.timestamper is not None:
            signed = pades.close_lta(signed, setup.validation_context(), setup.timestamper)
        level = pades.pades_level(signed).value
        stored = db.session.execute(
            update(AgreementDocument)
            .where(AgreementDocument.id == document_id, AgreementDocument.revision == seen_revision)
            .values(signed_pdf=signed, signed_sha256=sha256_hex(signed), revision=seen_revision + 1, pades_level=level)
            .execution_options(synchronize_session=False)
        ).rowcount
        if stored != 1:
            continue  # someone else's signature came first: sign again on top of it
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
        agreement = db.session.get(Agreement, agreement.id, populate_existing=True)  # type: ignore[assignment]
        proof = f"; {authentication.describe()}" if authentication else ""
        event = record_event(agreement, "signed", user, f"{slot.field_name}; {source}; SHA-256 {sha256_hex(signed)}{proof}")
        event.signer_name = signer_name
        if completed:
            change_status(agreement, AgreementStatus.ACTIVE, user, f"all signatures; PAdES {level}")
            activate(agreement, signed_at.astimezone(clock.OSLO).date())
            supersede_renewed(agreement, user)
        db.session.commit()
        db.session.expire_all()
        return SignResult(db.session.get(SignatureSlot, slot_id), completed, level)  # type: ignore[arg-type]
    db.session.rollback()
    raise Conflict("too many signatures at the same moment")


# ---------------------------------------------------------------- declining


def decline(agreement: Agreement, user: User, reason: str) -> Agreement:
    """The signatory declines this version: it is kept on record as DECLINED and the coordinators get a
    new version (a copy, a complete draft) and an e-mail with the reason. Returns the new version."""
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
        try:
            send_mail(slot.email, notice.subject, notice.body)
        except Exception:  # noqa: BLE001 — the decline is stored; the signing page says the same
            current_app.logger.exception("Could not tell %s that %s was declined", slot.email, old.reference)


def notify_coordinators_of_decline(old: Agreement, new: Agreement, user: User, reason: str) -> None:
    recipients = [person.email for person in coordinators_of(old)]
    if not recipients:
        return
    notice = notices.declined_notice(old, new, user, reason, _link("wizard.check_answers", agreement_id=new.id))
    try:
        send_mail(recipients, notice.subject, notice.body)
    except Exception:  # noqa: BLE001 — the decline is stored; the new version shows in their list
        current_app.logger.exception("Could not tell the coordinators that %s was declined", old.reference)

