"""PAdES signing of an agreement: seal, approvals, closing (ETSI EN 319 142-1, ISO 32000-2 § 12.8).

Every function takes the PDF as bytes and returns the new PDF as bytes, each step appended as an
incremental update (ISO 32000-2 § 7.5.6), so that the caller can apply it on top of the latest stored
revision under a lock and store the result: nothing here keeps state between calls.

1. :func:`seal_and_certify`: the portal's organisation seal as a certification signature with DocMDP
   permission level 2 (ISO 32000-2 § 12.8.2.2: only form filling and signing allowed afterwards).
2. :func:`sign_field`: each signatory's approval signature into their own, existing, named field,
   with a visible stamp whose font (DejaVu Sans) is embedded, so that the document stays PDF/A.
3. :func:`close_lta`: validation data (certificates, CRLs/OCSP) for every signature into the DSS and
   a document time-stamp (RFC 3161) over all of it: PAdES baseline B-LTA (ETSI EN 319 142-1 § 6.4).

Without a time-stamp service, signatures are PAdES B-B; :func:`pades_level` tells which level a
document has reached.
"""
from __future__ import annotations

import asyncio
import enum
import functools
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from zoneinfo import ZoneInfo

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.font.api import FontEngineFactory
from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.layout import SimpleBoxLayoutRule, AxisAlignment, Margins
from pyhanko.pdf_utils.metadata.model import VENDOR
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers.pdf_signer import PdfTimeStamper
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.validation import dss
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.stamp import TextStampStyle
from pyhanko.sign._session_scope import run_and_release
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.errors import PathError, ValidationError as CertValidationError

from ..lru import LruCache
from .fonts import SharedFontEngineFactory, compact_font, embed_shared_font, find_shared_font, shared_font_can_show
from .pki import DemoPki

__all__ = [
    "DEFAULT_SEAL_FIELD",
    "DEFAULT_STAMP_FONT",
    "FieldAlreadySigned",
    "Incomplete",
    "NoSuchField",
    "PadesLevel",
    "SigningRefused",
    "StampText",
    "close_lta",
    "certificates_in", "embedded_certificates",
    "level_after_signature",
    "pades_level",
    "renew_archival_timestamp",
    "seal_and_certify",
    "sign_field",
    "validation_context_for",
]

DEFAULT_SEAL_FIELD = "Segl_portal"
DEFAULT_STAMP_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
_MD = "sha256"
_STAMP_TIMEZONE = ZoneInfo("Europe/Oslo")


class SigningRefused(Exception):
    """The document cannot be signed as asked; ``code`` names the reason for the page."""

    code = "refused"


class NoSuchField(SigningRefused):
    """The signature field is not in the document (fields are never created by an approval)."""

    code = "no_such_field"


class FieldAlreadySigned(SigningRefused):
    """The signature field already holds a signature."""

    code = "already_signed"


class Incomplete(SigningRefused):
    """Closing was asked for while signature fields are still empty."""

    code = "incomplete"


class PadesLevel(str, enum.Enum):
    """The PAdES baseline level a signed document reaches (ETSI EN 319 142-1 § 6)."""

    NONE = "none"  # no signature
    B_B = "B-B"  # signatures only
    B_T = "B-T"  # every signature has a signature time-stamp
    B_LT = "B-LT"  # ... and the validation data is in the DSS
    B_LTA = "B-LTA"  # ... and a document time-stamp covers it


@dataclass(frozen=True)
class StampText:
    """The visible text of a signature: who signed, in what capacity, for whom, and when."""

    name: str
    title: str
    organisation: str
    signed_at: datetime
    heading: str = "Digitalt signert av"

    def lines(self) -> str:
        when = self.signed_at.astimezone(_STAMP_TIMEZONE).strftime("%d.%m.%Y kl. %H:%M %Z")
        role = ", ".join(part for part in (self.title, self.organisation) if part)
        return "\n".join(part for part in (self.heading, self.name, role, when) if part)


