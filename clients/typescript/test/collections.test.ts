import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, it } from "node:test";

import { transformSync } from "esbuild";

import { generate } from "../src/codegen/index.js";
import {
  compileProtocol,
  DecodeError,
  decodeServerFrame,
  EncodeError,
  encodeSync,
  encodeWelcome,
  fingerprintOf,
  Mirror,
  type NodelinkClient,
  type ProtocolSchema,
  type ProtocolTypes,
  SchemaError,
  stateFingerprint,
  type SyncFrame,
  typeFingerprint,
  type TypeExpr,
  validateSchema,
} from "../src/index.js";
import { docSyncFrames } from "./doc-frames.js";
import { fakeWebSocket, fromHex, hex, protocolDocFingerprints, questProtocol, questSchema, readSchema, settle } from "./support.js";
import { scratch, typeCheck } from "./tools.js";

/**
 * The schema Rust prints for this protocol (fingerprint e4c05a926730aa8a), with
 * `SyncVec`s and `SyncMap`s of plain values and of nested states, nested in a
 * nested state and in each other, keyed by tuples and by player ids:
 *
 * ```rust
 * struct Stats { hp: u8, mana: u16 }                      // SyncState
 * struct Item { name: String, count: u16 }                // Fingerprint
 * struct Camp { name: String, guards: SyncVec<Stats> }    // SyncState
 * struct Hero {                                           // the player state
 *     scores: SyncVec<u32>, party: SyncVec<Stats, 8>, bag: SyncMap<String, u16>,
 *     pets: SyncMap<u8, Stats>, camp: Camp, grid: SyncVec<SyncVec<u8>>,
 *     cells: SyncMap<(u8, u8), Item>, #[sync(skip)] secret: u32,
 * }
 * struct Board { ranks: SyncMap<PlayerId, u32>, log: SyncVec<String> }  // the server state
 * ```
 */
const schema = readSchema("test/fixtures/collections.json");
const protocol = compileProtocol(schema);

// The frames below were encoded by the Rust server's encoder (`encode_sync`) for
// that protocol, one tick after another: player 00000001 is net id 0.

/**
 * Tick 1, a snapshot: scores [10, 20, 30], party [{5, 6}], bag {arrows: 20, bread: 2},
 * pets {1: {30, 0}}, camp {"north", guards [{7, 8}]}, grid [[1, 2]], cells {(0, 1):
 * {"key", 1}}; the board's ranks {00000001: 3} and log ["start"]. Every list and map whole.
 */
const SNAPSHOT =
  "98 02 01 01 01 90 91 92 00 01 91 99 00 7f 92 03 93 92 00 0a 92 01 14 92 02 1e 92 01 91 92 00 93 03 05 06 93 c3 90 92 92 a6 61 72 72 6f 77 73 14 " +
  "92 a5 62 72 65 61 64 02 93 c3 90 91 92 01 93 03 1e 00 93 03 a5 6e 6f 72 74 68 92 01 91 92 00 93 03 07 08 92 01 91 92 00 92 02 92 92 00 01 92 01 02 " +
  "93 c3 90 91 92 92 00 01 92 a3 6b 65 79 01 93 03 93 c3 90 91 92 01 03 92 01 91 92 00 a5 73 74 61 72 74";

/**
 * Tick 2, one change in each: `scores().set(1, 25)`, `push(40)`; party[0]'s hp 3 and a
 * push; bread removed and arrows 19; pet 1's mana 5 and a pet 2; the camp's guard's
 * mana 9; `grid[0].push(3)`; cell (0, 1)'s count 2 and a cell (2, 0); a rank for
 * 00000002 and a log line.
 */
const CHANGES =
  "98 02 02 01 00 90 90 91 99 00 7f 92 04 92 92 01 19 92 03 28 92 02 92 92 00 92 01 03 92 01 93 03 09 01 93 c2 91 a5 62 72 65 61 64 91 92 a6 61 72 72 " +
  "6f 77 73 13 93 c2 90 92 92 01 92 02 05 92 02 93 03 0a 00 92 02 92 01 91 92 00 92 02 09 92 01 91 92 00 92 03 91 92 02 03 93 c2 90 92 92 92 00 01 92 " +
  "a3 6b 65 79 02 92 92 02 00 92 a3 67 65 6d 01 93 03 93 c2 90 91 92 02 01 92 02 91 92 01 aa 61 64 61 20 73 63 6f 72 65 64";

/**
 * Tick 3, shrinking: `scores().truncate(2)`, `party().remove(0)` (party[1] shifts down,
 * every field differs), `grid().clear()`, cell (0, 1) removed, `pets().clear()`; the
 * rank of 00000001 removed and log[0] "begin".
 */
