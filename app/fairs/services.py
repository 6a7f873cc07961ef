"""Fairs, tracks, sessions and registrations, and the scheduling rules that guard them.

Every public function takes the acting user (`actor`, None for anonymous
visitors) and plain values, commits once, and raises `ServiceError`s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext, ngettext
from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import bilingual, signals
from ..accounts.access import require_role
from ..accounts.enums import Role
from ..accounts.models import User
from ..caching import PageCache
from ..errors import Conflict, NotFound, ValidationFailed
from ..extensions import db
from ..i18n import ui_locale
from ..notifications.services import deliver_live, in_both, notify
from ..pagination import paginate
from ..schemas import load
from ..reference.services import check_country, check_sectors, check_timezone
from ..types import utcnow
from .enums import FairStatus, RegistrationStatus, SessionStatus, status_label
from .models import Fair, FairSession, Registration, Track, session_presenters
from . import queries
from .queries import find_track  # noqa: F401 (pages ask services for it)
from .session_values import URL as _URL, SessionValuesSchema, list_names as _list

MAX_SLOT_SUGGESTIONS = 50
SLOT_STEP = timedelta(minutes=15)


# ---------------------------------------------------------------- visibility


def is_organiser(actor) -> bool:
    return actor is not None and getattr(actor, "role", None) == Role.ORGANISER


def fair_is_public(fair: Fair) -> bool:
    return fair.published_at is not None


def fair_version(actor, fair_id: int, *, kept_seconds: float = 0) -> tuple:
    """`queries.fair_version` of a fair the actor may see (404 otherwise, as `get_fair`): one query, no
    fair loaded, for answers kept per version. With `kept_seconds`, a version this process read that
    recently is used without the query (the fair feeds' validator: `FEED_VERSION_SECONDS`; the fair's
    API answer to readers: `FAIR_API_VERSION_SECONDS`)."""
    if kept_seconds > 0:  # one store per length of keeping (the feeds' and the API's may differ)
        stores = current_app.extensions.setdefault("cloudfair.fair_versions", {})
        kept = stores.get(kept_seconds)
        if kept is None:
            kept = stores.setdefault(kept_seconds, PageCache(max_entries=1024, ttl_seconds=kept_seconds))
        version = kept.get(fair_id)
        if version is None:
            version = queries.fair_version(fair_id)
            kept.put(fair_id, version)
    else:
        version = queries.fair_version(fair_id)
    if version is None or not (version[0] is not None or is_organiser(actor)):
        raise NotFound(gettext("No such fair."))
    return version


def get_fair(actor, fair_id: int) -> Fair:
    """A fair the actor may see; drafts exist only for organisers (404 otherwise)."""
    fair = db.session.get(Fair, fair_id)
    if fair is None or not (fair_is_public(fair) or is_organiser(actor)):
        raise NotFound(gettext("No such fair."))
    return fair


def get_session(actor, session_id: int) -> FairSession:
    session = db.session.get(FairSession, session_id)
    if session is None or not (fair_is_public(session.fair) or is_organiser(actor)):
        raise NotFound(gettext("No such session."))
    return session


def list_fairs(
    actor,
    *,
    status: str | None = None,
    starts_from: datetime | None = None,
    starts_to: datetime | None = None,
    page: int = 1,
    per_page: int = 20,
    q: str | None = None,
) -> tuple[list[Fair], int]:
    """Fairs the actor may see, soonest first, filtered by status, a time window and words (`q`, matched
    in either language of the title and theme)."""
    query = select(Fair).order_by(Fair.starts_at, Fair.id)
    if q and q.strip():
        query = query.where(_fair_words(q))
    if not is_organiser(actor):
        query = query.where(Fair.published_at.is_not(None))
    if status:
        if status not in {s.value for s in FairStatus}:
            raise ValidationFailed({"status": gettext("Must be one of: %(choices)s.",
                                                      choices=", ".join(s.value for s in FairStatus))})
        query = query.where(Fair.status == status)
    if starts_from:
        query = query.where(Fair.ends_at >= starts_from)
    if starts_to:
        query = query.where(Fair.starts_at <= starts_to)
    return paginate(query, page, per_page)


def _fair_words(q: str | None):
    """Fairs whose title or theme, in either language, contains `q`."""
    return bilingual.search_clause(
        [Fair.title, Fair.title_zh, Fair.title_en, Fair.theme, Fair.theme_zh, Fair.theme_en], q.strip())


def upcoming_fairs(actor, limit: int = 50, q: str | None = None) -> list[Fair]:
    query = (
        select(Fair)
        .where(Fair.ends_at >= utcnow(), Fair.status != FairStatus.CANCELLED)
        .order_by(Fair.starts_at)
        .limit(limit)
    )
    if not is_organiser(actor):
        query = query.where(Fair.published_at.is_not(None))
    if q and q.strip():
        query = query.where(_fair_words(q))
    return list(db.session.scalars(query))


def past_fairs(actor, limit: int = 20, q: str | None = None) -> list[Fair]:
    query = select(Fair).where(Fair.ends_at < utcnow()).order_by(Fair.starts_at.desc()).limit(limit)
    if not is_organiser(actor):
        query = query.where(Fair.published_at.is_not(None))
    if q and q.strip():
        query = query.where(_fair_words(q))
    return list(db.session.scalars(query))


def agenda(fair: Fair) -> list[FairSession]:
    """The fair's sessions in time order, with presenters and projects loaded."""
    return list(
        db.session.scalars(
            select(FairSession)
            .where(FairSession.fair_id == fair.id)
            .options(selectinload(FairSession.presenters), selectinload(FairSession.projects))
            .order_by(FairSession.starts_at, FairSession.id)
        )
    )


