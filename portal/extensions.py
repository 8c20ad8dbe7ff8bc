"""Flask extensions, created unbound and initialised in the app factory."""
from collections.abc import Iterable

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import BindParameter, MetaData, bindparam, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

from .language import PortalBabel


class Base(DeclarativeBase):
    # Named constraints, so that Alembic migrations behave the same on SQLite and PostgreSQL.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)


def id_list(ids: Iterable[int]) -> BindParameter:
    """``ids`` as one expanding parameter of ``column.in_(...)``: given a list, SQLAlchemy makes and checks
    a parameter per id each time the statement is built (some 5 µs each, for the list pages' 60 ids)."""
    return bindparam("ids", list(ids), expanding=True, unique=True)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(connection, _record) -> None:  # type: ignore[no-untyped-def]
    """SQLite: enforce foreign keys (off by default there), and let readers and a writer work at once."""
    if type(connection).__module__.startswith("sqlite3"):
        cursor = connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = PortalBabel()
#: Limits requests per client address where a route asks for it (``/verify``); in memory per process unless
#: ``RATELIMIT_STORAGE_URI`` names a shared store such as ``redis://127.0.0.1:6379/0``.
limiter = Limiter(key_func=get_remote_address, headers_enabled=True)
