"""Fair pages (agenda, registration, organiser forms) and the calendar feeds."""

from __future__ import annotations

import re
from datetime import datetime, time
from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask import session as cookie_session
from flask_babel import force_locale, get_locale, gettext
from flask_login import current_user
from sqlalchemy import select

from ..accounts.access import PUBLIC, USER, allow
from ..accounts.models import User
from ..accounts.services import user_by_calendar_token
from ..errors import Conflict, NotFound, ValidationFailed
from ..extensions import db
from ..caching import PageCache
from ..core.view_helpers import press, save_form
from .. import bilingual
from ..forms import attach_errors
from ..i18n import ui_locale
from ..projects.models import Project
from ..reference.services import country_choices, list_sectors
from ..templating import viewer_timezone
from . import bp, calendar, ics, services
from .enums import RegistrationStatus, kind_label, registration_status_label, status_label
from .forms import ActionForm, FairForm, SessionForm
from .models import Fair, FairSession
from .timezones import is_ambiguous, readings, resolve_local


@bp.record_once
def _labels(state) -> None:
    """`fair_status_label(…)` (fairs' and sessions' statuses) and `session_kind_label(…)` in every template,
    macros imported without context included: the codes as the reader's language writes them."""
    state.app.jinja_env.globals.update(fair_status_label=status_label, session_kind_label=kind_label,
                                       registration_status_label=registration_status_label)


def _actor():
    return current_user if current_user.is_authenticated else None


def _fair_link(fair: Fair) -> str:
    return url_for("fairs.fair_page", fair_id=fair.id, _external=True)


def _feed_links(user) -> dict[str, str] | None:
    """The person's private feed: its https:// address and the webcal:// one calendar programs subscribe to."""
    if user is None or not getattr(user, "calendar_token", None):
        return None
    feed = url_for("fairs.personal_feed", token=user.calendar_token, _external=True)
    return {"feed": feed, "webcal": "webcal://" + feed.split("://", 1)[1]}


def _lead_link(lead) -> str:
    return url_for("leads.lead_page", lead_id=lead.id, _external=True)


# ---------------------------------------------------------------- public pages


@bp.route("/")
@allow(PUBLIC)
def index():
    actor = _actor()
    q = (request.args.get("q") or "").strip()[:200]
    return render_template(
        "fairs/index.html",
        upcoming=services.upcoming_fairs(actor, q=q),
        past=services.past_fairs(actor, q=q),
        action_form=ActionForm(),
        q=q,
    )


def _anonymous_pages() -> PageCache:
    """Agenda pages as anonymous visitors see them, keyed by everything that shapes them (per app)."""
    return current_app.extensions.setdefault("cloudfair.agenda_pages", PageCache(max_entries=512, ttl_seconds=30))


@bp.route("/fairs/<int:fair_id>")
@allow(PUBLIC)
def fair_page(fair_id: int):
    actor = _actor()
    key = None
    if actor is None and not cookie_session.get("_flashes"):
        # Anonymous pages carry no CSRF token or personal data. A kept one costs two queries and no fair
        # loaded: its version (publication, revision, status and each session's status: the revision moves
        # on every change of the fair or its sessions but the scheduler's flips to live and ended, which
        # the badges show) and its places; the TTL bounds renamed projects and people. The key is read
        # before the page is made, so a page kept under it is never older than it.
        version = services.fair_version(actor, fair_id)  # 404 for a fair the visitor may not see, as get_fair
        counts = services.registration_counts(fair_id)
        key = (fair_id, version, counts["registered"], counts["waitlisted"], viewer_timezone(), str(get_locale()),
               request.cookies.get("tz"))
        cached = _anonymous_pages().get(key)
        if cached is not None:
            return cached
    fair = services.get_fair(actor, fair_id)
    if key is None:
        counts = services.registration_counts(fair.id)
    sessions = services.agenda(fair)
    html = render_template(
        "fairs/fair.html",
        fair=fair,
        sessions=sessions,
        recommended=_recommended(actor, fair, sessions),
        registration=services.registration_for(actor, fair),
        counts=counts,
        full=services.is_full(fair, counts["registered"]),
        action_form=ActionForm(),
        subscribe=_feed_links(actor),
    )
    if key is not None:
        _anonymous_pages().put(key, html)
    return html


