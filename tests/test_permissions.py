"""Who may do what: every route against every role, as one table.

API routes are called with a bearer token, pages with the login cookie and a valid
CSRF token, so each answer is the access rule's and not a missing-token refusal.
A route that is added to the app without a row here fails
`test_every_route_is_in_the_permission_table`.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import create_app, mail
from app.accounts import tokens as account_tokens
from app.accounts.models import User
from app.accounts.services import find_or_create_organisation
from app.extensions import db
from app.fairs import series as fair_series
from app.fairs import services as fairs
from app.leads import services as lead_services
from app.live import services as live
from app.meetings import services as meetings
from app.parks import media as park_media
from app.parks import services as parks
from app.leads.models import SiteProposal
from app.people.models import FairInvitation, SignupRequest
from app.types import utcnow
from app.projects import services as projects
from tests.conftest import DataSnapshot, make_test_config
from tests.factories import (PASSWORD, make_fair, make_notification, make_organiser, make_presenter, make_project,
                             make_session, make_user)
from tests.projects import samples

ROLES = ("anonymous", "attendee", "presenter", "organiser")

#: Routes that belong to no role: library endpoints outside the access table.
ALLOW_LIST = {("static", "GET")}


@dataclass
class Row:
    method: str
    path: str  # formatted with the world's ids
    endpoint: str
    expect: dict[str, int]
    json: dict | None = None
    form: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


def _all(status: int) -> dict[str, int]:
    return {role: status for role in ROLES}


def _organiser_only(status: int, anonymous: int = 401) -> dict[str, int]:
    return {"anonymous": anonymous, "attendee": 403, "presenter": 403, "organiser": status}


def _page_organiser_only(status: int) -> dict[str, int]:
    return {"anonymous": 302, "attendee": 403, "presenter": 403, "organiser": status}


def OWNERS(status: int) -> dict[str, int]:  # noqa: N802  (reads as a constant in the table)
    """The project's presenter and organisers."""
    return {"anonymous": 401, "attendee": 403, "presenter": status, "organiser": status}


def OWNER_ONLY_404(status: int) -> dict[str, int]:  # noqa: N802
    """Something only its owner and organisers may know exists."""
    return {"anonymous": 404, "attendee": 404, "presenter": status, "organiser": status}


def PARK_OWNERS(status: int, attendee: int | None = None) -> dict[str, int]:  # noqa: N802
    """The park's own city bureau (the world's attendee) and organisers; another city is refused."""
    return {"anonymous": 401, "attendee": status if attendee is None else attendee, "presenter": 403, "organiser": status}


PENDING = {"anonymous": 401, "attendee": 404, "presenter": 200, "organiser": 200}
DRAFT_HIDDEN = {"anonymous": 404, "attendee": 404, "presenter": 404, "organiser": 200}
USER_ONLY = {"anonymous": 401, "attendee": 200, "presenter": 200, "organiser": 200}
#: Pages for organisers and the session's presenters (`presenter` presents the published session).
STAFF_PAGE = {"anonymous": 302, "attendee": 403, "presenter": 200, "organiser": 200}

NEW_FAIR = {
    "title": "America fair",
    "starts_at": "2026-12-17T21:00:00+08:00",
    "ends_at": "2026-12-18T01:00:00+08:00",
    "timezone": "Asia/Shanghai",
    "focus_countries": ["US"],
    "focus_sectors": ["biomedicine_health"],
}

