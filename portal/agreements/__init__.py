"""The coordinator's list of agreements, starting a new one, and reading one."""
from flask import Blueprint

bp = Blueprint("agreements", __name__, url_prefix="/agreements")

from . import views  # noqa: E402,F401
from . import finalise  # noqa: E402,F401
from . import sign_views  # noqa: E402,F401
from . import browser_sign_views  # noqa: E402,F401
from . import renewal_views  # noqa: E402,F401