def _stamp_style(font: FontEngineFactory) -> TextStampStyle:
    return TextStampStyle(
        stamp_text="%(stamp)s",
        text_box_style=TextBoxStyle(font=font, font_size=9, leading=11),
        border_width=1,
        inner_content_layout=SimpleBoxLayoutRule(
            x_align=AxisAlignment.ALIGN_MIN, y_align=AxisAlignment.ALIGN_MID, margins=Margins.uniform(4)
        ),
    )


@functools.cache
def _glyph_accumulator(font_path: str) -> GlyphAccumulatorFactory:
    return GlyphAccumulatorFactory(compact_font(font_path))


def _stamp_font(reader: PdfFileReader, text: str, font_path: str) -> FontEngineFactory:
    """The font the portal's seal embedded once, or else (a document sealed elsewhere, a name outside
    WinAnsi) a subset of ``font_path`` embedded with this signature."""
    shared = find_shared_font(reader)
    if shared is not None and shared_font_can_show(text):
        return SharedFontEngineFactory(shared, font_path)
    return _glyph_accumulator(font_path)


def validation_context_for(
    trust_roots: Iterable[asn1_x509.Certificate],
    other_certs: Iterable[asn1_x509.Certificate] = (),
    *,
    allow_fetching: bool = True,
    crls: Iterable[bytes] = (),
) -> ValidationContext:
    """A validation context (RFC 5280 § 6 path validation) for signing with validation data.

    ``allow_fetching`` lets pyHanko fetch CRLs and OCSP responses from the URLs in the certificates;
    ``crls`` supplies them directly instead (e.g. from :meth:`DemoPki.crl`, without an HTTP round trip).
    """
    return ValidationContext(
        trust_roots=list(trust_roots),
        other_certs=list(other_certs),
        allow_fetching=allow_fetching,
        crls=list(crls),
        revocation_mode="require",
    )


def demo_validation_context(pki: DemoPki, *, allow_fetching: bool = False,
                            other_certs: Iterable[asn1_x509.Certificate] = ()) -> ValidationContext:
    """A validation context for the demo PKI: its OCSP responder answered in-process (:mod:`.pki_fetchers`)
    and both CAs' current CRLs given, or everything fetched over HTTP from the URLs in the certificates
    with ``allow_fetching``. ``other_certs``: more certificates for building paths (a renewed TSA's, say).

    The DSS then holds the OCSP response of each signer and the CRLs too: pyHanko's validation counts
    an OCSP response about another certificate of the same CA as a failure, so a validator without
    network access needs the CRL for the certificates (the seal's, say) that no response names yet."""
    if allow_fetching:
        return validation_context_for(pki.trust_roots, [*pki.chain, *other_certs], allow_fetching=True)
    from .pki_fetchers import DemoFetcherBackend

    return ValidationContext(
        trust_roots=pki.trust_roots, other_certs=[*pki.chain, *other_certs], allow_fetching=True,
        fetcher_backend=DemoFetcherBackend(pki), crls=[pki.crl("root-ca"), pki.crl("issuing-ca")],
        revocation_mode="require",
    )


def embedded_certificates(pdf: bytes) -> list[asn1_x509.Certificate]:
    """Every certificate the document carries: in its signatures, their time-stamp tokens, its document
    time-stamps and its DSS. pyHanko builds a TSA's path from the certificates in the validation context
    only, not from those embedded with a token, so a context for the document needs these as ``other_certs``."""
    return certificates_in(PdfFileReader(BytesIO(pdf), strict=False))


def certificates_in(reader: PdfFileReader) -> list[asn1_x509.Certificate]:
    """:func:`embedded_certificates` of a document already open in ``reader``."""
    from pyhanko.sign.general import extract_certificate_info
    from pyhanko.sign.validation.generic_cms import extract_tst_data_iter

    found: dict[bytes, asn1_x509.Certificate] = {}
    for embedded in reader.embedded_signatures:
        signed = [embedded.signed_data, *extract_tst_data_iter(embedded.signer_info, signed=False),
                  *extract_tst_data_iter(embedded.signer_info, signed=True)]
        for signed_data in signed:
            info = extract_certificate_info(signed_data)
            for cert in (info.signer_cert, *info.other_certs):
                if cert is not None:
                    found.setdefault(cert.sha256, cert)
    try:
        for cert in dss.DocumentSecurityStore.read_dss(reader).load_certs():
            found.setdefault(cert.sha256, cert)
    except Exception:  # noqa: BLE001 — no DSS (or none readable): the signatures' own certificates suffice
        pass
    return list(found.values())


