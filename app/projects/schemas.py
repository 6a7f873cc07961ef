from marshmallow import Schema, fields

from ..schemas import PageQuery, page_of


class ProjectWriteSchema(Schema):
    title = fields.String(required=True)
    summary = fields.String()
    sector = fields.String(required=True)
    country = fields.String(required=True)
    investment_amount = fields.Raw(allow_none=True, metadata={"description": "decimal string, e.g. \"12500000.00\""})
    currency = fields.String(allow_none=True, metadata={"description": "ISO 4217"})
    owner_id = fields.Integer(metadata={"description": "organisers only: the presenter who owns the project"})


class ProjectPatchSchema(Schema):
    title = fields.String()
    summary = fields.String()
    sector = fields.String()
    country = fields.String()
    investment_amount = fields.Raw(allow_none=True)
    currency = fields.String(allow_none=True)


def _amount(project):
    return None if project.investment_amount is None else f"{project.investment_amount:.2f}"


class ProjectSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    summary = fields.String()
    sector = fields.String()
    country = fields.String()
    investment_amount = fields.Function(_amount)
    currency = fields.String(allow_none=True)
    owner_id = fields.Integer()
    owner = fields.Function(lambda p: {"id": p.owner.id, "name": p.owner.name})
    created_at = fields.DateTime()


ProjectPage = page_of(ProjectSchema, "ProjectPage")


class ProjectQuery(PageQuery):
    owner_id = fields.Integer(load_default=None)
    sector = fields.String(load_default=None)


class MaterialSchema(Schema):
    id = fields.Integer()
    project_id = fields.Integer()
    document_id = fields.Integer()
    version = fields.Integer()
    original_name = fields.String()
    kind = fields.String()
    mime = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    status = fields.String()
    review_note = fields.String(allow_none=True)
    reviewed_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    download_url = fields.Function(lambda m: f"/api/v1/materials/{m.id}/download")


MaterialPage = page_of(MaterialSchema, "MaterialPage")


class MaterialList(Schema):
    items = fields.List(fields.Nested(MaterialSchema))


class UploadForm(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})
    replaces = fields.Integer(metadata={"description": "id of a material this upload is a new version of"})


class ReviewSchema(Schema):
    decision = fields.String(required=True, metadata={"description": "approve or reject"})
    note = fields.String(load_default=None)


class ProfilePatchSchema(Schema):
    name = fields.String()
    bio = fields.String(allow_none=True)
    languages = fields.List(fields.String())
    timezone = fields.String()
    locale = fields.String()


class PhotoForm(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})
