// Engine.IO v4 load generator for the engineio-core benchmarks.
//
// One Node.js process drives every session of a run (pin it to its own core with
// taskset). It speaks Engine.IO v4 itself: WebSocket sessions connect straight with
// ?EIO=4&transport=websocket, polling sessions handshake, long-poll with GET and
// batch their sends into POSTs while one is in flight (as engine.io-client does).
// Server pings ("2") are answered with pongs ("3") in every scenario.
//
// --protocol plain speaks raw WebSocket to a plain echo endpoint (no Engine.IO):
// the ceiling a framework reaches, and the proof that this process is not the
// bottleneck.
//
// Output, on stdout: "MARK <name>" lines when a phase starts (the runner samples the
// server's CPU and RSS at each), then one "RESULT <json>" line. Exit code 0 unless
// the run could not start (no session connected). Everything is bounded in time:
// --timeout seconds after start the process exits whatever happens.

import crypto from "node:crypto";
import net from "node:net";
import { performance } from "node:perf_hooks";
import process from "node:process";
import bufferutil from "bufferutil";

const DEFAULTS = {
  url: "http://127.0.0.1:8000",
  path: "/engine.io/",
  plainPath: "/ws",
  scenario: "ws-echo",
  protocol: "eio",
  sessions: 50,
  inflight: 4,
  size: 100,
  warmup: 2,
  duration: 10,
  connectConcurrency: 100,
  timeout: 0,
  // > 0: open loop at this many messages per second in all (spread over the sessions)
  // instead of keeping `inflight` messages per session; for CPU cost per message.
  rate: 0,
  // soak: how many of the sessions send a message every `messageInterval` seconds;
  // with awaitStdin 1 the sessions stay open after MARK held until a line on stdin.
  talkers: 0,
  messageInterval: 1,
  awaitStdin: 0,
  // cycles: how many connect/disconnect cycles in all, on which transport.
  cycles: 1000,
  transport: "websocket",
};

function parseArgs(argv) {
  const opts = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) throw new Error(`unexpected argument ${arg}`);
    const key = arg.slice(2).replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!(key in DEFAULTS)) throw new Error(`unknown option ${arg}`);
    const value = argv[++i];
    if (value === undefined) throw new Error(`${arg} needs a value`);
    opts[key] = typeof DEFAULTS[key] === "number" ? Number(value) : value;
  }
  if (!opts.timeout) opts.timeout = opts.warmup + opts.duration + 60;
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const base = new URL(opts.url);

// -- measurement -------------------------------------------------------------------

const stats = {
  measuring: false,
  messages: 0, // replies (or broadcast deliveries) received in the window
  latencies: [], // ms, of those replies
  errors: 0,
  disconnects: 0,
  pings: 0,
  windowStart: 0,
  windowEnd: 0,
  cpuStart: null,
  cpu: null,
};

function record(sentAt) {
  if (!stats.measuring) return;
  stats.messages++;
  stats.latencies.push(performance.now() - sentAt);
}

function mark(name) {
  process.stdout.write(`MARK ${name}\n`);
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const index = Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length));
  return sorted[index];
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function measureWindow(extra = () => ({})) {
  await sleep(opts.warmup * 1000);
  stats.measuring = true;
  stats.cpuStart = process.cpuUsage();
  stats.windowStart = performance.now();
  mark("start");
  await sleep(opts.duration * 1000);
  stats.measuring = false;
  stats.windowEnd = performance.now();
  stats.cpu = process.cpuUsage(stats.cpuStart);
  mark("end");
  const seconds = (stats.windowEnd - stats.windowStart) / 1000;
  const sorted = Float64Array.from(stats.latencies).sort();
  return {
    messages: stats.messages,
    seconds,
    rate: stats.messages / seconds,
    p50_ms: percentile(sorted, 50),
    p99_ms: percentile(sorted, 99),
    loadgen_cpu: (stats.cpu.user + stats.cpu.system) / 1e6 / seconds,
    loadgen_sys: stats.cpu.system / 1e6 / seconds,
    // Long-polling: HTTP requests (polls and POSTs) per echoed message. The
    // closed loop batches less the faster the server answers, so a faster
    // server may be asked for more requests per message.
    requests_per_message: stats.requests && stats.messages ? stats.requests / stats.messages : undefined,
    ...extra(),
  };
}

