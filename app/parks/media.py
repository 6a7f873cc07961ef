"""A park's photos and its MP4 tour, under the upload rules of project material.

Who: the park's managers (`services.managed_park`: its own city bureau or park organisation, and
organisers); another organisation's upload or removal is 403 and writes nothing. Files are streamed
in, size-limited (`MAX_UPLOAD_MB`), sniffed by content (PNG or JPEG for a photo, MP4 for the tour)
and kept in the upload store by their SHA-256 (`projects.services.receive_checked`, `storing`).
A park holds at most `MAX_PHOTOS` photos and one tour: a new tour replaces the old one. A removed
row leaves its file in the store, as replaced photos and plans do (the same content may be another
row's)."""

from __future__ import annotations

from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import func, select

from ..errors import Conflict, ValidationFailed, get_or_not_found
from ..extensions import db
from ..projects.services import receive_checked, storing
from ..projects.sniffing import IMAGE_KINDS
from .models import ParkMedia
from .services import get_park, managed_park, text_value

PHOTO = "photo"
TOUR = "tour"
KINDS = (PHOTO, TOUR)
#: What each kind of medium may be, judged by content.
ALLOWED = {PHOTO: IMAGE_KINDS, TOUR: frozenset({"mp4"})}
#: At most this many photos a park.
MAX_PHOTOS = 20
MAX_CAPTION = 200


def list_media(park_id: int) -> list[ParkMedia]:
    """A park's photos (in the order they were added) and then its tour; public, like the park."""
    park = get_park(park_id)
    rows = db.session.scalars(select(ParkMedia).where(ParkMedia.park_id == park.id).order_by(ParkMedia.id))
    return sorted(rows, key=lambda m: (m.kind != PHOTO, m.id))


def photos(park_id: int) -> list[ParkMedia]:
    return [m for m in list_media(park_id) if m.kind == PHOTO]


def tour(park_id: int) -> ParkMedia | None:
    return next((m for m in list_media(park_id) if m.kind == TOUR), None)


def get_media(park_id: int, media_id: int) -> ParkMedia:
    """One photo or the tour of this park (404 when it is another park's)."""
    return get_or_not_found(ParkMedia, media_id, _l("No such photo or video."),
                            lambda media: media.park_id == park_id)


def check_caption(caption) -> str:
    if caption is None:
        return ""
    return text_value(MAX_CAPTION)(caption, "caption")


def _photo_count(park_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(ParkMedia).where(
        ParkMedia.park_id == park_id, ParkMedia.kind == PHOTO)) or 0


def may_upload(actor, park_id: int, kind: str):
    """Who may, before what was sent: the park's managers; a photo only while the park has room."""
    park = managed_park(actor, park_id)
    if kind not in KINDS:
        raise ValidationFailed({"kind": gettext("Choose one of: %(codes)s.", codes=", ".join(KINDS))})
    if kind == PHOTO and _photo_count(park.id) >= MAX_PHOTOS:
        raise Conflict(gettext("A park shows at most %(count)d photos; remove one before adding another.",
                               count=MAX_PHOTOS), code="too_many_photos")
    return park


def add_media(actor, park_id: int, kind: str, stream, filename: str | None, caption=None) -> ParkMedia:
    """Add a photo to a park, or put up its tour (replacing the one before). Raises 403 for anyone
    but the park's managers, 409 past `MAX_PHOTOS`, 413 past the size limit, 415 for a file that
    is not what the kind allows, 422 for a bad name or caption."""
    park = may_upload(actor, park_id, kind)
    caption = check_caption(caption)
    received, sniffed, name = receive_checked(stream, filename, allowed=ALLOWED[kind])
    with storing(received):
        if kind == TOUR:
            for old in db.session.scalars(select(ParkMedia).where(ParkMedia.park_id == park.id, ParkMedia.kind == TOUR)):
                db.session.delete(old)
        media = ParkMedia(park_id=park.id, kind=kind, original_name=name, mime=sniffed.mime, size=received.size,
                          sha256=received.sha256, caption=caption, uploaded_by_id=actor.id)
        db.session.add(media)
        db.session.flush()
    return media


def update_caption(actor, park_id: int, media_id: int, caption) -> ParkMedia:
    """Change what a photo's caption says."""
    managed_park(actor, park_id)
    media = get_media(park_id, media_id)
    media.caption = check_caption(caption)
    db.session.commit()
    return media


def remove_media(actor, park_id: int, media_id: int) -> None:
    """Take a photo or the tour off the park's pages."""
    managed_park(actor, park_id)
    db.session.delete(get_media(park_id, media_id))
    db.session.commit()


def download_name(media: ParkMedia) -> str:
    """The name a saved copy gets: the park, the kind and the extension its content has."""
    extension = {"image/png": ".png", "image/jpeg": ".jpg", "video/mp4": ".mp4"}[media.mime]
    return f"park-{media.park_id}-{media.kind}-{media.id}{extension}"