API = [
    Row("POST", "/api/v1/auth/token", "accounts_api.create_token", _all(201),
        json={"email": "{attendee_email}", "password": PASSWORD}),
    Row("DELETE", "/api/v1/auth/token", "accounts_api.revoke_token",
        {"anonymous": 401, "attendee": 204, "presenter": 204, "organiser": 204}),
    Row("GET", "/api/v1/me", "accounts_api.me", USER_ONLY),
    Row("GET", "/api/v1/users", "accounts_api.list_users", _organiser_only(200)),
    Row("POST", "/api/v1/users", "people_api.create_user", _organiser_only(201),
        json={"email": "new@example.org", "name": "New Person", "role": "attendee", "organisation": "Tangshan"}),
    Row("PATCH", "/api/v1/users/{other_attendee}", "accounts_api.update_user", _organiser_only(200),
        json={"name": "Renamed"}),
    Row("GET", "/api/v1/organisations", "people_api.list_organisations", _organiser_only(200)),
    Row("POST", "/api/v1/organisations", "people_api.create_organisation", _organiser_only(201),
        json={"name": "Langfang Commerce Bureau", "kind": "city_bureau", "city": "Langfang", "country": "CN"}),
    Row("POST", "/api/v1/users/{invitee}/invitation", "people_api.send_user_invitation", _organiser_only(201)),
    Row("DELETE", "/api/v1/users/{invitee}/invitation", "people_api.revoke_user_invitation", _organiser_only(204)),
    Row("GET", "/api/v1/invitations", "people_api.list_invitations", _organiser_only(200)),
    Row("POST", "/api/v1/invitations/{invitation_token}", "people_api.accept_invitation_api", _all(200),
        json={"password": "a long enough password"}),
    Row("POST", "/api/v1/auth/password-reset", "people_api.request_password_reset", _all(202),
        json={"email": "{attendee_email}"}),
    Row("POST", "/api/v1/auth/password-reset/{reset_token}", "people_api.complete_password_reset", _all(200),
        json={"password": "a long enough password"}),
    Row("GET", "/api/v1/organisations/{attendee_organisation}", "people_api.get_organisation", _organiser_only(200)),
    Row("PATCH", "/api/v1/organisations/{attendee_organisation}", "people_api.update_organisation",
        _organiser_only(200), json={"city": "Shijiazhuang"}),
    Row("GET", "/api/v1/organisations/{attendee_organisation}/users", "people_api.organisation_users",
        _organiser_only(200)),
    Row("POST", "/api/v1/organisations/{attendee_organisation}/merge", "people_api.merge_organisation",
        _organiser_only(200), json={"duplicate_id": "{duplicate_organisation}"}),
    Row("POST", "/api/v1/users/import", "people_api.import_users", _organiser_only(422)),  # no file sent
    Row("GET", "/api/v1/audit", "people_api.list_audit", _organiser_only(200)),
    Row("POST", "/api/v1/signup", "people_api.request_signup", _all(202),
        json={"name": "Zhao Min", "email": "zhao.min@example.cn", "organisation": "Shijiazhuang Commerce Bureau"}),
    Row("POST", "/api/v1/signup/confirm/{signup_token}", "people_api.confirm_signup_api", _all(200)),
    Row("GET", "/api/v1/signups", "people_api.list_signups", _organiser_only(200)),
    Row("POST", "/api/v1/sessions/{published_session}/invitations", "people_api.invite_organisations_api",
        _organiser_only(201), json={"organisation_ids": ["{other_organisation}"]}),
    Row("GET", "/api/v1/fairs/{published}/invitations", "people_api.list_fair_invitations", _organiser_only(200)),
    Row("POST", "/api/v1/signups/{signup}/decision", "people_api.decide_signup_api", _organiser_only(200),
        json={"decision": "decline"}),
    Row("GET", "/api/v1/timezones", "reference_api.list_timezones", _all(200)),
    Row("GET", "/api/v1/openapi.json", "api-docs.openapi_json", _all(200)),
    Row("GET", "/api/v1/countries", "reference_api.list_countries", _all(200)),
    Row("GET", "/api/v1/sectors", "reference_api.list_sectors", _all(200)),
    Row("GET", "/api/v1/divisions?q=baoding", "reference_api.list_divisions", _all(200)),
    Row("POST", "/api/v1/sectors", "reference_api.create_sector", _organiser_only(201),
        json={"code": "agritech", "name_en": "Agricultural technology", "name_zh": "农业科技"}),
    Row("GET", "/api/v1/fairs", "fairs_api.list_fairs", _all(200)),
    Row("POST", "/api/v1/fairs", "fairs_api.create_fair", _organiser_only(201), json=NEW_FAIR),
    Row("POST", "/api/v1/fairs", "fairs_api.create_fair", _organiser_only(422), json={"title": ""}),
    Row("GET", "/api/v1/fairs/{published}", "fairs_api.get_fair", _all(200)),
    Row("GET", "/api/v1/fairs/{draft}", "fairs_api.get_fair", DRAFT_HIDDEN),
    Row("PATCH", "/api/v1/fairs/{published}", "fairs_api.update_fair", _organiser_only(200),
        json={"title": "Renamed fair"}),
    Row("PATCH", "/api/v1/fairs/{draft}", "fairs_api.update_fair", _organiser_only(200),
        json={"title": "Renamed draft"}),
    Row("POST", "/api/v1/fairs/{draft}/publish", "fairs_api.publish_fair", _organiser_only(200)),
    Row("POST", "/api/v1/fairs/{published}/cancel", "fairs_api.cancel_fair", _organiser_only(200)),
    Row("GET", "/api/v1/fairs/{published}/sessions", "fairs_api.list_sessions", _all(200)),
    Row("GET", "/api/v1/fairs/{draft}/sessions", "fairs_api.list_sessions", DRAFT_HIDDEN),
    Row("POST", "/api/v1/fairs/{published}/sessions", "fairs_api.create_session", _organiser_only(201),
        json={"title": "Second pitch", "kind": "pitch", "starts_at": "2026-12-10T17:00:00+08:00",
              "ends_at": "2026-12-10T17:30:00+08:00", "track": "main"}),
    Row("GET", "/api/v1/fairs/{published}/slot-suggestions?presenter_id={presenter}&minutes=30",
        "fairs_api.slot_suggestions", _organiser_only(200)),
    Row("GET", "/api/v1/fairs/{published}/registrations", "fairs_api.list_registrations", _organiser_only(200)),
    Row("GET", "/api/v1/fairs/{draft}/registrations", "fairs_api.list_registrations", _organiser_only(200)),
    Row("POST", "/api/v1/fairs/{published}/registrations", "fairs_api.register",
        {"anonymous": 401, "attendee": 200, "presenter": 403, "organiser": 403}),  # already registered: 200
    Row("POST", "/api/v1/fairs/{draft}/registrations", "fairs_api.register",
        {"anonymous": 401, "attendee": 404, "presenter": 403, "organiser": 403}),
    Row("DELETE", "/api/v1/fairs/{published}/registrations", "fairs_api.withdraw",
        {"anonymous": 401, "attendee": 204, "presenter": 403, "organiser": 403}),
    Row("GET", "/api/v1/sessions/{published_session}", "fairs_api.get_session", _all(200)),
    Row("GET", "/api/v1/sessions/{draft_session}", "fairs_api.get_session", DRAFT_HIDDEN),
    Row("PATCH", "/api/v1/sessions/{published_session}", "fairs_api.update_session", _organiser_only(200),
        json={"title": "Renamed pitch"}),
    Row("POST", "/api/v1/sessions/{published_session}/cancel", "fairs_api.cancel_session", _organiser_only(200)),
    # projects and material
    Row("GET", "/api/v1/projects", "projects_api.list_projects", USER_ONLY),
    Row("POST", "/api/v1/projects", "projects_api.create_project", OWNERS(201),
        json={"title": "Hydrogen buses", "sector": "energy_saving_environment", "country": "CA"}),
    Row("GET", "/api/v1/projects/{project}", "projects_api.get_project", _all(200)),
    Row("GET", "/api/v1/projects/{hidden_project}", "projects_api.get_project", OWNER_ONLY_404(200)),
    Row("PATCH", "/api/v1/projects/{project}", "projects_api.update_project", OWNERS(200), json={"title": "Renamed"}),
    Row("PATCH", "/api/v1/projects/{other_project}", "projects_api.update_project",
        {"anonymous": 401, "attendee": 403, "presenter": 404, "organiser": 200}, json={"title": "Taken over"}),
    Row("GET", "/api/v1/projects/{project}/materials", "projects_api.list_materials", USER_ONLY),
    Row("POST", "/api/v1/projects/{project}/materials", "projects_api.upload_material", OWNERS(422)),  # no file sent
    Row("POST", "/api/v1/projects/{other_project}/materials", "projects_api.upload_material",
        {"anonymous": 401, "attendee": 403, "presenter": 404, "organiser": 422}),
    Row("GET", "/api/v1/materials/{pending_material}", "projects_api.get_material", PENDING),
    Row("GET", "/api/v1/materials/{approved_material}", "projects_api.get_material", USER_ONLY),
    Row("GET", "/api/v1/materials/{pending_material}/versions", "projects_api.material_versions", PENDING),
    Row("GET", "/api/v1/materials/{pending_material}/download", "projects_api.download_material", PENDING),
    Row("GET", "/api/v1/materials/{approved_material}/download", "projects_api.download_material", USER_ONLY),
    Row("GET", "/api/v1/materials/review-queue", "projects_api.review_queue", _organiser_only(200)),
    Row("POST", "/api/v1/materials/{pending_material}/review", "projects_api.review_material", _organiser_only(200),
        json={"decision": "approve"}),
    Row("PATCH", "/api/v1/me", "accounts_api.update_me", USER_ONLY, json={"bio": "Hello"}),
    Row("PUT", "/api/v1/me/photo", "projects_api.put_photo", {**_all(422), "anonymous": 401}),  # no file sent
    Row("GET", "/api/v1/notifications", "notifications_api.list_notifications", USER_ONLY),
    Row("POST", "/api/v1/notifications/{attendee_notification}/read", "notifications_api.mark_read",
        {"anonymous": 401, "attendee": 200, "presenter": 404, "organiser": 404}),
    # the live room over HTTP
    Row("GET", "/api/v1/sessions/{published_session}/questions", "live_api.list_questions", USER_ONLY),
    Row("GET", "/api/v1/sessions/{draft_session}/questions", "live_api.list_questions",
        {"anonymous": 401, "attendee": 404, "presenter": 404, "organiser": 200}),
    Row("GET", "/api/v1/sessions/{published_session}/me", "live_api.personal_state", USER_ONLY),
    Row("GET", "/api/v1/sessions/{draft_session}/me", "live_api.personal_state",
        {"anonymous": 401, "attendee": 404, "presenter": 404, "organiser": 200}),
    Row("GET", "/api/v1/sessions/{published_session}/events?since_seq=0", "live_api.catch_up", USER_ONLY),
    Row("GET", "/api/v1/sessions/{draft_session}/events?since_seq=0", "live_api.catch_up",
        {"anonymous": 401, "attendee": 404, "presenter": 404, "organiser": 200}),
    Row("POST", "/api/v1/sessions/{published_session}/questions", "live_api.ask", {**_all(201), "anonymous": 401},
        json={"text": "When can the plant open?", "client_id": "perm-question-0001"}),
    Row("POST", "/api/v1/questions/{question}/votes", "live_api.vote",
        {"anonymous": 401, "attendee": 201, "presenter": 403, "organiser": 403}),
    Row("POST", "/api/v1/questions/{question}/moderation", "live_api.moderate",
        {"anonymous": 401, "attendee": 403, "presenter": 200, "organiser": 200}, json={"action": "pin"}),
    Row("POST", "/api/v1/sessions/{published_session}/interests", "live_api.express_interest",
        {"anonymous": 401, "attendee": 201, "presenter": 403, "organiser": 403},
        json={"project_id": "{project}", "level": "meeting", "note": "", "client_id": "perm-interest-0001"}),
    # parks and site selection
    Row("GET", "/api/v1/parks", "parks_api.list_parks", _all(200)),
    Row("POST", "/api/v1/parks", "parks_api.create_park", {"anonymous": 401, "attendee": 201, "presenter": 403, "organiser": 201},
        json={"name": "Zhengding High-tech Zone", "division": "130123", "kind": "high_tech_zone",
              "organisation_id": "{attendee_organisation}"}),
    Row("GET", "/api/v1/parks/{park}", "parks_api.get_park", _all(200)),
    Row("PATCH", "/api/v1/parks/{park}", "parks_api.update_park", PARK_OWNERS(200), json={"companies": 120}),
    Row("PATCH", "/api/v1/parks/{other_park}", "parks_api.update_park", PARK_OWNERS(200, attendee=403), json={"companies": 9}),
    Row("POST", "/api/v1/parks/{park}/plots", "parks_api.add_plot", PARK_OWNERS(201),
        json={"name": "B-2", "area_mu": "60", "land_use": "industrial"}),
    Row("POST", "/api/v1/parks/{other_park}/plots", "parks_api.add_plot", PARK_OWNERS(201, attendee=403),
        json={"name": "B-3", "area_mu": "60", "land_use": "industrial"}),
    Row("GET", "/api/v1/plots/{plot}", "parks_api.get_plot", _all(200)),
    Row("PATCH", "/api/v1/plots/{plot}", "parks_api.update_plot", PARK_OWNERS(200), json={"status": "reserved"}),
    Row("PATCH", "/api/v1/plots/{other_plot}", "parks_api.update_plot", PARK_OWNERS(200, attendee=403), json={}),
    Row("POST", "/api/v1/parks/{park}/incentives", "parks_api.add_incentive", PARK_OWNERS(201),
        json={"kind": "tax", "rate": "40"}),
    Row("PATCH", "/api/v1/incentives/{incentive}", "parks_api.update_incentive", PARK_OWNERS(200), json={"rate": "45"}),
    Row("PATCH", "/api/v1/incentives/{other_incentive}", "parks_api.update_incentive", PARK_OWNERS(200, attendee=403), json={}),
    Row("GET", "/api/v1/projects/{project}/site-needs", "parks_api.get_site_needs", USER_ONLY),
    Row("GET", "/api/v1/projects/{hidden_project}/site-needs", "parks_api.get_site_needs",
        {"anonymous": 401, "attendee": 404, "presenter": 404, "organiser": 404}),  # visible to its owner, no needs yet
    Row("PUT", "/api/v1/projects/{project}/site-needs", "parks_api.put_site_needs", OWNERS(200),
        json={"land_mu": "50", "power_kva": 630}),
    Row("PUT", "/api/v1/projects/{other_project}/site-needs", "parks_api.put_site_needs",
        {"anonymous": 401, "attendee": 403, "presenter": 404, "organiser": 200}, json={"land_mu": "50"}),
    Row("GET", "/api/v1/projects/{project}/site-matches", "parks_api.site_matches", USER_ONLY),
    Row("GET", "/api/v1/projects/{hidden_project}/site-matches", "parks_api.site_matches", OWNER_ONLY_404(200) | {"anonymous": 401}),
    Row("GET", "/api/v1/sessions/{published_session}/site-matches?project_id={project}", "parks_api.pitch_site_matches",
        USER_ONLY),  # the presenter and organisers: the top three; a city bureau's person: its own plots
    Row("GET", "/api/v1/sessions/{draft_session}/site-matches?project_id={project}", "parks_api.pitch_site_matches",
        {"anonymous": 401, "attendee": 404, "presenter": 404, "organiser": 404}),  # hidden, or not pitched there
    # site proposals: the lead's own organisation and organisers propose; whoever sees the lead reads
    Row("POST", "/api/v1/leads/{lead}/site-proposals", "parks_api.propose_site",
        {"anonymous": 401, "attendee": 201, "presenter": 403, "organiser": 201}, json={"plot_ids": ["{plot}"]}),
    Row("POST", "/api/v1/leads/{other_lead}/site-proposals", "parks_api.propose_site",
        {"anonymous": 401, "attendee": 404, "presenter": 403, "organiser": 201}, json={"plot_ids": ["{other_plot}"]}),
    Row("GET", "/api/v1/leads/{lead}/site-proposals", "parks_api.list_site_proposals", USER_ONLY),
    Row("GET", "/api/v1/leads/{other_lead}/site-proposals", "parks_api.list_site_proposals",
        {"anonymous": 401, "attendee": 404, "presenter": 404, "organiser": 200}),
    Row("GET", "/api/v1/site-proposals/{proposal}/pdf", "parks_api.site_proposal_pdf", USER_ONLY),
    Row("GET", "/api/v1/site-proposals/{other_proposal}/pdf", "parks_api.site_proposal_pdf",
        {"anonymous": 401, "attendee": 404, "presenter": 404, "organiser": 200}),
    Row("POST", "/api/v1/site-proposals/{proposal}/visit", "parks_api.record_site_visit",
        {"anonymous": 401, "attendee": 200, "presenter": 403, "organiser": 200}, json={"visited_on": "{today}"}),
    Row("POST", "/api/v1/site-proposals/{other_proposal}/visit", "parks_api.record_site_visit",
        {"anonymous": 401, "attendee": 404, "presenter": 403, "organiser": 200}, json={"visited_on": "{today}"}),
    Row("GET", "/api/v1/site-match-weights", "parks_api.get_weights", USER_ONLY),
    Row("PUT", "/api/v1/site-match-weights", "parks_api.put_weights", _organiser_only(200), json={"power": 20}),
    # a park's photos and tour, its plan and outlines, and the pitched projects that fit it
    Row("GET", "/api/v1/parks/{park}/media", "parks_api.list_park_media", _all(200)),
    Row("POST", "/api/v1/parks/{park}/photos", "parks_api.add_park_photo", PARK_OWNERS(422)),  # no file sent
    Row("POST", "/api/v1/parks/{other_park}/photos", "parks_api.add_park_photo", PARK_OWNERS(422, attendee=403)),
    Row("PUT", "/api/v1/parks/{park}/tour", "parks_api.put_park_tour", PARK_OWNERS(422)),
    Row("PUT", "/api/v1/parks/{other_park}/tour", "parks_api.put_park_tour", PARK_OWNERS(422, attendee=403)),
    Row("PATCH", "/api/v1/parks/{park}/media/{park_photo}", "parks_api.caption_park_media", PARK_OWNERS(200),
        json={"caption": "The gate"}),
    Row("PATCH", "/api/v1/parks/{other_park}/media/{other_park_photo}", "parks_api.caption_park_media",
        PARK_OWNERS(200, attendee=403), json={"caption": "The gate"}),
    Row("DELETE", "/api/v1/parks/{park}/media/{park_photo}", "parks_api.remove_park_media", PARK_OWNERS(204)),
    Row("DELETE", "/api/v1/parks/{other_park}/media/{other_park_photo}", "parks_api.remove_park_media",
        PARK_OWNERS(204, attendee=403)),
    Row("GET", "/api/v1/parks/{park}/plan", "parks_api.get_plan", _all(200)),
    Row("PUT", "/api/v1/parks/{park}/plan", "parks_api.put_plan", PARK_OWNERS(422)),  # no file sent
    Row("PUT", "/api/v1/parks/{other_park}/plan", "parks_api.put_plan", PARK_OWNERS(422, attendee=403)),
    Row("PUT", "/api/v1/plots/{plot}/outline", "parks_api.put_outline", PARK_OWNERS(422),
        json={"outline": [[1, 1], [5, 1], [5, 5]]}),  # no plan uploaded yet
    Row("PUT", "/api/v1/plots/{other_plot}/outline", "parks_api.put_outline", PARK_OWNERS(200, attendee=403),
        json={"outline": None}),
    Row("GET", "/api/v1/parks/{park}/pitched-projects", "parks_api.pitched_projects_api", PARK_OWNERS(200)),
    Row("GET", "/api/v1/parks/{other_park}/pitched-projects", "parks_api.pitched_projects_api",
        PARK_OWNERS(200, attendee=403)),
    # meetings and meeting days
    Row("GET", "/api/v1/projects/{project}/meeting-slots", "meetings_api.meeting_slots",
        {"anonymous": 401, "attendee": 200, "presenter": 403, "organiser": 403}),
    Row("POST", "/api/v1/meetings", "meetings_api.book", {"anonymous": 401, "attendee": 201, "presenter": 403, "organiser": 403},
        json={"project_id": "{project}", "starts_at": "{free_slot}", "client_id": "perm-meeting-new-0001"}),
    Row("GET", "/api/v1/meetings", "meetings_api.list_meetings", USER_ONLY),
    Row("GET", "/api/v1/meetings/{meeting}", "meetings_api.get_meeting", USER_ONLY),
    Row("GET", "/api/v1/meetings/{other_meeting}", "meetings_api.get_meeting",
        {"anonymous": 401, "attendee": 404, "presenter": 200, "organiser": 200}),
    Row("POST", "/api/v1/meetings/{meeting}/accept", "meetings_api.accept",
        {"anonymous": 401, "attendee": 403, "presenter": 200, "organiser": 200}),
    Row("POST", "/api/v1/meetings/{meeting}/decline", "meetings_api.decline",
        {"anonymous": 401, "attendee": 403, "presenter": 200, "organiser": 200}, json={"note": "Not this week"}),
    Row("POST", "/api/v1/meetings/{meeting}/cancel", "meetings_api.cancel", USER_ONLY),
    Row("POST", "/api/v1/meetings/{other_meeting}/cancel", "meetings_api.cancel",
        {"anonymous": 401, "attendee": 404, "presenter": 200, "organiser": 200}),
    Row("GET", "/api/v1/me/meeting-settings", "meetings_api.get_settings",
        {"anonymous": 401, "attendee": 200, "presenter": 200, "organiser": 403}),
    Row("PUT", "/api/v1/me/meeting-settings", "meetings_api.put_settings",
        {"anonymous": 401, "attendee": 200, "presenter": 200, "organiser": 403}, json={"auto_accept": True}),
    Row("POST", "/api/v1/meetings/{meeting}/reschedule", "meetings_api.reschedule", USER_ONLY,
        json={"starts_at": "{free_slot}"}),
    Row("POST", "/api/v1/meetings/{other_meeting}/reschedule", "meetings_api.reschedule",
        {"anonymous": 401, "attendee": 404, "presenter": 200, "organiser": 200}, json={"starts_at": "{free_slot}"}),
    Row("DELETE", "/api/v1/availability/{availability}", "meetings_api.withdraw_availability",
        {"anonymous": 401, "attendee": 403, "presenter": 204, "organiser": 403}),
    Row("GET", "/api/v1/fairs/{published}/meeting-hours", "meetings_api.list_hours", USER_ONLY),
    Row("POST", "/api/v1/fairs/{published}/meeting-hours", "meetings_api.open_hours", _organiser_only(201),
        json={"starts_at": "{new_hours_from}", "ends_at": "{new_hours_to}"}),
    Row("POST", "/api/v1/meeting-hours/{hours}/availability", "meetings_api.publish_availability",
        {"anonymous": 401, "attendee": 403, "presenter": 201, "organiser": 403},
        json={"starts_at": "{hours_from}", "ends_at": "{hours_to}"}),
    Row("GET", "/api/v1/meeting-hours/{hours}/matrix", "meetings_api.matrix", _organiser_only(200)),
    # leads and numbers
    Row("GET", "/api/v1/leads", "leads_api.list_leads", USER_ONLY),
    Row("GET", "/api/v1/leads.csv", "leads_api.leads_csv", USER_ONLY),
    Row("GET", "/api/v1/leads/{lead}", "leads_api.get_lead", USER_ONLY),  # own organisation / own project / all
    Row("GET", "/api/v1/leads/{other_lead}", "leads_api.get_lead",
        {"anonymous": 401, "attendee": 404, "presenter": 404, "organiser": 200}),
    Row("PATCH", "/api/v1/leads/{lead}", "leads_api.update_lead",
        {"anonymous": 401, "attendee": 200, "presenter": 403, "organiser": 200}, json={"owner_id": "{attendee_id}"}),
    Row("PATCH", "/api/v1/leads/{other_lead}", "leads_api.update_lead",
        {"anonymous": 401, "attendee": 404, "presenter": 403, "organiser": 200}, json={"owner_id": "{other_attendee}"}),
    Row("POST", "/api/v1/leads/{lead}/progress", "leads_api.post_progress",
        {"anonymous": 401, "attendee": 201, "presenter": 403, "organiser": 201}, json={"note": "Called them"}),
    Row("POST", "/api/v1/leads/{other_lead}/progress", "leads_api.post_progress",
        {"anonymous": 401, "attendee": 404, "presenter": 403, "organiser": 201}, json={"note": "Called them"}),
    Row("POST", "/api/v1/leads/{lead}/documents", "leads_api.post_document",
        {"anonymous": 401, "attendee": 422, "presenter": 403, "organiser": 422}),  # no file sent
    Row("GET", "/api/v1/lead-documents/{lead_document}/download", "leads_api.download_document", USER_ONLY),
    Row("GET", "/api/v1/lead-documents/{other_lead_document}/download", "leads_api.download_document",
        {"anonymous": 401, "attendee": 404, "presenter": 404, "organiser": 200}),
    Row("POST", "/api/v1/reports", "leads_api.post_report",
        {"anonymous": 401, "attendee": 201, "presenter": 403, "organiser": 403},
        json={"updates": [{"lead_id": "{lead}", "note": "Visit planned"}]}),
    Row("GET", "/api/v1/reports/missing", "leads_api.missing_reports", _organiser_only(200)),
    Row("GET", "/api/v1/stats/pipeline", "leads_api.stats", _organiser_only(200)),
    Row("GET", "/api/v1/stats/summary", "leads_api.stats_summary", _organiser_only(200)),
    Row("GET", "/api/v1/reports/province.xlsx", "leads_api.province_workbook", _organiser_only(200)),
    Row("GET", "/api/v1/rates", "leads_api.list_rates", _organiser_only(200)),
    Row("PUT", "/api/v1/rates", "leads_api.put_rate", _organiser_only(200), json={"currency": "EUR", "cny_per_unit": "7.85"}),
    Row("GET", "/api/v1/stage-limits", "leads_api.list_stage_limits", USER_ONLY),
    Row("PUT", "/api/v1/stage-limits", "leads_api.put_stage_limit", _organiser_only(200),
        json={"stage": "follow_up", "days": 20}),
    Row("GET", "/api/v1/sessions/{published_session}/signings", "leads_api.list_signings", USER_ONLY),
    Row("POST", "/api/v1/sessions/{published_session}/signings", "leads_api.post_signing", _organiser_only(409),
        json={"lead_id": "{lead}", "amount": "1", "currency": "EUR"}),  # not a signing session
    Row("PATCH", "/api/v1/organisations/{attendee_organisation}/demand", "leads_api.update_demand",
        {"anonymous": 401, "attendee": 200, "presenter": 403, "organiser": 200}, json={"demand_sectors": ["ice_snow"]}),
    Row("PATCH", "/api/v1/organisations/{other_organisation}/demand", "leads_api.update_demand",
        {"anonymous": 401, "attendee": 403, "presenter": 403, "organiser": 200}, json={"demand_note": "Ports"}),
    Row("GET", "/api/v1/recommendations", "leads_api.get_recommendations",
        {"anonymous": 401, "attendee": 200, "presenter": 403, "organiser": 403}),
    Row("GET", "/api/v1/sessions/{published_session}/invitees", "leads_api.get_invitees", _organiser_only(200)),
    Row("GET", "/api/v1/series", "fairs_api.list_series", _organiser_only(200)),
    Row("POST", "/api/v1/series", "fairs_api.create_series", _organiser_only(201),
        json={"title": "Cloud fair", "rrule": "FREQ=MONTHLY;BYDAY=2TH", "local_start": "15:00", "minutes": 240,
              "themes": [{"theme": "Europe: new materials", "focus_countries": ["DE"], "focus_sectors": ["new_materials"]}]}),
    Row("GET", "/api/v1/series/{series}", "fairs_api.get_series", _organiser_only(200)),
]

