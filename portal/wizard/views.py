"""One view serves every step: it looks the step up in ``forms.steps`` and its answers in ``answers``.

Rules a user can rely on:
- A step is saved only when all of it is valid; a step with errors leaves the draft exactly as it was.
- A step cannot be reached before the steps in front of it are answered (also not by a typed URL).
- «Add» and «remove» buttons on repeating groups show the page again with the input kept, saving nothing.
"""
from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload
from werkzeug.datastructures import MultiDict
from wtforms import FieldList

from forms.fields import add_or_remove
from forms.steps import STEPS_BY_NAME, Step

from ..access import agreement_for_editing, roles_required
from ..agreements.editing import Change, lock_agreement, record_change, shown_version, step_conflict
from ..documents import agreement_html
from .. import clock
from ..extensions import db
from ..models import Agreement, Party, Role
from . import bp
from .answers import ANSWERS, first_open_step, keep_unsaved_input, mark_complete, step_names_of, steps_of
from .conflict import side_by_side


def _step_or_404(agreement: Agreement, step_name: str) -> Step:
    step = STEPS_BY_NAME.get(step_name)
    if step is None or step not in steps_of(agreement):
        abort(404)
    return step


#: Nearly every step shows or uses the draft's parties and their municipalities: loaded with the draft.
_WITH_PARTIES = joinedload(Agreement.parties).joinedload(Party.municipality, innerjoin=True)


def _editable_draft(agreement_id: int, *, lock: bool = False) -> Agreement | None:
    """The draft, if still a draft; with ``lock``, locked for writing and read fresh (see ``editing``)."""
    agreement = agreement_for_editing(agreement_id, _WITH_PARTIES)
    if lock:
        agreement = lock_agreement(agreement_id) or abort(404)
    if not agreement.is_editable:
        return None
    return agreement


def _prepared(step: Step, options: dict[str, Any], **form_kwargs: Any) -> FlaskForm:
    form = step.form(**form_kwargs)
    _prepare(form, options)
    return form


def _prepare(form: FlaskForm, options: dict[str, Any]) -> None:
    # Options whose names start with «_» are for filling the form, not for the form itself.
    form.prepare(**{key: value for key, value in options.items() if not key.startswith("_")})


def _step_url(agreement: Agreement, step_name: str | None) -> str:
    if step_name is None:
        return url_for("wizard.check_answers", agreement_id=agreement.id)
    return url_for("wizard.step", agreement_id=agreement.id, step_name=step_name)


def _step_urls(agreement: Agreement, steps: tuple[Step, ...]) -> dict[str, str]:
    """Each step's URL (as ``url_for`` makes it) from one ``url_for``: a step's name is the last part of its
    URL and plain lowercase letters, which need no quoting. The steps menu links up to eleven of them."""
    first = url_for("wizard.step", agreement_id=agreement.id, step_name=steps[0].name)
    stem = first.removesuffix(steps[0].name)
    return {item.name: stem + item.name for item in steps}


def _neighbour(agreement: Agreement, step: Step, offset: int) -> str | None:
    names = step_names_of(agreement)
    index = names.index(step.name) + offset
    return names[index] if 0 <= index < len(names) else None


