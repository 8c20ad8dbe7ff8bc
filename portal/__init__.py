"""Politirådsportalen: the app factory."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, render_template, session
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from .config import load_settings
from .extensions import babel, csrf, db, limiter, login_manager, migrate
from .language import lazy_gettext as _l

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict[str, object] | None = None, *, instance_path: str | Path | None = None) -> Flask:
    # INSTANCE_PATH (or ``instance_path``) moves all runtime data (config.py, the SQLite database, secret key,
    # demo PKI, mail and archive outboxes, job files) elsewhere: for a second portal on the same checkout, or
    # for tests.
    instance_path = Path(instance_path or os.environ.get("INSTANCE_PATH") or PROJECT_ROOT / "instance").resolve()
    app = Flask(__name__, instance_path=str(instance_path), instance_relative_config=True)
    load_settings(app, overrides)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale, default_translation_directories="translations")
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = None  # the sign-in page says why on its own
    login_manager.session_protection = "strong"

    from . import models  # noqa: F401  (registers the tables with the metadata)
    from .admin import bp as admin_bp
    from .agreements import bp as agreements_bp
    from .archive import bp as archive_bp
    from .auth import bp as auth_bp
    from .cli import register_commands
    from .dashboard import bp as dashboard_bp
    from .templating import register_template_helpers
    from .pages import bp as pages_bp
    from .signing import models as signing_models  # noqa: F401  (the signing tables)
    from .signing.services import bp as pki_bp
    from .verify_page import bp as verify_bp
    from .wizard import bp as wizard_bp

    for blueprint in (pages_bp, auth_bp, agreements_bp, wizard_bp, admin_bp, pki_bp, verify_bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(archive_bp)
    register_commands(app)
    register_template_helpers(app)

    @login_manager.user_loader
    def load_user(user_id: str) -> models.User | None:
        from .auth.sessions import live_user

        return live_user(int(user_id))  # only while this session's record on the server is live

    from .labels import all_labels

    @app.context_processor
    def page_context() -> dict[str, object]:
        return {"languages": app.config["LANGUAGES"], "current_language": select_locale(), **all_labels()}

    @app.after_request
    def security_headers(response):  # type: ignore[no-untyped-def]
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if "frame-ancestors" not in response.headers.get("Content-Security-Policy", ""):
            response.headers.setdefault("X-Frame-Options", "DENY")  # a page that names its framers says so in its CSP
        response.headers.setdefault("Referrer-Policy", "same-origin")
        # A form may lead on to the OpenID provider (signing out there, proving who one is before signing).
        from .auth.provider import issuer_origin

        form_targets = " ".join(filter(None, ["'self'", issuer_origin()]))
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            f"form-action {form_targets}; frame-ancestors 'none'",
        )
        return response

    @app.errorhandler(CSRFError)
    def csrf_refused(error: CSRFError):  # type: ignore[no-untyped-def]
        message = _("The form had expired or was sent from elsewhere. Nothing was saved. Go back, reload the page and try again.")
        return render_template("error.html", title=_("The form could not be sent"), message=message), 400

    from .verify_page import too_many

    app.register_error_handler(429, too_many)  # only /verify is rate-limited
    for code, title in ((403, _l("You do not have access to this page")), (404, _l("Page not found"))):
        app.register_error_handler(code, _error_page(code, title))

    return app


def _error_page(code: int, title: str):  # type: ignore[no-untyped-def]
    def handler(error):  # type: ignore[no-untyped-def]
        return render_template("error.html", title=title, message=None), code

    return handler


def select_locale() -> str:
    """The language chosen on the page (kept in the session), else bokmål.

    The browser's language is not consulted: the service speaks bokmål until the user chooses otherwise.
    """
    from flask import current_app

    chosen = session.get("language")
    return chosen if chosen in current_app.config["LANGUAGES"] else current_app.config["BABEL_DEFAULT_LOCALE"]
