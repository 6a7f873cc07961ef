"""Every change to leads: interests (the caller's transaction), progress and stages, owners,
documents, the monthly report, stall limits, exchange rates, signings, demand profiles, meetings.

Each public function commits once, except `record_interest` and `record_meeting`, which only flush:
they run inside the live room's and the meetings' own transactions. Private helpers only flush.
Reads are in `queries`."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from types import SimpleNamespace
from typing import NamedTuple

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import Date, Integer, Numeric, String, bindparam, delete, insert, or_, select, text, update

from ..accounts.access import require_role
from ..accounts.enums import Role
from ..accounts.models import Organisation, User
from .. import bilingual, signals, statements
from ..bounds import MAX_INT
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed, gathering
from ..extensions import db
from ..fairs import services as fairs
from ..fairs.enums import SessionKind, SessionStatus
from ..fairs.models import FairSession
from ..notifications import services as notifications
from ..projects import storage
from ..projects.services import check_amount, receive_checked, storing
from ..reference.services import check_currency
from ..types import UTCDateTime, utcnow
from .enums import (SIGNED_STAGES, SITE_PROPOSAL_KIND, STAGE_ORDER, DocumentKind, InterestLevel, LeadStage, allowed_stages, is_backwards,
                    level_label, stage_for_level, stage_label, stage_rank)
from .models import (ExchangeRate, Interest, Lead, LeadDocument, LeadEvent, ProgressReport, SiteProposal, Signing,
                     StageLimit)
from .queries import (can_change, find_interest, get_lead, host_month, open_leads_for_report, shared_project_leads,
                      signing_open, stall_limits)
from .queries import interest_dict

# ---------------------------------------------------------------- interests


CLIENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")


def check_client_id(value) -> str:
    if not isinstance(value, str) or not CLIENT_ID.match(value):
        raise ValidationFailed({"client_id": gettext(
            "Give a client id of 8 to 64 letters, digits, '-', '_', '.' or ':' (a UUID).")})
    return value


#: The levels an interest may name (read per interest: a burst's checks walked the enum each time).
_LEVELS = frozenset(level.value for level in InterestLevel)


def _check_interest(project_ids, data: dict) -> dict:
    errors: dict[str, str] = {}
    project_id = data.get("project_id")
    if not isinstance(project_id, int) or isinstance(project_id, bool):
        errors["project_id"] = gettext("Give the id of a project pitched in this session.")
    elif project_id not in project_ids:
        errors["project_id"] = gettext("This project is not pitched in this session.")
    level = data.get("level")
    if level not in _LEVELS:
        errors["level"] = gettext("The level is one of %(levels)s.", levels=", ".join(lv.value for lv in InterestLevel))
    note = data.get("note") or ""
    if not isinstance(note, str) or len(note) > 2000:
        errors["note"] = gettext("The note is text of at most 2,000 characters.")
    with gathering(errors):
        check_client_id(data.get("client_id"))
    if errors:
        raise ValidationFailed(errors)
    return {"project_id": project_id, "level": level, "note": note.strip(), "client_id": data["client_id"]}


def _pitch_second(room, at: datetime | None) -> int | None:
    """Seconds into the pitch while it runs (from the client's moment when plausible, else now).

    Before the session's start or after its end there is no pitch minute: None ("before the pitch",
    "after the pitch" on the lead's timeline), never a made-up minute 0.
    """
    now = utcnow()
    moment = at if at is not None and room.starts_at - timedelta(minutes=5) <= at <= now else now
    if moment < room.starts_at or moment > room.ends_at:
        return None
    return int(moment.timestamp() - room.starts_at.timestamp())


def check_replay(existing: Interest | dict, session, data: dict) -> None:
    """A client id sent again must carry the same interest (a resend); anything else is 409. `existing`
    is the stored interest, or its `interest_dict`."""
    note = data.get("note") or ""
    stored = existing if isinstance(existing, dict) else {name: getattr(existing, name)
                                                          for name in ("session_id", "project_id", "level", "note")}
    if (stored["session_id"] != session.id or stored["project_id"] != data.get("project_id")
            or stored["level"] != data.get("level") or stored["note"] != (note.strip() if isinstance(note, str) else note)):
        raise Conflict(gettext("This client id was already used for another interest."), code="client_id_reused")


@dataclass(frozen=True)
class InterestRoom:
    """What recording an interest needs to know of its session, read once per room and cached by the
    fair's revision (`live.services.interest_room`); status and times are read fresh each time."""

    id: int
    fair_id: int
    status: str
    starts_at: datetime
    ends_at: datetime
    #: project id -> ({"title", "title_zh", "title_en"}, owner id)
    projects: dict = field(default_factory=dict)
    #: Who hears of an interest, with their language: every organiser, and each project's owner.
    people: dict = field(default_factory=dict)
    organisers: frozenset = frozenset()
    #: The session's title: {"title", "title_zh", "title_en"}.
    titles: dict = field(default_factory=dict)


def interest_room(session: FairSession) -> InterestRoom:
    """The room's facts for recording interests: two queries (the projects, the people told)."""
    projects = {p.id: ({"title": p.title, "title_zh": p.title_zh, "title_en": p.title_en}, p.owner_id)
                for p in session.projects}
    owners = {owner for _, owner in projects.values() if owner is not None}
    people, organisers = {}, set()
    for user_id, locale, role in db.session.execute(select(User.id, User.locale, User.role).where(
            or_(User.role == Role.ORGANISER, User.id.in_(owners)))):
        people[user_id] = locale if locale in ("zh", "en") else "en"
        if role == Role.ORGANISER:
            organisers.add(user_id)
    return InterestRoom(session.id, session.fair_id, session.status, session.starts_at, session.ends_at,
                        projects, people, frozenset(organisers),
                        {"title": session.title, "title_zh": session.title_zh, "title_en": session.title_en})


@dataclass
class StoredInterest:
    """A new interest as stored (the ack's shapes, built without reading anything back)."""

    interest: dict
    lead: dict
    #: The notifications to write (`complete_interests`): (rows, folded texts) for `notifications.add_folded`.
    notices: tuple = ((), {})
    #: The lead's history row when the interest made or moved it (`complete_interests` writes it).
    history: dict | None = None


#: On PostgreSQL the lead is made or moved in one statement that also returns the stage it had
#: (`prev` locks the row first, so a concurrent interest waits and the stage read is the latest).
_LEAD_UPSERT = """
INSERT INTO leads (project_id, organisation_id, owner_id, stage, fair_id, session_id,
                   stage_changed_at, last_progress_at, created_at, updated_at)
{source}
ON CONFLICT (project_id, organisation_id) DO UPDATE SET
    stage = CASE WHEN leads.stage IN :lower THEN excluded.stage ELSE leads.stage END,
    stage_changed_at = CASE WHEN leads.stage IN :lower THEN excluded.stage_changed_at ELSE leads.stage_changed_at END,
    last_progress_at = excluded.last_progress_at,
    updated_at = excluded.updated_at
RETURNING leads.id, leads.stage, leads.owner_id, leads.expected_amount, leads.currency, leads.next_action_on,
          leads.stage_changed_at, leads.created_at
"""
_VALUES = "VALUES (:project_id, :organisation_id, :owner_id, :stage, :fair_id, :session_id, :now, :now, :now, :now)"
_PG_LEAD_UPSERT = ("WITH prev AS (SELECT stage FROM leads WHERE project_id = :project_id"
                   " AND organisation_id = :organisation_id FOR UPDATE), up AS ("
                   + _LEAD_UPSERT.format(source="SELECT :project_id, :organisation_id, :owner_id, :stage, :fair_id,"
                                                " :session_id, :now, :now, :now, :now FROM (SELECT 1) AS one"
                                                " LEFT JOIN prev ON true")
                   + ") SELECT up.*, (SELECT stage FROM prev) AS previous FROM up")
#: The lead's upsert and the interest's insert in one statement: `interest_id` is NULL when the person
#: already used the client id (nothing inserted; the caller rolls back, which undoes the lead's move too).
_PG_LEAD_AND_INTEREST = (
    _PG_LEAD_UPSERT.replace(") SELECT up.*, (SELECT stage FROM prev) AS previous FROM up", "), ins AS ("
                            "INSERT INTO interests (client_id, session_id, project_id, organisation_id, user_id,"
                            " lead_id, level, note, pitch_second, attachment_sha256, attachment_mime,"
                            " attachment_name, created_at)"
                            " SELECT :client_id, :session_id, :project_id, :organisation_id, :owner_id, up.id, :level,"
                            " :note, :pitch_second, :attachment_sha256, :attachment_mime, :attachment_name, :now"
                            " FROM up ON CONFLICT (user_id, client_id) DO NOTHING RETURNING interests.id)"
                            " SELECT up.*, (SELECT stage FROM prev) AS previous, (SELECT id FROM ins) AS interest_id"
                            " FROM up"))
_LEAD_COLUMNS = {"id": Integer(), "stage": String(), "owner_id": Integer(), "expected_amount": Numeric(18, 2),
                 "currency": String(), "next_action_on": Date(), "stage_changed_at": UTCDateTime(),
                 "created_at": UTCDateTime(), "previous": String()}


def _lead_statement(sql: str, columns: dict):
    return text(sql).bindparams(bindparam("now", type_=UTCDateTime()), bindparam("lower", expanding=True)).columns(**columns)


#: Built once per dialect (a text() built per interest cost its construction and cache key each time).
_LEAD_STATEMENTS = {
    "postgresql": _lead_statement(_PG_LEAD_AND_INTEREST, {**_LEAD_COLUMNS, "interest_id": Integer()}),
    "sqlite": _lead_statement(_LEAD_UPSERT.format(source=_VALUES),
                              {name: kind for name, kind in _LEAD_COLUMNS.items() if name != "previous"}),
}


def _lead_params(room: InterestRoom, project_id: int, actor, level: str, now: datetime) -> dict:
    stage = stage_for_level(level)
    lower = [s.value for s in STAGE_ORDER if stage_rank(s) < stage_rank(stage)] or ["-"]
    return {"project_id": project_id, "organisation_id": actor.organisation_id, "owner_id": actor.id,
            "stage": stage.value, "fair_id": room.fair_id, "session_id": room.id, "now": now, "lower": lower}


def _upsert_lead(room: InterestRoom, project_id: int, actor, level: str, now: datetime,
                 interest: dict) -> tuple[dict, str | None, bool, bool]:
    """Make the organisation's lead on the project, or move it forward (never back, never out of
    `dropped`): (the lead's columns, the stage it had or None if made now, whether it was made, whether it moved).
    On PostgreSQL the interest (`interest`: its columns but the lead's) is inserted by the same
    statement: the lead's columns then hold `interest_id` too (None: the client id was used)."""
    params = _lead_params(room, project_id, actor, level, now)
    postgres = db.session.get_bind().dialect.name == "postgresql"
    previous_known = None
    if postgres:
        params.update({name: interest[name] for name in _INTEREST_OWN_COLUMNS})
    else:  # SQLite writes one transaction at a time: the stage read here is still the stage at the upsert
        previous_known = db.session.scalar(select(Lead.stage).where(
            Lead.project_id == project_id, Lead.organisation_id == actor.organisation_id))
    statement = _LEAD_STATEMENTS["postgresql" if postgres else "sqlite"]
    return _lead_outcome(dict(db.session.execute(statement, params).mappings().one()), previous_known, now)


def _lead_outcome(row: dict, previous_known: str | None, now: datetime) -> tuple[dict, str | None, bool, bool]:
    previous = row.pop("previous", previous_known)
    created = previous is None and row["created_at"] == now
    if previous is None and not created:
        # Made by a concurrent interest a moment ago (this one waited for it): an interest's lead
        # starts at partner_identified or preliminary_intent, so a move can only be from the former.
        previous = LeadStage.PARTNER_IDENTIFIED.value if row["stage_changed_at"] == now else row["stage"]
    moved = not created and previous != row["stage"]
    return row, previous, created, moved


def _interest_texts(room: InterestRoom, actor, project_id: int, level: str) -> dict[str, dict[str, str]]:
    """Per language: the interest's line "<organisation> is interested in “<project>” (<level>)", the
    organisers' "Latest: <line>", and the session's own texts (`_session_texts`, the same for every
    interest in the room), from each language's words kept per process (`_interest_words`): a burst
    forces no language per interest."""
    title_of, _ = room.projects[project_id]
    project = title_of if isinstance(title_of, dict) else {"title": title_of}
    texts = {}
    for lang in ("zh", "en"):
        words = _interest_words(lang)
        line = words["interest"] % {"organisation": _plain_in(words, actor.organisation, "name", lang),
                                    "project": _plain_in(words, project, "title", lang),
                                    "level": words["levels"][level]}
        line = line[:300]
        texts[lang] = {"interest": line, "latest": words["latest"] % {"interest": line},
                       **_session_texts(lang, room.titles.get("title"), room.titles.get("title_zh"),
                                        room.titles.get("title_en"))}
    return texts


def _plain_in(words: dict, obj, field: str, lang: str) -> str:
    """`bilingual.plain(obj, field, lang)` with `lang`'s words for the fallback's marker."""
    got = bilingual.pick(obj, field, lang)
    return f"{got.text} {words['marks'][got.lang]}" if got.fallback else got.text


@lru_cache(maxsize=4)
def _interest_words(lang: str) -> dict:
    """An interest's notification wording in `lang`, read once per process: the line's and the
    "Latest" templates, each level's label, the markers of text shown in the other language."""
    with force_locale(lang):
        return {"interest": gettext("%(organisation)s is interested in “%(project)s” (%(level)s)", **_KEEP_PLACES),
                "latest": gettext("Latest: %(interest)s", interest="%(interest)s"),
                "levels": {level.value: str(level_label(level.value)) for level in InterestLevel},
                "marks": {other: bilingual.fallback_mark(other) for other in ("zh", "en")}}


#: Formatting a template with these gives it back as written (its places kept for the interest's values).
_KEEP_PLACES = {"organisation": "%(organisation)s", "project": "%(project)s", "level": "%(level)s"}


@lru_cache(maxsize=512)
def _session_texts(lang: str, title: str | None, title_zh: str | None, title_en: str | None) -> dict[str, str]:
    """The organisers' notification titles for a session in `lang` (kept per process: the same for every
    interest of the room): the first ("A new interest in …") and the two halves of the folded one,
    between which the count goes."""
    with force_locale(lang):
        session = bilingual.plain({"title": title, "title_zh": title_zh, "title_en": title_en}, "title", lang)[:200]
        before, _, after = gettext("%(count)s new interests in “%(session)s”", count="\x00",
                                   session=session).partition("\x00")
        return {"first": gettext("A new interest in “%(session)s”", session=session), "before": before, "after": after}


def _interest_notices(room: InterestRoom, actor, project_id: int, values: dict, now: datetime) -> tuple[list, dict]:
    """What tells the project's owner of this interest, and every organiser of the session's interests in
    this window (one row each, folded: `INTEREST_NOTIFY_WINDOW_SECONDS`), in both languages: the rows and
    folded texts `notify_interest` writes in one statement."""
    _, owner = room.projects[project_id]
    organisers = set(room.organisers) - {actor.id}
    owners = {owner} - organisers - {actor.id} if owner is not None else set()
    texts = _interest_texts(room, actor, project_id, values["level"])
    interest = {lang: texts[lang]["interest"] for lang in ("zh", "en")}
    note = values["note"][:2000]
    note_lang = bilingual.detect(note)
    rows = []
    for user_id in sorted(owners):  # the presenter hears of each interest, with its note
        lang = "zh" if room.people.get(user_id) == "zh" else "en"
        rows.append({"user_id": user_id, "kind": "interest", "title": interest[lang], "title_zh": interest["zh"],
                     "title_en": interest["en"], "body": note, "body_zh": note if note and note_lang == "zh" else None,
                     "body_en": note if note and note_lang == "en" else None, "link": f"/projects/{project_id}",
                     "created_at": now, "fold_key": None, "fold_count": None})
    folded = {}
    if organisers:
        window = int(current_app.config.get("INTEREST_NOTIFY_WINDOW_SECONDS", 60))
        key = notifications.fold_key("interests", room.id, window, now)
        first = {lang: texts[lang]["first"] for lang in ("zh", "en")}
        body = {lang: (interest[lang] + ("\n" + note if note else ""))[:2000] for lang in ("zh", "en")}
        # The count goes between the two halves when later interests fold into the row.
        folded = {lang: {"title": (texts[lang]["before"], texts[lang]["after"]),
                         "body": (texts[lang]["latest"] + ("\n" + note if note else ""))[:2000]}
                  for lang in ("zh", "en")}
        for user_id in sorted(organisers):
            lang = "zh" if room.people.get(user_id) == "zh" else "en"
            rows.append({"user_id": user_id, "kind": "interests", "title": first[lang], "title_zh": first["zh"],
                         "title_en": first["en"], "body": body[lang], "body_zh": body["zh"], "body_en": body["en"],
                         "link": f"/leads?fair_id={room.fair_id}", "created_at": now, "fold_key": key,
                         "fold_count": 1})
    return rows, folded


def complete_interests(*stored: StoredInterest) -> None:
    """Write what stored interests still need, in the caller's transaction: the leads' history rows in
    one statement, then the notifications in one upsert, which locks each organiser's folded row until
    the commit, so the live room writes it last, right before the events. (A PostgreSQL batch writes
    both with its interests: `queue_interests`.)"""
    history = [one.history for one in stored if one.history is not None]
    if history:
        db.session.execute(_INSERT_LEAD_EVENT, history)
    notifications.add_folded_many([one.notices for one in stored])


_INTEREST_COLUMNS = ("client_id", "session_id", "project_id", "organisation_id", "user_id", "lead_id", "level", "note",
                     "pitch_second", "attachment_sha256", "attachment_mime", "attachment_name", "created_at")
#: What the one-statement insert binds beside the lead's parameters (the rest are the lead's own).
_INTEREST_OWN_COLUMNS = ("client_id", "level", "note", "pitch_second", "attachment_sha256", "attachment_mime",
                         "attachment_name")
#: The interest, or nothing when the person already used the client id (compiled once: `statements`).
_INSERT_INTEREST = statements.upsert(Interest.__table__, _INTEREST_COLUMNS, ("user_id", "client_id"), returning=("id",))
_INSERT_LEAD_EVENT = insert(LeadEvent.__table__)


def store_interest(actor, room: InterestRoom, data: dict, *, at: datetime | None = None,
                   attachment: tuple[str, str, str] | None = None) -> StoredInterest | None:
    """Store a new interest and make or move its lead, in the caller's transaction (the caller
    writes its history and notifications with `complete_interests`, then commits): a handful of statements and nothing
    read back. None when the person already used this client id (a replay, or a concurrent resend that
    stored it first): the caller rolls back and answers with the stored interest."""
    return write_interest(actor, room, check_interest(actor, room, data), at=at, attachment=attachment)


def check_interest(actor, room: InterestRoom, data: dict) -> dict:
    """The checked values of an interest (`write_interest` takes them); raises before anything is written."""
    if actor is None or actor.role != Role.ATTENDEE:
        raise Forbidden(gettext("Only attendees express interest."))
    values = _check_interest(room.projects, data)
    if room.status == SessionStatus.CANCELLED:
        raise Conflict(gettext("This session is cancelled."), code="session_cancelled")
    return values


def write_interest(actor, room: InterestRoom, values: dict, *, at: datetime | None = None,
                   attachment: tuple[str, str, str] | None = None) -> StoredInterest | None:
    """`store_interest` for values `check_interest` returned: the lead's upsert and the interest's insert
    (the live room's group commit writes a batch of them in one transaction, then `complete_interests`)."""
    now = utcnow()
    row = _interest_row(actor, room, values, at, attachment, now)
    lead, previous, created, moved = _upsert_lead(room, values["project_id"], actor, values["level"], now, row)
    row["lead_id"] = lead["id"]
    if "interest_id" in lead:  # PostgreSQL: inserted with the lead
        interest_id = lead.pop("interest_id")
    else:
        interest_id = db.session.scalar(_INSERT_INTEREST, row)
    if interest_id is None:  # a replay: its notices were told when it was stored
        return None
    # Made once the interest is known to be new (a replay makes none); the lead's row is locked
    # meanwhile, a fraction of the statements' own round trips. A batch makes them first (its replays
    # are found before it writes: `live.services._write_interests`).
    notices = _interest_notices(room, actor, values["project_id"], values, now)
    return _stored(actor, values, row, interest_id, (lead, previous, created, moved), notices, now)


_UTC = UTCDateTime()


def write_interests(items: list[tuple]) -> list[StoredInterest | None]:
    """`write_interest(actor, room, values, at=, attachment=)` for each item (those five, in order), in the
    caller's transaction: SQLite's batch (a PostgreSQL batch is queued whole: `queue_interests`)."""
    return [write_interest(actor, room, values, at=at, attachment=attachment)
            for actor, room, values, at, attachment in items]


#: `n` new interest ids, for a batch to know its interests' ids before it writes them (`queue_interests`).
PG_NEW_INTEREST_IDS = ("SELECT nextval(pg_get_serial_sequence('interests', 'id'))"
                       " FROM generate_series(1, %(n)s)")


class _Queued(NamedTuple):
    """One item of a batch `queue_interests` queued: what its statements do not answer."""

    now: datetime
    row: dict  # the interest's columns (its id; its lead's id once known)
    notices: tuple  # `_interest_notices`
    sent: dict  # `row` with the lead's stage and fair: what its round binds (`_ROUND_COLUMNS`)


def queue_interests(driver, items: list[tuple], ids: list[int]) -> tuple[list[dict], Callable[[], list[StoredInterest]]]:
    """Queue a batch of interests on `driver` (the session's psycopg connection, on PostgreSQL, in
    pipeline mode: `items` then hold plain values, as the live room's do, since nothing may be read
    through the session meanwhile), with everything they write: each
    `write_interest(actor, room, values, at=, attachment=)` of `items`, stored with its id of `ids`
    (`PG_NEW_INTEREST_IDS`), then the leads' history and the notifications (what `complete_interests`
    writes). The leads, interests and history go in a few set-based statements
    (`_PG_LEADS_AND_INTERESTS`: one per `_rounds`, usually one or two).

    Gives each interest's columns as they will be stored (`interest_dict`; its lead's id is not known
    yet, so the live room's event takes it from the database: `live.services`), and the function that,
    once the connection has sent them (the caller's commit), gives each item's `StoredInterest`, the
    lead as it stood after that item. A client id already used (a replay stored meanwhile) fails the
    whole batch with a unique violation."""
    queued = []  # everything but what the statements answer, before the first lead's row is locked
    for (actor, room, values, at, attachment), interest_id in zip(items, ids):
        now = utcnow()
        row = {**_interest_row(actor, room, values, at, attachment, now), "id": interest_id}
        queued.append(_Queued(now, row, _interest_notices(room, actor, values["project_id"], values, now),
                              {**row, "stage": stage_for_level(values["level"]).value, "fair_id": room.fair_id}))
    rounds = _rounds([one.sent for one in queued])
    cursors = []
    for indexes in rounds:
        cursor = driver.cursor()
        cursor.execute(_PG_LEADS_AND_INTERESTS, {**_round_params([queued[index].sent for index in indexes]),
                                                 "made": _MADE, "raised": _RAISED})
        cursors.append(cursor)
    notifications.add_folded_many([one.notices for one in queued], driver=driver)

    def stored() -> list[StoredInterest]:
        leads: list[dict | None] = [None] * len(items)
        for cursor, indexes in zip(cursors, rounds):
            with cursor:
                names = [column.name for column in cursor.description]
                for index, found in zip(indexes, cursor.fetchall()):
                    leads[index] = dict(zip(names, found))
        out = []
        for (actor, _, values, _, _), one, lead in zip(items, queued, leads):
            for name in ("stage_changed_at", "created_at"):  # as the ORM's statements return them
                lead[name] = _UTC.process_result_value(lead[name], None)
            row = {**one.row, "lead_id": lead["id"]}
            interest_id = row.pop("id")
            previous, created = lead.pop("previous"), lead.pop("created")
            moved = not created and previous != lead["stage"]
            written = _stored(actor, values, row, interest_id, (lead, previous, created, moved), one.notices, one.now)
            written.history = None  # written by the statement
            out.append(written)
        return out

    return [interest_dict(SimpleNamespace(**one.row)) for one in queued], stored


def _rounds(rows: list[dict]) -> list[list[int]]:
    """The rows' indexes in rounds, each naming a lead (project, organisation) at most once (a statement
    upserts a row once), a lead's interests in their order across the rounds, each round in the leads'
    order (so that concurrent batches lock and insert them alike, whatever their callers' order): the
    first round holds every lead of the batch, so a later round locks none the batch does not already
    hold."""
    rounds: list[list[int]] = []
    seen: dict[tuple[int, int], int] = {}
    for index, row in enumerate(rows):
        key = (row["project_id"], row["organisation_id"])
        level = seen.get(key, 0)
        seen[key] = level + 1
        if level == len(rounds):
            rounds.append([])
        rounds[level].append(index)
    return [sorted(indexes, key=lambda index: (rows[index]["project_id"], rows[index]["organisation_id"]))
            for indexes in rounds]


#: A round's columns, each sent as one array (binary: psycopg adapts a list once, not value by value).
_ROUND_COLUMNS = {"id": "integer", "project_id": "integer", "organisation_id": "integer", "user_id": "integer",
                  "stage": "text", "fair_id": "integer", "session_id": "integer", "client_id": "text", "level": "text",
                  "note": "text", "pitch_second": "integer", "attachment_sha256": "text", "attachment_mime": "text",
                  "attachment_name": "text", "created_at": "timestamptz"}


def _round_params(rows: list[dict]) -> dict:
    return {name: [row[name] for row in rows] for name in _ROUND_COLUMNS}


_STAGE_ORDER_SQL = "ARRAY[" + ", ".join(f"'{stage.value}'" for stage in STAGE_ORDER) + "]::text[]"
#: A lead moves only forward in the pipeline's order (a dropped lead, not in it, never: NULL compares false).
_FORWARD = (f"array_position({_STAGE_ORDER_SQL}, leads.stage) < array_position({_STAGE_ORDER_SQL}, excluded.stage)")
#: A lead's history note when an interest made it, and when one raised it.
_MADE, _RAISED = "Interest expressed in a live session.", "Interest raised to intent."
#: `_PG_LEAD_AND_INTEREST` for a round of rows (`_rounds`), set-based, with the leads' history: the rows'
#: existing leads locked first, in one order (`prev`, counted by `locked` before anything is inserted, so
#: that concurrent batches lock alike), then every lead upserted and every interest inserted with its id
#: (a client id the person used fails the statement: a unique violation), then a history row for each
#: lead made or moved; answered in the rows' order with the stage each lead had before (`previous`) and
#: whether it was made now (`created`), decided as `_lead_outcome` decides them for one interest.
_PG_LEADS_AND_INTERESTS = (
    "WITH k AS (SELECT * FROM unnest("
    + ", ".join(f"%({name})b::{kind}[]" for name, kind in _ROUND_COLUMNS.items())
    + ") WITH ORDINALITY AS k(" + ", ".join(_ROUND_COLUMNS) + ", ord)),"
    " prev AS (SELECT l.project_id, l.organisation_id, l.stage FROM leads AS l"
    " JOIN k ON l.project_id = k.project_id AND l.organisation_id = k.organisation_id"
    " ORDER BY l.project_id, l.organisation_id FOR UPDATE OF l),"
    " locked AS (SELECT count(*) AS n FROM prev),"
    " up AS (INSERT INTO leads (project_id, organisation_id, owner_id, stage, fair_id, session_id, stage_changed_at,"
    " last_progress_at, created_at, updated_at)"
    " SELECT k.project_id, k.organisation_id, k.user_id, k.stage, k.fair_id, k.session_id, k.created_at, k.created_at,"
    " k.created_at, k.created_at FROM locked, k ORDER BY k.ord"
    " ON CONFLICT (project_id, organisation_id) DO UPDATE SET"
    f" stage = CASE WHEN {_FORWARD} THEN excluded.stage ELSE leads.stage END,"
    f" stage_changed_at = CASE WHEN {_FORWARD} THEN excluded.stage_changed_at ELSE leads.stage_changed_at END,"
    " last_progress_at = excluded.last_progress_at, updated_at = excluded.updated_at"
    " RETURNING leads.id, leads.project_id, leads.organisation_id, leads.stage, leads.owner_id, leads.expected_amount,"
    " leads.currency, leads.next_action_on, leads.stage_changed_at, leads.created_at),"
    " ins AS (INSERT INTO interests (id, client_id, session_id, project_id, organisation_id, user_id, lead_id, level,"
    " note, pitch_second, attachment_sha256, attachment_mime, attachment_name, created_at)"
    " SELECT k.id, k.client_id, k.session_id, k.project_id, k.organisation_id, k.user_id, up.id, k.level, k.note,"
    " k.pitch_second, k.attachment_sha256, k.attachment_mime, k.attachment_name, k.created_at"
    " FROM k JOIN up ON up.project_id = k.project_id AND up.organisation_id = k.organisation_id ORDER BY k.ord),"
    " o AS (SELECT k.ord, k.user_id, k.created_at AS now, up.id, up.stage, up.owner_id, up.expected_amount, up.currency,"
    " up.next_action_on, up.stage_changed_at, up.created_at, prev.stage AS known,"
    " (prev.stage IS NULL AND up.created_at = k.created_at) AS created"
    " FROM k JOIN up ON up.project_id = k.project_id AND up.organisation_id = k.organisation_id"
    " LEFT JOIN prev ON prev.project_id = k.project_id AND prev.organisation_id = k.organisation_id),"
    # made by a concurrent interest a moment ago (this one waited for it): it started at partner_identified
    # if this one moved it, else at the stage it has
    " r AS (SELECT o.*, CASE WHEN o.known IS NOT NULL OR o.created THEN o.known"
    f" WHEN o.stage_changed_at = o.now THEN '{LeadStage.PARTNER_IDENTIFIED.value}' ELSE o.stage END AS previous FROM o),"
    " hist AS (INSERT INTO lead_events (lead_id, user_id, from_stage, to_stage, source, note, created_at)"
    " SELECT r.id, r.user_id, r.previous, r.stage, 'interest', CASE WHEN r.created THEN %(made)s ELSE %(raised)s END,"
    " r.now FROM r WHERE r.created OR r.previous IS DISTINCT FROM r.stage ORDER BY r.ord)"
    " SELECT r.id, r.stage, r.owner_id, r.expected_amount, r.currency, r.next_action_on, r.stage_changed_at,"
    " r.created_at, r.previous, r.created FROM r ORDER BY r.ord")


def _interest_row(actor, room: InterestRoom, values: dict, at, attachment, now: datetime) -> dict:
    sha256, mime, name = attachment or (None, None, None)
    return {"client_id": values["client_id"], "session_id": room.id, "project_id": values["project_id"],
            "organisation_id": actor.organisation_id, "user_id": actor.id, "lead_id": None,
            "level": values["level"], "note": values["note"], "pitch_second": _pitch_second(room, at),
            "attachment_sha256": sha256, "attachment_mime": mime, "attachment_name": name, "created_at": now}


def _stored(actor, values: dict, row: dict, interest_id: int | None, outcome: tuple, notices: tuple,
            now: datetime) -> StoredInterest | None:
    """What a written interest answers with (None: its client id was used, nothing inserted), with its
    `notices` (`_interest_notices`)."""
    if interest_id is None:
        return None
    lead, previous, created, moved = outcome
    history = {"lead_id": lead["id"], "user_id": actor.id, "from_stage": previous, "to_stage": lead["stage"],
               "source": "interest", "created_at": now,
               "note": _MADE if created else _RAISED}
    interest = interest_dict(SimpleNamespace(id=interest_id, **row))  # its columns as written (no ORM instance)
    return StoredInterest(interest, {
        "id": lead["id"], "project_id": values["project_id"], "organisation_id": actor.organisation_id,
        "organisation": bilingual.text(actor.organisation, "name"),
        "organisation_i18n": bilingual.pair(actor.organisation, "name"), "owner_id": lead["owner_id"], "stage": lead["stage"],
        "expected_amount": None if lead["expected_amount"] is None else f"{lead['expected_amount']:.2f}",
        "currency": lead["currency"],
        "next_action_on": lead["next_action_on"].isoformat() if lead["next_action_on"] else None,
        "created_at": lead["created_at"].isoformat()}, notices, history if created or moved else None)


def record_interest(actor, session: FairSession, data: dict, *, at: datetime | None = None,
                    attachment: tuple[str, str, str] | None = None) -> tuple[Interest, bool]:
    """Store an interest and make or move its lead (the ORM objects; the caller commits).

    Returns (interest, duplicate). A replayed client id returns the stored interest.
    """
    if actor is None or actor.role != Role.ATTENDEE:
        raise Forbidden(gettext("Only attendees express interest."))
    check_client_id(data.get("client_id"))
    existing = find_interest(actor, data["client_id"])
    if existing is None:
        stored = store_interest(actor, interest_room(session), data, at=at, attachment=attachment)
        if stored is not None:
            complete_interests(stored)
            return db.session.get(Interest, stored.interest["id"]), False
        existing = find_interest(actor, data["client_id"])
    check_replay(existing, session, data)
    return existing, True


def _changeable(actor, lead_id: int) -> Lead:
    lead = get_lead(actor, lead_id)
    if not can_change(actor, lead):
        raise Forbidden(gettext("Only the lead's organisation and organisers change it."))
    return lead


def _check_date(value, field: str = "next_action_on") -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed({field: gettext("Give a date as YYYY-MM-DD.")}) from None


def progress(actor, lead_id: int, data: dict) -> Lead:
    """Record progress: a note, a next action, an amount, and perhaps a new stage.

    Forward any number of stages; back only by an organiser with a reason; `dropped` with a
    reason; `signed` and later with the agreement attached and the contracted amount.
    """
    lead = _record_progress(actor, lead_id, data)
    db.session.commit()
    return lead


@dataclass
class _Step:
    """One checked progress entry."""
    note: str
    stage: str
    amount: Decimal | None
    currency: str | None
    next_action: date | None


def _record_progress(actor, lead_id: int, data: dict, report: ProgressReport | None = None) -> Lead:
    """`progress` without the commit: the monthly report and a signing record several in one."""
    lead = _changeable(actor, lead_id)
    step = _progress_values(data, lead)
    _check_move(actor, lead, step)
    _apply_progress(actor, lead, step, report)
    return lead


def _collect(errors: dict, check, *args):
    """Run one field's check; its message goes into `errors` (a field's messages joined) and None back."""
    with gathering(errors):
        return check(*args)
    return None


def _check_note(value) -> str:
    note = value or ""
    if not isinstance(note, str) or len(note) > 4000:
        raise ValidationFailed({"note": gettext("The note is text of at most 4,000 characters.")})
    return note.strip()


def _check_stage(value) -> str:
    if value not in {s.value for s in LeadStage}:
        raise ValidationFailed({"stage": gettext("Give a pipeline stage code.")})
    return value


def _progress_values(data: dict, lead: Lead) -> _Step:
    """Every field checked; one 422 with all of their messages."""
    errors: dict[str, str] = {}
    note = _collect(errors, _check_note, data.get("note")) or ""
    stage = _collect(errors, _check_stage, data.get("stage") or lead.stage)
    amount = _collect(errors, check_amount, data.get("amount"), "amount")
    currency = None
    if data.get("currency") not in (None, ""):
        currency = _collect(errors, check_currency, data["currency"])
    if amount is not None and currency is None and "currency" not in errors:
        errors["currency"] = gettext("An amount needs its ISO 4217 currency.")
    next_action = _collect(errors, _check_date, data.get("next_action_on"))
    if errors:
        raise ValidationFailed(errors)
    return _Step(note, stage, amount, currency, next_action)


def _check_move(actor, lead: Lead, step: _Step) -> None:
    """The stage rules (`enums.allowed_stages`), a reason to go back or drop, and what signing needs."""
    if step.stage == lead.stage:
        if not (step.note or step.amount is not None or step.next_action is not None):
            raise ValidationFailed({"note": gettext("Say what happened, set a next action or an amount.")})
        return
    if step.stage not in allowed_stages(actor.role, lead.stage):
        raise Forbidden(gettext("Only an organiser moves a lead back, with a reason."), code="organiser_only")
    if (is_backwards(lead.stage, step.stage) or step.stage == LeadStage.DROPPED) and not step.note:
        raise ValidationFailed({"note": gettext("Give the reason.")})
    if step.stage in SIGNED_STAGES:
        _check_signable(lead, step.amount)


def _check_signable(lead: Lead, amount: Decimal | None) -> None:
    if (amount if amount is not None else lead.expected_amount) is None:
        raise ValidationFailed({"amount": gettext("A signed lead needs the contracted amount and currency.")})
    has_agreement = db.session.scalar(select(LeadDocument.id).where(
        LeadDocument.lead_id == lead.id, LeadDocument.kind == DocumentKind.AGREEMENT).limit(1))
    if has_agreement is None:
        raise Conflict(gettext("Attach the signed agreement before moving the lead to %(stage)s or later.",
                               stage=stage_label(LeadStage.SIGNED)), code="agreement_missing")


def _apply_progress(actor, lead: Lead, step: _Step, report: ProgressReport | None) -> None:
    now = utcnow()
    db.session.add(LeadEvent(lead_id=lead.id, user_id=actor.id, from_stage=lead.stage, to_stage=step.stage,
                             note=step.note, amount=step.amount, currency=step.currency,
                             next_action_on=step.next_action, source="report" if report else "progress",
                             report_id=report.id if report else None))
    if step.stage != lead.stage:
        lead.stage = step.stage
        lead.stage_changed_at = now
    if step.amount is not None:
        lead.expected_amount, lead.currency = step.amount, step.currency
    if step.next_action is not None:
        lead.next_action_on = step.next_action
    lead.last_progress_at = now
    db.session.flush()


def set_owner(actor, lead_id: int, owner_id) -> Lead:
    lead = _changeable(actor, lead_id)
    owner = db.session.get(User, owner_id) if isinstance(owner_id, int) else None
    if owner is None or owner.organisation_id != lead.organisation_id or not owner.active:
        raise ValidationFailed({"owner_id": gettext(
            "The responsible person must be an active member of the lead's organisation.")})
    if owner.id != lead.owner_id:
        db.session.add(LeadEvent(lead_id=lead.id, user_id=actor.id, from_stage=lead.stage, to_stage=lead.stage,
                                 note=f"Responsible person: {owner.name}.", source="owner"))
        lead.owner_id = owner.id
        db.session.commit()
    return lead


# ---------------------------------------------------------------- documents


def add_document(actor, lead_id: int, stream, filename: str | None, kind) -> LeadDocument:
    lead = _changeable(actor, lead_id)
    received, sniffed, name = _receive_document(stream, filename, kind)
    with storing(received):  # the commit, once the file is in place
        document = _document_row(actor, lead, kind, received, sniffed, name)
    return document


def _receive_document(stream, filename: str | None, kind) -> tuple[storage.Received, object, str]:
    """The checked upload of a document of `kind`: the file received, its sniffed kind and its name."""
    if kind not in {k.value for k in DocumentKind}:
        raise ValidationFailed({"kind": gettext("The kind is %(kinds)s.", kinds=", ".join(k.value for k in DocumentKind))})
    return receive_checked(stream, filename)


def _document_row(actor, lead: Lead, kind, received: storage.Received, sniffed, name: str) -> LeadDocument:
    """The received document's row and its line on the lead's history (flushed; the caller stores them)."""
    document = LeadDocument(lead_id=lead.id, kind=kind, original_name=name, mime=sniffed.mime,
                            size=received.size, sha256=received.sha256, uploaded_by_id=actor.id)
    db.session.add(document)
    db.session.add(LeadEvent(lead_id=lead.id, user_id=actor.id, from_stage=lead.stage, to_stage=lead.stage,
                             note=f"Document added ({kind}): {name}", source="document"))
    lead.last_progress_at = utcnow()
    db.session.flush()
    return document


def document_opened(actor, document: LeadDocument) -> None:
    """Record when the project's presenter first opens a site proposal's PDF (anyone else: nothing)."""
    if actor is None or document.kind != SITE_PROPOSAL_KIND:
        return
    lead = db.session.get(Lead, document.lead_id)
    if lead is None or lead.project.owner_id != actor.id:
        return
    # The first opening wins, even when two downloads race.
    result = db.session.execute(update(SiteProposal).where(SiteProposal.document_id == document.id,
                                                           SiteProposal.opened_at.is_(None)).values(opened_at=utcnow()))
    if result.rowcount:
        db.session.commit()
    else:
        db.session.rollback()


# ---------------------------------------------------------------- the monthly report


def file_report(actor, updates: list[dict], note: str = "") -> ProgressReport:
    """All of an organisation's open leads updated at once, saved as one report: all or nothing."""
    leads = {lead.id: lead for lead in open_leads_for_report(actor)}
    if not isinstance(updates, list) or not updates:
        raise ValidationFailed({"updates": gettext("Give at least one lead's progress.")})
    report = ProgressReport(organisation_id=actor.organisation_id, month=host_month(), user_id=actor.id,
                            note=(note or "").strip()[:4000])
    db.session.add(report)
    db.session.flush()
    from ..validation import fields_message

    errors: dict[str, list[str]] = {}
    problems: list[str] = []  # "Update 2: Stage: …", by translated labels (the codes stay in `errors`)
    for n, change in enumerate(updates):
        lead_id = change.get("lead_id") if isinstance(change, dict) else None
        if lead_id not in leads:
            errors[f"updates[{n}].lead_id"] = [gettext("Not an open lead of your organisation.")]
            problems.append(gettext("Update %(num)d: %(problem)s", num=n + 1,
                                    problem=fields_message({"lead_id": errors[f"updates[{n}].lead_id"]})))
            continue
        try:
            _record_progress(actor, lead_id, change, report)
        except (ValidationFailed, Conflict, Forbidden) as exc:
            details = exc.fields if isinstance(exc, ValidationFailed) else {"stage": [exc.message]}
            for name, messages in details.items():
                errors[f"updates[{n}].{name}"] = messages
            problems.append(gettext("Update %(num)d: %(problem)s", num=n + 1, problem=fields_message(details)))
    if errors:
        db.session.rollback()
        raise ValidationFailed(errors, message=gettext("Nothing was saved: %(problems)s",
                                                       problems=gettext("; ").join(problems)))
    db.session.commit()
    return report


# ---------------------------------------------------------------- stall limits and rates


def set_stall_limit(actor, stage: str, days) -> dict[str, int]:
    require_role(actor, Role.ORGANISER)
    if stage not in {s.value for s in STAGE_ORDER}:
        raise ValidationFailed({"stage": gettext("Give a pipeline stage code.")})
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 365:
        raise ValidationFailed({"days": gettext("Give a number of days from 1 to 365.")})
    row = db.session.get(StageLimit, stage) or StageLimit(stage=stage, days=days)
    row.days = days
    db.session.add(row)
    db.session.commit()
    return stall_limits()


def set_rate(actor, currency, cny_per_unit) -> ExchangeRate:
    require_role(actor, Role.ORGANISER)
    code = check_currency(currency)
    if code == "CNY":
        raise ValidationFailed({"currency": gettext("CNY is the unit itself.")})
    try:
        value = Decimal(str(cny_per_unit))
    except Exception:
        raise ValidationFailed({"cny_per_unit": gettext("Give a decimal number.")}) from None
    if not value.is_finite() or value <= 0 or value >= Decimal("1e9") or value.as_tuple().exponent < -6:
        raise ValidationFailed({"cny_per_unit": gettext("Give a positive decimal with at most six decimal places.")})
    row = db.session.get(ExchangeRate, code) or ExchangeRate(currency=code, cny_per_unit=value)
    row.cny_per_unit = value
    row.updated_by_id = actor.id
    db.session.add(row)
    db.session.commit()
    return row


#: How `stats/pipeline` groups a lead (by the same facts as the province's numbers).


# ---------------------------------------------------------------- signing ceremonies


def record_signing(actor, session_id: int, data: dict, *, stream=None, filename: str | None = None) -> Signing:
    """An organiser records an agreement signed on screen: the lead moves to `signed`.

    The agreement is uploaded with the call (or the lead already has one); the amount is the
    contracted amount. All or nothing.
    """
    require_role(actor, Role.ORGANISER)
    session = fairs.get_session(actor, session_id)
    if session.kind != SessionKind.SIGNING:
        raise Conflict(gettext("Agreements are recorded in signing sessions."), code="not_a_signing_session")
    if session.status == SessionStatus.CANCELLED:
        raise Conflict(gettext("This session is cancelled."), code="session_closed")
    if not signing_open(session):
        raise Conflict(gettext("The ceremony has not begun: signings are recorded from the session's start."),
                       code="session_not_started", details={"starts_at": session.starts_at.isoformat()})
    lead_id = data.get("lead_id")
    lead = (db.session.get(Lead, lead_id)
            if isinstance(lead_id, int) and not isinstance(lead_id, bool) and 0 < lead_id <= MAX_INT else None)
    if lead is None:
        raise ValidationFailed({"lead_id": gettext("Name the lead whose agreement is signed.")})
    if lead.stage == LeadStage.DROPPED:
        raise Conflict(gettext("This lead was dropped; an organiser must revive it first."), code="lead_dropped")
    if db.session.scalar(select(Signing.id).where(Signing.lead_id == lead.id)):
        raise Conflict(gettext("This lead's signing is already recorded."), code="already_signed")
    received = None
    if stream is not None:
        received, sniffed, name = _receive_document(stream, filename, DocumentKind.AGREEMENT)
    else:
        document = db.session.scalar(select(LeadDocument).where(
            LeadDocument.lead_id == lead.id, LeadDocument.kind == DocumentKind.AGREEMENT).order_by(LeadDocument.id.desc()))
        if document is None:
            raise ValidationFailed({"file": gettext("Attach the signed agreement.")})
    with storing(received):  # the commit, once the agreement's file is in place
        if received is not None:
            document = _document_row(actor, lead, DocumentKind.AGREEMENT, received, sniffed, name)
        note = f"Signed on screen: {session.title}." if lead.stage not in SIGNED_STAGES else f"Signing ceremony: {session.title}."
        _record_progress(actor, lead.id, {
            **({"stage": LeadStage.SIGNED.value} if lead.stage not in SIGNED_STAGES else {}),
            "amount": data.get("amount"), "currency": data.get("currency"), "note": note})
        if lead.expected_amount is None or lead.currency is None:
            raise ValidationFailed({"amount": gettext("Give the contracted amount and currency.")})
        signing = Signing(session_id=session.id, lead_id=lead.id, amount=lead.expected_amount, currency=lead.currency,
                          document_id=document.id, recorded_by_id=actor.id)
        db.session.add(signing)
    return signing


# ---------------------------------------------------------------- demand profiles


#: The fields of an organisation's demand profile.
DEMAND_FIELDS = ("demand_sectors", "demand_countries", "demand_note")


def update_demand(actor, organisation_id: int, data: dict) -> Organisation:
    """An organisation's demand profile: its own people and organisers may edit it."""
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound(gettext("No such organisation."))
    if actor is None or not (actor.role == Role.ORGANISER or actor.organisation_id == organisation.id):
        raise Forbidden(gettext("Only the organisation's people and organisers edit its profile."))
    write_demand(organisation, demand_values(data))
    db.session.commit()
    return organisation


def demand_values(data: dict) -> dict:
    """The demand fields given in `data`, checked by `DemandSchema`: the clean values (codes sorted, once
    each), or one 422 naming each bad field. Other fields of `data` are left to the caller."""
    from ..schemas import load
    from .schemas import DemandSchema

    return load(DemandSchema(), {k: v for k, v in data.items() if k in DEMAND_FIELDS}, partial=True)


def write_demand(organisation: Organisation, values: dict) -> None:
    """Write an organisation's demand profile (`demand_values` checked them): the one writer of these
    fields. Flushes; the caller commits, so the organisation services (which change the demand with
    the rest of the organisation) write it through here too."""
    for key in DEMAND_FIELDS:
        if key in values:
            setattr(organisation, key, values[key])
    db.session.flush()


# ---------------------------------------------------------------- meetings


def record_meeting(lead_id: int, *, user_id: int | None, note: str, held: bool = False) -> Lead:
    """Write a meeting on a lead's history; a held meeting moves a lead at `partner_identified` to
    `follow_up`. Flushes; the caller commits."""
    lead = db.session.get(Lead, lead_id)
    from_stage = to_stage = lead.stage
    if held and lead.stage == LeadStage.PARTNER_IDENTIFIED:
        to_stage = LeadStage.FOLLOW_UP.value
        lead.stage = to_stage
        lead.stage_changed_at = utcnow()
    lead.last_progress_at = utcnow()
    db.session.add(LeadEvent(lead_id=lead.id, user_id=user_id, from_stage=from_stage, to_stage=to_stage,
                             note=note[:4000], source="meeting"))
    db.session.flush()
    return lead


# ---------------------------------------------------------------- organisation merges

#: (table, column) pairs that point at a lead and are leads' own: a combined lead's rows all follow.
#: Other domains' rows follow through `signals.leads_combined` (meetings).
LEAD_REFERENCES = frozenset({
    ("lead_events", "lead_id"),
    ("interests", "lead_id"),
    ("lead_documents", "lead_id"),
    ("signings", "lead_id"),
    ("site_proposals", "lead_id"),
})


@signals.receiver(signals.organisations_merged, moves={
    ("leads", "organisation_id"), ("interests", "organisation_id"), ("progress_reports", "organisation_id")})
def move_organisation_leads(survivor, *, source, actor) -> None:
    """Leads' part of merging `source` into `survivor` (inside the merge's transaction; flushes).

    Where both have a lead on the same project the survivor's lead is kept and the other folded into
    it (see `_combine_leads`) and deleted; every other lead, interest and monthly report moves over.
    """
    _, combined = shared_project_leads(survivor.id, source.id)
    for kept, gone in combined:
        _combine_leads(actor, kept, gone, source.name)
        db.session.execute(delete(Lead).where(Lead.id == gone.id).execution_options(synchronize_session=False))
        db.session.expunge(gone)
    for model in (Lead, Interest, ProgressReport):
        db.session.execute(update(model).where(model.organisation_id == source.id)
                           .values(organisation_id=survivor.id).execution_options(synchronize_session=False))
    db.session.flush()


def _combine_leads(actor, kept: Lead, gone: Lead, duplicate_name: str) -> None:
    """Fold `gone` into `kept`: every history row, interest, document, signing and site proposal moves over (and,
    through `signals.leads_combined`, other domains' rows and links), and `kept` takes whatever
    `gone` knew better. Flushes; `gone` is deleted by the caller.

    The kept row is the survivor's lead, so its id (links, calendar entries) stays valid. It
    takes over the absorbed lead's stage when that one is further along (a live lead beats a
    dropped one), with its amount and stage date; an empty owner, amount or next action is filled
    in; the earliest next action wins; the lead's origin (fair, session, created) is the older
    lead's. A history row "Merged from <name>." records the fold, from and to the stage.
    """
    for model in (LeadEvent, Interest, LeadDocument, Signing, SiteProposal):
        db.session.execute(update(model).where(model.lead_id == gone.id).values(lead_id=kept.id)
                           .execution_options(synchronize_session=False))
    signals.leads_combined.send(kept, gone=gone, actor=actor)
    before = kept.stage
    if stage_rank(gone.stage) > stage_rank(kept.stage):
        kept.stage, kept.stage_changed_at = gone.stage, gone.stage_changed_at
        if gone.expected_amount is not None:
            kept.expected_amount, kept.currency = gone.expected_amount, gone.currency
    if kept.expected_amount is None and gone.expected_amount is not None:
        kept.expected_amount, kept.currency = gone.expected_amount, gone.currency
    if kept.owner_id is None:
        kept.owner_id = gone.owner_id
    dates = [d for d in (kept.next_action_on, gone.next_action_on) if d is not None]
    kept.next_action_on = min(dates) if dates else None
    if gone.created_at < kept.created_at:
        kept.created_at, kept.fair_id, kept.session_id = gone.created_at, gone.fair_id, gone.session_id
    kept.last_progress_at = max(kept.last_progress_at, gone.last_progress_at)
    db.session.add(LeadEvent(lead_id=kept.id, user_id=getattr(actor, "id", None), from_stage=before,
                             to_stage=kept.stage, note=f"Merged from {duplicate_name}.", source="merge",
                             amount=kept.expected_amount, currency=kept.currency,
                             next_action_on=kept.next_action_on))
    db.session.flush()
