/**
 * The repository's conformance vectors (`conformance/`, described in its README),
 * run against this client: every frame decoded (and encoded) as the files say,
 * every invalid one refused, every fingerprint computed, every refusal reported
 * from a real socket, every close code acted on as listed.
 */

import assert from "node:assert/strict";
import { createServer, type AddressInfo, type Server } from "node:net";
import { describe, it, type TestContext } from "node:test";

import { WebSocket } from "ws";

import {
  NodelinkClient as Client,
  closeReasonOf,
  compileProtocol,
  type CompiledProtocol,
  DecodeError,
  decodeClientFrame,
  decodeListing,
  decodeServerFrame,
  type DisconnectInfo,
  encodeClientEvent,
  encodeListing,
  encodePing,
  encodePong,
  encodeServerEvent,
  encodeSync,
  encodeWelcome,
  FingerprintHasher,
  fingerprintOf,
  eventsFingerprint,
  LISTING_FRAME,
  type MatchListing,
  type ProtocolSchema,
  ProtocolMismatchError,
  refusalOf,
  RefusedError,
  type Settings,
  stateFingerprint,
  subprotocol,
  type SyncFrame,
  type TypeExpr,
  typeFingerprint,
  type Welcome,
} from "../src/index.js";
import { Reader } from "../src/msgpack.js";
import { fakeWebSocket, fromHex, hex, readConformance, readConformanceSchema } from "./support.js";

// ---------------------------------------------------------------------------
// The vectors' meaning, from this client's decoded frames

/** The settings as `frames.json` lists them: the wire's keys. */
function settingsMeaning(settings: Settings): Record<string, number | string> {
  const out: Record<string, number | string> = {
    ping_interval_ms: settings.pingIntervalMs,
    idle_timeout_ms: settings.idleTimeoutMs,
    max_frame_len: settings.maxFrameLen,
    max_invalid_frames: settings.maxInvalidFrames,
    slow_consumer_timeout_ms: settings.slowConsumerTimeoutMs,
    resume_grace_ms: settings.resumeGraceMs,
    resume_buffer_len: settings.resumeBufferLen,
  };
  if (settings.rateLimit !== null) {
    out["rate_limit_per_second"] = settings.rateLimit.perSecond;
    out["rate_limit_burst"] = settings.rateLimit.burst;
    out["rate_limit_disconnect_after"] = settings.rateLimit.disconnectAfter;
  }
  if (settings.matchCode !== null) out["match_code"] = settings.matchCode;
  if (settings.matchKind !== null) out["match_kind"] = settings.matchKind;
  return out;
}

function welcomeMeaning(welcome: Welcome): object {
  return {
    kind: "welcome",
    wire_version: welcome.wireVersion,
    fingerprint: welcome.fingerprint,
    player_id: welcome.id,
    net_id: welcome.netId,
    tick_rate: welcome.tickRate,
    settings: settingsMeaning(welcome.settings),
    resume_token: welcome.resumeToken,
    received: welcome.resumed,
  };
}

function syncMeaning(sync: SyncFrame): object {
  const out: Record<string, unknown> = {
    kind: "sync",
    tick: sync.tick,
    online: sync.online,
    flags: sync.flags,
    left: sync.left,
    joined: sync.joined.map(({ netId, id }) => ({ net_id: netId, player_id: id })),
    players: sync.players.map(({ netId, fields }) => ({ net_id: netId, fields })),
    server: sync.server,
  };
  if (sync.despawned !== undefined) {
    out["despawned"] = sync.despawned;
    out["entities"] = sync.entities!.map(({ id, fields }) => ({ entity_id: id, fields }));
  }
  return out;
}

/** A listing as the vectors write it: each match's entry by the wire's names. */
function listingMeaning(listings: MatchListing<unknown>[]): object {
  return {
    kind: "listing",
    matches: listings.map(({ code, players, maxPlayers, locked, metadata }) => ({ code, players, max_players: maxPlayers, locked, metadata })),
  };
}

/** The kind of a server frame: its array's second element, after the length. */
function frameKind(bytes: Uint8Array): number {
  const reader = new Reader(bytes);
  reader.arrayLen();
  return reader.uint("frame kind");
}

/** An event's fields as the vectors write them: by name (unit: none). */
function eventFields(protocol: CompiledProtocol, name: string, data: unknown, direction: string): object {
  const events = direction === "client-to-server" ? protocol.toServer : protocol.toClient;
  const event = events.get(name)!;
  if (event.kind === "unit") return {};
  if (event.kind === "tuple") return Object.fromEntries((data as unknown[]).map((value, i) => [String(i), value]));
  return data as object;
}

