"""Socket.IO namespace `/live`: authentication at connect, then one handler per client event.

Every event is acknowledged: `{"ok": true, ...}` or `{"ok": false, "error": {"code", "message"}}`,
the message in the person's language. Handlers check the connection's token bucket and the message
size, load the person, and call the same services as the HTTP API (which commit, then broadcast).
"""

from __future__ import annotations

import json
import logging
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from functools import wraps

from flask import Flask, current_app, request
from flask_babel import gettext
from flask_babel import refresh as flask_babel_refresh
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, leave_room
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..bounds import check_payload, moment_in_range
from ..errors import ServiceError, ValidationFailed
from ..extensions import db, socketio
from ..i18n import speaking
from ..readonly import reads_only
from . import broadcast, presence, services
from .limits import TokenBucket
from .origins import origin_allowed

log = logging.getLogger(__name__)

NAMESPACE = broadcast.NAMESPACE


@dataclass
class Connection:
    user_id: int
    bucket: TokenBucket
    sessions: set[int] = field(default_factory=set)
    #: The person's language, for the acks sent before the person is loaded again.
    locale: str = "en"
    #: The person as last loaded by an event (`services.KeptPerson`): what an interest is checked against.
    person: services.KeptPerson | None = None
    #: When `person` was read (`time.monotonic()`): a join right after connecting uses it as it is.
    person_at: float = 0.0
    #: The Socket.IO sid (rooms are entered with it by handlers that run without a request context).
    sid: str = ""
    #: The app the connection was made to (its disconnect runs in that app's context).
    app: Flask | None = None


#: Live connections of this process, by Socket.IO sid.
connections: dict[str, Connection] = {}


def _locale(user) -> str:
    return user.locale if user.locale in ("zh", "en") else "en"


def _error(code: str, message: str, details: dict | None = None) -> dict:
    error = {"code": code, "message": message}
    if details:
        error["details"] = details
    return {"ok": False, "error": error}


def _refuse(environ: dict, code: str, message):
    """Refuse the connection with `{"code", "message"}` as the error's JSON data (the client's
    `connect_error` has it as `error.data`; `error.message` is the message alone). `message` is called
    in a request context of the handshake, so it speaks the language the handshake asks for (its
    cookie, its person, its Accept-Language), as pages do."""
    with _handshake(environ):
        flask_babel_refresh()  # the app context may have chosen a language before this request
        text = message()
    raise ConnectionRefusedError(text, {"code": code, "message": text})


def _no_routing_cycle() -> None:
    """Flask-SocketIO runs an event in a request context made from the connection's handshake; pushing
    it matched the Socket.IO path against the app's routes, found none, and kept the `NotFound` on the
    request, whose traceback's frames hold the context: a reference cycle (the context, the request, its
    session, the rate limiter's state, the frames) that only the collector's full pass frees, thousands of
    them after a storm, each pass longer. Dropped here, the context is freed when the event ends."""
    request.routing_exception = None


@contextmanager
def _handshake(environ: dict):
    """A request context made from the connection's handshake, for what needs one: a person signed in
    by cookie (Flask-Login) and the language of a refusal."""
    with current_app.request_context(environ):
        _no_routing_cycle()
        yield


def _on_server(name: str, handler) -> None:
    """Register `handler` as python-socketio's own for `name` on `/live` (no Flask-SocketIO request
    context around it)."""
    if socketio.server is not None:
        socketio.server.on(name, handler, namespace=NAMESPACE)
    else:
        socketio.handlers.append((name, handler, NAMESPACE))


def on_connect(sid: str, environ: dict, auth=None):
    """python-socketio's connect handler, in an app context only: a token connect (every client of a
    fair's opening but the pages) needs nothing of a request, and Flask-SocketIO's request context
    (a request object, URL matching, the session cookie opened) was a tenth of a join storm's worker.
    A connect without a token, the page's, reads its person from the session cookie in a request
    context of the handshake (`_handshake`), as the refusals word their reason."""
    with environ["flask.app"].app_context():
        return _connect(sid, environ, auth)


