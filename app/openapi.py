"""The OpenAPI document at /api/v1/openapi.json, true to what the server answers.

flask-smorest builds each operation from the schemas the views load and dump. On top of that:
- the error body is the one the server sends, `{"error": {"code", "message", "details"}}` (`Error`);
- each operation lists the error statuses it can answer. Most follow from the route itself
  (`statuses_of`): 401 unless public, 403 for a role-restricted one, 404 with a path id, 422 always
  (any query may carry a NUL byte), 400/413 for a write (malformed JSON, CSRF, body size). The rest
  a view names with `@answers(409, 415, ...)` beside its route;
- public reads say `security: []`;
- there is no `default` response: a status not listed is a bug the Schemathesis run finds;
- every free-text string a client sends or reads (a marshmallow `String` field, a path parameter) says
  by `TEXT_PATTERN` that it holds no NUL, as `app/bounds.py` enforces (a lone surrogate, refused too,
  is not valid UTF-8 and so not a JSON Schema string any client can mean); a string with an enum, a
  format or a pattern of its own already excludes it.
"""

from __future__ import annotations

import http
import re
from collections.abc import Callable, Iterable

from flask import Flask
from flask_smorest import Api, Blueprint
from webargs.flaskparser import FlaskParser
from webargs.multidictproxy import MultiDictProxy
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import IntegerConverter

from .audiences import PUBLIC, USER, allow
from .bounds import MAX_INT, TEXT_PATTERN
from .schemas import ErrorSchema


class _OneValueEach(MultiDictProxy):
    """Query and form values for a schema: a parameter given twice where the document says one value
    reaches its field as a list, which the field refuses (422), instead of the first value winning."""

    def __getitem__(self, key: str):
        if key not in self.multiple_keys and hasattr(self.data, "getlist"):
            values = self.data.getlist(key)
            if len(values) > 1:
                return values
        return super().__getitem__(key)


class ArgumentsParser(FlaskParser):
    def load_querystring(self, req, schema):
        return _OneValueEach(req.args, schema)

    def load_form(self, req, schema):
        return _OneValueEach(req.form, schema)


# Every API blueprint (flask_smorest.Blueprint) parses its arguments with it.
Blueprint.ARGUMENTS_PARSER = ArgumentsParser()


def answers(*statuses: int) -> Callable:
    """Name the error statuses a view answers beyond those that follow from its route."""

    def decorate(view: Callable) -> Callable:
        view.answers = frozenset(getattr(view, "answers", frozenset()) | set(statuses))  # type: ignore[attr-defined]
        return view

    return decorate


class ApiBlueprint(Blueprint):
    """flask-smorest's Blueprint with `operation`, which declares a route with its audience, arguments,
    response and error statuses in one line."""

    def operation(self, route: str, *audiences: str, guards: Iterable[Callable] = (), query: type[Schema] | None = None,
                  body=None, returns=None, status: int = 200, errors: Iterable[int] = ()) -> Callable:
        """`@api.operation("PATCH /parks/<int:park_id>", "organiser", body=ParkPatchSchema, returns=ParkSchema,
        errors=[409])` stands for `@api.route(rule, methods=[method])`, `@allow(*audiences)`, the `guards`
        (rate limits, which count before the body is read), `@api.arguments(query, location="query")`,
        `@api.arguments(body)`, `@api.response(status, returns)` and `@answers(*errors)`, stacked in that
        order; `returns` None and `status` 204 for no body, and neither for a view that states its
        responses itself (`alt_response`)."""
        method, rule = route.split(" ", 1)

        def decorate(view: Callable) -> Callable:
            if errors:
                view = answers(*errors)(view)
            if returns is not None or status == 204:
                view = self.response(status, returns)(view)
            if body is not None:
                view = self.arguments(body)(view)
            if query is not None:
                view = self.arguments(query, location="query")(view)
            for guard in reversed(tuple(guards)):
                view = guard(view)
            return self.route(rule, methods=[method])(allow(*audiences)(view))

        return decorate


