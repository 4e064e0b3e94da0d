/** Shared by the tests: fixtures, hex, PROTOCOL.md's frames, and a scriptable WebSocket. */

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { compileProtocol, type CompiledProtocol, type ProtocolSchema, validateSchema, type WebSocketLike } from "../src/index.js";

/** The package's directory (tests run from `dist/test`). */
export const packageRoot = fileURLToPath(new URL("../../", import.meta.url));

/** The repository's directory. */
export const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));

export function readSchema(relative: string): ProtocolSchema {
  return validateSchema(JSON.parse(readFileSync(`${packageRoot}${relative}`, "utf8")));
}

/** A file of the repository's conformance vectors (`conformance/`), parsed. */
export function readConformance(relative: string): any {
  return JSON.parse(readFileSync(`${repoRoot}conformance/${relative}`, "utf8"));
}

/** The schema of one of the conformance vectors' protocols (`conformance/schemas/<name>.json`). */
export function readConformanceSchema(name: string): ProtocolSchema {
  return validateSchema(readConformance(`schemas/${name}.json`));
}


/** A protocol using every type of the schema language. */
export const richSchema = readSchema("test/fixtures/rich.json");
export const richProtocol: CompiledProtocol = compileProtocol(richSchema);

/** The example game's schema, as the Rust side prints it (`cargo run --example schema`): the web game's, with its tables. */
export const gameSchema = readSchema("examples/game/schema.json");
export const gameProtocol: CompiledProtocol = compileProtocol(gameSchema);

/** PROTOCOL.md's example protocol (conformance/schemas/game.json): the example game. */
export const docGameSchema = readConformanceSchema("game");

const { options: _options, metadata: _metadata, types: docGameTypes, ...docGameParts } = docGameSchema;
const { Table: _table, ...docGameTypesWithoutTable } = docGameTypes;

/**
 * The example protocol without its matches' tables: its kind, state and events,
 * no options and no metadata (`()`). Its fingerprint is the one the Rust server
 * gave the example game before it had tables.
 */
export const docGameWithoutTables: ProtocolSchema = validateSchema({
  ...docGameParts,
  types: docGameTypesWithoutTable,
  fingerprint: "5f336d21e706eab4",
});

/**
 * A protocol with nested states, as the Rust side prints it: `Hero { x: f32, stats:
 * Stats, gear: Gear { weapon: String, stats: Stats }, #[sync(skip)] secret: u32 }`,
 * with `Stats { hp: u8, mana: u16 }` also the server state (nodelink/tests/nested.rs).
 */
export const nestedSchema = readSchema("test/fixtures/nested.json");
export const nestedProtocol: CompiledProtocol = compileProtocol(nestedSchema);

/** The example game without a server state (`()`), as in one of PROTOCOL.md's frames. */
export const noServerStateProtocol: CompiledProtocol = compileProtocol({ ...gameSchema, server_state: null });

export function hex(bytes: Uint8Array): string {
  return [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join(" ");
}

export function fromHex(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, "");
  if (digits.length % 2 !== 0 || /[^0-9a-f]/i.test(digits)) throw new Error(`not hex: ${text}`);
  return new Uint8Array(digits.match(/../g)!.map((pair) => Number.parseInt(pair, 16)));
}

/** PROTOCOL.md, from the repository. */
export const protocolDoc = readFileSync(`${repoRoot}PROTOCOL.md`, "utf8");

