"""The interface language is read once per request (``portal.language.page_language``), yet a language
forced for an e-mail, or changed during the request, is followed at once by dates, name lists, strings
and lazy labels; outside any app the labels stay as written."""
from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, timezone

from flask import session
from flask_babel import force_locale, gettext, refresh

from portal.labels import STATUS_LABELS
from portal.templating import name_list, norwegian_date

NEW_YEAR = date(2027, 1, 1)


def words() -> tuple[str, str, str, str]:
    return (norwegian_date(NEW_YEAR), name_list(["Voss", "Ulvik"]), gettext("Agreements"), str(STATUS_LABELS["draft"]))


def test_a_forced_language_is_followed_and_left_again(app):
    with app.test_request_context("/"):
        assert words() == ("1. januar 2027", "Voss og Ulvik", "Avtaler", "Utkast")
        with force_locale("en"):
            assert words() == ("1 January 2027", "Voss and Ulvik", "Agreements", "Draft")
        assert words() == ("1. januar 2027", "Voss og Ulvik", "Avtaler", "Utkast")
        # A time is written in Norwegian time, in the language in force.
        assert norwegian_date(datetime(2027, 1, 1, 12, tzinfo=timezone.utc)) == "1. januar 2027 kl. 13:00"


def test_a_language_chosen_during_the_request_is_followed_after_refresh(app):
    with app.test_request_context("/"):
        assert words()[2] == "Avtaler"
        session["language"] = "nn"
        refresh()  # what Flask-Babel asks of code that changes the language within a request
        assert words() == ("1. januar 2027", "Voss og Ulvik", "Avtalar", "Utkast")
        assert norwegian_date(NEW_YEAR, "short") == "01.01.2027"


def test_labels_outside_an_app_are_the_words_as_written():
    # A fresh interpreter: no app, no request, as when a module is imported.
    script = "from portal.labels import STATUS_LABELS; from forms.steps import STEPS; print(STATUS_LABELS['draft'], '|', STEPS[0].title)"
    shown = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.strip()
    assert shown == "Draft | Municipalities"
