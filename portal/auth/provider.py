"""The portal as an OpenID Connect relying party (Authlib's Flask client), configured by settings only.

Authorization code flow with PKCE (S256), ``state`` and ``nonce``. Authlib validates the ID token: its
signature against the provider's JWKS (fetched again when a token names a key it does not know, so key
rotation needs nothing), ``iss``, ``aud``, ``exp`` and ``nonce``. The portal then checks what Authlib
does not: the assurance level (``acr``, never assumed: judged against ``OIDC_ACR_LEVELS``) and, for a
step-up, that the authentication is new (``auth_time`` after the request and within ``max_age``).

What a flow is for (sign-in, accepting an invitation, step-up before signing) travels with Authlib's own
state data in the session, so a forged or replayed callback finds nothing to complete.
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

import requests
from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from flask import current_app, request, session

from .identity import Authentication, identity_hmac

_CACHE = "politirad_oidc_client"
NAME = "provider"
SETTINGS = ("OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "OIDC_CLIENT_AUTH_METHOD", "OIDC_PRIVATE_KEY_FILE",
            "OIDC_PRIVATE_KEY_ID", "OIDC_SCOPES", "OIDC_TIMEOUT")
#: Clock difference tolerated between the provider and the portal, in seconds.
LEEWAY = 60


class ProviderUnavailable(Exception):
    """The provider could not be reached or answered with something other than OpenID Connect."""


class SignInRefused(Exception):
    """The answer from the provider is not accepted. ``reason``: state, denied, token, level, stale, identity."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ProvenIdentity:
    """What a validated ID token says: the person (as its keyed hash only), how, and the provider session."""

    identity_hmac: str
    authentication: Authentication
    issuer: str
    sid: str | None
    id_token: str


def configured() -> bool:
    return bool(current_app.config.get("OIDC_ISSUER") and current_app.config.get("OIDC_CLIENT_ID"))


def issuer_origin() -> str | None:
    """``scheme://host[:port]`` of the configured provider, for the Content-Security-Policy."""
    issuer = str(current_app.config.get("OIDC_ISSUER") or "")
    return "/".join(issuer.split("/", 3)[:3]) if issuer else None


def provider_name() -> str:
    return str(current_app.config.get("OIDC_PROVIDER_NAME") or "ID-porten")


