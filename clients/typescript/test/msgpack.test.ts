import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { decode as referenceDecode, encode as referenceEncode } from "@msgpack/msgpack";

import { MsgpackError, Reader, Writer } from "../src/msgpack.js";
import { fromHex, hex } from "./support.js";

function written(write: (writer: Writer) => void): string {
  const writer = new Writer(1);
  write(writer);
  return hex(writer.finish());
}

/** Turns `Map`s into plain objects, as @msgpack/msgpack decodes maps. */
function plain(value: unknown): unknown {
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), plain(v)]));
  if (Array.isArray(value)) return value.map(plain);
  return value;
}

describe("the MessagePack writer", () => {
  it("writes integers in their most compact form, as rmp does", () => {
    const cases: [number | bigint, string][] = [
      [0, "00"],
      [127, "7f"],
      [128, "cc 80"],
      [255, "cc ff"],
      [256, "cd 01 00"],
      [65535, "cd ff ff"],
      [65536, "ce 00 01 00 00"],
      [0xffff_ffff, "ce ff ff ff ff"],
      [0x1_0000_0000, "cf 00 00 00 01 00 00 00 00"],
      [2n ** 64n - 1n, "cf ff ff ff ff ff ff ff ff"],
      [-1, "ff"],
      [-32, "e0"],
      [-33, "d0 df"],
      [-128, "d0 80"],
      [-129, "d1 ff 7f"],
      [-32768, "d1 80 00"],
      [-32769, "d2 ff ff 7f ff"],
      [-(2 ** 31), "d2 80 00 00 00"],
      [-(2 ** 31) - 1, "d3 ff ff ff ff 7f ff ff ff"],
      [-(2n ** 63n), "d3 80 00 00 00 00 00 00 00"],
    ];
    for (const [value, bytes] of cases) assert.equal(written((w) => w.int(value)), bytes, `int ${value}`);
    assert.throws(() => written((w) => w.uint(2n ** 64n)), RangeError);
    assert.throws(() => written((w) => w.int(-(2n ** 63n) - 1n)), RangeError);
  });

  it("writes floats at the width asked for, integral or not", () => {
    assert.equal(written((w) => w.f32(2)), "ca 40 00 00 00");
    assert.equal(written((w) => w.f32(1.5)), "ca 3f c0 00 00");
    assert.equal(written((w) => w.f64(2)), "cb 40 00 00 00 00 00 00 00");
  });

  it("writes string, binary, array and map headers at each width", () => {
    assert.equal(written((w) => w.str("")), "a0");
    assert.equal(written((w) => w.str("é")), "a2 c3 a9");
    assert.equal(written((w) => w.str("x".repeat(31))).slice(0, 2), "bf");
    assert.equal(written((w) => w.str("x".repeat(32))).slice(0, 5), "d9 20");
    assert.equal(written((w) => w.str("x".repeat(256))).slice(0, 8), "da 01 00");
    assert.equal(written((w) => w.str("x".repeat(65536))).slice(0, 14), "db 00 01 00 00");
    assert.equal(written((w) => w.bin(new Uint8Array([1, 2]))), "c4 02 01 02");
    assert.equal(written((w) => w.bin(new Uint8Array(256))).slice(0, 8), "c5 01 00");
    assert.equal(written((w) => w.arrayLen(15)), "9f");
    assert.equal(written((w) => w.arrayLen(16)), "dc 00 10");
    assert.equal(written((w) => w.arrayLen(65536)), "dd 00 01 00 00");
    assert.equal(written((w) => w.mapLen(15)), "8f");
    assert.equal(written((w) => w.mapLen(16)), "de 00 10");
  });

  it("writes untyped values as @msgpack/msgpack does", () => {
    const values: unknown[] = [
      null,
      true,
      0,
      -5,
      300,
      -70000,
      2 ** 40,
      1.25,
      "hello",
      "ünïcødé ✓",
      "y".repeat(300),
      [1, [2, [3]], "four"],
      { a: 1, b: [true, null], c: { d: "e" } },
      Array.from({ length: 20 }, (_, i) => i * 1000),
      new Uint8Array([0, 1, 255]),
    ];
    for (const value of values) {
      const ours = written((w) => w.any(value));
      assert.equal(ours, hex(referenceEncode(value)), `encoding ${JSON.stringify(value)}`);
    }
  });
});

describe("the MessagePack reader", () => {
  it("reads what @msgpack/msgpack writes", () => {
    const values: unknown[] = [
      null,
      false,
      42,
      -42,
      -129,
      70000,
      -(2 ** 33),
      2 ** 50,
      0.1,
      "text",
      "z".repeat(70000),
      [1, "two", [3.5]],
      { key: "value", nested: { list: [1, 2, 3] } },
      new Uint8Array([9, 8, 7]),
    ];
    for (const value of values) {
      const reader = new Reader(referenceEncode(value));
      assert.deepEqual(plain(reader.any()), value);
      assert.ok(reader.done);
    }
  });

  it("keeps 64-bit integers exact and maps' keys typed", () => {
    const reader = new Reader(fromHex("93 cf ff ff ff ff ff ff ff ff d3 80 00 00 00 00 00 00 00 82 01 a1 61 c3 a1 62"));
    assert.equal(reader.arrayLen(), 3);
    assert.equal(reader.int(), 2n ** 64n - 1n);
    assert.equal(reader.int(), -(2n ** 63n));
    const map = reader.any() as Map<unknown, unknown>;
    assert.deepEqual([...map], [
      [1, "a"],
      [true, "b"],
    ]);
    assert.equal(referenceDecode(fromHex("cf 00 00 00 00 00 00 00 05"), { useBigInt64: true }), 5n);
  });

  it("refuses truncated input and collections longer than the input", () => {
    assert.throws(() => new Reader(fromHex("ca 3f c0")).float(), MsgpackError);
    assert.throws(() => new Reader(fromHex("a5 61 62")).str(), MsgpackError);
    assert.throws(() => new Reader(fromHex("dd 7f ff ff ff 01")).any(), /claims/);
    assert.throws(() => new Reader(fromHex("a1 61")).int(), /expected an integer, found a string/);
    assert.throws(() => new Reader(fromHex("a2 c3 28")).str(), /UTF-8/);
  });
});
