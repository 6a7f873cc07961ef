"""How live messages leave the server: each packet written by orjson (`LivePacket`), permessage-deflate
only for large messages, a broadcast's websocket frame built once for all its recipients and written
by the sender where the recipient's writer waits (`direct_send`), every frame sent whole, and at most
`LIVE_PACKETS_PER_POLL` packets in one long-polling answer.

simple-websocket accepts permessage-deflate whenever the client offers it (browsers and Node's `ws`
always do), and wsproto then deflates every message for every recipient: a broadcast of a 300-byte
question to 1,000 people is 1,000 separate compressions, about a third of the worker's time. Like
production websocket servers (Node's `ws` and engine.io, uWebSockets), CloudFair compresses only
messages of at least `LIVE_DEFLATE_THRESHOLD` bytes (1,024; 0 compresses none); a smaller message goes
out as it is, with RSV1 unset, which RFC 7692 allows on a connection that negotiated the extension.
Join states with many questions are still compressed, each message on its own: a fresh compressor at
`LIVE_DEFLATE_LEVEL` (1, zlib's fastest) that is let go when the message ends. wsproto would keep one
compressor per connection for the connection's life (about 256 KiB of zlib state: with a join state of
a few questions compressed for each of 6,500 joiners, a gigabyte and a half), at zlib's default level
(several times the CPU of level 1 for JSON that compresses nearly as well). Not keeping the context is
always allowed (RFC 7692 §7.1.1: a message compressed alone decompresses with the client's kept window).

The websocket's opening handshake is decided from the WSGI environ (`_handshake`): simple-websocket
wrote the request's headers back out as HTTP text for wsproto's h11 to parse again, about 150–200 µs
of every connection's CPU (a join costs 1.1–1.5 ms in all); the checks, the accept token and the
extensions' agreement are wsproto's own functions, and the response is the same bytes. Anything but
the plain upgrade every client sends goes to the library's handshake, which answers it as before.
"""

from __future__ import annotations

import json
import struct
import zlib

import orjson
from engineio import exceptions as engineio_exceptions
from engineio import socket as engineio_socket
from simple_websocket.errors import ConnectionClosed
from socketio.packet import Packet
from wsproto.connection import Connection, ConnectionState, ConnectionType
from wsproto.events import Message, TextMessage
from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import Opcode
from wsproto.handshake import WEBSOCKET_VERSION, server_extensions_handshake
from wsproto.utilities import generate_accept_token, split_comma_header


class ThresholdDeflate(PerMessageDeflate):
    #: Messages shorter than this many bytes are sent uncompressed (set from the app's config).
    threshold = 1024
    #: zlib's level for the messages compressed (set from the app's config).
    level = 1

    def frame_outbound(self, proto, opcode, rsv, data, fin):
        # Only whole messages are left uncompressed: a fragment's first frame decides for all of them.
        if self.threshold <= 0 or (fin and opcode in (Opcode.TEXT, Opcode.BINARY) and len(data) < self.threshold):
            return rsv, data
        if self._compressor is None:  # a message's first frame: its own compressor
            bits = self.client_max_window_bits if proto.client else self.server_max_window_bits
            self._compressor = zlib.compressobj(self.level, zlib.DEFLATED, -int(bits))
        rsv, data = super().frame_outbound(proto, opcode, rsv, data, fin)
        if fin:
            self._compressor = None  # no context kept between messages: no zlib state per connection
        return rsv, data


class _JSON:
    """The JSON module of the live room's packets (`LivePacket`): orjson writes a packet's text, the
    standard library reads what clients send.

    A join's acknowledgement (the first twenty questions, the person's marks and interests) took the
    standard library about 150 µs to write on this project's 2-core machine, orjson about a tenth of
    it; every broadcast, acknowledgement and Redis message is written here. The text differs only where
    JSON allows it to (compact separators, characters outside ASCII as UTF-8 rather than `\\u` escapes),
    and where the standard library wrote what is not JSON (NaN and the infinities, which no browser
    reads, are now `null`). Whatever orjson refuses or would write differently in meaning (a lone
    surrogate, an integer beyond 64 bits, a date or a dataclass, which the standard library refuses)
    goes to the standard library, which writes it as before or refuses it in the same way. Reading
    stays with the standard library: a client's message is small, and what it accepts is unchanged."""

    _OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS

    @staticmethod
    def dumps(obj, **kwargs) -> str:
        try:
            return orjson.dumps(obj, option=_JSON._OPTIONS).decode()
        except TypeError:
            return json.dumps(obj, **kwargs)

    loads = staticmethod(json.loads)


