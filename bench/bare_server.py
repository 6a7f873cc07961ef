"""The baseline for bench/live_fanout.py: a bare python-socketio server (no Flask, no database).

Clients connect to the `/live` namespace, `join` puts them in one room, and each `ask` is
broadcast to the room as `question` with a rising `seq`, then acknowledged, as the app does.

    gunicorn -k gevent -w 1 --worker-connections 10000 -b 127.0.0.1:8001 bench.bare_server:app
"""

import socketio

sio = socketio.Server(async_mode="gevent", cors_allowed_origins="*")
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
