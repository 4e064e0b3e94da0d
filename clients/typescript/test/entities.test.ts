import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
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
  encodeClientEvent,
  encodeServerEvent,
  encodeSync,
  encodeWelcome,
  type EntityId,
  FingerprintHasher,
  fingerprintOf,
  isEntityId,
  Mirror,
  type NodelinkClient,
  type NoState,
  type ProtocolSchema,
  type ProtocolTypes,
  SchemaError,
  stateFingerprint,
  type StateSync,
  type SyncFrame,
  typeFingerprint,
  typeName,
  validateSchema,
  type World,
} from "../src/index.js";
import { fakeWebSocket, fromHex, gameProtocol, gameSchema, hex, packageRoot, readSchema, settle } from "./support.js";
import { scratch, typeCheck } from "./tools.js";

// The schema and frames below are what the Rust side prints for the protocol of
// nodelink/tests/entity_fixtures.rs, which checks that these files stay so:
// `Avatar { x: f32, holding: Option<EntityId> }` per player, no server state,
// entities `Crate { x: f32, kind: u8, #[sync(owner)] secret: u8 }`, and the events
// `grab { target: EntityId }` and `grabbed { by: PlayerId, target: EntityId }`.
// The frames were made by `encode_sync_with_entities`, entities with every field
// but the owner one.

const schema = readSchema("test/fixtures/entities.json");
const protocol = compileProtocol(schema);
const fixtures = JSON.parse(readFileSync(join(packageRoot, "test/fixtures/entities-frames.json"), "utf8")) as Record<string, string>;

/** Player 1a2b3c4d joins; crates 1 and 2 spawn. */
const SPAWN = fixtures.spawn!;
/** The player holds crate 1; crate 2's `x` changes. */
const CHANGE = fixtures.change!;
/** Crate 1 is despawned; the player holds nothing. */
const DESPAWN = fixtures.despawn!;
/** The player's `x`, and no entity change: eight elements. */
const PLAIN = fixtures.plain!;
/** A snapshot: the player, crates 2 and 5. */
const SNAPSHOT = fixtures.snapshot!;

interface Avatar {
  x: number;
  holding: EntityId | null;
}
interface Crate {
  x: number;
  kind: number;
  secret: number;
}

const PLAYER = "1a2b3c4d";

/** The frames as the decoder gives them. */
const decoded: Record<string, SyncFrame> = {
  spawn: {
    tick: 10,
    online: 1,
    flags: 0,
    left: [],
    joined: [{ netId: 0, id: PLAYER }],
    players: [{ netId: 0, fields: { x: 2, holding: null } }],
    server: null,
    despawned: [],
    entities: [
      { id: 1, fields: { x: 1.5, kind: 2 } },
      { id: 2, fields: { x: -3, kind: 7 } },
    ],
  },
  change: {
    tick: 11,
    online: 1,
    flags: 0,
    left: [],
    joined: [],
    players: [{ netId: 0, fields: { holding: 1 } }],
    server: null,
    despawned: [],
    entities: [{ id: 2, fields: { x: 4.25 } }],
  },
  despawn: {
    tick: 12,
    online: 1,
    flags: 0,
    left: [],
    joined: [],
    players: [{ netId: 0, fields: { holding: null } }],
    server: null,
    despawned: [1],
    entities: [],
  },
  plain: { tick: 13, online: 1, flags: 0, left: [], joined: [], players: [{ netId: 0, fields: { x: 2 } }], server: null },
  snapshot: {
    tick: 20,
    online: 1,
    flags: 1,
    left: [],
    joined: [{ netId: 0, id: PLAYER }],
    players: [{ netId: 0, fields: { x: 2, holding: null } }],
    server: null,
    despawned: [],
    entities: [
      { id: 2, fields: { x: 4.25, kind: 7 } },
      { id: 5, fields: { x: 0.5, kind: 1 } },
    ],
  },
};

