import assert from "node:assert/strict";
import { describe, it, type TestContext } from "node:test";

import { Client, FINGERPRINT } from "../examples/game/generated/protocol.js";
import {
  ConnectError,
  DEFAULT_SETTINGS,
  type ClientOptions,
  decodeClientFrame,
  type DisconnectInfo,
  DecodeError,
  EncodeError,
  encodePing,
  encodeServerEvent,
  encodeSync,
  encodeWelcome,
  HandlerError,
  HandshakeError,
  type NodelinkError,
  ProtocolMismatchError,
  QueueFullError,
  StoppedError,
  SyncFlag,
  type SyncFrame,
  UnknownNetIdError,
  UrlError,
  REFUSALS_SUBPROTOCOL as REFUSALS,
} from "../src/index.js";
import { type FakeSocket, fakeWebSocket, settle } from "./support.js";

const URL = "ws://127.0.0.1:5000/";

function setup(options: ClientOptions = {}) {
  const { WebSocket, sockets } = fakeWebSocket();
  const client = new Client(URL, { WebSocket, ...options });
  const errors: NodelinkError[] = [];
  const disconnects: DisconnectInfo[] = [];
  client.onError((error) => errors.push(error));
  client.onDisconnect((info) => disconnects.push(info));
  return { client, sockets, errors, disconnects };
}

function welcome(socket: FakeSocket, id = "1a2b3c4d", netId = 0, fingerprint = FINGERPRINT): void {
  socket.accept();
  socket.receive(encodeWelcome({ fingerprint, id, netId, tickRate: 20 }));
}

function sync(client: Client, frame: Partial<SyncFrame>): Uint8Array {
  return encodeSync(client.protocol, { tick: 1, online: 0, flags: 0, left: [], joined: [], players: [], server: null, ...frame });
}

/** What the client sent on a socket, decoded. */
function sent(client: Client, socket: FakeSocket): unknown[] {
  return socket.sent.map((bytes) => {
    const frame = decodeClientFrame(client.protocol, bytes);
    return frame.kind === "event" ? [frame.event.name, frame.event.data] : ["pong", frame.seq];
  });
}

describe("sending", () => {
  it("queues events before the connection opens and sends them first, in order", async () => {
    const { client, sockets } = setup();
    client.sendMove({ x: 1, y: 2 });
    client.send("chat", { msg: "hi" });
    client.sendReady();
    assert.equal(client.queued, 3);
    assert.equal(sockets.length, 0, "nothing opens before connect()");

    const connecting = client.connect();
    const socket = sockets[0]!;
    assert.equal(socket.url, URL);
    assert.deepEqual(socket.protocols, [`nodelink.3.${FINGERPRINT}`, REFUSALS]);
    socket.accept();
    assert.deepEqual(socket.sent, [], "events wait for the welcome");
    socket.receive(encodeWelcome({ fingerprint: FINGERPRINT, id: "1a2b3c4d", netId: 3, tickRate: 20 }));
    const info = await connecting;
    assert.deepEqual(info, { id: "1a2b3c4d", netId: 3, tickRate: 20, fingerprint: FINGERPRINT, settings: DEFAULT_SETTINGS, resumed: false });
    assert.deepEqual(client.settings, DEFAULT_SETTINGS);
    assert.equal(client.id, "1a2b3c4d");
    assert.equal(client.status, "open");
    assert.deepEqual(sent(client, socket), [
      ["move", { x: 1, y: 2 }],
      ["chat", { msg: "hi" }],
      ["ready", undefined],
    ]);
    assert.equal(client.queued, 0);

    client.sendChat({ msg: "now" });
    assert.deepEqual(sent(client, socket).at(-1), ["chat", { msg: "now" }], "sent at once once connected");
  });

  it("refuses an event when the queue is full, keeping what it holds", () => {
    const { client } = setup({ sendQueueLength: 2 });
    client.sendReady();
    client.sendReady();
    assert.throws(
      () => client.sendChat({ msg: "third" }),
      (error: unknown) => error instanceof QueueFullError && error.capacity === 2 && error.message === "send queue is full (2 frames)",
    );
    assert.equal(client.queued, 2);
  });

  it("refuses a payload that does not fit the schema, at send", () => {
    const { client } = setup();
    assert.throws(
      () => client.send("move", { x: "1", y: 2 } as never),
      (error: unknown) => error instanceof EncodeError && error.message === 'cannot encode event `move`: field `x`: expected a number (f32), found the string "1"',
    );
    assert.equal(client.queued, 0);
  });
});

