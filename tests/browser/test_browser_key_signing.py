"""Both mayors and the station chief sign in Chromium with real WebCrypto keys made in their browsers.

What travels is recorded: enrolment sends only the public key and its signature over the challenge,
signing only the choice of certificate and the signature over the signed attributes. The keys in
IndexedDB cannot be exported, and each signature in the PDF verifies with the public key its browser
sent. One signature lands while the mayor's browser is signing: the page signs the newer revision
without the mayor doing anything.
"""
from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import select

from portal.agreements import signing
from portal.extensions import db
from portal.models import Agreement, AgreementStatus, User
from portal.signing import verify
from portal.signing.models import DeviceCertificate, PortalSigningKey
from tests import factories
from tests.conftest import PASSWORD

from .conftest import axe_check, sign_in

pytestmark = pytest.mark.browser
SIGN_BUTTON = "main form[action$='/sign'] button[type=submit]"


def _finalise(app, coordinator_id: int, mayor_email: str, chief_email: str) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        users = [db.session.scalar(select(User).where(User.email == email)) for email in (mayor_email, chief_email)]
        return factories.finalised_agreement(db.session.get(User, coordinator_id), *users, (factories.VOSS, factories.ULVIK)).id


def _sign_elsewhere(app, agreement_id: int, email: str) -> None:  # type: ignore[no-untyped-def]
    """Another signatory's signature, stored from another device meanwhile."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        factories.sign_as(db.session.get(Agreement, agreement_id), user)


def off_the_main_thread(function, *args):  # type: ignore[no-untyped-def]
    """pyHanko's synchronous calls run an event loop; Playwright's already runs one in the test's thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(function, *args).result(timeout=120)


@pytest.fixture
def finalised(app, people) -> int:
    db.session.commit()
    return off_the_main_thread(_finalise, app, people.coordinator.id, people.mayor.email, people.station_chief.email)


class Recorder:
    """The bodies of every request the page sends to the portal's signing calls."""

    def __init__(self, page) -> None:  # type: ignore[no-untyped-def]
        self.bodies: dict[str, list[dict]] = {}
        page.on("request", self._record)

    def _record(self, request) -> None:  # type: ignore[no-untyped-def]
        match = re.search(r"/(devices/challenge|devices/enrol|sign/prepare|sign/finish)$", request.url)
        if match and request.method == "POST":
            self.bodies.setdefault(match.group(1), []).append(json.loads(request.post_data or "{}"))


def sign_with_browser_key(page, agreement_id: int) -> Recorder:  # type: ignore[no-untyped-def]
    """Open the signing page and sign with the browser's key by keyboard alone."""
    recorder = Recorder(page)
    page.goto(f"/agreements/{agreement_id}/sign")
    axe_check(page)
    assert page.locator("#key_source-0").is_checked() and page.locator("#key_source-0").get_attribute("value") == "browser"
    page.locator("#key_source-0").focus()
    page.keyboard.press("Space")
    page.locator(SIGN_BUTTON).focus()
    with page.expect_navigation(timeout=60_000):
        page.keyboard.press("Enter")
    assert page.locator(SIGN_BUTTON).count() == 0, "signed: nothing more to sign"
    axe_check(page)
    return recorder


def public_key_sent(recorder: Recorder) -> bytes:
    (enrolment,) = recorder.bodies["devices/enrol"]
    assert set(enrolment) == {"public_key", "proof"}, "enrolment sends the public key and the proof, nothing else"
    assert len(base64.b64decode(enrolment["proof"])) == 64, "a raw ECDSA P-256 signature"
    return base64.b64decode(enrolment["public_key"])


