"""The agreement as a document: the same text on the portal's pages and in the archival PDF.

One Jinja template over ``pdf_templates/`` (``_agreement.html``, with the standard wording per written
standard in ``pdf_templates/texts/nn.toml`` and ``nb.toml``) renders both

- the HTML fragment shown on the web pages («check your answers», the agreement page, the signing
  page), and
- the whole document that WeasyPrint lays out as the PDF,

so what is read is what is signed.

The PDF conforms to PDF/A-2b (ISO 19005-2:2011, conformance level B): every font embedded (DejaVu
Sans from Debian's ``fonts-dejavu-core``), an sRGB output intent, XMP metadata that matches the
document information dictionary, and no external content. It is also tagged (logical structure,
ISO 32000-1 §14.8) and carries its language (``/Lang`` nn-NO or nb-NO); tagging is offered beyond
what level B requires, so the file does not claim PDF/A-2a or PDF/UA.

With the document, WeasyPrint writes one empty signature field (``/FT /Sig``, ISO 32000-1 §12.7.4.5)
per signatory over the boxes of the signature block (:func:`_add_signature_fields`), so that a
certification signature can later be made with every field already present.

Rendering is reproducible: the same content gives the same bytes. The file's dates are the
agreement's own (``created_at``, ``updated_at``) and the file identifier is a digest of the content;
the information dictionary and XMP name the same producer (WeasyPrint), as PDF/A wants, and the
portal's seal (pyHanko) makes both name pyHanko.
"""
from __future__ import annotations

import atexit
import hashlib
import io
import threading
import tomllib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from babel.lists import format_list
from markupsafe import Markup
from pyhanko.pdf_utils import generic

from .models import Agreement, MemberRole, WrittenStandard

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "pdf_templates"
#: Fonts from Debian's fonts-dejavu-core, named in pdf_templates/print.css.
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")

PDF_VARIANT = "pdf/a-2b"
#: WeasyPrint's options for every render. ``pdf_tags`` adds the logical structure; PDF/A-2b allows it.
PDF_OPTIONS: dict[str, Any] = {"pdf_variant": PDF_VARIANT, "pdf_tags": True}

#: CSS px (WeasyPrint's unit) to PDF points.
PX_TO_PT = 0.75

STATION_CHIEF_FIELD = "Signatur_stasjonssjef"


def mayor_field(municipality_number: str) -> str:
    return f"Signatur_ordforar_{municipality_number}"


# ---------------------------------------------------------------- the words


@lru_cache(maxsize=None)
def texts(standard: WrittenStandard) -> dict[str, Any]:
    """The standard wording in ``standard`` (``pdf_templates/texts/nn.toml`` or ``nb.toml``)."""
    with open(TEMPLATES_DIR / "texts" / f"{standard.language_code}.toml", "rb") as file:
        return tomllib.load(file)


def document_standard(agreement: Agreement) -> WrittenStandard:
    """The agreement's written standard; before it is chosen, bokmål for a bokmål municipality, else the
    template's own nynorsk."""
    if agreement.written_standard is not None:
        return WrittenStandard(agreement.written_standard)
    municipalities = [party.municipality for party in agreement.parties if party.municipality is not None]
    if municipalities and municipalities[0].written_standard == WrittenStandard.BOKMAL.value:
        return WrittenStandard.BOKMAL
    return WrittenStandard.NYNORSK


def norwegian_date(value: date | None, standard: WrittenStandard) -> str:
    """``1. januar 2027``."""
    if value is None:
        return ""
    words = texts(standard)["dates"]
    return words["format"].format(day=value.day, month=words["months"][value.month - 1], year=value.year)


def join_names(names: list[str], standard: WrittenStandard) -> str:
    """``A``, ``A og B``, ``A, B og C``, in the document's written standard (Babel's lists)."""
    return format_list(names, locale=standard.language_code) if names else ""