// Open-loop pacing: call send(session) `opts.rate` times a second over `sessions`.
function pace(sessions, send, isStopped) {
  const start = performance.now();
  let sent = 0;
  let next = 0;
  const timer = setInterval(() => {
    if (isStopped()) {
      clearInterval(timer);
      return;
    }
    const due = Math.floor(((performance.now() - start) / 1000) * opts.rate) - sent;
    for (let i = 0; i < due; i++) {
      const session = sessions[next++ % sessions.length];
      if (session.open) send(session);
      sent++;
    }
  }, 2);
}

// -- Engine.IO over WebSocket ------------------------------------------------------

// The WebSocket client is written against node:net directly: frames are built from
// templates and replies are read in place (only the message id is parsed, never the
// whole text decoded), so a message costs the load generator a few microseconds.
// Frames are masked (RFC 6455) with a key per connection.

const PREFIX = opts.protocol === "plain" ? "" : "4";
const PADDING = Buffer.alloc(Math.max(opts.size, 16), 120); // "xxxx..."
const CLOSE_FRAME = Buffer.from([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]); // 1000, key 0
let keyCounter = 0;

// Parse the decimal id at buf[start...] up to "|" (text) or read 4 bytes (binary).
function readId(buf, start, end, binary) {
  if (binary) return end - start >= 4 ? buf.readUInt32BE(start) : -1;
  let id = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c === 124) return id;
    if (c < 48 || c > 57) return -1;
    id = id * 10 + (c - 48);
  }
  return -1;
}

class WsSession {
  // onOpen(session) once usable (Engine.IO open packet, or the 101 in plain mode);
  // onMessage(buf, start, end, binary) for each message, Engine.IO "4" stripped.
  constructor({ onOpen, onMessage }) {
    this.onOpen = onOpen;
    this.onMessage = onMessage;
    this.open = false;
    this.closedByUs = false;
    this.pings = 0;
    this.upgraded = false;
    this.pending = null; // unparsed bytes
    this.fragments = null;
    this.corked = false;
    this.mask = Buffer.alloc(4);
    this.mask.writeUInt32BE((0x9e3779b9 * ++keyCounter) >>> 0 || 1);
    this.opened = new Promise((resolve) => {
      this.resolveOpened = resolve;
    });
    const path =
      opts.protocol === "plain" ? opts.plainPath : `${opts.path}?EIO=4&transport=websocket`;
    const sock = net.connect({ host: base.hostname, port: Number(base.port) });
    this.sock = sock;
    sock.setNoDelay(true);
    sock.on("connect", () => {
      sock.write(
        `GET ${path} HTTP/1.1\r\nHost: ${base.host}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${crypto.randomBytes(16).toString("base64")}\r\n` +
          "Sec-WebSocket-Version: 13\r\n\r\n",
      );
    });
    sock.on("data", (chunk) => this.onData(chunk));
    sock.on("error", () => {
      if (!this.closedByUs) stats.errors++;
    });
    sock.on("close", () => {
      if (!this.closedByUs) stats.disconnects++;
      this.open = false;
      this.resolveOpened(false);
    });
  }

  ready() {
    this.open = true;
    this.resolveOpened(true);
    this.onOpen?.(this);
  }

