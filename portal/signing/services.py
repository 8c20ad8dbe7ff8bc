"""The trust services the portal publishes for its demo PKI, over plain HTTP.

* ``POST /pki/tsa``: an RFC 3161 time-stamp responder (``application/timestamp-query`` in,
  ``application/timestamp-reply`` out; RFC 3161 § 3.4, the HTTP transport).
* ``GET /pki/crl/<ca>.crl``: each CA's CRL, DER (RFC 5280 § 5; served as ``application/pkix-crl``,
  RFC 2585 § 4.2).
* ``GET /pki/ca/<ca>.crt``: each CA's certificate, DER (``application/pkix-cert``).
* ``POST /pki/ocsp`` and ``GET /pki/ocsp/<base64 request>``: the issuing CA's OCSP responder
  (RFC 6960, ``application/ocsp-request`` in, ``application/ocsp-response`` out; Appendix A).

:data:`bp` is registered in the app factory; :func:`create_service_app` builds a minimal app with only
these routes (for a loopback server in the tests). The PKI behind the routes is the
:class:`~portal.signing.pki.DemoPki` set with :func:`use_pki`, or one made from the configuration
(``PKI_FOLDER``, default ``<instance>/pki``; ``PKI_BASE_URL``, default ``PUBLIC_BASE_URL``).
"""
from __future__ import annotations

import base64
import binascii
import secrets
from datetime import datetime, timezone
from pathlib import Path

from asn1crypto import algos, cms, core, tsp, x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from flask import Blueprint, Flask, Response, abort, current_app, request
from pyhanko.sign import general
from pyhanko.sign.timestamps import TimeStamper
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from .pki import CA_NAMES, DemoPki, to_asn1, tsa_validity_setting

__all__ = ["TimeStampAuthority", "TimeStampRejection", "bp", "create_service_app", "current_pki", "use_pki"]

_EXTENSION_KEY = "portal.signing.pki"
_MAX_QUERY_BYTES = 16 * 1024

#: An OID under the "example" arc (ITU-T X.660, 2.999): the demo TSA's policy, not a real one.
DEMO_TSA_POLICY = "2.999.47.1"


class TimeStampAuthority(TimeStamper):
    """An RFC 3161 time-stamping unit that signs with an ECDSA or RSA key held in memory.

    Builds the ``TSTInfo`` (RFC 3161 § 2.4.2) and a CMS ``SignedData`` (RFC 5652) with the ESS
    signing-certificate-v2 attribute (RFC 5035) that RFC 3161 § 2.4.1 requires, and embeds the TSA's
    chain. The parts that never change (certificates, signer identifier, ESS attribute) are encoded
    once. Used behind :data:`bp`, and usable in-process as a pyHanko ``TimeStamper``.
    """

    def __init__(self, pki: DemoPki, policy: str = DEMO_TSA_POLICY) -> None:
        super().__init__()
        self._key = pki.tsa_private_key
        if not isinstance(self._key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):  # pragma: no cover
            raise TypeError(type(self._key).__name__)
        self._cert = to_asn1(pki.tsa_certificate)
        self._policy = policy
        self._tsa_name = x509.GeneralName(name="directory_name", value=self._cert.subject).dump()
        self._sid = cms.SignerIdentifier(
            {"issuer_and_serial_number": {"issuer": self._cert.issuer, "serial_number": self._cert.serial_number}}
        ).dump()
        self._ess_attribute = general.simple_cms_attribute(
            "signing_certificate_v2", general.as_signing_certificate_v2(self._cert)
        ).dump()
        self._certificates = cms.CertificateSet(
            [cms.CertificateChoices({"certificate": c}) for c in (self._cert, *pki.chain)]
        ).dump()

    def _signature_algorithm(self, md: str) -> algos.SignedDigestAlgorithm:
        name = f"{md}_ecdsa" if isinstance(self._key, ec.EllipticCurvePrivateKey) else "rsassa_pkcs1v15"
        return algos.SignedDigestAlgorithm({"algorithm": name})

    def _sign(self, data: bytes, md: str) -> bytes:
        hash_algorithm = get_pyca_cryptography_hash(md)
        if isinstance(self._key, ec.EllipticCurvePrivateKey):
            return self._key.sign(data, ec.ECDSA(hash_algorithm))
        return self._key.sign(data, padding.PKCS1v15(), hash_algorithm)

    def request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        imprint: tsp.MessageImprint = req["message_imprint"]
        md = imprint["hash_algorithm"]["algorithm"].native
        now = datetime.now(timezone.utc)
        info: dict[str, object] = {
            "version": "v1",
            "policy": req["req_policy"].native or self._policy,
            "message_imprint": imprint,
            "serial_number": secrets.randbits(127),
            "gen_time": now,
            "accuracy": {"seconds": 1},
            "tsa": x509.GeneralName.load(self._tsa_name),
        }
        if req["nonce"].native is not None:
            info["nonce"] = req["nonce"]
        tst_info = tsp.TSTInfo(info).dump()
        digest = hashes.Hash(get_pyca_cryptography_hash(md))
        digest.update(tst_info)
        signed_attrs = cms.CMSAttributes(
            [
                general.simple_cms_attribute("content_type", "tst_info"),
                general.simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(now)})),
                general.simple_cms_attribute("message_digest", digest.finalize()),
                cms.CMSAttribute.load(self._ess_attribute),
            ]
        )
        signer_info = cms.SignerInfo(
            {
                "version": "v1",
                "sid": cms.SignerIdentifier.load(self._sid),
                "digest_algorithm": {"algorithm": md},
                "signature_algorithm": self._signature_algorithm(md),
                "signed_attrs": signed_attrs,
                "signature": self._sign(signed_attrs.dump(), md),
            }
        )
        content: dict[str, object] = {
            "version": "v3",
            "digest_algorithms": [{"algorithm": md}],
            "encap_content_info": {"content_type": "tst_info", "content": cms.ParsableOctetString(tst_info)},
            "signer_infos": [signer_info],
        }
        if req["cert_req"].native:
            content["certificates"] = cms.CertificateSet.load(self._certificates)
        signed_data = cms.SignedData(content)
        token = cms.ContentInfo({"content_type": "signed_data", "content": signed_data})
        return tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token})

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        return self.request_tsa_response(req)

    def respond(self, query: bytes) -> bytes:
        """Answer a DER ``TimeStampReq`` with a DER ``TimeStampResp`` (a rejection when it is malformed)."""
        try:
            req = tsp.TimeStampReq.load(query)
            algorithm = req["message_imprint"]["hash_algorithm"]["algorithm"].native
            if algorithm not in {"sha256", "sha384", "sha512"}:
                return _rejection("bad_alg")
            return self.request_tsa_response(req).dump()
        except (ValueError, TypeError, KeyError):
            return _rejection("bad_data_format")