def _recommended(actor, fair: Fair, sessions: list[FairSession]) -> dict | None:
    """For an attendee: this fair's sessions and projects that fit the organisation's demand."""
    if actor is None or actor.role != "attendee":
        return None
    from ..leads import queries as leads

    found = leads.recommendations(actor)
    ids = {s.id for s in sessions}
    return {"sessions": [s for s in found["sessions"] if s["fair_id"] == fair.id],
            "projects": [p for p in found["projects"] if p["session_id"] in ids]}


# ---------------------------------------------------------------- registration


@bp.route("/fairs/<int:fair_id>/register", methods=["POST"])
@allow("attendee")
def register(fair_id: int):
    if ActionForm().validate_on_submit():
        try:
            registration, created = services.register(current_user, fair_id)
        except Conflict as exc:
            flash(exc.message, "error")
        else:
            if registration.status == RegistrationStatus.WAITLISTED:
                flash(gettext("The fair is full: you are number %(position)d on the waiting list. You will be told "
                              "when a place is yours.", position=registration.position), "info")
            else:
                flash(gettext("You are registered.") if created else gettext("You were already registered."), "success")
    return redirect(url_for("fairs.fair_page", fair_id=fair_id))


@bp.route("/fairs/<int:fair_id>/withdraw", methods=["POST"])
@allow("attendee")
def withdraw(fair_id: int):
    if ActionForm().validate_on_submit():
        try:
            left = services.withdraw(current_user, fair_id)
        except NotFound as exc:
            flash(exc.message, "error")
        else:
            flash(gettext("You left the waiting list.") if left == RegistrationStatus.WAITLISTED
                  else gettext("Your registration is withdrawn."), "info")
    return redirect(url_for("fairs.fair_page", fair_id=fair_id))


@bp.route("/fairs/<int:fair_id>/registrations")
@allow("organiser")
def registrations(fair_id: int):
    """Who has a place, who is waiting (in order), who withdrew, who attended."""
    fair = services.get_fair(current_user, fair_id)
    page = max(request.args.get("page", 1, type=int), 1)
    items, total = services.list_registrations(current_user, fair, page=page, per_page=100)
    return render_template("fairs/registrations.html", fair=fair, items=items, total=total, page=page, per_page=100,
                           counts=services.registration_counts(fair.id),
                           grace=int(current_app.config.get("ATTENDANCE_GRACE_MINUTES", 15)))


# ---------------------------------------------------------------- organiser forms


def _fair_choices(form: FairForm) -> None:
    locale = ui_locale()
    # By name in the reader's language (pinyin order in Chinese).
    form.focus_countries.choices = country_choices(locale)
    form.focus_sectors.choices = [(s.code, s.name(locale)) for s in list_sectors()]


def _local_times(form, zone_name: str) -> dict[str, datetime | None]:
    """The form's start and end, typed in the fair's zone, as instants under the local-time rule
    (`timezones.resolve_local`): one 422 naming each field whose time is skipped or, unanswered, repeated."""
    out, errors = {}, {}
    for name in ("starts_at", "ends_at"):
        chosen = getattr(form, f"{name}_fold").data
        fold = int(chosen) if chosen in ("0", "1") else None
        value = getattr(form, name).data
        try:
            # Text that is no date and time goes to the service as it is: its schema names the problem.
            out[name] = value if isinstance(value, str) else resolve_local(value, zone_name, name, fold)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationFailed(errors)
    return out


def _fold_questions(form, zone_name: str) -> dict[str, list]:
    """For each time in the repeated hour: the fold field, its two choices labelled (asked on the page)."""
    asked = {}
    for name in ("starts_at", "ends_at"):
        value = getattr(form, name).data
        try:
            found = readings(value, zone_name) if value is not None else []
        except Exception:  # an unknown zone: the service names it
            found = []
        if len(found) == 2:
            fold_field = getattr(form, f"{name}_fold")
            fold_field.choices = [(str(r.fold), _reading_label(r)) for r in found]
            asked[name] = fold_field
    return asked


def _reading_label(reading) -> str:
    utc = reading.instant.strftime("%H:%M")
    if reading.fold == 0:
        return gettext("The first, in %(name)s (UTC%(offset)s, %(utc)s UTC)", name=reading.abbreviation,
                       offset=reading.offset, utc=utc)
    return gettext("The second, in %(name)s (UTC%(offset)s, %(utc)s UTC)", name=reading.abbreviation,
                   offset=reading.offset, utc=utc)


