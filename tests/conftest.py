"""Fixtures: an app with a fresh database per test (SQLite in memory, or PostgreSQL
when TEST_DATABASE_URL is set), a client, and helpers to log in or get a token."""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy

import pytest
from jinja2 import BytecodeCache
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from app import create_app
from app.extensions import db
from app.reference.services import ensure_default_sectors, ensure_divisions
from config import TestConfig

from . import factories

_SCHEMA_READY = {"done": False}
LIVE_NS = "/live"
_KEPT_TABLES = {"divisions"}


def _worker_database(url: str) -> str:
    """Under pytest-xdist each worker gets its own PostgreSQL database (made on first use)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker or not url.startswith("postgresql"):
        return url
    parsed = make_url(url)
    name = f"{parsed.database}_{worker}"
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return parsed.set(database=name).render_as_string(hide_password=False)


_WORKER_URL = {}


def make_test_config(**overrides) -> type[TestConfig]:
    attrs = dict(overrides)
    if "SQLALCHEMY_DATABASE_URI" not in attrs and TestConfig.SQLALCHEMY_DATABASE_URI.startswith("postgresql"):
        if "url" not in _WORKER_URL:
            _WORKER_URL["url"] = _worker_database(TestConfig.SQLALCHEMY_DATABASE_URI)
        attrs["SQLALCHEMY_DATABASE_URI"] = _WORKER_URL["url"]
        # A test's commits need not wait for the disk: the session setting, not the server's.
        attrs.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"connect_args": {"options": "-c synchronous_commit=off"}})
    if TestConfig.SQLALCHEMY_DATABASE_URI.startswith("sqlite://") and "SQLALCHEMY_DATABASE_URI" not in attrs:
        attrs.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"poolclass": StaticPool, "creator": _sqlite_from_template})
    return type("PerTestConfig", (TestConfig,), attrs)


#: SQLite: the schema and reference rows, built once per process in memory; each test's database starts
#: as a copy of it (SQLite's backup API, about a millisecond) instead of running CREATE TABLE again.
_SQLITE_TEMPLATE: dict[str, sqlite3.Connection] = {}


def _sqlite_from_template() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    if "db" in _SQLITE_TEMPLATE:
        _SQLITE_TEMPLATE["db"].backup(conn)
    return conn


def _sqlite_has_schema() -> bool:
    with db.engine.connect() as conn:
        return conn.execute(text("SELECT 1 FROM sqlite_master WHERE type = 'table' LIMIT 1")).first() is not None


def _empty_postgresql_tables() -> None:
    """Every table but the divisions (reference data no test changes) emptied and every used sequence
    back at 1, as TRUNCATE ... RESTART IDENTITY would leave them, in one round trip. DELETE, children
    first, takes milliseconds on a test's few rows where TRUNCATE takes over a second for 30 tables
    (it makes new files for each)."""
    tables = [t.name for t in reversed(db.metadata.sorted_tables) if t.name not in _KEPT_TABLES]
    deletes = "\n".join(f'  DELETE FROM "{name}";' for name in tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"""DO $$
DECLARE seq record;
BEGIN
{deletes}
  FOR seq IN SELECT schemaname, sequencename FROM pg_sequences
             WHERE schemaname = current_schema() AND last_value IS NOT NULL LOOP
    PERFORM setval(format('%I.%I', seq.schemaname, seq.sequencename), 1, false);
  END LOOP;