def _client():  # type: ignore[no-untyped-def]
    """Authlib's client for the configured provider; built again when the settings change."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    fingerprint = tuple(app.config.get(name) for name in SETTINGS)
    cached = app.extensions.get(_CACHE)
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    config = app.config
    client_kwargs: dict[str, object] = {
        "scope": config["OIDC_SCOPES"],
        "code_challenge_method": "S256",
        "token_endpoint_auth_method": config["OIDC_CLIENT_AUTH_METHOD"],
        "default_timeout": config["OIDC_TIMEOUT"],
    }
    secret, auth_methods = config["OIDC_CLIENT_SECRET"], None
    if config["OIDC_CLIENT_AUTH_METHOD"] == "private_key_jwt":
        secret = Path(config["OIDC_PRIVATE_KEY_FILE"]).read_text()
        headers = {"kid": config["OIDC_PRIVATE_KEY_ID"]} if config["OIDC_PRIVATE_KEY_ID"] else None
        auth_methods = [PrivateKeyJWT(headers=headers, alg="RS256")]
    oauth = OAuth()
    oauth.app = app  # one registry per settings, not app.extensions' shared one
    client = oauth.register(
        NAME,
        client_id=config["OIDC_CLIENT_ID"],
        client_secret=secret,
        server_metadata_url=config["OIDC_ISSUER"].rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs=client_kwargs,
        client_auth_methods=auth_methods,
    )
    app.extensions[_CACHE] = (fingerprint, client)
    return client


def _metadata() -> dict:
    try:
        return _client().load_server_metadata()
    except (requests.RequestException, ValueError) as error:
        current_app.logger.warning("The OpenID provider %s cannot be reached: %s", current_app.config["OIDC_ISSUER"], type(error).__name__)
        raise ProviderUnavailable(type(error).__name__) from error


def redirect_uri() -> str:
    return current_app.config["PUBLIC_BASE_URL"] + "/sign-in/provider/callback"


def authorization_url(purpose: str, *, acr: str, language: str, fresh: bool = False, **data: object) -> str:
    """Where to send the person's browser: the provider's authorization endpoint, with state, nonce and
    PKCE kept in the session, ``data`` (the purpose's own) with them. ``fresh`` asks for a new
    authentication (``prompt=login`` and ``max_age``), as signing needs."""
    _metadata()
    client = _client()
    params: dict[str, object] = {"nonce": secrets.token_urlsafe(24), "ui_locales": language}
    if acr:
        params["acr_values"] = acr
    if fresh:
        params["prompt"] = "login"
        params["max_age"] = current_app.config["OIDC_STEP_UP_MAX_AGE"]
    try:
        rv = client.create_authorization_url(redirect_uri(), **params)
    except requests.RequestException as error:
        raise ProviderUnavailable(type(error).__name__) from error
    client.save_authorize_data(redirect_uri=redirect_uri(), purpose=purpose, requested_at=int(time.time()),
                               acr=acr, fresh=fresh, **rv, **data)
    return rv["url"]


def pending_flow() -> dict | None:
    """The state data of the flow this callback claims to complete (None for an unknown ``state``)."""
    state = request.args.get("state", "")
    return _client().framework.get_state_data(session, state) if state else None


def complete(flow: dict) -> ProvenIdentity:
    """Exchange the code (with the PKCE verifier), validate the ID token, and return who was proven how.

    Raises :class:`SignInRefused` or :class:`ProviderUnavailable`; nothing about the person is logged."""
    client = _client()
    issuer = current_app.config["OIDC_ISSUER"]
    returned_issuer = request.args.get("iss")
    if returned_issuer is not None and returned_issuer != _metadata().get("issuer", issuer):
        raise SignInRefused("token")  # RFC 9207: the answer comes from another provider
    try:
        token = client.authorize_access_token(leeway=LEEWAY)
    except MismatchingStateError as error:
        raise SignInRefused("state") from error
    except OAuthError as error:
        current_app.logger.warning("The OpenID provider refused the sign-in: %s", error.error)
        raise SignInRefused("denied" if error.error in ("access_denied", "login_required") else "token") from error
    except requests.RequestException as error:
        current_app.logger.warning("The OpenID provider cannot be reached: %s", type(error).__name__)
        raise ProviderUnavailable(type(error).__name__) from error
    except Exception as error:  # the ID token failed validation (signature, iss, aud, exp, nonce …)
        current_app.logger.warning("An ID token was refused: %s", type(error).__name__)
        raise SignInRefused("token") from error
    claims = token.get("userinfo")
    if not claims:
        raise SignInRefused("token")
    identity = claims.get(current_app.config["OIDC_IDENTITY_CLAIM"])
    if not identity:
        raise SignInRefused("identity")
    auth_time = claims.get("auth_time")
    amr = claims.get("amr") or []
    authentication = Authentication(
        acr=claims.get("acr"), amr=[amr] if isinstance(amr, str) else [str(method) for method in amr],
        at=datetime.fromtimestamp(int(auth_time), timezone.utc) if auth_time else None,
    )
    proven = ProvenIdentity(identity_hmac(str(identity)), authentication, claims.get("iss", issuer), claims.get("sid"), token["id_token"])
    _check_level(proven.authentication, flow)
    return proven


def acr_at_least(acr: str | None, wanted: str) -> bool:
    """``acr`` is ``wanted`` or above it in ``OIDC_ACR_LEVELS``; with no level wanted, anything is."""
    if not wanted:
        return True
    levels = current_app.config["OIDC_ACR_LEVELS"].split()
    if acr not in levels or wanted not in levels:
        return acr == wanted
    return levels.index(acr) >= levels.index(wanted)


def _check_level(authentication: Authentication, flow: dict) -> None:
    if not acr_at_least(authentication.acr, str(flow.get("acr") or "")):
        raise SignInRefused("level")
    if flow.get("fresh"):
        if authentication.at is None or authentication.at.timestamp() < int(flow["requested_at"]) - LEEWAY:
            raise SignInRefused("stale")


def recent_enough_for_signing(acr: str | None, authenticated_at: datetime | None, now: datetime | None = None) -> bool:
    """An authentication at the signing level no older than ``OIDC_STEP_UP_MAX_AGE`` seconds."""
    if authenticated_at is None or not acr_at_least(acr, current_app.config["OIDC_SIGNING_ACR"]):
        return False
    if authenticated_at.tzinfo is None:  # SQLite gives naive datetimes back
        authenticated_at = authenticated_at.replace(tzinfo=timezone.utc)
    age = ((now or datetime.now(timezone.utc)) - authenticated_at).total_seconds()
    return age <= current_app.config["OIDC_STEP_UP_MAX_AGE"]


def logout_url(id_token: str | None, after: str, language: str) -> str | None:
    """RP-initiated logout at the provider's ``end_session_endpoint``, or None when it has none."""
    try:
        endpoint = _metadata().get("end_session_endpoint")
    except ProviderUnavailable:
        return None
    if not endpoint:
        return None
    params = {"post_logout_redirect_uri": after, "client_id": current_app.config["OIDC_CLIENT_ID"], "ui_locales": language}
    if id_token:
        params["id_token_hint"] = id_token
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(params)}"


def passwords_allowed(role_is_signatory: bool | None = None) -> bool:
    """``PASSWORD_SIGN_IN``: on (the default), off, or off for signatories; off only once a provider is configured."""
    setting = str(current_app.config.get("PASSWORD_SIGN_IN", "on")).strip().lower()
    if setting == "on" or not configured():
        return True
    if setting == "off-for-signatories":
        return role_is_signatory is not True
    return False