/** An event's payload for this client's encoder, from the vectors' fields. */
function eventData(protocol: CompiledProtocol, name: string, fields: Record<string, unknown>, direction: string): unknown {
  const events = direction === "client-to-server" ? protocol.toServer : protocol.toClient;
  const event = events.get(name)!;
  if (event.kind === "unit") return undefined;
  if (event.kind === "tuple") return event.fields.map((_, i) => fields[String(i)]);
  return fields;
}

// ---------------------------------------------------------------------------
// Frames

interface FrameVector {
  name: string;
  protocol: string;
  direction: "server-to-client" | "client-to-server";
  hex: string;
  frame?: Record<string, any>;
  invalid?: string;
}

const protocols = new Map<string, CompiledProtocol>();
function protocolOf(name: string): CompiledProtocol {
  let protocol = protocols.get(name);
  if (protocol === undefined) {
    protocol = compileProtocol(readConformanceSchema(name));
    protocols.set(name, protocol);
  }
  return protocol;
}

/** What this client reads `vector` as, in the vectors' terms. */
function meaningOf(vector: FrameVector): object {
  const protocol = protocolOf(vector.protocol);
  const bytes = fromHex(vector.hex);
  if (vector.direction === "client-to-server") {
    const frame = decodeClientFrame(protocol, bytes);
    if (frame.kind === "pong") return { kind: "pong", seq: frame.seq };
    return { kind: "event", name: frame.event.name, fields: eventFields(protocol, frame.event.name, frame.event.data, vector.direction) };
  }
  // A listing is the whole answer to a listing request, not a frame of a
  // connection: the client reads it with its own decoder.
  if (frameKind(bytes) === LISTING_FRAME) return listingMeaning(decodeListing(protocol, bytes));
  const frame = decodeServerFrame(protocol, bytes);
  switch (frame.kind) {
    case "welcome":
      return welcomeMeaning(frame.welcome);
    case "event":
      return { kind: "event", name: frame.event.name, fields: eventFields(protocol, frame.event.name, frame.event.data, vector.direction) };
    case "sync":
      return syncMeaning(frame.sync);
    case "ping":
      return { kind: "ping", seq: frame.seq, rtt_us: frame.rttUs };
  }
}

/** The settings of a welcome's meaning, for this client's encoder. */
function settingsOf(meaning: Record<string, number> & { match_code?: string; match_kind?: string }): Settings {
  return {
    pingIntervalMs: meaning["ping_interval_ms"]!,
    idleTimeoutMs: meaning["idle_timeout_ms"]!,
    maxFrameLen: meaning["max_frame_len"]!,
    rateLimit:
      meaning["rate_limit_per_second"] === undefined
        ? null
        : { perSecond: meaning["rate_limit_per_second"], burst: meaning["rate_limit_burst"]!, disconnectAfter: meaning["rate_limit_disconnect_after"]! },
    maxInvalidFrames: meaning["max_invalid_frames"]!,
    slowConsumerTimeoutMs: meaning["slow_consumer_timeout_ms"]!,
    resumeGraceMs: meaning["resume_grace_ms"]!,
    resumeBufferLen: meaning["resume_buffer_len"]!,
    matchCode: meaning.match_code ?? null,
    matchKind: meaning.match_kind ?? null,
  };
}

/** What this client's encoders write for a valid vector's meaning. */
function encoded(vector: FrameVector): Uint8Array {
  const protocol = protocolOf(vector.protocol);
  const frame = vector.frame!;
  switch (frame["kind"]) {
    case "welcome":
      return encodeWelcome({
        fingerprint: frame["fingerprint"],
        id: frame["player_id"],
        netId: frame["net_id"],
        tickRate: frame["tick_rate"],
        settings: settingsOf(frame["settings"]),
        resumeToken: frame["resume_token"],
        resumed: frame["received"],
      });
    case "event": {
      const data = eventData(protocol, frame["name"], frame["fields"], vector.direction);
      return vector.direction === "client-to-server" ? encodeClientEvent(protocol, frame["name"], data) : encodeServerEvent(protocol, frame["name"], data);
    }
    case "sync":
      return encodeSync(protocol, {
        tick: frame["tick"],
        online: frame["online"],
        flags: frame["flags"],
        left: frame["left"],
        joined: frame["joined"].map((entry: any) => ({ netId: entry.net_id, id: entry.player_id })),
        players: frame["players"].map((entry: any) => ({ netId: entry.net_id, fields: entry.fields })),
        server: frame["server"] === null ? null : frame["server"],
        despawned: frame["despawned"],
        entities: frame["entities"]?.map((entry: any) => ({ id: entry.entity_id, fields: entry.fields })),
      });
    case "listing":
      return encodeListing(
        protocol,
        frame["matches"].map((entry: any) => ({ code: entry.code, players: entry.players, maxPlayers: entry.max_players, locked: entry.locked, metadata: entry.metadata })),
      );
    case "ping":
      return encodePing(frame["seq"], frame["rtt_us"]);
    case "pong":
      return encodePong(frame["seq"]);
    default:
      throw new Error(`no frame kind ${frame["kind"]}`);
  }
}

