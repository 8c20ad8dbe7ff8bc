"""Settings: embedded defaults, then ``instance/config.py``, then environment variables.

The embedded defaults run the portal on SQLite in ``instance/`` with mail written to
``instance/outbox/``, so a newcomer needs nothing else.
"""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask

#: Settings an environment variable of the same name may override, with their types.
ENVIRONMENT_SETTINGS: dict[str, type] = {
    "SECRET_KEY": str,
    "DATABASE_URL": str,
    "MAIL_SERVER": str,
    "MAIL_PORT": int,
    "MAIL_USERNAME": str,
    "MAIL_PASSWORD": str,
    "MAIL_USE_TLS": bool,
    "MAIL_FROM": str,
    "PUBLIC_BASE_URL": str,
    "SESSION_COOKIE_SECURE": bool,
    "LOCKOUT_THRESHOLD": int,
    "LOCKOUT_MINUTES": int,
    "LOCKOUT_ADDRESS_THRESHOLD": int,
    "LOCKOUT_ACCOUNT_THRESHOLD": int,
    # Signing (see portal/signing/setup.py for what each means)
    "SIGNING_KEY_SOURCE": str,
    "PKI_FOLDER": str,
    "PKI_BASE_URL": str,
    "TIMESTAMP_URL": str,
    "TRUST_ROOTS_FILE": str,
    "SEAL_PKCS12_FILE": str,
    "SEAL_PKCS12_PASSPHRASE": str,
    "SEAL_PKCS11_TOKEN": str,
    "SEAL_PKCS11_PIN": str,
    "SEAL_PKCS11_KEY_LABEL": str,
    "PKCS11_MODULE": str,
    "SIGNATORY_PKCS11_TOKEN": str,
    "REVOCATION_FETCHING": bool,
    "PORTAL_HELD_KEYS": bool,
    "ACCEPTED_ISSUERS_FILE": str,
    "CSC_URL": str,
    "CSC_CLIENT_DATA": str,
    "CSC_CLIENT_ID": str,
    "CSC_CLIENT_SECRET": str,
    "CSC_TOKEN_URL": str,
    "VERIFY_MAX_BYTES": int,
    # Fiks Arkiv messages (portal/archive/fiks_arkiv.py)
    "ARCHIVE_OUTBOX": str,
    "ARCHIVE_ENDPOINT": str,
    # Renewing the archival time-stamps (portal/archive/timestamp_renewal.py)
    "TIMESTAMP_RENEWAL_MARGIN_DAYS": int,
    "ACCEPTED_TIMESTAMP_DIGESTS": str,
    "PKI_TSA_VALIDITY_DAYS": int,
    # /verify for visitors who are not signed in (see portal/verify_page.py)
    "VERIFY_RATE_LIMIT": str,
    "VERIFY_CONCURRENT_VALIDATIONS": int,
    "RATELIMIT_STORAGE_URI": str,
    # Sign-in through an OpenID provider (ID-porten, Ansattporten, Entra ID); see README «Sign-in with
    # ID-porten». Empty OIDC_ISSUER: no provider, passwords only.
    "OIDC_ISSUER": str,
    "OIDC_PROVIDER_NAME": str,
    "OIDC_CLIENT_ID": str,
    "OIDC_CLIENT_SECRET": str,
    "OIDC_CLIENT_AUTH_METHOD": str,
    "OIDC_PRIVATE_KEY_FILE": str,
    "OIDC_PRIVATE_KEY_ID": str,
    "OIDC_SCOPES": str,
    "OIDC_IDENTITY_CLAIM": str,
    "OIDC_ACR_LEVELS": str,
    "OIDC_SIGN_IN_ACR": str,
    "OIDC_SIGNING_ACR": str,
    "OIDC_STEP_UP_MAX_AGE": int,
    "OIDC_TIMEOUT": int,
    "IDENTITY_HMAC_KEY": str,
    "PASSWORD_SIGN_IN": str,
    # Background jobs (portal/jobs.py): empty REDIS_URL runs every job in the web process at once
    "REDIS_URL": str,
    "JOB_QUEUE": str,
    "JOB_HEARTBEAT_SECONDS": int,
    "JOB_FILES_MAX_AGE_HOURS": int,
}


def _as_bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on", "ja"}


