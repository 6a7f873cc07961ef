"""The OpenAPI document itself: the real error shape, the statuses, every 2xx body, public reads,
bounds on every integer a client sends."""

from __future__ import annotations

import pytest

PUBLIC_READS = [("get", "/api/v1/fairs"), ("get", "/api/v1/fairs/{fair_id}"), ("get", "/api/v1/fairs/{fair_id}/sessions"),
                ("get", "/api/v1/sessions/{session_id}"), ("get", "/api/v1/projects/{project_id}"),
                ("get", "/api/v1/countries"), ("get", "/api/v1/sectors"), ("get", "/api/v1/timezones"),
                ("get", "/api/v1/divisions")]


@pytest.fixture
def document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield method, path, operation


def resolve(document, node):
    while isinstance(node, dict) and "$ref" in node:
        name = node["$ref"].split("/")
        node = document[name[1]][name[2]][name[3]]
    return node


def test_the_error_schema_is_the_one_the_server_sends(document, client):
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    inner = resolve(document, error["properties"]["error"])
    assert set(inner["required"]) == {"code", "message", "details"}
    assert set(inner["properties"]) == {"code", "message", "details"}
    body = client.get("/api/v1/fairs/999").get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    for name in ("NOT_FOUND", "UNPROCESSABLE_ENTITY", "UNAUTHORIZED"):
        response = document["components"]["responses"][name]
        assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_every_operation_lists_its_statuses_and_documents_its_2xx_body(document):
    count = 0
    for method, path, operation in operations(document):
        count += 1
        responses = operation["responses"]
        assert "default" not in responses, (method, path)
        successes = [s for s in responses if s.startswith("2")]
        assert successes, (method, path)
        for status in successes:
            if status != "204":
                content = resolve(document, responses[status]).get("content")
                assert content and all("schema" in c for c in content.values()), (method, path, status)
        assert "422" in responses, (method, path)  # any request may carry a NUL byte
        if operation.get("security") != []:
            assert "401" in responses, (method, path)
        if "{" in path:
            assert "404" in responses, (method, path)
        if method != "get":
            assert {"400", "413"} <= set(responses), (method, path)
    assert count >= 80


def test_public_reads_need_no_token_and_the_rest_do(document):
    assert document["security"] == [{"bearer": []}]
    public = {(m, p) for m, p, op in operations(document) if op.get("security") == []}
    assert set(PUBLIC_READS) <= public
    assert ("post", "/api/v1/auth/token") in public
    assert ("get", "/api/v1/leads") not in public and ("post", "/api/v1/fairs") not in public


def test_downloads_say_their_content_types(document):
    paths = document["paths"]
    assert "text/csv" in paths["/api/v1/leads.csv"]["get"]["responses"]["200"]["content"]
    for path in ("/api/v1/materials/{material_id}/download", "/api/v1/lead-documents/{document_id}/download"):
        content = paths[path]["get"]["responses"]["200"]["content"]
        assert content["application/octet-stream"]["schema"]["format"] == "binary"
    assert "multipart/form-data" in paths["/api/v1/leads/{lead_id}/documents"]["post"]["requestBody"]["content"]


def test_interest_answers_201_and_its_replay_200_with_a_body(document):
    responses = document["paths"]["/api/v1/sessions/{session_id}/interests"]["post"]["responses"]
    for status in ("200", "201"):
        schema = resolve(document, responses[status]["content"]["application/json"]["schema"])
        assert {"interest", "lead"} <= set(schema["properties"])
    assert "409" in responses


def _sent(document, schema, where, kind: str):
    """(where, schema) of every field of type `kind` inside a schema that a client sends."""
    schema = resolve(document, schema)
    if schema.get("readOnly"):
        return  # sent by the server only
    if schema.get("type") == kind:
        yield where, schema
    for name, sub in (schema.get("properties") or {}).items():
        yield from _sent(document, sub, f"{where}.{name}", kind)
    if "items" in schema:
        yield from _sent(document, schema["items"], f"{where}[]", kind)
    if isinstance(schema.get("additionalProperties"), dict):
        yield from _sent(document, schema["additionalProperties"], f"{where}.*", kind)


def _client_inputs(document):
    """(where, schema) for every parameter and request body a client sends, in every operation."""
    for method, path, operation in operations(document):
        params = [resolve(document, p) for p in operation.get("parameters", []) + document["paths"][path].get("parameters", [])]
        for p in params:
            yield f"{method} {path} {p['name']}", p["schema"]
        for content in (operation.get("requestBody", {}).get("content") or {}).values():
            yield f"{method} {path} body", content["schema"]


def test_every_integer_a_client_sends_is_bounded(document):
    seen = 0
    for where, schema in _client_inputs(document):
        for field, integer in _sent(document, schema, where, "integer"):
            seen += 1
            assert "minimum" in integer and integer.get("maximum", 2**63) <= 2**31 - 1, field
    assert seen > 40


def test_paging_is_documented_as_the_server_checks_it(document):
    for method, path, operation in operations(document):
        for parameter in operation.get("parameters", []):
            parameter = resolve(document, parameter)
            if parameter["name"] == "per_page":
                assert (parameter["schema"]["minimum"], parameter["schema"]["maximum"]) == (1, 100), path
            if parameter["name"] == "page":
                assert parameter["schema"]["minimum"] == 1, path


def test_every_string_a_client_sends_refuses_nul_as_the_server_does(document):
    import re

    from app.bounds import TEXT_PATTERN, bad_text

    seen = 0
    for where, schema in _client_inputs(document):
        for field, string in _sent(document, schema, where, "string"):
            seen += 1
            assert "enum" in string or "format" in string or "pattern" in string, field
    assert seen > 100
    # The pattern refuses what app/bounds.py refuses, and lets the rest through.
    for text, refused in [("a\x00b", True), ("\x00", True), ("", False), ("展会 Fair 😀\n\t", False)]:
        assert (re.search(TEXT_PATTERN, text) is None) is refused
        assert bad_text(text) is refused


def test_a_path_id_past_the_range_answers_what_the_operation_lists(document, client, world_headers=None):
    """404 where no route takes the path, 405 where another route takes it with other methods."""
    responses = document["paths"]["/api/v1/fairs/{fair_id}"]["patch"]["responses"]
    assert "405" in responses
    assert client.patch("/api/v1/fairs/2147483648", json={}).status_code in (401, 405)
    assert "405" not in document["paths"]["/api/v1/fairs/{fair_id}"]["get"]["responses"]
    assert client.get("/api/v1/fairs/2147483648").status_code == 404



def test_a_question_is_documented_as_the_server_takes_it(document):
    """Non-blank text of at most 1,000 characters as sent (text of only zero-width or combining characters,
    which the document's pattern cannot state, is refused too: tests/test_hostile_input.py)."""
    import re

    ask = resolve(document, document["paths"]["/api/v1/sessions/{session_id}/questions"]["post"]["requestBody"]
                  ["content"]["application/json"]["schema"])["properties"]["text"]
    assert ask["maxLength"] == 1000
    assert re.search(ask["pattern"], "   ") is None and re.search(ask["pattern"], "a\x00") is None
    assert re.search(ask["pattern"], " Why? ")
