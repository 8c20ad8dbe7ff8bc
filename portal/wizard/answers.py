"""Between the step forms and the agreement: what each form offers, how it is filled, how it is saved.

``forms/`` knows nothing of the database; this module is the only place that reads an agreement into a
step's form and writes a valid form back.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Protocol

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from forms.members import station_chief_title_in
from forms.purpose import task_lines
from forms.steps import STEPS_BY_NAME, Step, steps_for

from ..documents import document_standard
from ..extensions import db
from ..models import (
    Agreement, Member, MemberRole, Municipality, Party, PoliceDistrict, PriorityArea, PriorityAreaEvaluation, User,
    WrittenStandard,
)
from ..reference_data import suggested_police_district
from ..templating import name_list


class StepAnswers(Protocol):
    def options(self, agreement: Agreement, user: User, today: date) -> dict[str, Any]: ...
    def load(self, agreement: Agreement, options: dict[str, Any]) -> dict[str, Any]: ...
    def save(self, agreement: Agreement, form: Any, options: dict[str, Any]) -> None: ...


class _NoOptions:
    def options(self, agreement: Agreement, user: User, today: date) -> dict[str, Any]:
        return {}


# ------------------------------------------------------------------ parties


def municipality_choices() -> dict[str, list[tuple[str, str]]]:
    """Every municipality, grouped by county, as «Name (kommunenummer)»: one query, the counties joined."""
    grouped: dict[str, list[tuple[str, str]]] = {}
    rows = db.session.scalars(select(Municipality).options(joinedload(Municipality.county)).order_by(Municipality.name))
    for municipality in rows:
        grouped.setdefault(municipality.county.name, []).append(
            (municipality.number, f"{municipality.name} ({municipality.number})")
        )
    return dict(sorted(grouped.items()))


class PartiesAnswers:
    def options(self, agreement: Agreement, user: User, today: date) -> dict[str, Any]:
        own = user.organisation.municipality
        return {
            "municipality_choices": municipality_choices(),
            "required_municipality": (own.number, f"{own.name} kommune") if own else None,
        }

    def load(self, agreement: Agreement, options: dict[str, Any]) -> dict[str, Any]:
        numbers = [party.municipality_number for party in agreement.parties]
        if not numbers and options["required_municipality"]:
            numbers = [options["required_municipality"][0]]
        return {"municipalities": numbers or [""]}

    def save(self, agreement: Agreement, form: Any, options: dict[str, Any]) -> None:
        chosen = [entry.data for entry in form.municipalities.entries]
        before = [party.municipality_number for party in agreement.parties]
        kept = {party.municipality_number: party for party in agreement.parties if party.municipality_number in chosen}
        agreement.parties = [kept.get(number) or Party(municipality_number=number) for number in chosen]
        for position, party in enumerate(agreement.parties):
            party.position = position
        if chosen != before:
            # Members of a municipality that is no longer a party go; later steps that depend on the
            # municipalities must be answered again.
            agreement.members = [
                member for member in agreement.members
                if member.municipality_number is None or member.municipality_number in chosen
            ]
            forget_steps(agreement, "members", "leadership")  # who leads depends on the municipalities too
            if not standard_allowed(agreement.written_standard, [db.session.get(Municipality, n) for n in chosen]):
                forget_steps(agreement, "police")


# ------------------------------------------------------------------ police district, station, standard


def standard_rule(municipalities: list[Municipality]) -> tuple[list[str], str | None, str | None]:
    """(allowed standards, the default, why only one is allowed).

    A police district writes to a municipality in the standard it has chosen; where every party chose
    the same one, the agreement is in that standard. Where one is neutral, or they differ, the user chooses.
    """
    standards = {m.written_standard for m in municipalities}
    if len(standards) == 1 and standards != {"neutral"}:
        only = standards.pop()
        names = name_list(f"{m.name} kommune" for m in municipalities)
        language = _("nynorsk") if only == "nynorsk" else _("bokmål")
        return [only], only, _("%(names)s has chosen %(language)s as its written standard, so the agreement is written in %(language)s.", names=names, language=language)
    preferred = next((m.written_standard for m in municipalities if m.written_standard != "neutral"), "nynorsk")
    return ["nynorsk", "bokmal"], preferred, None


def standard_allowed(standard: WrittenStandard | None, municipalities: list[Municipality | None]) -> bool:
    if standard is None:
        return True
    allowed, _default, _reason = standard_rule([m for m in municipalities if m is not None])
    return standard.value in allowed


def mayor_title(standard: WrittenStandard | None) -> str:
    return "Ordførar" if standard is WrittenStandard.NYNORSK else "Ordfører"


class PoliceAnswers:
    def options(self, agreement: Agreement, user: User, today: date) -> dict[str, Any]:
        districts = db.session.scalars(select(PoliceDistrict).order_by(PoliceDistrict.id)).all()
        allowed, default, reason = standard_rule(agreement.municipalities)
        return {
            "district_choices": [(str(d.id), d.name_bokmal) for d in districts],
            "allowed_standards": allowed,
            "standard_reason": reason,
            "_default_standard": default,
            "_suggested_district": suggested_police_district(agreement.municipalities[0]) if agreement.parties else None,
            "_own_district": user.organisation.police_district,
        }

    def load(self, agreement: Agreement, options: dict[str, Any]) -> dict[str, Any]:
        district = agreement.police_district or options["_own_district"] or options["_suggested_district"]
        standard = agreement.written_standard.value if agreement.written_standard else options["_default_standard"]
        return {
            "police_district": str(district.id) if district else "",
            "police_station": agreement.police_station or "",
            "written_standard": standard,
        }

    def save(self, agreement: Agreement, form: Any, options: dict[str, Any]) -> None:
        agreement.police_district_id = int(form.police_district.data)
        agreement.police_station = form.police_station.data.strip()
        agreement.written_standard = WrittenStandard(form.written_standard.data)
        for mayor in agreement.members_in(MemberRole.MAYOR):
            mayor.title = mayor_title(agreement.written_standard)
        for chief in agreement.members_in(MemberRole.STATION_CHIEF):
            chief.title = station_chief_title_in(chief.title, agreement.written_standard.value)


# ------------------------------------------------------------------ purpose


class PurposeAnswers(_NoOptions):
    def load(self, agreement: Agreement, options: dict[str, Any]) -> dict[str, Any]:
        return {
            "accept_standard_text": "purpose" in (agreement.completed_steps or []),
            "purpose_addition": agreement.purpose_addition or "",
            "additional_main_tasks": "\n".join(agreement.additional_main_tasks or []),
        }

    def save(self, agreement: Agreement, form: Any, options: dict[str, Any]) -> None:
        agreement.purpose_addition = (form.purpose_addition.data or "").strip() or None
        agreement.additional_main_tasks = task_lines(form.additional_main_tasks.data)


# ------------------------------------------------------------------ members


class MembersAnswers:
    def options(self, agreement: Agreement, user: User, today: date) -> dict[str, Any]:
        return {"municipality_names": {m.number: m.name for m in agreement.municipalities}, "standard": document_standard(agreement).value}

    def load(self, agreement: Agreement, options: dict[str, Any]) -> dict[str, Any]:
        def person(role: MemberRole, number: str | None = None) -> Member:
            return agreement.member(role, number) or Member(name="", email="", title="")

        groups = []
        for number in options["municipality_names"]:
            mayor, executive = person(MemberRole.MAYOR, number), person(MemberRole.CHIEF_EXECUTIVE, number)
            groups.append({
                "municipality_number": number,
                "mayor_name": mayor.name, "mayor_email": mayor.email,
                "chief_executive_name": executive.name,
                "chief_executive_title": executive.title or "Kommunedirektør",
                "chief_executive_email": executive.email,
            })
        chief, contact, slt = person(MemberRole.STATION_CHIEF), person(MemberRole.POLICE_CONTACT), person(MemberRole.SLT_COORDINATOR)
        return {
            "municipalities": groups,
            "station_chief_name": chief.name, "station_chief_title": chief.title or "Politistasjonssjef",
            "station_chief_email": chief.email,
            "police_contact_name": contact.name, "police_contact_email": contact.email,
            "slt_coordinator_name": slt.name, "slt_coordinator_title": slt.title or "SLT-koordinator",
            "slt_coordinator_email": slt.email,
        }

    def save(self, agreement: Agreement, form: Any, options: dict[str, Any]) -> None:
        fixed = [m for m in agreement.members if not m.role.is_contact]
        for member in fixed:
            agreement.members.remove(member)
        for position, entry in enumerate(form.municipalities.entries):
            group = entry.form
            number = group.municipality_number.data
            agreement.members.append(Member(role=MemberRole.MAYOR, municipality_number=number, name=group.mayor_name.data.strip(), title=mayor_title(agreement.written_standard), email=group.mayor_email.data.strip(), position=position))
            agreement.members.append(Member(role=MemberRole.CHIEF_EXECUTIVE, municipality_number=number, name=group.chief_executive_name.data.strip(), title=group.chief_executive_title.data, email=group.chief_executive_email.data.strip(), position=position))
        agreement.members.append(Member(role=MemberRole.STATION_CHIEF, name=form.station_chief_name.data.strip(), title=form.station_chief_title.data, email=form.station_chief_email.data.strip()))
        agreement.members.append(Member(role=MemberRole.POLICE_CONTACT, name=form.police_contact_name.data.strip(), title="Politikontakt", email=form.police_contact_email.data.strip()))
        agreement.members.append(Member(role=MemberRole.SLT_COORDINATOR, name=form.slt_coordinator_name.data.strip(), title=form.slt_coordinator_title.data.strip(), email=form.slt_coordinator_email.data.strip()))


def leader_choices(agreement: Agreement) -> list[tuple[str, str]]:
    """«mayor» for a council of one municipality; with several, «mayor:<kommunenummer>» names which mayor."""
    municipalities = agreement.municipalities
    if len(municipalities) == 1:
        mayors = [("mayor", _("The mayor leads the council"))]
    else:
        mayors = [(f"mayor:{m.number}", _("The mayor of %(name)s leads the council", name=m.name)) for m in municipalities]
    rotating = ngettext("Leadership rotates between the mayor and the station chief",
                        "Leadership rotates between the mayors and the station chief", len(municipalities))
    return [*mayors, ("rotating", rotating)]


class LeadershipAnswers:
    def options(self, agreement: Agreement, user: User, today: date) -> dict[str, Any]:
        return {"leader_choices": leader_choices(agreement)}

    def load(self, agreement: Agreement, options: dict[str, Any]) -> dict[str, Any]:
        return {
            "leadership": agreement.leadership or options["leader_choices"][0][0],
            "secretariat": agreement.secretariat or "slt_coordinator",
            "secretariat_other": agreement.secretariat_other or "",
        }

    def save(self, agreement: Agreement, form: Any, options: dict[str, Any]) -> None:
        agreement.leadership = form.leadership.data
        agreement.secretariat = form.secretariat.data
        agreement.secretariat_other = (form.secretariat_other.data or "").strip() if form.secretariat.data == "other" else None


class ContactsAnswers(_NoOptions):
    def load(self, agreement: Agreement, options: dict[str, Any]) -> dict[str, Any]:
        return {
            "contacts": [
                {"category": m.role.value, "organisation_name": m.organisation_name, "name": m.name, "email": m.email}
                for m in agreement.contacts
            ]
        }

    def save(self, agreement: Agreement, form: Any, options: dict[str, Any]) -> None:
        for member in list(agreement.contacts):
            agreement.members.remove(member)
        for position, entry in enumerate(form.contacts.entries):
            contact = entry.form
            agreement.members.append(Member(
                role=MemberRole(contact.category.data), organisation_name=contact.organisation_name.data.strip(),
                name=(contact.name.data or "").strip(), email=(contact.email.data or "").strip(), position=position,
            ))


# ------------------------------------------------------------------ meetings, goals, SLT, validity


class MeetingsAnswers(_NoOptions):
    def load(self, agreement: Agreement, options: dict[str, Any]) -> dict[str, Any]:
        return {
            "meetings_per_year": agreement.meetings_per_year if agreement.meetings_per_year is not None else 4,
            "agenda_days_before": agreement.agenda_days_before if agreement.agenda_days_before is not None else 7,
            "minutes_archived": agreement.minutes_archived,
            "minutes_archive_location": agreement.minutes_archive_location or "",
        }

    def save(self, agreement: Agreement, form: Any, options: dict[str, Any]) -> None:
        agreement.meetings_per_year = form.meetings_per_year.data
        agreement.agenda_days_before = form.agenda_days_before.data
        agreement.minutes_archived = True
        agreement.minutes_archive_location = (form.minutes_archive_location.data or "").strip() or None


class PrioritiesAnswers:
    def options(self, agreement: Agreement, user: User, today: date) -> dict[str, Any]:
        return {"standard": document_standard(agreement).value}

    def load(self, agreement: Agreement, options: dict[str, Any]) -> dict[str, Any]:
        areas = [{"title": a.title, "expected_results": a.expected_results} for a in agreement.priority_areas]
        return {
            "priority_areas": areas or [{}],
            "follow_up_responsible": agreement.follow_up_responsible or "SLT-koordinator og politikontakt",
        }

    def save(self, agreement: Agreement, form: Any, options: dict[str, Any]) -> None:
        agreement.priority_areas = [
            PriorityArea(title=entry.form.title.data.strip(), expected_results=entry.form.expected_results.data.strip(), position=position)
            for position, entry in enumerate(form.priority_areas.entries)
        ]
        agreement.follow_up_responsible = form.follow_up_responsible.data.strip()


class SltAnswers(_NoOptions):
    def load(self, agreement: Agreement, options: dict[str, Any]) -> dict[str, Any]:
        return {"slt_relation": agreement.slt_relation or "", "slt_relation_description": agreement.slt_relation_description or ""}

    def save(self, agreement: Agreement, form: Any, options: dict[str, Any]) -> None:
        agreement.slt_relation = form.slt_relation.data
        agreement.slt_relation_description = (form.slt_relation_description.data or "").strip() or None


class ValidityAnswers:
    def options(self, agreement: Agreement, user: User, today: date) -> dict[str, Any]:
        return {"today": today}

    def load(self, agreement: Agreement, options: dict[str, Any]) -> dict[str, Any]:
        place = agreement.place or (agreement.municipalities[0].name if agreement.parties else "")
        return {"start_date": agreement.start_date, "place": place}

    def save(self, agreement: Agreement, form: Any, options: dict[str, Any]) -> None:
        agreement.start_date = form.start_date.data
        agreement.place = form.place.data.strip()


# ------------------------------------------------------------------ evaluation (renewals only)


class EvaluationAnswers:
    """The evaluation is written into the agreement being renewed, where it stays with the areas it judges."""

    def options(self, agreement: Agreement, user: User, today: date) -> dict[str, Any]:
        evaluated = agreement.renewal_of.priority_areas if agreement.renewal_of else []
        return {"areas": [(area.title, area.expected_results) for area in evaluated], "_evaluated": evaluated, "_user": user}

    def load(self, agreement: Agreement, options: dict[str, Any]) -> dict[str, Any]:
        fields = ("what_was_done", "achieved", "carried_forward")
        return {"areas": [
            {name: getattr(area.evaluation, name) for name in fields} if area.evaluation else {}
            for area in options["_evaluated"]
        ]}

    def save(self, agreement: Agreement, form: Any, options: dict[str, Any]) -> None:
        for area, entry in zip(options["_evaluated"], form.areas.entries):
            evaluation = area.evaluation or PriorityAreaEvaluation(priority_area=area)
            evaluation.what_was_done = entry.form.what_was_done.data.strip()
            evaluation.achieved = entry.form.achieved.data.strip()
            evaluation.carried_forward = (entry.form.carried_forward.data or "").strip()
            evaluation.evaluated_by = options["_user"]
            db.session.add(evaluation)


ANSWERS: dict[str, StepAnswers] = {
    "evaluation": EvaluationAnswers(),
    "parties": PartiesAnswers(),
    "police": PoliceAnswers(),
    "purpose": PurposeAnswers(),
    "members": MembersAnswers(),
    "leadership": LeadershipAnswers(),
    "contacts": ContactsAnswers(),
    "meetings": MeetingsAnswers(),
    "priorities": PrioritiesAnswers(),
    "slt": SltAnswers(),
    "validity": ValidityAnswers(),
}
assert set(ANSWERS) == set(STEPS_BY_NAME)


# ------------------------------------------------------------------ progress


def mark_complete(agreement: Agreement, step_name: str) -> None:
    if step_name not in (agreement.completed_steps or []):
        # A new list, so SQLAlchemy sees the change to the JSON column.
        agreement.completed_steps = [*(agreement.completed_steps or []), step_name]


def keep_unsaved_input(agreement: Agreement, step_name: str, pairs: list[list[str]] | None) -> None:
    """Keep (or, with None, drop) the raw input a user left on a step that was not yet valid."""
    kept = {name: value for name, value in (agreement.unsaved_input or {}).items() if name != step_name}
    if pairs:
        kept[step_name] = pairs
    agreement.unsaved_input = kept


def forget_steps(agreement: Agreement, *step_names: str) -> None:
    agreement.completed_steps = [name for name in (agreement.completed_steps or []) if name not in step_names]


def steps_of(agreement: Agreement) -> tuple[Step, ...]:
    """The wizard's steps for this draft: a renewal has the evaluation first."""
    return steps_for(renewal=agreement.is_renewal)


def step_names_of(agreement: Agreement) -> tuple[str, ...]:
    return tuple(step.name for step in steps_of(agreement))


def missing_steps(agreement: Agreement) -> list[str]:
    """The draft's steps not yet answered, in order."""
    return steps_not_in(agreement.completed_steps, renewal=agreement.is_renewal)


def steps_not_in(completed_steps: list[str] | None, *, renewal: bool) -> list[str]:
    """The wizard's steps (of a renewal, or not) missing from ``completed_steps``, in order."""
    done = set(completed_steps or [])
    return [step.name for step in steps_for(renewal=renewal) if step.name not in done]


def first_open_step(agreement: Agreement) -> str | None:
    """The first step not yet answered, or None when the draft is complete."""
    return next(iter(missing_steps(agreement)), None)


def is_complete(agreement: Agreement) -> bool:
    return first_open_step(agreement) is None
