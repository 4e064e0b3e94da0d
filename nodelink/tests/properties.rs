//! Properties of every encoder and decoder: round trips, and no panic on any input.

mod common;

use common::{Avatar, Game, ToServer, MAX};
use nodelink::sync::Selection;
use nodelink::sync::Tick;
use nodelink::wire::{
    decode_client_frame, decode_server_frame, encode_event, encode_sync, ClientFrame, NetId,
    ServerFrame, Settings, SyncHeader, Welcome,
};
use nodelink::{FieldMask, PlayerId, SyncState};
use proptest::prelude::*;

fn finite() -> impl Strategy<Value = f32> {
    -1.0e6f32..1.0e6
}

fn avatar() -> impl Strategy<Value = Avatar> {
    (
        (finite(), finite(), finite()),
        any::<u16>(),
        any::<u32>(),
        ".{0,40}",
        any::<Option<u8>>(),
        proptest::collection::vec(any::<u16>(), 0..20),
    )
        .prop_map(|((x, y, angle), hp, score, name, team, inventory)| Avatar {
            x,
            y,
            angle,
            hp,
            score,
            name,
            team,
            inventory,
        })
}

/// Any settings a server could announce (durations in whole milliseconds, as the
/// wire carries them).
fn settings() -> impl Strategy<Value = Settings> {
    let millis = || any::<u32>().prop_map(|ms| std::time::Duration::from_millis(ms.into()));
    (
        (millis(), millis(), millis(), millis()),
        (any::<u64>(), any::<u32>(), any::<u64>()),
        proptest::option::of((0.0f64..1.0e9, any::<u32>(), any::<u32>())),
    )
        .prop_map(
            |((ping, idle, slow, grace), (frame, invalid, buffer), rate)| {
                let mut settings = Settings::default();
                settings.ping_interval = ping;
                settings.idle_timeout = idle;
                settings.slow_consumer_timeout = slow;
                settings.resume_grace = grace;
                settings.max_frame_len = frame;
                settings.max_invalid_frames = invalid;
                settings.resume_buffer_len = buffer;
                settings.rate_limit = rate.map(|(per_second, burst, after)| {
                    nodelink::server::RateLimit::new(per_second, burst).disconnect_after(after)
                });
                settings
            },
        )
}

fn to_server() -> impl Strategy<Value = ToServer> {
    prop_oneof![
        (finite(), finite()).prop_map(|(x, y)| ToServer::Move { x, y }),
        ".{0,100}".prop_map(|msg| ToServer::Chat { msg }),
        Just(ToServer::Ready),
        (finite(), finite()).prop_map(|(a, b)| ToServer::Shoot(a, b)),
        (
            proptest::collection::vec(any::<u16>(), 0..50),
            proptest::option::of(".{0,20}")
        )
            .prop_map(|(items, note)| ToServer::Buy { items, note }),
    ]
}

fn decode_sync(bytes: &[u8]) -> nodelink::wire::SyncFrame<Game> {
    match decode_server_frame::<Game>(bytes, MAX) {
        Ok(ServerFrame::Sync(frame)) => frame,
        other => panic!("expected a sync frame, got {other:?}"),
    }
}

