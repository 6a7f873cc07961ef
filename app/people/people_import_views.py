"""Importing people from a CSV file: the upload page, the preview, the confirmation, the template
file, and `POST /api/v1/users/import`. The work is done in `people_import.py`."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField
from marshmallow import Schema, fields
from wtforms import HiddenField, SubmitField

from ..forms import Form
from ..openapi import answers
from ..errors import ServiceError, ValidationFailed
from ..i18n import ui_locale
from ..projects import storage
from . import api, bp, people_import
from ..accounts.access import allow
from ..accounts.enums import OrganisationKind, kind_label

#: The session keeps only the counts of the last import, for the page shown after the redirect.
_RESULT_KEY = "people_import_result"


class ImportForm(Form):
    file = FileField(_l("CSV file"))
    submit = SubmitField(_l("Check the file"))


class ConfirmForm(Form):
    digest = HiddenField()
    submit = SubmitField(_l("Import these people"))


class ImportUploadSchema(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary",
                                               "description": "the CSV file (UTF-8 or GB18030)"})
    dry_run = fields.Boolean(metadata={"description": "check and report only; also accepted in the query"})
    map = fields.String(metadata={"description": "JSON: a new organisation's name to an existing id or \"new\""})


class ImportReportSchema(Schema):
    rows = fields.List(fields.Dict(), metadata={"description": "row, email, outcome, changes, errors, warnings"})
    summary = fields.Dict()
    errors = fields.List(fields.Dict(), metadata={"description": "row, column, value, message"})
    warnings = fields.List(fields.Dict())
    new_organisations = fields.List(fields.Dict())
    similar_organisations = fields.List(fields.Dict(), metadata={
        "description": "row, organisation, strong, similar [{id, name}], choice (an id or \"new\")"})


def _read_upload(upload) -> tuple[bytes, str]:
    if upload is None or not upload.filename:
        raise ValidationFailed({"file": gettext("Choose a CSV file to upload (multipart field “file”).")})
    return upload.read(), upload.filename


def _preview(report, form, pending=None, status: int = 200):
    return render_template(
        "people/import_preview.html",
        report=report,
        summary=report.summary(),
        errors_by_cell={(e["row"], e["column"]): e for e in report.errors},
        warnings_by_cell={(w["row"], w["column"]): w for w in report.warnings},
        columns=people_import.COLUMNS,
        column_label=people_import.column_label,
        cell_label=people_import.cell_label,
        pending=pending,
        form=form,
        upload_form=ImportForm(formdata=None),
    ), status


@bp.route("/people/import", methods=["GET", "POST"])
@allow("organiser")
@storage.accepts_upload
def import_people():
    """Upload a CSV file (GET: the form; POST: check it and show what importing would do)."""
    form = ImportForm()
    if form.validate_on_submit():
        try:
            data, filename = _read_upload(request.files.get("file"))
            report = people_import.plan(current_user, data)
        except ValidationFailed as exc:
            form.file.errors = list(form.file.errors) + [" ".join(m) for m in exc.fields.values()]
        except ServiceError as exc:  # 413 too many rows, 415 not a text CSV
            form.file.errors = list(form.file.errors) + [exc.message]
            return _upload_page(form, exc.status)
        else:
            if not report.ok:
                return _preview(report, ConfirmForm(formdata=None), status=422)
            pending = people_import.store_upload(current_user, data, filename)
            confirm = ConfirmForm(formdata=None, digest=report.digest())
            return _preview(report, confirm, pending=pending)
    elif request.method == "POST" and form.csrf_token.errors:
        flash(gettext("The form expired; choose the file again."), "error")
    return _upload_page(form, 422 if form.errors else 200)


def _upload_page(form, status: int):
    return render_template(
        "people/import.html",
        form=form,
        columns=people_import.COLUMNS,
        column_label=people_import.column_label,
        kind_names=gettext(", ").join(kind_label(k) for k in OrganisationKind),
        required=people_import.REQUIRED,
        max_rows=people_import.max_rows(),
        result=session.pop(_RESULT_KEY, None) if request.method == "GET" else None,
    ), status


@bp.route("/people/import/<import_id>/confirm", methods=["POST"])
@allow("organiser")
def confirm_import(import_id: str):
    """Apply a previewed file: all of it, or nothing when a row became wrong meanwhile."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash(gettext("The form expired; upload the file again."), "error")
        return redirect(url_for("people.import_people"))
    try:
        result = people_import.confirm(current_user, import_id, form.digest.data or None, _page_mapping())
    except people_import.ImportInvalid as exc:
        return _preview(exc.report, ConfirmForm(formdata=None), status=422)
    except people_import.ImportChanged as exc:
        flash(exc.message, "warning")
        pending = people_import.load_upload(current_user, import_id)
        return _preview(exc.report, ConfirmForm(formdata=None, digest=exc.report.digest()), pending=pending,
                        status=409)
    summary = result.summary()
    session[_RESULT_KEY] = {key: summary[key] for key in
                            ("created", "updated", "unchanged", "organisations_created", "invited",
                             "invitations_failed")}
    flash(gettext("Imported: %(created)s new people, %(updated)s updated, %(organisations)s new organisations.",
                  created=summary["created"], updated=summary["updated"],
                  organisations=summary["organisations_created"]), "success")
    return redirect(url_for("people.import_people"))


