"""Signing with a key the portal never holds: enrolment with a proof of possession, prepare on the server,
the key signs elsewhere, finish on the server (``portal.agreements.browser_signing``). A software stand-in
for the browser's WebCrypto key signs here; tests/browser/test_browser_key_signing.py does it in Chromium."""
from __future__ import annotations

import io
import re
import shutil
import subprocess
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from portal.agreements import browser_signing, signing
from portal.extensions import db
from portal.models import Agreement, AgreementStatus
from portal.signing import browser_keys, verify
from portal.signing.models import DeviceCertificate, PendingSignature
from portal.signing.services import current_pki

from . import factories
from .signing.support import dss_ocsp_statuses, ocsp_status
from .test_signing_flow import reload, stored_bytes


@pytest.fixture
def finalised(people) -> Agreement:
    return factories.finalised_agreement(people.coordinator, people.mayor, people.station_chief)


def enrolled(user, device: browser_keys.SoftwareDevice, name: str = "Chromium på Linux") -> DeviceCertificate:  # type: ignore[no-untyped-def]
    challenge = browser_keys.new_challenge()
    found = browser_signing.enrol(user, device.public_key_der, challenge, device.sign(challenge.encode()), name)
    device.certificate_id = found.id
    return found


def test_the_certificate_names_the_signatory_with_a_pseudonym_for_the_browser_key(people):
    device = browser_keys.SoftwareDevice()
    certificate = x509.load_der_x509_certificate(enrolled(people.mayor, device).certificate_der)
    subject = certificate.subject
    assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == people.mayor.name
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == people.mayor.organisation.name
    pseudonym = subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value
    assert re.fullmatch(r"PRP-[0-9A-F]{16}", pseudonym)
    assert certificate.extensions.get_extension_for_class(x509.KeyUsage).value.content_commitment
    assert certificate.public_key().public_bytes(*_spki()) == device.public_key_der
    again = x509.load_der_x509_certificate(enrolled(people.mayor, browser_keys.SoftwareDevice(), "Firefox").certificate_der)
    assert again.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == pseudonym, "one pseudonym per person"


def _spki():  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives import serialization

    return serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo


def test_a_proof_by_another_key_enrols_nothing(people):
    device, other = browser_keys.SoftwareDevice(), browser_keys.SoftwareDevice()
    challenge = browser_keys.new_challenge()
    with pytest.raises(signing.KeyProblem, match="proof"):
        browser_signing.enrol(people.mayor, device.public_key_der, challenge, other.sign(challenge.encode()), "x")
    with pytest.raises(signing.KeyProblem, match="proof"):
        browser_signing.enrol(people.mayor, device.public_key_der, "another-challenge", device.sign(challenge.encode()), "x")
    assert db.session.scalars(select(DeviceCertificate)).all() == []


def test_every_signatory_signs_with_their_own_device_and_the_agreement_closes_at_b_lta(people, finalised, tmp_path):
    for slot in list(finalised.signature_slots):
        result = browser_signing.sign_with_device(reload(finalised.id), slot.user, browser_keys.SoftwareDevice())
    assert result.completed  # the closing then runs as a job (in-process without a queue)
    agreement = reload(finalised.id)
    assert agreement.status is AgreementStatus.ACTIVE and agreement.document.pades_level == "B-LTA"
    assert agreement.document.validation_report is not None, "the intake validation stored the report"
    assert {slot.key_source for slot in agreement.signature_slots} == {"browser"}
    report = verify.verify_pdf(agreement.document.signed_pdf, signing.signing_setup().trust_roots)
    assert report.verdict == verify.Verdict.VALID and report.pades_level == "B-LTA"
    assert {s.signer_name for s in report.signatures} >= {people.mayor.name, people.station_chief.name}
    path = tmp_path / "signed.pdf"
    path.write_bytes(agreement.document.signed_pdf)
    out = subprocess.run([shutil.which("pdfsig") or "pdfsig", str(path)], capture_output=True, text=True)
    statuses = [s for s in re.findall(r"Signature Validation: (.+)", out.stdout) if "not yet been verified" not in s]
    assert len(statuses) == 3 and all(s == "Signature is Valid." for s in statuses), out.stdout
    assert db.session.scalars(select(PendingSignature)).all() == [], "nothing waits once signed"
    # The closing embedded the issuing CA's OCSP answer about every device certificate (and the seal's).
    answered = dss_ocsp_statuses(agreement.document.signed_pdf)
    devices = db.session.scalars(select(DeviceCertificate)).all()
    assert len(devices) == len(agreement.signature_slots) and all(answered.get(int(d.certificate_serial, 16)) == "good" for d in devices), answered


