/** PROTOCOL.md's sync frames as values, for the frame and mirror tests. */

import type { CompiledProtocol, SyncFrame } from "../src/index.js";
import { bestiaryProtocol, depotProtocol, duelProtocol, gameProtocol, lobbyProtocol, marketProtocol, noServerStateProtocol, questProtocol } from "./support.js";

const ada = { netId: 0, id: "1a2b3c4d" };
const bob = { netId: 1, id: "5e6f7081" };
const cy = { netId: 2, id: "9a0b1c2d" };

/**
 * PROTOCOL.md's sync frames, as the values they encode (its story of `ada` and
 * `bob`, then `ada`'s hero in the `Quest` protocol, with a nested state, maps and
 * a list; then `ada`'s last hits in the `Duel` protocol, a bounded log; then crates
 * in the `Depot` protocol, owner fields in the `Market` protocol, and entities of
 * two kinds in the `Bestiary` protocol).
 */
export const docSyncFrames: Record<string, { protocol: CompiledProtocol; frame: SyncFrame }> = {
  "sync-snapshot": {
    protocol: gameProtocol,
    frame: {
      tick: 41,
      online: 2,
      flags: 1,
      left: [],
      joined: [ada, bob],
      players: [
        { netId: 0, fields: { x: 1.5, y: -2, name: "ada" } },
        { netId: 1, fields: { x: 0, y: 0, name: "" } },
      ],
      server: { round: 1, time_left: 30, leader: "1a2b3c4d" },
    },
  },
  "sync-snapshot-first": {
    protocol: gameProtocol,
    frame: {
      tick: 41,
      online: 2,
      flags: 3,
      left: [],
      joined: [ada],
      players: [{ netId: 0, fields: { x: 1.5, y: -2, name: "ada" } }],
      server: { round: 1, time_left: 30, leader: "1a2b3c4d" },
    },
  },
  "sync-snapshot-last": {
    protocol: gameProtocol,
    frame: { tick: 41, online: 2, flags: 0, left: [], joined: [bob], players: [{ netId: 1, fields: { x: 0, y: 0, name: "" } }], server: null },
  },
  "sync-snapshot-shared": {
    protocol: gameProtocol,
    frame: {
      tick: 41,
      online: 2,
      flags: 3,
      left: [],
      joined: [ada, bob],
      players: [
        { netId: 0, fields: { x: 1.5, y: -2, name: "ada" } },
        { netId: 1, fields: { x: 0, y: 0, name: "" } },
      ],
      server: { round: 1, time_left: 30, leader: "1a2b3c4d" },
    },
  },
  "sync-snapshot-own": {
    protocol: gameProtocol,
    frame: { tick: 41, online: 3, flags: 0, left: [], joined: [cy], players: [{ netId: 2, fields: { x: 0, y: 0, name: "" } }], server: null },
  },
  "sync-snapshot-no-server-state": {
    protocol: noServerStateProtocol,
    frame: { tick: 41, online: 1, flags: 1, left: [], joined: [bob], players: [{ netId: 1, fields: { x: 0, y: 0, name: "" } }], server: {} },
  },
  "sync-unit-state": {
    protocol: lobbyProtocol,
    frame: { tick: 41, online: 1, flags: 1, left: [], joined: [bob], players: [{ netId: 1, fields: {} }], server: {} },
  },
  "sync-joined": {
    protocol: gameProtocol,
    frame: { tick: 42, online: 2, flags: 0, left: [], joined: [bob], players: [{ netId: 1, fields: { x: 0, y: 0, name: "bob" } }], server: null },
  },
  "sync-delta": {
    protocol: gameProtocol,
    frame: { tick: 43, online: 2, flags: 0, left: [], joined: [], players: [{ netId: 0, fields: { x: 2 } }], server: null },
  },
  "sync-server": {
    protocol: gameProtocol,
    frame: { tick: 44, online: 2, flags: 0, left: [], joined: [], players: [], server: { round: 2, time_left: 60, leader: null } },
  },
  "sync-left": {
    protocol: gameProtocol,
    frame: { tick: 45, online: 1, flags: 0, left: [0], joined: [], players: [], server: null },
  },
  "hero-joined": {
    protocol: questProtocol,
    frame: {
      tick: 50,
      online: 1,
      flags: 0,
      left: [],
      joined: [ada],
      players: [
        {
          netId: 0,
          fields: {
            x: 1.5,
            stats: { hp: 100, mana: 50 },
            bag: { replace: true, removed: [], entries: [["arrows", 20], ["bread", 2]] },
            pets: { replace: true, removed: [], entries: [[1, { hp: 30, mana: 0 }]] },
            party: { len: 1, entries: [[0, { hp: 40, mana: 10 }]] },
          },
        },
      ],
      server: null,
    },
  },
  "hero-nested": {
    protocol: questProtocol,
    frame: { tick: 51, online: 1, flags: 0, left: [], joined: [], players: [{ netId: 0, fields: { stats: { hp: 97 } } }], server: null },
  },
  "hero-maps": {
    protocol: questProtocol,
    frame: {
      tick: 52,
      online: 1,
      flags: 0,
      left: [],
      joined: [],
      players: [
        {
          netId: 0,
          fields: {
            bag: { replace: false, removed: ["bread"], entries: [["arrows", 19]] },
            pets: { replace: false, removed: [], entries: [[1, { mana: 5 }], [2, { hp: 10, mana: 0 }]] },
          },
        },
      ],
      server: null,
    },
  },
  "hero-list": {
    protocol: questProtocol,
    frame: {
      tick: 53,
      online: 1,
      flags: 0,
      left: [],
      joined: [],
      players: [{ netId: 0, fields: { party: { len: 2, entries: [[0, { mana: 5 }], [1, { hp: 20, mana: 20 }]] } } }],
      server: null,
    },
  },
  "hero-list-shift": {
    protocol: questProtocol,
    frame: { tick: 54, online: 1, flags: 0, left: [], joined: [], players: [{ netId: 0, fields: { party: { len: 1, entries: [[0, { hp: 20, mana: 20 }]] } } }], server: null },
  },
  "log-joined": {
    protocol: duelProtocol,
    frame: {
      tick: 70,
      online: 1,
      flags: 0,
      left: [],
      joined: [ada],
      players: [{ netId: 0, fields: { hits: { capacity: 3, drop: null, entries: [12, 7] } } }],
      server: null,
    },
  },
  "log-push": {
    protocol: duelProtocol,
    frame: { tick: 71, online: 1, flags: 0, left: [], joined: [], players: [{ netId: 0, fields: { hits: { capacity: 3, drop: 1, entries: [30, 9] } } }], server: null },
  },
  "crates-spawned": {
    protocol: depotProtocol,
    frame: {
      tick: 60,
      online: 2,
      flags: 0,
      left: [],
      joined: [],
      players: [],
      server: null,
      despawned: [],
      entities: [
        { id: 0, fields: { x: 4, y: 2.5, kind: 1 } },
        { id: 1, fields: { x: -1, y: 0.5, kind: 3 } },
      ],
    },
  },
  "crates-moved": {
    protocol: depotProtocol,
    frame: {
      tick: 61,
      online: 2,
      flags: 0,
      left: [],
      joined: [],
      players: [{ netId: 0, fields: { x: 2 } }],
      server: null,
      despawned: [],
      entities: [{ id: 1, fields: { x: -1.5 } }],
    },
  },
  "crates-despawned": {
    protocol: depotProtocol,
    frame: { tick: 62, online: 2, flags: 0, left: [], joined: [], players: [], server: null, despawned: [0], entities: [] },
  },
  "crates-snapshot-first": {
    protocol: depotProtocol,
    frame: {
      tick: 61,
      online: 2,
      flags: 3,
      left: [],
      joined: [ada, bob],
      players: [
        { netId: 0, fields: { x: 2, y: -2, name: "ada" } },
        { netId: 1, fields: { x: 0, y: 0, name: "bob" } },
      ],
      server: { round: 1, time_left: 30, leader: ada.id },
      despawned: [],
      entities: [{ id: 0, fields: { x: 4, y: 2.5, kind: 1 } }],
    },
  },
  "crates-snapshot-last": {
    protocol: depotProtocol,
    frame: { tick: 61, online: 2, flags: 0, left: [], joined: [], players: [], server: null, despawned: [], entities: [{ id: 1, fields: { x: -1.5, y: 0.5, kind: 3 } }] },
  },
  "kinds-spawned": {
    protocol: bestiaryProtocol,
    frame: {
      tick: 70,
      online: 2,
      flags: 0,
      left: [],
      joined: [],
      players: [],
      server: null,
      despawned: [],
      entities: [
        { id: 0, fields: { monster: { x: 2, hp: 12 } } },
        { id: 1, fields: { loot: { gold: 30 } } },
      ],
    },
  },
  "kinds-changed": {
    protocol: bestiaryProtocol,
    frame: { tick: 71, online: 2, flags: 0, left: [], joined: [], players: [], server: null, despawned: [], entities: [{ id: 0, fields: { monster: { hp: 5 } } }] },
  },
  "kinds-switched": {
    protocol: bestiaryProtocol,
    frame: { tick: 72, online: 2, flags: 0, left: [], joined: [], players: [], server: null, despawned: [], entities: [{ id: 0, fields: { loot: { gold: 7 } } }] },
  },
  "owner-snapshot": {
    protocol: marketProtocol,
    frame: {
      tick: 70,
      online: 2,
      flags: 3,
      left: [],
      joined: [ada, bob],
      players: [
        { netId: 0, fields: { x: 1.5 } },
        { netId: 1, fields: { x: 3 } },
      ],
      server: {},
    },
  },
  "owner-own": {
    protocol: marketProtocol,
    frame: { tick: 70, online: 2, flags: 0, left: [], joined: [], players: [{ netId: 0, fields: { gold: 250 } }], server: null },
  },
};
