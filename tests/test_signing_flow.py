"""Finalising seals the PDF and invites the signatories; they sign (portal-issued key or an uploaded
PKCS#12 file), or decline; the last signature closes the document at B-LTA and activates the agreement."""
from __future__ import annotations

import email
import email.policy
import hashlib
import io
import re
import shutil
import subprocess
import threading

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from sqlalchemy import func, select

from portal import clock
from portal.agreements import signing
from portal.extensions import db
from portal.models import Agreement, AgreementDocument, AgreementStatus, AuditEvent, Role, SignatureSlot, User
from portal.signing import verify
from portal.signing.pki import DemoPki, SignatoryIdentity, new_private_key
from portal.signing.services import current_pki

from . import factories
from .conftest import PASSWORD, Browserless, csrf_token_from, signing_settings

P12_PASSPHRASE = "stasjonssjef-passord"


def reload(agreement_id: int) -> Agreement:
    db.session.expire_all()
    found = db.session.get(Agreement, agreement_id)
    assert found is not None
    return found


def stored_bytes(agreement_id: int) -> bytes:
    db.session.expire_all()
    document = db.session.scalar(select(AgreementDocument).where(AgreementDocument.agreement_id == agreement_id))
    assert document is not None
    return document.current_pdf


def messages(outbox) -> list[email.message.EmailMessage]:  # type: ignore[no-untyped-def]
    return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default) for path in sorted(outbox.glob("*.eml"))]


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


@pytest.fixture(autouse=True)
def portal_held_keys(app):  # type: ignore[no-untyped-def]
    """These tests sign through the page's form with the key sources the server uses: the portal-held key
    (which an administrator must allow: off by default) and an uploaded PKCS#12 file."""
    with signing_settings(app, PORTAL_HELD_KEYS=True):
        yield


@pytest.fixture
def finalised(client, people, outbox) -> Agreement:
    """A complete agreement for Voss whose mayor and station chief are the people fixture's signatories,
    finalised by the coordinator through the page."""
    agreement = factories.complete_agreement(people.coordinator)
    factories.name_signatories(agreement, people.mayor, people.station_chief)
    for member in agreement.members:
        if member.role.value == "mayor":
            member.email = people.mayor.email.upper()  # matched without regard to case
    db.session.commit()
    client.sign_in(people.coordinator)
    client.choose_language("en")
    response = client.submit(f"/agreements/{agreement.id}/finalise", token_from=f"/agreements/{agreement.id}")
    assert response.status_code == 302
    return reload(agreement.id)


def pkcs12_for(user: User) -> bytes:
    key = new_private_key("ec")
    identity = SignatoryIdentity(user.name, user.title, user.organisation.name, user.email)
    certificate = current_pki().issue_signing_certificate(identity, key.public_key())
    return pkcs12.serialize_key_and_certificates(
        b"stasjonssjef", key, certificate, None, serialization.BestAvailableEncryption(P12_PASSPHRASE.encode())
    )


def sign_as(client: Browserless, user: User, agreement_id: int, password: str = PASSWORD, **extra):  # type: ignore[no-untyped-def]
    client.sign_in(user)
    client.choose_language("en")
    url = f"/agreements/{agreement_id}/sign"
    data = {"password": password, "key_source": "portal", **extra}
    return client.submit(url, data, content_type="multipart/form-data")


def sign_with_pkcs12(client: Browserless, user: User, agreement_id: int, p12: bytes, passphrase: str = P12_PASSPHRASE):  # type: ignore[no-untyped-def]
    return sign_as(client, user, agreement_id, key_source="pkcs12", passphrase=passphrase,
                   pkcs12_file=(io.BytesIO(p12), "stasjonssjef.p12"))


def test_finalising_seals_the_pdf_creates_a_slot_per_signatory_and_mails_them(finalised, people, outbox, password_hash):
    assert finalised.status is AgreementStatus.FINALISED
    document = finalised.document
    assert document.signed_pdf is not None and document.signed_pdf.startswith(document.pdf), "an incremental update"
    assert document.signed_sha256 == hashlib.sha256(document.signed_pdf).hexdigest()
    report = verify.verify_pdf(document.signed_pdf, signing.signing_setup().trust_roots)
    (seal,) = report.signatures
    assert seal.certification and seal.intact and seal.valid and seal.trusted
    assert report.verdict == verify.Verdict.INCOMPLETE
    assert sorted(report.empty_signature_fields) == ["Signatur_ordforar_4621", "Signatur_stasjonssjef"]

    slots = {slot.field_name: slot for slot in finalised.signature_slots}
    assert slots["Signatur_ordforar_4621"].user_id == people.mayor.id
    assert slots["Signatur_stasjonssjef"].user_id == people.station_chief.id
    sent = {message["To"].lower(): message for message in messages(outbox)}
    assert set(sent) == {people.mayor.email, people.station_chief.email}
    for message in sent.values():
        assert f"https://portal.test/agreements/{finalised.id}/sign" in message.get_content()
        assert "/invitation/" not in message.get_content()