def _connect(sid: str, environ: dict, auth) -> bool:
    # Engine.IO checks the origin of the handshake; checked again here for every transport.
    if not origin_allowed(environ.get("HTTP_ORIGIN"), environ, frozenset(current_app.config["CORS_ORIGINS"])):
        _refuse(environ, "forbidden_origin", lambda: gettext("This site may not connect."))
    if isinstance(auth, dict) and auth.get("token"):
        person = services.person_for_token(str(auth["token"]))  # one row, no ORM objects (PostgreSQL: no session)
    else:
        with reads_only():  # the session cookie's person: reads only
            person = _cookie_person(environ)
    if person is None or not person.active:
        _refuse(environ, "unauthorized", lambda: gettext("Log in or send a valid API token."))
    if not presence.connect(person.id, sid):
        _refuse(environ, "too_many_connections",
                lambda: gettext("You have too many live connections open; close another tab or device."))
    config = current_app.config
    connections[sid] = Connection(person.id, TokenBucket(config["LIVE_RATE_PER_SECOND"], config["LIVE_BURST"]),
                                  locale=_locale(person), person=person, person_at=time.monotonic(), sid=sid,
                                  app=current_app._get_current_object())
    # The person's own notifications, from any process.
    socketio.server.enter_room(sid, broadcast.user_room(person.id), namespace=NAMESPACE)
    return True


def _cookie_person(environ: dict) -> services.KeptPerson | None:
    """The person signed in by the handshake's session cookie, as the connection keeps them."""
    with _handshake(environ):
        if current_user.is_authenticated and current_user.active:
            return services.KeptPerson.of(current_user._get_current_object())  # read before the block lets it go
    return None


def on_disconnect(sid: str, reason=None):
    """python-socketio's disconnect handler (no request context: it needs none)."""
    connection = connections.pop(sid, None)
    if connection is None:
        return
    with connection.app.app_context():
        try:
            presence.disconnect(connection.user_id, sid)
        except Exception:  # a broken store must not break disconnecting
            log.exception("Could not count out connection %s", sid)
        for session_id in connection.sessions:
            _left(session_id, connection.user_id)


_on_server("connect", on_connect)
_on_server("disconnect", on_disconnect)


def _left(session_id: int, user_id: int) -> None:
    try:
        presence.leave(session_id, user_id)
        presence.changed(session_id)
    except Exception:  # a broken queue must not break disconnecting
        log.exception("Could not update presence of session %s", session_id)


def live_event(name: str, *, kept: bool | str = False, plain: bool = False):
    """Register a handler for a client event with the checks every event shares.

    The socket's request context would choose the language from the handshake's cookies and
    headers (a token client sends none): the person's own setting is forced instead. With `kept`, the
    handler is given the connection's `KeptPerson` instead of a query's (the hot path of a burst; its
    service checks it against the database before writing and raises `services.StaleFacts` where it
    no longer holds, and the handler then runs again with the person read afresh). With
    `kept="fresh"`, only a person read within `LIVE_PERSON_FRESH_SECONDS` is used (a join, a vote or an
    ask right after connecting or another event: the person was read a moment before); an older one is
    read again.

    With `plain`, the handler is python-socketio's own and runs in an app context only, not in
    Flask-SocketIO's request context (a request object, URL routing and the session cookie for every
    event were a tenth of an interest's CPU): for handlers that need nothing of the request (no
    `request`, `current_user`, `join_room`; rooms are entered with `connection.sid`): the hottest ones
    (`express_interest`, `join`, `vote`, `ask`).
    """

    def decorate(handler):
        def dispatch(sid: str, data) -> dict:
            connection = connections.get(sid)
            if connection is None:
                return _error("unauthorized", gettext("This connection is not logged in."))
            with speaking(connection.locale):
                return _handle(name, handler, connection, data, kept)

        if plain:
            def plain_handler(sid, data=None):
                environ = socketio.server.get_environ(sid, namespace=NAMESPACE)
                if not environ:
                    return _error("unauthorized", "This connection is not logged in.")
                with environ["flask.app"].app_context():
                    return dispatch(sid, data)

            _on_server(name, plain_handler)
            return handler

        @socketio.on(name, namespace=NAMESPACE)
        @wraps(handler)
        def wrapper(data=None):
            _no_routing_cycle()
            return dispatch(request.sid, data)

        return wrapper

    return decorate


#: The person behind an event with their organisation, one query (built once, not per event).
_PERSON = select(User).options(joinedload(User.organisation)).where(User.id == bindparam("user_id"))


def _person(connection: Connection) -> User | None:
    """The connection's person, read now (None: gone or no longer active); kept on the connection."""
    actor = db.session.execute(_PERSON, {"user_id": connection.user_id}).scalar_one_or_none()
    if actor is None or not actor.active:
        connection.person = None
        return None
    connection.locale = _locale(actor)  # it may have changed in another tab since connecting
    connection.person, connection.person_at = services.KeptPerson.of(actor), time.monotonic()
    return actor


