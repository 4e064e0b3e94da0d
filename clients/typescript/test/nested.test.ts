import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, it } from "node:test";

import { transformSync } from "esbuild";

import { generate } from "../src/codegen/index.js";
import {
  DecodeError,
  decodeServerFrame,
  EncodeError,
  encodeSync,
  encodeWelcome,
  FingerprintHasher,
  fingerprintOf,
  Mirror,
  type NodelinkClient,
  type ProtocolSchema,
  type ProtocolTypes,
  SchemaError,
  stateFingerprint,
  type StateSync,
  type SyncFrame,
  typeFingerprint,
  validateSchema,
} from "../src/index.js";
import { fakeWebSocket, fromHex, hex, nestedProtocol, nestedSchema, settle } from "./support.js";
import { scratch, typeCheck } from "./tools.js";

// The frames below were encoded by the Rust server's encoder (`encode_sync`) for the
// protocol of nodelink/tests/nested.rs, which test/fixtures/nested.json describes.

/** `hero.state_mut().stats().set_hp(3)`: [2, 7, 1, 0, [], [], [[net 0, mask 0b010, [mask 0b01, 3]]], nil]. */
const HP_3 = "98 02 07 01 00 90 90 91 93 00 02 92 01 03 c0";

/**
 * A snapshot: player 00000001 joins as net id 0 with `Hero { x: 1.0, stats: Stats {
 * hp: 5, mana: 6 }, gear: Gear { weapon: "bow", stats: Stats { hp: 7, mana: 8 } } }`,
 * and the server state is `Stats { hp: 1, mana: 2 }`: every mask has every bit.
 */
const SNAPSHOT =
  "98 02 01 01 01 90 91 92 00 01 91 95 00 07 ca 3f 80 00 00 93 03 05 06 93 03 a3 62 6f 77 93 03 07 08 93 03 01 02";

/** Then `gear().stats().set_mana(500).set_hp(1)` and `gear().set_weapon("axe")`: [0, 0b100, [0b11, "axe", [0b11, 1, 500]]]. */
const GEAR_CHANGED = "98 02 08 01 00 90 90 91 93 00 04 93 03 a3 61 78 65 93 03 01 cd 01 f4 c0";

/** Then `gear().stats().set_hp(9)`, two levels down, and the server state's `hp` (4). */
const GEAR_STATS_HP = "98 02 09 01 00 90 90 91 93 00 04 92 02 92 01 09 92 01 04";

function decodeSync(bytes: string): SyncFrame {
  const frame = decodeServerFrame(nestedProtocol, fromHex(bytes));
  assert.equal(frame.kind, "sync");
  return (frame as { sync: SyncFrame }).sync;
}

function frame(partial: Partial<SyncFrame>): SyncFrame {
  return { tick: 1, online: 1, flags: 0, left: [], joined: [], players: [], server: null, ...partial };
}

