"""Sign-in, sign-out, password reset and accepting an invitation."""
from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import invitations, password_reset, provider_views, sign_in  # noqa: E402,F401
