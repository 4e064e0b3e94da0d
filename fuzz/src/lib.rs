//! A protocol with every kind of field, so the fuzzers reach every decoding path:
//! numbers, strings, options, sequences, maps, nested structs and enums.

use std::collections::BTreeMap;

use nodelink::{Fingerprint, PlayerId, Protocol, SyncState};
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

#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub struct Fighter {
    pub position: Vec3,
    pub hp: i32,
    pub name: String,
    pub weapon: Option<Weapon>,
    pub inventory: Vec<u16>,
    pub stats: BTreeMap<String, f64>,
    pub flags: (bool, u8),
    pub target: Option<PlayerId>,
}

#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub struct Arena {
    pub round: u32,
    pub scores: Vec<(PlayerId, i64)>,
}

#[nodelink::events]
#[derive(Debug, Clone)]
pub enum ToServer {
    Move { to: Vec3, run: bool },
    Equip(Option<Weapon>),
    Say { text: String, channel: u8 },
    Trade(BTreeMap<u16, u32>),
    Ready,
}

#[nodelink::events]
#[derive(Debug, Clone)]
pub enum ToClient {
    Hit { by: PlayerId, damage: i32 },
    Announce(String),
    Over,
}

#[nodelink::protocol(state = Fighter, to_server = ToServer, to_client = ToClient, server_state = Arena)]
pub struct Game;


/// The frame size limit the targets decode under.
pub const MAX: usize = 64 * 1024;