def test_mayors_and_station_chief_sign_with_keys_their_browsers_made(app, new_page, people, finalised, tmp_path):  # type: ignore[no-untyped-def]
    agreement = db.session.get(Agreement, finalised)
    ulvik_mayor = next(slot.user for slot in agreement.signature_slots if slot.municipality_number == factories.ULVIK)
    sent_keys: dict[str, bytes] = {}

    # The mayor of Voss: enrolment on first use, then the signature; the page shows the digest it signs.
    page = new_page()
    sign_in(page, people.mayor.email, PASSWORD)
    recorder = sign_with_browser_key(page, finalised)
    sent_keys[people.mayor.email] = public_key_sent(recorder)
    (prepare,) = recorder.bodies["sign/prepare"]
    assert set(prepare) == {"certificate_id"}
    (finish,) = recorder.bodies["sign/finish"]
    assert set(finish) == {"pending", "signature"} and len(base64.b64decode(finish["signature"])) == 64
    exportable = page.evaluate("""async (name) => {
        const db = await new Promise((ok) => { const r = indexedDB.open("politirad-signing", 1); r.onsuccess = () => ok(r.result); });
        const record = await new Promise((ok) => { const r = db.transaction("keys").objectStore("keys").get(name); r.onsuccess = () => ok(r.result); });
        try { await crypto.subtle.exportKey("pkcs8", record.privateKey); return true; } catch (error) { return error.name; }
    }""", f"user-{people.mayor.id}")
    assert exportable == "InvalidAccessError", "the private key cannot leave the browser"
    assert page.locator("#devices tr[data-device]").count() == 1

    # The mayor of Ulvik: while the browser signs, the station chief's signature is stored from elsewhere;
    # the page signs the newer revision by itself.
    page = new_page()
    sign_in(page, ulvik_mayor.email, PASSWORD)
    landed = []

    def let_another_signature_land_first(route) -> None:  # type: ignore[no-untyped-def]
        if not landed:
            off_the_main_thread(_sign_elsewhere, app, finalised, people.station_chief.email)
            landed.append(True)
        route.continue_()

    page.route("**/sign/finish", let_another_signature_land_first)
    recorder = sign_with_browser_key(page, finalised)
    sent_keys[ulvik_mayor.email] = public_key_sent(recorder)
    assert len(recorder.bodies["sign/prepare"]) == 1 and len(recorder.bodies["sign/finish"]) == 2, "signed again, unprompted"
    assert "B-LTA" in page.locator("main").inner_text()

    db.session.expire_all()
    agreement = db.session.get(Agreement, finalised)
    assert agreement.status is AgreementStatus.ACTIVE and agreement.document.pades_level == "B-LTA"
    assert db.session.scalars(select(PortalSigningKey)).all() == [], "the portal holds no signatory's key"

    # Each signature in the PDF was made by the key whose public half the browser sent.
    signed = agreement.document.signed_pdf
    reader = PdfFileReader(BytesIO(signed))
    by_email = {}
    for embedded in reader.embedded_regular_signatures:
        certificate = x509.load_der_x509_certificate(embedded.signer_cert.dump())
        emails = certificate.subject.get_attributes_for_oid(x509.NameOID.EMAIL_ADDRESS)
        if emails:
            by_email[emails[0].value] = certificate.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    for email, public_key in sent_keys.items():
        assert by_email[email] == public_key
    enrolled = {d.user_id for d in db.session.scalars(select(DeviceCertificate))}
    assert {people.mayor.id, ulvik_mayor.id} <= enrolled

    report = off_the_main_thread(verify.verify_pdf, signed, signing.signing_setup().trust_roots)
    assert report.verdict == verify.Verdict.VALID and report.pades_level == "B-LTA"
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed)
    out = subprocess.run([shutil.which("pdfsig") or "pdfsig", str(path)], capture_output=True, text=True)
    statuses = [s for s in re.findall(r"Signature Validation: (.+)", out.stdout) if "not yet been verified" not in s]
    assert len(statuses) == 4 and all(s == "Signature is Valid." for s in statuses), out.stdout

    # The public verify page accepts it too.
    page.context.clear_cookies()
    page.goto("/verify")
    page.locator("#pdf").set_input_files(str(path))
    with page.expect_navigation(timeout=60_000):  # validating takes seconds, more on a busy machine
        page.locator("#verify-submit").click(no_wait_after=True)
    assert page.locator("#verdict[data-color=success]").count() == 1
    axe_check(page)


def test_the_digest_being_signed_is_shown_to_the_signatory(new_page, people, finalised):  # type: ignore[no-untyped-def]
    page = new_page()
    sign_in(page, people.mayor.email, PASSWORD)
    page.goto(f"/agreements/{finalised}/sign")
    assert page.locator("#browser-signing-status").get_attribute("role") == "status"
    prepared, shown = [], []
    page.on("response", lambda response: prepared.append(response.json()) if response.url.endswith("/sign/prepare") else None)

    def read_the_status_while_signing(route) -> None:  # type: ignore[no-untyped-def]
        shown.append(page.locator("#browser-signing-status").inner_text())
        route.continue_()

    page.route("**/sign/finish", read_the_status_while_signing)
    with page.expect_navigation(timeout=60_000):
        page.locator(SIGN_BUTTON).click()
    digest = prepared[0]["document_sha256"]
    assert re.fullmatch(r"[0-9a-f]{64}", digest) and digest in shown[0]
    # That digest is the one the signature's messageDigest attribute holds.
    db.session.expire_all()
    reader = PdfFileReader(BytesIO(db.session.get(Agreement, finalised).document.signed_pdf))
    (mayors,) = [s for s in reader.embedded_regular_signatures if s.field_name == "Signatur_ordforar_4621"]
    attributes = {a["type"].native: a["values"][0] for a in mayors.signer_info["signed_attrs"]}
    assert attributes["message_digest"].native.hex() == digest


def test_without_javascript_the_page_says_so_and_offers_the_other_ways(new_page, people, finalised):  # type: ignore[no-untyped-def]
    page = new_page(java_script_enabled=False)
    sign_in(page, people.mayor.email, PASSWORD)
    page.goto(f"/agreements/{finalised}/sign")
    assert "JavaScript" in page.locator("main noscript .ds-alert").inner_text()
    offered = page.locator("input[name=key_source]")
    assert [offered.nth(i).get_attribute("value") for i in range(offered.count())][1:] == ["pkcs12"]
    with page.expect_navigation():
        page.locator(SIGN_BUTTON).click()
    assert page.locator("#error-summary a[href='#key_source-0']").count() == 1
    db.session.expire_all()
    assert all(slot.signed_at is None for slot in db.session.get(Agreement, finalised).signature_slots)
