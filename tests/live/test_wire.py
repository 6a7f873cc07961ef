"""permessage-deflate with a threshold: small messages go out as they are, large ones compressed,
and a client that negotiated the extension reads both (wsproto on both ends, as the server runs it);
and long-polling answers no client refuses."""

from __future__ import annotations

import threading

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
    """A socket that keeps what it is given, whole (`sendall`), or at most `takes` bytes at a time
    (`send`: a socket whose buffer is nearly full)."""

    def __init__(self, takes: int | None = None):
        self.sent = []
        self.takes = takes

    def send(self, data, *flags_and_timeout):
        taken = bytes(data[:self.takes] if self.takes is not None else data)
        self.sent.append(taken)
        return len(taken)

    def sendall(self, data):
        self.sent.append(bytes(data))


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


def test_a_frame_is_sent_whole_when_the_socket_takes_only_part_of_it(app):
    """simple-websocket's own `send` wrote what the socket's buffer took and dropped the rest: with a
    slow reader a large join state went out cut short. Every frame is sent whole now."""
    client, ws = _websocket(app, 1024)
    ws.sock.takes = 7  # a socket whose buffer takes 7 bytes at a time
    small, large = '42/live,["presence",{"count":3}]', '42/live,["join",' + '"a question",' * 200 + '""]'
    ws.send(small)
    ws.send(large)
    for frame in ws.sock.sent:
        client.receive_data(frame)
    assert [e.data for e in client.events()] == [small, large]


class _EngineSocket:
    """What `wire.direct_send` reads of engine.io's socket: upgraded to a websocket whose writer waits."""

    def __init__(self, ws, *, writer_waiting: bool = True):
        import queue

        self.direct_ws, self.writer_waiting = ws, writer_waiting
        self.upgraded, self.upgrading, self.closed = True, False, False
        self.queue = queue.Queue()

    def check_ping_timeout(self):
        return True

    def write_queued(self):
        """What the connection's writer does: each queued packet, encoded, through the websocket."""
        while not self.queue.empty():
            self.direct_ws.send(self.queue.get().encode())


def _message(text: str):
    from engineio import packet

    return packet.Packet(packet.MESSAGE, data=text)


@pytest.fixture
def direct(monkeypatch):
    """`direct_send` as in a server's worker (gevent patched there; the suite is not)."""
    from app.live import wire

    monkeypatch.setattr(wire, "_direct", True)
    return wire


def test_a_packet_is_written_on_the_sender_s_greenlet_when_its_writer_waits(app, direct):
    """A broadcast no longer wakes each recipient's writer: where the writer waits with nothing queued,
    the frame is written at once; otherwise (the writer busy, something queued) it is queued, so the
    connection's order holds."""
    client, ws = _websocket(app, 1024)
    first, second = '42/live,["question",{"id":1}]', '42/live,["question",{"id":2}]'
    socket = _EngineSocket(ws)
    direct.direct_send(socket, _message(first[1:]))
    assert ws.sock.sent == [direct.text_frame(first)] and socket.queue.empty()  # written, nothing queued

    socket.writer_waiting = False  # the writer is sending: this one waits its turn
    direct.direct_send(socket, _message(second[1:]))
    assert len(ws.sock.sent) == 1 and socket.queue.qsize() == 1
    socket.writer_waiting = True
    third = '42/live,["question",{"id":3}]'
    direct.direct_send(socket, _message(third[1:]))  # the writer waits, but something is queued before it
    assert socket.queue.qsize() == 2
    socket.write_queued()
    for frame in ws.sock.sent:
        client.receive_data(frame)
    assert [e.data for e in client.events()] == [first, second, third]


def test_what_the_socket_does_not_take_at_once_goes_first_through_the_writer(app, direct):
    client, ws = _websocket(app, 1024)
    ws.sock.takes = 5
    socket = _EngineSocket(ws)
    first, second = '42/live,["question",{"id":1}]', '42/live,["question",{"id":2}]'
    direct.direct_send(socket, _message(first[1:]))
    assert ws.sock.sent == [direct.text_frame(first)[:5]] and socket.queue.qsize() == 1  # the rest queued
    direct.direct_send(socket, _message(second[1:]))  # queued behind the rest
    assert socket.queue.qsize() == 2
    ws.sock.takes = None
    socket.write_queued()
    for frame in ws.sock.sent:
        client.receive_data(frame)
    assert [e.data for e in client.events()] == [first, second]


def test_a_full_or_failed_socket_and_what_is_not_a_built_frame_are_queued(app, direct):
    """Nothing is written on the sender's greenlet when the socket's buffer is full (no waiting there),
    when it failed (the writer meets the failure), for a compressed message, a closing connection or
    long polling; and outside a gevent worker nothing ever is."""
    _, ws = _websocket(app, 1024)
    small = '2/live,["presence",{"count":3}]'
    for error in (BlockingIOError, BrokenPipeError):
        def refuse(data, *flags_and_timeout, error=error):
            raise error()

        ws.sock.send = refuse
        socket = _EngineSocket(ws)
        direct.direct_send(socket, _message(small))
        assert socket.queue.qsize() == 1
    del ws.sock.send
    large = '2/live,["join",' + '"a question",' * 200 + '""]'
    for setup, text in ((lambda s: None, large), (lambda s: setattr(s, "closed", True), small),
                        (lambda s: setattr(s, "direct_ws", None), small), (lambda s: setattr(s, "upgrading", True), small)):
        socket = _EngineSocket(ws)
        setup(socket)
        direct.direct_send(socket, _message(text))
        assert socket.queue.qsize() == 1
    assert ws.sock.sent == []
    direct._direct = False
    socket = _EngineSocket(ws)
    direct.direct_send(socket, _message(small))
    assert socket.queue.qsize() == 1 and ws.sock.sent == []


