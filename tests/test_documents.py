"""The agreement as a document: what a reader of the PDF (and of the web page) finds in it, in both
written standards; that it is PDF/A-2b with embedded fonts and metadata; that it has one empty signature
field per signatory over the signature block; and that the same content always gives the same bytes.

The PDFs are rendered once per module (rendering takes about a second each) and read with pypdf, and
with poppler's pdftotext for the positions of words.
"""
from __future__ import annotations

import io
import re
import subprocess
from dataclasses import dataclass, field
from datetime import date
from xml.etree import ElementTree

import pytest
from pypdf import PdfReader
from pypdf.generic import IndirectObject

from portal import documents
from portal.extensions import db
from portal.models import Role, WrittenStandard
from tests import factories

EIDFJORD = "4619"
MM = 72 / 25.4  # PDF points per millimetre
#: Words of the portal's English interface that must never reach the Norwegian document.
ENGLISH = ("Municipality", "Municipalities", "Draft", "Mayor", "Station chief", "Police district", "Agreement",
           "Signature", "Page", "Version", "Purpose", "Participation", "Validity", "Priority", "Expected", "None")
LONG_WORD = "Kriminalitetsførebyggingssamarbeidsavtaleoppfølgingsansvar" * 3  # no place to break a line


def squash(text: str) -> str:
    """Text without any whitespace, so that line breaks in the PDF do not matter."""
    return re.sub(r"\s+", "", text)


@dataclass
class Rendered:
    pdf: bytes
    reference: str
    version: int
    field_names: list[str]
    signatory_names: list[str]
    reader: PdfReader = field(init=False)
    pages: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.reader = PdfReader(io.BytesIO(self.pdf))
        self.pages = [page.extract_text() or "" for page in self.reader.pages]

    @property
    def text(self) -> str:
        return "\n".join(self.pages)

    @property
    def body(self) -> str:
        """The text without the running head, the footer and the draft marks: what the agreement says."""
        furniture = re.compile(r"^(Politiråd – samarbeidsavtale|UTKAST|PR-\S+ · versjon \d+|side \d+ av \d+|\s)+$")
        lines = [line for line in self.text.splitlines() if not furniture.match(line)]
        return "\n".join(lines)

    def contains(self, expected: str) -> bool:
        return squash(expected) in squash(self.text)

    def words(self) -> list[list[dict[str, float | str]]]:
        """Every word of every page with its box (points from the page's top left), from pdftotext."""
        output = subprocess.run(["pdftotext", "-bbox", "-", "-"], input=self.pdf, capture_output=True, check=True).stdout
        tree = ElementTree.fromstring(re.sub(rb"<!DOCTYPE[^>]*>", b"", output))
        namespace = {"x": "http://www.w3.org/1999/xhtml"}
        return [
            [
                {"text": word.text or "", **{key: float(word.get(key)) for key in ("xMin", "yMin", "xMax", "yMax")}}
                for word in page.findall("x:word", namespace)
            ]
            for page in tree.iterfind(".//x:page", namespace)
        ]


@dataclass
class Renders:
    nn_draft: Rendered
    nn_draft_again: Rendered
    nn_final: Rendered
    nn_changed_answer: Rendered
    nb_three_final: Rendered
    long_draft: Rendered
    html_nn_draft: str
    html_nn_final: str
    html_nb: str
    updated_at_before: object
    updated_at_after: object


def _render(agreement, *, draft: bool) -> Rendered:  # type: ignore[no-untyped-def]
    return Rendered(
        documents.agreement_pdf(agreement, draft=draft),
        agreement.reference,
        agreement.version,
        documents.signature_field_names(agreement),
        [signatory.name for signatory in documents.signatories(agreement)],
    )


