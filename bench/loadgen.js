// The benchmark's load generator: Node, socket.io-client 4 (WebSocket transport
// only), speaking the sails.io.js wire: emit("get", {method, url, headers}, ack).
//
//   node bench/loadgen.js '{"kind": "requests", "url": "http://127.0.0.1:5000", ...}'
//
// Every socket connects as sails.io.js 1.2.1 does on Node (its SDK metadata in
// the handshake's query string), which Sails requires and the others ignore.
//
// One scenario per run, given as JSON in argv[2]; every loop is bounded and the
// process exits by itself (a watchdog ends it after `deadline_s`). Events go to
// stdout as JSON lines: {"event": "mark", ...} while it runs (the harness
// samples the server then), {"event": "result", ...} last. Progress and errors
// go to stderr.
//
// Kinds:
//   requests  `sockets` sockets, each sending `get <path>` back to back; warm-up,
//             then `duration_s` measured: req/s, latency percentiles.
//   http      the same over HTTP keep-alive with `connections` connections.
//   fanout    `subscribers` sockets subscribe (`subscribe`: "blueprint" for ours'
//             `get /item`, which says so in a header; "sails" for Sails' `get
//             /item`; "event" for the floor's `subscribe` event); one more socket
//             posts `rounds` times; per round the time from the post to the last
//             subscriber holding the message (socket.io event `event`, default
//             "message"; Sails publishes under the model's identity, "item").
//             With `urls`, the subscribers are spread evenly over those servers
//             (the publisher is on the first); with `hold_s`, they stay
//             connected that long before the first post (`held` in the result
//             says how many still were). `path` and `field` name the list
//             route and the field a post sets (default "/item", "title").
//   idle      `sockets` sockets connect and stay; after the "connected" mark the
//             harness writes a line to stdin (or `hold_s` passes), then they close.
"use strict";

const http = require("node:http");
const readline = require("node:readline");
const { io } = require("socket.io-client");

const scenario = JSON.parse(process.argv[2] || "{}");
const now = () => performance.now();
const SAILS_SDK_QUERY = {
  __sails_io_sdk_version: "1.2.1",
  __sails_io_sdk_platform: "node",
  __sails_io_sdk_language: "javascript",
};

function say(line) {
  process.stdout.write(JSON.stringify(line) + "\n");
}

function progress(text) {
  process.stderr.write(`loadgen: ${text}\n`);
}

function fail(text) {
  say({ event: "result", error: text });
  process.exit(1);
}

setTimeout(() => fail(`deadline of ${scenario.deadline_s} s passed`), (scenario.deadline_s || 120) * 1000);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function withTimeout(promise, ms, what) {
  let timer;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

function summary(values) {
  const sorted = Float64Array.from(values).sort();
  return {
    count: sorted.length,
    p50_ms: percentile(sorted, 50),
    p99_ms: percentile(sorted, 99),
    max_ms: sorted.length ? sorted[sorted.length - 1] : null,
  };
}

// CPU use of this process between two calls, as a share of one core.
function cpuMeter() {
  const startCpu = process.cpuUsage();
  const startWall = now();
  return () => {
    const used = process.cpuUsage(startCpu);
    const wallMs = now() - startWall;
    return wallMs > 0 ? Math.round(((used.user + used.system) / 1000 / wallMs) * 1000) / 10 : null;
  };
}

function connectOne(url) {
  return new Promise((resolve, reject) => {
    const socket = io(url, {
      transports: ["websocket"],
      query: SAILS_SDK_QUERY,
      forceNew: true,
      reconnection: false,
      timeout: 15000,
    });
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (error) => {
      socket.close();
      reject(error);
    });
  });
}

// Connects `count` sockets, at most `parallel` handshakes at a time.
async function connectMany(url, count, parallel = 100) {
  const sockets = [];
  let next = 0;
  async function worker() {
    while (next < count) {
      next += 1;
      sockets.push(await withTimeout(connectOne(url), 20000, "connect"));
    }
  }
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
  return sockets;
}

function request(socket, method, url, data) {
  return new Promise((resolve) => socket.emit(method, { method, url, headers: {}, data }, resolve));
}

function closeAll(sockets) {
  for (const socket of sockets) socket.close();
}

