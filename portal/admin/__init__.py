"""Administrators invite the people of their organisation and set their roles."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import invites  # noqa: E402,F401
