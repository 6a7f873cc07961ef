// A Socket.IO client on a bare websocket (ws), for the fan-out generator's thousands of listeners.
//
// socket.io-client costs ~16 µs of CPU per message received here (ws, then engine.io-client's and
// socket.io-client's layers of emitters and parsers); the app's worker now spends 13–17 µs per recipient,
// so at 2,000 listeners the generator needed more CPU per broadcast than both workers together and the
// two-worker figures measured it (../shared/BENCHMARKING.md: a generator must be much cheaper per message
// than the server). This speaks the same protocol (Engine.IO 4 over a websocket, Socket.IO 5 packets in
// one namespace, JSON only) with one parse per message, and offers the interface the generators use of
// socket.io-client: `on(name, fn)`, `onAny(fn)`, the "connect" and "connect_error" events,
// `timeout(ms).emit(name, data, (err, ack) => ...)`, `disconnect()` and `close()`. `openSocket` opens
// either client.
"use strict";

const WebSocket = require("ws");

class LeanSocket {
  constructor(url, namespace, { auth = null, perMessageDeflate = true, timeout = 60000 } = {}) {
    this.nsp = namespace === "/" ? "" : namespace + ",";
    this.auth = auth;
    this.handlers = new Map();
    this.anyHandlers = [];
    this.acks = new Map();
    this.nextId = 0;
    this.connected = false;
    this.failed = false; // connect_error told once
    this.closing = false; // closed by this side: its close event is no failure
    const wsUrl = url.replace(/^http/, "ws") + "/socket.io/?EIO=4&transport=websocket";
    this.ws = new WebSocket(wsUrl, { perMessageDeflate });
    this.openTimer = setTimeout(() => this._fail("timeout"), timeout);
    this.ws.on("message", (data) => this._onMessage(data.toString()));
    this.ws.on("error", (err) => this._fail(err && err.message));
    this.ws.on("close", () => {
      if (!this.connected) this._fail("closed before connecting");
      this.connected = false;
    });
  }

  on(name, fn) {
    this.handlers.set(name, fn);
    return this;
  }

  onAny(fn) {
    this.anyHandlers.push(fn);
    return this;
  }

  timeout(ms) {
    return { emit: (name, data, cb) => this._emit(name, data, cb, ms) };
  }

  disconnect() {
    if (this.ws.readyState === WebSocket.OPEN) this._write(`41${this.nsp}`);
    this.close();
  }

  close() {
    clearTimeout(this.openTimer);
    this.closing = true;
    this.connected = false;
    try {
      this.ws.close();
    } catch (e) {
      // not open yet: nothing to close
    }
  }

  _emit(name, data, cb, ms) {
    const id = this.nextId++;
    const timer = setTimeout(() => {
      this.acks.delete(id);
      cb(new Error("operation has timed out"));
    }, ms);
    this.acks.set(id, (args) => {
      clearTimeout(timer);
      cb(null, ...args);
    });
    this._send(2, id, [name, data]);
  }

  _send(type, id, payload) {
    this._write(`4${type}${this.nsp}${id}${JSON.stringify(payload)}`);
  }

  // As engine.io-client does: a message under 1 KiB goes uncompressed (ws compresses every message
  // where permessage-deflate was agreed, and the server would inflate each join, ask and pong).
  _write(text) {
    this.ws.send(text, { compress: text.length >= 1024 });
  }

  _fail(why) {
    clearTimeout(this.openTimer);
    if (this.connected || this.failed || this.closing) return;
    this.failed = true;
    const fn = this.handlers.get("connect_error");
    if (fn) fn(new Error(why));
  }

  _onMessage(text) {
    const kind = text.charCodeAt(0);
    if (kind === 52) return this._onPacket(text); // "4": a Socket.IO packet
    if (kind === 50) return this._write("3"); // "2": the server's ping
    if (kind === 48) { // "0": Engine.IO open: ask for the namespace
      this._write(`40${this.nsp}${this.auth ? JSON.stringify(this.auth) : ""}`);
    }
  }

  _onPacket(text) {
    const type = text.charCodeAt(1) - 48;
    let i = 2;
    if (this.nsp && text.charCodeAt(i) === 47) i = text.indexOf(",", i) + 1; // "/live,"
    let id = -1;
    for (let c = text.charCodeAt(i); c >= 48 && c <= 57; c = text.charCodeAt(++i)) id = (id < 0 ? 0 : id * 10) + c - 48;
    const body = i < text.length ? JSON.parse(text.slice(i)) : null;
    if (type === 2) { // EVENT
      const [name, ...args] = body;
      for (const fn of this.anyHandlers) fn(name, ...args);
      const fn = this.handlers.get(name);
      if (fn) fn(...args);
    } else if (type === 3) { // ACK
      const cb = this.acks.get(id);
      if (cb) {
        this.acks.delete(id);
        cb(body);
      }
    } else if (type === 0) { // CONNECT
      clearTimeout(this.openTimer);
      this.connected = true;
      const fn = this.handlers.get("connect");
      if (fn) fn();
    } else if (type === 4) { // CONNECT_ERROR
      this._fail(body && body.message ? body.message : "refused");
    } else if (type === 1) { // DISCONNECT
      this.close();
    }
  }
}

// The generators' one way to open a client: `kind` "socket.io-client" or lean.js (anything else), with
// the options fanout.js and interest.js pass (a token in `auth`, permessage-deflate offered or not).
function openSocket(kind, url, namespace, { auth = null, perMessageDeflate = true, timeout = 60000 } = {}) {
  if (kind !== "socket.io-client") return new LeanSocket(url, namespace, { auth, perMessageDeflate, timeout });
  const { io } = require("socket.io-client");
  const opts = { path: "/socket.io", transports: ["websocket"], forceNew: true, reconnection: false, timeout };
  if (auth) opts.auth = auth;
  if (!perMessageDeflate) opts.perMessageDeflate = false; // browsers (and ws, by default) offer it
  return io(url + namespace, opts);
}

module.exports = { LeanSocket, openSocket };
