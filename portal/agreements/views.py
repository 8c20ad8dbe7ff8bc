"""«Agreements», «Start a new agreement» and the agreement page."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select

from forms.steps import STEPS, STEPS_BY_NAME

from ..access import agreement_for_editing, agreement_for_reading, roles_required, visible_agreements
from ..documents import agreement_html
from .. import clock
from ..extensions import db
from ..models import Agreement, AgreementStatus, AuditEvent, Role
from ..wizard.answers import first_open_step
from . import bp
from ..evaluation import has_evaluation
from .editing import lock_agreement
from .listing import listed_agreements
from .lifecycle import RENEWABLE_STATES, delete_draft, renewal_under_way, start_agreement, untouched_draft_of, versions_of


@bp.route("/")
@login_required
def index():
    return render_template("agreements/index.html", agreements=listed_agreements(current_user, clock.today()))


@bp.route("/new", methods=["POST"])
@roles_required(Role.COORDINATOR)
def start():
    agreement = untouched_draft_of(current_user)
    if agreement is None:
        agreement = start_agreement(current_user)
        db.session.commit()
        flash(_("A new draft agreement %(reference)s is started. It is saved at every step.", reference=agreement.reference), "success")
    else:
        flash(_("You already have an empty draft, %(reference)s. Start it here.", reference=agreement.reference), "info")
    return redirect(url_for("wizard.step", agreement_id=agreement.id, step_name=STEPS[0].name))


@bp.route("/<int:agreement_id>/delete", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def delete(agreement_id: int):
    """Delete a draft that was never finalised, after a page that asks to confirm it."""
    agreement = agreement_for_editing(agreement_id)
    if request.method == "POST":  # the draft's lock: a save under way finishes before the draft goes
        agreement = lock_agreement(agreement_id) or abort(404)
    if not agreement.is_deletable:
        flash(_("Only a draft that was never finalised can be deleted."), "warning")
        return redirect(url_for("agreements.show", agreement_id=agreement.id))
    form = FlaskForm()
    if form.validate_on_submit():
        reference, version = agreement.reference, agreement.version
        delete_draft(agreement, current_user)
        db.session.commit()
        flash(_("The draft %(reference)s, version %(version)d, is deleted.", reference=reference, version=version), "success")
        return redirect(url_for("agreements.index"))
    return render_template("agreements/delete.html", agreement=agreement, form=form)


@bp.route("/<int:agreement_id>")
@login_required
def show(agreement_id: int):
    agreement = agreement_for_reading(agreement_id)
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.agreement_id == agreement.id).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    ).all()
    status = agreement.status_on(clock.today())
    return render_template(
        "agreements/show.html",
        agreement=agreement,
        status=status,
        renewable=status in RENEWABLE_STATES,
        renewal=renewal_under_way(agreement) if status in RENEWABLE_STATES else None,
        has_evaluation=has_evaluation(agreement),
        versions=versions_of(agreement),
        readable_ids=set(db.session.scalars(visible_agreements(current_user).with_only_columns(Agreement.id)
                                            .where(Agreement.reference == agreement.reference))),
        events=events,
        step_titles={name: step.title for name, step in STEPS_BY_NAME.items()},
        first_open_step=first_open_step(agreement),
        document=agreement_html(agreement, draft=agreement.is_editable, heading_level=3) if agreement.parties else None,
    )
