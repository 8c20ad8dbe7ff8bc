"""Every route against every role, and against a coordinator of another municipality.

The table below must name every route the app has: a new route without a row fails
``test_every_route_is_in_the_matrix``, so nobody adds a page without deciding who may use it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pytest

from portal import jobs
from portal.archive.bulk import build_bulk_package
from portal.extensions import db
from portal.models import DocumentRendition, PriorityAreaEvaluation, Role

from . import factories

ROLES = ("anonymous", "coordinator", "police_coordinator", "other_coordinator", "mayor", "station_chief", "archivist", "administrator")
SIGNED_IN = ROLES[1:]


@dataclass(frozen=True)
class Case:
    endpoint: str
    method: str
    url: Callable[[dict], str]
    expected: dict[str, int]  # role → status; 302 for anonymous means «sent to sign in»


def everyone(status: int) -> dict[str, int]:
    return {role: status for role in ROLES}


def only(allowed: dict[str, int], others: int = 403) -> dict[str, int]:
    return {"anonymous": 302, **{role: others for role in SIGNED_IN}, **allowed}


DRAFT_READERS = {"coordinator": 200, "police_coordinator": 200, "administrator": 200}
DRAFT_HIDDEN = {"other_coordinator": 404, "mayor": 404, "station_chief": 404, "archivist": 404}
ARCHIVE_READERS = {role: 200 for role in ("coordinator", "police_coordinator", "mayor", "station_chief", "archivist", "administrator")}
DRAFT_EDITORS = {"coordinator": 200, "police_coordinator": 200, "other_coordinator": 404}

CASES = [
    Case("pages.home", "GET", lambda ids: "/", {"anonymous": 200, **{role: 302 for role in SIGNED_IN}}),
    Case("pages.accessibility_statement", "GET", lambda ids: "/accessibility", everyone(200)),
    Case("pages.vendor", "GET", lambda ids: "/vendor/designsystemet.css", everyone(200)),
    Case("pages.inter_font", "GET", lambda ids: "/vendor/inter/latin-400.css", everyone(200)),
    Case("static", "GET", lambda ids: "/static/portal.css", everyone(200)),
    Case("pages.agreement_css", "GET", lambda ids: "/agreement.css", everyone(200)),
    # The PKI's public services: anyone may fetch revocation lists and CA certificates; the time-stamp
    # service takes only RFC 3161 queries (a form post is the wrong media type).
    Case("pki.crl", "GET", lambda ids: "/pki/crl/root-ca.crl", everyone(200)),
    Case("pki.ca_certificate", "GET", lambda ids: "/pki/ca/issuing-ca.crt", everyone(200)),
    Case("pki.timestamp", "POST", lambda ids: "/pki/tsa", everyone(415)),
    Case("pki.ocsp_post", "POST", lambda ids: "/pki/ocsp", everyone(415)),
    Case("pki.ocsp_get", "GET", lambda ids: "/pki/ocsp/MAA%3D", everyone(200)),
    Case("pages.choose_language", "POST", lambda ids: "/language", everyone(302)),
    Case("auth.sign_in", "GET", lambda ids: "/sign-in", {"anonymous": 200, **{role: 302 for role in SIGNED_IN}}),
    Case("auth.sign_out", "POST", lambda ids: "/sign-out", everyone(302)),
    Case("auth.request_password_reset", "GET", lambda ids: "/password-reset", everyone(200)),
    Case("auth.reset_password", "GET", lambda ids: "/password-reset/not-a-real-token", everyone(400)),
    Case("auth.accept_invitation", "GET", lambda ids: "/invitation/not-a-real-token", everyone(400)),
    # Signing in through an OpenID provider: not there while none is configured (as here; with one, see
    # tests/test_provider_sign_in.py); a forged invitation is refused before anyone is sent to the provider;
    # the front-channel logout needs the provider's iss and sid; the step-up is for signatories bound to
    # a proven identity only.
    Case("auth.provider_sign_in", "GET", lambda ids: "/sign-in/provider", everyone(404)),
    Case("auth.provider_callback", "GET", lambda ids: "/sign-in/provider/callback?code=x&state=y", everyone(404)),
    Case("auth.accept_invitation_with_provider", "GET", lambda ids: "/invitation/not-a-real-token/provider", everyone(400)),
    Case("auth.front_channel_logout", "GET", lambda ids: "/logout/frontchannel?iss=x&sid=y", everyone(400)),
    Case("auth.step_up", "GET", lambda ids: f"/agreements/{ids['draft']}/sign/step-up", only({})),
    Case("agreements.index", "GET", lambda ids: "/agreements/", only({role: 200 for role in SIGNED_IN})),
    Case("agreements.start", "POST", lambda ids: "/agreements/new", only({"coordinator": 302, "police_coordinator": 302, "other_coordinator": 302})),
    Case("agreements.show", "GET", lambda ids: f"/agreements/{ids['draft']}", only({**DRAFT_READERS, **DRAFT_HIDDEN})),
    Case("agreements.preview_pdf", "GET", lambda ids: f"/agreements/{ids['draft']}/preview.pdf", only({**DRAFT_READERS, **DRAFT_HIDDEN})),
    Case("agreements.document_pdf", "GET", lambda ids: f"/agreements/{ids['draft']}/document.pdf", only({}, others=404)),  # a draft has no final document
    # A renewal is started by a coordinator of a party to a signed agreement; its evaluation is read by
    # whoever may read the evaluated agreement.
    Case("agreements.renew", "POST", lambda ids: f"/agreements/{ids['signed']}/renew", only({"coordinator": 302, "police_coordinator": 302, "other_coordinator": 404})),
    Case("agreements.evaluation_document", "GET", lambda ids: f"/agreements/{ids['signed']}/evaluation.pdf",
         only({role: 200 for role in ("coordinator", "police_coordinator", "mayor", "station_chief", "archivist", "administrator")}, others=404)),
    # A draft never finalised can be deleted by the coordinators who may change it, after a confirmation page.
    Case("agreements.delete", "GET", lambda ids: f"/agreements/{ids['draft']}/delete", only(DRAFT_EDITORS)),
    Case("agreements.delete", "POST", lambda ids: f"/agreements/{ids['draft']}/delete", only({"coordinator": 302, "police_coordinator": 302, "other_coordinator": 404})),
    Case("agreements.finalise", "POST", lambda ids: f"/agreements/{ids['draft']}/finalise", only({"coordinator": 302, "police_coordinator": 302, "other_coordinator": 404})),
    # The signing page is for the signatories who hold a slot in a finalised agreement (see
    # tests/test_signing_flow.py); everyone else is refused, and a draft stays hidden from signatories.
    Case("agreements.sign", "GET", lambda ids: f"/agreements/{ids['draft']}/sign", only({"mayor": 404, "station_chief": 404})),
    # Closing a fully signed agreement again after it failed: the coordinators of its parties.
    Case("agreements.close", "POST", lambda ids: f"/agreements/{ids['signed']}/close", only({"coordinator": 302, "police_coordinator": 302, "other_coordinator": 404})),
    Case("agreements.decline", "POST", lambda ids: f"/agreements/{ids['draft']}/decline", only({"mayor": 404, "station_chief": 404})),
    # A key in the signatory's browser: enrolment for signatories only (no challenge asked first: 400),
    # withdrawing a browser's key (someone else's or none: nothing happens), and the signing calls, which
    # keep a draft hidden as the signing page does.
    Case("agreements.device_challenge", "POST", lambda ids: "/agreements/devices/challenge", only({"mayor": 200, "station_chief": 200})),
    Case("agreements.enrol_device", "POST", lambda ids: "/agreements/devices/enrol", only({"mayor": 400, "station_chief": 400})),
    Case("agreements.revoke_device", "POST", lambda ids: "/agreements/devices/999999/revoke", only({"mayor": 302, "station_chief": 302})),
    Case("agreements.prepare_browser_signature", "POST", lambda ids: f"/agreements/{ids['draft']}/sign/prepare", only({"mayor": 404, "station_chief": 404})),
    Case("agreements.finish_browser_signature", "POST", lambda ids: f"/agreements/{ids['draft']}/sign/finish", only({"mayor": 404, "station_chief": 404})),
    # Verifying a signed PDF is public: no sign-in. The JSON form answers 400 when no file is sent.
    Case("verify.verify", "GET", lambda ids: "/verify", everyone(200)),
    Case("verify.verify_json", "POST", lambda ids: "/verify.json", everyone(400)),
    Case("wizard.step", "GET", lambda ids: f"/agreements/{ids['draft']}/steps/members", only(DRAFT_EDITORS)),
    Case("wizard.check_answers", "GET", lambda ids: f"/agreements/{ids['draft']}/check", only(DRAFT_EDITORS)),
    Case("dashboard.dashboard", "GET", lambda ids: "/dashboard", only({"coordinator": 200, "police_coordinator": 200, "other_coordinator": 200, "administrator": 200})),
    # The archive: signed agreements only (a draft is never there), for archivists all of them, for the
    # others their own organisation's; a coordinator of another municipality gets 404.
    Case("archive.index", "GET", lambda ids: "/archive/", only({role: 200 for role in SIGNED_IN})),
    *[Case(f"archive.{endpoint}", "GET", lambda ids, path=path: f"/archive/{ids['signed']}{path}", only({**ARCHIVE_READERS, "other_coordinator": 404}))
      for endpoint, path in (("show", ""), ("signed_pdf_download", "/signed.pdf"), ("validation", "/validation"),
                             ("validation_json", "/validation-report.json"), ("package", "/package.zip"), ("noark5", "/noark5.zip"))],
    # The matrix's signed agreement holds a stand-in PDF, not a signed one: no ETSI report can be made of it.
    Case("archive.validation_etsi", "GET", lambda ids: f"/archive/{ids['signed']}/validation-report-etsi.xml",
         only({**{role: 422 for role in ARCHIVE_READERS}, "other_coordinator": 404})),
    Case("archive.show", "GET", lambda ids: f"/archive/{ids['draft']}", only({}, others=404)),
    # An earlier rendition of the signed PDF (before a renewal of its archival time-stamp): as the signed PDF.
    Case("archive.rendition_download", "GET", lambda ids: f"/archive/{ids['signed']}/renditions/{ids['rendition']}.pdf",
         only({**ARCHIVE_READERS, "other_coordinator": 404})),
    # A bulk download is started by anyone signed in (it holds what they may read) and followed and fetched
    # only by the person who started it (here: the archivist).
    Case("archive.start_bulk_package", "POST", lambda ids: "/archive/bulk?q=PR-none", only({role: 302 for role in SIGNED_IN})),
    Case("archive.bulk_package", "GET", lambda ids: f"/archive/bulk/{ids['bulk']}", only({"archivist": 200}, others=404)),
    Case("archive.bulk_download", "GET", lambda ids: f"/archive/bulk/{ids['bulk']}/archive.zip", only({"archivist": 200}, others=404)),
    Case("archive.bulk_noark5", "GET", lambda ids: "/archive/noark5.zip", only({**ARCHIVE_READERS, "other_coordinator": 404})),
    Case("admin.users", "GET", lambda ids: "/admin/users", only({"administrator": 200})),
    Case("admin.invite", "GET", lambda ids: "/admin/users/invite", only({"administrator": 200})),
    Case("admin.change_role", "GET", lambda ids: f"/admin/users/{ids['colleague']}/role", only({"administrator": 200})),
    Case("admin.resend_invitation", "POST", lambda ids: f"/admin/users/{ids['colleague']}/invitation", only({"administrator": 302})),
    Case("admin.end_sessions", "POST", lambda ids: f"/admin/users/{ids['colleague']}/sessions/end", only({"administrator": 302})),
]


@pytest.fixture
def ids(people) -> dict[str, int]:
    draft = factories.complete_agreement(people.coordinator)
    signed = factories.archived_agreement(people.coordinator)
    signed.priority_areas[0].evaluation = PriorityAreaEvaluation(what_was_done="Kontrollar", achieved="Færre saker")
    rendition = DocumentRendition(document=signed.document, revision=1, pdf=signed.document.signed_pdf,
                                  sha256=signed.document.signed_sha256, size=len(signed.document.signed_pdf), reason="tsa_expiring")
    db.session.add(rendition)
    db.session.flush()
    bulk = jobs.enqueue(build_bulk_package, people.archivist.id, {"q": "PR-none"}, started_by=people.archivist.id)
    return {"draft": draft.id, "signed": signed.id, "colleague": people.mayor.id, "bulk": bulk.id, "rendition": rendition.id}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.method} {c.endpoint}" for c in CASES])
def test_route_answers_each_role_as_decided(client, people, ids, case, role):
    if role != "anonymous":
        client.sign_in(getattr(people, role))
    url = case.url(ids)
    if case.method == "GET":
        response = client.get(url)
    else:
        response = client.submit(url, {"language": "nb", "next": "/"}, token_from="/accessibility")
    expected = case.expected[role]
    assert response.status_code == expected, f"{case.method} {url} as {role}"
    if role == "anonymous" and expected == 302 and case.endpoint not in ("pages.choose_language",):
        assert "/sign-in" in response.location


def test_every_route_is_in_the_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints == {case.endpoint for case in CASES}


def test_a_signatory_sees_the_agreement_once_it_leaves_the_draft_stage(client, people):
    from portal.models import AgreementStatus

    agreement = factories.complete_agreement(people.coordinator)
    agreement.status = AgreementStatus.FINALISED
    db.session.commit()
    client.sign_in(people.mayor)
    assert client.get(f"/agreements/{agreement.id}").status_code == 200
    client.sign_in(people.station_chief)
    assert client.get(f"/agreements/{agreement.id}").status_code == 200


def test_another_municipality_never_sees_the_draft_in_its_list(client, people):
    agreement = factories.complete_agreement(people.coordinator)
    db.session.commit()
    client.sign_in(people.other_coordinator)
    assert agreement.reference not in client.get("/agreements/").get_data(as_text=True)
    client.sign_in(people.coordinator)
    assert agreement.reference in client.get("/agreements/").get_data(as_text=True)


def test_an_administrator_cannot_manage_people_of_another_organisation(client, people, password_hash):
    bergen_admin = factories.user("admin@bergen.example.org", people.coordinator.role.ADMINISTRATOR, people.other_coordinator.organisation, password_hash)
    db.session.commit()
    client.sign_in(bergen_admin)
    assert client.get(f"/admin/users/{people.coordinator.id}/role").status_code == 404
    assert people.coordinator.email not in client.get("/admin/users").get_data(as_text=True)


def test_an_administrator_cannot_change_their_own_role(client, people):
    client.sign_in(people.administrator)
    response = client.submit(f"/admin/users/{people.administrator.id}/role", {"role": "coordinator"}, token_from="/admin/users")
    assert response.status_code == 302
    db.session.refresh(people.administrator)
    assert people.administrator.role.value == "administrator"


def test_an_administrator_changes_a_colleagues_role(client, people):
    client.sign_in(people.administrator)
    response = client.submit(f"/admin/users/{people.mayor.id}/role", {"role": "archivist"})
    assert response.status_code == 302
    db.session.refresh(people.mayor)
    assert people.mayor.role.value == "archivist"
    refused = client.submit(f"/admin/users/{people.mayor.id}/role", {"role": "king"})
    assert refused.status_code == 400
    db.session.refresh(people.mayor)
    assert people.mayor.role.value == "archivist"


def test_each_request_gets_the_access_of_who_asks_now(client, people):
    """The statement that fetches one agreement is kept per role and organisation: the next person, or the
    same person with another role or organisation, gets their own answer on their next request."""
    draft = factories.complete_agreement(people.coordinator)
    db.session.commit()
    wizard, page = f"/agreements/{draft.id}/steps/members", f"/agreements/{draft.id}"
    client.sign_in(people.coordinator)
    assert client.get(wizard).status_code == 200
    client.sign_in(people.other_coordinator)
    assert client.get(wizard).status_code == 404 and client.get(page).status_code == 404
    client.sign_in(people.coordinator)
    assert client.get(wizard).status_code == 200

    people.coordinator.role = Role.SIGNATORY  # a signatory does not see drafts
    db.session.commit()
    assert client.get(page).status_code == 404
    people.coordinator.role = Role.COORDINATOR
    people.coordinator.organisation = people.other_coordinator.organisation  # moved to Bergen
    db.session.commit()
    assert client.get(wizard).status_code == 404 and client.get(page).status_code == 404