def test_a_signatory_without_an_account_is_invited_into_the_right_organisation(client, people, outbox):
    agreement = factories.complete_agreement(people.coordinator, municipality_numbers=(factories.VOSS, factories.ULVIK))
    db.session.commit()
    client.sign_in(people.coordinator)
    client.submit(f"/agreements/{agreement.id}/finalise", token_from=f"/agreements/{agreement.id}")
    db.session.expire_all()
    invited = db.session.scalar(select(User).where(User.email == "ordforar.4620@example.org"))
    assert invited is not None and invited.role is Role.SIGNATORY and invited.password_hash is None
    assert invited.organisation.municipality_number == factories.ULVIK
    chief = db.session.scalar(select(User).where(User.email == "kari.nordmann@politiet.example.org"))
    assert chief is not None and chief.organisation.police_district.name_bokmal == "Vest politidistrikt"
    (message,) = [m for m in messages(outbox) if m["To"] == "ordforar.4620@example.org"]
    body = message.get_content()
    assert f"/agreements/{agreement.id}/sign" in body and "https://portal.test/invitation/" in body
    assert len(reload(agreement.id).signature_slots) == 3


def test_mayor_and_station_chief_sign_and_the_agreement_closes_at_b_lta(client, people, finalised, tmp_path):
    client.sign_in(people.mayor)
    client.choose_language("en")
    page = client.get(f"/agreements/{finalised.id}/sign")
    assert page.status_code == 200
    text = text_of(page)
    assert "Sign the agreement" in text and "Not signed yet" in text and finalised.document.signed_sha256[:16] in text

    response = sign_as(client, people.mayor, finalised.id)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "You have signed." in text_of(client.get(response.location))
    assert reload(finalised.id).status is AgreementStatus.FINALISED

    response = sign_with_pkcs12(client, people.station_chief, finalised.id, pkcs12_for(people.station_chief))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "the agreement is in force" in text_of(client.get(response.location))

    agreement = reload(finalised.id)
    assert agreement.status is AgreementStatus.ACTIVE
    # in force from its start date, or the day of the last signature in Norway if that is later
    assert agreement.active_from == max(agreement.start_date, clock.today()) and agreement.renewal_due_on is not None
    assert agreement.renewal_due_on.year == agreement.active_from.year + 1
    assert agreement.document.pades_level == "B-LTA"
    sources = {slot.field_name: slot.key_source for slot in agreement.signature_slots}
    assert sources == {"Signatur_ordforar_4621": "portal", "Signatur_stasjonssjef": "pkcs12"}

    download = client.get(f"/agreements/{finalised.id}/document.pdf")
    assert download.data == agreement.document.signed_pdf
    assert "B-LTA" in text_of(client.get(f"/agreements/{finalised.id}"))

    report = verify.verify_pdf(download.data, signing.signing_setup().trust_roots)
    assert report.verdict == verify.Verdict.VALID and report.pades_level == "B-LTA"
    assert {s.signer_name for s in report.signatures} >= {people.mayor.name, people.station_chief.name}

    path = tmp_path / "signed.pdf"
    path.write_bytes(download.data)
    if shutil.which("pdfsig"):
        out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        statuses = re.findall(r"Signature Validation: (.+)", out.stdout)
        cms = [s for s in statuses if "not yet been verified" not in s]  # pdfsig cannot check RFC 3161 document time-stamps
        assert len(cms) == 3 and all(s == "Signature is Valid." for s in cms), out.stdout
    if shutil.which("qpdf"):
        assert subprocess.run(["qpdf", "--check", str(path)], capture_output=True).returncode == 0

    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.agreement_id == finalised.id)))
    assert {"finalised", "sealed", "opened", "signed", "active", "downloaded"} <= actions


