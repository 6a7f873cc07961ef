"""Extensions, created unbound and bound in `create_app`."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

#: One naming convention so Alembic names constraints alike on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login = LoginManager()
csrf = CSRFProtect()


class CloudFairApi(Api):
    """flask-smorest's Api with CloudFair's error body (`app/schemas.py`) and no catch-all `default`
    response: each operation lists its statuses (`app/openapi.py`)."""

    from .schemas import ErrorSchema as ERROR_SCHEMA

    DEFAULT_ERROR_RESPONSE_NAME = None

    def _init_spec(self, **kwargs) -> None:
        super()._init_spec(**kwargs)
        from .openapi import text_rule

        self.ma_plugin.converter.add_attribute_function(text_rule)


api = CloudFairApi()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
socketio = SocketIO()
