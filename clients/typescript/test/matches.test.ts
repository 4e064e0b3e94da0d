/**
 * Matches: the requests that name one (create, join, find, list), the listing
 * frame, the welcome's match code, a client that goes back to its match by code,
 * the refusals of a match request and the end of a match, against a scripted
 * WebSocket.
 */

import assert from "node:assert/strict";
import { describe, it, type TestContext } from "node:test";

import { Client, type MatchMetadata, type MatchOptions } from "../examples/game/generated/protocol.js";
import {
  CloseCode,
  compileProtocol,
  ConnectError,
  DecodeError,
  DEFAULT_SETTINGS,
  type DisconnectInfo,
  decodeListing,
  decodeServerFrame,
  encodeBase64url,
  EncodeError,
  encodeListing,
  encodeWelcome,
  listMatches,
  MatchRequest,
  NodelinkClient,
  type NodelinkError,
  ProtocolMismatchError,
  RefusalCode,
  refusalOf,
  RefusedError,
  REFUSALS_SUBPROTOCOL,
  SchemaError,
  type Settings,
} from "../src/index.js";
import { Writer } from "../src/msgpack.js";
import { docGameSchema, docGameWithoutTables, FakeSocket, fakeWebSocket, gameProtocol, gameSchema, hex, settle } from "./support.js";

const URL = "ws://127.0.0.1:5000/";
const TOKEN = "3f9a1c0e5b7d2468a0c4e6f8b1d3e5f7";
const CODE = "K7MQ4P";

/** The settings of a welcome into match `code` of the example game. */
function inMatch(code: string): Settings {
  return { ...DEFAULT_SETTINGS, matchCode: code, matchKind: "game" };
}

function welcome(socket: FakeSocket, settings: Settings, resumed: number | null = null): void {
  socket.accept();
  socket.receive(encodeWelcome({ fingerprint: gameSchema.fingerprint, id: "1a2b3c4d", netId: 0, tickRate: 20, settings, resumeToken: TOKEN, resumed }));
}

/** The query of a socket's URL, as key-value pairs in order. */
function query(socket: FakeSocket): [string, string][] {
  return [...new globalThis.URL(socket.url).searchParams];
}

function setup(t: TestContext, make: (options: ConstructorParameters<typeof Client>[1]) => Client) {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const { WebSocket, sockets } = fakeWebSocket();
  const client = make({ WebSocket, reconnect: { initialDelayMs: 10, jitter: 0, maxAttempts: 3 } });
  const errors: NodelinkError[] = [];
  const disconnects: DisconnectInfo[] = [];
  client.onError((error) => errors.push(error));
  client.onDisconnect((info) => disconnects.push(info));
  return { client, sockets, errors, disconnects };
}

