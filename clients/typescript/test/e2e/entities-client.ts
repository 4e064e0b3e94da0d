/**
 * A client of any protocol with entities, driven by tests/entity_kinds.rs
 * against the real Rust server: after each sync it reports the entities it
 * mirrors, each as the client holds it, on stdout as one JSON object per line
 * (`{"kind": "entities", "entities": {"<id>": value}}`).
 *
 * Usage: node dist/test/e2e/entities-client.js <ws-url> <schema.json>
 *
 * Commands on stdin: {"cmd": "send", "event": name, "data": payload},
 * {"cmd": "exit"}.
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

/** Any protocol: events by name, each with a payload the schema checks. */
type Types = ProtocolTypes & { entity: Record<string, unknown>; toServer: Record<string, unknown> };

const client = new NodelinkClient<Types>(schema, url!, {
  WebSocket: WebSocket as unknown as WebSocketConstructor,
  reconnect: false,
});

client.onStateSync(() => {
  report("entities", { entities: Object.fromEntries(client.entities) });
});
client.onError((error) => report("error", { message: error.message }));

client
  .connect()
  .then(() => report("connect"))
  .catch((error: unknown) => report("connect_failed", { message: String(error) }));

createInterface({ input: process.stdin }).on("line", (line) => {
  const cmd = JSON.parse(line) as { cmd: string; event?: string; data?: unknown };
  if (cmd.cmd === "send") {
    client.send(cmd.event!, cmd.data);
  } else if (cmd.cmd === "exit") {
    void client.close().then(() => process.exit(0));
  }
});
