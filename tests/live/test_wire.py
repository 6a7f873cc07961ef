"""permessage-deflate with a threshold: small messages go out as they are, large ones compressed,
and a client that negotiated the extension reads both (wsproto on both ends, as the server runs it)."""

from __future__ import annotations

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
