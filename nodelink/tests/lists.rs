//! `SyncVec`: per-index changes on both wires, nested items, the bound, shifting
//! changes, the schema, and a model-based check that mirrors follow any sequence of
//! changes.

use nodelink::error::DecodeError;
use nodelink::fingerprint::FingerprintHasher;
use nodelink::sync::{InsertError, OutOfRange, Selection, SyncVec, Tick, VecFull};
use nodelink::wire::{decode_server_frame, encode_sync, json, NetId, ServerFrame, SyncHeader};
use nodelink::{Fingerprint, PlayerId, Protocol, SyncState, Tracked};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Fingerprint, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub(crate) struct Item {
    pub(crate) name: String,
    pub(crate) count: u16,
}

#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub(crate) struct Unit {
    pub(crate) hp: u8,
    pub(crate) level: u8,
}

#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub(crate) struct Player {
    pub(crate) items: SyncVec<Item>,
    pub(crate) army: SyncVec<Unit, 8>,
}

/// The same items as a plain list, sent whole when it changes.
#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub(crate) struct FlatPlayer {
    pub(crate) items: Vec<Item>,
}

#[nodelink::events]
pub(crate) enum Nothing {}

#[nodelink::protocol(state = Player, to_server = Nothing, to_client = Nothing)]
pub(crate) struct Game;

#[nodelink::protocol(state = FlatPlayer, to_server = Nothing, to_client = Nothing)]
pub(crate) struct FlatGame;

const MAX: usize = nodelink::wire::DEFAULT_MAX_FRAME_LEN;

fn item(i: u16) -> Item {
    Item {
        name: format!("item {i}"),
        count: i,
    }
}

