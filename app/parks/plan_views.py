"""A park's master plan and its plots' outlines over the API (the pages are in `manage_views`).
The same services as the plan editor: `services.set_plan` (the upload rules) and
`services.set_outline` (3 to 200 corners, each on the image), so both answer with the same words."""

from __future__ import annotations

from flask import url_for
from flask_login import current_user
from marshmallow import EXCLUDE, Schema, fields

from ..accounts.access import PUBLIC
from ..projects import storage
from . import services
from .api import MANAGERS, api

_CORNER = {"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 1_000_000}, "minItems": 2, "maxItems": 2,
           "description": "[x, y] in the image's pixels: x to the right, y down from the top-left corner"}


class PlotOutline(Schema):
    id = fields.Integer()
    name = fields.String()
    status = fields.String()
    outline = fields.Raw(metadata={"type": "array", "items": _CORNER, "nullable": True,
                                   "description": "the plot's corners on the plan; null when not drawn"})


def _image(park):
    if not park.plan_sha256:
        return None
    return url_for("parks.plan_image", park_id=park.id, v=park.plan_sha256[:12])


class PlanSchema(Schema):
    park_id = fields.Integer(attribute="id")
    image = fields.Function(_image, metadata={"type": "string", "nullable": True,
                                              "description": "the plan image's address; null before one is uploaded"})
    mime = fields.String(attribute="plan_mime", allow_none=True)
    width = fields.Integer(attribute="plan_width", allow_none=True, metadata={"description": "pixels"})
    height = fields.Integer(attribute="plan_height", allow_none=True, metadata={"description": "pixels"})
    plots = fields.List(fields.Nested(PlotOutline))


class OutlineBody(Schema):
    outline = fields.Raw(required=True, allow_none=True, metadata={
        "type": "array", "items": _CORNER, "maxItems": services.MAX_OUTLINE_POINTS, "nullable": True,
        "description": "3 to 200 corners, each on the plan; null or [] removes the outline"})


class PlanUpload(Schema):
    """Read by the view: other form fields are ignored."""

    class Meta:
        unknown = EXCLUDE

    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary", "description": "a PNG or JPEG image"})


@api.operation("GET /parks/<int:park_id>/plan", PUBLIC, returns=PlanSchema)
def get_plan(park_id):
    """The park's master plan: the image's address and size, and every plot with its outline."""
    return services.get_park(park_id)


@api.operation("PUT /parks/<int:park_id>/plan", *MANAGERS, returns=PlanSchema, errors=[413, 415])
@api.doc(requestBody={"required": True, "content": {"multipart/form-data": {"schema": PlanUpload}}})
@storage.accepts_upload
def put_plan(park_id):
    """Upload the park's master plan (multipart `file`, PNG or JPEG by content); outlines that no
    longer fit a new image's size are dropped."""
    services.managed_park(current_user, park_id)  # who may, before what was sent
    upload = storage.sent_file()
    return services.set_plan(current_user, park_id, upload.stream, upload.filename)


@api.operation("PUT /plots/<int:plot_id>/outline", *MANAGERS, body=OutlineBody, returns=PlotOutline)
def put_outline(body, plot_id):
    """Draw a plot on its park's plan (or remove its outline with null or [])."""
    return services.set_outline(current_user, plot_id, body["outline"])
