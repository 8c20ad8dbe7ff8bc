"""Two speed-ups of library internals that verification spends much of its time in, each a drop-in
replacement with the same result, written to be offered upstream (see each function's docstring).

- pyHanko reads a PDF hex string (``<...>``) one byte at a time through ``read_non_whitespace``; a
  signature's ``/Contents`` is such a string of 16,000–64,000 hex digits, so opening a fully signed
  agreement spent about 35 ms of its 40 ms there. :func:`read_hex_string_from_stream` reads up to the
  closing ``>`` in one go and hands anything unusual (a comment, a stray byte, a missing ``>``) to
  pyHanko's own reader, so errors and their messages stay pyHanko's.
- asn1crypto prepares every name attribute (RFC 4518 string preparation) again for each parsed
  certificate when names are compared or hashed in path building; the portal CA, the TSA and the seal
  certificate come in every signature's CMS and in the DSS as separate parsed objects, so the value
  cached on each object never helps. :func:`_ldap_string_prep` memoises the preparation by the string
  (it depends on nothing else).

:func:`install` (done when :mod:`portal.signing` is imported) patches only the library versions these
were written for — pyHanko 0.38.0, asn1crypto 1.5.1 — and leaves any other version as it is.
:func:`unpatched` runs a block with the libraries' own code (tests compare the two; the benchmark's
yardstick is plain pyHanko).
"""
from __future__ import annotations

import binascii
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from typing import Any

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PDF_WHITESPACE

__all__ = ["forget", "install", "installed", "read_hex_string_from_stream", "unpatched"]

WRITTEN_FOR = {"pyhanko": "0.38.0", "asn1crypto": "1.5.1"}

_HEX_OR_WHITESPACE = generic.HEX_DIGITS + PDF_WHITESPACE
_FIRST_CHUNK, _LARGEST_CHUNK = 256, 1 << 16  # most hex strings are short (/ID); /Contents are long

_original_read_hex = generic.read_hex_string_from_stream
_original_prep = asn1_x509.NameTypeAndValue._ldap_string_prep


def read_hex_string_from_stream(stream: Any) -> generic.ByteStringObject | generic.TextStringObject:
    """pyHanko's ``generic.read_hex_string_from_stream``, reading the string in chunks rather than a byte at
    a time. Only hex digits and white space between ``<`` and ``>`` are decoded here; anything else (a
    comment, a bad byte, the end of the file) is read again by pyHanko's own function from the start, so
    it fails or succeeds exactly as before. The stream is left just after the ``>``, as before."""
    start = stream.tell()
    stream.read(1)  # the "<"
    body, size = b"", _FIRST_CHUNK
    while True:
        chunk = stream.read(size)
        end = chunk.find(b">")
        if end >= 0:
            body += chunk[:end]
            break
        if not chunk:  # no closing ">": pyHanko's own error
            return _read_hex_slowly(stream, start)
        body += chunk
        size = min(2 * size, _LARGEST_CHUNK)
    if body.translate(None, _HEX_OR_WHITESPACE):  # a comment or a bad byte: pyHanko decides
        return _read_hex_slowly(stream, start)
    stream.seek(start + 1 + len(body) + 1)
    digits = body.translate(None, PDF_WHITESPACE)
    if len(digits) % 2:
        digits += b"0"  # an odd last digit counts as followed by 0 (ISO 32000-2 § 7.3.4.3)
    return generic.pdf_string(binascii.unhexlify(digits))


def _read_hex_slowly(stream: Any, start: int) -> generic.ByteStringObject | generic.TextStringObject:
    stream.seek(start)
    return _original_read_hex(stream)


@functools.lru_cache(maxsize=4096)
def _prepared(string: str) -> str:
    return _original_prep(None, string)  # the method does not use ``self``


def _ldap_string_prep(self: asn1_x509.NameTypeAndValue, string: str) -> str:
    """asn1crypto's ``NameTypeAndValue._ldap_string_prep`` (RFC 4518), memoised by the string: a pure
    function of it, so the same names in different parsed certificates are prepared once. A string that
    cannot be prepared raises each time, as before (errors are not cached)."""
    return _prepared(string)


def forget() -> None:
    """Empty the memo of prepared names (a benchmark's cold start)."""
    _prepared.cache_clear()


def _versions_match() -> bool:
    return all(version(package) == expected for package, expected in WRITTEN_FOR.items())


def installed() -> bool:
    """Whether the speed-ups are in place now."""
    return generic.read_hex_string_from_stream is read_hex_string_from_stream


def install() -> bool:
    """Put the speed-ups in place if the libraries are the versions they were written for; say whether
    they are in place."""
    if _versions_match():
        generic.read_hex_string_from_stream = read_hex_string_from_stream
        asn1_x509.NameTypeAndValue._ldap_string_prep = _ldap_string_prep
    return installed()


def _uninstall() -> None:
    generic.read_hex_string_from_stream = _original_read_hex
    asn1_x509.NameTypeAndValue._ldap_string_prep = _original_prep


@contextmanager
def unpatched() -> Iterator[None]:
    """The libraries' own code for the block (for the process: tests and benchmarks only)."""
    was_installed = installed()
    _uninstall()
    try:
        yield
    finally:
        if was_installed:
            install()
