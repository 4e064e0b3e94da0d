import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

import { generate } from "../src/codegen/index.js";
import { compileProtocol, decodeServerFrame, DecodeError, fingerprintOf, Mirror, type SyncFrame, validateSchema } from "../src/index.js";
import { protocolDocFrames, readConformanceSchema } from "./support.js";
import { scratch, typeCheck } from "./tools.js";

// PROTOCOL.md's "Several kinds of entity": the `Bestiary` protocol, whose entity
// is an enum of kinds `Thing { Monster(Monster { x: f32, hp: u16 }), Loot(Loot {
// gold: u32 }) }`, and its three frames.

const schema = readConformanceSchema("bestiary");
const protocol = compileProtocol(schema);
const frames = protocolDocFrames();

function sync(name: string): SyncFrame {
  const frame = decodeServerFrame(protocol, frames.get(name)!);
  assert.equal(frame.kind, "sync");
  return frame.sync;
}

describe("enums of kinds", () => {
  it("reads the schema's one_of and hashes it as kinds", () => {
    assert.equal(schema.entity?.one_of, true);
    assert.equal(protocol.entity?.oneOf, true);
    assert.equal(fingerprintOf(schema), schema.fingerprint);
    // Without the mark, the same fields are another protocol.
    const plain = { ...schema, entity: { name: "Thing", fields: schema.entity!.fields } };
    assert.notEqual(fingerprintOf(plain), schema.fingerprint);
    assert.throws(() => validateSchema({ ...schema, entity: { ...schema.entity!, one_of: false } }), /`one_of` is `true` when present/);
  });

  it("mirrors each entity by kind, merges a kind's changes and replaces a changed kind", () => {
    const world = new Mirror(protocol);
    world.apply(sync("kinds-spawned"));
    assert.deepEqual(Object.fromEntries(world.entities), {
      0: { monster: { x: 2, hp: 12 } },
      1: { loot: { gold: 30 } },
    });
    const changed = world.apply(sync("kinds-changed")).sync;
    assert.deepEqual(changed.entityChanges, [{ id: 0, fields: { monster: { hp: 5 } } }]);
    assert.deepEqual(world.entities.get(0), { monster: { x: 2, hp: 5 } });
    world.apply(sync("kinds-switched"));
    // Nothing of the monster is left: the value is the loot, whole.
    assert.deepEqual(Object.fromEntries(world.entities), {
      0: { loot: { gold: 7 } },
      1: { loot: { gold: 30 } },
    });
  });

  it("refuses a value of two kinds", () => {
    const bytes = Uint8Array.from([0x9a, 0x02, 0x46, 0x02, 0x00, 0x90, 0x90, 0x90, 0xc0, 0x90, 0x91, 0x94, 0x00, 0x03, 0x92, 0x02, 0x0c, 0x92, 0x01, 0x1e]);
    assert.throws(
      () => decodeServerFrame(protocol, bytes),
      (error: unknown) => error instanceof DecodeError && /Thing: a value holds one kind, the mask names 2/.test(error.message),
    );
  });

  it("generates a union of the kinds that narrows by kind", () => {
    const source = generate(schema, { source: "bestiary.json" });
    assert.match(source, /export type Thing =\n {2}\| \{ monster: Monster \}\n {2}\| \{ loot: Loot \};/);
    const dir = scratch("kinds");
    writeFileSync(join(dir, "protocol.ts"), source);
    writeFileSync(
      join(dir, "usage.ts"),
      `import { Client, type Thing } from "./protocol.js";
declare const client: Client;
for (const [id, thing] of client.entities) {
  if ("monster" in thing) {
    const hp: number = thing.monster.hp;
    void [id, hp];
  } else {
    const gold: number = thing.loot.gold;
    void gold;
  }
}
const loot: Thing = { loot: { gold: 1 } };
// @ts-expect-error a thing is of one kind, with that kind's fields
const wrong: Thing = { loot: { hp: 1 } };
void [loot, wrong];
`,
    );
    const checked = typeCheck("kinds", [join(dir, "protocol.ts"), join(dir, "usage.ts")]);
    assert.equal(checked.output, "");
    assert.equal(checked.status, 0);
  });
});
