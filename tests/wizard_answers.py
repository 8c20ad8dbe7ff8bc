"""Valid answers for every wizard step, as a coordinator of Voss (and Ulvik) would type them."""
from __future__ import annotations

from forms.steps import STEP_NAMES

VALID_ANSWERS: dict[str, dict[str, str]] = {
    "parties": {"municipalities-0": "4621", "municipalities-1": "4620"},
    "police": {"police_district": "", "police_station": "Voss politistasjon", "written_standard": "nynorsk"},
    "purpose": {"accept_standard_text": "y", "purpose_addition": "Trygge møteplassar for unge.", "additional_main_tasks": "- Følgje opp handlingsplanen\n\n- Felles tryggleiksvandring"},
    "members": {
        "municipalities-0-municipality_number": "4621",
        "municipalities-0-mayor_name": "Ola Ordførar", "municipalities-0-mayor_email": "ola@voss.example.org",
        "municipalities-0-chief_executive_name": "Vilde Vangen", "municipalities-0-chief_executive_title": "Kommunedirektør",
        "municipalities-0-chief_executive_email": "vilde@voss.example.org",
        "municipalities-1-municipality_number": "4620",
        "municipalities-1-mayor_name": "Ingrid Ulvik", "municipalities-1-mayor_email": "ingrid@ulvik.example.org",
        "municipalities-1-chief_executive_name": "Lars Lie", "municipalities-1-chief_executive_title": "Rådmann",
        "municipalities-1-chief_executive_email": "lars@ulvik.example.org",
        "station_chief_name": "Siv Stasjonssjef", "station_chief_title": "Lensmann", "station_chief_email": "siv@politiet.example.org",
        "police_contact_name": "Per Politikontakt", "police_contact_email": "per@politiet.example.org",
        "slt_coordinator_name": "Kari Koordinator", "slt_coordinator_title": "SLT-koordinator", "slt_coordinator_email": "kari@voss.example.org",
    },
    "leadership": {"leadership": "rotating", "secretariat": "other", "secretariat_other": "Kommunalsjef for oppvekst"},
    "contacts": {"contacts-0-category": "business_contact", "contacts-0-organisation_name": "Voss Næringsråd", "contacts-0-name": "Nils Næring", "contacts-0-email": ""},
    "meetings": {"meetings_per_year": "4", "agenda_days_before": "10", "minutes_archived": "y", "minutes_archive_location": "Sak- og arkivsystemet"},
    "priorities": {
        "priority_areas-0-title": "Barn og unge", "priority_areas-0-expected_results": "Færre unge lovbrytarar.",
        "priority_areas-1-title": "Skjenking og utelivsbransjen", "priority_areas-1-expected_results": "Ingen skjenking til mindreårige.",
        "follow_up_responsible": "SLT-koordinator og politikontakt",
    },
    "slt": {"slt_relation": "steering_group", "slt_relation_description": ""},
    "validity": {"start_date": "2027-01-01", "place": "Voss"},
}
assert list(VALID_ANSWERS) == list(STEP_NAMES)


def step_url(agreement_id: int, step: str) -> str:
    return f"/agreements/{agreement_id}/steps/{step}"


def answer(client, agreement_id: int, step: str, changes: dict[str, str] | None = None, action: str = "next", query: str = ""):  # type: ignore[no-untyped-def]
    """Send a step's valid answers, with ``changes`` on top (a value of None leaves the field out)."""
    data = {**VALID_ANSWERS[step], **(changes or {})}
    if step == "police" and not data.get("police_district") and (changes or {}).get("police_district") is None:
        data["police_district"] = _vest_id()
    data = {key: value for key, value in data.items() if value is not None}
    data["action"] = action
    data.setdefault("draft_version", str(draft_version(agreement_id)))  # as on a page opened just now
    return client.submit(step_url(agreement_id, step) + query, data, token_from="/agreements/")


def draft_version(agreement_id: int) -> int:
    """The draft version as stored now (what a step page opened now would carry)."""
    from sqlalchemy import select

    from portal.extensions import db
    from portal.models import Agreement

    return db.session.scalar(select(Agreement.draft_version).where(Agreement.id == agreement_id))


def _vest_id() -> str:
    from tests.factories import police_district

    return str(police_district().id)


def answer_all(client, agreement_id: int, until: str | None = None) -> None:
    for step in STEP_NAMES:
        if step == until:
            return
        response = answer(client, agreement_id, step)
        assert response.status_code == 302, (step, response.get_data(as_text=True)[-3000:])


def priority_answers(label: str) -> dict[str, str]:
    """A whole «priority areas» step of three areas, each named after ``label`` (so a save can be told apart)."""
    answers = {"follow_up_responsible": f"Oppfølging {label}", "action": "next"}
    for number in range(3):
        answers[f"priority_areas-{number}-title"] = f"{label} område {number + 1}"
        answers[f"priority_areas-{number}-expected_results"] = f"Resultat {label} {number + 1}"
    return answers


def whole_save(label: str) -> list[tuple[int, str]]:
    """The (position, title) of the priority areas as :func:`priority_answers` with ``label`` stores them."""
    return [(number, f"{label} område {number + 1}") for number in range(3)]