def text_rule(self, field: fields.Field, ret: dict, **kwargs) -> dict:
    """apispec attribute function: a free-text `String` field gets `TEXT_PATTERN`."""
    if isinstance(field, fields.String) and not {"enum", "format", "pattern"} & set(ret):
        return {"pattern": TEXT_PATTERN}
    return {}


class CloudFairApi(Api):
    """flask-smorest's Api with CloudFair's error body (`app/schemas.py`), the text rule on every
    `String` field, and no catch-all `default` response: each operation lists its statuses."""

    ERROR_SCHEMA = ErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _init_spec(self, **kwargs) -> None:
        super()._init_spec(**kwargs)
        self.ma_plugin.converter.add_attribute_function(text_rule)


#: The API extension, created unbound and bound in `create_app` like those of `app/extensions.py`.
api = CloudFairApi()


def constrain_text(schema: dict) -> dict:
    """A hand-written string schema (path parameters, metadata) with `TEXT_PATTERN`."""
    if schema.get("type") == "string" and not {"enum", "format", "pattern"} & set(schema):
        schema["pattern"] = TEXT_PATTERN
    for value in schema.get("properties", {}).values():
        constrain_text(value)
    return schema


WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_PATH_PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def statuses_of(view, method: str, rule: str) -> set[int]:
    access = getattr(view, "access", frozenset())
    statuses = {422} | set(getattr(view, "answers", ()))
    if PUBLIC not in access:
        statuses.add(401)
        if USER not in access:
            statuses.add(403)
    if "<" in rule:
        statuses.add(404)
    if method in WRITE_METHODS:
        statuses |= {400, 413}
    return statuses


def unmatched_id_status(app: Flask, rule, method: str) -> int | None:
    """What the server answers `method` on `rule` with a path id past 2^31−1 (no int route matches it):
    404, or 405 where another route takes that path with other methods."""
    if not any(isinstance(conv, IntegerConverter) for conv in rule._converters.values()):
        return None
    path = rule.rule
    for name, converter in rule._converters.items():
        value = str(MAX_INT + 1) if isinstance(converter, IntegerConverter) else "x"
        path = re.sub(rf"<(?:[^:<>]+:)?{name}>", value, path)
    try:
        app.url_map.bind("localhost").match(path, method=method)
    except MethodNotAllowed:
        return 405
    except HTTPException:
        return 404
    return None


def openapi_path(rule: str) -> str:
    return _PATH_PARAM.sub(r"{\1}", rule)


def finish_document(app: Flask, api: Api) -> None:
    """After every blueprint is registered: add the statuses and the public reads' `security: []`."""
    paths = api.spec._paths  # apispec keeps the registered operations here until to_dict()
    # Rules about a whole object (`OPENAPI_EXTRA` on the marshmallow schema, e.g. minProperties).
    for plugin in api.spec.plugins:
        for key, name in getattr(getattr(plugin, "converter", None), "refs", {}).items():
            extra = getattr(key[0], "OPENAPI_EXTRA", None)
            if extra and name in api.spec.components.schemas:
                api.spec.components.schemas[name].update(extra)
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        operations = paths.get(openapi_path(rule.rule))
        if not operations:
            continue
        for parameter in operations.get("parameters", []):
            if isinstance(parameter, dict) and "schema" in parameter:
                constrain_text(parameter["schema"])
        view = app.view_functions[rule.endpoint]
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = operations.get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            statuses = statuses_of(view, method, rule.rule)
            unmatched = unmatched_id_status(app, rule, method)
            if unmatched:
                statuses.add(unmatched)
            for status in sorted(statuses):
                if str(status) not in responses:
                    responses[str(status)] = api.spec.components.get_ref("response", http.HTTPStatus(status).name)
            if PUBLIC in getattr(view, "access", ()):
                operation["security"] = []
