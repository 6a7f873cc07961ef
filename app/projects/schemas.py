from marshmallow import EXCLUDE, Schema, fields

from marshmallow import validate

from ..bounds import Id
from ..core.api_helpers import bilingual_read, bilingual_write, list_of
from ..reference.services import SECTOR_CODE, country_codes, currency_codes
from ..schemas import PageQuery, matching, one_of, page_of


class ProjectWriteSchema(bilingual_write("title", "summary")):
    sector = matching(SECTOR_CODE, required=True, metadata={"description": "a known sector's code (GET /sectors)"})
    country = one_of(country_codes(), required=True)
    investment_amount = fields.Raw(allow_none=True, metadata={"description": "decimal string, e.g. \"12500000.00\""})
    currency = one_of(currency_codes(), allow_none=True, metadata={"description": "ISO 4217"})
    owner_id = Id(metadata={"description": "organisers only: the presenter who owns the project"})


class ProjectPatchSchema(bilingual_write("title", "summary", described=False)):
    sector = matching(SECTOR_CODE, metadata={"description": "a known sector's code (GET /sectors)"})
    country = one_of(country_codes())
    investment_amount = fields.Raw(allow_none=True, metadata={"description": "decimal string, e.g. \"12500000.00\""})
    currency = one_of(currency_codes(), allow_none=True, metadata={"description": "ISO 4217"})


def _amount(project):
    return None if project.investment_amount is None else f"{project.investment_amount:.2f}"


class ProjectSchema(bilingual_read("title", "summary")):
    sector = fields.String()
    country = fields.String()
    investment_amount = fields.Function(_amount)
    currency = fields.String(allow_none=True)
    owner_id = fields.Integer()
    owner = fields.Function(lambda p: {"id": p.owner.id, "name": p.owner.name})
    created_at = fields.DateTime()


ProjectPage = page_of(ProjectSchema, "ProjectPage")


class ProjectQuery(PageQuery):
    q = fields.String(load_default=None, validate=validate.Length(max=200),
                      metadata={"description": "words in the title or summary, in either language"})
    lang = fields.String(load_default=None, validate=validate.OneOf(("zh", "en")),
                         metadata={"description": "the language of `title`/`summary` in the answer"})
    owner_id = Id(load_default=None)
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


MaterialList = list_of(MaterialSchema, "MaterialList", total=False)


class UploadForm(Schema):
    """Read by the view: other form fields are ignored."""

    class Meta:
        unknown = EXCLUDE

    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})
    replaces = Id(metadata={"description": "id of a material this upload is a new version of"})


class ReviewSchema(Schema):
    decision = fields.String(required=True, metadata={"description": "approve or reject"})
    note = fields.String(load_default=None)


class PhotoForm(Schema):
    """Read by the view: other form fields are ignored."""

    class Meta:
        unknown = EXCLUDE

    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})
