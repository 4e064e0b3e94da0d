//! Sync frames: a world of states encoded once, decoded and applied to a mirror.

mod common;

use std::collections::HashMap;

use common::{Avatar, Game, ShipGame, MAX};
use nodelink::sync::Selection;
use nodelink::sync::Tick;
use nodelink::wire::{decode_server_frame, encode_sync, NetId, ServerFrame, SyncFrame, SyncHeader};
use nodelink::{DecodeError, PlayerId, Protocol, SyncState, Tracked};

fn decode<P: Protocol>(bytes: &[u8]) -> Result<SyncFrame<P>, DecodeError> {
    match decode_server_frame::<P>(bytes, MAX)? {
        ServerFrame::Sync(frame) => Ok(frame),
        other => panic!("expected a sync frame, got {other:?}"),
    }
}

fn header(tick: u64, full: bool) -> SyncHeader {
    SyncHeader {
        tick: Tick(tick),
        online: 3,
        full,
        more: false,
    }
}

#[test]
fn a_full_snapshot_rebuilds_the_world_and_deltas_keep_it_in_sync() {
    let mut server: Vec<(NetId, PlayerId, Tracked<Avatar>)> = (0..3)
        .map(|i| {
            let state = Avatar {
                x: i as f32,
                name: format!("bot{i}"),
                ..Avatar::default()
            };
            (
                NetId(i),
                PlayerId::from_raw(0xa000 + i),
                Tracked::new(state),
            )
        })
        .collect();

    // The client joins: one full snapshot.
    let joined: Vec<_> = server.iter().map(|(net, id, _)| (*net, *id)).collect();
    let snapshot = encode_sync::<Game, _>(
        header(1, true),
        &[],
        &joined,
        server
            .iter()
            .map(|(net, _, s)| (*net, s.get(), Selection::All)),
        None,
    )
    .unwrap();
    let frame = decode::<Game>(&snapshot).unwrap();
    assert!(frame.header.full);
    assert_eq!(frame.joined, joined);

    let mut mirror: HashMap<NetId, Avatar> = HashMap::new();
    for (net, delta) in &frame.players {
        mirror.entry(*net).or_default().apply(delta);
    }

    // Two players change; only their changed fields travel.
    server[0].2.state_mut().set_x(10.0);
    server[2].2.update(|a| {
        a.hp = 50;
        a.inventory = vec![1, 2];
    });
    let changed: Vec<_> = server
        .iter_mut()
        .filter(|(_, _, s)| !s.dirty().is_empty())
        .map(|(net, _, s)| (*net, s.get().clone(), s.take_changes()))
        .collect();
    let delta_frame = encode_sync::<Game, _>(
        header(2, false),
        &[],
        &[],
        changed
            .iter()
            .map(|(net, s, changes)| (*net, s, Selection::Changed(changes))),
        None,
    )
    .unwrap();
    let frame = decode::<Game>(&delta_frame).unwrap();
    assert_eq!(frame.players.len(), 2);
    for (net, delta) in &frame.players {
        mirror.get_mut(net).unwrap().apply(delta);
    }

    for (net, _, state) in &server {
        assert_eq!(&mirror[net], state.get());
    }
    assert!(
        delta_frame.len() < snapshot.len() / 2,
        "a delta frame is much smaller than a snapshot"
    );
}

#[test]
fn departures_and_arrivals_travel_in_the_frame() {
    let bytes = encode_sync::<Game, _>(
        header(9, false),
        &[NetId(4)],
        &[(NetId(4), PlayerId::from_raw(0xbeef))],
        std::iter::empty(),
        None,
    )
    .unwrap();
    let frame = decode::<Game>(&bytes).unwrap();
    assert_eq!(frame.header, header(9, false));
    assert_eq!(frame.left, [NetId(4)]);
    assert_eq!(frame.joined, [(NetId(4), PlayerId::from_raw(0xbeef))]);
    assert!(frame.players.is_empty());
}

