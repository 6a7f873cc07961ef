"""The live room's packets (`wire.LivePacket`): written by orjson, read by every client as the standard
library's text was, and looked through for binary parts as python-socketio looks."""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from engineio import json as engineio_json
from socketio import packet
from socketio.packet import Packet

from app.extensions import socketio
from app.live.wire import LivePacket, _JSON

_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
#: What handlers send: dicts (string or integer keys) and lists of them, every value JSON has.
_json_like = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=5)
                          | st.dictionaries(st.text(max_size=8) | st.integers(), inner, max_size=5), max_leaves=40)
#: The same with bytes, bytearrays and tuples anywhere (python-socketio looks into lists and dicts only).
_with_binary = st.recursive(_scalars | st.binary(max_size=4) | st.binary(max_size=4).map(bytearray),
                            lambda inner: st.lists(inner, max_size=5) | st.tuples(inner, inner)
                            | st.dictionaries(st.text(max_size=8), inner, max_size=5), max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(_with_binary)
def test_binary_parts_are_found_where_python_socketio_finds_them(data):
    assert LivePacket.data_is_binary(data) is Packet.data_is_binary(data)
    assert LivePacket.data_is_binary([data]) is Packet.data_is_binary([data])


def test_binary_parts_deep_in_a_join_state_are_found():
    state = {"questions": [{"id": n, "text": "q"} for n in range(20)], "seq": 3}
    assert LivePacket.data_is_binary(["join", state]) is False
    state["questions"][19]["file"] = b"%PDF"
    assert LivePacket.data_is_binary(["join", state]) is True
    assert LivePacket(packet.EVENT, data=["x", {"a": [bytearray(b"1")]}]).packet_type == packet.BINARY_EVENT


@settings(max_examples=300, deadline=None)
@given(_json_like)
def test_a_packet_s_text_reads_back_as_the_standard_library_s_did(data):
    ours = _JSON.dumps(data, separators=(",", ":"))
    assert isinstance(ours, str)
    assert json.loads(ours) == json.loads(json.dumps(data, separators=(",", ":")))


def test_what_orjson_refuses_is_written_or_refused_by_the_standard_library():
    lone = {"text": "half a pair \ud800"}  # a lone surrogate: orjson refuses it, the library escapes it
    assert _JSON.dumps(lone) == json.dumps(lone)
    huge = {"n": 2 ** 70}
    assert json.loads(_JSON.dumps(huge)) == huge
    for refused in ({"at": datetime(2026, 12, 6, tzinfo=timezone.utc)}, {"p": _Point(1, 2)}, {"s": {1, 2}}):
        with pytest.raises(TypeError):  # an emit of these fails as it did (the library refuses them too)
            _JSON.dumps(refused)
        with pytest.raises(TypeError):
            json.dumps(refused)


def test_non_ascii_text_goes_as_utf_8_and_numbers_as_json_writes_them():
    data = ["question", {"text": "石家庄 — ceramic filters", "votes": 3, "share": 0.25, 7: True}]
    text = LivePacket(packet.EVENT, namespace="/live", data=data).encode()
    assert text == '2/live,["question",{"text":"石家庄 — ceramic filters","votes":3,"share":0.25,"7":true}]'
    assert Packet(encoded_packet=text).data == ["question", {"text": "石家庄 — ceramic filters", "votes": 3,
                                                              "share": 0.25, "7": True}]
    assert json.loads(_JSON.dumps([math.nan, math.inf])) == [None, None]  # JSON has neither (the library wrote NaN, Infinity)


def test_the_app_s_server_and_its_queue_write_live_packets(app):
    assert socketio.server.packet_class is LivePacket
    assert socketio.server.manager.json is _JSON  # the Redis queue's messages are written the same way
    assert Packet.json is engineio_json  # python-socketio's own class is left as it was


@dataclasses.dataclass
class _Point:
    x: int
    y: int
