"""Eight speed-ups of library internals that verification spends most of its time in, each a drop-in
replacement with the same result, written to be offered upstream (see each function's docstring).

- pyHanko reads a PDF hex string (``<...>``) one byte at a time through ``read_non_whitespace``; a
  signature's ``/Contents`` is such a string of 16,000–64,000 hex digits, so opening a fully signed
  agreement spent about 35 ms of its 40 ms there. :func:`read_hex_string_from_stream` reads up to the
  closing ``>`` in one go and hands anything unusual (a comment, a stray byte, a missing ``>``) to
  pyHanko's own reader, so errors and their messages stay pyHanko's.
- pyHanko reads every name (``/Type``), number and keyword of a PDF up to its end one byte at a time
  (``misc.read_until_delimiter``), and decodes each name byte by byte for ``#`` escapes
  (``generic._decode_name``); a tagged agreement has some two thousand names. :func:`read_until_delimiter`
  finds the token's end in a chunk, and :func:`_decode_name` takes a name without escapes (all of the
  portal's) as it is; a name with ``#`` or a byte that must be escaped goes to pyHanko's own decoding.
- asn1crypto prepares every name attribute (RFC 4518 string preparation) again for each parsed
  certificate when names are compared or hashed in path building; the portal CA, the TSA and the seal
  certificate come in every signature's CMS and in the DSS as separate parsed objects, so the value
  cached on each object never helps. :func:`_ldap_string_prep` memoises the preparation by the string
  (it depends on nothing else), and :func:`_name_eq` and :func:`_hashable_name` memoise comparing and
  hashing whole names by their DER (its SHA-256, which asn1crypto keeps on each parsed name).
- pyHanko's difference analysis maps, for each signed revision, every path from the trailer to every
  object (``HistoricalResolver._load_reverse_xref_cache``), copying each object of the revision on the
  way; :func:`_load_reverse_xref_cache` walks the reader's own parsed objects instead and makes the paths pyHanko's path objects only for
  the objects asked about (the same paths).
- pyHanko's AdES validations (the ETSI report, the 30-year check) gather the document's own evidence
  again for every signature they validate: the proofs of existence its document time-stamps give
  (``ades._build_prima_facie_poe_index_from_pdf_timestamps``, which reads the DSS of every time-stamped
  revision) and the validation data in its DSS (``ades._dss_to_local_knowledge``). Both depend on the
  document alone (and the diff policy): :func:`_per_document` keeps them per reader, so an agreement with
  three signatures gathers them once per reading, not three times. They then validate those time-stamps
  again for every signature (``ades._validate_prima_facie_poe``, the evidence record's validation):
  :func:`_validate_prima_facie_poe` keeps each validation with the document's list of proofs, and
  answers a later one asked with an equal validation spec at the same validation time.
- pyHanko checks the same cryptographic signatures again and again: each certificate of a chain, each
  OCSP response and CRL, each CMS signature and its time-stamp token, once in every validation (the
  signer's check, the closing, the 30-year check, the intake report and the ETSI report), some two
  hundred and forty checks for one closing, of some thirty signatures. A signature check is a pure
  function of its bytes: :func:`validate_signature` keeps the digests of the checks that passed and
  answers those again without the public-key arithmetic; a check that failed is made again each time.

The agreement PDFs use no object streams (nor cross-reference streams), so pyHanko's lookup of objects in
object streams costs them nothing. :func:`install` (done when :mod:`portal.signing` is imported) patches only the library versions these
were written for — pyHanko 0.38.0, pyhanko-certvalidator 0.33.0, asn1crypto 1.5.1 — and leaves any other version as it is.
:func:`unpatched` runs a block with the libraries' own code (tests compare the two; the benchmark's
yardstick is plain pyHanko).
"""
from __future__ import annotations