// One loop per worker, each calling `send(worker, done)` back to back, through
// a warm-up and then a measured window of `duration_s`; `send` calls
// `done(ok)` with the answer. Latencies count for answers within the window.
async function timedLoops(workers, send) {
  const latencies = [];
  let measuring = false;
  let stopped = false;
  let errors = 0;
  let windowStart = 0;
  let windowEnd = 0;
  let meter = null;
  let cpu = null;
  const loops = workers.map(
    (worker) =>
      new Promise((resolve) => {
        const step = () => {
          if (stopped) return resolve();
          const started = now();
          send(worker, (ok) => {
            if (!ok) errors += 1;
            if (measuring) latencies.push(now() - started);
            step();
          });
        };
        step();
      }),
  );
  await sleep(scenario.warmup_s * 1000);
  say({ event: "mark", name: "start" });
  meter = cpuMeter();
  windowStart = now();
  measuring = true;
  await sleep(scenario.duration_s * 1000);
  measuring = false;
  windowEnd = now();
  cpu = meter();
  say({ event: "mark", name: "end" });
  stopped = true;
  await withTimeout(Promise.all(loops), 10000, "the last requests");
  const seconds = (windowEnd - windowStart) / 1000;
  return {
    requests: latencies.length,
    seconds,
    rps: latencies.length / seconds,
    latency: summary(latencies),
    errors,
    loadgen_cpu_percent: cpu,
  };
}

async function runRequests() {
  const sockets = await connectMany(scenario.url, scenario.sockets);
  const first = await withTimeout(request(sockets[0], "get", scenario.path), 10000, "first request");
  if (!first || first.statusCode !== 200 || first.body.message !== "hi") {
    fail(`unexpected answer to get ${scenario.path}: ${JSON.stringify(first)}`);
  }
  const result = await timedLoops(sockets, (socket, done) => {
    socket.emit("get", { method: "get", url: scenario.path, headers: {} }, (jwr) =>
      done(jwr && jwr.statusCode === 200),
    );
  });
  closeAll(sockets);
  return { sockets: scenario.sockets, ...result };
}

function httpGet(agent, url, done) {
  const request = http.get(url, { agent }, (response) => {
    const ok = response.statusCode === 200;
    response.resume();
    response.on("end", () => done(ok));
  });
  request.on("error", () => done(false));
}

async function runHttp() {
  const agent = new http.Agent({ keepAlive: true, maxSockets: scenario.connections });
  const url = scenario.url + scenario.path;
  const workers = Array.from({ length: scenario.connections }, (_, index) => index);
  const result = await timedLoops(workers, (_, done) => httpGet(agent, url, done));
  agent.destroy();
  return { connections: scenario.connections, ...result };
}

const LIST_PATH = scenario.path || "/item";
const TITLE_FIELD = scenario.field || "title";

async function subscribe(socket) {
  if (scenario.subscribe === "event") {
    const jwr = await request(socket, "subscribe", LIST_PATH);
    return jwr && jwr.statusCode === 200;
  }
  if (scenario.subscribe === "sails") {
    const jwr = await request(socket, "get", LIST_PATH);
    return jwr && jwr.statusCode === 200;
  }
  const jwr = await request(socket, "get", LIST_PATH);
  return jwr && jwr.statusCode === 200 && jwr.headers["X-Sockpub-Subscribed"] === "1";
}

async function subscribeAll(sockets, parallel = 50) {
  let next = 0;
  let refused = 0;
  async function worker() {
    while (next < sockets.length) {
      const socket = sockets[next];
      next += 1;
      if (!(await withTimeout(subscribe(socket), 20000, "subscribe"))) refused += 1;
    }
  }
  await Promise.all(Array.from({ length: Math.min(parallel, sockets.length) }, worker));
  if (refused) fail(`${refused} of ${sockets.length} subscriptions failed`);
}

// `count` sockets spread evenly over `urls` (one server process each).
async function connectSpread(urls, count) {
  const sockets = [];
  for (let index = 0; index < urls.length; index += 1) {
    const share = Math.floor(count / urls.length) + (index < count % urls.length ? 1 : 0);
    sockets.push(...(await connectMany(urls[index], share)));
  }
  return sockets;
}

