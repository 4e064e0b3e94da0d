/**
 * A client of any protocol, driven by tests/snapshots.rs against the real Rust
 * server: it mirrors the world and reports each complete snapshot on stdout, one
 * JSON object per line: how many sync frames it took, and a summary of the entities
 * mirrored (their count, the sum of their `x`, how many have `kind` equal to `x`
 * modulo 7).
 *
 * Usage: node dist/test/e2e/snapshot-client.js <ws-url> <schema.json>
 *
 * Commands on stdin: {"cmd": "exit"}.
 */

import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";

import { WebSocket } from "ws";

import { NodelinkClient, type ProtocolTypes, validateSchema, type WebSocketConstructor } from "../../src/index.js";

function report(kind: string, details: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ kind, ...details })}\n`);
}

const [url, schemaPath] = process.argv.slice(2);
const schema = validateSchema(JSON.parse(readFileSync(schemaPath!, "utf8")));

interface Crate {
  x: number;
  kind: number;
}

const client = new NodelinkClient<ProtocolTypes & { entity: Crate }>(schema, url!, {
  WebSocket: WebSocket as unknown as WebSocketConstructor,
  reconnect: false,
});

// Frames since the last `full` one.
let frames = 0;
client.onStateSync((sync) => {
  frames = sync.full ? 1 : frames + 1;
});
client.onSnapshot(() => {
  let sumX = 0;
  let kindsRight = 0;
  for (const crate of client.entities.values()) {
    sumX += crate.x;
    if (crate.kind === crate.x % 7) kindsRight += 1;
  }
  report("snapshot", { frames, entities: client.entities.size, sum_x: sumX, kinds_right: kindsRight });
});
client.onError((error) => report("error", { message: error.message }));

client.connect().catch((error: unknown) => report("connect_failed", { message: String(error) }));

createInterface({ input: process.stdin }).on("line", (line) => {
  const cmd = JSON.parse(line) as { cmd: string };
  if (cmd.cmd === "exit") {
    void client.close().then(() => process.exit(0));
  }
});