import binascii
import dataclasses
import functools
import hashlib
import re
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from copy import copy
from importlib.metadata import version
from typing import Any

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PDF_DELIMITERS, PDF_WHITESPACE, PdfReadError
from pyhanko.pdf_utils.reader import HistoricalResolver, PdfFileReader, RawPdfPath
from pyhanko.sign.validation import ades
from pyhanko.sign.validation.policy_decl import CertificateFetchingRule, RevinfoOnlineFetchingRule
from pyhanko_certvalidator.sig_validate import DEFAULT_VALIDATION_CONTEXT, DefaultSignatureValidator

__all__ = ["forget", "install", "installed", "read_hex_string_from_stream", "read_until_delimiter", "unpatched"]

WRITTEN_FOR = {"pyhanko": "0.38.0", "pyhanko-certvalidator": "0.33.0", "asn1crypto": "1.5.1"}

_HEX_OR_WHITESPACE = generic.HEX_DIGITS + PDF_WHITESPACE
_FIRST_CHUNK, _LARGEST_CHUNK = 256, 1 << 16  # most hex strings are short (/ID); /Contents are long

_original_read_hex = generic.read_hex_string_from_stream
_original_read_until_delimiter = generic.read_until_delimiter
_original_decode_name = generic._decode_name
_original_prep = asn1_x509.NameTypeAndValue._ldap_string_prep
_original_load_reverse_xref_cache = HistoricalResolver._load_reverse_xref_cache
_original_name_eq = asn1_x509.Name.__eq__
_original_name_hashable = asn1_x509.Name.hashable
_original_poe_index = ades._build_prima_facie_poe_index_from_pdf_timestamps
_original_dss_knowledge = ades._dss_to_local_knowledge
_original_validate_poe = ades._validate_prima_facie_poe
_original_validate_signature = DefaultSignatureValidator.validate_signature

_MEMO_SIZE = 4096
_name_equality: dict[tuple[bytes, bytes], bool] = {}
_name_hashable: dict[bytes, str] = {}
_signatures_passed: dict[bytes, None] = {}


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


_TOKEN_END = re.compile(b"[" + re.escape(PDF_WHITESPACE + PDF_DELIMITERS) + b"]")
#: A name of these bytes only (printable ASCII but delimiters and "#") is itself (ISO 32000-2 § 7.3.5).
_PLAIN_NAME = re.compile(b"[" + re.escape(bytes(b for b in range(0x21, 0x7F) if b not in PDF_DELIMITERS + b"#")) + b"]*")


def read_until_delimiter(stream: Any) -> bytes:
    """pyHanko's ``misc.read_until_delimiter``: the bytes up to the next white space or delimiter, with the
    stream left at that byte (at the end of the stream: all that is left, the stream at its end), reading
    a chunk at a time instead of a byte at a time."""
    start, size = stream.tell(), 64
    while True:
        chunk = stream.read(size)
        end = _TOKEN_END.search(chunk)
        if end is not None:
            stream.seek(start + end.start())
            return chunk[:end.start()]
        if len(chunk) < size:  # the end of the stream
            return chunk
        stream.seek(start)
        size *= 4


def _decode_name(name_bytes: bytes) -> generic.NameObject:
    """pyHanko's ``generic._decode_name`` (a name's bytes after the ``/``, with ``#xx`` escapes expanded):
    a name of printable ASCII with no ``#`` and no delimiter is itself; any other goes to pyHanko's own
    decoding, with its errors."""
    if _PLAIN_NAME.fullmatch(name_bytes):
        return generic.NameObject("/" + name_bytes.decode("ascii"))
    return _original_decode_name(name_bytes)


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


def _name_eq(self: asn1_x509.Name, other: object) -> bool:
    """asn1crypto's ``Name.__eq__`` (RFC 5280 § 7.1), memoised by the two names' DER, as its SHA-256
    (asn1crypto's ``Name.sha256``, kept on each parsed name: encoding a name again for every comparison
    cost more than the comparison): pyHanko compares the issuer of every certificate a CMS carries with
    each signer identifier, and the same few names come in every signature as separately parsed objects."""
    if not isinstance(other, asn1_x509.Name):
        return False
    # a name that cannot be prepared raises, and is not kept
    return _remembered(_name_equality, (self.sha256, other.sha256), lambda: _original_name_eq(self, other))


