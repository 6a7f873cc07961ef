"""Notifications: `notify` adds a row inside the caller's transaction; the caller commits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask_babel import force_locale, gettext
from sqlalchemy import func, or_, select, update

from .. import signals, statements
from ..bilingual import LANGS
from ..errors import NotFound
from ..extensions import db
from ..pagination import paginate
from ..types import utcnow
from .enums import NotificationKind
from .models import Notification


def in_both(write: Callable[[str], tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """(title, body) written in each language: `write(lang)` runs with that language forced, so
    gettext and bilingual.plain/text give that language's words."""
    out = {}
    for lang in ("zh", "en"):
        with force_locale(lang):
            out[lang] = write(lang)
    return out


def notify(user_id: int, *, kind: str, texts: dict[str, tuple[str, str]], lang: str | None = None,
           link: str | None = None) -> Notification:
    """Add a notification of one of the `NotificationKind`s, stored in both languages: `texts` (from
    `in_both`) gives (title, body) per language; `title`/`body` are the person's language (`lang`).

    Raises ValueError for an unknown kind or a language without a title (a programming error)."""
    kind = NotificationKind(kind)
    if any(not (texts.get(code) or ("",))[0] for code in LANGS):
        raise ValueError(f"A {kind} notification needs a title in each of {LANGS}.")
    lang = lang if lang in LANGS else "en"
    title, body = texts[lang]
    both = {f"{field}_{code}": (value or "")[:limit] or None
            for code, (t, b) in texts.items() if code in LANGS
            for field, value, limit in (("title", t, 300), ("body", b, 2000))}
    row = Notification(user_id=user_id, kind=kind.value, title=title[:300], body=(body or "")[:2000], link=link, **both)
    db.session.add(row)
    return row


def deliver_live(notifications: list[Notification]) -> None:
    """After the commit: the live copy of notifications just stored, to their people's open pages
    (`signals.notifications_stored`, delivered by the live room). A courtesy: the rows and the mails
    stand anyway."""
    if notifications:
        signals.notifications_stored.send(None, rows=notifications)


def fold_key(kind: str, scope: object, seconds: int, now: datetime) -> str | None:
    """The key a burst of `kind` events about `scope` shares within one window of `seconds` (windows
    are counted from the epoch, so every process agrees); None when folding is off (`seconds` < 1)."""
    if seconds < 1:
        return None
    return f"{kind}:{scope}:{seconds}:{int(now.timestamp()) // seconds}"


def add_folded(rows: list[dict], folded: dict[str, dict]) -> None:
    """Insert notification rows in one statement, in the caller's transaction. A row with a
    `fold_key` (and `fold_count` 1) whose person already has an unread row with that key updates
    that row instead: its count rises by one, its title becomes `folded[lang]["title"]` (the text
    before and after the count), its body `folded[lang]["body"]`, its link and time the new row's.

    The unique key (person, fold_key) makes this one atomic upsert: two events at once wait for each
    other's row, so neither adds a second row and no count is lost. Rows must list the people in one
    order (sorted) so that concurrent statements lock them in the same order."""
    add_folded_many([(rows, folded)])


def add_folded_many(notices: list[tuple[list[dict], dict[str, dict]]], *, driver=None) -> None:
    """`add_folded` for several events' (rows, folded texts), in their order, in one statement (two with
    `driver`: below). Rows of the same person and fold key are folded here first (`_fold`), so a
    burst's organiser gets one row written per batch, not one per event. With `driver` (the session's
    psycopg connection in pipeline mode) the statements are only queued on it, for the caller's commit
    to send: the rows with no fold key (which no row already there can take: the unique key holds
    NULLs apart), such as a presenter's one row per interest, in one insert of arrays
    (`_PG_ADD_PLAIN`); the others in the upsert, one execution each (after folding, one per person and
    key)."""
    params: list[dict] = []
    plain: list[dict] = []
    folding: dict[tuple[int, str], dict] = {}
    for rows, folded in notices:
        texts_of = None
        for row in rows:
            key = (row["user_id"], row.get("fold_key"))
            if key[1] is None and driver is not None:
                plain.append(row)
                continue
            if texts_of is None:
                texts_of = _texts_of(folded)
            param = {**texts_of, **{column: row.get(column) for column in _FOLDED_COLUMNS}}
            foldable = bool(folded) and key[1] is not None and row.get("fold_count") == 1
            if foldable and key in folding:
                _fold(folding[key], param)
                continue
            if foldable:
                folding[key] = param
            params.append(param)
    params.sort(key=lambda param: param["user_id"])  # people in one order: concurrent batches lock them alike
    if driver is not None:
        if plain:
            driver.cursor().execute(_PG_ADD_PLAIN, {column: [row.get(column) for row in plain] for column in _FOLDED_COLUMNS})
        if params:
            driver.cursor().executemany(_ADD_FOLDED_PSYCOPG, params)
    elif params:
        db.session.execute(_ADD_FOLDED, params)


def _texts_of(folded: dict[str, dict]) -> dict[str, str]:
    """What a row already there takes instead, per language (no folded texts: nothing folds)."""
    texts_of = {}
    for lang in ("zh", "en"):
        texts = folded.get(lang) or {}
        texts_of[f"before_{lang}"], texts_of[f"after_{lang}"] = texts.get("title", ("", ""))
        texts_of[f"folded_body_{lang}"] = (texts.get("body") or "")[:2000]
    return texts_of