def default_settings(instance_path: Path) -> dict[str, object]:
    return {
        "DATABASE_URL": f"sqlite:///{instance_path / 'portal.sqlite3'}",
        "MAIL_SERVER": "",  # empty: every message is written to instance/outbox/ as an .eml file
        "MAIL_PORT": 25,
        "MAIL_USERNAME": "",
        "MAIL_PASSWORD": "",
        "MAIL_USE_TLS": False,
        "MAIL_FROM": "Politirådsportalen <ikke-svar@politirad.invalid>",
        "MAIL_OUTBOX": str(instance_path / "outbox"),
        # Fiks Arkiv messages: to this HTTP endpoint when set, otherwise written to ARCHIVE_OUTBOX.
        "ARCHIVE_ENDPOINT": "",
        "ARCHIVE_OUTBOX": str(instance_path / "arkiv-utboks"),
        # `flask archive renew-timestamps` renews a signed PDF's archival time-stamp when its TSA certificate
        # expires within this many days, or when it uses a digest algorithm not in this list.
        "TIMESTAMP_RENEWAL_MARGIN_DAYS": 730,
        "ACCEPTED_TIMESTAMP_DIGESTS": "sha256 sha384 sha512",
        "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
        # Sessions: signed cookies that JavaScript cannot read, sent over HTTPS only.
        # Browsers treat http://127.0.0.1 and http://localhost as secure, so the local demo works too.
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": True,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=8),
        "WTF_CSRF_TIME_LIMIT": 8 * 3600,
        "RENEWAL_REMINDER_DAYS": [60, 30, 0],  # days before the renewal date; 0 is the day itself
        # Wrong passwords within LOCKOUT_MINUTES: per account from one address, per address, per account
        # from every address (portal/auth/throttle.py).
        "LOCKOUT_THRESHOLD": 5,
        "LOCKOUT_MINUTES": 15,
        "LOCKOUT_ADDRESS_THRESHOLD": 20,
        "LOCKOUT_ACCOUNT_THRESHOLD": 100,
        "INVITATION_MAX_AGE_DAYS": 7,
        "PASSWORD_RESET_MAX_AGE_HOURS": 2,
        "BABEL_DEFAULT_LOCALE": "nb",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Oslo",
        "LANGUAGES": {"nb": "Norsk (bokmål)", "nn": "Norsk (nynorsk)", "en": "English"},
        "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
        # /verify without signing in: uploads per client address, and validations at once per process
        # (a file verified before is answered from the cache and not counted as a validation).
        "VERIFY_RATE_LIMIT": "20 per minute;200 per hour",
        "VERIFY_CONCURRENT_VALIDATIONS": 2,
        "VERIFY_WAIT_SECONDS": 2,  # how long a new validation waits for a place before the answer is 429
        "VERIFY_RETRY_AFTER_SECONDS": 10,
        "RATELIMIT_STORAGE_URI": "memory://",
        # OpenID Connect (portal/auth/provider.py). Defaults are ID-porten's words; the issuer is empty, so
        # a fresh machine signs in with passwords only.
        "OIDC_ISSUER": "",
        "OIDC_PROVIDER_NAME": "ID-porten",
        "OIDC_CLIENT_ID": "",
        "OIDC_CLIENT_SECRET": "",
        "OIDC_CLIENT_AUTH_METHOD": "client_secret_basic",  # or client_secret_post, private_key_jwt
        "OIDC_PRIVATE_KEY_FILE": "",  # PEM, for private_key_jwt
        "OIDC_PRIVATE_KEY_ID": "",  # its kid, as registered with the provider
        "OIDC_SCOPES": "openid",  # ID-porten sends pid with openid alone: ask for no more than that
        "OIDC_IDENTITY_CLAIM": "pid",  # the claim naming the person (Entra ID: oid)
        # acr values from lowest to highest: «at least the signing level» is judged in this order.
        "OIDC_ACR_LEVELS": "idporten-loa-low idporten-loa-substantial idporten-loa-high",
        "OIDC_SIGN_IN_ACR": "idporten-loa-substantial",
        "OIDC_SIGNING_ACR": "idporten-loa-high",
        "OIDC_STEP_UP_MAX_AGE": 300,  # seconds: how recent the signing-level authentication must be
        "OIDC_TIMEOUT": 10,  # seconds for each call to the provider
        "IDENTITY_HMAC_KEY": "",  # empty: derived from SECRET_KEY (set it on its own in production)
        # on | off | off-for-signatories; «off» takes effect only once a provider is configured.
        "PASSWORD_SIGN_IN": "on",
        "REDIS_URL": "",  # e.g. redis://127.0.0.1:6379/0; empty: jobs run in-process (see portal/jobs.py)
        "JOB_QUEUE": "politirad",
        "JOB_RETRY_INTERVALS": [10, 60, 300],  # seconds before each retry of a failed job
        "JOB_HEARTBEAT_SECONDS": 30,  # a job whose worker missed three heartbeats is put back on the queue
        "JOB_TIMEOUT_SECONDS": 3600,
        "JOB_FILES": str(instance_path / "jobs"),  # what jobs make for download (bulk archive ZIPs)
        "JOB_FILES_MAX_AGE_HOURS": 24,  # finished job files older than this are removed (portal/archive/bulk.py)
    }


def load_settings(app: Flask, overrides: dict[str, object] | None = None) -> None:
    """Fill ``app.config`` in order: defaults, instance/config.py, environment, ``overrides``."""
    instance_path = Path(app.instance_path)
    instance_path.mkdir(parents=True, exist_ok=True)
    app.config.update(default_settings(instance_path))
    app.config.from_pyfile("config.py", silent=True)
    for name, kind in ENVIRONMENT_SETTINGS.items():
        raw = os.environ.get(name)
        if raw is None or raw == "":
            continue
        app.config[name] = _as_bool(raw) if kind is bool else kind(raw)
    if overrides:
        app.config.update(overrides)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(instance_path)
    app.config["SQLALCHEMY_DATABASE_URI"] = _sqlalchemy_url(str(app.config["DATABASE_URL"]))
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # SQLite has one writer at a time and the others wait their turn (see agreements/editing.py):
        # wait up to 30 s rather than pysqlite's 5 s before giving up with «database is locked».
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"connect_args": {"timeout": 30}})


def _instance_secret_key(instance_path: Path) -> str:
    """The key in ``instance/secret_key``, generated on first start and kept private to its owner."""
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _sqlalchemy_url(url: str) -> str:
    """Accept the usual ``postgresql://`` spelling and drive it with psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
