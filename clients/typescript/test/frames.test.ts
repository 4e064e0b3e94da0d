import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { asValueError, Codecs } from "../src/codec.js";
import {
  DEFAULT_SETTINGS,
  DecodeError,
  decodeClientFrame,
  decodeListing,
  decodeServerFrame,
  encodeClientEvent,
  encodeListing,
  encodePing,
  encodePong,
  encodeServerEvent,
  encodeSync,
  encodeWelcome,
  ProtocolMismatchError,
  resumeSubprotocol,
  type ServerFrame,
  subprotocol,
  type TypeExpr,
} from "../src/index.js";
import { Reader, Writer } from "../src/msgpack.js";
import { docSyncFrames } from "./doc-frames.js";
import { fromHex, gameProtocol, hex, protocolDoc, protocolDocAccepts, protocolDocFrames, protocolDocValues } from "./support.js";

const doc = protocolDocFrames();

/** Checks one of PROTOCOL.md's frames both ways. */
const otherFrames: Record<string, () => void> = {
  welcome() {
    const welcome = { fingerprint: "99c9f3062e72a78a", id: "5e6f7081", netId: 1, tickRate: 20, settings: DEFAULT_SETTINGS, resumeToken: "3f9a1c0e5b7d2468a0c4e6f8b1d3e5f7", resumed: null };
    assert.equal(hex(encodeWelcome(welcome)), hex(doc.get("welcome")!));
    assert.deepEqual(decodeServerFrame(gameProtocol, doc.get("welcome")!), { kind: "welcome", welcome: { wireVersion: 3, ...welcome } });
  },
  "welcome-no-session"() {
    const settings = { ...DEFAULT_SETTINGS, resumeGraceMs: 0, resumeBufferLen: 0 };
    const welcome = { fingerprint: "99c9f3062e72a78a", id: "5e6f7081", netId: 1, tickRate: 20, settings, resumeToken: null, resumed: null };
    assert.equal(hex(encodeWelcome(welcome)), hex(doc.get("welcome-no-session")!));
    assert.deepEqual(decodeServerFrame(gameProtocol, doc.get("welcome-no-session")!), { kind: "welcome", welcome: { wireVersion: 3, ...welcome } });
  },
  "welcome-resumed"() {
    const welcome = { fingerprint: "99c9f3062e72a78a", id: "5e6f7081", netId: 1, tickRate: 20, settings: DEFAULT_SETTINGS, resumeToken: "9d2e4f6a8c0b1d3f5e7a9c1b3d5f7e9a", resumed: 7 };
    assert.equal(hex(encodeWelcome(welcome)), hex(doc.get("welcome-resumed")!));
    assert.deepEqual(decodeServerFrame(gameProtocol, doc.get("welcome-resumed")!), { kind: "welcome", welcome: { wireVersion: 3, ...welcome } });
    // The offer PROTOCOL.md shows bob making before it.
    const offer = resumeSubprotocol({ token: "3f9a1c0e5b7d2468a0c4e6f8b1d3e5f7", received: 3, forgotten: 0 });
    assert.ok(protocolDoc.includes(`\`${offer}\``), offer);
  },
  "event-move"() {
    assert.equal(hex(encodeClientEvent(gameProtocol, "move", { x: 1.5, y: -2 })), hex(doc.get("event-move")!));
    assert.deepEqual(decodeClientFrame(gameProtocol, doc.get("event-move")!), { kind: "event", event: { name: "move", data: { x: 1.5, y: -2 } } });
  },
  "event-ready"() {
    assert.equal(hex(encodeClientEvent(gameProtocol, "ready")), hex(doc.get("event-ready")!));
    assert.deepEqual(decodeClientFrame(gameProtocol, doc.get("event-ready")!), { kind: "event", event: { name: "ready", data: undefined } });
  },
  "event-chat"() {
    const data = { from: "1a2b3c4d", msg: "hi" };
    assert.equal(hex(encodeServerEvent(gameProtocol, "chat", data)), hex(doc.get("event-chat")!));
    assert.deepEqual(decodeServerFrame(gameProtocol, doc.get("event-chat")!), { kind: "event", event: { name: "chat", data } });
  },
  listing() {
    // `ada`'s open table and a full one its game locked, each with its Table.
    const listings = [
      { code: "K7MQ4P", players: 1, maxPlayers: 4, locked: false, metadata: { title: "ada's table" } },
      { code: "Q2XW9H", players: 4, maxPlayers: 4, locked: true, metadata: { title: "" } },
    ];
    assert.equal(hex(encodeListing(gameProtocol, listings)), hex(doc.get("listing")!));
    assert.deepEqual(decodeListing(gameProtocol, doc.get("listing")!), listings);
  },
  ping() {
    assert.equal(hex(encodePing(7, 35_000)), hex(doc.get("ping")!));
    assert.deepEqual(decodeServerFrame(gameProtocol, doc.get("ping")!), { kind: "ping", seq: 7, rttUs: 35_000 });
  },
  pong() {
    assert.equal(hex(encodePong(7)), hex(doc.get("pong")!));
    assert.deepEqual(decodeClientFrame(gameProtocol, doc.get("pong")!), { kind: "pong", seq: 7 });
  },
};

