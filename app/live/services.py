"""The live room's rules: who may join, questions and votes, moderation, interests, and the
per-session event log that gives every server event its `seq`.

Each public function commits once and then hands its events to `broadcast.send`, so nothing is
announced that was not stored, and the HTTP API and the Socket.IO handlers behave the same.
"""

from __future__ import annotations

import enum
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import SimpleNamespace
from typing import NamedTuple

from flask import current_app
from flask_babel import gettext
from sqlalchemy import JSON, bindparam, func, insert, inspect, literal_column, or_, select, text, union_all, update
from sqlalchemy.orm import joinedload

from .. import bilingual, signals, statements
from ..accounts.enums import Role
from ..accounts.models import ApiToken, Organisation, User
from ..accounts.services import TOKEN_LETS_IN, hash_token
from ..bounds import has_visible_text
from ..errors import Conflict, Forbidden, NotFound, ServiceError, ValidationFailed
from ..extensions import db
from ..fairs import services as fairs
from ..fairs.enums import SessionStatus
from ..fairs.models import Fair, FairSession
from ..i18n import speaking, ui_locale
from ..leads import queries as lead_queries
from ..leads import services as leads
from ..leads.enums import InterestLevel
from ..leads.models import Interest
from .. import readonly
from ..readonly import reads_only
from ..types import UTCDateTime, utcnow
from . import attendance
from . import broadcast
from .group_commit import GroupCommit
from .limits import check_person, count_people, refusal
from .enums import Audience, Moderation, QuestionStatus
from .models import LiveCounter, LiveEvent, Question, QuestionVote

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 1000
#: Interest levels from the least to the most committed.
LEVEL_ORDER = [level.value for level in InterestLevel]
#: A client more than this many events behind gets the full state instead of the missed events.
REPLAY_LIMIT = 500


@dataclass
class Outgoing:
    session_id: int
    name: str
    payload: dict
    audience: str = Audience.ROOM


@dataclass
class Result:
    """What a service call produced: the object(s) and whether it was a replay."""

    value: dict
    duplicate: bool = False
    events: list[Outgoing] = field(default_factory=list)


# ---------------------------------------------------------------- who may do what


def get_live_session(actor, session_id) -> FairSession:
    if actor is None:
        raise Forbidden(gettext("Log in first."))
    if not isinstance(session_id, int) or isinstance(session_id, bool):
        raise ValidationFailed({"session_id": gettext("Give a session id.")})
    return fairs.get_session(actor, session_id)


def is_staff(actor, session: FairSession) -> bool:
    """Organisers and the session's presenters moderate and see staff-only detail."""
    return actor is not None and (actor.role == Role.ORGANISER or any(p.id == actor.id for p in session.presenters))


#: The statuses of a session that takes no more questions or interest: `_open_for_input` refuses them,
#: the interest path looks for a replay in them, and a question's insert checks them in SQL (`_NEW_QUESTION`).
_CLOSED = (SessionStatus.CANCELLED, SessionStatus.ENDED)


def _open_for_input(session: FairSession) -> None:
    if session.status in _CLOSED:
        raise Conflict(gettext("This session is cancelled; it takes no more questions or interest.")
                       if session.status == SessionStatus.CANCELLED else
                       gettext("This session has ended; it takes no more questions or interest."), code="session_closed")


# ---------------------------------------------------------------- the event log


def _next_seq(session_id: int) -> int:
    """The session's next number: one upsert. Its row stays locked until the commit, so callers
    record their events last, right before committing."""
    return db.session.execute(_NEXT_SEQ, {"session_id": session_id, "seq": 1}).scalar_one()


_NEXT_SEQ = statements.upsert(LiveCounter.__table__, ("session_id", "seq"), ("session_id",),
                              update="seq = live_counters.seq + 1", returning=("seq",))
_INSERT_EVENT = insert(LiveEvent.__table__)
#: PostgreSQL: the next number and the event in one statement, so the counter's row (which every event
#: of the session waits for) is held for one round trip less: the commit follows at once.
_PG_RECORD = text(
    f"WITH counter AS ({_NEXT_SEQ.element.text}) "
    "INSERT INTO live_events (session_id, seq, name, audience, payload, created_at) "
    "SELECT :session_id, counter.seq, :name, :audience, "
    "CAST(CAST(:payload AS jsonb) || jsonb_build_object('seq', counter.seq) AS json), :created_at FROM counter "
    "RETURNING seq"
).bindparams(bindparam("payload", type_=JSON()), bindparam("created_at", type_=UTCDateTime()))


def record(session_id: int, name: str, payload: dict, audience: str = Audience.ROOM) -> Outgoing:
    """Give an event the session's next seq and store it, in the caller's transaction."""
    row = {"session_id": session_id, "name": name, "audience": audience, "created_at": utcnow()}
    if db.session.get_bind().dialect.name == "postgresql":
        seq = db.session.execute(_PG_RECORD, {**row, "seq": 1, "payload": {**payload, "session_id": session_id}}).scalar_one()
        return Outgoing(session_id, name, {**payload, "session_id": session_id, "seq": seq}, audience)
    seq = _next_seq(session_id)
    body = {**payload, "session_id": session_id, "seq": seq}
    db.session.execute(_INSERT_EVENT, {**row, "seq": seq, "payload": body})
    return Outgoing(session_id, name, body, audience)


#: The session's next `seq` numbers: a range as long as the parameter `seq`, whose last number it returns.
_NEXT_SEQS = statements.upsert(LiveCounter.__table__, ("session_id", "seq"), ("session_id",),
                               update="seq = live_counters.seq + excluded.seq", returning=("seq",))


def _by_session(events: list[tuple[int, str, dict, str]]) -> list[tuple[int, list[int]]]:
    """The events' indexes per session, sessions in one order (concurrent transactions lock their
    counters alike)."""
    sessions: dict[int, list[int]] = {}
    for index, (session_id, *_) in enumerate(events):
        sessions.setdefault(session_id, []).append(index)
    return sorted(sessions.items())


def record_many(events: list[tuple[int, str, dict, str]]) -> list[Outgoing]:
    """`record` for several (session id, name, payload, audience) in the caller's transaction: one
    statement numbers each session's events (a range of `seq`, the sessions in one order so that
    concurrent transactions lock their counters alike), one more stores them all."""
    now, rows, out = utcnow(), [], [None] * len(events)
    for session_id, indexes in _by_session(events):
        last = db.session.execute(_NEXT_SEQS, {"session_id": session_id, "seq": len(indexes)}).scalar_one()
        for seq, index in zip(range(last - len(indexes) + 1, last + 1), indexes):
            _, name, payload, audience = events[index]
            body = {**payload, "session_id": session_id, "seq": seq}
            rows.append({"session_id": session_id, "name": name, "audience": audience, "created_at": now,
                         "seq": seq, "payload": body})
            out[index] = Outgoing(session_id, name, body, audience)
    if rows:
        db.session.execute(_INSERT_EVENT, rows)
    return out


#: PostgreSQL, psycopg's style: a session's next `n` numbers and its `n` events in one statement (the
#: events' names, audiences and JSON payloads as arrays, numbered in their order), returning their seqs.
#: The arrays go in binary (`%(...)b`): in text, psycopg escaped every quote of every JSON payload with a
#: regular expression, about 6 CPU-ms for 100 events against 0.1 in binary (`bench/pg_arrays.py`).
_PG_RECORD_MANY = (
    "WITH counter AS (INSERT INTO live_counters (session_id, seq) VALUES (%(session_id)s, %(n)s)"
    " ON CONFLICT (session_id) DO UPDATE SET seq = live_counters.seq + excluded.seq RETURNING seq)"
    " INSERT INTO live_events (session_id, seq, name, audience, payload, created_at)"
    " SELECT %(session_id)s, counter.seq - %(n)s + e.ord, e.name, e.audience,"
    " CAST(CAST(e.payload AS jsonb) || jsonb_build_object('seq', counter.seq - %(n)s + e.ord) AS json),"
    " %(created_at)s"
    " FROM counter, unnest(%(names)b::text[], %(audiences)b::text[], %(payloads)b::text[])"
    " WITH ORDINALITY AS e(name, audience, payload, ord)"
    " RETURNING seq")


#: `_PG_RECORD_MANY` for interests' events: each event's payload takes its interest's `lead_id`.
_PG_RECORD_INTERESTS = (_PG_RECORD_MANY
                        .replace("%(payloads)b::text[])", "%(payloads)b::text[], %(interests)b::integer[])")
                        .replace("AS e(name, audience, payload, ord)", "AS e(name, audience, payload, interest, ord)"
                                 " JOIN interests AS i ON i.id = e.interest")
                        .replace("jsonb_build_object('seq', counter.seq - %(n)s + e.ord)",
                                 "jsonb_build_object('seq', counter.seq - %(n)s + e.ord, 'lead_id', i.lead_id)"))
assert _PG_RECORD_INTERESTS.count("i.lead_id") == 1 and "e.interest" in _PG_RECORD_INTERESTS


def record_queued(driver, events: list[tuple[int, str, dict, str]], *,
                  interests: list[int] | None = None) -> Callable[..., list[Outgoing]]:
    """`record_many` on PostgreSQL with its statements only queued on `driver` (the session's psycopg
    connection in pipeline mode: one statement per session numbers and stores its events): the caller's
    commit on that connection sends them, then the returned function gives the events as `record_many`
    does. With `interests` (each event's interest id, written by the same transaction), each event's
    stored payload takes its interest's `lead_id` from the database (a batch's leads are known only once
    it is sent); the returned function is then given those payloads' lead ids (`lead_ids`, in order)."""
    now, queued = utcnow(), []
    for session_id, indexes in _by_session(events):
        payloads = [{**events[index][2], "session_id": session_id} for index in indexes]
        params = {"session_id": session_id, "n": len(indexes), "created_at": now,
                  "names": [events[index][1] for index in indexes], "audiences": [events[index][3] for index in indexes],
                  "payloads": [json.dumps(payload) for payload in payloads]}
        if interests is not None:
            params["interests"] = [interests[index] for index in indexes]
        cursor = driver.cursor()
        cursor.execute(_PG_RECORD_MANY if interests is None else _PG_RECORD_INTERESTS, params)
        queued.append((session_id, indexes, payloads, cursor))

    def numbered(lead_ids: list[int] | None = None) -> list[Outgoing]:
        out: list[Outgoing | None] = [None] * len(events)
        for session_id, indexes, payloads, cursor in queued:
            with cursor:
                last = max(seq for (seq,) in cursor.fetchall())
            for seq, index, payload in zip(range(last - len(indexes) + 1, last + 1), indexes, payloads):
                body = {**payload, "seq": seq} if lead_ids is None else {**payload, "lead_id": lead_ids[index], "seq": seq}
                out[index] = Outgoing(session_id, events[index][1], body, events[index][3])
        return out

    return numbered


