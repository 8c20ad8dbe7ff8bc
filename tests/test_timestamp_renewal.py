"""Renewing the archival time-stamp (``flask archive renew-timestamps``): a signed agreement whose last
document time-stamp's TSA certificate is about to expire, or which uses a digest algorithm no longer
accepted, gets fresh validation data and a new document time-stamp, so it still validates after the old
TSA certificate has expired; the old file stays downloadable byte for byte; a renewed file that does not
validate is never stored; and two runs at once renew each agreement once."""
from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import subprocess
from datetime import timedelta
from io import BytesIO

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESIndeterminate
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import func, select

from portal.agreements import signing
from portal.archive.timestamp_renewal import last_timestamp, renew_due
from portal.extensions import db
from portal.models import Agreement, AuditEvent, DocumentRendition
from portal.signing import verify
from portal.signing.pki import DemoPki, to_asn1
from portal.signing.services import TimeStampAuthority

from . import factories
from .conftest import at_the_same_moment, signing_settings
from .signing.support import stamped_in_one_update
from .test_archive import unzip

PYHANKO_LOGGERS = ("pyhanko", "pyhanko_certvalidator")
#: The short-lived TSA certificate the agreements are time-stamped under.
SHORT_TSA_DAYS = 30


@pytest.fixture
def short_tsa(app, tmp_path):
    """A demo PKI of its own whose TSA certificate is valid for 30 days only (well inside the default
    two-year renewal margin), for the length of the test."""
    with signing_settings(app, PKI_FOLDER=str(tmp_path / "pki"), PKI_TSA_VALIDITY_DAYS=SHORT_TSA_DAYS):
        yield signing.signing_setup().pki


def new_tsa_certificate(app, pki: DemoPki) -> None:
    """The TSA gets a new certificate valid for 20 years, as a real one does before the old one expires;
    the portal's time-stamper is made again with it."""
    pki.renew_tsa_certificate()
    app.extensions.pop(signing._SETUP_KEY, None)


def renew_command(app):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=["archive", "renew-timestamps"])


def stored_pdf(agreement_id: int) -> bytes:
    db.session.expire_all()
    return db.session.get(Agreement, agreement_id).document.signed_pdf


def count(model, *where) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def renewal_events(agreement_id: int) -> int:
    return count(AuditEvent, AuditEvent.agreement_id == agreement_id, AuditEvent.action == "timestamp_renewed")


def verdict_at(pdf: bytes, pki: DemoPki, moment) -> str:  # type: ignore[no-untyped-def]
    """The portal's verdict on ``pdf`` as a validator would give it at ``moment``, with the CRLs the demo
    CAs publish then (what such a validator would fetch)."""
    crls = [pki.crl("root-ca", at=moment), pki.crl("issuing-ca", at=moment)]
    return verify.verify_pdf(pdf, pki.trust_roots, validation_time=moment, crls=crls).verdict


