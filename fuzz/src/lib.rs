//! A protocol with every kind of synced value, so the fuzzers reach every decoding
//! path: numbers, strings, options, sequences, maps, tuples, enums, player and entity
//! ids, nested states (two levels deep), `SyncMap`, `SyncVec` and `SyncDeque` (of plain
//! values and of states, a deque as a map's value), owner-only fields, a shared server
//! state and entities of several kinds (an enum of kinds: states and a plain value).

use std::collections::BTreeMap;

use nodelink::sync::{SyncDeque, SyncMap, SyncVec};
use nodelink::{EntityId, Fingerprint, PlayerId, SyncState};
use serde::{Deserialize, Serialize};

#[derive(Fingerprint, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Vec3 {
    pub x: f32,
    pub y: f32,
    pub z: f32,
}

#[derive(Fingerprint, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub enum Weapon {
    Fists,
    Sword { damage: u16 },
    Bow(u8, f64),
}

/// A chat line: a plain value kept in a `SyncDeque`.
#[derive(Fingerprint, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Line {
    pub from: Option<PlayerId>,
    pub text: String,
}

/// A nested state, itself holding a bounded map.
#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub struct Stats {
    pub hp: i32,
    pub mana: u16,
    pub effects: SyncMap<u8, f32, 16>,
}

/// A nested state holding a nested state: two levels of field masks.
#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub struct Gear {
    pub weapon: Option<Weapon>,
    pub stats: Stats,
}

#[derive(SyncState, Clone, Debug, PartialEq)]
pub struct Fighter {
    pub position: Vec3,
    pub hp: i32,
    pub name: String,
    pub weapon: Option<Weapon>,
    pub inventory: Vec<u16>,
    pub stats: BTreeMap<String, f64>,
    pub flags: (bool, u8),
    pub target: Option<PlayerId>,
    pub grabbed: Option<EntityId>,
    pub gear: Gear,
    pub bag: SyncMap<String, u32, 64>,
    pub pets: SyncMap<u8, Stats, 8>,
    pub party: SyncVec<Stats, 8>,
    pub path: SyncVec<Vec3, 32>,
    pub chat: SyncDeque<Line>,
    pub channels: SyncMap<u8, SyncDeque<u16>, 4>,
    pub hits: SyncDeque<Stats>,
    #[sync(owner)]
    pub gold: u32,
    #[sync(owner)]
    pub secret: Stats,
}

impl Default for Fighter {
    fn default() -> Self {
        Self {
            position: Vec3::default(),
            hp: 0,
            name: String::new(),
            weapon: None,
            inventory: Vec::new(),
            stats: BTreeMap::new(),
            flags: (false, 0),
            target: None,
            grabbed: None,
            gear: Gear::default(),
            bag: SyncMap::default(),
            pets: SyncMap::default(),
            party: SyncVec::default(),
            path: SyncVec::default(),
            chat: SyncDeque::with_capacity(8),
            channels: SyncMap::default(),
            hits: SyncDeque::with_capacity(3),
            gold: 0,
            secret: Stats::default(),
        }
    }
}

#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub struct Arena {
    pub round: u32,
    pub scores: Vec<(PlayerId, i64)>,
    pub standings: SyncVec<Vec<PlayerId>, 16>,
    pub teams: SyncMap<PlayerId, u8>,
}

/// One kind of server-owned entity: a nested state and a map keyed by entity ids.
#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub struct Drone {
    pub position: Vec3,
    pub stats: Stats,
    pub carried: SyncMap<EntityId, u8, 8>,
    pub chasing: Option<PlayerId>,
}

/// Another kind: a list synced per index.
#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub struct Chest {
    pub locked: bool,
    pub items: SyncVec<u16, 8>,
}

/// The entities: several kinds, one of them a plain value.
#[derive(SyncState, Clone, Debug, PartialEq)]
pub enum Thing {
    Drone(Drone),
    Chest(Chest),
    Coins(u32),
}

#[nodelink::events]
#[derive(Debug, Clone)]
pub enum ToServer {
    Move {
        to: Vec3,
        run: bool,
    },
    Equip(Option<Weapon>),
    Say {
        text: String,
        channel: u8,
    },
    Trade(BTreeMap<u16, u32>),
    Grab {
        target: EntityId,
        by: Option<PlayerId>,
    },
    Write(Vec<Line>),
    Ready,
}

#[nodelink::events]
#[derive(Debug, Clone)]
pub enum ToClient {
    Hit { by: PlayerId, damage: i32 },
    Announce(String),
    Spotted(EntityId),
    Over,
}

#[nodelink::protocol(state = Fighter, to_server = ToServer, to_client = ToClient, server_state = Arena, entity = Thing)]
pub struct Game;

/// The frame size limit the targets decode under.
pub const MAX: usize = 64 * 1024;