const SHRINK =
  "98 02 03 01 00 90 90 91 97 00 6b 92 02 90 92 01 91 92 00 93 03 09 01 93 c2 92 01 02 90 92 00 90 93 c2 91 92 00 01 90 93 03 93 c2 91 01 90 92 02 91 " +
  "92 00 a5 62 65 67 69 6e";

/**
 * Tick 4: `scores().insert(0, 5)`, party[0]'s mana 2, a grid row [8], then `mark_all`:
 * every field whole (pets: replace with nothing).
 */
const WHOLE =
  "98 02 04 01 00 90 90 91 99 00 7f 92 03 93 92 00 05 92 01 0a 92 02 19 92 01 91 92 00 93 03 09 02 93 c3 90 91 92 a6 61 72 72 6f 77 73 13 93 c3 90 90 " +
  "93 03 a5 6e 6f 72 74 68 92 01 91 92 00 93 03 07 09 92 01 91 92 00 92 01 91 92 00 08 93 c3 90 91 92 92 02 00 92 a3 67 65 6d 01 c0";

/** Tick 5: `scores().pop()` (the length only) and party[0]'s hp 4. */
const AFTER = "98 02 05 01 00 90 90 91 94 00 03 92 02 90 92 01 91 92 00 92 01 04 c0";

interface Stats {
  hp: number;
  mana: number;
}
interface Item {
  name: string;
  count: number;
}
interface Hero {
  scores: number[];
  party: Stats[];
  bag: Map<string, number>;
  pets: Map<number, Stats>;
  camp: { name: string; guards: Stats[] };
  grid: number[][];
  cells: Map<[number, number], Item>;
}
interface Board {
  ranks: Map<string, number>;
  log: string[];
}

const whole = <V>(entries: [unknown, V][]) => ({ replace: true, removed: [], entries });
const list = <V>(len: number, entries: [number, V][]) => ({ len, entries });

/** What each frame decodes to: the hero's fields, and the board's. */
const DECODED: Record<string, { hero: object; board: object | null }> = {
  SNAPSHOT: {
    hero: {
      scores: list(3, [[0, 10], [1, 20], [2, 30]]),
      party: list(1, [[0, { hp: 5, mana: 6 }]]),
      bag: whole([["arrows", 20], ["bread", 2]]),
      pets: whole([[1, { hp: 30, mana: 0 }]]),
      camp: { name: "north", guards: list(1, [[0, { hp: 7, mana: 8 }]]) },
      grid: list(1, [[0, list(2, [[0, 1], [1, 2]])]]),
      cells: whole([[[0, 1], { name: "key", count: 1 }]]),
    },
    board: { ranks: whole([["00000001", 3]]), log: list(1, [[0, "start"]]) },
  },
  CHANGES: {
    hero: {
      scores: list(4, [[1, 25], [3, 40]]),
      party: list(2, [[0, { hp: 3 }], [1, { hp: 9, mana: 1 }]]),
      bag: { replace: false, removed: ["bread"], entries: [["arrows", 19]] },
      pets: { replace: false, removed: [], entries: [[1, { mana: 5 }], [2, { hp: 10, mana: 0 }]] },
      camp: { guards: list(1, [[0, { mana: 9 }]]) },
      grid: list(1, [[0, list(3, [[2, 3]])]]),
      cells: {
        replace: false,
        removed: [],
        entries: [
          [[0, 1], { name: "key", count: 2 }],
          [[2, 0], { name: "gem", count: 1 }],
        ],
      },
    },
    board: { ranks: { replace: false, removed: [], entries: [["00000002", 1]] }, log: list(2, [[1, "ada scored"]]) },
  },
  SHRINK: {
    hero: {
      scores: list(2, []),
      party: list(1, [[0, { hp: 9, mana: 1 }]]),
      pets: { replace: false, removed: [1, 2], entries: [] },
      grid: list(0, []),
      cells: { replace: false, removed: [[0, 1]], entries: [] },
    },
    board: { ranks: { replace: false, removed: ["00000001"], entries: [] }, log: list(2, [[0, "begin"]]) },
  },
  WHOLE: {
    hero: {
      scores: list(3, [[0, 5], [1, 10], [2, 25]]),
      party: list(1, [[0, { hp: 9, mana: 2 }]]),
      bag: whole([["arrows", 19]]),
      pets: whole([]),
      camp: { name: "north", guards: list(1, [[0, { hp: 7, mana: 9 }]]) },
      grid: list(1, [[0, list(1, [[0, 8]])]]),
      cells: whole([[[2, 0], { name: "gem", count: 1 }]]),
    },
    board: null,
  },
  AFTER: { hero: { scores: list(2, []), party: list(1, [[0, { hp: 4 }]]) }, board: null },
};