/** The bytes of a hex block, without its `#` comments. */
function hexBlock(body: string): Uint8Array {
  return fromHex(
    body
      .split("\n")
      .map((line) => line.replace(/#.*$/, ""))
      .join(" "),
  );
}

/** The hex frames of PROTOCOL.md, by the name in their `<!-- frame: name -->` marker. */
export function protocolDocFrames(): Map<string, Uint8Array> {
  const frames = new Map<string, Uint8Array>();
  const block = /<!-- frame: ([a-z0-9-]+) -->\s*```hex\n([\s\S]*?)```/g;
  for (const [, name, body] of protocolDoc.matchAll(block)) frames.set(name!, hexBlock(body!));
  return frames;
}

/** The rows of PROTOCOL.md's table of value encodings: each example and its bytes. */
export function protocolDocValues(): { example: string; bytes: Uint8Array }[] {
  const table = /<!-- values -->\n([\s\S]*?)<!-- \/values -->/.exec(protocolDoc);
  if (table === null) throw new Error("PROTOCOL.md has no <!-- values --> table");
  return table[1]!
    .split("\n")
    .filter((line) => line.startsWith("|") && !line.startsWith("|---") && !line.startsWith("| schema type"))
    .map((line) => {
      const cells = line.split("|").map((cell) => cell.trim());
      const example = cells[4]!.replace(/^`|`$/g, "");
      return { example, bytes: fromHex(cells[5]!.replace(/`/g, "")) };
    });
}

/** The lines of PROTOCOL.md's block of accepted value forms: the bytes and their comment. */
export function protocolDocAccepts(): { bytes: Uint8Array; comment: string }[] {
  const block = /<!-- accepts -->\s*```hex\n([\s\S]*?)```/.exec(protocolDoc);
  if (block === null) throw new Error("PROTOCOL.md has no <!-- accepts --> block");
  return block[1]!
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => ({ bytes: hexBlock(line), comment: line.replace(/^[^#]*#\s*/, "") }));
}

/** A worked example of the fingerprint in PROTOCOL.md (`example`, `quest`): each expression and its value. */
export function protocolDocFingerprints(name = "example"): { expression: string; value: bigint }[] {
  const block = new RegExp(`<!-- fingerprint: ${name} -->\\s*\`\`\`text\\n([\\s\\S]*?)\`\`\``).exec(protocolDoc);
  if (block === null) throw new Error(`PROTOCOL.md has no <!-- fingerprint: ${name} --> block`);
  return block[1]!
    .split("\n")
    .filter((line) => line.includes("="))
    .map((line) => {
      const at = line.lastIndexOf("=");
      return { expression: line.slice(0, at).trim(), value: BigInt(`0x${line.slice(at + 1).trim()}`) };
    });
}

/** A WebSocket the test drives: it records what the client sends and delivers what the test says. */
export class FakeSocket implements WebSocketLike {
  binaryType = "blob";
  readyState = 0;
  protocol = "";
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  readonly sent: Uint8Array[] = [];
  closedWith: { code: number | undefined; reason: string | undefined } | null = null;

  constructor(
    readonly url: string,
    readonly protocols?: string | string[],
  ) {}

  send(data: Uint8Array): void {
    if (this.readyState !== 1) throw new Error("send on a socket that is not open");
    this.sent.push(Uint8Array.from(data));
  }

  /** The client closes: the close handshake completes at once, as with a prompt server. */
  close(code?: number, reason?: string): void {
    if (this.closedWith !== null) return;
    this.closedWith = { code, reason };
    const wasOpen = this.readyState === 1;
    this.readyState = 2;
    queueMicrotask(() => {
      this.readyState = 3;
      this.onclose?.({ code: wasOpen ? (code ?? 1005) : 1006, reason: reason ?? "" });
    });
  }

  /** The server accepts the upgrade, selecting `protocol` (by default the first offered). */
  accept(protocol?: string): void {
    this.readyState = 1;
    this.protocol = protocol ?? (Array.isArray(this.protocols) ? (this.protocols[0] ?? "") : (this.protocols ?? ""));
    this.onopen?.({});
  }

  /** The server sends a binary message. */
  receive(bytes: Uint8Array): void {
    const copy = Uint8Array.from(bytes);
    this.onmessage?.({ data: copy.buffer });
  }

  /** The server closes with a close frame. */
  serverClose(code: number, reason: string): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  /** The connection breaks without a close frame. */
  drop(message = "connection reset"): void {
    this.readyState = 3;
    this.onerror?.({ message });
    this.onclose?.({ code: 1006, reason: "" });
  }
}

/** A WebSocket class whose instances the test can reach, in creation order. */
export function fakeWebSocket(): { WebSocket: new (url: string, protocols?: string | string[]) => FakeSocket; sockets: FakeSocket[] } {
  const sockets: FakeSocket[] = [];
  class Recorded extends FakeSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      sockets.push(this);
    }
  }
  return { WebSocket: Recorded, sockets };
}

/** Lets queued microtasks (promise callbacks, fake close events) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
}

/** The JSON of a `<!-- schema: name -->` block of PROTOCOL.md. */
function protocolDocSchema(name: string): Record<string, unknown> {
  const block = new RegExp(`<!-- schema: ${name} -->\\s*\`\`\`json\\n([\\s\\S]*?)\`\`\``).exec(protocolDoc);
  if (block === null) throw new Error(`PROTOCOL.md has no <!-- schema: ${name} --> block`);
  return JSON.parse(block[1]!) as Record<string, unknown>;
}

/**
 * PROTOCOL.md's `Quest` protocol, with nested states and `SyncMap`s: the example
 * protocol's schema with the `state` and `types` the document gives, and the
 * fingerprint its worked example computes.
 */
export const questSchema: ProtocolSchema = validateSchema({
  ...docGameWithoutTables,
  ...protocolDocSchema("quest"),
  fingerprint: protocolDocFingerprints("quest")
    .find((line) => line.expression === "fingerprint")!
    .value.toString(16)
    .padStart(16, "0"),
});
export const questProtocol: CompiledProtocol = compileProtocol(questSchema);

/**
 * PROTOCOL.md's `Depot` protocol: the example protocol with entities (`Crate { x: f32,
 * y: f32, kind: u8 }`), as the Rust side prints it (conformance/schemas/depot.json).
 */
export const depotSchema = readConformanceSchema("depot");
export const depotProtocol: CompiledProtocol = compileProtocol(depotSchema);

/** PROTOCOL.md's `Bestiary` protocol: entities of two kinds, `monster` and `loot`. */
export const bestiaryProtocol: CompiledProtocol = compileProtocol(readConformanceSchema("bestiary"));

/**
 * PROTOCOL.md's `Market` protocol: the example protocol with the player state
 * `Trader { x: f32, #[sync(owner)] gold: u32 }` and no server state, as the Rust
 * side prints it (conformance/schemas/market.json).
 */
export const marketSchema = readConformanceSchema("market");
export const marketProtocol: CompiledProtocol = compileProtocol(marketSchema);

/**
 * PROTOCOL.md's `Duel` protocol: the example protocol with the player state
 * `Fighter { hits: SyncDeque<u16> }` (a capacity of 3), as the Rust side prints it
 * (conformance/schemas/duel.json).
 */
export const duelSchema = readConformanceSchema("duel");
export const duelProtocol: CompiledProtocol = compileProtocol(duelSchema);

/** A protocol without any state (`type State = ()`): every player entry is `[net_id, 0]`. */
export const lobbyProtocol: CompiledProtocol = compileProtocol(readConformanceSchema("lobby"));