# ---------------------------------------------------------------- fairs


def _aware(value: object, field: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValidationFailed({field: gettext("Give a date and time with a UTC offset (ISO 8601).")})
    return value.astimezone(timezone.utc)


def _parse_hhmm(value: object, field: str) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{2}:\d{2}", value):
        try:
            return time.fromisoformat(value)
        except ValueError:
            pass
    raise ValidationFailed({field: gettext("Give a local time as HH:MM.")})


def _check_url(value: object, field: str) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not _URL.match(value) or len(value) > 500:
        raise ValidationFailed({field: gettext("Give an http:// or https:// address.")})
    return value


def _apply_fair_fields(fair: Fair, data: dict, *, creating: bool, actor=None) -> None:
    """Validate and copy fair fields; collects every field error into one 422."""
    errors: dict[str, list[str]] = {}

    def attempt(field: str, fn):
        if field not in data:
            if creating and field in {"starts_at", "ends_at"}:
                errors[field] = [gettext("This field is required.")]
            return
        try:
            setattr(fair, field, fn(data[field]))
        except ValidationFailed as exc:
            errors.update(exc.fields)

    lang = bilingual.author_lang(data, actor)
    if creating or bilingual.mentions(data, "title"):
        try:
            texts = bilingual.resolve(data, "title", current=None if creating else fair, lang=lang, required=True,
                                      max_length=200, label=gettext("the title"))
            bilingual.assign(fair, "title", texts, lang)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if bilingual.mentions(data, "theme"):
        try:
            texts = bilingual.resolve(data, "theme", current=None if creating else fair, lang=lang, max_length=300)
            bilingual.assign(fair, "theme", texts, lang)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    attempt("timezone", lambda v: check_timezone(v))
    attempt("focus_countries", lambda v: list(dict.fromkeys(check_country(c, "focus_countries") for c in (v or []))))
    attempt("focus_sectors", lambda v: check_sectors(list(v or []), "focus_sectors"))
    attempt("starts_at", lambda v: _aware(v, "starts_at"))
    attempt("ends_at", lambda v: _aware(v, "ends_at"))
    attempt("stream_url", lambda v: _check_url(v, "stream_url"))

    def capacity(value):
        if value in (None, ""):
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValidationFailed({"capacity": gettext("Give a whole number of at least 1, or leave it empty.")})
        return value

    attempt("capacity", capacity)

    def waitlist(value):
        if not isinstance(value, bool):
            raise ValidationFailed({"waitlist": gettext("Give true or false.")})
        return value

    attempt("waitlist", waitlist)
    for field in ("fair_day_start", "fair_day_end", "presenter_day_start", "presenter_day_end"):
        attempt(field, lambda v, f=field: _parse_hhmm(v, f))
    if not errors:
        if fair.ends_at <= fair.starts_at:
            errors["ends_at"] = [gettext("The fair must end after it starts.")]
        if fair.fair_day_end <= fair.fair_day_start:
            errors["fair_day_end"] = [gettext("Working hours must end after they start.")]
        if fair.presenter_day_end <= fair.presenter_day_start:
            errors["presenter_day_end"] = [gettext("Working hours must end after they start.")]
    if errors:
        raise ValidationFailed(errors)


def _check_tracks(data: dict, lang: str) -> list[dict[str, str]]:
    """The fair's tracks from a write body, in order, each as {"zh", "en", "name"}.

    `tracks` lists them: a string is a name in the author's language (`lang`); an object gives
    `name_i18n` {"zh", "en"} and/or `name` (the shape `tracks_i18n` is read in, which is accepted too).
    `name` becomes the author's language's text, else the other."""
    items = data.get("tracks_i18n") if data.get("tracks_i18n") is not None else data.get("tracks")
    if items is None:
        return [{"zh": "主会场", "en": "main", "name": "main"}]  # the default track, named in both languages
    if not isinstance(items, list) or not items:
        raise ValidationFailed({"tracks": gettext("Give at least one track name.")})
    out: list[dict[str, str]] = []
    for item in items:
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict):
            raise ValidationFailed({"tracks": gettext("Track names are non-empty text of at most 100 characters.")})
        try:
            texts = bilingual.resolve({k: v for k, v in item.items() if k in ("name", "name_i18n")}, "name",
                                      lang=lang, required=True, max_length=100, label=gettext("a track name"))
        except ValidationFailed as exc:
            raise ValidationFailed({"tracks": [m for ms in exc.fields.values()
                                               for m in (ms if isinstance(ms, list) else [ms])]}) from None
        out.append({**texts, "name": bilingual.primary(texts, lang)})
    for key in ("zh", "en", "name"):
        used = [t[key] for t in out if t[key]]
        if len(set(used)) != len(used):
            raise ValidationFailed({"tracks": gettext("Track names must differ.")})
    return out


