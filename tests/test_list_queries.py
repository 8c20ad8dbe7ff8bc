"""The agreement list and the dashboard load the agreements' parties, municipalities and signature slots
with the list: the number of database queries does not grow with the number of agreements."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import event, select

from portal.extensions import db
from portal.models import Agreement, AgreementStatus, Municipality

from . import factories


@contextmanager
def counting_queries():  # type: ignore[no-untyped-def]
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def add_agreements(people, count: int) -> None:  # type: ignore[no-untyped-def]
    """``count`` agreements of Voss with a municipality of their own each: drafts, signed, awaiting signatures."""
    others = db.session.scalars(select(Municipality.number).where(Municipality.number.not_in([factories.VOSS]))
                                .order_by(Municipality.number).offset(db.session.query(Agreement).count()).limit(count)).all()
    for index in range(count):
        numbers = (factories.VOSS, others[index])
        if index % 3 == 0:
            factories.complete_agreement(people.coordinator, numbers)  # a draft with two municipalities
        elif index % 3 == 1:
            factories.archived_agreement(people.coordinator, numbers, active_from=date(2026, 1, 1 + index))
        else:
            agreement = factories.archived_agreement(people.coordinator, numbers, active_from=date(2025, 1, 1 + index))
            agreement.status = AgreementStatus.FINALISED  # awaiting signatures
            for slot in agreement.signature_slots:
                slot.signed_at = None
    db.session.commit()


@pytest.mark.parametrize("url", ["/agreements/", "/dashboard"])
def test_queries_do_not_grow_with_the_number_of_agreements(client, people, url):
    client.sign_in(people.coordinator)
    add_agreements(people, 3)
    client.get(url)  # warm: the session's user, the language
    with counting_queries() as few:
        page = client.get(url)
    assert page.status_code == 200
    add_agreements(people, 9)
    with counting_queries() as many:
        page = client.get(url)
    assert page.status_code == 200
    assert len(many) == len(few), f"{len(few)} queries for 3 agreements, {len(many)} for 12"

