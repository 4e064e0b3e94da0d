/**
 * Refusals told with close codes (PROTOCOL.md, "Refusals a browser can read"), the
 * relay's close codes, and the client's statistics, against a scripted WebSocket
 * that, like a browser's, cannot show a refused upgrade's HTTP response.
 */

import assert from "node:assert/strict";
import { describe, it, type TestContext } from "node:test";

import { Client, FINGERPRINT } from "../examples/game/generated/protocol.js";
import {
  type ClientOptions,
  type DisconnectInfo,
  encodePing,
  encodeServerEvent,
  encodeSync,
  encodeWelcome,
  type NodelinkError,
  ProtocolMismatchError,
  RefusalCode,
  RefusedError,
  REFUSALS_SUBPROTOCOL,
  SyncFlag,
  type SyncFrame,
} from "../src/index.js";
import { FakeSocket, fakeWebSocket } from "./support.js";

const URL = "ws://127.0.0.1:5000/";
const TOKEN = "3f9a1c0e5b7d2468a0c4e6f8b1d3e5f7";
const OTHER = "0123456789abcdef";

function setup(t: TestContext, options: ClientOptions = {}) {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const { WebSocket, sockets } = fakeWebSocket();
  const client = new Client(URL, { WebSocket, reconnect: { initialDelayMs: 10, jitter: 0, maxAttempts: 3 }, ...options });
  const errors: NodelinkError[] = [];
  const disconnects: DisconnectInfo[] = [];
  const pauses: DisconnectInfo[] = [];
  const attempts: number[] = [];
  client.onError((error) => errors.push(error));
  client.onDisconnect((info) => disconnects.push(info));
  client.onPause((info) => pauses.push(info));
  client.onReconnecting((attempt) => attempts.push(attempt));
  return { client, sockets, errors, disconnects, pauses, attempts };
}

/** The server refuses `socket` as it refuses a client that offered the marker. */
function refuse(socket: FakeSocket, code: number, reason: string): void {
  socket.accept(REFUSALS_SUBPROTOCOL);
  socket.serverClose(code, reason);
}

function sync(client: Client, frame: Partial<SyncFrame>): Uint8Array {
  return encodeSync(client.protocol, { tick: 1, online: 1, flags: 0, left: [], joined: [], players: [], server: null, ...frame });
}