def record_and_commit(events: list[tuple[int, str, dict, str]]) -> list[Outgoing]:
    """`record_many` and the commit. On PostgreSQL the events' numbering and the COMMIT are queued in
    psycopg's pipeline mode and go in one round trip, so the row they lock (the session's counter, which
    every event of the room moves) is held for that round trip alone rather than across the worker's
    turns."""
    if db.session.get_bind().dialect.name != "postgresql":
        out = record_many(events)
        db.session.commit()
        return out
    driver = db.session.connection().connection.driver_connection  # the session's transaction's connection
    with driver.pipeline():
        numbered = record_queued(driver, events)
        driver.commit()
    out = numbered()
    db.session.commit()  # the connection's transaction is over: this ends the session's
    return out


def current_seq(session_id: int) -> int:
    return db.session.scalar(select(LiveCounter.seq).where(LiveCounter.session_id == session_id)) or 0


# ---------------------------------------------------------------- shapes


def question_dict(question: Question) -> dict:
    hidden = question.status == QuestionStatus.HIDDEN
    return {
        "id": question.id,
        "session_id": question.session_id,
        "client_id": question.client_id,
        "text": None if hidden else question.text,
        "status": question.status,
        "pinned": question.pinned,
        "votes": question.votes,
        "author": None if hidden else question.user.name,
        "organisation": None if hidden else question.organisation.name,
        # Each reader of a broadcast shows the name in their language (the other where it is missing).
        "organisation_i18n": None if hidden else bilingual.pair(question.organisation, "name"),
        "created_at": question.created_at.isoformat(),
        "updated_at": question.updated_at.isoformat(),
    }


def organisation_questions(session_id: int, organisation_id: int) -> list[dict]:
    """The questions an organisation's people asked in a session, oldest first, as everyone sees them
    (a lead's page shows those from the session that made the lead)."""
    return [question_dict(q) for q in db.session.scalars(
        select(Question).where(Question.session_id == session_id, Question.organisation_id == organisation_id)
        .order_by(Question.created_at))]


def staff_question_dict(question: Question) -> dict:
    return {**question_dict(question), "text": question.text, "author": question.user.name,
            "organisation": question.organisation.name,
            "organisation_i18n": bilingual.pair(question.organisation, "name")}


def list_questions(actor, session: FairSession, *, personal: bool = False, limit: int | None = None,
                   offset: int = 0) -> list[dict]:
    """Pinned first, then most votes, then oldest; hidden ones for staff only.

    `personal` adds, for this reader, `mine` (their own question) and `voted` (they voted for it).
    `limit`/`offset` give one page of that order (a join takes the first `LIVE_JOIN_QUESTIONS`).
    """
    staff = is_staff(actor, session)
    query = _questions_query(session, staff)
    if limit is not None:
        query = query.limit(limit).offset(offset)
    shape = staff_question_dict if staff else question_dict
    items = [shape(q) for q in db.session.scalars(query)]
    if personal:
        _mark_personal(actor, session.id, items)
    return items


def _questions_query(session, staff: bool):
    # The author and organisation of every question come with it (no lazy load per question).
    query = select(Question).options(joinedload(Question.user), joinedload(Question.organisation)) \
        .where(Question.session_id == session.id)
    if not staff:
        query = query.where(Question.status != QuestionStatus.HIDDEN)
    return query.order_by(Question.pinned.desc(), Question.votes.desc(), Question.created_at, Question.id)


def count_questions(actor, session: FairSession) -> int:
    """How many questions `list_questions` would give this reader in all."""
    query = select(func.count(Question.id)).where(Question.session_id == session.id)
    if not is_staff(actor, session):
        query = query.where(Question.status != QuestionStatus.HIDDEN)
    return db.session.scalar(query) or 0


def _first_questions(actor, session) -> tuple[list[dict], bool]:
    """The first `LIVE_JOIN_QUESTIONS` questions in the room's order, unmarked, and whether there are more."""
    limit = int(current_app.config.get("LIVE_JOIN_QUESTIONS", 20))
    items = list_questions(actor, session, limit=limit + 1)
    return items[:limit], len(items) > limit


def join_questions(actor, session, marks=None) -> tuple[list[dict], bool]:
    """The first `LIVE_JOIN_QUESTIONS` questions in the room's order (the rest are fetched page by
    page when the reader asks), marked for this reader, and whether there are more: a join costs the
    same in a session of ten questions and of ten thousand."""
    items, more = _first_questions(actor, session)
    return _mark_personal(actor, session.id, items, marks), more


@dataclass(frozen=True)
class _Page:
    """What every joiner of a room gets alike, as of `seq` (`_join_page`)."""

    seq: int
    until: float
    questions: list
    more: bool
    counts: dict


def _join_page(actor, session, seq: int, marks) -> tuple[list[dict], bool, dict[str, int], int]:
    """What every joiner of the room gets alike (the first questions, whether there are more, the interest
    counts), kept per process for `LIVE_JOIN_CACHE_SECONDS`: in a join storm a thousand people read one
    copy instead of a thousand queries. A joiner takes the kept page if it is not behind the room's `seq`
    as the joiner read it, and the page's own `seq` is the joiner's (every change to a question or a count
    is an event with the next seq, so the events after it are exactly what the page lacks). When the
    room moves on (a question asked during the storm), one joiner reads the new page and those that
    arrive meanwhile wait for it rather than each reading it too. What changes without an event (a
    person's or an organisation's new name) shows within the seconds kept. Each joiner gets its own
    copies, marked with its own questions and votes; returns them with the page's `seq`."""
    app = current_app._get_current_object()
    ttl = float(app.config.get("LIVE_JOIN_CACHE_SECONDS", 0) or 0)
    staff = is_staff(actor, session)
    key = (session.id, staff)
    if ttl > 0:
        page = _kept_page(app, key, seq, ttl) or _read_page(app, key, actor, session, seq, ttl)
    else:
        page = _Page(seq, 0.0, *_first_questions(actor, session), _counts(session))
    mine, voted = marks
    questions = [{**item, "mine": item["id"] in mine, "voted": item["id"] in voted} for item in page.questions]
    return questions, page.more, dict(page.counts), page.seq


def _kept_page(app, key, seq: int, ttl: float) -> _Page | None:
    """The kept page for `key` if it is not behind `seq` and not old, after waiting for a reading of one
    that will not be behind it."""
    page = app.extensions.setdefault("cloudfair.join_pages", {}).get(key)
    if page is None or page.seq < seq or page.until < time.monotonic():
        reading = app.extensions.setdefault("cloudfair.join_page_reads", {}).get(key)
        if reading is None or reading[0] < seq:
            return None
        reading[1].wait(ttl)  # another joiner is reading a page at least as new
        page = app.extensions["cloudfair.join_pages"].get(key)
        if page is None or page.seq < seq or page.until < time.monotonic():
            return None
    return page


def _read_page(app, key, actor, session, seq: int, ttl: float) -> _Page:
    reads = app.extensions.setdefault("cloudfair.join_page_reads", {})
    done = threading.Event()
    reads[key] = (seq, done)
    try:
        page = _Page(seq, time.monotonic() + ttl, *_first_questions(actor, session), _counts(session))
        pages = app.extensions.setdefault("cloudfair.join_pages", {})
        if len(pages) > 1000:
            pages.clear()
        kept = pages.get(key)
        if kept is None or kept.seq <= seq:  # a slower reading of an older seq does not replace a newer page
            pages[key] = page
        return page
    finally:
        if reads.get(key, (None, None))[1] is done:
            del reads[key]
        done.set()


_VOTED = (select(QuestionVote.id).where(QuestionVote.question_id == Question.id,
                                        QuestionVote.user_id == bindparam("user_id")).exists())
#: The person's own questions and those they voted for (built once: a join asks it for every person).
_PERSONAL_MARKS = (select(Question.id, Question.user_id == bindparam("user_id"), _VOTED)
                   .where(Question.session_id == bindparam("session_id"),
                          or_(Question.user_id == bindparam("user_id"), _VOTED)))


def personal_marks(actor, session_id: int) -> tuple[set[int], set[int]]:
    """This person's own questions and the questions they voted for in the session: one query."""
    mine, voted = set(), set()
    for question_id, own, has_vote in db.session.execute(_PERSONAL_MARKS, {"user_id": actor.id, "session_id": session_id}):
        if own:
            mine.add(question_id)
        if has_vote:
            voted.add(question_id)
    return mine, voted


def _mark_personal(actor, session_id: int, items: list[dict], marks=None) -> list[dict]:
    mine, voted = marks or personal_marks(actor, session_id)
    for item in items:
        item["mine"] = item["id"] in mine
        item["voted"] = item["id"] in voted
    return items


def projector_questions(questions: list[dict], limit: int) -> list[dict]:
    """What the projector shows: the open questions (pinned first), at most `limit`.

    When no open question is pinned, the last pinned one that was answered leads the list (shown as
    answered), so the room still sees what was just discussed. "Last" is the latest change
    (`updated_at`): answering a pinned question is its last change.
    """
    shown = [q for q in questions if q["status"] == QuestionStatus.OPEN]
    if not any(q["pinned"] for q in shown):
        answered = [q for q in questions if q["pinned"] and q["status"] == QuestionStatus.ANSWERED]
        if answered:
            last = max(answered, key=lambda q: (q["updated_at"], q["id"]))
            shown = [last, *shown]
    return shown[:limit]


def organisation_interests(actor, session: FairSession) -> dict[str, dict]:
    """The person's organisation's interests in the session's projects (in any session), per project:
    the highest level so far and every interest (level, note, who, when), oldest first: one query."""
    if actor.role != Role.ATTENDEE or actor.organisation_id is None:
        return {}
    project_ids = [p.id for p in session.projects]
    if not project_ids:
        return {}
    return _interests_by_project(row[1:] for row in db.session.execute(_ORGANISATIONS_INTERESTS, {
        "organisations": [actor.organisation_id], "project_ids": project_ids}))


