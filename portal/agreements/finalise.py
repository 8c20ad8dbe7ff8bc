"""The agreement as a PDF: the draft to read, finalising, and the final document to download.

Finalising renders the final PDF once (PDF/A-2b with empty signature fields, see ``portal.documents``),
stores it with its SHA-256, seals it with the portal's certification signature (the first signed
revision), creates a signature slot per signatory and moves the agreement to FINALISED, all in one
transaction: if anything fails, nothing is stored and the agreement stays a draft. The signatories are
e-mailed after the commit. From then on the stored bytes are the
agreement; they are served exactly as stored and never rendered again.
"""
from __future__ import annotations

import re

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from forms.steps import STEPS_BY_NAME

from ..access import agreement_for_editing, agreement_for_reading, roles_required
from ..documents import agreement_pdf
from ..downloads import file_response
from ..extensions import db
from ..models import Agreement, AgreementDocument, Role
from . import bp
from . import signing
from ..wizard.answers import missing_steps
from .editing import changes_since, describe_change, lock_agreement, shown_version
from .lifecycle import record_event


@bp.app_template_global("agreement_is_complete")
def agreement_is_complete(agreement: Agreement) -> bool:
    """Every wizard step is answered, so the draft may be finalised."""
    return not missing_steps(agreement)


# Who will sign, and the accounts their e-mail addresses belong to («check your answers», finalise).
bp.app_template_global("signatory_accounts")(signing.signatory_accounts)


def pdf_filename(agreement: Agreement, *, draft: bool, kind: str = "") -> str:
    """``PR-2026-00001-v1.pdf``, ``…-v1-utkast.pdf`` for a draft, ``…-v1-evaluering.pdf`` for a kind."""
    reference = re.sub(r"[^A-Za-z0-9_-]", "_", agreement.reference)
    return f"{reference}-v{agreement.version}{f'-{kind}' if kind else ''}{'-utkast' if draft else ''}.pdf"


@bp.route("/<int:agreement_id>/preview.pdf")
@login_required
def preview_pdf(agreement_id: int):
    """The draft as a PDF marked «UTKAST», rendered from the answers as they are now."""
    agreement = agreement_for_reading(agreement_id)
    if not agreement.is_editable:
        return redirect(url_for("agreements.document_pdf", agreement_id=agreement.id))
    pdf = agreement_pdf(agreement, draft=True)
    return file_response(pdf, pdf_filename(agreement, draft=True), attachment=False, cache="no-store")


@bp.route("/<int:agreement_id>/finalise", methods=["POST"])
@roles_required(Role.COORDINATOR)
def finalise(agreement_id: int):
    agreement_for_editing(agreement_id)
    page = url_for("agreements.show", agreement_id=agreement_id)
    # The draft's lock: two clicks cannot both finalise, and no step is saved while the PDF is made.
    agreement = lock_agreement(agreement_id) or abort(404)
    if not agreement.is_editable:
        flash(_("This agreement is already finalised."), "info")
        return redirect(page)
    missing = missing_steps(agreement)
    if missing:
        flash(
            _("The agreement cannot be finalised yet. Answer «%(step)s» first.", step=STEPS_BY_NAME[missing[0]].title),
            "warning",
        )
        return redirect(page)
    changes = changes_since(agreement, shown_version(request.form.get("draft_version")))
    if changes:
        # Finalise only what the coordinator has read: a draft changed since the page was shown goes
        # back to «check your answers», which says who changed what.
        flash(_("The agreement was not finalised, because the draft has changed since you opened the page. Read the answers again before you finalise."), "warning")
        for change in changes:
            flash(describe_change(change), "warning")
        return redirect(url_for("wizard.check_answers", agreement_id=agreement.id))

    to_correct = [signatory for signatory in signing.signatory_accounts(agreement) if signatory.must_be_corrected]
    if to_correct:
        flash(_("The agreement cannot be finalised yet: the account with the e-mail address %(email)s is not that of "
                "%(name)s, whom the agreement names. Correct the name or the e-mail address first.",
                email=to_correct[0].email, name=to_correct[0].name), "warning")
        return redirect(url_for("wizard.check_answers", agreement_id=agreement.id))

    actor = current_user._get_current_object()
    try:
        invitations = signing.finalise(agreement, actor)
        db.session.commit()
    except Exception:
        db.session.rollback()
        current_app.logger.exception("Finalising agreement %s failed", agreement_id)
        flash(_("The agreement could not be finalised, and nothing was changed. Try again in a moment."), "danger")
        return redirect(page)

    flash(_("The agreement is finalised. The final PDF is stored and the agreement can no longer be changed."), "success")
    unreached = signing.send_signing_invitations(agreement, invitations, actor)
    if unreached:
        flash(_("The e-mail to %(addresses)s could not be sent. Send them the link to the signing page yourself.",
                addresses=", ".join(unreached)), "warning")
    else:
        flash(_("Each signatory has been sent an e-mail with a link to sign."), "info")
    return redirect(page)


@bp.route("/<int:agreement_id>/document.pdf")
@login_required
def document_pdf(agreement_id: int):
    """The final PDF as stored: the current signed revision (sealed, and every signature so far), or the
    finalised PDF where there is none; byte for byte."""
    agreement = agreement_for_reading(agreement_id)
    document = db.session.scalar(select(AgreementDocument).where(AgreementDocument.agreement_id == agreement.id))
    if agreement.is_editable or document is None:
        abort(404)
    pdf = document.current_pdf
    record_event(agreement, "downloaded", current_user._get_current_object(), f"SHA-256 {document.current_sha256}")
    db.session.commit()
    return file_response(pdf, pdf_filename(agreement, draft=False))