def test_the_level_stored_with_each_signature_is_the_level_its_pdf_reaches(client, people, finalised):
    """The portal knows the level from how it signed (time-stamp, validation data) without reading the
    PDF again: what it stores must be what the signed PDF shows."""
    from portal.signing import pades

    assert sign_as(client, people.mayor, finalised.id).status_code == 302
    document = reload(finalised.id).document
    assert document.pades_level == pades.pades_level(document.signed_pdf).value == "B-LT"


def test_a_second_signature_by_the_same_person_is_refused(client, people, finalised):
    assert sign_as(client, people.mayor, finalised.id).status_code == 302
    before = stored_bytes(finalised.id)
    again = sign_as(client, people.mayor, finalised.id)
    assert again.status_code == 409
    assert "You have already signed this agreement." in text_of(again)
    assert stored_bytes(finalised.id) == before


def test_a_wrong_password_signs_nothing(client, people, finalised):
    before = stored_bytes(finalised.id)
    response = sign_as(client, people.mayor, finalised.id, password="feil passord heilt")
    assert response.status_code == 400
    assert "The password is not right. Nothing was signed." in text_of(response)
    assert stored_bytes(finalised.id) == before
    assert reload(finalised.id).signature_slots[0].signed_at is None


def test_a_wrong_pkcs12_passphrase_signs_nothing(client, people, finalised):
    before = stored_bytes(finalised.id)
    response = sign_with_pkcs12(client, people.station_chief, finalised.id, pkcs12_for(people.station_chief), passphrase="feil")
    assert response.status_code == 400
    assert "The passphrase does not open the certificate file." in text_of(response)
    assert stored_bytes(finalised.id) == before


