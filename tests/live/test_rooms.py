"""The client manager keeps each client's rooms (`app/live/rooms.py`): the room table is what
python-socketio's own manager makes of the same steps, and a disconnect visits the client's rooms only."""

from __future__ import annotations

import random

import pytest
import socketio

from app.extensions import socketio as flask_socketio
from app.live.rooms import IndexedManager, IndexedRooms
from tests.live.test_events import room  # noqa: F401  (fixture)

NS = "/live"


def _managers():
    managers = []
    for manager in (socketio.Manager(), IndexedManager()):
        socketio.Server(client_manager=manager)  # sets the manager's server (ids for new clients)
        managers.append(manager)
    return managers


def _state(manager) -> tuple:
    rooms = {ns: {room: dict(members) for room, members in table.items()} for ns, table in manager.rooms.items()}
    return rooms, dict(manager.pending_connect), dict(manager.pending_disconnect), sorted(manager.callbacks)


def test_the_room_table_is_the_one_python_socketio_keeps_for_the_same_steps():
    plain, indexed = _managers()
    rng = random.Random(20261204)
    clients: list[str] = []  # sids, the same in both (made by the plain manager, given to both)
    for _ in range(3000):
        step = rng.random()
        if step < 0.25 or not clients:
            eio_sid = f"e{rng.randrange(10**9)}"
            sid = plain.connect(eio_sid, NS)
            indexed.basic_enter_room(sid, NS, None, eio_sid=eio_sid)
            indexed.basic_enter_room(sid, NS, sid, eio_sid=eio_sid)
            clients.append(sid)
        elif step < 0.6:
            sid, room = rng.choice(clients), rng.choice(["session:1", "session:2", "staff:1", f"user:{rng.randrange(40)}"])
            for manager in (plain, indexed):
                manager.enter_room(sid, NS, room)
        elif step < 0.75:
            sid, room = rng.choice(clients), rng.choice(["session:1", "staff:1", f"user:{rng.randrange(40)}"])
            for manager in (plain, indexed):
                manager.leave_room(sid, NS, room)
        elif step < 0.8:
            room = rng.choice(["session:2", "staff:1"])
            for manager in (plain, indexed):
                manager.close_room(room, NS)
        else:
            sid = clients.pop(rng.randrange(len(clients)))
            for manager in (plain, indexed):
                manager._generate_ack_id(sid, lambda *args: None)
                manager.pre_disconnect(sid, NS)
                manager.disconnect(sid, NS)
        assert _state(indexed) == _state(plain)
        probe = rng.choice(clients) if clients else "nobody"
        assert sorted(map(str, indexed.get_rooms(probe, NS))) == sorted(map(str, plain.get_rooms(probe, NS)))
    for sid in clients:  # everyone leaves: nothing left behind in either, nor in the index
        for manager in (plain, indexed):
            manager.disconnect(sid, NS)
    assert _state(indexed) == _state(plain) and indexed.rooms == {} and indexed.rooms_of == {}


class _NoScan(dict):
    """A namespace's room table that refuses to be walked."""

    def items(self):
        raise AssertionError("the whole namespace was scanned")

    copy = items


@pytest.mark.parametrize("manager_class, scans", [(socketio.Manager, True), (IndexedManager, False)])
def test_a_disconnect_visits_the_client_s_own_rooms_only(manager_class, scans):
    manager = manager_class()
    socketio.Server(client_manager=manager)
    sids = [manager.connect(f"e{n}", NS) for n in range(200)]
    for n, sid in enumerate(sids):
        manager.enter_room(sid, NS, f"user:{n}")
        manager.enter_room(sid, NS, "session:1")
    manager.rooms[NS] = _NoScan(manager.rooms[NS])
    if scans:  # python-socketio's own manager: the reason for the index
        with pytest.raises(AssertionError, match="scanned"):
            manager.disconnect(sids[0], NS)
        return
    manager.disconnect(sids[0], NS)
    assert f"user:0" not in manager.rooms[NS] and sids[0] not in manager.rooms[NS]["session:1"]
    assert len(manager.rooms[NS]["session:1"]) == 199 and manager.get_rooms(sids[1], NS) != []


def test_the_app_s_client_manager_keeps_the_index(app, room, connect):
    """With or without Redis, the server's manager is indexed, and a real client's disconnect leaves
    its person's room and its session's."""
    manager = flask_socketio.server.manager
    assert isinstance(manager, IndexedRooms)
    client = connect(room["sjz"])
    assert client.emit("join", {"session_id": room["session"].id}, namespace=NS, callback=True)["ok"] is True
    sid = next(sid for sid, _ in manager.get_participants(NS, f"user:{room['sjz'].id}"))
    assert {f"user:{room['sjz'].id}", f"session:{room['session'].id}"} <= set(manager.get_rooms(sid, NS))
    client.disconnect(namespace=NS)
    assert (NS, sid) not in manager.rooms_of
    assert all(sid not in members for members in manager.rooms.get(NS, {}).values())