@pytest.fixture(scope="module")
def renders(app) -> Renders:  # type: ignore[no-untyped-def]
    """Agreements built with the factories and rendered once; nothing is committed."""
    with app.app_context():
        try:
            voss = factories.organisation_for_municipality(factories.VOSS)
            author = factories.user("forfattar@voss.example.org", Role.COORDINATOR, voss, None, "Kari Koordinator")

            one = factories.complete_agreement(author)
            nn_draft = _render(one, draft=True)
            db.session.expire_all()  # read everything from the database again: still the same bytes
            nn_draft_again = _render(one, draft=True)
            nn_final = _render(one, draft=False)
            html_nn_draft = documents.agreement_html(one, draft=True)
            html_nn_final = documents.agreement_html(one, draft=False)

            # One answer changed, and the agreement's time stamp held still: the bytes must differ
            # because of the content, not because of the date.
            before = one.updated_at
            one.place = "Vossevangen"
            db.session.flush()
            one.updated_at = before
            db.session.flush()
            db.session.refresh(one)
            changed = _render(one, draft=True)
            after = one.updated_at

            three = factories.complete_agreement(
                author, municipality_numbers=(factories.VOSS, factories.ULVIK, EIDFJORD), standard=WrittenStandard.BOKMAL
            )
            nb_three_final = _render(three, draft=False)
            html_nb = documents.agreement_html(three, draft=True)

            long = factories.complete_agreement(
                author, municipality_numbers=(factories.VOSS, factories.ULVIK, EIDFJORD), priority_area_count=10, long_text=True
            )
            long.priority_areas[0].title = LONG_WORD
            db.session.flush()
            long_draft = _render(long, draft=True)
            return Renders(nn_draft, nn_draft_again, nn_final, changed, nb_three_final, long_draft,
                           str(html_nn_draft), str(html_nn_final), str(html_nb), before, after)
        finally:
            db.session.rollback()
            db.session.remove()


# ---------------------------------------------------------------- what the reader finds


def test_title_names_every_municipality_and_the_police_district(renders):
    assert renders.nn_draft.contains("POLITIET")
    assert renders.nn_draft.contains("POLITIRÅD Samarbeidsavtale mellom Voss kommune og Vest politidistrikt")
    assert renders.nb_three_final.contains(
        "Samarbeidsavtale mellom Voss kommune, Ulvik kommune, Eidfjord kommune og Vest politidistrikt"
    )
    assert renders.nb_three_final.reader.metadata.title == (
        "Politiråd – Samarbeidsavtale mellom Voss kommune, Ulvik kommune, Eidfjord kommune og Vest politidistrikt"
    )


def test_nynorsk_document_has_the_template_sections_and_wording(renders):
    document = renders.nn_final
    for text in (
        "1. Formål", "Hovudoppgåver", "2. Deltaking", "Minimum faste medlemmer", "Andre kontaktpersonar",
        "3. Lokale mål og oppfølging", "4. Gyldighet", "Underskrifter",
        "Politirådet er politiets og kommunens formaliserte samarbeidsforum",
        "Jamleg revisjon av kommunens politivedtekter.",
        "Det vert halde 4 møter pr. år, minimum 2.",
        "Dagsorden til møta sendast ut seinast 1 veke før møtet vert halde.",
        "Det skrivast referat som vert arkivert. Arkiv for referata: Kommunens sak- og arkivsystem.",
        "Eventuelle læringspunkter vert ført vidare til neste års arbeid.",
        "Avtalen reviderast årleg. Avtalen gjeld frå 1. januar 2027.",
        "Stad: Voss",
    ):
        assert document.contains(text), text
    for bokmal in ("Hovedoppgaver", "Deltakelse", "uke", "kommunene", "holdes"):
        assert not re.search(rf"\b{bokmal}\b", document.text), bokmal


def test_bokmal_document_says_the_same_in_bokmal(renders):
    document = renders.nb_three_final
    for text in (
        "1. Formål", "Hovedoppgaver", "2. Deltakelse", "Minimum faste medlemmer", "Andre kontaktpersoner",
        "3. Lokale mål og oppfølging", "4. Gyldighet", "Underskrifter",
        "Politirådet er politiets og kommunenes formaliserte samarbeidsforum",
        "Det holdes 4 møter pr. år, minimum 2.",
        "Dagsorden til møtene sendes ut senest 1 uke før møtet holdes.",
        "Avtalen revideres årlig. Avtalen gjelder fra 1. januar 2027.",
        "Kommuner: Voss kommune, Ulvik kommune og Eidfjord kommune",
        "Ordfører i Ulvik kommune",
    ):
        assert document.contains(text), text
    for nynorsk in ("Hovudoppgåver", "Deltaking", "Gyldigheit", "veke", "kommunane", "vert", "Ordførar i"):
        assert not re.search(rf"\b{nynorsk}\b", document.text), nynorsk


