//! Prints how many bytes typical frames take on each wire: the native MessagePack
//! one and the JSON one Python nodelink clients speak.
//!
//! Run with `cargo run --example wire_sizes`.

use std::time::{Duration, UNIX_EPOCH};

use nodelink::sync::Selection;
use nodelink::sync::Tick;
use nodelink::wire::{encode_event, encode_sync, json, NetId, SyncHeader};
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

/// The bytes one more player adds to a sync frame: the frame with `players` listed
/// once and twice, under two ids, minus each other (so a separator is counted).
struct Sizes {
    native: Vec<usize>,
    json: Vec<usize>,
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
        more: false,
    };
    let json_header = json::SyncHeader {
        time: UNIX_EPOCH + Duration::from_millis(1_764_000_000_123),
        online: 100,
        full: false,
        more: false,
    };
    let (ada, bob) = (
        PlayerId::from_raw(0xdead_beef),
        PlayerId::from_raw(0x0bad_cafe),
    );
    let native_sync = |players: &[(NetId, FieldMask)], joined: &[(NetId, PlayerId)]| {
        let players = players
            .iter()
            .map(|(net_id, mask)| (*net_id, &player, Selection::Fields(*mask)));
        encode_sync::<Bench, _>(header, &[], joined, players.collect::<Vec<_>>(), None)
            .map(|frame| frame.len())
    };
    let json_sync = |players: &[(PlayerId, FieldMask)]| {
        let players = players
            .iter()
            .map(|(id, mask)| (*id, &player, Selection::Fields(*mask)));
        json::encode_sync::<Bench, _>(json_header, &[], players, None).map(|frame| frame.len())
    };
    let mut sizes = Sizes {
        native: Vec::new(),
        json: Vec::new(),
    };
    sizes.native.push(native_sync(&[], &[])?);
    sizes.json.push(json_sync(&[])?);
    for mask in [0b1, 0b11, Player::ALL.bits()] {
        let mask = FieldMask::from_bits(mask);
        sizes.native.push(
            native_sync(&[(NetId(7), mask), (NetId(8), mask)], &[])?
                - native_sync(&[(NetId(7), mask)], &[])?,
        );
        sizes
            .json
            .push(json_sync(&[(ada, mask), (bob, mask)])? - json_sync(&[(ada, mask)])?);
    }
    let joined = native_sync(&[], &[(NetId(7), ada)])? - sizes.native[0];
    let moved = ToServer::Move { x: 12.5, y: -3.25 };

    println!("bytes on the wire                                native   JSON");
    let rows = [
        "sync frame, nobody changed (header)           ",
        "+ per changed player, one f32 field           ",
        "+ per changed player, two f32 fields          ",
        "+ per player, whole 8-field state             ",
    ];
    for (row, (native, json)) in rows.iter().zip(sizes.native.iter().zip(&sizes.json)) {
        println!("  {row}  {native:>5}  {json:>5}");
    }
    println!(
        "  + per joining player (announcement)             {joined:>5}      - (listed with its whole state)"
    );
    println!(
        "  Move {{ x: f32, y: f32 }} event frame              {:>5}  {:>5}",
        encode_event(&moved)?.len(),
        json::encode_event(&moved)?.len()
    );
    Ok(())
}
