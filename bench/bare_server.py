"""The baseline for bench/live_fanout.py: a bare python-socketio server (no Flask, no database).

Clients connect to the `/live` namespace, `join` puts them in one room, and each `ask` is
broadcast to the room as `question` with a rising `seq`, then acknowledged, as the app does.

    gunicorn -k gevent -w 1 --worker-connections 10000 -b 127.0.0.1:8001 bench.bare_server:app
    BARE_REDIS_URL=redis://127.0.0.1:6379/9 gunicorn -k gevent -w 2 ... bench.bare_server:app  (two processes)

With several processes each counts its own `seq` (the generator tells questions apart by client id).
"""

import os

import socketio

#: `BARE_REDIS_URL`: several bare processes with python-socketio's Redis manager between them (the
#: like-for-like baseline of the app's two workers); unset, one process with no message queue.
_REDIS_URL = os.environ.get("BARE_REDIS_URL")
sio = socketio.Server(async_mode="gevent", cors_allowed_origins="*",
                      client_manager=socketio.RedisManager(_REDIS_URL, channel="bench-bare") if _REDIS_URL else None)
app = socketio.WSGIApp(sio)
ROOM = "session:1"
NAMESPACE = "/live"
_seq = 0


@sio.on("connect", namespace=NAMESPACE)
def connect(sid, environ, auth=None):
    return True


@sio.on("join", namespace=NAMESPACE)
def join(sid, data=None):
    sio.enter_room(sid, ROOM, namespace=NAMESPACE)
    return {"ok": True, "seq": _seq}


@sio.on("ask", namespace=NAMESPACE)
def ask(sid, data=None):
    global _seq
    _seq += 1
    question = {"text": (data or {}).get("text"), "client_id": (data or {}).get("client_id"), "seq": _seq}
    sio.emit("question", question, to=ROOM, namespace=NAMESPACE)
    return {"ok": True, "question": question}


_interests: dict = {}


@sio.on("express_interest", namespace=NAMESPACE)
def express_interest(sid, data=None):
    """The ingest baseline (bench/interest_ingest.py): an interest kept in memory once per client id
    (a resend is acknowledged as a duplicate with the first's id) and told to an empty staff room."""
    data = data or {}
    client_id = data.get("client_id")
    if client_id in _interests:
        return {"ok": True, "interest": _interests[client_id], "duplicate": True}
    interest = _interests[client_id] = {"id": len(_interests) + 1, "client_id": client_id,
                                        "project_id": data.get("project_id"), "level": data.get("level")}
    sio.emit("interest", interest, to="staff:1", namespace=NAMESPACE)
    return {"ok": True, "interest": interest, "duplicate": False}
