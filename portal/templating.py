"""Template helpers: the error summary's list, and Norwegian dates."""
from __future__ import annotations

from datetime import date, datetime
from typing import Iterator

from flask import Flask
from flask_babel import format_date, format_datetime
from flask_babel import gettext as _
from wtforms import Field, FieldList, FormField

from . import clock, documents


def form_errors(form) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(id of the field to jump to, message) for every error in ``form``, in page order."""
    return list(_errors_of(form))


def _errors_of(container) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    for field in container:
        if field.type == "CSRFTokenField":
            continue
        yield from _field_errors(field)


def own_errors(field: Field) -> list[str]:
    """The messages about ``field`` itself; a repeating group's list also holds its entries' errors."""
    if isinstance(field, FormField):
        return []
    return [str(message) for message in field.errors if not isinstance(message, (list, dict))]


def _field_errors(field: Field) -> Iterator[tuple[str, str]]:
    if isinstance(field, FieldList):
        for entry in field.entries:
            yield from _field_errors(entry)
        anchor = field.entries[0].id if field.entries else field.id
        if field.entries and isinstance(field.entries[0], FormField):
            anchor = next(iter(field.entries[0].form)).id
        for message in own_errors(field):
            yield anchor, message
    elif isinstance(field, FormField):
        yield from _errors_of(field.form)
    else:
        for message in own_errors(field):
            yield (f"{field.id}-0" if field.type == "RadioField" else field.id), message


def aria(field: Field) -> dict[str, str]:
    """The attributes that tie an input to its description and error message."""
    described = [f"{field.id}-{part}" for part, present in (("description", field.description), ("error", field.errors)) if present]
    attributes = {"aria-describedby": " ".join(described)} if described else {}
    if field.errors:
        attributes["aria-invalid"] = "true"
    return attributes


def norwegian_date(value: date | datetime | None, style: str = "long") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, "d. MMMM y 'kl.' HH:mm" if style == "long" else "dd.MM.y HH:mm")
    return format_date(value, "d. MMMM y" if style == "long" else "dd.MM.y")


def person_name(user) -> str:  # type: ignore[no-untyped-def]
    """«Name (Organisation)», as a person is named to others; «someone» where nobody is known."""
    if user is None:
        return _("someone")
    return f"{user.name} ({user.organisation.name})"


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.globals["person_name"] = person_name
    app.jinja_env.globals["form_errors"] = form_errors
    app.jinja_env.globals["aria"] = aria
    app.jinja_env.globals["own_errors"] = own_errors
    app.jinja_env.globals["standard_purpose"] = documents.purpose_html
    app.jinja_env.filters["date"] = norwegian_date
    # An agreement's state as it is today (``Agreement.status_on``), also before the nightly command ran.
    app.jinja_env.filters["state_today"] = lambda agreement: agreement.status_on(clock.today())
