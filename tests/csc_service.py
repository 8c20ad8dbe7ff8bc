"""A real CSC API server on loopback for the tests: ``certomancer-csc-dummy`` (pyHanko's author's test server,
built on Certomancer), in a thread of its own with its own event loop.

Its credentials are certified under the demo PKI's own CA names and keys (Certomancer is handed the demo
root and issuing CA key files), so their signatures chain to the portal's trust root. The dummy checks
neither PINs nor the age of the Signature Activation Data (its README says so); :class:`CheckingCsc` adds
both to its app, as a real service does: a wrong PIN and an expired SAD are answered with HTTP 400.
The dummy knows no OAuth2 either; started with ``introspection`` (an RFC 7662 endpoint and the service's
client credentials there) every request must carry a bearer token the authorisation server says is active.
"""
from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from aiohttp import ClientSession, encode_basic_auth, web
from certomancer.registry import CertomancerConfig
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from csc_dummy.csc_dummy_server import CSCWithCertomancer, DummyServiceParams

from portal.signing.pki import DemoPki

ARCH = "portal"
PIN = "4711"


class CheckingCsc(CSCWithCertomancer):
    """The dummy, plus a PIN check at ``credentials/authorize`` and a lifetime for the SAD it hands out."""

    def __init__(self, config: CertomancerConfig, pin: str, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(config, **kwargs)
        self.pin = pin
        self.sad_lifetime = 300.0
        self.issued: dict[str, float] = {}
        self.authorisations: list[dict] = []
        self.introspection: tuple[str, str, str] | None = None
        self.token_clients: list[str | None] = []  # per request: the OAuth2 client its token was issued to

    @web.middleware
    async def require_token(self, request: web.Request, handler):  # type: ignore[no-untyped-def]
        """RFC 6750 § 2.1 bearer tokens, checked at the authorisation server (RFC 7662 introspection)."""
        if self.introspection is None:
            return await handler(request)
        url, service_id, service_secret = self.introspection
        header = request.headers.get("Authorization", "")
        client_id = None
        if header.startswith("Bearer "):
            async with ClientSession() as session:
                async with session.post(url, data={"token": header[len("Bearer "):]},
                                        headers={"Authorization": encode_basic_auth(service_id, service_secret)}) as response:
                    answer = await response.json()
            client_id = answer.get("client_id") if answer.get("active") else None
        self.token_clients.append(client_id)
        if client_id is None:
            return web.json_response({"error": "invalid_token"}, status=401,
                                     headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return await handler(request)

    async def credentials_authorize(self, request: web.Request):  # type: ignore[no-untyped-def]
        params = await request.json()
        self.authorisations.append(params)
        if params.get("PIN") != self.pin:
            return web.json_response({"error": "invalid_request", "error_description": "The PIN is invalid"}, status=400)
        response = await super().credentials_authorize(request)
        self.issued[json.loads(response.body)["SAD"]] = time.monotonic()
        return response

    async def signatures_sign_hash(self, request: web.Request):  # type: ignore[no-untyped-def]
        params = await request.json()
        issued = self.issued.get(params.get("SAD", ""))
        if issued is None or time.monotonic() - issued > self.sad_lifetime:
            return web.json_response({"error": "invalid_request", "error_description": "SAD expired"}, status=400)
        return await super().signatures_sign_hash(request)


def certomancer_config(pki: DemoPki, folder: Path, signatories: dict[str, tuple[str, str]]) -> CertomancerConfig:
    """Certomancer's configuration: the demo PKI's root and issuing CA (same names, same keys) and a
    signing credential per ``label: (name, e-mail)``, each with a fresh ECDSA P-256 key."""
    folder.mkdir(parents=True, exist_ok=True)
    keys = {}
    for label, name in (("root", "root-ca"), ("interm", "issuing-ca")):  # Certomancer reads keys under its folder only
        copy = folder / f"{label}.key.pem"
        copy.write_bytes((pki.folder / f"{name}.key.pem").read_bytes())
        copy.chmod(0o600)
        keys[label] = {"path": str(copy)}
    for label in signatories:
        key = ec.generate_private_key(ec.SECP256R1())
        path = folder / f"{label}.key.pem"
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        keys[label] = {"path": str(path)}
    now = datetime.now(timezone.utc)
    validity = {"valid-from": (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S+0000"),
                "valid-to": (now + timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%S+0000")}

    def ca(issuer: str) -> dict:
        return {"issuer": issuer, "validity": validity, "extensions": [
            {"id": "basic_constraints", "critical": True, "value": {"ca": True}},
            {"id": "key_usage", "critical": True, "smart-value": {"schema": "key-usage", "params": ["digital_signature", "key_cert_sign", "crl_sign"]}},
        ]}

    certs = {"root": ca("root"), "interm": ca("root")}
    entities = {
        "root": {"common-name": pki.root_certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value},
        "interm": {"common-name": pki.issuing_certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value},
    }
    for label, (name, email) in signatories.items():
        entities[label] = {"common-name": name, "organization-name": "Voss herad", "email-address": email}
        certs[label] = {"issuer": "interm", "validity": validity, "extensions": [
            {"id": "key_usage", "critical": True, "smart-value": {"schema": "key-usage", "params": ["digital_signature", "non_repudiation"]}},
        ]}
    config = {
        "keysets": {ARCH: {"keys": keys}},
        "pki-architectures": {ARCH: {
            "keyset": ARCH,
            "entity-defaults": {"country-name": "NO", "organization-name": pki.organisation},
            "entities": entities,
            "certs": certs,
        }},
    }
    return CertomancerConfig(config, key_search_dir=str(folder))


@dataclass
class LoopbackCsc:
    """The CSC server on 127.0.0.1; ``url`` is what ``CSC_URL`` is set to."""

    app: CheckingCsc
    url: str
    _loop: asyncio.AbstractEventLoop
    _runner: web.AppRunner
    _thread: threading.Thread

    @classmethod
    def start(cls, config: CertomancerConfig, pin: str = PIN, scal2: bool = True,
              introspection: tuple[str, str, str] | None = None) -> LoopbackCsc:
        service = CheckingCsc(config, pin, service_params=DummyServiceParams(hash_pinning_required=scal2))
        service.register_routes()
        if introspection is not None:
            service.introspection = introspection
            service.app.middlewares.append(service.require_token)
        loop = asyncio.new_event_loop()
        runner = web.AppRunner(service.app)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        port = runner.addresses[0][1]
        thread = threading.Thread(target=loop.run_forever, name="csc-dummy", daemon=True)
        thread.start()
        return cls(service, f"http://127.0.0.1:{port}", loop, runner, thread)

    def stop(self) -> None:
        if self._loop.is_closed():
            return
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
