"""Pages: projects, material upload and review, presenters' public pages, one's profile."""

from __future__ import annotations

import re

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from ..accounts.access import PUBLIC, USER, allow
from ..accounts.services import update_settings
from ..errors import NotFound, ServiceError, ValidationFailed
from ..fairs import queries as fair_queries
from .. import bilingual
from ..forms import attach_errors
from ..i18n import ui_locale
from ..reference.services import country_choices, language_code, language_name, list_sectors
from . import services, storage
from .api import attachment
from .enums import MaterialStatus
from .forms import PhotoForm, ProfileForm, ProjectForm, ReviewForm, UploadForm

bp = Blueprint("projects", __name__)


def _actor():
    return current_user if current_user.is_authenticated else None


def _project_choices(form: ProjectForm) -> None:
    locale = ui_locale()
    form.sector.choices = [(s.code, s.name(locale)) for s in list_sectors()]
    form.country.choices = country_choices(locale)


def _attach_errors(form, exc: ValidationFailed) -> None:
    for message in attach_errors(form, bilingual.form_errors(exc.fields, "title", "summary")):
        flash(message, "error")


def _project_data(form: ProjectForm) -> dict:
    return {
        **bilingual.form_data(form, "title", "summary"),
        "sector": form.sector.data,
        "country": form.country.data,
        "investment_amount": (form.investment_amount.data or "").replace(",", "").strip() or None,
        "currency": (form.currency.data or "").strip().upper() or None,
    }


@bp.route("/projects")
@allow(USER)
def project_list():
    owner_id = current_user.id if current_user.role == "presenter" and request.args.get("all") is None else None
    q = (request.args.get("q") or "").strip()[:200]
    items, total = services.list_projects(current_user, owner_id=owner_id, page=1, per_page=200, q=q)
    return render_template("projects/list.html", projects=items, total=total, mine=owner_id is not None, q=q)


@bp.route("/projects/new", methods=["GET", "POST"])
@allow("presenter", "organiser")
def new_project():
    form = ProjectForm()
    _project_choices(form)
    if form.validate_on_submit():
        try:
            project = services.create_project(current_user, _project_data(form))
            flash(gettext("The project is saved. Now add its material."), "success")
            return redirect(url_for("projects.project_page", project_id=project.id))
        except ValidationFailed as exc:
            _attach_errors(form, exc)
    return render_template("projects/project_form.html", form=form, project=None), 422 if form.errors else 200


@bp.route("/projects/<int:project_id>/edit", methods=["GET", "POST"])
@allow("presenter", "organiser")
def edit_project(project_id: int):
    project = services.get_project(current_user, project_id)
    if not services.can_edit(current_user, project):
        raise NotFound(gettext("No such project."))
    form = ProjectForm(obj=project if request.method == "GET" else None)
    if request.method == "GET":
        bilingual.fill_form(form, project, "title", "summary")
    _project_choices(form)
    if form.validate_on_submit():
        try:
            services.update_project(current_user, project_id, _project_data(form))
            flash(gettext("The project is saved."), "success")
            return redirect(url_for("projects.project_page", project_id=project.id))
        except ValidationFailed as exc:
            _attach_errors(form, exc)
    return render_template("projects/project_form.html", form=form, project=project), 422 if form.errors else 200


@bp.route("/projects/<int:project_id>")
@allow(PUBLIC)
def project_page(project_id: int):
    actor = _actor()
    project = services.get_project(actor, project_id)
    materials = services.list_materials(actor, project)
    editable = services.can_edit(actor, project)
    upload_form = None
    if editable:
        upload_form = UploadForm()
        upload_form.replaces.choices = [("", gettext("— a new document —"))] + [
            (str(m.id), gettext("%(name)s (%(version)s)", name=m.original_name,
                                version=gettext("v%(num)s", num=m.version))) for m in materials
        ]
    return render_template(
        "projects/project.html",
        project=project,
        materials=materials,
        sessions=fair_queries.project_sessions(actor, project),
        editable=editable,
        upload_form=upload_form,
        max_upload_mb=storage.max_upload_bytes() // (1024 * 1024),
    )


@bp.route("/projects/<int:project_id>/materials", methods=["POST"])
@allow("presenter", "organiser")
@storage.accepts_upload
def upload_page(project_id: int):
    """The form fallback for browsers without the script; the script posts to the API."""
    form = UploadForm()
    if form.validate_on_submit():
        upload = request.files.get("file")
        replaces = form.replaces.data
        try:
            if upload is None or not upload.filename:
                raise ValidationFailed({"file": gettext("Choose a file to upload.")})
            material = services.upload_material(
                current_user, project_id, upload.stream, upload.filename,
                replaces=int(replaces) if replaces and replaces.isdigit() else None,
            )
            flash(gettext("“%(name)s” is uploaded and waits for review.", name=material.original_name), "success")
        except ServiceError as exc:
            flash(exc.message, "error")
    else:
        flash(gettext("The form expired; try again."), "error")
    return redirect(url_for("projects.project_page", project_id=project_id))


