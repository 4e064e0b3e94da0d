//! Prints how many bytes typical frames take on the wire.
//!
//! Run with `cargo run --example wire_sizes`.

use nodelink::sync::Tick;
use nodelink::wire::{encode_event, encode_sync, NetId, SyncHeader};
use nodelink::{FieldMask, PlayerId, SyncState};
use nodelink_examples::ToServer;

/// A typical 8-field player state.
#[derive(SyncState, Clone, Debug, Default, PartialEq)]
struct Player {
    x: f32,
    y: f32,
    angle: f32,
    hp: u16,
    score: u32,
    name: String,
    team: Option<u8>,
    inventory: Vec<u16>,
}

/// A protocol around that state, to size its frames.
struct Bench;

impl nodelink::Protocol for Bench {
    type State = Player;
    type ToServer = ToServer;
    type ToClient = nodelink_examples::ToClient;
    type ServerState = ();
}

fn main() -> Result<(), nodelink::EncodeError> {
    let player = Player {
        x: 12.5,
        y: -3.25,
        angle: 1.57,
        hp: 100,
        score: 4200,
        name: "player-one".into(),
        team: Some(2),
        inventory: vec![1, 2, 3],
    };
    let header = SyncHeader {
        tick: Tick(1000),
        online: 100,
        full: false,
    };
    let empty = encode_sync::<Bench, _>(header, &[], &[], [], None)?.len();
    let entry = |mask| -> Result<usize, nodelink::EncodeError> {
        Ok(
            encode_sync::<Bench, _>(header, &[], &[], [(NetId(7), &player, mask)], None)?.len()
                - empty,
        )
    };
    let one_f32 = entry(FieldMask::from_bits(0b1))?;
    let two_f32 = entry(FieldMask::from_bits(0b11))?;
    let full = entry(Player::ALL)?;
    let moved = encode_event(&ToServer::Move { x: 12.5, y: -3.25 })?.len();
    let joined = encode_sync::<Bench, _>(
        header,
        &[],
        &[(NetId(7), PlayerId::from_raw(0xdead_beef))],
        [],
        None,
    )?
    .len()
        - empty;

    println!("bytes on the native wire");
    println!("  sync frame header (tick 1000, 100 online)     {empty:>4}");
    println!("  + per changed player, one f32 field           {one_f32:>4}");
    println!("  + per changed player, two f32 fields          {two_f32:>4}");
    println!("  + per player, full 8-field state              {full:>4}");
    println!("  + per joining player (id announcement)        {joined:>4}");
    println!("  Move {{ x: f32, y: f32 }} event frame           {moved:>4}");
    Ok(())
}