def _show_local(form, name: str, moment: datetime, zone: ZoneInfo) -> None:
    """Put a stored instant into a form field as the fair's local time (and which one, if it repeats)."""
    local = moment.astimezone(zone)
    getattr(form, name).data = local.replace(tzinfo=None)
    getattr(form, f"{name}_fold").data = str(local.fold) if is_ambiguous(local) else None


_TRACK_SEPARATORS = re.compile(r"[,，、;；]")


def _track_names(text: str | None) -> list[str]:
    return [t.strip() for t in _TRACK_SEPARATORS.split(text or "")]


def _tracks_data(form: FairForm) -> list | None:
    """The form's tracks as the service takes them: the Chinese and English lists side by side, paired
    by their place in the list (a post with only `tracks`, an older client, names them in one language)."""
    if "tracks_zh" not in request.form and "tracks_en" not in request.form:
        names = [t for t in _track_names(request.form.get("tracks")) if t]
        return names or None
    zh, en = _track_names(form.tracks_zh.data), _track_names(form.tracks_en.data)
    while zh and not zh[-1]:
        zh.pop()
    while en and not en[-1]:
        en.pop()
    count = max(len(zh), len(en))
    rows = [{"name_i18n": {"zh": zh[i] if i < len(zh) else "", "en": en[i] if i < len(en) else ""}}
            for i in range(count)]
    return rows or None  # none given: a new fair gets the default track (主会场 / main), a fair keeps its own


def _show_tracks(form: FairForm, fair: Fair) -> None:
    texts = [bilingual.pair(t, "name") for t in fair.tracks]
    for lang in bilingual.LANGS:
        names = [t[lang] for t in texts]
        while names and not names[-1]:
            names.pop()
        getattr(form, f"tracks_{lang}").data = ", ".join(names)


def _fair_data(form: FairForm) -> dict:
    zone = form.timezone.data.strip()
    data = {
        **bilingual.form_data(form, "title", "theme"),
        "timezone": zone,
        **_local_times(form, zone),
        "focus_countries": form.focus_countries.data or [],
        "focus_sectors": form.focus_sectors.data or [],
        "capacity": form.capacity.data,
        "waitlist": bool(form.waitlist.data),
        "stream_url": form.stream_url.data or None,
    }
    tracks = _tracks_data(form)
    if tracks is not None:
        data["tracks"] = tracks
    for field in ("fair_day_start", "fair_day_end", "presenter_day_start", "presenter_day_end"):
        value: time | None = getattr(form, field).data
        if value is not None:
            data[field] = value.strftime("%H:%M")
    return data


@bp.route("/fairs/new", methods=["GET", "POST"])
@allow("organiser")
def new_fair():
    form = FairForm()
    _fair_choices(form)
    return _save_fair(form, None, lambda data: services.create_fair(current_user, data),
                      gettext("The fair was created as a draft."))


@bp.route("/fairs/<int:fair_id>/edit", methods=["GET", "POST"])
@allow("organiser")
def edit_fair(fair_id: int):
    fair = services.get_fair(current_user, fair_id)
    form = FairForm()
    _fair_choices(form)
    if request.method == "GET":
        zone = fair.zone
        bilingual.fill_form(form, fair, "title", "theme")
        form.timezone.data = fair.timezone
        _show_local(form, "starts_at", fair.starts_at, zone)
        _show_local(form, "ends_at", fair.ends_at, zone)
        form.focus_countries.data, form.focus_sectors.data = fair.focus_countries, fair.focus_sectors
        form.capacity.data, form.stream_url.data = fair.capacity, fair.stream_url
        form.waitlist.data = fair.waitlist
        _show_tracks(form, fair)
        for field in ("fair_day_start", "fair_day_end", "presenter_day_start", "presenter_day_end"):
            getattr(form, field).data = getattr(fair, field)
    return _save_fair(form, fair, lambda data: services.update_fair(current_user, fair, data),
                      gettext("The fair was saved."))


def _save_fair(form, fair: Fair | None, save, done: str):
    """Give the form's values to `save` (create or update, returning the fair), then show the fair; its
    field errors go beside the fields (422)."""

    def show(problems: list[str], status: int):
        zone = form.timezone.data or (fair.timezone if fair is not None else "")
        return render_template("fairs/fair_form.html", form=form, fair=fair, problems=problems,
                               folds=_fold_questions(form, zone.strip())), status

    return save_form(form, lambda: (done, url_for("fairs.fair_page", fair_id=save(_fair_data(form)).id)), show,
                     fields=lambda fields: bilingual.form_errors(fields, "title", "theme", "tracks"))