END $$"""))


def _reset_database() -> None:
    if db.engine.dialect.name == "postgresql":
        if not _SCHEMA_READY["done"]:
            # Whatever an earlier run or branch left (tables the models no longer name, types,
            # alembic_version) goes with the schema, so the first reset never trips on it.
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            db.create_all()
            ensure_divisions()
            _SCHEMA_READY["done"] = True
        else:
            _empty_postgresql_tables()
        ensure_default_sectors()
    elif not _sqlite_has_schema():
        db.create_all()
        ensure_divisions()  # one bulk insert, a few milliseconds
        ensure_default_sectors()
        if db.engine.url.database in (None, "", ":memory:") and "db" not in _SQLITE_TEMPLATE:
            template = sqlite3.connect(":memory:", check_same_thread=False)
            with db.engine.connect() as conn:
                conn.connection.driver_connection.backup(template)
            _SQLITE_TEMPLATE["db"] = template


class DataSnapshot:
    """A big fixture built through the services once per process, then put back for each test that asks:
    the rows of every table (but the kept reference tables) and the upload folder, as they were when it
    was built, with the same ids. Older than `max_age` seconds (tokens and slots age), it is built again."""

    def __init__(self, max_age: float = 600.0):
        self.max_age = max_age
        self.rows: dict[str, list[dict]] | None = None
        self.uploads: str | None = None
        self.taken_at = 0.0
        self.dialect = None
        self.extra: dict = {}

    def usable(self) -> bool:
        return (self.rows is not None and time.monotonic() - self.taken_at < self.max_age
                and self.dialect == db.engine.dialect.name)

    def take(self, app, **extra) -> None:
        import shutil
        import tempfile

        db.session.commit()
        rows = {}
        with db.engine.connect() as conn:
            for table in db.metadata.sorted_tables:
                if table.name not in _KEPT_TABLES:
                    rows[table.name] = [dict(row._mapping) for row in conn.execute(table.select())]
        if self.uploads:
            shutil.rmtree(self.uploads, ignore_errors=True)
        self.uploads = tempfile.mkdtemp(prefix="cloudfair-snapshot-")
        source = app.config["UPLOAD_DIR"]
        if os.path.isdir(source):
            shutil.copytree(source, self.uploads, dirs_exist_ok=True)
        self.rows, self.extra, self.taken_at = rows, extra, time.monotonic()
        self.dialect = db.engine.dialect.name

    def restore(self, app) -> dict:
        import shutil

        db.session.remove()
        postgresql = db.engine.dialect.name == "postgresql"
        if postgresql:
            _empty_postgresql_tables()
        tables = [t for t in db.metadata.sorted_tables if t.name not in _KEPT_TABLES]
        with db.engine.begin() as conn:
            if not postgresql:
                for table in reversed(tables):
                    conn.execute(table.delete())
            for table in tables:
                rows = self.rows.get(table.name)
                if rows:
                    conn.execute(table.insert(), rows)
                    if postgresql and "id" in table.c:
                        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                                          f"(SELECT max(id) FROM \"{table.name}\"))"))
        shutil.copytree(self.uploads, app.config["UPLOAD_DIR"], dirs_exist_ok=True)
        return self.extra


class _CompiledTemplates(BytecodeCache):
    """Templates compiled once per process and shared by every test's app (Jinja checks each one's
    source checksum before reusing it): a fresh app otherwise compiles every page it renders again."""

    def __init__(self):
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


_COMPILED_TEMPLATES = _CompiledTemplates()


@contextmanager
def fresh_database(app) -> Iterator:
    """Inside the app's context, over a database reset for this test (every `app` fixture uses it)."""
    app.jinja_env.bytecode_cache = _COMPILED_TEMPLATES
    with app.app_context():
        _reset_database()
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


@contextmanager
def limited_app(tmp_path, **limits) -> Iterator:
    """An app with the rate limiter on (TestConfig turns it off) and these limits, over a fresh database."""
    config = make_test_config(RATELIMIT_ENABLED=True, UPLOAD_DIR=str(tmp_path / "uploads"), **limits)
    with fresh_database(create_app(config)) as app:
        yield app


@pytest.fixture
def limited(request, tmp_path):
    """An app with the rate limiter on (the test settings turn it off) and the limits the test's
    `settings` marker gives: `@pytest.mark.settings(SIGNUP_RATE_LIMIT="3 per 15 minutes")`."""
    marker = request.node.get_closest_marker("settings")
    with limited_app(tmp_path, **(marker.kwargs if marker else {})) as app:
        yield app


class _SharedApp:
    """One app per test process for every test that asks for the plain `app` (most of them): building an
    app (~330 URL rules compiled, the OpenAPI document built) cost more than many a test. Between tests it
    is put back as it was made: its settings, the state CloudFair keeps in `app.extensions`
    ("cloudfair.*": page caches, live throttles, presence, attendance batches), and the extension objects
    (db, the limiter, Socket.IO, …) that any other app a test built since has re-initialised for itself.
    A test that changes the app itself (adds routes) is marked `own_app` and gets a new one."""

    def __init__(self):
        self.app = None
        self.config: dict = {}
        self.extensions: dict = {}
        self.objects: list[tuple[object, dict]] = []
        self.payload_packets = None
        self.handlers_async = (True, True)

    def get(self):
        if self.app is None:
            from engineio.payload import Payload

            from app import extensions, openapi

            self.app = create_app(make_test_config())
            self.config = dict(self.app.config)
            self.extensions = dict(self.app.extensions)
            self.objects = [(obj, dict(vars(obj))) for obj in (
                openapi.api, extensions.babel, extensions.csrf, extensions.db, extensions.limiter,
                extensions.login, extensions.migrate, extensions.socketio)]
            self.payload_packets = Payload.max_decode_packets
            server = extensions.socketio.server
            self.handlers_async = (server.async_handlers, server.eio.async_handlers)
        else:
            self.restore()
        return self.app

    def restore(self) -> None:
        from engineio.payload import Payload

        from app.live import wire

        app = self.app
        app.config.clear()
        app.config.update(self.config)
        app.extensions.clear()
        app.extensions.update(self.extensions)
        for obj, attributes in self.objects:
            if vars(obj) != attributes:
                vars(obj).clear()
                vars(obj).update(attributes)
        Payload.max_decode_packets = self.payload_packets
        # Socket.IO test clients patch the server (their packets go to their queues, handlers run inline):
        # a test speaking Engine.IO over HTTP needs it as made, and no test meets an earlier test's rooms.
        from app.extensions import socketio

        server = socketio.server
        vars(server).pop("_send_packet", None)
        vars(server).pop("_send_eio_packet", None)
        server.async_handlers, server.eio.async_handlers = self.handlers_async
        server.environ.clear()
        for table in ("rooms", "eio_to_sid", "callbacks", "pending_connect", "pending_disconnect"):
            getattr(server.manager, table).clear()
        server.eio.sockets.clear()
        wire.install(app.config["LIVE_DEFLATE_THRESHOLD"])