class CertificationSignatures:
    """The certification (seal) signature dictionaries this process has parsed, by their bytes.

    Before every approval pyHanko reads the document's certification signature (its DocMDP permission)
    and so parses its whole ``/Contents``, hex digit by hex digit: half of a preparation. That dictionary
    never changes once sealed: every later revision of the agreement holds the very same bytes at the
    same place (incremental updates only append). The first preparation on an agreement in a process
    parses it; later ones (the other signatories, a preparation again after a conflict) hand the parsed
    dictionary to the new reader's object cache, keyed by the SHA-256 of the object's bytes, so pyHanko
    finds it there. Only read, never written (an approval does not update it)."""

    def __init__(self, size: int = 64) -> None:
        self._parsed: LruCache[generic.PdfObject] = LruCache(size)

    @staticmethod
    def _located(reader: PdfFileReader, pdf: bytes) -> tuple[generic.Reference, bytes] | None:
        """The certification signature's reference and the SHA-256 of its bytes (``N G obj`` … ``endobj``)."""
        try:
            perms = reader.root.get("/Perms")
            if perms is None:
                return None
            found = perms.get_object().raw_get("/DocMDP")
        except (KeyError, AttributeError, PdfError):
            return None
        if not isinstance(found, generic.IndirectObject):
            return None
        reference = found.reference
        offset = reader.xrefs[reference]
        if not isinstance(offset, int):  # inside an object stream: leave it to pyHanko
            return None
        end = pdf.find(b"endobj", offset)
        if end < 0:
            return None
        return reference, hashlib.sha256(pdf[offset:end]).digest()

    def give(self, reader: PdfFileReader, pdf: bytes) -> tuple[generic.Reference, bytes] | None:
        """Put the parsed dictionary in ``reader``'s cache when this process has seen its bytes before;
        where it is (for :meth:`keep`), or None."""
        located = self._located(reader, pdf)
        if located is None:
            return None
        reference, digest = located
        parsed = self._parsed.get(digest)
        if parsed is not None and reader.cache_get_indirect_object(reference.generation, reference.idnum) is None:
            reader.cache_indirect_object(reference.generation, reference.idnum, parsed)
        return located

    def keep(self, reader: PdfFileReader, located: tuple[generic.Reference, bytes] | None) -> None:
        """Remember the dictionary ``reader`` parsed (pyHanko's certification check resolved it)."""
        if located is None:
            return
        reference, digest = located
        parsed = reader.cache_get_indirect_object(reference.generation, reference.idnum)
        if parsed is not None:
            self._parsed.put(digest, parsed)

    def clear(self) -> None:
        self._parsed.clear()


certifications = CertificationSignatures()


def _reader_and_writer(pdf: bytes) -> IncrementalPdfFileWriter:
    try:
        return IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    except (PdfError, ValueError) as error:
        raise SigningRefused(f"The document is not a readable PDF: {error}") from error


def _sign(
    writer: IncrementalPdfFileWriter,
    pdf_signer: signers.PdfSigner,
    *,
    existing_fields_only: bool,
    reserve: int | None,
    appearance_text_params: dict[str, str] | None = None,
) -> bytes:
    out = BytesIO()
    try:
        pdf_signer.sign_pdf(
            writer, existing_fields_only=existing_fields_only, bytes_reserved=reserve,
            appearance_text_params=appearance_text_params, output=out,
        )
    except SigningError as error:
        if reserve is None or "allocated" not in str(error).lower():
            raise
        # The reservation was too small (a large certificate chain or time-stamp token): let pyHanko
        # measure with a dry run instead. The writer is unusable now, so the caller retries.
        raise _ReserveTooSmall from error
    return out.getvalue()


class _ReserveTooSmall(Exception):
    pass