PAGES = [
    Row("GET", "/", "fairs.index", _all(200)),
    Row("GET", "/healthz", "core.healthz", _all(200)),
    Row("GET", "/livez", "core.livez", _all(200)),
    Row("GET", "/favicon.ico", "core.favicon", _all(200)),
    Row("GET", "/login", "accounts.login", {"anonymous": 200, "attendee": 302, "presenter": 302, "organiser": 302}),
    Row("POST", "/login", "accounts.login", _all(302),
        form={"email": "{attendee_email}", "password": PASSWORD}),
    Row("POST", "/logout", "accounts.logout", _all(302)),
    Row("POST", "/language", "accounts.switch_language", _all(302), form={"lang": "en", "next": "/"}),
    Row("GET", "/people/invitations", "people.invitations_page", _page_organiser_only(200)),
    Row("POST", "/people/invitations", "people.invitations_page", _page_organiser_only(302),
        form={"name": "Sun Li", "email": "sun.li@example.org", "role": "attendee", "organisation": "Tangshan Bureau",
              "city": "Tangshan", "country": "CN", "timezone": "Asia/Shanghai", "locale": "zh"}),
    Row("POST", "/people/invitations/{invitee}/resend", "people.resend_invitation", _page_organiser_only(302)),
    Row("POST", "/people/invitations/{invitee}/revoke", "people.revoke_invitation", _page_organiser_only(302)),
    Row("GET", "/invitations/{invitation_token}", "people.accept_invitation", _all(200)),
    Row("POST", "/invitations/{invitation_token}", "people.accept_invitation", _all(302),
        form={"password": "a long enough password", "repeat": "a long enough password"}),
    Row("GET", "/password-reset", "people.forgot_password", _all(200)),
    Row("POST", "/password-reset", "people.forgot_password", _all(302), form={"email": "{attendee_email}"}),
    Row("GET", "/password-reset/{reset_token}", "people.reset_password", _all(200)),
    Row("POST", "/password-reset/{reset_token}", "people.reset_password", _all(302),
        form={"password": "a long enough password", "repeat": "a long enough password"}),
    Row("GET", "/signup", "people.signup", _all(200)),
    Row("POST", "/signup", "people.signup", _all(302),
        form={"name": "Zhao Min", "email": "zhao.min@example.cn", "organisation": "Shijiazhuang Commerce Bureau",
              "locale": "zh"}),
    Row("GET", "/signup/confirm/{signup_token}", "people.confirm_signup", _all(200)),
    Row("POST", "/signup/confirm/{signup_token}", "people.confirm_signup", _all(200)),
    Row("GET", "/people/signups", "people.signups_page", _page_organiser_only(200)),
    Row("POST", "/sessions/{published_session}/invitees/invite", "people.invite_from_suggestions",
        _page_organiser_only(302), form={"organisation_ids": "{other_organisation}"}),
    Row("GET", "/fairs/invitation/{fair_invitation_token}", "people.open_fair_invitation", _all(302)),
    Row("POST", "/people/signups/decide", "people.decide_signups", _page_organiser_only(302),
        form={"ids": "{signup}", "decision": "decline"}),
    Row("POST", "/people/signups/{signup}/decide", "people.decide_signup", _page_organiser_only(302),
        form={"decision": "decline"}),
    Row("GET", "/organisations", "people.organisations_page", _page_organiser_only(200)),
    Row("GET", "/organisations/new", "people.new_organisation", _page_organiser_only(200)),
    Row("POST", "/organisations/new", "people.new_organisation", _page_organiser_only(302),
        form={"name": "Langfang Commerce Bureau", "kind": "city_bureau", "city": "Langfang", "country": "CN"}),
    Row("GET", "/organisations/{attendee_organisation}", "people.organisation_page", _page_organiser_only(200)),
    Row("GET", "/organisations/{attendee_organisation}/edit", "people.edit_organisation", _page_organiser_only(200)),
    Row("POST", "/organisations/{attendee_organisation}/edit", "people.edit_organisation",
        _page_organiser_only(302),
        form={"name": "Shijiazhuang Commerce Bureau", "kind": "city_bureau", "city": "Shijiazhuang", "country": "CN"}),
    Row("GET", "/organisations/{attendee_organisation}/merge", "people.merge_organisation_page",
        _page_organiser_only(200)),
    Row("POST", "/organisations/{attendee_organisation}/merge", "people.merge_organisation_page",
        _page_organiser_only(302), form={"other": "{duplicate_organisation}", "direction": "into_this"}),
    Row("GET", "/people/import", "people.import_people", _page_organiser_only(200)),
    Row("POST", "/people/import", "people.import_people", _page_organiser_only(422)),  # no file sent
    Row("POST", "/people/import/unknown-import/confirm", "people.confirm_import", _page_organiser_only(404)),
    Row("GET", "/people/import/template.csv", "people.import_template", _page_organiser_only(200)),
    Row("GET", "/me/settings", "people.my_settings", {**USER_ONLY, "anonymous": 302}),
    Row("POST", "/me/settings", "people.my_settings", {**_all(302)},
        form={"name": "Renamed Person", "locale": "en", "timezone": "Asia/Shanghai"}),
    Row("POST", "/me/password", "people.change_password", {**_all(422), "anonymous": 302},
        form={"current_password": "wrong", "new_password": "another long password",
              "repeat": "another long password"}),
    Row("GET", "/audit", "people.audit_log", _page_organiser_only(200)),
    Row("GET", "/me/calendar", "fairs.my_calendar", {**USER_ONLY, "anonymous": 302}),
    Row("POST", "/me/calendar", "people.regenerate_calendar", _all(302)),
    Row("GET", "/fairs/{published}", "fairs.fair_page", _all(200)),
    Row("GET", "/fairs/{draft}", "fairs.fair_page", DRAFT_HIDDEN),
    Row("GET", "/fairs/{published}.ics", "fairs.fair_feed", _all(200)),
    Row("GET", "/fairs/{draft}.ics", "fairs.fair_feed", DRAFT_HIDDEN),
    Row("GET", "/sessions/{published_session}.ics", "fairs.session_feed", _all(200)),
    Row("GET", "/sessions/{draft_session}.ics", "fairs.session_feed", DRAFT_HIDDEN),
    Row("GET", "/calendar/{attendee_calendar}.ics", "fairs.personal_feed", _all(200)),  # the token is the key
    Row("GET", "/calendar/not-a-calendar-token.ics", "fairs.personal_feed", _all(404)),
    Row("GET", "/fairs/new", "fairs.new_fair", _page_organiser_only(200)),
    Row("POST", "/fairs/new", "fairs.new_fair", _page_organiser_only(422), form={"title": ""}),
    Row("GET", "/fairs/{published}/edit", "fairs.edit_fair", _page_organiser_only(200)),
    Row("GET", "/fairs/{draft}/edit", "fairs.edit_fair", _page_organiser_only(200)),
    Row("POST", "/fairs/{published}/edit", "fairs.edit_fair", _page_organiser_only(422), form={"title": ""}),
    Row("POST", "/fairs/{draft}/publish", "fairs.publish", _page_organiser_only(302)),
    Row("POST", "/fairs/{published}/register", "fairs.register",
        {"anonymous": 302, "attendee": 302, "presenter": 403, "organiser": 403}),
    Row("POST", "/fairs/{published}/withdraw", "fairs.withdraw",
        {"anonymous": 302, "attendee": 302, "presenter": 403, "organiser": 403}),
    Row("GET", "/fairs/{published}/registrations", "fairs.registrations", _page_organiser_only(200)),
    Row("GET", "/fairs/{draft}/registrations", "fairs.registrations", _page_organiser_only(200)),
    Row("GET", "/fairs/{published}/sessions/new", "fairs.new_session", _page_organiser_only(200)),
    Row("POST", "/fairs/{published}/sessions/new", "fairs.new_session", _page_organiser_only(422),
        form={"title": ""}),
    Row("GET", "/sessions/{published_session}/edit", "fairs.edit_session", _page_organiser_only(200)),
    Row("POST", "/sessions/{published_session}/edit", "fairs.edit_session", _page_organiser_only(422),
        form={"title": ""}),
    Row("POST", "/sessions/{published_session}/cancel", "fairs.cancel_session", _page_organiser_only(302)),
    Row("GET", "/series", "fairs.series_list", _page_organiser_only(200)),
    Row("GET", "/series/new", "fairs.new_series", _page_organiser_only(200)),
    Row("POST", "/series/new", "fairs.new_series", _page_organiser_only(422), form={"title": ""}),
    Row("POST", "/series/preview", "fairs.series_preview", _page_organiser_only(422), form={"title": ""}),
    Row("GET", "/series/{series}", "fairs.series_page", _page_organiser_only(200)),
    Row("GET", "/notifications", "notifications.notifications_page", {**USER_ONLY, "anonymous": 302}),
    Row("POST", "/notifications/{attendee_notification}/read", "notifications.read",
        {"anonymous": 302, "attendee": 302, "presenter": 404, "organiser": 404}),
    Row("POST", "/notifications/read-all", "notifications.read_all", _all(302)),
    # the development mail page: off in these (production-like) settings, so a 404 even for organisers;
    # DEV_PAGES below checks it switched on
    Row("GET", "/dev/mail", "notifications.dev_mail", _page_organiser_only(404)),
    Row("GET", "/dev/mail/{mail}", "notifications.dev_mail_message", _page_organiser_only(404)),
    Row("GET", "/dev/mail/{mail}/html", "notifications.dev_mail_html", _page_organiser_only(404)),
    # the live room's pages
    Row("GET", "/sessions/{published_session}/live", "live.room", {**USER_ONLY, "anonymous": 302}),
    Row("GET", "/sessions/{draft_session}/live", "live.room",
        {"anonymous": 302, "attendee": 404, "presenter": 404, "organiser": 200}),
    Row("GET", "/sessions/{published_session}/moderate", "live.moderate", STAFF_PAGE),
    Row("GET", "/sessions/{draft_session}/moderate", "live.moderate", {**STAFF_PAGE, "presenter": 404}),
    Row("GET", "/sessions/{published_session}/projector", "live.projector", STAFF_PAGE),
    Row("GET", "/sessions/{draft_session}/projector", "live.projector", {**STAFF_PAGE, "presenter": 404}),
    Row("GET", "/projects", "projects.project_list", {**USER_ONLY, "anonymous": 302}),
    Row("GET", "/projects/new", "projects.new_project", {**OWNERS(200), "anonymous": 302}),
    Row("POST", "/projects/new", "projects.new_project", {**OWNERS(422), "anonymous": 302}, form={"title": ""}),
    Row("GET", "/projects/{project}", "projects.project_page", _all(200)),
    Row("GET", "/projects/{hidden_project}", "projects.project_page", OWNER_ONLY_404(200)),
    Row("GET", "/projects/{project}/edit", "projects.edit_project", {**OWNERS(200), "anonymous": 302}),
    Row("POST", "/projects/{project}/edit", "projects.edit_project", {**OWNERS(422), "anonymous": 302},
        form={"title": ""}),
    Row("POST", "/projects/{project}/materials", "projects.upload_page", {**OWNERS(302), "anonymous": 302}),
    Row("GET", "/review", "projects.review_queue", _page_organiser_only(200)),
    Row("POST", "/materials/{pending_material}/review", "projects.review", _page_organiser_only(302),
        form={"approve": "y"}),
    Row("GET", "/materials/{pending_material}/preview.png", "projects.preview",
        {"anonymous": 302, "attendee": 404, "presenter": 200, "organiser": 200}),
    Row("GET", "/presenters/{presenter}", "projects.presenter_page", _all(200)),
    Row("GET", "/parks", "parks.park_list", _all(200)),
    Row("GET", "/parks/{park}", "parks.park_page", _all(200)),
    # managing parks in the browser: the park's own city bureau (the attendee) and organisers
    Row("GET", "/parks/manage", "parks.manage", {**PARK_OWNERS(200), "anonymous": 302}),
    Row("GET", "/parks/new", "parks.new_park", {**PARK_OWNERS(200), "anonymous": 302}),
    Row("POST", "/parks/new", "parks.new_park", {**PARK_OWNERS(422), "anonymous": 302}, form={"name_en": ""}),
    Row("GET", "/parks/{park}/edit", "parks.edit_park", {**PARK_OWNERS(200), "anonymous": 302}),
    Row("GET", "/parks/{other_park}/edit", "parks.edit_park", {**PARK_OWNERS(200, attendee=403), "anonymous": 302}),
    Row("POST", "/parks/{park}/edit", "parks.edit_park", {**PARK_OWNERS(422), "anonymous": 302},
        form={"name_en": "", "name_zh": "", "division": "130100", "kind": "high_tech_zone", "emissions_limit": "low"}),
    Row("POST", "/parks/{park}/confirm", "parks.confirm_park", {**PARK_OWNERS(302), "anonymous": 302}),
    Row("POST", "/parks/{other_park}/confirm", "parks.confirm_park", {**PARK_OWNERS(302, attendee=403), "anonymous": 302}),
    Row("GET", "/parks/{park}/plots/new", "parks.new_plot", {**PARK_OWNERS(200), "anonymous": 302}),
    Row("POST", "/parks/{other_park}/plots/new", "parks.new_plot", {**PARK_OWNERS(422, attendee=403), "anonymous": 302},
        form={"name": ""}),
    Row("GET", "/plots/{plot}/edit", "parks.edit_plot", {**PARK_OWNERS(200), "anonymous": 302}),
    Row("POST", "/plots/{other_plot}/edit", "parks.edit_plot", {**PARK_OWNERS(422, attendee=403), "anonymous": 302},
        form={"name": "", "land_use": "industrial", "status": "available"}),
    Row("POST", "/plots/{plot}/confirm", "parks.confirm_plot", {**PARK_OWNERS(302), "anonymous": 302}),
    Row("POST", "/plots/{other_plot}/confirm", "parks.confirm_plot", {**PARK_OWNERS(302, attendee=403), "anonymous": 302}),
    Row("GET", "/parks/{park}/incentives/new", "parks.new_incentive", {**PARK_OWNERS(200), "anonymous": 302}),
    Row("POST", "/parks/{other_park}/incentives/new", "parks.new_incentive",
        {**PARK_OWNERS(422, attendee=403), "anonymous": 302}, form={"kind": "tax", "rate": ""}),
    Row("GET", "/incentives/{incentive}/edit", "parks.edit_incentive", {**PARK_OWNERS(200), "anonymous": 302}),
    Row("GET", "/incentives/{other_incentive}/edit", "parks.edit_incentive",
        {**PARK_OWNERS(200, attendee=403), "anonymous": 302}),
    Row("POST", "/incentives/{incentive}/edit", "parks.edit_incentive", {**PARK_OWNERS(422), "anonymous": 302},
        form={"kind": "tax", "rate": ""}),
    Row("POST", "/incentives/{incentive}/confirm", "parks.confirm_incentive", {**PARK_OWNERS(302), "anonymous": 302}),
    Row("GET", "/parks/{park}/plan", "parks.plan_image", _all(404)),  # no plan uploaded yet
    Row("GET", "/parks/{park}/plan/edit", "parks.edit_plan", {**PARK_OWNERS(200), "anonymous": 302}),
    Row("GET", "/parks/{other_park}/plan/edit", "parks.edit_plan", {**PARK_OWNERS(200, attendee=403), "anonymous": 302}),
    Row("POST", "/parks/{park}/plan", "parks.upload_plan", {**PARK_OWNERS(422), "anonymous": 302}),  # no file sent
    Row("POST", "/parks/{other_park}/plan", "parks.upload_plan", {**PARK_OWNERS(422, attendee=403), "anonymous": 302}),
    Row("POST", "/parks/{park}/outline", "parks.save_outline", {**PARK_OWNERS(422), "anonymous": 302},
        form={"plot_id": "{plot}", "outline": "[[1, 1], [5, 1], [5, 5]]"}),  # no plan uploaded yet
    Row("POST", "/parks/{other_park}/outline", "parks.save_outline", {**PARK_OWNERS(302, attendee=403), "anonymous": 302},
        form={"plot_id": "{other_plot}", "outline": "[]"}),  # no corners: clears the (absent) outline
    Row("GET", "/parks/{park}/media/{park_photo}", "parks.media_file", _all(200)),
    Row("GET", "/parks/{park}/media/edit", "parks.edit_media", {**PARK_OWNERS(200), "anonymous": 302}),
    Row("GET", "/parks/{other_park}/media/edit", "parks.edit_media", {**PARK_OWNERS(200, attendee=403), "anonymous": 302}),
    Row("POST", "/parks/{park}/photos", "parks.upload_photo", {**PARK_OWNERS(422), "anonymous": 302}),  # no file sent
    Row("POST", "/parks/{other_park}/photos", "parks.upload_photo", {**PARK_OWNERS(422, attendee=403), "anonymous": 302}),
    Row("POST", "/parks/{park}/tour", "parks.upload_tour", {**PARK_OWNERS(422), "anonymous": 302}),
    Row("POST", "/parks/{other_park}/tour", "parks.upload_tour", {**PARK_OWNERS(422, attendee=403), "anonymous": 302}),
    Row("POST", "/parks/{park}/media/{park_photo}/remove", "parks.remove_media", {**PARK_OWNERS(302), "anonymous": 302}),
    Row("POST", "/parks/{other_park}/media/{other_park_photo}/remove", "parks.remove_media",
        {**PARK_OWNERS(302, attendee=403), "anonymous": 302}),
    Row("GET", "/parks/{park}/projects", "parks.pitched_projects", {**PARK_OWNERS(200), "anonymous": 302}),
    Row("GET", "/parks/{other_park}/projects", "parks.pitched_projects", {**PARK_OWNERS(200, attendee=403), "anonymous": 302}),
    Row("GET", "/presenters/{organiser}", "projects.presenter_page", _all(404)),
    Row("GET", "/presenters/{presenter}/photo", "projects.presenter_photo", _all(404)),  # no photo yet
    Row("GET", "/me/profile", "projects.profile", {**USER_ONLY, "anonymous": 302}),
    Row("POST", "/me/profile", "projects.profile", {**_all(422), "anonymous": 302}, form={"name": ""}),
    Row("POST", "/me/photo", "projects.profile_photo", _all(302)),
    # the lead pages
    Row("GET", "/leads", "leads.board_page", {**USER_ONLY, "anonymous": 302}),
    Row("GET", "/leads/{lead}", "leads.lead_page", {**USER_ONLY, "anonymous": 302}),  # own org / own project / all
    Row("GET", "/leads/{other_lead}", "leads.lead_page",
        {"anonymous": 302, "attendee": 404, "presenter": 404, "organiser": 200}),
    Row("POST", "/leads/{lead}/progress", "leads.progress",
        {"anonymous": 302, "attendee": 302, "presenter": 403, "organiser": 302}, form={"note": "Called them"}),
    Row("POST", "/leads/{other_lead}/progress", "leads.progress",
        {"anonymous": 302, "attendee": 404, "presenter": 403, "organiser": 302}, form={"note": "Called them"}),
    Row("POST", "/leads/{lead}/owner", "leads.set_owner",
        {"anonymous": 302, "attendee": 302, "presenter": 403, "organiser": 302}, form={"owner_id": "{attendee_id}"}),
    Row("POST", "/leads/{other_lead}/owner", "leads.set_owner",
        {"anonymous": 302, "attendee": 404, "presenter": 403, "organiser": 302}, form={"owner_id": "{other_attendee}"}),
    Row("POST", "/leads/{lead}/documents", "leads.add_document",
        {"anonymous": 302, "attendee": 302, "presenter": 403, "organiser": 302}, form={"kind": "other"}),  # no file: flashed
    Row("POST", "/leads/{other_lead}/documents", "leads.add_document",
        {"anonymous": 302, "attendee": 404, "presenter": 403, "organiser": 302}, form={"kind": "other"}),
    Row("POST", "/leads/{lead}/site-proposals", "parks.propose",
        {"anonymous": 302, "attendee": 302, "presenter": 403, "organiser": 302}, form={"plot_ids": "{plot}"}),
    Row("POST", "/leads/{other_lead}/site-proposals", "parks.propose",
        {"anonymous": 302, "attendee": 404, "presenter": 403, "organiser": 302}, form={"plot_ids": "{other_plot}"}),
    Row("POST", "/site-proposals/{proposal}/visit", "parks.record_visit",
        {"anonymous": 302, "attendee": 302, "presenter": 403, "organiser": 302}, form={"visited_on": "{today}"}),
    Row("POST", "/site-proposals/{other_proposal}/visit", "parks.record_visit",
        {"anonymous": 302, "attendee": 404, "presenter": 403, "organiser": 302}, form={"visited_on": "{today}"}),
    Row("GET", "/site-proposals/{proposal}/pdf", "parks.proposal_pdf",
        {"anonymous": 302, "attendee": 200, "presenter": 200, "organiser": 200}),
    Row("GET", "/site-proposals/{other_proposal}/pdf", "parks.proposal_pdf",
        {"anonymous": 302, "attendee": 404, "presenter": 404, "organiser": 200}),
    Row("GET", "/leads/report", "leads.report", {"anonymous": 302, "attendee": 200, "presenter": 403, "organiser": 403}),
    Row("POST", "/leads/report", "leads.report",  # nothing changed: 422
        {"anonymous": 302, "attendee": 422, "presenter": 403, "organiser": 403}),
    Row("GET", "/leads/reports", "leads.reports", _page_organiser_only(200)),
    Row("GET", "/dashboard", "leads.dashboard", _page_organiser_only(200)),
    Row("POST", "/dashboard/rates", "leads.set_rate", _page_organiser_only(302),
        form={"currency": "EUR", "cny_per_unit": "7.85"}),
    Row("POST", "/dashboard/stall-limits", "leads.set_stall_limit", _page_organiser_only(302),
        form={"stage": "follow_up", "days": "20"}),
    Row("GET", "/sessions/{published_session}/signings", "leads.signings", {**USER_ONLY, "anonymous": 302}),
    Row("GET", "/sessions/{draft_session}/signings", "leads.signings",
        {"anonymous": 302, "attendee": 404, "presenter": 404, "organiser": 200}),
    Row("POST", "/sessions/{published_session}/signings", "leads.record_signing", _page_organiser_only(302),
        form={"lead_id": "{lead}", "amount": "1", "currency": "EUR"}),  # not a signing session: flashed
    Row("GET", "/sessions/{published_session}/invitees", "leads.invitees", _page_organiser_only(200)),
    Row("GET", "/me/organisation", "leads.demand_profile",
        {"anonymous": 302, "attendee": 200, "presenter": 403, "organiser": 403}),
    Row("GET", "/projects/{project}/meetings/new", "meetings.book_page",
        {"anonymous": 302, "attendee": 200, "presenter": 403, "organiser": 403}),
    Row("POST", "/projects/{project}/meetings/new", "meetings.book_page",
        {"anonymous": 302, "attendee": 302, "presenter": 403, "organiser": 403},
        form={"slot": "{free_slot}", "client_id": "perm-meeting-page-0001"}),
    Row("GET", "/meetings", "meetings.my_meetings", {"anonymous": 302, "attendee": 200, "presenter": 200, "organiser": 200}),
    Row("GET", "/meetings/{meeting}", "meetings.meeting_page",
        {"anonymous": 302, "attendee": 200, "presenter": 200, "organiser": 200}),
    Row("GET", "/meetings/{other_meeting}", "meetings.meeting_page",
        {"anonymous": 302, "attendee": 404, "presenter": 200, "organiser": 200}),
    Row("GET", "/meetings/{meeting}.ics", "meetings.meeting_ics",
        {"anonymous": 302, "attendee": 200, "presenter": 200, "organiser": 200}),
    Row("GET", "/meetings/{other_meeting}.ics", "meetings.meeting_ics",
        {"anonymous": 302, "attendee": 404, "presenter": 200, "organiser": 200}),
    Row("POST", "/meetings/{meeting}/accept", "meetings.accept",
        {"anonymous": 302, "attendee": 403, "presenter": 302, "organiser": 302}),
    Row("POST", "/meetings/{meeting}/decline", "meetings.decline",
        {"anonymous": 302, "attendee": 403, "presenter": 302, "organiser": 302}),
    Row("POST", "/meetings/{meeting}/cancel", "meetings.cancel",
        {"anonymous": 302, "attendee": 302, "presenter": 302, "organiser": 302}),
    Row("POST", "/meetings/settings", "meetings.save_settings",
        {"anonymous": 302, "attendee": 403, "presenter": 302, "organiser": 403}, form={"auto_accept": "on"}),
    Row("GET", "/fairs/{published}/meeting-hours", "meetings.meeting_days",
        {"anonymous": 302, "attendee": 403, "presenter": 200, "organiser": 200}),
    Row("POST", "/fairs/{published}/meeting-hours", "meetings.meeting_days",
        {"anonymous": 302, "attendee": 403, "presenter": 403, "organiser": 302}, form={"day": "2027-03-02", "start": "09:00", "end": "17:00"}),
    Row("POST", "/meeting-hours/{hours}/availability", "meetings.add_availability",
        {"anonymous": 302, "attendee": 403, "presenter": 302, "organiser": 403}, form={"day": "2027-03-02", "start": "10:00", "end": "12:00"}),
    Row("POST", "/me/organisation", "leads.demand_profile",
        {"anonymous": 302, "attendee": 302, "presenter": 403, "organiser": 403}, form={"demand_sectors": "ice_snow"}),
]