function decodeSync(bytes: string, with_ = protocol): SyncFrame {
  const frame = decodeServerFrame(with_, fromHex(bytes));
  assert.equal(frame.kind, "sync");
  return (frame as { sync: SyncFrame }).sync;
}

function decodeError(bytes: string, with_ = protocol): DecodeError {
  try {
    decodeServerFrame(with_, fromHex(bytes));
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

/** A copy of the entity schema to edit. */
function edited(change: (json: any) => void): any {
  const json = structuredClone(schema) as any;
  change(json);
  return json;
}

/** The schema with a nested state in the entity: `Crate { …, health: Hp { hp: u8 } }`. */
function nestedEntitySchema(): ProtocolSchema {
  const json = edited((json) => {
    json.types.Hp = { state: { fields: [{ name: "hp", index: 0, type: "u8" }, { name: "max", index: 1, type: "u8" }] } };
    json.entity.fields.push({ name: "health", index: 3, type: { ref: "Hp" } });
  });
  return validateSchema({ ...json, fingerprint: fingerprintOf(json) });
}

describe("entities: the schema", () => {
  it("accepts the schema Rust prints for a protocol with entities, and hashes it as Rust does", () => {
    // cb641a3bdd5f1cb4 is both Schema::fingerprint() and Warehouse::FINGERPRINT in Rust.
    assert.equal(schema.fingerprint, "cb641a3bdd5f1cb4");
    assert.equal(fixtures.fingerprint, "cb641a3bdd5f1cb4");
    assert.equal(fingerprintOf(schema), "cb641a3bdd5f1cb4");
    assert.deepEqual(schema.entity, {
      name: "Crate",
      fields: [
        { name: "x", index: 0, type: "f32" },
        { name: "kind", index: 1, type: "u8" },
        { name: "secret", index: 2, type: "u8", owner: true },
      ],
    });
  });

  it("appends the entity state's hash, as a state's, after the server state's", () => {
    const types = { types: schema.types };
    const crate = new FingerprintHasher()
      .str("state")
      .str("named")
      .str("x")
      .u64(typeFingerprint(types, "f32"))
      .str("kind")
      .u64(typeFingerprint(types, "u8"))
      .str("secret")
      .u64(typeFingerprint(types, "u8"))
      .u64(3)
      .finish();
    assert.equal(stateFingerprint(types, schema.entity!), crate);
    const events = (json: ProtocolSchema["to_server"]) => {
      const hasher = new FingerprintHasher().str("events").u64(json.events.length);
      for (const event of json.events) {
        hasher.str(event.name).str(event.kind);
        for (const field of event.fields) hasher.str(field.name).u64(typeFingerprint(types, field.type));
        hasher.u64(event.fields.length);
      }
      return hasher.finish();
    };
    const base = () =>
      new FingerprintHasher()
        .str("nodelink")
        .u64(3)
        .u64(stateFingerprint(types, schema.state))
        .u64(events(schema.to_server))
        .u64(events(schema.to_client))
        .u64(stateFingerprint(types, null));
    assert.equal(fingerprintOf(schema), base().u64(crate).finish().toString(16).padStart(16, "0"));
    // Without the entity, the protocol hashes as if entities did not exist.
    const { entity: _, ...without } = schema;
    assert.equal(fingerprintOf(without), base().finish().toString(16).padStart(16, "0"));
  });

  it("hashes `entity_id` by its name, and names it EntityId", () => {
    assert.equal(typeFingerprint(schema, "entity_id"), new FingerprintHasher().str("entity_id").finish());
    assert.notEqual(typeFingerprint(schema, "entity_id"), typeFingerprint(schema, "u32"));
    assert.equal(typeName({ option: "entity_id" }), "Option<EntityId>");
  });

  it("sees the entity state's synced fields, not its name nor the owner mark", () => {
    const base = fingerprintOf(schema);
    const fingerprint = (change: (json: any) => void) => fingerprintOf(validateSchema(edited(change)));
    assert.equal(fingerprint((json) => (json.entity.name = "Box")), base);
    assert.equal(fingerprint((json) => delete json.entity.fields[2].owner), base);
    assert.equal(fingerprint((json) => json.entity.fields.push({ name: "note", skip: true })), base);
    assert.notEqual(fingerprint((json) => (json.entity.fields[1].name = "sort")), base);
    assert.notEqual(fingerprint((json) => (json.entity.fields[1].type = "u16")), base);
    // An entity state without fields is still an entity state.
    assert.notEqual(fingerprint((json) => (json.entity.fields = [])), fingerprint((json) => delete json.entity));
  });

  it("reads `\"entity\": null` as no entity, and keeps a schema without one as it was", () => {
    const json = edited((json) => (json.entity = null));
    const valid = validateSchema(json);
    assert.equal("entity" in valid, false);
    assert.equal(fingerprintOf(valid), fingerprintOf(edited((json) => delete json.entity)));
    assert.equal("entity" in validateSchema(structuredClone(gameSchema)), false);
    assert.equal(compileProtocol(valid).entity, null);
    assert.equal(gameProtocol.entity, null);
  });

  it("refuses a malformed entity state, naming the path", () => {
    const cases: [(json: any) => void, string, string][] = [
      [(json) => (json.entity = []), "$.entity", "expected an object, found an array"],
      [(json) => (json.entity.kind = "state"), "$.entity.kind", "unexpected key (expected `name`, `fields`, `one_of`)"],
      [(json) => (json.entity.name = 5), "$.entity.name", "expected a string, found number 5"],
      [
        (json) => (json.entity.fields[1].index = 2),
        "$.entity.fields[1].index",
        "synced fields are numbered 0, 1, … in declaration order: expected 1, found 2",
      ],
      [(json) => (json.entity.fields[0].type = "entity"), "$.entity.fields[0].type", "unknown primitive type `entity`"],
      [(json) => (json.entity.fields[2].owner = "yes"), "$.entity.fields[2].owner", 'expected true or false, found string "yes"'],
      [(json) => (json.entity.fields[0].type = { ref: "Missing" }), "$.entity.fields[0].type.ref", "reference to `Missing`, which `types` does not define"],
      [
        (json) => {
          json.types.Hp = { state: { fields: [{ name: "hp", index: 0, type: "u8" }] } };
          json.entity.fields[0].type = { option: { ref: "Hp" } };
        },
        "$.entity.fields[0].type.option.ref",
        "`Hp` is a nested state (`#[derive(SyncState)]`): it can only be the type of a state's field or the values of a `SyncMap` or `SyncVec`, not part of another type, an event or a user type",
      ],
    ];
    for (const [change, path, reason] of cases) {
      const error = schemaError(edited(change));
      assert.deepEqual([error.path, error.reason], [path, reason]);
    }
  });

  it("accepts a nested state as an entity field's type", () => {
    const nested = nestedEntitySchema();
    assert.deepEqual(nested.entity!.fields[3], { name: "health", index: 3, type: { ref: "Hp" } });
  });
});

describe("entities: the codec", () => {
  for (const [name, bytes] of Object.entries(fixtures).filter(([name]) => name !== "fingerprint")) {
    it(`decodes Rust's ${name} frame and encodes it back byte for byte`, () => {
      const sync = decodeSync(bytes);
      assert.deepEqual(sync, decoded[name]);
      assert.equal(hex(encodeSync(protocol, sync)), bytes);
    });
  }

  it("reads an entity's owner field nowhere: Rust never sends it", () => {
    for (const frame of Object.values(decoded)) {
      for (const entry of frame.entities ?? []) assert.equal("secret" in entry.fields, false);
    }
  });

  it("writes and reads entity ids as unsigned 32-bit integers, in events too", () => {
    assert.equal(hex(encodeClientEvent(protocol, "grab", { target: 7 })), "93 01 a4 67 72 61 62 07");
    assert.equal(hex(encodeClientEvent(protocol, "grab", { target: 0xffff_ffff })), "93 01 a4 67 72 61 62 ce ff ff ff ff");
    const bytes = encodeServerEvent(protocol, "grabbed", { by: PLAYER, target: 300 });
    assert.deepEqual(decodeServerFrame(protocol, bytes), { kind: "event", event: { name: "grabbed", data: { by: PLAYER, target: 300 } } });
    for (const [target, found] of [
      [-1, "the number -1"],
      [1.5, "the number 1.5"],
      [2 ** 32, "the number 4294967296"],
      ["7", 'the string "7"'],
    ] as const) {
      assert.throws(
        () => encodeClientEvent(protocol, "grab", { target }),
        (error: unknown) =>
          error instanceof EncodeError &&
          error.message === `cannot encode event \`grab\`: field \`target\`: expected an entity id (an integer from 0 to 4294967295), found ${found}`,
        String(target),
      );
    }
    // [1, "grab", 2^32]: one beyond a u32.
    assert.throws(
      () => decodeServerFrame(compileProtocol({ ...schema, to_client: schema.to_server }), fromHex("93 01 a4 67 72 61 62 cf 00 00 00 01 00 00 00 00")),
      (error: unknown) => error instanceof DecodeError && error.reason === "an entity id is a 32-bit unsigned integer, found 4294967296",
    );
    assert.equal(isEntityId(0), true);
    assert.equal(isEntityId(2 ** 32), false);
  });

  it("writes ten elements only when the frame carries entity changes, as Rust does", () => {
    const plain = { ...decoded.plain!, despawned: [], entities: [] };
    assert.equal(hex(encodeSync(protocol, plain)), PLAIN);
    assert.equal(hex(encodeSync(protocol, { ...decoded.plain!, despawned: [9] })).slice(0, 2), "9a");
  });

  it("refuses what does not fit an entity's state, naming the entity", () => {
    assert.throws(
      () => encodeSync(protocol, { ...decoded.plain!, entities: [{ id: 3, fields: { kind: 300 } }] }),
      (error: unknown) => error instanceof EncodeError && error.message === "cannot encode entity 3: field `kind`: 300 is out of range for u8 (0 to 255)",
    );
    assert.throws(
      () => encodeSync(protocol, { ...decoded.plain!, entities: [{ id: 3, fields: { hp: 1 } }] }),
      (error: unknown) => error instanceof EncodeError && error.message === "cannot encode entity 3: Crate has no synced field `hp`",
    );
    assert.throws(
      () => encodeSync(protocol, { ...decoded.plain!, despawned: [-1] }),
      (error: unknown) => error instanceof EncodeError && error.message === "cannot encode despawned: an entity id is a 32-bit unsigned integer, found -1",
    );
  });

  it("names the frame's part, the entity and the reason of what it cannot decode", () => {
    // The header of a frame with no player change: [2, 12, 1, 0, [], [], [], nil, …].
    const head = (count: number) => `${count.toString(16)} 02 0c 01 00 90 90 90 c0`;
    const cases: [string, string][] = [
      [head(0x99) + " 90", "sync frame: a sync frame has 8 elements (10 with entity changes), found 9"],
      [head(0x9a) + " 91 ff 90", "sync frame: despawned: [0]: entity id is negative (-1)"],
      [head(0x9a) + " 91 cf 00 00 00 01 00 00 00 00 90", "sync frame: despawned: [0]: an entity id is a 32-bit unsigned integer, found 4294967296"],
      [head(0x9a) + " 90 91 91 01", "sync frame: entities: [0]: an entry is [entity_id, mask, value…], found 1 elements"],
      [head(0x9a) + " 90 91 93 04 08 01", "sync frame: entities: [0]: entity 4: mask bit 3 is set, but the state has 3 fields"],
      [head(0x9a) + " 90 91 93 04 03 01", "sync frame: entities: [0]: entity 4: the mask names 2 fields, but 1 value follow"],
      [head(0x9a) + " 90 91 93 04 02 a1 61", "sync frame: entities: [0]: entity 4: field `kind`: expected an integer, found a string"],
    ];
    for (const [bytes, message] of cases) assert.equal(decodeError(bytes).message, `cannot decode ${message}`, bytes);
  });

  it("accepts ten elements in a protocol without entities only when both lists are empty", () => {
    // The example game's frame [2, 12, 1, 0, [], [], [], nil] with two lists more.
    const head = "9a 02 0c 01 00 90 90 90 c0";
    assert.deepEqual(decodeSync(`${head} 90 90`, gameProtocol), {
      tick: 12,
      online: 1,
      flags: 0,
      left: [],
      joined: [],
      players: [],
      server: null,
      despawned: [],
      entities: [],
    });
    const reason = (despawned: number, entries: string) =>
      `cannot decode sync frame: entities: the frame carries entity changes (${despawned} despawned, ${entries}), but this protocol has no entities (\`type Entity = ()\`): the server was built from another protocol`;
    assert.equal(decodeError(`${head} 91 01 90`, gameProtocol).message, reason(1, "0 entries"));
    assert.equal(decodeError(`${head} 90 91 94 02 03 ca 3f c0 00 00 02`, gameProtocol).message, reason(0, "1 entry"));
    assert.throws(
      () => encodeSync(gameProtocol, { ...decoded.plain!, players: [], despawned: [1] }),
      (error: unknown) => error instanceof EncodeError && error.message === "cannot encode sync frame: the frame carries entity changes, but this protocol has no entities",
    );
  });
});

describe("entities: the mirror", () => {
  function mirror(): Mirror<Avatar, NoState, Partial<Avatar>, Partial<NoState>, Crate> {
    return new Mirror<Avatar, NoState, Partial<Avatar>, Partial<NoState>, Crate>(protocol);
  }

  it("follows Rust's frames: spawn, change, despawn, a frame without entities, a snapshot", () => {
    const world = mirror();
    const step = (bytes: string) => world.apply(decodeSync(bytes)).sync;
    const entities = () => Object.fromEntries(world.entities);

    let sync = step(SPAWN);
    assert.deepEqual([sync.spawned, sync.despawned], [[1, 2], []]);
    assert.deepEqual(sync.entityChanges, [
      { id: 1, fields: { x: 1.5, kind: 2 } },
      { id: 2, fields: { x: -3, kind: 7 } },
    ]);
    // The owner field was never sent: it keeps its default.
    assert.deepEqual(entities(), { 1: { x: 1.5, kind: 2, secret: 0 }, 2: { x: -3, kind: 7, secret: 0 } });
    assert.deepEqual(world.players.get(PLAYER), { x: 2, holding: null });
    const one = world.entities.get(1);
    const two = world.entities.get(2);

    sync = step(CHANGE);
    assert.deepEqual([sync.spawned, sync.despawned, sync.entityChanges], [[], [], [{ id: 2, fields: { x: 4.25 } }]]);
    assert.deepEqual(entities(), { 1: { x: 1.5, kind: 2, secret: 0 }, 2: { x: 4.25, kind: 7, secret: 0 } });
    assert.deepEqual(world.players.get(PLAYER), { x: 2, holding: 1 });
    // The changed entity is a new object; the other keeps its identity, and the
    // object handlers saw before is left as it was.
    assert.equal(world.entities.get(1), one);
    assert.notEqual(world.entities.get(2), two);
    assert.deepEqual(two, { x: -3, kind: 7, secret: 0 });

    sync = step(DESPAWN);
    assert.deepEqual([sync.spawned, sync.despawned, sync.entityChanges], [[], [1], []]);
    assert.deepEqual(entities(), { 2: { x: 4.25, kind: 7, secret: 0 } });
    assert.deepEqual(world.players.get(PLAYER), { x: 2, holding: null });

    sync = step(PLAIN);
    assert.deepEqual([sync.spawned, sync.despawned, sync.entityChanges], [[], [], []]);
    assert.deepEqual(entities(), { 2: { x: 4.25, kind: 7, secret: 0 } });
    assert.equal(world.complete, false);

    sync = step(SNAPSHOT);
    // A snapshot forgets every entity first: each one it lists is new in the mirror.
    assert.deepEqual([sync.full, sync.snapshotComplete, sync.spawned, sync.despawned], [true, true, [2, 5], []]);
    assert.deepEqual(entities(), { 2: { x: 4.25, kind: 7, secret: 0 }, 5: { x: 0.5, kind: 1, secret: 0 } });
    assert.deepEqual([...world.entities.keys()], [2, 5]);
    assert.equal(world.complete, true);
  });

  it("forgets entities a snapshot does not list", () => {
    const world = mirror();
    world.apply(decodeSync(SPAWN));
    const { sync } = world.apply(decodeSync(SNAPSHOT));
    assert.deepEqual(sync.despawned, []);
    assert.deepEqual([...world.entities.keys()], [2, 5]);
  });

  it("starts an entity it does not hold from the defaults, and ignores despawning one it does not hold", () => {
    const world = mirror();
    const { sync } = world.apply({ ...decoded.plain!, players: [], despawned: [8], entities: [{ id: 9, fields: { kind: 4 } }] });
    assert.deepEqual([sync.spawned, sync.despawned], [[9], []]);
    assert.deepEqual(world.entities.get(9), { x: 0, kind: 4, secret: 0 });
  });

  it("despawns before it applies entries: an id despawned and listed in one frame starts again", () => {
    const world = mirror();
    world.apply(decodeSync(SPAWN));
    const { sync } = world.apply({ ...decoded.plain!, players: [], despawned: [1], entities: [{ id: 1, fields: { kind: 3 } }] });
    assert.deepEqual([sync.despawned, sync.spawned], [[1], [1]]);
    assert.deepEqual(world.entities.get(1), { x: 0, kind: 3, secret: 0 });
  });

  it("merges a nested state's changed sub-fields into an entity's", () => {
    const nested = compileProtocol(nestedEntitySchema());
    const world = new Mirror(nested);
    world.apply({ ...decoded.plain!, players: [], entities: [{ id: 1, fields: { x: 1, kind: 2, health: { hp: 5, max: 9 } } }] });
    const bytes = encodeSync(nested, { ...decoded.plain!, players: [], entities: [{ id: 1, fields: { health: { hp: 4 } } }] });
    const { sync } = world.apply(decodeSync(hex(bytes), nested));
    assert.deepEqual(sync.entityChanges, [{ id: 1, fields: { health: { hp: 4 } } }]);
    assert.deepEqual(world.entities.get(1), { x: 1, kind: 2, secret: 0, health: { hp: 4, max: 9 } });
  });

  it("empties on clear, and holds nothing for a protocol without entities", () => {
    const world = mirror();
    world.apply(decodeSync(SPAWN));
    world.clear();
    assert.equal(world.entities.size, 0);
    const game = new Mirror(gameProtocol);
    const { sync } = game.apply({ tick: 1, online: 0, flags: 1, left: [], joined: [], players: [], server: null });
    assert.deepEqual([game.entities.size, sync.spawned, sync.despawned, sync.entityChanges], [0, [], [], []]);
  });
});

describe("entities: generated code", () => {
  const source = generate(schema, { source: "entities.json" });

  it("declares the entity state's interface and puts it in the protocol's types", () => {
    for (const text of [
      'import { type ClientOptions, type EntityId, listMatches, type ListOptions, type MatchListing, MatchRequest, NodelinkClient, type NoState, type PlayerId, type ProtocolSchema, type Unsubscribe } from "nodelink-client";',
      "  /** `Option<EntityId>`, mask bit 1. */\n  holding: EntityId | null;",
      "/**\n * The synced state of each entity the server owns (`Crate`), mirrored in `client.entities`.\n * Only synced fields are here.\n */\nexport interface Crate {\n" +
        "  /** `f32`, mask bit 0. */\n  x: number;\n  /** `u8`, mask bit 1. */\n  kind: number;\n" +
        "  /** `u8`, mask bit 2. Never sent (`#[sync(owner)]` on an entity): always the default here. */\n  secret: number;\n}",
      "export interface Protocol {\n  state: Avatar;\n  serverState: NoState;\n  entity: Crate;\n  toServer: ToServerEvents;\n  toClient: ToClientEvents;\n}",
      "  sendGrab(fields: ToServerGrab): void {",
      '  entity: {\n    name: "Crate",',
    ]) {
      assert.ok(source.includes(text), `missing:\n${text}\n\nin:\n${source}`);
    }
    assert.ok(!source.includes("entityDelta"));
  });

  it("declares a delta type for an entity state with nested states", () => {
    const nested = generate(nestedEntitySchema());
    for (const text of [
      "export interface CrateDelta {\n  x?: number;\n  kind?: number;\n  secret?: number;\n  health?: HpDelta;\n}",
      "  entity: Crate;\n  toServer: ToServerEvents;\n  toClient: ToClientEvents;\n  entityDelta: CrateDelta;\n}",
    ]) {
      assert.ok(nested.includes(text), `missing:\n${text}\n\nin:\n${nested}`);
    }
  });

  it("keeps the name EntityId for the import only when the protocol uses entity ids", () => {
    const userType = { struct: { kind: "named", fields: [{ name: "n", type: "u8" }] } };
    const using = edited((json) => (json.types.EntityId = userType));
    assert.ok(generate({ ...using, fingerprint: fingerprintOf(using) }).includes("export interface EntityId_ {"));
    const notUsing = { ...structuredClone(gameSchema), types: { ...gameSchema.types, EntityId: userType } } as any;
    const plain = generate({ ...notUsing, fingerprint: fingerprintOf(notUsing) });
    assert.ok(plain.includes("export interface EntityId {"));
    assert.ok(!plain.includes("type EntityId,"));
  });

  it("generates a protocol without entities as before: no entity in its types", () => {
    const game = generate(gameSchema);
    assert.equal(generate({ ...structuredClone(gameSchema), entity: null }), game);
    assert.ok(!/entit/i.test(game));
  });

  it("compiles, with the mirror's entities and a sync's entity changes typed", () => {
    const dir = scratch("entities");
    writeFileSync(join(dir, "protocol.ts"), source);
    writeFileSync(join(dir, "nested.ts"), generate(nestedEntitySchema()));
    writeFileSync(
      join(dir, "usage.ts"),
      `import type { EntityDeltaOf, EntityId, EntityOf } from "nodelink-client";
import { Client, type Crate, type Protocol } from "./protocol.js";
import { Client as NestedClient, type Hp } from "./nested.js";

declare const client: Client;

client.onStateSync((sync, world) => {
  const spawned: readonly EntityId[] = sync.spawned;
  const despawned: readonly EntityId[] = sync.despawned;
  for (const change of sync.entityChanges) {
    const id: EntityId = change.id;
    const x: number | undefined = change.fields.x;
    // @ts-expect-error a change may lack any field
    const kind: number = change.fields.kind;
    // @ts-expect-error a crate has no such field
    const hp = change.fields.hp;
    void [id, x, kind, hp];
  }
  for (const [id, entity] of world.entities) {
    const n: number = id;
    const crate: Crate = entity;
    void [n, crate];
  }
  void [spawned, despawned];
});
client.onSnapshot((world) => {
  const kind: number | undefined = world.entities.get(5)?.kind;
  void kind;
});

const crate: Crate | undefined = client.entities.get(2);
const holding: EntityId | null | undefined = client.players.get("1a2b3c4d")?.holding;
client.sendGrab({ target: 2 });
// @ts-expect-error an entity id is a number
client.sendGrab({ target: "2" });
client.onGrabbed(({ by, target }) => {
  const who: string = by;
  const what: EntityId = target;
  void [who, what];
});
const entity: EntityOf<Protocol> = { x: 1, kind: 2, secret: 0 };
const delta: EntityDeltaOf<Protocol> = { kind: 3 };
void [crate, holding, entity, delta];

declare const nested: NestedClient;
nested.onStateSync((sync) => {
  for (const change of sync.entityChanges) {
    const hp: number | undefined = change.fields.health?.hp;
    // @ts-expect-error a nested change may lack any sub-field
    const max: number = change.fields.health!.max;
    void [hp, max];
  }
});
const health: Hp | undefined = nested.entities.get(1)?.health;
void health;
`,
    );
    const checked = typeCheck("entities", [join(dir, "protocol.ts"), join(dir, "nested.ts"), join(dir, "usage.ts")]);
    assert.equal(checked.output, "");
    assert.equal(checked.status, 0);
  });

  it("runs: a generated client mirrors Rust's entity frames", async () => {
    const dir = scratch("entities-run");
    writeFileSync(join(dir, "protocol.mjs"), transformSync(source, { loader: "ts", format: "esm" }).code);
    type Types = ProtocolTypes & { state: Avatar; serverState: NoState; entity: Crate; toServer: { grab: { target: EntityId } } };
    const module = (await import(pathToFileURL(join(dir, "protocol.mjs")).href)) as {
      Client: new (url: string, options: object) => NodelinkClient<Types>;
      FINGERPRINT: string;
    };
    assert.equal(module.FINGERPRINT, "cb641a3bdd5f1cb4");
    const { WebSocket, sockets } = fakeWebSocket();
    const client = new module.Client("ws://127.0.0.1:5000/", { WebSocket });
    const syncs: StateSync<Avatar, NoState, Partial<Avatar>, Partial<NoState>, Crate>[] = [];
    client.onStateSync((sync) => syncs.push(sync));
    const snapshots: World<Avatar, NoState, Crate>[] = [];
    client.onSnapshot((world) => snapshots.push(world));
    const errors: unknown[] = [];
    client.onError((error) => errors.push(error));
    const connected = client.connect();
    const socket = sockets[0]!;
    socket.accept();
    socket.receive(encodeWelcome({ fingerprint: module.FINGERPRINT, id: PLAYER, netId: 0, tickRate: 20 }));
    await connected;
    socket.receive(fromHex(SPAWN));
    await settle();
    assert.deepEqual([...client.entities.keys()], [1, 2]);
    for (const bytes of [CHANGE, DESPAWN, PLAIN, SNAPSHOT]) socket.receive(fromHex(bytes));
    await settle();
    assert.deepEqual(errors, []);
    assert.deepEqual(
      syncs.map((sync) => [sync.spawned, sync.despawned, sync.entityChanges.map((change) => change.id)]),
      [
        [[1, 2], [], [1, 2]],
        [[], [], [2]],
        [[], [1], []],
        [[], [], []],
        [[2, 5], [], [2, 5]],
      ],
    );
    assert.equal(snapshots.length, 1);
    assert.deepEqual(Object.fromEntries(client.entities), { 2: { x: 4.25, kind: 7, secret: 0 }, 5: { x: 0.5, kind: 1, secret: 0 } });
    assert.equal(client.world.entities, client.entities);
    client.send("grab", { target: 5 });
    assert.equal(hex(socket.sent.at(-1)!), "93 01 a4 67 72 61 62 05");
    await client.close();
    // A disconnect empties the mirror, entities too.
    assert.equal(client.entities.size, 0);
  });
});