_SHARED_APP = _SharedApp()


@pytest.fixture
def app(request, tmp_path):
    if request.node.get_closest_marker("own_app"):
        made = create_app(make_test_config(UPLOAD_DIR=str(tmp_path / "uploads")))
    else:
        made = _SHARED_APP.get()
        made.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    with fresh_database(made) as app:
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


def count(model, *where) -> int:
    """How many rows of `model` (matching `where`) the database holds now."""
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def mails_to(address: str) -> list:
    """The mail queued for `address` (the outbox, `MailMessage`), oldest first."""
    from app.notifications.models import MailMessage

    db.session.expire_all()
    return list(db.session.scalars(select(MailMessage).where(MailMessage.to_address == address).order_by(MailMessage.id)))


def token_in(message, path: str) -> str:
    """The token of the CloudFair link to `path` ("invitations", "password-reset") in a queued mail;
    its text and HTML must carry the same one."""
    link = re.compile(rf"https?://[^\s\"<>]+/{path}/([A-Za-z0-9_-]+)")
    found = link.findall(message.text_body)
    assert found, message.text_body
    assert set(link.findall(message.html_body)) == {found[0]}
    return found[0]


@contextmanager
def sql_seen(record=lambda conn, statement: " ".join(statement.split())):
    """What `record(connection, statement)` gives for each statement sent while the block runs (by
    default the statement on one line), in order."""
    from sqlalchemy import event

    from app.extensions import db

    from app import readonly

    seen: list = []

    def listener(conn, cursor, statement, *args):
        seen.append(record(conn, statement))

    plain = readonly.driver_connection

    @contextmanager
    def observed():  # the statements sent on the driver's own connection, which SQLAlchemy does not see
        with plain() as driver:
            yield _Observed(driver, lambda statement: seen.append(record(_DriverOnly(driver), statement)))

    event.listen(db.engine, "before_cursor_execute", listener)
    readonly.driver_connection = observed
    try:
        yield seen
    finally:
        readonly.driver_connection = plain
        event.remove(db.engine, "before_cursor_execute", listener)


class _DriverOnly:
    """What `sql_seen`'s `record` reads of a connection (`conn.connection.driver_connection`), for a
    statement sent on the driver's own connection."""

    def __init__(self, driver):
        self.connection = self
        self.driver_connection = driver


class _Observed:
    """A driver connection, or one of its cursors, that tells `note` each statement before sending it."""

    def __init__(self, inner, note):
        self._inner, self._note = inner, note

    def execute(self, statement, *args, **kwargs):
        self._note(statement)
        return self._inner.execute(statement, *args, **kwargs)

    def cursor(self, *args, **kwargs):
        return _Observed(self._inner.cursor(*args, **kwargs), self._note)

    def __enter__(self):
        self._inner.__enter__()
        return self

    def __exit__(self, *exc):
        return self._inner.__exit__(*exc)

    def __getattr__(self, name):
        return getattr(self._inner, name)


def wait_until(condition, timeout: float = 10.0, every: float = 0.05):
    """Ask `condition()` until it is truthy (returned) or `timeout` seconds have passed (then its last
    answer): tests wait for what they expect to happen, never for a fixed time."""
    deadline = time.monotonic() + timeout
    while not (answer := condition()) and time.monotonic() < deadline:
        time.sleep(every)
    return answer