def test_a_certificate_file_from_a_ca_the_portal_does_not_accept_signs_nothing(client, people, finalised, tmp_path):
    """The station chief's own name, certified by a CA that copies the portal's CA names but not its keys."""
    impostor = DemoPki(tmp_path / "other-pki", "http://127.0.0.1:9")
    key = new_private_key("ec")
    chief = people.station_chief
    certificate = impostor.issue_signing_certificate(SignatoryIdentity(chief.name, chief.title, chief.organisation.name, chief.email),
                                                     key.public_key())
    p12 = pkcs12.serialize_key_and_certificates(b"stasjonssjef", key, certificate, [impostor.issuing_certificate],
                                                serialization.BestAvailableEncryption(P12_PASSPHRASE.encode()))
    before = stored_bytes(finalised.id)
    client.sign_in(chief)
    client.choose_language("nb")
    url = f"/agreements/{finalised.id}/sign"
    response = client.submit(url, {"password": PASSWORD, "key_source": "pkcs12", "passphrase": P12_PASSPHRASE,
                                   "pkcs12_file": (io.BytesIO(p12), "stasjonssjef.p12")}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Sertifikatet til denne nøkkelen er ikke utstedt av en instans portalen godtar for signaturer." in text_of(response)
    assert stored_bytes(finalised.id) == before
    assert all(slot.signed_at is None for slot in reload(finalised.id).signature_slots)


def test_someone_without_a_slot_is_refused(client, people, finalised, password_hash):
    other = factories.user("ordforar@bergen.example.org", Role.SIGNATORY, people.mayor.organisation, password_hash)
    db.session.commit()
    before = stored_bytes(finalised.id)
    client.sign_in(other)
    assert client.get(f"/agreements/{finalised.id}/sign").status_code == 403
    assert sign_as(client, other, finalised.id).status_code == 403
    assert stored_bytes(finalised.id) == before


def test_declining_returns_a_new_version_to_the_coordinators(client, people, finalised, outbox):
    for path in outbox.glob("*.eml"):
        path.unlink()
    client.sign_in(people.station_chief)
    response = client.submit(f"/agreements/{finalised.id}/decline", {"reason": "§ 2 må nemne politikontakten."},
                             token_from=f"/agreements/{finalised.id}/sign")
    assert response.status_code == 302
    old = reload(finalised.id)
    assert old.status is AgreementStatus.DECLINED
    slot = next(s for s in old.signature_slots if s.field_name == "Signatur_stasjonssjef")
    assert slot.decline_reason == "§ 2 må nemne politikontakten." and slot.declined_at is not None
    new = db.session.scalar(select(Agreement).where(Agreement.previous_version_id == old.id))
    assert new is not None and new.status is AgreementStatus.DRAFT and new.version == 2 and new.reference == old.reference
    assert [p.municipality_number for p in new.parties] == ["4621"] and len(new.members) == len(old.members)
    assert len(new.priority_areas) == len(old.priority_areas) and new.place == old.place
    (message,) = [sent for sent in messages(outbox) if people.coordinator.email in sent["To"]]
    assert people.coordinator.email in message["To"] and people.police_coordinator.email in message["To"]
    assert "§ 2 må nemne politikontakten." in message.get_content()

    # the old version cannot be signed any more, and nothing changes it
    before = stored_bytes(old.id)
    refused = sign_as(client, people.mayor, old.id)
    assert refused.status_code == 409 and "This version was declined" in text_of(refused)
    assert stored_bytes(old.id) == before

    # the coordinator finds the new version at «check your answers»
    client.sign_in(people.coordinator)
    client.choose_language("en")
    assert client.get(f"/agreements/{new.id}/check").status_code == 200
    assert "Declined by a signatory" in text_of(client.get(f"/agreements/{old.id}"))


def test_a_superseded_version_cannot_be_signed(client, people, finalised):
    agreement = reload(finalised.id)
    agreement.status = AgreementStatus.SUPERSEDED
    db.session.commit()
    before = stored_bytes(finalised.id)
    response = sign_as(client, people.mayor, finalised.id)
    assert response.status_code == 409 and "replaced by a newer one" in text_of(response)
    assert stored_bytes(finalised.id) == before


def test_two_signatories_signing_at_the_same_moment_both_count(app, people, finalised, monkeypatch):
    p12 = pkcs12_for(people.station_chief)
    barrier = threading.Barrier(2)
    # Both sign the same stored revision before either stores its result: one store must lose and sign again.
    both_signed = threading.Barrier(2)
    real_sign_field = signing.pades.sign_field
    calls: list[str] = []
    waited: set[int] = set()

    def sign_field_in_step(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = real_sign_field(*args, **kwargs)
        calls.append(args[1])
        if threading.get_ident() not in waited:
            waited.add(threading.get_ident())
            both_signed.wait(timeout=60)
        return result

    monkeypatch.setattr(signing.pades, "sign_field", sign_field_in_step)
    results: dict[str, int] = {}
    errors: list[BaseException] = []

    def run(name: str, user_id: int) -> None:
        try:
            with app.app_context():
                client = Browserless(app.test_client())
                user = db.session.get(User, user_id)
                client.sign_in(user)
                token = client.csrf_token(f"/agreements/{finalised.id}/sign")
                data = {"password": PASSWORD, "csrf_token": token, "key_source": "portal"}
                if name == "chief":
                    data.update(key_source="pkcs12", passphrase=P12_PASSPHRASE, pkcs12_file=(io.BytesIO(p12), "s.p12"))
                barrier.wait(timeout=30)
                response = client.post(f"/agreements/{finalised.id}/sign", data=data, content_type="multipart/form-data")
                results[name] = response.status_code
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=run, args=("mayor", people.mayor.id)), threading.Thread(target=run, args=("chief", people.station_chief.id))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert results == {"mayor": 302, "chief": 302}
    assert len(calls) == 3, f"one of the two signed again on top of the other: {calls}"
    agreement = reload(finalised.id)
    assert agreement.status is AgreementStatus.ACTIVE
    report = verify.verify_pdf(agreement.document.signed_pdf, signing.signing_setup().trust_roots)
    assert report.verdict == verify.Verdict.VALID
    assert sorted(s.field for s in report.signatures if not s.certification) == ["Signatur_ordforar_4621", "Signatur_stasjonssjef"]
    assert all(slot.signed_at is not None for slot in agreement.signature_slots)


@pytest.fixture
def fully_signed(client, people, finalised) -> bytes:
    assert sign_as(client, people.mayor, finalised.id).status_code == 302
    assert sign_as(client, people.station_chief, finalised.id).status_code == 302
    client.delete_cookie("session")
    return stored_bytes(finalised.id)


def verify_upload(client: Browserless, data: bytes, filename: str = "avtale.pdf"):  # type: ignore[no-untyped-def]
    client.choose_language("en")
    return client.submit("/verify", {"pdf": (io.BytesIO(data), filename)}, content_type="multipart/form-data")


def test_the_verify_page_says_a_signed_agreement_is_valid(client, fully_signed):
    response = verify_upload(client, fully_signed)
    assert response.status_code == 200
    text = text_of(response)
    assert "Valid. Every signature is intact" in text
    assert "Ola Ordførar" in text and "Siv Stasjonssjef" in text and "B-LTA" in text
    assert "Signatur_stasjonssjef" in text and "from a time-stamp" in text

    as_json = client.post("/verify.json", data={"pdf": (io.BytesIO(fully_signed), "a.pdf")}, content_type="multipart/form-data")
    assert as_json.status_code == 200 and as_json.json["verdict"] == "valid" and as_json.json["pades_level"] == "B-LTA"
    assert len(as_json.json["signatures"]) == 3
    raw = client.post("/verify.json", data=fully_signed, content_type="application/pdf")
    assert raw.status_code == 200 and raw.json["verdict"] == "valid"


def test_one_byte_changed_inside_the_signed_range_is_reported_as_altered(client, fully_signed):
    damaged = bytearray(fully_signed)
    position = fully_signed.index(b"/Producer") + 3  # in the first revision: covered by every signature
    damaged[position] ^= 0x01
    response = verify_upload(client, bytes(damaged))
    assert response.status_code == 200
    assert "Altered. The document has been changed after it was signed." in text_of(response)
    as_json = client.post("/verify.json", data=bytes(damaged), content_type="application/pdf")
    assert as_json.json["verdict"] == "altered"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"Dette er ikkje ein PDF.\n", "The file is not a PDF."),
        (b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n", "The PDF is damaged or incomplete"),
    ],
    ids=["not a pdf", "truncated"],
)
def test_the_verify_page_explains_files_it_cannot_verify(client, data, message):
    response = verify_upload(client, data)
    assert response.status_code == 422
    assert message in text_of(response)
    as_json = client.post("/verify.json", data=data, content_type="application/pdf")
    assert as_json.status_code == 422 and as_json.json["error"] in {"not_pdf", "corrupt"}


