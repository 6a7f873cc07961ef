"""How live messages leave the server: permessage-deflate only for large messages, and at most
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
"""

from __future__ import annotations

import zlib

from engineio import exceptions as engineio_exceptions
from engineio import socket as engineio_socket
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
    """Make simple-websocket (engine.io's websocket server) offer `ThresholdDeflate`, and engine.io's
    long-polling answer at most `per_poll` packets at a time (`bounded_poll`)."""
    import simple_websocket.ws

    global packets_per_poll
    ThresholdDeflate.threshold = int(threshold)
    ThresholdDeflate.level = int(level)
    simple_websocket.ws.PerMessageDeflate = ThresholdDeflate
    packets_per_poll = max(1, int(per_poll))
    engineio_socket.Socket.poll = bounded_poll
