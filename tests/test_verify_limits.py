"""/verify is public: a visitor who is not signed in may upload a few files a minute from one address, and
only a few new validations run at once; past that the answer is HTTP 429 with Retry-After and a page that
says to try again in a moment, in the visitor's language. Signed-in users are not limited."""
from __future__ import annotations

import threading

import pytest

from portal.extensions import limiter
from portal.verify_page import _GATE_KEY


@pytest.fixture
def low_limit(app):
    saved = app.config["VERIFY_RATE_LIMIT"]
    app.config["VERIFY_RATE_LIMIT"] = "2 per minute"
    limiter.reset()
    yield
    app.config["VERIFY_RATE_LIMIT"] = saved
    limiter.reset()


def upload(client, data: bytes = b"not a pdf at all"):  # type: ignore[no-untyped-def]
    return client.submit("/verify", {"pdf": (__import__("io").BytesIO(data), "avtale.pdf")},
                         content_type="multipart/form-data")


def test_a_visitor_past_the_rate_limit_is_told_to_try_again_in_a_moment(client, low_limit):
    client.choose_language("nn")
    assert upload(client).status_code == 422  # read and answered (not a PDF)
    assert upload(client).status_code == 422
    refused = upload(client)
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    page = refused.get_data(as_text=True)
    assert "Prøv igjen om litt" in page and "sekund" in page
    assert client.get("/verify").status_code == 200  # reading the page is not limited

    statuses = [client.post("/verify.json", data=b"%PDF-1.7 x", content_type="application/pdf").status_code for _ in range(2)]
    assert statuses == [422, 422]
    as_json = client.post("/verify.json", data=b"%PDF-1.7 x", content_type="application/pdf")
    assert as_json.status_code == 429 and as_json.json["error"] == "busy" and as_json.json["retry_after"] > 0


def test_signed_in_users_are_not_limited(client, people, low_limit):
    client.sign_in(people.archivist)
    assert [upload(client).status_code for _ in range(4)] == [422] * 4


def test_when_validations_are_running_already_a_new_one_is_refused_not_queued(app, client, people):
    from tests import factories

    agreement = factories.signed_agreement(people)
    saved_wait = app.config["VERIFY_WAIT_SECONDS"]
    app.config["VERIFY_WAIT_SECONDS"] = 0
    full = threading.BoundedSemaphore(1)
    full.acquire()  # one validation under way, and only one allowed
    app.extensions[_GATE_KEY] = full
    try:
        new_file = agreement.document.signed_pdf[:-6] + b"\n%%EOF\n"  # bytes not in the cache
        refused = upload(client, new_file)
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        assert "Try again in a moment" in refused.get_data(as_text=True) or "Prøv igjen om litt" in refused.get_data(as_text=True)
        full.release()
        again = upload(client, new_file)
        assert again.status_code == 200, again.get_data(as_text=True)[-3000:]  # a place is free again
    finally:
        app.extensions.pop(_GATE_KEY, None)
        app.config["VERIFY_WAIT_SECONDS"] = saved_wait
