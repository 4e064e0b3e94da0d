import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  DecodeError,
  decodeClientFrame,
  decodeServerFrame,
  encodeClientEvent,
  encodePing,
  encodePong,
  encodeServerEvent,
  encodeSync,
  encodeWelcome,
  ProtocolMismatchError,
  type ServerFrame,
  type SyncFrame,
  subprotocol,
} from "../src/index.js";
import { docProtocol, fromHex, hex, protocolDocFrames } from "./support.js";

const doc = protocolDocFrames();

function docFrame(name: string): Uint8Array {
  const frame = doc.get(name);
  assert.ok(frame, `PROTOCOL.md has a \`${name}\` frame`);
  return frame;
}

/** The frames of PROTOCOL.md, as the values they encode. */
const syncFrames: Record<string, SyncFrame> = {
  "sync-snapshot": {
    tick: 1,
    online: 2,
    flags: 1,
    left: [],
    joined: [
      { netId: 0, id: "1a2b3c4d" },
      { netId: 1, id: "5e6f7081" },
    ],
    players: [
      { netId: 0, fields: { x: 1.5, y: -2, name: "ada" } },
      { netId: 1, fields: { x: 0, y: 0, name: "bob" } },
    ],
    server: null,
  },
  "sync-delta": { tick: 42, online: 2, flags: 0, left: [], joined: [], players: [{ netId: 0, fields: { x: 1.5 } }], server: null },
  "sync-server": { tick: 44, online: 1, flags: 0, left: [], joined: [], players: [], server: { round: 2, time_left: 60 } },
  "sync-left": { tick: 43, online: 1, flags: 0, left: [1], joined: [], players: [], server: null },
};

describe("PROTOCOL.md's frames, byte for byte", () => {
  it("has every frame this test checks", () => {
    const names = ["welcome", "event-move", "event-ready", "event-chat", "sync-snapshot", "sync-delta", "sync-server", "sync-left", "ping", "pong"];
    assert.deepEqual(names.filter((name) => !doc.has(name)), []);
  });

  it("welcome", () => {
    const welcome = { fingerprint: "0123456789abcdef", id: "1a2b3c4d", netId: 0, tickRate: 20 };
    assert.equal(hex(encodeWelcome(welcome)), hex(docFrame("welcome")));
    const decoded = decodeServerFrame(docProtocol, docFrame("welcome"));
    assert.deepEqual(decoded, { kind: "welcome", welcome: { wireVersion: 2, ...welcome } });
  });

  it("event-move and event-ready, as the client sends them", () => {
    assert.equal(hex(encodeClientEvent(docProtocol, "move", { x: 1.5, y: -2 })), hex(docFrame("event-move")));
    assert.equal(hex(encodeClientEvent(docProtocol, "ready")), hex(docFrame("event-ready")));
    assert.deepEqual(decodeClientFrame(docProtocol, docFrame("event-move")), { kind: "event", event: { name: "move", data: { x: 1.5, y: -2 } } });
    assert.deepEqual(decodeClientFrame(docProtocol, docFrame("event-ready")), { kind: "event", event: { name: "ready", data: undefined } });
  });

  it("event-chat, as the server sends it", () => {
    const data = { from: "1a2b3c4d", msg: "hi" };
    assert.equal(hex(encodeServerEvent(docProtocol, "chat", data)), hex(docFrame("event-chat")));
    assert.deepEqual(decodeServerFrame(docProtocol, docFrame("event-chat")), { kind: "event", event: { name: "chat", data } });
  });

  for (const [name, frame] of Object.entries(syncFrames)) {
    it(name, () => {
      assert.equal(hex(encodeSync(docProtocol, frame)), hex(docFrame(name)));
      assert.deepEqual(decodeServerFrame(docProtocol, docFrame(name)), { kind: "sync", sync: frame });
    });
  }

  it("ping and pong", () => {
    assert.equal(hex(encodePing(7, 35_000)), hex(docFrame("ping")));
    assert.deepEqual(decodeServerFrame(docProtocol, docFrame("ping")), { kind: "ping", seq: 7, rttUs: 35_000 });
    assert.equal(hex(encodePong(7)), hex(docFrame("pong")));
    assert.deepEqual(decodeClientFrame(docProtocol, docFrame("pong")), { kind: "pong", seq: 7 });
  });

  it("the subprotocol offered", () => {
    assert.equal(subprotocol("0123456789abcdef"), "nodelink.2.0123456789abcdef");
  });
});

describe("decoding what does not fit", () => {
  function failure(bytes: string): Error {
    try {
      decodeServerFrame(docProtocol, fromHex(bytes));
    } catch (error) {
      return error as Error;
    }
    assert.fail(`expected ${bytes} to be refused`);
  }

  it("names the frame, the place and the reason", () => {
    const cases: [string, string][] = [
      ["91 09", "cannot decode frame: unknown frame kind 9"],
      ["90", "cannot decode frame: an empty array"],
      ["c0", "cannot decode frame: expected an array, found nil"],
      ["92 01 a4 6a 75 6d 70", "cannot decode event `jump`: unknown event (not in ToClient)"],
      ["93 01 a4 63 68 61 74 01", "cannot decode event `chat`: expected 2 fields, found 1"],
      ["94 01 a4 63 68 61 74 a1 78 a2 68 69", "cannot decode event `chat`: field `from`: expected an integer, found a string"],
      // Mask bit 3 is beyond Avatar's three fields.
      ["98 02 2a 02 00 90 90 91 93 00 08 c0 c0", "cannot decode sync frame: players: [0]: net id 0: mask bit 3 is set, but the state has 3 fields"],
      // The mask names two fields but one value follows.
      ["98 02 2a 02 00 90 90 91 93 00 03 ca 3f c0 00 00 c0", "cannot decode sync frame: players: [0]: net id 0: the mask names 2 fields, but 1 value follow"],
      ["98 02 2a 02 00 90 91 91 00 90 c0", "cannot decode sync frame: joined: [0]: expected [net_id, player_id], found 1 elements"],
      ["97 02 2a 02 00 90 90 90", "cannot decode sync frame: a sync frame has 8 elements, found 7"],
      ["93 03 07 cd 88 b8 c0", "cannot decode ping frame: 1 bytes after the frame"],
    ];
    for (const [bytes, message] of cases) {
      const error = failure(bytes);
      assert.ok(error instanceof DecodeError, `${bytes}: ${error}`);
      assert.equal(error.message, message);
    }
  });

  it("reports a welcome of another wire version as a protocol mismatch", () => {
    const error = failure("96 00 01 cf 01 23 45 67 89 ab cd ef ce 1a 2b 3c 4d 00 14");
    assert.ok(error instanceof ProtocolMismatchError);
    assert.equal(error.serverWireVersion, 1);
    assert.equal(error.message, "protocol mismatch: this client speaks wire version 2, the server 1");
  });

  it("accepts integers of any width where the compact form is expected", () => {
    // tick and online as uint32, net id as uint16: a decoder must accept any width.
    const frame: ServerFrame = decodeServerFrame(docProtocol, fromHex("98 02 ce 00 00 00 2a cd 00 02 00 90 90 91 93 cd 00 00 01 ca 3f c0 00 00 c0"));
    assert.deepEqual(frame, { kind: "sync", sync: syncFrames["sync-delta"] });
  });
});
