"""An RFC 3161 time-stamp client over HTTP(S) for pyHanko (RFC 3161 § 3.4, the HTTP transport).

pyHanko's own ``HTTPTimeStamper`` opens an aiohttp session for every request, which builds a fresh TLS
context (loading the system CA bundle) each time: about 60 ms per signature. This client sends the
single POST with the standard library, reusing one TLS context per process.
"""
from __future__ import annotations

import asyncio
import base64
import functools
import ssl
import urllib.error
import urllib.request

from asn1crypto import tsp
from pyhanko.sign.timestamps import TimeStamper, TimestampRequestError

__all__ = ["UrlTimeStamper"]


@functools.cache
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


class UrlTimeStamper(TimeStamper):
    """Ask the time-stamping authority at ``url`` for a token.

    :param url: the TSA's URL (``http://`` is fine for a TSA: the token is signed).
    :param timeout: seconds to wait for the answer.
    :param username, password: HTTP basic authentication, when the TSA wants it.
    """

    def __init__(self, url: str, timeout: float = 10, username: str | None = None, password: str | None = None) -> None:
        super().__init__()
        self.url = url
        self.timeout = timeout
        self._authorization = (
            "Basic " + base64.b64encode(f"{username}:{password or ''}".encode()).decode() if username else None
        )

    def _post(self, query: bytes) -> bytes:
        headers = {"Content-Type": "application/timestamp-query", "Accept": "application/timestamp-reply"}
        if self._authorization:
            headers["Authorization"] = self._authorization
        request = urllib.request.Request(self.url, data=query, headers=headers, method="POST")
        context = _tls_context() if self.url.startswith("https:") else None
        try:
            with urllib.request.urlopen(request, timeout=self.timeout, context=context) as response:
                content_type = response.headers.get("Content-Type", "")
                body = response.read()
        except (urllib.error.URLError, OSError) as error:
            raise TimestampRequestError(f"Error while contacting the timestamp service at {self.url}") from error
        if content_type.split(";")[0].strip() != "application/timestamp-reply":
            raise TimestampRequestError(f"The timestamp service answered with {content_type!r}")
        return body

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        body = await asyncio.to_thread(self._post, req.dump())
        try:
            response = tsp.TimeStampResp.load(body)
            response["status"]["status"].native  # noqa: B018  (parse now: a rejection has no token)
        except ValueError:
            from .services import TimeStampRejection

            status = TimeStampRejection.load(body)["status"]
            raise TimestampRequestError(f"The timestamp service refused: {status['fail_info'].native}") from None
        return response