_WORLD = DataSnapshot()


@pytest.fixture
def world(app):
    """One of each role, a published fair (the attendee registered) and a draft, each with a session, and one
    of everything else a route may name. Built through the services once per process (a second), then put
    back for each test from its snapshot (the same rows and ids, a few milliseconds)."""
    if _WORLD.usable():
        kept = _WORLD.restore(app)
        return {"users": {role: db.session.get(User, user_id) for role, user_id in kept["users"].items()},
                "ids": dict(kept["ids"])}
    made = _build_world()
    _WORLD.take(app, users={role: user.id for role, user in made["users"].items()}, ids=dict(made["ids"]))
    return made


def _build_world():
    organiser = make_organiser()
    attendee = make_user("attendee", organisation="Shijiazhuang Commerce Bureau")
    other_attendee = make_user("attendee", organisation="Zhangjiakou Commerce Bureau")
    presenter = make_presenter()
    published = make_fair(organiser, title="Europe fair")
    draft = make_fair(organiser, title="Draft fair", publish=False)
    published_session = make_session(published, organiser, presenter_ids=[presenter.id])
    draft_session = make_session(draft, organiser)
    fairs.register(attendee, published.id)
    project = make_project(presenter, title="Membrane water treatment")
    hidden_project = make_project(presenter, title="Not on an agenda yet")
    other_project = make_project(make_presenter(), title="Someone else's rink blanket")
    fairs.update_session(organiser, published_session, {"project_ids": [project.id]})
    pending = projects.upload_material(presenter, project.id, io.BytesIO(samples.pdf_bytes("v1")), "deck.pdf")
    approved = projects.upload_material(presenter, project.id, io.BytesIO(samples.pdf_bytes("brief")), "brief.pdf")
    projects.review_material(organiser, approved.id, "approve", None)
    question = live.ask(other_attendee, published_session.id, "Is there a Chinese partner yet?", "perm-asked-0001").value
    attendee_note = make_notification(attendee, "Welcome")
    db.session.commit()
    lead_id = live.express_interest(attendee, published_session.id, {
        "project_id": project.id, "level": "meeting", "client_id": "perm-world-lead-01"}).value["lead"]["id"]
    other_project_for_lead = make_project(make_presenter(), title="Hydrogen buses")
    fairs.update_session(organiser, published_session, {"project_ids": [project.id, other_project_for_lead.id]})
    other_lead_id = live.express_interest(other_attendee, published_session.id, {
        "project_id": other_project_for_lead.id, "level": "info", "client_id": "perm-world-lead-02"}).value["lead"]["id"]
    series_id = fair_series.create_series(organiser, {
        "title": "Cloud fair", "rrule": "FREQ=MONTHLY;BYDAY=2TH", "local_start": "15:00", "minutes": 240,
        "themes": [{"theme": "Europe", "focus_countries": ["DE"], "focus_sectors": ["new_materials"]}]}).id
    invitee = make_user("attendee", organisation="Tangshan Commerce Bureau", password=None)
    invitation_token, _ = account_tokens.issue(invitee, account_tokens.INVITATION, timedelta(days=1), actor=organiser)
    mail_id = mail.queue(invitee.email, "invitation", "en", person=invitee, inviter=organiser,
                         expires_at=published.starts_at, link="http://127.0.0.1/invitations/x")
    reset_token, _ = account_tokens.issue(attendee, account_tokens.PASSWORD_RESET, timedelta(hours=1))
    duplicate = find_or_create_organisation("Shijiazhuang Bureau of Commerce", kind="city_bureau",
                                            city="Shijiazhuang", country="CN", role="attendee")
    db.session.commit()
    mail_id = mail_id.id
    lead_document = lead_services.add_document(attendee, lead_id, io.BytesIO(samples.pdf_bytes("mou")), "mou.pdf", "other")
    other_lead_document = lead_services.add_document(other_attendee, other_lead_id, io.BytesIO(samples.pdf_bytes("x")), "x.pdf", "other")
    park = parks.create_park(attendee, {"name": "Shijiazhuang High-tech Zone", "division": "130100", "kind": "high_tech_zone"})
    other_park = parks.create_park(other_attendee, {"name": "Zhangjiakou High-tech Zone", "division": "130700",
                                                    "kind": "high_tech_zone"})
    plot_body = {"name": "A-1", "area_mu": "100", "land_use": "industrial", "power_kva": 800}
    plot, other_plot = parks.add_plot(attendee, park.id, plot_body), parks.add_plot(other_attendee, other_park.id, plot_body)
    # Site proposals written straight (the PDF is the proposals' own tests'): each on its lead's document.
    proposal = SiteProposal(lead_id=lead_id, document_id=lead_document.id, plot_ids=[plot.id], currency="EUR",
                            costs=[], sent_by_id=attendee.id)
    other_proposal = SiteProposal(lead_id=other_lead_id, document_id=other_lead_document.id, plot_ids=[other_plot.id],
                                  currency="CNY", costs=[], sent_by_id=other_attendee.id)
    db.session.add_all([proposal, other_proposal])
    db.session.commit()
    incentive = parks.add_incentive(attendee, park.id, {"kind": "tax", "rate": "50"})
    other_incentive = parks.add_incentive(other_attendee, other_park.id, {"kind": "tax", "rate": "50"})
    parks.put_site_needs(presenter, project.id, {"land_mu": "80", "power_kva": 800})
    park_photo = park_media.add_media(attendee, park.id, "photo", io.BytesIO(samples.png_bytes()), "gate.png")
    other_park_photo = park_media.add_media(other_attendee, other_park.id, "photo", io.BytesIO(samples.jpeg_bytes()), "g.jpg")
    slots = meetings.meeting_slots(attendee, project.id)
    meeting, _ = meetings.book(attendee, {"project_id": project.id, "starts_at": slots[0]["starts_at"],
                                          "client_id": "perm-meeting-0001"})
    free_slot = next(s["starts_at"] for s in slots if s["starts_at"] >= meeting.ends_at)
    other_meeting, _ = meetings.book(other_attendee, {"project_id": project.id, "starts_at": free_slot + timedelta(hours=1),
                                                      "client_id": "perm-meeting-0002"})
    signup_token = "perm-signup-confirm-token-0001"
    db.session.add(SignupRequest(email="asker@example.cn", name="Asker", organisation_name="Tangshan Steel Park",
                                 organisation_kind="park", division_code="130200",
                                 confirm_hash=account_tokens.hash_token(signup_token),
                                 confirm_expires_at=utcnow() + timedelta(days=1)))
    waiting = SignupRequest(email="waiter@example.cn", name="Waiter", status="pending",
                            organisation_id=attendee.organisation_id, organisation_name=attendee.organisation.name)
    db.session.add(waiting)
    fair_invitation_token = "perm-fair-invitation-token-0001"
    db.session.add(FairInvitation(fair_id=published.id, organisation_id=other_attendee.organisation_id,
                                  user_id=other_attendee.id, token_hash=account_tokens.hash_token(fair_invitation_token)))
    db.session.commit()
    day = (utcnow() + timedelta(days=20)).replace(hour=1, minute=0, second=0, microsecond=0)
    hours = meetings.open_hours(organiser, published, day, day + timedelta(hours=8))
    availability = meetings.publish_availability(presenter, hours, day + timedelta(hours=5), day + timedelta(hours=6))
    return {
        "users": {"attendee": attendee, "presenter": presenter, "organiser": organiser},
        "ids": {
            "published": published.id,
            "draft": draft.id,
            "published_session": published_session.id,
            "draft_session": draft_session.id,
            "presenter": presenter.id,
            "other_attendee": other_attendee.id,
            "attendee_email": attendee.email,
            "attendee_calendar": attendee.calendar_token,
            "organiser": organiser.id,
            "project": project.id,
            "hidden_project": hidden_project.id,
            "other_project": other_project.id,
            "pending_material": pending.id,
            "approved_material": approved.id,
            "question": question["id"],
            "attendee_notification": attendee_note.id,
            "attendee_id": attendee.id,
            "series": series_id,
            "attendee_organisation": attendee.organisation_id,
            "other_organisation": other_attendee.organisation_id,
            "lead": lead_id,
            "other_lead": other_lead_id,
            "lead_document": lead_document.id,
            "other_lead_document": other_lead_document.id,
            "invitee": invitee.id,
            "invitation_token": invitation_token,
            "mail": mail_id,
            "reset_token": reset_token,
            "duplicate_organisation": duplicate.id,
            "park": park.id,
            "other_park": other_park.id,
            "plot": plot.id,
            "other_plot": other_plot.id,
            "proposal": proposal.id,
            "other_proposal": other_proposal.id,
            "today": utcnow().date().isoformat(),
            "incentive": incentive.id,
            "other_incentive": other_incentive.id,
            "park_photo": park_photo.id,
            "other_park_photo": other_park_photo.id,
            "meeting": meeting.id,
            "other_meeting": other_meeting.id,
            "free_slot": free_slot.isoformat(),
            "hours": hours.id,
            "availability": availability.id,
            "signup_token": signup_token,
            "signup": waiting.id,
            "fair_invitation_token": fair_invitation_token,
            "hours_from": (day + timedelta(hours=1)).isoformat(),
            "hours_to": (day + timedelta(hours=3)).isoformat(),
            "new_hours_from": (day + timedelta(days=1)).isoformat(),
            "new_hours_to": (day + timedelta(days=1, hours=8)).isoformat(),
        },
    }


