"""Who is in a session's room: people (not tabs) per session, shared through Redis when
`REDIS_URL` is set, else kept in this process."""

from __future__ import annotations

import threading
from collections import Counter

from flask import current_app

_lock = threading.Lock()
_local: dict[tuple[int, int], Counter] = {}


def _redis():
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    client = current_app.extensions.get("cloudfair.presence_redis")
    if client is None:
        import redis

        client = redis.Redis.from_url(url)
        current_app.extensions["cloudfair.presence_redis"] = client
    return client


def _key(session_id: int) -> str:
    return f"cloudfair:presence:{session_id}"


def enter(session_id: int, user_id: int) -> int:
    client = _redis()
    if client is not None:
        pipe = client.pipeline()
        pipe.hincrby(_key(session_id), str(user_id), 1)
        pipe.hlen(_key(session_id))
        return int(pipe.execute()[1])
    with _lock:
        people = _local.setdefault((id(current_app._get_current_object()), session_id), Counter())
        people[user_id] += 1
        return len(people)


def leave(session_id: int, user_id: int) -> int:
    client = _redis()
    if client is not None:
        left = client.hincrby(_key(session_id), str(user_id), -1)
        if left <= 0:
            client.hdel(_key(session_id), str(user_id))
        return int(client.hlen(_key(session_id)))
    with _lock:
        people = _local.setdefault((id(current_app._get_current_object()), session_id), Counter())
        people[user_id] -= 1
        if people[user_id] <= 0:
            del people[user_id]
        return len(people)


def count(session_id: int) -> int:
    client = _redis()
    if client is not None:
        return int(client.hlen(_key(session_id)))
    with _lock:
        return len(_local.get((id(current_app._get_current_object()), session_id), ()))
