import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  eventsFingerprint,
  FingerprintHasher,
  fingerprintOf,
  SchemaError,
  stateFingerprint,
  type TypeExpr,
  typeFingerprint,
  validateSchema,
} from "../src/index.js";
import { docGameSchema, docGameWithoutTables, gameSchema, protocolDocFingerprints, richSchema } from "./support.js";

/** FNV-1a over bytes, written out without the hasher, to check the hasher's framing. */
function fnv1a(bytes: number[]): bigint {
  let hash = 0xcbf29ce484222325n;
  for (const byte of bytes) hash = ((hash ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return hash;
}

describe("the fingerprint hasher", () => {
  it("hashes the empty string as its length: eight zero bytes", () => {
    assert.equal(new FingerprintHasher().str("").finish(), fnv1a([0, 0, 0, 0, 0, 0, 0, 0]));
    // Computed separately (a Python FNV-1a over eight zero bytes).
    assert.equal(new FingerprintHasher().str("").finish(), 0xa8c7f832281a39c5n);
  });

  it("feeds numbers little-endian and strings length-prefixed in UTF-8", () => {
    assert.equal(new FingerprintHasher().u64(0x0102030405060708n).finish(), fnv1a([8, 7, 6, 5, 4, 3, 2, 1]));
    assert.equal(new FingerprintHasher().str("é").finish(), fnv1a([2, 0, 0, 0, 0, 0, 0, 0, 0xc3, 0xa9]));
    assert.notEqual(new FingerprintHasher().str("ab").str("c").finish(), new FingerprintHasher().str("a").str("bc").finish());
  });
});

describe("fingerprintOf", () => {
  it("gives the example game the fingerprint the Rust server computes", () => {
    // The schema files were printed by the Rust side, fingerprints included.
    assert.equal(fingerprintOf(gameSchema), gameSchema.fingerprint);
    assert.equal(docGameSchema.fingerprint, "99c9f3062e72a78a");
    assert.equal(fingerprintOf(docGameSchema), "99c9f3062e72a78a");
    // The same protocol without its tables, as the Rust server hashed it before it had them.
    assert.equal(fingerprintOf(docGameWithoutTables), "5f336d21e706eab4");
  });

  it("hashes the match options and metadata last, each tagged, only when the protocol has them", () => {
    // The example game (PROTOCOL.md's example protocol) has tables as its options
    // and metadata: the hash of the protocol without them up to the entity part,
    // then the two.
    const table = typeFingerprint(gameSchema, { ref: "Table" });
    assert.equal(table, new FingerprintHasher().str("struct").str("named").str("title").u64(typeFingerprint(gameSchema, "str")).u64(1).finish());
    const head = new FingerprintHasher()
      .str("nodelink")
      .u64(3)
      .u64(stateFingerprint(docGameWithoutTables, docGameWithoutTables.state))
      .u64(eventsFingerprint(docGameWithoutTables, docGameWithoutTables.to_server))
      .u64(eventsFingerprint(docGameWithoutTables, docGameWithoutTables.to_client))
      .u64(stateFingerprint(docGameWithoutTables, docGameWithoutTables.server_state));
    assert.equal(head.finish().toString(16).padStart(16, "0"), docGameWithoutTables.fingerprint);
    const both = head.str("options").u64(table).str("metadata").u64(table).finish();
    assert.equal(fingerprintOf(gameSchema), both.toString(16).padStart(16, "0"));
    // The kind is a name to ask by, not part of the protocol; options and
    // metadata are, apart and in their order.
    const { options, metadata, kind, ...bare } = gameSchema;
    assert.equal(kind, "game");
    assert.equal(fingerprintOf({ ...gameSchema, kind: "other" }), gameSchema.fingerprint);
    assert.equal(fingerprintOf(bare), docGameWithoutTables.fingerprint);
    const onlyOptions = fingerprintOf({ ...bare, options: options! });
    const onlyMetadata = fingerprintOf({ ...bare, metadata: metadata! });
    assert.equal(new Set([onlyOptions, onlyMetadata, fingerprintOf(bare), gameSchema.fingerprint]).size, 4);
    assert.notEqual(fingerprintOf({ ...gameSchema, options: "u8" }), gameSchema.fingerprint);
  });

  it("agrees with an independent implementation on every type of the language", () => {
    // rich.json uses every type expression, user structs, newtypes, tuple structs,
    // an enum and an opaque type; 6561b8bd7838a36a was computed by a separate Python
    // implementation of the same definition.
    assert.equal(fingerprintOf(richSchema), "6561b8bd7838a36a");
  });

  it("reproduces every value of PROTOCOL.md's worked example", () => {
    /** Evaluates a chain such as `H().str("f32").u64(2)`. */
    const chain = (expression: string): bigint | undefined => {
      if (!expression.startsWith("H()")) return undefined;
      const hasher = new FingerprintHasher();
      for (const [, op, argument] of expression.slice(3).matchAll(/\.(u64|str)\(([^)]*)\)/g)) {
        if (op === "u64") hasher.u64(BigInt(argument!));
        else hasher.str(JSON.parse(argument!) as string);
      }
      return hasher.finish();
    };
    const doc = docGameSchema;
    const named: Record<string, () => bigint> = {
      "state(state)": () => stateFingerprint(doc, doc.state),
      "events(to_server)": () => eventsFingerprint(doc, doc.to_server),
      "events(to_client)": () => eventsFingerprint(doc, doc.to_client),
      "state(server_state)": () => stateFingerprint(doc, doc.server_state),
      "state(null)": () => stateFingerprint(doc, null),
      fingerprint: () => BigInt(`0x${fingerprintOf(doc)}`),
    };
    const lines = protocolDocFingerprints();
    assert.ok(lines.length >= 10, `${lines.length} lines`);
    for (const { expression, value } of lines) {
      const type = /^type\((.*)\)$/.exec(expression);
      const computed = type ? typeFingerprint(doc, JSON.parse(type[1]!) as TypeExpr) : (chain(expression) ?? named[expression]?.());
      assert.notEqual(computed, undefined, `PROTOCOL.md computes ${expression}, which this test does not know`);
      assert.equal(computed!.toString(16).padStart(16, "0"), value.toString(16).padStart(16, "0"), expression);
    }
  });

  it("hashes primitives by name and composites by shape", () => {
    const types = { types: richSchema.types };
    assert.equal(typeFingerprint(types, "u8"), 0x9c88c3d328cbe24an);
    assert.equal(typeFingerprint(types, "player_id"), 0xb9db03341dd56eb7n);
    assert.equal(typeFingerprint(types, { opaque: "0123456789abcdef" }), 0x0123456789abcdefn);
    const option = new FingerprintHasher().str("option").u64(typeFingerprint(types, "u8")).finish();
    assert.equal(typeFingerprint(types, { option: "u8" }), option);
    const array = new FingerprintHasher().str("array").u64(3).u64(typeFingerprint(types, "f32")).finish();
    assert.equal(typeFingerprint(types, { array: ["f32", 3] }), array);
    const shapes = [
      "u8",
      "u16",
      "f32",
      { option: "f32" },
      { seq: "f32" },
      { array: ["f32", 2] },
      { array: ["f32", 3] },
      { tuple: ["f32", "f32"] },
      { tuple: ["f32", "f32", "f32"] },
      { map: ["str", "f32"] },
      { map: ["f32", "str"] },
      { ref: "Vec2" },
      { ref: "Vec22" },
    ] as const;
    const all = shapes.map((shape) => typeFingerprint(types, shape));
    assert.equal(new Set(all).size, all.length);
  });

  it("changes with any change to the protocol, and ignores skipped fields", () => {
    const base = fingerprintOf(richSchema);
    const edit = (change: (json: any) => void): string => {
      const json = structuredClone(richSchema) as any;
      change(json);
      return fingerprintOf(validateSchema(json));
    };
    assert.notEqual(edit((json) => (json.types.Vec2.struct.fields[1].type = "f64")), base);
    assert.notEqual(edit((json) => (json.to_server.events[0].name = "put")), base);
    assert.notEqual(edit((json) => (json.wire_version = 2)), base);
    assert.notEqual(edit((json) => json.to_client.events.reverse().push({ name: "gone", kind: "unit", fields: [] })), base);
    assert.notEqual(edit((json) => (json.server_state = null)), base);
    assert.equal(edit((json) => (json.state.fields[11].name = "other_secret")), base);
    assert.equal(
      edit((json) => {
        json.fingerprint = "ffffffffffffffff";
      }),
      base,
    );
  });

  it("is not computed for a schema that refers to an undefined type", () => {
    const json = structuredClone(gameSchema) as any;
    json.to_server.events[0].fields[0].type = { ref: "Nowhere" };
    assert.throws(() => validateSchema(json), (error: unknown) => error instanceof SchemaError && error.path === "$.to_server.events[0].fields[0].type.ref");
  });
});