def create_fair(actor, data: dict) -> Fair:
    """Create a draft fair with its tracks (organisers)."""
    require_role(actor, Role.ORGANISER)
    fair = Fair(
        timezone=data.get("timezone") or "Asia/Shanghai",
        status=FairStatus.DRAFT,
        focus_countries=[],
        focus_sectors=[],
        theme="",
        fair_day_start=time(8, 0),
        fair_day_end=time(20, 0),
        presenter_day_start=time(8, 0),
        presenter_day_end=time(20, 0),
        revision=0,
        waitlist=True,
    )
    _apply_fair_fields(fair, {**data, "timezone": fair.timezone}, creating=True, actor=actor)
    tracks = _check_tracks(data, bilingual.author_lang(data, actor))
    fair.tracks = [Track(name=t["name"], name_zh=t["zh"] or None, name_en=t["en"] or None, position=i)
                   for i, t in enumerate(tracks)]
    db.session.add(fair)
    db.session.commit()
    return fair


def update_fair(actor, fair: Fair, data: dict) -> Fair:
    """Change a fair; its sessions must still lie inside it, tracks in use stay."""
    require_role(actor, Role.ORGANISER)
    # Registrations wait while the capacity changes (the same lock as `register`).
    db.session.execute(select(Fair.id).where(Fair.id == fair.id).with_for_update())
    try:
        with db.session.no_autoflush:
            _apply_fair_fields(fair, data, creating=False, actor=actor)
            if "tracks" in data or "tracks_i18n" in data:
                _sync_tracks(fair, _check_tracks(data, bilingual.author_lang(data, actor)))
            outside = [
                s for s in fair.sessions
                if s.status != SessionStatus.CANCELLED and (s.starts_at < fair.starts_at or s.ends_at > fair.ends_at)
            ]
            if outside:
                names = _list(f"“{s.title}”" for s in outside)
                raise ValidationFailed(
                    {"starts_at": gettext("Sessions would lie outside the fair: %(sessions)s.", sessions=names)}
                )
    except ValidationFailed:
        db.session.rollback()
        raise
    fair.revision += 1
    promoted = _move_up(fair)  # a larger capacity (or none) frees places for the waiting list
    db.session.commit()
    deliver_live(promoted)
    return fair


def _sync_tracks(fair: Fair, tracks: list[dict[str, str]]) -> None:
    """Give the fair these tracks. A track stays (with its sessions) when a new entry shares one of its
    names, or else when the entry takes its place in the list (a renamed track)."""
    existing = list(fair.tracks)
    chosen: list[Track | None] = []
    for entry in tracks:
        names = {entry["name"], entry["zh"], entry["en"]} - {""}
        match = next((t for t in existing if t not in chosen and names & ({t.name, t.name_zh, t.name_en} - {None, ""})),
                     None)
        chosen.append(match)
    for position, entry in enumerate(tracks):
        if chosen[position] is None and position < len(existing) and existing[position] not in chosen:
            chosen[position] = existing[position]
    keep = []
    for position, (entry, track) in enumerate(zip(tracks, chosen)):
        track = track or Track()
        track.name, track.name_zh, track.name_en = entry["name"], entry["zh"] or None, entry["en"] or None
        track.position = position
        keep.append(track)
    removed = [t for t in existing if t not in keep]
    in_use = [bilingual.text(t, "name") for t in removed if any(s.track_id == t.id for s in fair.sessions)]
    if in_use:
        raise ValidationFailed({"tracks": gettext("Tracks with sessions cannot be removed: %(tracks)s.",
                                                  tracks=_list(in_use))})
    fair.tracks = keep


def publish_fair(actor, fair: Fair) -> Fair:
    """Publish a draft fair: its agenda and calendar become public."""
    require_role(actor, Role.ORGANISER)
    if fair.status != FairStatus.DRAFT:
        raise Conflict(gettext("Only a draft can be published; this fair is %(status)s.", status=status_label(fair.status)),
                       code="invalid_state")
    fair.status = FairStatus.PUBLISHED
    fair.published_at = utcnow()
    fair.revision += 1
    db.session.commit()
    return fair