const FRAMES: Record<string, string> = { SNAPSHOT, CHANGES, SHRINK, WHOLE, AFTER };

/** PROTOCOL.md's frames of `ada`'s hero in the `Quest` protocol, in order. */
const HERO_STORY = ["hero-joined", "hero-nested", "hero-maps", "hero-list", "hero-list-shift"];

/** The mirror after each frame, as the Rust server's values were (their `Debug`, transcribed). */
const MIRRORED: Record<string, { hero: Hero; board: Board }> = {
  SNAPSHOT: {
    hero: {
      scores: [10, 20, 30],
      party: [{ hp: 5, mana: 6 }],
      bag: new Map([["arrows", 20], ["bread", 2]]),
      pets: new Map([[1, { hp: 30, mana: 0 }]]),
      camp: { name: "north", guards: [{ hp: 7, mana: 8 }] },
      grid: [[1, 2]],
      cells: new Map([[[0, 1], { name: "key", count: 1 }]]),
    },
    board: { ranks: new Map([["00000001", 3]]), log: ["start"] },
  },
  CHANGES: {
    hero: {
      scores: [10, 25, 30, 40],
      party: [
        { hp: 3, mana: 6 },
        { hp: 9, mana: 1 },
      ],
      bag: new Map([["arrows", 19]]),
      pets: new Map([
        [1, { hp: 30, mana: 5 }],
        [2, { hp: 10, mana: 0 }],
      ]),
      camp: { name: "north", guards: [{ hp: 7, mana: 9 }] },
      grid: [[1, 2, 3]],
      cells: new Map<[number, number], Item>([
        [[0, 1], { name: "key", count: 2 }],
        [[2, 0], { name: "gem", count: 1 }],
      ]),
    },
    board: { ranks: new Map([["00000001", 3], ["00000002", 1]]), log: ["start", "ada scored"] },
  },
  SHRINK: {
    hero: {
      scores: [10, 25],
      party: [{ hp: 9, mana: 1 }],
      bag: new Map([["arrows", 19]]),
      pets: new Map(),
      camp: { name: "north", guards: [{ hp: 7, mana: 9 }] },
      grid: [],
      cells: new Map([[[2, 0], { name: "gem", count: 1 }]]),
    },
    board: { ranks: new Map([["00000002", 1]]), log: ["begin", "ada scored"] },
  },
  WHOLE: {
    hero: {
      scores: [5, 10, 25],
      party: [{ hp: 9, mana: 2 }],
      bag: new Map([["arrows", 19]]),
      pets: new Map(),
      camp: { name: "north", guards: [{ hp: 7, mana: 9 }] },
      grid: [[8]],
      cells: new Map([[[2, 0], { name: "gem", count: 1 }]]),
    },
    board: { ranks: new Map([["00000002", 1]]), log: ["begin", "ada scored"] },
  },
  AFTER: {
    hero: {
      scores: [5, 10],
      party: [{ hp: 4, mana: 2 }],
      bag: new Map([["arrows", 19]]),
      pets: new Map(),
      camp: { name: "north", guards: [{ hp: 7, mana: 9 }] },
      grid: [[8]],
      cells: new Map([[[2, 0], { name: "gem", count: 1 }]]),
    },
    board: { ranks: new Map([["00000002", 1]]), log: ["begin", "ada scored"] },
  },
};

function decodeSync(bytes: string, compiled = protocol): SyncFrame {
  const frame = decodeServerFrame(compiled, fromHex(bytes));
  assert.equal(frame.kind, "sync");
  return (frame as { sync: SyncFrame }).sync;
}

function frame(partial: Partial<SyncFrame>): SyncFrame {
  return { tick: 1, online: 1, flags: 0, left: [], joined: [], players: [], server: null, ...partial };
}

function decodeError(bytes: string): DecodeError {
  try {
    decodeServerFrame(protocol, fromHex(bytes));
  } catch (error) {
    assert.ok(error instanceof DecodeError, String(error));
    return error;
  }
  assert.fail("expected a DecodeError");
}

function schemaError(json: unknown): SchemaError {
  try {
    validateSchema(json);
  } catch (error) {
    assert.ok(error instanceof SchemaError, String(error));
    return error;
  }
  assert.fail("expected a SchemaError");
}

/** A copy of the collections schema to edit. */
function edited(change: (json: any) => void): any {
  const json = structuredClone(schema) as any;
  change(json);
  return json;
}

