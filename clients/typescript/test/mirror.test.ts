import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { Mirror, type SyncFrame, SyncFlag, UnknownNetIdError } from "../src/index.js";
import { docSyncFrames } from "./doc-frames.js";
import { gameProtocol as docProtocol } from "./support.js";

interface Avatar {
  x: number;
  y: number;
  name: string;
}
interface Round {
  round: number;
  time_left: number;
  leader: string | null;
}

function frame(partial: Partial<SyncFrame>): SyncFrame {
  return { tick: 1, online: 0, flags: 0, left: [], joined: [], players: [], server: null, ...partial };
}

function whole(name: string, x = 0): Avatar {
  return { x, y: 0, name };
}

function players(mirror: Mirror<Avatar, Round>): Record<string, Avatar> {
  return Object.fromEntries(mirror.players);
}

describe("the mirror", () => {
  it("follows PROTOCOL.md's story, frame by frame", () => {
    // bob's mirror: his snapshot in two frames, then ticks 42 to 45.
    const mirror = new Mirror<Avatar, Round>(docProtocol);
    const story = ["sync-snapshot-first", "sync-snapshot-last", "sync-joined", "sync-delta", "sync-server", "sync-left"];
    const seen = story.map((name) => {
      const { sync, errors } = mirror.apply(docSyncFrames[name]!.frame);
      assert.deepEqual(errors, []);
      return { complete: mirror.complete, players: structuredClone(Object.fromEntries(mirror.players)), server: { ...mirror.serverState }, snapshotComplete: sync.snapshotComplete };
    });
    const ada = { x: 1.5, y: -2, name: "ada" };
    const match = { round: 1, time_left: 30, leader: "1a2b3c4d" };
    assert.deepEqual(seen, [
      { complete: false, players: { "1a2b3c4d": ada }, server: match, snapshotComplete: false },
      { complete: true, players: { "1a2b3c4d": ada, "5e6f7081": whole("") }, server: match, snapshotComplete: true },
      { complete: true, players: { "1a2b3c4d": ada, "5e6f7081": whole("bob") }, server: match, snapshotComplete: false },
      { complete: true, players: { "1a2b3c4d": { ...ada, x: 2 }, "5e6f7081": whole("bob") }, server: match, snapshotComplete: false },
      { complete: true, players: { "1a2b3c4d": { ...ada, x: 2 }, "5e6f7081": whole("bob") }, server: { round: 2, time_left: 60, leader: null }, snapshotComplete: false },
      { complete: true, players: { "5e6f7081": whole("bob") }, server: { round: 2, time_left: 60, leader: null }, snapshotComplete: false },
    ]);
    assert.equal(mirror.online, 1);
    assert.equal(mirror.tick, 45);
  });

  it("completes a shared snapshot with the newcomer's own frame", () => {
    // cy, in the same tick as bob: bob's frame, shared, then cy's own.
    const mirror = new Mirror<Avatar, Round>(docProtocol);
    mirror.apply(docSyncFrames["sync-snapshot-shared"]!.frame);
    assert.equal(mirror.complete, false);
    const { sync, errors } = mirror.apply(docSyncFrames["sync-snapshot-own"]!.frame);
    assert.deepEqual(errors, []);
    assert.equal(mirror.complete, true);
    assert.equal(sync.snapshotComplete, true);
    assert.deepEqual(players(mirror), {
      "1a2b3c4d": { x: 1.5, y: -2, name: "ada" },
      "5e6f7081": whole(""),
      "9a0b1c2d": whole(""),
    });
    assert.equal(mirror.online, 3);
  });

  it("applies a one-frame snapshot, then deltas", () => {
    const mirror = new Mirror<Avatar, Round>(docProtocol);
    assert.equal(mirror.complete, false);
    const first = mirror.apply(
      frame({
        flags: SyncFlag.Full,
        online: 2,
        joined: [
          { netId: 0, id: "0000000a" },
          { netId: 1, id: "0000000b" },
        ],
        players: [
          { netId: 0, fields: whole("ada", 1.5) },
          { netId: 1, fields: whole("bob") },
        ],
        server: { round: 1, time_left: 30, leader: null },
      }),
    );
    assert.equal(first.sync.full, true);
    assert.equal(first.sync.snapshotComplete, true);
    assert.equal(mirror.complete, true);
    assert.deepEqual(players(mirror), { "0000000a": whole("ada", 1.5), "0000000b": whole("bob") });
    assert.deepEqual(mirror.serverState, { round: 1, time_left: 30, leader: null });
    assert.equal(mirror.online, 2);

    const ada = mirror.players.get("0000000a");
    const bob = mirror.players.get("0000000b");
    const delta = mirror.apply(frame({ tick: 2, online: 2, players: [{ netId: 0, fields: { y: 4 } }], server: { time_left: 29.5 } }));
    assert.deepEqual(delta.sync.changes, [{ id: "0000000a", fields: { y: 4 } }]);
    assert.deepEqual(delta.sync.server, { time_left: 29.5 });
    assert.equal(delta.sync.snapshotComplete, false);
    assert.deepEqual(mirror.players.get("0000000a"), { x: 1.5, y: 4, name: "ada" });
    assert.deepEqual(mirror.serverState, { round: 1, time_left: 29.5, leader: null });
    // A changed player's state is a new object; an unchanged one keeps its identity.
    assert.notEqual(mirror.players.get("0000000a"), ada);
    assert.equal(mirror.players.get("0000000b"), bob);
    assert.equal(mirror.tick, 2);
  });

  it("completes a multi-frame snapshot only when a frame without `more` arrives", () => {
    const mirror = new Mirror<Avatar, Round>(docProtocol);
    mirror.apply(frame({ flags: SyncFlag.Full, joined: [{ netId: 5, id: "000000ff" }], players: [{ netId: 5, fields: whole("stale") }] }));
    assert.equal(mirror.complete, true);

    // A new snapshot in three parts: 3 (full + more), 2 (more), 0 (last).
    const parts = [
      mirror.apply(
        frame({
          tick: 9,
          flags: SyncFlag.Full | SyncFlag.More,
          online: 3,
          joined: [{ netId: 0, id: "00000001" }],
          players: [{ netId: 0, fields: whole("one") }],
          server: { round: 4, time_left: 10, leader: "00000001" },
        }),
      ),
      mirror.apply(frame({ tick: 9, flags: SyncFlag.More, online: 3, joined: [{ netId: 1, id: "00000002" }], players: [{ netId: 1, fields: whole("two") }] })),
    ];
    assert.deepEqual(
      parts.map(({ sync }) => [sync.full, sync.more, sync.snapshotComplete]),
      [
        [true, true, false],
        [false, true, false],
      ],
    );
    assert.equal(mirror.complete, false, "incomplete while parts are missing");
    assert.equal(mirror.players.has("000000ff"), false, "the first part forgot every player");
    const last = mirror.apply(frame({ tick: 9, online: 3, joined: [{ netId: 2, id: "00000003" }], players: [{ netId: 2, fields: whole("three") }] }));
    assert.equal(last.sync.snapshotComplete, true);
    assert.equal(mirror.complete, true);
    assert.deepEqual(Object.keys(players(mirror)).sort(), ["00000001", "00000002", "00000003"]);
    assert.deepEqual(mirror.serverState, { round: 4, time_left: 10, leader: "00000001" });

    // The next ordinary frame completes nothing.
    assert.equal(mirror.apply(frame({ tick: 10, online: 3 })).sync.snapshotComplete, false);
  });

  it("resets the server state on a snapshot that does not carry it", () => {
    const mirror = new Mirror<Avatar, Round>(docProtocol);
    mirror.apply(frame({ flags: SyncFlag.Full, server: { round: 3, time_left: 1, leader: "0000000a" } }));
    mirror.apply(frame({ flags: SyncFlag.Full }));
    assert.deepEqual(mirror.serverState, { round: 0, time_left: 0, leader: null });
  });

  it("applies departures before arrivals, so a net id can be reused in one frame", () => {
    const mirror = new Mirror<Avatar, Round>(docProtocol);
    mirror.apply(
      frame({
        flags: SyncFlag.Full,
        joined: [
          { netId: 0, id: "0000000a" },
          { netId: 1, id: "0000000b" },
        ],
        players: [
          { netId: 0, fields: whole("ada") },
          { netId: 1, fields: whole("bob") },
        ],
      }),
    );
    const { sync, errors } = mirror.apply(
      frame({ left: [1], joined: [{ netId: 1, id: "0000000c" }], players: [{ netId: 1, fields: whole("cyd", 7) }] }),
    );
    assert.deepEqual(errors, []);
    assert.deepEqual(sync.left, ["0000000b"]);
    assert.deepEqual(sync.joined, ["0000000c"]);
    assert.deepEqual(players(mirror), { "0000000a": whole("ada"), "0000000c": whole("cyd", 7) });
    assert.equal(mirror.playerOf(1), "0000000c");

    mirror.apply(frame({ left: [0] }));
    assert.deepEqual(Object.keys(players(mirror)), ["0000000c"]);
  });

  it("reports and ignores changes for a net id never announced", () => {
    const mirror = new Mirror<Avatar, Round>(docProtocol);
    mirror.apply(frame({ flags: SyncFlag.Full, joined: [{ netId: 0, id: "0000000a" }], players: [{ netId: 0, fields: whole("ada") }] }));
    const { sync, errors } = mirror.apply(
      frame({
        left: [8],
        players: [
          { netId: 3, fields: { x: 1 } },
          { netId: 0, fields: { x: 2 } },
        ],
      }),
    );
    // The departure of an unknown net id changes nothing and is no error.
    assert.deepEqual(
      errors.map((error) => [error instanceof UnknownNetIdError, error.netId]),
      [[true, 3]],
    );
    assert.equal(errors[0]!.message, "sync frame: changes for unknown net id 3");
    assert.deepEqual(sync.left, []);
    // The rest of the frame applies.
    assert.deepEqual(sync.changes, [{ id: "0000000a", fields: { x: 2 } }]);
    assert.deepEqual(players(mirror), { "0000000a": whole("ada", 2) });
  });

  it("forgets a player announced again under another net id", () => {
    const mirror = new Mirror<Avatar, Round>(docProtocol);
    mirror.apply(frame({ flags: SyncFlag.Full, joined: [{ netId: 0, id: "0000000a" }], players: [{ netId: 0, fields: whole("ada") }] }));
    mirror.apply(frame({ joined: [{ netId: 4, id: "0000000a" }], players: [{ netId: 4, fields: whole("ada2") }] }));
    assert.equal(mirror.playerOf(0), undefined);
    assert.deepEqual(players(mirror), { "0000000a": whole("ada2") });
  });

  it("gives an arriving player defaults until its fields arrive, and clears on demand", () => {
    const mirror = new Mirror<Avatar, Round>(docProtocol);
    mirror.apply(frame({ flags: SyncFlag.Full, online: 1, joined: [{ netId: 0, id: "0000000a" }] }));
    assert.deepEqual(players(mirror), { "0000000a": { x: 0, y: 0, name: "" } });
    mirror.clear();
    assert.equal(mirror.players.size, 0);
    assert.equal(mirror.online, 0);
    assert.equal(mirror.complete, false);
  });
});
