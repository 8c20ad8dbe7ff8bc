"""Template helpers: the error summary's list, and Norwegian dates."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from functools import lru_cache
from typing import Iterator

from babel import dates as babel_dates
from babel import support as babel_support
from babel.lists import format_list
from flask import Flask, g, has_request_context, request, url_for
from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _
from jinja2 import pass_context
from markupsafe import Markup, escape
from wtforms import Field, FieldList, FormField
from wtforms.i18n import messages_path as wtforms_messages_path
from wtforms.widgets.core import Input, clean_key

from . import clock, documents
from .labels import STATUS_COLOURS
from .language import PageLanguage, page_language, page_translations


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


#: (long, short) patterns for dates and for times, by interface language; Norwegian is the default.
_DATE_PATTERNS = {
    "en": {"date": ("d MMMM y", "d MMM y"), "datetime": ("d MMMM y 'at' HH:mm", "d MMM y HH:mm")},
    "nb": {"date": ("d. MMMM y", "dd.MM.y"), "datetime": ("d. MMMM y 'kl.' HH:mm", "dd.MM.y HH:mm")},
}


def norwegian_date(value: date | datetime | None, style: str = "long", language: PageLanguage | None = None) -> str:
    """A date (or a time, in Norwegian time) as the interface's language writes it: «1. januar 2027»,
    «1 January 2027». ``language``: the page's (:func:`page_language`), when the caller has it at hand."""
    if value is None:
        return ""
    language = language or page_language()
    patterns = _DATE_PATTERNS.get(language.code or "nb", _DATE_PATTERNS["nb"])
    kind = "datetime" if isinstance(value, datetime) else "date"
    pattern = patterns[kind][0 if style == "long" else 1]
    return _formatted(value, pattern, language.code, language.timezone if kind == "datetime" else None)


@lru_cache(maxsize=4096)
def _formatted(value: date | datetime, pattern: str, locale: str | None, timezone) -> str:  # type: ignore[no-untyped-def]
    """Babel's formatting, kept per value: a list page formats the same dates on every request, at some
    50 µs a time (the time zone's conversion and the pattern's application)."""
    if timezone is None:
        return babel_dates.format_date(value, pattern, locale=locale)
    return babel_dates.format_datetime(value, pattern, tzinfo=timezone, locale=locale)


def name_list(names, language: PageLanguage | None = None) -> str:  # type: ignore[no-untyped-def]
    """«Voss, Ulvik og Eidfjord»: names joined as the interface's language joins them (Babel's lists).
    ``language``: the page's (:func:`page_language`), when the caller has it at hand."""
    return _joined(tuple(str(name) for name in names), (language or page_language()).code or "nb")


@lru_cache(maxsize=1024)
def _joined(names: tuple[str, ...], locale: str) -> str:
    """Babel's list, kept: the list pages join the same names on every request."""
    return format_list(list(names), locale=locale)


def report_time(value: str | datetime | None) -> str:
    """A moment of a validation report (ISO 8601) as the portal writes times, in Norwegian time:
    «27.11.2026 kl. 14:45» (English: «27/11/2026, 14:45»)."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if str(get_locale()).startswith("en"):
        return format_datetime(moment, "dd/MM/y, HH:mm")
    return format_datetime(moment, "dd.MM.y 'kl.' HH:mm")


def person_name(user) -> str:  # type: ignore[no-untyped-def]
    """«Name (Organisation)», as a person is named to others; «someone» where nobody is known."""
    if user is None:
        return _("someone")
    return f"{user.name} ({user.organisation.name})"


def html_params(**attributes: object) -> Markup:
    """WTForms' ``html_params`` (the same output), with one string format per attribute instead of
    ``Markup.format``, which went through ``string.Formatter``: a fifth of the members step's time."""
    parts = []
    for name, value in sorted(attributes.items()):
        if value is True:
            parts.append(_attribute_name(name))
        elif value is not False:
            parts.append(f'{_attribute_name(name)}="{str(escape(value)).replace(chr(34), "&quot;")}"')
    return Markup(" ".join(parts))


@lru_cache(maxsize=256)
def _attribute_name(key: str) -> str:
    """An attribute's name as WTForms writes it (``class_`` → ``class``, ``aria_x`` → ``aria-x``), kept: the
    names are the same few on every input, some 250 on the members step."""
    return str(escape(clean_key(key)))


@lru_cache(maxsize=8)
def _wtforms_catalog(locale):  # type: ignore[no-untyped-def]
    return babel_support.Translations.load(wtforms_messages_path(), [locale], domain="wtforms")


class WTFormsMessages:
    """WTForms' own messages («Not a valid choice»...) in the interface's language, read from WTForms'
    catalogue once per language and process. Flask-WTF reads the catalogue file again for each request
    that builds a form (about half a millisecond) unless the request already holds one, as this."""

    def __init__(self) -> None:
        self._catalog = None

    def _translations(self):  # type: ignore[no-untyped-def]
        if self._catalog is None:
            self._catalog = _wtforms_catalog(get_locale())
        return self._catalog

    def ugettext(self, string: str) -> str:
        return self._translations().ugettext(string)

    def ungettext(self, singular: str, plural: str, n: int) -> str:
        return self._translations().ungettext(singular, plural, n)


@pass_context
def _gettext(context, string: str, **variables: object) -> str:  # type: ignore[no-untyped-def]
    """Jinja's new-style ``gettext`` (the same result) that asks :func:`page_translations` itself: through
    ``_`` Jinja's own went through three calls of the template context per string."""
    text = page_translations().ugettext(string)
    return (Markup(text) if context.eval_ctx.autoescape else text) % variables