def _interests_by_project(rows) -> dict[str, dict]:
    """(id, client id, project, level, note, who, when) rows, oldest first, as `organisation_interests` answers."""
    out: dict[str, dict] = {}
    for interest_id, client_id, project_id, level, note, user, created_at in rows:
        entry = out.setdefault(str(project_id), {"level": level, "items": []})
        if LEVEL_ORDER.index(level) > LEVEL_ORDER.index(entry["level"]):
            entry["level"] = level
        entry["items"].append({"id": interest_id, "client_id": client_id, "project_id": project_id, "level": level,
                               "note": note, "user": user, "created_at": created_at.isoformat()})
    return out


def personal_state(actor, session: FairSession) -> dict:
    """What is the reader's own in the room, from the server (the same on every device): the questions
    they asked, the ones they voted for, their organisation's interests per project."""
    mine, voted = personal_marks(actor, session.id)
    return {"session_id": session.id, "mine": sorted(mine), "voted": sorted(voted),
            "my_interests": organisation_interests(actor, session)}


# ---------------------------------------------------------------- joining


def join(actor, session_id, since_seq=None) -> dict:
    """The state a client needs on (re)joining: questions, interest counts, seq, or what it missed.

    Joining while the session is live (or within the grace period) records the person's attendance
    (`attendance.note`: in batches, off the join path); joining before or after records nothing. The session and its
    event number come from the room cache (`live_room`): one query, no lazy loads. The room, the
    person's marks and interests are read with the joins that arrive together (`_join_reads`); every
    read of a join runs without a transaction of its own (`readonly.reads_only`).
    """
    session, (mine, voted), interests = _join_reads(actor, session_id)
    staff = is_staff(actor, session)
    attendance.note(actor, session)  # written at once only with batching off: in its own transaction
    seq = session.seq
    # The person's own state, from the server (any device): questions asked, votes, interests.
    state = {"seq": seq, "staff": staff, "session_id": session.id, "mine": sorted(mine), "voted": sorted(voted),
             "my_interests": interests}
    if isinstance(since_seq, int) and not isinstance(since_seq, bool) and 0 <= since_seq <= seq and seq - since_seq <= REPLAY_LIMIT:
        with reads_only():
            state["events"] = missed_events(actor, session, since_seq, seq, marks=(mine, voted))
            state["interest_counts"] = _counts(session)
        return state
    with reads_only():  # a page kept for this seq reads nothing
        questions, more, counts, state["seq"] = _join_page(actor, session, seq, (mine, voted))
    state.update(
        reset=since_seq is not None,
        questions=questions,
        questions_more=more,
        interest_counts=counts,
    )
    return state


@dataclass(eq=False)
class _PendingJoin:
    """A join waiting for its batch's reads (`_read_joins`)."""

    actor: object
    session_id: object
    room: LiveRoom | None = None
    marks: tuple[set[int], set[int]] = field(default_factory=lambda: (set(), set()))
    interests: dict = field(default_factory=dict)
    error: ServiceError | None = None
    read: bool = False


def _join_reads(actor, session_id) -> tuple[LiveRoom, tuple[set[int], set[int]], dict]:
    """The room, the person's marks and their organisation's interests for a join: read with the other
    joins that arrive together (`_joins`), or alone (`live_room`, `personal_marks`,
    `organisation_interests`) when none does or their batch failed."""
    pending = _PendingJoin(actor, session_id)
    _joins.submit(pending)
    if isinstance(actor, User) and inspect(actor).detached:  # let go of its connection while another read
        db.session.add(actor)
    if pending.read:
        if pending.error is not None:
            raise pending.error
        return pending.room, pending.marks, pending.interests
    with reads_only():  # only the reader checks a connection out (a joiner that waited for a batch did not)
        session = live_room(actor, session_id)
        return session, personal_marks(actor, session.id), organisation_interests(actor, session)


def _marked_questions(one_of):
    """The joiners' own questions (mark 0) and the questions they voted for (mark 1) in their rooms: one
    statement, its lists as `one_of` (`statements.in_list` or `in_array`) makes them."""
    return union_all(
        select(Question.session_id, Question.user_id, Question.id, literal_column("0")).where(
            one_of(Question.session_id, "sessions"), one_of(Question.user_id, "people")),
        select(Question.session_id, QuestionVote.user_id, Question.id, literal_column("1"))
        .join(QuestionVote, QuestionVote.question_id == Question.id)
        .where(one_of(Question.session_id, "sessions"), one_of(QuestionVote.user_id, "people")))


_MARKED_QUESTIONS = _marked_questions(statements.in_list)
#: The same in psycopg's SQL, the lists as arrays (`_read_batch_together`).
_PG_MARKED_QUESTIONS = statements.compiled_for_psycopg(_marked_questions(statements.in_array))


def _read_joins(batch: list[_PendingJoin]) -> None:
    """The group read of a join storm: for the joins that arrived together, the rooms' rows (one query,
    each person's access checked as `live_room` checks it), their own questions and votes (one query),
    and their organisations' interests in the rooms' projects (one query): three statements and one
    pooled connection for the batch instead of three statements, a checkout and its ping per join.
    The same answers as the reads alone (tests/live/test_join_batches.py). A join alone is left to
    its caller on SQLite; on PostgreSQL it is read as a batch of one (one round trip on the driver,
    `_read_batch_together`, where its caller's reads alone are three through the session)."""
    if len(batch) == 1 and db.engine.dialect.name != "postgresql":
        return
    with reads_only():  # the batch's statements in autocommit on PostgreSQL (`app/readonly.py`)
        _read_batch(batch)


def _core(statement, params: dict):
    """The rows of a select of columns on the session's connection (its transaction, or `reads_only`'s
    autocommit: `readonly.connection`) without the ORM's result handling: a join storm's batch reads run
    per batch of a few joiners, and the ORM's part was about a third of each."""
    return readonly.connection().execute(statement, params)


def _read_batch(batch: list[_PendingJoin]) -> None:
    ids = sorted({p.session_id for p in batch if _an_id(p.session_id)})
    if ids and db.engine.dialect.name == "postgresql":
        return _read_batch_together(batch, ids)
    rows = {row.id: row for row in _core(_ROOMS_NOW, {"ids": ids})} if ids else {}
    joined = _rooms_for(batch, rows)
    if joined:
        params = {"sessions": sorted({p.room.id for p in joined}), "people": sorted({p.actor.id for p in joined})}
        _mark(joined, _core(_MARKED_QUESTIONS, params))
        _batch_interests(_attendees(joined))
    for pending in batch:
        pending.read = True


def _rooms_for(batch: list[_PendingJoin], rows: dict) -> list[_PendingJoin]:
    """Each join's room from its session's row (`rows` by id), checked as `live_room` checks it; those
    that may join, the others with their error."""
    joined = []
    for pending in batch:
        try:
            if not _an_id(pending.session_id) or pending.actor is None:
                pending.room = live_room(pending.actor, pending.session_id)  # raises the error alone would
            else:
                pending.room = _live_room(pending.session_id,
                                          *_room_of_row(pending.actor, pending.session_id, rows.get(pending.session_id)))
            joined.append(pending)
        except ServiceError as error:
            pending.error = error
    return joined


def _mark(joined: list[_PendingJoin], rows) -> None:
    """The joiners' own questions and votes from `_MARKED_QUESTIONS`' rows (of these rooms and people,
    or more: a row of a room or person not joined here is left)."""
    found: dict[tuple[int, int, int], set[int]] = {}
    for session_id, user_id, question_id, mark in rows:
        found.setdefault((session_id, user_id, mark), set()).add(question_id)
    for pending in joined:
        for mark in (0, 1):
            pending.marks[mark].update(found.get((pending.room.id, pending.actor.id, mark), ()))


def _shown_interests_of(actor) -> int | None:
    """The organisation whose interests a room shows this joiner (attendees of an organisation), or None."""
    return actor.organisation_id if actor.role == Role.ATTENDEE else None


def _attendees(joined: list[_PendingJoin]) -> list[_PendingJoin]:
    """The joins whose organisation's interests the room shows them."""
    return [p for p in joined if _shown_interests_of(p.actor) is not None and p.room.projects]


def _read_batch_together(batch: list[_PendingJoin], ids: list[int]) -> None:
    """`_read_batch` on PostgreSQL: the rooms' rows, the joiners' marks and (when this process keeps every
    room asked for, as it does once a storm's first joins are in) their organisations' interests in the
    kept rooms' projects go in one round trip, on the driver's own connection in autocommit (no session);
    the marks and interests are read for every room asked for and each join keeps its own room's. When a
    joined room's projects were not all known (a room read now for the first time, or changed), the
    interests are read again after, for the joined rooms' projects."""
    kept_rooms = current_app.extensions.setdefault("cloudfair.interest_rooms", {})
    projects = sorted({project.id for session_id in ids if (room := kept_rooms.get(session_id)) is not None
                       for project in room.projects})
    people = [p.actor for p in batch if p.actor is not None]
    organisations = sorted({_shown_interests_of(a) for a in people} - {None})
    with readonly.driver_connection() as connection:
        with connection.cursor() as rooms, connection.cursor() as marks, connection.cursor() as interests:
            with connection.pipeline():
                rooms.execute(_PG_ROOMS_NOW, {"ids": ids})
                marks.execute(_PG_MARKED_QUESTIONS, {"sessions": ids, "people": sorted({a.id for a in people})})
                if projects and organisations:
                    interests.execute(_PG_ORGANISATIONS_INTERESTS, {"organisations": organisations, "project_ids": projects})
            rows = {row.id: row for row in map(_RoomRow.of, rooms.fetchall())}
            marked = marks.fetchall()
            interest_rows = interests.fetchall() if projects and organisations else []
    joined = _rooms_for(batch, rows)
    _mark(joined, marked)
    attendees = _attendees(joined)
    if attendees and not {project.id for p in attendees for project in p.room.projects} <= set(projects):
        _batch_interests(attendees)  # a room's projects were not known before its row was read
    else:
        _share_interests(attendees, interest_rows)
    for pending in batch:
        pending.read = True


