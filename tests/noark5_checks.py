"""What an archivist's tools check of a Noark 5 extraction: the official schemas, the checksums, no empty elements."""
from __future__ import annotations

import hashlib
from pathlib import Path

from lxml import etree

from portal.archive.noark5 import N5, schema_folder

XMLNS = {"n5": N5}


def _schema(*path: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(schema_folder().joinpath(*path))))


def check_extraction(files: dict[str, bytes]) -> etree._Element:
    """Asserts the package validates against Arkivverket's schemas, each file the XML names is there with its
    SHA-256 and size, the schemas are the standards' own bytes, and no element is empty. Returns arkivstruktur."""
    trees = {}
    for name, schema in (("arkivstruktur.xml", ("noark5-v5.0", "arkivstruktur.xsd")),
                         ("endringslogg.xml", ("noark5-v5.0", "endringslogg.xsd")),
                         ("arkivuttrekk.xml", ("addml-8.3", "addml.xsd"))):
        tree = etree.fromstring(files[name])
        validator = _schema(*schema)
        assert validator.validate(tree), (name, [str(error) for error in validator.error_log])
        empty = [element.tag for element in tree.iter() if len(element) == 0 and not (element.text or "").strip()]
        assert empty == [], (name, empty)
        trees[name] = tree
    for folder, name in (("noark5-v5.0", "arkivstruktur.xsd"), ("noark5-v5.0", "metadatakatalog.xsd"), ("addml-8.3", "addml.xsd")):
        assert files[name] == (schema_folder() / folder / name).read_bytes()
    structure = trees["arkivstruktur.xml"]
    objects = structure.findall(".//n5:dokumentobjekt", XMLNS)
    assert objects
    named = set()
    for obj in objects:
        path = obj.findtext("n5:referanseDokumentfil", namespaces=XMLNS)
        assert path.startswith("DOKUMENT/") and path in files
        assert obj.findtext("n5:sjekksumAlgoritme", namespaces=XMLNS) == "SHA256"
        assert obj.findtext("n5:sjekksum", namespaces=XMLNS) == hashlib.sha256(files[path]).hexdigest()
        assert int(obj.findtext("n5:filstoerrelse", namespaces=XMLNS)) == len(files[path])
        named.add(path)
    assert named == {name for name in files if name.startswith("DOKUMENT/")}
    addml = trees["arkivuttrekk.xml"].iter("{http://www.arkivverket.no/standarder/addml}property")
    checksums = [p for p in addml if p.get("name") == "value" and p.getparent().getparent().get("name") == "checksum"]
    assert {p.findtext("{*}value") for p in checksums} >= {hashlib.sha256(files["arkivstruktur.xml"]).hexdigest()}
    return structure


def read_folder(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in folder.rglob("*") if path.is_file()}