@pass_context
def _ngettext(context, singular: str, plural: str, num: int, **variables: object) -> str:  # type: ignore[no-untyped-def]
    """Jinja's new-style ``ngettext``, as :func:`_gettext`."""
    variables.setdefault("num", num)
    text = page_translations().ungettext(singular, plural, num)
    return (Markup(text) if context.eval_ctx.autoescape else text) % variables


#: Stands for the agreement's id in a URL built once per request and endpoint (``agreement_url``).
_ID_STAND_IN = 918_273_645_546


def agreement_url(endpoint: str, agreement_id: int, **values: object) -> str:
    """``url_for(endpoint, agreement_id=agreement_id, **values)``, the same string, made by building the
    endpoint's URL once per request and putting each row's id into it: list pages link every row, and
    ``url_for`` costs more than the rest of a row's link."""
    built = g.setdefault("_agreement_urls", {})
    key = (endpoint, *values.items())
    parts = built.get(key)
    if parts is None:
        parts = built[key] = tuple(url_for(endpoint, agreement_id=_ID_STAND_IN, **values).split(str(_ID_STAND_IN)))
    if len(parts) != 2:  # the stand-in appears more than once (never expected): build the URL itself
        return url_for(endpoint, agreement_id=agreement_id, **values)
    return f"{parts[0]}{int(agreement_id)}{parts[1]}"


#: URLs of endpoints whose arguments are written in the templates (the stylesheets, the menu), by the
#: application's root: the same on every request. Bounded; beyond it, built each time.
_FIXED_URLS: dict[tuple, str] = {}


def fixed_url(endpoint: str, **values: object) -> str:
    """``url_for(endpoint, **values)`` for arguments that do not change between requests, built once per
    root path: every page's frame builds some fifteen of them, each costing more than the look-up."""
    if not has_request_context():
        return url_for(endpoint, **values)
    key = (request.script_root, endpoint, *values.items())
    url = _FIXED_URLS.get(key)
    if url is None:
        url = url_for(endpoint, **values)
        if len(_FIXED_URLS) < 512:
            _FIXED_URLS[key] = url
    return url


def agreement_link(agreement, language: PageLanguage | None = None) -> Markup:  # type: ignore[no-untyped-def]
    """«<a …>reference</a>, version n», linking the agreement's page: a row's first cell in the list
    and on the dashboard (a macro call per row cost more than the rest of the row). ``language``: the
    page's (:func:`page_language`), when the caller has it at hand."""
    version = (language or page_language()).translations.ugettext("version %(number)d") % {"number": int(agreement.version)}
    return Markup(f'<a class="ds-link" href="{agreement_url("agreements.show", agreement.id)}">{escape(agreement.reference)}</a>, {version}')


def state_tag(status, labels: Mapping[str, str]) -> Markup:  # type: ignore[no-untyped-def]
    """An agreement's state as a coloured tag, its label from ``labels`` (a page's ``status_labels``,
    translated once per rendering); the markup the macro of the same name wrote, line breaks included."""
    value = status.value
    return Markup(f'\n<span class="ds-tag" data-color="{escape(STATUS_COLOURS[value])}">{escape(labels[value])}</span>\n')


@pass_context
def status_tag(context, status) -> Markup:  # type: ignore[no-untyped-def]
    """:func:`state_tag` with the page's labels, for the templates."""
    return state_tag(status, context["status_labels"])


def register_template_helpers(app: Flask) -> None:
    @app.before_request
    def keep_wtforms_messages() -> None:
        request.wtforms_translations = WTFormsMessages()  # the attribute Flask-WTF looks for first

    # Every input widget (text, e-mail, number, radio, checkbox, hidden) writes its attributes with it:
    # WTForms makes ``Input.html_params`` a class attribute so that it can be replaced.
    Input.html_params = staticmethod(html_params)  # type: ignore[method-assign]
    app.jinja_env.install_gettext_callables(  # the same as Flask-Babel's, with the translations kept
        gettext=lambda string: page_translations().ugettext(string),
        ngettext=lambda singular, plural, n: page_translations().ungettext(singular, plural, n),
        pgettext=lambda context, string: page_translations().upgettext(context, string),
        npgettext=lambda context, singular, plural, n: page_translations().unpgettext(context, singular, plural, n),
        newstyle=True,
    )
    # The strings of every page go through these two (``_`` included) without Jinja's wrappers.
    app.jinja_env.globals.update(gettext=_gettext, ngettext=_ngettext, _=_gettext)
    app.jinja_env.filters["report_time"] = report_time
    app.jinja_env.globals["person_name"] = person_name
    app.jinja_env.globals["form_errors"] = form_errors
    app.jinja_env.globals["aria"] = aria
    app.jinja_env.globals["own_errors"] = own_errors
    app.jinja_env.globals["agreement_url"] = agreement_url
    app.jinja_env.globals["fixed_url"] = fixed_url
    app.jinja_env.globals["agreement_link"] = agreement_link
    app.jinja_env.globals["status_tag"] = status_tag
    app.jinja_env.globals["standard_purpose"] = documents.purpose_html
    app.jinja_env.filters["date"] = norwegian_date
    app.jinja_env.filters["names"] = name_list
    # An agreement's state as it is today (``Agreement.status_on``), also before the nightly command ran.
    app.jinja_env.filters["state_today"] = lambda agreement: agreement.status_on(clock.today())
