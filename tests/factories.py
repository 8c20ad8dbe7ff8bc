"""Builders for test data: organisations, people and agreements in any state of completion."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from portal.extensions import db
from portal.models import (
    Agreement,
    AgreementStatus,
    Member,
    MemberRole,
    Municipality,
    Organisation,
    OrganisationKind,
    Party,
    PoliceDistrict,
    PriorityArea,
    Role,
    User,
    WrittenStandard,
)
from forms.steps import STEP_NAMES

VOSS = "4621"  # nynorsk, Vestland: Vest politidistrikt
ULVIK = "4620"  # nynorsk, Vestland
BERGEN = "4601"  # neutral, Vestland
OSLO = "0301"  # neutral
EIGERSUND = "1101"  # bokmål, Rogaland: Sør-Vest politidistrikt


def municipality(number: str) -> Municipality:
    found = db.session.get(Municipality, number)
    assert found is not None, number
    return found


def police_district(name_bokmal: str = "Vest politidistrikt") -> PoliceDistrict:
    found = db.session.scalar(select(PoliceDistrict).where(PoliceDistrict.name_bokmal == name_bokmal))
    assert found is not None, name_bokmal
    return found


def organisation_for_municipality(number: str) -> Organisation:
    found = db.session.scalar(select(Organisation).where(Organisation.municipality_number == number))
    if found is None:
        found = Organisation(kind=OrganisationKind.MUNICIPALITY, municipality_number=number)
        db.session.add(found)
        db.session.flush()
    return found


def organisation_for_police_district(name_bokmal: str = "Vest politidistrikt") -> Organisation:
    district = police_district(name_bokmal)
    found = db.session.scalar(select(Organisation).where(Organisation.police_district_id == district.id))
    if found is None:
        found = Organisation(kind=OrganisationKind.POLICE_DISTRICT, police_district_id=district.id)
        db.session.add(found)
        db.session.flush()
    return found


def user(email: str, role: Role, organisation: Organisation, password_hash: str | None, name: str = "", title: str = "") -> User:
    person = User(
        email=email, name=name or email.split("@")[0].title(), title=title, role=role,
        organisation=organisation, password_hash=password_hash,
    )
    db.session.add(person)
    db.session.flush()
    return person


def complete_agreement(
    created_by: User,
    municipality_numbers: tuple[str, ...] = (VOSS,),
    priority_area_count: int = 3,
    standard: WrittenStandard = WrittenStandard.NYNORSK,
    contacts: int = 3,
    long_text: bool = False,
) -> Agreement:
    """A draft agreement with every step answered, as the wizard would leave it."""
    district = police_district("Sør-Vest politidistrikt") if municipality_numbers[0].startswith("11") else police_district()
    agreement = Agreement(
        reference=f"PR-2026-{db.session.query(Agreement).count() + 1:04d}",
        owner_organisation=created_by.organisation,
        created_by=created_by,
        written_standard=standard,
        police_district=district,
        police_station="Voss lensmannskontor" if not long_text else "Voss, Ulvik og Eidfjord politistasjon " * 3,
        purpose_addition="Politirådet skal særleg arbeide med trygge møteplassar for unge.",
        additional_main_tasks=["Følgje opp handlingsplanen mot vald i nære relasjonar."],
        leadership="mayor",
        secretariat="slt_coordinator",
        meetings_per_year=4,
        agenda_days_before=7,
        minutes_archived=True,
        minutes_archive_location="Kommunens sak- og arkivsystem",
        follow_up_responsible="SLT-koordinator og politikontakt",
        slt_relation="steering_group",
        slt_relation_description="Politirådet er styringsgruppe for SLT.",
        start_date=date(2027, 1, 1),
        place="Voss",
        completed_steps=list(STEP_NAMES),
    )
    db.session.add(agreement)
    for position, number in enumerate(municipality_numbers):
        place = municipality(number)
        agreement.parties.append(Party(municipality_number=number, position=position))
        agreement.members.append(Member(role=MemberRole.MAYOR, municipality_number=number, name=f"Ordførar {place.name}", title="Ordførar", email=f"ordforar.{number}@example.org", position=position))
        agreement.members.append(Member(role=MemberRole.CHIEF_EXECUTIVE, municipality_number=number, name=f"Direktør {place.name}", title="Kommunedirektør", email=f"direktor.{number}@example.org", position=position))
    agreement.members.append(Member(role=MemberRole.STATION_CHIEF, name="Kari Nordmann" + (" Langnavn-Etternavnsen" * 4 if long_text else ""), title="Politistasjonssjef", email="kari.nordmann@politiet.example.org"))
    agreement.members.append(Member(role=MemberRole.POLICE_CONTACT, name="Ola Politikontakt", title="Politikontakt", email="ola@politiet.example.org"))
    agreement.members.append(Member(role=MemberRole.SLT_COORDINATOR, name="Siri SLT", title="SLT-koordinator", email="siri@example.org"))
    kinds = (MemberRole.BUSINESS_CONTACT, MemberRole.VOLUNTARY_CONTACT, MemberRole.INTEREST_CONTACT)
    for position in range(contacts):
        agreement.members.append(Member(role=kinds[position % 3], name=f"Kontakt {position + 1}", organisation_name=f"Organisasjon {position + 1}", position=position))
    results = "Færre unge som blir rekrutterte til kriminelle miljø. " * (12 if long_text else 1)
    for position in range(priority_area_count):
        agreement.priority_areas.append(PriorityArea(title=f"Satsingsområde {position + 1}", expected_results=results.strip(), position=position))
    db.session.flush()
    return agreement


def archived_agreement(
    created_by: User,
    municipality_numbers: tuple[str, ...] = (VOSS,),
    *,
    status: AgreementStatus = AgreementStatus.ACTIVE,
    active_from: date = date(2026, 3, 1),
) -> Agreement:
    """A complete agreement in a signed state (default ACTIVE) with a stand-in document: a tiny PDF that
    is *not* really signed, and a signed slot per signatory. Cheap; for lists, filters and access. Use
    :func:`signed_agreement` where the signatures themselves matter."""
    from portal.documents import sha256_hex
    from datetime import datetime, timezone

    from portal.models import AgreementDocument, SignatureSlot

    agreement = complete_agreement(created_by, municipality_numbers)
    agreement.status = status
    agreement.start_date = agreement.active_from = active_from
    pdf = f"%PDF-1.7\n% stand-in for {agreement.reference}\n%%EOF\n".encode()
    db.session.add(AgreementDocument(agreement=agreement, pdf=pdf, sha256=sha256_hex(pdf), signed_pdf=pdf,
                                     signed_sha256=sha256_hex(pdf), revision=1))
    signed_at = datetime(active_from.year, active_from.month, active_from.day, 12, tzinfo=timezone.utc)
    for position, member in enumerate(m for m in agreement.members if m.role in (MemberRole.MAYOR, MemberRole.STATION_CHIEF)):
        field = "Signatur_stasjonssjef" if member.role is MemberRole.STATION_CHIEF else f"Signatur_ordforar_{member.municipality_number}"
        db.session.add(SignatureSlot(agreement=agreement, field_name=field, role=member.role, municipality_number=member.municipality_number,
                                     name=member.name, title=member.title, email=member.email, position=position, signed_at=signed_at,
                                     signer_name=member.name))
    db.session.flush()
    return agreement


def name_signatories(agreement: Agreement, mayor: User, station_chief: User) -> None:
    """Make ``mayor`` the agreement's mayor for Voss and ``station_chief`` its station chief, by the name and
    e-mail address of their accounts (as a coordinator types them in the wizard)."""
    for member in agreement.members:
        if member.role is MemberRole.MAYOR and member.municipality_number == VOSS:
            member.name, member.email = mayor.name, mayor.email
        if member.role is MemberRole.STATION_CHIEF:
            member.name, member.email = station_chief.name, station_chief.email


def finalised_agreement(coordinator: User, mayor: User, station_chief: User,
                        municipality_numbers: tuple[str, ...] = (VOSS,), *, start_date: date | None = None) -> Agreement:
    """A complete agreement finalised and sealed through the signing service (as the finalise page does),
    ``mayor`` the signatory for Voss and ``station_chief`` for the police; the mayors of other
    municipalities are invited signatories with the mayor's password. Commits. Needs the signing PKI and
    must not run in a thread where Playwright has started (see tests/browser/test_signing_in_browser.py)."""
    from portal.agreements import signing

    agreement = complete_agreement(coordinator, municipality_numbers)
    if start_date is not None:
        agreement.start_date = start_date
    name_signatories(agreement, mayor, station_chief)
    for invitation in signing.finalise(agreement, coordinator):
        if invitation.slot.user is not None and invitation.slot.user.password_hash is None:
            invitation.slot.user.password_hash = mayor.password_hash
    db.session.commit()
    return agreement


def signed_agreement(people, municipality_numbers: tuple[str, ...] = (VOSS,), *, created_by: User | None = None,  # type: ignore[no-untyped-def]
                     active_from: date | None = None, start_date: date | None = None) -> Agreement:
    """:func:`finalised_agreement` for the ``people`` fixture, then signed by every signatory, so ACTIVE
    and closed at B-LTA. ``active_from`` moves the dates of coming into force (and of renewal) to that day."""
    from portal.agreements import signing

    from .conftest import PASSWORD

    agreement = finalised_agreement(created_by or people.coordinator, people.mayor, people.station_chief, municipality_numbers,
                                    start_date=start_date)
    agreement_id = agreement.id
    for slot_id in [slot.id for slot in agreement.signature_slots]:
        current = db.session.get(Agreement, agreement_id)
        slot = next(s for s in current.signature_slots if s.id == slot_id)
        signing.sign(current, slot.user, PASSWORD)
    signed = db.session.get(Agreement, agreement_id)
    assert signed is not None and signed.status is AgreementStatus.ACTIVE
    if active_from is not None:
        put_in_force(signed, active_from)
        db.session.commit()
    return signed


def put_in_force(agreement: Agreement, day: date) -> None:
    """A test shortcut: the agreement's start date and its last signature both on ``day``, so that it is in
    force from ``day`` and due for renewal twelve months later (the stored PDF keeps its own text)."""
    from portal.agreements.renewals import activate

    agreement.start_date = day
    activate(agreement, day)
