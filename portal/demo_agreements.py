"""Sample agreements for the demo: a complete draft ready to check, a started one, one due for renewal, and
one superseded by its signed renewal."""
from __future__ import annotations

from datetime import date, timedelta

from .agreements.lifecycle import start_agreement
from .extensions import db
from .models import (
    Agreement, Member, MemberRole, Party, PoliceDistrict, PriorityArea, PriorityAreaEvaluation, User, WrittenStandard,
)
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
    # The mayors are the demo's own people (portal/cli.py DEMO_PEOPLE), by name and e-mail address, so
    # finalising this draft invites them and they can sign or decline it.
    for position, (number, place, mayor, executive) in enumerate(
        [("4621", "voss", people["ordforar@voss.demo"].name, "Vilde Vangen"), ("4620", "ulvik", people["ordforar@ulvik.demo"].name, "Lars Lie")]
    ):
        complete.parties.append(Party(municipality_number=number, position=position))
        complete.members.append(Member(role=MemberRole.MAYOR, municipality_number=number, name=mayor, title="Ordførar", email=f"ordforar@{place}.demo", position=position))
        complete.members.append(Member(role=MemberRole.CHIEF_EXECUTIVE, municipality_number=number, name=executive, title="Kommunedirektør", email=f"direktor@{place}.demo", position=position))
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


def _signed_demo_agreement(people: dict[str, User], password: str, *, coordinator: str, mayor: str,
                           municipality: str, answers: dict[str, object], members: list[Member],
                           priority_areas: list[tuple[str, str]]) -> Agreement:
    """Finalised, sealed and signed by the mayor and the station chief through the same service functions as
    the pages, closed at B-LTA (when a time-stamp service is configured)."""
    district = db.session.scalar(select(PoliceDistrict).where(PoliceDistrict.name_bokmal == "Vest politidistrikt"))
    agreement = start_agreement(people[coordinator], "demo", police_district=district, completed_steps=list(STEP_NAMES), **answers)
    agreement.parties.append(Party(municipality_number=municipality, position=0))
    agreement.members += members
    agreement.priority_areas += [
        PriorityArea(title=title, expected_results=results, position=position)
        for position, (title, results) in enumerate(priority_areas)
    ]
    db.session.flush()
    return _finalise_and_sign(agreement, people, password, [mayor, "stasjonssjef@vest.demo"])


def _finalise_and_sign(agreement: Agreement, people: dict[str, User], password: str, signers: list[str]) -> Agreement:
    from .agreements import signing

    signing.finalise(agreement, agreement.created_by)
    db.session.commit()  # signing commits as it goes: after the rest is stored
    agreement_id = agreement.id
    for email in signers:
        signing.sign(db.session.get(Agreement, agreement_id), people[email], password)  # type: ignore[arg-type]
    return db.session.get(Agreement, agreement_id)  # type: ignore[return-value]


def _in_force_since_last_year(agreement: Agreement, today: date) -> None:
    """Demo only: date the coming into force back 12 months and three weeks, so that a renewal is due."""
    from .agreements.lifecycle import record_event
    from .agreements.renewals import activate

    year_ago = date(today.year - 1, today.month, min(today.day, 28))
    activate(agreement, year_ago - timedelta(days=21))
    record_event(agreement, "demo", None, f"demo: in force from {agreement.active_from.isoformat()}")


