"""A correction to asn1crypto (1.5.1, the latest release): it takes a length that ends in the byte 0x80 for
an indefinite length.

Before encoding a value, asn1crypto's ``dump`` methods ask whether the value was read with an indefinite
length (BER, X.690 § 8.1.3.6: the single length octet 0x80), so as to encode it again in DER. They test
only the last byte of the header, so a definite long-form length whose last octet is 0x80 (128, or any
length of 128 modulo 256 from 384 on: 3200 bytes is ``30 82 0c 80``) counts as indefinite as well
(wbond/asn1crypto#249, not fixed upstream yet). Such a value then encodes its whole subtree again at every
``dump``, forced (every child parsed and encoded afresh), and asn1crypto dumps a constructed value several
times over: a structure built in memory is never marked clean after encoding, and its header is computed
from its contents a second time. A CMS signature whose SignerInfo, or whose time-stamp token, happened to
be such a size cost pyHanko 0.4 to 15 s of CPU instead of a few milliseconds: by chance, as the lengths vary
by a few bytes from one signature to the next (ECDSA signatures, serial numbers, nonces).

:func:`apply` makes the test read the whole header: a value whose last length octets are a definite length
keeps its encoding and only has its header computed again; a value really read with an indefinite length is
encoded again in DER as before. The bytes produced are the same either way.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from asn1crypto import core

__all__ = ["apply", "has_indefinite_length"]

_INDEFINITE = 0x80


def has_indefinite_length(header: bytes) -> bool:
    """Whether ``header`` (identifier and length octets, with any explicit tags' headers before them, as
    asn1crypto keeps it) ends in an indefinite length: its last length octets are the single byte 0x80.
    A header that cannot be read is taken as asn1crypto takes it (by its last byte)."""
    position, indefinite = 0, False
    try:
        while position < len(header):
            if header[position] & 0x1F == 0x1F:  # high tag number form: more identifier octets follow
                position += 1
                while header[position] & 0x80:
                    position += 1
            position += 1
            length = header[position]
            position += 1
            indefinite = length == _INDEFINITE
            if length > _INDEFINITE:  # long form: that many length octets follow
                position += length & 0x7F
    except IndexError:
        return header[-1:] == b"\x80"
    if position != len(header):
        return header[-1:] == b"\x80"
    return indefinite


def _read_length_right(dump: Callable[..., bytes]) -> Callable[..., bytes]:
    @functools.wraps(dump)
    def dump_with_definite_length(self: Any, force: bool = False) -> bytes:
        header = self._header
        if header is not None and header[-1:] == b"\x80" and not has_indefinite_length(header):
            # asn1crypto would force the whole subtree to be encoded again: computing the header again
            # from the (unchanged) contents gives the same DER without that.
            self._header = None
        return dump(self, force)

    dump_with_definite_length.__asn1_lengths_fixed__ = True  # type: ignore[attr-defined]
    return dump_with_definite_length


#: The classes whose ``dump`` makes the test (asn1crypto 1.5.1, core.py).
_CLASSES = (core.Asn1Value, core.Choice, core.Primitive, core.Sequence, core.SequenceOf)


def apply() -> None:
    """Correct the test in every ``dump`` that makes it (once per process; calling again does nothing)."""
    for cls in _CLASSES:
        dump = cls.__dict__["dump"]
        if not getattr(dump, "__asn1_lengths_fixed__", False):
            cls.dump = _read_length_right(dump)
