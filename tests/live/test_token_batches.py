"""Connects that arrive together read their tokens together (`live.services._read_tokens`, through the
process's group read `_tokens`): one statement for the batch, each token answered as it would be alone
(live, unrevoked, unexpired, its person active), a token not found connecting nobody."""

from __future__ import annotations

from datetime import timedelta

from app.accounts.services import issue_token, revoke_token
from app.extensions import db
from app.live import services as live
from app.live.group_commit import GroupCommit
from tests.conftest import sql_seen
from tests.factories import make_user
from tests.live.test_events import NS, room  # noqa: F401  (fixture)
from tests.conftest import in_threads
from tests.live.test_group_commit import _in_app, _one_batch, postgres_only


def _tokens(room):
    """Tokens of every kind: two live ones of different people (one of them twice, as two tabs), a
    revoked one, an expired one, one of a deactivated person, and one never issued."""
    sjz, _ = issue_token(room["sjz"])
    organiser, _ = issue_token(room["organiser"])
    revoked, _ = issue_token(room["ts"])
    revoke_token(revoked)
    expired, token = issue_token(room["agent"])
    token.expires_at = live.utcnow() - timedelta(minutes=1)
    gone = make_user("attendee", name="Zhao Lei", organisation="Baoding Commerce Bureau", city="Baoding")
    deactivated, _ = issue_token(gone)
    gone.active = False
    db.session.commit()
    return [sjz, organiser, sjz, revoked, expired, deactivated, "cf_never-issued"]


def test_a_batch_reads_every_token_in_one_statement_as_each_would_be_read_alone(app, room):
    tokens = _tokens(room)
    alone = [live.person_for_token(token) for token in tokens]
    assert [p and p.id for p in alone] == [room["sjz"].id, room["organiser"].id, room["sjz"].id, None, None, None, None]
    batch = [live._PendingToken(live.hash_token(token)) for token in tokens]
    with sql_seen() as seen:
        live._read_tokens(batch)
    assert len(seen) == 1, seen
    assert all(pending.read for pending in batch)
    assert [pending.person for pending in batch] == alone  # the same people, organisations and names


def test_a_connect_alone_reads_alone(app, room, connect):
    client = connect(token=issue_token(room["sjz"])[0])
    assert client.is_connected(NS)
    assert live._tokens.batches[-1:] == [1]  # nobody else was connecting: its caller read it


@postgres_only
def test_connects_at_once_are_answered_from_one_batch(app, room, monkeypatch):
    tokens = _tokens(room)
    expected = [p and p.id for p in (live.person_for_token(token) for token in tokens)]
    db.session.remove()
    commit = _one_batch(app, monkeypatch, live, "_tokens", live._read_tokens, len(tokens))

    def reading(token):
        person = live.person_for_token(token)
        return person and person.id

    assert in_threads([_in_app(app, lambda token=token: reading(token)) for token in tokens]) == expected
    assert commit.batches == [len(tokens)]


def test_a_failed_batch_leaves_each_connect_to_read_alone(app, room, monkeypatch):
    token = _tokens(room)[0]

    def broken(batch):
        raise RuntimeError("the database went away mid-batch")

    monkeypatch.setattr(live, "_tokens", GroupCommit(broken))
    assert live.person_for_token(token).id == room["sjz"].id
