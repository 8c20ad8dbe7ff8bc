"""A real OpenID provider for the tests: ``tests/oidc/provider.mjs`` (npm's oidc-provider, set up like
ID-porten) run by Node on a loopback port, and a stand-in for the person's browser at its login page.

The portal's side of a flow goes through Flask's test client; the provider's side through ``requests``,
so every redirect, form and token between them is real.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests
from joserfc.jwk import RSAKey

from portal import PROJECT_ROOT

from ..conftest import free_port  # tests/conftest.py imports this module at its end, after defining it

SCRIPT = Path(__file__).with_name("provider.mjs")
CLIENT_ID = "politiradsportalen"
CLIENT_SECRET = "test-client-secret-for-the-loopback-provider"
JWT_CLIENT_ID = "politiradsportalen-jwt"
#: The portal as an OAuth2 client of a remote signing service (client credentials), and the service itself
#: (which introspects the tokens it is shown).
CSC_CLIENT_ID, CSC_CLIENT_SECRET = "politiradsportalen-csc", "test-secret-of-the-portal-at-the-signing-service"
CSC_SERVICE_ID, CSC_SERVICE_SECRET = "signing-service", "test-secret-of-the-signing-service"
PORTAL = "https://portal.test"
#: Synthetic national identity numbers (never real people's); the tests check that they appear nowhere.
MAYOR_PID = "26910298730"
CHIEF_PID = "15823799123"
OTHER_PID = "03047612345"


@dataclass
class LoopbackProvider:
    """One oidc-provider process; ``restart(new_keys=True)`` rotates its signing key on the same issuer."""

    portal_base: str
    tmp: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    jwt_key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "portal-client-key"}))

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def private_key_file(self) -> Path:
        path = self.tmp / "client-key.pem"
        if not path.exists():
            path.write_bytes(self.jwt_key.as_pem(private=True))
        return path

    def _settings(self) -> dict:
        common = {
            "redirect_uris": [f"{self.portal_base}/sign-in/provider/callback"],
            "post_logout_redirect_uris": [f"{self.portal_base}/sign-in"],
            "frontchannel_logout_uri": f"{self.portal_base}/logout/frontchannel",
        }
        return {
            "port": self.port,
            "clients": [
                {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "token_endpoint_auth_method": "client_secret_basic", **common},
                {"client_id": JWT_CLIENT_ID, "token_endpoint_auth_method": "private_key_jwt",
                 "jwks": {"keys": [self.jwt_key.as_dict(private=False)]}, **common},
                {"client_id": CSC_CLIENT_ID, "client_secret": CSC_CLIENT_SECRET, "token_endpoint_auth_method": "client_secret_post",
                 "grant_types": ["client_credentials"], "response_types": [], "redirect_uris": []},
                {"client_id": CSC_SERVICE_ID, "client_secret": CSC_SERVICE_SECRET, "token_endpoint_auth_method": "client_secret_basic",
                 "grant_types": [], "response_types": [], "redirect_uris": []},
            ],
        }

    def start(self) -> None:
        node = shutil.which("node")
        if node is None:
            pytest.fail("The sign-in tests need Node.js (`apt-get install nodejs npm`, then `npm ci`).", pytrace=False)
        env = {**os.environ, "PROVIDER_SETTINGS": json.dumps(self._settings())}
        self.process = subprocess.Popen([node, str(SCRIPT)], cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        ready = threading.Event()
        output: list[str] = []

        def read() -> None:
            assert self.process is not None and self.process.stdout is not None
            for line in self.process.stdout:
                output.append(line)
                if line.startswith("listening "):
                    ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(60):
            self.stop()
            pytest.fail("The OpenID provider did not start:\n" + "".join(output), pytrace=False)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self.process = None

    def restart(self) -> None:
        """Start again on the same port: new signing keys, every provider session forgotten."""
        self.stop()
        for _ in range(50):  # the port is free again once the old process has gone
            try:
                self.start()
                return
            except pytest.fail.Exception:
                time.sleep(0.2)
        raise AssertionError("the provider did not start again")

    def spoil_next_id_token(self, mode: str) -> None:
        """``nonce``, ``foreign-key`` or ``expired``: the provider's next ID token is wrong in that one way."""
        response = requests.post(f"{self.issuer}/__test__/spoil", data={"mode": mode}, timeout=10)
        assert response.json() == {"spoil": mode}

    def settings(self, *, private_key_jwt: bool = False) -> dict[str, object]:
        """The portal's settings for this provider, as a municipality would enter them."""
        settings: dict[str, object] = {"OIDC_ISSUER": self.issuer, "OIDC_PROVIDER_NAME": "ID-porten"}
        if private_key_jwt:
            settings.update(OIDC_CLIENT_ID=JWT_CLIENT_ID, OIDC_CLIENT_SECRET="", OIDC_CLIENT_AUTH_METHOD="private_key_jwt",
                            OIDC_PRIVATE_KEY_FILE=str(self.private_key_file), OIDC_PRIVATE_KEY_ID="portal-client-key")
        else:
            settings.update(OIDC_CLIENT_ID=CLIENT_ID, OIDC_CLIENT_SECRET=CLIENT_SECRET, OIDC_CLIENT_AUTH_METHOD="client_secret_basic",
                            OIDC_PRIVATE_KEY_FILE="", OIDC_PRIVATE_KEY_ID="")
        return settings


class PersonAtProvider:
    """The person's browser at the provider: follows its redirects, fills in its login page, and hands
    back the portal URL the provider finally sends the browser to (a path, for the test client)."""

    def __init__(self, provider: LoopbackProvider, portal_base: str = PORTAL) -> None:
        self.provider = provider
        self.portal_base = portal_base
        self.http = requests.Session()
        self.login_pages = 0

    def log_in(self, authorize_url: str, pid: str, eid: str = "bankid") -> str:
        assert authorize_url.startswith(self.provider.issuer), authorize_url
        url, method, data = authorize_url, "GET", None
        for _ in range(12):
            response = self.http.request(method, url, data=data, allow_redirects=False, timeout=10)
            method, data = "GET", None
            if response.status_code in (302, 303):
                url = urljoin(url, response.headers["location"])
                if url.startswith(self.portal_base):
                    return url[len(self.portal_base):]
                continue
            form = re.search(r'<form method="post" action="([^"]+)"', response.text)
            if response.status_code == 200 and form and 'name="pid"' in response.text:
                self.login_pages += 1
                url, method, data = urljoin(url, form.group(1)), "POST", {"pid": pid, "eid": eid}
                continue
            raise AssertionError(f"unexpected answer from the provider ({response.status_code}): {response.text[:800]}")
        raise AssertionError("the provider never sent the browser back to the portal")


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):  # type: ignore[no-untyped-def]
    provider = LoopbackProvider(PORTAL, tmp_path_factory.mktemp("oidc"))
    provider.start()
    yield provider
    provider.stop()


@pytest.fixture
def oidc(app, oidc_provider):  # type: ignore[no-untyped-def]
    """The portal configured for the loopback provider for the length of one test."""
    settings = oidc_provider.settings()
    saved = {name: app.config[name] for name in {*settings, "PASSWORD_SIGN_IN"}}
    app.config.update(settings)
    yield oidc_provider
    app.config.update(saved)