def _hashable_name(self: asn1_x509.Name) -> str:
    """asn1crypto's ``Name.hashable`` (the prepared name as a string, for the certificate registry's
    dictionaries), memoised by the name's DER (its SHA-256, as :func:`_name_eq`)."""
    return _remembered(_name_hashable, self.sha256, lambda: _original_name_hashable.fget(self))


def _remembered(memo: dict[Any, Any], key: Any, compute: Callable[[], Any]) -> Any:
    """``memo[key]``, computed and kept the first time (a memo of ``_MEMO_SIZE`` keys at most: emptied
    when full). What ``compute`` raises is raised each time, not kept."""
    try:
        return memo[key]
    except KeyError:
        pass
    value = compute()
    if len(memo) >= _MEMO_SIZE:
        memo.clear()
    memo[key] = value
    return value


def validate_signature(self: DefaultSignatureValidator, signature: bytes, signed_data: bytes, public_key_info: Any,
                       signature_algorithm: Any, context: Any = DEFAULT_VALIDATION_CONTEXT) -> None:
    """pyca/pyHanko's ``DefaultSignatureValidator.validate_signature`` (raises ``InvalidSignature`` or
    another error when the signature does not verify), remembering the checks that passed by the SHA-256
    of everything the check reads: the signature, the signed bytes, the public key, the algorithm (with
    its parameters) and the context's digest algorithm and pre-hashing. Each part goes in with its length,
    so no two different checks share a digest; a check that failed is never kept, so it fails each time."""
    digest = hashlib.sha256()
    for part in (signature, signed_data, public_key_info.dump(), signature_algorithm.dump(),
                 repr((context.contextual_md_algorithm, context.prehashed)).encode()):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    key = digest.digest()
    if key not in _signatures_passed:
        _original_validate_signature(self, signature, signed_data, public_key_info, signature_algorithm, context)
        _remembered(_signatures_passed, key, lambda: None)


def forget() -> None:
    """Empty the memos of prepared names and passed signature checks (a benchmark's cold start)."""
    _prepared.cache_clear()
    _name_equality.clear()
    _name_hashable.clear()
    _signatures_passed.clear()


def _versions_match() -> bool:
    return all(version(package) == expected for package, expected in WRITTEN_FOR.items())


def installed() -> bool:
    """Whether the speed-ups are in place now."""
    return all(getattr(owner, name) is replacement for owner, name, _original, replacement in _PATCHES)


def install() -> bool:
    """Put the speed-ups in place if the libraries are the versions they were written for; say whether
    they are in place."""
    if _versions_match():
        for owner, name, _original, replacement in _PATCHES:
            setattr(owner, name, replacement)
    return installed()


def _uninstall() -> None:
    for owner, name, original, _replacement in _PATCHES:
        setattr(owner, name, original)


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


_per_reader: weakref.WeakKeyDictionary[PdfFileReader, dict[Any, Any]] = weakref.WeakKeyDictionary()


def _per_document(reader: PdfFileReader, key: Any, compute: Callable[[], Any]) -> Any:
    """``compute()`` for ``reader`` and ``key``, once per reader (kept as long as the reader lives). What
    ``compute`` raises is raised each time, not kept."""
    memo = _per_reader.setdefault(reader, {})
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def _poe_index(r: PdfFileReader, include_content_ts: bool, diff_policy: Any) -> Any:
    """pyHanko's ``ades._build_prima_facie_poe_index_from_pdf_timestamps`` (the proofs of existence the
    document time-stamps give, ETSI EN 319 102-1 § 5.6.3's evidence record), once per reader and
    arguments. pyHanko's callers only read the list. It also computes each signature's integrity
    information under ``diff_policy`` on the way (the digests, and the diff unless the policy is None):
    when the list is kept, that alone is done again, as before, since a validation in between may have
    computed it under another policy."""
    key = ("poe index", include_content_ts, diff_policy)
    if key in _per_reader.get(r, {}):
        for embedded in r.embedded_signatures:
            embedded.compute_integrity_info(diff_policy, skip_diff=diff_policy is None)
    return _per_document(r, key, lambda: _PoeIndex(_original_poe_index(r, include_content_ts, diff_policy)))


