"""«Verify a signed PDF»: anyone may upload a PDF and read, per signature, who signed, when, with what
certificate, whether it is intact and whether the document changed after signing; with an overall
verdict in plain words. The same report as JSON at ``POST /verify.json`` for programs (no CSRF token:
it reads the upload and stores nothing).

The page is public, and a validation keeps a worker busy for a good part of a second: visitors who are not
signed in may upload ``VERIFY_RATE_LIMIT`` files per client address (Flask-Limiter), and at most
``VERIFY_CONCURRENT_VALIDATIONS`` new validations run at once in a process. Past either limit the answer is
HTTP 429 with ``Retry-After`` and a «try again in a moment» page (or JSON), not a queue without end."""
from __future__ import annotations

import threading

from flask import Blueprint, current_app, jsonify, render_template, request
from flask_login import current_user
from babel.lists import format_list
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import secure_filename
from wtforms.validators import ValidationError

from .agreements.signing import signing_setup
from .extensions import csrf, limiter
from .signing import verify
from .downloads import file_response
from .language import lazy_gettext as _l
from .validation_reports import Busy, cached_etsi_report, cached_report

bp = Blueprint("verify", __name__)

VERDICTS = {
    verify.Verdict.VALID: _l("Valid. Every signature is intact and made with a trusted certificate, and the document has not been changed since it was signed, apart from what signing allows."),
    verify.Verdict.INCOMPLETE: _l("Not fully signed yet. The signatures so far are valid, but some signature fields are still empty."),
    verify.Verdict.UNTRUSTED: _l("Not trusted. The signatures are intact, but a certificate does not lead to an authority this portal trusts."),
    verify.Verdict.INVALID: _l("Invalid. A signature could not be verified."),
    verify.Verdict.REVOKED: _l("Revoked. A signature was made with a certificate that has since been revoked, so it no longer holds."),
    verify.Verdict.ALTERED: _l("Altered. The document has been changed after it was signed."),
    verify.Verdict.UNSIGNED: _l("The PDF has no signatures."),
    verify.Verdict.FIELD_RULES_BROKEN: _l("Not as required. The signatures are intact, but a signature breaks the rules its signature field sets."),
}
VERDICT_COLOURS = {
    verify.Verdict.VALID: "success", verify.Verdict.INCOMPLETE: "warning", verify.Verdict.UNTRUSTED: "warning",
    verify.Verdict.INVALID: "danger", verify.Verdict.ALTERED: "danger", verify.Verdict.REVOKED: "danger", verify.Verdict.UNSIGNED: "info",
    verify.Verdict.FIELD_RULES_BROKEN: "warning",
}
#: How a signature can break its field's seed values (portal.signing.seed_values).
SEED_VALUE_PROBLEMS = {
    "subfilter": _l("The field requires a PAdES signature (ETSI.CAdES.detached); this is another kind."),
    "timestamp": _l("The field requires a signature time-stamp; this signature has none."),
    "issuer": _l("The field accepts certificates from named authorities only; this certificate is from another."),
}
MODIFICATIONS = {
    "NONE": _l("No changes after signing"),
    "LTA_UPDATES": _l("Only validation data and time-stamps were added"),
    "FORM_FILLING": _l("Only form filling and further signatures were added"),
    "ANNOTATIONS": _l("Comments (annotations) were added"),
    "OTHER": _l("The content was changed"),
}
TIME_SOURCES = {
    "timestamp": _l("from a time-stamp"),
    "claimed": _l("as claimed by the signer's computer, not confirmed"),
    "none": _l("unknown"),
}


def error_message(error: verify.VerificationError) -> str:
    if isinstance(error, verify.NotAPdf):
        return _("The file is not a PDF.")
    if isinstance(error, verify.CorruptPdf):
        return _("The PDF is damaged or incomplete (perhaps it was not downloaded in full), so it cannot be verified.")
    if isinstance(error, verify.EncryptedPdf):
        return _("The PDF is encrypted, so its signatures cannot be verified. Upload the file as it was signed.")
    if isinstance(error, verify.PdfTooLarge):
        return too_large_message()
    return _("The file cannot be verified.")