describe("synced collections: the schema", () => {
  it("accepts the schema Rust prints for SyncMap and SyncVec fields, and hashes it as Rust does", () => {
    // e4c05a926730aa8a is both Schema::fingerprint() and Game::FINGERPRINT in Rust.
    assert.equal(schema.fingerprint, "e4c05a926730aa8a");
    assert.equal(fingerprintOf(schema), "e4c05a926730aa8a");
    assert.deepEqual(
      schema.state!.fields.map((field) => (field.skip === true ? null : field.type)),
      [
        { sync_vec: "u32" },
        { sync_vec: { ref: "Stats" } },
        { sync_map: ["str", "u16"] },
        { sync_map: ["u8", { ref: "Stats" }] },
        { ref: "Camp" },
        { sync_vec: { sync_vec: "u8" } },
        { sync_map: [{ tuple: ["u8", "u8"] }, { ref: "Item" }] },
        null,
      ],
    );
    assert.deepEqual(schema.server_state!.fields[0], { name: "ranks", index: 0, type: { sync_map: ["player_id", "u32"] } });
  });

  it("hashes each synced collection as Rust's Fingerprint impls do", () => {
    // The values of `<SyncVec<u32> as Fingerprint>::FINGERPRINT` and the others, printed by Rust.
    const rust: [TypeExpr, bigint][] = [
      [{ sync_vec: "u32" }, 0x495b8ea2b3d58996n],
      [{ sync_vec: { ref: "Stats" } }, 0x20400713afc8c4acn],
      [{ sync_vec: { sync_vec: "u8" } }, 0x0a8c10a081c03f20n],
      [{ sync_map: ["str", "u16"] }, 0x29a9a6853b502ee0n],
      [{ sync_map: [{ tuple: ["u8", "u8"] }, { ref: "Item" }] }, 0x1a5492841dea736bn],
      [{ ref: "Camp" }, 0xeab8d9052a3befa3n],
    ];
    for (const [type, value] of rust) assert.equal(typeFingerprint(schema, type), value, JSON.stringify(type));
    // A synced collection is not the plain one it holds.
    assert.notEqual(typeFingerprint(schema, { seq: "u32" }), typeFingerprint(schema, { sync_vec: "u32" }));
    assert.notEqual(typeFingerprint(schema, { map: ["str", "u16"] }), typeFingerprint(schema, { sync_map: ["str", "u16"] }));
  });

  it("computes PROTOCOL.md's worked example for the Quest protocol's maps", () => {
    const lines = protocolDocFingerprints("quest");
    assert.ok(lines.length >= 7, `${lines.length} lines`);
    for (const { expression, value } of lines) {
      const type = /^type\((.*)\)$/.exec(expression);
      const computed = type
        ? typeFingerprint(questSchema, JSON.parse(type[1]!) as TypeExpr)
        : expression === "state(state)"
          ? stateFingerprint(questSchema, questSchema.state)
          : expression === "fingerprint"
            ? BigInt(`0x${fingerprintOf(questSchema)}`)
            : undefined;
      assert.notEqual(computed, undefined, `PROTOCOL.md computes ${expression}, which this test does not know`);
      assert.equal(computed!.toString(16).padStart(16, "0"), value.toString(16).padStart(16, "0"), expression);
    }
  });

  it("refuses a malformed synced collection type, naming the path", () => {
    const cases: [(json: any) => void, string, string][] = [
      [(json) => (json.state.fields[2].type = { sync_map: ["str"] }), "$.state.fields[2].type.sync_map", "expected [key, value], found 1 elements"],
      [(json) => (json.state.fields[0].type = { sync_vec: "string" }), "$.state.fields[0].type.sync_vec", "unknown primitive type `string`"],
      [(json) => (json.state.fields[0].type = { sync_vec: { ref: "Nope" } }), "$.state.fields[0].type.sync_vec.ref", "reference to `Nope`, which `types` does not define"],
      [
        (json) => (json.state.fields[0].type = { sync_list: "u8" }),
        "$.state.fields[0].type.sync_list",
        "unknown type tag `sync_list` (expected option, seq, map, array, tuple, ref, opaque, sync_map, sync_vec or sync_deque)",
      ],
    ];
    for (const [change, path, reason] of cases) {
      const error = schemaError(edited(change));
      assert.deepEqual([error.path, error.reason], [path, reason]);
    }
  });

  it("refuses a SyncMap or SyncVec anywhere but as a state field's type or a synced collection's values", () => {
    const places = "it can only be the type of a state's field or the values of a `SyncMap` or `SyncVec`, not part of another type, an event or a user type";
    const vec = `a \`SyncVec\` is synced per index: ${places}`;
    const map = `a \`SyncMap\` is synced per entry: ${places}`;
    const stats = `\`Stats\` is a nested state (\`#[derive(SyncState)]\`): ${places}`;
    const cases: [(json: any) => void, string, string][] = [
      [(json) => json.to_server.events.push({ name: "pick", kind: "named", fields: [{ name: "from", type: { sync_vec: "u8" } }] }), "$.to_server.events[0].fields[0].type.sync_vec", vec],
      [(json) => (json.state.fields[0].type = { option: { sync_vec: "u32" } }), "$.state.fields[0].type.option.sync_vec", vec],
      [(json) => (json.state.fields[0].type = { seq: { sync_map: ["u8", "u8"] } }), "$.state.fields[0].type.seq.sync_map", map],
      [(json) => (json.state.fields[0].type = { map: ["u8", { sync_vec: "u8" }] }), "$.state.fields[0].type.map[1].sync_vec", vec],
      [(json) => (json.types.Item.struct.fields[1].type = { sync_vec: "u16" }), "$.types.Item.struct.fields[1].type.sync_vec", vec],
      [(json) => (json.types.Camp.state.fields[1].type = { tuple: [{ sync_vec: { ref: "Stats" } }] }), "$.types.Camp.state.fields[1].type.tuple[0].sync_vec", vec],
      // A key is sent whole: never a synced collection, nor a nested state.
      [(json) => (json.state.fields[2].type = { sync_map: [{ sync_vec: "u8" }, "u16"] }), "$.state.fields[2].type.sync_map[0].sync_vec", vec],
      [(json) => (json.state.fields[2].type = { sync_map: [{ ref: "Stats" }, "u16"] }), "$.state.fields[2].type.sync_map[0].ref", stats],
      // Inside a plain value inside a synced collection.
      [(json) => (json.state.fields[0].type = { sync_vec: { option: { ref: "Stats" } } }), "$.state.fields[0].type.sync_vec.option.ref", stats],
    ];
    for (const [change, path, reason] of cases) {
      const error = schemaError(edited(change));
      assert.deepEqual([error.path, error.reason], [path, reason]);
    }
    // Synced collections of synced collections of nested states, in a nested state: valid.
    validateSchema(edited((json) => (json.types.Camp.state.fields[1].type = { sync_map: ["str", { sync_vec: { sync_map: ["u8", { ref: "Stats" }] } }] })));
  });
});