def test_the_verify_page_asks_for_a_file(client):
    client.choose_language("en")
    response = client.submit("/verify", {})
    assert response.status_code == 400 and "Choose the PDF file to verify" in text_of(response)


def test_the_demo_leaves_an_agreement_due_for_renewal_and_one_superseded_by_its_signed_renewal():
    from portal.cli import create_demo
    from portal.evaluation import has_evaluation

    create_demo()
    db.session.expire_all()
    (due,) = db.session.scalars(select(Agreement).where(Agreement.status == AgreementStatus.RENEWAL_DUE))
    (renewal,) = db.session.scalars(select(Agreement).where(Agreement.status == AgreementStatus.ACTIVE))
    (superseded,) = db.session.scalars(select(Agreement).where(Agreement.status == AgreementStatus.SUPERSEDED))
    assert due.renewal_due_on <= clock.today() and [p.municipality.name for p in due.parties] == ["Voss"]
    assert renewal.renewal_of_id == superseded.id and renewal.reference == superseded.reference
    assert has_evaluation(superseded)
    for signed, emails in ((due, ["ordforar@voss.demo", "stasjonssjef@vest.demo"]),
                           (renewal, ["ordforer@bergen.demo", "stasjonssjef@vest.demo"])):
        assert signed.document.pades_level == "B-LTA"
        report = verify.verify_pdf(signed.document.signed_pdf, signing.signing_setup().trust_roots)
        assert report.verdict == verify.Verdict.VALID
        assert [s.signer_email for s in report.signatures if not s.certification] == emails
        assert {slot.key_source for slot in signed.signature_slots} == {"browser"}
    # Every demo signature is made by a key the portal never held: it keeps no signatory's private key.
    from portal.signing.models import PortalSigningKey

    assert db.session.scalars(select(PortalSigningKey)).all() == []


