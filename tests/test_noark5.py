"""The Noark 5 extraction of signed agreements (issue 12): valid against Arkivverket's own schemas, one case file
per agreement reference, one journal post per version, the signed PDF/A as main document, every signature."""
from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select

from portal.agreements import signing
from portal.agreements.renewals import mark_due_renewals
from portal.archive import noark5
from portal.archive.noark5 import VERIFIED, extraction_files
from portal.clock import OSLO
from portal.extensions import db
from portal.models import Agreement, AgreementStatus, ArchiveMessage
from portal.signing.models import DeviceCertificate

from . import factories
from .noark5_checks import XMLNS, check_extraction
from .test_renewal_flow import A_YEAR_AND_A_BIT_AGO, evaluation_answers, reload, start_renewal


def test_a_signed_agreement_is_one_case_file_with_its_signed_pdf_as_main_document(people):
    agreement = factories.signed_agreement(people)
    validated = agreement.document.validated_at
    assert validated is not None  # the report stored when the agreement was closed
    later = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=3)
    files = extraction_files([agreement], now=later)  # extracted three days after the validation
    structure = check_extraction(files)

    [folder] = structure.findall(".//n5:mappe", XMLNS)
    assert folder.findtext("n5:mappeID", namespaces=XMLNS) == agreement.reference
    [post] = folder.findall("n5:registrering", XMLNS)
    main = post.find("n5:dokumentbeskrivelse/n5:dokumentobjekt", XMLNS)
    assert main.findtext("n5:format", namespaces=XMLNS) == "fmt/477"
    assert main.findtext("n5:variantformat", namespaces=XMLNS) == "Arkivformat"
    path = main.findtext("n5:referanseDokumentfil", namespaces=XMLNS)
    assert files[path] == agreement.document.signed_pdf  # byte for byte as signed
    assert main.findtext("n5:elektroniskSignatur/n5:elektroniskSignaturVerifisert", namespaces=XMLNS) == VERIFIED
    assert post.findtext("n5:elektroniskSignatur/n5:verifisertAv", namespaces=XMLNS) == "Politirådsportalen"
    for signature in (post.find("n5:elektroniskSignatur", XMLNS), main.find("n5:elektroniskSignatur", XMLNS)):
        # verified on the day of the portal's stored validation, not the extraction's; keys in the browser
        naive_utc = validated if validated.tzinfo else validated.replace(tzinfo=timezone.utc)
        assert signature.findtext("n5:verifisertDato", namespaces=XMLNS) == naive_utc.astimezone(OSLO).date().isoformat()
        assert signature.findtext("n5:elektroniskSignaturSikkerhetsnivaa", namespaces=XMLNS) == noark5.STANDARD_LEVEL
    # the validation report is attached
    titles = [d.findtext("n5:tilknyttetRegistreringSom", namespaces=XMLNS) for d in post.findall("n5:dokumentbeskrivelse", XMLNS)]
    assert titles == ["Hoveddokument", "Vedlegg"]
    # parties: the municipality and the police district, without organisation numbers
    names = [c.findtext("n5:korrespondansepartNavn", namespaces=XMLNS) for c in post.findall("n5:korrespondansepart", XMLNS)]
    assert names == ["Voss", "Vest politidistrikt"]
    # every signature with its date, and the dates in force
    extra = post.find("n5:virksomhetsspesifikkeMetadata", XMLNS)
    signatures = extra.findall("{*}signature")
    assert len(signatures) == len(agreement.signature_slots) and all(s.findtext("{*}signedAt") for s in signatures)
    for slot in agreement.signature_slots:  # each as its certificate and the portal's validation have it
        [element] = [s for s in signatures if s.findtext("{*}field") == slot.field_name]
        certificates = db.session.scalars(select(DeviceCertificate).where(DeviceCertificate.user_id == slot.user.id)).all()
        assert element.findtext("{*}certificateName") == slot.user.name
        assert element.findtext("{*}certificateSerialNumber") in {c.certificate_serial for c in certificates}
        assert "Issuing CA" in element.findtext("{*}certificateIssuer")
        assert element.findtext("{*}keySource") == slot.key_source == "browser"
        assert element.findtext("{*}signingTimeSource") == "timestamp" and element.findtext("{*}signingTime")
        assert element.findtext("{*}padesLevel") and element.findtext("{*}verified") == "true"
        assert element.findtext("{*}securityLevel") == noark5.STANDARD_LEVEL
    assert extra.findtext("{*}seal/{*}securityLevel") == noark5.SEAL_LEVEL
    assert extra.findtext("{*}activeFrom") == agreement.active_from.isoformat()
    assert extra.findtext("{*}renewalDueOn") == agreement.renewal_due_on.isoformat()
    # the change log records that signing replaced the finalised PDF
    log = files["endringslogg.xml"].decode()
    assert agreement.document.sha256 in log and hashlib.sha256(agreement.document.signed_pdf).hexdigest() in log


