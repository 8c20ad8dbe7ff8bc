"""Pages that belong to no task: the front page, choosing a language, the accessibility statement,
and the Designsystemet style sheets installed from npm."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, send_from_directory, session, url_for
from flask_login import current_user

from . import PROJECT_ROOT
from .safety import is_safe_redirect

bp = Blueprint("pages", __name__)

#: The style sheets the pages use, from the npm packages the setup command installs.
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
    folder, filename = (PROJECT_ROOT / "node_modules" / relative).parent, relative.rsplit("/", 1)[1]
    response = send_from_directory(folder, filename, max_age=3600)
    return response