def test_the_level_stored_with_a_browser_signature_is_the_level_its_pdf_reaches(people, finalised):
    """Known from how the signature was made (a signature time-stamp, no validation data yet), without
    reading the PDF again: what the portal stores must be what the signed PDF shows."""
    from portal.signing import pades

    first = finalised.signature_slots[0]
    browser_signing.sign_with_device(reload(finalised.id), first.user, browser_keys.SoftwareDevice())
    document = reload(finalised.id).document
    assert document.pades_level == pades.pades_level(document.signed_pdf).value == "B-T"


def test_verify_reports_a_signature_by_a_since_revoked_device_certificate_as_revoked(client, people, finalised):
    device = browser_keys.SoftwareDevice("Chromium på Linux")
    browser_signing.sign_with_device(reload(finalised.id), people.mayor, device)
    pdf = stored_bytes(finalised.id)
    before = client.post("/verify.json", data=pdf, content_type="application/pdf").json
    assert before["verdict"] == verify.Verdict.INCOMPLETE and not any(s["revoked"] for s in before["signatures"])

    # The same browser, cleared, enrols again (its old key can sign nothing more: see the test above).
    enrolled(people.mayor, browser_keys.SoftwareDevice(), "Chromium på Linux")
    after = client.post("/verify.json", data=pdf, content_type="application/pdf").json
    assert after["verdict"] == verify.Verdict.REVOKED
    assert {s["signer_name"]: s["revoked"] for s in after["signatures"]} == {
        people.mayor.name: True, "Politirådsportalen segl": False}
    client.choose_language("nb")
    page = client.submit("/verify", {"pdf": (io.BytesIO(pdf), "avtale.pdf")}, content_type="multipart/form-data")
    html = page.get_data(as_text=True)
    assert "laget med et tilbakekalt sertifikat. Ikke stol på det." in html
    assert 'data-revoked="yes"' in html and "Trukket tilbake" in html


def test_an_agreement_closed_before_the_revocation_stays_valid(client, people, finalised):
    """B-LTA: the signatures are validated at the document time-stamp, before the device was revoked."""
    devices = {}
    for slot in list(finalised.signature_slots):
        devices[slot.user_id] = browser_keys.SoftwareDevice("Chromium på Linux")
        browser_signing.sign_with_device(reload(finalised.id), slot.user, devices[slot.user_id])
    closed = reload(finalised.id).document.signed_pdf
    # Later, not in the closing's own second: the CA records a revocation in whole seconds, rounded down
    # (the cautious way), so one within the same second as the document time-stamp counts as before it.
    time.sleep(1.05 - datetime.now(timezone.utc).microsecond / 1_000_000)
    enrolled(people.mayor, browser_keys.SoftwareDevice(), "Chromium på Linux")
    assert db.session.get(DeviceCertificate, devices[people.mayor.id].certificate_id).revoked_at is not None
    report = client.post("/verify.json", data=closed, content_type="application/pdf").json
    assert report["verdict"] == verify.Verdict.VALID and report["pades_level"] == "B-LTA"


def test_a_signature_landing_in_between_makes_the_server_prepare_again(people, finalised):
    mayor, chief = browser_keys.SoftwareDevice(), browser_keys.SoftwareDevice()
    enrolled(people.mayor, mayor)
    enrolled(people.station_chief, chief)
    mayor_step = browser_signing.prepare(reload(finalised.id), people.mayor, mayor.certificate_id)
    chief_step = browser_signing.prepare(reload(finalised.id), people.station_chief, chief.certificate_id)
    done = browser_signing.finish(reload(finalised.id), people.station_chief, chief_step.pending_id, chief.sign(chief_step.to_be_signed))
    assert isinstance(done, signing.SignResult)

    again = browser_signing.finish(reload(finalised.id), people.mayor, mayor_step.pending_id, mayor.sign(mayor_step.to_be_signed))
    assert isinstance(again, browser_signing.ToSign), "the mayor's revision is stale: sign once more"
    assert again.document_digest != mayor_step.document_digest
    done = browser_signing.finish(reload(finalised.id), people.mayor, again.pending_id, mayor.sign(again.to_be_signed))
    assert isinstance(done, signing.SignResult) and done.completed
    report = verify.verify_pdf(stored_bytes(finalised.id), signing.signing_setup().trust_roots)
    assert report.verdict == verify.Verdict.VALID and len(report.signatures) == 3