def test_only_a_gevent_worker_writes_on_the_sender_s_greenlet():
    """The choice `direct_send` makes at its first send: the suite (threads) queues; a gevent-patched
    process (a server's worker) writes."""
    from app.live import wire

    assert wire.gevent_patched() is False
    script = "from gevent import monkey; monkey.patch_all()\nfrom app.live import wire\nprint(wire.gevent_patched())"
    assert _last_line_of(script) == "True"


def _last_line_of(script: str) -> str:
    """Run `script` in a Python process of its own (gevent patches a whole process; the suite is not
    patched) from the project's folder; it must succeed. The last line it printed."""
    import subprocess
    import sys
    from pathlib import Path

    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


def test_the_writer_is_marked_waiting_only_while_it_waits_for_a_packet(app):
    """`direct_send` writes only while the connection's writer waits in its poll: marked on the way in,
    unmarked when a packet (or the wait's end) comes, whatever it is."""
    import engineio
    from engineio import packet

    server = engineio.Server(async_mode="threading")
    socket = engineio.socket.Socket(server, "sid-waiting")
    seen = []
    get = socket.queue.get

    def watched_get(*args, **kwargs):
        seen.append(socket.writer_waiting)
        return get(*args, **kwargs)

    socket.queue.get = watched_get
    socket.queue.put(packet.Packet(packet.MESSAGE, data="a"))
    socket.queue.put(packet.Packet(packet.MESSAGE, data="b"))
    assert [p.data for p in socket.poll()] == ["a", "b"]
    assert seen[0] is True and socket.writer_waiting is False  # waiting for the first, not after
    server.ping_interval, server.ping_timeout = 0.05, 0
    with pytest.raises(engineio.exceptions.QueueEmpty):
        socket.poll()
    assert socket.writer_waiting is False


def test_a_writer_whose_packets_were_all_written_at_once_keeps_waiting(app):
    """Engine.IO's writer ends the connection when its poll waits a whole ping interval and timeout for
    nothing; with every packet written at once (the server's pings too) its queue stays empty, so a
    wait during which something was written at once is not idle. One during which nothing was ends
    the wait as before."""
    import engineio
    from engineio import packet

    server = engineio.Server(async_mode="threading")
    socket = engineio.socket.Socket(server, "sid-idle")
    server.ping_interval, server.ping_timeout = 0.05, 0
    waits = []
    get = socket.queue.get

    def get_while_pings_go_out_at_once(*args, **kwargs):
        waits.append(1)
        if len(waits) <= 20:
            socket.direct_written = True  # what `_write_now` marks: a ping written meanwhile
        return get(*args, **kwargs)

    socket.queue.get = get_while_pings_go_out_at_once
    late = threading.Timer(0.3, lambda: socket.queue.put(packet.Packet(packet.MESSAGE, data="late")))
    late.start()
    assert [p.data for p in socket.poll()] == ["late"]  # waits with pings written, then the packet
    late.join()
    assert len(waits) >= 3
    socket.queue.get = get
    with pytest.raises(engineio.exceptions.QueueEmpty):  # nothing either way for a whole wait
        socket.poll()


_A_QUIET_CONNECTION = r"""
from gevent import monkey

monkey.patch_all()
import json

import engineio
import gevent
from gevent import pywsgi

from app.live import wire

wire.install(1024)
server = engineio.Server(async_mode="gevent", ping_interval=1, ping_timeout=1)
events = []
server.on("disconnect", lambda sid, reason=None: events.append(reason))
http = pywsgi.WSGIServer(("127.0.0.1", 0), engineio.WSGIApp(server), log=None)
http.start()
client = engineio.Client()
got = []
client.on("message", got.append)
client.connect(f"http://127.0.0.1:{http.server_port}", transports=["websocket"])
gevent.sleep(0.3)
sid = next(iter(server.sockets))
writer_waits = server.sockets[sid].writer_waiting
for n in range(3):
    server.send(sid, f"m{n}")
gevent.sleep(3.5)  # beyond a ping interval and timeout (2 s) with nothing queued
print(json.dumps({"waiting": writer_waits, "got": got, "state": client.state, "disconnects": events}))
client.disconnect()
"""


def test_in_a_gevent_worker_a_connection_outlives_its_writer_s_wait():
    """A real gevent-patched engine.io server (the suite is not patched) with pings every second: the
    messages and pings go out at once, and the connection is still open after the writer's wait of
    ping interval + timeout (the writer closed it there while nothing was queued)."""
    import json

    result = json.loads(_last_line_of(_A_QUIET_CONNECTION))
    assert result["waiting"] is True  # the writer waited in its poll: what was sent went out at once
    assert result["got"] == ["m0", "m1", "m2"]
    assert (result["state"], result["disconnects"]) == ("connected", [])
