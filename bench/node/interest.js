// Interest-ingest generator for bench/interest_ingest.py: M attendee clients each express
// `per_client` interests at the same moment over Socket.IO (`express_interest`), each with a unique
// client_id; a share of them is replayed at once (a concurrent replay of the same client_id) and
// another share after every ack arrived (a reconnect's replay). Records every ack's latency.
//
//   node interest.js config.json      (prints one JSON object on stdout; progress on stderr)
//
// With `join`, every attendee is also in the session's room (as at a real fair) and counts the room's
// messages it receives during the burst (`room_messages`: the fan-out the burst cost).
//
// With `vote_question_id`, every attendee but the first (who asked it) votes for that question
// instead (`vote`; a resend is acknowledged as a duplicate), once.
//
// With `asks`, every attendee asks `per_client` questions instead (`ask`, each with its client_id; a
// resend is acknowledged as a duplicate with the stored question).
//
// config: {url, tokens, session_id, project_ids, per_client, concurrent_replay_every,
//          late_replay_every, warmup, connect_batch, server_pid | server_pids, run, join, vote_question_id, asks,
//          client: "lean" (default, lean.js) | "socket.io-client"}
"use strict";

const fs = require("fs");
const { performance } = require("perf_hooks");
const { openSocket } = require("./lean");

