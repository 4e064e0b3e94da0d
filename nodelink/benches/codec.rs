//! Hot paths of the data layer: delta and full encoding, decode + apply, events.
//!
//! Each group also times a baseline, plain `rmp_serde::to_vec` / `from_slice` of the
//! same values as a tuple, so results read as ratios measured in the same run.
//! Run with `cargo bench -p nodelink --bench codec`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use nodelink::sync::Tick;
use nodelink::wire::{
    decode_client_frame, decode_server_frame, encode_event, encode_sync, NetId, ServerFrame,
    SyncHeader, DEFAULT_MAX_FRAME_LEN,
};
use nodelink::{FieldMask, SyncState, Tracked};

/// A typical player state: 8 fields.
#[derive(SyncState, Clone, Debug, Default, PartialEq)]
struct Avatar {
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
enum ToServer {
    Move { x: f32, y: f32 },
}

struct Bench;

impl nodelink::Protocol for Bench {
    type State = Avatar;
    type ToServer = ToServer;
    type ToClient = ToServer;
    type ServerState = ();
}

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
};
const ONE: FieldMask = FieldMask::from_bits(0b1);
const TWO: FieldMask = FieldMask::from_bits(0b11);

fn delta(c: &mut Criterion) {
    let state = avatar();
    let mut group = c.benchmark_group("delta_encode");
    group.bench_function("baseline_rmp_serde_tuple_1_field", |b| {
        b.iter(|| rmp_serde::to_vec(black_box(&(0u32, 1u64, state.x))))
    });
    group.bench_function("1_field", |b| {
        b.iter(|| {
            encode_sync::<Bench, _>(HEADER, &[], &[], [(NetId(0), black_box(&state), ONE)], None)
        })
    });
    group.bench_function("2_fields", |b| {
        b.iter(|| {
            encode_sync::<Bench, _>(HEADER, &[], &[], [(NetId(0), black_box(&state), TWO)], None)
        })
    });
    group.bench_function("full_8_fields", |b| {
        b.iter(|| {
            encode_sync::<Bench, _>(
                HEADER,
                &[],
                &[],
                [(NetId(0), black_box(&state), Avatar::ALL)],
                None,
            )
        })
    });
    group.finish();

    let mut group = c.benchmark_group("delta_decode_apply");
    let one = encode_sync::<Bench, _>(HEADER, &[], &[], [(NetId(0), &state, ONE)], None).unwrap();
    let two = encode_sync::<Bench, _>(HEADER, &[], &[], [(NetId(0), &state, TWO)], None).unwrap();
    let baseline = rmp_serde::to_vec(&(0u32, 1u64, state.x)).unwrap();
    group.bench_function("baseline_rmp_serde_tuple_1_field", |b| {
        b.iter(|| rmp_serde::from_slice::<(u32, u64, f32)>(black_box(&baseline)))
    });
    for (name, bytes) in [("1_field", &one), ("2_fields", &two)] {
        group.bench_function(name, |b| {
            let mut mirror = Avatar::default();
            b.iter(|| {
                if let Ok(ServerFrame::Sync(frame)) =
                    decode_server_frame::<Bench>(black_box(bytes), DEFAULT_MAX_FRAME_LEN)
                {
                    for (_, delta) in &frame.players {
                        mirror.apply(delta);
                    }
                }
            })
        });
    }
    group.finish();

    // The server's per-tick work: 100 players, each with one changed field.
    let mut group = c.benchmark_group("sync_frame_100_players");
    let players: Vec<Tracked<Avatar>> = (0..100).map(|_| Tracked::new(avatar())).collect();
    group.bench_function("baseline_rmp_serde_vec_of_tuples", |b| {
        let entries: Vec<(u32, u64, f32)> = (0..100).map(|i| (i, 1, 12.5)).collect();
        b.iter(|| rmp_serde::to_vec(black_box(&entries)))
    });
    group.bench_function("encode_1_field_each", |b| {
        b.iter(|| {
            encode_sync::<Bench, _>(
                HEADER,
                &[],
                &[],
                players
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (NetId(i as u32), black_box(p.get()), ONE)),
                None,
            )
        })
    });
    group.finish();
}

fn events(c: &mut Criterion) {
    let event = ToServer::Move { x: 12.5, y: -3.25 };
    let mut group = c.benchmark_group("event");
    group.bench_function("baseline_rmp_serde_tuple_encode", |b| {
        b.iter(|| rmp_serde::to_vec(black_box(&(1u8, "move", 12.5f32, -3.25f32))))
    });
    group.bench_function("encode_move", |b| {
        b.iter(|| encode_event(black_box(&event)))
    });
    let baseline = rmp_serde::to_vec(&(1u8, "move", 12.5f32, -3.25f32)).unwrap();
    group.bench_function("baseline_rmp_serde_tuple_decode", |b| {
        b.iter(|| rmp_serde::from_slice::<(u8, String, f32, f32)>(black_box(&baseline)))
    });
    let bytes = encode_event(&event).unwrap();
    group.bench_function("decode_move", |b| {
        b.iter(|| decode_client_frame::<ToServer>(black_box(&bytes), DEFAULT_MAX_FRAME_LEN))
    });
    group.finish();
}

criterion_group!(benches, delta, events);
criterion_main!(benches);