  onData(chunk) {
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = null;
    if (!this.upgraded) {
      const end = buf.indexOf("\r\n\r\n");
      if (end === -1) {
        this.pending = buf;
        return;
      }
      if (buf.toString("latin1", 0, 13) !== "HTTP/1.1 101 ") {
        stats.errors++;
        this.closedByUs = true;
        this.sock.destroy();
        return;
      }
      this.upgraded = true;
      buf = buf.subarray(end + 4);
      if (opts.protocol === "plain") this.ready();
    }
    let off = 0;
    const length = buf.length;
    while (length - off >= 2) {
      const b0 = buf[off];
      const b1 = buf[off + 1];
      let size = b1 & 0x7f;
      let header = 2;
      if (size === 126) {
        if (length - off < 4) break;
        size = buf.readUInt16BE(off + 2);
        header = 4;
      } else if (size === 127) {
        if (length - off < 10) break;
        size = Number(buf.readBigUInt64BE(off + 2));
        header = 10;
      }
      if (b1 & 0x80) header += 4; // servers do not mask; skip a key anyway
      if (length - off < header + size) break;
      this.onFrame(b0 & 0x0f, (b0 & 0x80) !== 0, buf, off + header, off + header + size);
      off += header + size;
    }
    if (off < length) this.pending = buf.subarray(off);
  }

  onFrame(opcode, fin, buf, start, end) {
    if (opcode === 0 || !fin) {
      // A fragmented message: rare here (small messages), so simply reassembled.
      if (opcode !== 0) this.fragments = { opcode, parts: [] };
      if (!this.fragments) return;
      this.fragments.parts.push(Buffer.from(buf.subarray(start, end)));
      if (!fin) return;
      const whole = Buffer.concat(this.fragments.parts);
      opcode = this.fragments.opcode;
      this.fragments = null;
      buf = whole;
      start = 0;
      end = whole.length;
    }
    if (opcode === 2) {
      this.onMessage(buf, start, end, true);
    } else if (opcode === 1) {
      if (opts.protocol === "plain") {
        this.onMessage(buf, start, end, false);
        return;
      }
      const type = buf[start];
      if (type === 52 /* 4 */) this.onMessage(buf, start + 1, end, false);
      else if (type === 50 /* 2 */) {
        stats.pings++;
        this.pings++;
        this.sendFrame(1, "3");
      } else if (type === 48 /* 0 */) this.ready();
      else if (type === 49 /* 1 */) this.close();
    } else if (opcode === 9) {
      this.sendFrame(10, Buffer.from(buf.subarray(start, end)));
    } else if (opcode === 8) {
      if (!this.closedByUs) {
        this.closedByUs = true;
        stats.disconnects++;
      }
      this.sock.end(CLOSE_FRAME);
      this.open = false;
    }
  }

  // Write one frame. Frames written in the same tick leave in one write (the socket
  // is corked until the next tick), as a busy client's would.
  writeFrame(frame) {
    if (!this.corked) {
      this.corked = true;
      this.sock.cork();
      process.nextTick(() => {
        this.corked = false;
        this.sock.uncork();
      });
    }
    this.sock.write(frame);
  }

  // A frame with `opcode` and a payload (string or Buffer).
  sendFrame(opcode, payload) {
    const data = typeof payload === "string" ? Buffer.from(payload) : payload;
    const header = data.length < 126 ? 6 : data.length < 65536 ? 8 : 14;
    const frame = Buffer.allocUnsafe(header + data.length);
    frame[0] = 0x80 | opcode;
    if (header === 6) frame[1] = 0x80 | data.length;
    else if (header === 8) {
      frame[1] = 0x80 | 126;
      frame.writeUInt16BE(data.length, 2);
    } else {
      frame[1] = 0x80 | 127;
      frame.writeBigUInt64BE(BigInt(data.length), 2);
    }
    this.mask.copy(frame, header - 4);
    bufferutil.mask(data, this.mask, frame, header, data.length);
    this.writeFrame(frame);
  }

  // A message with id `id`: text is `<prefix><id>|xxx...` (opts.size bytes after the
  // Engine.IO "4"), binary is opts.size bytes starting with the id as uint32.
  sendMessage(id, binary, extraPrefix = "") {
    let data;
    if (binary) {
      data = Buffer.allocUnsafe(opts.size);
      PADDING.copy(data, 0, 0, opts.size);
      data.writeUInt32BE(id >>> 0, 0);
      this.sendFrame(2, data);
      return;
    }
    const head = `${PREFIX}${extraPrefix}${id}|`;
    const fill = Math.max(0, opts.size - head.length + PREFIX.length);
    data = Buffer.allocUnsafe(head.length + fill);
    data.latin1Write(head, 0);
    PADDING.copy(data, head.length, 0, fill);
    this.sendFrame(1, data);
  }