def test_the_demo_people_and_agreements_fit_together_so_the_decline_journey_works(client, outbox):
    """Every signatory the demo's agreements name is a demo person, by name and e-mail address; the demo
    draft for Voss and Ulvik finalises, and its mayor, ordforar@voss.demo, can open it, and decline it
    (issue 9, item 4)."""
    from portal.cli import DEMO_PASSWORD, DEMO_PEOPLE, create_demo

    people = create_demo()
    demo_names = {email: name for email, name, *_rest in DEMO_PEOPLE}
    for agreement in db.session.scalars(select(Agreement)):
        if agreement.parties and all(signatory.email for signatory in signing.signatory_accounts(agreement)):
            for signatory in signing.signatory_accounts(agreement):
                assert demo_names.get(signatory.email) == signatory.name, (agreement.id, signatory)
                assert not signatory.must_be_corrected
    draft = next(a for a in db.session.scalars(select(Agreement).where(Agreement.status == AgreementStatus.DRAFT))
                 if len(a.parties) == 2)
    client.sign_in(people["koordinator@voss.demo"], DEMO_PASSWORD)
    client.choose_language("en")
    client.submit(f"/agreements/{draft.id}/finalise", token_from=f"/agreements/{draft.id}")
    finalised = reload(draft.id)
    assert finalised.status is AgreementStatus.FINALISED
    assert {slot.user.email for slot in finalised.signature_slots} == {"ordforar@voss.demo", "ordforar@ulvik.demo", "stasjonssjef@vest.demo"}
    assert db.session.scalar(select(func.count(User.id)).where(User.name == "Ola Ordførar")) == 1  # no second «Ola Ordførar»

    client.sign_in(people["ordforar@voss.demo"], DEMO_PASSWORD)
    client.choose_language("en")
    page = client.get(f"/agreements/{draft.id}/sign")
    assert page.status_code == 200 and "Decline to sign" in text_of(page)
    response = client.submit(f"/agreements/{draft.id}/decline", {"reason": "Ulvik vil ha med skulane i § 3."},
                             token_from=f"/agreements/{draft.id}/sign")
    assert response.status_code == 302 and reload(draft.id).status is AgreementStatus.DECLINED


def test_after_a_decline_the_new_version_says_who_declined_and_why_and_the_other_signatories_are_told(client, people, finalised, outbox):
    """Issue 9, item 7: the reason and who declined on the new version's page and «check your answers»; the
    other signatories get an e-mail, and their signing link leads on to the new version once finalised."""
    for path in outbox.glob("*.eml"):
        path.unlink()
    client.sign_in(people.station_chief)
    client.submit(f"/agreements/{finalised.id}/decline", {"reason": "§ 2 må nemne politikontakten."},
                  token_from=f"/agreements/{finalised.id}/sign")
    new = db.session.scalar(select(Agreement).where(Agreement.previous_version_id == finalised.id))
    assert new is not None

    to_mayor = [message for message in messages(outbox) if message["To"].lower() == people.mayor.email]
    assert len(to_mayor) == 1
    body = to_mayor[0].get_content()
    assert "Siv Stasjonssjef" in body and "§ 2 må nemne politikontakten." in body
    assert f"https://portal.test/agreements/{finalised.id}/sign" in body and "2" in to_mayor[0]["Subject"] + body
    assert not [message for message in messages(outbox) if message["To"].lower() == people.station_chief.email]

    client.sign_in(people.coordinator)
    client.choose_language("en")
    for url in (f"/agreements/{new.id}", f"/agreements/{new.id}/check"):
        page = text_of(client.get(url))
        top = page[page.index("<h1"):page.index("<h1") + 1200]
        assert "Version 1 was declined" in top, url
        assert "Siv Stasjonssjef (Politistasjonssjef, Vest politidistrikt) declined to sign it on" in top
        assert "§ 2 må nemne politikontakten." in top

    # Finalised again: the mayor's old link leads to the new version.
    client.submit(f"/agreements/{new.id}/finalise", token_from=f"/agreements/{new.id}")
    assert reload(new.id).status is AgreementStatus.FINALISED
    client.sign_in(people.mayor)
    client.choose_language("en")
    response = client.get(f"/agreements/{finalised.id}/sign")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/agreements/{new.id}/sign")
    assert "Version 1 was declined. This is version 2, which replaces it." in text_of(client.get(response.headers["Location"]))


def test_the_signing_page_says_where_the_agreement_stands_and_which_row_is_yours(client, people, finalised):
    """Issue 9, item 8: «you have signed», then «signed by everyone», and the signatory's own row marked."""
    def state_and_own_row(response) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
        html = response.get_data(as_text=True)
        state = re.search(r'id="where-it-stands">\s*<p class="ds-paragraph">([^<]*)</p>', html)
        rows = re.findall(r'<tr data-field="([^"]+)"[^>]*data-yours="true"', html)
        return (state.group(1).strip() if state else ""), rows

    client.sign_in(people.mayor)
    client.choose_language("en")
    assert state_and_own_row(client.get(f"/agreements/{finalised.id}/sign")) == ("", ["Signatur_ordforar_4621"])
    assert "(you)" in text_of(client.get(f"/agreements/{finalised.id}/sign"))
    assert sign_as(client, people.mayor, finalised.id).status_code == 302
    assert state_and_own_row(client.get(f"/agreements/{finalised.id}/sign")) == (
        "You have signed. 1 signature is still missing.", ["Signatur_ordforar_4621"])

    assert sign_as(client, people.station_chief, finalised.id).status_code == 302
    assert state_and_own_row(client.get(f"/agreements/{finalised.id}/sign")) == (
        "The agreement is signed by everyone and is in force.", ["Signatur_stasjonssjef"])
    client.sign_in(people.mayor)
    client.choose_language("nb")
    page = text_of(client.get(f"/agreements/{finalised.id}/sign"))
    assert "Avtalen er signert av alle" in page and "(deg)" in page