fn unit(hp: u8) -> Unit {
    Unit { hp, level: 1 }
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
fn json_frame(player: &Player, selection: Selection<'_, <Player as SyncState>::Changes>) -> String {
    json::encode_sync::<Game, _>(
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
fn one_changed_item_of_a_hundred_costs_one_item() {
    let mut player = Tracked::new(Player::default());
    let mut flat = Tracked::new(FlatPlayer::default());
    for i in 0..100 {
        player.state_mut().items().push(item(i)).unwrap();
        flat.update(|p| p.items.push(item(i)));
    }
    let (mut mirror, mut flat_mirror) = (Player::default(), FlatPlayer::default());
    sync::<Game>(&mut player, &mut mirror);
    sync::<FlatGame>(&mut flat, &mut flat_mirror);

    let changed = Item {
        name: "item 42".into(),
        count: 7,
    };
    player.state_mut().items().set(42, changed.clone()).unwrap();
    flat.update(|p| p.items[42] = changed.clone());
    let per_index = sync::<Game>(&mut player, &mut mirror).len();
    let whole = sync::<FlatGame>(&mut flat, &mut flat_mirror).len();
    assert_eq!(mirror, *player.get());
    assert_eq!(flat_mirror, *flat.get());

    let one_item = rmp_serde::to_vec(&changed).unwrap().len();
    // The frame's fixed part (12 bytes with the entry's header and the closing
    // nil), then [len 100, [[index 42, item]]]: 5 bytes and the item.
    assert_eq!(per_index, 12 + 5 + one_item);
    assert!(whole > 100 * one_item, "{whole} bytes");
    println!("one item of 100: {per_index} bytes per index, {whole} whole");
}

#[test]
fn a_changed_field_of_a_nested_item_sends_that_field_only() {
    let mut player = Tracked::new(Player::default());
    let mut mirror = Player::default();
    player.state_mut().army().push(unit(10)).unwrap();
    player.state_mut().army().push(unit(20)).unwrap();
    sync::<Game>(&mut player, &mut mirror);

    player.state_mut().army().get_mut(1).unwrap().set_hp(9);
    let delta = player.get().delta(Selection::Changed(player.changes()));
    let army = delta.army.expect("army changed");
    assert_eq!(army.len, 2);
    assert_eq!(army.entries.len(), 1);
    assert_eq!(army.entries[0].0, 1);
    assert_eq!(
        (army.entries[0].1.hp, army.entries[0].1.level),
        (Some(9), None)
    );

    let bytes = sync::<Game>(&mut player, &mut mirror);
    // mask 0b10, then [len 2, [[index 1, [mask 0b01, hp 9]]]]
    assert_eq!(bytes[10], 0b10);
    assert_eq!(
        entry_value(&bytes),
        [0x92, 0x02, 0x91, 0x92, 0x01, 0x92, 0x01, 0x09]
    );
    assert_eq!(mirror.army[..], [unit(10), Unit { hp: 9, level: 1 }]);

    // Setting a whole nested item records only the fields that differ.
    player
        .state_mut()
        .army()
        .set(0, Unit { hp: 10, level: 2 })
        .unwrap();
    let bytes = sync::<Game>(&mut player, &mut mirror);
    assert_eq!(
        entry_value(&bytes),
        [0x92, 0x02, 0x91, 0x92, 0x00, 0x92, 0x02, 0x02]
    );
    assert_eq!(mirror, *player.get());

    // Equal values record nothing.
    player.state_mut().army().get_mut(0).unwrap().set_hp(10);
    player
        .state_mut()
        .army()
        .set(1, Unit { hp: 9, level: 1 })
        .unwrap();
    assert!(player.dirty().is_empty());
}

#[test]
fn past_the_limit_or_out_of_range_is_an_error_that_changes_nothing() {
    let mut player = Tracked::new(Player::default());
    for hp in 0..8 {
        player.state_mut().army().push(unit(hp)).unwrap();
    }
    player.take_changes();
    let before = player.get().clone();

    let mut state = player.state_mut();
    let mut army = state.army();
    assert_eq!(army.push(unit(9)), Err(VecFull { limit: 8 }));
    assert_eq!(
        army.insert(0, unit(9)),
        Err(InsertError::Full(VecFull { limit: 8 }))
    );
    assert_eq!(
        army.insert(9, unit(9)),
        Err(InsertError::OutOfRange(OutOfRange { index: 9, len: 8 }))
    );
    assert_eq!(army.set(8, unit(9)), Err(OutOfRange { index: 8, len: 8 }));
    assert!(army.get_mut(8).is_none());
    assert_eq!(army.remove(8), None);
    army.truncate(8);
    assert_eq!(
        VecFull { limit: 8 }.to_string(),
        "the list holds its limit of 8 items"
    );
    assert_eq!(
        InsertError::from(OutOfRange { index: 9, len: 8 }).to_string(),
        "index 9 is out of range for a list of 8 items"
    );
    assert_eq!(*player.get(), before);
    assert!(player.dirty().is_empty());

    // Below the limit again, an item goes in.
    player.state_mut().army().pop();
    player.state_mut().army().insert(0, unit(9)).unwrap();
    assert_eq!(player.get().army.len(), 8);
    assert_eq!(
        SyncVec::<u8, 2>::try_from(vec![1, 2, 3]),
        Err(VecFull { limit: 2 })
    );
    assert_eq!(SyncVec::<u8, 2>::from_iter([1, 2, 3])[..], [1, 2]);
}

#[test]
fn the_native_and_json_layouts() {
    let mut player = Tracked::new(Player::default());
    for i in 1..=3 {
        player.state_mut().items().push(item(i)).unwrap();
    }
    player.state_mut().army().push(unit(5)).unwrap();
    player.take_changes();

    // The whole list: [len, [[0, v0], [1, v1], …]].
    let bytes = frame::<Game>(player.get(), Selection::All);
    let mut expected = vec![0x92, 0x03, 0x93];
    for i in 1..=3u8 {
        expected.extend([0x92, i - 1, 0x92, 0xa6]);
        expected.extend(format!("item {i}").bytes());
        expected.push(i);
    }
    // army: [1, [[0, [mask 0b11, 5, 1]]]]
    expected.extend([0x92, 0x01, 0x91, 0x92, 0x00, 0x93, 0x03, 0x05, 0x01]);
    assert_eq!(bytes[10], 0b11);
    assert_eq!(entry_value(&bytes), expected);
    assert!(
        json_frame(player.get(), Selection::All).contains(
            r#""00000001":{"items":[3,[[0,{"name":"item 1","count":1}],[1,{"name":"item 2","count":2}],[2,{"name":"item 3","count":3}]]],"army":[1,[[0,{"hp":5,"level":1}]]]}"#
        )
    );

    // Changes: a new length and per-index entries.
    player.state_mut().items().pop();
    player.state_mut().items().get_mut(0).unwrap().set(Item {
        name: "b".into(),
        count: 3,
    });
    player.state_mut().army().get_mut(0).unwrap().set_level(4);
    let changes = player.take_changes();
    let bytes = frame::<Game>(player.get(), Selection::Changed(&changes));
    // items: [2, [[0, ["b", 3]]]], army: [1, [[0, [mask 0b10, 4]]]]
    assert_eq!(
        entry_value(&bytes),
        [
            0x92, 0x02, 0x91, 0x92, 0x00, 0x92, 0xa1, b'b', 0x03, 0x92, 0x01, 0x91, 0x92, 0x00,
            0x92, 0x02, 0x04
        ]
    );
    let text = json_frame(player.get(), Selection::Changed(&changes));
    assert!(
        text.contains(
            r#""00000001":{"items":[2,[[0,{"name":"b","count":3}]]],"army":[1,[[0,{"level":4}]]]}"#
        ),
        "{text}"
    );

    // Only the length: a truncation is [len, []].
    player.state_mut().items().clear();
    let changes = player.take_changes();
    let bytes = frame::<Game>(player.get(), Selection::Changed(&changes));
    assert_eq!(bytes[10], 0b01);
    assert_eq!(entry_value(&bytes), [0x92, 0x00, 0x90]);
    assert!(json_frame(player.get(), Selection::Changed(&changes))
        .contains(r#""00000001":{"items":[0,[]]}"#));
}

#[test]
fn inserts_and_removals_send_the_shifted_indexes_that_differ() {
    let mut player = Tracked::new(Player::default());
    let mut mirror = Player::default();
    for i in 0..10 {
        player.state_mut().items().push(item(i)).unwrap();
    }
    sync::<Game>(&mut player, &mut mirror);

    player.state_mut().items().insert(7, item(70)).unwrap();
    let delta = player.get().delta(Selection::Changed(player.changes()));
    let items = delta.items.expect("items changed");
    assert_eq!(items.len, 11);
    assert_eq!(
        items.entries.iter().map(|(at, _)| *at).collect::<Vec<_>>(),
        [7, 8, 9, 10]
    );
    sync::<Game>(&mut player, &mut mirror);
    assert_eq!(mirror, *player.get());

    assert_eq!(player.state_mut().items().remove(2), Some(item(2)));
    let delta = player.get().delta(Selection::Changed(player.changes()));
    assert_eq!(delta.items.expect("items changed").entries.len(), 8);
    sync::<Game>(&mut player, &mut mirror);
    assert_eq!(mirror, *player.get());

    // Shifting equal items sends nothing for them.
    let mut player = Tracked::new(Player::default());
    let mut mirror = Player::default();
    for _ in 0..5 {
        player.state_mut().items().push(item(1)).unwrap();
    }
    sync::<Game>(&mut player, &mut mirror);
    player.state_mut().items().remove(0);
    let delta = player.get().delta(Selection::Changed(player.changes()));
    let items = delta.items.expect("the length changed");
    assert_eq!((items.len, items.entries.len()), (4, 0));
    player.state_mut().items().insert(1, item(2)).unwrap();
    let delta = player.get().delta(Selection::Changed(player.changes()));
    let items = delta.items.expect("items changed");
    // Index 4 was removed, then filled again: sent whole.
    assert_eq!(
        items.entries.iter().map(|(at, _)| *at).collect::<Vec<_>>(),
        [1, 4]
    );
    sync::<Game>(&mut player, &mut mirror);
    assert_eq!(mirror, *player.get());

    // Retain: [1, 2, 1, 1, 1] becomes [1, 1, 1, 1]; the survivors shift down, and
    // only index 1 now holds another item.
    player.state_mut().items().retain(|item| item.count != 2);
    let delta = player.get().delta(Selection::Changed(player.changes()));
    let items = delta.items.expect("items changed");
    assert_eq!(items.len, 4);
    assert_eq!(items.entries, [(1, item(1))]);
    sync::<Game>(&mut player, &mut mirror);
    assert_eq!(mirror, *player.get());
}

#[test]
fn a_receiver_refuses_a_list_past_its_limit_or_an_index_past_its_length() {
    let mut player = Tracked::new(Player::default());
    player.state_mut().army().push(unit(1)).unwrap();
    let changes = player.take_changes();
    let bytes = frame::<Game>(player.get(), Selection::Changed(&changes));
    let at = bytes.len() - 10;
    assert_eq!(bytes[at..at + 4], [0x92, 0x01, 0x91, 0x92]);

    let mut long = bytes.clone();
    long[at + 1] = 9; // army has a limit of 8
    let error = decode_server_frame::<Game>(&long, MAX).unwrap_err();
    assert!(
        matches!(&error, DecodeError::Field { field: "army", reason, .. } if reason == "a list of 9 items, past its limit of 8"),
        "{error}"
    );

    let mut past = bytes.clone();
    past[at + 4] = 1; // the entry's index, in a list of 1
    let error = decode_server_frame::<Game>(&past, MAX).unwrap_err();
    assert!(
        matches!(&error, DecodeError::Field { field: "army", reason, .. } if reason == "an entry at index 1 of a list of 1 items"),
        "{error}"
    );
}

#[test]
fn the_schema_describes_a_synced_list() {
    let schema = Game::schema();
    assert_eq!(schema.fingerprint(), Game::FINGERPRINT);
    let json: serde_json::Value = serde_json::from_str(&schema.to_json()).unwrap();
    assert_eq!(
        json["state"]["fields"][0]["type"],
        serde_json::json!({"sync_vec": {"ref": "Item"}})
    );
    assert_eq!(
        json["state"]["fields"][1]["type"],
        serde_json::json!({"sync_vec": {"ref": "Unit"}})
    );
    assert_eq!(
        <SyncVec<Unit, 8> as Fingerprint>::FINGERPRINT,
        FingerprintHasher::new()
            .str("sync_vec")
            .u64(Unit::FINGERPRINT)
            .finish()
    );
    // The limit is not part of the protocol; the kind of list is.
    assert_eq!(
        <SyncVec<u8, 8> as Fingerprint>::FINGERPRINT,
        <SyncVec<u8> as Fingerprint>::FINGERPRINT
    );
    assert_ne!(
        <SyncVec<u8> as Fingerprint>::FINGERPRINT,
        <Vec<u8> as Fingerprint>::FINGERPRINT
    );
    assert_ne!(Game::FINGERPRINT, FlatGame::FINGERPRINT);
}

#[derive(Debug, Clone)]
enum Op {
    Push(u16),
    Pop,
    Set(usize, u16),
    Insert(usize, u16),
    Remove(usize),
    Truncate(usize),
    Clear,
    Retain(u16),
    Replace(Vec<u16>),
    Update(Vec<u16>),
    Recruit(u8),
    Enlist(usize, u8),
    Train(usize, u8),
    Heal(usize, u8),
    Dismiss(usize),
    Disband(usize),
}

fn op() -> impl Strategy<Value = Op> {
    // Small values, so that equal items meet and shifts skip them.
    prop_oneof![
        (0u16..3).prop_map(Op::Push),
        Just(Op::Pop),
        (0usize..8, 0u16..3).prop_map(|(i, n)| Op::Set(i, n)),
        (0usize..8, 0u16..3).prop_map(|(i, n)| Op::Insert(i, n)),
        (0usize..8).prop_map(Op::Remove),
        (0usize..8).prop_map(Op::Truncate),
        Just(Op::Clear),
        (0u16..3).prop_map(Op::Retain),
        prop::collection::vec(0u16..3, 0..6).prop_map(Op::Replace),
        prop::collection::vec(0u16..3, 0..6).prop_map(Op::Update),
        (0u8..3).prop_map(Op::Recruit),
        (0usize..10, 0u8..3).prop_map(|(i, hp)| Op::Enlist(i, hp)),
        (0usize..10, 0u8..3).prop_map(|(i, level)| Op::Train(i, level)),
        (0usize..10, 0u8..3).prop_map(|(i, hp)| Op::Heal(i, hp)),
        (0usize..10).prop_map(Op::Dismiss),
        (0usize..10).prop_map(Op::Disband),
    ]
}

fn counted(count: u16) -> Item {
    Item {
        name: "x".into(),
        count,
    }
}

/// Applies `op` to the server's value and to a plain model of it.
fn run(op: Op, player: &mut Tracked<Player>, items: &mut Vec<Item>, army: &mut Vec<Unit>) {
    if let Op::Update(counts) = op {
        // Through `update`: the changes are found by comparing, then merged.
        *items = counts.into_iter().map(counted).collect();
        player.update(|p| p.items = items.iter().cloned().collect());
        return;
    }
    let mut state = player.state_mut();
    match op {
        Op::Push(n) => {
            state.items().push(counted(n)).unwrap();
            items.push(counted(n));
        }
        Op::Pop => assert_eq!(state.items().pop(), items.pop()),
        Op::Set(i, n) => {
            let result = state.items().set(i, counted(n));
            assert_eq!(result.is_ok(), i < items.len());
            if let Some(item) = items.get_mut(i) {
                *item = counted(n);
            }
        }
        Op::Insert(i, n) => {
            let result = state.items().insert(i, counted(n));
            assert_eq!(result.is_ok(), i <= items.len());
            if i <= items.len() {
                items.insert(i, counted(n));
            }
        }
        Op::Remove(i) => {
            let expected = (i < items.len()).then(|| items.remove(i));
            assert_eq!(state.items().remove(i), expected);
        }
        Op::Truncate(n) => {
            state.items().truncate(n);
            items.truncate(n);
        }
        Op::Clear => {
            state.items().clear();
            items.clear();
        }
        Op::Retain(n) => {
            state.items().retain(|item| item.count != n);
            items.retain(|item| item.count != n);
        }
        Op::Replace(counts) => {
            *items = counts.into_iter().map(counted).collect();
            state.set_items(items.iter().cloned().collect());
        }
        Op::Update(_) => unreachable!("handled above"),
        Op::Recruit(hp) => {
            let result = state.army().push(unit(hp));
            assert_eq!(result.is_ok(), army.len() < 8);
            if army.len() < 8 {
                army.push(unit(hp));
            }
        }
        Op::Enlist(i, hp) => {
            let fits = i <= army.len() && army.len() < 8;
            assert_eq!(state.army().insert(i, unit(hp)).is_ok(), fits);
            if fits {
                army.insert(i, unit(hp));
            }
        }
        Op::Train(i, level) => {
            if let Some(mut unit) = state.army().get_mut(i) {
                unit.set_level(level);
            }
            if let Some(unit) = army.get_mut(i) {
                unit.level = level;
            }
        }
        Op::Heal(i, hp) => {
            if let Some(unit) = army.get_mut(i) {
                let healed = Unit { hp, ..unit.clone() };
                state.army().set(i, healed.clone()).unwrap();
                *unit = healed;
            }
        }
        Op::Dismiss(i) => {
            let expected = (i < army.len()).then(|| army.remove(i));
            assert_eq!(state.army().remove(i), expected);
        }
        Op::Disband(n) => {
            state.army().truncate(n);
            army.truncate(n);
        }
    }
}

proptest! {
    /// Random pushes, pops, sets, inserts, removals, truncations, clears, retains,
    /// whole replacements (by setter and by `update`) and changes of nested items, refused ones past the bound
    /// or the end included, synced in random batches: the server's list follows a
    /// plain `Vec`, and after every sync the mirror equals the server's value.
    #[test]
    fn mirrors_follow_any_sequence_of_list_changes(
        batches in prop::collection::vec(prop::collection::vec(op(), 0..10), 1..10)
    ) {
        let mut player = Tracked::new(Player::default());
        let mut mirror = Player::default();
        let (mut items, mut army) = (Vec::new(), Vec::new());
        for batch in batches {
            for op in batch {
                run(op, &mut player, &mut items, &mut army);
                prop_assert_eq!(&player.get().items[..], &items[..]);
                prop_assert_eq!(&player.get().army[..], &army[..]);
            }
            sync::<Game>(&mut player, &mut mirror);
            prop_assert_eq!(&mirror, player.get());
        }
        // A snapshot rebuilds the same value from nothing, and over any old value.
        let whole = frame::<Game>(player.get(), Selection::All);
        let mut fresh = Player::default();
        receive::<Game>(&whole, &mut fresh);
        prop_assert_eq!(&fresh, player.get());
        let mut stale = Player {
            items: (0..9).map(counted).collect(),
            army: (0..8).map(unit).collect(),
        };
        stale.apply(&player.get().delta(Selection::All));
        prop_assert_eq!(&stale, player.get());
    }
}
