/** Resuming a session after a lost connection (PROTOCOL.md, "Resuming a session"), against scripted sockets. */

import assert from "node:assert/strict";
import { describe, it, type TestContext } from "node:test";

import { Client, FINGERPRINT } from "../examples/game/generated/protocol.js";
import {
  DEFAULT_SETTINGS,
  type ClientOptions,
  type ConnectInfo,
  decodeClientFrame,
  type DisconnectInfo,
  encodePing,
  encodeServerEvent,
  encodeSync,
  encodeWelcome,
  type NodelinkError,
  SyncFlag,
  REFUSALS_SUBPROTOCOL as REFUSALS,
} from "../src/index.js";
import { type FakeSocket, fakeWebSocket } from "./support.js";

const URL = "ws://127.0.0.1:5000/";
const TOKEN = "3f9a1c0e5b7d2468a0c4e6f8b1d3e5f7";
const NEXT_TOKEN = "9d2e4f6a8c0b1d3f5e7a9c1b3d5f7e9a";
const ADA = "1a2b3c4d";

function setup(t: TestContext, options: ClientOptions = {}) {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const { WebSocket, sockets } = fakeWebSocket();
  const client = new Client(URL, { WebSocket, reconnect: { initialDelayMs: 10, jitter: 0 }, ...options });
  const seen: string[] = [];
  const disconnects: DisconnectInfo[] = [];
  const pauses: DisconnectInfo[] = [];
  const resumes: ConnectInfo[] = [];
  const errors: NodelinkError[] = [];
  client.onConnect((info) => seen.push(`connect ${info.id}`));
  client.onDisconnect((info) => {
    disconnects.push(info);
    seen.push(`disconnect ${info.kind}`);
  });
  client.onPause((info) => {
    pauses.push(info);
    seen.push(`pause ${info.kind}`);
  });
  client.onResume((info) => {
    resumes.push(info);
    seen.push(`resume ${info.id}`);
  });
  client.onError((error) => errors.push(error));
  client.on("chat", ({ msg }) => seen.push(`chat ${msg}`));
  return { client, sockets, seen, disconnects, pauses, resumes, errors };
}

function chat(client: Client, msg: string): Uint8Array {
  return encodeServerEvent(client.protocol, "chat", { from: ADA, msg });
}

function snapshot(client: Client): Uint8Array {
  return encodeSync(client.protocol, { tick: 1, online: 1, flags: SyncFlag.Full, left: [], joined: [{ netId: 0, id: ADA }], players: [], server: null });
}

/** The chats the client sent on a socket. */
function chatsSent(client: Client, socket: FakeSocket): string[] {
  return socket.sent.flatMap((bytes) => {
    const frame = decodeClientFrame(client.protocol, bytes);
    return frame.kind === "event" && frame.event.name === "chat" ? [(frame.event.data as { msg: string }).msg] : [];
  });
}

/** Connects a client into a session with `TOKEN`, a mirror of one player, 2 chats received and 3 sent. */
function inSession(t: TestContext, options: ClientOptions = {}) {
  const setUp = setup(t, options);
  const { client, sockets } = setUp;
  void client.connect();
  const socket = sockets[0]!;
  socket.accept();
  socket.receive(encodeWelcome({ fingerprint: FINGERPRINT, id: ADA, netId: 0, tickRate: 20, resumeToken: TOKEN }));
  socket.receive(snapshot(client));
  socket.receive(chat(client, "s1"));
  socket.receive(encodePing(1, 0)); // answered with a pong, which is not counted
  socket.receive(chat(client, "s2"));
  for (const msg of ["c1", "c2", "c3"]) client.sendChat({ msg });
  return setUp;
}