const frameFile = readConformance("frames.json") as { wire_version: number; frames: FrameVector[] };

describe("conformance: frames", () => {
  it("are of this client's wire version and cover every kind both ways, and invalid frames", () => {
    assert.equal(frameFile.wire_version, 3);
    const kinds = new Set(frameFile.frames.filter((v) => v.frame).map((v) => `${v.direction} ${v.frame!["kind"]}`));
    for (const kind of ["welcome", "event", "sync", "ping", "listing"]) assert.ok(kinds.has(`server-to-client ${kind}`), kind);
    for (const kind of ["event", "pong"]) assert.ok(kinds.has(`client-to-server ${kind}`), kind);
    assert.ok(frameFile.frames.some((v) => v.invalid !== undefined));
  });

  for (const vector of frameFile.frames) {
    if (vector.invalid !== undefined) {
      it(`refuses ${vector.name}: ${vector.invalid}`, () => {
        const protocol = protocolOf(vector.protocol);
        const bytes = fromHex(vector.hex);
        const decode = vector.direction === "client-to-server" ? () => decodeClientFrame(protocol, bytes) : () => decodeServerFrame(protocol, bytes);
        assert.throws(decode, (error: unknown) => error instanceof DecodeError || error instanceof ProtocolMismatchError);
      });
      continue;
    }
    it(`reads ${vector.name} as the file says`, () => {
      assert.deepEqual(meaningOf(vector), vector.frame);
    });
    // A key this client does not know cannot be written back: that vector is for decoders.
    if (vector.name === "welcome-unknown-setting") continue;
    it(`writes ${vector.name} byte for byte`, () => {
      assert.equal(hex(encoded(vector)), vector.hex);
    });
  }
});

// ---------------------------------------------------------------------------
// Fingerprints

interface FingerprintVector {
  protocol: string;
  schema: string;
  fingerprint: string;
  subprotocol: string;
  steps?: { expression: string; value: string }[];
}

/** Evaluates a step of a worked example (`H().str("f32").u64(3)`, `type(…)`, `state(state)`, …). */
function step(schema: ProtocolSchema, expression: string): bigint | undefined {
  if (expression.startsWith("H()")) {
    const hasher = new FingerprintHasher();
    for (const [, op, argument] of expression.slice(3).matchAll(/\.(u64|str)\(([^)]*)\)/g)) {
      if (op === "u64") hasher.u64(BigInt(argument!));
      else hasher.str(JSON.parse(argument!) as string);
    }
    return hasher.finish();
  }
  const type = /^type\((.*)\)$/.exec(expression);
  if (type) return typeFingerprint(schema, JSON.parse(type[1]!) as TypeExpr);
  const named: Record<string, () => bigint> = {
    "state(state)": () => stateFingerprint(schema, schema.state),
    "state(server_state)": () => stateFingerprint(schema, schema.server_state),
    "state(entity)": () => stateFingerprint(schema, schema.entity ?? null),
    "state(null)": () => stateFingerprint(schema, null),
    "events(to_server)": () => eventsFingerprint(schema, schema.to_server),
    "events(to_client)": () => eventsFingerprint(schema, schema.to_client),
    fingerprint: () => BigInt(`0x${fingerprintOf(schema)}`),
  };
  return named[expression]?.();
}

describe("conformance: fingerprints", () => {
  const file = readConformance("fingerprints.json") as { fingerprints: FingerprintVector[] };
  for (const vector of file.fingerprints) {
    it(`computes ${vector.protocol}'s fingerprint and offers its subprotocol`, () => {
      const schema = readConformanceSchema(vector.protocol);
      assert.equal(vector.schema, `schemas/${vector.protocol}.json`);
      assert.equal(fingerprintOf(schema), vector.fingerprint);
      assert.equal(schema.fingerprint, vector.fingerprint);
      assert.equal(subprotocol(vector.fingerprint), vector.subprotocol);
      for (const { expression, value } of vector.steps ?? []) {
        const computed = step(schema, expression);
        assert.notEqual(computed, undefined, `a step this test does not know: ${expression}`);
        assert.equal(computed!.toString(16).padStart(16, "0"), value, expression);
      }
    });
  }
});

