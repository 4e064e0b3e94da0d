/** The client over real WebSockets (the `ws` package), against a stand-in server. */

import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";

import { WebSocket, WebSocketServer } from "ws";

import { Client, FINGERPRINT } from "../examples/game/generated/protocol.js";
import {
  type ClientFrame,
  decodeClientFrame,
  encodePing,
  encodeServerEvent,
  encodeSync,
  encodeWelcome,
  ProtocolMismatchError,
  RefusedError,
  SyncFlag,
} from "../src/index.js";

/** A server that speaks the example protocol; `refuse` decides the upgrade. */
class StandIn {
  readonly server: WebSocketServer;
  refuse: { status: number; body: string; headers?: Record<string, string> } | null = null;
  private readonly waiting: ((socket: WebSocket) => void)[] = [];

  constructor() {
    this.server = new WebSocketServer({
      host: "127.0.0.1",
      port: 0,
      handleProtocols: (protocols) => (protocols.has(`nodelink.3.${FINGERPRINT}`) ? `nodelink.3.${FINGERPRINT}` : false),
      verifyClient: (_info, callback) => {
        if (this.refuse === null) callback(true);
        else callback(false, this.refuse.status, this.refuse.body, this.refuse.headers);
      },
    });
    this.server.on("connection", (socket) => this.waiting.shift()?.(socket));
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  /** The next connection. */
  accepted(): Promise<WebSocket> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  close(): Promise<void> {
    for (const socket of this.server.clients) socket.terminate();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** The frames a server socket receives, as promises in arrival order. */
function frames(client: Client, socket: WebSocket): () => Promise<ClientFrame> {
  const arrived: ClientFrame[] = [];
  const waiting: ((frame: ClientFrame) => void)[] = [];
  socket.on("message", (data: Buffer) => {
    const frame = decodeClientFrame(client.protocol, new Uint8Array(data));
    const next = waiting.shift();
    if (next) next(frame);
    else arrived.push(frame);
  });
  return () => {
    const frame = arrived.shift();
    return frame ? Promise.resolve(frame) : new Promise((resolve) => waiting.push(resolve));
  };
}

function once<T>(register: (resolve: (value: T) => void) => void): Promise<T> {
  return new Promise(register);
}

describe("over real WebSockets", { timeout: 10_000 }, () => {
  const standIn = new StandIn();
  before(() => once<void>((resolve) => standIn.server.once("listening", () => resolve())));
  after(() => standIn.close());

  it("connects, exchanges events, mirrors, answers pings and closes with 1000", async () => {
    const client = new Client(standIn.url, { WebSocket });
    client.sendChat({ msg: "queued before open" });
    const accepted = standIn.accepted();
    const connecting = client.connect();
    const socket = await accepted;
    assert.equal(socket.protocol, `nodelink.3.${FINGERPRINT}`);
    const next = frames(client, socket);
    const heard = once<unknown>((resolve) => client.onChat(resolve));
    const snapshot = once<void>((resolve) => client.onSnapshot(() => resolve()));

    socket.send(encodeWelcome({ fingerprint: FINGERPRINT, id: "1a2b3c4d", netId: 0, tickRate: 20 }));
    assert.equal((await connecting).id, "1a2b3c4d");
    assert.deepEqual(await next(), { kind: "event", event: { name: "chat", data: { msg: "queued before open" } } });

    socket.send(
      encodeSync(client.protocol, {
        tick: 1,
        online: 1,
        flags: SyncFlag.Full,
        left: [],
        joined: [{ netId: 0, id: "1a2b3c4d" }],
        players: [{ netId: 0, fields: { x: 1.5, y: -2, name: "ada" } }],
        server: { round: 1, time_left: 60, leader: "1a2b3c4d" },
      }),
    );
    await snapshot;
    assert.deepEqual(client.players.get("1a2b3c4d"), { x: 1.5, y: -2, name: "ada" });
    assert.equal(client.serverState.leader, "1a2b3c4d");

    socket.send(encodeServerEvent(client.protocol, "chat", { from: "1a2b3c4d", msg: "hello" }));
    assert.deepEqual(await heard, { from: "1a2b3c4d", msg: "hello" });

    socket.send(encodePing(3, 1_500));
    assert.deepEqual(await next(), { kind: "pong", seq: 3 });
    assert.equal(client.latencyMs, 1.5);

    client.sendMove({ x: 3, y: 4 });
    assert.deepEqual(await next(), { kind: "event", event: { name: "move", data: { x: 3, y: 4 } } });

    const closed = once<number>((resolve) => socket.on("close", (code) => resolve(code)));
    await client.close();
    assert.equal(await closed, 1000);
  });

  it("reports a fingerprint refusal with the server's fingerprint", async () => {
    standIn.refuse = {
      status: 400,
      body: `protocol mismatch: the client's fingerprint is ${FINGERPRINT}, the server's is 0123456789abcdef`,
      headers: { "x-nodelink-fingerprint": "0123456789abcdef" },
    };
    try {
      const client = new Client(standIn.url, { WebSocket, reconnect: true });
      const errors: unknown[] = [];
      client.onError((error) => errors.push(error));
      await assert.rejects(client.connect(), (error: unknown) => {
        assert.ok(error instanceof ProtocolMismatchError);
        assert.equal(error.client, FINGERPRINT);
        assert.equal(error.server, "0123456789abcdef");
        return true;
      });
      assert.equal(errors.length, 1);
      assert.equal(client.status, "disconnected", "no reconnection after a protocol mismatch");
    } finally {
      standIn.refuse = null;
    }
  });

  it("reports another refusal with its status and reason", async () => {
    standIn.refuse = { status: 503, body: "server full" };
    try {
      const client = new Client(standIn.url, { WebSocket });
      client.onError(() => {});
      await assert.rejects(client.connect(), (error: unknown) => {
        assert.ok(error instanceof RefusedError);
        assert.equal(error.status, 503);
        assert.equal(error.reason, "server full");
        assert.equal(error.message, "refused by the server: HTTP 503: server full");
        return true;
      });
    } finally {
      standIn.refuse = null;
    }
  });
});
