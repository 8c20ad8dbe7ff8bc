"""The reference tables: every municipality of the 2024 division and the 12 police districts."""
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Municipality, PoliceDistrict
from portal.reference_data import load_reference_data, suggested_police_district

from . import factories


def test_all_municipalities_and_police_districts_are_loaded(app):
    assert db.session.scalar(select(func.count()).select_from(Municipality)) == 357
    assert db.session.scalar(select(func.count()).select_from(PoliceDistrict)) == 12


def test_written_standards_match_the_language_decisions(app):
    counts = dict(db.session.execute(select(Municipality.written_standard, func.count()).group_by(Municipality.written_standard)).all())
    assert counts == {"bokmal": 119, "nynorsk": 88, "neutral": 150}


def test_loading_again_changes_nothing(app):
    assert load_reference_data() == {"counties": 15, "municipalities": 357, "police_districts": 12}


def test_police_district_is_suggested_from_the_county(app):
    assert suggested_police_district(factories.municipality(factories.VOSS)).name_bokmal == "Vest politidistrikt"
    assert suggested_police_district(factories.municipality(factories.EIGERSUND)).name_bokmal == "Sør-Vest politidistrikt"
    assert suggested_police_district(factories.municipality(factories.OSLO)).name_nynorsk == "Oslo politidistrikt"
    aust = db.session.scalar(select(PoliceDistrict).where(PoliceDistrict.name_bokmal == "Øst politidistrikt"))
    assert aust.name_in("nynorsk") == "Aust politidistrikt"