def _estimated_reserve(signer: signers.Signer, timestamper: TimeStamper | None) -> int:
    """Hex characters to reserve for the CMS object: its certificates, signed attributes, signature and
    structure (1 KiB holds an RSA-4096 signature), and the time-stamp token.

    Kept close to the real size: every later reader of the document parses the whole reserved
    ``/Contents`` (pyHanko reads the certification signature's again at every approval), so padding costs
    each of them. A reservation that proves too small is measured again by pyHanko (:func:`_sign`)."""
    certs = [signer.signing_cert, *signer.cert_registry]
    size = sum(len(cert.dump()) for cert in certs if cert is not None) + 1024
    if timestamper is not None:
        size += _token_size(timestamper)
    return 2 * size


def _token_size(timestamper: TimeStamper) -> int:
    """Bytes for the service's time-stamp token: its sample token's size (pyHanko asks the service once per
    time-stamper and keeps it) and 256 bytes more; 6 KiB (a token with a chain of three certificates)
    where it cannot be asked now."""
    try:
        return len(asyncio.run(timestamper.async_dummy_response(_MD)).dump()) + 256
    except Exception:  # noqa: BLE001 — inside an event loop, or the service down (signing will say so)
        return 6144


def seal_and_certify(
    pdf: bytes,
    seal: signers.Signer,
    timestamper: TimeStamper | None = None,
    *,
    field_name: str = DEFAULT_SEAL_FIELD,
    reason: str = "Forsegla av Politirådsportalen",
    font_path: str = DEFAULT_STAMP_FONT,
) -> bytes:
    """Certify ``pdf`` with the organisation seal (ISO 32000-2 § 12.8.1, DocMDP P=2: fill forms, sign).

    The seal goes into ``field_name``, created invisible in the same incremental update when the
    document lacks it. Every signatory field must already exist: fields added after certifying would
    break the certification. Refuses a document that already holds a signature.

    The same update embeds the stamp font once (``font_path`` reduced to Latin letters, a simple
    TrueType font in the form's default resources): the approval stamps then use it without
    embedding a font of their own.
    """
    writer = _reader_and_writer(pdf)
    if any(True for _ in fields.enumerate_sig_fields(writer.prev, filled_status=True)):
        raise SigningRefused("The document is already signed; a certification must come first.")
    _prepare_seal_update(writer, font_path)
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm=_MD,
        reason=reason,
        certify=True,
        docmdp_permissions=fields.MDPPerm.FILL_FORMS,
        subfilter=fields.SigSeedSubFilter.PADES,
        use_pades_lta=False,
    )
    pdf_signer = signers.PdfSigner(meta, signer=seal, timestamper=timestamper,
                                   new_field_spec=fields.SigFieldSpec(field_name, on_page=0, box=None))
    try:
        return _sign(writer, pdf_signer, existing_fields_only=False, reserve=_estimated_reserve(seal, timestamper))
    except _ReserveTooSmall:
        writer = _reader_and_writer(pdf)
        _prepare_seal_update(writer, font_path)
        return _sign(writer, pdf_signer, existing_fields_only=False, reserve=None)


def sign_field(
    pdf: bytes,
    field_name: str,
    signer: signers.Signer,
    stamp: StampText,
    timestamper: TimeStamper | None = None,
    *,
    validation_context: ValidationContext | None = None,
    font_path: str = DEFAULT_STAMP_FONT,
) -> bytes:
    """Sign ``field_name`` (which must exist and be empty) with an approval signature.

    The stamp shows :meth:`StampText.lines` in the font the seal embedded (else in a subset of
    ``font_path`` embedded with this signature). With a
    ``timestamper`` the signature gets a signature time-stamp (B-T); with a ``validation_context``,
    the validation data of the signer's chain is added to the DSS (towards B-LT).
    """
    writer = _reader_and_writer(pdf)
    certification = certifications.give(writer.prev, pdf)
    _check_field(writer.prev, field_name)
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm=_MD,
        name=stamp.name,
        subfilter=fields.SigSeedSubFilter.PADES,
        embed_validation_info=validation_context is not None,
        validation_context=validation_context,
        use_pades_lta=False,
    )
    params = {"stamp": stamp.lines()}
    style = _stamp_style(_stamp_font(writer.prev, params["stamp"], font_path))
    pdf_signer = signers.PdfSigner(meta, signer=signer, timestamper=timestamper, stamp_style=style)
    try:
        return _sign(writer, pdf_signer, existing_fields_only=True, reserve=_estimated_reserve(signer, timestamper),
                     appearance_text_params=params)
    except _ReserveTooSmall:
        return _sign(_reader_and_writer(pdf), pdf_signer, existing_fields_only=True, reserve=None,
                     appearance_text_params=params)
    finally:
        certifications.keep(writer.prev, certification)