  close() {
    if (this.closedByUs) return;
    this.closedByUs = true;
    if (this.open && opts.protocol !== "plain") this.sendFrame(1, "1");
    this.open = false;
    this.sock.end(CLOSE_FRAME);
    setTimeout(() => this.sock.destroy(), 1000).unref();
  }
}

async function openAll(count, make) {
  const sessions = [];
  let next = 0;
  async function worker() {
    while (next < count) {
      next++;
      const session = make(sessions.length);
      sessions.push(session);
      await Promise.race([session.opened, sleep(10_000)]);
    }
  }
  await Promise.all(
    Array.from({ length: Math.min(opts.connectConcurrency, count) }, () => worker()),
  );
  return sessions;
}

function textPayload(id) {
  const head = `${id}|`;
  return head + "x".repeat(Math.max(0, opts.size - head.length));
}

async function wsEcho(binary) {
  let stopped = false;
  const sessions = await openAll(opts.sessions, () => {
    const pending = new Map();
    let nextId = 0;
    const sendOne = () => {
      const id = nextId++;
      pending.set(id, performance.now());
      session.sendMessage(id, binary);
    };
    const session = new WsSession({
      onOpen: () => {
        if (opts.rate > 0) return;
        for (let i = 0; i < opts.inflight; i++) sendOne();
      },
      onMessage: (buf, start, end, isBinary) => {
        const id = readId(buf, start, end, isBinary);
        const sentAt = pending.get(id);
        if (sentAt === undefined) return;
        pending.delete(id);
        record(sentAt);
        if (!stopped && opts.rate <= 0) sendOne();
      },
    });
    session.sendOne = sendOne;
    return session;
  });
  const connected = sessions.filter((s) => s.open).length;
  if (connected === 0) return { connected, error: "no session connected" };
  mark("connected");
  if (opts.rate > 0) pace(sessions, (s) => s.sendOne(), () => stopped);
  const result = await measureWindow(() => ({ connected }));
  stopped = true;
  for (const s of sessions) s.close();
  return result;
}

async function broadcast() {
  // Session 0 sends "*<id>|..."; the server sends it to every session. A broadcast is
  // complete when all sessions got it; `inflight` broadcasts are kept going.
  let stopped = false;
  const sentAt = new Map();
  const remaining = new Map();
  let nextId = 0;
  let sessions = [];
  let connected = 0;
  const sendOne = () => {
    const id = nextId++;
    sentAt.set(id, performance.now());
    remaining.set(id, connected);
    sessions[0].sendMessage(id, false, "*");
  };
  const onMessage = (buf, start, end) => {
    if (buf[start] !== 42 /* * */) return;
    const id = readId(buf, start + 1, end, false);
    const at = sentAt.get(id);
    if (at === undefined) return;
    record(at);
    const left = remaining.get(id) - 1;
    if (left > 0) {
      remaining.set(id, left);
      return;
    }
    remaining.delete(id);
    sentAt.delete(id);
    if (stats.measuring) stats.broadcasts = (stats.broadcasts ?? 0) + 1;
    if (!stopped) sendOne();
  };
  sessions = await openAll(opts.sessions, () => new WsSession({ onMessage }));
  connected = sessions.filter((s) => s.open).length;
  if (connected === 0) return { connected, error: "no session connected" };
  // Let the server register every session's connect handler before the first send.
  await sleep(500);
  mark("connected");
  for (let i = 0; i < opts.inflight; i++) sendOne();
  const result = await measureWindow(() => ({
    connected,
    broadcasts: stats.broadcasts ?? 0,
  }));
  stopped = true;
  for (const s of sessions) s.close();
  return result;
}

