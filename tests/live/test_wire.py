"""permessage-deflate with a threshold: small messages go out as they are, large ones compressed,
and a client that negotiated the extension reads both (wsproto on both ends, as the server runs it);
and long-polling answers no client refuses."""

from __future__ import annotations

import pytest
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Request, TextMessage
from wsproto.extensions import PerMessageDeflate

from app.live.wire import ThresholdDeflate


def _pair(threshold: int):
    ThresholdDeflate.threshold = threshold
    client, server = WSConnection(ConnectionType.CLIENT), WSConnection(ConnectionType.SERVER)
    server.receive_data(client.send(Request(host="fair.example", target="/socket.io/", extensions=[PerMessageDeflate()])))
    request = next(server.events())
    assert isinstance(request, Request)
    client.receive_data(server.send(AcceptConnection(extensions=[ThresholdDeflate()])))
    accepted = next(client.events())
    assert [e.name for e in accepted.extensions] == ["permessage-deflate"]
    return client, server


def _send(client, server, text: str) -> tuple[bool, str]:
    frame = server.send(TextMessage(data=text))
    client.receive_data(frame)
    received = "".join(e.data for e in client.events() if isinstance(e, TextMessage))
    return bool(frame[0] & 0x40), received  # RSV1: the message is compressed


def test_small_messages_are_not_compressed_and_large_ones_are():
    client, server = _pair(1024)
    small = '42/live,["question",{"id":1,"text":"When does the plant open?"}]'
    large = '42/live,["join",' + '{"text":"a question asked in the room"},' * 100 + '{}]'
    for text, compressed in ((small, False), (large, True), (small, False), (large, True)):
        assert _send(client, server, text) == (compressed, text)


def test_threshold_zero_compresses_nothing():
    client, server = _pair(0)
    large = "x" * 5000
    assert _send(client, server, large) == (False, large)
    ThresholdDeflate.threshold = 1024


def test_a_long_polling_answer_carries_at_most_sixteen_packets_and_the_rest_follow(app, monkeypatch):
    """A burst of 40 acknowledgements reaches a Python client on long-polling: every answer holds at most
    16 packets (python-engineio's client drops a connection on more), the rest come with the next polls."""
    import engineio
    from engineio import packet, payload

    from app.live import wire

    assert engineio.socket.Socket.poll is wire.bounded_poll  # installed with the app
    server = engineio.Server(async_mode="threading")
    socket = engineio.socket.Socket(server, "sid-wire")
    for n in range(40):
        socket.queue.put(packet.Packet(packet.MESSAGE, data=f"ack {n}"))
    answers = [socket.poll() for _ in range(3)]
    assert [len(answer) for answer in answers] == [16, 16, 8]
    monkeypatch.setattr(payload.Payload, "max_decode_packets", 16)  # a Python client's own limit
    received = []
    for answer in answers:  # each answer decodes in such a client
        received += [p.data for p in payload.Payload(encoded_payload=payload.Payload(packets=answer).encode()).packets]
    with pytest.raises(ValueError):  # what one answer of all 40 did to it
        payload.Payload(encoded_payload=payload.Payload(packets=[p for a in answers for p in a]).encode())
    assert received == [f"ack {n}" for n in range(40)]
    socket.queue.put(packet.Packet(packet.MESSAGE, data="last"))
    socket.queue.put(None)  # closing: the marker stays for the poll after
    assert [p.data for p in socket.poll()] == ["last"]
    assert socket.poll() == []


def test_each_large_message_is_compressed_on_its_own_and_keeps_no_compressor():
    """No zlib state stays with a connection between messages (it was ~256 KiB each), and a client that
    keeps its window reads every message, one after another."""
    client, server = _pair(1024)
    large = '42/live,["join",' + '{"text":"a question asked in the room","votes":3},' * 200 + '{}]'
    for _ in range(3):
        assert _send(client, server, large) == (True, large)
        extensions = server.connection._proto.extensions
        assert [type(e) for e in extensions] == [ThresholdDeflate] and extensions[0]._compressor is None
    frame = server.send(TextMessage(data=large))
    assert len(frame) < len(large) / 5  # still compressed well at zlib's fastest level
