"""The interface language of a request (locale, time zone, translations), read from Flask-Babel once.

Flask-Babel's ``get_locale``, ``get_timezone`` and ``get_translations`` look the request up again on every
call, three to six context look-ups each; a list page asks some two hundred times (its dates, names,
strings and lazy labels).
"""
from __future__ import annotations

from datetime import tzinfo
from functools import cached_property
from typing import NamedTuple

from babel import Locale
from babel import support as babel_support
from flask import g, has_app_context
from flask_babel import Babel, Domain, get_domain, get_locale, get_timezone
from flask_babel.speaklater import LazyString


class PageLanguage(NamedTuple):
    locale: Locale | None
    #: The locale's identifier («nb», «nn», «en»): the key of the formatting caches. The locale object is a
    #: new one on every request, and comparing two costs more than the look-up they key.
    code: str | None
    timezone: tzinfo | None
    translations: babel_support.NullTranslations


def page_language() -> PageLanguage:
    """The language in force, kept beside Flask-Babel's own locale and for that locale object: ``force_locale``
    (the e-mails) and ``refresh`` replace or remove it, so a changed language is looked up afresh."""
    if not has_app_context():  # what Flask-Babel answers there: no locale, the strings untranslated
        return _NO_LANGUAGE
    state = g.get("_flask_babel")
    remembered = getattr(state, "page_language", None)
    if remembered is not None and remembered.locale is getattr(state, "babel_locale", None):
        return remembered
    locale = get_locale()
    domain = get_domain()  # Flask-Babel's own look-up of the catalogue, not PageDomain's
    language = PageLanguage(locale, str(locale) if locale else None, get_timezone(), Domain.get_translations(domain))
    state = g.get("_flask_babel")  # made by get_locale
    if locale is not None and state is not None and getattr(state, "babel_locale", None) is locale:
        state.page_language = language
    return language


_NO_LANGUAGE = PageLanguage(None, None, None, babel_support.NullTranslations())


def page_translations() -> babel_support.NullTranslations:
    """The translations in force (:func:`page_language`)."""
    return page_language().translations


class PageDomain(Domain):
    """Flask-Babel's message domain with the translations of :func:`page_language`: what ``gettext`` and
    the lazy strings (form labels, states, roles) use."""

    def get_translations(self) -> babel_support.NullTranslations:
        return page_language().translations


class PortalBabel(Babel):
    """Flask-Babel with :class:`PageDomain` as its message domain."""

    @cached_property
    def domain_instance(self) -> Domain:
        return PageDomain(domain=self.domain)


def lazy_gettext(string: str, **variables: object) -> LazyString:
    """Flask-Babel's ``lazy_gettext``, translated through :func:`page_translations` each time it is used:
    form labels, step titles and states are turned into text some fifty times a page, and Flask-Babel's
    ``gettext`` looks the request and message domain up again each time (three times the translation)."""
    return LazyString(_translated, string, **variables)


def _translated(string: str, **variables: object) -> str:
    text = page_translations().ugettext(string)
    return text % variables if variables else text  # as Flask-Babel's gettext