def agreement_title(agreement: Agreement) -> str:
    """«Samarbeidsavtale mellom Voss kommune, Ulvik kommune og Vest politidistrikt»: every party in one
    list, in the agreement's written standard (blanks where the parties are not chosen yet)."""
    standard = document_standard(agreement)
    doc = texts(standard)["document"]
    names = [doc["municipality"].format(name=party.municipality.name) for party in agreement.parties]
    district = agreement.police_district.name_in(standard) if agreement.police_district else doc["unknown_police_district"]
    if not names:
        return doc["title"].format(parties=f"{doc['municipality'].format(name=doc['blank'])} {doc['and']} {district}")
    return doc["title"].format(parties=join_names([*names, district], standard))


def paragraphs(text: str | None) -> list[str]:
    """A user's text as paragraphs: one per non-empty line."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


# ---------------------------------------------------------------- what the template shows


@dataclass(frozen=True)
class MemberRow:
    role: str
    name: str
    detail: str = ""


@dataclass(frozen=True)
class ContactRow:
    kind: str
    organisation: str
    person: str


@dataclass(frozen=True)
class Signatory:
    field_name: str  # the PDF's signature field
    name: str
    title: str
    organisation: str

    @property
    def element_id(self) -> str:
        return f"pr-sig-{self.field_name}"


@dataclass(frozen=True)
class PriorityAreaText:
    title: str
    expected_results: list[str]


def signatories(agreement: Agreement) -> list[Signatory]:
    """Who signs, in the order of the signature block: the station chief, then each municipality's mayor."""
    standard = document_standard(agreement)
    words = texts(standard)
    chief = agreement.member(MemberRole.STATION_CHIEF)
    district = agreement.police_district.name_in(standard) if agreement.police_district else ""
    result = [
        Signatory(
            STATION_CHIEF_FIELD,
            chief.name if chief else "",
            (chief.title if chief else "") or words["participation"]["station_chief"],
            district,
        )
    ]
    for party in agreement.parties:
        mayor = agreement.member(MemberRole.MAYOR, party.municipality_number)
        result.append(
            Signatory(
                mayor_field(party.municipality_number),
                mayor.name if mayor else "",
                words["signatures"]["mayor_title"],
                words["document"]["municipality"].format(name=party.municipality.name),
            )
        )
    return result


def signature_field_names(agreement: Agreement) -> list[str]:
    """The names of the PDF's empty signature fields, in the order of the signature block:
    ``Signatur_stasjonssjef``, then ``Signatur_ordforar_<kommunenummer>`` for each municipality."""
    return [signatory.field_name for signatory in signatories(agreement)]


def _as_utc(moment: datetime | None) -> datetime:
    """A stored time in UTC to the second (SQLite gives naive datetimes back, PostgreSQL aware ones)."""
    if moment is None:
        return datetime(2000, 1, 1, tzinfo=timezone.utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).replace(microsecond=0)


