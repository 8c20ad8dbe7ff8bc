"""The stamp font: an embeddable TrueType font, reduced once to the characters a stamp needs.

PDF/A (ISO 19005-2 § 6.2.11.4) requires every font used in a visible appearance to be embedded. pyHanko
embeds a subset of the stamp font in each signature (its ``GlyphAccumulatorFactory``); subsetting a full
font with large layout tables (DejaVu Sans: GSUB/GPOS) takes over a second, so the font is first reduced
once to the Latin letters Norwegian and Sámi names use without layout tables or hinting,
and each signature subsets that small font.
"""
from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.font.api import FontEngine, FontEngineFactory, ShapeResult
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.rw_common import PdfHandler
from pyhanko.pdf_utils.writer import BasePdfFileWriter

__all__ = [
    "SHARED_FONT_NAME",
    "STAMP_UNICODES",
    "SharedFontEngineFactory",
    "compact_font",
    "embed_shared_font",
    "find_shared_font",
    "shared_font_can_show",
]

#: Basic Latin, the Latin-1 letters and signs, the letters of the Sámi alphabets (Latin Extended-A and B),
#: dashes, quotation marks and the ellipsis.
STAMP_UNICODES: tuple[range, ...] = (
    range(0x20, 0x7F),
    range(0xA0, 0x100),
    *(range(code, code + 1) for code in (0x100, 0x101, 0x10C, 0x10D, 0x110, 0x111, 0x14A, 0x14B, 0x160, 0x161, 0x166, 0x167,
                                          0x17D, 0x17E, 0x1B7, 0x292, 0x1E6, 0x1E7, 0x1E8, 0x1E9, 0x1EE, 0x1EF)),
    range(0x2013, 0x2015),
    range(0x2018, 0x201F),
    range(0x2026, 0x2027),
    # the rest of Windows-1252 (WinAnsiEncoding), so that every code the shared stamp font maps has its glyph
    *(range(ord(bytes([code]).decode("cp1252")), ord(bytes([code]).decode("cp1252")) + 1)
      for code in range(0x80, 0xA0) if code not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)),
)


@functools.cache
def compact_font(font_path: str, cache_dir: str | None = None) -> str:
    """The path of a reduced copy of ``font_path`` (made once, kept in ``cache_dir`` or the temp dir)."""
    from fontTools import subset, ttLib

    source = Path(font_path)
    stat = source.stat()
    key = hashlib.sha256(f"{source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|v3".encode()).hexdigest()[:16]
    folder = Path(cache_dir or tempfile.gettempdir()) / "politirad-stamp-fonts"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{source.stem}-{key}.ttf"
    if target.exists():
        return str(target)
    options = subset.Options()
    options.layout_features = []
    options.drop_tables += ["GSUB", "GPOS", "GDEF"]
    options.hinting = False
    options.name_IDs = ["*"]
    options.notdef_outline = True
    font = ttLib.TTFont(str(source))
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(unicodes=[code for block in STAMP_UNICODES for code in block])
    subsetter.subset(font)
    descriptor, temporary = tempfile.mkstemp(dir=folder, suffix=".ttf")
    os.close(descriptor)
    font.save(temporary)
    os.replace(temporary, target)
    return str(target)


# ---------------------------------------------------------------------- one embedded font per document
#: The name under which the stamp font sits in the interactive form's default resources (/AcroForm /DR).
SHARED_FONT_NAME = "/PortalStampFont"
_WIN_ANSI = "cp1252"


@dataclass(frozen=True)
class SimpleFontMetrics:
    """What a simple TrueType font dictionary needs (ISO 32000-2 § 9.6.3, § 9.8): widths and descriptor."""

    postscript_name: str
    widths: tuple[int, ...]  # for codes 32..255 in WinAnsiEncoding, glyph space units / 1000 em
    bbox: tuple[int, int, int, int]
    ascent: int
    descent: int
    cap_height: int
    italic_angle: float


@functools.cache
def _metrics(compact_path: str) -> SimpleFontMetrics:
    from fontTools import ttLib

    font = ttLib.TTFont(compact_path)
    scale = 1000 / font["head"].unitsPerEm
    cmap = font.getBestCmap()
    widths = []
    for code in range(32, 256):
        try:
            char = bytes([code]).decode(_WIN_ANSI)
        except UnicodeDecodeError:
            widths.append(0)
            continue
        glyph = cmap.get(ord(char))
        widths.append(round(font["hmtx"][glyph][0] * scale) if glyph else 0)
    head, hhea = font["head"], font["hhea"]
    return SimpleFontMetrics(
        postscript_name=str(font["name"].getDebugName(6) or "DejaVuSans"),
        widths=tuple(widths),
        bbox=tuple(round(v * scale) for v in (head.xMin, head.yMin, head.xMax, head.yMax)),  # type: ignore[arg-type]
        ascent=round(hhea.ascent * scale),
        descent=round(hhea.descent * scale),
        cap_height=round(getattr(font["OS/2"], "sCapHeight", hhea.ascent) * scale),
        italic_angle=float(font["post"].italicAngle),
    )


