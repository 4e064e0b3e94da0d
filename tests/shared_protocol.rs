//! A protocol defined in its own crate (`nodelink-examples`) works from another crate:
//! the generated types are public and reach the runtime only through `nodelink`.

use nodelink::client::World;
use nodelink::sync::Tick;
use nodelink::sync::{ChangeSet, Selection};
use nodelink::wire::{
    decode_client_frame, decode_server_frame, encode_event, encode_sync, ClientFrame, NetId,
    ServerFrame, SyncHeader, DEFAULT_MAX_FRAME_LEN,
};
use nodelink::{Events, PlayerId, Protocol, SyncState, Tracked};
use nodelink_examples::{Avatar, AvatarDelta, Game, ToClient, ToServer};

#[test]
fn a_world_of_players_reaches_a_client_mirror_through_frames() {
    let mut world: Vec<(NetId, PlayerId, Tracked<Avatar>)> = (0..50)
        .map(|i| (NetId(i), PlayerId::from_raw(0x1000 + i), Tracked::default()))
        .collect();
    let mut mirror = World::<Game>::default();

    let joined: Vec<_> = world.iter().map(|(net, id, _)| (*net, *id)).collect();
    let snapshot = encode_sync::<Game, _>(
        SyncHeader {
            tick: Tick(0),
            online: 50,
            full: true,
            more: false,
        },
        &[],
        &joined,
        world
            .iter()
            .map(|(net, _, s)| (*net, s.get(), Selection::All)),
        None,
    )
    .unwrap();
    let ServerFrame::Sync(frame) =
        decode_server_frame::<Game>(&snapshot, DEFAULT_MAX_FRAME_LEN).unwrap()
    else {
        panic!("expected a sync frame");
    };
    mirror.apply(frame);

    // Every player moves, as the server's Move handler would do it.
    for tick in 1..=5u64 {
        for (net, _, state) in &mut world {
            let event = encode_event(&ToServer::Move {
                x: tick as f32,
                y: net.0 as f32,
            })
            .unwrap();
            let ClientFrame::Event(ToServer::Move { x, y }) =
                decode_client_frame::<ToServer>(&event, DEFAULT_MAX_FRAME_LEN).unwrap()
            else {
                panic!("expected a move");
            };
            state.state_mut().set_x(x).set_y(y);
        }
        let changed: Vec<_> = world
            .iter_mut()
            .map(|(net, _, s)| (*net, s.get().clone(), s.take_changes()))
            .filter(|(_, _, changes)| !changes.is_empty())
            .collect();
        let bytes = encode_sync::<Game, _>(
            SyncHeader {
                tick: Tick(tick),
                online: 50,
                full: false,
                more: false,
            },
            &[],
            &[],
            changed
                .iter()
                .map(|(net, s, changes)| (*net, s, Selection::Changed(changes))),
            None,
        )
        .unwrap();
        let ServerFrame::Sync(frame) =
            decode_server_frame::<Game>(&bytes, DEFAULT_MAX_FRAME_LEN).unwrap()
        else {
            panic!("expected a sync frame");
        };
        mirror.apply(frame);
    }

    for (_, id, state) in &world {
        assert_eq!(mirror.get(*id), Some(state.get()));
    }
}

#[test]
fn generated_types_are_usable_from_another_crate() {
    let delta = AvatarDelta {
        name: Some("ada".into()),
        ..AvatarDelta::default()
    };
    let mut avatar = Avatar::default();
    avatar.apply(&delta);
    assert_eq!(avatar.name, "ada");
    assert_eq!(ToServer::NAMES, ["move", "chat", "ready"]);
    assert_eq!(ToClient::NAMES, ["joined", "left", "chat"]);
    const { assert!(Game::FINGERPRINT != 0) };
}
