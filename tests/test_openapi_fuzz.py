"""Schemathesis against /api/v1/openapi.json: every operation, as an organiser and as an attendee,
with every check (no 5xx, statuses, content types, headers and bodies as documented, bad data
refused, good data accepted), seeded and bounded.

Marked `fuzz`; it runs in `make test` (SQLite) and once more, alone, on PostgreSQL in `.ci/run`.
`FUZZ_EXAMPLES` sets the examples per operation and role (default `DEFAULT_EXAMPLES`; more for a
longer run by hand), `FUZZ_ONLY=<path regex>` runs a few operations.

No operation is left out. One check, `positive_data_acceptance` ("a request the document calls valid
is accepted"), is left out for the operations in `EXCLUDED_CHECKS`, each with its reason: rules across
fields or about stored data, which JSON Schema cannot state (the document lists the 422, or 409/415,
the server answers when they are broken). Every other check runs on those operations too.

One app and one database serve the whole module; every operation starts from emptied tables with
the same organiser, presenter, attendee, fair and session.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings

from tests.factories import make_fair, make_organiser, make_presenter, make_project, make_session, make_user

pytestmark = pytest.mark.fuzz

#: Examples per operation and role in CI (`make test`); `FUZZ_EXAMPLES` changes it.
DEFAULT_EXAMPLES = 6
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", DEFAULT_EXAMPLES))

_ORDER = "the end must come after the start (`from` ≤ `to`), a rule across two parameters"
_TITLE = "the title is required in one of `title` or `title_i18n` (either may be left out alone)"
_SECTORS = "`sector` codes must name stored sectors (GET /sectors); the pattern states their form"

#: `positive_data_acceptance` left out for these operations, each with its reason: a value of the
#: documented form that breaks a rule across fields or names nothing stored is refused (422, or the
#: 415 of a file that is not of the kind the operation takes), as the document lists.
EXCLUDED_CHECKS: dict[str, str] = {
    "POST /api/v1/projects": f"{_SECTORS}; {_TITLE}",
    "PATCH /api/v1/projects/{project_id}": f"{_SECTORS}; {_TITLE}",
    "PATCH /api/v1/organisations/{organisation_id}/demand": "`demand_sectors` must name stored sectors",
    "POST /api/v1/series": ("`focus_sectors` must name stored sectors, and an RRULE of the documented form must "
                            "also occur (RFC 5545 semantics, e.g. BYMONTHDAY=31;BYMONTH=2 never does)"),
    "POST /api/v1/organisations": ("in China `city` must name a known place and `division` a known GB/T 2260 code; "
                                   "elsewhere `division` must be empty (depends on `country`); sectors stored"),
    "PATCH /api/v1/organisations/{organisation_id}": "as POST /organisations, against the stored country too",
    "POST /api/v1/users/import": "the file must be CSV text (UTF-8 or GB18030); other files get the documented 415",
    "PUT /api/v1/me/photo": "the file must be a PNG or JPEG image; other files get the documented 415",
    "POST /api/v1/projects/{project_id}/materials": ("`replaces` must name a stored material of the project; the "
                                                     "file must be of an accepted kind (else the documented 415)"),
    "POST /api/v1/fairs": _TITLE,
    "PATCH /api/v1/fairs/{fair_id}": _TITLE,
    "POST /api/v1/fairs/{fair_id}/sessions": f"{_TITLE}; the session ends after it starts, on one of the fair's tracks",
    "PATCH /api/v1/sessions/{session_id}": f"{_TITLE}; the session ends after it starts, on one of the fair's tracks",
    "GET /api/v1/fairs/{fair_id}/slot-suggestions": "`presenter_id` must name a stored presenter",
    "POST /api/v1/fairs/{fair_id}/meeting-hours": _ORDER,
    "GET /api/v1/projects/{project_id}/meeting-slots": _ORDER,
    "GET /api/v1/audit": _ORDER,
    "GET /api/v1/leads": _ORDER,
    "GET /api/v1/leads.csv": _ORDER,
    "GET /api/v1/stats/summary": _ORDER,
    "GET /api/v1/reports/province.xlsx": _ORDER,
    "POST /api/v1/reports": "each update's `lead_id` must name an open lead of the reporter's organisation",
    "POST /api/v1/sessions/{session_id}/questions": ("the text must show something: text of only zero-width, "
                                                     "combining or filler characters is refused (the pattern states "
                                                     "non-blank; the exact rule, hundreds of Unicode ranges, is "
                                                     "beyond Schemathesis' pattern translation)"),
    "POST /api/v1/signup": ("`division` must be a known GB/T 2260 code, `timezone` a known IANA zone and `fair_id` "
                            "a stored fair"),
    "POST /api/v1/meetings": ("`starts_at` must be an hour to 90 days from now, within the presenter's hours "
                              "(a rule about the clock and stored data); `project_id` a stored project"),
    "POST /api/v1/sessions/{session_id}/invitations": ("`organisation_ids` must name stored organisations other "
                                                       "than the agency (the documented 422 otherwise)"),
    "PUT /api/v1/site-match-weights": "after the change at least one weight, sent or stored, must be above 0",
    "POST /api/v1/parks": ("the name is required in `name` or `name_i18n`; `division` must be a known code in "
                           "China; `organisation_id` must name a city bureau or park (organisers only)"),
    "PUT /api/v1/projects/{project_id}/site-needs": ("`divisions` must be known GB/T 2260 codes and `currency` a "
                                                     "known ISO 4217 code (the patterns state their form)"),
}


def _excluded_checks(case) -> list:
    from schemathesis.specs.openapi import checks

    reason = EXCLUDED_CHECKS.get(f"{case.operation.method.upper()} {case.operation.path}")
    return [checks.positive_data_acceptance] if reason else []


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """One app and one database for the whole module (an app per operation costs more than its
    examples); each operation starts from emptied tables (`fuzz_app`)."""
    from app import create_app
    from app.extensions import limiter
    from tests.conftest import fresh_database, make_test_config

    uploads = tmp_path_factory.mktemp("fuzz-uploads")
    with fresh_database(create_app(make_test_config(UPLOAD_DIR=str(uploads)))) as app:
        # Schemathesis sends many requests quickly; the sign-in limits are tested elsewhere.
        app.config["RATELIMIT_ENABLED"] = False
        limiter.enabled = False
        try:
            yield app
        finally:
            limiter.enabled = True


def _empty_tables() -> None:
    """Every row the last operation's examples wrote gone (the divisions, reference data, stay)."""
    from sqlalchemy import text

    from app.extensions import db
    from app.reference.services import ensure_default_sectors
    from tests.conftest import _KEPT_TABLES, _empty_postgresql_tables

    db.session.remove()
    if db.engine.dialect.name == "postgresql":
        _empty_postgresql_tables()
    else:
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                if table.name not in _KEPT_TABLES:
                    conn.execute(table.delete())
            if conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'")).first():
                conn.execute(text("DELETE FROM sqlite_sequence"))  # ids start at 1 again, as on PostgreSQL
    ensure_default_sectors()