def create_signed_demo_agreements(people: dict[str, User], password: str, today: date) -> None:
    """Voss: an agreement in force for more than a year, due for renewal. Bergen: last year's agreement,
    evaluated and superseded by its signed renewal."""
    from .agreements import lifecycle
    from .agreements.renewals import mark_due_renewals

    voss = _signed_demo_agreement(
        people, password, coordinator="koordinator@voss.demo", mayor="ordforar@voss.demo", municipality="4621",
        answers=dict(
            written_standard=WrittenStandard.NYNORSK, police_station="Voss politistasjon",
            leadership="rotating", secretariat="police_contact", meetings_per_year=2, agenda_days_before=14,
            minutes_archived=True, minutes_archive_location="Voss herad sitt sak- og arkivsystem",
            follow_up_responsible="Ordførar og stasjonssjef", slt_relation="coordinated",
            slt_relation_description="SLT har eiga styringsgruppe; politirådet og SLT samordnar arbeidet.",
            start_date=date(today.year - 1, 1, 1), place="Voss",
        ),
        members=[
            Member(role=MemberRole.MAYOR, municipality_number="4621", name="Ola Ordførar", title="Ordførar", email="ordforar@voss.demo"),
            Member(role=MemberRole.CHIEF_EXECUTIVE, municipality_number="4621", name="Vilde Vangen", title="Kommunedirektør", email="direktor@voss.demo"),
            Member(role=MemberRole.STATION_CHIEF, name="Siv Stasjonssjef", title="Politistasjonssjef", email="stasjonssjef@vest.demo"),
            Member(role=MemberRole.POLICE_CONTACT, name="Per Politikontakt", title="Politikontakt", email="koordinator@vest.demo"),
            Member(role=MemberRole.SLT_COORDINATOR, name="Kari Koordinator", title="SLT-koordinator", email="koordinator@voss.demo"),
        ],
        priority_areas=[("Rus og unge", "Færre unge som debuterer med rus før 18 år."),
                        ("Trygt sentrum", "Færre valdssaker i sentrum i helgane.")],
    )
    _in_force_since_last_year(voss, today)

    bergen = _signed_demo_agreement(
        people, password, coordinator="koordinator@bergen.demo", mayor="ordforer@bergen.demo", municipality="4601",
        answers=dict(
            written_standard=WrittenStandard.BOKMAL, police_station="Bergen sentrum politistasjon",
            leadership="mayor", secretariat="slt_coordinator", meetings_per_year=4, agenda_days_before=7,
            minutes_archived=True, minutes_archive_location="Bergen kommunes sak- og arkivsystem",
            follow_up_responsible="SLT-koordinator og politikontakt", slt_relation="steering_group",
            slt_relation_description="Politirådet er styringsgruppe for SLT-arbeidet i Bergen.",
            start_date=date(today.year - 1, 1, 1), place="Bergen",
        ),
        members=[
            Member(role=MemberRole.MAYOR, municipality_number="4601", name="Marit Mjelde", title="Ordfører", email="ordforer@bergen.demo"),
            Member(role=MemberRole.CHIEF_EXECUTIVE, municipality_number="4601", name="Hans Hauge", title="Kommunedirektør", email="direktor@bergen.demo"),
            Member(role=MemberRole.STATION_CHIEF, name="Siv Stasjonssjef", title="Politistasjonssjef", email="stasjonssjef@vest.demo"),
            Member(role=MemberRole.POLICE_CONTACT, name="Per Politikontakt", title="Politikontakt", email="koordinator@vest.demo"),
            Member(role=MemberRole.SLT_COORDINATOR, name="Berit Bergen", title="SLT-koordinator", email="koordinator@bergen.demo"),
        ],
        priority_areas=[("Ungdom og rus", "Færre unge under 18 år som blir tatt for narkotikalovbrudd."),
                        ("Vold i nære relasjoner", "Flere saker meldes tidlig; alle barnehager kjenner veilederen.")],
    )
    _in_force_since_last_year(bergen, today)
    coordinator = people["koordinator@bergen.demo"]
    renewal = lifecycle.start_renewal(bergen, coordinator, today)
    for area, (done, achieved, learned) in zip(bergen.priority_areas, [
        ("Felles ruskontroller og foreldremøter på alle ungdomsskoler.", "Færre beslag blant unge enn året før.", "Start foreldremøtene allerede i 8. trinn."),
        ("Kurs for ansatte i barnehager og skoler.", "Dobbelt så mange tidlige meldinger.", ""),
    ]):
        area.evaluation = PriorityAreaEvaluation(what_was_done=done, achieved=achieved, carried_forward=learned, evaluated_by=coordinator)
    renewal.completed_steps = [*renewal.completed_steps, "evaluation", "validity"]
    renewal.start_date = today
    _finalise_and_sign(renewal, people, password, ["ordforer@bergen.demo", "stasjonssjef@vest.demo"])
    mark_due_renewals(today)
