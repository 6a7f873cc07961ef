"""The websocket's opening handshake decided from the WSGI environ (`live.wire._handshake`): the same
101 response as simple-websocket's handshake through wsproto's h11, bytes for bytes, a connection that
frames, compresses and reads messages as that one does, and every request that is not the plain
upgrade left to the library (answered or refused as before)."""

from __future__ import annotations

import base64
import os

import pytest
import simple_websocket.ws
from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import AcceptConnection, RejectConnection, Request, TextMessage
from wsproto.extensions import PerMessageDeflate
from wsproto.utilities import RemoteProtocolError

from app.live import wire


class _Socket:
    def __init__(self):
        self.sent = b""

    def send(self, data: bytes) -> int:
        self.sent += data
        return len(data)

    def sendall(self, data: bytes) -> None:
        self.sent += data


def _environ(**headers) -> dict:
    key = base64.b64encode(os.urandom(16)).decode()
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/socket.io/", "QUERY_STRING": "EIO=4&transport=websocket",
               "HTTP_HOST": "fair.example:8000", "HTTP_CONNECTION": "Upgrade", "HTTP_UPGRADE": "websocket",
               "HTTP_SEC_WEBSOCKET_VERSION": "13", "HTTP_SEC_WEBSOCKET_KEY": key,
               "HTTP_USER_AGENT": "Mozilla/5.0", "HTTP_COOKIE": "session=abc; lang=zh"}
    for name, value in headers.items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value
    return environ


def _server(environ: dict, subprotocols=()) -> simple_websocket.ws.Server:
    """A simple-websocket server as `Base.__init__` has it when it calls `handshake` (no reader thread)."""
    server = simple_websocket.ws.Server.__new__(simple_websocket.ws.Server)
    server.environ, server.subprotocols, server.subprotocol = environ, list(subprotocols), None
    server.sock, server.ws, server.is_server, server.connected = _Socket(), WSConnection(ConnectionType.SERVER), True, False
    server.incoming_message, server.incoming_message_len, server.input_buffer = None, 0, []
    server.max_message_size, server.event = None, type("Event", (), {"set": lambda self: None})()
    return server


def _both(environ: dict):
    ours, theirs = _server(dict(environ)), _server(dict(environ))
    wire._handshake(ours)
    wire._library_handshake(theirs)
    return ours, theirs


OFFERS = [
    None,  # no extension offered
    "permessage-deflate; client_max_window_bits",  # Chromium, Firefox, Node's ws
    "permessage-deflate",
    "permessage-deflate; server_no_context_takeover; client_max_window_bits=10",
    "x-webkit-deflate-frame, permessage-deflate; client_max_window_bits",  # one unknown, one known
    "permessage-deflate; client_max_window_bits=15, permessage-deflate",  # two offers of one extension
]


@pytest.mark.parametrize("offer", OFFERS)
@pytest.mark.parametrize("connection", ["Upgrade", "keep-alive, Upgrade", "upgrade"])
def test_the_response_is_the_one_wsproto_writes_and_the_connection_frames_alike(app, offer, connection):
    ours, theirs = _both(_environ(HTTP_SEC_WEBSOCKET_EXTENSIONS=offer, HTTP_CONNECTION=connection))

    assert ours.sock.sent == theirs.sock.sent and ours.sock.sent.startswith(b"HTTP/1.1 101 ")
    assert ours.connected and theirs.connected and ours.subprotocol is None
    assert ours.ws.state is ConnectionState.OPEN
    large = '42/live,["join",' + '{"text":"a question asked in the room"},' * 100 + '{}]'
    for text in ('42/live,["presence",{"count":3}]', large):
        assert ours.ws.send(TextMessage(data=text)) == theirs.ws.send(TextMessage(data=text))


@pytest.mark.parametrize("offer", OFFERS[1:])
def test_a_client_that_offered_deflate_reads_what_the_server_compresses_and_is_read(app, offer):
    """The whole exchange with wsproto's client: the handshake's response accepted, a compressed
    message read, and the client's own (masked, compressed) message read by the server."""
    client = WSConnection(ConnectionType.CLIENT)
    request = client.send(Request(host="fair.example", target="/socket.io/", extensions=[PerMessageDeflate()]))
    headers = dict(line.split(": ", 1) for line in request.decode().split("\r\n")[1:] if ": " in line)
    server = _server(_environ(HTTP_SEC_WEBSOCKET_KEY=headers["Sec-WebSocket-Key"], HTTP_SEC_WEBSOCKET_EXTENSIONS=offer))
    wire._handshake(server)
    client.receive_data(server.sock.sent)
    [accepted] = list(client.events())
    assert isinstance(accepted, AcceptConnection)
    large = "问题" * 2000
    client.receive_data(server.ws.send(TextMessage(data=large)))
    assert "".join(e.data for e in client.events() if isinstance(e, TextMessage)) == large
    server.ws.receive_data(client.send(TextMessage(data=large)))
    assert "".join(e.data for e in server.ws.events() if isinstance(e, TextMessage)) == large


@pytest.mark.parametrize("changes", [
    {"HTTP_SEC_WEBSOCKET_KEY": None},
    {"HTTP_SEC_WEBSOCKET_VERSION": "8"},
    {"HTTP_SEC_WEBSOCKET_VERSION": None},
    {"HTTP_UPGRADE": "h2c"},
    {"HTTP_CONNECTION": "keep-alive"},
    {"HTTP_HOST": None},
], ids=lambda changes: ",".join(f"{name}={value}" for name, value in changes.items()))
def test_a_request_that_is_not_the_plain_upgrade_is_the_library_s_to_refuse(app, monkeypatch, changes):
    environ = _environ(**changes)
    asked = []
    monkeypatch.setattr(wire, "_library_handshake", lambda server: asked.append(server.environ))
    wire._handshake(_server(environ))
    assert asked == [environ]  # handed on whole, nothing written
    monkeypatch.undo()
    with pytest.raises(RemoteProtocolError) as refused:  # and the library refuses it, as before
        wire._library_handshake(_server(environ))
    assert isinstance(refused.value.event_hint, RejectConnection)


def test_a_server_with_subprotocols_is_the_library_s_to_answer(app):
    environ = _environ(HTTP_SEC_WEBSOCKET_PROTOCOL="chat, superchat")
    ours = _server(dict(environ), subprotocols=["superchat"])
    wire._handshake(ours)
    assert b"Sec-WebSocket-Protocol: superchat" in ours.sock.sent  # the library chose it


def test_simple_websocket_s_server_answers_with_the_environ_s_handshake(app):
    assert simple_websocket.ws.Server.handshake is wire._handshake  # installed with the app
    assert wire._library_handshake is not None and wire._library_handshake is not wire._handshake
