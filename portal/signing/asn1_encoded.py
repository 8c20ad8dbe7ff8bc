"""A speed-up of asn1crypto (1.5.1): a value built in memory is encoded from its parts once, not again at
every look, with the same DER.

asn1crypto marks a SEQUENCE (or SEQUENCE OF, SET OF) built or changed in memory as changed and never
clears the mark after encoding it, so every later ``dump`` encodes its whole subtree again, and so does
every assignment of it into a containing value (which reads its contents to check that it is set). Building
one CMS signature thus encodes its signed attributes (the signing certificate's ESS identifiers, the digest
algorithms, the time-stamp token) thousands of times over: about 9,500 encodings, half the CPU of the
portal's seal at finalising, and as much in every signature and time-stamp it makes.

:func:`apply` clears the mark once a value has been encoded from its parts. A change made afterwards
through item assignment, ``append`` or deletion marks the changed value again, and every value that
contains it sees that, also through a CHOICE or an ANY (where asn1crypto's own check stops). What no
containing value sees, as with any value asn1crypto has parsed rather than built, is a primitive changed in
place (``.set()``), which neither pyHanko nor the portal does. :func:`unpatched` gives asn1crypto's own
code for a block (tests).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from asn1crypto import core

__all__ = ["apply", "unpatched"]

_CLASSES = (core.Sequence, core.SequenceOf, core.SetOf)
_originals = {cls: {name: cls.__dict__[name] for name in ("_set_contents", "_is_mutated") if name in cls.__dict__}
              for cls in _CLASSES}


def _changed(value: Any) -> bool:
    """Whether ``value``, a child of a constructed value, or what it holds, was changed since it was encoded."""
    if isinstance(value, (core.Sequence, core.SequenceOf)):
        return value._is_mutated()
    if isinstance(value, core.Choice):
        return value._parsed is not None and _changed(value._parsed)
    if isinstance(value, (core.Any, core.ParsableOctetString)):
        return value._parsed is not None and _changed(value._parsed[0])
    return False


def _is_mutated(self: core.Sequence | core.SequenceOf) -> bool:
    return self._mutated or (self.children is not None and any(_changed(child) for child in self.children))


def _encoded_once(set_contents: Callable[..., None]) -> Callable[..., None]:
    def set_contents_and_mark_clean(self: core.Sequence | core.SequenceOf, force: bool = False) -> None:
        set_contents(self, force)
        self._mutated = False

    set_contents_and_mark_clean.__asn1_encoded__ = True  # type: ignore[attr-defined]
    return set_contents_and_mark_clean


def apply() -> None:
    """Encode values built in memory once (once per process; calling again does nothing)."""
    for cls, methods in _originals.items():
        if not getattr(cls.__dict__["_set_contents"], "__asn1_encoded__", False):
            cls._set_contents = _encoded_once(methods["_set_contents"])
        if "_is_mutated" in methods:
            cls._is_mutated = _is_mutated


@contextmanager
def unpatched() -> Iterator[None]:
    """asn1crypto's own code for the block (for the process: tests only)."""
    for cls, methods in _originals.items():
        for name, method in methods.items():
            setattr(cls, name, method)
    try:
        yield
    finally:
        apply()
