"""Interrupted signing: the key lives elsewhere (a browser's WebCrypto key, a remote signing service).

pyHanko's interrupted signing (``PdfSigner.async_digest_doc_for_signing`` → ``PdfTBSDocument``):

1. :func:`prepare_field` writes the approval signature's incremental update (ISO 32000-2 § 7.5.6) with
   its visible stamp and a reserved ``/Contents``, computes the ``/ByteRange`` digest and the CMS signed
   attributes (RFC 5652 § 5.4; PAdES: ETSI EN 319 142-1 § 5.1). Everything needed later is plain bytes
   and integers (:class:`PreparedSignature`), so it can wait in the database while the key signs.
2. The key holder signs :attr:`PreparedSignature.to_be_signed`, the DER of the signed attributes, with
   ECDSA/SHA-256 (the key never signs the document digest itself).
3. :func:`finish_field` checks that signature against the certificate, builds the ``SignedData`` with
   the signature time-stamp (RFC 3161 token as an unsigned attribute, PAdES B-T) and puts it in place.

The validation data of every signature goes into the DSS when the document is closed
(:func:`.pades.close_lta`), as for the other key sources.
"""
from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from io import BytesIO

from asn1crypto import algos, cms, x509 as asn1_x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pyhanko.sign import fields, general, signers
from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
from pyhanko.sign.signers.pdf_signer import PdfTBSDocument
from pyhanko.sign.timestamps import TimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

from . import pades

__all__ = ["BadSignature", "PreparedSignature", "finish_field", "prepare_field", "signature_mechanism"]

_MD = "sha256"


class BadSignature(pades.SigningRefused):
    """The signature sent back does not verify with the certificate's public key over the signed attributes."""

    code = "bad_signature"


@dataclass(frozen=True)
class PreparedSignature:
    """A signature waiting for its key: the revision with a reserved ``/Contents`` and what to sign."""

    pdf: bytes
    document_digest: bytes  # SHA-256 over the /ByteRange: what the messageDigest attribute holds
    reserved_start: int
    reserved_end: int
    to_be_signed: bytes  # DER of the CMS signed attributes (SET OF Attribute)


def signature_mechanism(certificate: asn1_x509.Certificate) -> algos.SignedDigestAlgorithm:
    """ECDSA with SHA-256 for an EC key (RFC 5758 § 3.2), else RSA PKCS #1 v1.5 with SHA-256."""
    name = "sha256_ecdsa" if certificate.public_key.algorithm == "ec" else "sha256_rsa"
    return algos.SignedDigestAlgorithm({"algorithm": name})


def _external_signer(certificate: asn1_x509.Certificate, chain: list[asn1_x509.Certificate],
                     signature: bytes | None = None) -> signers.ExternalSigner:
    # A placeholder of the largest DER ECDSA-Sig-Value (72 bytes) or RSA signature while preparing.
    placeholder = 72 if certificate.public_key.algorithm == "ec" else certificate.public_key.bit_size // 8
    return signers.ExternalSigner(
        signing_cert=certificate, cert_registry=SimpleCertificateStore.from_certs(chain),
        signature_value=signature if signature is not None else placeholder,
        signature_mechanism=signature_mechanism(certificate),
    )


def prepare_field(
    pdf: bytes,
    field_name: str,
    certificate: asn1_x509.Certificate,
    chain: list[asn1_x509.Certificate],
    stamp: pades.StampText,
    *,
    with_timestamp: bool,
    font_path: str = pades.DEFAULT_STAMP_FONT,
) -> PreparedSignature:
    """The approval signature of ``field_name`` (existing and empty), up to the bytes the key must sign.

    ``with_timestamp`` reserves room for the signature time-stamp :func:`finish_field` adds."""
    return asyncio.run(_prepare(pdf, field_name, certificate, chain, stamp, with_timestamp, font_path))