describe("PROTOCOL.md's frames, byte for byte", () => {
  it("are all checked here", () => {
    const known = new Set([...Object.keys(docSyncFrames), ...Object.keys(otherFrames)]);
    assert.deepEqual([...doc.keys()].filter((name) => !known.has(name)), [], "frames of PROTOCOL.md this test does not know");
    assert.deepEqual([...known].filter((name) => !doc.has(name)), [], "frames this test expects that PROTOCOL.md lacks");
  });

  for (const [name, check] of Object.entries(otherFrames)) it(name, check);

  for (const [name, { protocol, frame }] of Object.entries(docSyncFrames)) {
    it(name, () => {
      assert.equal(hex(encodeSync(protocol, frame)), hex(doc.get(name)!));
      assert.deepEqual(decodeServerFrame(protocol, doc.get(name)!), { kind: "sync", sync: frame });
    });
  }

  it("the subprotocol offered", () => {
    assert.equal(subprotocol("99c9f3062e72a78a"), "nodelink.3.99c9f3062e72a78a");
    assert.ok(protocolDoc.includes("The example protocol's is `nodelink.3.99c9f3062e72a78a`."));
  });
});

/** The user types of PROTOCOL.md's table of values. */
const valueCodecs = new Codecs({
  Vec2: { struct: { kind: "named", fields: [{ name: "x", type: "f32" }, { name: "y", type: "f32" }] } },
  Cell: { struct: { kind: "tuple", fields: [{ name: "0", type: "u8" }, { name: "1", type: "u8" }] } },
  Meters: { struct: { kind: "tuple", fields: [{ name: "0", type: "f64" }] } },
  Marker: { struct: { kind: "unit", fields: [] } },
  Shape: {
    enum: [
      { name: "Empty", kind: "unit", fields: [] },
      { name: "Dot", kind: "tuple", fields: [{ name: "0", type: "u8" }] },
      { name: "Line", kind: "tuple", fields: [{ name: "0", type: "u8" }, { name: "1", type: "u8" }] },
      { name: "Circle", kind: "named", fields: [{ name: "r", type: "f32" }] },
    ],
  },
});

/** Each example of the table, as a schema type and a TypeScript value. */
const valueExamples: Record<string, [TypeExpr, unknown]> = {
  true: ["bool", true],
  "5u8": ["u8", 5],
  "200u8": ["u8", 200],
  "300u16": ["u16", 300],
  "70000u32": ["u32", 70000],
  "5000000000u64": ["u64", 5000000000n],
  "7usize": ["u64", 7n],
  "-1i8": ["i8", -1],
  "-100i8": ["i8", -100],
  "-200i16": ["i16", -200],
  "200i32": ["i32", 200],
  "-5000000000i64": ["i64", -5000000000n],
  "1u128": ["u128", 1n],
  "-2i128": ["i128", -2n],
  "1.5f32": ["f32", 1.5],
  "0.1f64": ["f64", 0.1],
  "'é'": ["char", "é"],
  '"hi"': ["str", "hi"],
  "()": ["unit", null],
  "PlayerId::from_raw(0x1a2b3c4d)": ["player_id", "1a2b3c4d"],
  "EntityId::from_raw(7)": ["entity_id", 7],
  "None::<u8>": [{ option: "u8" }, null],
  "Some(7u8)": [{ option: "u8" }, 7],
  "vec![1u16, 300]": [{ seq: "u16" }, [1, 300]],
  "[0.5f32, 1.0]": [{ array: ["f32", 2] }, [0.5, 1]],
  '(1u8, "a")': [{ tuple: ["u8", "str"] }, [1, "a"]],
  'BTreeMap::from([("a", 1u8), ("b", 2)])': [{ map: ["str", "u8"] }, new Map([["a", 1], ["b", 2]])],
  "Vec2 { x: 1.0, y: 2.0 }": [{ ref: "Vec2" }, { x: 1, y: 2 }],
  "Cell(3, 4)": [{ ref: "Cell" }, [3, 4]],
  "Meters(0.5)": [{ ref: "Meters" }, 0.5],
  Marker: [{ ref: "Marker" }, null],
  "Shape::Empty": [{ ref: "Shape" }, "Empty"],
  "Shape::Dot(7)": [{ ref: "Shape" }, { Dot: 7 }],
  "Shape::Line(1, 2)": [{ ref: "Shape" }, { Line: [1, 2] }],
  "Shape::Circle { r: 1.0 }": [{ ref: "Shape" }, { Circle: { r: 1 } }],
};

/** The values PROTOCOL.md says a decoder accepts in other forms, by the comment's start. */
const accepted: Record<string, [TypeExpr, unknown]> = {
  "u8: 5": ["u8", 5],
  "i32: 100": ["i32", 100],
  "f32: 1.5": ["f32", 1.5],
  "f32: 2.0": ["f32", 2],
  "f64: -3.0": ["f64", -3],
  "u128: 5": ["u128", 5n],
  "unit struct: Marker": [{ ref: "Marker" }, null],
};

