"""The document never says one person signed when another did (issue 9, item 2): a signature is made only
by the person the agreement names, the coordinator sees before finalising whose account each e-mail address
belongs to, and who signed is read from the signature's certificate, never from typed text."""
from __future__ import annotations

import io
import json
import zipfile

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from sqlalchemy import select

from portal.extensions import db
from portal.models import Agreement, AgreementStatus, AuditEvent, MemberRole, User
from portal.signing.identity import same_name
from portal.signing.pki import SignatoryIdentity, new_private_key
from portal.signing.services import current_pki

from . import factories
from .test_signing_flow import (  # noqa: F401 — the fixture, and the helpers of the signing flow
    P12_PASSPHRASE, finalised, messages, reload, sign_as, sign_with_pkcs12, stored_bytes, text_of,
)


def test_names_are_compared_without_regard_to_case_spacing_or_composition():
    assert same_name("Ola  ordførar", "OLA ORDFØRAR") and same_name("Ola Ordfo\u0308rar", "Ola Ordf\u00f6rar")
    assert not same_name("Sigrid Haugland", "Siv Stasjonssjef") and not same_name("", "")


def test_finalising_is_refused_while_an_e_mail_address_belongs_to_someone_else(client, people):
    """«Sigrid Haugland» typed with the e-mail address of the account «Siv Stasjonssjef»."""
    agreement = factories.complete_agreement(people.coordinator)
    factories.name_signatories(agreement, people.mayor, people.station_chief)
    agreement.member(MemberRole.STATION_CHIEF).name = "Sigrid Haugland"
    db.session.commit()
    client.sign_in(people.coordinator)
    client.choose_language("en")
    check = text_of(client.get(f"/agreements/{agreement.id}/check"))
    assert "Who will sign" in check
    assert "Belongs to Siv Stasjonssjef, not Sigrid Haugland. Correct the name or the e-mail address." in check
    assert "Existing account: Ola Ordførar" in check
    assert "Finalise the agreement</button>" not in check
    assert f'href="/agreements/{agreement.id}/steps/members?return=check"' in client.get(f"/agreements/{agreement.id}/check").get_data(as_text=True)

    # No finalise button is shown; a finalise sent anyway, for the draft as it is, is refused all the same.
    response = client.submit(f"/agreements/{agreement.id}/finalise", {"draft_version": reload(agreement.id).draft_version},
                             token_from=f"/agreements/{agreement.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/agreements/{agreement.id}/check")
    assert reload(agreement.id).status is AgreementStatus.DRAFT and reload(agreement.id).document is None
    assert "is not that of Sigrid Haugland" in text_of(client.get(response.headers["Location"]))

    # Corrected (here the name), it finalises, and an address nobody has yet is an invitation.
    agreement.member(MemberRole.STATION_CHIEF).name = people.station_chief.name
    agreement.member(MemberRole.MAYOR, factories.VOSS).email = "ny.ordforar@voss.example.org"
    db.session.commit()
    check = text_of(client.get(f"/agreements/{agreement.id}/check"))
    assert "No account yet" in check and "Existing account: Siv Stasjonssjef" in check
    client.submit(f"/agreements/{agreement.id}/finalise", token_from=f"/agreements/{agreement.id}")
    assert reload(agreement.id).status is AgreementStatus.FINALISED