def test_a_chain_with_a_decline_and_a_renewal_is_one_case_file_with_a_journal_post_per_version(client, people):
    old = factories.signed_agreement(people, active_from=A_YEAR_AND_A_BIT_AGO)
    assert mark_due_renewals(date.today()) == [old.id]
    start_renewal(client, people, reload(old.id))
    renewal = db.session.scalar(select(Agreement).where(Agreement.renewal_of_id == old.id))
    client.submit(f"/agreements/{renewal.id}/steps/evaluation", evaluation_answers(len(old.priority_areas)))
    client.submit(f"/agreements/{renewal.id}/steps/validity",
                  {"start_date": date(date.today().year + 1, 1, 1).isoformat(), "place": "Voss", "action": "next"})
    client.submit(f"/agreements/{renewal.id}/finalise", token_from=f"/agreements/{renewal.id}")
    newer = signing.decline(reload(renewal.id), people.mayor, "Satsingsområda må drøftast i kommunestyret først.")
    db.session.commit()
    client.submit(f"/agreements/{newer.id}/finalise", token_from=f"/agreements/{newer.id}")
    newer = reload(newer.id)
    for slot_id in [slot.id for slot in newer.signature_slots]:
        current = reload(newer.id)
        slot = next(s for s in current.signature_slots if s.id == slot_id)
        factories.sign_as(current, slot.user)
    assert reload(old.id).status is AgreementStatus.SUPERSEDED
    # Fiks Arkiv: last year's agreement went to Voss's archive when signed and again when superseded
    # (delivered by the jobs the closings queued: the renewal's closing delivers the superseded one's too)
    sent = db.session.execute(select(ArchiveMessage.event, ArchiveMessage.state).where(ArchiveMessage.agreement_id == old.id)
                              .order_by(ArchiveMessage.id)).all()
    assert [tuple(row) for row in sent] == [("signed", "delivered"), ("superseded", "delivered")]

    files = extraction_files([reload(old.id)])
    structure = check_extraction(files)
    [folder] = structure.findall(".//n5:mappe", XMLNS)
    posts = folder.findall("n5:registrering", XMLNS)
    assert [p.findtext("n5:registreringsID", namespaces=XMLNS) for p in posts] == [f"{old.reference}-v{n}" for n in (1, 2, 3)]
    states = [p.findtext("n5:virksomhetsspesifikkeMetadata/{*}status", namespaces=XMLNS) for p in posts]
    assert states == ["superseded", "declined", "active"]
    # the declined version has its finalised (sealed, not signed by all) PDF, and the decline is recorded
    declined = posts[1]
    assert declined.findtext("n5:dokumentbeskrivelse/n5:tittel", namespaces=XMLNS) == "Ferdigstilt avtale, ikke signert av alle"
    assert declined.findtext("n5:dokumentbeskrivelse/n5:dokumentobjekt/n5:referanseDokumentfil", namespaces=XMLNS).endswith("-v2-ferdigstilt.pdf")
    assert declined.find("n5:virksomhetsspesifikkeMetadata/{*}signature/{*}declinedAt", XMLNS) is not None
    # last year's agreement carries the evaluation made of it at renewal as an attachment
    attached = [d.findtext("n5:tittel", namespaces=XMLNS) for d in posts[0].findall("n5:dokumentbeskrivelse", XMLNS)]
    assert attached == ["Signert avtale", "Evaluering av avtalen", "Valideringsrapport for signaturene"]
    assert folder.findtext("n5:saksstatus", namespaces=XMLNS) == "Under behandling"


def test_the_archivist_downloads_the_noark5_extraction_of_one_agreement_and_of_the_filter(client, people):
    agreement = factories.signed_agreement(people)
    client.sign_in(people.archivist)
    for url in (f"/archive/{agreement.id}/noark5.zip", "/archive/noark5.zip?municipality=4621"):
        response = client.get(url)
        assert response.status_code == 200 and response.mimetype == "application/zip"
        with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
            check_extraction({name: archive.read(name) for name in archive.namelist()})
    page = client.get(f"/archive/{agreement.id}").get_data(as_text=True)
    assert f'href="/archive/{agreement.id}/noark5.zip"' in page


def _certificate(*extensions: tuple[str, bytes]):  # type: ignore[no-untyped-def]
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Kari Kvalifisert")])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
               .serial_number(1).not_valid_before(datetime(2026, 1, 1)).not_valid_after(datetime(2028, 1, 1)))
    for oid, value in extensions:
        builder = builder.add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), value), critical=False)
    return asn1_x509.Certificate.load(builder.sign(key, hashes.SHA256()).public_bytes(Encoding.DER))


def test_the_security_level_follows_the_certificate_and_the_key_source():
    """M507: «person høy» only for a qualified certificate whose key is in a qualified device (QcSSCD) used
    through a source that can be one (a remote signing service, a token); otherwise «person standard»."""
    # qcStatements: QcCompliance (0.4.0.1862.1.1) and QcSSCD (0.4.0.1862.1.4)
    qualified = _certificate(("1.3.6.1.5.5.7.1.3", bytes.fromhex("3014" "3008060604008e460101" "3008060604008e460104")))
    compliance_only = _certificate(("1.3.6.1.5.5.7.1.3", bytes.fromhex("300a" "3008060604008e460101")))
    plain = _certificate()
    assert noark5.security_level(qualified, "csc") == noark5.security_level(qualified, "pkcs11") == noark5.HIGH_LEVEL
    for certificate, source in ((qualified, "browser"), (qualified, "pkcs12"), (qualified, "portal"),
                                (compliance_only, "csc"), (plain, "csc"), (plain, "browser")):
        assert noark5.security_level(certificate, source) == noark5.STANDARD_LEVEL, (source, certificate.subject.native)