describe("receiving", () => {
  it("answers a ping at once and exposes the measured round trip", async () => {
    const { client, sockets } = setup();
    void client.connect();
    welcome(sockets[0]!);
    await settle();
    assert.equal(client.latencyMs, null);
    const measured: number[] = [];
    client.onLatency((ms) => measured.push(ms));
    sockets[0]!.receive(encodePing(7, 0));
    assert.deepEqual(sent(client, sockets[0]!), [["pong", 7]]);
    assert.equal(client.latencyMs, null, "0 means not measured yet");
    sockets[0]!.receive(encodePing(8, 35_000));
    assert.deepEqual(sent(client, sockets[0]!), [
      ["pong", 7],
      ["pong", 8],
    ]);
    assert.equal(client.latencyMs, 35);
    assert.deepEqual(measured, [35]);
  });

  it("mirrors sync frames and signals a multi-frame snapshot's completion once", async () => {
    const { client, sockets } = setup();
    const syncs: [boolean, boolean, boolean, number][] = [];
    let snapshots = 0;
    client.onStateSync((frame, world) => syncs.push([frame.full, frame.more, frame.snapshotComplete, world.players.size]));
    client.onSnapshot((world) => {
      snapshots += 1;
      assert.equal(world.complete, true);
    });
    void client.connect();
    const socket = sockets[0]!;
    welcome(socket);
    socket.receive(
      sync(client, {
        flags: SyncFlag.Full | SyncFlag.More,
        online: 2,
        joined: [{ netId: 0, id: "1a2b3c4d" }],
        players: [{ netId: 0, fields: { x: 1, y: 2, name: "me" } }],
        server: { round: 1, time_left: 60, leader: null },
      }),
    );
    assert.equal(client.world.complete, false);
    socket.receive(sync(client, { online: 2, joined: [{ netId: 1, id: "00c0ffee" }], players: [{ netId: 1, fields: { x: 5, y: 6, name: "bob" } }] }));
    socket.receive(sync(client, { tick: 2, online: 2, players: [{ netId: 1, fields: { x: 7 } }], server: { leader: "00c0ffee" } }));
    assert.deepEqual(syncs, [
      [true, true, false, 1],
      [false, false, true, 2],
      [false, false, false, 2],
    ]);
    assert.equal(snapshots, 1);
    assert.equal(client.online, 2);
    assert.deepEqual(client.players.get("00c0ffee"), { x: 7, y: 6, name: "bob" });
    assert.deepEqual(client.serverState, { round: 1, time_left: 60, leader: "00c0ffee" });
  });

  it("calls each event's handlers with its payload, and onEvent with every event", async () => {
    const { client, sockets } = setup();
    const chats: unknown[] = [];
    const all: unknown[] = [];
    const off = client.onChat((event) => chats.push(event));
    client.onEvent((event) => all.push(event));
    void client.connect();
    const socket = sockets[0]!;
    welcome(socket);
    socket.receive(encodeServerEvent(client.protocol, "chat", { from: "00c0ffee", msg: "hello" }));
    socket.receive(encodeServerEvent(client.protocol, "joined", { id: "00c0ffee" }));
    off();
    socket.receive(encodeServerEvent(client.protocol, "chat", { from: "00c0ffee", msg: "unheard" }));
    assert.deepEqual(chats, [{ from: "00c0ffee", msg: "hello" }]);
    assert.deepEqual(all, [
      { type: "chat", data: { from: "00c0ffee", msg: "hello" } },
      { type: "joined", data: { id: "00c0ffee" } },
      { type: "chat", data: { from: "00c0ffee", msg: "unheard" } },
    ]);
  });

  it("reports a handler that throws and goes on", async () => {
    const { client, sockets, errors } = setup();
    const heard: string[] = [];
    client.onChat(() => {
      throw new Error("boom");
    });
    client.onChat(({ msg }) => heard.push(msg));
    void client.connect();
    welcome(sockets[0]!);
    sockets[0]!.receive(encodeServerEvent(client.protocol, "chat", { from: "00c0ffee", msg: "still heard" }));
    assert.deepEqual(heard, ["still heard"]);
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof HandlerError);
    assert.equal(errors[0].message, "chat handler threw: boom");
  });

  it("reports undecodable frames and unknown net ids, and stays connected", async () => {
    const { client, sockets, errors } = setup();
    void client.connect();
    const socket = sockets[0]!;
    welcome(socket);
    socket.receive(new Uint8Array([0x91, 0x09]));
    socket.onmessage?.({ data: "text" });
    socket.receive(sync(client, { players: [{ netId: 9, fields: { x: 1 } }] }));
    assert.deepEqual(
      errors.map((error) => error.constructor.name),
      [DecodeError.name, DecodeError.name, UnknownNetIdError.name],
    );
    assert.equal(errors[1]!.message, "cannot decode message: expected a binary message, found text");
    assert.equal(client.status, "open");
  });
});