async def _prepare(pdf: bytes, field_name: str, certificate: asn1_x509.Certificate, chain: list[asn1_x509.Certificate],
                   stamp: pades.StampText, with_timestamp: bool, font_path: str) -> PreparedSignature:
    writer = pades._reader_and_writer(pdf)
    certification = pades.certifications.give(writer.prev, pdf)
    pades._check_field(writer.prev, field_name)
    signer = _external_signer(certificate, chain)
    meta = signers.PdfSignatureMetadata(
        field_name=field_name, md_algorithm=_MD, name=stamp.name,
        subfilter=fields.SigSeedSubFilter.PADES, use_pades_lta=False,
    )
    params = {"stamp": stamp.lines()}
    style = pades._stamp_style(pades._stamp_font(writer.prev, params["stamp"], font_path))
    pdf_signer = signers.PdfSigner(meta, signer=signer, stamp_style=style)
    reserve = 2 * (sum(len(c.dump()) for c in (certificate, *chain)) + 2048 + (6144 if with_timestamp else 0))
    try:
        digest, _tbs, output = await pdf_signer.async_digest_doc_for_signing(
            writer, existing_fields_only=True, bytes_reserved=reserve, appearance_text_params=params,
        )
    finally:  # a refusal by the certification is remembered too
        pades.certifications.keep(writer.prev, certification)
    output.seek(0)
    return PreparedSignature(
        pdf=output.read(), document_digest=digest.document_digest,
        reserved_start=digest.reserved_region_start, reserved_end=digest.reserved_region_end,
        to_be_signed=signed_attributes(digest.document_digest, certificate),
    )


def signed_attributes(document_digest: bytes, certificate: asn1_x509.Certificate) -> bytes:
    """The DER of the CMS signed attributes of a PAdES signature (ETSI EN 319 142-1 § 5.1; RFC 5652
    § 5.3): content-type, message-digest and signing-certificate-v2 (RFC 5035), and no signing-time,
    as pyHanko's ``Signer.signed_attrs(use_pades=True)`` makes them. The signing-certificate-v2
    attribute depends on the certificate only and is encoded once per certificate (asn1crypto takes
    milliseconds to encode it, a good part of a preparation)."""
    return cms.CMSAttributes([
        general.simple_cms_attribute("content_type", "data"),
        general.simple_cms_attribute("message_digest", document_digest),
        cms.CMSAttribute.load(_signing_certificate_attribute(certificate.dump())),
    ]).dump()


@functools.lru_cache(maxsize=256)
def _signing_certificate_attribute(certificate_der: bytes) -> bytes:
    certificate = asn1_x509.Certificate.load(certificate_der)
    return general.simple_cms_attribute("signing_certificate_v2", general.as_signing_certificate_v2(certificate)).dump()


def check_signature(certificate: asn1_x509.Certificate, to_be_signed: bytes, signature: bytes) -> None:
    """Raise :class:`BadSignature` unless ``signature`` (DER for ECDSA) is the certificate key's over ``to_be_signed``."""
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    public_key = load_der_public_key(certificate.public_key.dump())
    try:
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, to_be_signed, ec.ECDSA(hashes.SHA256()))
        elif isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, to_be_signed, padding.PKCS1v15(), hashes.SHA256())
        else:
            raise BadSignature("Unsupported key type")
    except (InvalidSignature, ValueError) as error:
        raise BadSignature("The signature does not belong to this certificate and these signed attributes.") from error


def finish_field(
    prepared: PreparedSignature,
    certificate: asn1_x509.Certificate,
    chain: list[asn1_x509.Certificate],
    signature: bytes,
    timestamper: TimeStamper | None,
) -> bytes:
    """Put the signature (DER) in place, with a signature time-stamp when ``timestamper`` is given; the
    signed PDF. Raises :class:`BadSignature` when the signature is not the certificate key's."""
    check_signature(certificate, prepared.to_be_signed, signature)
    return asyncio.run(_finish(prepared, certificate, chain, signature, timestamper))


async def _finish(prepared: PreparedSignature, certificate: asn1_x509.Certificate, chain: list[asn1_x509.Certificate],
                  signature: bytes, timestamper: TimeStamper | None) -> bytes:
    signer = _external_signer(certificate, chain, signature)
    signed_data = await signer.async_sign_prescribed_attributes(
        _MD, signed_attrs=cms.CMSAttributes.load(prepared.to_be_signed), timestamper=timestamper,
    )
    output = BytesIO(prepared.pdf)
    digest = PreparedByteRangeDigest(prepared.document_digest, prepared.reserved_start, prepared.reserved_end)
    try:
        await PdfTBSDocument.async_finish_signing(output, digest, signed_data)
    except Exception as error:  # pyHanko: "not enough room" and the like; nothing was stored
        raise pades.SigningRefused(str(error)) from error
    return output.getvalue()