def _page_mapping() -> dict:
    """The preview's choices for organisations that look like existing ones: pairs of fields
    `map_name_<n>` (the file's name) and `map_choice_<n>` (an organisation id, or "new")."""
    mapping: dict = {}
    for field_name, name in request.form.items():
        if not field_name.startswith("map_name_"):
            continue
        choice = request.form.get("map_choice_" + field_name.removeprefix("map_name_"), "")
        if choice == people_import.NEW:
            mapping[name] = choice
        elif choice.isdigit():
            mapping[name] = int(choice)
    return mapping


@bp.route("/people/import/template.csv")
@allow("organiser")
def import_template():
    """The CSV file to fill in (UTF-8 with BOM, so Excel shows the Chinese)."""
    return Response(
        people_import.template_csv(ui_locale()),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="cloudfair-people-template.csv"',
                 "Cache-Control": "private, max-age=3600", "Vary": "Cookie, Accept-Language"},
    )


# ---------------------------------------------------------------- API


@api.route("/users/import", methods=["POST"])
@allow("organiser")
@api.doc(requestBody={"content": {"multipart/form-data": {"schema": ImportUploadSchema}}})
@api.response(201, ImportReportSchema, description="applied: every row's outcome")
@api.alt_response(200, schema=ImportReportSchema, description="dry_run: what would happen, nothing written")
@api.alt_response(422, description="import_invalid: some row has an error, nothing written; "
                  "details.rows and details.errors. similar_organisations: a new organisation looks like an "
                  "existing one in the same place and kind and `map` does not say which it is")
@storage.accepts_upload
@answers(415)
def import_users():
    """Import people from a CSV file (multipart `file`; `dry_run=true` to check only). All or nothing.

    Columns: name, email, role, organisation, kind, city, country, timezone, locale (English or
    Chinese header names; UTF-8 or GB18030; comma or semicolon). Existing people (by e-mail) are
    updated; new people get an invitation after the import is committed. A Chinese `city` is matched
    to a division (Chinese, English, pinyin); one that matches nothing is a row error.

    A new organisation that looks like an existing one is listed in `similar_organisations`; the
    form field `map` (JSON) says what each is: `{"石家庄市商务局": 12}` files it under organisation
    12 (which learns the name as an alias), `{"…": "new"}` creates it. Without a choice, a strong
    lookalike (same division and kind) is refused with 422 `similar_organisations`; a weak one is created.
    """
    data, filename = _read_upload(request.files.get("file"))
    mapping = people_import.parse_mapping(request.form.get("map", request.args.get("map")))
    flag = request.form.get("dry_run", request.args.get("dry_run", ""))
    if str(flag).strip().lower() in {"1", "true", "yes", "on"}:
        return people_import.plan(current_user, data, mapping).to_dict(), 200
    return people_import.import_people(current_user, data, filename=filename, mapping=mapping).to_dict(), 201
