"""A park's photos and MP4 tour: the management page, the public file, and the API under /api/v1.
The services are `app/parks/media.py` (the upload rules of project material)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired
from marshmallow import EXCLUDE, Schema, fields
from wtforms import StringField, SubmitField
from wtforms.validators import Length, Optional

from ..accounts.access import PUBLIC, allow
from ..core.api_helpers import list_of
from ..errors import Conflict, ServiceError, TooLarge, UnsupportedType, ValidationFailed
from ..extensions import db
from ..forms import Form
from ..projects import storage
from ..projects.api import attachment
from . import bp, media, services
from .api import MANAGERS, api
from .views import _labels


# ---------------------------------------------------------------- forms and bodies


class PhotoUploadForm(Form):
    file = FileField(_l("Photo (PNG or JPEG)"), validators=[FileRequired()], id="photo-file")
    caption = StringField(_l("Caption (what the photo shows)"), validators=[Optional(), Length(max=media.MAX_CAPTION)])
    submit = SubmitField(_l("Add the photo"))


class TourUploadForm(Form):
    file = FileField(_l("Video tour (MP4)"), validators=[FileRequired()], id="tour-file")
    submit = SubmitField(_l("Upload the tour"))


class RemoveForm(Form):
    submit = SubmitField(_l("Remove"))


class PhotoBody(Schema):
    """Read by the view: other form fields are ignored."""

    class Meta:
        unknown = EXCLUDE

    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary", "description": "a PNG or JPEG image"})
    caption = fields.String(metadata={"description": "what the photo shows (at most 200 characters)", "maxLength": 200})


class TourBody(Schema):
    """Read by the view: other form fields are ignored."""

    class Meta:
        unknown = EXCLUDE

    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary", "description": "an MP4 video"})


class CaptionBody(Schema):
    caption = fields.String(required=True, allow_none=True, metadata={"maxLength": 200})


class MediaSchema(Schema):
    id = fields.Integer()
    park_id = fields.Integer()
    kind = fields.String(metadata={"enum": list(media.KINDS)})
    original_name = fields.String()
    mime = fields.String(metadata={"enum": ["image/png", "image/jpeg", "video/mp4"]})
    size = fields.Integer()
    sha256 = fields.String()
    caption = fields.String()
    created_at = fields.DateTime()
    url = fields.Function(lambda m: url_for("parks.media_file", park_id=m.park_id, media_id=m.id, v=m.sha256[:12]),
                          metadata={"type": "string", "description": "the file itself (public, like the park)"})


MediaList = list_of(MediaSchema, "MediaList", total=False)


# ---------------------------------------------------------------- the public file


@bp.route("/parks/<int:park_id>/media/<int:media_id>")
@allow(PUBLIC)
def media_file(park_id: int, media_id: int):
    """A park's photo or tour (public, like the park), in the type its content was sniffed as, with
    nosniff; ranges are answered, so a video can be sought."""
    item = media.get_media(park_id, media_id)
    return attachment(item.sha256, item.mime, media.download_name(item), inline=True)


# ---------------------------------------------------------------- the management page


def _page(park, problems=(), status: int = 200, photo_form=None, tour_form=None):
    return render_template("parks/media_form.html", park=park, photos=media.photos(park.id), tour=media.tour(park.id),
                           photo_form=photo_form or PhotoUploadForm(), tour_form=tour_form or TourUploadForm(),
                           remove=RemoveForm(), problems=list(problems), max_photos=media.MAX_PHOTOS,
                           labels=_labels()), status


def _messages(exc: ServiceError) -> list[str]:
    if isinstance(exc, ValidationFailed):
        return [m for ms in exc.fields.values() for m in ms]
    return [exc.message]


@bp.route("/parks/<int:park_id>/media/edit")
@allow(*MANAGERS)
def edit_media(park_id: int):
    return _page(services.managed_park(current_user, park_id))


def _upload(park_id: int, kind: str, form, done: str):
    park = services.managed_park(current_user, park_id)
    forms = {"photo_form": form} if kind == media.PHOTO else {"tour_form": form}
    if not form.validate_on_submit():
        return _page(park, [e for errors in form.errors.values() for e in errors], 422, **forms)
    caption = form.caption.data if kind == media.PHOTO else None
    try:
        media.add_media(current_user, park.id, kind, form.file.data.stream, form.file.data.filename, caption)
    except (ValidationFailed, UnsupportedType, TooLarge, Conflict) as exc:
        db.session.rollback()
        return _page(services.get_park(park_id), _messages(exc), exc.status, **forms)
    flash(done, "success")
    return redirect(url_for("parks.edit_media", park_id=park.id))


@bp.route("/parks/<int:park_id>/photos", methods=["POST"])
@allow(*MANAGERS)
@storage.accepts_upload
def upload_photo(park_id: int):
    return _upload(park_id, media.PHOTO, PhotoUploadForm(), gettext("The photo was added."))


@bp.route("/parks/<int:park_id>/tour", methods=["POST"])
@allow(*MANAGERS)
@storage.accepts_upload
def upload_tour(park_id: int):
    return _upload(park_id, media.TOUR, TourUploadForm(), gettext("The video tour was uploaded."))


@bp.route("/parks/<int:park_id>/media/<int:media_id>/remove", methods=["POST"])
@allow(*MANAGERS)
def remove_media(park_id: int, media_id: int):
    services.managed_park(current_user, park_id)
    if not RemoveForm().validate_on_submit():
        abort(400)
    media.remove_media(current_user, park_id, media_id)
    flash(gettext("It was removed from the park's pages."), "success")
    return redirect(url_for("parks.edit_media", park_id=park_id))


# ---------------------------------------------------------------- the API


@api.operation("GET /parks/<int:park_id>/media", PUBLIC, returns=MediaList)
def list_park_media(park_id):
    """The park's photos (oldest first) and its tour, each with the address of its file."""
    return {"items": media.list_media(park_id)}