_SCALARS = frozenset({str, int, float, bool, type(None)})


class LivePacket(Packet):
    """python-socketio's packet (given to the server as its `serializer`), written by `_JSON`, with a
    quicker look for binary parts: python-socketio walks every value of every outgoing packet for bytes
    with a `reduce` over a list per container, 360 µs for a join's acknowledgement of twenty questions
    against 50 µs here; the answer is the same (bytes or a bytearray anywhere in its lists and dicts)."""

    json = _JSON

    @classmethod
    def data_is_binary(cls, data) -> bool:
        pending = [data]
        while pending:
            item = pending.pop()
            kind = type(item)
            if kind in _SCALARS:
                continue
            if isinstance(item, (bytes, bytearray)):
                return True
            if isinstance(item, dict):
                pending.extend(item.values())
            elif isinstance(item, list):
                pending.extend(item)
        return False


#: The frames of the text messages sent last, by their text (None: one that goes through wsproto).
_frames: dict[str, bytes | None] = {}
#: How many texts `_frames` keeps before it starts again (a broadcast's writers run among other sends).
FRAMES_KEPT = 256
#: The longest text (in characters) whose frame is kept: a longer one goes through wsproto (with the
#: threshold at 0 nothing is compressed, and the kept frames must stay small).
FRAME_TEXT_MAX = 16384
_UNSEEN = object()


def text_frame(text: str) -> bytes | None:
    """The whole websocket frame of a text message that is sent uncompressed (shorter than the deflate
    threshold), built once for every recipient: a server's frames are not masked, and an uncompressed
    message's RSV bits are unset whether or not the connection negotiated permessage-deflate, so the
    frame is the same bytes on every connection. None for a message that is compressed.

    A broadcast puts one packet in each recipient's queue, and each recipient's writer encoded it and had
    wsproto frame it again (the UTF-8 encoding, a copy, the header: about 4 µs each, a tenth of a
    delivery's cost); now the first writer builds the frame and the others send its bytes."""
    threshold = ThresholdDeflate.threshold
    if len(text) > FRAME_TEXT_MAX or 0 < threshold <= len(text):  # compressed, or too long to keep
        return None  # (UTF-8 has at least a byte per character)
    frame = _frames.get(text, _UNSEEN)
    if frame is _UNSEEN:
        payload = text.encode("utf-8")
        frame = None
        if threshold <= 0 or len(payload) < threshold:
            size = len(payload)
            if size < 126:
                header = struct.pack("!BB", 0x81, size)  # FIN, text; the length itself
            elif size < 1 << 16:
                header = struct.pack("!BBH", 0x81, 126, size)
            else:
                header = struct.pack("!BBQ", 0x81, 127, size)
            frame = header + payload
        if len(_frames) >= FRAMES_KEPT:
            _frames.clear()
        _frames[text] = frame
    return frame


def _send(self, data) -> None:
    """simple-websocket's `Base.send` for a server: an uncompressed text message's frame from
    `text_frame`, what a direct write left unsent of a frame (`_Rest`) as it is, anything else through
    wsproto; every frame whole (`sendall`: simple-websocket's own `sock.send` sends what the socket's
    buffer takes, and with a slow reader a large join state went out cut short)."""
    if isinstance(data, _Rest):
        self.sock.sendall(data)
        return
    if not self.connected:
        raise ConnectionClosed(self.close_reason, self.close_message)
    if self.is_server and isinstance(data, str) and self.ws.state is ConnectionState.OPEN:
        frame = text_frame(data)
        if frame is not None:
            self.sock.sendall(frame)
            return
    message = Message(data=data) if isinstance(data, bytes) else TextMessage(data=str(data))
    self.sock.sendall(self.ws.send(message))