// ---------------------------------------------------------------------------
// Handshakes

interface HandshakeVector {
  name: string;
  wire_formats: string;
  offer: string[];
  headers: [string, string][];
  response: { status: number; subprotocol?: string | null; reason?: string; headers?: [string, string][]; body?: string };
}

/** A TCP server that answers every request with `response` and closes. */
function answering(response: string): Promise<Server> {
  const server = createServer((socket) => {
    socket.once("data", () => socket.end(response));
    socket.on("error", () => {});
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

describe("conformance: handshakes", { timeout: 10_000 }, () => {
  const file = readConformance("handshake.json") as { protocol: string; handshakes: HandshakeVector[] };
  const schema = readConformanceSchema(file.protocol);

  it("offers the subprotocol the server echoes", () => {
    const native = file.handshakes.find((vector) => vector.name === "native")!;
    assert.deepEqual(native.offer, [subprotocol(schema.fingerprint)]);
    assert.equal(native.response.subprotocol, native.offer[0]);
  });

  for (const vector of file.handshakes.filter((vector) => vector.response.status !== 101)) {
    it(`reports the ${vector.name} refusal from a real socket`, async () => {
      const { status, reason, headers, body } = vector.response;
      const http = `HTTP/1.1 ${status} ${reason}\r\n${headers!.map(([name, value]) => `${name}: ${value}\r\n`).join("")}\r\n${body}`;
      const server = await answering(http);
      try {
        const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
        const client = new Client(schema, url, { WebSocket });
        client.onError(() => {});
        const fingerprint = headers!.find(([name]) => name === "x-nodelink-fingerprint")?.[1];
        await assert.rejects(client.connect(), (error: unknown) => {
          if (fingerprint !== undefined) {
            assert.ok(error instanceof ProtocolMismatchError, String(error));
            assert.equal(error.server, fingerprint);
            assert.equal(error.client, schema.fingerprint);
          } else {
            assert.ok(error instanceof RefusedError, String(error));
            assert.equal(error.status, status);
            assert.equal(error.reason, body);
            // The refusal's kind, named by its close code in a header.
            const named = headers!.find(([name]) => name === "x-nodelink-refusal")?.[1];
            assert.equal(error.refusal, named === undefined ? null : refusalOf(Number(named))!.name);
          }
          return true;
        });
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });
  }
});

// ---------------------------------------------------------------------------
// Close codes

interface CloseCodeVector {
  code: number;
  reason: string;
  when: string;
  resume: boolean;
  reconnect: boolean;
}

describe("conformance: close codes", () => {
  const file = readConformance("close-codes.json") as { close_codes: CloseCodeVector[] };
  const schema = readConformanceSchema("game");

  for (const vector of file.close_codes) {
    it(`knows ${vector.code} and ${vector.resume ? "resumes" : vector.reconnect ? "reconnects afresh" : "stays away"} after it`, (t: TestContext) => {
      assert.equal(closeReasonOf(vector.code)?.description, vector.reason);
      t.mock.timers.enable({ apis: ["setTimeout"] });
      const { WebSocket: Fake, sockets } = fakeWebSocket();
      const client = new Client(schema, "ws://127.0.0.1:5000/", { WebSocket: Fake, reconnect: { initialDelayMs: 10, jitter: 0 } });
      client.onError(() => {});
      const ended: DisconnectInfo[] = [];
      client.onDisconnect((info) => ended.push(info));
      void client.connect().catch(() => {});
      sockets[0]!.accept();
      const token = "3f9a1c0e5b7d2468a0c4e6f8b1d3e5f7";
      sockets[0]!.receive(encodeWelcome({ fingerprint: schema.fingerprint, id: "1a2b3c4d", netId: 0, tickRate: 20, resumeToken: token }));
      sockets[0]!.serverClose(vector.code, vector.reason);
      t.mock.timers.tick(10);
      const next = sockets[1];
      if (!vector.reconnect) {
        assert.equal(next, undefined, "no reconnection");
        return;
      }
      assert.ok(next !== undefined, "a reconnection");
      const resumes = (next.protocols as string[]).some((offer) => offer.startsWith("nodelink.resume."));
      assert.equal(resumes, vector.resume);
      void client.close();
    });
  }
});