@api.operation("POST /parks/<int:park_id>/photos", *MANAGERS, returns=MediaSchema, status=201, errors=[409, 413, 415])
@api.doc(requestBody={"required": True, "content": {"multipart/form-data": {"schema": PhotoBody}}})
@storage.accepts_upload
def add_park_photo(park_id):
    """Add a photo (multipart `file`, PNG or JPEG by content; `caption`): the park's organisation or
    organisers. 409 past 20 photos, 413 too big, 415 not a PNG or JPEG."""
    media.may_upload(current_user, park_id, media.PHOTO)  # who may, before what was sent
    upload = storage.sent_file()
    return media.add_media(current_user, park_id, media.PHOTO, upload.stream, upload.filename,
                           request.form.get("caption"))


@api.operation("PUT /parks/<int:park_id>/tour", *MANAGERS, returns=MediaSchema, errors=[413, 415])
@api.doc(requestBody={"required": True, "content": {"multipart/form-data": {"schema": TourBody}}})
@storage.accepts_upload
def put_park_tour(park_id):
    """Put up the park's video tour (multipart `file`, MP4 by content), replacing the one before."""
    media.may_upload(current_user, park_id, media.TOUR)
    upload = storage.sent_file()
    return media.add_media(current_user, park_id, media.TOUR, upload.stream, upload.filename)


@api.operation("PATCH /parks/<int:park_id>/media/<int:media_id>", *MANAGERS, body=CaptionBody, returns=MediaSchema)
def caption_park_media(body, park_id, media_id):
    """Change a photo's caption."""
    return media.update_caption(current_user, park_id, media_id, body["caption"])


@api.operation("DELETE /parks/<int:park_id>/media/<int:media_id>", *MANAGERS, status=204)
def remove_park_media(park_id, media_id):
    """Remove a photo or the tour from the park's pages."""
    media.remove_media(current_user, park_id, media_id)
    return None


@bp.app_template_global()
def park_photos_and_tour(park) -> tuple[list, object]:
    """The park's photos and its tour (or None), for the public page."""
    return media.photos(park.id), media.tour(park.id)
