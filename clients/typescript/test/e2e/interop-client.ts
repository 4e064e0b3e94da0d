/**
 * The generated example client, driven by tests/typescript_client.rs against the real
 * Rust server: it reads commands from stdin and reports what it sees on stdout, one
 * JSON object per line.
 *
 * Usage: node dist/test/e2e/interop-client.js <ws-url> [--other-protocol] [--browser-like]
 *          [--create=<title> | --create-private=<title> | --find=<title> | --join=<code>] [--kind=<name>]
 *
 * `--other-protocol` builds the client from the example schema with one more event,
 * so its fingerprint differs from the server's. `--browser-like` hands the client a
 * WebSocket that, like a browser's, shows nothing of a refused upgrade's HTTP
 * response (the `ws` package's, wrapped), so the client asks for refusals as close
 * codes. `--create`, `--create-private`, `--find` (a table with this title) and
 * `--join` (a match code) make the client with the generated `Client.create`,
 * `createPrivate`, `find` and `join`; without them it asks for the server's default
 * match. `--kind` names another kind of match (the same protocol otherwise).
 *
 * Commands: {"cmd": "send", "event": name, "data": payload}, {"cmd": "connect"},
 * {"cmd": "list"} (the server's listed tables), {"cmd": "status"}, {"cmd": "stats"},
 * {"cmd": "exit"}.
 * Reports: connect, connect_failed, sync, snapshot, event, latency, disconnect,
 * pause, resume, reconnecting, error, send_failed, listing, list_failed, status,
 * stats; each with `kind` and its details.
 */

import { createInterface } from "node:readline";

import { WebSocket } from "ws";

import { Client, type Protocol, schema } from "../../examples/game/generated/protocol.js";
import {
  fingerprintOf,
  listMatches,
  MatchRequest,
  type NodelinkError,
  NodelinkClient,
  type ProtocolSchema,
  type WebSocketConstructor,
  type WebSocketLike,
} from "../../src/index.js";

function report(kind: string, details: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ kind, ...details }, (_key, value: unknown) => {
    if (value instanceof Map) return Object.fromEntries(value);
    if (typeof value === "bigint") return value.toString();
    return value === undefined ? null : value;
  });
  process.stdout.write(`${line}\n`);
}

function errorDetails(error: unknown): Record<string, unknown> {
  const details: Record<string, unknown> = { message: error instanceof Error ? error.message : String(error) };
  if (error instanceof Error && "kind" in error) {
    const nodelink = error as NodelinkError & Record<string, unknown>;
    details.error = nodelink.kind;
    for (const field of ["client", "server", "status", "reason", "refusal", "netId", "handler"]) {
      if (field in nodelink) details[field] = nodelink[field];
    }
  }
  return details;
}

/** The example schema with one more event: another protocol, with its own fingerprint. */
function otherProtocol(): ProtocolSchema {
  const events = [...schema.to_server.events, { name: "extra", kind: "unit" as const, fields: [] }];
  const other = { ...schema, to_server: { ...schema.to_server, events } };
  return { ...other, fingerprint: fingerprintOf(other) };
}

/** The `ws` package's WebSocket behind the plain WebSocket API, without its events: as a browser's. */
class BrowserLikeWebSocket implements WebSocketLike {
  readonly #socket: WebSocket;

  constructor(url: string, protocols?: string | string[]) {
    this.#socket = new WebSocket(url, protocols);
  }

  get binaryType(): string {
    return this.#socket.binaryType;
  }
  set binaryType(type: string) {
    this.#socket.binaryType = type as WebSocket["binaryType"];
  }
  get readyState(): number {
    return this.#socket.readyState;
  }
  get protocol(): string {
    return this.#socket.protocol;
  }
  get onopen(): WebSocketLike["onopen"] {
    return this.#socket.onopen as WebSocketLike["onopen"];
  }
  set onopen(handler: WebSocketLike["onopen"]) {
    this.#socket.onopen = handler;
  }
  get onmessage(): WebSocketLike["onmessage"] {
    return this.#socket.onmessage as WebSocketLike["onmessage"];
  }
  set onmessage(handler: WebSocketLike["onmessage"]) {
    this.#socket.onmessage = handler;
  }
  get onerror(): WebSocketLike["onerror"] {
    return this.#socket.onerror as WebSocketLike["onerror"];
  }
  set onerror(handler: WebSocketLike["onerror"]) {
    this.#socket.onerror = handler;
  }
  get onclose(): WebSocketLike["onclose"] {
    return this.#socket.onclose as WebSocketLike["onclose"];
  }
  set onclose(handler: WebSocketLike["onclose"]) {
    this.#socket.onclose = handler;
  }
  send(data: Uint8Array<ArrayBuffer>): void {
    this.#socket.send(data);
  }
  close(code?: number, reason?: string): void {
    this.#socket.close(code, reason);
  }
}

const [url, ...flags] = process.argv.slice(2);
if (url === undefined) {
  process.stderr.write("usage: interop-client.js <ws-url> [--other-protocol] [--browser-like] [--create=<title> | --create-private=<title> | --find=<title> | --join=<code>] [--kind=<name>]\n");
  process.exit(2);
}

