"""The archive's pages: the list with its filter, one agreement, and the downloads (each one recorded)."""
from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import extract, select

from ..access import SIGNED_STATES, visible_agreements, with_list_details
from ..agreements.lifecycle import record_event, versions_of
from ..evaluation import has_evaluation
from ..downloads import file_response
from ..extensions import db
from ..models import (
    Agreement, ArchiveMessage, BackgroundTask, DocumentRendition, Municipality, Party, PoliceDistrict, TaskState,
)
from ..signing.verify import VerificationError
from ..verify_page import REPORT_WORDS, error_message
from . import bp, bulk
from .noark5 import extraction_zip
from .package import (
    ArchiveFilter, archived, etsi_report, file_stem, json_bytes, package_name, package_zip, rendition_name, signed_pdf,
    signed_pdf_name, validation_report,
)

PER_PAGE = 25


def _archived_agreement(agreement_id: int) -> Agreement:
    """A signed agreement the current user may read; 404 otherwise (drafts are never in the archive)."""
    agreement = db.session.scalar(archived(visible_agreements(current_user)).where(Agreement.id == agreement_id))
    if agreement is None:
        abort(404)
    return agreement


def _record(agreement: Agreement, action: str, detail: str) -> None:
    record_event(agreement, action, current_user._get_current_object(), detail)


def _filter_choices(query) -> dict[str, list]:  # type: ignore[no-untyped-def]
    """The municipalities, police districts and years that occur among the agreements of ``query``."""
    ids = archived(query).with_only_columns(Agreement.id).order_by(None).scalar_subquery()
    return {
        "municipalities": db.session.scalars(select(Municipality).where(Municipality.number.in_(
            select(Party.municipality_number).where(Party.agreement_id.in_(ids)))).order_by(Municipality.name)).all(),
        "districts": db.session.scalars(select(PoliceDistrict).where(PoliceDistrict.id.in_(
            select(Agreement.police_district_id).where(Agreement.id.in_(ids)))).order_by(PoliceDistrict.name_bokmal)).all(),
        "years": sorted((int(year) for year in db.session.scalars(
            select(extract("year", Agreement.active_from)).where(Agreement.id.in_(ids)).distinct()) if year), reverse=True),
    }


#: The most agreements in one Noark 5 download, which is made in the request (each validation report takes
#: seconds). More: ``flask archive export --format noark5``.
BULK_LIMIT = 50


def _filtered_for_download(chosen: ArchiveFilter) -> list[Agreement] | None:
    """The agreements the filter finds for a bulk download; 404 if none; None (with a message) if too many."""
    agreements = list(db.session.scalars(chosen.apply(archived(visible_agreements(current_user))).limit(BULK_LIMIT + 1)))
    if not agreements:
        abort(404)
    if len(agreements) > BULK_LIMIT:
        flash(_("At most %(limit)d agreements fit in one download. Narrow the filter, or ask for an export "
                "with the command «flask archive export».", limit=BULK_LIMIT), "warning")
        return None
    return agreements


@bp.route("/")
@login_required
def index():
    """Signed agreements the user may read, filtered and searched, 25 to a page."""
    chosen = ArchiveFilter.from_args(request.args)
    query = with_list_details(chosen.apply(archived(visible_agreements(current_user))))
    page = db.paginate(query, page=request.args.get("page", 1, type=int), per_page=PER_PAGE, error_out=False)
    return render_template("archive/index.html", page=page, chosen=chosen, states=SIGNED_STATES,
                           **_filter_choices(visible_agreements(current_user)))


@bp.route("/<int:agreement_id>")
@login_required
def show(agreement_id: int):
    agreement = _archived_agreement(agreement_id)
    return render_template("archive/show.html", agreement=agreement, versions=versions_of(agreement, drafts=False), archived_states=SIGNED_STATES,
                           has_evaluation=has_evaluation(agreement),
                           signed_pdf_name=signed_pdf_name(agreement),
                           archive_messages=db.session.scalars(select(ArchiveMessage).where(
                               ArchiveMessage.agreement_id == agreement.id).order_by(ArchiveMessage.id)).all())


@bp.route("/<int:agreement_id>/signed.pdf")
@login_required
def signed_pdf_download(agreement_id: int):
    """The signed PDF byte for byte as stored."""
    agreement = _archived_agreement(agreement_id)
    pdf = signed_pdf(agreement)
    _record(agreement, "downloaded", f"archive: signed PDF; SHA-256 {agreement.document.signed_sha256}")
    db.session.commit()
    return file_response(pdf, signed_pdf_name(agreement))


@bp.route("/<int:agreement_id>/renditions/<int:rendition_id>.pdf")
@login_required
def rendition_download(agreement_id: int, rendition_id: int):
    """An earlier rendition of the signed PDF (before a renewal of its archival time-stamp), byte for byte."""
    agreement = _archived_agreement(agreement_id)
    rendition = db.session.get(DocumentRendition, rendition_id)
    if rendition is None or rendition.document_id != agreement.document.id:
        abort(404)
    _record(agreement, "downloaded", f"archive: previous rendition (revision {rendition.revision}); SHA-256 {rendition.sha256}")
    db.session.commit()
    return file_response(rendition.pdf, rendition_name(agreement, rendition))