def cancel_fair(actor, fair: Fair) -> Fair:
    """Cancel a fair and all its sessions (calendar feeds show them cancelled)."""
    require_role(actor, Role.ORGANISER)
    if fair.status in (FairStatus.CANCELLED, FairStatus.CLOSED):
        raise Conflict(gettext("This fair is already %(status)s.", status=status_label(fair.status)), code="invalid_state")
    fair.status = FairStatus.CANCELLED
    for session in fair.sessions:
        if session.status != SessionStatus.CANCELLED:
            session.status = SessionStatus.CANCELLED
            session.sequence += 1
    fair.revision += 1
    db.session.commit()
    return fair


# ---------------------------------------------------------------- sessions


@dataclass(frozen=True)
class Clash:
    session: FairSession
    reason: str  # "track" or "presenter"
    presenter: User | None = None

    def to_dict(self) -> dict:
        s = self.session
        out = {
            "session_id": s.id,
            "title": s.title,
            "fair_id": s.fair_id,
            "track": bilingual.text(s.track, "name"),
            "track_i18n": bilingual.pair(s.track, "name"),
            "starts_at": s.starts_at.isoformat(),
            "ends_at": s.ends_at.isoformat(),
            "reason": self.reason,
        }
        if self.presenter is not None:
            out["presenter_id"] = self.presenter.id
            out["presenter_name"] = self.presenter.name
        return out

    def sentence(self, zone: ZoneInfo) -> str:
        s = self.session
        when = f"{s.starts_at.astimezone(zone):%Y-%m-%d %H:%M}–{s.ends_at.astimezone(zone):%H:%M}"
        if self.reason == "track":
            return gettext("track “%(track)s” already holds “%(title)s” (%(when)s)", track=bilingual.text(s.track, "name"),
                           title=bilingual.text(s, "title"),
                           when=when)
        return gettext("%(presenter)s already presents “%(title)s” (%(when)s)", presenter=self.presenter.name,
                       title=s.title, when=when)


def find_clashes(
    *,
    track: Track,
    starts_at: datetime,
    ends_at: datetime,
    presenters: list[User],
    exclude_session_id: int | None = None,
) -> list[Clash]:
    """Sessions that overlap in the same track, or that share a presenter (in any fair)."""
    live = and_(
        FairSession.status != SessionStatus.CANCELLED,
        FairSession.starts_at < ends_at,
        FairSession.ends_at > starts_at,
    )
    if exclude_session_id is not None:
        live = and_(live, FairSession.id != exclude_session_id)
    clashes: list[Clash] = [
        Clash(s, "track")
        for s in db.session.scalars(
            select(FairSession).where(live, FairSession.track_id == track.id).order_by(FairSession.starts_at)
        )
    ]
    if presenters:
        by_id = {p.id: p for p in presenters}
        rows = db.session.execute(
            select(FairSession, session_presenters.c.user_id)
            .join(session_presenters, session_presenters.c.session_id == FairSession.id)
            .join(Fair, Fair.id == FairSession.fair_id)
            .where(live, session_presenters.c.user_id.in_(by_id), Fair.status != FairStatus.CANCELLED)
            .order_by(FairSession.starts_at)
        )
        clashes += [Clash(s, "presenter", by_id[user_id]) for s, user_id in rows]
    return clashes


def _raise_clashes(fair: Fair, clashes: list[Clash]) -> None:
    zone = fair.zone
    sentences = ("；" if ui_locale() == "zh" else "; ").join(c.sentence(zone) for c in clashes)
    message = gettext("This time clashes: %(clashes)s.", clashes=sentences)
    raise Conflict(message, code="schedule_conflict", details={"conflicts": [c.to_dict() for c in clashes]})


def _session_values(fair: Fair, data: dict, current: FairSession | None, actor=None) -> dict:
    """A session's fields checked by `SessionValuesSchema` (every field when creating, the given ones
    over the session's when changing); one 422 naming every bad field."""
    return load(SessionValuesSchema(fair=fair, current=current, actor=actor), data)


def create_session(actor, fair: Fair, data: dict) -> FairSession:
    """Add a session to a fair; 422 for bad fields, 409 `schedule_conflict` for clashes."""
    require_role(actor, Role.ORGANISER)
    if fair.status in (FairStatus.CANCELLED, FairStatus.CLOSED):
        raise Conflict(gettext("This fair is %(status)s; it takes no new sessions.", status=status_label(fair.status)),
                       code="invalid_state")
    values = _session_values(fair, data, None, actor)
    clashes = find_clashes(
        track=values["track"], starts_at=values["starts_at"], ends_at=values["ends_at"], presenters=values["presenters"]
    )
    if clashes:
        _raise_clashes(fair, clashes)
    session = FairSession(
        fair=fair,
        track=values["track"],
        kind=values["kind"],
        description="",
        starts_at=values["starts_at"],
        ends_at=values["ends_at"],
        join_url=values.get("join_url"),
        status=SessionStatus.SCHEDULED,
        sequence=0,
        presenters=values["presenters"],
        projects=values["projects"],
    )
    bilingual.assign(session, "title", values["title"], values["lang"])
    if "description" in values:
        bilingual.assign(session, "description", values["description"], values["lang"])
    db.session.add(session)
    fair.revision += 1
    db.session.commit()
    return session