def shared_font_can_show(text: str) -> bool:
    """Whether ``text`` can be shown with the shared font (all characters in WinAnsiEncoding)."""
    try:
        text.replace("\n", "").encode(_WIN_ANSI)
    except UnicodeEncodeError:
        return False
    return True


def embed_shared_font(writer: BasePdfFileWriter, font_path: str) -> generic.IndirectObject:
    """Embed the reduced stamp font once as a simple TrueType font (WinAnsiEncoding, non-symbolic) and
    register it in the form's default resources, where :class:`SharedFontEngineFactory` finds it.

    PDF/A-2 (ISO 19005-2 § 6.2.11.4–6): the font program is embedded, its name carries a subset tag,
    the widths are the font's own, and a non-symbolic TrueType font has a (3,1) cmap.
    """
    compact = compact_font(font_path)
    metrics = _metrics(compact)
    program = Path(compact).read_bytes()
    font_file = generic.StreamObject({pdf_name("/Length1"): generic.NumberObject(len(program))}, stream_data=program)
    font_file.compress()
    base_name = pdf_name(f"/PRTSTM+{metrics.postscript_name}")
    descriptor = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/FontDescriptor"),
            pdf_name("/FontName"): base_name,
            pdf_name("/Flags"): generic.NumberObject(32),  # non-symbolic
            pdf_name("/FontBBox"): generic.ArrayObject(generic.NumberObject(v) for v in metrics.bbox),
            pdf_name("/ItalicAngle"): generic.FloatObject(metrics.italic_angle),
            pdf_name("/Ascent"): generic.NumberObject(metrics.ascent),
            pdf_name("/Descent"): generic.NumberObject(metrics.descent),
            pdf_name("/CapHeight"): generic.NumberObject(metrics.cap_height),
            pdf_name("/StemV"): generic.NumberObject(80),
            pdf_name("/FontFile2"): writer.add_object(font_file),
        }
    )
    font = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/Font"),
            pdf_name("/Subtype"): pdf_name("/TrueType"),
            pdf_name("/BaseFont"): base_name,
            pdf_name("/FirstChar"): generic.NumberObject(32),
            pdf_name("/LastChar"): generic.NumberObject(255),
            pdf_name("/Widths"): generic.ArrayObject(generic.NumberObject(w) for w in metrics.widths),
            pdf_name("/Encoding"): pdf_name("/WinAnsiEncoding"),
            pdf_name("/FontDescriptor"): writer.add_object(descriptor),
        }
    )
    font_ref = writer.add_object(font)
    acroform = writer.root["/AcroForm"]
    resources = acroform.get("/DR")
    if resources is None:
        resources = generic.DictionaryObject()
        acroform[pdf_name("/DR")] = resources
    fonts = resources.get("/Font")
    if fonts is None:
        fonts = generic.DictionaryObject()
        resources[pdf_name("/Font")] = fonts
    fonts[pdf_name(SHARED_FONT_NAME)] = font_ref
    acroform_ref = writer.root.raw_get("/AcroForm")
    if isinstance(acroform_ref, generic.IndirectObject):
        writer.mark_update(acroform_ref)
    else:
        writer.update_root()
    return font_ref


def find_shared_font(reader: PdfHandler) -> generic.IndirectObject | None:
    """The shared stamp font of a document sealed by the portal, if any."""
    try:
        fonts = reader.root["/AcroForm"]["/DR"]["/Font"]
        ref = fonts.raw_get(SHARED_FONT_NAME)
    except (KeyError, TypeError):
        return None
    return ref if isinstance(ref, generic.IndirectObject) else None


class SharedFontEngine(FontEngine):
    """Shows WinAnsi text with the font :func:`embed_shared_font` embedded: nothing new is embedded."""

    def __init__(self, writer: BasePdfFileWriter, font_ref: generic.IndirectObject, metrics: SimpleFontMetrics) -> None:
        self._font_ref = font_ref
        self._metrics = metrics
        super().__init__(writer, metrics.postscript_name, embedded_subset=False)

    @property
    def uses_complex_positioning(self) -> bool:
        return False

    def shape(self, txt: str) -> ShapeResult:
        encoded = txt.encode(_WIN_ANSI, errors="replace")
        advance = sum(self._metrics.widths[code - 32] if code >= 32 else 0 for code in encoded) / 1000
        return ShapeResult(graphics_ops=b"<" + encoded.hex().encode() + b"> Tj", x_advance=advance, y_advance=0)

    def as_resource(self) -> generic.PdfObject:
        return self._font_ref


class SharedFontEngineFactory(FontEngineFactory):
    def __init__(self, font_ref: generic.IndirectObject, font_path: str) -> None:
        self._font_ref = font_ref
        self._metrics = _metrics(compact_font(font_path))

    def create_font_engine(self, writer: BasePdfFileWriter, obj_stream=None) -> FontEngine:  # type: ignore[no-untyped-def]
        return SharedFontEngine(writer, self._font_ref, self._metrics)
