"""Will a signed PDF still validate decades from now with what it holds today? pyHanko's simulation of a
future AdES long-term validation (``simulate_future_ades_lta_validation``, ETSI EN 319 102-1 § 5.6.3):
everything the document holds today counts as proven to exist today, nothing is fetched, the last
document time-stamp's certificate is taken as not revoked, and each signature is validated at the
future moment. A signature that passes is "LTA-maintainable": renewing the archival time-stamp in time
(``flask archive renew-timestamps``) is all it needs; one that fails lacks validation data now, while it
can still be had.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timezone

from asn1crypto import x509 as asn1_x509
from pyhanko.sign.ades.report import AdESPassed
from pyhanko.sign.validation.ades import simulate_future_ades_lta_validation

from .etsi_report import ades_spec
from .shared_analysis import diff_policy_if_analysed, reader_for

__all__ = ["FutureValidation", "PASSED", "YEARS_AHEAD", "simulate_future_validation"]

#: How far ahead the check looks: the agreements are kept in the municipalities' archives for decades.
YEARS_AHEAD = 30
PASSED = "passed"

_PYHANKO_LOGGERS = ("pyhanko", "pyhanko_certvalidator")
_simulating: ContextVar[bool] = ContextVar("simulating_future_validation", default=False)


class _NotWhileSimulating(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not _simulating.get()


_QUIET = _NotWhileSimulating()


@contextmanager
def _pyhanko_quiet() -> Iterator[None]:
    """pyHanko's loggers drop what they are given within the block, in this thread (context) only: at the
    future moment every certificate has expired, and pyHanko logs each such failure with a traceback,
    where the result says all there is. A logger's filter sees only its own records, so each of pyHanko's
    module loggers gets it (``addFilter`` adds it once)."""
    for name in list(logging.Logger.manager.loggerDict):
        if name.split(".", 1)[0] in _PYHANKO_LOGGERS:
            logging.getLogger(name).addFilter(_QUIET)
    token = _simulating.set(True)
    try:
        yield
    finally:
        _simulating.reset(token)


@dataclass(frozen=True)
class FutureValidation:
    """``result`` is :data:`PASSED`, or the AdES sub-indication (``NO_POE``, ...) of the first signature
    that failed, or ``unsigned``; ``at`` the simulated moment; ``checked_at`` when it was simulated."""

    result: str
    at: datetime
    checked_at: datetime

    @property
    def passed(self) -> bool:
        return self.result == PASSED


def simulate_future_validation(data: bytes, trust_roots: Iterable[asn1_x509.Certificate], *,
                               years: int = YEARS_AHEAD, now: datetime | None = None) -> FutureValidation:
    """Simulate the validation of every signature in ``data`` ``years`` from ``now`` (default: the real
    clock) against ``trust_roots``, with today's data only. Runs its own event loop."""
    now = now or datetime.now(timezone.utc)
    future = now.replace(year=now.year + years, day=28) if (now.month, now.day) == (2, 29) else now.replace(year=now.year + years)
    reader = reader_for(data)
    signatures = list(reader.embedded_regular_signatures)

    async def first_failure() -> str | None:
        # The AdES indication does not read the change level: the file's analysis is used where it ran
        # (a renewal verifies the file first), else none is made here; verify_pdf makes it (intake validation).
        spec = ades_spec(trust_roots, diff_policy_if_analysed(reader))
        for embedded in signatures:
            result = await simulate_future_ades_lta_validation(
                embedded, spec, future_validation_time=future, current_reference_time=now)
            if result.ades_subindic is not AdESPassed.OK:
                return result.ades_subindic.name
        return None

    try:
        with _pyhanko_quiet():
            failure = asyncio.run(first_failure()) if signatures else "unsigned"
    except Exception as error:  # noqa: BLE001 — pyHanko's simulation is experimental: a crash is a result too
        failure = f"not_checked: {type(error).__name__}"
    return FutureValidation(failure or PASSED, future, now)