/// A sync frame with one player entry `[0, mask, value]`, built by hand.
fn raw_sync_entry(mask: u64, write_value: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut bytes = Vec::new();
    rmp::encode::write_array_len(&mut bytes, 8).unwrap();
    for value in [2u64, 1, 1, 0] {
        rmp::encode::write_uint(&mut bytes, value).unwrap(); // kind, tick, online, flags
    }
    rmp::encode::write_array_len(&mut bytes, 0).unwrap(); // left
    rmp::encode::write_array_len(&mut bytes, 0).unwrap(); // joined
    rmp::encode::write_array_len(&mut bytes, 1).unwrap(); // players
    rmp::encode::write_array_len(&mut bytes, 3).unwrap();
    rmp::encode::write_uint(&mut bytes, 0).unwrap();
    rmp::encode::write_uint(&mut bytes, mask).unwrap();
    write_value(&mut bytes);
    rmp::encode::write_nil(&mut bytes).unwrap(); // no server state
    bytes
}

#[test]
fn a_mask_bit_beyond_the_state_is_rejected_with_its_index() {
    // Ship has 4 synced fields; the entry claims a 6th.
    let bytes = raw_sync_entry(1 << 5, |b| rmp::encode::write_uint(b, 1).map(drop).unwrap());
    let err = decode::<ShipGame>(&bytes).unwrap_err();
    assert_eq!(
        err,
        DecodeError::UnknownStateField {
            state: "Ship",
            index: 5,
            count: 4
        }
    );
    assert_eq!(
        err.to_string(),
        "state `Ship` has 4 synced field(s); the delta names field index 5"
    );
}

#[test]
fn a_frame_over_the_limit_is_refused_before_decoding() {
    let err = decode_server_frame::<Game>(&[0u8; 100], 99).unwrap_err();
    assert_eq!(err, DecodeError::FrameTooLarge { len: 100, max: 99 });
    assert_eq!(
        err.to_string(),
        "frame of 100 bytes exceeds the 99-byte limit"
    );
}

#[test]
fn a_wrong_value_type_in_a_delta_names_the_state_and_field() {
    // Field 5 of Avatar is `name`, a String; the entry carries an f32.
    let bytes = raw_sync_entry(1 << 5, |b| rmp::encode::write_f32(b, 1.0).unwrap());
    let message = decode::<Game>(&bytes).unwrap_err().to_string();
    assert!(
        message.starts_with("state `Avatar`: field `name`: "),
        "{message}"
    );
}

#[test]
fn a_multi_frame_snapshot_completes_the_mirror_at_its_last_frame() {
    use nodelink::client::World;

    let part = |tick, full, more, net: u32| {
        let state = Avatar::default();
        let bytes = encode_sync::<Game, _>(
            SyncHeader {
                tick: Tick(tick),
                online: 3,
                full,
                more,
            },
            &[],
            &[(NetId(net), PlayerId::from_raw(net + 1))],
            [(NetId(net), &state, Selection::All)],
            None,
        )
        .unwrap();
        decode::<Game>(&bytes).unwrap()
    };
    let mut world = World::<Game>::default();
    // A delta before any snapshot does not make a mirror complete.
    world.apply(part(1, false, false, 9));
    assert!(!world.is_complete());

    // Three parts: full + more, more, then the last (no flags).
    for (i, (full, more)) in [(true, true), (false, true), (false, false)]
        .into_iter()
        .enumerate()
    {
        let sync = world.apply(part(2, full, more, i as u32));
        assert_eq!((sync.full, sync.more), (full, more));
        assert_eq!(world.is_complete(), !more, "after part {i}");
    }
    assert_eq!(
        world.len(),
        3,
        "the full part dropped the player from before"
    );

    // Ordinary frames keep it complete; a new snapshot in parts clears it until done.
    world.apply(part(3, false, false, 5));
    assert!(world.is_complete());
    world.apply(part(4, true, true, 0));
    assert!(!world.is_complete());
    assert_eq!(world.len(), 1);
    world.apply(part(4, false, false, 1));
    assert!(world.is_complete());
}

#[test]
fn unknown_sync_flags_are_an_error() {
    // [2, tick 0, online 0, flags 0b100, [], [], [], nil]
    let bytes = [0x98, 0x02, 0x00, 0x00, 0x04, 0x90, 0x90, 0x90, 0xc0];
    let error = decode::<Game>(&bytes).unwrap_err();
    assert!(error.to_string().contains("sync flags"), "{error}");
}