def _organisations_interests(one_of):
    """Some organisations' interests in some projects with who expressed each, oldest first (the person's
    name comes in the same query, not loaded per interest); its lists as `one_of` makes them."""
    return (select(Interest.organisation_id, Interest.id, Interest.client_id, Interest.project_id, Interest.level,
                   Interest.note, User.name, Interest.created_at)
            .join(User, User.id == Interest.user_id)
            .where(one_of(Interest.organisation_id, "organisations"), one_of(Interest.project_id, "project_ids"))
            .order_by(Interest.created_at, Interest.id))


#: Built once: one organisation's for a join alone, the batch's organisations for a batch.
_ORGANISATIONS_INTERESTS = _organisations_interests(statements.in_list)
#: The same in psycopg's SQL (`_read_batch_together`).
_PG_ORGANISATIONS_INTERESTS = statements.compiled_for_psycopg(_organisations_interests(statements.in_array))


def _batch_interests(joined: list[_PendingJoin]) -> None:
    if not joined:
        return
    _share_interests(joined, _core(_ORGANISATIONS_INTERESTS, {
        "organisations": sorted({p.actor.organisation_id for p in joined}),
        "project_ids": sorted({project.id for p in joined for project in p.room.projects})}))


def _share_interests(joined: list[_PendingJoin], found) -> None:
    """Each join's organisation's interests in its room's projects, from `_ORGANISATIONS_INTERESTS`' rows
    (of these organisations and projects, or more). A row's time is UTC, as the ORM gives it."""
    rows: dict[int, list[tuple]] = {}
    for organisation_id, *row in found:
        row[-1] = _UTC.process_result_value(row[-1], None)
        rows.setdefault(organisation_id, []).append(row)
    for pending in joined:
        projects = {project.id for project in pending.room.projects}
        pending.interests = _interests_by_project(
            row for row in rows.get(pending.actor.organisation_id, ()) if row[2] in projects)


def _gathering(setting: str):
    """A group's `pause`: what the writer (or reader) of a batch does before it takes the queue, waits the
    setting's milliseconds for the rest of a wave to arrive (0: yields once)."""
    return lambda: time.sleep(float(current_app.config[setting]) / 1000)


#: What the reader of a batch of joins or connects' tokens waits for the rest of a wave (README: off
#: by default; it pays only on two workers at an ordinary pace).
_gather_joins = _gathering("LIVE_JOIN_GATHER_MS")

#: This process's group read of joins (a waiting join gives its connection back, as interests do).
_joins = GroupCommit(_read_joins, waiting=lambda: _let_go(), pause=_gather_joins)


def _counts(session) -> dict[str, int]:
    counts = lead_queries.interest_counts(session.id)
    return {str(p.id): counts.get(p.id, 0) for p in session.projects}


def missed_events(actor, session: FairSession, since_seq: int, until_seq: int, *, marks=None) -> list[dict]:
    """Every event after `since_seq` up to `until_seq`, one per number: those this person may see
    (a question in its current state), and a `skip` for each staff-only one, so the client's numbers
    have no gap and it knows it missed nothing."""
    staff = is_staff(actor, session)
    rows = list(db.session.scalars(
        select(LiveEvent)
        .where(LiveEvent.session_id == session.id, LiveEvent.seq > since_seq, LiveEvent.seq <= until_seq)
        .order_by(LiveEvent.seq)
    ))
    question_ids = {r.payload.get("id") for r in rows if r.name == "question"}
    question_ids.discard(None)
    questions = {q.id: q for q in db.session.scalars(select(Question).where(Question.id.in_(question_ids)))} if question_ids else {}
    shape = staff_question_dict if staff else question_dict
    events = []
    for row in rows:
        if row.audience == Audience.STAFF and not staff:
            events.append({"event": "skip", "data": {"session_id": session.id, "seq": row.seq}})
            continue
        payload = row.payload
        if row.name == "question" and payload.get("id") in questions:
            payload = {**shape(questions[payload["id"]]), "session_id": session.id, "seq": row.seq}
            if marks is not None:
                payload["mine"] = payload["id"] in marks[0]
                payload["voted"] = payload["id"] in marks[1]
        events.append({"event": row.name, "data": payload})
    return events


def events_since(actor, session_id, since_seq) -> dict:
    """The catch-up read (HTTP `GET /sessions/<id>/events?since_seq=`, Socket.IO `catch_up`):
    exactly the events after `since_seq` up to the current `seq`; `reset` when the client is too far
    behind (it joins again for the full state)."""
    session = get_live_session(actor, session_id)
    if not isinstance(since_seq, int) or isinstance(since_seq, bool) or since_seq < 0:
        raise ValidationFailed({"since_seq": gettext("Give the last seq you have (0 or more).")})
    seq = current_seq(session.id)  # read first: every event up to it is committed (seq follows commit order)
    if since_seq > seq or seq - since_seq > REPLAY_LIMIT:
        return {"session_id": session.id, "seq": seq, "reset": True, "events": []}
    marks = personal_marks(actor, session.id)
    return {"session_id": session.id, "seq": seq, "reset": False,
            "events": missed_events(actor, session, since_seq, seq, marks=marks)}


# ---------------------------------------------------------------- questions


def _check_text(text) -> str:
    if not isinstance(text, str) or not has_visible_text(text):
        raise ValidationFailed({"text": gettext("Write a question.")})
    if len(text) > MAX_QUESTION_CHARS:  # as sent (the document's maxLength), before the spaces go

        raise ValidationFailed({"text": gettext("A question has at most %(max)s characters.", max=f"{MAX_QUESTION_CHARS:,}")})
    return text.strip()


def _publish(result: Result) -> Result:
    broadcast.send(result.events)
    return result


def ask(actor, session_id, text, client_id) -> Result:
    """A question, answered and broadcast after its commit; the same client id again is a resend (the
    stored question) or, with other text or in another session, a conflict.

    `actor` is a `User` or a live connection's `KeptPerson` (`live.events`): its id, organisation and
    names are all the question takes of it. The question is written with one statement that also checks
    the room and tells a resend (`_NEW_QUESTION`: it writes nothing where the session is not one the
    person may ask in, or their client id is taken); only then are the room and the stored question read,
    to say which. Its answer and broadcast are built from what was written, with nothing read back."""
    _check_room_id(actor, session_id)
    try:
        text = _check_text(text)
        client_id = leads.check_client_id(client_id)
    except ValidationFailed:
        live_room(actor, session_id)  # a session the person may not see is not found, whatever was sent
        raise
    now = utcnow()
    values = {"session_id": session_id, "user_id": actor.id, "organisation_id": actor.organisation_id,
              "client_id": client_id, "text": text, "status": QuestionStatus.OPEN.value, "pinned": False,
              "votes": 0, "created_at": now, "updated_at": now}
    question_id = db.session.scalar(_NEW_QUESTION, {**values, "organiser": fairs.is_organiser(actor)})
    if question_id is None:  # not a room the person may ask in, or their client id is taken
        return _not_written(actor, session_id, text, client_id)
    check_person("question", values["user_id"])  # a resend is not counted: it creates nothing
    # As written, with its author as this connection knows them (a `User` or a `KeptPerson`): nothing read back.
    shown = question_dict(SimpleNamespace(id=question_id, **values, user=actor, organisation=actor.organisation))
    # its event numbered with the COMMIT: the room's counter held for one round trip (`record_and_commit`)
    event, = record_and_commit([(session_id, "question", shown, Audience.ROOM)])
    result = _publish(Result({**shown, "mine": True, "voted": False}, events=[event]))
    broadcast.send_personal(values["user_id"], "own_question", {"session_id": shown["session_id"], "question_id": shown["id"]})
    return result


def _not_written(actor, session_id: int, text: str, client_id: str) -> Result:
    """Why `_NEW_QUESTION` wrote nothing: no session the person may see (404); their client id taken (the
    stored question if this is a resend, also of a question asked before the session ended; else 409);
    a session ended or cancelled (409)."""
    session = live_room(actor, session_id)
    existing = _question_by_client_id(actor, client_id)
    if existing is not None:
        return _replayed_question(existing, session, text)
    _open_for_input(session)
    # Open, and the id free: the question the insert saw was deleted since (its session was deleted), or
    # the session opened to the person in between.
    raise NotFound(gettext("No such session."))


#: A new question where the person may ask (the session exists, its fair is published or the person
#: organises, and it has neither ended nor been cancelled: what `live_room` and `_open_for_input` check),
#: and nothing where not or where the person used its client id already (`RETURNING` its id only when
#: written). Concurrent resends of one id wait for the first's transaction and then find it.
_NEW_QUESTION = statements.upsert(
    Question.__table__, ("session_id", "user_id", "organisation_id", "client_id", "text", "status", "pinned",
                         "votes", "created_at", "updated_at"),
    ("user_id", "client_id"), returning=("id",),
    where="FROM fair_sessions JOIN fairs ON fairs.id = fair_sessions.fair_id WHERE fair_sessions.id = :session_id "
          f"AND fair_sessions.status NOT IN ({', '.join(repr(status.value) for status in _CLOSED)}) "
          "AND (fairs.published_at IS NOT NULL OR :organiser)")


#: Whether the person used this client id already: an id only, one statement built once (a resend,
#: or an ask in a session that has ended); the question is then loaded by its id.
_QUESTION_ID_BY_CLIENT_ID = select(Question.id).where(Question.user_id == bindparam("user_id"),
                                                      Question.client_id == bindparam("client_id"))


def _question_by_client_id(actor, client_id: str) -> Question | None:
    question_id = db.session.scalar(_QUESTION_ID_BY_CLIENT_ID, {"user_id": actor.id, "client_id": client_id})
    return None if question_id is None else db.session.get(Question, question_id)


def _replayed_question(question: Question, session: LiveRoom, text: str) -> Result:
    """The same client id again: the stored question if it is the same question (a resend), else 409."""
    if question.session_id != session.id or question.text != text:
        raise Conflict(gettext("This client id was already used for another question."), code="client_id_reused")
    return Result({**question_dict(question), "mine": True, "voted": False}, duplicate=True)