class _Rest(bytes):
    """The bytes of a frame that a direct write (`direct_send`) could not write at once: queued for the
    connection's writer, which sends them before anything queued after them. A packet of its own, as
    the writer takes them (`encode`)."""

    def encode(self) -> bytes:
        return self


#: Whether a packet may be written on the sender's greenlet (`direct_send`); decided at the first send:
#: only where gevent has patched the sockets (a server's worker).
_direct: bool | None = None


def gevent_patched() -> bool:
    """Whether gevent has patched this process's sockets: a server's worker (`make serve`), not the
    scheduler's process, a CLI command or the test suite."""
    try:
        from gevent import monkey
    except ImportError:  # pragma: no cover - gevent is a requirement
        return False
    return monkey.is_module_patched("socket")


def direct_send(self, pkt) -> None:
    """Engine.IO's `Socket.send`, writing on the sender's greenlet where it can.

    Engine.IO queues every packet for the connection's writer greenlet, which wakes, takes it and
    writes it: for a broadcast to 1,000 people, 1,000 wake-ups and polls of a queue, a quarter of the
    worker's time in a fan-out. Where the writer waits with nothing queued (everything before this
    packet is written) and the packet is a text frame that `text_frame` builds, the frame is written
    here, without waiting: the socket takes it whole (the usual case), or what it does not take is
    queued for the writer (`_Rest`), which sends it before anything queued after it. The order of a
    connection's packets is kept, and a slow reader slows only its own writer. Anything else (long
    polling, an upgrade under way, a compressed message, a connection closing, a socket whose buffer is
    full or that failed) is queued as before."""
    global _direct
    if not self.check_ping_timeout():
        return
    if self.writer_waiting and not self.queue.qsize():
        if _direct is None:
            _direct = gevent_patched()
        if _direct and _write_now(self, pkt):
            return
    self.queue.put(pkt)


def _write_now(socket, pkt) -> bool:
    ws = socket.direct_ws
    if (ws is None or not socket.upgraded or socket.upgrading or socket.closed or not ws.connected
            or ws.ws.state is not ConnectionState.OPEN):
        return False
    text = pkt.encode()
    frame = text_frame(text) if isinstance(text, str) else None
    if frame is None:
        return False
    try:
        sent = ws.sock.send(frame, 0, 0.0)  # gevent's socket: no waiting (timeout 0) when the buffer is full
    except OSError:  # full (nothing written), or failed: the writer sends it, or meets the failure
        return False
    if sent < len(frame):
        socket.queue.put(_Rest(frame[sent:]))
    socket.direct_written = True  # the writer's wait is not idle (`bounded_poll`)
    return True


def _websocket_handler(self, ws):
    """Engine.IO's websocket handler, with the connection's simple-websocket kept for `direct_send`
    while it serves (`ws` is engine.io's wrapper around it; another server's websocket is left alone)."""
    import simple_websocket.ws

    inner = getattr(ws, "ws", None)
    self.direct_ws = inner if isinstance(inner, simple_websocket.ws.Base) else None
    try:
        return _engineio_websocket_handler(self, ws)
    finally:
        self.direct_ws = None


_engineio_websocket_handler = None


#: Packets one long-polling answer carries at most (set from the app's config).
packets_per_poll = 16


def bounded_poll(self) -> list:
    """Engine.IO's `Socket.poll` (wait for the first packet, then take what is queued) that stops at
    `packets_per_poll` packets; the rest stay queued for the client's next poll, which follows at once.

    python-engineio's client decodes at most 16 packets in one payload and drops the connection on
    more ("Too many packets in payload"), while its server sends everything queued: a burst of
    acknowledgements (a group commit answers a batch of interests together) reached a Python client on
    long-polling as one answer of 40 packets, and none of them arrived. A browser's client has no such
    limit; every client decodes 16."""
    queue_empty = self.server.get_queue_empty_exception()
    self.writer_waiting = True  # a packet sent now may be written at once (`direct_send`)
    try:
        while True:
            self.direct_written = False
            try:
                packets = [self.queue.get(timeout=self.server.ping_interval + self.server.ping_timeout)]
                self.queue.task_done()
                break
            except queue_empty:
                # Engine.IO's writer ends the connection when nothing came for a whole wait; packets
                # written at once (the server's pings among them) came all the same.
                if not self.direct_written or self.closed:
                    raise engineio_exceptions.QueueEmpty() from None
    finally:
        self.writer_waiting = False
    if packets == [None]:
        return []
    while len(packets) < packets_per_poll:
        try:
            packet = self.queue.get(block=False)
            self.queue.task_done()
        except queue_empty:
            break
        if packet is None:  # the socket is closing: leave the marker for the next poll
            self.queue.put(None)
            break
        packets.append(packet)
    return packets