def _fill(value, ids):
    if isinstance(value, str):
        whole = re.fullmatch(r"\{(\w+)\}", value)
        if whole and isinstance(ids[whole.group(1)], int):
            return ids[whole.group(1)]  # a bare id stays a number in JSON bodies
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def browser_for(app, user):
    """A client with a CSRF token in its session, logged in as `user` unless None."""
    client = app.test_client()
    token = _csrf(client.get("/login").text)
    if user is not None:
        response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302, response.text
    return client, token


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", API, ids=lambda r: r.id)
def test_api_route_answers_each_role(app, auth, world, row, role):
    ids = world["ids"]
    user = world["users"].get(role)
    headers = auth(user) if user else {}

    response = app.test_client().open(
        _fill(row.path, ids), method=row.method, headers=headers, json=_fill(row.json, ids)
    )

    assert response.status_code == row.expect[role], response.get_data(as_text=True)
    if response.status_code >= 400:
        assert set(response.get_json()["error"]) >= {"code", "message"}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", PAGES, ids=lambda r: r.id)
def test_page_answers_each_role(app, world, row, role):
    ids = world["ids"]
    client, token = browser_for(app, world["users"].get(role))
    kwargs = {}
    if row.method == "POST":
        kwargs["data"] = {**_fill(row.form, ids), "csrf_token": token}

    response = client.open(_fill(row.path, ids), method=row.method, **kwargs)

    assert response.status_code == row.expect[role], response.get_data(as_text=True)[:500]


