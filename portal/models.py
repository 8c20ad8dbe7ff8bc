"""The portal's data: reference tables, people, and the agreement with its parts.

One vocabulary throughout: an *agreement* (one version of a politiråd cooperation agreement) has
*parties* (the municipalities; the police district and station are fields of the agreement),
*members* (fixed members and other contacts) and *priority areas*; every change is an *audit event*.

Every relationship is declared on both of its classes, with ``back_populates`` (never ``backref``): an
attribute added by a backref exists only once SQLAlchemy has configured the mappers, so a fresh process
that builds a query from it first (``Agreement.document.has(...)``) failed; and a reader of a class sees
everything it is linked to. Collections marked ``viewonly`` are for reading and querying only (the list
of a municipality's parties, a user's audit events): links are made from the other side.
"""
from __future__ import annotations

import enum
from datetime import date, datetime, timezone

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, Date, DateTime, Enum, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .clock import twelve_months_after
from .extensions import db


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _enum(kind: type[enum.Enum], name: str) -> Enum:
    # Store the value (a readable word), and as a plain string so that new values need no ALTER TYPE.
    return Enum(kind, name=name, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e])


class WrittenStandard(str, enum.Enum):
    """Målform. A municipality may also be ``neutral``; an agreement is always one of the two."""

    NYNORSK = "nynorsk"
    BOKMAL = "bokmal"

    @property
    def language_code(self) -> str:
        return "nn" if self is WrittenStandard.NYNORSK else "nb"


class OrganisationKind(str, enum.Enum):
    MUNICIPALITY = "municipality"
    POLICE_DISTRICT = "police_district"


class Role(str, enum.Enum):
    COORDINATOR = "coordinator"
    SIGNATORY = "signatory"
    ARCHIVIST = "archivist"
    ADMINISTRATOR = "administrator"


class AgreementStatus(str, enum.Enum):
    DRAFT = "draft"
    FINALISED = "finalised"
    ACTIVE = "active"
    RENEWAL_DUE = "renewal_due"
    SUPERSEDED = "superseded"
    EXPIRED = "expired"
    DECLINED = "declined"  # a signatory declined this version; the coordinators work on a new one


class MemberRole(str, enum.Enum):
    """Fixed members (the template's «minimum faste medlemmer») and other contacts."""

    MAYOR = "mayor"
    STATION_CHIEF = "station_chief"
    CHIEF_EXECUTIVE = "chief_executive"
    POLICE_CONTACT = "police_contact"
    SLT_COORDINATOR = "slt_coordinator"
    BUSINESS_CONTACT = "business_contact"
    VOLUNTARY_CONTACT = "voluntary_contact"
    INTEREST_CONTACT = "interest_contact"

    @property
    def is_contact(self) -> bool:
        return self in CONTACT_ROLES


CONTACT_ROLES = frozenset({MemberRole.BUSINESS_CONTACT, MemberRole.VOLUNTARY_CONTACT, MemberRole.INTEREST_CONTACT})


# ---------------------------------------------------------------- reference data


class County(db.Model):
    number: Mapped[str] = mapped_column(String(2), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))

    municipalities: Mapped[list[Municipality]] = relationship(
        back_populates="county", order_by="Municipality.number", viewonly=True
    )


