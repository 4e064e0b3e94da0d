use nodelink::{EntityId, Protocol, SyncState};

#[derive(SyncState, Clone, Default, PartialEq)]
pub struct Avatar {
    pub x: f32,
}

#[derive(SyncState, Clone, Default, PartialEq)]
struct Round {
    number: u32,
}

#[derive(SyncState, Clone, Default, PartialEq)]
struct Crate {
    hp: u8,
}

#[nodelink::events]
pub enum ToServer {
    Move { x: f32 },
}

#[nodelink::events]
pub enum ToClient {
    Hit(EntityId),
}

/// Only the required parts: the others are `()`.
#[nodelink::protocol(state = Avatar, to_server = ToServer, to_client = ToClient)]
#[derive(Debug)]
pub struct Minimal;

/// Every part, in any order, with paths.
#[nodelink::protocol(
    entity = self::Crate,
    server_state = Round,
    to_client = ToClient,
    to_server = crate::ToServer,
    state = Avatar,
)]
struct Full;

fn entity_of<P: Protocol<Entity = Crate, ServerState = Round>>() {}

fn main() {
    let _: <Minimal as Protocol>::ServerState = ();
    let _: <Minimal as Protocol>::Entity = ();
    entity_of::<Full>();
    assert_ne!(Minimal::FINGERPRINT, Full::FINGERPRINT);
}
