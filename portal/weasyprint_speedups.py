"""Two speed-ups of WeasyPrint's layout, drop-in replacements with the same result (the same PDF, byte
for byte), written to be offered upstream.

- WeasyPrint computes each property of each element's style the first time layout asks for it
  (``ComputedStyle.__missing__``); laying out an agreement asks about 2,400 times per page, and most of
  those properties are neither declared for the element nor special: their value is the parent's
  (inherited properties) or the initial value. WeasyPrint still takes its general path for them (logical
  properties, variables, math functions, the specified values of ``display``, ``float`` and
  ``position``), a tenth of the whole layout. :func:`_computed` answers those plainly and hands everything
  else to WeasyPrint's own code.
- Layout asks each box whether it is in normal flow (``Box.is_in_normal_flow``) about a thousand times per
  page, through five methods that each look its float or position up again; :func:`_in_normal_flow` looks
  them up once.

:func:`install` (done when this module is first imported, by :func:`portal.documents.render_pdf_document`)
patches only the version this was written for and leaves any other as it is; :func:`unpatched` runs a
block with WeasyPrint's own code (a test compares the two).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from typing import Any

from weasyprint.css import ComputedStyle
from weasyprint.css.computed_values import COMPUTER_FUNCTIONS, PHYSICAL_FUNCTIONS
from weasyprint.css.functions import check_math
from weasyprint.css.properties import INHERITED, INITIAL_NOT_COMPUTED, INITIAL_VALUES
from weasyprint.formatting_structure.boxes import Box

__all__ = ["install", "installed", "unpatched"]

WRITTEN_FOR = {"weasyprint": "70.0"}

_original_missing = ComputedStyle.__missing__
_original_in_normal_flow = Box.is_in_normal_flow
#: Properties whose computation reads other properties' specified values, or walks up the tree.
_SPECIAL = frozenset(("display", "float", "position", "page"))


def _computed(self: ComputedStyle, key: str) -> Any:
    """WeasyPrint's ``ComputedStyle.__missing__`` for a property the element's cascade does not declare
    (neither physically nor as its logical property) and that is not special: the parent's computed value
    for an inherited property (unless it holds a math function, computed again for each element), else
    the initial value, computed where WeasyPrint computes it; anything else by WeasyPrint's own code."""
    cascaded = self.cascaded
    if key in cascaded or key in _SPECIAL or key[:2] == "__" or key[:16] == "text_decoration_":
        return _original_missing(self, key)
    logical = PHYSICAL_FUNCTIONS.get(key)
    if logical is not None and logical(block="ttb", inline=self["direction"]) in cascaded:
        return _original_missing(self, key)
    parent = self.parent_style
    if parent is not None and key in INHERITED:
        value = parent[key]
        if check_math(value):
            return _original_missing(self, key)
    else:
        value = INITIAL_VALUES[key]
        if key in INITIAL_NOT_COMPUTED and key in COMPUTER_FUNCTIONS:
            value = COMPUTER_FUNCTIONS[key](self, key, value)
    self[key] = value
    return value


_OUT_OF_FLOW_FLOATS = frozenset(("left", "right", "inline-start", "inline-end", "footnote"))
_OUT_OF_FLOW_POSITIONS = frozenset(("absolute", "fixed"))


def _in_normal_flow(self: Box) -> bool:
    """WeasyPrint's ``Box.is_in_normal_flow``: not floated, nor a footnote, nor absolutely positioned, nor a
    running element or a note (a ``position`` of ``running()`` or ``note()``)."""
    style = self.style
    position = style["position"]
    return not (style["float"] in _OUT_OF_FLOW_FLOATS or position in _OUT_OF_FLOW_POSITIONS
                or position[0] in ("running()", "note()"))


def installed() -> bool:
    """Whether the speed-ups are in place now."""
    return ComputedStyle.__missing__ is _computed and Box.is_in_normal_flow is _in_normal_flow


def install() -> bool:
    """Put the speed-ups in place if WeasyPrint is the version they were written for; say whether they are."""
    if all(version(package) == expected for package, expected in WRITTEN_FOR.items()):
        ComputedStyle.__missing__ = _computed
        Box.is_in_normal_flow = _in_normal_flow
    return installed()


@contextmanager
def unpatched() -> Iterator[None]:
    """WeasyPrint's own code for the block (for the process: tests and benchmarks only)."""
    was_installed = installed()
    ComputedStyle.__missing__ = _original_missing
    Box.is_in_normal_flow = _original_in_normal_flow
    try:
        yield
    finally:
        if was_installed:
            install()


install()