def update_session(actor, session: FairSession, data: dict) -> FairSession:
    """Change a session under the same rules as creating one."""
    require_role(actor, Role.ORGANISER)
    if session.status == SessionStatus.CANCELLED:
        raise Conflict(gettext("A cancelled session cannot be changed."), code="invalid_state")
    fair = session.fair
    values = _session_values(fair, data, session, actor)
    clashes = find_clashes(
        track=values["track"],
        starts_at=values["starts_at"],
        ends_at=values["ends_at"],
        presenters=values["presenters"],
        exclude_session_id=session.id,
    )
    if clashes:
        _raise_clashes(fair, clashes)
    for field in ("kind", "starts_at", "ends_at", "track", "presenters", "join_url"):
        if field in values:
            setattr(session, field, values[field])
    for field in ("title", "description"):
        if field in values:
            bilingual.assign(session, field, values[field], values["lang"])
    projects_before = {p.id for p in session.projects}
    if "projects" in values:
        session.projects = values["projects"]
    changed = {p.id for p in session.projects} - projects_before
    session.sequence += 1
    fair.revision += 1
    db.session.commit()
    if changed:  # a live pitch's staff see the best sites for the projects added
        signals.pitch_changed.send(session.id, project_ids=changed)
    return session


def cancel_session(actor, session: FairSession) -> FairSession:
    """Cancel a session; it stays in calendar feeds as STATUS:CANCELLED."""
    require_role(actor, Role.ORGANISER)
    if session.status == SessionStatus.CANCELLED:
        raise Conflict(gettext("This session is already cancelled."), code="invalid_state")
    if session.status == SessionStatus.ENDED:
        raise Conflict(gettext("This session has ended."), code="invalid_state")
    session.status = SessionStatus.CANCELLED
    session.sequence += 1
    session.fair.revision += 1
    db.session.commit()
    return session


# ---------------------------------------------------------------- slot suggestions


def suggest_slots(actor, fair: Fair, presenter_id: int, minutes: int, limit: int = MAX_SLOT_SUGGESTIONS) -> list[dict]:
    """Free slots of `minutes` inside the fair, in working hours in both zones.

    A slot must avoid the presenter's other sessions (in any fair) and leave
    at least one track free; it lists the free tracks.
    """
    require_role(actor, Role.ORGANISER)
    if not isinstance(minutes, int) or not 5 <= minutes <= 12 * 60:
        raise ValidationFailed({"minutes": gettext("Give a length between 5 and 720 minutes.")})
    presenter = db.session.get(User, presenter_id)
    if presenter is None or presenter.role != Role.PRESENTER:
        raise ValidationFailed({"presenter_id": gettext("No such presenter.")})
    length = timedelta(minutes=minutes)
    fair_zone, presenter_zone = fair.zone, ZoneInfo(presenter.timezone)
    busy_presenter = [
        (s.starts_at, s.ends_at)
        for s in db.session.scalars(
            select(FairSession)
            .join(session_presenters, session_presenters.c.session_id == FairSession.id)
            .join(Fair, Fair.id == FairSession.fair_id)
            .where(
                session_presenters.c.user_id == presenter.id,
                FairSession.status != SessionStatus.CANCELLED,
                Fair.status != FairStatus.CANCELLED,
                FairSession.starts_at < fair.ends_at,
                FairSession.ends_at > fair.starts_at,
            )
        )
    ]
    busy_track: dict[int, list[tuple[datetime, datetime]]] = {t.id: [] for t in fair.tracks}
    for s in fair.sessions:
        if s.status != SessionStatus.CANCELLED:
            busy_track.setdefault(s.track_id, []).append((s.starts_at, s.ends_at))

    def overlaps(spans, start, end) -> bool:
        return any(a < end and b > start for a, b in spans)

    def in_hours(start: datetime, end: datetime, zone: ZoneInfo, day_start: time, day_end: time) -> bool:
        local_start, local_end = start.astimezone(zone), end.astimezone(zone)
        return (
            local_start.date() == local_end.date()
            and local_start.time() >= day_start
            and local_end.time() <= day_end
        )

    slots: list[dict] = []
    start = _round_up(fair.starts_at, SLOT_STEP)
    while start + length <= fair.ends_at and len(slots) < limit:
        end = start + length
        if (
            in_hours(start, end, fair_zone, fair.fair_day_start, fair.fair_day_end)
            and in_hours(start, end, presenter_zone, fair.presenter_day_start, fair.presenter_day_end)
            and not overlaps(busy_presenter, start, end)
        ):
            free = [bilingual.text(t, "name") for t in fair.tracks if not overlaps(busy_track.get(t.id, []), start, end)]
            if free:
                slots.append(
                    {
                        "starts_at": start.isoformat(),
                        "ends_at": end.isoformat(),
                        "tracks": free,
                        "fair_local": f"{start.astimezone(fair_zone):%Y-%m-%d %H:%M}–{end.astimezone(fair_zone):%H:%M}",
                        "presenter_local": f"{start.astimezone(presenter_zone):%Y-%m-%d %H:%M}–{end.astimezone(presenter_zone):%H:%M}",
                    }
                )
        start += SLOT_STEP
    return slots


