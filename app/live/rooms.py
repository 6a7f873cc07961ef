"""Which Socket.IO rooms each client is in, kept beside python-socketio's own room table.

python-socketio finds a disconnecting client's rooms by testing every room of the namespace (a copy
of the table, then `sid in room` for each). The live room has a room per connection (Socket.IO's
own), one per person (their notifications, from any process) and one or two per session, so each
disconnect cost time in proportion to everyone connected, and a fair's end, or a reconnect storm,
was quadratic: with 6,500 people connected, most of a disconnect's work. `IndexedRooms` keeps the
rooms of each client as they are entered and left, so a disconnect (and `get_rooms`) visits the
client's own few rooms only. The room table itself, and so every emit, is python-socketio's as before.
"""

from __future__ import annotations

import socketio


class IndexedRooms:
    """A mixin for a python-socketio client manager (before it in the bases)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        #: (namespace, sid) → the rooms the client entered and has not left (None: the namespace's).
        self.rooms_of: dict[tuple[str, str], set] = {}

    def basic_enter_room(self, sid, namespace, room, eio_sid=None):
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)  # refusals raise before the index
        self.rooms_of.setdefault((namespace, sid), set()).add(room)

    def basic_leave_room(self, sid, namespace, room):
        super().basic_leave_room(sid, namespace, room)
        rooms = self.rooms_of.get((namespace, sid))
        if rooms is not None:
            rooms.discard(room)
            if not rooms:
                del self.rooms_of[(namespace, sid)]

    def basic_disconnect(self, sid, namespace, **kwargs):
        if namespace not in self.rooms:
            return
        for room in list(self.rooms_of.get((namespace, sid), ())):
            self.basic_leave_room(sid, namespace, room)
        self.rooms_of.pop((namespace, sid), None)
        # The rest (pending acknowledgements, connecting/disconnecting marks) is python-socketio's: it
        # is shown an empty room table to scan, the client having left each of its rooms above.
        table = self.rooms.get(namespace)  # None once the client's leaving emptied the namespace
        self.rooms[namespace] = {}
        try:
            super().basic_disconnect(sid, namespace, **kwargs)
        finally:
            if table:
                self.rooms[namespace] = table
            else:
                self.rooms.pop(namespace, None)

    def get_rooms(self, sid, namespace):
        return [room for room in self.rooms_of.get((namespace, sid), ()) if room is not None]


class IndexedManager(IndexedRooms, socketio.Manager):
    """One process's client manager (no message queue)."""
