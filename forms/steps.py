"""The wizard's steps in order. Each names its form and its template; the generic step view does the rest."""
from __future__ import annotations

from dataclasses import dataclass

from flask_wtf import FlaskForm

from portal.language import lazy_gettext as _l

from .evaluation import EvaluationForm
from .goals import PriorityAreasForm, SltForm
from .meetings import MeetingsForm
from .members import ContactsForm, LeadershipForm, MembersForm
from .parties import PartiesForm, PoliceForm
from .purpose import PurposeForm
from .validity import ValidityForm


@dataclass(frozen=True)
class Step:
    name: str  # also the last part of the step's URL
    title: str
    form: type[FlaskForm]
    section: str  # the agreement's section the answers belong to, as on «check your answers»

    @property
    def template(self) -> str:
        return f"wizard/{self.name}.html"


STEPS: tuple[Step, ...] = (
    Step("parties", _l("Municipalities"), PartiesForm, _l("Parties")),
    Step("police", _l("Police district and written standard"), PoliceForm, _l("Parties")),
    Step("purpose", _l("Purpose and main tasks"), PurposeForm, _l("§1 Purpose")),
    Step("members", _l("Fixed members"), MembersForm, _l("§2 Participation")),
    Step("leadership", _l("Leadership and secretariat"), LeadershipForm, _l("§2 Participation")),
    Step("contacts", _l("Other contacts"), ContactsForm, _l("§2 Participation")),
    Step("meetings", _l("Meetings"), MeetingsForm, _l("§2 Participation")),
    Step("priorities", _l("Priority areas and follow-up"), PriorityAreasForm, _l("§3 Local goals and follow-up")),
    Step("slt", _l("Relation to SLT"), SltForm, _l("§3 Local goals and follow-up")),
    Step("validity", _l("Validity"), ValidityForm, _l("§4 Validity")),
)
STEP_NAMES: tuple[str, ...] = tuple(step.name for step in STEPS)
#: A renewal starts with the evaluation of the agreement it renews, then the same steps, prefilled.
EVALUATION = Step("evaluation", _l("Evaluation of the past year"), EvaluationForm, _l("Evaluation"))
RENEWAL_STEPS: tuple[Step, ...] = (EVALUATION, *STEPS)
STEPS_BY_NAME: dict[str, Step] = {step.name: step for step in RENEWAL_STEPS}


def steps_for(*, renewal: bool) -> tuple[Step, ...]:
    return RENEWAL_STEPS if renewal else STEPS