describe("refusals told with a close code", () => {
  it("are asked for where the WebSocket cannot read HTTP responses, and not with Node's `ws`", (t: TestContext) => {
    const { client, sockets } = setup(t);
    void client.connect().catch(() => {});
    assert.deepEqual(sockets[0]!.protocols, [`nodelink.3.${FINGERPRINT}`, REFUSALS_SUBPROTOCOL]);

    // An EventEmitter, as `ws`'s WebSocket is: it shows the HTTP refusal itself.
    const offered: (string | string[] | undefined)[] = [];
    class WsLike extends FakeSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols);
        offered.push(protocols);
      }
      on(): this {
        return this;
      }
    }
    void new Client(URL, { WebSocket: WsLike }).connect().catch(() => {});
    assert.deepEqual(offered, [[`nodelink.3.${FINGERPRINT}`]]);
  });

  it("reads a protocol mismatch with both fingerprints, and does not retry", async (t: TestContext) => {
    const { client, sockets, errors, attempts } = setup(t);
    const connecting = client.connect();
    refuse(sockets[0]!, RefusalCode.ProtocolMismatch, `protocol mismatch: server fingerprint ${OTHER}, client fingerprint ${FINGERPRINT}`);
    const error = await connecting.then(
      () => assert.fail("connected"),
      (error: unknown) => error,
    );
    assert.ok(error instanceof ProtocolMismatchError);
    assert.deepEqual([error.client, error.server, error.name], [FINGERPRINT, OTHER, "ProtocolMismatchError"]);
    assert.ok(error.message.includes(FINGERPRINT) && error.message.includes(OTHER), error.message);
    assert.deepEqual(errors, [error]);
    t.mock.timers.tick(60_000);
    assert.equal(sockets.length, 1, "no second attempt");
    assert.deepEqual(attempts, []);
    assert.equal(client.status, "disconnected");
  });

  it("reads a wire version the server does not speak", async (t: TestContext) => {
    const { client, sockets } = setup(t);
    const connecting = client.connect();
    refuse(sockets[0]!, RefusalCode.WireVersion, `unsupported nodelink wire version: this server speaks nodelink.3.${OTHER}`);
    const error = await connecting.catch((error: unknown) => error);
    assert.ok(error instanceof ProtocolMismatchError);
    assert.deepEqual([error.server, error.serverWireVersion], [OTHER, 3]);
  });

  for (const [name, code, status, reason] of [
    ["OriginNotAllowed", RefusalCode.OriginNotAllowed, 403, "origin https://elsewhere.example is not allowed"],
    ["Unauthorized", RefusalCode.Unauthorized, 401, "no such ticket"],
    ["Forbidden", RefusalCode.Forbidden, 403, "you are banned"],
    ["WireNotServed", RefusalCode.WireNotServed, 400, "this server speaks only the JSON wire: connect without the nodelink subprotocol"],
    ["MalformedResume", RefusalCode.MalformedResume, 400, "malformed resume offer"],
  ] as const) {
    it(`reads ${name} (${code}) as a RefusedError with its kind, and does not retry`, async (t: TestContext) => {
      const { client, sockets, attempts } = setup(t);
      const connecting = client.connect();
      refuse(sockets[0]!, code, reason);
      const error = await connecting.catch((error: unknown) => error);
      assert.ok(error instanceof RefusedError);
      assert.deepEqual([error.refusal, error.status, error.reason, error.retryable], [name, status, reason, false]);
      assert.equal(error.message, `refused by the server (${name}): ${reason}`);
      t.mock.timers.tick(60_000);
      assert.equal(sockets.length, 1);
      assert.deepEqual(attempts, []);
    });
  }

  it("retries a full server, then gives up with its reason", async (t: TestContext) => {
    const { client, sockets, attempts, errors } = setup(t);
    const connecting = client.connect();
    const failed = connecting.catch((error: unknown) => error);
    for (let i = 0; i < 4; i += 1) {
      refuse(sockets[i]!, RefusalCode.ServerFull, "server full");
      t.mock.timers.tick(60_000);
    }
    const error = await failed;
    assert.ok(error instanceof RefusedError);
    assert.deepEqual([error.refusal, error.status, error.retryable], ["ServerFull", 503, true]);
    assert.equal(sockets.length, 4, "the first attempt and three more");
    assert.deepEqual(attempts, [1, 2, 3]);
    assert.equal(errors.length, 4);
  });

  it("retries too many connections from the address, and gets in", async (t: TestContext) => {
    const { client, sockets, attempts } = setup(t);
    const connecting = client.connect();
    refuse(sockets[0]!, RefusalCode.TooManyConnections, "too many connections from your address");
    t.mock.timers.tick(10);
    sockets[1]!.accept();
    sockets[1]!.receive(encodeWelcome({ fingerprint: FINGERPRINT, id: "1a2b3c4d", netId: 0, tickRate: 20 }));
    assert.equal((await connecting).id, "1a2b3c4d");
    assert.deepEqual(attempts, [1]);
  });

  it("ends a session whose resume is refused by the authentication hook", async (t: TestContext) => {
    const { client, sockets, disconnects, pauses } = setup(t);
    void client.connect();
    sockets[0]!.accept();
    sockets[0]!.receive(encodeWelcome({ fingerprint: FINGERPRINT, id: "1a2b3c4d", netId: 0, tickRate: 20, resumeToken: TOKEN }));
    sockets[0]!.drop();
    assert.equal(pauses.length, 1);
    t.mock.timers.tick(10);
    assert.equal(sockets[1]!.protocols?.length, 3, "offers the resume and the marker");
    refuse(sockets[1]!, RefusalCode.Unauthorized, "the ticket expired");
    assert.equal(disconnects.length, 1, "the session is over");
    t.mock.timers.tick(60_000);
    assert.equal(sockets.length, 2);
    assert.equal(client.status, "disconnected");
  });
});