class TimeStampRejection(core.Sequence):
    """A ``TimeStampResp`` without a token (RFC 3161 § 2.4.2): asn1crypto's own type requires one."""

    _fields = [("status", tsp.PKIStatusInfo)]


def _rejection(reason: str) -> bytes:
    status = tsp.PKIStatusInfo({"status": "rejection", "fail_info": tsp.PKIFailureInfo({reason})})
    return TimeStampRejection({"status": status}).dump()


bp = Blueprint("pki", __name__, url_prefix="/pki")


def use_pki(app: Flask, pki: DemoPki) -> None:
    """Serve ``pki`` from ``app`` (instead of one built from the configuration)."""
    app.extensions[_EXTENSION_KEY] = (pki, TimeStampAuthority(pki))


def current_pki() -> DemoPki:
    """The demo PKI of the current app, created from the configuration on first use."""
    return _services()[0]


def _services() -> tuple[DemoPki, TimeStampAuthority]:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if _EXTENSION_KEY not in app.extensions:
        folder = app.config.get("PKI_FOLDER") or str(Path(app.instance_path) / "pki")
        base_url = app.config.get("PKI_BASE_URL") or app.config.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
        use_pki(app, DemoPki(folder, str(base_url), tsa_validity=tsa_validity_setting(app.config)))
    return app.extensions[_EXTENSION_KEY]


def _query(mimetype: str) -> bytes:
    """The request's body, a DER query of ``mimetype`` (else 415), of at most 16 KiB (else 413)."""
    if request.mimetype != mimetype:
        abort(415)
    if (request.content_length or 0) > _MAX_QUERY_BYTES:
        abort(413)
    query = request.get_data(cache=False)
    if len(query) > _MAX_QUERY_BYTES:
        abort(413)
    return query


@bp.post("/tsa")
def timestamp() -> Response:
    return Response(_services()[1].respond(_query("application/timestamp-query")), mimetype="application/timestamp-reply")


@bp.get("/crl/<name>.crl")
def crl(name: str) -> Response:
    if name not in CA_NAMES:
        abort(404)
    response = Response(current_pki().crl(name), mimetype="application/pkix-crl")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.post("/ocsp")
def ocsp_post() -> Response:
    return Response(current_pki().ocsp_response(_query("application/ocsp-request")), mimetype="application/ocsp-response")


@bp.get("/ocsp/<path:encoded>")
def ocsp_get(encoded: str) -> Response:
    """RFC 6960 Appendix A.1: the DER request, base64 and then URL-encoded, as the last path segment."""
    if len(encoded) > _MAX_QUERY_BYTES:
        abort(413)
    try:
        query = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        query = b""
    response = Response(current_pki().ocsp_response(query), mimetype="application/ocsp-response")
    response.headers["Cache-Control"] = "max-age=60"
    return response


@bp.get("/ca/<name>.crt")
def ca_certificate(name: str) -> Response:
    if name not in CA_NAMES:
        abort(404)
    pki = current_pki()
    cert = pki.root_certificate if name == "root-ca" else pki.issuing_certificate
    return Response(cert.public_bytes(serialization.Encoding.DER), mimetype="application/pkix-cert")


def _exempt_from_csrf() -> None:
    # Time-stamp queries come from other programs, not from the portal's forms.
    from portal.extensions import csrf

    csrf.exempt(bp)


_exempt_from_csrf()


def create_service_app(pki: DemoPki) -> Flask:
    """A minimal app serving only :data:`bp` for ``pki`` (a loopback server for tests and benchmarks)."""
    app = Flask("portal.signing.services")
    app.register_blueprint(bp)
    use_pki(app, pki)
    return app
