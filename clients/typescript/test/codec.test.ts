import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { asValueError, Codecs } from "../src/codec.js";
import { decodeClientFrame, EncodeError, encodeClientEvent, fingerprintOf, type TypeExpr, validateSchema } from "../src/index.js";
import { Reader, Writer } from "../src/msgpack.js";
import { fromHex, hex, richProtocol, richSchema } from "./support.js";

const codecs = new Codecs({
  ...richSchema.types,
  Marker: { struct: { kind: "unit", fields: [] } },
  Nothing: { struct: { kind: "named", fields: [] } },
  Grid: { struct: { kind: "tuple", fields: [{ name: "0", type: "u8" }, { name: "1", type: "u8" }] } },
});

function encode(type: TypeExpr, value: unknown): string {
  const writer = new Writer();
  codecs.of(type).encode(writer, value);
  return hex(writer.finish());
}

function decode(type: TypeExpr, bytes: string): unknown {
  const reader = new Reader(fromHex(bytes));
  const value = codecs.of(type).decode(reader);
  assert.ok(reader.done, "the whole value is read");
  return value;
}

/** Encodes, checks the bytes, decodes them back and checks the value. */
function roundTrip(type: TypeExpr, value: unknown, bytes: string, decoded: unknown = value): void {
  assert.equal(encode(type, value), bytes);
  assert.deepEqual(decode(type, bytes), decoded);
}

function reason(body: () => unknown): string {
  try {
    body();
  } catch (error) {
    return asValueError(error).describe();
  }
  assert.fail("expected an error");
}

describe("primitive codecs", () => {
  it("encode numbers by their schema type, not by their value", () => {
    roundTrip("f32", 2, "ca 40 00 00 00");
    roundTrip("f32", -2, "ca c0 00 00 00");
    roundTrip("f64", 2, "cb 40 00 00 00 00 00 00 00");
    roundTrip("u8", 200, "cc c8");
    roundTrip("i8", -1, "ff");
    roundTrip("i32", -200, "d1 ff 38");
    roundTrip("u32", 70000, "ce 00 01 11 70");
    roundTrip("u16", 5, "05");
    // An f32 field takes any MessagePack number on the way in, as serde does.
    assert.equal(decode("f32", "05"), 5);
  });

  it("keep 64-bit and 128-bit integers exact as bigints", () => {
    roundTrip("u64", 2n ** 64n - 1n, "cf ff ff ff ff ff ff ff ff");
    roundTrip("i64", -(2n ** 63n), "d3 80 00 00 00 00 00 00 00");
    roundTrip("u64", 7n, "07");
    roundTrip("u64", 7, "07", 7n);
    roundTrip("u128", 1n, `c4 10 ${"00 ".repeat(15)}01`);
    roundTrip("i128", -1n, `c4 10 ${"ff ".repeat(15)}ff`);
    roundTrip("u128", 2n ** 128n - 1n, `c4 10 ${"ff ".repeat(15)}ff`);
    assert.equal(decode("i128", "d0 80"), -128n);
    assert.match(reason(() => encode("u64", -1n)), /out of range for u64/);
    assert.match(reason(() => encode("u64", 1.5)), /expected a bigint \(u64\)/);
  });

  it("write player ids as unsigned integers and read them as 8 hex digits", () => {
    roundTrip("player_id", "1a2b3c4d", "ce 1a 2b 3c 4d");
    roundTrip("player_id", "0000002a", "2a");
    assert.match(reason(() => encode("player_id", "1A2B3C4D")), /8 lowercase hex digits/);
    assert.match(reason(() => decode("player_id", "cf 00 00 00 01 00 00 00 00")), /32-bit/);
  });

  it("write strings, chars, bools and unit", () => {
    roundTrip("str", "hé", "a3 68 c3 a9");
    roundTrip("char", "é", "a2 c3 a9");
    roundTrip("char", "😀", "a4 f0 9f 98 80");
    roundTrip("bool", true, "c3");
    roundTrip("unit", null, "c0");
    assert.match(reason(() => encode("char", "ab")), /one-character/);
    assert.match(reason(() => decode("char", "a0")), /one character/);
  });

  it("refuse values of the wrong type or out of range, saying which", () => {
    assert.equal(reason(() => encode("f32", "1")), 'expected a number (f32), found the string "1"');
    assert.equal(reason(() => encode("u8", 256)), "256 is out of range for u8 (0 to 255)");
    assert.equal(reason(() => encode("i16", 1.5)), "expected an integer (i16), found the number 1.5");
    assert.equal(reason(() => decode("u8", "cd 01 00")), "256 is out of range for u8 (0 to 255)");
    assert.equal(reason(() => decode("str", "01")), "expected a string, found an unsigned integer");
    assert.equal(reason(() => encode("str", undefined)), "expected a string, found nothing (undefined)");
  });
});

