"""How live messages leave the server: permessage-deflate only for large messages.

simple-websocket accepts permessage-deflate whenever the client offers it (browsers and Node's `ws`
always do), and wsproto then deflates every message for every recipient: a broadcast of a 300-byte
question to 1,000 people is 1,000 separate compressions, about a third of the worker's time. Like
production websocket servers (Node's `ws` and engine.io, uWebSockets), CloudFair compresses only
messages of at least `LIVE_DEFLATE_THRESHOLD` bytes (1,024; 0 compresses none); a smaller message goes
out as it is, with RSV1 unset, which RFC 7692 allows on a connection that negotiated the extension.
Join states with many questions are still compressed.
"""

from __future__ import annotations

from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import Opcode


class ThresholdDeflate(PerMessageDeflate):
    #: Messages shorter than this many bytes are sent uncompressed (set from the app's config).
    threshold = 1024

    def frame_outbound(self, proto, opcode, rsv, data, fin):
        # Only whole messages are left uncompressed: a fragment's first frame decides for all of them.
        if self.threshold <= 0 or (fin and opcode in (Opcode.TEXT, Opcode.BINARY) and len(data) < self.threshold):
            return rsv, data
        return super().frame_outbound(proto, opcode, rsv, data, fin)


def install(threshold: int) -> None:
    """Make simple-websocket (engine.io's websocket server) offer `ThresholdDeflate`."""
    import simple_websocket.ws

    ThresholdDeflate.threshold = int(threshold)
    simple_websocket.ws.PerMessageDeflate = ThresholdDeflate