describe("match requests", () => {
  it("name what they ask for in the query, options as base64url MessagePack", () => {
    const table: MatchOptions = { title: "ada's table" };
    // `[title]`: a struct is the array of its fields, as one event field is.
    const options = encodeBase64url(Uint8Array.from([0x91, 0xab, ...new TextEncoder().encode("ada's table")]));
    assert.equal(options, "kathZGEncyB0YWJsZQ");
    assert.equal(MatchRequest.create(gameSchema, table).apply(URL), `${URL}?match=create&kind=game&options=${options}`);
    assert.equal(MatchRequest.create(gameSchema, table, true).apply(URL), `${URL}?match=create&kind=game&options=${options}&private=1`);
    assert.equal(MatchRequest.find(gameSchema, table).apply(URL), `${URL}?match=find&kind=game&options=${options}`);
    assert.equal(MatchRequest.join(" k7mq4p ").apply(URL), `${URL}?match=join&code=K7MQ4P`);
    assert.equal(MatchRequest.list("game").apply(URL), `${URL}?match=list&kind=game`);
    // The generated client's calls are these requests.
    const { WebSocket } = fakeWebSocket();
    assert.equal(Client.create(URL, table, { WebSocket }).url, `${URL}?match=create&kind=game&options=${options}`);
    assert.equal(Client.createPrivate(URL, table, { WebSocket }).url, `${URL}?match=create&kind=game&options=${options}&private=1`);
    assert.equal(Client.find(URL, table, { WebSocket }).url, `${URL}?match=find&kind=game&options=${options}`);
    assert.equal(Client.join(URL, "k7mq4p", { WebSocket }).url, `${URL}?match=join&code=K7MQ4P`);
  });

  it("keep the URL's other parameters and fragment, and replace earlier matchmaking parameters", () => {
    const found = MatchRequest.find(gameSchema, { title: "" }).apply("ws://h/play?name=%20zed&t=1#top");
    assert.equal(found, "ws://h/play?name=%20zed&t=1&match=find&kind=game&options=kaA#top");
    assert.equal(MatchRequest.join("ab12cd").apply(found), "ws://h/play?name=%20zed&t=1&match=join&code=AB12CD#top");
    assert.equal(MatchRequest.list("a kind/é").apply("ws://h"), "ws://h?match=list&kind=a%20kind%2F%C3%A9");
    assert.ok(MatchRequest.namesAMatch(found));
    assert.ok(!MatchRequest.namesAMatch("ws://h/?name=ada#match=join"));
  });

  it("refuse options that do not fit the protocol's type, and a schema without a kind", () => {
    assert.throws(
      () => MatchRequest.create(gameSchema, { title: 3 } as unknown as MatchOptions),
      (error: unknown) => error instanceof EncodeError && error.message === "cannot encode match options: field `title`: expected a string, found the number 3",
    );
    // A schema printed before matches existed joins by code, and makes none.
    const { kind: _kind, ...older } = gameSchema;
    assert.throws(() => MatchRequest.create(older, { title: "" }), (error: unknown) => error instanceof SchemaError && error.path === "$.kind");
    assert.equal(MatchRequest.join("K7MQ4P").apply(URL), `${URL}?match=join&code=K7MQ4P`);
    // A protocol without options sends none: the server makes the match from the default.
    assert.equal(MatchRequest.create(docGameWithoutTables, "ignored").apply(URL), `${URL}?match=create&kind=game`);
    assert.equal(MatchRequest.find(docGameWithoutTables, null).apply(URL), `${URL}?match=find&kind=game`);
  });

  it("encode base64url without padding, as RFC 4648 does", () => {
    for (let length = 0; length < 20; length += 1) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 37 + 11) & 0xff);
      assert.equal(encodeBase64url(bytes), Buffer.from(bytes).toString("base64url"));
    }
    assert.equal(encodeBase64url(Uint8Array.from([0xfb, 0xff])), "-_8");
  });
});

describe("listings", () => {
  const listings = [
    { code: "K7MQ4P", players: 2, maxPlayers: 8, locked: false, metadata: { title: "ada's table" } },
    { code: "Z2X3C4", players: 8, maxPlayers: 8, locked: true, metadata: { title: "" } },
  ];

  it("are `[5, [[code, players, max_players, locked, metadata]…]]`, metadata of the protocol's type", () => {
    const frame = encodeListing(gameProtocol, listings);
    assert.equal(hex(frame.subarray(0, 12)), "92 05 92 95 a6 4b 37 4d 51 34 50 02");
    assert.deepEqual(decodeListing(gameProtocol, frame), listings);
    assert.deepEqual(decodeListing(gameProtocol, encodeListing(gameProtocol, [])), []);
  });

  it("skip what a later version adds to an entry, and refuse anything else", () => {
    // One entry of six elements: the sixth is skipped.
    const writer = new Writer();
    writer.arrayLen(2);
    writer.uint(5);
    writer.arrayLen(1);
    writer.arrayLen(6);
    writer.str("K7MQ4P");
    writer.uint(1);
    writer.uint(4);
    writer.bool(false);
    writer.arrayLen(1);
    writer.str("t");
    writer.any({ later: [1, 2] });
    assert.deepEqual(decodeListing(gameProtocol, writer.finish()), [{ code: "K7MQ4P", players: 1, maxPlayers: 4, locked: false, metadata: { title: "t" } }]);

    const refused = (bytes: Uint8Array, message: string) =>
      assert.throws(
        () => decodeListing(gameProtocol, bytes),
        (error: unknown) => error instanceof DecodeError && error.message === message,
      );
    refused(Uint8Array.from([0x92, 0x02, 0x90]), "cannot decode listing: expected a listing frame (kind 5), found kind 2");
    refused(Uint8Array.from([0x93, 0x05, 0x90, 0x90]), "cannot decode listing: a listing frame has 2 elements, found 3");
    refused(Uint8Array.from([0x92, 0x05, 0x91, 0x94, 0xa1, 0x41, 0x01, 0x02, 0xc2]), "cannot decode listing: entry 0 has 4 elements, at least 5 expected");
    // Metadata of another type: a number where the table is.
    refused(Uint8Array.from([0x92, 0x05, 0x91, 0x95, 0xa1, 0x41, 0x01, 0x02, 0xc2, 0x07]), "cannot decode listing: [0]: metadata: expected an array (Table), found the number 7");
    refused(Uint8Array.from([0x92, 0x05, 0x90, 0xc0]), "cannot decode listing: 1 bytes after the frame");
  });

  it("carry null metadata for a protocol without", () => {
    const lobby = compileProtocol(docGameWithoutTables);
    assert.equal(lobby.metadata, null);
    const frame = encodeListing(lobby, [{ code: "AAAAAA", players: 0, maxPlayers: 1, locked: false, metadata: null }]);
    assert.equal(hex(frame), "92 05 91 95 a6 41 41 41 41 41 41 00 01 c2 c0");
    assert.deepEqual(
      decodeListing(lobby, frame).map((listing) => listing.metadata),
      [null],
    );
  });
});