describe("composite codecs", () => {
  it("write options, sequences, fixed arrays and tuples", () => {
    roundTrip({ option: "f32" }, null, "c0");
    roundTrip({ option: "f32" }, 1.5, "ca 3f c0 00 00");
    roundTrip({ seq: "str" }, ["a", "b"], "92 a1 61 a1 62");
    roundTrip({ array: ["u8", 3] }, [1, 2, 3], "93 01 02 03");
    roundTrip({ tuple: ["u8", "i64", "char"] }, [1, -2n, "c"], "93 01 fe a1 63");
    roundTrip({ seq: { option: "bool" } }, [true, null], "92 c3 c0");
    assert.equal(reason(() => encode({ array: ["u8", 3] }, [1, 2])), "expected an array of 3 ([u8; 3]), found an array of 2");
    assert.equal(reason(() => decode({ array: ["u8", 3] }, "92 01 02")), "expected 3 elements ([u8; 3]), found 2");
  });

  it("write maps of any key type as MessagePack maps and read them into Maps", () => {
    const scores = new Map<string, bigint>([
      ["1a2b3c4d", 10n],
      ["00000001", 2n ** 40n],
    ]);
    roundTrip({ map: ["player_id", "u64"] }, scores, "82 ce 1a 2b 3c 4d 0a 01 cf 00 00 01 00 00 00 00 00");
    const nested = new Map([["k", [true, null]]]);
    roundTrip({ map: ["str", { seq: { option: "bool" } }] }, nested, "81 a1 6b 92 c3 c0");
    assert.match(reason(() => encode({ map: ["str", "u8"] }, { k: 1 })), /expected a Map/);
  });

  it("write user types as rmp-serde does", () => {
    // The same bytes as rmp_serde::to_vec in nodelink/tests/schema.rs.
    roundTrip({ ref: "Vec2" }, { x: 1, y: 2 }, "92 ca 3f 80 00 00 ca 40 00 00 00");
    roundTrip({ ref: "Meters" }, 0.5, "cb 3f e0 00 00 00 00 00 00");
    roundTrip({ ref: "Shape" }, "Empty", "a5 45 6d 70 74 79");
    roundTrip({ ref: "Shape" }, { Circle: { r: 1 } }, "81 a6 43 69 72 63 6c 65 91 ca 3f 80 00 00");
    roundTrip(
      { ref: "Shape" },
      { Segment: [{ x: 0, y: 0 }, { x: 1, y: 1 }] },
      "81 a7 53 65 67 6d 65 6e 74 92 92 ca 00 00 00 00 ca 00 00 00 00 92 ca 3f 80 00 00 ca 3f 80 00 00",
    );
    roundTrip({ ref: "Vec22" }, [1, -1], "92 01 ff");
    roundTrip({ ref: "Grid" }, [3, 4], "92 03 04");
    // A unit struct is an empty array (rmp-serde); nil is read too.
    roundTrip({ ref: "Marker" }, null, "90");
    assert.equal(decode({ ref: "Marker" }, "c0"), null);
    roundTrip({ ref: "Nothing" }, {}, "90");
  });

  it("name the variant and field that do not fit", () => {
    assert.equal(reason(() => encode({ ref: "Shape" }, "Circle")), "variant `Circle` of Shape has fields: write { Circle: … }");
    assert.equal(reason(() => encode({ ref: "Shape" }, "Square")), "unknown variant `Square` of Shape (expected one of Empty, Circle, Segment)");
    assert.equal(
      reason(() => encode({ ref: "Shape" }, { Circle: { r: "big" } })),
      'variant `Circle`: field `r`: expected a number (f32), found the string "big"',
    );
    assert.equal(reason(() => encode({ seq: { ref: "Vec2" } }, [{ x: 1, y: 2 }, { x: 1 }])), "[1]: field `y`: expected a number (f32), found nothing (undefined)");
    assert.equal(reason(() => decode({ ref: "Shape" }, "82 a5 45 6d 70 74 79 c0 a5 45 6d 70 74 79 c0")), "expected a map of one entry (a variant of Shape), found 2 entries");
  });

  it("pass opaque values through", () => {
    const value = new Map<unknown, unknown>([["a", [1, 2.5, null]]]);
    roundTrip({ opaque: "0123456789abcdef" }, value, "81 a1 61 93 01 cb 40 04 00 00 00 00 00 00 c0");
  });

  it("give every field a default", () => {
    assert.deepEqual(richProtocol.state.defaults(), {
      at: { x: 0, y: 0 },
      shape: "Empty",
      grid: [0, 0],
      range: 0,
      tags: [],
      scores: new Map(),
      route: [
        { x: 0, y: 0 },
        { x: 0, y: 0 },
        { x: 0, y: 0 },
      ],
      pair: [0, 0n, "\u0000"],
      target: null,
      nested: new Map(),
      custom: null,
      wide: [0n, 0n, 0n, 0n, 0, 0, 0, 0],
      more: [0, 0],
      none: null,
      boxed: "",
    });
  });
});