describe("synced collections: the codec", () => {
  it("decodes Rust's frames into deltas, and encodes them back byte for byte", () => {
    for (const [name, bytes] of Object.entries(FRAMES)) {
      const sync = decodeSync(bytes);
      const { hero, board } = DECODED[name]!;
      assert.deepEqual(sync.players, [{ netId: 0, fields: hero }], name);
      assert.deepEqual(sync.server, board, name);
      assert.equal(hex(encodeSync(protocol, sync)), bytes, name);
    }
  });

  it("decodes PROTOCOL.md's Quest frames, whose maps and list the document describes", () => {
    for (const name of HERO_STORY) {
      const { frame: expected } = docSyncFrames[name]!;
      const sync = decodeSync(hex(encodeSync(questProtocol, expected)), questProtocol);
      assert.deepEqual(sync, expected, name);
    }
  });

  it("encodes a whole Map or array as Rust sends a whole SyncMap or SyncVec", () => {
    const values = frame({
      players: [
        {
          netId: 0,
          fields: {
            scores: [10, 20, 30],
            party: [{ hp: 5, mana: 6 }],
            bag: new Map([["arrows", 20], ["bread", 2]]),
            pets: new Map([[1, { hp: 30, mana: 0 }]]),
            camp: { name: "north", guards: [{ hp: 7, mana: 8 }] },
            grid: [[1, 2]],
            cells: new Map([[[0, 1], { name: "key", count: 1 }]]),
          },
        },
      ],
      server: { ranks: new Map([["00000001", 3]]), log: ["start"] },
    });
    const snapshot = decodeSync(SNAPSHOT);
    assert.equal(hex(encodeSync(protocol, { ...values, flags: 1, joined: snapshot.joined })), SNAPSHOT);
  });

  it("refuses a list entry past the length, and values that are not the layouts", () => {
    const cases: [string, string][] = [
      // scores: [2, [[2, 7]]]
      ["92 02 91 92 02 07", "field `scores`: entries: entry 0: an entry at index 2 of a list of 2 items"],
      ["93 02 90 c0", "field `scores`: expected [len, entries] (SyncVec<u32>), found 3 elements"],
      ["92 02 91 93 00 07 07", "field `scores`: entries: entry 0: expected [index, value], found 3 elements"],
      ["92 ff 90", "field `scores`: len: a length is negative (-1)"],
      ["92 01 91 92 00 a1 61", "field `scores`: entries: entry 0: [0]: expected an integer, found a string"],
    ];
    for (const [value, reason] of cases) {
      const error = decodeError(`98 02 07 01 00 90 90 91 93 00 01 ${value} c0`);
      assert.equal(error.where.replace(/^sync frame: players: \[0\]: net id 0: /, "") + ": " + error.reason, reason, value);
    }
    const maps: [string, string][] = [
      ["92 c2 90", "field `bag`: expected [replace, removed, entries] (SyncMap<String, u16>), found 2 elements"],
      ["93 01 90 90", "field `bag`: replace: expected a bool, found"],
      ["93 c2 91 05 90", "field `bag`: removed: [0]: expected a string, found"],
      ["93 c2 90 91 91 a1 61", "field `bag`: entries: [0]: expected [key, value], found 1 elements"],
    ];
    for (const [value, reason] of maps) {
      const error = decodeError(`98 02 07 01 00 90 90 91 93 00 04 ${value} c0`);
      const message = error.where.replace(/^sync frame: players: \[0\]: net id 0: /, "") + ": " + error.reason;
      assert.ok(message.startsWith(reason), `${value}: ${message}`);
    }
  });

  it("refuses to encode what is not a delta or a whole value", () => {
    const encode = (fields: object) => encodeSync(protocol, frame({ players: [{ netId: 0, fields }] }));
    const refused = (fields: object, message: string) =>
      assert.throws(
        () => encode(fields),
        (error: unknown) => error instanceof EncodeError && error.message === `cannot encode sync entry of net id 0: ${message}`,
      );
    refused({ scores: { len: 2, entries: [[2, 1]] } }, "field `scores`: entry 0: an entry's index is below the length 2, found the number 2");
    refused({ scores: new Set([1]) }, "field `scores`: expected an array or { len, entries } (SyncVec<u32>), found an object");
    refused({ bag: { a: 1 } }, "field `bag`: expected a Map or { replace, removed, entries } (SyncMap<String, u16>), found an object");
    refused({ party: { len: 1, entries: [[0, { hp: 1, armor: 2 }]] } }, "field `party`: entry 0: [0]: Stats has no synced field `armor`");
  });
});