#: The development mail page where DEV_MAIL_PAGE is on (development's default): organisers only.
DEV_PAGES = [
    Row("GET", "/dev/mail", "notifications.dev_mail", _page_organiser_only(200)),
    Row("GET", "/dev/mail/{mail}", "notifications.dev_mail_message", _page_organiser_only(200)),
    Row("GET", "/dev/mail/{mail}/html", "notifications.dev_mail_html", _page_organiser_only(200)),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", DEV_PAGES, ids=lambda r: r.id)
def test_development_page_answers_each_role_when_switched_on(app, world, row, role):
    app.config["DEV_MAIL_PAGE"] = True
    client, _token = browser_for(app, world["users"].get(role))

    response = client.open(_fill(row.path, world["ids"]), method=row.method)

    assert response.status_code == row.expect[role], response.get_data(as_text=True)[:500]


@pytest.mark.parametrize("row", [r for r in PAGES if r.expect["anonymous"] == 302 and r.expect["organiser"] != 302],
                         ids=lambda r: r.id)
def test_anonymous_visitor_of_a_member_page_is_sent_to_login(app, world, row):
    client, token = browser_for(app, None)
    kwargs = {"data": {"csrf_token": token}} if row.method == "POST" else {}

    response = client.open(_fill(row.path, world["ids"]), method=row.method, **kwargs)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_every_route_is_in_the_permission_table():
    app = create_app(make_test_config())
    table = {(row.endpoint, row.method) for row in API + PAGES} | ALLOW_LIST
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }

    assert routes - table == set(), "routes without a row in the permission table"
    assert table - routes == set(), "rows for routes that no longer exist"