def too_large_message() -> str:
    return _("The file is too large. The largest file that can be verified is %(size)d MB.",
             size=signing_setup().verify_max_bytes // (1024 * 1024))


class VerifyForm(FlaskForm):
    pdf = FileField(_l("The signed PDF"), description=_l("The file is only read to make the report. It is not stored."))

    def validate_pdf(self, field) -> None:  # type: ignore[no-untyped-def]
        if field.data is None or not getattr(field.data, "filename", ""):
            raise ValidationError(_l("Choose the PDF file to verify"))


PADES_LEVELS = {
    "none": _l("None: the document has no signature that holds"),
    "B-B": _l("B-B (signatures only)"),
    "B-T": _l("B-T (signatures with a time-stamp)"),
    "B-LT": _l("B-LT (with the data to validate them later)"),
    "B-LTA": _l("B-LTA (verifiable long after the certificates expire)"),
}


def summary(report: verify.VerificationReport | dict) -> str:
    """The report in one sentence anyone understands: who signed and whether the document still holds."""
    data = report if isinstance(report, dict) else report.as_dict()
    names = [sig["signer_name"] for sig in data.get("signatures", []) if not sig["certification"] and sig["signer_name"]]
    listed = format_list(names, locale=str(get_locale())) if names else _("nobody yet")
    verdict = data.get("verdict")
    if verdict == verify.Verdict.VALID:
        return _("%(names)s signed this document, and it has not been changed since.", names=listed)
    if verdict == verify.Verdict.INCOMPLETE:
        return _("This document is not fully signed yet. Signed so far by: %(names)s.", names=listed)
    if verdict == verify.Verdict.UNTRUSTED:
        return _("The signatures are intact, but this portal cannot confirm who made them.")
    if verdict == verify.Verdict.ALTERED:
        return _("This document has been changed after it was signed. Do not rely on it.")
    if verdict == verify.Verdict.REVOKED:
        return _("A signature in this document was made with a revoked certificate. Do not rely on it.")
    if verdict == verify.Verdict.INVALID:
        return _("A signature in this document could not be confirmed. Do not rely on it.")
    return _("This document has no signatures.")


#: The words the report template (verify/_report.html) needs, for every page that shows a report.
REPORT_WORDS = {"verdicts": VERDICTS, "verdict_colours": VERDICT_COLOURS, "modifications": MODIFICATIONS,
                "time_sources": TIME_SOURCES, "pades_levels": PADES_LEVELS, "summary": summary,
                "seed_value_problems": SEED_VALUE_PROBLEMS}


_GATE_KEY = "politirad_verify_gate"


def _validation_gate() -> threading.Semaphore | None:
    """The process's bound on validations at once for visitors who are not signed in (None for users)."""
    if current_user.is_authenticated:
        return None
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    gate = app.extensions.get(_GATE_KEY)
    if gate is None:
        gate = app.extensions.setdefault(_GATE_KEY, threading.BoundedSemaphore(app.config["VERIFY_CONCURRENT_VALIDATIONS"]))
    return gate


def _signed_in() -> bool:
    return bool(current_user.is_authenticated)


def _rate_limit() -> str:
    return current_app.config["VERIFY_RATE_LIMIT"]


def report_of(data: bytes, max_bytes: int | None = None) -> verify.VerificationReport:
    """The report on ``data`` (at most ``max_bytes``, default ``VERIFY_MAX_BYTES``), from the process's
    cache when the same bytes were verified before; raises :class:`verify.VerificationError` for a file
    that cannot be verified at all, :class:`Busy` when too many validations run at once."""
    try:
        return cached_report(data, max_bytes, gate=_validation_gate(), wait_seconds=current_app.config["VERIFY_WAIT_SECONDS"])
    except (verify.VerificationError, Busy):
        raise
    except Exception as error:  # a PDF odd enough to break the validator: say so rather than fail
        current_app.logger.warning("Verifying a PDF failed: %s", error)
        raise verify.VerificationError(str(error)) from error


def report_json(report: verify.VerificationReport) -> dict[str, object]:
    """The report as ``POST /verify.json`` gives it, with the verdict in words."""
    return {**report.as_dict(), "verdict_text": str(VERDICTS.get(report.verdict, report.verdict)), "summary": summary(report)}


def _read(upload) -> bytes:  # type: ignore[no-untyped-def]
    return upload.read(signing_setup().verify_max_bytes + 1)


def busy_message() -> str:
    return _("Many documents are being verified right now. Try again in a moment.")


def too_many(error: Exception | None = None):  # type: ignore[no-untyped-def]
    """HTTP 429 for ``/verify`` and ``/verify.json`` (the rate limit or :class:`Busy`), with ``Retry-After``."""
    retry = current_app.config["VERIFY_RETRY_AFTER_SECONDS"]
    limit = limiter.current_limit
    if limit is not None and limit.breached:
        import time

        retry = max(1, int(limit.reset_at - time.time()))
    if request.path.endswith(".json"):
        response = jsonify(error="busy", message=busy_message(), retry_after=retry)
    else:
        response = current_app.make_response(render_template(
            "error.html", title=_("Try again in a moment"), message=_(
                "Many documents are being verified right now, so yours was not. Wait %(seconds)d seconds and "
                "send it again. Signed-in users are not limited.", seconds=retry)))
    response.status_code = 429
    response.headers["Retry-After"] = str(retry)
    return response


@bp.route("/verify", methods=["GET", "POST"], endpoint="verify")
@limiter.limit(_rate_limit, methods=["POST"], exempt_when=_signed_in)
def verify_page():
    try:
        form = VerifyForm()
    except RequestEntityTooLarge:
        form = VerifyForm(formdata=None)
        return render_template("verify/verify.html", form=form, report=None, problem=too_large_message()), 413
    report, problem = None, None
    if form.validate_on_submit():
        try:
            data = _read(form.pdf.data)
            if request.form.get("report") == "etsi":
                return _etsi_download(data, form.pdf.data.filename)
            report = report_of(data)
        except verify.VerificationError as error:
            problem = error_message(error)
        except Busy:
            return too_many()
    status = 400 if form.errors else 422 if problem else 200
    return render_template("verify/verify.html", form=form, report=report, problem=problem, **REPORT_WORDS), status


def _etsi_download(data: bytes, filename: str):  # type: ignore[no-untyped-def]
    """The ETSI TS 119 102-2 XML report of the upload, as a download named after the file."""
    xml = cached_etsi_report(data, gate=_validation_gate(), wait_seconds=current_app.config["VERIFY_WAIT_SECONDS"])
    stem = secure_filename(filename).removesuffix(".pdf") or "document"
    return file_response(xml.encode("utf-8"), f"{stem}-validation-report-etsi.xml", mimetype="application/xml")


@bp.route("/verify.json", methods=["POST"])
@csrf.exempt
@limiter.limit(_rate_limit, exempt_when=_signed_in)
def verify_json():
    """The report as JSON. Send the PDF as the multipart field ``pdf`` or as the body (``application/pdf``)."""
    try:
        upload = request.files.get("pdf")
        data = _read(upload) if upload else (request.get_data() if request.mimetype == "application/pdf" else b"")
    except RequestEntityTooLarge:
        return jsonify(error="too_large", message=too_large_message()), 413
    if not data:
        return jsonify(error="no_file", message=_("Send the PDF as the form field «pdf» or as an application/pdf body.")), 400
    try:
        report = report_of(data)
    except verify.VerificationError as error:
        return jsonify(error=error.code, message=error_message(error)), 422
    except Busy:
        return too_many()
    return jsonify(report_json(report))