describe("a client in a match", () => {
  it("shows the match's code and kind from its welcome", (t: TestContext) => {
    const { client, sockets } = setup(t, (options) => Client.create(URL, { title: "ada's table" }, options));
    assert.equal(client.matchCode, null);
    void client.connect();
    welcome(sockets[0]!, inMatch(CODE));
    assert.equal(client.matchCode, CODE);
    assert.equal(client.matchKind, "game");
    assert.equal(client.settings?.matchCode, CODE);
  });

  it("goes back to the match it created by its code, resuming, and never creates another", (t: TestContext) => {
    const { client, sockets, disconnects } = setup(t, (options) => Client.create(URL, { title: "ada's table" }, options));
    const resumes: string[] = [];
    client.onResume((info) => resumes.push(info.id));
    void client.connect();
    assert.deepEqual(query(sockets[0]!).slice(0, 2), [
      ["match", "create"],
      ["kind", "game"],
    ]);
    welcome(sockets[0]!, inMatch(CODE));
    sockets[0]!.drop();
    t.mock.timers.tick(10);
    // Resumed in the same match: asked for by its code, with the session's offer.
    assert.deepEqual(query(sockets[1]!), [
      ["match", "join"],
      ["code", CODE],
    ]);
    assert.ok((sockets[1]!.protocols as string[]).some((offer) => offer.startsWith(`nodelink.resume.${TOKEN}.`)));
    welcome(sockets[1]!, inMatch(CODE), 0);
    assert.deepEqual(resumes, ["1a2b3c4d"]);
    assert.deepEqual(disconnects, []);
    // A session the server no longer holds: joined afresh, to the same match.
    sockets[1]!.drop();
    t.mock.timers.tick(10);
    sockets[2]!.accept();
    sockets[2]!.serverClose(CloseCode.SessionExpired, "session expired");
    assert.deepEqual(query(sockets[3]!), [
      ["match", "join"],
      ["code", CODE],
    ]);
    assert.equal(client.url, MatchRequest.create(gameSchema, { title: "ada's table" }).apply(URL), "the URL it was made with");
  });

  it("of the default match resumes by its code, and joins the default match afresh", (t: TestContext) => {
    const { client, sockets } = setup(t, (options) => new Client(`${URL}?name=ada`, options));
    void client.connect();
    welcome(sockets[0]!, inMatch(CODE));
    assert.equal(client.matchCode, CODE);
    sockets[0]!.drop();
    t.mock.timers.tick(10);
    // Through a gateway only the process that holds the match holds the session.
    assert.equal(sockets[1]!.url, `${URL}?name=ada&match=join&code=${CODE}`);
    assert.ok((sockets[1]!.protocols as string[]).some((offer) => offer.startsWith(`nodelink.resume.${TOKEN}.`)));
    // A session the server no longer holds: the default match again (a server
    // restarted meanwhile has a new one).
    sockets[1]!.accept();
    sockets[1]!.serverClose(CloseCode.SessionExpired, "session expired");
    assert.equal(sockets[2]!.url, `${URL}?name=ada`);
  });

  it("does not come back after its match ended", (t: TestContext) => {
    const { client, sockets, disconnects } = setup(t, (options) => Client.join(URL, CODE, options));
    void client.connect();
    welcome(sockets[0]!, inMatch(CODE));
    sockets[0]!.serverClose(CloseCode.MatchEnded, "match ended");
    assert.deepEqual(disconnects, [
      { kind: "closed", code: 4011, reason: "match ended", closeReason: { name: "MatchEnded", code: 4011, description: "match ended" } },
    ]);
    t.mock.timers.tick(60_000);
    assert.equal(sockets.length, 1);
    assert.equal(client.status, "disconnected");
  });
});

