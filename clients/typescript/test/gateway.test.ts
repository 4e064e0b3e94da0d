/**
 * A client through a gateway (PROTOCOL.md, "Through a gateway"): after 4105 "game
 * process lost" it repeats its original request, never the dead match's code; a
 * request by code it made itself (a resume, a rejoin) refused with 4211 falls back
 * to its original request; a join by code whose match is gone gives up with a typed
 * refusal; 4216 "directory unavailable" is retried. Against a scripted WebSocket,
 * then over real WebSockets with a stand-in gateway.
 */

import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it, type TestContext } from "node:test";

import { WebSocket, WebSocketServer } from "ws";

import { Client, FINGERPRINT } from "../examples/game/generated/protocol.js";
import {
  CloseCode,
  closeReasonOf,
  DEFAULT_SETTINGS,
  type DisconnectInfo,
  encodeWelcome,
  MatchRequest,
  type NodelinkError,
  RefusalCode,
  refusalOf,
  RefusedError,
  REFUSALS_SUBPROTOCOL,
  type Settings,
} from "../src/index.js";
import { type FakeSocket, fakeWebSocket, gameSchema } from "./support.js";

const URL = "ws://127.0.0.1:5000/";
const TOKEN = "3f9a1c0e5b7d2468a0c4e6f8b1d3e5f7";
const CODE = "K7MQ4P";
const TABLE = { title: "ada's table" };
const LOST = { kind: "closed", code: 4105, reason: "game process lost", closeReason: { name: "GameProcessLost", code: 4105, description: "game process lost" } };

function inMatch(code: string): Settings {
  return { ...DEFAULT_SETTINGS, matchCode: code, matchKind: "game" };
}

function welcome(socket: FakeSocket, code: string, resumed: number | null = null): void {
  socket.accept();
  socket.receive(encodeWelcome({ fingerprint: gameSchema.fingerprint, id: "1a2b3c4d", netId: 0, tickRate: 20, settings: inMatch(code), resumeToken: TOKEN, resumed }));
}

function query(socket: FakeSocket): string {
  return new globalThis.URL(socket.url).search;
}

function offersResume(socket: FakeSocket): boolean {
  return (socket.protocols as string[]).some((offer) => offer.startsWith("nodelink.resume."));
}

function setup(t: TestContext, make: (options: ConstructorParameters<typeof Client>[1]) => Client) {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const { WebSocket: Fake, sockets } = fakeWebSocket();
  const client = make({ WebSocket: Fake, reconnect: { initialDelayMs: 10, jitter: 0, maxAttempts: 3 } });
  const errors: NodelinkError[] = [];
  const disconnects: DisconnectInfo[] = [];
  client.onError((error) => errors.push(error));
  client.onDisconnect((info) => disconnects.push(info));
  return { client, sockets, errors, disconnects };
}

describe("close code 4105 and refusal 4216", () => {
  it("are named, described and typed", () => {
    assert.equal(CloseCode.GameProcessLost, 4105);
    assert.deepEqual(closeReasonOf(4105), { name: "GameProcessLost", code: 4105, description: "game process lost" });
    assert.equal(RefusalCode.DirectoryUnavailable, 4216);
    assert.deepEqual(refusalOf(4216), { name: "DirectoryUnavailable", code: 4216, status: 503, retryable: true });
    const refused = new RefusedError(503, "the service's directory is unavailable: try again shortly", "DirectoryUnavailable");
    assert.ok(refused.retryable);
  });
});