def _context(agreement: Agreement, *, draft: bool, heading_level: int) -> dict[str, Any]:
    if not 1 <= heading_level <= 4:
        raise ValueError("The document's headings go two levels below its title: start at h1 to h4")
    standard = document_standard(agreement)
    words = texts(standard)
    doc, part, goals = words["document"], words["participation"], words["goals"]
    blank = doc["blank"]

    def filled(value: object) -> str:
        text = "" if value is None else str(value).strip()
        return text or blank

    municipality_names = [doc["municipality"].format(name=party.municipality.name) for party in agreement.parties]
    number_words = words["municipalities"]["many" if len(municipality_names) > 1 else "one"]
    district = agreement.police_district.name_in(standard) if agreement.police_district else doc["unknown_police_district"]
    municipalities = join_names(municipality_names, standard) or doc["municipality"].format(name=blank)
    title = agreement_title(agreement)

    # §2: the fixed members, in the template's order
    members: list[MemberRow] = []
    single = len(agreement.parties) == 1
    for party, name in zip(agreement.parties, municipality_names):
        mayor = agreement.member(MemberRole.MAYOR, party.municipality_number)
        leads = (agreement.leadership == "mayor" and single) or agreement.leadership == f"mayor:{party.municipality_number}"
        members.append(MemberRow(part["mayor"].format(municipality=name), filled(mayor and mayor.name), part["leader"] if leads else ""))
    chief = agreement.member(MemberRole.STATION_CHIEF)
    chief_detail = ", ".join(value for value in ((chief.title if chief else ""), (agreement.police_station or "").strip()) if value)
    members.append(MemberRow(part["station_chief"], filled(chief and chief.name), chief_detail))
    for party, name in zip(agreement.parties, municipality_names):
        executive = agreement.member(MemberRole.CHIEF_EXECUTIVE, party.municipality_number)
        members.append(MemberRow(part["chief_executive"].format(municipality=name), filled(executive and executive.name), executive.title if executive else ""))
    for role, key in ((MemberRole.POLICE_CONTACT, "police_contact"), (MemberRole.SLT_COORDINATOR, "slt_coordinator")):
        member = agreement.member(role)
        detail = member.title if member and member.title and member.title != part[key] else ""
        members.append(MemberRow(part[key], filled(member and member.name), detail))

    contacts = [
        ContactRow(part[member.role.value], member.organisation_name.strip(), member.name.strip())
        for member in agreement.contacts
    ]

    leadership = ""
    if agreement.leadership in ("mayor", "rotating"):
        leadership = part[f"leadership_{agreement.leadership}"].format(**number_words)
    elif (agreement.leadership or "").startswith("mayor:"):
        leading = next((name for party, name in zip(agreement.parties, municipality_names)
                        if agreement.leadership == f"mayor:{party.municipality_number}"), "")
        leadership = part["leadership_named_mayor"].format(municipality=leading) if leading else ""
    secretariat = ""
    if agreement.secretariat == "other":
        secretariat = part["secretariat_other"].format(other=filled(agreement.secretariat_other))
    elif agreement.secretariat in ("slt_coordinator", "police_contact"):
        secretariat = part[f"secretariat_{agreement.secretariat}"]

    days = agreement.agenda_days_before
    if days is None:
        deadline = blank
    elif days == 7:
        deadline = part["one_week"]
    elif days % 7 == 0:
        deadline = part["weeks"].format(count=days // 7)
    else:
        deadline = part["days"].format(count=days)
    location = (agreement.minutes_archive_location or "").strip()

    slt = goals[f"slt_{agreement.slt_relation}"].format(**number_words) if agreement.slt_relation in ("steering_group", "coordinated", "no_slt") else blank

    validity = words["validity"]
    facts = [
        (validity["place"], filled(agreement.place)),
        (validity["municipalities" if len(municipality_names) > 1 else "municipality"], municipalities),
        (validity["police_district"], district),
    ]
    start = norwegian_date(agreement.start_date, standard) or blank
    reference_words = {"reference": agreement.reference, "version": agreement.version}
    created, modified = _as_utc(agreement.created_at), _as_utc(agreement.updated_at)

    return {
        "t": words,
        "lang": words["language"],
        "html_lang": words["html_lang"],
        "draft": draft,
        "heading_level": heading_level,
        "title": title,
        "full_title": doc["full_title"].format(title=title),
        "blank": blank,
        "purpose_paragraphs": [text.format(**number_words) for text in words["purpose"]["paragraphs"]],
        "purpose_addition": paragraphs(agreement.purpose_addition),
        "standard_main_tasks": [text.format(**number_words) for text in words["purpose"]["main_tasks"]],
        "additional_main_tasks": [task.strip() for task in agreement.additional_main_tasks or [] if task.strip()],
        "participation_intro": part["intro"].format(**number_words),
        "members": members,
        "leadership": leadership,
        "secretariat": secretariat,
        "contacts": contacts,
        "meetings": part["meetings"].format(count=filled(agreement.meetings_per_year)),
        "agenda": part["agenda"].format(deadline=deadline),
        "minutes": [part["minutes"]] + ([part["minutes_location"].format(location=location)] if location else []),
        "goals_intro": goals["intro"],
        "priority_areas": [PriorityAreaText(area.title.strip(), paragraphs(area.expected_results)) for area in agreement.priority_areas],
        "follow_up": goals["follow_up"].format(responsible=filled(agreement.follow_up_responsible), **number_words),
        "slt": slt,
        "slt_description": paragraphs(agreement.slt_relation_description),
        "valid_from": validity["valid_from"].format(date=start),
        "facts": facts,
        "signatories": signatories(agreement),
        # for the PDF's running head, footer and metadata
        "footer_reference": doc["footer_reference"].format(**reference_words),
        "authors": join_names(municipality_names + ([district] if agreement.police_district else []), standard),
        "subject": doc["subject_draft" if draft else "subject"].format(**reference_words),
        "keywords": [*doc["keywords"], agreement.reference],
        "created": created.isoformat(),
        "modified": max(created, modified).isoformat(),
    }


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    """The documents' own Jinja environment: no request, no Flask, so the CLI and tests can render."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["css_string"] = css_string
    return environment


def css_string(value: str) -> Markup:
    """``value`` as a quoted CSS string, for the page furniture in agreement.html's ``<style>``."""
    escaped = "".join(f"\\{ord(char):x} " if char in '"\\<>&\n\r' else char for char in str(value))
    return Markup(f'"{escaped}"')


def agreement_html(agreement: Agreement, *, draft: bool, heading_level: int = 2) -> Markup:
    """The agreement's text as an HTML fragment for a web page: an ``<article lang="nn|nb">`` whose
    title is an ``h{heading_level}`` (default h2, under the page's own h1) and sections one level lower.
    Drafts carry the «UTKAST» mark."""
    context = _context(agreement, draft=draft, heading_level=heading_level)
    return Markup(_environment().get_template("_agreement.html").render(context))


def purpose_html(agreement: Agreement) -> Markup:
    """§1's standard text (purpose and main tasks) in the agreement's written standard, for the wizard."""
    context = _context(agreement, draft=False, heading_level=1)  # «Hovudoppgåver» as h3, under the page's h2
    return Markup(_environment().get_template("purpose.html").render(context))


def document_html(agreement: Agreement, *, draft: bool) -> str:
    """The whole HTML document WeasyPrint lays out: the same fragment, with head, metadata and page CSS."""
    context = _context(agreement, draft=draft, heading_level=1)
    return _environment().get_template("agreement.html").render(context)


# ---------------------------------------------------------------- the PDF


class _LocalFilesOnly:
    """WeasyPrint's URL fetcher, limited to the templates' CSS and the system's DejaVu fonts. Anything
    else, or a file that is missing, stops the render rather than giving a PDF that looks different."""

    def __init__(self) -> None:
        from weasyprint.urls import URLFetcher

        self._fetcher = URLFetcher(allowed_protocols={"file"})

    def __call__(self, url: str):  # type: ignore[no-untyped-def]
        from urllib.parse import unquote, urlparse

        from weasyprint.urls import FatalURLFetchingError

        parsed = urlparse(url)
        path = Path(unquote(parsed.path)).resolve() if parsed.scheme == "file" else None
        allowed = path is not None and any(path.is_relative_to(root) for root in (TEMPLATES_DIR, FONT_DIR))
        if not allowed or path is None or not path.is_file():
            raise FatalURLFetchingError(f"The agreement's PDF may use only its own files, not {url}")
        return self._fetcher.fetch(url)


@dataclass(frozen=True)
class FieldPlacement:
    name: str
    page_index: int
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in PDF points from the page's lower left


def _signature_placements(document, wanted: dict[str, str]) -> list[FieldPlacement]:  # type: ignore[no-untyped-def]
    """Where WeasyPrint laid out each signature area (element id → field name), in PDF coordinates."""
    found: dict[str, FieldPlacement] = {}
    for page_index, page in enumerate(document.pages):
        # Page.anchors gives only an element's top-left corner; the box tree gives its whole border box.
        for box in page._page_box.descendants():
            element = getattr(box, "element", None)
            element_id = element.get("id") if element is not None else None
            if element_id not in wanted or getattr(box, "element_tag", None) != "div" or not hasattr(box, "border_box_x"):
                continue
            name = wanted[element_id]
            if name in found:
                raise RuntimeError(f"The signature area {name} was split over two pages")
            x, y = box.border_box_x(), box.border_box_y()
            width, height = box.border_width(), box.border_height()
            top = page.height - y  # PDF's y axis points up from the page's bottom edge
            found[name] = FieldPlacement(
                name,
                page_index,
                (
                    round(x * PX_TO_PT, 2),
                    round((top - height) * PX_TO_PT, 2),
                    round((x + width) * PX_TO_PT, 2),
                    round(top * PX_TO_PT, 2),
                ),
            )
    missing = set(wanted.values()) - set(found)
    if missing:
        raise RuntimeError(f"No signature area was laid out for {sorted(missing)}")
    return [found[name] for name in wanted.values()]


def _finish(document, pdf) -> None:  # type: ignore[no-untyped-def]
    """Show the document's title, not its file name, in the reader's window (ISO 32000-1 §12.2), and
    write the objects without object streams (streams stay compressed).

    Why no object streams: every verification indexes each signed revision (pyHanko's difference
    analysis walks the whole structure tree of the tagged PDF), and pyHanko finds an object inside an
    object stream by reading that stream's header again from the start, so a tagged agreement with a few
    hundred structure elements costs about twice as much to verify. PDF/A-2 allows either form
    (ISO 19005-2 § 6.1.2); the file grows by about 30 KB.
    """
    import pydyf

    pdf.catalog["ViewerPreferences"] = pydyf.Dictionary({"DisplayDocTitle": "true"})
    _lean_structure_tree(pdf)

    def write_without_object_streams(output, version=b"1.7", identifier=False, compress=False):  # type: ignore[no-untyped-def]
        return _write_each_object_once(pdf, output, version, identifier)  # pydyf's ``compress`` means object streams

    pdf.write = write_without_object_streams


def _write_each_object_once(pdf, output, version: bytes | str | None, identifier: bool | bytes | str | None) -> None:  # type: ignore[no-untyped-def]
    """pydyf's ``PDF.write`` without object streams, the same bytes, with each object serialised once.

    With a file identifier (PDF/A requires one) pydyf serialises every object a second time to digest them:
    every stream deflated again at level 9 and every dictionary of the structure tree written again, a
    fifth of writing the PDF. Here pydyf's own ``write`` (the class's: the instance's is this function)
    writes stand-ins that hold each object's bytes, made once."""
    import pydyf

    class Serialised(pydyf.Object):
        def __init__(self, object_) -> None:  # type: ignore[no-untyped-def]
            super().__init__()
            self.number, self.generation, self.bytes = object_.number, object_.generation, object_.data

        @property
        def data(self) -> bytes:
            return self.bytes

    pdf.objects = [object_ if object_.free == "f" else Serialised(object_) for object_ in pdf.objects]
    type(pdf).write(pdf, output, version, identifier, compress=False)


def _lean_structure_tree(pdf) -> None:  # type: ignore[no-untyped-def]
    """Put each run of text straight into the structure element it belongs to (ISO 32000-1 § 14.7.4: a
    structure element's /K may hold marked-content identifiers) instead of into a /Span of its own.

    WeasyPrint wraps every text box (a line's run of text) in a /Span structure element with nothing but
    that one marked-content identifier; about half the elements of an agreement's tree are such spans,
    and every verification walks the whole tree once per signed revision. A /Span or /NonStruct element
    with only marked content on its parent's page and no attributes says nothing that its parent does
    not say, so its content goes to the parent (bottom-up, so a <span> holding only text goes too), the
    /ParentTree points at the parent, and the element's object is freed. Headings, paragraphs, lists,
    tables, links and figures stay as they are.
    """
    import pydyf

    objects = pdf.objects

    def obj(reference: bytes):  # type: ignore[no-untyped-def]
        return objects[int(reference.split()[0])]

    root = obj(pdf.catalog["StructTreeRoot"]) if "StructTreeRoot" in pdf.catalog else None
    if root is None:
        return
    moved: dict[bytes, bytes] = {}  # a freed element's reference: its parent's
    elements = [o for o in objects if isinstance(o, pydyf.Dictionary) and o.get("Type") == "/StructElem"]
    for element in sorted(elements, key=lambda o: o.number, reverse=True):  # children come after their parents
        if element["S"] not in ("/Span", "/NonStruct") or set(element) != {"Type", "S", "K", "Pg", "P"}:
            continue
        parent = obj(element["P"])
        if parent.get("Type") != "/StructElem" or parent.get("Pg") != element["Pg"]:
            continue
        if not all(isinstance(kid, int) for kid in element["K"]):
            continue
        at = parent["K"].index(element.reference)
        parent["K"][at:at + 1] = element["K"]
        moved[element.reference] = parent.reference
        element.free = "f"
    if not moved:
        return

    def home(reference):  # type: ignore[no-untyped-def]
        while reference in moved:
            reference = moved[reference]
        return reference

    nums = obj(root["ParentTree"])["Nums"]
    for index in range(1, len(nums), 2):  # a page's array of elements by MCID, or an annotation's element
        value = nums[index]
        nums[index] = pydyf.Array(home(reference) for reference in value) if isinstance(value, list) else home(value)
    # The free objects as the list ISO 32000-1 § 7.5.4 describes: object 0 heads it, each entry names the next.
    freed = [o for o in objects if o.free == "f" and o.number]
    for entry, following in zip([objects[0], *freed], [*freed, None]):
        entry.offset = following.number if following is not None else 0
    for entry in freed:
        entry.generation = 1


def _add_signature_fields(pdf, placements: list[FieldPlacement], tooltips: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """Each signatory's empty field (ISO 32000-1 § 12.7.4.5), with its seed values and its /TU (see
    :mod:`portal.signing.seed_values`), written by WeasyPrint with the rest of the document: a widget over
    the signature area, printed and locked (/F 132), with an empty appearance as PDF/A wants, listed in the
    page's /Annots and in the /AcroForm's /Fields, the dictionaries pyHanko would add in an update of its own.
    The seed values and the texts are pyHanko's objects, so they read as pyHanko writes them."""
    import pydyf

    from .agreements.signing import signing_setup
    from .signing.seed_values import field_seed_values

    setup = signing_setup()
    seed_values = field_seed_values(setup.timestamp_url, setup.accepted_issuers()).as_pdf_object()

    def written(value: generic.PdfObject) -> bytes:
        output = io.BytesIO()
        value.write_to_stream(output)
        return output.getvalue()

    fields = pydyf.Array()
    for placement in placements:
        page_reference = pdf.page_references[placement.page_index]
        x1, y1, x2, y2 = placement.box
        appearance = pydyf.Stream(extra={"Type": "/XObject", "Subtype": "/Form", "BBox": pydyf.Array((0, 0, round(x2 - x1, 2), round(y2 - y1, 2))),
                                         "Resources": pydyf.Dictionary()})
        seed = pydyf.Dictionary({key[1:]: written(value) for key, value in seed_values.items()})  # /SV: indirect, as the spec asks
        pdf.add_object(appearance)
        pdf.add_object(seed)
        widget = pydyf.Dictionary({
            "FT": "/Sig", "T": written(generic.TextStringObject(placement.name)), "Type": "/Annot", "Subtype": "/Widget",
            "F": 132, "Rect": pydyf.Array(placement.box), "P": page_reference, "SV": seed.reference, "AP": pydyf.Dictionary({"N": appearance.reference}),
        })
        if placement.name in tooltips:
            widget["TU"] = written(generic.TextStringObject(tooltips[placement.name]))
        pdf.add_object(widget)
        page = pdf.objects[int(page_reference.split()[0])]
        page.setdefault("Annots", pydyf.Array()).append(widget.reference)
        fields.append(widget.reference)
    form = pydyf.Dictionary({"Fields": fields, "SigFlags": 1})
    pdf.add_object(form)
    pdf.catalog["AcroForm"] = form.reference


#: The stylesheets every PDF document uses (its own <style> adds the page furniture's words).
PDF_STYLESHEETS = ("agreement.css", "print.css")
_styles = threading.local()
# Drop this thread's fonts before the interpreter's shutdown, while WeasyPrint can still remove its files.
atexit.register(lambda: vars(_styles).clear())


def _parsed_styles():  # type: ignore[no-untyped-def]
    """The PDF stylesheets and their fonts, parsed and loaded once per thread (a FontConfiguration is not
    shared between threads) instead of for every render."""
    if not hasattr(_styles, "sheets"):
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        fonts = FontConfiguration()
        _styles.sheets = [CSS(filename=str(TEMPLATES_DIR / name), base_url=str(TEMPLATES_DIR) + "/",
                              url_fetcher=_LocalFilesOnly(), font_config=fonts) for name in PDF_STYLESHEETS]
        _styles.fonts = fonts
    return _styles.fonts, _styles.sheets


def render_pdf_document(html: str):  # type: ignore[no-untyped-def]
    """WeasyPrint's layout of one of ``pdf_templates/``'s HTML documents, limited to their own files."""
    from weasyprint import HTML

    from . import weasyprint_speedups  # noqa: F401 — faster style computation, the same PDF (see the module)

    fonts, sheets = _parsed_styles()
    return HTML(string=html, base_url=str(TEMPLATES_DIR) + "/", url_fetcher=_LocalFilesOnly()).render(
        stylesheets=sheets, font_config=fonts, **PDF_OPTIONS)


def agreement_pdf(agreement: Agreement, *, draft: bool) -> bytes:
    """The agreement as a PDF/A-2b document (ISO 19005-2), tagged, with one empty signature field per
    signatory (see :func:`signature_field_names`). Drafts carry «UTKAST» on every page.

    A draft is rendered once per content: the same HTML (the same answers, words and language) gives the
    same PDF, so previews of an unchanged draft come from a small cache."""
    html = document_html(agreement, draft=draft)
    from .signing.seed_values import tooltip

    signing = signatories(agreement)
    wanted = tuple((signatory.element_id, signatory.field_name) for signatory in signing)
    tooltips = tuple((s.field_name, tooltip(s.name, s.title, s.organisation)) for s in signing)
    if draft:
        return _cached_pdf(hashlib.sha256(html.encode()).hexdigest(), html, wanted, tooltips)
    return _pdf(html, wanted, tooltips)


def _pdf(html: str, wanted: tuple[tuple[str, str], ...], tooltips: tuple[tuple[str, str], ...] = ()) -> bytes:
    document = render_pdf_document(html)
    placements = _signature_placements(document, dict(wanted))

    def finish_with_fields(document, pdf) -> None:  # type: ignore[no-untyped-def]
        _finish(document, pdf)
        _add_signature_fields(pdf, placements, dict(tooltips))

    return document.write_pdf(finisher=finish_with_fields, **PDF_OPTIONS)


_draft_cache: OrderedDict[str, bytes] = OrderedDict()
_draft_cache_lock = threading.Lock()
#: Draft PDFs kept (about 100 kB each).
DRAFT_CACHE_SIZE = 32


def _cached_pdf(key: str, html: str, wanted: tuple[tuple[str, str], ...], tooltips: tuple[tuple[str, str], ...] = ()) -> bytes:
    with _draft_cache_lock:
        if key in _draft_cache:
            _draft_cache.move_to_end(key)
            return _draft_cache[key]
    pdf = _pdf(html, wanted, tooltips)
    with _draft_cache_lock:
        _draft_cache[key] = pdf
        while len(_draft_cache) > DRAFT_CACHE_SIZE:
            _draft_cache.popitem(last=False)
    return pdf


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