class _PoeIndex(list):  # type: ignore[type-arg]
    """pyHanko's list of a document's prima facie proofs of existence (a list, as before), holding the
    validations of those proofs made so far: (validation spec, validation time, the validated POEs)."""

    def __init__(self, proofs: Any) -> None:
        super().__init__(proofs)
        self.validated: list[tuple[Any, Any, Any]] = []


async def _validate_prima_facie_poe(prima_facie_poe_sets: Any, validation_spec: Any, cur_timing_info: Any = None) -> Any:
    """pyHanko's ``ades._validate_prima_facie_poe`` (ETSI EN 319 102-1 § 5.6.3: the document time-stamps
    validated as an evidence record, giving the proofs of existence they hold up), kept with the
    document's list of proofs: asked again with an equal validation spec (dataclass equality: the same
    trust, policies and local knowledge) at an equal validation time, it answers a copy of the first
    answer, which the caller may add to. The AdES validations ask once per signature, with the same spec
    and time for every signature of a report (the ETSI report, the 30-year check). Without a validation
    time (pyHanko's "now") or for another list, and when it fails, pyHanko's own runs each time."""
    if not isinstance(prima_facie_poe_sets, _PoeIndex) or cur_timing_info is None:
        return await _original_validate_poe(prima_facie_poe_sets, validation_spec, cur_timing_info)
    comparable = _without_unused_fetcher(validation_spec)
    for spec, timing, validated in prima_facie_poe_sets.validated:
        if timing == cur_timing_info and spec == comparable:
            return copy(validated)
    validated = await _original_validate_poe(prima_facie_poe_sets, validation_spec, cur_timing_info)
    prima_facie_poe_sets.validated.append((comparable, cur_timing_info, copy(validated)))
    return validated


def _without_unused_fetcher(spec: Any) -> Any:
    """``spec`` without its fetcher backend where nothing may be fetched (local revocation data only, and
    certificates fetched only as that allows): pyHanko gives each AdES validation a backend of its own
    (``ades._operation_scoped_spec``), which would make every two specs unequal."""
    gathering = spec.revinfo_gathering_policy
    if (gathering.fetcher_backend is None or gathering.online_fetching_rule is not RevinfoOnlineFetchingRule.LOCAL_ONLY
            or gathering.certificate_fetching_rule is not CertificateFetchingRule.FOLLOW_ONLINE_RULE):
        return spec
    return dataclasses.replace(spec, revinfo_gathering_policy=dataclasses.replace(gathering, fetcher_backend=None))


def _dss_knowledge(reader: PdfFileReader) -> Any:
    """pyHanko's ``ades._dss_to_local_knowledge`` (the certificates, OCSP responses and CRLs of the
    document's DSS), once per reader. pyHanko's callers only read it."""
    return _per_document(reader, "dss knowledge", lambda: _original_dss_knowledge(reader))