def close_lta(
    pdf: bytes, validation_context: ValidationContext, timestamper: TimeStamper, *, require_complete: bool = True
) -> bytes:
    """Add the validation data of every signature to the DSS, then a document time-stamp: B-LTA.

    The DSS update (certificates and CRLs/OCSP of every signature and its time-stamp tokens, ETSI EN
    319 142-1 § 5.4), the validation data of the time-stamp authority that stamps the document, and the
    document time-stamp (ISO 32000-2 § 12.8.5) go into one incremental update: the authority's data is
    gathered with the signatures' before stamping, and written in the same DSS (no VRI entries, which
    PAdES does not need), so no further DSS revision follows the time-stamp.

    Refuses (:class:`Incomplete`) while signature fields are empty, unless ``require_complete`` is off.
    Runs its own event loop (``asyncio.run``), like pyHanko's synchronous API: call it from sync code.
    """
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    signatures = list(reader.embedded_regular_signatures)
    if not signatures:
        raise SigningRefused("The document has no signature to close.")
    empty = [name for name, _value, _ref in fields.enumerate_sig_fields(reader, filled_status=False)]
    if empty and require_complete:
        raise Incomplete(f"Signature fields are still empty: {', '.join(empty)}")

    async def _collect() -> list:
        paths = []
        for embedded in signatures:
            paths.extend(await dss.collect_validation_info(embedded, validation_context))
        return paths + [path async for path in timestamper.validation_paths(validation_context)]

    paths = asyncio.run(_collect())
    writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    dss.DocumentSecurityStore.supply_dss_in_writer(writer, None, paths=paths, validation_context=validation_context)
    out = BytesIO()
    PdfTimeStamper(timestamper).timestamp_pdf(writer, _MD, output=out, bytes_reserved=_DOCUMENT_TIMESTAMP_RESERVE)
    return out.getvalue()


def renew_archival_timestamp(
    pdf: bytes, validation_context: ValidationContext, timestamper: TimeStamper, md_algorithm: str = _MD
) -> tuple[bytes, list[str]]:
    """Renew a B-LTA document's archival time-stamp (ETSI EN 319 142-1 § 5.5, PAdES-LTA maintenance): fresh
    validation data (certificates, CRLs/OCSP as ``validation_context`` gets them now) for every signature
    and time-stamp in ``pdf`` into the DSS, then a new document time-stamp over all of it with
    ``md_algorithm``, as one incremental update: the earlier bytes stay a prefix of the result. The new
    time-stamp's own validation data, where it can be collected, goes into the same DSS before the stamp,
    as in :func:`close_lta`.

    Returns the new PDF and the fields whose certificates can no longer be validated now (expired
    signing certificates: the earlier time-stamps prove they were valid when used, so they need no fresh
    data). Raises :class:`SigningRefused` for a document without a document time-stamp, or whose last
    time-stamp's certificate cannot be validated any more (too late to renew). Makes no judgement of the
    result: the caller verifies it before keeping it. Runs its own event loop, like :func:`close_lta`.
    """
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    timestamps = list(reader.embedded_timestamp_signatures)
    if not timestamps:
        raise SigningRefused("The document has no document time-stamp to renew (it is not B-LTA).")
    last = timestamps[-1]

    async def _renew() -> tuple[bytes, list[str]]:
        paths, stale = [], []
        for embedded in reader.embedded_signatures:
            try:
                paths.extend(await dss.collect_validation_info(embedded, validation_context))
            except (PathError, CertValidationError) as error:
                if embedded.signed_revision == last.signed_revision:
                    raise SigningRefused(f"The last document time-stamp can no longer be validated: {error}") from error
                stale.append(str(embedded.field_name))
        try:  # the new time-stamp's validation data, where its TSA's certificate can be validated
            paths.extend([path async for path in timestamper.validation_paths(validation_context)])
        except (PathError, CertValidationError):
            pass  # the verification of the result tells what is wrong
        writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
        dss.DocumentSecurityStore.supply_dss_in_writer(writer, None, paths=paths, validation_context=validation_context)
        out = BytesIO()
        await PdfTimeStamper(timestamper).async_timestamp_pdf(
            writer, md_algorithm, output=out, bytes_reserved=_DOCUMENT_TIMESTAMP_RESERVE)
        return out.getvalue(), stale

    return asyncio.run(run_and_release(_renew(), validation_context))


