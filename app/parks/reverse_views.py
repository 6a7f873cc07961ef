"""The reverse view (pitched projects that fit a park's vacant plots): the management page and the
API. The reads are `app/parks/reverse.py`, with the matcher's own filters and score."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user
from marshmallow import Schema, fields, validate

from ..accounts.access import allow
from ..bounds import Int
from ..fairs.schemas import PlainProjectBrief
from ..schemas import LANG_CODES, text_out
from . import bp, reverse
from .api import MANAGERS, api
from .schemas import ParkBrief, PlotSchema, Reason
from .views import _labels


class PitchedQuery(Schema):
    limit = Int(1, reverse.MAX_LIMIT, load_default=50)
    lang = fields.String(load_default=None, validate=validate.OneOf(LANG_CODES))


class PitchedProjectBrief(PlainProjectBrief):
    """The project a reverse match names (under its own name in the OpenAPI document)."""


class PitchedSession(Schema):
    id = fields.Integer()
    fair_id = fields.Integer()
    title = text_out("title")
    starts_at = fields.DateTime()
    status = fields.String()


class PitchedProject(Schema):
    project = fields.Nested(PitchedProjectBrief)
    plot = fields.Nested(PlotSchema, metadata={"description": "the park's best available plot for the project"})
    score = fields.Float(metadata={"description": "0 to 100"})
    reasons = fields.List(fields.Nested(Reason))
    gaps = fields.List(fields.String())
    sessions = fields.List(fields.Nested(PitchedSession), metadata={"description": "where it is pitched"})


class PitchedList(Schema):
    park = fields.Nested(ParkBrief)
    items = fields.List(fields.Nested(PitchedProject))
    pitched = fields.Integer(metadata={"description": "pitched projects with site needs, fitting or not"})


@api.operation("GET /parks/<int:park_id>/pitched-projects", *MANAGERS, query=PitchedQuery, returns=PitchedList)
def pitched_projects_api(args, park_id):
    """Pitched projects (on a published fair's agenda, with site needs) that fit the park's vacant
    plots, best first, with the park's best plot for each: the park's organisation and organisers."""
    return reverse.pitched_projects(current_user, park_id, limit=args["limit"])


@bp.route("/parks/<int:park_id>/projects")
@allow(*MANAGERS)
def pitched_projects(park_id: int):
    answer = reverse.pitched_projects(current_user, park_id, limit=reverse.MAX_LIMIT)
    return render_template("parks/pitched.html", park=answer["park"], items=answer["items"],
                           pitched=answer["pitched"], labels=_labels())