@pytest.fixture
def fuzz_app(app, auth):
    """The module's app over emptied tables holding an organiser's fair with one session (a presenter's
    project in it) and an attendee, with a token for each."""
    _empty_tables()
    organiser = make_organiser()
    agent = make_presenter()
    attendee = make_user("attendee", organisation="Tangshan Commerce Bureau")
    project = make_project(agent)
    fair = make_fair(organiser)
    make_session(fair, organiser, presenter_ids=[agent.id], project_ids=[project.id])
    app.fuzz_headers = {"organiser": auth(organiser), "attendee": auth(attendee)}
    return app


def _load_schema():
    """The document as the server serves it (it needs no database: an app is made just to read it)."""
    from app import create_app
    from tests.conftest import make_test_config

    config = schemathesis.Config.from_dict({"seed": 20261203, "generation": {"mode": "all"}})
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", create_app(make_test_config()), config=config)


schema = _load_schema()
if os.environ.get("FUZZ_ONLY"):
    # A path regex, to re-run a few operations by hand (e.g. FUZZ_ONLY=password-reset).
    schema = schema.include(path_regex=os.environ["FUZZ_ONLY"])

SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))


@schema.parametrize()
@SETTINGS
def test_api_as_organiser(case, fuzz_app):
    case.call_and_validate(headers=fuzz_app.fuzz_headers["organiser"], app=fuzz_app,
                           excluded_checks=_excluded_checks(case))


@schema.parametrize()
@SETTINGS
def test_api_as_attendee(case, fuzz_app):
    case.call_and_validate(headers=fuzz_app.fuzz_headers["attendee"], app=fuzz_app,
                           excluded_checks=_excluded_checks(case))


def test_every_excluded_check_names_an_operation_of_the_document():
    operations = {f"{op.method.upper()} {op.path}" for op in (result.ok() for result in _load_schema().get_all_operations())}
    assert set(EXCLUDED_CHECKS) <= operations, set(EXCLUDED_CHECKS) - operations