@bp.route("/fairs/<int:fair_id>/publish", methods=["POST"])
@allow("organiser")
def publish(fair_id: int):
    fair = services.get_fair(current_user, fair_id)
    return press(ActionForm(), lambda: services.publish_fair(current_user, fair), gettext("The fair is published."),
                 url_for("fairs.fair_page", fair_id=fair_id))


def _session_choices(form: SessionForm, fair: Fair) -> None:
    form.track.choices = [(t.name, bilingual.plain(t, "name")) for t in fair.tracks]
    presenters = db.session.scalars(select(User).where(User.role == "presenter").order_by(User.name))
    form.presenter_ids.choices = [(p.id, f"{p.name} ({p.timezone})") for p in presenters]
    form.project_ids.choices = [(p.id, p.title) for p in db.session.scalars(select(Project).order_by(Project.title))]


def _session_data(form: SessionForm, fair: Fair) -> dict:
    return {
        **bilingual.form_data(form, "title", "description"),
        "kind": form.kind.data,
        **_local_times(form, fair.timezone),
        "track": form.track.data,
        "presenter_ids": list(form.presenter_ids.data or []),
        "project_ids": list(form.project_ids.data or []),
        "join_url": form.join_url.data or None,
    }


def _suggestions(fair: Fair) -> tuple[list[dict], str | None, str | None]:
    """Free slots for the presenter and length in the query, the error, and the presenter's zone."""
    presenter_id = request.args.get("presenter_id", type=int)
    minutes = request.args.get("minutes", type=int)
    if not presenter_id or not minutes:
        return [], None, None
    try:
        slots = services.suggest_slots(current_user, fair, presenter_id, minutes, limit=20)
    except ValidationFailed as exc:
        return [], exc.message, None
    return slots, None, db.session.get(User, presenter_id).timezone


def _render_session_form(form, fair, session, conflict, problems, status):
    suggestions, suggestion_error, presenter_zone = _suggestions(fair)
    return render_template(
        "fairs/session_form.html", form=form, fair=fair, session=session, conflict=conflict,
        problems=problems, suggestions=suggestions, suggestion_error=suggestion_error, presenter_zone=presenter_zone,
        presenters=[c for c in form.presenter_ids.choices], folds=_fold_questions(form, fair.timezone),
    ), status


def _save_session(form, fair, session, save, done: str):
    """Give the form's values to `save` (a session service, whose schema is the one check); its field
    errors go beside the fields (422), a clash is shown with its details (409)."""
    conflict, problems = None, []
    if request.method == "POST" and form.validate_on_submit():
        try:
            save(_session_data(form, fair))
        except ValidationFailed as exc:
            problems = attach_errors(form, bilingual.form_errors(exc.fields, "title", "theme", "description"))
        except Conflict as exc:
            conflict = exc
        else:
            flash(done, "success")
            return redirect(url_for("fairs.fair_page", fair_id=fair.id))
    status = 409 if conflict else (422 if form.errors or problems else 200)
    return _render_session_form(form, fair, session, conflict, problems, status)


@bp.route("/fairs/<int:fair_id>/sessions/new", methods=["GET", "POST"])
@allow("organiser")
def new_session(fair_id: int):
    fair = services.get_fair(current_user, fair_id)
    form = SessionForm()
    _session_choices(form, fair)
    if request.method == "GET" and request.args.get("starts_at"):
        try:
            start = datetime.fromisoformat(request.args["starts_at"])
            end = datetime.fromisoformat(request.args["ends_at"])
            if start.tzinfo is None or end.tzinfo is None:
                raise ValueError("a slot names its instants with offsets")
            _show_local(form, "starts_at", start, fair.zone)
            _show_local(form, "ends_at", end, fair.zone)
            track = services.find_track(fair, request.args.get("track"))
            form.track.data = track.name if track else None
            form.presenter_ids.data = [request.args.get("presenter_id", type=int)]
        except (KeyError, ValueError):
            pass
    return _save_session(form, fair, None, lambda data: services.create_session(current_user, fair, data),
                         gettext("The session was added."))


