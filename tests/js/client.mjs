// Scriptable Engine.IO client for the end-to-end tests.
//
//   node tests/js/client.mjs '<json options>'
//
// Options: {url, protocol: 4|3, transports, upgrade, path, extraHeaders, query,
//           forceBase64, packets (also report every received/sent packet), lifetimeMs}
// Protocol 4 uses engine.io-client 6.x, protocol 3 uses engine.io-client 3.5.x (npm alias "eio3").
//
// stdin:  newline-delimited JSON commands
//   {"cmd":"send","text":"..."} | {"cmd":"send","binary":"<base64>"} | {"cmd":"close"} | {"cmd":"exit"}
// stdout: newline-delimited JSON events, one per line, e.g.
//   {"event":"open","sid":"...","transport":"polling","upgrades":["websocket"],"pingInterval":25000,...}
//   {"event":"message","text":"hi"} | {"event":"message","binary":"AQID"} | {"event":"close",...}
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { Socket as SocketV4 } from "engine.io-client";

const require = createRequire(import.meta.url);
const startedAt = Date.now();

/** Write one event as a JSON line (stdout is a pipe: writes are synchronous on POSIX). */
function emit(event) {
  process.stdout.write(JSON.stringify({ ...event, ts: Date.now() - startedAt }) + "\n");
}

/** String form of an engine.io-client close description / error (Error, TransportError, object, ...). */
function describe(value) {
  if (value === undefined || value === null) return null;
  if (typeof value === "string") return value;
  if (value instanceof Error) {
    const extra = value.description !== undefined ? ` (${describe(value.description)})` : "";
    return `${value.message}${extra}`;
  }
  if (typeof value === "object" && "description" in value) return describe(value.description);
  if (typeof value === "object" && "message" in value) return String(value.message);
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

function toBase64(data) {
  if (Buffer.isBuffer(data)) return data.toString("base64");
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString("base64");
  if (ArrayBuffer.isView(data)) {
    return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64");
  }
  return null;
}

/** Event payload for message/packet data: {text} for strings, {binary} (base64) otherwise. */
function dataFields(data) {
  if (data === undefined) return {};
  if (typeof data === "string") return { text: data };
  const b64 = toBase64(data);
  return b64 === null ? { text: String(data) } : { binary: b64 };
}

let options;
try {
  options = JSON.parse(process.argv[2] ?? "{}");
} catch (err) {
  emit({ event: "error", message: `bad options JSON: ${err.message}` });
  process.exit(2);
}
const protocol = Number(options.protocol ?? 4);
const clientOpts = {
  transports: options.transports ?? ["polling", "websocket"],
  upgrade: options.upgrade ?? true,
  path: options.path ?? "/engine.io/",
  query: options.query ?? {},
  forceBase64: options.forceBase64 ?? false,
};
if (options.extraHeaders) clientOpts.extraHeaders = options.extraHeaders;

let exiting = false;
let closed = false;

function exitNow(code = 0) {
  process.exit(code);
}

// Hard bound on the process lifetime, whatever the test harness does.
setTimeout(() => {
  emit({ event: "error", message: "client lifetime exceeded, exiting" });
  exitNow(3);
}, options.lifetimeMs ?? 120000).unref();

process.on("uncaughtException", (err) => {
  emit({ event: "error", message: `uncaught: ${describe(err)}`, uncaught: true });
});
process.on("unhandledRejection", (err) => {
  emit({ event: "error", message: `unhandled rejection: ${describe(err)}`, uncaught: true });
});

let socket;
if (protocol === 3) {
  const eio3 = require("eio3");
  socket = eio3(options.url, clientOpts);
} else if (protocol === 4) {
  socket = new SocketV4(options.url, clientOpts);
} else {
  emit({ event: "error", message: `unsupported protocol ${protocol}` });
  exitNow(2);
}

let handshake = {};
socket.on("handshake", (data) => {
  handshake = data;
});
socket.on("open", () => {
  emit({
    event: "open",
    sid: socket.id,
    transport: socket.transport.name,
    // the server's own list (the client filters it against its transports)
    upgrades: handshake.upgrades,
    pingInterval: handshake.pingInterval,
    pingTimeout: handshake.pingTimeout,
    ...(handshake.maxPayload !== undefined ? { maxPayload: handshake.maxPayload } : {}),
  });
});
socket.on("upgrading", (transport) => emit({ event: "upgrading", transport: transport.name }));
socket.on("upgrade", (transport) => emit({ event: "upgrade", transport: transport.name }));
socket.on("upgradeError", (err) =>
  emit({ event: "upgradeError", message: describe(err), transport: err?.transport ?? null }),
);
socket.on("message", (data) => emit({ event: "message", ...dataFields(data) }));
// v4 (client 6.x): "ping" when a server ping arrives (it also emits "pong" then: not forwarded).
// v3 (client 3.5): "ping" once the client's own ping is flushed, "pong" when the server answers.
socket.on("ping", () => emit({ event: "ping" }));
if (protocol === 3) socket.on("pong", () => emit({ event: "pong" }));
socket.on("error", (err) => {
  const code = err?.code;
  emit({ event: "error", message: describe(err), ...(code !== undefined ? { code } : {}) });
});
socket.on("close", (reason, description) => {
  closed = true;
  emit({ event: "close", reason: String(reason), description: describe(description) });
  if (exiting) exitNow(0);
});
if (options.packets) {
  socket.on("packet", (p) => emit({ event: "packet", type: p.type, ...dataFields(p.data) }));
  socket.on("packetCreate", (p) =>
    emit({ event: "packetCreate", type: p.type, ...dataFields(p.data) }),
  );
}

function requestExit() {
  if (exiting) return;
  exiting = true;
  if (closed || socket.readyState === "closed") exitNow(0);
  socket.close();
  // close() waits for a pending upgrade/drain: bound it.
  setTimeout(() => exitNow(0), 3000).unref();
}

function handleCommand(line) {
  if (!line.trim()) return;
  let command;
  try {
    command = JSON.parse(line);
  } catch (err) {
    emit({ event: "error", message: `bad command JSON: ${err.message}` });
    return;
  }
  switch (command.cmd) {
    case "send":
      if (typeof command.binary === "string") {
        socket.send(Buffer.from(command.binary, "base64"));
      } else {
        socket.send(String(command.text ?? ""));
      }
      break;
    case "close":
      socket.close();
      break;
    case "exit":
      requestExit();
      break;
    default:
      emit({ event: "error", message: `unknown command: ${line}` });
  }
}

const rl = createInterface({ input: process.stdin, terminal: false });
rl.on("line", handleCommand);
rl.on("close", requestExit);
