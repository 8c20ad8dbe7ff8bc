"""The demo PKI's revocation services answered in-process, for pyHanko's validation.

The portal validates its own documents (at signing, closing and on ``/verify``) while handling a request;
calling its own ``/pki`` over HTTP would make a single-worker server wait on itself. These fetchers give
pyHanko what the HTTP services give, without the round trip: :class:`DemoOcspFetcher` sends a real
RFC 6960 request (built and checked by pyhanko-certvalidator, nonce included) to
:meth:`~.pki.DemoPki.ocsp_response`, and :class:`DemoCrlFetcher` hands out :meth:`~.pki.DemoPki.crl`.
Certificates of other CAs get nothing (a fetch error: under soft-fail that is «no information»).
"""
from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable

from asn1crypto import cms, crl, ocsp, x509
from pyhanko_certvalidator.authority import Authority
from pyhanko_certvalidator.errors import CRLFetchError, OCSPFetchError, OCSPValidationError
from pyhanko_certvalidator.fetchers.api import CertificateFetcher, CRLFetcher, FetcherBackend, Fetchers, OCSPFetcher
from pyhanko_certvalidator.fetchers.common_utils import format_ocsp_request, process_ocsp_response_data
from pyhanko_certvalidator.util import issuer_serial

from .pki import DemoPki, to_asn1

__all__ = ["DemoFetcherBackend"]


class DemoOcspFetcher(OCSPFetcher):
    def __init__(self, pki: DemoPki) -> None:
        self._pki = pki
        self._issuer = to_asn1(pki.issuing_certificate)
        self._fetched: dict[tuple[str, bytes], ocsp.OCSPResponse] = {}

    async def fetch(self, cert: x509.Certificate | cms.AttributeCertificateV2, authority: Authority) -> ocsp.OCSPResponse:
        if not isinstance(cert, x509.Certificate) or cert.issuer != self._issuer.subject:
            raise OCSPFetchError("Not a certificate of the portal's issuing CA.")
        key = (issuer_serial(cert), authority.hashable)
        if key not in self._fetched:
            request = format_ocsp_request(cert, authority, certid_hash_algo="sha256", request_nonces=True)
            try:
                self._fetched[key] = process_ocsp_response_data(
                    self._pki.ocsp_response(request.dump()), ocsp_request=request, ocsp_url=self._pki.ocsp_url)
            except OCSPValidationError as error:
                raise OCSPFetchError(str(error)) from error
        return self._fetched[key]

    def fetched_responses(self) -> Iterable[ocsp.OCSPResponse]:
        return list(self._fetched.values())

    def fetched_responses_for_cert(self, cert: x509.Certificate) -> Iterable[ocsp.OCSPResponse]:
        target = issuer_serial(cert)
        return [response for (subject, _authority), response in self._fetched.items() if subject == target]


class DemoCrlFetcher(CRLFetcher):
    def __init__(self, pki: DemoPki) -> None:
        self._pki = pki
        self._names = {to_asn1(pki.root_certificate).subject.hashable: "root-ca",
                       to_asn1(pki.issuing_certificate).subject.hashable: "issuing-ca"}
        self._fetched: dict[str, list[crl.CertificateList]] = {}

    async def fetch(self, cert: x509.Certificate | cms.AttributeCertificateV2, *, use_deltas: bool | None = None) -> Iterable[crl.CertificateList]:
        name = self._names.get(cert.issuer.hashable) if isinstance(cert, x509.Certificate) else None
        if name is None:
            raise CRLFetchError("Not a certificate of the portal's CAs.")
        if name not in self._fetched:
            self._fetched[name] = [crl.CertificateList.load(self._pki.crl(name))]
        return self._fetched[name]

    def fetched_crls(self) -> Iterable[crl.CertificateList]:
        return [found for crls in self._fetched.values() for found in crls]

    def fetched_crls_for_cert(self, cert: x509.Certificate) -> Iterable[crl.CertificateList]:
        name = self._names.get(cert.issuer.hashable)
        if name is None or name not in self._fetched:
            raise KeyError(cert.issuer.human_friendly)
        return self._fetched[name]


class _NoCertificates(CertificateFetcher):
    """The chain is given (``other_certs``): nothing to fetch."""

    async def fetch_cert_issuers(self, cert: x509.Certificate | cms.AttributeCertificateV2) -> AsyncGenerator[x509.Certificate, None]:
        return
        yield  # an async generator that yields nothing

    async def fetch_crl_issuers(self, certificate_list: crl.CertificateList) -> AsyncGenerator[x509.Certificate, None]:
        return
        yield

    def fetched_certs(self) -> Iterable[x509.Certificate]:
        return []


class DemoFetcherBackend(FetcherBackend):
    """Fresh in-process fetchers (one set per validation context) for ``pki``'s OCSP responder and CRLs."""

    def __init__(self, pki: DemoPki) -> None:
        self._pki = pki

    def get_fetchers(self) -> Fetchers:
        return Fetchers(ocsp_fetcher=DemoOcspFetcher(self._pki), crl_fetcher=DemoCrlFetcher(self._pki), cert_fetcher=_NoCertificates())