@bp.route("/<int:agreement_id>/validation")
@login_required
def validation(agreement_id: int):
    """The validation report of the signed PDF as a page, as /verify shows it."""
    agreement = _archived_agreement(agreement_id)
    report = validation_report(agreement)
    _record(agreement, "validation_report_downloaded", "archive: validation report (page)")
    db.session.commit()
    return render_template("archive/validation.html", agreement=agreement, report=report, **REPORT_WORDS)


@bp.route("/<int:agreement_id>/validation-report.json")
@login_required
def validation_json(agreement_id: int):
    agreement = _archived_agreement(agreement_id)
    data = json_bytes(validation_report(agreement))
    _record(agreement, "validation_report_downloaded", "archive: validation-report.json")
    db.session.commit()
    return file_response(data, f"{file_stem(agreement)}-validation-report.json", mimetype="application/json")


@bp.route("/<int:agreement_id>/validation-report-etsi.xml")
@login_required
def validation_etsi(agreement_id: int):
    """The ETSI TS 119 102-2 XML report stored with the agreement when it was closed."""
    agreement = _archived_agreement(agreement_id)
    try:
        data = etsi_report(agreement)
    except VerificationError as error:  # a stored file the validator cannot read: say so
        return render_template("error.html", title=_("The validation report could not be made"), message=error_message(error)), 422
    _record(agreement, "validation_report_downloaded", "archive: validation-report-etsi.xml")
    db.session.commit()
    return file_response(data, f"{file_stem(agreement)}-validation-report-etsi.xml", mimetype="application/xml")


@bp.route("/<int:agreement_id>/package.zip")
@login_required
def package(agreement_id: int):
    """The agreement's archive package (see ``portal.archive.package``)."""
    agreement = _archived_agreement(agreement_id)
    data = package_zip(agreement)
    _record(agreement, "package_downloaded", f"archive package {package_name(agreement)}")
    db.session.commit()
    return file_response(data, package_name(agreement), mimetype="application/zip")


@bp.route("/bulk", methods=["POST"])
@login_required
def start_bulk_package():
    """Start the ZIP of the archive packages of every agreement the filter finds, in the background."""
    chosen = ArchiveFilter.from_args(request.values)
    task = bulk.start(current_user._get_current_object(), chosen)
    return redirect(url_for("archive.bulk_package", task_id=task.id))


def _own_bulk_task(task_id: str) -> BackgroundTask:
    task = db.session.get(BackgroundTask, task_id)
    if task is None or task.kind != bulk.KIND or task.started_by_id != current_user.id:
        abort(404)
    return task


@bp.route("/bulk/<task_id>")
@login_required
def bulk_package(task_id: str):
    """How far the bulk download has come; the link to fetch it when it is ready."""
    task = _own_bulk_task(task_id)
    done = task.state is TaskState.DONE
    return render_template("archive/bulk.html", task=task, contents=bulk.contents(task) if done else None,
                           removed=done and not bulk.zip_path(task.id).exists(),
                           kept_hours=current_app.config["JOB_FILES_MAX_AGE_HOURS"])


@bp.route("/bulk/<task_id>/archive.zip")
@login_required
def bulk_download(task_id: str):
    """The finished bulk ZIP (404 until it is ready)."""
    task = _own_bulk_task(task_id)
    path = bulk.zip_path(task.id)
    if task.state is not TaskState.DONE or not path.exists():
        abort(404)
    agreements = bulk.agreements_in(task)
    detail = f"archive: bulk package of {len(agreements)} agreement(s) ({task.id})"
    for agreement in agreements:
        _record(agreement, "package_downloaded", detail)
    db.session.commit()
    return file_response(path.read_bytes(), "politirad-arkiv.zip", mimetype="application/zip")


@bp.route("/<int:agreement_id>/noark5.zip")
@login_required
def noark5(agreement_id: int):
    """The Noark 5 extraction of the agreement's reference (every version), for an archive system."""
    agreement = _archived_agreement(agreement_id)
    data = extraction_zip([agreement])
    _record(agreement, "package_downloaded", "archive: Noark 5 extraction")
    db.session.commit()
    return file_response(data, f"{agreement.reference}-noark5.zip", mimetype="application/zip")


@bp.route("/noark5.zip")
@login_required
def bulk_noark5():
    """The Noark 5 extraction of every agreement the current filter finds."""
    chosen = ArchiveFilter.from_args(request.args)
    agreements = _filtered_for_download(chosen)
    if agreements is None:
        return redirect(url_for("archive.index", **chosen.as_args()))
    data = extraction_zip(agreements)
    for agreement in agreements:
        _record(agreement, "package_downloaded", f"archive: Noark 5 extraction; filter {chosen.as_args() or 'none'}")
    db.session.commit()
    return file_response(data, "politirad-noark5.zip", mimetype="application/zip")