function decodeError(bytes: string): DecodeError {
  try {
    decodeServerFrame(nestedProtocol, fromHex(bytes));
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

/** A copy of the nested schema to edit. */
function edited(change: (json: any) => void): any {
  const json = structuredClone(nestedSchema) as any;
  change(json);
  return json;
}

const HERO = { x: 1, stats: { hp: 5, mana: 6 }, gear: { weapon: "bow", stats: { hp: 7, mana: 8 } } };

interface Stats {
  hp: number;
  mana: number;
}
interface Hero {
  x: number;
  stats: Stats;
  gear: { weapon: string; stats: Stats };
}

describe("nested state: the schema", () => {
  it("accepts the schema Rust prints for nested states, and hashes it as Rust does", () => {
    // 9ca3416d1a2b1a5c is both Schema::fingerprint() and Game::FINGERPRINT in Rust.
    assert.equal(nestedSchema.fingerprint, "9ca3416d1a2b1a5c");
    assert.equal(fingerprintOf(nestedSchema), "9ca3416d1a2b1a5c");
    assert.deepEqual(nestedSchema.types.Stats, {
      state: {
        fields: [
          { name: "hp", index: 0, type: "u8" },
          { name: "mana", index: 1, type: "u16" },
        ],
      },
    });
  });

  it("hashes a reference to a nested state exactly like a state", () => {
    const types = { types: nestedSchema.types };
    const stats = new FingerprintHasher()
      .str("state")
      .str("named")
      .str("hp")
      .u64(typeFingerprint(types, "u8"))
      .str("mana")
      .u64(typeFingerprint(types, "u16"))
      .u64(2)
      .finish();
    assert.equal(typeFingerprint(types, { ref: "Stats" }), stats);
    // The server state is `Stats` too, as a top-level state.
    assert.equal(stateFingerprint(types, nestedSchema.server_state), stats);
    const gear = new FingerprintHasher().str("state").str("named").str("weapon").u64(typeFingerprint(types, "str")).str("stats").u64(stats).u64(2).finish();
    assert.equal(typeFingerprint(types, { ref: "Gear" }), gear);
  });

  it("sees a nested state's synced fields, not its server-only ones nor its name", () => {
    const base = fingerprintOf(nestedSchema);
    const fingerprint = (change: (json: any) => void) => fingerprintOf(validateSchema(edited(change)));
    assert.equal(
      fingerprint((json) => json.types.Stats.state.fields.push({ name: "secret", skip: true })),
      base,
    );
    assert.equal(
      fingerprint((json) => {
        json.types.Stats2 = json.types.Stats;
        delete json.types.Stats;
        json.state.fields[1].type.ref = "Stats2";
        json.types.Gear.state.fields[1].type.ref = "Stats2";
      }),
      base,
    );
    assert.notEqual(
      fingerprint((json) => (json.types.Stats.state.fields[1].name = "mp")),
      base,
    );
    assert.notEqual(
      fingerprint((json) => (json.types.Gear.state.fields[1].type = "u8")),
      base,
    );
    // A struct with the same fields is another type.
    assert.notEqual(
      fingerprint((json) => (json.types.Stats = { struct: { kind: "named", fields: [{ name: "hp", type: "u8" }, { name: "mana", type: "u16" }] } })),
      base,
    );
  });

  it("refuses malformed nested states, naming the path", () => {
    const cases: [(json: any) => void, string, string][] = [
      [
        (json) => (json.types.Stats.state.fields[1].index = 2),
        "$.types.Stats.state.fields[1].index",
        "synced fields are numbered 0, 1, … in declaration order: expected 1, found 2",
      ],
      [(json) => (json.types.Stats.state.name = "Stats"), "$.types.Stats.state.name", "unexpected key (expected `fields`)"],
      [(json) => (json.types.Stats.state.fields[0].name = "mana"), "$.types.Stats.state.fields[1].name", "duplicate field name `mana`"],
      [
        (json) => (json.types.Stats.state.fields = Array.from({ length: 65 }, (_, i) => ({ name: `f${i}`, index: i, type: "bool" }))),
        "$.types.Stats.state.fields",
        "a state has at most 64 synced fields, found 65",
      ],
      [(json) => (json.types.Stats.state.fields[0].type = { ref: "Gear" }), "$.types.Gear", "the type contains itself (Gear → Stats → Gear)"],
      [
        (json) => (json.types.Stats = { state: { fields: [] }, struct: { kind: "unit", fields: [] } }),
        "$.types.Stats",
        'a type definition is {"struct": …}, {"enum": […]} or {"state": {"fields": […]}}, found keys ["state","struct"]',
      ],
    ];
    for (const [change, path, reason] of cases) {
      const error = schemaError(edited(change));
      assert.deepEqual([error.path, error.reason], [path, reason]);
    }
  });

  it("refuses a nested state anywhere but as a state field's type", () => {
    const reason =
      "`Stats` is a nested state (`#[derive(SyncState)]`): it can only be the type of a state's field or the values of a `SyncMap` or `SyncVec`, not part of another type, an event or a user type";
    const cases: [(json: any) => void, string][] = [
      [(json) => json.to_server.events.push({ name: "heal", kind: "named", fields: [{ name: "to", type: { ref: "Stats" } }] }), "$.to_server.events[0].fields[0].type.ref"],
      [(json) => (json.state.fields[1].type = { option: { ref: "Stats" } }), "$.state.fields[1].type.option.ref"],
      [(json) => (json.types.Gear.state.fields[1].type = { seq: { ref: "Stats" } }), "$.types.Gear.state.fields[1].type.seq.ref"],
      [(json) => (json.types.Pair = { struct: { kind: "tuple", fields: [{ name: "0", type: { ref: "Stats" } }] } }), "$.types.Pair.struct.fields[0].type.ref"],
      [(json) => (json.types.Loot = { enum: [{ name: "Some", kind: "tuple", fields: [{ name: "0", type: { tuple: ["u8", { ref: "Stats" }] } }] }] }), "$.types.Loot.enum[0].fields[0].type.tuple[1].ref"],
    ];
    for (const [change, path] of cases) {
      const error = schemaError(edited(change));
      assert.deepEqual([error.path, error.reason], [path, reason]);
    }
  });
});

describe("nested state: the codec", () => {
  it("decodes Rust's delta of one nested sub-field into a partial object, and encodes it back byte for byte", () => {
    const sync = decodeSync(HP_3);
    assert.deepEqual(sync, { tick: 7, online: 1, flags: 0, left: [], joined: [], players: [{ netId: 0, fields: { stats: { hp: 3 } } }], server: null });
    assert.equal(hex(encodeSync(nestedProtocol, sync)), HP_3);
  });

  it("decodes Rust's snapshot into complete objects: every mask has every bit", () => {
    const sync = decodeSync(SNAPSHOT);
    assert.deepEqual(sync, {
      tick: 1,
      online: 1,
      flags: 1,
      left: [],
      joined: [{ netId: 0, id: "00000001" }],
      players: [{ netId: 0, fields: HERO }],
      server: { hp: 1, mana: 2 },
    });
    assert.equal(hex(encodeSync(nestedProtocol, sync)), SNAPSHOT);
  });

  it("decodes nested states inside nested states (Rust's frames)", () => {
    const gear = decodeSync(GEAR_CHANGED);
    assert.deepEqual(gear.players, [{ netId: 0, fields: { gear: { weapon: "axe", stats: { hp: 1, mana: 500 } } } }]);
    assert.equal(hex(encodeSync(nestedProtocol, gear)), GEAR_CHANGED);
    const deep = decodeSync(GEAR_STATS_HP);
    assert.deepEqual(deep.players, [{ netId: 0, fields: { gear: { stats: { hp: 9 } } } }]);
    assert.deepEqual(deep.server, { hp: 4 });
    assert.equal(hex(encodeSync(nestedProtocol, deep)), GEAR_STATS_HP);
  });

  it("names the nested state and the field index of a mask bit it does not have", () => {
    // [2, 7, 1, 0, [], [], [[0, mask 0b010, [mask 0b100, 1]]], nil]: Stats has 2 fields.
    const error = decodeError("98 02 07 01 00 90 90 91 93 00 02 92 04 01 c0");
    assert.equal(
      error.message,
      "cannot decode sync frame: players: [0]: net id 0: field `stats`: state `Stats` has 2 synced field(s); the delta names field index 2",
    );
    // Two levels down: gear's stats.
    assert.equal(
      decodeError("98 02 07 01 00 90 90 91 93 00 04 92 02 92 08 01 c0").reason,
      "state `Stats` has 2 synced field(s); the delta names field index 3",
    );
  });

  it("refuses a nested value that is not [mask, value…] with as many values as the mask names", () => {
    const cases: [string, string][] = [
      ["05", "field `stats`: expected an array ([mask, value…] of Stats), found the number 5"],
      ["90", "field `stats`: expected [mask, value…] (Stats), found an empty array"],
      ["92 03 01", "field `stats`: Stats: the mask names 2 fields, but 1 value follow"],
      ["92 01 a1 61", "field `stats`: field `hp`: expected an integer, found a string"],
    ];
    for (const [value, reason] of cases) {
      const error = decodeError(`98 02 07 01 00 90 90 91 93 00 02 ${value} c0`);
      assert.equal(error.where.replace(/^sync frame: players: \[0\]: net id 0: /, "") + ": " + error.reason, reason, value);
    }
  });

  it("encodes the fields present in a nested value, and refuses one it does not have", () => {
    const bytes = encodeSync(nestedProtocol, frame({ players: [{ netId: 0, fields: { stats: { mana: 7 } } }] }));
    assert.equal(hex(bytes), "98 02 01 01 00 90 90 91 93 00 02 92 02 07 c0");
    assert.throws(
      () => encodeSync(nestedProtocol, frame({ players: [{ netId: 0, fields: { stats: { hp: 1, armor: 2 } } }] })),
      (error: unknown) => error instanceof EncodeError && error.message === "cannot encode sync entry of net id 0: field `stats`: Stats has no synced field `armor`",
    );
    assert.throws(
      () => encodeSync(nestedProtocol, frame({ players: [{ netId: 0, fields: { gear: { stats: { hp: 300 } } } }] })),
      (error: unknown) => error instanceof EncodeError && error.message === "cannot encode sync entry of net id 0: field `gear`: field `stats`: field `hp`: 300 is out of range for u8 (0 to 255)",
    );
  });
});

describe("nested state: the mirror", () => {
  function mirrored(): { mirror: Mirror<Hero, Stats>; hero: () => Hero } {
    const mirror = new Mirror<Hero, Stats>(nestedProtocol);
    mirror.apply(decodeSync(SNAPSHOT));
    return { mirror, hero: () => mirror.players.get("00000001")! };
  }

  it("builds whole states from a snapshot", () => {
    const { mirror, hero } = mirrored();
    assert.deepEqual(hero(), HERO);
    assert.deepEqual(mirror.serverState, { hp: 1, mana: 2 });
    assert.equal(mirror.complete, true);
  });

  it("merges a nested change into the field's value: sibling sub-fields and fields keep their values", () => {
    const { mirror, hero } = mirrored();
    const before = hero();
    const { sync } = mirror.apply(decodeSync(HP_3));
    assert.deepEqual(sync.changes, [{ id: "00000001", fields: { stats: { hp: 3 } } }]);
    assert.deepEqual(hero(), { ...HERO, stats: { hp: 3, mana: 6 } });
    // New objects along the changed path; the unchanged field keeps its identity,
    // and the objects handlers saw before are left as they were.
    assert.notEqual(hero(), before);
    assert.notEqual(hero().stats, before.stats);
    assert.equal(hero().gear, before.gear);
    assert.deepEqual(before, HERO);
  });

  it("merges nested states inside nested states", () => {
    const { mirror, hero } = mirrored();
    const stats = hero().stats;
    mirror.apply(decodeSync(GEAR_CHANGED));
    assert.deepEqual(hero().gear, { weapon: "axe", stats: { hp: 1, mana: 500 } });
    const { sync } = mirror.apply(decodeSync(GEAR_STATS_HP));
    assert.deepEqual(sync.changes, [{ id: "00000001", fields: { gear: { stats: { hp: 9 } } } }]);
    assert.deepEqual(hero(), { x: 1, stats: { hp: 5, mana: 6 }, gear: { weapon: "axe", stats: { hp: 9, mana: 500 } } });
    assert.equal(hero().stats, stats);
    // The server state's delta is merged too.
    assert.deepEqual(sync.server, { hp: 4 });
    assert.deepEqual(mirror.serverState, { hp: 4, mana: 2 });
  });

  it("starts a nested value from its state's defaults", () => {
    const mirror = new Mirror<Hero, Stats>(nestedProtocol);
    mirror.apply(frame({ flags: 1, joined: [{ netId: 3, id: "0000000c" }], players: [{ netId: 3, fields: { gear: { stats: { mana: 3 } } } }] }));
    assert.deepEqual(mirror.players.get("0000000c"), { x: 0, stats: { hp: 0, mana: 0 }, gear: { weapon: "", stats: { hp: 0, mana: 3 } } });
  });
});

describe("nested state: generated code", () => {
  const source = generate(nestedSchema);

  it("declares an interface per nested state, used by the fields, and delta types", () => {
    for (const text of [
      "/** `Stats`: a nested state, synced field by field. Only synced fields are here. */\nexport interface Stats {\n  /** `u8`, mask bit 0. */\n  hp: number;\n  /** `u16`, mask bit 1. */\n  mana: number;\n}",
      "export interface StatsDelta {\n  hp?: number;\n  mana?: number;\n}",
      "export interface Gear {\n  /** `String`, mask bit 0. */\n  weapon: string;\n  /** `Stats` (a nested state), mask bit 1. */\n  stats: Stats;\n}",
      "export interface GearDelta {\n  weapon?: string;\n  stats?: StatsDelta;\n}",
      "  /** `Stats` (a nested state), mask bit 1. */\n  stats: Stats;\n  /** `Gear` (a nested state), mask bit 2. */\n  gear: Gear;\n  // `secret` is server-only",
      "export interface HeroDelta {\n  x?: number;\n  stats?: StatsDelta;\n  gear?: GearDelta;\n}",
      // The server state is named `Stats` as well: it gets another name.
      "export interface Stats_ {",
      "export interface Protocol {\n  state: Hero;\n  serverState: Stats_;\n  toServer: NothingEvents;\n  toClient: NothingEvents_;\n  stateDelta: HeroDelta;\n}",
    ]) {
      assert.ok(source.includes(text), `missing:\n${text}\n\nin:\n${source}`);
    }
  });

  it("types a server state with nested states, and nothing more for states without", () => {
    const json = edited((json) => {
      json.server_state = { name: "Match", fields: [{ name: "round", index: 0, type: "u32" }, { name: "best", index: 1, type: { ref: "Stats" } }] };
    });
    const withServer = generate({ ...json, fingerprint: fingerprintOf(json) });
    assert.ok(withServer.includes("export interface MatchDelta {\n  round?: number;\n  best?: StatsDelta;\n}"), withServer);
    assert.ok(withServer.includes("  stateDelta: HeroDelta;\n  serverStateDelta: MatchDelta;\n}"));
    assert.ok(!source.includes("serverStateDelta"));
    assert.ok(!source.includes("Stats_Delta"));
  });

  it("compiles, with a sync's nested changes typed as partial and the mirror's states whole", () => {
    const dir = scratch("nested");
    writeFileSync(join(dir, "protocol.ts"), source);
    writeFileSync(
      join(dir, "usage.ts"),
      `import type { ServerStateDeltaOf, StateDeltaOf } from "nodelink-client";
import { Client, type Gear, type HeroDelta, type Protocol, type Stats } from "./protocol.js";

declare const client: Client;

client.onStateSync((sync, world) => {
  for (const change of sync.changes) {
    const hp: number | undefined = change.fields.stats?.hp;
    const weapon: string | undefined = change.fields.gear?.weapon;
    const mana: number | undefined = change.fields.gear?.stats?.mana;
    // @ts-expect-error a nested change may lack any sub-field
    const sure: number = change.fields.stats!.hp;
    void [hp, weapon, mana, sure];
  }
  for (const hero of world.players.values()) {
    const hp: number = hero.stats.hp;
    const gear: Gear = hero.gear;
    void [hp, gear];
  }
  const serverHp: number | undefined = sync.server?.hp;
  void serverHp;
});

const stats: Stats | undefined = client.players.get("00000001")?.stats;
// @ts-expect-error the server-only field is not mirrored
const secret = client.players.get("00000001")?.secret;
const delta: StateDeltaOf<Protocol> = { gear: { stats: { hp: 1 } } } satisfies HeroDelta;
const server: ServerStateDeltaOf<Protocol> = { mana: 1 };
void [stats, secret, delta, server];
`,
    );
    const checked = typeCheck("nested", [join(dir, "protocol.ts"), join(dir, "usage.ts")]);
    assert.equal(checked.output, "");
    assert.equal(checked.status, 0);
  });

  it("runs: a generated client mirrors Rust's nested frames", async () => {
    const dir = scratch("nested-run");
    writeFileSync(join(dir, "protocol.mjs"), transformSync(source, { loader: "ts", format: "esm" }).code);
    const module = (await import(pathToFileURL(join(dir, "protocol.mjs")).href)) as {
      Client: new (url: string, options: object) => NodelinkClient<ProtocolTypes & { state: Hero; serverState: Stats }>;
      FINGERPRINT: string;
      schema: ProtocolSchema;
    };
    assert.equal(module.FINGERPRINT, nestedSchema.fingerprint);
    const { WebSocket, sockets } = fakeWebSocket();
    const client = new module.Client("ws://127.0.0.1:5000/", { WebSocket });
    const syncs: StateSync<Hero, Stats>[] = [];
    client.onStateSync((sync) => syncs.push(sync as StateSync<Hero, Stats>));
    const errors: unknown[] = [];
    client.onError((error) => errors.push(error));
    const connected = client.connect();
    const socket = sockets[0]!;
    socket.accept();
    socket.receive(encodeWelcome({ fingerprint: module.FINGERPRINT, id: "00000001", netId: 0, tickRate: 20 }));
    await connected;
    for (const bytes of [SNAPSHOT, HP_3, GEAR_CHANGED, GEAR_STATS_HP]) socket.receive(fromHex(bytes));
    await settle();
    assert.deepEqual(errors, []);
    assert.deepEqual(
      syncs.map((sync) => sync.changes.map((change) => change.fields)),
      [[HERO], [{ stats: { hp: 3 } }], [{ gear: { weapon: "axe", stats: { hp: 1, mana: 500 } } }], [{ gear: { stats: { hp: 9 } } }]],
    );
    assert.deepEqual(client.players.get("00000001"), { x: 1, stats: { hp: 3, mana: 6 }, gear: { weapon: "axe", stats: { hp: 9, mana: 500 } } });
    assert.deepEqual(client.serverState, { hp: 4, mana: 2 });
    await client.close();
  });
});
