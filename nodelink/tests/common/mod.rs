//! The protocol the data-layer tests share.
#![allow(dead_code)]

use std::collections::BTreeMap;

use nodelink::{Fingerprint, PlayerId, SyncState};
use serde::{Deserialize, Serialize};

/// A typical 8-field player state.
#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub(crate) struct Avatar {
    pub(crate) x: f32,
    pub(crate) y: f32,
    pub(crate) angle: f32,
    pub(crate) hp: u16,
    pub(crate) score: u32,
    pub(crate) name: String,
    pub(crate) team: Option<u8>,
    pub(crate) inventory: Vec<u16>,
}

#[derive(Fingerprint, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub(crate) struct Vec2 {
    pub(crate) x: f32,
    pub(crate) y: f32,
}

/// A state with every kind of field: nested user struct, map, server-only field.
#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub(crate) struct Ship {
    pub(crate) position: Vec2,
    pub(crate) cargo: BTreeMap<String, u32>,
    pub(crate) crew: Vec<String>,
    pub(crate) captain: Option<String>,
    #[sync(skip)]
    pub(crate) secret_route: Vec<Vec2>,
}

#[nodelink::events]
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ToServer {
    Move {
        x: f32,
        y: f32,
    },
    Chat {
        msg: String,
    },
    Ready,
    Shoot(f32, f32),
    Buy {
        items: Vec<u16>,
        note: Option<String>,
    },
}

#[nodelink::events]
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ToClient {
    Joined { id: PlayerId },
    Chat { from: PlayerId, msg: String },
    Waypoint(Vec2),
}

#[nodelink::protocol(state = Avatar, to_server = ToServer, to_client = ToClient)]
pub(crate) struct Game;

pub(crate) const MAX: usize = nodelink::wire::DEFAULT_MAX_FRAME_LEN;

/// The protocol of the `Ship` state, for tests of its frames.
#[nodelink::protocol(state = Ship, to_server = ToServer, to_client = ToClient)]
pub(crate) struct ShipGame;
