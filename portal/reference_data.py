"""Load the reference tables (counties, municipalities, police districts) from ``portal/data/``."""
from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from .extensions import db
from .models import County, Municipality, PoliceDistrict

DATA = Path(__file__).parent / "data"


def _read(name: str) -> list[dict]:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def load_reference_data() -> dict[str, int]:
    """Insert or update every row; safe to run again. Returns how many rows of each kind there are."""
    for row in _read("counties.json"):
        db.session.merge(County(number=row["number"], name=row["name"]))
    db.session.flush()
    for row in _read("municipalities.json"):
        db.session.merge(
            Municipality(
                number=row["number"],
                name=row["name"],
                name_norwegian=row["name_norwegian"],
                county_number=row["county_number"],
                written_standard=row["written_standard"],
            )
        )
    existing = {d.name_bokmal: d for d in db.session.scalars(select(PoliceDistrict))}
    for row in _read("police_districts.json"):
        district = existing.get(row["name_bokmal"]) or PoliceDistrict(name_bokmal=row["name_bokmal"])
        district.name_nynorsk = row["name_nynorsk"]
        district.seat = row["seat"]
        district.default_for_counties = row["default_for_counties"]
        db.session.add(district)
    db.session.commit()
    return {
        "counties": db.session.query(County).count(),
        "municipalities": db.session.query(Municipality).count(),
        "police_districts": db.session.query(PoliceDistrict).count(),
    }


def suggested_police_district(municipality: Municipality) -> PoliceDistrict | None:
    """The district that covers the municipality's county by default; the user still chooses."""
    for district in db.session.scalars(select(PoliceDistrict).order_by(PoliceDistrict.id)):
        if municipality.county_number in district.default_for_counties:
            return district
    return None
