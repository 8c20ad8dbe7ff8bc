"""The ETSI TS 119 102-2 validation report (XML) of a signed PDF, for archivists to keep beside it.

Each signature is validated by pyHanko's AdES long-term validation (ETSI EN 319 102-1 § 5.6.3,
``ades_lta_validation``: the document time-stamps serve as the evidence record) from what the document
itself holds (DSS, embedded certificates and revocation data; nothing is fetched), against the portal's
trust anchors. The report is pyHanko's (``report.tools``, as its ``generate_report`` makes it for one
signature) for all of them: one ``vr:ValidationReport`` with one ``vr:SignatureValidationReport`` per
signature, in signing order, and the validation objects they share listed once. It is written once, with
xsdata metadata built once per process: ``generate_report`` builds the metadata of the report's ~150
classes again for every report it writes (a new ``XmlContext`` each time), three times the cost of the
writing itself.

pyHanko marks its reporting as incubating; the XML it writes follows the schema of TS 119 102-2 v1.2.1.
"""
from __future__ import annotations

import asyncio
from collections.abc import Iterable

import tzlocal
from asn1crypto import x509 as asn1_x509
from pyhanko.generated.etsi import ts_11910202
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, DiffPolicy
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.policy_decl import (
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko.sign.validation.report.tools import NAMESPACES, _generate_report, _package_validation_object
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
from pyhanko_certvalidator.policy_decl import CertRevTrustPolicy, RevocationCheckingPolicy, RevocationCheckingRule
from pyhanko_certvalidator.registry import SimpleTrustManager
from xsdata.formats.dataclass.context import XmlContext
from xsdata.formats.dataclass.serializers import XmlSerializer
from xsdata.formats.dataclass.serializers.config import SerializerConfig

from .shared_analysis import diff_policy_for, reader_for

__all__ = ["ades_spec", "etsi_report_xml"]

_BINDINGS = XmlContext()  # the report classes' xsdata metadata, built on first use and kept


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

    objects: dict[str, ts_11910202.ValidationObjectType] = {}  # by id: the ones signatures share, once

    async def reports() -> list[ts_11910202.SignatureValidationReportType]:
        made = []
        for sig in reader.embedded_regular_signatures:
            result = await ades_lta_validation(sig, spec, timing_info=timing)
            made.append(_generate_report(sig, result))
            for validation_object in map(_package_validation_object, result.validation_objects):
                objects.setdefault(validation_object.id, validation_object)
        return made

    report = ts_11910202.ValidationReport(
        signature_validation_report=tuple(asyncio.run(reports())),
        signature_validation_objects=ts_11910202.ValidationObjectListType(tuple(objects.values())) if objects else None,
    )
    xml = XmlSerializer(context=_BINDINGS, config=SerializerConfig(indent="  ")).render(report, ns_map=NAMESPACES)
    return xml.encode("utf-8")