def _get_question(actor, question_id, *, read=None) -> tuple[Question, LiveRoom]:
    """The question (`read`: how it is read; the ORM object by default) and its room, for someone who
    may see both; a hidden question is staff's alone."""
    if not isinstance(question_id, int) or isinstance(question_id, bool):
        raise ValidationFailed({"question_id": gettext("Give a question id.")})
    question = read(question_id) if read else db.session.get(Question, question_id)
    if question is None:
        raise NotFound(gettext("No such question."))
    session = live_room(actor, question.session_id)  # one query, its presenters kept (`is_staff`)
    if question.status == QuestionStatus.HIDDEN and not is_staff(actor, session):
        raise NotFound(gettext("No such question."))
    return question, session


def vote(actor, question_id) -> Result:
    """One vote per person; voting again changes nothing and says so.

    One statement reads the question, its author and organisation and whether the person voted
    (`_shown_question`); a new vote is counted against the person's rate, then written with the votes
    of this process that arrive at the same moment (`_votes`, a group commit: `_write_votes`), and
    answered after that commit. Nothing is read back: the answer is the question as read, with the
    tally the write returned."""
    person_id = actor.id
    question, _ = _get_question(actor, question_id, read=lambda qid: _shown_question(qid, person_id))
    if actor.role != Role.ATTENDEE:
        raise Forbidden(gettext("Only attendees vote."))
    if question.user_id == person_id:
        raise Conflict(gettext("You cannot vote for your own question."), code="own_question")
    shown = question_dict(question)  # read in the transaction: nothing after the commit
    if question.voted:  # a resend: not counted, nothing written
        db.session.rollback()
        return Result(_voted(shown), duplicate=True)
    check_person("vote", person_id)
    pending = _PendingVote(question.id, person_id)
    _votes.submit(pending)
    _back_in_session(actor)
    if not pending.written:  # its batch failed (logged): written alone, on a clean transaction
        db.session.rollback()
        _write_votes([pending])
    counted = pending.counted
    if counted is None:  # another of the person's devices voted a moment ago
        return Result(_voted(shown), duplicate=True)
    shown.update(votes=counted[0], updated_at=counted[1].isoformat())
    broadcast.send_personal(person_id, "own_vote", {"session_id": shown["session_id"], "question_id": shown["id"]})
    question_votes_changed(shown["session_id"], shown["id"])
    return Result(_voted(shown))


#: What `question_dict` reads of a question, its author and organisation, and whether the person
#: voted for it, in one statement.
_SHOWN_QUESTION = (select(Question.id, Question.session_id, Question.user_id, Question.client_id, Question.text,
                          Question.status, Question.pinned, Question.votes, Question.created_at, Question.updated_at,
                          User.name.label("author"), Organisation.name, Organisation.name_zh, Organisation.name_en,
                          select(QuestionVote.id).where(QuestionVote.question_id == Question.id,
                                                        QuestionVote.user_id == bindparam("user_id"))
                          .exists().label("voted"))
                   .join(User, User.id == Question.user_id)
                   .join(Organisation, Organisation.id == Question.organisation_id)
                   .where(Question.id == bindparam("question_id")))


def _shown_question(question_id: int, user_id: int) -> SimpleNamespace | None:
    """The question as `question_dict` reads it (a stand-in with its `user` and `organisation`) and
    whether `user_id` voted for it (`voted`), read without building ORM objects (a vote changes none)."""
    row = db.session.execute(_SHOWN_QUESTION, {"question_id": question_id, "user_id": user_id}).one_or_none()
    if row is None:
        return None
    return SimpleNamespace(
        id=row.id, session_id=row.session_id, user_id=row.user_id, client_id=row.client_id, text=row.text,
        status=row.status, pinned=row.pinned, votes=row.votes, created_at=row.created_at, updated_at=row.updated_at,
        voted=row.voted, user=SimpleNamespace(name=row.author),
        organisation=SimpleNamespace(name=row.name, name_zh=row.name_zh, name_en=row.name_en))


#: A person's vote, nothing when they voted already (compiled once: `statements`).
_INSERT_VOTE = statements.upsert(QuestionVote.__table__, ("question_id", "user_id", "created_at"),
                                 ("question_id", "user_id"), returning=("question_id",))
#: Questions' tallies, each moved by the votes a batch added: the new count and time.
_ADD_VOTES = (update(Question.__table__).where(Question.__table__.c.id == bindparam("question_id"))
              .values(votes=Question.__table__.c.votes + bindparam("added"),
                      updated_at=bindparam("voted_at", type_=UTCDateTime()))
              .returning(Question.__table__.c.votes, Question.__table__.c.updated_at))
#: A batch's votes and their questions' tallies in one statement on PostgreSQL (a tally moves by the
#: votes inserted; a person who had voted inserts nothing), in psycopg's style: it goes on the driver's
#: connection in pipeline mode with the COMMIT. A row per vote counted, with its question's new tally.
#: The questions' rows are locked in id order (`locked`), so two processes' batches over the same
#: questions wait for each other instead of deadlocking.
_PG_VOTES = statements.for_psycopg(
    "WITH vote AS (INSERT INTO question_votes (question_id, user_id, created_at)"
    " SELECT asked.question_id, asked.user_id, :voted_at"
    " FROM unnest(CAST(:question_ids AS integer[]), CAST(:user_ids AS integer[])) AS asked (question_id, user_id)"
    " ON CONFLICT (question_id, user_id) DO NOTHING RETURNING question_id, user_id),"
    " added AS (SELECT question_id, count(*) AS n FROM vote GROUP BY question_id),"
    " locked AS (SELECT id FROM questions WHERE id IN (SELECT question_id FROM added) ORDER BY id FOR UPDATE),"
    " tally AS (UPDATE questions SET votes = questions.votes + added.n, updated_at = :voted_at"
    " FROM added JOIN locked ON locked.id = added.question_id"
    " WHERE questions.id = added.question_id RETURNING questions.id, questions.votes, questions.updated_at)"
    " SELECT vote.question_id, vote.user_id, tally.votes, tally.updated_at FROM vote JOIN tally ON tally.id = vote.question_id")


_UTC = UTCDateTime()


@dataclass(eq=False)
class _PendingVote:
    """A vote waiting for its batch (`_write_votes`)."""

    question_id: int
    user_id: int
    #: Set by the batch: the question's (votes, updated_at) once the vote counted; None when the person
    #: had voted already (nothing written).
    counted: tuple[int, datetime] | None = None
    written: bool = False


def _write_votes(batch: list[_PendingVote]) -> None:
    """The group's writer: the batch's votes and each question's tally, moved once by all its votes,
    in one transaction (on PostgreSQL one statement sent with its COMMIT in one round trip). A burst's
    votes all move one question's row: written one by one, each waited for the other's commit, and two
    server processes were no faster than one. The same person twice in a batch (two devices) counts
    once."""
    now = utcnow()
    first: dict[tuple[int, int], _PendingVote] = {}
    for pending in batch:
        first.setdefault((pending.question_id, pending.user_id), pending)
    counted: dict[tuple[int, int], tuple[int, datetime]] = {}
    if db.session.get_bind().dialect.name != "postgresql":
        added: dict[int, list[int]] = {}
        for question_id, user_id in first:
            params = {"question_id": question_id, "user_id": user_id, "created_at": now}
            if db.session.scalar(_INSERT_VOTE, params) is not None:
                added.setdefault(question_id, []).append(user_id)
        for question_id, users in added.items():
            row = db.session.execute(_ADD_VOTES, {"question_id": question_id, "added": len(users), "voted_at": now}).one()
            counted.update({(question_id, user_id): (row.votes, row.updated_at) for user_id in users})
        db.session.commit()
    else:
        driver = db.session.connection().connection.driver_connection  # the session's transaction's connection
        with driver.pipeline():
            cursor = driver.cursor()
            cursor.execute(_PG_VOTES, {"question_ids": [key[0] for key in first], "user_ids": [key[1] for key in first],
                                       "voted_at": now})
            driver.commit()
        db.session.commit()  # the connection's transaction is over: this ends the session's
        with cursor:
            counted.update({(row[0], row[1]): (row[2], _UTC.process_result_value(row[3], None)) for row in cursor})
    for pending in batch:
        key = (pending.question_id, pending.user_id)
        pending.counted = counted.get(key) if first[key] is pending else None
        pending.written = True


#: This process's group commit of votes.
_votes = GroupCommit(_write_votes, waiting=lambda: _let_go())


def question_votes_changed(session_id: int, question_id: int) -> None:
    """Tell the room a question's votes changed: its `question` event, throttled as the interest counts
    are (`broadcast.throttle`: the first change in a quiet period at once, later ones folded into one
    event per question). A popular question's votes in a room of thousands would otherwise cost the
    room one broadcast per vote."""
    broadcast.throttle("votes", session_id, question_id, lambda ids: broadcast.send(
        question_events(session_id, ids)))


def question_events(session_id: int, question_ids) -> list[Outgoing]:
    """Record each question's state as it is now, as the room sees it (called by the throttle); commits."""
    if not question_ids:
        return []
    questions = db.session.scalars(select(Question).options(joinedload(Question.user), joinedload(Question.organisation))
                                   .where(Question.id.in_(sorted(question_ids))).order_by(Question.id))
    events = [record(session_id, "question", question_dict(question)) for question in questions]
    db.session.commit()
    return events


def _voted(shown: dict) -> dict:
    return {**shown, "mine": False, "voted": True}


def moderate(actor, question_id, action) -> Result:
    question, session = _get_question(actor, question_id)
    if not is_staff(actor, session):
        raise Forbidden(gettext("Only organisers and the session's presenters moderate."))
    try:
        action = Moderation(action)
    except ValueError:
        raise ValidationFailed({"action": gettext("The action is one of answer, hide, pin, unpin.")}) from None
    if action == Moderation.ANSWER:
        question.status = QuestionStatus.ANSWERED
    elif action == Moderation.HIDE:
        question.status = QuestionStatus.HIDDEN
        question.pinned = False
    elif action == Moderation.PIN:
        if question.status == QuestionStatus.HIDDEN:
            raise Conflict(gettext("A hidden question cannot be pinned."), code="question_hidden")
        question.pinned = True
    else:
        question.pinned = False
    db.session.flush()
    shown = staff_question_dict(question)  # built in the transaction: nothing is read after the commit
    events = [record(session.id, "question", question_dict(question))]
    db.session.commit()
    return _publish(Result(shown, events=events))


