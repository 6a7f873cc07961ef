"""Projects, their pitch material (upload, versions, review, download) and presenters' profiles.

Who sees what:
- a project: its owner and organisers always; anyone once it is on the agenda of a
  published fair (a non-cancelled session of a fair that has been published);
- material: the owner every version of their own; organisers every version; other
  logged-in people only the newest approved version of each document, and only of
  projects on a published fair's agenda.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import false, func, or_, select, union
from sqlalchemy.orm import aliased

from .. import bilingual
from ..accounts.access import require_role
from ..accounts.enums import Role
from ..accounts.models import User
from ..errors import Forbidden, TooLarge, ValidationFailed, gathering, get_or_not_found
from ..extensions import db
from ..notifications.services import in_both, notify
from ..pagination import paginate
from ..reference.services import check_country, check_currency, check_sectors
from ..signals import public_projects
from ..types import utcnow
from . import storage
from .enums import MaterialStatus, ReviewDecision
from .models import Material, Project

log = logging.getLogger(__name__)

_MAX_AMOUNT = Decimal("1e16")


# ---------------------------------------------------------------- who may see and change


def _is_staff(actor) -> bool:
    return actor is not None and actor.role == Role.ORGANISER


def public_project_ids():
    """Projects a domain shows the public (fairs: on the agenda of a published fair), a select of ids
    from the receivers of `app.signals.public_projects`."""
    selects = [ids for _receiver, ids in public_projects.send(None)]
    if not selects:
        return select(Project.id).where(false())
    return selects[0] if len(selects) == 1 else union(*selects)


def is_public(project: Project) -> bool:
    return bool(db.session.scalar(select(Project.id.in_(public_project_ids())).where(Project.id == project.id)))


def can_edit(actor, project: Project) -> bool:
    return _is_staff(actor) or (actor is not None and actor.id == project.owner_id)


def get_project(actor, project_id: int) -> Project:
    return get_or_not_found(Project, project_id, _l("No such project."),
                            lambda project: can_edit(actor, project) or is_public(project))


def editable_project(actor, project_id: int) -> Project:
    project = get_project(actor, project_id)
    if not can_edit(actor, project):
        raise Forbidden(gettext("Only the project's presenter and organisers may change it."))
    return project


def _visible_projects(actor):
    query = select(Project)
    if _is_staff(actor):
        return query
    visible = Project.id.in_(public_project_ids())
    if actor is not None:
        visible = or_(visible, Project.owner_id == actor.id)
    return query.where(visible)


def list_projects(actor, *, owner_id: int | None = None, sector: str | None = None, page: int = 1, per_page: int = 20,
                  q: str | None = None):
    """Projects the actor may see; `q` matches words in the title or summary in either language."""
    query = _visible_projects(actor)
    if q and q.strip():
        query = query.where(bilingual.search_clause(
            [Project.title, Project.title_zh, Project.title_en, Project.summary, Project.summary_zh,
             Project.summary_en], q.strip()))
    if owner_id is not None:
        query = query.where(Project.owner_id == owner_id)
    if sector:
        query = query.where(Project.sector == sector)
    return paginate(query.order_by(Project.title, Project.id), page, per_page)


# ---------------------------------------------------------------- projects


def check_amount(value, field: str = "investment_amount") -> Decimal | None:
    """A money amount: a decimal of at most two places, zero or more and below 10^16 (None for blank)."""
    if value is None or value == "":
        return None
    if isinstance(value, float):
        value = repr(value)
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationFailed({field: gettext("%(value)r is not a decimal number.", value=value)}) from None
    if not amount.is_finite() or amount < 0 or amount >= _MAX_AMOUNT:
        raise ValidationFailed({field: gettext("The amount must be zero or more and below 10^16.")})
    if amount.as_tuple().exponent < -2:
        raise ValidationFailed({field: gettext("The amount has at most two decimal places.")})
    return amount.quantize(Decimal("0.01"))


def _project_values(data: dict, current: Project | None, actor=None) -> dict:
    errors: dict[str, str] = {}
    out: dict = {}
    lang = bilingual.author_lang(data, actor)
    out["lang"] = lang

    def attempt(field, check):
        if field in data:
            with gathering(errors):
                out[field] = check(data[field])

    def texts(field, **options):
        if current is None or bilingual.mentions(data, field):
            with gathering(errors):
                out[field] = bilingual.resolve(data, field, current=current, lang=lang, **options)

    def sector(value):
        if not isinstance(value, str):
            raise ValidationFailed({"sector": gettext("Give one sector code.")})
        return check_sectors([value], field="sector")[0]

    if current is None:
        for field in ("sector", "country"):
            if data.get(field) in (None, ""):
                errors[field] = gettext("This field is required.")
    texts("title", required=True, max_length=200, label=gettext("the title"))
    texts("summary", max_length=5000)
    attempt("sector", sector)
    attempt("country", lambda v: check_country(v, "country"))
    attempt("investment_amount", check_amount)
    attempt("currency", lambda v: None if v in (None, "") else check_currency(v, "currency"))
    amount = out.get("investment_amount", current.investment_amount if current else None)
    currency = out.get("currency", current.currency if current else None)
    if amount is not None and currency is None and "currency" not in errors:
        errors["currency"] = gettext("An investment amount needs its ISO 4217 currency.")
    if errors:
        raise ValidationFailed(errors)
    return out


def _store(project: Project, values: dict) -> None:
    lang = values.pop("lang")
    for field in ("title", "summary"):
        if field in values:
            bilingual.assign(project, field, values.pop(field), lang)
    for key, value in values.items():
        setattr(project, key, value)


def create_project(actor, data: dict) -> Project:
    """A presenter creates their own project; an organiser may name the presenter (`owner_id`)."""
    require_role(actor, Role.PRESENTER, Role.ORGANISER)
    owner = actor
    if _is_staff(actor) and data.get("owner_id") is not None:
        owner = db.session.get(User, data["owner_id"])
        if owner is None or owner.role != Role.PRESENTER:
            raise ValidationFailed({"owner_id": gettext("The owner must be a presenter.")})
    values = _project_values(data, None, actor)
    project = Project(owner_id=owner.id, summary="")
    _store(project, values)
    db.session.add(project)
    db.session.commit()
    return project


def update_project(actor, project_id: int, changes: dict) -> Project:
    project = editable_project(actor, project_id)
    values = _project_values(changes, project, actor)
    _store(project, values)
    db.session.commit()
    return project


# ---------------------------------------------------------------- material


def _quota_bytes() -> int:
    return int(current_app.config["UPLOAD_QUOTA_MB"]) * 1024 * 1024


def used_bytes(user: User) -> int:
    return db.session.scalar(select(func.coalesce(func.sum(Material.size), 0)).where(Material.uploaded_by_id == user.id)) or 0


def receive_checked(stream, filename: str | None, allowed=None) -> tuple[storage.Received, object, str]:
    """Stream an upload in and check its name and content; nothing stays on disk on error."""
    from .sniffing import MATERIAL_KINDS, clean_filename, sniff

    allowed = MATERIAL_KINDS if allowed is None else allowed
    name = clean_filename(filename)
    received = storage.receive(stream)
    try:
        if received.size == 0:
            raise ValidationFailed({"file": gettext("The file is empty.")})
        sniffed = sniff(received.path, allowed)
    except BaseException:
        storage.discard(received)
        raise
    return received, sniffed, name


def store_row(received: storage.Received, row=None) -> None:
    """Put the file in place, then commit the row; on a failed commit leave no stray file."""
    existed = storage.path_for(received.sha256).exists()
    storage.keep(received)
    try:
        db.session.commit()
    except BaseException:
        db.session.rollback()
        if not existed:
            storage.forget(received.sha256, still_used=False)
        raise


@contextmanager
def storing(received: storage.Received | None):
    """Around writing the rows of a received upload (flush only): an error in the block rolls them
    back and discards the file; otherwise the file is put in place and the rows committed (`store_row`).
    Without an upload (None) the rows are only committed."""
    try:
        yield
    except BaseException:
        db.session.rollback()
        storage.discard(received)
        raise
    if received is None:
        db.session.commit()
    else:
        store_row(received, None)


def upload_material(actor, project_id: int, stream, filename: str | None, *, replaces: int | None = None) -> Material:
    """A new document, or (with `replaces`) a new version of one; pending review."""
    project = editable_project(actor, project_id)
    previous = None
    if replaces is not None:
        previous = db.session.get(Material, replaces)
        if previous is None or previous.project_id != project.id:
            raise ValidationFailed({"replaces": gettext("Name a material of this project to replace.")})
    received, sniffed, name = receive_checked(stream, filename)
    with storing(received):
        if not _is_staff(actor) and used_bytes(actor) + received.size > _quota_bytes():
            raise TooLarge(
                gettext("This upload would pass your quota of %(size)s MB.", size=current_app.config["UPLOAD_QUOTA_MB"]),
                code="quota_exceeded",
                details={"quota_bytes": _quota_bytes(), "used_bytes": used_bytes(actor)},
            )
        material = Material(
            project_id=project.id, original_name=name, kind=sniffed.kind, mime=sniffed.mime,
            size=received.size, sha256=received.sha256, status=MaterialStatus.PENDING, uploaded_by_id=actor.id,
        )
        if previous is not None:
            document_id = previous.document_id or previous.id
            material.document_id = document_id
            material.version = (
                db.session.scalar(select(func.max(Material.version)).where(Material.document_id == document_id)) or 0
            ) + 1
        db.session.add(material)
        db.session.flush()
        if material.document_id is None:
            material.document_id = material.id
    return material


def _current_approved_ids():
    """The newest approved version of each document."""
    newest = (
        select(Material.document_id, func.max(Material.version).label("version"))
        .where(Material.status == MaterialStatus.APPROVED)
        .group_by(Material.document_id)
        .subquery()
    )
    return select(Material.id).join(
        newest, (newest.c.document_id == Material.document_id) & (newest.c.version == Material.version)
    )


def _may_read_material(actor, material: Material) -> bool:
    if actor is None:
        return False
    if can_edit(actor, material.project):
        return True
    if material.status != MaterialStatus.APPROVED or not is_public(material.project):
        return False
    return material.id in set(db.session.scalars(_current_approved_ids().where(Material.document_id == material.document_id)))


def get_material(actor, material_id: int) -> Material:
    return get_or_not_found(Material, material_id, _l("No such material."),
                            lambda material: _may_read_material(actor, material))


def list_materials(actor, project: Project) -> list[Material]:
    """Material of a project the viewer may see, newest document first, versions newest first."""
    query = select(Material).where(Material.project_id == project.id)
    if not can_edit(actor, project):
        if actor is None or not is_public(project):
            return []
        query = query.where(Material.id.in_(_current_approved_ids()))
    return list(db.session.scalars(query.order_by(Material.document_id.desc(), Material.version.desc())))


def review_queue(actor, *, page: int = 1, per_page: int = 50):
    """Pending material, oldest first; a version that a newer version of its document replaced has
    left the queue (only the newest version of a document waits for review)."""
    require_role(actor, Role.ORGANISER)
    newer = aliased(Material)
    superseded = (
        select(newer.id)
        .where(newer.document_id == Material.document_id, newer.version > Material.version)
        .exists()
    )
    query = (
        select(Material).where(Material.status == MaterialStatus.PENDING, ~superseded)
        .order_by(Material.created_at, Material.id)
    )
    return paginate(query, page, per_page)


def review_material(actor, material_id: int, decision: str, note: str | None) -> Material:
    require_role(actor, Role.ORGANISER)
    material = get_or_not_found(Material, material_id, _l("No such material."))
    try:
        decision = ReviewDecision(decision)
    except ValueError:
        raise ValidationFailed({"decision": gettext("The decision is `approve` or `reject`.")}) from None
    note = (note or "").strip()
    if len(note) > 2000:
        raise ValidationFailed({"note": gettext("The note has at most 2,000 characters.")})
    if decision == ReviewDecision.REJECT and not note:
        raise ValidationFailed({"note": gettext("Say why the material is rejected, so the presenter can fix it.")})
    material.status = MaterialStatus.APPROVED if decision == ReviewDecision.APPROVE else MaterialStatus.REJECTED
    material.review_note = note or None
    material.reviewed_by_id = actor.id
    material.reviewed_at = utcnow()
    verb = "approved" if decision == ReviewDecision.APPROVE else "rejected"
    recipients = {material.project.owner_id, material.uploaded_by_id} - {actor.id}
    for user_id in sorted(recipients):
        recipient = db.session.get(User, user_id)
        notify(user_id, kind=f"material_{verb}", texts=in_both(lambda lang: (_review_title(material), note)),
               lang=recipient.locale if recipient is not None else None, link=f"/projects/{material.project_id}")
    db.session.commit()
    return material


def _review_title(material: Material) -> str:
    """The notification's title, in the language in force (`in_both` runs it for each)."""
    values = {"name": material.original_name, "version": material.version}
    if material.status == MaterialStatus.APPROVED:
        return gettext("“%(name)s” (version %(version)s) was approved", **values)
    return gettext("“%(name)s” (version %(version)s) was rejected", **values)


def document_versions(actor, material: Material) -> list[Material]:
    """Every version of the material's document (owner and organisers)."""
    if not can_edit(actor, material.project):
        return [material]
    return list(
        db.session.scalars(
            select(Material).where(Material.document_id == material.document_id).order_by(Material.version.desc())
        )
    )


# ---------------------------------------------------------------- presenters' profiles
# (name, bio, languages, time zone and language: `app.accounts.services.update_settings`)


def set_photo(actor, stream, filename: str | None) -> User:
    """Replace the person's profile photo (PNG or JPEG, under the material upload rules)."""
    if actor is None:
        raise Forbidden(gettext("Log in first."))
    from .sniffing import IMAGE_KINDS

    received, sniffed, _ = receive_checked(stream, filename, allowed=IMAGE_KINDS)
    actor.photo_sha256 = received.sha256
    actor.photo_mime = sniffed.mime
    store_row(received, actor)
    return actor


def get_presenter(presenter_id: int) -> User:
    return get_or_not_found(User, presenter_id, _l("No such presenter."),
                            lambda user: user.role == Role.PRESENTER and user.active)


