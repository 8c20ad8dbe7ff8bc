"""Seed values: each signature field says how it must be filled (ISO 32000-1 § 12.7.4.5, Table 234).

The portal's signatory fields carry a seed value dictionary (``/SV``) with

* ``/SubFilter [/ETSI.CAdES.detached]``, mandatory (``/Ff`` bit 4): a PAdES signature;
* ``/TimeStamp << /URL … /Ff 1 >>``: a signature time-stamp is required (PAdES B-T and up);
* ``/Cert << /Issuer [...] >>``: the certificate issuers the portal accepts (its CA, and any listed in
  ``ACCEPTED_ISSUERS_FILE``). Listed, not flagged mandatory: pyHanko checks a mandatory issuer only
  against a validation path, which a key outside the portal does not give at preparation. The portal
  holds its own signatures to it instead: a key whose certificate is not issued under an accepted issuer
  is refused before signing (:func:`issued_under`, for uploaded, token and remote keys), and the verify
  page reports any signature that breaks it (:func:`problems`).

and ``/TU``, the name screen readers announce for the field («Signatur: name, title, organisation»).
"""
from __future__ import annotations

from asn1crypto import x509 as asn1_x509
from pyhanko.sign import fields
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

__all__ = ["field_seed_values", "issued_under", "problems", "tooltip"]

#: Problem codes :func:`problems` reports (the verify page words them).
SUBFILTER, TIMESTAMP, ISSUER = "subfilter", "timestamp", "issuer"


def field_seed_values(timestamp_url: str | None, issuers: list[asn1_x509.Certificate]) -> fields.SigSeedValueSpec:
    """The seed values of a signatory's field: PAdES, a time-stamp when ``timestamp_url`` is set, ``issuers``."""
    return fields.SigSeedValueSpec(
        flags=fields.SigSeedValFlags.SUBFILTER,
        subfilters=[fields.SigSeedSubFilter.PADES],
        timestamp_server_url=timestamp_url or None,
        timestamp_required=bool(timestamp_url),
        cert=fields.SigCertConstraints(issuers=list(issuers)) if issuers else None,
    )


def tooltip(name: str, title: str, organisation: str) -> str:
    """The field's ``/TU``: who signs in it (the same word in bokmål and nynorsk)."""
    return "Signatur: " + ", ".join(part for part in (name, title, organisation) if part)


def problems(embedded: EmbeddedPdfSignature) -> list[str]:
    """How a signature breaks its field's seed values (empty when it keeps them, or the field has none)."""
    sv_dict = embedded.sig_field.get("/SV")
    if sv_dict is None:
        return []
    try:
        spec = fields.SigSeedValueSpec.from_pdf_object(sv_dict.get_object())
    except Exception:  # an unreadable /SV says nothing we can hold the signature to
        return []
    found = []
    subfilter = embedded.sig_object.get("/SubFilter")
    if spec.subfilters and (spec.flags & fields.SigSeedValFlags.SUBFILTER) and subfilter not in {s.value for s in spec.subfilters}:
        found.append(SUBFILTER)
    if spec.timestamp_required:
        from .pades import has_signature_timestamp

        if not has_signature_timestamp(embedded):
            found.append(TIMESTAMP)
    if spec.cert is not None and spec.cert.issuers and not _issued_under(embedded, spec.cert.issuers):
        found.append(ISSUER)
    return found


def _issued_under(embedded: EmbeddedPdfSignature, issuers: list[asn1_x509.Certificate]) -> bool:
    certificates = [choice.chosen for choice in embedded.signed_data["certificates"] or [] if choice.name == "certificate"]
    return issued_under(embedded.signer_cert, certificates, issuers)


def issued_under(certificate: asn1_x509.Certificate, others: list[asn1_x509.Certificate],
                 issuers: list[asn1_x509.Certificate]) -> bool:
    """Whether ``certificate`` chains up, through ``others`` (the certificates that come with it), to one of
    ``issuers``. Issuers are matched by subject and key (a CA re-certified with the same key still counts)."""
    accepted = {(issuer.subject.hashable, issuer.public_key.dump()) for issuer in issuers}
    by_subject: dict[str, list[asn1_x509.Certificate]] = {}
    for other in [*others, *issuers]:
        by_subject.setdefault(other.subject.hashable, []).append(other)
    current, seen = certificate, 0
    while seen < 8:
        parents = [parent for parent in by_subject.get(current.issuer.hashable, []) if _signed_by(current, parent)]
        for parent in parents:
            if (parent.subject.hashable, parent.public_key.dump()) in accepted:
                return True
        if not parents or parents[0].self_signed:
            return False
        current, seen = parents[0], seen + 1
    return False


def _signed_by(certificate: asn1_x509.Certificate, parent: asn1_x509.Certificate) -> bool:
    """Whether ``parent``'s key made ``certificate``'s signature (a name alone can be copied)."""
    from pyhanko_certvalidator.sig_validate import DefaultSignatureValidator

    try:
        DefaultSignatureValidator().validate_signature(certificate["signature_value"].native, certificate["tbs_certificate"].dump(),
                                                       parent.public_key, certificate["signature_algorithm"])
    except Exception:  # noqa: BLE001 — InvalidSignature, or an algorithm we cannot check: not its parent
        return False
    return True