# ---------------------------------------------------------------- interest


@dataclass(frozen=True)
class _Ref:
    id: int
    status: str | None = None


@dataclass(frozen=True)
class LiveRoom:
    """A read-only stand-in for the session on the join path, from the room cache: what `is_staff`,
    `fairs.record_attendance` and the join's state read of it, with no lazy loads."""

    id: int
    fair_id: int
    status: str
    starts_at: datetime
    ends_at: datetime
    fair: _Ref
    presenters: tuple
    projects: tuple
    #: The session's event number as the room was read (its events up to it are committed).
    seq: int = 0


#: Built once: a statement built per call costs its construction and cache key on every interest and join.
_ROOM_ROWS = (select(FairSession.status, FairSession.starts_at, FairSession.ends_at, Fair.published_at, Fair.revision,
                     Fair.status.label("fair_status"), LiveCounter.seq, FairSession.id)
              .join(Fair, Fair.id == FairSession.fair_id)
              .outerjoin(LiveCounter, LiveCounter.session_id == FairSession.id))
_ROOM = _ROOM_ROWS.where(FairSession.id == bindparam("session_id"))
#: The same for a batch of joins' sessions.
_ROOMS_NOW = _ROOM_ROWS.where(statements.in_list(FairSession.id, "ids"))
#: The same in psycopg's SQL, the ids as one array (`_read_batch_together`).
_PG_ROOMS_NOW = statements.compiled_for_psycopg(_ROOM_ROWS.where(statements.in_array(FairSession.id, "ids")))


class _RoomRow(NamedTuple):
    """A `_ROOM_ROWS` row as read on the driver's own cursor (`_read_batch_together`), its times in UTC as
    the ORM gives them."""

    status: str
    starts_at: datetime
    ends_at: datetime
    published_at: datetime | None
    revision: int
    fair_status: str
    seq: int | None
    id: int

    @classmethod
    def of(cls, row: tuple) -> _RoomRow:
        status, starts_at, ends_at, published_at, *rest = row
        return cls(status, *(_UTC.process_result_value(value, None) for value in (starts_at, ends_at, published_at)),
                   *rest)


#: The same facts (but the event number) of sessions: what a kept room is checked against (`_room_key`
#: after the id).
_ROOMS_OF = (select(FairSession.id, FairSession.status, FairSession.starts_at, FairSession.ends_at, Fair.published_at,
                    Fair.revision, Fair.status.label("fair_status"))
             .join(Fair, Fair.id == FairSession.fair_id))
#: Those of a batch's sessions.
_ROOMS = _ROOMS_OF.where(statements.in_list(FairSession.id, "ids"))


def _room_key(row) -> tuple:
    """What an interest checked of its room's row, to compare with the database (the event number aside)."""
    return row.status, row.starts_at, row.ends_at, row.published_at, row.revision, row.fair_status


@dataclass(frozen=True)
class _KeptRoom:
    revision: int
    #: `time.monotonic()` after which the room is read again.
    until: float
    facts: leads.InterestRoom
    presenters: tuple
    #: The room's row as last read (the interest path's kept facts: see `KeptPerson`).
    row: object
    #: The projects as a join's `LiveRoom` holds them (made once per revision, not per join).
    projects: tuple


def _room(actor, session_id, *, kept: bool = False):
    """One query for the session's status, times, event number and the fair's state and revision (and whether
    the person may see it); the projects, presenters and the people told of interests are kept per
    process until the revision rises (or `LIVE_ROOM_CACHE_SECONDS` pass). With `kept` (the interest path
    of a kept person) the row last read is used without a query, until then: its writer checks it."""
    _check_room_id(actor, session_id)
    cache = current_app.extensions.setdefault("cloudfair.interest_rooms", {})
    room = cache.get(session_id)
    if kept and room is None:  # the first of a burst reads the room; the rest wait and use what it read
        with _reading(session_id):
            room = cache.get(session_id)
            if room is None:
                row = db.session.execute(_ROOM, {"session_id": session_id}).one_or_none()
                return _room_of_row(actor, session_id, row)
    refresh = False
    if kept and room is not None:
        now = time.monotonic()
        if room.until >= now:
            return _room_of_row(actor, session_id, room.row)
        # Past its time: this caller reads the room again, and the rest of a burst go on with the kept
        # row meanwhile (their writer checks it) instead of each reading the room and its facts at once.
        cache[session_id] = replace(room, until=now + _ROOM_REFRESH_SECONDS)
        refresh = True
    row = db.session.execute(_ROOM, {"session_id": session_id}).one_or_none()
    return _room_of_row(actor, session_id, row, refresh=refresh)


def _check_room_id(actor, session_id) -> None:
    """What `_room` refuses before any query: no one logged in, or no session id."""
    if actor is None:
        raise Forbidden(gettext("Log in first."))
    if not _an_id(session_id):
        raise ValidationFailed({"session_id": gettext("Give a session id.")})


def _an_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


#: How long the rest of a burst use a kept room past its time while one caller reads it again.
_ROOM_REFRESH_SECONDS = 1.0


def _room_of_row(actor, session_id: int, row, *, refresh: bool = False):
    """`_room` for a row already read (None: no such session); with `refresh`, the room's facts are
    read again whatever their time."""
    app = current_app._get_current_object()
    cache = app.extensions.setdefault("cloudfair.interest_rooms", {})
    now = time.monotonic()
    room = cache.get(session_id)
    if row is None or not (row.published_at is not None or fairs.is_organiser(actor)):
        raise NotFound(gettext("No such session."))
    if room is None or room.revision != row.revision or room.until < now or refresh:
        session = db.session.get(FairSession, session_id)
        facts = leads.interest_room(session)
        room = cache[session_id] = _KeptRoom(row.revision, now + float(app.config.get("LIVE_ROOM_CACHE_SECONDS", 30)),
                                             facts, tuple(_Ref(p.id) for p in session.presenters),
                                             row, tuple(_Ref(project_id) for project_id in facts.projects))
    elif room.row is not row:
        cache[session_id] = replace(room, row=row)
    return row, room


#: Per session, the lock under which a burst's first interest reads a room this process does not keep.
_room_locks: dict[int, threading.Lock] = {}


def _reading(session_id: int) -> threading.Lock:
    """The lock under which this process's first interest of a burst reads a session's room it does not
    keep yet (`_room`): the rest of the burst wait for that read and use it, instead of each reading the
    row and the room's facts at once (a fair's first burst in a process read them once per interest).
    Those who wait hold no database connection (nothing was read for a kept person before), so the one
    reading always gets one."""
    return _room_locks.setdefault(session_id, threading.Lock())


def interest_room(actor, session_id, *, kept: bool = False) -> tuple[leads.InterestRoom, tuple]:
    """The session as recording an interest needs it, for someone who may see it (`_room`), and the key
    of the row it was checked against (`_room_key`)."""
    row, room = _room(actor, session_id, kept=kept)
    return replace(room.facts, status=row.status, starts_at=row.starts_at, ends_at=row.ends_at), _room_key(row)


def live_room(actor, session_id) -> LiveRoom:
    """The session as joining needs it, for someone who may see it (`_room`)."""
    return _live_room(session_id, *_room(actor, session_id))


def _live_room(session_id: int, row, room: _KeptRoom) -> LiveRoom:
    facts = room.facts
    return LiveRoom(session_id, facts.fair_id, row.status, row.starts_at, row.ends_at, _Ref(facts.fair_id, row.fair_status),
                    room.presenters, room.projects, row.seq or 0)


@dataclass(frozen=True)
class KeptOrganisation:
    name: str
    name_zh: str | None
    name_en: str | None
    city: str | None


@dataclass(frozen=True)
class KeptPerson:
    """A person as their live connection last read them (`live.events`): an interest is checked against
    this and the process's kept room without a query, and the group commit's writer compares both with
    the database in one query per batch before writing (`_stale`). Where anything differs (deactivated,
    another role or organisation, a renamed person, a session ended or changed), the interest is not
    written: `StaleFacts` makes the caller read the person and the room again and check it afresh."""

    id: int
    active: bool
    role: str
    name: str
    locale: str | None
    organisation_id: int | None
    organisation: KeptOrganisation | None

    @classmethod
    def of(cls, user: User) -> KeptPerson:
        organisation = user.organisation
        return cls(user.id, user.active, user.role, user.name, user.locale, user.organisation_id,
                   None if organisation is None else KeptOrganisation(organisation.name, organisation.name_zh,
                                                                      organisation.name_en, organisation.city))

    @classmethod
    def from_facts(cls, row) -> KeptPerson:
        """From a row in `facts()`'s order (`_PEOPLE`, `_TOKENS_PEOPLE`)."""
        (person_id, active, role, name, locale, organisation_id, *names) = row
        organisation = None if organisation_id is None else KeptOrganisation(*names)
        return cls(person_id, active, role, name, locale, organisation_id, organisation)

    def facts(self) -> tuple:
        organisation = self.organisation or KeptOrganisation(None, None, None, None)
        return (self.id, self.active, self.role, self.name, self.locale, self.organisation_id,
                organisation.name, organisation.name_zh, organisation.name_en, organisation.city)


#: A person's facts in `KeptPerson.facts`'s order, their organisation's names joined.
_PERSON_FACTS = (select(User.id, User.active, User.role, User.name, User.locale, User.organisation_id,
                        Organisation.name, Organisation.name_zh, Organisation.name_en, Organisation.city)
                 .outerjoin(Organisation, Organisation.id == User.organisation_id))
#: A batch's people, one query.
_PEOPLE = _PERSON_FACTS.where(statements.in_list(User.id, "ids"))
#: The active people behind some live (unrevoked, unexpired) API tokens, each row with its token's hash
#: last: every live connect asks it, alone or with the connects that arrive together.
_PEOPLE_BY_TOKEN = _PERSON_FACTS.add_columns(ApiToken.token_hash).join(ApiToken, ApiToken.user_id == User.id)
_TOKENS_PEOPLE = _PEOPLE_BY_TOKEN.where(statements.in_list(ApiToken.token_hash, "token_hashes"), *TOKEN_LETS_IN)
#: The same in psycopg's SQL, the hashes as one array (`readonly.driver_connection`).
_PG_TOKENS_PEOPLE = statements.compiled_for_psycopg(
    _PEOPLE_BY_TOKEN.where(statements.in_array(ApiToken.token_hash, "token_hashes"), *TOKEN_LETS_IN))