describe("refusals of a match request", () => {
  const kinds = [
    ["BadMatchRequest", 4209, 400, "unknown match request `dance`"],
    ["UnknownKind", 4210, 404, "no kind `nope`"],
    ["UnknownMatch", 4211, 404, "no match has the code ZZZZZZ"],
    ["MatchFull", 4212, 409, "match K7MQ4P is full"],
    ["MatchLocked", 4213, 409, "match K7MQ4P takes no new players"],
    ["BadOptions", 4214, 400, "options for `game` do not decode"],
    ["CannotCreate", 4215, 403, "kind `game` makes no new matches"],
  ] as const;

  for (const [name, code, status, reason] of kinds) {
    const retried = name === "MatchFull";
    it(`${code} is ${name}: a RefusedError of status ${status}, ${retried ? "retried" : "not retried"}`, async (t: TestContext) => {
      assert.equal(RefusalCode[name], code);
      assert.deepEqual(refusalOf(code), { name, code, status, retryable: retried });
      const { client, sockets, errors } = setup(t, (options) => Client.join(URL, CODE, options));
      const connecting = client.connect();
      connecting.catch(() => {});
      sockets[0]!.accept(REFUSALS_SUBPROTOCOL);
      sockets[0]!.serverClose(code, reason);
      const error = errors[0];
      assert.ok(error instanceof RefusedError, String(error));
      assert.deepEqual([error.status, error.reason, error.refusal, error.retryable], [status, reason, name, retried]);
      t.mock.timers.tick(10);
      if (retried) {
        assert.equal(sockets.length, 2, "a full match may have a place later");
        assert.equal(client.status, "connecting");
        void client.close();
      } else {
        assert.equal(sockets.length, 1);
        await assert.rejects(connecting, (thrown: unknown) => thrown === error);
      }
    });
  }

  it("read from an HTTP refusal's x-nodelink-refusal header where the WebSocket shows the response", async () => {
    // As the `ws` package's WebSocket shows a refused upgrade.
    const refusing = (status: number, headers: Record<string, string>, body: string) =>
      class extends FakeSocket {
        constructor(url: string, protocols?: string | string[]) {
          super(url, protocols);
          queueMicrotask(() => this.listener?.({}, { statusCode: status, headers, on: (event: string, listener: (...args: unknown[]) => void) => this.respond(event, listener, body) }));
        }
        private listener: ((request: object, response: object) => void) | undefined;
        private respond(event: string, listener: (...args: unknown[]) => void, text: string): void {
          if (event === "data") queueMicrotask(() => listener(new TextEncoder().encode(text)));
          if (event === "end") queueMicrotask(() => queueMicrotask(() => listener()));
        }
        on(event: string, listener: (request: object, response: object) => void): this {
          if (event === "unexpected-response") this.listener = listener;
          return this;
        }
      };
    const full = Client.join(URL, CODE, { WebSocket: refusing(409, { "x-nodelink-refusal": "4212" }, "match K7MQ4P is full") });
    full.onError(() => {});
    await assert.rejects(full.connect(), (error: unknown) => {
      assert.ok(error instanceof RefusedError);
      assert.deepEqual([error.status, error.refusal, error.reason, error.retryable], [409, "MatchFull", "match K7MQ4P is full", true]);
      return true;
    });
    const locked = Client.join(URL, CODE, { WebSocket: refusing(409, { "x-nodelink-refusal": "4213" }, "match K7MQ4P takes no new players") });
    locked.onError(() => {});
    await assert.rejects(locked.connect(), (error: unknown) => error instanceof RefusedError && error.refusal === "MatchLocked" && !error.retryable);
    // A server that names no kind: the status alone.
    const older = Client.join(URL, CODE, { WebSocket: refusing(409, {}, "full") });
    older.onError(() => {});
    await assert.rejects(older.connect(), (error: unknown) => error instanceof RefusedError && error.refusal === null && !error.retryable);
  });
});