def test_members_contacts_and_leadership(renders):
    document = renders.nn_final
    for text in (
        "Ordførar i Voss kommune Ordførar Voss leiar",
        "Politistasjonssjef/lensmann Kari Nordmann Politistasjonssjef, Voss lensmannskontor",
        "Kommunedirektør/rådmann i Voss kommune Direktør Voss Kommunedirektør",
        "Politikontakt Ola Politikontakt",
        "SLT-koordinator/sekretær Siri SLT SLT-koordinator",
        "Ordføraren leier politirådet. SLT-koordinatoren er sekretariat for politirådet.",
        "Næringsliv Organisasjon 1 Kontakt 1",
        "Frivillige organisasjonar Organisasjon 2 Kontakt 2",
        "Interesseorganisasjonar Organisasjon 3 Kontakt 3",
    ):
        assert document.contains(text), text


def test_purpose_additions_priority_areas_and_follow_up(renders):
    document = renders.nn_final
    assert document.contains("Politirådet skal særleg arbeide med trygge møteplassar for unge.")
    assert document.contains("Følgje opp handlingsplanen mot vald i nære relasjonar.")
    for number in (1, 2, 3):
        assert document.contains(f"Satsingsområde {number} Venta resultat: Færre unge som blir rekrutterte til kriminelle miljø.")
    assert document.contains("SLT-koordinator og politikontakt gis ansvaret for at tilrådingar i politirådet vert følgde opp")
    assert document.contains("Forholdet til SLT Politirådet er styringsgruppe for SLT-arbeidet")
    assert document.contains("Politirådet er styringsgruppe for SLT.")


def test_every_answer_is_filled_in_and_no_english_or_python_leaks(renders):
    for document in (renders.nn_draft, renders.nn_final, renders.nb_three_final, renders.long_draft):
        assert "____" not in document.text, "a complete agreement has no blanks left"
        for word in ENGLISH:
            assert not re.search(rf"\b{word}\b", document.text, re.IGNORECASE), word


def test_footer_has_reference_version_and_page_numbers(renders):
    for document in (renders.nn_final, renders.nb_three_final, renders.long_draft):
        count = len(document.pages)
        assert count >= 2
        for number, text in enumerate(document.pages, start=1):
            assert f"side {number} av {count}" in text
            assert f"{document.reference} · versjon {document.version}" in text


def test_drafts_are_marked_utkast_on_every_page_and_final_documents_are_not(renders):
    for document in (renders.nn_draft, renders.long_draft):
        assert all("UTKAST" in text for text in document.pages)
    for document in (renders.nn_final, renders.nb_three_final):
        assert "UTKAST" not in document.text.upper()
        assert "utkast" not in (document.reader.metadata.subject or "").lower()
    assert "Utkast" in renders.nn_draft.reader.metadata.subject


# ---------------------------------------------------------------- long input


def test_long_input_keeps_every_word_inside_the_page(renders):
    document = renders.long_draft
    sentence = "Færre unge som blir rekrutterte til kriminelle miljø."
    # 10 priority areas × 12 sentences: none lost, none split over a page break
    assert squash(document.text).count(squash(sentence)) == 120
    assert document.contains(LONG_WORD)
    assert document.contains("Kari Nordmann" + " Langnavn-Etternavnsen" * 4)
    assert document.contains("Satsingsområde 10 Venta resultat: Færre unge")
    width = float(document.reader.pages[0].mediabox.width)
    for page in document.words():
        for word in page:
            assert word["xMin"] >= 15 * MM and word["xMax"] <= width - 15 * MM, word


# ---------------------------------------------------------------- signature fields


def _widgets(document: Rendered) -> dict[str, tuple[int, list[float]]]:
    """Field name → (page index, /Rect) of every widget annotation."""
    found = {}
    for index, page in enumerate(document.reader.pages):
        for annotation in page.get("/Annots") or []:
            annotation = annotation.get_object()
            if annotation.get("/Subtype") == "/Widget":
                found[str(annotation["/T"])] = (index, [float(value) for value in annotation["/Rect"]])
    return found