describe("PROTOCOL.md's table of values", () => {
  const rows = protocolDocValues();

  it("is covered row by row", () => {
    assert.ok(rows.length >= 30, `${rows.length} rows`);
    assert.deepEqual(rows.map(({ example }) => example).filter((example) => !(example in valueExamples)), []);
  });

  it("encodes each example to its bytes and decodes it back", () => {
    for (const { example, bytes } of rows) {
      const [type, value] = valueExamples[example]!;
      const writer = new Writer();
      valueCodecs.of(type).encode(writer, value);
      assert.equal(hex(writer.finish()), hex(bytes), example);
      const reader = new Reader(bytes);
      assert.deepEqual(valueCodecs.of(type).decode(reader), value, example);
      assert.ok(reader.done, example);
    }
  });

  it("reads the other forms a decoder must accept", () => {
    const lines = protocolDocAccepts();
    assert.ok(lines.length > 0);
    for (const { bytes, comment } of lines) {
      const key = comment.split(" — ")[0]!;
      const known = accepted[key];
      assert.ok(known, `PROTOCOL.md accepts "${comment}", which this test does not know`);
      const [type, value] = known;
      const reader = new Reader(bytes);
      assert.deepEqual(valueCodecs.of(type).decode(reader), value, comment);
      assert.ok(reader.done, comment);
    }
  });

  it("rounds a float 64 read into an f32 field", () => {
    assert.equal(valueCodecs.of("f32").decode(new Reader(fromHex("cb 3f b9 99 99 99 99 99 9a"))), Math.fround(0.1));
    assert.equal(asValueError(new RangeError("x")).reason, "x");
  });
});

describe("decoding what does not fit", () => {
  function failure(bytes: string): Error {
    try {
      decodeServerFrame(gameProtocol, fromHex(bytes));
    } catch (error) {
      return error as Error;
    }
    assert.fail(`expected ${bytes} to be refused`);
  }

  it("names the frame, the place and the reason", () => {
    const cases: [string, string][] = [
      ["91 09", "cannot decode frame: unknown frame kind 9"],
      ["90", "cannot decode frame: an empty array"],
      ["c0", "cannot decode frame: expected an array, found nil"],
      ["92 01 a4 6a 75 6d 70", "cannot decode event `jump`: unknown event (not in ToClient)"],
      ["93 01 a4 63 68 61 74 01", "cannot decode event `chat`: expected 2 fields, found 1"],
      ["94 01 a4 63 68 61 74 a1 78 a2 68 69", "cannot decode event `chat`: field `from`: expected an integer, found a string"],
      // Mask bit 3 is beyond Avatar's three fields.
      ["98 02 2a 02 00 90 90 91 93 00 08 c0 c0", "cannot decode sync frame: players: [0]: net id 0: mask bit 3 is set, but the state has 3 fields"],
      // The mask names two fields but one value follows.
      ["98 02 2a 02 00 90 90 91 93 00 03 ca 3f c0 00 00 c0", "cannot decode sync frame: players: [0]: net id 0: the mask names 2 fields, but 1 value follow"],
      ["98 02 2a 02 00 90 91 91 00 90 c0", "cannot decode sync frame: joined: [0]: expected [net_id, player_id], found 1 elements"],
      ["97 02 2a 02 00 90 90 90", "cannot decode sync frame: a sync frame has 8 elements (10 with entity changes), found 7"],
      ["98 02 2a 02 04 90 90 90 c0", "cannot decode sync frame: flags: unknown bits set (4): only full (1) and more (2) exist"],
      ["93 03 07 cd 88 b8 c0", "cannot decode ping frame: 1 bytes after the frame"],
    ];
    for (const [bytes, message] of cases) {
      const error = failure(bytes);
      assert.ok(error instanceof DecodeError, `${bytes}: ${error}`);
      assert.equal(error.message, message);
    }
  });

  it("reports a welcome of another wire version as a protocol mismatch", () => {
    const error = failure("96 00 01 cf 01 23 45 67 89 ab cd ef ce 1a 2b 3c 4d 00 14");
    assert.ok(error instanceof ProtocolMismatchError);
    assert.equal(error.serverWireVersion, 1);
    assert.equal(error.message, "protocol mismatch: this client speaks wire version 3, the server 1");
  });

  it("accepts integers of any width where the compact form is expected", () => {
    // tick and online as uint32, net id as uint16: a decoder must accept any width.
    const frame: ServerFrame = decodeServerFrame(gameProtocol, fromHex("98 02 ce 00 00 00 2b cd 00 02 00 90 90 91 93 cd 00 00 01 ca 40 00 00 00 c0"));
    assert.deepEqual(frame, { kind: "sync", sync: docSyncFrames["sync-delta"]!.frame });
  });
});