describe("event frames", () => {
  it("flatten the fields of named, tuple and unit events", () => {
    const place = encodeClientEvent(richProtocol, "place", { at: { x: 1, y: 2 }, shape: "Empty" });
    assert.equal(hex(place), "94 01 a5 70 6c 61 63 65 92 ca 3f 80 00 00 ca 40 00 00 00 a5 45 6d 70 74 79");
    assert.equal(hex(encodeClientEvent(richProtocol, "say", ["hi"])), "93 01 a3 73 61 79 a2 68 69");
    assert.equal(hex(encodeClientEvent(richProtocol, "pair", [1, 2])), "94 01 a4 70 61 69 72 01 02");
    assert.equal(hex(encodeClientEvent(richProtocol, "ready")), "92 01 a5 72 65 61 64 79");
    assert.deepEqual(decodeClientFrame(richProtocol, place), {
      kind: "event",
      event: { name: "place", data: { at: { x: 1, y: 2 }, shape: "Empty" } },
    });
  });

  it("refuse a payload that does not fit, naming the event and the field", () => {
    const failure = (name: string, data?: unknown): EncodeError => {
      try {
        encodeClientEvent(richProtocol, name, data);
      } catch (error) {
        assert.ok(error instanceof EncodeError);
        return error;
      }
      assert.fail("expected an EncodeError");
    };
    assert.equal(failure("place", { at: { x: "1", y: 2 }, shape: "Empty" }).message, 'cannot encode event `place`: field `at`: field `x`: expected a number (f32), found the string "1"');
    assert.equal(failure("say", "hi").message, "cannot encode event `say`: expected an array of 1 field");
    assert.equal(failure("ready", { now: true }).message, "cannot encode event `ready`: takes no payload, found object");
    assert.match(failure("jump").message, /cannot encode event `jump`: Up has no such event \(it has `place`, `say`, `pair`, `ready`\)/);
  });
});

describe("schema validation", () => {
  it("names the path of the problem", () => {
    const broken = (change: (json: any) => void): string => {
      const json = structuredClone(richSchema) as any;
      change(json);
      try {
        validateSchema(json);
      } catch (error) {
        return (error as Error).message;
      }
      assert.fail("expected a SchemaError");
    };
    assert.equal(broken((json) => (json.state.fields[4].type = { seq: "string" })), "invalid schema at $.state.fields[4].type.seq: unknown primitive type `string`");
    assert.equal(broken((json) => (json.state.fields[0].index = 3)), "invalid schema at $.state.fields[0].index: synced fields are numbered 0, 1, … in declaration order: expected 0, found 3");
    assert.equal(broken((json) => json.to_client.events.push({ name: "placed", kind: "unit", fields: [] })), "invalid schema at $.to_client.events[1].name: duplicate event name `placed`");
    assert.equal(broken((json) => (json.types.Vec2.struct.fields[0].type = { ref: "Vec2" })), "invalid schema at $.types.Vec2: the type contains itself (Vec2 → Vec2)");
    assert.equal(broken((json) => (json.fingerprint = "XYZ")), 'invalid schema at $.fingerprint: expected 16 lowercase hex digits, found "XYZ"');
    assert.equal(broken((json) => (json.to_server.events[1].fields[0].name = "first")), 'invalid schema at $.to_server.events[1].fields[0].name: a tuple\'s field 0 is named "0", found "first"');
    assert.equal(broken((json) => (json.types.Shape.enum[0].kind = "struct")), 'invalid schema at $.types.Shape.enum[0].kind: expected "named", "tuple" or "unit", found "struct"');
    assert.equal(broken((json) => (json.state.fields[0].type = { array: ["u8"] })), "invalid schema at $.state.fields[0].type.array: expected [type, length], found 1 elements");
    assert.equal(broken((json) => delete json.server_state), "invalid schema at $.server_state: missing (null when the game has no server state)");
    assert.equal(broken((json) => (json.state.fields[0].owner = "yes")), 'invalid schema at $.state.fields[0].owner: expected true or false, found string "yes"');
    assert.equal(broken((json) => (json.state.fields[0].tag = "red team")), 'invalid schema at $.state.fields[0].tag: expected a name without spaces, found string "red team"');
  });

  it("keeps `#[sync(tag = …)]` marks, which the fingerprint does not hash", () => {
    const json = structuredClone(richSchema) as any;
    json.state.fields[0].tag = "team";
    const schema = validateSchema(json);
    const field = schema.state!.fields[0]!;
    assert.ok(field.skip !== true && field.tag === "team" && field.owner === undefined);
    assert.equal(fingerprintOf(schema), fingerprintOf(validateSchema(structuredClone(richSchema))));
  });

  it("keeps `#[sync(owner)]` marks, which the fingerprint does not hash", () => {
    const json = structuredClone(richSchema) as any;
    json.state.fields[0].owner = true;
    const schema = validateSchema(json);
    const field = schema.state!.fields[0]!;
    assert.ok(field.skip !== true && field.owner === true);
    assert.equal(fingerprintOf(schema), fingerprintOf(validateSchema(structuredClone(richSchema))));
  });
});