def _load_reverse_xref_cache(self: HistoricalResolver) -> None:
    """pyHanko's ``HistoricalResolver._load_reverse_xref_cache`` (every path from the trailer to every
    indirect object of the revision, for the difference analysis), computing the same paths with the same
    rules — the page tree entered only along its own path, the structure tree only from
    ``/Root/StructTreeRoot/K``, ``/Parent`` never followed, nor ``/P`` inside the structure tree — but
    walking the reader's own parsed objects instead of copies made for this revision: an object not
    changed after the revision is the reader's, one changed later is read for the revision (and copied,
    as before). pyHanko copied every object of every compared revision, ~200 objects of a tagged
    agreement, for each signed revision. Paths are tuples while walking (RawPdfPaths when asked for), and an
    encrypted document takes pyHanko's own walk (its objects must be decrypted through the copies)."""
    if self._indirect_object_access_cache is not None:
        return
    reader = self.reader
    if reader.encrypt_dict is not None:
        return _original_load_reverse_xref_cache(self)
    xrefs, revision, copies = reader.xrefs, self.revision, self.cache

    resolved: dict[generic.Reference, generic.PdfObject] = {}

    def resolve(ref: generic.Reference) -> generic.PdfObject:
        """The object ``ref`` names in this revision, as ``self(ref)`` gives it but without a copy."""
        try:
            return resolved[ref]
        except KeyError:
            pass
        obj = copies.get(ref)
        if obj is None:
            try:
                last_change = xrefs.get_last_change(ref)
            except KeyError:
                last_change = None
            if last_change is not None and last_change <= revision:
                obj = reader.get_object(ref, transparent_decrypt=False)
            else:
                obj = self.get_object(ref)  # changed later (or unknown): pyHanko's way
        resolved[ref] = obj
        return obj

    def dereferenced(value: generic.PdfObject) -> generic.PdfObject:
        while isinstance(value, generic.IndirectObject):  # as IndirectObject.get_object does
            value = resolve(value.reference)
        return value

    def entry(dictionary: generic.DictionaryObject, key: str) -> generic.PdfObject:
        """``dictionary[key]`` as DictionaryObject.__getitem__ gives it (null: KeyError)."""
        value = dereferenced(dict.__getitem__(dictionary, key))
        if isinstance(value, generic.NullObject):
            raise KeyError(key)
        return value

    collected: dict[generic.Reference, list[tuple[str | int, ...]]] = defaultdict(list)
    on_path: set[generic.Reference] = set()

    def walk(obj: generic.PdfObject, path: tuple[str | int, ...], in_struct_tree: bool) -> None:
        if isinstance(obj, generic.IndirectObject):
            ref = obj.reference
            if ref in on_path:
                return
            collected[ref].append(path)  # a path is reached once: no duplicates to drop
            obj = resolve(ref)
            if page_tree_nodes.get(ref, path) != path:
                return  # a page tree node only along the page tree
            if not in_struct_tree and ref in struct_tree_nodes:
                return
            on_path.add(ref)
            try:
                walk_direct(obj, path, in_struct_tree)
            finally:
                on_path.discard(ref)
        else:
            walk_direct(obj, path, in_struct_tree)

    def walk_direct(obj: generic.PdfObject, path: tuple[str | int, ...], in_struct_tree: bool) -> None:
        # Only references, dictionaries and arrays lead anywhere: numbers, names and strings (a font's
        # /Widths, the structure tree's MCIDs, every /Rect) are skipped without a call.
        if isinstance(obj, generic.DictionaryObject):
            enters_struct_tree = path == ("/Root", "/StructTreeRoot")
            for key, value in obj.items():
                if key == "/Parent" or (in_struct_tree and key == "/P") or not isinstance(value, _LEADS_ON):
                    continue
                walk(value, (*path, key), in_struct_tree or (enters_struct_tree and key == "/K"))
        elif isinstance(obj, generic.ArrayObject):
            for index, value in enumerate(obj):
                if isinstance(value, _LEADS_ON):
                    walk(value, (*path, index), in_struct_tree)

    def page_tree_refs(pages: generic.DictionaryObject, path: tuple[str | int, ...]) -> Iterator[tuple[generic.Reference, tuple[str | int, ...]]]:
        for index, kid in enumerate(entry(pages, "/Kids")):
            kid_path = (*path, "/Kids", index)
            if isinstance(kid, generic.IndirectObject):
                yield kid.reference, kid_path
            kid = dereferenced(kid)
            try:
                kind = entry(kid, "/Type")
            except KeyError:
                kind = None
            if kind == "/Pages":
                yield from page_tree_refs(kid, kid_path)

    def collect_struct_tree(element: generic.DictionaryObject, add: Callable[[generic.Reference], None]) -> None:
        """Every structure element below ``element``, handed to ``add`` in pyHanko's order (each before
        its children, so a cycle is found before it is followed)."""
        try:
            children = entry(element, "/K")
        except KeyError:
            return
        if not isinstance(children, generic.ArrayObject):
            children = (children,)  # a single child need not be in an array
        for child in children:
            child_ref = None
            if isinstance(child, generic.IndirectObject):
                child_ref = child.reference
                child = dereferenced(child)
            if not isinstance(child, generic.DictionaryObject):
                continue  # marked content, not a structure element
            try:
                if entry(child, "/Type") != "/StructElem":
                    continue
            except KeyError:
                pass  # /StructElem is the default type
            if child_ref is not None:
                add(child_ref)
            collect_struct_tree(child, add)

    def add_struct_tree_node(ref: generic.Reference) -> None:
        if ref in struct_tree_nodes:
            raise PdfReadError("Circular reference in structure tree in mapping stage")
        struct_tree_nodes.add(ref)

    # The page tree and the structure tree as pyHanko maps them (read, as the walk, from the reader's own
    # objects: copying each page with its resources for every revision cost more than the walk).
    pages_ref = self.root.raw_get("/Pages")
    pages_path = ("/Root", "/Pages")
    page_tree_nodes: dict[generic.Reference, tuple[str | int, ...]] = {}
    if isinstance(pages_ref, generic.IndirectObject):
        page_tree_nodes[pages_ref.reference] = pages_path
    for ref, path in page_tree_refs(dereferenced(pages_ref), pages_path):
        if ref in page_tree_nodes:
            raise PdfReadError("Circular reference in page tree in mapping stage")
        page_tree_nodes[ref] = path
    struct_tree_nodes: set[generic.Reference] = set()
    try:
        collect_struct_tree(dereferenced(self.root.raw_get("/StructTreeRoot")), add_struct_tree_node)
    except KeyError:
        pass
    walk(self.trailer_view, (), False)
    self._indirect_object_access_cache = _PathsByRef(collected)