async function runFanout() {
  const count = scenario.subscribers;
  const urls = scenario.urls || [scenario.url];
  const started = now();
  const subscribers = await connectSpread(urls, count);
  const [publisher] = await connectMany(urls[0], 1);
  await subscribeAll(subscribers);
  progress(`${count} subscribers connected and subscribed in ${((now() - started) / 1000).toFixed(1)} s`);
  let dropped = 0;
  for (const socket of subscribers) socket.on("disconnect", () => { dropped += 1; });
  let held = null;
  if (scenario.hold_s) {
    // The scale check: every socket stays connected this long after the last one connected.
    say({ event: "mark", name: "connected", sockets: subscribers.length });
    progress(`holding ${subscribers.length} sockets for ${scenario.hold_s} s`);
    await sleep(scenario.hold_s * 1000);
    held = { dropped, still_connected: subscribers.filter((socket) => socket.connected).length };
    progress(`after ${scenario.hold_s} s: ${held.still_connected} connected, ${dropped} dropped`);
  }
  let round = null;
  for (const socket of subscribers) {
    socket.on(scenario.event || "message", (message) => {
      if (!round || !message || message.data?.[TITLE_FIELD] !== round.title) return;
      round.received += 1;
      if (round.received === 1) round.first = now();
      if (round.received === count) {
        round.last = now();
        round.finish();
      }
    });
  }
  const all = [];
  const firsts = [];
  const acks = [];
  let cpuSum = 0;
  let missing = 0;
  const total = scenario.warmup_rounds + scenario.rounds;
  for (let index = 0; index < total; index += 1) {
    if (index === scenario.warmup_rounds) say({ event: "mark", name: "start" });
    const title = `round-${index}`;
    const delivered = new Promise((resolve) => {
      round = { title, received: 0, first: 0, last: 0, finish: resolve };
    });
    const meter = cpuMeter();
    const sent = now();
    const acked = request(publisher, "post", LIST_PATH, { [TITLE_FIELD]: title }).then((jwr) => {
      if (!jwr || jwr.statusCode < 200 || jwr.statusCode > 299) fail(`post ${LIST_PATH} answered ${JSON.stringify(jwr)}`);
      return now();
    });
    let ackAt;
    try {
      [, ackAt] = await withTimeout(Promise.all([delivered, acked]), scenario.round_timeout_s * 1000, title);
    } catch (error) {
      missing += count - round.received;
      progress(`${error.message}: ${round.received} of ${count} delivered`);
      round = null;
      continue;
    }
    const cpu = meter();
    if (index >= scenario.warmup_rounds) {
      all.push(round.last - sent);
      firsts.push(round.first - sent);
      acks.push(ackAt - sent);
      cpuSum += cpu;
    }
    round = null;
    await sleep(scenario.pause_ms);
  }
  say({ event: "mark", name: "end" });
  closeAll(subscribers);
  publisher.close();
  const allDelivered = summary(all);
  return {
    subscribers: count,
    rounds: all.length,
    all_delivered: allDelivered,
    first_delivered: summary(firsts),
    publisher_ack: summary(acks),
    deliveries_per_s: allDelivered.p50_ms ? count / (allDelivered.p50_ms / 1000) : null,
    missing,
    held,
    loadgen_cpu_percent: all.length ? Math.round((cpuSum / all.length) * 10) / 10 : null,
  };
}

async function runIdle() {
  const sockets = await connectMany(scenario.url, scenario.sockets);
  say({ event: "mark", name: "connected", sockets: sockets.length });
  const lines = readline.createInterface({ input: process.stdin });
  await Promise.race([new Promise((resolve) => lines.once("line", resolve)), sleep(scenario.hold_s * 1000)]);
  lines.close();
  const stillConnected = sockets.filter((socket) => socket.connected).length;
  closeAll(sockets);
  return { sockets: sockets.length, still_connected: stillConnected };
}

const KINDS = { requests: runRequests, http: runHttp, fanout: runFanout, idle: runIdle };

async function main() {
  const run = KINDS[scenario.kind];
  if (!run) fail(`unknown kind ${scenario.kind}`);
  const result = await run();
  say({ event: "result", ...result });
  process.exit(0);
}

main().catch((error) => fail(String(error && error.stack ? error.stack : error)));
