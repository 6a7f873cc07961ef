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


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 1000, 65535, 65536, 70000])
def test_a_text_frame_built_once_is_the_frame_wsproto_builds(size, monkeypatch):
    from app.live import wire

    monkeypatch.setattr(wire, "FRAME_TEXT_MAX", 1 << 20)  # every length encoding
    """A broadcast's frame is built by the first recipient's writer and sent as it is to the others
    (`wire.text_frame`): the same bytes wsproto builds for each connection, with or without
    permessage-deflate negotiated, at every length encoding (7 bits, 16, 64), in UTF-8."""
    from app.live import wire

    monkeypatch.setattr(wire, "_frames", {})
    text = ("展会" * size)[:size] if size % 2 else "q" * size
    plain_client, plain = WSConnection(ConnectionType.CLIENT), WSConnection(ConnectionType.SERVER)
    plain.receive_data(plain_client.send(Request(host="fair.example", target="/socket.io/")))
    next(plain.events())
    plain_client.receive_data(plain.send(AcceptConnection()))
    next(plain_client.events())
    client, server = _pair(1 << 20)  # nothing this long is compressed
    frame = wire.text_frame(text)
    assert frame == server.send(TextMessage(data=text)) == plain.send(TextMessage(data=text))
    assert wire.text_frame(text) is frame  # built once
    client.receive_data(frame)
    assert "".join(e.data for e in client.events() if isinstance(e, TextMessage)) == text
    ThresholdDeflate.threshold = 1024


def test_a_message_to_compress_has_no_frame_of_its_own(monkeypatch):
    from app.live import wire

    monkeypatch.setattr(wire, "_frames", {})
    ThresholdDeflate.threshold = 1024
    assert wire.text_frame("x" * 1023) is not None
    assert wire.text_frame("x" * 1024) is None
    assert wire.text_frame("展" * 400) is None  # 1,200 bytes in UTF-8
    assert "x" * 1024 not in wire._frames  # a long text is not kept
    ThresholdDeflate.threshold = 0  # nothing compressed: only short texts' frames are kept
    assert wire.text_frame("y" * wire.FRAME_TEXT_MAX) is not None
    assert wire.text_frame("y" * (wire.FRAME_TEXT_MAX + 1)) is None
    ThresholdDeflate.threshold = 1024
    monkeypatch.setattr(wire, "FRAMES_KEPT", 3)
    for n in range(10):
        wire.text_frame(f"ack {n}")
    assert len(wire._frames) <= 3  # a bounded memory of the texts sent last


class _Sock:
    def __init__(self):
        self.sent = []

    def send(self, data):
        self.sent.append(bytes(data))
        return len(data)


def _websocket(app, threshold: int):
    """simple-websocket's server object around a wsproto connection and a socket that keeps what it is given."""
    import simple_websocket.ws

    client, server = _pair(threshold)
    ws = simple_websocket.ws.Server.__new__(simple_websocket.ws.Server)
    ws.ws, ws.sock, ws.connected, ws.is_server = server, _Sock(), True, True
    ws.close_reason, ws.close_message = 1000, None
    return client, ws


def test_the_server_sends_built_frames_and_everything_else_through_wsproto(app):
    """Installed with the app: every connection's text messages below the threshold go out as the built
    frame; a large one compressed, and bytes, as wsproto frames them; a closed connection refuses."""
    import simple_websocket.ws

    from app.live import wire

    assert simple_websocket.ws.Base.send is wire._send
    small, large = '42/live,["presence",{"count":3}]', '42/live,["join",' + '"a question",' * 200 + '""]'
    first, one = _websocket(app, 1024)
    second, other = _websocket(app, 1024)
    for ws in (one, other):
        ws.send(small)
        ws.send(large)
        ws.send(b"\x01\x02")
    assert one.sock.sent[0] == other.sock.sent[0] == wire.text_frame(small)
    assert one.sock.sent[1][0] & 0x40 and wire.text_frame(large) is None  # compressed (RSV1), by wsproto
    for client, ws in ((first, one), (second, other)):
        for frame in ws.sock.sent:
            client.receive_data(frame)
        assert [e.data for e in client.events()] == [small, large, b"\x01\x02"]
    one.connected = False
    with pytest.raises(simple_websocket.ws.ConnectionClosed):
        one.send(small)
    ThresholdDeflate.threshold = app.config["LIVE_DEFLATE_THRESHOLD"]