describe("Client.list", () => {
  it("asks for the kind's listing, offering the protocol, and reads the one frame", async () => {
    const { WebSocket, sockets } = fakeWebSocket();
    const listing = Client.list(URL, { WebSocket });
    const socket = sockets[0]!;
    assert.equal(socket.url, `${URL}?match=list&kind=game`);
    assert.deepEqual(socket.protocols, [`nodelink.3.${gameSchema.fingerprint}`, REFUSALS_SUBPROTOCOL]);
    socket.accept();
    const shown: { code: string; metadata: MatchMetadata }[] = [{ code: CODE, metadata: { title: "ada's table" } }];
    socket.receive(encodeListing(gameProtocol, shown.map(({ code, metadata }) => ({ code, players: 1, maxPlayers: 8, locked: false, metadata }))));
    assert.deepEqual(await listing, [{ code: CODE, players: 1, maxPlayers: 8, locked: false, metadata: { title: "ada's table" } }]);
    assert.deepEqual(socket.closedWith, { code: 1000, reason: undefined });
  });

  it("rejects with the refusal, the mismatch, or what went wrong", async (t: TestContext) => {
    const { WebSocket, sockets } = fakeWebSocket();
    const unknown = Client.list(URL, { WebSocket });
    sockets[0]!.accept(REFUSALS_SUBPROTOCOL);
    sockets[0]!.serverClose(4210, "no kind `game`");
    await assert.rejects(unknown, (error: unknown) => error instanceof RefusedError && error.refusal === "UnknownKind" && error.status === 404);

    const other = Client.list(URL, { WebSocket });
    sockets[1]!.accept(REFUSALS_SUBPROTOCOL);
    sockets[1]!.serverClose(4202, `protocol mismatch: server fingerprint 0123456789abcdef, client fingerprint ${gameSchema.fingerprint}`);
    await assert.rejects(other, (error: unknown) => error instanceof ProtocolMismatchError && error.server === "0123456789abcdef");

    const garbled = Client.list(URL, { WebSocket });
    sockets[2]!.accept();
    sockets[2]!.receive(Uint8Array.from([0x92, 0x02, 0x90]));
    await assert.rejects(garbled, DecodeError);

    const closed = Client.list(URL, { WebSocket });
    sockets[3]!.accept();
    sockets[3]!.serverClose(1000, "");
    await assert.rejects(closed, (error: unknown) => error instanceof ConnectError && error.reason === "closed by the server before a listing (1000)");

    t.mock.timers.enable({ apis: ["setTimeout"] });
    const silent = Client.list(URL, { WebSocket, connectTimeoutMs: 50 });
    sockets[4]!.accept();
    t.mock.timers.tick(50);
    await assert.rejects(silent, (error: unknown) => error instanceof ConnectError && /no listing within 50 ms/.test(error.message));
    await settle();
    assert.notEqual(sockets[4]!.closedWith, null, "the socket is closed");

    const { kind: _kind, ...older } = docGameSchema;
    await assert.rejects(listMatches(older, URL, { WebSocket }), SchemaError);
    await assert.rejects(Client.list("http://h/", { WebSocket }), (error: unknown) => (error as NodelinkError).kind === "url");
  });
});

describe("the welcome's settings", () => {
  it("carry the match's code and kind, and a welcome without them reads null", () => {
    const frame = encodeWelcome({ fingerprint: gameSchema.fingerprint, id: "1a2b3c4d", netId: 0, tickRate: 20, settings: inMatch(CODE) });
    const decoded = decodeServerFrame(gameProtocol, frame);
    assert.ok(decoded.kind === "welcome");
    assert.equal(decoded.welcome.settings.matchCode, CODE);
    assert.equal(decoded.welcome.settings.matchKind, "game");
    // The two keys follow the others, as the Rust server writes them.
    assert.ok(hex(frame).endsWith(`aa 6d 61 74 63 68 5f 63 6f 64 65 a6 4b 37 4d 51 34 50 aa 6d 61 74 63 68 5f 6b 69 6e 64 a4 67 61 6d 65`), hex(frame));
    const plain = decodeServerFrame(gameProtocol, encodeWelcome({ fingerprint: gameSchema.fingerprint, id: "1a2b3c4d", netId: 0, tickRate: 20 }));
    assert.ok(plain.kind === "welcome");
    assert.deepEqual([plain.welcome.settings.matchCode, plain.welcome.settings.matchKind], [null, null]);
  });

  it("refuse a match code that is not a string", () => {
    const writer = new Writer();
    writer.arrayLen(7);
    for (const value of [0, 3]) writer.uint(value);
    writer.uint(BigInt(`0x${gameSchema.fingerprint}`));
    for (const value of [1, 0, 20]) writer.uint(value);
    writer.mapLen(1);
    writer.str("match_code");
    writer.uint(7);
    assert.throws(() => decodeServerFrame(gameProtocol, writer.finish()), (error: unknown) => error instanceof DecodeError && /`match_code`/.test(error.message));
  });
});

describe("a client made with a schema alone", () => {
  it("asks for matches with MatchRequest and listMatches", async () => {
    const { WebSocket, sockets } = fakeWebSocket();
    const client = new NodelinkClient(gameSchema, MatchRequest.create(gameSchema, { title: "t" }).apply(URL), { WebSocket });
    void client.connect().catch(() => {});
    assert.equal(query(sockets[0]!)[0]![1], "create");
    void client.close();
    const listed = listMatches<MatchMetadata>(gameSchema, URL, { WebSocket });
    sockets[1]!.accept();
    sockets[1]!.receive(encodeListing(gameProtocol, []));
    assert.deepEqual(await listed, []);
  });
});