def _fold(earlier: dict, later: dict) -> None:
    """Fold `later` (a row of the same person and key, one event) into `earlier`'s parameters, as the
    upsert would fold it into the row `earlier` wrote: one count more, the folded title with the count
    between its halves, the later event's body, link and time. `earlier` then writes both: alone
    (`fold_count` events in one row) or into a row already there (its count plus this one's)."""
    count = earlier["fold_count"] + 1
    in_zh = earlier["title"] == earlier["title_zh"]  # the person's language, as the statement tells it
    earlier.update({name: later[name] for name in ("before_zh", "after_zh", "before_en", "after_en", "folded_body_zh",
                                                   "folded_body_en", "link", "created_at")})
    for lang in ("zh", "en"):
        earlier[f"title_{lang}"] = f"{later[f'before_{lang}']}{count}{later[f'after_{lang}']}"
        earlier[f"body_{lang}"] = later[f"folded_body_{lang}"] or None
    lang = "zh" if in_zh else "en"
    earlier.update(fold_count=count, title=earlier[f"title_{lang}"], body=later[f"folded_body_{lang}"])


_FOLDED_COLUMNS = ("user_id", "kind", "title", "title_zh", "title_en", "body", "body_zh", "body_en", "link",
                   "created_at", "fold_key", "fold_count")
_FOLDED_TITLE = ":before_{lang} || CAST(notifications.fold_count + excluded.fold_count AS VARCHAR) || :after_{lang}"
_IN_PERSONS = "CASE WHEN excluded.title = excluded.title_zh THEN {zh} ELSE {en} END"  # `title` is in the person's language
#: The row, or (same person, same fold key) the count and texts of the row already there.
_ADD_FOLDED = statements.upsert(Notification.__table__, _FOLDED_COLUMNS, ("user_id", "fold_key"), update=", ".join((
    "fold_count = notifications.fold_count + excluded.fold_count",
    f"title_zh = {_FOLDED_TITLE.format(lang='zh')}",
    f"title_en = {_FOLDED_TITLE.format(lang='en')}",
    "title = " + _IN_PERSONS.format(zh=_FOLDED_TITLE.format(lang="zh"), en=_FOLDED_TITLE.format(lang="en")),
    "body_zh = NULLIF(:folded_body_zh, '')",
    "body_en = NULLIF(:folded_body_en, '')",
    "body = " + _IN_PERSONS.format(zh=":folded_body_zh", en=":folded_body_en"),
    "link = excluded.link",
    "created_at = excluded.created_at")))


#: The same in psycopg's own style (`add_folded_many(..., driver=)`).
_ADD_FOLDED_PSYCOPG = statements.for_psycopg(_ADD_FOLDED.text)

#: PostgreSQL, psycopg's style: rows without a fold key, each column one array sent in binary (psycopg
#: adapts a list once, not a row's values one by one, and the server runs one statement, not one a row).
_PG_COLUMN_TYPES = {"user_id": "integer", "kind": "text", "title": "text", "title_zh": "text", "title_en": "text",
                    "body": "text", "body_zh": "text", "body_en": "text", "link": "text", "created_at": "timestamptz",
                    "fold_key": "text", "fold_count": "integer"}
assert tuple(_PG_COLUMN_TYPES) == _FOLDED_COLUMNS
_PG_ADD_PLAIN = (f"INSERT INTO {Notification.__tablename__} ({', '.join(_FOLDED_COLUMNS)}) SELECT * FROM unnest("
                 + ", ".join(f"%({column})b::{kind}[]" for column, kind in _PG_COLUMN_TYPES.items()) + ")")


def list_notifications(actor, *, unread_only: bool = False, page: int = 1, per_page: int = 20):
    query = select(Notification).where(Notification.user_id == actor.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return paginate(query.order_by(Notification.created_at.desc(), Notification.id.desc()), page, per_page)


def unread_count(actor) -> int:
    return db.session.scalar(
        select(func.count(Notification.id)).where(Notification.user_id == actor.id, Notification.read_at.is_(None))
    ) or 0


def mark_read(actor, notification_id: int) -> Notification:
    row = db.session.get(Notification, notification_id)
    if row is None or row.user_id != actor.id:
        raise NotFound(gettext("No such notification."))
    if row.read_at is None:
        row.read_at, row.fold_key = utcnow(), None  # read: later events make a new row
        db.session.commit()
    return row


def mark_all_read(actor) -> int:
    """Mark all of the caller's unread notifications read; returns how many."""
    result = db.session.execute(
        update(Notification).where(Notification.user_id == actor.id, Notification.read_at.is_(None))
        .values(read_at=utcnow(), fold_key=None)
    )
    db.session.commit()
    return result.rowcount or 0


@signals.receiver(signals.leads_combined)
def follow_combined_lead(kept, *, gone, actor) -> None:
    """When a merge folds lead `gone` into `kept`, notifications that link to `gone` (or a page
    under it) link to `kept` instead (inside the merge's transaction; flushes)."""
    link = f"/leads/{gone.id}"
    db.session.execute(
        update(Notification)
        .where(or_(Notification.link == link, Notification.link.like(link + "/%"), Notification.link.like(link + "?%"),
                   Notification.link.like(link + "#%")))
        .values(link=func.replace(Notification.link, link, f"/leads/{kept.id}"))
        .execution_options(synchronize_session=False))
    db.session.flush()
