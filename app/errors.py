"""The ServiceError family and the handlers that turn errors into one shape.

Services raise these; the HTTP API answers
`{"error": {"code", "message", "details"}}`, pages render `errors/<status>.html`,
and Socket.IO handlers acknowledge `{"ok": false, "error": {...}}`.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Any, Callable

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext, lazy_gettext as _l
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

#: Each HTTP error status: the code the JSON error names it by, and what a person reads when it came
#: without a message of our own (in place of Werkzeug's English sentence).
HTTP_ERRORS = {
    400: ("bad_request", _l("The request could not be understood.")),
    401: ("unauthorized", _l("Please log in to continue.")),
    403: ("forbidden", _l("You are not allowed to do this.")),
    404: ("not_found", _l("This page or object does not exist.")),
    405: ("method_not_allowed", _l("This method is not allowed here.")),
    409: ("conflict", None),
    413: ("too_large", None),
    415: ("unsupported_media_type", None),
    422: ("validation_failed", None),
    429: ("rate_limited", None),
    500: ("internal_error", _l("Something went wrong on our side; it has been logged.")),
}
HTTP_CODES = {status: code for status, (code, _message) in HTTP_ERRORS.items()}


class ServiceError(Exception):
    """A service's refusal. A subclass names its `status`; its `code` is that status's in
    `HTTP_CODES` unless it names its own."""

    status = 400
    code = "bad_request"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "status" in cls.__dict__ and "code" not in cls.__dict__:
            cls.code = HTTP_CODES.get(cls.status, cls.code)

    def __init__(self, message: str, *, code: str | None = None, details: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class BadRequest(ServiceError):
    status = 400


class Unauthorized(ServiceError):
    status = 401


class Forbidden(ServiceError):
    status = 403


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


class ValidationFailed(ServiceError):
    """422; `fields` maps each bad field to its messages."""

    status = 422

    def __init__(self, fields: dict[str, str | list[str]], message: str | None = None):
        normalised = {k: v if isinstance(v, list) else [v] for k, v in fields.items()}
        if message is None:  # fields by their translated labels; the codes stay in details.fields
            from .validation import fields_message

            message = fields_message(normalised)
        super().__init__(message, details={"fields": normalised})
        self.fields = normalised


class TooLarge(ServiceError):
    status = 413


class UnsupportedType(ServiceError):
    status = 415


class Unavailable(ServiceError):
    """Something the server needs is missing (a font, a service): not the caller's fault."""

    status = 503
    code = "unavailable"


class RateLimited(ServiceError):
    status = 429


@contextmanager
def gathering(errors: dict[str, str]):
    """Keep going past a `ValidationFailed` raised in the block: its messages go into `errors`, one
    text a field, so that one answer names every bad field."""
    try:
        yield
    except ValidationFailed as exc:
        errors.update({k: " ".join(v) for k, v in exc.fields.items()})


def get_or_not_found(model, ident, message, visible: Callable[[Any], bool] | None = None):
    """The `model` row with primary key `ident`; `NotFound(message)` when there is none or `visible`
    says the caller may not know of it (a lazy `message` is read only then)."""
    from .extensions import db

    row = db.session.get(model, ident)
    if row is None or (visible is not None and not visible(row)):
        raise NotFound(str(message))
    return row


def _plain_message(status: int) -> str | None:
    """What a person reads for an HTTP error that came without a message of our own."""
    message = HTTP_ERRORS.get(status, (None, None))[1]
    return str(message) if message is not None else None