def at_once(app, times: int, work) -> tuple[list, list]:
    """Call `work()` in `times` threads released together, each in an app context of its own (and so
    its own database session); returns (what the calls returned, what they raised)."""
    results, errors = [], []
    barrier = threading.Barrier(times)

    def run():
        with app.app_context():
            try:
                barrier.wait()
                results.append(work())
            except Exception as exc:  # the caller asserts on them
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def filling(commit_of, size: int, timeout: float = 10):
    """A group commit's pause (`GroupCommit(pause=)`) that waits until `size` items are queued in
    `commit_of()`, so the test knows its first batch; later batches go at once."""
    waited = []

    def pause():
        if waited:
            return
        waited.append(True)
        deadline = time.monotonic() + timeout
        while commit_of().queued < size and time.monotonic() < deadline:
            time.sleep(0.005)
    return pause


def held_sends(monkeypatch, name: str) -> list[tuple]:
    """The folded sends of one kind ("skip", "presence", …) that `broadcast.throttle` schedules, held
    (not started) until the test sends them with `send_held`: what is folded then does not depend on
    how fast the machine runs the test."""
    from app.live import broadcast

    held = []
    start = broadcast.socketio.start_background_task

    def hold(task, *args):
        if task is broadcast._flush_later and args[1] == name:
            held.append(args)
            return None
        return start(task, *args)

    monkeypatch.setattr(broadcast.socketio, "start_background_task", hold)
    return held


def send_held(held: list[tuple]) -> None:
    """Send what `held_sends` held, now."""
    from app.live import broadcast

    for app, name, session_id, state, flush, _delay, interval in held:
        broadcast._flush_later(app, name, session_id, state, flush, 0, interval)
    held.clear()


@pytest.fixture
def redis_pipelines(monkeypatch) -> list[int]:
    """How many commands each redis-py pipeline sent, in order, while the test runs."""
    import redis

    sizes: list[int] = []
    original = redis.client.Pipeline.execute

    def execute(self, *args, **kwargs):
        sizes.append(len(self.command_stack))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(redis.client.Pipeline, "execute", execute)
    return sizes


def in_threads(calls) -> list:
    """Run each call in its own thread; what each returned or raised, in order."""
    out = [None] * len(calls)

    def run(index, call):
        try:
            out[index] = call()
        except Exception as exc:  # the test looks at it
            out[index] = exc

    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return out


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def sign_in(client, user, password: str = factories.PASSWORD) -> str:
    """Log `user` in through the real login form on `client`; returns the form's CSRF token."""
    token = csrf_from(client.get("/login").text)
    response = client.post("/login", data={"email": user.email, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.text
    return token


@pytest.fixture
def login(client):
    """Log a user in through the real login form; returns the client."""

    def do_login(user, password: str = factories.PASSWORD):
        sign_in(client, user, password)
        return client

    return do_login


@pytest.fixture
def login_as(app):
    """Log a user in through the real login form, each in a client of their own; returns that client."""

    def do_login(user, password: str = factories.PASSWORD):
        client = app.test_client()
        sign_in(client, user, password)
        return client

    return do_login


# ---------------------------------------------------------------- the live room over Socket.IO


@pytest.fixture
def connect(app, auth):
    """`connect(user)`: a Socket.IO test client in the live room's namespace (/live), signed in with the
    user's fresh API token (or `token=`, or none); `flask_client=` shares a test client's cookies and other
    options go to `socketio.test_client`. Whatever is still connected is disconnected when the test ends."""
    from app.extensions import socketio

    clients = []

    def open_client(user=None, *, token=None, flask_client=None, **options):
        if user is not None:
            token = auth(user)["Authorization"][7:]
        client = socketio.test_client(app, namespace=LIVE_NS, auth={"token": token} if token else None,
                                      flask_test_client=flask_client, **options)
        clients.append(client)
        return client

    yield open_client
    for client in clients:
        if client.is_connected(LIVE_NS):
            client.disconnect(namespace=LIVE_NS)


# ---------------------------------------------------------------- mail through a real SMTP server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """What an SMTP server started by a test received, parsed (`email.message.EmailMessage`)."""

    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@contextmanager
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server (aiosmtpd) on a free port while the block runs: (its Inbox, its port)."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


@pytest.fixture
def smtp(app):
    """The app's mail goes to a real SMTP server for this test; yields the server's Inbox."""
    with smtp_server() as (inbox, port):
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
        yield inbox


@pytest.fixture
def auth():
    """Authorization headers for a user's fresh API token."""
    from app.accounts.services import issue_token

    def headers(user) -> dict[str, str]:
        plain, _ = issue_token(user)
        return {"Authorization": f"Bearer {plain}"}

    return headers


@pytest.fixture(autouse=True)
def _app_context(request):
    """Service-level tests need an app context and a fresh database even when they
    don't ask for `app`; browser tests run against their own server instead."""
    if request.node.get_closest_marker("browser") or "app" in request.fixturenames:
        yield
        return
    request.getfixturevalue("app")
    yield