def test_the_signing_page_refuses_an_account_the_agreement_does_not_name_and_asks_for_a_correction(client, people, finalised, outbox):
    # The account changed hands after finalising: the agreement still names Siv Stasjonssjef.
    people.station_chief.name = "Sigrid Haugland"
    db.session.commit()
    before = stored_bytes(finalised.id)
    for path in outbox.glob("*.eml"):
        path.unlink()

    client.sign_in(people.station_chief)
    client.choose_language("en")
    page = text_of(client.get(f"/agreements/{finalised.id}/sign"))
    assert "You cannot sign in another person's name" in page
    assert "The agreement names Siv Stasjonssjef for this signature, but you are signed in as Sigrid Haugland." in page
    assert 'name="password"' not in page  # no signing form

    refused = sign_as(client, people.station_chief, finalised.id)
    assert refused.status_code == 409
    assert "The agreement names someone else for this signature than the holder of this account or key." in text_of(refused)
    assert stored_bytes(finalised.id) == before

    # The request to the coordinators is a decline with the reason filled in: a new version to correct.
    reason = client.get(f"/agreements/{finalised.id}/sign").get_data(as_text=True)
    assert "Ask the coordinators to correct the name" in reason
    response = client.submit(f"/agreements/{finalised.id}/decline",
                             {"reason": "The agreement names Siv Stasjonssjef for this signature, but the e-mail address "
                                        f"{people.station_chief.email} belongs to my account in the name of Sigrid Haugland."},
                             token_from=f"/agreements/{finalised.id}/sign")
    assert response.status_code == 302 and reload(finalised.id).status is AgreementStatus.DECLINED
    new = db.session.scalar(select(Agreement).where(Agreement.previous_version_id == finalised.id))
    assert new is not None and new.status is AgreementStatus.DRAFT
    (message,) = [sent for sent in messages(outbox) if people.coordinator.email in sent["To"]]
    assert "in the name of Sigrid Haugland" in message.get_content()


def test_a_key_whose_certificate_names_someone_else_cannot_sign(client, people, finalised):
    key = new_private_key("ec")
    other = SignatoryIdentity("Sigrid Haugland", "Politistasjonssjef", "Vest politidistrikt", people.station_chief.email)
    certificate = current_pki().issue_signing_certificate(other, key.public_key())
    p12 = pkcs12.serialize_key_and_certificates(b"x", key, certificate, None,
                                                serialization.BestAvailableEncryption(P12_PASSPHRASE.encode()))
    before = stored_bytes(finalised.id)
    refused = sign_with_pkcs12(client, people.station_chief, finalised.id, p12)
    assert refused.status_code == 409 and "Nothing was signed." in text_of(refused)
    assert stored_bytes(finalised.id) == before
    assert all(slot.signed_at is None for slot in reload(finalised.id).signature_slots)


def test_who_signed_is_read_from_the_certificate_everywhere(client, people, finalised):
    """The station chief signs with a certificate spelling the name in capitals: the lists, the audit trail
    and the archive's metadata show the certificate's spelling, not the typed one."""
    key = new_private_key("ec")
    identity = SignatoryIdentity("SIV STASJONSSJEF", "Politistasjonssjef", "Vest politidistrikt", people.station_chief.email)
    certificate = current_pki().issue_signing_certificate(identity, key.public_key())
    p12 = pkcs12.serialize_key_and_certificates(b"x", key, certificate, None,
                                                serialization.BestAvailableEncryption(P12_PASSPHRASE.encode()))
    assert sign_with_pkcs12(client, people.station_chief, finalised.id, p12).status_code == 302
    assert sign_as(client, people.mayor, finalised.id).status_code == 302
    signed = reload(finalised.id)
    assert signed.status is AgreementStatus.ACTIVE
    chief = next(slot for slot in signed.signature_slots if slot.role is MemberRole.STATION_CHIEF)
    assert (chief.name, chief.signer_name) == ("Siv Stasjonssjef", "SIV STASJONSSJEF")

    page = text_of(client.get(f"/agreements/{signed.id}"))
    assert "SIV STASJONSSJEF, Politistasjonssjef" in page
    signed_events = db.session.scalars(select(AuditEvent).where(AuditEvent.agreement_id == signed.id, AuditEvent.action == "signed")).all()
    assert sorted(event.signer_name for event in signed_events) == ["Ola Ordførar", "SIV STASJONSSJEF"]

    client.sign_in(people.archivist)
    files = zipfile.ZipFile(io.BytesIO(client.get(f"/archive/{signed.id}/package.zip").data))
    meta = json.loads(files.read("metadata.json"))
    by_field = {entry["field"]: entry for entry in meta["signatories"]}
    assert by_field["Signatur_stasjonssjef"]["name"] == "SIV STASJONSSJEF"
    assert by_field["Signatur_stasjonssjef"]["name_in_agreement"] == "Siv Stasjonssjef"
    assert "<name>SIV STASJONSSJEF</name>" in files.read("metadata.xml").decode()
    trail = json.loads(files.read("audit-trail.json"))
    assert sorted(event["signer"] for event in trail if event["action"] == "signed") == ["Ola Ordførar", "SIV STASJONSSJEF"]
