/**
 * `SyncDeque`, a bounded log: PROTOCOL.md's `Duel` frames decoded and mirrored,
 * the bounds a decoder holds a frame to, a whole array encoded as Rust sends a
 * whole log, a mirror following random pushes and drops, and the generated types.
 */

import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

import { generate } from "../src/codegen/index.js";
import {
  DecodeError,
  decodeServerFrame,
  encodeSync,
  fingerprintOf,
  Mirror,
  stateFingerprint,
  type SyncDequeDelta,
  type SyncFrame,
  typeFingerprint,
} from "../src/index.js";
import { docSyncFrames } from "./doc-frames.js";
import { duelProtocol, duelSchema, fromHex, hex, protocolDocFingerprints } from "./support.js";
import { scratch, typeCheck } from "./tools.js";

interface Fighter {
  hits: number[];
}

/** PROTOCOL.md's `log-push` frame, whose bytes the refusals below alter. */
const LOG_PUSH = "98 02 47 01 00 90 90 91 93 00 01 93 03 01 92 1e 09 c0";

const ada = { netId: 0, id: "1a2b3c4d" };

function frame(hits: SyncDequeDelta<number> | number[], tick = 1, joined: (typeof ada)[] = []): SyncFrame {
  return { tick, online: 1, flags: 0, left: [], joined, players: [{ netId: 0, fields: { hits } }], server: null };
}

function decodeSync(bytes: Uint8Array): SyncFrame {
  const decoded = decodeServerFrame(duelProtocol, bytes);
  assert.equal(decoded.kind, "sync");
  return (decoded as { sync: SyncFrame }).sync;
}

function refusal(bytes: string): string {
  try {
    decodeServerFrame(duelProtocol, fromHex(bytes));
  } catch (error) {
    assert.ok(error instanceof DecodeError, String(error));
    return error.message;
  }
  assert.fail("expected a DecodeError");
}

describe("a bounded log (SyncDeque)", () => {
  it("hashes the Duel schema as Rust does, by PROTOCOL.md's worked example", () => {
    assert.equal(fingerprintOf(duelSchema), duelSchema.fingerprint);
    for (const { expression, value } of protocolDocFingerprints("duel")) {
      const computed =
        expression === "fingerprint"
          ? BigInt(`0x${fingerprintOf(duelSchema)}`)
          : expression === "state(state)"
            ? stateFingerprint(duelSchema, duelSchema.state)
            : typeFingerprint(duelSchema, { sync_deque: "u16" });
      assert.equal(computed, value, expression);
    }
  });

  it("decodes PROTOCOL.md's log frames and mirrors ada's last three hits", () => {
    const mirror = new Mirror<Fighter, object>(duelProtocol);
    const seen = ["log-joined", "log-push"].map((name) => {
      const { frame: expected } = docSyncFrames[name]!;
      const sync = decodeSync(encodeSync(duelProtocol, expected));
      assert.deepEqual(sync, expected, name);
      mirror.apply(sync);
      return [...mirror.players.get("1a2b3c4d")!.hits];
    });
    // "…they leave ada with the hits [7, 30, 9]".
    assert.deepEqual(seen, [
      [12, 7],
      [7, 30, 9],
    ]);
  });

  it("refuses a log past its bounds, as PROTOCOL.md says a client must", () => {
    // Capacity 3, drop 4.
    assert.match(refusal(LOG_PUSH.replace("93 03 01 92", "93 03 04 92")), /drops 4 entries from a deque that holds at most 3/);
    // Capacity 1, two pushed.
    assert.match(refusal(LOG_PUSH.replace("93 03 01 92", "93 01 00 92")), /pushes 2 entries into a deque of capacity 1/);
    // Capacity 1025.
    assert.match(refusal(LOG_PUSH.replace("93 03 01 92", "93 cd 04 01 01 92")), /a deque of capacity 1025, past the limit of 1024/);
    // Two parts.
    assert.match(refusal(LOG_PUSH.replace("93 03 01 92 1e 09", "92 03 90")), /expected \[capacity, drop, entries\]/);
  });

  it("encodes a whole array as Rust sends a whole log, and refuses to encode one past its bounds", () => {
    assert.equal(hex(encodeSync(duelProtocol, frame([12, 7]))), "98 02 01 01 00 90 90 91 93 00 01 93 02 c0 92 0c 07 c0");
    assert.throws(() => encodeSync(duelProtocol, frame({ capacity: 2, drop: 3, entries: [] })), /drops 3 entries/);
  });

  it("follows random pushes and drops to the server's log", () => {
    // A server's log, kept by hand: each step pushes a few hits (dropping the oldest
    // when full) and sometimes pops some; its delta is what Rust sends for it.
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const capacity = 4;
    let server: number[] = [];
    const mirror = new Mirror<Fighter, object>(duelProtocol);
    mirror.apply(decodeSync(encodeSync(duelProtocol, frame({ capacity, drop: null, entries: [] }, 1, [ada]))));
    for (let step = 0; step < 200; step += 1) {
      let held = server.length; // entries the mirror holds, still on the server
      let pushed: number[] = [];
      for (let op = random(4); op > 0; op -= 1) {
        if (random(3) === 0) {
          if (server.length > pushed.length) held -= 1;
          else pushed = pushed.slice(1);
          server = server.slice(1);
        } else {
          const hit = random(100);
          server.push(hit);
          pushed.push(hit);
          if (server.length > capacity) {
            if (server.length - pushed.length > 0) held -= 1;
            else pushed = pushed.slice(1);
            server = server.slice(1);
          }
        }
      }
      const before = mirror.players.get(ada.id)!.hits.length;
      const delta = { capacity, drop: before - held, entries: pushed };
      mirror.apply(decodeSync(encodeSync(duelProtocol, frame(delta, step + 2))));
      assert.deepEqual(mirror.players.get(ada.id)!.hits, server, `step ${step}`);
    }
  });

  it("types the mirror's log as an array and its delta as SyncDequeDelta, and compiles", () => {
    const source = generate(duelSchema);
    for (const text of [
      "type SyncDequeDelta",
      "  /** `SyncDeque<u16>` (a bounded log, oldest first), mask bit 0. */\n  hits: number[];\n",
      "  hits?: SyncDequeDelta<number>;\n",
    ]) {
      assert.ok(source.includes(text), `missing:\n${text}\n\nin:\n${source}`);
    }
    const dir = scratch("deque");
    writeFileSync(join(dir, "protocol.ts"), source);
    writeFileSync(
      join(dir, "usage.ts"),
      `import { Client } from "./protocol.js";

declare const client: Client;

client.onStateSync((sync, world) => {
  for (const change of sync.changes) {
    const drop: number | null | undefined = change.fields.hits?.drop;
    const pushed: readonly number[] | undefined = change.fields.hits?.entries;
    // @ts-expect-error a log's change is not the log
    const wrong: number[] = change.fields.hits!;
    void [drop, pushed, wrong];
  }
  for (const fighter of world.players.values()) {
    const newest: number | undefined = fighter.hits[fighter.hits.length - 1];
    void newest;
  }
});
`,
    );
    const checked = typeCheck("deque", [join(dir, "protocol.ts"), join(dir, "usage.ts")]);
    assert.equal(checked.output, "");
    assert.equal(checked.status, 0);
  });
});
