"""«Start renewal» on a signed agreement, and its evaluation as a PDF."""
from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..access import agreement_for_editing, agreement_for_reading, roles_required
from ..evaluation import evaluation_pdf, has_evaluation
from .. import clock
from ..downloads import file_response
from ..extensions import db
from ..models import Role
from ..wizard.answers import first_open_step
from . import bp
from .editing import lock_agreement
from .finalise import pdf_filename
from .lifecycle import RENEWABLE_STATES, record_event, renewal_under_way, start_renewal


@bp.route("/<int:agreement_id>/renew", methods=["POST"])
@roles_required(Role.COORDINATOR)
def renew(agreement_id: int):
    """Open the renewal of a signed agreement (or the one already under way) at its first open step."""
    agreement_for_editing(agreement_id)
    # The agreement's lock: two presses at once open one renewal, not two.
    agreement = lock_agreement(agreement_id) or abort(404)
    if agreement.status_on(clock.today()) not in RENEWABLE_STATES:
        flash(_("Only an agreement in force can be renewed."), "warning")
        return redirect(url_for("agreements.show", agreement_id=agreement.id))
    under_way = renewal_under_way(agreement)
    renewal = under_way or start_renewal(agreement, current_user, clock.today())
    db.session.commit()
    if under_way is None:
        flash(_("The renewal %(reference)s version %(version)d is started from this agreement. First, evaluate last year's priority areas.",
                reference=renewal.reference, version=renewal.version), "success")
    open_step = first_open_step(renewal)
    if open_step is None or not renewal.is_editable:
        return redirect(url_for("agreements.show", agreement_id=renewal.id))
    return redirect(url_for("wizard.step", agreement_id=renewal.id, step_name=open_step))


@bp.route("/<int:agreement_id>/evaluation.pdf")
@login_required
def evaluation_document(agreement_id: int):
    """The evaluation written when this agreement was renewed (404 until there is one); each download is recorded."""
    agreement = agreement_for_reading(agreement_id)
    if not has_evaluation(agreement):
        abort(404)
    pdf = evaluation_pdf(agreement)
    record_event(agreement, "evaluation_downloaded", current_user)
    db.session.commit()
    return file_response(pdf, pdf_filename(agreement, draft=False, kind="evaluering"))