def error_body(status: int, code: str, message: str, details: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def wants_json() -> bool:
    """API paths and clients that ask for JSON get JSON errors."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def _flatten_webargs(messages: dict) -> dict[str, list[str]]:
    """webargs nests messages by location ({"json": {"field": [...]}}); keep the fields, nested ones
    under dotted codes ("themes.0.theme"), each message in the reader's language."""
    from .validation import flatten_messages

    fields: dict[str, list[str]] = {}
    for location, location_messages in messages.items():
        if not isinstance(location_messages, dict):
            # A message about the whole body, e.g. {"json": ["Invalid JSON body."]}.
            fields.update(flatten_messages(location_messages, str(location)))
            continue
        for field, msgs in location_messages.items():
            for code, said in flatten_messages(msgs, str(field)).items():
                fields.setdefault(code, []).extend(said)
    return fields


def _respond(status: int, code: str, message: str, details: dict | None = None, headers=None):
    if wants_json():
        response = jsonify(error_body(status, code, message, details))
        response.status_code = status
    else:
        from jinja2 import TemplateNotFound

        try:
            html = render_template(f"errors/{status}.html", message=message, details=details or {})
        except TemplateNotFound:
            html = render_template("errors/generic.html", status=status, message=message, details=details or {})
        response = (html, status)
        from flask import make_response

        response = make_response(response)
    if headers:
        for key, value in headers:
            if key.lower() in {"allow", "retry-after", "www-authenticate"}:
                response.headers[key] = value
    return response


def _out_of_range(exc: Exception) -> bool:
    """An integer or date too large for the database or the calendar (SQLite's OverflowError,
    PostgreSQL's numeric_value_out_of_range / datetime_field_overflow)."""
    if isinstance(exc, OverflowError):
        return True
    from sqlalchemy.exc import DataError

    if isinstance(exc, DataError):
        sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
        return sqlstate in ("22003", "22008")
    return False


def register_error_handlers(app: Flask) -> None:
    from .extensions import db

    @app.errorhandler(ServiceError)
    def handle_service_error(exc: ServiceError):
        retry_after = exc.details.get("retry_after") if exc.status == 429 else None
        headers = [("Retry-After", str(retry_after))] if retry_after is not None else None
        return _respond(exc.status, exc.code, exc.message, exc.details, headers=headers)

    @app.errorhandler(HTTPException)
    def handle_http_exception(exc: HTTPException):
        if getattr(exc, "response", None) is not None:
            # An answer made ahead, e.g. the sign-in lock-out's page or JSON error (app/accounts/lockout.py).
            return exc.response
        status = exc.code or 500
        code = HTTP_CODES.get(status, "error")
        message = exc.description or exc.name
        if exc.description == getattr(type(exc), "description", None):
            # Werkzeug's own English sentence (an unknown path, abort(404)): say it in the reader's language.
            message = _plain_message(status) or message
        details: dict = {}
        data = getattr(exc, "data", None)  # flask-smorest / webargs attach their messages here
        if isinstance(data, dict) and data.get("messages"):
            fields = _flatten_webargs(data["messages"])
            if status == 422 and fields:
                from .validation import fields_message

                details = {"fields": fields}
                message = fields_message(fields)
            elif fields:
                details = {"fields": fields}
                message = "; ".join(" ".join(v) for v in fields.values())
        if status == 400 and ("invalid json" in str(message).lower()
                              or "Invalid JSON" in str(data.get("messages") if isinstance(data, dict) else "")):
            code = "invalid_json"
            message = gettext("The request body is not valid JSON.")
        if status == 413:
            message = gettext("The request body is too large.")
        if status == 429:
            own = getattr(getattr(exc, "limit", None), "error_message", None)  # a limit with its own words
            message = (own() if callable(own) else own) or gettext(
                "Too many requests in a short time. Wait a minute and try again.")
        if exc.__class__.__name__ == "CSRFError":
            from .validation import translate_message

            code = "csrf_failed"
            message = gettext("The form or request is missing a valid CSRF token (%(reason)s). Reload the page and try again.",
                              reason=translate_message(exc.description))
        return _respond(status, code, message, details, headers=exc.get_headers())

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return handle_http_exception(exc)
        db.session.rollback()
        if _out_of_range(exc):
            # Defence in depth behind app/bounds.py: a value the database cannot hold (an integer past
            # its column, a date past the calendar) is the client's error, never a 500. Logged, as
            # every such case is a bound still missing at the edge.
            log.warning("Out-of-range value reached %s %s: %s", request.method, request.path, exc)
            return _respond(422, "validation_failed", gettext("A value is out of range."),
                            {"fields": {"body": [gettext("A value is out of range.")]}})
        log.exception("Unhandled error on %s %s", request.method, request.path)
        return _respond(500, "internal_error", gettext("Something went wrong on our side; it has been logged."))