def test_a_signatory_not_on_the_agreement_is_told_why_not_just_refused(client, people, finalised, password_hash):
    other = factories.user("varaordforar@voss.example.org", Role.SIGNATORY, people.mayor.organisation, password_hash, "Vera Varaordførar")
    db.session.commit()
    client.sign_in(other)
    client.choose_language("en")
    response = client.get(f"/agreements/{finalised.id}/sign")
    assert response.status_code == 403
    page = text_of(response)
    assert f"You are not a signatory of agreement {finalised.reference}" in page
    assert "does not name this e-mail address for any of its signatures" in page
    assert "Ola Ordførar, Ordførar" in page and "ask the coordinators to give your e-mail address" in page


def test_a_failure_while_sealing_stores_nothing(client, people, monkeypatch, outbox):
    agreement = factories.complete_agreement(people.coordinator)
    db.session.commit()

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("the seal's token is gone")

    monkeypatch.setattr(signing.pades, "seal_and_certify", broken)
    client.sign_in(people.coordinator)
    client.submit(f"/agreements/{agreement.id}/finalise", token_from=f"/agreements/{agreement.id}")
    assert reload(agreement.id).status is AgreementStatus.DRAFT
    assert db.session.scalar(select(AgreementDocument).where(AgreementDocument.agreement_id == agreement.id)) is None
    assert db.session.scalar(select(SignatureSlot).where(SignatureSlot.agreement_id == agreement.id)) is None
    assert messages(outbox) == []


def test_the_portal_key_is_kept_and_enrolled_again_only_when_the_password_changed(people):
    from portal.auth.passwords import set_password
    from portal.signing.models import PortalSigningKey

    first = signing._portal_signer(people.mayor, PASSWORD)
    again = signing._portal_signer(people.mayor, PASSWORD)
    assert first.signing_cert.dump() == again.signing_cert.dump()
    set_password(people.mayor, "nytt passord etter bytte")
    db.session.commit()
    with pytest.raises(signing.WrongPassword):  # the old password opened the old key, and must not sign any more
        signing._portal_signer(people.mayor, PASSWORD)
    changed = signing._portal_signer(people.mayor, "nytt passord etter bytte")
    assert changed.signing_cert.dump() != first.signing_cert.dump()
    db.session.commit()
    stored = db.session.scalars(select(PortalSigningKey).where(PortalSigningKey.user_id == people.mayor.id).order_by(PortalSigningKey.id)).all()
    assert len(stored) == 2 and stored[0].revoked_at is not None and stored[1].revoked_at is None


