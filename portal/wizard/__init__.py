"""The agreement wizard: one generic step view, and «check your answers»."""
from flask import Blueprint

bp = Blueprint("wizard", __name__, url_prefix="/agreements/<int:agreement_id>")

from . import views  # noqa: E402,F401