/** The value of `--name=value`, if given. */
function flag(name: string): string | undefined {
  const prefix = `--${name}=`;
  return flags.find((given) => given.startsWith(prefix))?.slice(prefix.length);
}

const WebSocketClass: WebSocketConstructor = flags.includes("--browser-like") ? BrowserLikeWebSocket : WebSocket;
const options = { WebSocket: WebSocketClass, reconnect: { initialDelayMs: 100 } };
const kind = flag("kind");
// The other protocol's types are the example's: only its fingerprint (or its kind) matters here.
const mine: ProtocolSchema = flags.includes("--other-protocol") ? otherProtocol() : kind !== undefined ? { ...schema, kind } : schema;

/** The client, made as the flags say: with the generated calls for the example's own schema. */
function makeClient(): NodelinkClient<Protocol> {
  const [create, createPrivate, find, join] = ["create", "create-private", "find", "join"].map(flag);
  if (mine === schema) {
    if (create !== undefined) return Client.create(url!, { title: create }, options);
    if (createPrivate !== undefined) return Client.createPrivate(url!, { title: createPrivate }, options);
    if (find !== undefined) return Client.find(url!, { title: find }, options);
    if (join !== undefined) return Client.join(url!, join, options);
    return new Client(url!, options);
  }
  let target = url!;
  if (create !== undefined) target = MatchRequest.create(mine, { title: create }).apply(target);
  if (createPrivate !== undefined) target = MatchRequest.create(mine, { title: createPrivate }, true).apply(target);
  if (find !== undefined) target = MatchRequest.find(mine, { title: find }).apply(target);
  if (join !== undefined) target = MatchRequest.join(join).apply(target);
  return new NodelinkClient<Protocol>(mine, target, options);
}

const client = makeClient();

client.onConnect((info) =>
  report("connect", {
    id: info.id,
    net_id: info.netId,
    tick_rate: info.tickRate,
    fingerprint: info.fingerprint,
    match_code: client.matchCode,
    match_kind: client.matchKind,
  }),
);
client.onResume((info) => report("resume", { id: info.id, net_id: info.netId, match_code: client.matchCode }));
client.onPause((info) =>
  report("pause", { how: info.kind, code: info.kind === "local" ? null : info.code, reason: info.kind === "local" ? null : info.reason }),
);
client.onStateSync((sync, world) =>
  report("sync", {
    tick: sync.tick,
    online: sync.online,
    full: sync.full,
    more: sync.more,
    joined: sync.joined,
    left: sync.left,
    changes: sync.changes,
    server: sync.server,
    world: world.players,
    server_state: world.serverState,
  }),
);
client.onSnapshot((world) => report("snapshot", { online: world.online, world: world.players, server_state: world.serverState }));
client.onEvent((event) => report("event", { type: event.type, data: event.data }));
client.onLatency((ms) => report("latency", { ms }));
client.onDisconnect((info) =>
  report("disconnect", {
    how: info.kind,
    code: info.kind === "local" ? null : info.code,
    reason: info.kind === "local" ? null : info.reason,
    close_reason: info.kind === "closed" ? (info.closeReason?.name ?? null) : null,
  }),
);
client.onReconnecting((attempt, delayMs) => report("reconnecting", { attempt, delay_ms: delayMs }));
client.onError((error) => report("error", errorDetails(error)));

const send = client.send as (name: string, data?: unknown) => void;

async function command(line: string): Promise<void> {
  const cmd = JSON.parse(line) as { cmd: string; event?: string; data?: unknown };
  switch (cmd.cmd) {
    case "send":
      try {
        send.call(client, cmd.event!, cmd.data ?? undefined);
      } catch (error) {
        report("send_failed", errorDetails(error));
      }
      return;
    case "connect":
      client.connect().catch((error: unknown) => report("connect_failed", errorDetails(error)));
      return;
    case "list":
      try {
        const listOptions = { WebSocket: WebSocketClass };
        const matches = await (mine === schema ? Client.list(url!, listOptions) : listMatches<{ title: string }>(mine, url!, listOptions));
        report("listing", {
          matches: matches.map((match) => ({ code: match.code, players: match.players, max_players: match.maxPlayers, locked: match.locked, metadata: match.metadata })),
        });
      } catch (error) {
        report("list_failed", errorDetails(error));
      }
      return;
    case "status":
      report("status", {
        status: client.status,
        online: client.online,
        latency_ms: client.latencyMs,
        queued: client.queued,
        url: client.url,
        match_code: client.matchCode,
        match_kind: client.matchKind,
      });
      return;
    case "stats":
      report("stats", { ...client.stats });
      return;
    case "exit":
      await client.close();
      process.exit(0);
    default:
      report("error", { message: `unknown command ${line}` });
  }
}

// Commands run one after another, in the order they arrive.
let queue = Promise.resolve();
createInterface({ input: process.stdin }).on("line", (line) => {
  queue = queue.then(() => command(line));
});
process.stdin.on("end", () => {
  queue = queue.then(async () => {
    await client.close();
    process.exit(0);
  });
});