def _handshake(self) -> None:
    """simple-websocket's server handshake (`Server.handshake`) decided from the WSGI environ, as wsproto's
    h11 handshake decides it from the request's text (the same checks, `generate_accept_token` and
    `server_extensions_handshake`, the same 101 response, bytes for bytes), then wsproto's frame
    `Connection` with the extensions offered to it, as wsproto's handshake leaves it. The request
    simple-websocket rebuilt from the environ's headers for h11 to parse again is not written: the
    handshake took 150–200 µs, now about 10. A server with subprotocols, or a request that is not the
    plain upgrade clients send (a header missing or unusual), is the library's to answer or refuse, as
    before (the library does not look at the method: neither does this)."""
    environ = self.environ
    key = environ.get("HTTP_SEC_WEBSOCKET_KEY")
    connection = environ.get("HTTP_CONNECTION", "").encode("latin-1")
    if (self.subprotocols or key is None or not environ.get("HTTP_HOST")
            or environ.get("HTTP_SEC_WEBSOCKET_VERSION", "").encode("latin-1") != WEBSOCKET_VERSION
            or environ.get("HTTP_UPGRADE", "").lower() != "websocket"
            or not any(token.lower() == "upgrade" for token in split_comma_header(connection))):
        return _library_handshake(self)
    extensions = [ThresholdDeflate()]  # what `install` has the library offer
    offered = environ.get("HTTP_SEC_WEBSOCKET_EXTENSIONS")
    agreed = server_extensions_handshake(split_comma_header(offered.encode("latin-1")), extensions) if offered else None
    response = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Accept: " + generate_accept_token(key.encode("latin-1")) + b"\r\n")
    if agreed:
        response += b"Sec-WebSocket-Extensions: " + agreed + b"\r\n"
    self.ws = Connection(ConnectionType.SERVER, extensions)
    self.sock.sendall(response + b"\r\n")
    self.connected = True


_library_handshake = None


def install(threshold: int, per_poll: int = 16, level: int = 1) -> None:
    """Make simple-websocket (engine.io's websocket server) answer the opening handshake from the environ
    (`_handshake`), offer `ThresholdDeflate` and send a text
    message's frame built once (`text_frame`) and every frame whole (`_send`); engine.io's sockets
    write a frame on the sender's greenlet where their writer waits (`direct_send`, in a gevent
    worker), and their poll answer at most `per_poll` packets at a time and not give up while packets
    went out at once (`bounded_poll`)."""
    import simple_websocket.ws

    global packets_per_poll, _engineio_websocket_handler, _library_handshake
    ThresholdDeflate.threshold = int(threshold)
    ThresholdDeflate.level = int(level)
    simple_websocket.ws.PerMessageDeflate = ThresholdDeflate
    _frames.clear()  # the threshold decides which texts have a frame of their own
    simple_websocket.ws.Base.send = _send
    packets_per_poll = max(1, int(per_poll))
    engineio_socket.Socket.poll = bounded_poll
    if _library_handshake is None:
        _library_handshake = simple_websocket.ws.Server.handshake
        simple_websocket.ws.Server.handshake = _handshake
    if _engineio_websocket_handler is None:
        _engineio_websocket_handler = engineio_socket.Socket._websocket_handler
        engineio_socket.Socket._websocket_handler = _websocket_handler
        engineio_socket.Socket.send = direct_send
        engineio_socket.Socket.writer_waiting = False
        engineio_socket.Socket.direct_written = False
        engineio_socket.Socket.direct_ws = None