def _kept_person(connection: Connection, kept: bool | str) -> services.KeptPerson | None:
    if not kept or connection.person is None:
        return None
    if kept == "fresh" and time.monotonic() - connection.person_at > current_app.config["LIVE_PERSON_FRESH_SECONDS"]:
        return None
    return connection.person


def _handle(name: str, handler, connection: Connection, data, kept: bool = False) -> dict:
    if not connection.bucket.take():
        return _error("rate_limited", gettext("Too many messages; slow down a little."))
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return _error("bad_request", gettext("Send a JSON object."))
    if len(json.dumps(data, default=str)) > current_app.config["LIVE_MAX_MESSAGE_BYTES"]:
        return _error("too_large", gettext("This message is too large."))
    try:  # loading the person needs the database too: its failure is acknowledged as well
        # The organisation comes in the same query (an interest names it; no lazy load per event).
        forced = connection.locale  # the language `dispatch` forced
        actor = _kept_person(connection, kept) or _person(connection)
        if actor is None:
            return _error("unauthorized", gettext("This account is no longer active."))
        with speaking(connection.locale) if connection.locale != forced else nullcontext():
            check_payload(data)  # ids within 0 … 2^31−1, no NUL or lone surrogate in any text
            try:
                return {"ok": True, **handler(actor, connection, data)}
            except services.StaleFacts:  # the kept person or room no longer holds: again, on fresh reads
                db.session.rollback()
        actor = _person(connection)
        if actor is None:
            return _error("unauthorized", gettext("This account is no longer active."))
        with speaking(connection.locale):
            return {"ok": True, **handler(actor, connection, data)}
    except ServiceError as exc:
        db.session.rollback()
        return _error(exc.code, exc.message, exc.details)
    except Exception:
        db.session.rollback()
        log.exception("Live event %s failed", name)
        return _error("internal_error", gettext("Something went wrong on our side; it has been logged."))


@live_event("join", kept="fresh", plain=True)
def on_join(actor, connection, data):
    state = services.join(actor, data.get("session_id"), data.get("since_seq"))
    session_id = state["session_id"]
    socketio.server.enter_room(connection.sid, broadcast.room(session_id), namespace=NAMESPACE)
    if state["staff"]:
        socketio.server.enter_room(connection.sid, broadcast.staff_room(session_id), namespace=NAMESPACE)
    with reads_only():  # a presence broadcast sent now reads the room's seq
        if session_id not in connection.sessions:
            connection.sessions.add(session_id)
            state["presence"] = presence.enter(session_id, actor.id)
            presence.changed(session_id)
        else:
            state["presence"] = presence.recent_count(session_id)
    return state


@live_event("catch_up")
def on_catch_up(actor, connection, data):
    """The events after `since_seq` (as `GET /sessions/<id>/events`): gap filling without HTTP."""
    return services.events_since(actor, data.get("session_id"), data.get("since_seq"))


@live_event("leave")
def on_leave(actor, connection, data):
    session_id = data.get("session_id")
    if session_id in connection.sessions:
        connection.sessions.discard(session_id)
        leave_room(broadcast.room(session_id))
        leave_room(broadcast.staff_room(session_id))
        _left(session_id, actor.id)
    return {"session_id": session_id}


@live_event("ask", kept="fresh", plain=True)
def on_ask(actor, connection, data):
    result = services.ask(actor, data.get("session_id"), data.get("text"), data.get("client_id"))
    return {"question": result.value, "duplicate": result.duplicate}


@live_event("vote", kept="fresh", plain=True)
def on_vote(actor, connection, data):
    result = services.vote(actor, data.get("question_id"))
    return {"question": result.value, "duplicate": result.duplicate}


@live_event("moderate")
def on_moderate(actor, connection, data):
    result = services.moderate(actor, data.get("question_id"), data.get("action"))
    return {"question": result.value}


@live_event("site_matches")
def on_site_matches(actor, connection, data):
    """The best sites for a pitched project: the top three parks for staff, a city its own plots."""
    from ..parks import pitch

    return pitch.site_matches(actor, data.get("session_id"), data.get("project_id"))


@live_event("express_interest", kept=True, plain=True)
def on_express_interest(actor, connection, data):
    at = _moment(data.get("at"))
    result = services.express_interest(actor, data.get("session_id"), data, at=at)
    return {**result.value, "duplicate": result.duplicate}


def _moment(value) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed({"at": gettext("Give the moment as an ISO 8601 time with an offset.")}) from None
    if moment.tzinfo is None:
        raise ValidationFailed({"at": gettext("Give the moment as an ISO 8601 time with an offset.")})
    return moment_in_range(moment, "at")