#: Hex digits reserved for a document time-stamp token (a token with a chain of three RSA certificates fits).
_DOCUMENT_TIMESTAMP_RESERVE = 2 * 8192


def pades_level(pdf: bytes) -> PadesLevel:
    """The PAdES baseline level the document's signatures all reach (structure only, no validation)."""
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    return _level_of(reader)


def level_after_signature(previous: PadesLevel | str | None, *, timestamped: bool, validation_data: bool) -> PadesLevel:
    """The level a document reaches when one more signature is added to a document at ``previous``,
    known from how it was made, without parsing the result (the same rules as :func:`pades_level`):
    B-B unless every signature has a signature time-stamp, B-LT once a DSS holds validation data, and
    never B-LTA (a document time-stamp before the newest signature no longer covers it)."""
    previous = PadesLevel(previous) if previous else PadesLevel.NONE
    if not timestamped or previous is PadesLevel.B_B:
        return PadesLevel.B_B
    if validation_data or previous in (PadesLevel.B_LT, PadesLevel.B_LTA):
        return PadesLevel.B_LT
    return PadesLevel.B_T


def _level_of(reader: PdfFileReader) -> PadesLevel:
    regular: list[EmbeddedPdfSignature] = list(reader.embedded_regular_signatures)
    if not regular:
        return PadesLevel.NONE
    if not all(has_signature_timestamp(sig) for sig in regular):
        return PadesLevel.B_B
    if "/DSS" not in reader.root:
        return PadesLevel.B_T
    last_signature = max(sig.signed_revision for sig in regular)
    if any(ts.signed_revision > last_signature for ts in reader.embedded_timestamp_signatures):
        return PadesLevel.B_LTA
    return PadesLevel.B_LT


def has_signature_timestamp(embedded: EmbeddedPdfSignature) -> bool:
    """Whether the signature carries a signature time-stamp token (RFC 3161 token, ETSI EN 319 122-1)."""
    unsigned = embedded.signer_info["unsigned_attrs"]
    if not unsigned:
        return False
    return any(attr["type"].native == "signature_time_stamp_token" for attr in unsigned)


def _check_field(reader: PdfFileReader, field_name: str) -> None:
    for name, value, _ref in fields.enumerate_sig_fields(reader, filled_status=None):
        if name == field_name:
            if value is not None:
                raise FieldAlreadySigned(f"The field {field_name} is already signed.")
            return
    raise NoSuchField(f"The document has no signature field {field_name}.")


def _prepare_seal_update(writer: IncrementalPdfFileWriter, font_path: str) -> None:
    if "/AcroForm" not in writer.root:
        raise SigningRefused("The document has no signature fields.")
    _set_producer(writer)
    embed_shared_font(writer, font_path)


def _set_producer(writer: IncrementalPdfFileWriter) -> None:
    """Make the Info dictionary's /Producer pyHanko's, as the XMP metadata's will be (PDF/A consistency)."""
    info_ref = writer.trailer.raw_get("/Info") if "/Info" in writer.trailer else None
    if isinstance(info_ref, generic.IndirectObject):
        info = info_ref.get_object()
        info[pdf_name("/Producer")] = generic.TextStringObject(VENDOR)
        writer.mark_update(info_ref)