@dataclass(eq=False)
class _PendingToken:
    """A connect waiting for its batch's read of tokens (`_read_tokens`)."""

    token_hash: str
    person: KeptPerson | None = None
    read: bool = False


def person_for_token(plain: str) -> KeptPerson | None:
    """`accounts.user_for_token` as the live room keeps a person: one row, no ORM objects loaded (a
    fair's opening connects thousands at once). Read with the connects that arrive together
    (`_tokens`: one statement for the batch), or alone."""
    if not plain:
        return None
    pending = _PendingToken(hash_token(plain))
    _tokens.submit(pending)
    if pending.read:
        return pending.person
    return _people_for_tokens([pending.token_hash]).get(pending.token_hash)


def _read_tokens(batch: list[_PendingToken]) -> None:
    """The group read of a connect storm: the people behind the batch's tokens in one statement, with
    the same statement as a connect alone; a token not found connects nobody. A connect alone is left
    to its caller."""
    if len(batch) == 1:
        return
    found = _people_for_tokens(sorted({p.token_hash for p in batch}))
    for pending in batch:
        pending.person, pending.read = found.get(pending.token_hash), True


def _people_for_tokens(token_hashes: list[str]) -> dict[str, KeptPerson]:
    """The people behind these token hashes, by hash; on PostgreSQL on the driver's own connection (no session)."""
    params = {"token_hashes": token_hashes, "now": utcnow()}
    if db.engine.dialect.name == "postgresql":
        with readonly.driver_connection() as connection:
            rows = connection.execute(_PG_TOKENS_PEOPLE, params).fetchall()
    else:
        rows = _core(_TOKENS_PEOPLE, params)
    return {row[-1]: KeptPerson.from_facts(row[:-1]) for row in rows}


#: This process's group read of tokens (a waiting connect holds no connection: its block has read nothing).
_tokens = GroupCommit(_read_tokens, waiting=lambda: _let_go(), pause=_gather_joins)


class StaleFacts(Exception):
    """What an interest was checked against (a kept person or room) is no longer what the database
    holds, or a kept check refused it: nothing was written; check it again on fresh reads."""


def _stale(pending: list[_PendingInterest]) -> set[_PendingInterest]:
    """Those of `pending` checked against kept facts that no longer hold: two queries for the batch."""
    kept = [item for item in pending if item.person is not None]
    if not kept:
        return set()
    people = {row[0]: tuple(row) for row in _core(_PEOPLE, _people_ids(kept))}
    rooms = {row.id: _room_key(row) for row in _core(_ROOMS, _room_ids(kept))}
    return _no_longer_so(kept, people, rooms)


def _people_ids(kept: list[_PendingInterest]) -> dict:
    return {"ids": sorted({item.person.id for item in kept})}


def _room_ids(kept: list[_PendingInterest]) -> dict:
    return {"ids": sorted({item.room.id for item in kept})}


def _no_longer_so(kept: list[_PendingInterest], people: dict, rooms: dict) -> set[_PendingInterest]:
    """Those of `kept` whose person's facts or room's key differ from the rows read now (`people`: facts by
    person id; `rooms`: `_room_key` by session id)."""
    return {item for item in kept
            if people.get(item.person.id) != item.person.facts() or rooms.get(item.room.id) != item.room_key}


#: `_stale`'s two reads and the look-up of a batch's client ids already used, in psycopg's own SQL: on
#: PostgreSQL the batch sends the three together in pipeline mode (`_looked_up`). A row's values compare
#: equal to the ORM's (text columns; aware timestamps, equal at the same instant whatever their zone).
_PG_PEOPLE = statements.compiled_for_psycopg(_PERSON_FACTS.where(statements.in_array(User.id, "ids")))
_PG_ROOMS = statements.compiled_for_psycopg(_ROOMS_OF.where(statements.in_array(FairSession.id, "ids")))
_PG_USED = (f"SELECT i.user_id, i.client_id FROM {Interest.__tablename__} AS i"
            " JOIN unnest(%(people)s::integer[], %(client_ids)s::text[]) AS k(user_id, client_id)"
            " ON i.user_id = k.user_id AND i.client_id = k.client_id")


def _looked_up(batch: list[_PendingInterest]) -> tuple[set[_PendingInterest], dict, list[int] | None]:
    """`_stale(batch)`, the replays' answers (`stored_replays`) of the batch's (person, client id) pairs
    that name a stored interest, and on PostgreSQL an interest id for each of the batch (for
    `leads.queue_interests`; None on SQLite). On PostgreSQL the facts, which pairs are used and the ids
    are read in one round trip (psycopg's pipeline mode, in the batch's transaction); the answers of
    the pairs found, if any (a replay: rare but in a burst of retries), in one query more."""
    keys = sorted({pending.key for pending in batch})
    if db.session.get_bind().dialect.name != "postgresql":
        return _stale(batch), lead_queries.stored_replays(keys), None
    kept = [item for item in batch if item.person is not None]
    driver = db.session.connection().connection.driver_connection  # the session's transaction's connection
    with driver.cursor() as people, driver.cursor() as rooms, driver.cursor() as used, driver.cursor() as new:
        with driver.pipeline():
            if kept:
                people.execute(_PG_PEOPLE, _people_ids(kept))
                rooms.execute(_PG_ROOMS, _room_ids(kept))
            used.execute(_PG_USED, {"people": [person for person, _ in keys], "client_ids": [client for _, client in keys]})
            new.execute(leads.PG_NEW_INTEREST_IDS, {"n": len(batch)})
        stale = _no_longer_so(kept, {row[0]: row for row in people.fetchall()},
                              {row[0]: row[1:] for row in rooms.fetchall()}) if kept else set()
        found = used.fetchall()
        ids = [interest_id for (interest_id,) in new.fetchall()]
    return stale, lead_queries.stored_replays(found) if found else {}, ids


def express_interest(actor, session_id, data: dict, *, at: datetime | None = None, attachment=None) -> Result:
    """Record an interest (a lead is made or moved); the room hears the count, staff the detail.

    Checked here, then written by this process's group commit (`group_commit`): the interests that
    arrive together are written in one short transaction (the lead's upsert, the interest's insert,
    nothing if the client id was used: a replay, the notifications, the event), and each is
    acknowledged after that commit. The acknowledgement is built from what was written, not read back.

    `actor` is a person loaded now, or a live connection's `KeptPerson`: then the room is the one this
    process keeps, nothing is read before the batch, and the writer checks both (`_stale`); a refusal
    or a changed fact raises `StaleFacts` for the caller to check it again on fresh reads.
    """
    kept = isinstance(actor, KeptPerson)
    try:
        room, room_key = interest_room(actor, session_id, kept=kept)
        if actor.role != Role.ATTENDEE:
            raise Forbidden(gettext("Only attendees express interest."))
        client_id = leads.check_client_id(data.get("client_id"))
        if room.status in _CLOSED:  # a replay is still acknowledged
            if kept:
                raise StaleFacts
            if lead_queries.find_interest(actor, client_id) is None:
                _open_for_input(room)
            return _replayed_interest(actor, room, client_id, data)
        values = leads.check_interest(actor, room, data)
    except ServiceError:
        if kept:  # refused on kept facts: decided again on fresh ones
            raise StaleFacts from None
        raise
    actor_id, name = actor.id, actor.name  # the commit expires the person in this session: read it before
    organisation = actor.organisation
    pending = _PendingInterest(
        _Sender(actor_id, actor.organisation_id, {"name": organisation.name, "name_zh": organisation.name_zh,
                                                  "name_en": organisation.name_en, "city": organisation.city}),
        room, values, at, attachment, ui_locale(),
        {"organisation": organisation.name, "organisation_i18n": bilingual.pair(organisation, "name"),
         "city": organisation.city, "user": name},
        person=actor if kept else None, room_key=room_key)
    _interests.submit(pending)
    _back_in_session(actor)
    if pending.outcome is _Outcome.ALONE:  # its batch failed as a whole: this one again, in its own transaction
        _write_alone(pending)
    if pending.outcome is _Outcome.STALE:
        raise StaleFacts
    if pending.outcome is _Outcome.REPLAYED:
        if pending.replay is None:
            return _replayed_interest(actor, room, client_id, data)
        interest, lead = pending.replay
        leads.check_replay(interest, room, data)
        return Result({"interest": interest, "lead": lead}, duplicate=True)
    if pending.outcome is _Outcome.FAILED:
        raise pending.error
    stored = pending.stored
    result = _publish(Result({"interest": stored.interest, "lead": stored.lead}, events=pending.events))
    own = {"session_id": room.id, "id": stored.interest["id"], "client_id": client_id,
           "project_id": stored.interest["project_id"], "level": stored.interest["level"],
           "note": stored.interest["note"], "user": name, "created_at": stored.interest["created_at"]}
    broadcast.send_personal(actor_id, "own_interest", own)  # the person's other devices show it as theirs
    interest_count_changed(room.id, own["project_id"])
    return result


class _Outcome(enum.Enum):
    ALONE = "alone"  # not written yet: write it in a transaction of its own
    STORED = "stored"
    REPLAYED = "replayed"  # its client id names a stored interest
    STALE = "stale"  # checked against kept facts that no longer hold: nothing written (`StaleFacts`)
    FAILED = "failed"  # refused (the person's rate): `error`


@dataclass(frozen=True)
class _Sender:
    """Who sent a pending interest, as plain values: its writer may be another caller, and a caller that
    waits for another's batch lets go of its session (`_let_go`)."""

    id: int
    organisation_id: int
    organisation: dict


@dataclass(eq=False)
class _PendingInterest:
    """A checked interest waiting for the group commit, with what its writer needs and what it wrote."""

    actor: _Sender
    room: leads.InterestRoom
    values: dict
    at: datetime | None
    attachment: tuple | None
    #: The sender's language, for a refusal written by another caller's writer.
    locale: str
    #: The staff's detail of the interest beside the stored columns: organisation, city, person.
    detail: dict
    #: The kept person it was checked against (None: read for it), and its room's row (`_room_key`).
    person: KeptPerson | None = None
    room_key: tuple | None = None
    outcome: _Outcome = _Outcome.ALONE
    counted: bool = False  # the person's rate already counts it
    error: Exception | None = None
    stored: leads.StoredInterest | None = None
    events: list[Outgoing] = field(default_factory=list)
    #: A replay's answer as its writer found it (the stored interest and its lead), if it did.
    replay: tuple[dict, dict] | None = None

    @property
    def key(self) -> tuple[int, str]:
        return self.actor.id, self.values["client_id"]


