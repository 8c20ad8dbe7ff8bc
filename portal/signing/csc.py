"""A remote signing service as a key source: the Cloud Signature Consortium API v1.0.4 (2019), through
pyHanko's :class:`~pyhanko.sign.signers.csc_signer.CSCSigner`.

The signatory's key stays with the (qualified) trust service provider. The portal lists the signatory's
credentials (``credentials/list``, ``credentials/info``), and for each signature asks the provider for
Signature Activation Data with the PIN the signatory typed on the signing page (``credentials/authorize``;
bound to the hash to sign when the credential demands it, SCAL 2), then for the signature over that hash
(``signatures/signHash``). What is signed is the DER of the CMS signed attributes of a prepared signature
(:mod:`.interrupted`), exactly as a browser key signs them. The PIN is used for that request only.

Settings: ``CSC_URL`` (the service's base URL, before ``/csc/v1/``), ``CSC_CLIENT_DATA`` (vendor data
sent as ``clientData``), and for services behind OAuth2 ``CSC_TOKEN_URL``, ``CSC_CLIENT_ID`` and
``CSC_CLIENT_SECRET`` (client-credentials grant, RFC 6749 § 4.4, the credentials in the form body as
``client_secret_post``; the token goes in every request as a bearer token, RFC 6750).
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
from asn1crypto import x509 as asn1_x509
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers.csc_signer import (
    CSCAuthorizationInfo, CSCAuthorizationManager, CSCCredentialInfo, CSCServiceSessionInfo, CSCSigner,
    fetch_certs_in_csc_credential,
)

from .setup import SigningSetup

__all__ = ["AuthorisationRefused", "Credential", "CscError", "ServiceUnavailable", "WrongPin", "credential", "credentials_of", "sign_hash"]

_TIMEOUT = aiohttp.ClientTimeout(total=30)
T = TypeVar("T")


class CscError(Exception):
    """The remote signing service did not sign; ``code`` names why for the page."""

    code = "csc_unavailable"


class ServiceUnavailable(CscError):
    code = "csc_unavailable"


class WrongPin(CscError):
    """``credentials/authorize`` refused the PIN."""

    code = "csc_pin"


class AuthorisationRefused(CscError):
    """``signatures/signHash`` refused the Signature Activation Data (expired, or bound to another hash)."""

    code = "csc_authorisation"


@dataclass(frozen=True)
class Credential:
    """A signing credential at the service: its certificate, chain, and whether SAD is bound to hashes."""

    credential_id: str
    certificate: asn1_x509.Certificate
    chain: list[asn1_x509.Certificate]
    hash_pinning: bool

    @property
    def label(self) -> str:
        subject, issuer = self.certificate.subject.native, self.certificate.issuer.native
        return f"{subject.get('common_name', self.credential_id)} ({issuer.get('common_name', '')})"

    @property
    def for_signatures(self) -> bool:
        """An end-entity certificate with the non-repudiation key usage (not a CA's or a TSA's)."""
        usage = self.certificate.key_usage_value
        return not self.certificate.ca and usage is not None and "non_repudiation" in usage.native


def _run(setup: SigningSetup, work: Callable[[aiohttp.ClientSession, str | None], Awaitable[T]]) -> T:
    """Run ``work`` in a fresh HTTP session (and OAuth2 token, when configured); network failures and
    unexpected answers become :class:`ServiceUnavailable`."""

    async def main() -> T:
        async with aiohttp.ClientSession(timeout=_TIMEOUT) as session:
            return await work(session, await _token(setup, session))

    try:
        return asyncio.run(main())
    except CscError:
        raise
    except (aiohttp.ClientError, asyncio.TimeoutError, SigningError, KeyError, ValueError, TypeError) as error:
        raise ServiceUnavailable(f"{type(error).__name__}: {error}") from error


async def _token(setup: SigningSetup, session: aiohttp.ClientSession) -> str | None:
    config = setup._config
    if not config.get("CSC_TOKEN_URL"):
        return None
    async with session.post(str(config["CSC_TOKEN_URL"]), raise_for_status=True, data={
        "grant_type": "client_credentials", "client_id": str(config.get("CSC_CLIENT_ID", "")),
        "client_secret": str(config.get("CSC_CLIENT_SECRET", "")),
    }) as response:
        return str((await response.json())["access_token"])


def _session_info(setup: SigningSetup, credential_id: str, token: str | None) -> CSCServiceSessionInfo:
    return CSCServiceSessionInfo(setup.csc_url.rstrip("/"), credential_id, oauth_token=token)


def _client_data(setup: SigningSetup) -> dict[str, Any]:
    data = setup._config.get("CSC_CLIENT_DATA")
    return {"clientData": str(data)} if data else {}


async def _credential(session: aiohttp.ClientSession, info: CSCServiceSessionInfo) -> tuple[Credential, CSCCredentialInfo]:
    details = await fetch_certs_in_csc_credential(session, info)
    return Credential(info.credential_id, details.signing_cert, list(details.chain), details.hash_pinning_required), details


def credentials_of(setup: SigningSetup, user_id: str) -> list[Credential]:
    """The signing credentials the service holds for ``user_id`` (the signatory's e-mail address)."""

    async def work(session: aiohttp.ClientSession, token: str | None) -> list[Credential]:
        listing = _session_info(setup, "", token)
        async with session.post(listing.endpoint_url("credentials/list"), headers=listing.auth_headers, raise_for_status=True,
                                json={"userID": user_id, **_client_data(setup)}) as response:
            ids = [str(i) for i in (await response.json())["credentialIDs"]]
        found = [(await _credential(session, _session_info(setup, i, token)))[0] for i in ids]
        return [c for c in found if c.for_signatures]

    return _run(setup, work)


def credential(setup: SigningSetup, credential_id: str) -> Credential:
    """One credential's certificate and chain (``credentials/info``)."""

    async def work(session: aiohttp.ClientSession, token: str | None) -> Credential:
        return (await _credential(session, _session_info(setup, credential_id, token)))[0]

    return _run(setup, work)


class _PinAuthorisation(CSCAuthorizationManager):
    """``credentials/authorize`` with the PIN from the signing page, bound to the hashes when SCAL 2."""

    def __init__(self, session: aiohttp.ClientSession, info: CSCServiceSessionInfo, details: CSCCredentialInfo,
                 pin: str, client_data: dict[str, Any]) -> None:
        super().__init__(info, details)
        self._session, self._pin, self._client_data = session, pin, client_data

    async def authorize_signature(self, hash_b64s: list[str]) -> CSCAuthorizationInfo:
        request = self.format_csc_auth_request(
            pin=self._pin, hash_b64s=hash_b64s if self.credential_info.hash_pinning_required else None,
            num_signatures=len(hash_b64s), client_data=self._client_data.get("clientData"),
        )
        async with self._session.post(self.csc_session_info.endpoint_url("credentials/authorize"),
                                      headers=self.auth_headers, json=request) as response:
            if response.status in (400, 401, 403):
                raise WrongPin(f"credentials/authorize answered {response.status}")
            response.raise_for_status()
            return self.parse_csc_auth_response(await response.json())


def sign_hash(setup: SigningSetup, credential_id: str, pin: str, to_be_signed: bytes) -> bytes:
    """The service's signature (DER for ECDSA) over SHA-256 of ``to_be_signed``, authorised with ``pin``.

    Raises :class:`WrongPin`, :class:`AuthorisationRefused` or :class:`ServiceUnavailable`."""

    async def work(session: aiohttp.ClientSession, token: str | None) -> bytes:
        info = _session_info(setup, credential_id, token)
        details = (await _credential(session, info))[1]
        signer = CSCSigner(session, _PinAuthorisation(session, info, details, pin, _client_data(setup)),
                           client_data=_client_data(setup).get("clientData"))
        try:
            return await signer.async_sign_raw(to_be_signed, "sha256")
        except SigningError as error:  # signHash refused: the authorisation was not (or no longer) good
            if isinstance(error.__cause__, WrongPin):
                raise error.__cause__ from None
            raise AuthorisationRefused(str(error)) from error

    return _run(setup, work)