def test_one_empty_signature_field_per_signatory(renders):
    assert renders.nn_final.field_names == ["Signatur_stasjonssjef", "Signatur_ordforar_4621"]
    assert renders.nb_three_final.field_names == [
        "Signatur_stasjonssjef", "Signatur_ordforar_4621", "Signatur_ordforar_4620", "Signatur_ordforar_4619",
    ]
    for document in (renders.nn_final, renders.nb_three_final, renders.nn_draft):
        fields = document.reader.get_fields()
        assert sorted(fields) == sorted(document.field_names)
        for name in document.field_names:
            assert fields[name].get("/FT") == "/Sig"
            assert fields[name].get("/V") is None, "not signed yet"


def test_signature_fields_lie_over_the_signature_lines_of_their_signatories(renders):
    for document in (renders.nn_final, renders.nb_three_final, renders.long_draft):
        widgets = _widgets(document)
        pages = {index for index, _ in widgets.values()}
        assert len(pages) == 1, "the whole signature block is on one page"
        (page_index,) = pages
        page_text = squash(document.pages[page_index])
        assert squash("Underskrifter") in page_text
        for name in document.signatory_names:
            assert squash(name) in page_text, name
        words = document.words()[page_index]
        height = float(document.reader.pages[page_index].mediabox.height)
        for field_name, signatory in zip(document.field_names, document.signatory_names):
            x1, y1, x2, y2 = widgets[field_name][1]
            assert x2 - x1 > 40 * MM and y2 - y1 > 15 * MM, "room for a signature"
            line_from_top = height - y1
            first_word = signatory.split()[0]
            below = [w for w in words if w["text"] == first_word and abs(w["xMin"] - x1) < 2 and 0 <= w["yMin"] - line_from_top < 20]
            assert below, f"{signatory}'s name is printed right under the field {field_name}"


# ---------------------------------------------------------------- PDF/A, metadata, fonts


def _xmp(document: Rendered) -> str:
    return document.reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode("utf-8")


def test_pdfa_2b_identification_and_metadata(renders):
    document = renders.nb_three_final
    xmp = _xmp(document)
    assert re.search(r'pdfaid:part(="|>)2', xmp)
    assert re.search(r'pdfaid:conformance(="|>)B', xmp)
    root = document.reader.trailer["/Root"]
    assert root["/Lang"] == "nb-NO"
    assert renders.nn_final.reader.trailer["/Root"]["/Lang"] == "nn-NO"
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"], "tagged"
    info = document.reader.metadata
    assert info.author == "Voss kommune, Ulvik kommune, Eidfjord kommune og Vest politidistrikt"
    assert info.subject == f"Samarbeidsavtale om politiråd, {document.reference} versjon 1"
    # PDF/A: the information dictionary and XMP say the same (ISO 19005-2, 6.6.3)
    assert f'pdf:Producer="{info.producer}"' in xmp or f"<pdf:Producer>{info.producer}</pdf:Producer>" in xmp
    assert f">{info.title}<" in xmp
    assert f">{info.author}<" in xmp
    for info_key, xmp_key in (("/CreationDate", "xmp:CreateDate"), ("/ModDate", "xmp:ModifyDate")):
        xmp_date = re.search(rf'{xmp_key}(?:="|>)([^"<]+)', xmp).group(1)
        assert re.sub(r"\D", "", xmp_date)[:14] == info[info_key][2:16], info_key


def _fonts(resources, seen: set[int]) -> list:  # type: ignore[no-untyped-def]
    """Every font dictionary reachable from a resource dictionary, through form XObjects too."""
    found = []
    if resources is None:
        return found
    resources = resources.get_object()
    for font in (resources.get("/Font") or {}).values():
        found.append(font.get_object())
    for xobject in (resources.get("/XObject") or {}).values():
        ref = xobject.idnum if isinstance(xobject, IndirectObject) else id(xobject)
        xobject = xobject.get_object()
        if ref in seen or xobject.get("/Subtype") != "/Form":
            continue
        seen.add(ref)
        found += _fonts(xobject.get("/Resources"), seen)
    return found