_LEADS_ON = (generic.IndirectObject, generic.DictionaryObject, generic.ArrayObject)


class _PathsByRef(dict):  # type: ignore[type-arg]
    """The reverse xref cache: reference → its paths, each reference's paths made a set of RawPdfPath
    (hashing every path) only when asked for. The difference analysis asks for the few objects a later
    revision changes, of a few hundred."""

    def __getitem__(self, ref: generic.Reference) -> set[RawPdfPath]:
        paths = dict.__getitem__(self, ref)
        if isinstance(paths, list):
            paths = {RawPdfPath(*path) for path in paths}
            dict.__setitem__(self, ref, paths)
        return paths

    def get(self, ref: generic.Reference, default: Any = None) -> Any:
        return self[ref] if ref in self else default

    def values(self) -> Any:
        return [self[ref] for ref in self]

    def items(self) -> Any:
        return [(ref, self[ref]) for ref in self]


#: Each speed-up as (where, attribute, the library's own, the portal's): what :func:`install` puts in place
#: and :func:`unpatched` takes away.
_PATCHES: tuple[tuple[Any, str, Any, Any], ...] = (
    (generic, "read_hex_string_from_stream", _original_read_hex, read_hex_string_from_stream),
    (generic, "read_until_delimiter", _original_read_until_delimiter, read_until_delimiter),
    (generic, "_decode_name", _original_decode_name, _decode_name),
    (asn1_x509.NameTypeAndValue, "_ldap_string_prep", _original_prep, _ldap_string_prep),
    (asn1_x509.Name, "__eq__", _original_name_eq, _name_eq),
    (asn1_x509.Name, "hashable", _original_name_hashable, property(_hashable_name)),
    (HistoricalResolver, "_load_reverse_xref_cache", _original_load_reverse_xref_cache, _load_reverse_xref_cache),
    (ades, "_build_prima_facie_poe_index_from_pdf_timestamps", _original_poe_index, _poe_index),
    (ades, "_dss_to_local_knowledge", _original_dss_knowledge, _dss_knowledge),
    (ades, "_validate_prima_facie_poe", _original_validate_poe, _validate_prima_facie_poe),
    (DefaultSignatureValidator, "validate_signature", _original_validate_signature, validate_signature),
)