def test_after_renewal_an_agreement_validates_past_its_tsa_certificates_expiry_and_the_old_file_stays(
        app, client, people, short_tsa, tmp_path):
    agreement = factories.signed_agreement(people)
    old = agreement.document.signed_pdf
    tsa_expires = short_tsa.tsa_certificate.not_valid_after_utc
    after_expiry = tsa_expires + timedelta(days=1)
    assert verdict_at(old, short_tsa, tsa_expires - timedelta(days=1)) == verify.Verdict.VALID
    assert verdict_at(old, short_tsa, after_expiry) != verify.Verdict.VALID  # without renewal: no longer

    new_tsa_certificate(app, short_tsa)
    result = renew_command(app)
    assert result.exit_code == 0, result.output
    assert f"{agreement.reference} v1: renewed" in result.output
    assert result.output.rstrip().endswith("1 archival time-stamp(s) renewed; 0 failed.")

    renewed = stored_pdf(agreement.id)
    assert renewed.startswith(old) and len(renewed) > len(old)  # an incremental update
    stamped_in_one_update(old, renewed)  # fresh validation data, the new authority's among it, and the stamp over all
    assert verdict_at(renewed, short_tsa, after_expiry) == verify.Verdict.VALID
    assert verdict_at(renewed, short_tsa, after_expiry + timedelta(days=5 * 365)) == verify.Verdict.VALID
    report = verify.verify_pdf(renewed, short_tsa.trust_roots)
    assert report.verdict == verify.Verdict.VALID and report.pades_level == "B-LTA"
    assert len(report.document_timestamps) == 2
    assert last_timestamp(renewed).tsa_expires == short_tsa.tsa_certificate.not_valid_after_utc
    document = db.session.get(Agreement, agreement.id).document
    assert document.validation_report_sha256 == hashlib.sha256(renewed).hexdigest() == document.signed_sha256
    assert document.validation_report["verdict"] == "valid"
    assert renewal_events(agreement.id) == 1

    # The archivist finds the earlier file on the archive page and downloads it byte for byte.
    client.sign_in(people.archivist)
    client.choose_language("en")
    page = client.get(f"/archive/{agreement.id}").get_data(as_text=True)
    assert "Previous renditions of the signed PDF" in page
    assert "The certificate of the time-stamping authority was about to expire" in page
    shown = re.search(r'class="rendition-sha256">(.*?)</code>', page).group(1).replace("<wbr>", "")
    assert shown == hashlib.sha256(old).hexdigest()
    link = re.search(r'href="(/archive/\d+/renditions/\d+\.pdf)"', page).group(1)
    download = client.get(link)
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert download.data == old and hashlib.sha256(download.data).hexdigest() == shown
    assert f'filename="{agreement.reference}-v1-signert-revisjon-' in download.headers["Content-Disposition"]
    current = client.get(f"/archive/{agreement.id}/signed.pdf")
    assert current.data == renewed

    # pdfsig (poppler) accepts the renewed file: every signature still valid.
    if shutil.which("pdfsig"):
        path = tmp_path / "renewed.pdf"
        path.write_bytes(renewed)
        out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        statuses = re.findall(r"Signature Validation: (.+)", out.stdout)
        cms = [s for s in statuses if "not yet been verified" not in s]  # pdfsig cannot check document time-stamps
        assert len(statuses) == 5 and len(cms) == 3 and all(s == "Signature is Valid." for s in cms), out.stdout

    # A second run finds nothing due: the new TSA certificate is valid for years.
    again = renew_command(app)
    assert again.exit_code == 0 and again.output.strip() == "0 archival time-stamp(s) renewed; 0 failed."
    assert stored_pdf(agreement.id) == renewed
    assert count(DocumentRendition) == 1 and renewal_events(agreement.id) == 1


def test_a_time_stamp_with_a_digest_algorithm_no_longer_accepted_is_renewed_with_an_accepted_one(app, people, monkeypatch):
    agreement = factories.signed_agreement(people)  # the suite's demo PKI: its TSA certificate is valid for 20 years
    old = agreement.document.signed_pdf
    assert last_timestamp(old).digests == {"sha256"}
    assert renew_command(app).output.strip() == "0 archival time-stamp(s) renewed; 0 failed."

    monkeypatch.setitem(app.config, "ACCEPTED_TIMESTAMP_DIGESTS", "sha384, sha512")
    result = renew_command(app)
    assert result.exit_code == 0 and "1 archival time-stamp(s) renewed" in result.output, result.output
    renewed = stored_pdf(agreement.id)
    assert renewed.startswith(old) and last_timestamp(renewed).digests == {"sha384"}
    assert verify.verify_pdf(renewed, signing.signing_setup().trust_roots).verdict == verify.Verdict.VALID
    rendition = db.session.scalars(select(DocumentRendition)).one()
    assert rendition.reason == "digest_not_accepted" and rendition.pdf == old
    assert rendition.sha256 == hashlib.sha256(old).hexdigest()
    assert renew_command(app).output.strip() == "0 archival time-stamp(s) renewed; 0 failed."


def test_a_renewed_file_that_does_not_validate_is_not_stored(app, people, short_tsa, tmp_path):
    agreement = factories.signed_agreement(people)
    old = agreement.document.signed_pdf
    report = agreement.document.validation_report
    # A time-stamping service whose certificate the portal does not trust.
    stranger = DemoPki(tmp_path / "stranger", "http://127.0.0.1:9")
    signing.signing_setup().timestamper = TimeStampAuthority(stranger)

    result = renew_command(app)
    assert result.exit_code == 1
    assert f"{agreement.reference} v1: not renewed: the renewed file does not validate (verdict untrusted" in result.output
    assert "0 archival time-stamp(s) renewed; 1 failed." in result.output
    assert stored_pdf(agreement.id) == old
    document = db.session.get(Agreement, agreement.id).document
    assert document.revision == agreement.document.revision and document.validation_report == report
    assert count(DocumentRendition) == 0 and renewal_events(agreement.id) == 0
    assert to_asn1(stranger.tsa_certificate).sha256 not in {c.sha256 for c in short_tsa.trust_roots}