describe("connecting", () => {
  it("refuses a server with another fingerprint, naming both, and does not reconnect", async (t: TestContext) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const { client, sockets, errors } = setup({ reconnect: true });
    const connecting = client.connect();
    welcome(sockets[0]!, "1a2b3c4d", 0, "0123456789abcdef");
    await assert.rejects(connecting, (error: unknown) => {
      assert.ok(error instanceof ProtocolMismatchError);
      assert.equal(error.client, FINGERPRINT);
      assert.equal(error.server, "0123456789abcdef");
      assert.equal(error.message, `protocol mismatch: this client's fingerprint is ${FINGERPRINT}, the server's is 0123456789abcdef`);
      return true;
    });
    assert.equal(sockets[0]!.closedWith?.code, 1000);
    assert.equal(errors.length, 1);
    t.mock.timers.tick(60_000);
    assert.equal(sockets.length, 1);
    assert.equal(client.status, "disconnected");
  });

  it("refuses a welcome of another wire version", async () => {
    const { client, sockets } = setup();
    const connecting = client.connect();
    sockets[0]!.accept();
    sockets[0]!.receive(new Uint8Array([0x96, 0x00, 0x04, 0x00, 0x00, 0x00, 0x14]));
    await assert.rejects(connecting, (error: unknown) => error instanceof ProtocolMismatchError && error.serverWireVersion === 4);
  });

  it("refuses a first frame that is not a welcome", async () => {
    const { client, sockets } = setup();
    const connecting = client.connect();
    sockets[0]!.accept();
    sockets[0]!.receive(encodePing(1, 0));
    await assert.rejects(connecting, (error: unknown) => error instanceof HandshakeError && error.message === "handshake failed: the first frame was a ping frame, not a welcome");
  });

  it("gives up after the connect timeout, whether or not the socket opened", async (t: TestContext) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const { client, sockets } = setup({ connectTimeoutMs: 500 });
    const first = client.connect();
    t.mock.timers.tick(500);
    await assert.rejects(first, (error: unknown) => error instanceof ConnectError && error.message === `cannot connect to ${URL}: timed out after 500 ms`);
    assert.equal(sockets[0]!.closedWith?.code, 1000);
    const second = client.connect();
    sockets[1]!.accept();
    t.mock.timers.tick(500);
    await assert.rejects(second, (error: unknown) => error instanceof HandshakeError && error.message === "handshake failed: no welcome within 500 ms");
  });

  it("reports a connection that cannot be opened", async () => {
    const { client, sockets, errors } = setup();
    const connecting = client.connect();
    sockets[0]!.drop("ECONNREFUSED");
    await assert.rejects(connecting, (error: unknown) => error instanceof ConnectError && error.message === `cannot connect to ${URL}: ECONNREFUSED`);
    assert.equal(errors.length, 1);
    assert.equal(client.status, "disconnected");
  });

  it("checks the URL and the WebSocket class at construction", () => {
    const { WebSocket } = fakeWebSocket();
    assert.throws(() => new Client("http://localhost:5000/", { WebSocket }), (error: unknown) => error instanceof UrlError && /expected ws or wss/.test(error.message));
    assert.throws(() => new Client("not a url", { WebSocket }), UrlError);
    if ((globalThis as { WebSocket?: unknown }).WebSocket === undefined) {
      assert.throws(() => new Client(URL), (error: unknown) => error instanceof ConnectError && /no WebSocket class/.test(error.message));
    }
  });
});

