"""The ETSI TS 119 102-2 validation report (XML) of a signed PDF, for archivists to keep beside it.

Each signature is validated by pyHanko's AdES long-term validation (ETSI EN 319 102-1 § 5.6.3,
``ades_lta_validation``: the document time-stamps serve as the evidence record) from what the document
itself holds (DSS, embedded certificates and revocation data; nothing is fetched), against the portal's
trust anchors; pyHanko's ``generate_report`` writes each signature's report, and the reports are joined
into one ``vr:ValidationReport`` with one ``vr:SignatureValidationReport`` per signature, in signing
order, and the validation objects they share listed once.

pyHanko marks its reporting as incubating; the XML it writes follows the schema of TS 119 102-2 v1.2.1.
"""
from __future__ import annotations

import asyncio
from collections.abc import Iterable
from xml.etree import ElementTree

import tzlocal
from asn1crypto import x509 as asn1_x509
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, DiffPolicy
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.policy_decl import (
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko.sign.validation.report.tools import NAMESPACES, generate_report
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
from pyhanko_certvalidator.policy_decl import CertRevTrustPolicy, RevocationCheckingPolicy, RevocationCheckingRule
from pyhanko_certvalidator.registry import SimpleTrustManager

from .shared_analysis import diff_policy_for, reader_for

__all__ = ["ades_spec", "etsi_report_xml"]

_VR = "{" + NAMESPACES["vr"] + "}"


def ades_spec(trust_roots: Iterable[asn1_x509.Certificate],
              diff_policy: DiffPolicy | None = DEFAULT_DIFF_POLICY) -> PdfSignatureValidationSpec:
    """pyHanko's AdES validation spec for the portal's documents: ``trust_roots``, revocation soft-fail,
    local data only; ``diff_policy`` reviews the changes after each signature
    (:func:`.shared_analysis.diff_policy_for` the reader: from the document's one analysis; None: no review)."""
    soft = RevocationCheckingRule.CHECK_IF_DECLARED_SOFT  # as the portal's own report: revocation soft-fail
    policy = CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build(trust_roots=list(trust_roots)),
        revinfo_policy=CertRevTrustPolicy(RevocationCheckingPolicy(ee_certificate_rule=soft, intermediate_ca_cert_rule=soft)),
    )
    return PdfSignatureValidationSpec(SignatureValidationSpec(
        cert_validation_policy=policy,
        revinfo_gathering_policy=RevocationInfoGatheringSpec(online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY),
    ), diff_policy=diff_policy)


def etsi_report_xml(data: bytes, trust_roots: Iterable[asn1_x509.Certificate]) -> bytes:
    """The ETSI TS 119 102-2 report of every signature in ``data`` (UTF-8 XML). Call it with a PDF that
    :func:`.verify.verify_pdf` could read. Runs its own event loop, like pyHanko's synchronous API."""
    reader = reader_for(data)
    spec = ades_spec(trust_roots, diff_policy_for(reader))
    # One validation time for the whole report (pyHanko's "now", in its local zone), so that every
    # signature is judged at the same moment and the time-stamps' evidence is validated once for all.
    timing = ValidationTimingInfo.now(tz=tzlocal.get_localzone())

    async def reports() -> list[str]:
        return [generate_report(sig, await ades_lta_validation(sig, spec, timing_info=timing))
                for sig in reader.embedded_regular_signatures]

    for prefix, uri in NAMESPACES.items():
        ElementTree.register_namespace(prefix, uri)
    root = ElementTree.Element(f"{_VR}ValidationReport")
    objects = ElementTree.Element(f"{_VR}SignatureValidationObjects")
    seen: set[str] = set()
    for xml in asyncio.run(reports()):
        single = ElementTree.fromstring(xml)
        root.extend(single.findall(f"{_VR}SignatureValidationReport"))
        for listed in single.iterfind(f"{_VR}SignatureValidationObjects/{_VR}ValidationObject"):
            key = listed.get("id") or ElementTree.tostring(listed).decode()
            if key not in seen:
                seen.add(key)
                objects.append(listed)
    if len(objects):
        root.append(objects)
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