def test_every_font_is_embedded(renders):
    for document in (renders.nn_draft, renders.nb_three_final):
        fonts, seen = [], set()
        for page in document.reader.pages:
            fonts += _fonts(page.get("/Resources"), seen)
            for annotation in page.get("/Annots") or []:
                appearance = annotation.get_object().get("/AP")
                if appearance:
                    fonts += _fonts(appearance["/N"].get_object().get("/Resources"), seen)
        assert fonts
        for font in fonts:
            descendant = font["/DescendantFonts"][0].get_object() if font.get("/Subtype") == "/Type0" else font
            descriptor = descendant["/FontDescriptor"].get_object()
            assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")), font.get("/BaseFont")
            assert "DejaVu" in str(font["/BaseFont"])


def _structure(document: Rendered) -> list:  # type: ignore[no-untyped-def]
    """Every structure element of the document's tree, parents before their children."""
    found, waiting = [], [document.reader.trailer["/Root"]["/StructTreeRoot"].get_object()]
    while waiting:
        kids = waiting.pop(0).get("/K", [])
        for kid in kids if isinstance(kids, list) else [kids]:
            kid = kid.get_object()
            if isinstance(kid, dict) and kid.get("/Type", "/StructElem") == "/StructElem" and "/S" in kid:
                found.append(kid)
                waiting.append(kid)
    return found


@pytest.mark.parametrize("name", ["nn_final", "long_draft"])
def test_tagged_structure_has_headings_lists_tables_and_every_run_of_text(renders, name):
    """The logical structure (ISO 32000-1 § 14.7) a screen reader follows: one H1, the sections' H2 and
    H3, paragraphs, lists with labels and bodies, tables with header cells; and every run of text on a
    page belongs to the element that says what it is: its marked-content identifier is in that element's
    /K, and the page's /ParentTree entry points back at it. Text sits in its paragraph, heading or cell
    itself, not in a /Span of its own per line (a tree twice the size for every verification to walk)."""
    document = getattr(renders, name)
    elements = _structure(document)
    kinds = [str(element["/S"]) for element in elements]
    assert kinds.count("/H1") == 1 and kinds.count("/H2") >= 4 and "/H3" in kinds
    for kind in ("/P", "/L", "/LI", "/Lbl", "/LBody", "/Table", "/TR", "/TH", "/TD"):
        assert kind in kinds, kind
    assert not [e for e in elements if e["/S"] == "/Span" and all(isinstance(k, int) for k in e["/K"])]

    parent_tree = document.reader.trailer["/Root"]["/StructTreeRoot"]["/ParentTree"].get_object()["/Nums"]
    parents = dict(zip(parent_tree[::2], parent_tree[1::2]))
    for page in document.reader.pages:
        content = b"".join(part.get_object().get_data() for part in (
            page["/Contents"] if isinstance(page["/Contents"].get_object(), list) else [page["/Contents"]]))
        marked = [int(number) for number in re.findall(rb"/MCID (\d+)", content)]
        assert marked, "every page has tagged text"
        owners = parents[page["/StructParents"]].get_object()
        for mcid in marked:
            owner = owners[mcid].get_object()
            assert owner["/Pg"].get_object() == page.get_object()
            assert mcid in [kid for kid in owner["/K"] if isinstance(kid, int)], (mcid, owner["/S"])


def test_qpdf_finds_no_errors(renders, tmp_path):
    for name, document in (("nn", renders.nn_final), ("long", renders.long_draft)):
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(document.pdf)
        result = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


# ---------------------------------------------------------------- the same content, the same bytes


def test_same_content_gives_the_same_bytes(renders):
    assert renders.nn_draft.pdf == renders.nn_draft_again.pdf


def test_a_changed_answer_gives_different_bytes(renders):
    assert renders.updated_at_before == renders.updated_at_after, "the time stamp did not change"
    assert renders.nn_changed_answer.contains("Stad: Vossevangen")
    assert renders.nn_changed_answer.pdf != renders.nn_draft.pdf


def test_draft_and_final_say_the_same_apart_from_the_draft_mark(renders):
    draft = re.sub(r'\s*<p class="pr-draft-notice[^"]*">.*?</p>', "", renders.html_nn_draft, flags=re.S)
    assert "UTKAST" not in draft
    assert draft.replace(" pr-agreement--draft", "") == renders.html_nn_final
    assert renders.nn_draft.pdf != renders.nn_final.pdf


# ---------------------------------------------------------------- the web fragment


