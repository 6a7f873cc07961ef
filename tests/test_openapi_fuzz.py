"""Schemathesis against /api/v1/openapi.json: every operation, as an organiser and as an attendee,
with every check (no 5xx, statuses, content types, headers and bodies as documented, bad data
refused, good data accepted), seeded and bounded so that the run takes a few minutes.

Marked `fuzz`, and opt-in for now (CLOUDFAIR_FUZZ=1): the run does not yet pass every check, so CI
does not run it yet. `FUZZ_ONLY=<path regex>` runs a few operations.

What still fails (the last whole run: 28 of 172 operation × role tests):
- rules across fields or about stored data, which JSON Schema cannot state and which need a decision
  (answer 404/409 instead of 422, or leave `positive_data_acceptance` off for the operation with the
  reason written here): a title in one of `title`/`title_i18n` (fairs, sessions, projects, series), a
  session ending after it starts and on one of the fair's tracks, `from` ≤ `to` (leads, leads.csv,
  stats, province.xlsx, audit), `presenter_id`/`owner_id` naming a presenter, a report's lead being an
  open lead of the reporter's organisation, a material's `replaces`, a Chinese city being a known place;
- rules still to state in the document: the organisation's `division`/`city` (Method fields without a
  type), a question's visible text, an interest's `at` as a form field, an import file that is not CSV
  text. (Now stated: rates as positive decimal strings, sector and country codes, profile language
  codes, a series' zone, RRULE form, HH:MM and date; `stats/summary` refuses unknown query parameters;
  upload forms ignore other fields; the photo's body is required. Not yet re-run as a whole: the
  targeted run of those operations still failed 7 of 30 tests, not yet analysed.)
- the run is slow: about 13 minutes for 12 examples on a loaded 2-core machine; shrinking is off
  (`phases`), the example count still has to come down to fit CI.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings

from tests.factories import make_fair, make_organiser, make_presenter, make_project, make_session, make_user

pytestmark = pytest.mark.fuzz

if os.environ.get("CLOUDFAIR_FUZZ") != "1":
    pytest.skip("opt-in until every check passes: CLOUDFAIR_FUZZ=1", allow_module_level=True)

#: Examples per operation and role; FUZZ_EXAMPLES raises it for a longer run by hand.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))

#: Operations left out, each with its reason. (None: every operation is exercised.)
EXCLUDED: dict[str, str] = {}

#: Checks left out for one operation, each with its reason: rules about stored data, which a document
#: cannot state (a value of the right form that names nothing stored is refused with 422).
EXCLUDED_CHECKS: dict[str, tuple[str, str]] = {
    "POST /api/v1/projects": ("positive_data_acceptance", "`sector` must name a stored sector (GET /sectors)"),
    "PATCH /api/v1/projects/{project_id}": ("positive_data_acceptance", "`sector` must name a stored sector"),
    "PATCH /api/v1/organisations/{organisation_id}/demand": (
        "positive_data_acceptance", "`demand_sectors` must name stored sectors"),
    "POST /api/v1/series": ("positive_data_acceptance",
                            "`focus_sectors` must name stored sectors, and an RRULE of the documented form must "
                            "also occur (RFC 5545 semantics, e.g. BYMONTHDAY=31;BYMONTH=2 never does)"),
}


def _excluded_checks(case) -> list:
    from schemathesis.specs.openapi import checks

    entry = EXCLUDED_CHECKS.get(f"{case.operation.method.upper()} {case.operation.path}")
    return [getattr(checks, entry[0])] if entry else []


@pytest.fixture
def fuzz_app(app, auth):
    # Schemathesis sends many requests quickly; the sign-in limits are tested elsewhere.
    app.config["RATELIMIT_ENABLED"] = False
    from app.extensions import limiter

    limiter.enabled = False
    organiser = make_organiser()
    agent = make_presenter()
    attendee = make_user("attendee", organisation="Tangshan Commerce Bureau")
    project = make_project(agent)
    fair = make_fair(organiser)
    make_session(fair, organiser, presenter_ids=[agent.id], project_ids=[project.id])
    app.fuzz_headers = {"organiser": auth(organiser), "attendee": auth(attendee)}
    yield app
    limiter.enabled = True


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
