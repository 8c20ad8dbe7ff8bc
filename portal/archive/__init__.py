"""The archive: signed agreements to find, download and hand over to an archive, one by one or in bulk."""
from flask import Blueprint

bp = Blueprint("archive", __name__, url_prefix="/archive")

from . import views  # noqa: E402,F401
