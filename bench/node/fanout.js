// Fan-out generator for bench/live_fanout.py: N Socket.IO clients in one room, one of them asks
// questions at a steady rate, every client records the delay from the ask's emit to its receipt
// of the `question` broadcast (sender and receivers share this process, so one clock).
//
//   node fanout.js config.json      (prints one JSON object on stdout; progress on stderr)
//
// config: {url, mode: "app"|"bare", tokens: [...] (app) , clients, session_id, rates: [1, 4] ([] = joins only),
//          duration, drain, settle, connect_batch, server_pid | server_pids, run, deflate, ask_during_joins,
//          client: "lean" (default, lean.js) | "socket.io-client", warmup: questions asked first and not measured}
// FANOUT_PER_K=1 in the environment logs each question's slowest receipt (where a p99 comes from).
"use strict";

const fs = require("fs");
const { performance } = require("perf_hooks");
const { openSocket } = require("./lean");

const cfg = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const log = (msg) => process.stderr.write(`fanout[${cfg.mode}]: ${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const CLK = 100; // USER_HZ on Linux
const PER_K = Boolean(process.env.FANOUT_PER_K); // log each question's slowest receipt

// The server's workers: `server_pids` (two processes) or `server_pid` (one); CPU is their sum.
const serverPids = cfg.server_pids || (cfg.server_pid ? [cfg.server_pid] : []);

function serverCpu() {
  if (!serverPids.length) return null;
  try {
    let total = 0;
    for (const pid of serverPids) {
      const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(")").pop().trim().split(/\s+/);
      total += (Number(fields[11]) + Number(fields[12])) / CLK;
    }
    return total;
  } catch (e) {
    return null;
  }
}

// The workers' resident memory now (VmRSS, KiB, summed).
function serverRssKb() {
  let total = 0;
  for (const pid of serverPids) {
    try {
      const line = fs.readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"));
      total += line ? Number(line.split(/\s+/)[1]) : 0;
    } catch (e) {
      return null;
    }
  }
  return total;
}

// How many of the server's established connections on its port each worker holds (gunicorn's workers
// share one listening socket: the kernel and the workers' accept loops decide the split).
function connectionsPerWorker() {
  const port = Number(new URL(cfg.url).port);
  const inodes = new Set();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try { text = fs.readFileSync(table, "utf8"); } catch (e) { continue; }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== "01") continue; // ESTABLISHED
      if (parseInt(f[1].split(":").pop(), 16) === port) inodes.add(f[9]);
    }
  }
  return serverPids.map((pid) => {
    let held = 0;
    try {
      for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
        try {
          const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
          if (m && inodes.has(m[1])) held += 1;
        } catch (e) { /* closed meanwhile */ }
      }
    } catch (e) { return null; }
    return held;
  });
}

function pct(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

// Per phase: send time of each question by its number, and every receipt's latency.
let phase = null;

function onQuestion(client, data) {
  const now = performance.now();
  if (!phase || !data || typeof data.text !== "string") return;
  const parts = data.text.split(" "); // "bench <phase> <k>"
  if (parts[0] !== "bench" || Number(parts[1]) !== phase.index) return;
  const k = Number(parts[2]);
  const sent = phase.sentAt[k];
  if (sent === undefined) return;
  const key = client.idx * 100000 + k;
  if (phase.seen.has(key)) {
    phase.duplicates++;
    return;
  }
  phase.seen.add(key);
  phase.latencies.push(now - sent);
  if (!(phase.first[k] <= now - sent)) phase.first[k] = now - sent;
  if (PER_K) phase.perK[k] = Math.max(phase.perK[k] || 0, now - sent);
  phase.lastReceipt = now;
}

// The events the clients heard while the room filled (presence counts, ...): by name, all clients together.
const heardDuringJoins = {};
let joining = true;

function connectOne(idx) {
  return new Promise((resolve) => {
    // The listeners' client: lean.js (default) or socket.io-client, which costs about what the app's
    // worker does per message (`client` in the config, --generator-client in live_fanout.py).
    // --no-deflate: no permessage-deflate offered (browsers offer it).
    const socket = openSocket(cfg.client, cfg.url, "/live", {
      auth: cfg.mode === "app" ? { token: cfg.tokens[idx] } : null, perMessageDeflate: cfg.deflate !== false });
    const client = { idx, socket };
    let done = false;
    const finish = (ok, why) => {
      if (done) return;
      done = true;
      resolve(ok ? client : { idx, error: why, socket });
    };
    socket.on("question", (data) => onQuestion(client, data));
    socket.onAny((name) => { if (joining) heardDuringJoins[name] = (heardDuringJoins[name] || 0) + 1; });
    socket.on("connect_error", (err) => finish(false, `connect_error: ${err && err.message}`));
    socket.on("connect", () => {
      socket.timeout(60000).emit("join", { session_id: cfg.session_id }, (err, ack) => {
        if (err) return finish(false, "join timeout");
        if (!ack || !ack.ok) return finish(false, `join refused: ${JSON.stringify(ack && ack.error)}`);
        finish(true);
      });
    });
  });
}

async function runPhase(index, sender, rate, duration) {
  const count = Math.round(rate * duration);
  phase = { index, sentAt: {}, seen: new Set(), latencies: [], perK: {}, first: {}, duplicates: 0, lastReceipt: 0, acks: [], ackErrors: {} };
  const cpuSamples = [];
  let lastCpu = process.cpuUsage();
  let lastT = performance.now();
  const sampler = setInterval(() => {
    const c = process.cpuUsage(lastCpu);
    const t = performance.now();
    cpuSamples.push((100 * (c.user + c.system) / 1000) / (t - lastT));
    lastCpu = process.cpuUsage();
    lastT = t;
  }, 100);
  const cpu0 = process.cpuUsage();
  const srv0 = serverCpu();
  const start = performance.now();
  let acked = 0;
  const ackDone = [];
  for (let k = 0; k < count; k++) {
    const due = start + (k * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const t = performance.now();
    phase.sentAt[k] = t;
    ackDone.push(new Promise((resolve) => {
      sender.socket.timeout(30000).emit("ask",
        { session_id: cfg.session_id, text: `bench ${index} ${k}`, client_id: `bench-${cfg.run}-${index}-${k}` },
        (err, ack) => {
          if (err) phase.ackErrors.timeout = (phase.ackErrors.timeout || 0) + 1;
          else if (!ack || !ack.ok) {
            const code = (ack && ack.error && ack.error.code) || "unknown";
            phase.ackErrors[code] = (phase.ackErrors[code] || 0) + 1;
          } else {
            acked++;
            phase.acks.push(performance.now() - t);
          }
          resolve();
        });
    }));
  }
  const sendEnd = start + (count * 1000) / rate; // the window the sender occupies
  await Promise.all(ackDone);
  const expected = acked * cfg.clients;
  const drainUntil = performance.now() + cfg.drain * 1000;
  while (phase.latencies.length < expected && performance.now() < drainUntil) await sleep(20);
  const end = Math.max(sendEnd, phase.lastReceipt);
  const srv1 = serverCpu();
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  const lat = phase.latencies.slice().sort((a, b) => a - b);
  const acks = phase.acks.slice().sort((a, b) => a - b);
  const firsts = Object.values(phase.first).sort((a, b) => a - b); // each question's earliest receipt
  const windowS = (end - start) / 1000;
  const burst = cpuSamples.slice().sort((a, b) => a - b);
  const r = (x) => (x === null ? null : Math.round(x * 10) / 10);
  const result = {
    rate, duration, sent: count, acked, ack_errors: phase.ackErrors,
    expected, delivered: lat.length, lost: expected - lat.length + (count - acked) * cfg.clients,
    duplicates: phase.duplicates,
    p50_ms: r(pct(lat, 50)), p90_ms: r(pct(lat, 90)), p99_ms: r(pct(lat, 99)), max_ms: r(lat[lat.length - 1] ?? null),
    ack_p50_ms: r(pct(acks, 50)), ack_p99_ms: r(pct(acks, 99)),
    first_receipt_p50_ms: r(pct(firsts, 50)), first_receipt_max_ms: r(firsts[firsts.length - 1] ?? null),
    window_s: Math.round(windowS * 1000) / 1000,
    deliveries_per_s: Math.round(lat.length / windowS),
    server_cpu_s: srv0 === null || srv1 === null ? null : Math.round((srv1 - srv0) * 1000) / 1000,
    generator_cpu_avg_pct: r((100 * (cpu.user + cpu.system) / 1000) / (end - start)),
    generator_cpu_burst_max_pct: r(burst[burst.length - 1] ?? null),
    generator_cpu_burst_p90_pct: r(pct(burst, 90)),
  };
  if (PER_K) log(`per question max ms: ${Object.values(phase.perK).map((x) => Math.round(x)).join(" ")}`);
  phase = null;
  return result;
}

// With `ask_during_joins` (seconds), one more connection of the first person, joined before the storm,
// asks a question at that interval while the others connect and join: are questions still answered?
async function startStormAsker() {
  if (!cfg.ask_during_joins) return null;
  const asker = await connectOne(0);
  if (asker.error) return { error: asker.error, socket: asker.socket };
  const storm = { asker, sent: 0, acks: [], errors: {}, pending: [], stop: false };
  storm.loop = (async () => {
    for (let k = 0; !storm.stop; k++) {
      const t = performance.now();
      storm.sent++;
      storm.pending.push(new Promise((resolve) => {
        asker.socket.timeout(30000).emit("ask",
          { session_id: cfg.session_id, text: `storm ${k}`, client_id: `storm-${cfg.run}-${k}` },
          (err, ack) => {
            if (err) storm.errors.timeout = (storm.errors.timeout || 0) + 1;
            else if (!ack || !ack.ok) {
              const code = (ack && ack.error && ack.error.code) || "unknown";
              storm.errors[code] = (storm.errors[code] || 0) + 1;
            } else storm.acks.push(performance.now() - t);
            resolve();
          });
      }));
      await sleep(cfg.ask_during_joins * 1000);
    }
  })();
  return storm;
}

async function stopStormAsker(storm) {
  if (!storm) return null;
  if (storm.error) {
    storm.socket.close();
    return { asker_error: storm.error };
  }
  storm.stop = true;
  await storm.loop;
  await Promise.all(storm.pending);
  storm.asker.socket.disconnect();
  const acks = storm.acks.slice().sort((a, b) => a - b);
  const r = (x) => (x === null ? null : Math.round(x * 10) / 10);
  return { sent: storm.sent, acked: acks.length, errors: storm.errors, ack_p50_ms: r(pct(acks, 50)),
           ack_p99_ms: r(pct(acks, 99)), ack_max_ms: r(acks[acks.length - 1] ?? null) };
}

async function main() {
  const n = cfg.clients;
  const clients = [];
  const failures = {};
  const storm = await startStormAsker();
  const t0 = performance.now();
  const srv0 = serverCpu();
  const gen0 = process.cpuUsage();
  const rss0 = serverRssKb();
  for (let i = 0; i < n; i += cfg.connect_batch) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + cfg.connect_batch); j++) batch.push(connectOne(j));
    for (const c of await Promise.all(batch)) {
      if (c.error) {
        failures[c.error] = (failures[c.error] || 0) + 1;
        c.socket.close();
      } else clients.push(c);
    }
  }
  const joinS = (performance.now() - t0) / 1000;
  joining = false;
  const srvJoin = serverCpu();
  const genJoin = process.cpuUsage(gen0); // this generator's own CPU over the joins (µs)
  const asksDuringJoins = await stopStormAsker(storm);
  log(`${clients.length}/${n} connected and joined in ${joinS.toFixed(1)} s; failures ${JSON.stringify(failures)}`);
  if (cfg.settle) await sleep(cfg.settle * 1000); // joins' broadcasts and buffers settle before memory is read
  const rss1 = serverRssKb();
  const perWorker = connectionsPerWorker();
  log(`connections per worker: ${JSON.stringify(perWorker)}`);
  const out = {
    mode: cfg.mode, clients: n, connected: clients.length, connect_failures: failures,
    rss_before_kb: rss0, rss_joined_kb: rss1, connections_per_worker: perWorker,
    kb_per_connection: rss0 === null || rss1 === null || !clients.length ? null
      : Math.round((10 * (rss1 - rss0)) / clients.length) / 10,
    connect_join_s: Math.round(joinS * 10) / 10,
    connect_join_server_cpu_s: srv0 === null ? null : Math.round((srvJoin - srv0) * 100) / 100,
    connect_join_generator_cpu_s: Math.round((genJoin.user + genJoin.system) / 1e4) / 100,
    asks_during_joins: asksDuringJoins,
    heard_during_joins: heardDuringJoins,
    phases: [],
  };
  if (clients.length === n && cfg.rates.length) {
    const sender = clients[0];
    if (cfg.warmup) { // unmeasured questions first: steady state, not each process's first ask
      const res = await runPhase(-1, sender, cfg.warmup, 1);
      log(`warm-up: ${res.sent} questions, lost ${res.lost}, max ${res.max_ms} ms`);
      await sleep(cfg.settle * 1000);
    }
    for (let i = 0; i < cfg.rates.length; i++) {
      const res = await runPhase(i, sender, cfg.rates[i], cfg.duration);
      log(`rate ${res.rate}/s: p50 ${res.p50_ms} ms p99 ${res.p99_ms} ms, ${res.deliveries_per_s} deliveries/s, ` +
          `lost ${res.lost}, server CPU ${res.server_cpu_s} s, generator burst max ${res.generator_cpu_burst_max_pct}%`);
      out.phases.push(res);
      await sleep(cfg.settle * 1000);
    }
  }
  // Everyone leaves at once (a fair's end): the server's CPU until it has let them all go (2 s).
  const srvLeave0 = serverCpu();
  for (const c of clients) c.socket.disconnect();
  await sleep(2000);
  const srvLeave1 = serverCpu();
  out.disconnect_server_cpu_s = srvLeave0 === null ? null : Math.round((srvLeave1 - srvLeave0) * 100) / 100;
  process.stdout.write(JSON.stringify(out) + "\n");
  process.exit(0);
}

main().catch((e) => {
  log(`failed: ${e && e.stack}`);
  process.exit(1);
});
