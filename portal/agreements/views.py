"""«My agreements», «Start a new agreement» and the agreement page."""
from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from forms.steps import STEPS, STEPS_BY_NAME

from ..access import agreement_for_reading, roles_required, visible_agreements
from ..documents import agreement_html
from ..extensions import db
from ..models import Agreement, AuditEvent, Role
from ..wizard.answers import first_open_step
from . import bp
from .lifecycle import record_event


@bp.route("/")
@login_required
def index():
    agreements = db.session.scalars(
        visible_agreements(current_user).order_by(Agreement.updated_at.desc(), Agreement.id.desc())
    ).all()
    return render_template("agreements/index.html", agreements=agreements, first_open_step=first_open_step)


@bp.route("/new", methods=["POST"])
@roles_required(Role.COORDINATOR)
def start():
    organisation = current_user.organisation
    agreement = Agreement(
        reference="pending",
        owner_organisation=organisation,
        created_by=current_user,
        police_district_id=organisation.police_district_id,
        completed_steps=[],
        unsaved_input={},
    )
    db.session.add(agreement)
    db.session.flush()  # the id makes the reference unique without a race
    agreement.reference = f"PR-{date.today().year}-{agreement.id:05d}"
    record_event(agreement, "created", current_user)
    db.session.commit()
    flash(_("A new draft agreement %(reference)s is started. It is saved at every step.", reference=agreement.reference), "success")
    return redirect(url_for("wizard.step", agreement_id=agreement.id, step_name=STEPS[0].name))


@bp.route("/<int:agreement_id>")
@login_required
def show(agreement_id: int):
    agreement = agreement_for_reading(agreement_id)
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.agreement_id == agreement.id).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    ).all()
    return render_template(
        "agreements/show.html",
        agreement=agreement,
        events=events,
        step_titles={name: step.title for name, step in STEPS_BY_NAME.items()},
        first_open_step=first_open_step(agreement),
        document=agreement_html(agreement, draft=agreement.is_editable, heading_level=3) if agreement.parties else None,
    )
