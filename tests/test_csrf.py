"""CSRF: every form the portal accepts is refused without a valid token, with a clear page, changing nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Agreement, User

from . import factories


def post_routes(app) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted({rule.endpoint for rule in app.url_map.iter_rules() if "POST" in rule.methods})


#: Posted to by other programs, never by the portal's forms, and changing nothing: no CSRF token.
#: ``verify.verify_json`` is the verification report for programs (it reads an uploaded PDF, stores nothing).
CSRF_EXEMPT = {"pki.timestamp", "pki.ocsp_post", "verify.verify_json"}


def test_every_post_route_is_covered(app):
    assert set(post_routes(app)) == set(URLS) | CSRF_EXEMPT


URLS = {
    "pages.choose_language": lambda ids: "/language",
    "auth.sign_in": lambda ids: "/sign-in",
    "auth.sign_out": lambda ids: "/sign-out",
    "auth.request_password_reset": lambda ids: "/password-reset",
    "auth.reset_password": lambda ids: "/password-reset/whatever",
    "auth.accept_invitation": lambda ids: "/invitation/whatever",
    "agreements.start": lambda ids: "/agreements/new",
    "agreements.delete": lambda ids: f"/agreements/{ids['draft']}/delete",
    "agreements.finalise": lambda ids: f"/agreements/{ids['draft']}/finalise",
    "agreements.renew": lambda ids: f"/agreements/{ids['draft']}/renew",
    "agreements.sign": lambda ids: f"/agreements/{ids['draft']}/sign",
    "agreements.decline": lambda ids: f"/agreements/{ids['draft']}/decline",
    "agreements.device_challenge": lambda ids: "/agreements/devices/challenge",
    "agreements.enrol_device": lambda ids: "/agreements/devices/enrol",
    "agreements.revoke_device": lambda ids: "/agreements/devices/1/revoke",
    "agreements.prepare_browser_signature": lambda ids: f"/agreements/{ids['draft']}/sign/prepare",
    "agreements.finish_browser_signature": lambda ids: f"/agreements/{ids['draft']}/sign/finish",
    "agreements.close": lambda ids: f"/agreements/{ids['draft']}/close",
    "archive.start_bulk_package": lambda ids: "/archive/bulk",
    "verify.verify": lambda ids: "/verify",
    "wizard.step": lambda ids: f"/agreements/{ids['draft']}/steps/parties",
    "admin.invite": lambda ids: "/admin/users/invite",
    "admin.change_role": lambda ids: f"/admin/users/{ids['colleague']}/role",
    "admin.resend_invitation": lambda ids: f"/admin/users/{ids['colleague']}/invitation",
    "admin.end_sessions": lambda ids: f"/admin/users/{ids['colleague']}/sessions/end",
}


@pytest.mark.parametrize("endpoint", sorted(URLS))
@pytest.mark.parametrize("token", ["missing", "forged"])
def test_a_form_without_a_valid_token_is_refused(client, people, endpoint, token):
    draft = factories.complete_agreement(people.coordinator)
    db.session.commit()
    ids = {"draft": draft.id, "colleague": people.mayor.id}
    signed_in_as = people.administrator if endpoint.startswith("admin.") else people.coordinator
    client.sign_in(signed_in_as)
    agreements_before = db.session.scalar(select(func.count()).select_from(Agreement))
    data = {"municipalities-0": "4620", "role": "archivist", "name": "X", "email": "x@example.org", "language": "en", "password": "x" * 20, "confirm": "x" * 20}
    if token == "forged":
        data["csrf_token"] = "IjEyMzQ1Njc4OTAi.forged.signature"
    response = client.post(URLS[endpoint](ids), data=data)
    assert response.status_code == 400
    assert "could not be sent" in response.get_data(as_text=True) or "kunne ikke sendes" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Agreement)) == agreements_before
    assert [p.municipality_number for p in db.session.get(Agreement, draft.id).parties] == ["4621"]
    assert db.session.get(User, people.mayor.id).role.value == "signatory"
    assert client.get("/agreements/").status_code == 200  # still signed in: the refusal did nothing