describe("a client whose game process is lost (4105)", () => {
  it("that created a match creates another: no resume, not the dead code", (t: TestContext) => {
    const { client, sockets, disconnects } = setup(t, (options) => Client.create(URL, TABLE, options));
    void client.connect();
    const created = MatchRequest.create(gameSchema, TABLE).apply(URL);
    assert.equal(sockets[0]!.url, created);
    welcome(sockets[0]!, CODE);
    sockets[0]!.serverClose(4105, "game process lost");
    assert.deepEqual(disconnects, [LOST]);
    t.mock.timers.tick(10);
    assert.equal(sockets[1]!.url, created, "its original request");
    assert.ok(!offersResume(sockets[1]!), "the session died with the process");
    welcome(sockets[1]!, "Q2XW9H");
    assert.equal(client.matchCode, "Q2XW9H");
    // The new match is the one to come back to.
    sockets[1]!.drop();
    t.mock.timers.tick(10);
    assert.equal(query(sockets[2]!), "?match=join&code=Q2XW9H");
    assert.ok(offersResume(sockets[2]!));
    void client.close();
  });

  it("that found a match finds again with the same options", (t: TestContext) => {
    const { client, sockets } = setup(t, (options) => Client.find(URL, TABLE, options));
    void client.connect();
    welcome(sockets[0]!, CODE);
    sockets[0]!.serverClose(CloseCode.GameProcessLost, "game process lost");
    t.mock.timers.tick(10);
    assert.equal(sockets[1]!.url, MatchRequest.find(gameSchema, TABLE).apply(URL));
    assert.ok(!offersResume(sockets[1]!));
    void client.close();
  });

  it("of a default match asks for a default match", (t: TestContext) => {
    const { client, sockets } = setup(t, (options) => new Client(`${URL}?name=ada`, options));
    void client.connect();
    welcome(sockets[0]!, CODE);
    sockets[0]!.serverClose(CloseCode.GameProcessLost, "game process lost");
    t.mock.timers.tick(10);
    assert.equal(sockets[1]!.url, `${URL}?name=ada`);
    assert.ok(!offersResume(sockets[1]!));
    void client.close();
  });

  it("that joined by code asks for its code again, and gives up with UnknownMatch", (t: TestContext) => {
    const { client, sockets, errors, disconnects } = setup(t, (options) => Client.join(URL, CODE, options));
    void client.connect();
    welcome(sockets[0]!, CODE);
    sockets[0]!.serverClose(CloseCode.GameProcessLost, "game process lost");
    t.mock.timers.tick(10);
    assert.equal(query(sockets[1]!), `?match=join&code=${CODE}`);
    assert.ok(!offersResume(sockets[1]!));
    sockets[1]!.accept(REFUSALS_SUBPROTOCOL);
    sockets[1]!.serverClose(4211, `no match has the code ${CODE}`);
    assert.equal(errors.length, 1);
    const error = errors[0];
    assert.ok(error instanceof RefusedError, String(error));
    assert.deepEqual([error.status, error.refusal, error.reason, error.retryable], [404, "UnknownMatch", `no match has the code ${CODE}`, false]);
    t.mock.timers.tick(60_000);
    assert.equal(sockets.length, 2, "no further attempt");
    assert.equal(client.status, "disconnected");
    assert.deepEqual(disconnects, [LOST]);
  });
});

describe("a request by code the client made itself, refused as unknown (4211)", () => {
  it("ends the session it resumed and falls back to the original request at once", (t: TestContext) => {
    const { client, sockets, errors, disconnects } = setup(t, (options) => Client.create(URL, TABLE, options));
    const paused: DisconnectInfo[] = [];
    client.onPause((info) => paused.push(info));
    void client.connect();
    welcome(sockets[0]!, CODE);
    sockets[0]!.drop();
    assert.equal(paused.length, 1);
    t.mock.timers.tick(10);
    assert.equal(query(sockets[1]!), `?match=join&code=${CODE}`);
    assert.ok(offersResume(sockets[1]!));
    sockets[1]!.accept(REFUSALS_SUBPROTOCOL);
    sockets[1]!.serverClose(4211, `no match has the code ${CODE}`);
    // No wait: the server answered.
    assert.equal(sockets.length, 3);
    assert.equal(sockets[2]!.url, MatchRequest.create(gameSchema, TABLE).apply(URL));
    assert.ok(!offersResume(sockets[2]!));
    assert.deepEqual(disconnects, paused, "the paused session ended, for the reason its connection did");
    assert.deepEqual(errors, [], "handled, not reported");
    welcome(sockets[2]!, "Q2XW9H");
    assert.equal(client.status, "open");
    void client.close();
  });

  it("of a default match's resume falls back to the default match", (t: TestContext) => {
    const { client, sockets, errors } = setup(t, (options) => new Client(URL, options));
    void client.connect();
    welcome(sockets[0]!, CODE);
    sockets[0]!.drop();
    t.mock.timers.tick(10);
    // A resume goes by the code: only the process that holds the match holds the session.
    assert.equal(query(sockets[1]!), `?match=join&code=${CODE}`);
    sockets[1]!.accept(REFUSALS_SUBPROTOCOL);
    sockets[1]!.serverClose(4211, `no match has the code ${CODE}`);
    assert.equal(sockets[2]!.url, URL);
    assert.deepEqual(errors, []);
    void client.close();
  });
});