const cfg = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const log = (msg) => process.stderr.write(`interest: ${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const LEVELS = ["info", "meeting", "site_visit", "intent"];

// The server's workers (`server_pids`, or one `server_pid`); CPU is their sum.
const serverPids = cfg.server_pids || (cfg.server_pid ? [cfg.server_pid] : []);

function serverCpu() {
  if (!serverPids.length) return null;
  try {
    let total = 0;
    for (const pid of serverPids) {
      const f = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(")").pop().trim().split(/\s+/);
      total += (Number(f[11]) + Number(f[12])) / 100;
    }
    return total;
  } catch (e) {
    return null;
  }
}

// The whole machine's busy CPU seconds so far (every core; /proc/stat's user, nice, system, irq,
// softirq, steal), to say what the burst cost besides the workers: PostgreSQL, Redis, this generator.
function machineCpu() {
  try {
    const f = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / 100;
  } catch (e) {
    return null;
  }
}

function pct(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
const r1 = (x) => (x === null || x === undefined ? null : Math.round(x * 10) / 10);

function connectOne(idx) {
  return new Promise((resolve) => {
    const socket = openSocket(cfg.client, cfg.url, "/live", { auth: { token: cfg.tokens[idx] } });
    socket.on("connect", () => resolve({ idx, socket }));
    socket.on("connect_error", (err) => resolve({ idx, socket, error: String(err && err.message) }));
  });
}

function express(client, clientId, j) {
  const t = performance.now();
  return new Promise((resolve) => {
    client.socket.timeout(120000).emit("express_interest", {
      session_id: cfg.session_id, project_id: cfg.project_ids[(client.idx + j) % cfg.project_ids.length],
      level: LEVELS[(client.idx + j) % LEVELS.length], note: `bench note ${clientId}`, client_id: clientId,
    }, (err, ack) => {
      const done = performance.now();
      if (err) return resolve({ clientId, t, done, ok: false, code: "timeout" });
      if (!ack || !ack.ok) return resolve({ clientId, t, done, ok: false, code: (ack && ack.error && ack.error.code) || "?" });
      resolve({ clientId, t, done, ok: true, duplicate: !!ack.duplicate, id: ack.interest.id });
    });
  });
}

function vote(client, clientId) {
  const t = performance.now();
  return new Promise((resolve) => {
    client.socket.timeout(120000).emit("vote", { question_id: cfg.vote_question_id }, (err, ack) => {
      const done = performance.now();
      if (err) return resolve({ clientId, t, done, ok: false, code: "timeout" });
      if (!ack || !ack.ok) return resolve({ clientId, t, done, ok: false, code: (ack && ack.error && ack.error.code) || "?" });
      resolve({ clientId, t, done, ok: true, duplicate: !!ack.duplicate, id: ack.question.id });
    });
  });
}

function ask(client, clientId) {
  const t = performance.now();
  return new Promise((resolve) => {
    client.socket.timeout(120000).emit("ask", { session_id: cfg.session_id, text: `bench question ${clientId}`,
                                                client_id: clientId }, (err, ack) => {
      const done = performance.now();
      if (err) return resolve({ clientId, t, done, ok: false, code: "timeout" });
      if (!ack || !ack.ok) return resolve({ clientId, t, done, ok: false, code: (ack && ack.error && ack.error.code) || "?" });
      resolve({ clientId, t, done, ok: true, duplicate: !!ack.duplicate, id: ack.question.id });
    });
  });
}

async function main() {
  const voting = !!cfg.vote_question_id;
  const act = voting ? (c, clientId) => vote(c, clientId) : cfg.asks ? (c, clientId) => ask(c, clientId) : express;
  const acting = (c) => !voting || c.idx !== 0; // the asker does not vote for their own question
  const clients = [];
  const failures = {};
  for (let i = 0; i < cfg.tokens.length; i += cfg.connect_batch) {
    const batch = [];
    for (let j = i; j < Math.min(cfg.tokens.length, i + cfg.connect_batch); j++) batch.push(connectOne(j));
    for (const c of await Promise.all(batch)) {
      if (c.error) failures[c.error] = (failures[c.error] || 0) + 1;
      else clients.push(c);
    }
  }
  log(`${clients.length}/${cfg.tokens.length} connected; failures ${JSON.stringify(failures)}`);
  const heard = {};
  let counting = false;
  if (cfg.join) {
    for (let i = 0; i < clients.length; i += cfg.connect_batch) {
      await Promise.all(clients.slice(i, i + cfg.connect_batch).map((c) => new Promise((resolve) => {
        c.socket.timeout(60000).emit("join", { session_id: cfg.session_id }, () => resolve());
      })));
    }
    for (const c of clients) {
      c.socket.onAny((name) => { if (counting) heard[name] = (heard[name] || 0) + 1; });
    }
    log(`${clients.length} joined the room`);
  }
  // Warm-up: one interest from each of the first `warmup` clients (not measured; their own ids).
  if (!voting && !cfg.asks) {
    await Promise.all(clients.slice(0, cfg.warmup).map((c) => express(c, `warm-${cfg.run}-${c.idx}`, 0)));
    await sleep(1500);
  }

  // The burst: every client sends all of its interests at once; some client ids twice at once.
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
  const all0 = machineCpu();
  const t0 = performance.now();
  counting = true;
  const pending = [];
  let unique = 0;
  let concurrentReplays = 0;
  for (const c of clients.filter(acting)) {
    for (let j = 0; j < (voting ? 1 : cfg.per_client); j++) {
      const clientId = `ing-${cfg.run}-${c.idx}-${j}`;
      unique++;
      pending.push(act(c, clientId, j));
      if (unique % cfg.concurrent_replay_every === 0) {
        concurrentReplays++;
        pending.push(act(c, clientId, j));
      }
    }
  }
  const results = await Promise.all(pending);
  const tEnd = Math.max(t0, ...results.filter((x) => x.ok).map((x) => x.done)); // the last successful ack
  await sleep(cfg.join ? 1000 : 0); // what the burst still sends to the room (folded numbers, counts)
  counting = false;
  const srv1 = serverCpu(); // with `join`, the room's share after the last ack too
  const all1 = machineCpu();
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);

  const byId = new Map();
  const errors = {};
  let newAcks = 0;
  let dupAcks = 0;
  let idMismatch = 0;
  for (const x of results) {
    if (!x.ok) {
      errors[x.code] = (errors[x.code] || 0) + 1;
      continue;
    }
    if (x.duplicate) dupAcks++;
    else newAcks++;
    if (byId.has(x.clientId) && byId.get(x.clientId) !== x.id) idMismatch++;
    byId.set(x.clientId, x.id);
  }
  const lat = results.filter((x) => x.ok).map((x) => x.done - x.t).sort((a, b) => a - b);

  // Late replays: a share of the acknowledged client ids sent again, as after a reconnect.
  const late = [];
  let k = 0;
  for (const c of clients.filter(acting)) {
    for (let j = 0; j < (voting ? 1 : cfg.per_client); j++) {
      if (++k % cfg.late_replay_every === 0) late.push(act(c, `ing-${cfg.run}-${c.idx}-${j}`, j));
    }
  }
  const lateResults = await Promise.all(late);
  let lateDup = 0;
  let lateNew = 0;
  let lateErr = 0;
  for (const x of lateResults) {
    if (!x.ok) lateErr++;
    else if (x.duplicate) {
      lateDup++;
      if (byId.has(x.clientId) && byId.get(x.clientId) !== x.id) idMismatch++;
    } else lateNew++; // only if the burst's first send failed
    if (x.ok && !x.duplicate) byId.set(x.clientId, x.id);
  }
  newAcks += lateNew;

  for (const c of clients) c.socket.disconnect();
  const burst = cpuSamples.slice().sort((a, b) => a - b);
  const windowS = (tEnd - t0) / 1000;
  const out = {
    clients: cfg.tokens.length, connected: clients.length, connect_failures: failures,
    unique_sent: unique, concurrent_replays: concurrentReplays, burst_sends: results.length,
    new_acks: newAcks, duplicate_acks: dupAcks, errors,
    late_replays: late.length, late_duplicate_acks: lateDup, late_new_acks: lateNew, late_errors: lateErr,
    interest_id_mismatches: idMismatch, room_messages: heard,
    window_s: Math.round(windowS * 1000) / 1000,
    acked_per_s: Math.round((newAcks - lateNew) / windowS),
    all_acks_per_s: Math.round((newAcks - lateNew + dupAcks) / windowS),
    ack_p50_ms: r1(pct(lat, 50)), ack_p90_ms: r1(pct(lat, 90)), ack_p99_ms: r1(pct(lat, 99)), ack_max_ms: r1(lat[lat.length - 1]),
    server_cpu_s: srv0 === null || srv1 === null ? null : Math.round((srv1 - srv0) * 1000) / 1000,
    machine_cpu_s: all0 === null || all1 === null ? null : Math.round((all1 - all0) * 1000) / 1000,
    generator_cpu_s: Math.round((cpu.user + cpu.system) / 1000) / 1000,
    generator_cpu_avg_pct: r1((100 * (cpu.user + cpu.system) / 1000) / (tEnd - t0)),
    generator_cpu_burst_max_pct: r1(burst[burst.length - 1]),
    generator_cpu_burst_p90_pct: r1(pct(burst, 90)),
  };
  log(`${out.new_acks} new acks in ${out.window_s} s = ${out.acked_per_s}/s, p99 ${out.ack_p99_ms} ms, errors ${JSON.stringify(errors)}`);
  await sleep(200);
  process.stdout.write(JSON.stringify(out) + "\n");
  process.exit(0);
}

main().catch((e) => {
  log(`failed: ${e && e.stack}`);
  process.exit(1);
});