describe("disconnecting", () => {
  it("closes with code 1000, reports a local disconnect, and stops", async () => {
    const { client, sockets, disconnects } = setup({ reconnect: true });
    void client.connect();
    welcome(sockets[0]!);
    await client.close();
    assert.deepEqual(sockets[0]!.closedWith, { code: 1000, reason: undefined });
    assert.deepEqual(disconnects, [{ kind: "local" }]);
    assert.equal(client.status, "closed");
    assert.throws(() => client.sendReady(), StoppedError);
    await assert.rejects(client.connect(), StoppedError);
    assert.equal(sockets.length, 1);
  });

  it("names the server's close reason and does not come back after a kick", async (t: TestContext) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const { client, sockets, disconnects } = setup({ reconnect: { initialDelayMs: 10 } });
    void client.connect();
    welcome(sockets[0]!);
    sockets[0]!.receive(sync(client, { flags: SyncFlag.Full, online: 1, joined: [{ netId: 0, id: "1a2b3c4d" }] }));
    assert.equal(client.players.size, 1);
    sockets[0]!.serverClose(4000, "kicked by the server");
    assert.deepEqual(disconnects, [
      { kind: "closed", code: 4000, reason: "kicked by the server", closeReason: { name: "Kicked", code: 4000, description: "kicked by the server" } },
    ]);
    assert.equal(client.players.size, 0, "the mirror is emptied");
    t.mock.timers.tick(60_000);
    assert.equal(sockets.length, 1);
    assert.equal(client.status, "disconnected");
  });

  it("reconnects with growing delays, sends what was queued meanwhile, and rebuilds the mirror", async (t: TestContext) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const { client, sockets, disconnects, errors } = setup({
      reconnect: { initialDelayMs: 100, maxDelayMs: 300, jitter: 0.5, maxAttempts: 5 },
      random: () => 0.5,
    });
    const delays: [number, number][] = [];
    const connects: string[] = [];
    client.onReconnecting((attempt, delay) => delays.push([attempt, delay]));
    client.onConnect(({ id }) => connects.push(id));
    void client.connect();
    welcome(sockets[0]!);
    sockets[0]!.receive(
      sync(client, {
        flags: SyncFlag.Full,
        online: 2,
        joined: [
          { netId: 0, id: "1a2b3c4d" },
          { netId: 1, id: "00c0ffee" },
        ],
      }),
    );
    assert.equal(client.players.size, 2);

    sockets[0]!.drop();
    assert.equal(disconnects[0]?.kind, "lost");
    assert.equal(client.players.size, 0);
    assert.equal(client.status, "reconnecting");
    client.sendChat({ msg: "while away" });

    // Attempt 1 after 100 × 0.75 ms; it fails to open.
    t.mock.timers.tick(74);
    assert.equal(sockets.length, 1);
    t.mock.timers.tick(1);
    assert.equal(sockets.length, 2);
    sockets[1]!.drop("ECONNREFUSED");
    // Attempt 2 after 200 × 0.75 ms; it fails too.
    t.mock.timers.tick(150);
    sockets[2]!.drop("ECONNREFUSED");
    // Attempt 3 after min(400, 300) × 0.75 ms succeeds, as another player.
    t.mock.timers.tick(225);
    welcome(sockets[3]!, "0badf00d", 1);
    assert.deepEqual(delays, [
      [1, 75],
      [2, 150],
      [3, 225],
    ]);
    assert.deepEqual(connects, ["1a2b3c4d", "0badf00d"]);
    assert.deepEqual(
      errors.map((error) => error.message),
      [`cannot connect to ${URL}: ECONNREFUSED`, `cannot connect to ${URL}: ECONNREFUSED`],
    );
    assert.deepEqual(sent(client, sockets[3]!), [["chat", { msg: "while away" }]]);
    sockets[3]!.receive(sync(client, { flags: SyncFlag.Full, online: 1, joined: [{ netId: 1, id: "0badf00d" }] }));
    assert.deepEqual([...client.players.keys()], ["0badf00d"]);

    // The count starts again after a successful connection.
    sockets[3]!.drop();
    assert.deepEqual(delays.at(-1), [1, 75]);
  });

  it("gives up after the last attempt and rejects connect()", async (t: TestContext) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const { client, sockets } = setup({ reconnect: { initialDelayMs: 10, jitter: 0, maxAttempts: 2 } });
    const connecting = client.connect();
    sockets[0]!.drop("ECONNREFUSED");
    t.mock.timers.tick(10);
    sockets[1]!.drop("ECONNREFUSED");
    t.mock.timers.tick(20);
    sockets[2]!.drop("ECONNREFUSED");
    await assert.rejects(connecting, ConnectError);
    t.mock.timers.tick(60_000);
    assert.equal(sockets.length, 3);
    assert.equal(client.status, "disconnected");
  });
});
