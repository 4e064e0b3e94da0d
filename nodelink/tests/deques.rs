//! `SyncDeque`: a push into a full log costs one entry on both wires (against a
//! `SyncVec` kept short with `remove(0)`), the layouts, refused input, the schema,
//! and a model-based check that mirrors follow any sequence of changes.

use std::collections::VecDeque;

use nodelink::error::DecodeError;
use nodelink::fingerprint::FingerprintHasher;
use nodelink::sync::{Selection, SyncDeque, SyncMap, SyncVec, Tick, MAX_DEQUE_CAPACITY};
use nodelink::wire::{decode_server_frame, encode_sync, json, NetId, ServerFrame, SyncHeader};
use nodelink::{Fingerprint, PlayerId, Protocol, SyncState, Tracked};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Fingerprint, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub(crate) struct Line {
    pub(crate) from: u8,
    pub(crate) text: String,
}

#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub(crate) struct Hit {
    pub(crate) damage: u8,
    pub(crate) critical: bool,
}

#[derive(SyncState, Clone, Debug, PartialEq)]
pub(crate) struct Fighter {
    /// The last 20 chat lines.
    pub(crate) chat: SyncDeque<Line>,
    /// The last 3 hits taken: nested states, sent whole.
    pub(crate) hits: SyncDeque<Hit>,
}

impl Default for Fighter {
    fn default() -> Self {
        Self {
            chat: SyncDeque::with_capacity(20),
            hits: SyncDeque::with_capacity(3),
        }
    }
}

/// The same chat as a list kept to 20 lines with `remove(0)` and `push`.
#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub(crate) struct ListFighter {
    pub(crate) chat: SyncVec<Line>,
}

/// A log per channel: deques as the values of a map.
#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub(crate) struct Channels {
    pub(crate) logs: SyncMap<u8, SyncDeque<u16>>,
}

#[nodelink::events]
pub(crate) enum Nothing {}

#[nodelink::protocol(state = Fighter, to_server = Nothing, to_client = Nothing)]
pub(crate) struct Game;

#[nodelink::protocol(state = ListFighter, to_server = Nothing, to_client = Nothing)]
pub(crate) struct ListGame;

#[nodelink::protocol(state = Channels, to_server = Nothing, to_client = Nothing)]
pub(crate) struct ChannelGame;

const MAX: usize = nodelink::wire::DEFAULT_MAX_FRAME_LEN;

fn line(i: u8) -> Line {
    Line {
        from: i % 4,
        text: format!("line number {i}"),
    }
}

fn hit(damage: u8) -> Hit {
    Hit {
        damage,
        critical: damage > 9,
    }
}

/// A native sync frame of `state`'s `selection`.
fn frame<P: Protocol>(
    state: &P::State,
    selection: Selection<'_, <P::State as SyncState>::Changes>,
) -> Vec<u8> {
    encode_sync::<P, _>(
        SyncHeader::delta(Tick(1), 1),
        &[],
        &[],
        [(NetId(0), state, selection)],
        None,
    )
    .unwrap()
    .to_vec()
}

/// Decodes a native sync frame and applies its one entry to `mirror`.
fn receive<P: Protocol>(bytes: &[u8], mirror: &mut P::State) {
    let ServerFrame::Sync(frame) = decode_server_frame::<P>(bytes, MAX).unwrap() else {
        panic!("a sync frame");
    };
    for (_, delta) in &frame.players {
        mirror.apply(delta);
    }
}

/// Encodes `player`'s changes as a sync frame, applies it to `mirror`, and returns
/// the frame.
fn sync<P: Protocol>(player: &mut Tracked<P::State>, mirror: &mut P::State) -> Vec<u8> {
    let changes = player.take_changes();
    let bytes = frame::<P>(player.get(), Selection::Changed(&changes));
    receive::<P>(&bytes, mirror);
    bytes
}

/// The JSON wire's sync frame of `player`'s `selection`.
fn json_frame<P: Protocol>(
    player: &P::State,
    selection: Selection<'_, <P::State as SyncState>::Changes>,
) -> String {
    json::encode_sync::<P, _>(
        json::SyncHeader {
            time: std::time::UNIX_EPOCH,
            online: 1,
            full: false,
            more: false,
        },
        &[],
        [(PlayerId::from_raw(1), player, selection)],
        None,
    )
    .unwrap()
}

