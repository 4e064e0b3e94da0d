/**
 * A snapshot split in several frames, players first, then entities: PROTOCOL.md's
 * split snapshot of the `Depot` world decoded and mirrored, complete only once its
 * last frame is applied.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { decodeServerFrame, encodeSync, Mirror, type SyncFrame } from "../src/index.js";
import { docSyncFrames } from "./doc-frames.js";
import { depotProtocol } from "./support.js";

interface Avatar {
  x: number;
  y: number;
  name: string;
}
interface Crate {
  x: number;
  y: number;
  kind: number;
}

function roundTrip(name: string): SyncFrame {
  const { frame } = docSyncFrames[name]!;
  const decoded = decodeServerFrame(depotProtocol, encodeSync(depotProtocol, frame));
  assert.equal(decoded.kind, "sync");
  return (decoded as { sync: SyncFrame }).sync;
}

describe("a snapshot split in several frames", () => {
  it("gives the whole world, players then entities, once its last frame is applied", () => {
    const mirror = new Mirror<Avatar, object, Partial<Avatar>, object, Crate>(depotProtocol);
    // Whatever the client held, a `full` frame starts over.
    mirror.apply(roundTrip("crates-spawned"));
    const first = mirror.apply(roundTrip("crates-snapshot-first"));
    assert.equal(first.sync.snapshotComplete, false, "`more`: the snapshot goes on");
    assert.deepEqual([...mirror.entities.keys()], [0], "the first frame's crate alone");
    assert.equal(mirror.players.size, 2);
    const last = mirror.apply(roundTrip("crates-snapshot-last"));
    assert.equal(last.sync.snapshotComplete, true);
    assert.deepEqual(last.sync.spawned, [1]);
    assert.deepEqual(
      new Map(mirror.players),
      new Map([
        ["1a2b3c4d", { x: 2, y: -2, name: "ada" }],
        ["5e6f7081", { x: 0, y: 0, name: "bob" }],
      ]),
    );
    assert.deepEqual(mirror.serverState, { round: 1, time_left: 30, leader: "1a2b3c4d" });
    assert.deepEqual(
      new Map(mirror.entities),
      new Map([
        [0, { x: 4, y: 2.5, kind: 1 }],
        [1, { x: -1.5, y: 0.5, kind: 3 }],
      ]),
    );
  });
});