async function idle() {
  // Warm the server up with a few sessions, then hold opts.sessions idle sessions for
  // opts.duration seconds while answering pings. The runner takes the server's RSS at
  // MARK baseline and at MARK held.
  const warm = await openAll(Math.min(50, opts.sessions), () => new WsSession({ onMessage() {} }));
  for (const s of warm) s.close();
  await sleep(1000);
  mark("baseline");
  await sleep(200);
  const sessions = await openAll(opts.sessions, () => new WsSession({ onMessage() {} }));
  const connected = sessions.filter((s) => s.open).length;
  if (connected === 0) return { connected, error: "no session connected" };
  mark("connected");
  stats.measuring = true;
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  mark("start");
  await sleep(opts.duration * 1000);
  const seconds = (performance.now() - start) / 1000;
  const stillOpen = sessions.filter((s) => s.open).length;
  mark("held");
  await sleep(200);
  const cpu = process.cpuUsage(cpuStart);
  for (const s of sessions) s.close();
  return {
    connected,
    still_open: stillOpen,
    pings: stats.pings,
    seconds,
    loadgen_cpu: (cpu.user + cpu.system) / 1e6 / seconds,
  };
}

async function soak() {
  // Hold opts.sessions WebSocket sessions for opts.duration seconds, answering every
  // ping (counted per session). opts.talkers of them, spread over the sessions, each
  // send a message every opts.messageInterval seconds and check that every echo comes
  // back, once and in order. MARK connected, MARK start, MARK held (end of the window);
  // with --await-stdin 1 the sessions then stay open until a line arrives on stdin (the
  // caller looks at the server meanwhile) before they leave.
  const talk = { sent: 0, received: 0, misordered: 0 };
  const sessions = await openAll(opts.sessions, () => {
    const session = new WsSession({
      onMessage: (buf, start, end, binary) => {
        const id = readId(buf, start, end, binary);
        if (id !== session.expected) talk.misordered++;
        else talk.received++;
        session.expected = id + 1;
      },
    });
    session.expected = 0;
    session.nextId = 0;
    return session;
  });
  const connected = sessions.filter((s) => s.open).length;
  if (connected === 0) return { connected, error: "no session connected" };
  mark("connected");
  const step = opts.talkers > 0 ? Math.max(1, Math.floor(sessions.length / opts.talkers)) : 0;
  const talkers = step ? sessions.filter((_, i) => i % step === 0).slice(0, opts.talkers) : [];
  let talking = true;
  const timers = talkers.map((s, i) => {
    // Spread the talkers' sends over the interval rather than all at once.
    const offset = (i / talkers.length) * opts.messageInterval * 1000;
    return setTimeout(function send() {
      if (!talking || !s.open) return;
      s.sendMessage(s.nextId++, false);
      talk.sent++;
      s.timer = setTimeout(send, opts.messageInterval * 1000);
    }, offset);
  });
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  for (const s of sessions) s.pingsAtStart = s.pings;
  mark("start");
  await sleep(opts.duration * 1000);
  const seconds = (performance.now() - start) / 1000;
  const counts = sessions.filter((s) => s.open).map((s) => s.pings - s.pingsAtStart);
  const stillOpen = counts.length;
  talking = false;
  for (const t of timers) clearTimeout(t);
  for (const s of talkers) clearTimeout(s.timer);
  // Every echo of what was sent should come back: wait for them (bounded).
  const waitUntil = performance.now() + 5000;
  while (talk.received + talk.misordered < talk.sent && performance.now() < waitUntil) {
    await sleep(20);
  }
  const cpu = process.cpuUsage(cpuStart);
  mark("held");
  if (opts.awaitStdin) {
    await new Promise((resolve) => {
      process.stdin.once("data", resolve);
      process.stdin.once("end", resolve);
    });
  }
  // Leave 20 at a time, each until its connection is closed (10 s at most): a server
  // on OS threads (two per WebSocket) can starve one reader past its ping deadline when
  // hundreds of sessions leave at once.
  let next = 0;
  async function leave() {
    while (next < sessions.length) {
      const s = sessions[next++];
      if (s.sock.destroyed) continue;
      const closed = new Promise((resolve) => s.sock.once("close", resolve));
      s.close();
      await Promise.race([closed, sleep(10_000)]);
    }
  }
  const leaveStart = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(20, sessions.length) }, () => leave()),
  );
  const leaveSeconds = (performance.now() - leaveStart) / 1000;
  return {
    leave_seconds: leaveSeconds,
    connected,
    still_open: stillOpen,
    seconds,
    window_pings: counts.reduce((a, b) => a + b, 0),
    pings_min: Math.min(...counts),
    pings_max: Math.max(...counts),
    talkers: talkers.length,
    messages_sent: talk.sent,
    messages_received: talk.received,
    messages_misordered: talk.misordered,
    loadgen_cpu: (cpu.user + cpu.system) / 1e6 / seconds,
  };
}

