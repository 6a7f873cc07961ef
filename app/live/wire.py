"""How live messages leave the server: permessage-deflate only for large messages, a broadcast's
websocket frame built once for all its recipients, and at most `LIVE_PACKETS_PER_POLL` packets in one
long-polling answer.

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
"""

from __future__ import annotations

import struct
import zlib

from engineio import exceptions as engineio_exceptions
from engineio import socket as engineio_socket
from wsproto.connection import ConnectionState
from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import Opcode


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
    `text_frame`, written as simple-websocket writes wsproto's; anything else (binary, compressed, a
    connection not open) as before."""
    if self.connected and self.is_server and isinstance(data, str) and self.ws.state is ConnectionState.OPEN:
        frame = text_frame(data)
        if frame is not None:
            self.sock.send(frame)
            return
    _wsproto_send(self, data)


_wsproto_send = None

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
    try:
        packets = [self.queue.get(timeout=self.server.ping_interval + self.server.ping_timeout)]
        self.queue.task_done()
    except queue_empty:
        raise engineio_exceptions.QueueEmpty() from None
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


def install(threshold: int, per_poll: int = 16, level: int = 1) -> None:
    """Make simple-websocket (engine.io's websocket server) offer `ThresholdDeflate` and send a text
    message's frame built once (`text_frame`), and engine.io's long-polling answer at most `per_poll`
    packets at a time (`bounded_poll`)."""
    import simple_websocket.ws

    global packets_per_poll, _wsproto_send
    ThresholdDeflate.threshold = int(threshold)
    ThresholdDeflate.level = int(level)
    simple_websocket.ws.PerMessageDeflate = ThresholdDeflate
    _frames.clear()  # the threshold decides which texts have a frame of their own
    if _wsproto_send is None:
        _wsproto_send = simple_websocket.ws.Base.send
        simple_websocket.ws.Base.send = _send
    packets_per_poll = max(1, int(per_poll))
    engineio_socket.Socket.poll = bounded_poll