describe("synced collections: the mirror", () => {
  it("follows Rust's frames: lists truncated and extended, maps entry by entry, nested values merged", () => {
    const mirror = new Mirror<Hero, Board>(protocol);
    for (const [name, bytes] of Object.entries(FRAMES)) {
      const { sync, errors } = mirror.apply(decodeSync(bytes));
      assert.deepEqual(errors, []);
      assert.deepEqual(sync.changes, [{ id: "00000001", fields: DECODED[name]!.hero }], name);
      assert.deepEqual(mirror.players.get("00000001"), MIRRORED[name]!.hero, name);
      assert.deepEqual(mirror.serverState, MIRRORED[name]!.board, name);
    }
  });

  it("replaces what changed and keeps the identity of the rest", () => {
    const mirror = new Mirror<Hero, Board>(protocol);
    mirror.apply(decodeSync(SNAPSHOT));
    const before = mirror.players.get("00000001")!;
    const copy = structuredClone(before);
    mirror.apply(decodeSync(CHANGES));
    const after = mirror.players.get("00000001")!;
    // The values handlers saw are left as they were.
    assert.deepEqual(before, copy);
    assert.notEqual(after.scores, before.scores);
    assert.notEqual(after.bag, before.bag);
    // An unchanged item or entry is the same object.
    mirror.apply(decodeSync(SHRINK));
    const shrunk = mirror.players.get("00000001")!;
    assert.equal(shrunk.bag, after.bag);
    assert.equal(shrunk.camp, after.camp);
    assert.equal(shrunk.cells.get([...shrunk.cells.keys()][0]!), after.cells.get([...after.cells.keys()][1]!));
  });

  it("finds a tuple key by value, and starts a new entry or item from the defaults", () => {
    const mirror = new Mirror<Hero, Board>(protocol);
    mirror.apply(decodeSync(SNAPSHOT));
    mirror.apply(
      frame({
        players: [
          {
            netId: 0,
            fields: {
              cells: { replace: false, removed: [], entries: [[[0, 1], { name: "door", count: 2 }]] },
              pets: { replace: false, removed: [], entries: [[7, { mana: 3 }]] },
              party: { len: 3, entries: [[1, { mana: 2 }], [2, { hp: 1 }]] },
              grid: { len: 2, entries: [[1, { len: 2, entries: [[0, 4], [1, 9]] }]] },
            },
          },
        ],
      }),
    );
    const hero = mirror.players.get("00000001")!;
    assert.deepEqual(hero.cells, new Map([[[0, 1], { name: "door", count: 2 }]]));
    assert.deepEqual(hero.pets, new Map([[1, { hp: 30, mana: 0 }], [7, { hp: 0, mana: 3 }]]));
    assert.deepEqual(hero.party, [{ hp: 5, mana: 6 }, { hp: 0, mana: 2 }, { hp: 1, mana: 0 }]);
    assert.deepEqual(hero.grid, [[1, 2], [4, 9]]);
  });

  it("grows a list only by the items a frame sends", () => {
    const mirror = new Mirror<Hero, Board>(protocol);
    mirror.apply(decodeSync(SNAPSHOT));
    // A length of 4294967295 with one entry: a correct server sends every new index.
    const bytes = "98 02 07 01 00 90 90 91 93 00 01 92 ce ff ff ff ff 91 92 03 07 c0";
    mirror.apply(decodeSync(bytes));
    assert.deepEqual(mirror.players.get("00000001")!.scores, [10, 20, 30, 7]);
  });

  it("follows PROTOCOL.md's Quest story to the state the document gives", () => {
    interface QuestHero {
      x: number;
      stats: Stats;
      bag: Map<string, number>;
      pets: Map<number, Stats>;
      party: Stats[];
    }
    const mirror = new Mirror<QuestHero, object>(questProtocol);
    const party = HERO_STORY.map((name) => {
      mirror.apply(docSyncFrames[name]!.frame);
      return mirror.players.get("1a2b3c4d")!.party;
    });
    assert.deepEqual(party, [[{ hp: 40, mana: 10 }], [{ hp: 40, mana: 10 }], [{ hp: 40, mana: 10 }], [{ hp: 40, mana: 5 }, { hp: 20, mana: 20 }], [{ hp: 20, mana: 20 }]]);
    // "…leave ada with x 1.5, stats {hp: 97, mana: 50}, a bag of 19 arrows, pets 1
    // {hp: 30, mana: 5} and 2 {hp: 10, mana: 0}, and a party of one, [{hp: 20, mana: 20}]".
    assert.deepEqual(mirror.players.get("1a2b3c4d"), {
      x: 1.5,
      stats: { hp: 97, mana: 50 },
      bag: new Map([["arrows", 19]]),
      pets: new Map([
        [1, { hp: 30, mana: 5 }],
        [2, { hp: 10, mana: 0 }],
      ]),
      party: [{ hp: 20, mana: 20 }],
    });
  });
});