@bp.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@allow("organiser")
def edit_session(session_id: int):
    session = services.get_session(current_user, session_id)
    fair = session.fair
    form = SessionForm()
    _session_choices(form, fair)
    if request.method == "GET":
        bilingual.fill_form(form, session, "title", "description")
        form.kind.data, form.track.data = session.kind, session.track.name
        _show_local(form, "starts_at", session.starts_at, fair.zone)
        _show_local(form, "ends_at", session.ends_at, fair.zone)
        form.presenter_ids.data = [p.id for p in session.presenters]
        form.project_ids.data = [p.id for p in session.projects]
        form.join_url.data = session.join_url
    return _save_session(form, fair, session, lambda data: services.update_session(current_user, session, data),
                         gettext("The session was saved."))


@bp.route("/sessions/<int:session_id>/cancel", methods=["POST"])
@allow("organiser")
def cancel_session(session_id: int):
    session = services.get_session(current_user, session_id)
    return press(ActionForm(), lambda: services.cancel_session(current_user, session),
                 lambda _: gettext("“%(title)s” is cancelled; calendar feeds show it.", title=session.title),
                 url_for("fairs.fair_page", fair_id=session.fair_id), category="info")


@bp.route("/me/calendar")
@allow(USER)
def my_calendar():
    links = _feed_links(current_user)
    return render_template("fairs/my_calendar.html", feed=links["feed"], webcal=links["webcal"], action_form=ActionForm())


# ---------------------------------------------------------------- calendar feeds


def _ics(body: bytes | None, etag: str, filename: str, build=None) -> Response:
    # Werkzeug's ETags hold the tags unquoted; If-None-Match compares weakly (RFC 9110 §13.1.2).
    if request.if_none_match.contains_weak(etag.strip('"')):
        response = Response(status=304)
    else:
        response = Response(body if body is not None else build(), mimetype="text/calendar")
        response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = "no-cache"
    return response


def _feed_lang(default: str | None = None) -> str:
    """A feed's language: `?lang=zh|en` (a calendar program sends no cookie), else the given default or the page's."""
    asked = (request.args.get("lang") or "").strip().lower()
    return asked if asked in ("zh", "en") else (default if default in ("zh", "en") else ui_locale())


@bp.route("/fairs/<int:fair_id>.ics")
@allow(PUBLIC)
def fair_feed(fair_id: int):
    # The validator needs the revision only (one query, or none while this process read it within
    # FEED_VERSION_SECONDS); the fair is loaded to build a feed not kept.
    revision = services.fair_version(_actor(), fair_id, kept_seconds=current_app.config["FEED_VERSION_SECONDS"])[1]
    lang = _feed_lang()
    etag = calendar.feed_etag(fair_id, revision, lang)

    def build() -> bytes:
        # Built once per revision (and host) in each process: calendar apps poll often.
        feeds = current_app.extensions.setdefault("cloudfair.fair_feeds", PageCache(max_entries=256, ttl_seconds=60))
        key = (etag, request.host_url)
        body = feeds.get(key)
        if body is None:
            fair = services.get_fair(_actor(), fair_id)
            with force_locale(lang):
                body = ics.fair_calendar(fair, services.agenda(fair), _fair_link)
            feeds.put(key, body)
        return body

    return _ics(None, etag, f"fair-{fair_id}.ics", build=build)


@bp.route("/sessions/<int:session_id>.ics")
@allow(PUBLIC)
def session_feed(session_id: int):
    session: FairSession = services.get_session(_actor(), session_id)
    lang = _feed_lang()
    etag = f'"session-{session.id}-s{session.sequence}-r{session.fair.revision}-{lang}"'

    def build() -> bytes:
        with force_locale(lang):
            return ics.session_calendar(session, _fair_link)

    return _ics(None, etag, f"session-{session.id}.ics", build=build)


@bp.route("/calendar/<token>.ics")
@allow(PUBLIC)  # the secret token is the credential
def personal_feed(token: str):
    user = user_by_calendar_token(token)
    if user is None:
        abort(404)
    with force_locale(_feed_lang(user.locale or "en")):  # calendar programs send no cookie: the person's own language
        body = calendar.personal_calendar(
            f"CloudFair · {user.name}", services.registered_fairs(user), services.sessions_presented_by(user),
            _fair_link, calendar.next_action_leads(user), _lead_link, meeting_events(user),
        )
    return _ics(body, calendar.content_etag(body), "cloudfair.ics")


from ..meetings.queries import feed_events as meeting_events  # noqa: E402  (meetings build on fairs)