describe("a relay's close codes", () => {
  function playing(t: TestContext) {
    const setUp = setup(t, { reconnect: { initialDelayMs: 10, jitter: 0 } });
    void setUp.client.connect();
    const socket = setUp.sockets[0]!;
    socket.accept();
    socket.receive(encodeWelcome({ fingerprint: FINGERPRINT, id: "1a2b3c4d", netId: 0, tickRate: 20, resumeToken: TOKEN }));
    return setUp;
  }

  it("resumes after 4101 host connection lost: the host holds the player", (t: TestContext) => {
    const { sockets, pauses, disconnects } = playing(t);
    sockets[0]!.serverClose(4101, "host connection lost");
    assert.deepEqual(pauses, [{ kind: "closed", code: 4101, reason: "host connection lost", closeReason: { name: "HostConnectionLost", code: 4101, description: "host connection lost" } }]);
    assert.deepEqual(disconnects, []);
    t.mock.timers.tick(10);
    assert.ok((sockets[1]!.protocols as string[]).some((offer) => offer.startsWith(`nodelink.resume.${TOKEN}.`)));
  });

  for (const [code, name, reason] of [
    [4100, "HostGone", "host gone"],
    [4103, "RelayShutdown", "relay shutting down"],
  ] as const) {
    it(`stops after ${code} ${reason}: the game code is gone`, (t: TestContext) => {
      const { client, sockets, pauses, disconnects, attempts } = playing(t);
      sockets[0]!.serverClose(code, reason);
      assert.deepEqual(pauses, []);
      assert.deepEqual(disconnects, [{ kind: "closed", code, reason, closeReason: { name, code, description: reason } }]);
      t.mock.timers.tick(60_000);
      assert.equal(sockets.length, 1, "no attempt into an unknown game code");
      assert.deepEqual(attempts, []);
      assert.equal(client.status, "disconnected");
    });
  }
});

describe("client.stats", () => {
  it("counts what arrives by kind, what leaves, resumes and reconnects, byte for byte", (t: TestContext) => {
    const { client, sockets } = setup(t, { reconnect: { initialDelayMs: 10, jitter: 0 } });
    assert.deepEqual(client.stats, {
      eventsReceived: 0,
      eventBytesReceived: 0,
      syncFramesReceived: 0,
      syncBytesReceived: 0,
      snapshotFramesReceived: 0,
      snapshotBytesReceived: 0,
      otherFramesReceived: 0,
      otherBytesReceived: 0,
      framesSent: 0,
      bytesSent: 0,
      resumes: 0,
      reconnects: 0,
    });
    client.sendChat({ msg: "queued" });
    void client.connect();
    const first = sockets[0]!;
    first.accept();
    const welcome = encodeWelcome({ fingerprint: FINGERPRINT, id: "1a2b3c4d", netId: 0, tickRate: 20, resumeToken: TOKEN });
    first.receive(welcome);
    // A snapshot in two frames, then a tick's changes, then one more snapshot of one frame.
    const snapshot = [
      sync(client, { flags: SyncFlag.Full | SyncFlag.More, joined: [{ netId: 0, id: "1a2b3c4d" }] }),
      sync(client, { flags: 0, joined: [{ netId: 1, id: "5e6f7081" }] }),
    ];
    const changes = sync(client, { tick: 2, players: [{ netId: 1, fields: { x: 1.5 } }] });
    const again = sync(client, { tick: 3, flags: SyncFlag.Full, joined: [{ netId: 0, id: "1a2b3c4d" }] });
    const chat = encodeServerEvent(client.protocol, "chat", { from: "5e6f7081", msg: "hello" });
    const ping = encodePing(7, 0);
    for (const frame of [...snapshot, changes, again, chat, chat, ping]) first.receive(frame);
    client.sendMove({ x: 1, y: 2 });
    const bytes = (frames: Uint8Array[]) => frames.reduce((n, frame) => n + frame.byteLength, 0);
    const sentSoFar = bytes(first.sent);
    assert.equal(first.sent.length, 3, "the queued chat, the pong, the move");
    assert.deepEqual(client.stats, {
      eventsReceived: 2,
      eventBytesReceived: 2 * chat.byteLength,
      syncFramesReceived: 1,
      syncBytesReceived: changes.byteLength,
      snapshotFramesReceived: 3,
      snapshotBytesReceived: bytes([...snapshot, again]),
      otherFramesReceived: 2,
      otherBytesReceived: welcome.byteLength + ping.byteLength,
      framesSent: 3,
      bytesSent: sentSoFar,
      resumes: 0,
      reconnects: 0,
    });

    // Lost, then resumed: the server read one of the two events; the other goes again.
    first.drop();
    t.mock.timers.tick(10);
    sockets[1]!.accept();
    const resumed = encodeWelcome({ fingerprint: FINGERPRINT, id: "1a2b3c4d", netId: 0, tickRate: 20, resumeToken: TOKEN, resumed: 1 });
    sockets[1]!.receive(resumed);
    const stats = client.stats;
    assert.deepEqual([stats.resumes, stats.reconnects, stats.framesSent], [1, 1, 4]);
    assert.equal(stats.bytesSent, sentSoFar + bytes(sockets[1]!.sent));
    assert.equal(stats.otherBytesReceived, welcome.byteLength + ping.byteLength + resumed.byteLength);
  });
});