describe("synced collections: generated code", () => {
  const source = generate(schema);

  it("types the mirror's fields as Map and arrays, and their deltas as SyncMapDelta and SyncVecDelta", () => {
    for (const text of [
      'import { type ClientOptions, MatchRequest, NodelinkClient, type PlayerId, type ProtocolSchema, type SyncMapDelta, type SyncVecDelta, type Unsubscribe } from "nodelink-client";',
      "  /** `SyncVec<u32>` (synced per index), mask bit 0. */\n  scores: number[];\n",
      "  /** `SyncVec<Stats>` (synced per index), mask bit 1. */\n  party: Stats[];\n",
      "  /** `SyncMap<String, u16>` (synced per entry), mask bit 2. */\n  bag: Map<string, number>;\n",
      "  pets: Map<number, Stats>;\n",
      "  grid: Array<number[]>;\n",
      "  cells: Map<[number, number], Item>;\n",
      "export interface CampDelta {\n  name?: string;\n  guards?: SyncVecDelta<StatsDelta>;\n}",
      "export interface HeroDelta {\n  scores?: SyncVecDelta<number>;\n  party?: SyncVecDelta<StatsDelta>;\n  bag?: SyncMapDelta<string, number>;\n" +
        "  pets?: SyncMapDelta<number, StatsDelta>;\n  camp?: CampDelta;\n  grid?: SyncVecDelta<SyncVecDelta<number>>;\n  cells?: SyncMapDelta<[number, number], Item>;\n}",
      "export interface Board {\n  /** `SyncMap<PlayerId, u32>` (synced per entry), mask bit 0. */\n  ranks: Map<PlayerId, number>;\n  /** `SyncVec<String>` (synced per index), mask bit 1. */\n  log: string[];\n}",
      "export interface BoardDelta {\n  ranks?: SyncMapDelta<PlayerId, number>;\n  log?: SyncVecDelta<string>;\n}",
      "  stateDelta: HeroDelta;\n  serverStateDelta: BoardDelta;\n}",
      "a nested state's field holds its changed sub-fields only, a `SyncMap`'s or\n * `SyncVec`'s its changed entries. The mirror merges them.",
    ]) {
      assert.ok(source.includes(text), `missing:\n${text}\n\nin:\n${source}`);
    }
  });

  it("imports only the delta types it uses", () => {
    const json = edited((json) => {
      json.state.fields = json.state.fields.filter((field: any) => field.skip === true || "sync_vec" in field.type);
      json.state.fields.forEach((field: any, i: number) => field.skip === true || (field.index = i));
      json.server_state = null;
      delete json.types.Camp;
    });
    const source = generate({ ...json, fingerprint: fingerprintOf(validateSchema(json)) });
    assert.ok(source.includes('import { type ClientOptions, MatchRequest, NodelinkClient, type NoState, type ProtocolSchema, type SyncVecDelta, type Unsubscribe } from "nodelink-client";'), source);
    assert.ok(source.includes("export interface HeroDelta {\n  scores?: SyncVecDelta<number>;\n  party?: SyncVecDelta<StatsDelta>;\n  grid?: SyncVecDelta<SyncVecDelta<number>>;\n}"), source);
  });

  it("compiles, with a sync's changes typed as deltas and the mirror's states whole", () => {
    const dir = scratch("collections");
    writeFileSync(join(dir, "protocol.ts"), source);
    writeFileSync(
      join(dir, "usage.ts"),
      `import type { SyncMapDelta, SyncVecDelta } from "nodelink-client";
import { Client, type Hero, type StatsDelta } from "./protocol.js";

declare const client: Client;

client.onStateSync((sync, world) => {
  for (const change of sync.changes) {
    const len: number | undefined = change.fields.scores?.len;
    const first: readonly [number, number] | undefined = change.fields.scores?.entries[0];
    const party: SyncVecDelta<StatsDelta> | undefined = change.fields.party;
    const hp: number | undefined = change.fields.party?.entries[0]?.[1].hp;
    const removed: readonly string[] | undefined = change.fields.bag?.removed;
    const pets: SyncMapDelta<number, StatsDelta> | undefined = change.fields.pets;
    const row: number | undefined = change.fields.grid?.entries[0]?.[1].len;
    // @ts-expect-error a list's change is not the list
    const wrong: number[] = change.fields.scores!;
    void [len, first, party, hp, removed, pets, row, wrong];
  }
  for (const hero of world.players.values()) {
    const score: number | undefined = hero.scores[0];
    const arrows: number | undefined = hero.bag.get("arrows");
    const mana: number | undefined = hero.pets.get(1)?.mana;
    const guard: number | undefined = hero.camp.guards[0]?.hp;
    const cell: string | undefined = hero.cells.get([0, 1])?.name;
    void [score, arrows, mana, guard, cell];
  }
  const rank: number | undefined = sync.server?.ranks?.entries[0]?.[1];
  void rank;
});

const hero: Hero | undefined = client.players.get("00000001");
const log: string[] = client.serverState.log;
void [hero, log];
`,
    );
    const checked = typeCheck("collections", [join(dir, "protocol.ts"), join(dir, "usage.ts")]);
    assert.equal(checked.output, "");
    assert.equal(checked.status, 0);
  });

  it("runs: a generated client mirrors Rust's frames", async () => {
    const dir = scratch("collections-run");
    writeFileSync(join(dir, "protocol.mjs"), transformSync(source, { loader: "ts", format: "esm" }).code);
    const module = (await import(pathToFileURL(join(dir, "protocol.mjs")).href)) as {
      Client: new (url: string, options: object) => NodelinkClient<ProtocolTypes & { state: Hero; serverState: Board }>;
      FINGERPRINT: string;
      schema: ProtocolSchema;
    };
    assert.equal(module.FINGERPRINT, schema.fingerprint);
    const { WebSocket, sockets } = fakeWebSocket();
    const client = new module.Client("ws://127.0.0.1:5000/", { WebSocket });
    const errors: unknown[] = [];
    client.onError((error) => errors.push(error));
    const connected = client.connect();
    const socket = sockets[0]!;
    socket.accept();
    socket.receive(encodeWelcome({ fingerprint: module.FINGERPRINT, id: "00000001", netId: 0, tickRate: 20 }));
    await connected;
    for (const bytes of Object.values(FRAMES)) socket.receive(fromHex(bytes));
    await settle();
    assert.deepEqual(errors, []);
    assert.deepEqual(client.players.get("00000001"), MIRRORED.AFTER!.hero);
    assert.deepEqual(client.serverState, MIRRORED.AFTER!.board);
    await client.close();
  });
});