def test_a_signature_by_another_key_or_a_stranger_leaves_the_document_as_it_was(people, finalised):
    device = browser_keys.SoftwareDevice()
    enrolled(people.mayor, device)
    before = stored_bytes(finalised.id)
    step = browser_signing.prepare(reload(finalised.id), people.mayor, device.certificate_id)
    with pytest.raises(signing.KeyProblem, match="bad_signature"):
        browser_signing.finish(reload(finalised.id), people.mayor, step.pending_id, browser_keys.SoftwareDevice().sign(step.to_be_signed))
    with pytest.raises(browser_signing.NoPendingSignature):
        browser_signing.finish(reload(finalised.id), people.station_chief, step.pending_id, device.sign(step.to_be_signed))
    with pytest.raises(signing.KeyProblem):
        browser_signing.finish(reload(finalised.id), people.mayor, step.pending_id, b"\x00" * 10)
    assert stored_bytes(finalised.id) == before
    assert all(slot.signed_at is None for slot in reload(finalised.id).signature_slots)


def test_an_expired_preparation_is_prepared_again(people, finalised):
    device = browser_keys.SoftwareDevice()
    enrolled(people.mayor, device)
    step = browser_signing.prepare(reload(finalised.id), people.mayor, device.certificate_id)
    pending = db.session.get(PendingSignature, step.pending_id)
    pending.expires_at = datetime.now(timezone.utc) - timedelta(seconds=1)
    db.session.commit()
    again = browser_signing.finish(reload(finalised.id), people.mayor, step.pending_id, device.sign(step.to_be_signed))
    assert isinstance(again, browser_signing.ToSign)
    assert isinstance(browser_signing.finish(reload(finalised.id), people.mayor, again.pending_id, device.sign(again.to_be_signed)),
                      signing.SignResult)


@pytest.fixture
def pki_over_http():  # type: ignore[no-untyped-def]
    """The app's own /pki services (the same demo PKI) served over HTTP on loopback; its OCSP URL."""
    from werkzeug.serving import make_server

    from portal.signing.services import create_service_app

    from .signing.support import free_port

    port = free_port()
    server = make_server("127.0.0.1", port, create_service_app(current_pki()), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}/pki/ocsp"
    server.shutdown()
    thread.join(timeout=5)


def test_enrolling_the_same_browser_again_revokes_its_old_certificate_in_the_crl_and_ocsp(people, finalised, pki_over_http):
    old_device, laptop = browser_keys.SoftwareDevice(), browser_keys.SoftwareDevice()
    old = enrolled(people.mayor, old_device, "Chromium på Linux")
    other = enrolled(people.mayor, laptop, "Safari på macOS")
    new = enrolled(people.mayor, browser_keys.SoftwareDevice(), "Chromium på Linux")  # the same browser, cleared
    db.session.expire_all()
    assert db.session.get(DeviceCertificate, old.id).revoked_at is not None
    assert db.session.get(DeviceCertificate, other.id).revoked_at is None, "several devices per person"
    assert [d.id for d in browser_signing.devices_of(people.mayor)] == [new.id, other.id]
    crl = x509.load_der_x509_crl(current_pki().crl("issuing-ca"))
    assert crl.get_revoked_certificate_by_serial_number(int(old.certificate_serial, 16)) is not None
    assert crl.get_revoked_certificate_by_serial_number(int(other.certificate_serial, 16)) is None
    # The issuing CA's OCSP responder, asked over HTTP with a real RFC 6960 request, says the same.
    issuer = current_pki().issuing_certificate
    answers = {enrolment.id: ocsp_status(pki_over_http, x509.load_der_x509_certificate(enrolment.certificate_der), issuer)
               for enrolment in (old, other, new)}
    assert answers[old.id].certificate_status is ocsp.OCSPCertStatus.REVOKED
    assert answers[old.id].revocation_time_utc == crl.get_revoked_certificate_by_serial_number(
        int(old.certificate_serial, 16)).revocation_date_utc
    assert answers[other.id].certificate_status is answers[new.id].certificate_status is ocsp.OCSPCertStatus.GOOD
    with pytest.raises(browser_signing.NotEnrolled):
        browser_signing.prepare(reload(finalised.id), people.mayor, old.id)
    assert browser_signing.revoke_device(people.mayor, other.id)
    assert not browser_signing.revoke_device(people.station_chief, new.id), "only one's own devices"


@pytest.mark.parametrize("user_agent, label", [
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome, Linux"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox, Windows"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari, iOS"),
    ("curl/8.5", ""),
])
def test_the_signing_page_names_browsers_as_people_know_them(user_agent, label):
    assert browser_keys.device_label(user_agent) == label