def test_every_view_declares_its_audience():
    app = create_app(make_test_config())
    undeclared = sorted(
        endpoint for endpoint, view in app.view_functions.items()
        if endpoint not in {"static", "api-docs.openapi_json"} and getattr(view, "access", None) is None
    )
    assert undeclared == []


@pytest.mark.own_app
def test_a_view_without_an_audience_is_refused_to_everyone(app):
    @app.route("/forgotten")
    def forgotten():
        return "secret"

    organiser_browser, _ = browser_for(app, make_organiser())
    for client in (organiser_browser, app.test_client()):
        response = client.get("/forgotten")
        assert response.status_code == 403
        assert "secret" not in response.text


# ---------------------------------------------------------------- another organisation's things


@pytest.mark.parametrize("role", ["attendee", "presenter"])
def test_non_organiser_cannot_change_a_user_of_another_organisation(app, auth, world, role):
    target_id = world["ids"]["other_attendee"]
    target = db.session.get(User, target_id)
    email, name = target.email, target.name

    response = app.test_client().patch(
        f"/api/v1/users/{target_id}", headers=auth(world["users"][role]), json={"name": "Hijacked", "role": "organiser"}
    )

    assert response.status_code == 403
    assert email not in response.get_data(as_text=True)
    db.session.expire_all()
    assert (target.name, target.role) == (name, "attendee")