describe("a gateway whose directory is unavailable (4216)", () => {
  it("is retried with the backoff, as a full server is", async (t: TestContext) => {
    const { client, sockets, errors } = setup(t, (options) => Client.create(URL, TABLE, options));
    const connecting = client.connect();
    sockets[0]!.accept(REFUSALS_SUBPROTOCOL);
    sockets[0]!.serverClose(4216, "the service's directory is unavailable: try again shortly");
    const error = errors[0];
    assert.ok(error instanceof RefusedError, String(error));
    assert.deepEqual([error.status, error.refusal, error.retryable], [503, "DirectoryUnavailable", true]);
    assert.equal(sockets.length, 1);
    t.mock.timers.tick(10);
    assert.equal(sockets.length, 2);
    welcome(sockets[1]!, CODE);
    assert.equal((await connecting).settings.matchCode, CODE);
    void client.close();
  });
});

/**
 * A stand-in gateway over real WebSockets: it answers each upgrade as `answer`
 * says, recording every request's URL, and hands accepted sockets to the test.
 */
class StandInGateway {
  readonly server: WebSocketServer;
  readonly requests: string[] = [];
  answer: (url: string) => { status: number; body: string; headers?: Record<string, string> } | null = () => null;
  private readonly waiting: ((socket: WebSocket) => void)[] = [];

  constructor() {
    this.server = new WebSocketServer({
      host: "127.0.0.1",
      port: 0,
      handleProtocols: (protocols) => (protocols.has(`nodelink.3.${FINGERPRINT}`) ? `nodelink.3.${FINGERPRINT}` : false),
      verifyClient: (info: { req: IncomingMessage }, callback) => {
        const url = info.req.url ?? "";
        this.requests.push(url);
        const refusal = this.answer(url);
        if (refusal === null) callback(true);
        else callback(false, refusal.status, refusal.body, refusal.headers);
      },
    });
    this.server.on("connection", (socket) => this.waiting.shift()?.(socket));
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  accepted(): Promise<WebSocket> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  close(): Promise<void> {
    for (const socket of this.server.clients) socket.terminate();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function welcomeOver(socket: WebSocket, code: string): void {
  socket.send(encodeWelcome({ fingerprint: FINGERPRINT, id: "1a2b3c4d", netId: 0, tickRate: 20, settings: inMatch(code), resumeToken: TOKEN, resumed: null }));
}

describe("through a stand-in gateway over real WebSockets", { timeout: 10_000 }, () => {
  const gateway = new StandInGateway();
  before(() => new Promise<void>((resolve) => gateway.server.once("listening", () => resolve())));
  after(() => gateway.close());

  it("a created match lost with its process is created anew; a join of its code is refused in HTTP as UnknownMatch", async () => {
    const gone = new Set<string>();
    gateway.answer = (url) => {
      const code = new globalThis.URL(url, "ws://gateway").searchParams.get("code");
      return code !== null && gone.has(code) ? { status: 404, body: `no match has the code ${code}`, headers: { "x-nodelink-refusal": "4211" } } : null;
    };
    const host = Client.create(gateway.url, TABLE, { WebSocket, reconnect: { initialDelayMs: 1, jitter: 0 } });
    const hostErrors: NodelinkError[] = [];
    host.onError((error) => hostErrors.push(error));
    let accepted = gateway.accepted();
    const connecting = host.connect();
    welcomeOver(await accepted, CODE);
    await connecting;

    const friend = Client.join(gateway.url, CODE, { WebSocket, reconnect: { initialDelayMs: 1, jitter: 0 } });
    const friendErrors: NodelinkError[] = [];
    friend.onError((error) => friendErrors.push(error));
    accepted = gateway.accepted();
    const joining = friend.connect();
    welcomeOver(await accepted, CODE);
    await joining;

    // The process holding CODE is killed: the gateway closes both players with 4105.
    gone.add(CODE);
    const friendGaveUp = new Promise<NodelinkError>((resolve) => friend.onError(resolve));
    const recreated = gateway.accepted();
    for (const socket of gateway.server.clients) socket.close(4105, "game process lost");
    const socket = await recreated;
    welcomeOver(socket, "Q2XW9H");
    await new Promise<void>((resolve) => host.onConnect(() => resolve()));
    assert.equal(host.matchCode, "Q2XW9H");
    const refused = await friendGaveUp;
    assert.ok(refused instanceof RefusedError, String(refused));
    assert.deepEqual([refused.status, refused.refusal], [404, "UnknownMatch"]);
    assert.equal(friend.status, "disconnected");
    assert.deepEqual(hostErrors, []);

    const created = MatchRequest.create(gameSchema, TABLE).apply("/");
    const joined = `/?match=join&code=${CODE}`;
    assert.deepEqual(gateway.requests.slice().sort(), [created, created, joined, joined].sort());
    await Promise.all([host.close(), friend.close()]);
  });
});
