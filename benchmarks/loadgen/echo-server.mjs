// A plain WebSocket echo server in Node.js (ws): the fastest server at hand, used only
// to show how many messages per second the load generator itself can drive.
// node echo-server.mjs PORT
import http from "node:http";
import process from "node:process";
import { WebSocketServer } from "ws";

const server = http.createServer((req, res) => res.end("ok"));
const wss = new WebSocketServer({ server, path: "/ws", perMessageDeflate: false });
wss.on("connection", (ws) => {
  ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
});
server.listen(Number(process.argv[2]), "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
