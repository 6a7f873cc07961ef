"""The live room's pages: the room itself, the moderation desk and the projector view.

The pages draw the state as of the session's current `seq`; live.js then joins the room with that
`seq` over Socket.IO and keeps the page current from the events (see SPEC.md, "Live").
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, url_for
from flask_babel import gettext
from flask_login import current_user

from .. import bilingual
from ..accounts.access import USER, allow
from ..bounds import MAX_PER_PAGE
from ..errors import NotFound
from ..fairs.enums import kind_label
from ..leads import queries as lead_queries
from ..leads.enums import LEVEL_LABELS
from ..parks import pitch
from ..projects import services as projects
from . import services

bp = Blueprint("live", __name__)

#: How many open questions the projector shows.
PROJECTOR_QUESTIONS = 5


def _staff_session(session_id: int):
    """The session, for its organisers and presenters; to anyone else it does not exist."""
    session = services.get_live_session(current_user, session_id)
    if not services.is_staff(current_user, session):
        raise NotFound(gettext("No such session."))
    return session


def _config(session, questions: list[dict], *, page: str, staff: bool, seq: int, my_interests: dict | None = None,
            questions_more: bool = False) -> dict:
    """What live.js needs, embedded in the page as JSON (`tojson` escapes `<`, `>` and `&`).

    `seq` is read before the questions: the page's state is at least as new as its number (an event
    in between is then applied twice, harmlessly, rather than never)."""
    return {
        "questions": questions,
        "questions_more": questions_more,
        "questions_url": url_for("live_api.list_questions", session_id=session.id),
        "questions_page": min(int(current_app.config["LIVE_JOIN_QUESTIONS"]), MAX_PER_PAGE),
        "page": page,
        "session_id": session.id,
        "user_id": current_user.id,
        "user_name": current_user.name,
        "role": current_user.role,
        "staff": staff,
        "seq": seq,
        "max_chars": services.MAX_QUESTION_CHARS,
        "levels": {str(k): str(v) for k, v in LEVEL_LABELS.items()},
        "level_order": services.LEVEL_ORDER,
        "my_interests": my_interests or {},
        "projects": {str(p.id): bilingual.plain(p, "title") for p in session.projects},
        "projector_questions": PROJECTOR_QUESTIONS,
        "events_url": url_for("live_api.catch_up", session_id=session.id),
        "reorder_ms": current_app.config["LIVE_REORDER_MS"],
        "head_poll_seconds": current_app.config["LIVE_HEAD_POLL_SECONDS"],
    }


@bp.route("/sessions/<int:session_id>/live")
@allow(USER)
def room(session_id: int):
    session = services.get_live_session(current_user, session_id)
    staff = services.is_staff(current_user, session)
    counts = lead_queries.interest_counts(session.id)
    pitched = [
        {"project": p, "materials": projects.list_materials(current_user, p), "count": counts.get(p.id, 0),
         "sites": pitch.for_reader(current_user, p, staff=staff)}  # the best sites (staff), a city's own plots
        for p in session.projects
    ]
    seq = services.current_seq(session.id)
    questions, more = services.join_questions(current_user, session)
    my_interests = services.organisation_interests(current_user, session)
    return render_template(
        "live/room.html",
        embed_url=embeddable(session.fair.stream_url) or embeddable(session.join_url),
        session=session,
        fair=session.fair,
        staff=staff,
        pitched=pitched,
        questions=questions,
        questions_more=more,
        levels=LEVEL_LABELS,
        level_order=services.LEVEL_ORDER,
        my_interests=my_interests,
        kind=kind_label(session.kind),
        config=_config(session, questions, page="room", staff=staff, seq=seq, my_interests=my_interests,
                       questions_more=more),
    )


def embeddable(url: str | None) -> str | None:
    """The address, when the live room may show it in a frame: https on a host of `EMBED_HOSTS`
    (the same list gives the CSP's frame-src)."""
    from urllib.parse import urlsplit

    if not url:
        return None
    parts = urlsplit(url)
    return url if parts.scheme == "https" and (parts.hostname or "") in current_app.config["EMBED_HOSTS"] else None


def _interest_rows(session) -> list[dict]:
    titles = {p.id: bilingual.plain(p, "title") for p in session.projects}
    return [
        {"id": i.id, "client_id": i.client_id, "project": titles.get(i.project_id, ""), "level": i.level,
         "organisation": bilingual.text(i.organisation, "name"),
         "organisation_i18n": bilingual.pair(i.organisation, "name"), "city": i.organisation.city or "", "user": i.user.name,
         "note": i.note, "created_at": i.created_at}
        for i in reversed(lead_queries.session_interests(session.id))
    ]


def _staff_page(session_id: int, page: str, context):
    """A page for the session's staff (`page` names its template and live.js's mode), drawn as of the
    session's `seq`; `context(session, questions)` gives what the page shows besides."""
    session = _staff_session(session_id)
    seq = services.current_seq(session.id)
    questions = services.list_questions(current_user, session)
    return render_template(f"live/{page}.html", session=session, fair=session.fair, **context(session, questions),
                           config=_config(session, questions, page=page, staff=True, seq=seq))


@bp.route("/sessions/<int:session_id>/moderate")
@allow("organiser", "presenter")
def moderate(session_id: int):
    return _staff_page(session_id, "moderate", lambda session, questions: {
        "questions": questions, "interests": _interest_rows(session),
        "counts": lead_queries.interest_counts(session.id), "levels": LEVEL_LABELS,
    })


@bp.route("/sessions/<int:session_id>/projector")
@allow("organiser", "presenter")
def projector(session_id: int):
    return _staff_page(session_id, "projector", lambda session, questions: {
        "questions": services.projector_questions(questions, PROJECTOR_QUESTIONS),
    })
