"""The portal's day is Norway's, whatever time zone the server's clock is in: an agreement signed at
00:30 in Oslo is signed that day, and a renewal falls due on the Norwegian date."""
from __future__ import annotations

import calendar
from datetime import date, datetime
from zoneinfo import ZoneInfo

OSLO = ZoneInfo("Europe/Oslo")


def today() -> date:
    return datetime.now(OSLO).date()


def twelve_months_after(day: date) -> date:
    """The same day a year later; 29 February becomes 28 February when the next year has none."""
    year = day.year + 1
    return date(year, day.month, min(day.day, calendar.monthrange(year, day.month)[1]))