def test_two_runs_at_the_same_moment_renew_each_agreement_once(app, people, short_tsa):
    agreements = [factories.signed_agreement(people) for _ in range(2)]
    new_tsa_certificate(app, short_tsa)
    outcomes = [outcome for run in at_the_same_moment(app, renew_due) for outcome in run]
    renewed = sorted(outcome.agreement_id for outcome in outcomes if outcome.result == "renewed")
    assert renewed == sorted(a.id for a in agreements)  # each renewed, none twice
    assert all(outcome.result in ("renewed", "skipped") for outcome in outcomes), outcomes
    for agreement in agreements:
        document = db.session.get(Agreement, agreement.id).document
        assert count(DocumentRendition, DocumentRendition.document_id == document.id) == 1
        assert renewal_events(agreement.id) == 1
        assert len(verify.verify_pdf(document.signed_pdf, short_tsa.trust_roots).document_timestamps) == 2


def test_the_check_for_30_years_on_is_stored_when_the_agreement_is_closed_and_shown_in_the_archive(client, people):
    agreement = factories.signed_agreement(people)
    document = agreement.document
    # The closed PDF carries every certificate and revocation data its signatures and time-stamps need:
    # pyHanko's simulation passes it 30 years on, when the signing and TSA certificates have long expired.
    assert document.future_validation_result == "passed"
    checked = document.future_validation_checked_at
    assert document.future_validation_time.year == checked.year + 30
    client.sign_in(people.archivist)
    client.choose_language("en")
    page = re.sub(r"\s+", " ", client.get(f"/archive/{agreement.id}").get_data(as_text=True))
    assert "the signed PDF would still validate on" in page
    package = client.get(f"/archive/{agreement.id}/package.zip")
    meta = json.loads(unzip(package.data)["metadata.json"])
    assert meta["document"]["future_validation"]["result"] == "passed"


def test_an_agreement_closed_without_revocation_data_is_reported_as_failing_the_check_for_30_years_on(
        app, client, people, monkeypatch):
    """A closing that could get no CRL or OCSP response (revocation checking soft-fail, nothing to fetch)
    still makes a B-LTA file, but one that holds only certificates: it would not validate once its
    certificates have expired, and the archive page says so."""
    setup = signing.signing_setup()

    def without_revocation_data(other_certs=()):  # type: ignore[no-untyped-def]
        return ValidationContext(trust_roots=setup.trust_roots, other_certs=[*setup.issuer_chain(), *other_certs],
                                 allow_fetching=False, revocation_mode="soft-fail")

    monkeypatch.setattr(setup, "validation_context", without_revocation_data)
    agreement = factories.signed_agreement(people)
    document = agreement.document
    reader = PdfFileReader(BytesIO(document.signed_pdf), strict=False)
    stored = DocumentSecurityStore.read_dss(reader)
    assert list(stored.load_certs()) and not list(stored.crls) and not list(stored.ocsps)
    assert document.future_validation_result in {indication.name for indication in AdESIndeterminate}  # NO_POE
    client.sign_in(people.archivist)
    client.choose_language("en")
    page = re.sub(r"\s+", " ", client.get(f"/archive/{agreement.id}").get_data(as_text=True))
    assert "the signed PDF would not validate on" in page
    assert document.future_validation_result in page


def test_the_check_for_30_years_on_logs_no_pyhanko_traceback_at_closing(client, people, caplog, monkeypatch):
    """30 years on every certificate has expired: pyHanko logs each failure it meets with a traceback,
    which filled the console at every closing (``make run``). The result says what failed; the log
    stays quiet."""
    for name in list(logging.Logger.manager.loggerDict):
        if name.split(".")[0] in PYHANKO_LOGGERS:  # on, as in `make run` (the migrations' logging set-up turns them off)
            monkeypatch.setattr(logging.getLogger(name), "disabled", False)
    caplog.set_level(logging.DEBUG)
    agreement = factories.signed_agreement(people)
    assert agreement.document.future_validation_result == "passed"
    pyhanko_tracebacks = [f"{record.name}: {record.getMessage()[:200]}" for record in caplog.records
                          if record.name.split(".")[0] in PYHANKO_LOGGERS and record.exc_info]
    assert not pyhanko_tracebacks