async function cycles() {
  // opts.cycles connect/disconnect cycles in all, opts.sessions at a time, on
  // opts.transport. websocket: open a WebSocket session (?transport=websocket), wait
  // for its open packet, send a close packet and a close frame, and wait until the
  // connection is closed. polling: a handshake, then a close packet in a POST, on one
  // kept-alive connection per worker (as the handshake scenario). MARK done at the end.
  let started = 0;
  let done = 0;
  async function websocketCycle() {
    const session = new WsSession({ onMessage() {} });
    const closed = new Promise((resolve) => session.sock.once("close", resolve));
    const opened = await Promise.race([session.opened, sleep(10_000).then(() => false)]);
    session.close();
    const ended = await Promise.race([closed.then(() => true), sleep(10_000).then(() => false)]);
    if (!opened || !ended) throw new Error(opened ? "close timed out" : "no open packet");
  }
  async function worker() {
    const conn = opts.transport === "polling" ? new HttpConnection() : null;
    while (started < opts.cycles) {
      started++;
      try {
        if (conn) {
          const sid = await pollingHandshake(conn);
          const res = await conn.request("POST", `EIO=4&transport=polling&sid=${sid}`, "1");
          if (res.status !== 200 || res.body !== "ok") throw new Error(`close: ${res.status}`);
        } else {
          await websocketCycle();
        }
        done++;
      } catch {
        stats.errors++;
        await sleep(10);
      }
    }
    conn?.close();
  }
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  await Promise.all(Array.from({ length: Math.min(opts.sessions, opts.cycles) }, () => worker()));
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  mark("done");
  return {
    transport: opts.transport,
    cycles: done,
    seconds,
    rate: done / seconds,
    loadgen_cpu: (cpu.user + cpu.system) / 1e6 / seconds,
  };
}

// -- Engine.IO over HTTP long-polling ----------------------------------------------

// A keep-alive HTTP/1.1 connection on node:net, one request at a time (as a browser
// uses a connection): node:http's client costs more CPU per request than the Python
// servers under test, so requests are written and responses parsed by hand.
class HttpConnection {
  constructor() {
    this.sock = null;
    this.buf = null;
    this.waiting = null; // {resolve, reject} of the request in flight
  }

  connect() {
    const sock = net.connect({ host: base.hostname, port: Number(base.port) });
    sock.setNoDelay(true);
    sock.on("data", (chunk) => this.onData(chunk));
    sock.on("error", () => {});
    sock.on("close", () => {
      if (this.sock === sock) this.sock = null;
      this.buf = null;
      const waiting = this.waiting;
      this.waiting = null;
      waiting?.reject(new Error("connection closed"));
    });
    this.sock = sock;
  }

