"""Sample agreements for the demo: one complete draft ready to check, one started, one fully signed."""
from __future__ import annotations

from datetime import date

from .agreements.lifecycle import start_agreement
from .extensions import db
from .models import Agreement, Member, MemberRole, Party, PoliceDistrict, PriorityArea, User, WrittenStandard
from sqlalchemy import select

from forms.steps import STEP_NAMES


def create_demo_agreements(people: dict[str, User]) -> None:
    coordinator = people["koordinator@voss.demo"]
    district = db.session.scalar(select(PoliceDistrict).where(PoliceDistrict.name_bokmal == "Vest politidistrikt"))
    complete = start_agreement(
        coordinator, "demo",
        written_standard=WrittenStandard.NYNORSK, police_district=district, police_station="Voss politistasjon",
        purpose_addition="Politirådet skal særleg arbeide for trygge møteplassar for ungdom i heile regionen.",
        additional_main_tasks=["Følgje opp handlingsplanen mot vald i nære relasjonar."],
        leadership="mayor:4621", secretariat="slt_coordinator", meetings_per_year=4, agenda_days_before=7,
        minutes_archived=True, minutes_archive_location="Voss herad sitt sak- og arkivsystem",
        follow_up_responsible="SLT-koordinator og politikontakt", slt_relation="steering_group",
        slt_relation_description="Politirådet er styringsgruppe for SLT-arbeidet i Voss og Ulvik.",
        start_date=date(date.today().year + 1, 1, 1), place="Voss", completed_steps=list(STEP_NAMES),
    )
    for position, (number, mayor, executive) in enumerate(
        [("4621", "Ola Ordførar", "Vilde Vangen"), ("4620", "Ingrid Ulvik", "Lars Lie")]
    ):
        complete.parties.append(Party(municipality_number=number, position=position))
        complete.members.append(Member(role=MemberRole.MAYOR, municipality_number=number, name=mayor, title="Ordførar", email=f"ordforar@{number}.demo", position=position))
        complete.members.append(Member(role=MemberRole.CHIEF_EXECUTIVE, municipality_number=number, name=executive, title="Kommunedirektør", email=f"direktor@{number}.demo", position=position))
    complete.members += [
        Member(role=MemberRole.STATION_CHIEF, name="Siv Stasjonssjef", title="Politistasjonssjef", email="stasjonssjef@vest.demo"),
        Member(role=MemberRole.POLICE_CONTACT, name="Per Politikontakt", title="Politikontakt", email="koordinator@vest.demo"),
        Member(role=MemberRole.SLT_COORDINATOR, name="Kari Koordinator", title="SLT-koordinator", email="koordinator@voss.demo"),
        Member(role=MemberRole.BUSINESS_CONTACT, organisation_name="Voss Næringsråd", name="Nils Næring", position=0),
        Member(role=MemberRole.VOLUNTARY_CONTACT, organisation_name="Natteravnane Voss", position=1),
    ]
    complete.priority_areas += [
        PriorityArea(title="Barn og unge", expected_results="Færre unge under 18 år som blir melde for lovbrot, målt mot fjoråret.", position=0),
        PriorityArea(title="Skjenking og utelivsbransjen", expected_results="Ingen skjenking til mindreårige ved kontrollar; færre valdssaker i sentrum i helgane.", position=1),
        PriorityArea(title="Vald i nære relasjonar", expected_results="Alle tilsette i skule og barnehage kjenner rettleiaren; fleire saker blir melde tidleg.", position=2),
    ]
    started = start_agreement(coordinator, "demo", completed_steps=["parties"])
    started.parties.append(Party(municipality_number="4621", position=0))


def create_signed_demo_agreement(people: dict[str, User], password: str) -> Agreement:
    """An agreement for Voss finalised, sealed and signed by the demo mayor and station chief through the
    same service functions as the signing page, closed at B-LTA (when a time-stamp service is configured)."""
    from .agreements import signing
    from .agreements.lifecycle import change_status
    from .documents import agreement_pdf, sha256_hex
    from .models import AgreementDocument, AgreementStatus

    coordinator = people["koordinator@voss.demo"]
    district = db.session.scalar(select(PoliceDistrict).where(PoliceDistrict.name_bokmal == "Vest politidistrikt"))
    agreement = start_agreement(
        coordinator, "demo",
        written_standard=WrittenStandard.NYNORSK, police_district=district, police_station="Voss politistasjon",
        leadership="rotating", secretariat="police_contact", meetings_per_year=2, agenda_days_before=14,
        minutes_archived=True, minutes_archive_location="Voss herad sitt sak- og arkivsystem",
        follow_up_responsible="Ordførar og stasjonssjef", slt_relation="coordinated",
        slt_relation_description="SLT har eiga styringsgruppe; politirådet og SLT samordnar arbeidet.",
        start_date=date(date.today().year, 1, 1), place="Voss", completed_steps=list(STEP_NAMES),
    )
    agreement.parties.append(Party(municipality_number="4621", position=0))
    agreement.members += [
        Member(role=MemberRole.MAYOR, municipality_number="4621", name="Ola Ordførar", title="Ordførar", email="ordforar@voss.demo"),
        Member(role=MemberRole.CHIEF_EXECUTIVE, municipality_number="4621", name="Vilde Vangen", title="Kommunedirektør", email="direktor@4621.demo"),
        Member(role=MemberRole.STATION_CHIEF, name="Siv Stasjonssjef", title="Politistasjonssjef", email="stasjonssjef@vest.demo"),
        Member(role=MemberRole.POLICE_CONTACT, name="Per Politikontakt", title="Politikontakt", email="koordinator@vest.demo"),
        Member(role=MemberRole.SLT_COORDINATOR, name="Kari Koordinator", title="SLT-koordinator", email="koordinator@voss.demo"),
    ]
    agreement.priority_areas += [
        PriorityArea(title="Rus og unge", expected_results="Færre unge som debuterer med rus før 18 år.", position=0),
    ]
    db.session.flush()
    pdf = agreement_pdf(agreement, draft=False)
    document = AgreementDocument(agreement=agreement, pdf=pdf, sha256=sha256_hex(pdf))
    db.session.add(document)
    change_status(agreement, AgreementStatus.FINALISED, coordinator, f"demo; SHA-256 {document.sha256}")
    signing.seal_and_prepare(agreement, document, coordinator)
    db.session.commit()
    agreement_id = agreement.id
    for email in ("ordforar@voss.demo", "stasjonssjef@vest.demo"):
        current = db.session.get(Agreement, agreement_id)
        signing.sign(current, people[email], password)  # type: ignore[arg-type]
    return db.session.get(Agreement, agreement_id)  # type: ignore[return-value]