describe("resuming a session", () => {
  it("offers the token after a lost connection, keeps the mirror, and re-sends what the server missed", (t: TestContext) => {
    const { client, sockets, seen, disconnects, pauses, resumes } = inSession(t);
    sockets[0]!.drop();
    assert.deepEqual(pauses.map((info) => info.kind), ["lost"]);
    assert.deepEqual(disconnects, [], "the session goes on");
    assert.equal(client.players.size, 1, "the mirror is kept");
    assert.equal(client.status, "reconnecting");
    client.sendChat({ msg: "c4" });

    t.mock.timers.tick(10);
    const socket = sockets[1]!;
    assert.deepEqual(socket.protocols, [`nodelink.3.${FINGERPRINT}`, `nodelink.resume.${TOKEN}.2.0`, REFUSALS]);
    socket.accept();
    // The server had read two of the three chats, and replays a chat the client missed.
    socket.receive(encodeWelcome({ fingerprint: FINGERPRINT, id: ADA, netId: 0, tickRate: 20, resumeToken: NEXT_TOKEN, resumed: 2 }));
    socket.receive(chat(client, "s3"));
    socket.receive(snapshot(client));
    assert.deepEqual(chatsSent(client, socket), ["c3", "c4"], "the one the server missed, then the one queued meanwhile");
    assert.deepEqual(resumes, [{ id: ADA, netId: 0, tickRate: 20, fingerprint: FINGERPRINT, settings: DEFAULT_SETTINGS, resumed: true }]);
    assert.equal(client.status, "open");
    assert.deepEqual(seen, ["connect 1a2b3c4d", "chat s1", "chat s2", "pause lost", "resume 1a2b3c4d", "chat s3"]);

    // The next resume names the new token and the counts so far: 3 received, 4 sent, all kept.
    socket.drop();
    t.mock.timers.tick(10);
    assert.deepEqual(sockets[2]!.protocols, [`nodelink.3.${FINGERPRINT}`, `nodelink.resume.${NEXT_TOKEN}.3.0`, REFUSALS]);
  });

  it("resumes after the server closed the connection as silent (4006), not after a shutdown (4001)", (t: TestContext) => {
    const silent = inSession(t);
    silent.sockets[0]!.serverClose(4006, "idle timeout");
    assert.deepEqual(silent.pauses.map((info) => info.kind === "closed" && info.code), [4006]);
    t.mock.timers.tick(10);
    assert.equal(silent.sockets[1]!.protocols?.length, 3, "offers the resume");

    t.mock.timers.reset();
    const stopping = inSession(t);
    stopping.sockets[0]!.serverClose(4001, "server shutting down");
    assert.deepEqual(stopping.pauses, []);
    assert.deepEqual(stopping.disconnects.map((info) => info.kind === "closed" && info.code), [4001]);
    assert.equal(stopping.client.players.size, 0);
    t.mock.timers.tick(10);
    assert.deepEqual(stopping.sockets[1]!.protocols, [`nodelink.3.${FINGERPRINT}`, REFUSALS], "a new session");
  });

  it("joins afresh at once, saying why, when the server refuses the resume", (t: TestContext) => {
    const { client, sockets, seen, disconnects } = inSession(t);
    sockets[0]!.drop();
    t.mock.timers.tick(10);
    sockets[1]!.accept();
    sockets[1]!.serverClose(4008, "session expired");
    assert.deepEqual(disconnects, [
      { kind: "closed", code: 4008, reason: "session expired", closeReason: { name: "SessionExpired", code: 4008, description: "session expired" } },
    ]);
    assert.equal(client.players.size, 0, "the mirror is emptied");
    assert.equal(sockets.length, 3, "a fresh attempt at once");
    assert.deepEqual(sockets[2]!.protocols, [`nodelink.3.${FINGERPRINT}`, REFUSALS]);
    sockets[2]!.accept();
    sockets[2]!.receive(encodeWelcome({ fingerprint: FINGERPRINT, id: "0badf00d", netId: 1, tickRate: 20, resumeToken: NEXT_TOKEN }));
    assert.deepEqual(seen.slice(-3), ["pause lost", "disconnect closed", "connect 0badf00d"]);
    assert.equal(client.id, "0badf00d");
  });

  it("stops after a resume refused because the player was kicked", (t: TestContext) => {
    const { client, sockets, disconnects } = inSession(t);
    sockets[0]!.drop();
    t.mock.timers.tick(10);
    sockets[1]!.accept();
    sockets[1]!.serverClose(4000, "kicked by the server");
    assert.deepEqual(disconnects.map((info) => info.kind === "closed" && info.code), [4000]);
    t.mock.timers.tick(60_000);
    assert.equal(sockets.length, 2);
    assert.equal(client.status, "disconnected");
  });

  it("ends the session when it gives up, for the reason the connection was lost", (t: TestContext) => {
    const { client, sockets, disconnects, pauses } = inSession(t, { reconnect: { initialDelayMs: 10, jitter: 0, maxAttempts: 2 } });
    sockets[0]!.drop("connection reset");
    t.mock.timers.tick(10);
    sockets[1]!.drop("ECONNREFUSED");
    t.mock.timers.tick(20);
    sockets[2]!.drop("ECONNREFUSED");
    assert.equal(pauses.length, 1);
    assert.deepEqual(disconnects, [{ kind: "lost", code: 1006, reason: "connection reset" }]);
    assert.equal(client.players.size, 0);
    assert.equal(client.status, "disconnected");
  });

  it("refuses a resume that would leave a gap, and joins afresh", (t: TestContext) => {
    const { client, sockets, disconnects, errors } = inSession(t, { resumeBufferLength: 1 });
    sockets[0]!.drop();
    t.mock.timers.tick(10);
    // Three sent, one kept: the offer says two are forgotten.
    assert.deepEqual(sockets[1]!.protocols, [`nodelink.3.${FINGERPRINT}`, `nodelink.resume.${TOKEN}.2.2`, REFUSALS]);
    // A server that resumed anyway, having read only one: the client cannot fill the gap.
    sockets[1]!.accept();
    sockets[1]!.receive(encodeWelcome({ fingerprint: FINGERPRINT, id: ADA, netId: 0, tickRate: 20, resumeToken: NEXT_TOKEN, resumed: 1 }));
    assert.deepEqual(disconnects.map((info) => info.kind), ["lost"]);
    assert.match(errors.at(-1)!.message, /after 1 of this client's events, but it sent 3 and keeps those after 2/);
    assert.equal(client.players.size, 0);
    // The second attempt in a row: after twice the delay.
    t.mock.timers.tick(20);
    assert.deepEqual(sockets[2]!.protocols, [`nodelink.3.${FINGERPRINT}`, REFUSALS], "a new session");
  });

  it("never resumes with resuming turned off, or without a token", (t: TestContext) => {
    const off = inSession(t, { reconnect: { initialDelayMs: 10, jitter: 0, resume: false } });
    off.sockets[0]!.drop();
    assert.deepEqual(off.pauses, []);
    assert.deepEqual(off.disconnects.map((info) => info.kind), ["lost"]);
    t.mock.timers.tick(10);
    assert.deepEqual(off.sockets[1]!.protocols, [`nodelink.3.${FINGERPRINT}`, REFUSALS]);

    t.mock.timers.reset();
    const { client, sockets, pauses } = setup(t);
    void client.connect();
    sockets[0]!.accept();
    sockets[0]!.receive(encodeWelcome({ fingerprint: FINGERPRINT, id: ADA, netId: 0, tickRate: 20 }));
    sockets[0]!.drop();
    assert.deepEqual(pauses, [], "a server without sessions");
    t.mock.timers.tick(10);
    assert.deepEqual(sockets[1]!.protocols, [`nodelink.3.${FINGERPRINT}`, REFUSALS]);
  });
});