  request(method, query, body) {
    if (this.waiting) return Promise.reject(new Error("a request is in flight"));
    if (!this.sock) this.connect();
    if (stats.measuring) stats.requests = (stats.requests ?? 0) + 1;
    let head = `${method} ${opts.path}?${query} HTTP/1.1\r\nHost: ${base.host}\r\n`;
    if (body !== undefined) {
      head += `Content-Type: text/plain;charset=UTF-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;
    }
    this.sock.write(`${head}\r\n${body ?? ""}`);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  onData(chunk) {
    const buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    this.buf = buf;
    const headEnd = buf.indexOf("\r\n\r\n");
    if (headEnd === -1) return;
    const head = buf.toString("latin1", 0, headEnd);
    const status = Number(head.slice(9, 12));
    const lower = head.toLowerCase();
    const bodyStart = headEnd + 4;
    let body;
    let end;
    const lengthAt = lower.indexOf("\r\ncontent-length:");
    if (lengthAt !== -1) {
      const length = Number.parseInt(lower.slice(lengthAt + 17, lower.indexOf("\r\n", lengthAt + 2) >>> 0), 10);
      end = bodyStart + length;
      if (buf.length < end) return;
      body = buf.toString("utf8", bodyStart, end);
    } else if (lower.includes("\r\ntransfer-encoding: chunked")) {
      const parts = [];
      let at = bodyStart;
      for (;;) {
        const lineEnd = buf.indexOf("\r\n", at);
        if (lineEnd === -1) return;
        const size = Number.parseInt(buf.toString("latin1", at, lineEnd), 16);
        if (buf.length < lineEnd + 2 + size + 2) return;
        if (size === 0) {
          end = lineEnd + 4;
          break;
        }
        parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
        at = lineEnd + 2 + size + 2;
      }
      body = Buffer.concat(parts).toString("utf8");
    } else {
      body = ""; // no body framing: only used for bodiless answers here
      end = bodyStart;
    }
    this.buf = end < buf.length ? buf.subarray(end) : null;
    const waiting = this.waiting;
    this.waiting = null;
    if (lower.includes("\r\nconnection: close")) {
      this.sock?.destroy();
      this.sock = null;
    }
    waiting?.resolve({ status, body });
  }

  close() {
    this.sock?.destroy();
    this.sock = null;
  }
}

async function pollingHandshake(conn) {
  const res = await conn.request("GET", `EIO=4&transport=polling&t=${performance.now()}`);
  if (res.status !== 200 || res.body[0] !== "0") {
    throw new Error(`handshake failed: ${res.status} ${res.body.slice(0, 200)}`);
  }
  const end = res.body.indexOf("\x1e");
  return JSON.parse(res.body.slice(1, end === -1 ? undefined : end)).sid;
}

class PollingSession {
  constructor(sid, getConn, onMessage) {
    this.sid = sid;
    this.query = `EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`;
    this.onMessage = onMessage;
    this.queue = [];
    this.posting = false;
    this.open = true;
    this.stopped = false;
    this.getConn = getConn;
    this.postConn = new HttpConnection();
  }

  start() {
    this.pollLoop();
  }

  async pollLoop() {
    while (this.open && !this.stopped) {
      let res;
      try {
        res = await this.getConn.request("GET", this.query);
      } catch {
        stats.errors++;
        this.open = false;
        break;
      }
      if (res.status !== 200) {
        stats.errors++;
        this.open = false;
        break;
      }
      for (const packet of res.body.split("\x1e")) {
        const type = packet.charCodeAt(0);
        if (type === 52) this.onMessage(packet.slice(1));
        else if (type === 50) {
          stats.pings++;
          this.write("3");
        } else if (type === 49) {
          if (!this.stopped) stats.disconnects++;
          this.open = false;
        }
      }
    }
  }

  write(packet) {
    this.queue.push(packet);
    if (!this.posting) this.flush();
  }

  async flush() {
    this.posting = true;
    while (this.queue.length > 0 && this.open) {
      const body = this.queue.join("\x1e");
      this.queue = [];
      try {
        const res = await this.postConn.request("POST", this.query, body);
        if (res.status !== 200) {
          stats.errors++;
          this.open = false;
        }
      } catch {
        stats.errors++;
        this.open = false;
      }
    }
    this.posting = false;
  }

  async close() {
    this.stopped = true;
    if (this.open) {
      this.open = false;
      const conn = new HttpConnection();
      try {
        await conn.request("POST", this.query, "1");
      } catch {
        // the server may already have dropped the session
      }
      conn.close();
    }
    setTimeout(() => {
      this.getConn.close();
      this.postConn.close();
    }, 500).unref();
  }
}

async function pollingEcho() {
  let stopped = false;
  const sessions = [];
  let failed = 0;
  let next = 0;
  async function connectOne() {
    while (next < opts.sessions) {
      next++;
      let sid;
      const conn = new HttpConnection();
      try {
        sid = await pollingHandshake(conn);
      } catch {
        failed++;
        conn.close();
        continue;
      }
      const pending = new Map();
      let nextId = 0;
      const session = new PollingSession(sid, conn, (data) => {
        const id = Number.parseInt(data.slice(0, data.indexOf("|")), 10);
        const sentAt = pending.get(id);
        if (sentAt === undefined) return;
        pending.delete(id);
        record(sentAt);
        if (!stopped && opts.rate <= 0) sendOne();
      });
      const sendOne = () => {
        const id = nextId++;
        pending.set(id, performance.now());
        session.write(`4${textPayload(id)}`);
      };
      session.sendOne = sendOne;
      sessions.push(session);
    }
  }
  await Promise.all(Array.from({ length: Math.min(20, opts.sessions) }, () => connectOne()));
  if (sessions.length === 0) return { connected: 0, error: "no session connected" };
  mark("connected");
  for (const s of sessions) {
    s.start();
    if (opts.rate <= 0) for (let i = 0; i < opts.inflight; i++) s.sendOne();
  }
  if (opts.rate > 0) pace(sessions, (s) => s.sendOne(), () => stopped);
  const result = await measureWindow(() => ({ connected: sessions.length, failed }));
  stopped = true;
  await Promise.race([Promise.all(sessions.map((s) => s.close())), sleep(3000)]);
  return result;
}

async function handshakes() {
  // `sessions` workers, each in a loop: polling handshake, then a close packet.
  let stopped = false;
  async function worker() {
    const conn = new HttpConnection();
    while (!stopped) {
      const start = performance.now();
      try {
        const sid = await pollingHandshake(conn);
        const res = await conn.request("POST", `EIO=4&transport=polling&sid=${sid}`, "1");
        if (res.status !== 200) throw new Error(`close failed: ${res.status}`);
        record(start);
      } catch {
        stats.errors++;
        await sleep(10);
      }
    }
    conn.close();
  }
  mark("connected");
  const workers = Array.from({ length: opts.sessions }, () => worker());
  const result = await measureWindow(() => ({ connected: opts.sessions }));
  stopped = true;
  await Promise.race([Promise.all(workers), sleep(3000)]);
  return result;
}

// -- main ----------------------------------------------------------------------------

const SCENARIOS = {
  "ws-echo": () => wsEcho(false),
  "ws-binary-echo": () => wsEcho(true),
  "polling-echo": pollingEcho,
  handshake: handshakes,
  idle,
  broadcast,
  soak,
  cycles,
};

async function main() {
  const run = SCENARIOS[opts.scenario];
  if (!run) throw new Error(`unknown scenario ${opts.scenario}`);
  const deadline = setTimeout(() => {
    process.stdout.write(`RESULT ${JSON.stringify({ error: "timeout", ...opts })}\n`);
    process.exit(3);
  }, opts.timeout * 1000);
  const result = await run();
  clearTimeout(deadline);
  result.errors = stats.errors;
  result.disconnects = stats.disconnects;
  result.pings = stats.pings;
  result.scenario = opts.scenario;
  result.protocol = opts.protocol;
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  // Give the close frames a moment, then exit whatever is still open.
  setTimeout(() => process.exit(result.error ? 2 : 0), 300);
}

main().catch((err) => {
  process.stdout.write(`RESULT ${JSON.stringify({ error: String(err?.stack ?? err) })}\n`);
  process.exit(2);
});