class Municipality(db.Model):
    """One of the 357 municipalities of the 2024 division, keyed by kommunenummer."""

    number: Mapped[str] = mapped_column(String(4), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    name_norwegian: Mapped[str] = mapped_column(String(100))
    county_number: Mapped[str] = mapped_column(ForeignKey("county.number"))
    written_standard: Mapped[str] = mapped_column(String(10))  # nynorsk, bokmal or neutral

    county: Mapped[County] = relationship(back_populates="municipalities")
    organisation: Mapped[Organisation | None] = relationship(back_populates="municipality", viewonly=True)
    parties: Mapped[list[Party]] = relationship(back_populates="municipality", viewonly=True)
    members: Mapped[list[Member]] = relationship(back_populates="municipality", viewonly=True)
    archive_messages: Mapped[list[ArchiveMessage]] = relationship(back_populates="municipality", viewonly=True)


class PoliceDistrict(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name_bokmal: Mapped[str] = mapped_column(String(100), unique=True)
    name_nynorsk: Mapped[str] = mapped_column(String(100))
    seat: Mapped[str] = mapped_column(String(100))
    default_for_counties: Mapped[list[str]] = mapped_column(JSON, default=list)

    organisation: Mapped[Organisation | None] = relationship(back_populates="police_district", viewonly=True)
    agreements: Mapped[list[Agreement]] = relationship(back_populates="police_district", viewonly=True)

    def name_in(self, standard: WrittenStandard | str) -> str:
        return self.name_nynorsk if WrittenStandard(standard) is WrittenStandard.NYNORSK else self.name_bokmal


# ---------------------------------------------------------------- people


class Organisation(db.Model):
    """A municipality or a police district that has people in the portal."""

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OrganisationKind] = mapped_column(_enum(OrganisationKind, "organisation_kind"))
    municipality_number: Mapped[str | None] = mapped_column(ForeignKey("municipality.number"), unique=True)
    police_district_id: Mapped[int | None] = mapped_column(ForeignKey("police_district.id"), unique=True)

    municipality: Mapped[Municipality | None] = relationship(back_populates="organisation")
    police_district: Mapped[PoliceDistrict | None] = relationship(back_populates="organisation")
    users: Mapped[list[User]] = relationship(back_populates="organisation", order_by="User.name", viewonly=True)
    owned_agreements: Mapped[list[Agreement]] = relationship(back_populates="owner_organisation", viewonly=True)

    @property
    def name(self) -> str:
        return self.name_in(WrittenStandard.BOKMAL)

    def name_in(self, standard: WrittenStandard | str) -> str:
        """«Voss kommune»; a police district as it is written in ``standard``."""
        if self.municipality is not None:
            return f"{self.municipality.name} kommune"
        assert self.police_district is not None
        return self.police_district.name_in(standard)


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[Role] = mapped_column(_enum(Role, "user_role"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    password_hash: Mapped[str | None] = mapped_column(String(255))  # None until an invitation is accepted
    language: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The proven identity (ID-porten's pid) this account is bound to, as a keyed hash (HMAC-SHA-256 under a
    # server secret, see portal.auth.identity): enough to recognise the person, never the number itself.
    identity_hmac: Mapped[str | None] = mapped_column(String(64), unique=True)

    organisation: Mapped[Organisation] = relationship(back_populates="users")
    created_agreements: Mapped[list[Agreement]] = relationship(
        back_populates="created_by", foreign_keys="Agreement.created_by_id", viewonly=True
    )
    # The drafts this person changed last (who changed a draft last is shown on its page).
    changed_agreements: Mapped[list[Agreement]] = relationship(
        back_populates="changed_by", foreign_keys="Agreement.changed_by_id", viewonly=True
    )
    evaluations: Mapped[list[PriorityAreaEvaluation]] = relationship(back_populates="evaluated_by", viewonly=True)
    audit_events: Mapped[list[AuditEvent]] = relationship(
        back_populates="user", order_by=lambda: (AuditEvent.at, AuditEvent.id), viewonly=True
    )
    signature_slots: Mapped[list[SignatureSlot]] = relationship(back_populates="user", viewonly=True)
    sessions: Mapped[list[UserSession]] = relationship(back_populates="user", viewonly=True)

    @property
    def is_active(self) -> bool:
        # Flask-Login: an invited user who has neither chosen a password nor proven an identity cannot sign in.
        return self.password_hash is not None or self.identity_hmac is not None


class UserSession(db.Model):
    """One sign-in: a portal session that can be found on the server, checked on every request, and ended
    from elsewhere (sign-out, the provider's front-channel logout by ``issuer`` + ``sid``, an administrator).

    ``acr``, ``amr`` and ``authenticated_at`` describe the latest authentication at the identity provider in
    this session (sign-in or step-up); signing asks for one at the signing level that is recent enough."""

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)  # random; kept in the signed session cookie
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    method: Mapped[str] = mapped_column(String(20))  # password | provider
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_by: Mapped[str | None] = mapped_column(String(40))  # sign-out | front-channel | administrator
    issuer: Mapped[str | None] = mapped_column(String(300))
    sid: Mapped[str | None] = mapped_column(String(200), index=True)
    acr: Mapped[str | None] = mapped_column(String(100))
    amr: Mapped[list[str]] = mapped_column(JSON, default=list)
    authenticated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The provider's ID token, encrypted (it names the person), for id_token_hint at RP-initiated logout.
    id_token_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)

    user: Mapped[User] = relationship(back_populates="sessions")


class PasswordFailure(db.Model):
    """A wrong password, by the e-mail address typed (an account or not) and the client's address; the
    throttle of portal.auth.throttle counts these within its window and forgets older ones."""

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(254), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


# ---------------------------------------------------------------- the agreement


class Agreement(db.Model):
    """One version of a politiråd cooperation agreement.

    ``reference`` names the agreement across its versions (``PR-2026-0001``); ``version`` counts them.
    """

    __table_args__ = (UniqueConstraint("reference", "version", name="uq_agreement_reference_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[AgreementStatus] = mapped_column(
        _enum(AgreementStatus, "agreement_status"), default=AgreementStatus.DRAFT
    )
    owner_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    previous_version_id: Mapped[int | None] = mapped_column(ForeignKey("agreement.id"))
    # A renewal (and each new version of it) names the signed agreement it is to supersede.
    renewal_of_id: Mapped[int | None] = mapped_column(ForeignKey("agreement.id"), index=True)
    # Steps whose answers have been saved; the wizard lets nobody past a step not yet in this list.
    completed_steps: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Input a user left behind with «Back» on a page that was not yet valid, by step: shown again when
    # they return, never part of the answers until the page is saved.
    unsaved_input: Mapped[dict[str, list[list[str]]]] = mapped_column(JSON, default=dict)
    # Every write to the draft bumps ``draft_version`` (not to be confused with ``version``, which counts
    # the agreement's versions). Each step form carries the draft version it was shown at, so a save made
    # on top of a step someone else has changed since is shown as a conflict instead of overwriting it.
    draft_version: Mapped[int] = mapped_column(Integer, default=1)
    # Who changed the draft last, and when; and for each step the draft version, person and time of its
    # last change: {"priorities": {"version": 7, "by": <user id>, "at": "<ISO time>"}}.
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    step_changes: Mapped[dict[str, dict[str, object]]] = mapped_column(JSON, default=dict)

    # Parties (police side)
    written_standard: Mapped[WrittenStandard | None] = mapped_column(_enum(WrittenStandard, "written_standard"))
    police_district_id: Mapped[int | None] = mapped_column(ForeignKey("police_district.id"))
    police_station: Mapped[str | None] = mapped_column(String(200))

    # §1 Purpose and main tasks
    purpose_addition: Mapped[str | None] = mapped_column(Text)
    additional_main_tasks: Mapped[list[str]] = mapped_column(JSON, default=list)

    # §2 Participation: leadership, secretariat, meetings
    leadership: Mapped[str | None] = mapped_column(String(20))  # mayor | rotating
    secretariat: Mapped[str | None] = mapped_column(String(20))  # slt_coordinator | police_contact | other
    secretariat_other: Mapped[str | None] = mapped_column(String(200))
    meetings_per_year: Mapped[int | None] = mapped_column(Integer)
    agenda_days_before: Mapped[int | None] = mapped_column(Integer)
    minutes_archived: Mapped[bool] = mapped_column(Boolean, default=False)
    minutes_archive_location: Mapped[str | None] = mapped_column(String(200))

    # §3 Local goals and follow-up
    follow_up_responsible: Mapped[str | None] = mapped_column(String(300))
    slt_relation: Mapped[str | None] = mapped_column(String(20))  # steering_group | coordinated | no_slt
    slt_relation_description: Mapped[str | None] = mapped_column(Text)

    # §4 Validity
    start_date: Mapped[date | None] = mapped_column(Date)
    place: Mapped[str | None] = mapped_column(String(100))

    # Lifecycle: in force from the start date, or the last signature if later; renewed twelve months later
    active_from: Mapped[date | None] = mapped_column(Date)
    renewal_due_on: Mapped[date | None] = mapped_column(Date, index=True)

    owner_organisation: Mapped[Organisation] = relationship(back_populates="owned_agreements")
    created_by: Mapped[User] = relationship(back_populates="created_agreements", foreign_keys=[created_by_id])
    changed_by: Mapped[User | None] = relationship(back_populates="changed_agreements", foreign_keys=[changed_by_id])
    police_district: Mapped[PoliceDistrict | None] = relationship(back_populates="agreements")
    # The version chain, both ways: a declined version leads to the next version, a signed agreement to
    # its renewals.
    previous_version: Mapped[Agreement | None] = relationship(
        back_populates="next_versions", remote_side=[id], foreign_keys=[previous_version_id]
    )
    next_versions: Mapped[list[Agreement]] = relationship(
        back_populates="previous_version", foreign_keys=[previous_version_id], order_by="Agreement.version",
        viewonly=True,
    )
    renewal_of: Mapped[Agreement | None] = relationship(
        back_populates="renewals", remote_side=[id], foreign_keys=[renewal_of_id]
    )
    renewals: Mapped[list[Agreement]] = relationship(
        back_populates="renewal_of", foreign_keys=[renewal_of_id], order_by="Agreement.id", viewonly=True
    )
    parties: Mapped[list[Party]] = relationship(
        back_populates="agreement", order_by="Party.position", cascade="all, delete-orphan"
    )
    members: Mapped[list[Member]] = relationship(
        back_populates="agreement", order_by="Member.position", cascade="all, delete-orphan"
    )
    priority_areas: Mapped[list[PriorityArea]] = relationship(
        back_populates="agreement", order_by="PriorityArea.position", cascade="all, delete-orphan"
    )
    # Deleting an agreement leaves its document and signature slots to the database's ON DELETE CASCADE,
    # and its audit trail (which outlives a deleted draft) to ON DELETE SET NULL.
    document: Mapped[AgreementDocument | None] = relationship(back_populates="agreement", passive_deletes=True)
    signature_slots: Mapped[list[SignatureSlot]] = relationship(
        back_populates="agreement", order_by="SignatureSlot.position", passive_deletes=True
    )
    archive_messages: Mapped[list[ArchiveMessage]] = relationship(back_populates="agreement", viewonly=True)
    audit_events: Mapped[list[AuditEvent]] = relationship(
        back_populates="agreement", order_by=lambda: (AuditEvent.at, AuditEvent.id), viewonly=True
    )

    @property
    def municipalities(self) -> list[Municipality]:
        return [party.municipality for party in self.parties]

    def members_in(self, role: MemberRole) -> list[Member]:
        return [member for member in self.members if member.role is role]

    def member(self, role: MemberRole, municipality_number: str | None = None) -> Member | None:
        """The member in ``role`` (for one municipality: its mayor or chief executive), if answered."""
        return next((m for m in self.members_in(role) if m.municipality_number == municipality_number), None)

    @property
    def fixed_members(self) -> list[Member]:
        """The fixed members in the template's order: mayors, station chief, chief executives, police contact, SLT."""
        order = list(MemberRole)
        fixed = [member for member in self.members if not member.role.is_contact]
        return sorted(fixed, key=lambda member: (order.index(member.role), member.position))

    @property
    def contacts(self) -> list[Member]:
        return [member for member in self.members if member.role.is_contact]

    @property
    def is_renewal(self) -> bool:
        return self.renewal_of_id is not None

    @property
    def is_editable(self) -> bool:
        return self.status is AgreementStatus.DRAFT

    @property
    def is_deletable(self) -> bool:
        """A draft that was never finalised may be deleted; a new version made after a decline may not,
        since it carries the declined version forward."""
        declined_before = self.previous_version is not None and self.previous_version.status is AgreementStatus.DECLINED
        return self.status is AgreementStatus.DRAFT and not declined_before

    @property
    def is_untouched(self) -> bool:
        """A draft just started: nothing answered, nothing typed, not a copy of an earlier version."""
        return (self.status is AgreementStatus.DRAFT and not self.completed_steps and not self.parties
                and not self.unsaved_input and self.previous_version_id is None)

    @property
    def expires_on(self) -> date | None:
        """An agreement not renewed within twelve months of its renewal date has expired on this day."""
        return twelve_months_after(self.renewal_due_on) if self.renewal_due_on is not None else None

    def status_on(self, today: date) -> AgreementStatus:
        """The state as it is on ``today``: an active agreement past its renewal date is due for renewal,
        and a year after that it has expired, even before the nightly ``flask renewals`` has marked it."""
        return status_on(self.status, self.renewal_due_on, today)


def status_on(status: AgreementStatus, renewal_due_on: date | None, today: date) -> AgreementStatus:
    """``Agreement.status_on`` from the two columns it reads (for lists that load columns, not agreements)."""
    if status in (AgreementStatus.ACTIVE, AgreementStatus.RENEWAL_DUE) and renewal_due_on is not None:
        if twelve_months_after(renewal_due_on) <= today:
            return AgreementStatus.EXPIRED
        if renewal_due_on <= today:
            return AgreementStatus.RENEWAL_DUE
    return status


class Party(db.Model):
    """A municipality that is party to the agreement (an inter-municipal council has several)."""

    __table_args__ = (UniqueConstraint("agreement_id", "municipality_number", name="uq_party_agreement_municipality"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreement.id", ondelete="CASCADE"))
    municipality_number: Mapped[str] = mapped_column(ForeignKey("municipality.number"))
    position: Mapped[int] = mapped_column(Integer, default=0)

    agreement: Mapped[Agreement] = relationship(back_populates="parties")
    municipality: Mapped[Municipality] = relationship(back_populates="parties")


class Member(db.Model):
    """A fixed member of the council, or another contact (business, voluntary, interest organisation)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreement.id", ondelete="CASCADE"))
    role: Mapped[MemberRole] = mapped_column(_enum(MemberRole, "member_role"))
    municipality_number: Mapped[str | None] = mapped_column(ForeignKey("municipality.number"))
    name: Mapped[str] = mapped_column(String(200), default="")
    title: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    organisation_name: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    agreement: Mapped[Agreement] = relationship(back_populates="members")
    municipality: Mapped[Municipality | None] = relationship(back_populates="members")


class PriorityArea(db.Model):
    """A local priority area (satsingsområde) with the results the council expects of it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreement.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    expected_results: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)

    agreement: Mapped[Agreement] = relationship(back_populates="priority_areas")
    evaluation: Mapped[PriorityAreaEvaluation | None] = relationship(
        back_populates="priority_area", cascade="all, delete-orphan", uselist=False
    )


class PriorityAreaEvaluation(db.Model):
    """The year-end evaluation of one priority area (the template's «evaluering» and «læringspunkter»),
    written when the agreement is renewed and kept with the agreement it evaluates."""

    id: Mapped[int] = mapped_column(primary_key=True)
    priority_area_id: Mapped[int] = mapped_column(ForeignKey("priority_area.id", ondelete="CASCADE"), unique=True)
    what_was_done: Mapped[str] = mapped_column(Text)
    achieved: Mapped[str] = mapped_column(Text)
    carried_forward: Mapped[str] = mapped_column(Text, default="")  # læringspunkter for next year
    evaluated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    evaluated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    priority_area: Mapped[PriorityArea] = relationship(back_populates="evaluation")
    evaluated_by: Mapped[User | None] = relationship(back_populates="evaluations")


class AuditEvent(db.Model):
    """An append-only record of something that happened to an agreement: who, what, when, from where."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("agreement.id", ondelete="SET NULL"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")
    remote_address: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    # For a signature: the signer as the certificate states it (the account in ``user`` signed in to do it).
    signer_name: Mapped[str | None] = mapped_column(String(200))

    user: Mapped[User | None] = relationship(back_populates="audit_events")
    agreement: Mapped[Agreement | None] = relationship(back_populates="audit_events")


class RenewalReminder(db.Model):
    """A renewal reminder that has gone out (``days_before`` the renewal date; 0 is the day itself).
    Unique per agreement and threshold, so no reminder is ever sent twice, even by two servers at once."""

    __table_args__ = (UniqueConstraint("agreement_id", "days_before", name="uq_renewal_reminder_agreement_days"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreement.id", ondelete="CASCADE"))
    days_before: Mapped[int] = mapped_column(Integer)
    sent_on: Mapped[date] = mapped_column(Date)
    recipients: Mapped[str] = mapped_column(Text, default="")


class ArchiveMessage(db.Model):
    """A Fiks Arkiv ``arkivmelding.opprett`` message for one municipality party's archive, when the agreement was
    fully signed («signed») or superseded. ``message_id`` is unique: the same message is never made or
    delivered twice. ``state`` is waiting, delivered or failed (``error`` says why; retried with back-off)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(36), unique=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreement.id", ondelete="CASCADE"), index=True)
    municipality_number: Mapped[str] = mapped_column(ForeignKey("municipality.number"))
    event: Mapped[str] = mapped_column(String(20))  # signed | superseded
    state: Mapped[str] = mapped_column(String(20), default="waiting", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    agreement: Mapped[Agreement] = relationship(back_populates="archive_messages")
    municipality: Mapped[Municipality] = relationship(back_populates="archive_messages")


# ---------------------------------------------------------------- the finalised document



class AgreementDocument(db.Model):
    """The final PDF of one agreement version, stored exactly as it was rendered when the agreement was
    finalised (PDF/A-2b with empty signature fields), with its SHA-256. One per agreement version."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreement.id", ondelete="CASCADE"), unique=True)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The current signed revision: the sealed PDF and every signature since, each an incremental update
    # on top of the one before. ``revision`` counts the stored updates (optimistic locking: a writer
    # stores only ``WHERE revision = <the revision it signed on>``).
    signed_pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    signed_sha256: Mapped[str | None] = mapped_column(String(64))
    revision: Mapped[int] = mapped_column(Integer, default=0)
    pades_level: Mapped[str | None] = mapped_column(String(10))
    # The validation report of the signed revision (``portal.signing.verify.VerificationReport`` as a
    # dict), made when the agreement was closed: the archive reads it instead of validating again. It
    # holds for the bytes whose SHA-256 it names and the trust settings whose fingerprint it names.
    validation_report: Mapped[dict | None] = mapped_column(JSON)
    validation_report_sha256: Mapped[str | None] = mapped_column(String(64))
    validation_report_trust: Mapped[str | None] = mapped_column(String(64))
    validated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The same validation as an ETSI TS 119 102-2 XML report (``portal.signing.etsi_report``), made with it.
    validation_report_etsi: Mapped[str | None] = mapped_column(Text)
    # Would the signed PDF still validate 30 years on with what it holds today (``portal.signing.future``)?
    # Checked when the agreement is closed at B-LTA, before it enters the archive, and after each renewal
    # of its archival time-stamp: ``passed`` or the AdES sub-indication that failed it, the simulated moment.
    future_validation_result: Mapped[str | None] = mapped_column(String(60))
    future_validation_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    future_validation_checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    agreement: Mapped[Agreement] = relationship(back_populates="document")
    # The signed PDF as it was before each renewal of its archival time-stamp, oldest first.
    renditions: Mapped[list[DocumentRendition]] = relationship(
        back_populates="document", order_by="DocumentRendition.id", passive_deletes=True
    )

    @property
    def current_pdf(self) -> bytes:
        """The bytes to serve: the latest signed revision, else the finalised PDF."""
        return self.signed_pdf if self.signed_pdf is not None else self.pdf

    @property
    def current_sha256(self) -> str:
        return self.signed_sha256 if self.signed_sha256 is not None else self.sha256


class DocumentRendition(db.Model):
    """An earlier rendition of an agreement's signed PDF, kept byte for byte with its SHA-256 when a renewal
    of the archival time-stamp (``flask archive renew-timestamps``) replaced it with a longer one (the
    old bytes are a prefix of the new). ``revision`` is the revision it was; ``reason`` why it was replaced."""

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("agreement_document.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    pdf: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)  # not loaded with the list
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    replaced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reason: Mapped[str] = mapped_column(Text, default="")

    document: Mapped[AgreementDocument] = relationship(back_populates="renditions")


# ---------------------------------------------------------------- signing


class SignatureSlot(db.Model):
    """One signatory's place in the final PDF (its signature field), and what became of it."""

    __table_args__ = (UniqueConstraint("agreement_id", "field_name", name="uq_signature_slot_agreement_field"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreement.id", ondelete="CASCADE"), index=True)
    field_name: Mapped[str] = mapped_column(String(80))
    role: Mapped[MemberRole] = mapped_column(_enum(MemberRole, "member_role"))  # mayor or station chief
    municipality_number: Mapped[str | None] = mapped_column(ForeignKey("municipality.number"))
    name: Mapped[str] = mapped_column(String(200), default="")
    title: Mapped[str] = mapped_column(String(200), default="")
    organisation_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    declined_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decline_reason: Mapped[str | None] = mapped_column(Text)
    key_source: Mapped[str | None] = mapped_column(String(20))  # portal | pkcs12 | pkcs11
    # Who signed, as the signature's certificate states it (never the typed ``name``): see portal.signing.identity.
    signer_name: Mapped[str | None] = mapped_column(String(200))
    # The authentication at the identity provider that let the signatory sign (signing level, recent):
    # its acr (ID-porten: idporten-loa-high), amr (e.g. BankID) and time. Empty when a password was used.
    authentication_acr: Mapped[str | None] = mapped_column(String(100))
    authentication_amr: Mapped[list[str] | None] = mapped_column(JSON)
    authenticated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    agreement: Mapped[Agreement] = relationship(back_populates="signature_slots")
    user: Mapped[User | None] = relationship(back_populates="signature_slots")

    @property
    def shown_name(self) -> str:
        """The name to show for this place: once signed, the name in the signature's certificate; before,
        the name the agreement gives (or the e-mail address)."""
        if self.signed_at is not None:
            return self.signer_name or ""
        return self.name or self.email

# ---------------------------------------------------------------- background work


class TaskState(str, enum.Enum):
    QUEUED = "queued"  # waiting for a worker (again, after a failed try with tries left)
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # every try failed: ``error`` says why


class BackgroundTask(db.Model):
    """One piece of background work (see ``portal.jobs``): its state, progress and, when it failed, why.
    The id is the job id, which names the work, so the same work is never queued twice."""

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))  # the job function's name
    state: Mapped[TaskState] = mapped_column(_enum(TaskState, "task_state"), default=TaskState.QUEUED)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def finished(self) -> bool:
        return self.state in (TaskState.DONE, TaskState.FAILED)