def _round_up(moment: datetime, step: timedelta) -> datetime:
    epoch = datetime(2000, 1, 1, tzinfo=timezone.utc)
    remainder = (moment - epoch) % step
    return moment if not remainder else moment + (step - remainder)


# ---------------------------------------------------------------- registrations
#
# Only `registered` takes a place. A full fair that keeps a waiting list puts people on it in
# the order they asked (`waitlisted_at`, then id); whenever a place frees (a withdrawal, a larger
# capacity) the first waiting people move up in the same transaction, and the notification and
# the mail that tell them are stored in it too (the outbox sends the mail after the commit, the
# live copy of the notification goes out after the commit).

#: Statuses that hold a person on the fair: shown to them, withdrawable.
_HOLDING = (RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED)


def _lock_fair(fair_id: int) -> Fair | None:
    """The fair, its row locked until the commit: registrations for one fair go one at a time (PostgreSQL;
    SQLite serialises writers by itself)."""
    return db.session.scalar(
        select(Fair).where(Fair.id == fair_id).with_for_update().execution_options(populate_existing=True)
    )


def _taken(fair_id: int) -> int:
    return db.session.scalar(
        select(func.count(Registration.id)).where(
            Registration.fair_id == fair_id, Registration.status == RegistrationStatus.REGISTERED
        )
    ) or 0


def is_full(fair: Fair, taken: int | None = None) -> bool:
    if fair.capacity is None:
        return False
    return (taken if taken is not None else _taken(fair.id)) >= fair.capacity


def _waiting_order():
    return (Registration.waitlisted_at, Registration.id)


def waitlist_position(registration: Registration) -> int | None:
    """1 for the next person to move up; None unless the registration is waiting."""
    if registration.status != RegistrationStatus.WAITLISTED:
        return None
    ahead = db.session.scalar(
        select(func.count(Registration.id)).where(
            Registration.fair_id == registration.fair_id,
            Registration.status == RegistrationStatus.WAITLISTED,
            or_(
                Registration.waitlisted_at < registration.waitlisted_at,
                and_(Registration.waitlisted_at == registration.waitlisted_at, Registration.id < registration.id),
            ),
        )
    ) or 0
    return ahead + 1


def _with_position(registration: Registration) -> Registration:
    registration.position = waitlist_position(registration)
    return registration