def _staff_event(pending: _PendingInterest) -> tuple[int, str, dict, str]:
    return pending.room.id, "interest", {**pending.stored.interest, **pending.detail}, Audience.STAFF


def _write_interests(batch: list[_PendingInterest]) -> None:
    """The group commit's writer: a batch of interests in one transaction.

    An interest alone is left to its caller (`_write_alone`). The stale ones and the replays are
    answered first (`_sort_out`); a second interest of the batch with the same person and client id is
    a replay of the first once the batch is committed (or written alone after it if the first was not
    stored: refused, or its batch failed). Each person's rate is counted (a refusal is that interest's
    answer alone); then, in the leads' order (so that concurrent batches lock them alike), each
    interest's lead and row, and the leads' history, the notifications of all and the events, numbered
    last, with the one commit (on PostgreSQL all in one round trip: `_write_and_commit`; on SQLite
    `_complete_and_commit`).
    If anything else fails, nothing of the batch is kept and each interest is written alone, so one
    interest's error is its own answer and no other's.
    """
    if len(batch) == 1:  # its writer is its own caller: written alone, without the batch's look-up first
        return
    writing: list[_PendingInterest] = []
    try:
        writing, first, again, ids = _sort_out(batch)
        for pending, retry_after in zip(list(writing), count_people("interest", [p.actor.id for p in writing])):
            if retry_after is None:
                pending.counted = True
                continue
            with speaking(pending.locale):  # refused: that interest's answer alone, in its sender's language
                pending.outcome, pending.error = _Outcome.FAILED, refusal(retry_after)
            writing.remove(pending)
        writing.sort(key=lambda pending: (pending.values["project_id"], pending.actor.organisation_id))
        if ids is not None:
            _write_and_commit(writing, ids)
        else:
            written = leads.write_interests([(pending.actor, pending.room, pending.values, pending.at,
                                              pending.attachment) for pending in writing])
            for pending, stored in zip(writing, written):
                pending.stored = stored
                if stored is None:
                    raise _UsedMeanwhile
            for pending, event in zip(writing, _complete_and_commit(writing)):
                pending.events, pending.outcome = [event], _Outcome.STORED
        for pending in again:  # a replay of what the batch stored; if its first was not stored, written alone
            if first[pending.key].outcome is _Outcome.STORED:
                stored = first[pending.key].stored
                pending.outcome, pending.replay = _Outcome.REPLAYED, (stored.interest, stored.lead)
    except Exception as error:
        db.session.rollback()
        if not isinstance(error, _UsedMeanwhile) and not _client_id_used(error):
            log.warning("A batch of %d interests failed as a whole (%r): each is written alone", len(batch), error)
        for pending in writing:
            pending.outcome, pending.events, pending.stored = _Outcome.ALONE, [], None


def _sort_out(batch: list[_PendingInterest]) -> tuple[list, dict, list, list[int] | None]:
    """The batch's interests to write; the others answered now: stale ones, and replays of what is
    stored (read together: `_looked_up`, with the ids for the interests on PostgreSQL). A second
    interest with the same person and client id as one to write is put `again` (a replay of that
    `first` once it is stored)."""
    stale, replays, ids = _looked_up(batch)
    writing: list[_PendingInterest] = []
    first: dict[tuple[int, str], _PendingInterest] = {}
    again: list[_PendingInterest] = []
    for pending in batch:
        if pending in stale:
            pending.outcome = _Outcome.STALE
        elif pending.key in replays:
            pending.outcome, pending.replay = _Outcome.REPLAYED, replays[pending.key]
        elif pending.key in first:
            again.append(pending)
        else:
            first[pending.key] = pending
            writing.append(pending)
    return writing, first, again, ids


def _write_and_commit(writing: list[_PendingInterest], ids: list[int]) -> None:
    """PostgreSQL: the batch's leads, interests (with `ids`), history, notifications and staff events,
    and the COMMIT, in one round trip (queued in psycopg's pipeline mode: `leads.queue_interests`, then
    `record_queued`), so the rows the batch locks (its leads, the organisers' folded notifications, the
    session's counter) are held only while the server runs it, never across this worker's turns."""
    driver = db.session.connection().connection.driver_connection  # the session's transaction's connection
    with driver.pipeline():
        interests, stored_of = leads.queue_interests(
            driver, [(pending.actor, pending.room, pending.values, pending.at, pending.attachment) for pending in writing],
            ids[:len(writing)])
        numbered = record_queued(driver, [(pending.room.id, "interest", {**interest, **pending.detail}, Audience.STAFF)
                                          for pending, interest in zip(writing, interests)],
                                 interests=[interest["id"] for interest in interests])
        driver.commit()
    stored = stored_of()
    events = numbered([one.interest["lead_id"] for one in stored])
    db.session.commit()  # the connection's transaction is over: this ends the session's
    for pending, one, event in zip(writing, stored, events):
        pending.stored, pending.events, pending.outcome = one, [event], _Outcome.STORED


def _client_id_used(error: Exception) -> bool:
    """A batch written with `_write_and_commit` failed because another process stored one of its client
    ids after the batch looked (an expected race: each interest is then written alone, a replay)."""
    return getattr(getattr(error, "diag", None), "constraint_name", None) == "uq_interests_user_id_client_id"


def _complete_and_commit(writing: list[_PendingInterest]) -> list[Outgoing]:
    """SQLite: the written interests' history, notifications and staff events, and the commit; their
    events in order (PostgreSQL writes a batch with `_write_and_commit`)."""
    leads.complete_interests(*(pending.stored for pending in writing))
    return record_and_commit([_staff_event(pending) for pending in writing])


class _UsedMeanwhile(Exception):
    """A client id of the batch was stored by another process after the batch looked."""


def _write_alone(pending: _PendingInterest) -> None:
    """One interest in its own transaction: its rows (nothing, a replay, if its client id was used),
    the person's rate counted, its history and notifications, its event, the commit."""
    try:
        if _stale([pending]):
            db.session.rollback()
            pending.outcome = _Outcome.STALE
            return
        pending.stored = leads.write_interest(pending.actor, pending.room, pending.values, at=pending.at,
                                              attachment=pending.attachment)
        if pending.stored is None:
            db.session.rollback()
            pending.outcome = _Outcome.REPLAYED
            return
        if not pending.counted:
            with speaking(pending.locale):
                check_person("interest", pending.actor.id)  # a replay is not counted: it creates nothing
        leads.complete_interests(pending.stored)
        pending.events = [record(*_staff_event(pending))]
        pending.outcome = _Outcome.STORED
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def _let_go() -> None:
    """A caller about to wait for another's batch gives its connection back to the pool (a burst's
    waiting callers would otherwise hold every connection while the writer needs one); its objects stay
    as loaded, detached, and the person is added back to the session after the wait."""
    if db.session.registry.has():  # a caller that never used its session has nothing to give back
        db.session.close()


def _back_in_session(actor) -> None:
    """After a group commit: the person back in this session if it let go of its connection while
    another caller wrote (`_let_go`); over HTTP the person is the signed-in user, which the view may
    read after the call. A connection's kept person (`KeptPerson`) is no ORM object: nothing to do."""
    person = inspect(actor, raiseerr=False)
    if person is not None and person.detached:
        db.session.add(actor)


#: What the writer of a batch of interests waits for the rest of a burst (`LIVE_INTEREST_GATHER_MS`).
#: *Decision* (BENCHMARKS.md): on two server processes a burst's first batches were a handful each, and
#: every batch of each process took the same rows (the organisers' notifications, the session's counter)
#: in turn; gathering 8 ms made fewer, larger batches (two workers, alternating runs: a median of 1,008
#: acknowledged/s against 944 over 15 rounds each, 1,025 against 810 over 6 and 12 in an earlier run; one
#: worker unchanged), at the price of 8 ms on an interest that arrives alone.
_gather = _gathering("LIVE_INTEREST_GATHER_MS")

#: This process's group commit of interests.
_interests = GroupCommit(_write_interests, waiting=_let_go, pause=_gather)


def _replayed_interest(actor, room, client_id: str, data: dict) -> Result:
    found = lead_queries.find_interest_and_lead(actor, client_id)
    if found is None:  # stored nothing and found nothing: cannot happen unless it was deleted meanwhile
        raise Conflict(gettext("This client id was already used for another interest."), code="client_id_reused")
    interest, lead = found
    leads.check_replay(interest, room, data)
    return Result({"interest": lead_queries.interest_dict(interest), "lead": lead_queries.lead_dict(lead)}, duplicate=True)


def interest_count_changed(session_id: int, project_id: int) -> None:
    """Tell the room the project's count changed (throttled: `broadcast.throttle`)."""
    broadcast.throttle("count", session_id, project_id, lambda projects: broadcast.send(
        [interest_count_event(session_id, project) for project in sorted(projects)]))


def interest_count_event(session_id: int, project_id: int) -> Outgoing:
    """Record the current count for a project (called by the throttle); commits."""
    event = record(session_id, "interest_count",
                   {"project_id": project_id, "count": lead_queries.interest_count(session_id, project_id)})
    db.session.commit()
    return event


# ---------------------------------------------------------------- organisation merges


@signals.receiver(signals.organisation_merge_planned)
def plan_organisation_merge(survivor, *, source, plan) -> None:
    """The live room's part of a merge's plan: how many questions the duplicate asked."""
    plan.counts["questions"] = db.session.scalar(
        select(func.count()).select_from(Question).where(Question.organisation_id == source.id)) or 0


@signals.receiver(signals.organisations_merged, moves={("questions", "organisation_id")})
def move_organisation_questions(survivor, *, source, actor) -> None:
    """The live room's part of merging `source` into `survivor`: its questions move over (inside
    the merge's transaction; flushes)."""
    db.session.execute(update(Question).where(Question.organisation_id == source.id)
                       .values(organisation_id=survivor.id).execution_options(synchronize_session=False))
    db.session.flush()
