"""Background work as people see it, with axe-core on every state: an archivist asks for a bulk ZIP and
follows its progress until it can be fetched; a coordinator watches a fully signed agreement being
closed and sees it in force without reloading. The page asks again by itself (portal.js); the test moves
the work on in the database, as a worker would.

Elements are found by id, not by their words: the translations are still changing.
"""
from __future__ import annotations

import pytest
from sqlalchemy import update

from portal.agreements import signing
from portal.extensions import db
from portal.models import Agreement, AgreementStatus, BackgroundTask, TaskState
from tests import factories
from tests.conftest import PASSWORD

from .conftest import axe_check, screenshot, sign_in

pytestmark = pytest.mark.browser


def move_task(task_id: str, **values) -> None:  # type: ignore[no-untyped-def]
    db.session.execute(update(BackgroundTask).where(BackgroundTask.id == task_id).values(**values))
    db.session.commit()


def test_an_archivist_follows_a_bulk_zip_until_it_can_be_fetched(page, people):  # type: ignore[no-untyped-def]
    factories.archived_agreement(people.coordinator)
    db.session.commit()
    sign_in(page, people.archivist.email, PASSWORD)
    page.goto("/archive/")
    with page.expect_navigation():
        page.locator("#bulk-package button[type=submit]").click()
    assert "/archive/bulk/" in page.url
    assert page.locator("#task-status").get_attribute("data-task-state") == "done"  # no Redis here: made at once
    assert page.locator("#bulk-download").is_visible()
    axe_check(page)

    # Made by a worker: waiting, then packing, then ready, as the page polls.
    waiting = BackgroundTask(id="bulk-in-browser", kind="build_bulk_package", state=TaskState.QUEUED,
                             started_by_id=people.archivist.id)
    db.session.add(waiting)
    db.session.commit()
    page.goto("/archive/bulk/bulk-in-browser")
    axe_check(page)
    move_task("bulk-in-browser", state=TaskState.RUNNING, done=1, total=3)
    page.locator("#bulk-progress").wait_for(timeout=10_000)
    assert page.locator("#bulk-progress").get_attribute("value") == "1"
    axe_check(page)
    screenshot(page, "bulk-progress")
    move_task("bulk-in-browser", state=TaskState.FAILED, error="OSError: No space left on device")
    page.locator("#task-status[data-task-state=failed]").wait_for(timeout=10_000)
    assert "No space left on device" in page.locator("#task-status").inner_text()
    axe_check(page)


def test_a_coordinator_sees_the_agreement_being_closed_and_then_in_force(page, people):  # type: ignore[no-untyped-def]
    agreement = factories.archived_agreement(people.coordinator, status=AgreementStatus.FINALISED)  # every slot signed
    db.session.commit()
    agreement_id = agreement.id
    db.session.add(BackgroundTask(id=signing.closing_job_id(agreement_id), kind="close_signed_agreement", state=TaskState.RUNNING))
    db.session.commit()
    sign_in(page, people.coordinator.email, PASSWORD)
    page.goto(f"/agreements/{agreement_id}")
    assert page.locator("#task-status").get_attribute("data-task-state") == "running"
    axe_check(page)
    screenshot(page, "agreement-being-closed")

    # The worker is done: the page notices by itself and shows the agreement in force.
    db.session.execute(update(Agreement).where(Agreement.id == agreement_id).values(status=AgreementStatus.ACTIVE))
    move_task(signing.closing_job_id(agreement_id), state=TaskState.DONE)
    page.wait_for_function("() => !document.getElementById('task-status')", timeout=10_000)
    axe_check(page)


def test_a_coordinator_sees_why_closing_failed_and_can_try_again(page, people):  # type: ignore[no-untyped-def]
    agreement = factories.archived_agreement(people.coordinator, status=AgreementStatus.FINALISED)  # every slot signed
    db.session.add(BackgroundTask(id=signing.closing_job_id(agreement.id), kind="close_signed_agreement", state=TaskState.FAILED,
                                  error="ConnectionError: the time-stamp service does not answer"))
    db.session.commit()
    sign_in(page, people.coordinator.email, PASSWORD)
    page.goto(f"/agreements/{agreement.id}")
    status = page.locator("#task-status")
    assert status.get_attribute("data-task-state") == "failed" and "time-stamp service" in status.inner_text()
    assert status.locator("button[type=submit]").is_visible()
    axe_check(page)