def registration_for(user, fair: Fair) -> Registration | None:
    """The person's registration as their fair page shows it (with `position`): a place, a place on the
    waiting list, or an attendance (a walk-in, or someone who attended and withdrew later)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    registration = db.session.scalar(
        select(Registration).where(Registration.fair_id == fair.id, Registration.user_id == user.id)
    )
    if registration is None or (registration.status == RegistrationStatus.WITHDRAWN and registration.attended_at is None):
        return None
    return _with_position(registration)


def register(actor, fair_id: int) -> tuple[Registration, bool]:
    """Ask for a place; returns (registration, created), the registration with its `position`.

    A full fair puts the person on its waiting list (`waitlisted`) when it keeps one, else 409
    `fair_full`. Asking again changes nothing (created False).
    """
    require_role(actor, Role.ATTENDEE)
    fair = _lock_fair(fair_id)
    if fair is None or not fair_is_public(fair):
        db.session.rollback()
        raise NotFound(gettext("No such fair."))
    if fair.status not in (FairStatus.PUBLISHED, FairStatus.LIVE):
        db.session.rollback()
        raise Conflict(gettext("Registration is closed: this fair is %(status)s.", status=status_label(fair.status)),
                       code="registration_closed")
    existing = db.session.scalar(
        select(Registration).where(Registration.fair_id == fair.id, Registration.user_id == actor.id)
    )
    if existing is not None and existing.status in _HOLDING:
        db.session.commit()
        return _with_position(existing), False
    # Places freed while nobody moved people up (the list was switched off and on): the queue goes first.
    promoted = _move_up(fair)
    now = utcnow()
    if is_full(fair):
        if not fair.waitlist:
            db.session.rollback()
            raise Conflict(
                ngettext("This fair is full (%(num)d place) and keeps no waiting list.",
                         "This fair is full (%(num)d places) and keeps no waiting list.", fair.capacity),
                code="fair_full",
                details={"capacity": fair.capacity},
            )
        status = RegistrationStatus.WAITLISTED
    else:
        status = RegistrationStatus.REGISTERED
    if existing is None:
        existing = Registration(fair_id=fair.id, user_id=actor.id)
        db.session.add(existing)
    existing.status = status
    existing.registered_at = now
    existing.withdrawn_at = None
    existing.waitlisted_at = now if status == RegistrationStatus.WAITLISTED else None
    db.session.flush()
    _with_position(existing)
    db.session.commit()
    deliver_live(promoted)
    return existing, True


def withdraw(actor, fair_id: int) -> str:
    """Give up one's place or leave the waiting list; the first waiting person moves up.
    Returns the status left (`registered` or `waitlisted`); 404 when there is none."""
    require_role(actor, Role.ATTENDEE)
    fair = _lock_fair(fair_id)
    if fair is None or not fair_is_public(fair):
        db.session.rollback()
        raise NotFound(gettext("No such fair."))
    registration = db.session.scalar(
        select(Registration).where(
            Registration.fair_id == fair.id, Registration.user_id == actor.id, Registration.status.in_(_HOLDING)
        )
    )
    if registration is None:
        db.session.rollback()
        raise NotFound(gettext("You are not registered for this fair."))
    left = registration.status
    registration.status = RegistrationStatus.WITHDRAWN
    registration.withdrawn_at = utcnow()
    promoted = _move_up(fair)
    db.session.commit()
    deliver_live(promoted)
    return left


def _move_up(fair: Fair) -> list:
    """Move the first waiting people into free places (caller holds the fair's lock); stores the
    notification and the mail for each in this transaction. Returns the notifications."""
    if fair.status not in (FairStatus.PUBLISHED, FairStatus.LIVE):
        return []
    query = (
        select(Registration)
        .where(Registration.fair_id == fair.id, Registration.status == RegistrationStatus.WAITLISTED)
        .order_by(*_waiting_order())
    )
    if fair.capacity is not None:
        free = fair.capacity - _taken(fair.id)
        if free <= 0:
            return []
        query = query.limit(free)
    notifications = []
    now = utcnow()
    for registration in db.session.scalars(query).all():
        registration.status = RegistrationStatus.REGISTERED
        registration.registered_at = now
        notifications.append(_tell_moved_up(registration, fair))
    return notifications


def _tell_moved_up(registration: Registration, fair: Fair):
    """The in-app notification and the mail, in the person's language and zone."""
    from ..mail import queue, site_link

    person = registration.user
    locale = person.locale if person.locale in ("zh", "en") else "en"
    link = f"/fairs/{fair.id}"
    when = f"{fair.starts_at.astimezone(ZoneInfo(person.timezone)):%Y-%m-%d %H:%M} ({person.timezone})"
    texts = in_both(lambda lang: (
        gettext("A place is yours: %(fair)s", fair=bilingual.text(fair, "title", lang)),
        gettext("A place became free and you moved up from the waiting list. The fair starts %(when)s.", when=when)))
    row = notify(person.id, kind="waitlist_moved_up", texts=texts, lang=locale, link=link)
    queue(person.email, "waitlist_moved_up", locale, person=person, fair=fair, when=when,
          link=site_link(link))
    return row


def list_registrations(actor, fair: Fair, *, page: int, per_page: int) -> tuple[list[Registration], int]:
    """Everyone who asked for a place, was waiting, withdrew or walked in (organisers), with `position`."""
    require_role(actor, Role.ORGANISER)
    query = select(Registration).where(Registration.fair_id == fair.id).order_by(Registration.registered_at,
                                                                                Registration.id)
    items, total = paginate(query, page, per_page)
    positions = {
        registration_id: n
        for n, registration_id in enumerate(db.session.scalars(
            select(Registration.id)
            .where(Registration.fair_id == fair.id, Registration.status == RegistrationStatus.WAITLISTED)
            .order_by(*_waiting_order())
        ), start=1)
    }
    for registration in items:
        registration.position = positions.get(registration.id)
    return items, total


def registration_counts(fair_id: int | None = None) -> dict[str, int]:
    """{"registered", "waitlisted", "attended", "walk_ins"} for one fair, or all fairs when None.

    `registered` are places taken now; `attended` everyone who joined a session while it was live
    (registered, walk-ins, waiting people, and people who withdrew afterwards); `walk_ins` those
    who attended without a place. One query, its statement built once (every agenda page asks).
    """
    if fair_id is None:
        row = db.session.execute(_COUNTS).one()
    else:
        row = db.session.execute(_COUNTS_OF_FAIR, {"fair_id": fair_id}).one()
    return {"registered": row[0] or 0, "waitlisted": row[1] or 0, "attended": row[2] or 0, "walk_ins": row[3] or 0}


_COUNTS = select(
    func.count(Registration.id).filter(Registration.status == RegistrationStatus.REGISTERED),
    func.count(Registration.id).filter(Registration.status == RegistrationStatus.WAITLISTED),
    func.count(Registration.id).filter(Registration.attended_at.is_not(None)),
    func.count(Registration.id).filter(Registration.status == RegistrationStatus.WALK_IN),
)
_COUNTS_OF_FAIR = _COUNTS.where(Registration.fair_id == bindparam("fair_id"))


# ---------------------------------------------------------------- attendance


def attendance_open(session: FairSession, now: datetime | None = None) -> bool:
    """Whether joining `session` now counts as attending: it is `live`, or now lies between its start
    and its end widened by `ATTENDANCE_GRACE_MINUTES` on each side. Cancelled: never."""
    from flask import current_app

    if session.status == SessionStatus.CANCELLED or session.fair.status == FairStatus.CANCELLED:
        return False
    if session.status == SessionStatus.LIVE:
        return True
    now = now or utcnow()
    grace = timedelta(minutes=int(current_app.config.get("ATTENDANCE_GRACE_MINUTES", 15)))
    return session.starts_at - grace <= now <= session.ends_at + grace


def record_attendance(actor, session: FairSession, *, at: datetime | None = None) -> bool:
    """On joining a session's live room: mark the person's registration attended, while the session is
    live only. Someone without a place becomes a walk-in (no place taken); a waiting person stays on
    the waiting list. Returns whether anything was written. One read, and one write the first time.
    (A live room joined by many at once records them in batches instead: `record_attendances`.)"""
    now = at or utcnow()
    if actor is None or actor.role != Role.ATTENDEE or not attendance_open(session, now):
        return False
    registration = db.session.scalar(
        select(Registration).where(Registration.fair_id == session.fair_id, Registration.user_id == actor.id)
    )
    if registration is not None and registration.attended_at is not None:
        return False
    if registration is None:
        try:
            with db.session.begin_nested():
                db.session.add(Registration(fair_id=session.fair_id, user_id=actor.id, status=RegistrationStatus.WALK_IN,
                                            registered_at=now, attended_at=now))
        except IntegrityError:  # the same person joined twice at once: the other join recorded it
            db.session.rollback()
            return False
    else:
        _mark_attended(registration, now)
    db.session.commit()
    return True


def _mark_attended(registration: Registration, at: datetime) -> None:
    registration.attended_at = at
    if registration.status == RegistrationStatus.WITHDRAWN:
        registration.status = RegistrationStatus.WALK_IN


def record_attendances(joined: dict[tuple[int, int], datetime]) -> set[tuple[int, int]]:
    """Attendance for many joins at once, `{(fair id, user id): when they joined}` (each already
    checked by `attendance_open` at that moment): one read per fair, the updates, the walk-ins in one
    insert, one commit. The same rules as `record_attendance`. Returns the pairs settled (recorded
    now or before); a walk-in that a concurrent registration beat is left out, to be tried again."""
    settled: set[tuple[int, int]] = set()
    if not joined:
        return settled
    by_fair: dict[int, dict[int, datetime]] = {}
    for (fair_id, user_id), at in joined.items():
        by_fair.setdefault(fair_id, {})[user_id] = at
    walk_ins = []
    for fair_id, people in by_fair.items():
        found = db.session.scalars(
            select(Registration).where(Registration.fair_id == fair_id, Registration.user_id.in_(list(people)))
        )
        for registration in found:
            if registration.attended_at is None:
                _mark_attended(registration, people[registration.user_id])
            settled.add((fair_id, registration.user_id))
        walk_ins += [{"fair_id": fair_id, "user_id": user_id, "status": RegistrationStatus.WALK_IN.value,
                      "registered_at": at, "attended_at": at}
                     for user_id, at in people.items() if (fair_id, user_id) not in settled]
    if walk_ins:
        dialect = db.session.get_bind().dialect.name
        upsert = pg_insert if dialect == "postgresql" else sqlite_insert
        inserted = db.session.execute(
            upsert(Registration).values(walk_ins).on_conflict_do_nothing(index_elements=["fair_id", "user_id"])
            .returning(Registration.fair_id, Registration.user_id)
        )
        settled.update((fair_id, user_id) for fair_id, user_id in inserted)
    db.session.commit()
    return settled


# ---------------------------------------------------------------- a person's calendar


def sessions_presented_by(user: User) -> list[FairSession]:
    return list(
        db.session.scalars(
            select(FairSession)
            .join(session_presenters, session_presenters.c.session_id == FairSession.id)
            .join(Fair, Fair.id == FairSession.fair_id)
            .where(session_presenters.c.user_id == user.id, Fair.published_at.is_not(None))
            .order_by(FairSession.starts_at)
        )
    )


def registered_fairs(user: User) -> list[Fair]:
    return list(
        db.session.scalars(
            select(Fair)
            .join(Registration, Registration.fair_id == Fair.id)
            .where(Registration.user_id == user.id,
                   Registration.status.in_([RegistrationStatus.REGISTERED, RegistrationStatus.WALK_IN]))
            .order_by(Fair.starts_at)
        )
    )
