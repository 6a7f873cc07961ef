"""The projects API under /api/v1: projects, material upload, review, download; profile photos."""

from __future__ import annotations

from flask import request, send_file
from flask_babel import gettext
from flask_login import current_user

from ..accounts.access import PUBLIC, USER
from ..accounts.schemas import UserSchema
from ..core.api_helpers import ApiBlueprint, caller
from ..errors import ValidationFailed
from ..schemas import BINARY, read_page
from . import services, storage
from .schemas import (
    MaterialList,
    MaterialPage,
    MaterialSchema,
    PhotoForm,
    ProjectPage,
    ProjectPatchSchema,
    ProjectQuery,
    ProjectSchema,
    ProjectWriteSchema,
    ReviewSchema,
    UploadForm,
)

api = ApiBlueprint("projects_api", __name__, url_prefix="/api/v1", description="Projects and pitch material")


@api.operation("GET /projects", USER, query=ProjectQuery, returns=ProjectPage)
def list_projects(args):
    """Projects the caller may see (organisers: all; presenters: their own and those on published agendas)."""
    return read_page(args, services.list_projects, current_user, owner_id=args["owner_id"], sector=args["sector"],
                     q=args["q"])


@api.operation("POST /projects", "presenter", "organiser", body=ProjectWriteSchema, returns=ProjectSchema, status=201)
def create_project(body):
    """Create a project (a presenter's own; organisers may name the presenter)."""
    return services.create_project(current_user, body)


@api.operation("GET /projects/<int:project_id>", PUBLIC, returns=ProjectSchema)
def get_project(project_id):
    """One project (public once it is on a published fair's agenda)."""
    return services.get_project(caller(), project_id)


@api.operation("PATCH /projects/<int:project_id>", "presenter", "organiser", body=ProjectPatchSchema,
               returns=ProjectSchema)
def update_project(body, project_id):
    """Change a project (its presenter, or an organiser)."""
    return services.update_project(current_user, project_id, body)


@api.operation("GET /projects/<int:project_id>/materials", USER, returns=MaterialList)
def list_materials(project_id):
    """Material of a project that the caller may see."""
    project = services.get_project(current_user, project_id)
    return {"items": services.list_materials(current_user, project)}


@api.operation("POST /projects/<int:project_id>/materials", "presenter", "organiser", returns=MaterialSchema,
               status=201, errors=[409, 415])
@api.doc(requestBody={"required": True, "content": {"multipart/form-data": {"schema": UploadForm}}})
@storage.accepts_upload
def upload_material(project_id):
    """Upload pitch material (multipart `file`; `replaces` for a new version). 413 too big, 415 wrong type."""
    services.editable_project(current_user, project_id)  # who may, before what was sent
    upload = storage.sent_file()
    replaces = request.form.get("replaces")
    if replaces not in (None, ""):
        if not replaces.isdigit():
            raise ValidationFailed({"replaces": gettext("Give the id of the material this replaces.")})
        replaces = int(replaces)
    else:
        replaces = None
    return services.upload_material(current_user, project_id, upload.stream, upload.filename, replaces=replaces)


@api.operation("GET /materials/<int:material_id>", USER, returns=MaterialSchema)
def get_material(material_id):
    return services.get_material(current_user, material_id)


@api.operation("GET /materials/<int:material_id>/versions", USER, returns=MaterialList)
def material_versions(material_id):
    """Every version of the document (its presenter and organisers; others see only the current one)."""
    material = services.get_material(current_user, material_id)
    return {"items": services.document_versions(current_user, material)}


@api.operation("GET /materials/<int:material_id>/download", USER)
@api.alt_response(200, schema=BINARY, content_type="application/octet-stream", success=True, description="the file, in its own type")
def download_material(material_id):
    """The file, as an attachment under its original name; the content hash is the ETag."""
    material = services.get_material(current_user, material_id)
    return attachment(material.sha256, material.mime, material.original_name)


def attachment(sha256: str, mime: str, name: str, *, inline: bool = False):
    response = send_file(
        storage.path_for(sha256),
        mimetype=mime,
        as_attachment=not inline,
        download_name=name,
        etag=sha256,
        conditional=True,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@api.operation("GET /materials/review-queue", "organiser", query=ProjectQuery, returns=MaterialPage)
def review_queue(args):
    """Material waiting for review, oldest first."""
    return read_page(args, services.review_queue, current_user)


@api.operation("POST /materials/<int:material_id>/review", "organiser", body=ReviewSchema, returns=MaterialSchema,
               errors=[409])
def review_material(body, material_id):
    """Approve or reject (`{"decision": "approve"|"reject", "note"}`); the presenter is notified."""
    return services.review_material(current_user, material_id, body["decision"], body["note"])


@api.operation("PUT /me/photo", USER, returns=UserSchema, errors=[415])
@api.doc(requestBody={"required": True, "content": {"multipart/form-data": {"schema": PhotoForm}}})
@storage.accepts_upload
def put_photo():
    """Replace one's profile photo (PNG or JPEG)."""
    upload = storage.sent_file()
    return services.set_photo(current_user, upload.stream, upload.filename)