@bp.route("/review")
@allow("organiser")
def review_queue():
    items, total = services.review_queue(current_user, page=1, per_page=200)
    return render_template("projects/review.html", materials=items, total=total, form=ReviewForm())


@bp.route("/materials/<int:material_id>/review", methods=["POST"])
@allow("organiser")
def review(material_id: int):
    form = ReviewForm()
    if form.validate_on_submit():
        decision = "approve" if form.approve.data else "reject"
        try:
            material = services.review_material(current_user, material_id, decision, form.note.data)
            if material.status == MaterialStatus.APPROVED:
                flash(gettext("“%(name)s” is approved.", name=material.original_name), "success")
            else:
                flash(gettext("“%(name)s” is rejected.", name=material.original_name), "success")
        except ServiceError as exc:
            flash(exc.message, "error")
    else:
        flash(gettext("The form expired; try again."), "error")
    return redirect(request.form.get("next") or url_for("projects.review_queue"))


@bp.route("/materials/<int:material_id>/preview.png")
@allow(USER)
def preview(material_id: int):
    """First page of a PDF, or the image itself, as PNG (organisers and the project's presenter)."""
    material = services.get_material(current_user, material_id)
    if not services.can_edit(current_user, material.project):
        raise NotFound(gettext("No such material."))
    from .preview import render_preview

    png = render_preview(storage.path_for(material.sha256), material.kind)
    response = Response(png, mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.route("/presenters/<int:presenter_id>")
@allow(PUBLIC)
def presenter_page(presenter_id: int):
    actor = _actor()
    presenter = services.get_presenter(presenter_id)
    projects, _ = services.list_projects(actor, owner_id=presenter.id, page=1, per_page=200)
    return render_template(
        "projects/presenter.html",
        presenter=presenter,
        projects=projects,
        sessions=fair_queries.presenter_sessions(presenter),
    )


@bp.route("/presenters/<int:presenter_id>/photo")
@allow(PUBLIC)
def presenter_photo(presenter_id: int):
    presenter = services.get_presenter(presenter_id)
    return stored_image(presenter.photo_sha256, presenter.photo_mime, f"presenter-{presenter.id}", gettext("No photo."))


def stored_image(sha256: str | None, mime: str | None, stem: str, missing: str, *, inline: bool = False):
    """A stored PNG or JPEG image (a presenter's photo, a park's master plan), named `stem` and its
    extension; NotFound saying `missing` when there is none."""
    if not sha256:
        raise NotFound(missing)
    extension = ".png" if mime == "image/png" else ".jpg"
    return attachment(sha256, mime, f"{stem}{extension}", inline=inline)


@bp.route("/me/profile", methods=["GET", "POST"])
@allow(USER)
def profile():
    form = ProfileForm(obj=current_user if request.method == "GET" else None)
    if request.method == "GET":
        form.languages.data = gettext(", ").join(language_name(c, ui_locale()) for c in current_user.languages or [])
    if form.validate_on_submit():
        try:
            update_settings(current_user, {
                "name": form.name.data or "",
                "bio": form.bio.data or "",
                "languages": [language_code(c) for c in re.split(r"[,，、;；]", form.languages.data or "") if c.strip()],
                "timezone": form.timezone.data or "",
                "locale": form.locale.data,
            }, current_user)
            flash(gettext("Your profile is saved."), "success")
            return redirect(url_for("projects.profile"))
        except ValidationFailed as exc:
            _attach_errors(form, exc)
    return render_template("projects/profile.html", form=form, photo_form=PhotoForm()), 422 if form.errors else 200


@bp.route("/me/photo", methods=["POST"])
@allow(USER)
@storage.accepts_upload
def profile_photo():
    form = PhotoForm()
    if form.validate_on_submit():
        upload = request.files.get("file")
        try:
            if upload is None or not upload.filename:
                raise ValidationFailed({"file": gettext("Choose a photo to upload.")})
            services.set_photo(current_user, upload.stream, upload.filename)
            flash(gettext("Your photo is saved."), "success")
        except ServiceError as exc:
            flash(exc.message, "error")
    return redirect(url_for("projects.profile"))


