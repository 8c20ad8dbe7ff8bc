"""Pages that belong to no task: the front page, choosing a language, the accessibility statement,
and the Designsystemet style sheets installed from npm."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, send_from_directory, session, url_for
from flask_login import current_user

from . import PROJECT_ROOT
from .safety import is_safe_redirect

bp = Blueprint("pages", __name__)

#: The style sheets and font the pages use, from the npm packages the setup command installs.
NODE_MODULES = PROJECT_ROOT / "node_modules"
INTER_FONT = NODE_MODULES / "@fontsource/inter"
VENDOR_FILES = {
    "designsystemet.css": "@digdir/designsystemet-css/dist/src/index.css",
    "designsystemet-theme.css": "@digdir/designsystemet-css/dist/theme/designsystemet.css",
}


@bp.route("/")
def home():
    if current_user.is_authenticated:
        if current_user.role.value == "administrator":
            return redirect(url_for("admin.users"))
        return redirect(url_for("agreements.index"))
    return render_template("home.html")


@bp.route("/language", methods=["POST"])
def choose_language():
    language = request.form.get("language", "")
    if language in current_app.config["LANGUAGES"]:
        session["language"] = language
        if current_user.is_authenticated:
            from .extensions import db

            current_user.language = language
            db.session.commit()
    target = request.form.get("next")
    return redirect(target if is_safe_redirect(target) else url_for("pages.home"))


@bp.route("/accessibility")
def accessibility_statement():
    return render_template("accessibility.html")


@bp.route("/vendor/<name>")
def vendor(name: str):
    relative = VENDOR_FILES.get(name)
    if relative is None:
        abort(404)
    folder, filename = (NODE_MODULES / relative).parent, relative.rsplit("/", 1)[1]
    return send_from_directory(folder, filename, max_age=3600)


@bp.route("/agreement.css")
def agreement_css():
    """The agreement's own typography from ``pdf_templates/``, so the pages show the text as the PDF has it."""
    return send_from_directory(PROJECT_ROOT / "pdf_templates", "agreement.css", max_age=3600)


@bp.route("/vendor/inter/<path:filename>")
def inter_font(filename: str):
    """Inter, the typeface Designsystemet's theme names (SIL Open Font License), Latin subset only."""
    if not (filename.startswith("latin-") or filename.startswith("files/inter-latin-")):
        abort(404)
    return send_from_directory(INTER_FONT, filename, max_age=86400)