@bp.route("/steps/<step_name>", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def step(agreement_id: int, step_name: str):
    # Every POST may write (a save, or input kept on «Back»): it holds the draft's lock from here on.
    agreement = _editable_draft(agreement_id, lock=request.method == "POST")
    if agreement is None:
        flash(_("This agreement is finalised and can no longer be changed. Changes need a new version."), "warning")
        return redirect(url_for("agreements.show", agreement_id=agreement_id))
    step = _step_or_404(agreement, step_name)

    first_open = first_open_step(agreement)
    names = step_names_of(agreement)
    if first_open is not None and names.index(step.name) > names.index(first_open):
        flash(_("Answer «%(step)s» first.", step=STEPS_BY_NAME[first_open].title), "warning")
        return redirect(_step_url(agreement, first_open))

    answers = ANSWERS[step.name]
    options = answers.options(agreement, current_user, clock.today())
    returning_to_check = request.args.get("return") == "check"

    if request.method == "GET":
        kept = (agreement.unsaved_input or {}).get(step.name)
        if kept:
            form = _prepared(step, options, formdata=MultiDict(kept))
            return _render(step, agreement, form, returning_to_check, agreement.draft_version, restored=True)
        form = _prepared(step, options, data=answers.load(agreement, options))
        return _render(step, agreement, form, returning_to_check, agreement.draft_version)

    # The draft version the page was shown at travels with the input until it is saved.
    shown = shown_version(request.form.get("draft_version"))
    form = _prepared(step, options)
    action = request.form.get("action", "next")
    repeating = [field for field in form if isinstance(field, FieldList)]
    if any(add_or_remove(field, action) for field in repeating):
        _prepare(form, options)  # a row just added needs its choices too
        return _render(step, agreement, form, returning_to_check, shown)

    if not form.validate_on_submit():
        if action == "back" and form.csrf_token.data and not form.csrf_token.errors:
            return _go_back_keeping_input(step, agreement, answers, options, form)
        return _render(step, agreement, form, returning_to_check, shown), 400

    conflict = step_conflict(agreement, step.name, shown)
    if conflict is not None:
        # Someone saved this step after the page was shown: nothing is overwritten. The page shows their
        # answers beside the typed ones, keeps the input, and now carries the current version, so saving
        # again is a choice made knowing what it replaces.
        theirs = _prepared(step, options, formdata=None, data=answers.load(agreement, options))
        return _render(step, agreement, form, returning_to_check, agreement.draft_version,
                       conflict=conflict, comparison=side_by_side(theirs, form)), 409

    try:
        answered_before = set(agreement.completed_steps or [])
        answers.save(agreement, form, options)
        keep_unsaved_input(agreement, step.name, None)
        mark_complete(agreement, step.name)
        # A step that had to be answered again (say, the members after the municipalities changed) has changed too.
        forgotten = sorted(answered_before - set(agreement.completed_steps))
        record_change(agreement, current_user._get_current_object(), "step_saved", step.name, steps=[step.name, *forgotten])
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        flash(_("Your answers could not be saved just now. Nothing was changed. Please try again."), "danger")
        return _render(step, agreement, form, returning_to_check, shown), 503

    if action == "back":
        return redirect(_step_url(agreement, _neighbour(agreement, step, -1) or step.name))
    if action == "save":
        flash(_("Your answers are saved. You can continue later from «Agreements»."), "success")
        return redirect(url_for("agreements.index"))
    if returning_to_check:
        return redirect(_step_url(agreement, first_open_step(agreement)))
    next_open = first_open_step(agreement)
    following = _neighbour(agreement, step, +1)
    if following is None or next_open is None:
        return redirect(_step_url(agreement, next_open))
    return redirect(_step_url(agreement, following))


def _go_back_keeping_input(step: Step, agreement: Agreement, answers, options, form: FlaskForm):  # type: ignore[no-untyped-def]
    """«Back» on a page with errors: nothing is saved, but what was typed is kept for the return."""
    untouched = _prepared(step, options, formdata=None, data=answers.load(agreement, options))
    if _answers_of(untouched) != _answers_of(form):
        keep_unsaved_input(agreement, step.name, [
            [key, value] for key, value in request.form.items(multi=True) if key not in ("csrf_token", "action")
        ])
        db.session.commit()
    return redirect(_step_url(agreement, _neighbour(agreement, step, -1) or step.name))


def _answers_of(form: FlaskForm) -> dict[str, Any]:
    return {key: value for key, value in form.data.items() if key != "csrf_token"}


def _render(step: Step, agreement: Agreement, form: FlaskForm, returning_to_check: bool, draft_version: int | None,  # type: ignore[no-untyped-def]
            *, restored: bool = False, conflict: Change | None = None, comparison: list | None = None):
    steps = steps_of(agreement)
    return render_template(
        step.template,
        step=step,
        steps=steps,
        step_urls=_step_urls(agreement, steps),
        position=steps.index(step) + 1,
        step_count=len(steps),
        agreement=agreement,
        form=form,
        previous_step=_neighbour(agreement, step, -1),
        returning_to_check=returning_to_check,
        restored=restored,
        draft_version=draft_version,
        conflict=conflict,
        comparison=comparison,
    )


@bp.route("/check")
@roles_required(Role.COORDINATOR)
def check_answers(agreement_id: int):
    agreement = agreement_for_editing(agreement_id)
    if not agreement.is_editable:
        return redirect(url_for("agreements.show", agreement_id=agreement.id))
    first_open = first_open_step(agreement)
    if first_open is not None:
        flash(_("Some answers are missing. Answer «%(step)s» first.", step=STEPS_BY_NAME[first_open].title), "warning")
        return redirect(_step_url(agreement, first_open))
    steps = steps_of(agreement)
    unsaved = [step for step in steps if step.name in (agreement.unsaved_input or {})]
    return render_template(
        "wizard/check.html", agreement=agreement, steps=steps, unsaved_steps=unsaved,
        start_in_past=agreement.start_date is not None and agreement.start_date < clock.today(),
        document=agreement_html(agreement, draft=True, heading_level=3),
    )