def test_non_organiser_cannot_change_even_their_own_role(app, auth, world):
    attendee = world["users"]["attendee"]

    response = app.test_client().patch(
        f"/api/v1/users/{attendee.id}", headers=auth(attendee), json={"role": "organiser"}
    )

    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.scalar(select(User.role).where(User.id == attendee.id)) == "attendee"


def test_someone_elses_calendar_feed_needs_their_current_token(app, world):
    attendee = world["users"]["attendee"]
    old_token = attendee.calendar_token
    client, csrf = browser_for(app, attendee)
    assert client.post("/me/calendar", data={"csrf_token": csrf}).status_code == 302

    stranger = app.test_client()
    assert stranger.get(f"/calendar/{old_token}.ics").status_code == 404
    db.session.expire_all()
    new_token = db.session.get(User, attendee.id).calendar_token
    assert new_token != old_token
    assert stranger.get(f"/calendar/{new_token}.ics").status_code == 200


def test_users_list_is_not_readable_by_attendee_even_filtered_to_own_organisation(app, auth, world):
    attendee = world["users"]["attendee"]

    response = app.test_client().get(
        f"/api/v1/users?organisation_id={attendee.organisation_id}", headers=auth(attendee)
    )

    assert response.status_code == 403
    assert attendee.email not in response.get_data(as_text=True)


def test_registrations_list_shows_nobody_to_a_registered_attendee(app, auth, world):
    attendee = world["users"]["attendee"]

    response = app.test_client().get(f"/api/v1/fairs/{world['ids']['published']}/registrations", headers=auth(attendee))

    assert response.status_code == 403
    assert "items" not in response.get_json()


def test_draft_fair_is_not_listed_for_non_organisers(app, auth, world):
    for role in ("attendee", "presenter"):
        listing = app.test_client().get("/api/v1/fairs?status=draft", headers=auth(world["users"][role])).get_json()
        assert (listing["total"], listing["items"]) == (0, [])
    organiser_listing = app.test_client().get("/api/v1/fairs?status=draft", headers=auth(world["users"]["organiser"]))
    assert [f["id"] for f in organiser_listing.get_json()["items"]] == [world["ids"]["draft"]]
