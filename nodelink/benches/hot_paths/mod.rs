//! The data layer's hot paths, each with a baseline in the same group: what the
//! criterion benchmarks time (`codec.rs`) and what callgrind counts (`callgrind.rs`).
//!
//! Each baseline is plain `rmp_serde::to_vec` / `from_slice` of the same values as a
//! tuple: the cost of MessagePack through serde with no framework around it.

use std::hint::black_box;

use nodelink::sync::Selection;
use nodelink::sync::Tick;
use nodelink::wire::{
    decode_client_frame, decode_server_frame, encode_event, encode_sync, json, NetId, ServerFrame,
    SyncHeader, DEFAULT_MAX_FRAME_LEN,
};
use nodelink::{FieldMask, PlayerId, SyncState, Tracked};

/// A typical player state: 8 fields.
#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub(crate) struct Avatar {
    x: f32,
    y: f32,
    angle: f32,
    hp: u16,
    score: u32,
    name: String,
    team: Option<u8>,
    inventory: Vec<u16>,
}

#[nodelink::events]
pub(crate) enum ToServer {
    Move { x: f32, y: f32 },
}

#[nodelink::protocol(state = Avatar, to_server = ToServer, to_client = ToServer)]
pub(crate) struct Bench;

fn avatar() -> Avatar {
    Avatar {
        x: 12.5,
        y: -3.25,
        angle: 1.57,
        hp: 100,
        score: 4200,
        name: "player-one".into(),
        team: Some(2),
        inventory: vec![1, 2, 3],
    }
}

const HEADER: SyncHeader = SyncHeader {
    tick: Tick(1000),
    online: 100,
    full: false,
    more: false,
};
const ONE: FieldMask = FieldMask::from_bits(0b1);
const TWO: FieldMask = FieldMask::from_bits(0b11);

/// One hot path: its group, its name within the group, and one run of it.
pub(crate) struct Path {
    pub(crate) group: &'static str,
    pub(crate) name: &'static str,
    pub(crate) run: Box<dyn FnMut()>,
}

fn path(group: &'static str, name: &'static str, run: impl FnMut() + 'static) -> Path {
    Path {
        group,
        name,
        run: Box::new(run),
    }
}

/// Every hot path; the first of each group is its baseline.
#[must_use]
pub(crate) fn all() -> Vec<Path> {
    let state = avatar();
    let mut paths = Vec::new();

    let group = "delta_encode";
    let x = state.x;
    paths.push(path(
        group,
        "baseline: to_vec(&(net, mask, x))",
        move || {
            black_box(rmp_serde::to_vec(black_box(&(0u32, 1u64, x))).unwrap());
        },
    ));
    for (name, mask) in [
        ("one changed field, whole sync frame", ONE),
        ("two changed fields", TWO),
        ("full 8-field state", Avatar::ALL),
    ] {
        let state = state.clone();
        paths.push(path(group, name, move || {
            let players = [(NetId(0), black_box(&state), Selection::Fields(mask))];
            black_box(encode_sync::<Bench, _>(HEADER, &[], &[], players, None).unwrap());
        }));
    }

    let group = "delta_decode_apply";
    let baseline = rmp_serde::to_vec(&(0u32, 1u64, state.x)).unwrap();
    paths.push(path(
        group,
        "baseline: from_slice::<(u32, u64, f32)>",
        move || {
            black_box(rmp_serde::from_slice::<(u32, u64, f32)>(black_box(&baseline)).unwrap());
        },
    ));
    for (name, mask) in [
        ("decode a 1-field sync frame, apply", ONE),
        ("decode a 2-field sync frame, apply", TWO),
    ] {
        let bytes = encode_sync::<Bench, _>(
            HEADER,
            &[],
            &[],
            [(NetId(0), &state, Selection::Fields(mask))],
            None,
        )
        .unwrap();
        let mut mirror = Avatar::default();
        paths.push(path(group, name, move || {
            if let Ok(ServerFrame::Sync(frame)) =
                decode_server_frame::<Bench>(black_box(&bytes), DEFAULT_MAX_FRAME_LEN)
            {
                for (_, delta) in &frame.players {
                    mirror.apply(delta);
                }
            }
        }));
    }

    // The server's per-tick work: 100 players, each with one changed field.
    let group = "sync_frame_100_players";
    let entries: Vec<(u32, u64, f32)> = (0..100).map(|i| (i, 1, 12.5)).collect();
    paths.push(path(
        group,
        "baseline: to_vec of 100 (net, mask, x) tuples",
        move || {
            black_box(rmp_serde::to_vec(black_box(&entries)).unwrap());
        },
    ));
    let players: std::rc::Rc<Vec<Tracked<Avatar>>> =
        std::rc::Rc::new((0..100).map(|_| Tracked::new(avatar())).collect());
    let native_players = players.clone();
    paths.push(path(
        group,
        "native frame, one changed field each",
        move || {
            let entries = native_players
                .iter()
                .enumerate()
                .map(|(i, p)| (NetId(i as u32), black_box(p.get()), Selection::Fields(ONE)));
            black_box(encode_sync::<Bench, _>(HEADER, &[], &[], entries, None).unwrap());
        },
    ));
    paths.push(path(
        group,
        "JSON frame (Python clients), one changed field each",
        move || {
            let header = json::SyncHeader {
                time: std::time::UNIX_EPOCH,
                online: 100,
                full: false,
                more: false,
            };
            let entries = players.iter().enumerate().map(|(i, p)| {
                (
                    PlayerId::from_raw(i as u32),
                    black_box(p.get()),
                    Selection::Fields(ONE),
                )
            });
            black_box(json::encode_sync::<Bench, _>(header, &[], entries, None).unwrap());
        },
    ));

    let group = "event";
    let event = ToServer::Move { x: 12.5, y: -3.25 };
    paths.push(path(
        group,
        "baseline: to_vec(&(1, \"move\", x, y))",
        || {
            black_box(rmp_serde::to_vec(black_box(&(1u8, "move", 12.5f32, -3.25f32))).unwrap());
        },
    ));
    paths.push(path(group, "encode_event(Move { x, y })", move || {
        black_box(encode_event(black_box(&event)).unwrap());
    }));
    let baseline = rmp_serde::to_vec(&(1u8, "move", 12.5f32, -3.25f32)).unwrap();
    paths.push(path(
        group,
        "baseline: from_slice::<(u8, String, f32, f32)>",
        move || {
            black_box(
                rmp_serde::from_slice::<(u8, String, f32, f32)>(black_box(&baseline)).unwrap(),
            );
        },
    ));
    let bytes = encode_event(&ToServer::Move { x: 12.5, y: -3.25 }).unwrap();
    paths.push(path(group, "decode_client_frame::<ToServer>", move || {
        black_box(
            decode_client_frame::<ToServer>(black_box(&bytes), DEFAULT_MAX_FRAME_LEN).unwrap(),
        );
    }));
    let text = json::encode_event(&ToServer::Move { x: 12.5, y: -3.25 }).unwrap();
    paths.push(path(
        group,
        "json::decode_client_frame::<ToServer> (Python client)",
        move || {
            black_box(
                json::decode_client_frame::<ToServer>(black_box(&text), DEFAULT_MAX_FRAME_LEN)
                    .unwrap(),
            );
        },
    ));
    paths
}