def test_web_fragment_is_the_same_text_in_its_own_language(renders):
    html = renders.html_nn_draft
    assert html.lstrip().startswith('<article class="pr-agreement pr-agreement--draft" lang="nn">')
    assert "<h1" not in html
    assert re.search(r"<h2[^>]*>.*Politiråd.*Samarbeidsavtale mellom Voss kommune og Vest politidistrikt</span></h2>", html)
    assert re.findall(r"<h3[^>]*>([^<]+)</h3>", html) == ["1. Formål", "2. Deltaking", "3. Lokale mål og oppfølging", "4. Gyldighet"]
    assert "UTKAST" in html and "UTKAST" not in renders.html_nn_final
    assert 'lang="nb"' in renders.html_nb and "2. Deltakelse" in renders.html_nb
    # the PDF says what the page says
    for paragraph in re.findall(r'<p class="ds-paragraph">([^<]+)</p>', renders.html_nn_final):
        assert renders.nn_final.contains(paragraph), paragraph


def test_web_fragment_escapes_what_users_typed(app, people):
    agreement = factories.complete_agreement(people.coordinator)
    agreement.purpose_addition = '<script>alert("x")</script> & <b>feit</b>'
    html = str(documents.agreement_html(agreement, draft=True))
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html and "&amp;" in html


def test_police_district_and_dates_in_the_agreements_standard(app, people):
    agreement = factories.complete_agreement(people.coordinator)
    agreement.police_district = factories.police_district("Øst politidistrikt")
    agreement.start_date = date(2027, 3, 15)
    nynorsk = str(documents.agreement_html(agreement, draft=True))
    assert "og Aust politidistrikt" in nynorsk and "Øst politidistrikt" not in nynorsk
    assert "15. mars 2027" in nynorsk
    agreement.written_standard = WrittenStandard.BOKMAL
    bokmal = str(documents.agreement_html(agreement, draft=True))
    assert "og Øst politidistrikt" in bokmal and "Aust" not in bokmal


def test_agenda_deadline_and_leadership_wording(app, people):
    agreement = factories.complete_agreement(people.coordinator, municipality_numbers=(factories.VOSS, factories.ULVIK))
    agreement.agenda_days_before = 14
    agreement.leadership = "rotating"
    agreement.secretariat = "other"
    agreement.secretariat_other = "Beredskapskoordinatoren i Voss"
    agreement.slt_relation = "no_slt"
    html = str(documents.agreement_html(agreement, draft=False))
    assert "seinast 2 veker før møtet" in html
    assert "Leiinga av politirådet går på omgang mellom ordførarane og leiaren for det lokale politiet." in html
    assert "Sekretariat for politirådet: Beredskapskoordinatoren i Voss." in html
    assert "Kommunane har ikkje SLT-samarbeid." in html
    agreement.agenda_days_before = 10
    assert "seinast 10 dagar før møtet" in str(documents.agreement_html(agreement, draft=False))


def test_an_unfinished_draft_shows_blanks_where_answers_are_missing(app, people):
    from portal.agreements.lifecycle import start_agreement
    from portal.models import Party

    agreement = start_agreement(people.coordinator, completed_steps=["parties"])
    agreement.parties.append(Party(municipality_number=factories.VOSS, position=0))
    db.session.flush()
    html = str(documents.agreement_html(agreement, draft=True))
    assert "Samarbeidsavtale mellom Voss kommune og ________ politidistrikt" in html
    assert "Avtalen gjeld frå ________." in html
    assert documents.signature_field_names(agreement) == ["Signatur_stasjonssjef", "Signatur_ordforar_4621"]


def test_purpose_text_for_the_wizard_has_the_standard_text_only(app, people):
    agreement = factories.complete_agreement(people.coordinator, standard=WrittenStandard.BOKMAL)
    html = str(documents.purpose_html(agreement))
    assert 'lang="nb"' in html
    assert "Hovedoppgaver" in html and "Jevnlig revisjon av kommunens politivedtekter." in html
    assert "Følgje opp handlingsplanen" not in html, "the council's own tasks are not standard text"


def test_norwegian_dates():
    assert documents.norwegian_date(date(2027, 1, 1), WrittenStandard.NYNORSK) == "1. januar 2027"
    assert documents.norwegian_date(date(2026, 12, 31), WrittenStandard.BOKMAL) == "31. desember 2026"