/// The values of the frame's one player entry: the bytes after `[2, 1, 1, 0, [],
/// [], [[0, mask` and before the closing `nil`.
fn entry_value(bytes: &[u8]) -> &[u8] {
    assert_eq!(bytes[..8], [0x98, 0x02, 0x01, 0x01, 0x00, 0x90, 0x90, 0x91]);
    &bytes[11..bytes.len() - 1]
}

#[test]
fn a_line_into_a_full_log_costs_one_line_on_both_wires() {
    let mut deque = Tracked::new(Fighter::default());
    let mut list = Tracked::new(ListFighter::default());
    let (mut deque_mirror, mut list_mirror) = (Fighter::default(), ListFighter::default());
    for i in 0..20 {
        deque.state_mut().chat().push_back(line(i));
        list.state_mut().chat().push(line(i)).unwrap();
    }
    sync::<Game>(&mut deque, &mut deque_mirror);
    sync::<ListGame>(&mut list, &mut list_mirror);

    let dropped = deque.state_mut().chat().push_back(line(20));
    assert_eq!(dropped, Some(line(0)));
    {
        let mut state = list.state_mut();
        let mut chat = state.chat();
        chat.remove(0);
        chat.push(line(20)).unwrap();
    }
    let (deque_changes, list_changes) = (deque.changes().clone(), list.changes().clone());
    let deque_bytes = sync::<Game>(&mut deque, &mut deque_mirror);
    let list_bytes = sync::<ListGame>(&mut list, &mut list_mirror);
    assert_eq!(deque_mirror, *deque.get());
    assert_eq!(list_mirror, *list.get());
    assert_eq!(
        deque_mirror.chat.iter().collect::<Vec<_>>(),
        list_mirror.chat.iter().collect::<Vec<_>>()
    );

    // [capacity 20, drop 1, [[2, "line number 20"]]]: one line.
    let mut expected = vec![0x93, 0x14, 0x01, 0x91, 0x92, 0x00, 0xae];
    expected.extend(b"line number 20");
    assert_eq!(entry_value(&deque_bytes), expected);
    // The list resends every index, each line shifted down by one.
    assert!(
        list_bytes.len() > 10 * deque_bytes.len(),
        "{} against {}",
        list_bytes.len(),
        deque_bytes.len()
    );
    let deque_text = json_frame::<Game>(deque.get(), Selection::Changed(&deque_changes));
    let list_text = json_frame::<ListGame>(list.get(), Selection::Changed(&list_changes));
    assert!(
        deque_text.contains(r#"{"chat":[20,1,[{"from":0,"text":"line number 20"}]]}"#),
        "{deque_text}"
    );
    assert!(list_text.len() > 5 * deque_text.len(), "{list_text}");
}

#[test]
fn the_native_and_json_layouts() {
    let mut fighter = Tracked::new(Fighter::default());
    fighter.state_mut().hits().push_back(hit(4));
    fighter.state_mut().hits().push_back(hit(12));
    fighter.take_changes();

    // Whole: [capacity, nil, [entry…]], a nested state with every field.
    let bytes = frame::<Game>(fighter.get(), Selection::All);
    assert_eq!(bytes[10], 0b11);
    assert_eq!(
        entry_value(&bytes),
        [
            0x93, 0x14, 0xc0, 0x90, // chat: capacity 20, whole, no lines
            0x93, 0x03, 0xc0, 0x92, // hits: capacity 3, whole, 2 hits
            0x93, 0x03, 0x04, 0xc2, //   [mask 0b11: 4, false]
            0x93, 0x03, 0x0c, 0xc3, //   [mask 0b11: 12, true]
        ]
    );
    let text = json_frame::<Game>(fighter.get(), Selection::All);
    assert!(
        text.contains(r#"{"chat":[20,null,[]],"hits":[3,null,[{"damage":4,"critical":false},{"damage":12,"critical":true}]]}"#),
        "{text}"
    );

    // Two pushes, one drop: [3, 1, [[…], […]]].
    fighter.state_mut().hits().push_back(hit(1));
    fighter.state_mut().hits().push_back(hit(2));
    let changes = fighter.take_changes();
    let bytes = frame::<Game>(fighter.get(), Selection::Changed(&changes));
    assert_eq!(bytes[10], 0b10);
    assert_eq!(
        entry_value(&bytes),
        [0x93, 0x03, 0x01, 0x92, 0x93, 0x03, 0x01, 0xc2, 0x93, 0x03, 0x02, 0xc2]
    );

    // A clear: every entry dropped, none pushed.
    fighter.state_mut().hits().clear();
    let changes = fighter.take_changes();
    let bytes = frame::<Game>(fighter.get(), Selection::Changed(&changes));
    assert_eq!(entry_value(&bytes), [0x93, 0x03, 0x03, 0x90]);
    let text = json_frame::<Game>(fighter.get(), Selection::Changed(&changes));
    assert!(text.contains(r#"{"hits":[3,3,[]]}"#), "{text}");
}

/// Decodes `bytes` with the byte at `at` replaced.
fn decode_with(bytes: &[u8], at: usize, byte: u8) -> DecodeError {
    let mut bad = bytes.to_vec();
    bad[at] = byte;
    decode_server_frame::<Game>(&bad, MAX).unwrap_err()
}

#[test]
fn a_receiver_refuses_a_deque_past_its_bounds() {
    let mut fighter = Tracked::new(Fighter::default());
    fighter.state_mut().hits().push_back(hit(1));
    fighter.take_changes();
    fighter.state_mut().hits().push_back(hit(2));
    let changes = fighter.take_changes();
    let bytes = frame::<Game>(fighter.get(), Selection::Changed(&changes));
    let at = 11;
    assert_eq!(bytes[at..at + 4], [0x93, 0x03, 0x00, 0x91]);

    let reason = |error: DecodeError| match error {
        DecodeError::Field {
            field: "hits",
            reason,
            ..
        } => reason,
        other => panic!("{other}"),
    };
    // One hit pushed into a deque of capacity 0.
    assert_eq!(
        reason(decode_with(&bytes, at + 1, 0x00)),
        "pushes 1 entries into a deque of capacity 0"
    );
    // Four dropped from a deque of at most three.
    assert_eq!(
        reason(decode_with(&bytes, at + 2, 0x04)),
        "drops 4 entries from a deque that holds at most 3"
    );
    // A capacity past the limit (0xcd: a u16 follows), in a frame one byte longer.
    let mut big = bytes[..at + 1].to_vec();
    big.extend([0xcd, 0x04, 0x01]);
    big.extend(&bytes[at + 2..]);
    let error = decode_server_frame::<Game>(&big, MAX).unwrap_err();
    assert_eq!(
        reason(error),
        format!("a deque of capacity 1025, past the limit of {MAX_DEQUE_CAPACITY}")
    );
    // Not three parts.
    assert_eq!(
        reason(decode_with(&bytes, at, 0x92)),
        "expected [capacity, drop, entries], found 2 items"
    );
}

#[test]
fn a_deque_in_a_map_sends_its_drops_and_pushes_under_its_key() {
    let mut channels = Tracked::new(Channels::default());
    let mut mirror = Channels::default();
    let mut log = SyncDeque::with_capacity(2);
    log.push_back(1);
    channels.state_mut().logs().insert(7, log).unwrap();
    sync::<ChannelGame>(&mut channels, &mut mirror);
    assert_eq!(mirror, *channels.get());

    {
        let mut state = channels.state_mut();
        let mut logs = state.logs();
        let mut log = logs.get_mut(&7).unwrap();
        log.push_back(2);
        log.push_back(3);
    }
    let bytes = sync::<ChannelGame>(&mut channels, &mut mirror);
    // logs: [replace false, removed [], [[7, [capacity 2, drop 1, [2, 3]]]]]
    assert_eq!(
        entry_value(&bytes),
        [0x93, 0xc2, 0x90, 0x91, 0x92, 0x07, 0x93, 0x02, 0x01, 0x92, 0x02, 0x03]
    );
    assert_eq!(mirror.logs[&7].iter().copied().collect::<Vec<_>>(), [2, 3]);
}

#[test]
fn the_schema_describes_a_synced_deque() {
    let schema = Game::schema();
    assert_eq!(schema.fingerprint(), Game::FINGERPRINT);
    let json: serde_json::Value = serde_json::from_str(&schema.to_json()).unwrap();
    assert_eq!(
        json["state"]["fields"][0]["type"],
        serde_json::json!({"sync_deque": {"ref": "Line"}})
    );
    assert_eq!(
        json["state"]["fields"][1]["type"],
        serde_json::json!({"sync_deque": {"ref": "Hit"}})
    );
    assert_eq!(
        <SyncDeque<Hit> as Fingerprint>::FINGERPRINT,
        FingerprintHasher::new()
            .str("sync_deque")
            .u64(Hit::FINGERPRINT)
            .finish()
    );
    assert_ne!(
        <SyncDeque<u8> as Fingerprint>::FINGERPRINT,
        <SyncVec<u8> as Fingerprint>::FINGERPRINT
    );
    assert_ne!(Game::FINGERPRINT, ListGame::FINGERPRINT);
}

#[derive(Debug, Clone)]
enum Op {
    Push(u8),
    Pop,
    Clear,
    /// A new deque of these hits, through the setter.
    Replace(Vec<u8>),
    /// The same, through `update`: the changes are found by comparing, then merged.
    Update(Vec<u8>),
    /// Pushes through `update`.
    UpdatePush(Vec<u8>),
    /// A deque of another capacity, through the setter.
    Resize(usize),
}

fn op() -> impl Strategy<Value = Op> {
    // Small values, so that equal hits meet.
    prop_oneof![
        4 => (0u8..3).prop_map(Op::Push),
        2 => Just(Op::Pop),
        1 => Just(Op::Clear),
        1 => prop::collection::vec(0u8..3, 0..5).prop_map(Op::Replace),
        1 => prop::collection::vec(0u8..3, 0..5).prop_map(Op::Update),
        2 => prop::collection::vec(0u8..3, 0..5).prop_map(Op::UpdatePush),
        1 => (0usize..5).prop_map(Op::Resize),
    ]
}

/// Applies `op` to the server's value and to a plain model of it, a `VecDeque`
/// kept to `capacity` entries by hand.
fn run(op: Op, player: &mut Tracked<Fighter>, model: &mut VecDeque<Hit>, capacity: &mut usize) {
    let push = |model: &mut VecDeque<Hit>, capacity: usize, hit: Hit| {
        model.push_back(hit);
        (model.len() > capacity)
            .then(|| model.pop_front())
            .flatten()
    };
    let deque_of = |hits: &VecDeque<Hit>, capacity: usize| {
        let mut deque = SyncDeque::with_capacity(capacity);
        for hit in hits {
            deque.push_back(hit.clone());
        }
        deque
    };
    match op {
        Op::Push(damage) => {
            let expected = push(model, *capacity, hit(damage));
            assert_eq!(player.state_mut().hits().push_back(hit(damage)), expected);
        }
        Op::Pop => assert_eq!(player.state_mut().hits().pop_front(), model.pop_front()),
        Op::Clear => {
            player.state_mut().hits().clear();
            model.clear();
        }
        Op::Replace(damages) => {
            model.clear();
            for damage in damages {
                push(model, *capacity, hit(damage));
            }
            player.state_mut().set_hits(deque_of(model, *capacity));
        }
        Op::Update(damages) => {
            model.clear();
            for damage in damages {
                push(model, *capacity, hit(damage));
            }
            let hits = deque_of(model, *capacity);
            player.update(|p| p.hits = hits);
        }
        Op::UpdatePush(damages) => {
            for damage in &damages {
                push(model, *capacity, hit(*damage));
            }
            player.update(|p| {
                for damage in damages {
                    p.hits.push_back(hit(damage));
                }
            });
        }
        Op::Resize(new) => {
            *capacity = new;
            while model.len() > new {
                model.pop_front();
            }
            player.state_mut().set_hits(deque_of(model, new));
        }
    }
}

proptest! {
    /// Random pushes (dropping the oldest when full), pops, clears, whole
    /// replacements (by setter and by `update`, of the same or another capacity)
    /// and pushes through `update`, synced in random batches: the server's deque
    /// follows a plain `VecDeque`, and after every sync the mirror equals the
    /// server's value, capacity included.
    #[test]
    fn mirrors_follow_any_sequence_of_deque_changes(
        batches in prop::collection::vec(prop::collection::vec(op(), 0..10), 1..10)
    ) {
        let mut player = Tracked::new(Fighter::default());
        let mut mirror = Fighter::default();
        let (mut model, mut capacity) = (VecDeque::new(), 3);
        for batch in batches {
            for op in batch {
                run(op, &mut player, &mut model, &mut capacity);
                prop_assert_eq!(player.get().hits.as_deque(), &model);
                prop_assert_eq!(player.get().hits.capacity(), capacity);
            }
            sync::<Game>(&mut player, &mut mirror);
            prop_assert_eq!(&mirror, player.get());
        }
        // A snapshot rebuilds the same value from nothing, and over any old value.
        let whole = frame::<Game>(player.get(), Selection::All);
        let mut fresh = Fighter::default();
        receive::<Game>(&whole, &mut fresh);
        prop_assert_eq!(&fresh, player.get());
        let mut stale = Fighter::default();
        for damage in 0..5 {
            stale.hits.push_back(hit(damage));
        }
        stale.apply(&player.get().delta(Selection::All));
        prop_assert_eq!(&stale, player.get());
    }
}