proptest! {
    #[test]
    fn deltas_round_trip_for_any_mask(state in avatar(), bits in any::<u64>(), net in any::<u32>()) {
        let mask = FieldMask::from_bits(bits) & Avatar::ALL;
        let header = SyncHeader { tick: Tick(7), online: 1, full: false, more: false };
        let bytes = encode_sync::<Game, _>(header, &[], &[], [(NetId(net), &state, Selection::Fields(mask))], None).unwrap();
        let frame = decode_sync(&bytes);
        prop_assert_eq!(frame.header, header);
        prop_assert_eq!(frame.players.len(), 1);
        let (decoded_net, delta) = &frame.players[0];
        prop_assert_eq!(*decoded_net, NetId(net));
        prop_assert_eq!(delta, &state.delta(Selection::Fields(mask)));
        prop_assert_eq!(Avatar::delta_mask(delta), mask);
    }

    #[test]
    fn full_states_round_trip(states in proptest::collection::vec(avatar(), 0..10)) {
        let header = SyncHeader { tick: Tick(1), online: states.len() as u32, full: true, more: false };
        let joined: Vec<_> = (0..states.len() as u32).map(|i| (NetId(i), PlayerId::from_raw(i * 31))).collect();
        let entries = states.iter().enumerate().map(|(i, s)| (NetId(i as u32), s, Selection::All));
        let bytes = encode_sync::<Game, _>(header, &[], &joined, entries, None).unwrap();
        let frame = decode_sync(&bytes);
        prop_assert_eq!(&frame.joined, &joined);
        for ((_, delta), state) in frame.players.iter().zip(&states) {
            let mut mirror = Avatar::default();
            mirror.apply(delta);
            prop_assert_eq!(&mirror, state);
        }
    }

    #[test]
    fn events_round_trip(event in to_server()) {
        let bytes = encode_event(&event).unwrap();
        let decoded = decode_client_frame::<ToServer>(&bytes, MAX).unwrap();
        prop_assert_eq!(decoded, ClientFrame::Event(event));
    }

    #[test]
    fn welcome_round_trips(fingerprint in any::<u64>(), player in any::<u32>(), net in any::<u32>(), tick_rate in any::<u32>(), settings in settings(), token in any::<Option<u128>>(), resumed in any::<Option<u64>>()) {
        let resume_token = token.map(|raw| format!("{raw:032x}").parse().unwrap());
        // A count is only written after a token.
        let resumed = resumed.filter(|_| token.is_some());
        let welcome = Welcome { fingerprint, player: PlayerId::from_raw(player), net_id: NetId(net), tick_rate, settings, resume_token, resumed };
        let decoded = decode_server_frame::<Game>(&welcome.encode(), MAX).unwrap();
        prop_assert_eq!(decoded, ServerFrame::Welcome(welcome));
    }

    #[test]
    fn arbitrary_bytes_never_panic_any_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode_server_frame::<Game>(&bytes, MAX);
        let _ = decode_server_frame::<common::ShipGame>(&bytes, MAX);
        let _ = decode_client_frame::<ToServer>(&bytes, MAX);
    }

    /// MessagePack is prefix-free, so every strict prefix of a frame is incomplete.
    #[test]
    fn truncated_frames_are_errors(state in avatar(), event in to_server(), cut in any::<prop::sample::Index>()) {
        let header = SyncHeader { tick: Tick(3), online: 2, full: false, more: false };
        let sync = encode_sync::<Game, _>(header, &[NetId(1)], &[(NetId(2), PlayerId::from_raw(9))], [(NetId(2), &state, Selection::All)], None).unwrap();
        let cut_at = cut.index(sync.len());
        prop_assert!(decode_server_frame::<Game>(&sync[..cut_at], MAX).is_err());

        let event = encode_event(&event).unwrap();
        let cut_at = cut.index(event.len());
        prop_assert!(decode_client_frame::<ToServer>(&event[..cut_at], MAX).is_err());
    }

    /// Frames with bytes flipped at random decode to something or to an error,
    /// never to a panic.
    #[test]
    fn corrupted_frames_never_panic(state in avatar(), event in to_server(), flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let header = SyncHeader { tick: Tick(3), online: 2, full: true, more: false };
        let mut sync = encode_sync::<Game, _>(header, &[], &[], [(NetId(2), &state, Selection::All)], None).unwrap().to_vec();
        let mut event = encode_event(&event).unwrap().to_vec();
        for (at, byte) in &flips {
            let i = at.index(sync.len());
            sync[i] = *byte;
            let i = at.index(event.len());
            event[i] = *byte;
        }
        let _ = decode_server_frame::<Game>(&sync, MAX);
        let _ = decode_client_frame::<ToServer>(&event, MAX);
    }
}

#[test]
fn a_frame_claiming_four_billion_elements_is_rejected_cheaply() {
    // [2, 0, 0, flags 0, <array32 claiming 4,294,967,295 entries>]: 10 bytes in all.
    let bytes = [0x98, 0x02, 0x00, 0x00, 0x00, 0xdd, 0xff, 0xff, 0xff, 0xff];
    let err = decode_server_frame::<Game>(&bytes, MAX).unwrap_err();
    assert!(
        err.to_string().contains("claims 4294967295 elements"),
        "{err}"
    );

    // An event whose Vec field claims 4 billion u16s.
    let mut bytes = vec![
        0x95, 0x01, 0xa3, b'b', b'u', b'y', 0xdd, 0xff, 0xff, 0xff, 0xff,
    ];
    bytes.push(0xc0);
    let err = decode_client_frame::<ToServer>(&bytes, MAX).unwrap_err();
    assert!(
        err.to_string().starts_with("event `buy`: field `items`"),
        "{err}"
    );
}