def test_once_the_key_is_enrolled_opening_it_is_the_password_check(people, monkeypatch):
    from portal.auth import passwords

    signing._portal_signer(people.mayor, PASSWORD)
    db.session.commit()

    def no_second_hash(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the password was checked with argon2 as well as by opening the key")

    monkeypatch.setattr(passwords, "password_matches", no_second_hash)
    assert signing._portal_signer(people.mayor, PASSWORD).signing_cert is not None
    for _ in range(4):
        with pytest.raises(signing.WrongPassword):
            signing._portal_signer(people.mayor, "ikkje passordet")
    from portal.models import PasswordFailure

    assert db.session.scalar(select(func.count()).select_from(PasswordFailure).where(PasswordFailure.account == people.mayor.email)) == 4
    with pytest.raises(signing.WrongPassword):
        signing._portal_signer(people.mayor, "ikkje passordet")
    with pytest.raises(signing.Locked):  # the same lock-out as signing in, on the fast path too
        signing._portal_signer(people.mayor, PASSWORD)


def test_wrong_passwords_on_the_signing_page_lock_like_signing_in(client, people, finalised, app):
    before = stored_bytes(finalised.id)
    client.sign_in(people.mayor)
    client.choose_language("en")
    url = f"/agreements/{finalised.id}/sign"
    for _attempt in range(app.config["LOCKOUT_THRESHOLD"]):
        wrong = client.submit(url, {"password": "feil passord heilt", "key_source": "portal"}, content_type="multipart/form-data")
        assert wrong.status_code == 400
    locked = client.submit(url, {"password": PASSWORD, "key_source": "portal"}, content_type="multipart/form-data")
    assert locked.status_code == 400 and "Too many wrong passwords" in text_of(locked)
    assert stored_bytes(finalised.id) == before


def test_a_stranger_guessing_the_mayors_password_does_not_keep_the_mayor_from_signing(client, people, finalised, app):
    """Wrong passwords for the mayor's account from another address throttle that address, not the mayor
    signing from their own (issue 9, item 5; OWASP ASVS 2.2.1)."""
    from .test_sign_in import OWNER, STRANGER, sign_in_from

    for _attempt in range(app.config["LOCKOUT_THRESHOLD"] + 1):
        assert sign_in_from(client, STRANGER, people.mayor.email, "feil passord heilt").status_code == 400
    client.delete_cookie("session")
    assert sign_in_from(client, OWNER, people.mayor.email, PASSWORD).status_code == 302
    url = f"/agreements/{finalised.id}/sign"
    token = csrf_token_from(client.get(url, environ_base=OWNER).get_data(as_text=True))
    signed = client.post(url, data={"password": PASSWORD, "key_source": "portal", "csrf_token": token},
                         content_type="multipart/form-data", environ_base=OWNER)
    assert signed.status_code == 302
    assert next(slot for slot in reload(finalised.id).signature_slots if slot.user_id == people.mayor.id).signed_at is not None


def test_without_a_time_stamp_service_the_agreement_closes_at_the_level_it_has_and_says_so(client, people, monkeypatch, outbox):
    monkeypatch.setattr(signing.signing_setup(), "timestamper", None)
    agreement = factories.complete_agreement(people.coordinator)
    factories.name_signatories(agreement, people.mayor, people.station_chief)
    db.session.commit()
    client.sign_in(people.coordinator)
    client.submit(f"/agreements/{agreement.id}/finalise", token_from=f"/agreements/{agreement.id}")
    assert sign_as(client, people.mayor, agreement.id).status_code == 302
    assert sign_as(client, people.station_chief, agreement.id).status_code == 302
    signed = reload(agreement.id)
    assert signed.status is AgreementStatus.ACTIVE and signed.document.pades_level == "B-B"
    page = text_of(client.get(f"/agreements/{agreement.id}"))
    assert "B-B" in page and "No time-stamp service is configured, so the document stays at this level; it is not B-LTA." in page


def test_the_verify_page_refuses_encrypted_and_too_large_files(client, monkeypatch, fully_signed):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(fully_signed)))
    writer.encrypt("hemmeleg")
    encrypted = io.BytesIO()
    writer.write(encrypted)
    response = verify_upload(client, encrypted.getvalue())
    assert response.status_code == 422 and "The PDF is encrypted" in text_of(response)

    monkeypatch.setattr(signing.signing_setup(), "verify_max_bytes", 1024 * 1024)
    response = verify_upload(client, fully_signed + b" " * (1024 * 1024))
    assert response.status_code == 422 and "The file is too large. The largest file that can be verified is 1 MB." in text_of(response)


def test_a_signature_that_fails_midway_leaves_the_document_as_it_was(client, people, finalised, monkeypatch):
    before = stored_bytes(finalised.id)

    def time_stamp_service_down(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise ConnectionError("the time-stamp service does not answer")

    monkeypatch.setattr(signing.pades, "sign_field", time_stamp_service_down)
    response = sign_as(client, people.mayor, finalised.id)
    assert response.status_code == 409
    assert "could not be signed, and the document is unchanged" in text_of(response)
    assert stored_bytes(finalised.id) == before
    assert all(slot.signed_at is None for slot in reload(finalised.id).signature_slots)


def test_the_signatory_finds_the_agreement_to_sign_in_their_list(client, people, finalised):
    client.sign_in(people.mayor)
    listing = client.get("/agreements/").get_data(as_text=True)
    assert f'href="/agreements/{finalised.id}/sign"' in listing
    assert f'href="/agreements/{finalised.id}/sign"' in client.get(f"/agreements/{finalised.id}").get_data(as_text=True)
    assert sign_as(client, people.mayor, finalised.id).status_code == 302
    assert f'href="/agreements/{finalised.id}/sign"' not in client.get("/agreements/").get_data(as_text=True)
