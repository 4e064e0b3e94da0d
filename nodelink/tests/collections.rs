//! `SyncMap`: per-entry changes on both wires, nested entries, the bound, the
//! schema, and a model-based check that mirrors follow any sequence of changes.

use std::collections::BTreeMap;

use nodelink::sync::{MapFull, Selection, SyncMap, Tick};
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
    pub(crate) inventory: SyncMap<u16, Item>,
    pub(crate) army: SyncMap<String, Unit, 8>,
}

/// The same inventory as a plain map, sent whole when it changes.
#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub(crate) struct FlatPlayer {
    pub(crate) inventory: BTreeMap<u16, Item>,
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

/// Encodes `player`'s changes as a sync frame, applies it to `mirror`, and returns
/// the frame's size.
fn sync<P: Protocol>(player: &mut Tracked<P::State>, mirror: &mut P::State) -> usize {
    let changes = player.take_changes();
    let bytes = encode_sync::<P, _>(
        SyncHeader::delta(Tick(1), 1),
        &[],
        &[],
        [(NetId(0), player.get(), Selection::Changed(&changes))],
        None,
    )
    .unwrap();
    let ServerFrame::Sync(frame) = decode_server_frame::<P>(&bytes, MAX).unwrap() else {
        panic!("a sync frame");
    };
    for (_, delta) in &frame.players {
        mirror.apply(delta);
    }
    bytes.len()
}

#[test]
fn one_changed_item_of_a_hundred_costs_one_item() {
    let mut player = Tracked::new(Player::default());
    let mut flat = Tracked::new(FlatPlayer::default());
    for i in 0..100 {
        player.state_mut().inventory().insert(i, item(i)).unwrap();
        flat.update(|p| {
            p.inventory.insert(i, item(i));
        });
    }
    let (mut mirror, mut flat_mirror) = (Player::default(), FlatPlayer::default());
    sync::<Game>(&mut player, &mut mirror);
    sync::<FlatGame>(&mut flat, &mut flat_mirror);

    let changed = Item {
        name: "item 42".into(),
        count: 7,
    };
    player
        .state_mut()
        .inventory()
        .insert(42, changed.clone())
        .unwrap();
    flat.update(|p| {
        p.inventory.insert(42, changed.clone());
    });
    let per_entry = sync::<Game>(&mut player, &mut mirror);
    let whole = sync::<FlatGame>(&mut flat, &mut flat_mirror);
    assert_eq!(mirror, *player.get());
    assert_eq!(flat_mirror, *flat.get());
    let one_item = rmp_serde::to_vec(&changed).unwrap().len();
    // The frame's fixed part, the entry's header, the map's three items, the key.
    assert!(
        per_entry <= 10 + 3 + 4 + 1 + one_item + 2,
        "{per_entry} bytes"
    );
    assert!(whole > 100 * one_item, "{whole} bytes");
    println!("one item of 100: {per_entry} bytes per entry, {whole} whole");
}

#[test]
fn a_changed_field_of_a_nested_entry_sends_that_field_only() {
    let mut player = Tracked::new(Player::default());
    let mut mirror = Player::default();
    player
        .state_mut()
        .army()
        .insert("archer".into(), Unit { hp: 10, level: 1 })
        .unwrap();
    sync::<Game>(&mut player, &mut mirror);

    player
        .state_mut()
        .army()
        .get_mut(&"archer".to_owned())
        .unwrap()
        .set_hp(9);
    let delta = player.get().delta(Selection::Changed(player.changes()));
    let army = delta.army.expect("army changed");
    assert!(!army.replace && army.removed.is_empty());
    assert_eq!(army.entries.len(), 1);
    assert_eq!(
        (army.entries[0].1.hp, army.entries[0].1.level),
        (Some(9), None)
    );
    sync::<Game>(&mut player, &mut mirror);
    assert_eq!(mirror.army["archer"], Unit { hp: 9, level: 1 });
}

#[test]
fn an_insert_past_the_limit_is_refused_and_changes_nothing() {
    let mut player = Tracked::new(Player::default());
    for i in 0..8 {
        player
            .state_mut()
            .army()
            .insert(format!("u{i}"), Unit::default())
            .unwrap();
    }
    let before = player.get().clone();
    let refused = player
        .state_mut()
        .army()
        .insert("one more".into(), Unit::default());
    assert_eq!(refused, Err(MapFull { limit: 8 }));
    assert_eq!(
        refused.unwrap_err().to_string(),
        "the map holds its limit of 8 entries"
    );
    assert_eq!(*player.get(), before);
    // Replacing an existing entry is not an insert.
    player
        .state_mut()
        .army()
        .insert("u0".into(), Unit { hp: 1, level: 1 })
        .unwrap();
}

#[test]
fn removals_clears_and_reinserts_in_one_tick_reach_the_mirror() {
    let mut player = Tracked::new(Player::default());
    let mut mirror = Player::default();
    for i in 0..5 {
        player.state_mut().inventory().insert(i, item(i)).unwrap();
    }
    sync::<Game>(&mut player, &mut mirror);

    let mut inventory = player.state_mut();
    let mut inventory = inventory.inventory();
    assert_eq!(inventory.remove(&1), Some(item(1)));
    inventory.clear();
    inventory.insert(3, item(30)).unwrap();
    inventory.insert(9, item(9)).unwrap();
    sync::<Game>(&mut player, &mut mirror);
    assert_eq!(mirror, *player.get());
    assert_eq!(mirror.inventory.keys().copied().collect::<Vec<_>>(), [3, 9]);
}

#[test]
fn the_native_and_json_layouts() {
    let mut player = Tracked::new(Player::default());
    player.state_mut().inventory().insert(1, item(1)).unwrap();
    player.state_mut().inventory().insert(2, item(2)).unwrap();
    player.take_changes();
    player.state_mut().inventory().remove(&1);
    player
        .state_mut()
        .inventory()
        .get_mut(&2)
        .unwrap()
        .set(Item {
            name: "b".into(),
            count: 3,
        });
    let changes = player.take_changes();
    let bytes = encode_sync::<Game, _>(
        SyncHeader::delta(Tick(1), 1),
        &[],
        &[],
        [(NetId(0), player.get(), Selection::Changed(&changes))],
        None,
    )
    .unwrap();
    // players: [[net 0, mask 0b01, [false, [1], [[2, ["b", 3]]]]]]
    assert_eq!(
        bytes[7..bytes.len() - 1],
        [
            0x91, 0x93, 0x00, 0x01, 0x93, 0xc2, 0x91, 0x01, 0x91, 0x92, 0x02, 0x92, 0xa1, b'b',
            0x03
        ]
    );
    let text = json::encode_sync::<Game, _>(
        json::SyncHeader {
            time: std::time::UNIX_EPOCH,
            online: 1,
            full: false,
            more: false,
        },
        &[],
        [(
            PlayerId::from_raw(1),
            player.get(),
            Selection::Changed(&changes),
        )],
        None,
    )
    .unwrap();
    assert!(
        text.contains(r#""00000001":{"inventory":[false,[1],[[2,{"name":"b","count":3}]]]}"#),
        "{text}"
    );
}

#[test]
fn the_schema_describes_a_synced_map() {
    let schema = Game::schema();
    assert_eq!(schema.fingerprint(), Game::FINGERPRINT);
    let json: serde_json::Value = serde_json::from_str(&schema.to_json()).unwrap();
    assert_eq!(
        json["state"]["fields"][1]["type"],
        serde_json::json!({"sync_map": ["str", {"ref": "Unit"}]})
    );
    assert_ne!(Game::FINGERPRINT, FlatGame::FINGERPRINT);
}

#[derive(Debug, Clone)]
enum Op {
    Insert(u16, u16),
    Remove(u16),
    Clear,
    Count(u16, u16),
    Recruit(u8, u8),
    Train(u8, u8),
    Dismiss(u8),
    Replace(Vec<(u16, u16)>),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u16..6, 0u16..3).prop_map(|(k, n)| Op::Insert(k, n)),
        (0u16..6).prop_map(Op::Remove),
        Just(Op::Clear),
        (0u16..6, 0u16..3).prop_map(|(k, n)| Op::Count(k, n)),
        (0u8..10, 0u8..3).prop_map(|(k, hp)| Op::Recruit(k, hp)),
        (0u8..10, 0u8..3).prop_map(|(k, level)| Op::Train(k, level)),
        (0u8..10).prop_map(Op::Dismiss),
        prop::collection::vec((0u16..6, 0u16..3), 0..4).prop_map(Op::Replace),
    ]
}

proptest! {
    /// Random inserts, removals, clears, in-place changes of plain and nested
    /// entries, refused inserts past the bound and whole replacements, synced in
    /// random batches: after every sync the mirror equals the server's value.
    #[test]
    fn mirrors_follow_any_sequence_of_map_changes(
        batches in prop::collection::vec(prop::collection::vec(op(), 0..8), 1..10)
    ) {
        let mut player = Tracked::new(Player::default());
        let mut mirror = Player::default();
        for batch in batches {
            for op in batch {
                match op {
                    Op::Insert(key, count) => {
                        player.state_mut().inventory().insert(key, Item { name: "x".into(), count }).unwrap();
                    }
                    Op::Remove(key) => {
                        player.state_mut().inventory().remove(&key);
                    }
                    Op::Clear => player.state_mut().inventory().clear(),
                    Op::Count(key, count) => {
                        if let Some(mut entry) = player.state_mut().inventory().get_mut(&key) {
                            let name = entry.name.clone();
                            entry.set(Item { name, count });
                        }
                    }
                    Op::Recruit(key, hp) => {
                        let result = player.state_mut().army().insert(key.to_string(), Unit { hp, level: 0 });
                        prop_assert!(result.is_ok() || player.get().army.len() == 8);
                    }
                    Op::Train(key, level) => {
                        if let Some(mut unit) = player.state_mut().army().get_mut(&key.to_string()) {
                            unit.set_level(level);
                        }
                    }
                    Op::Dismiss(key) => {
                        player.state_mut().army().remove(&key.to_string());
                    }
                    Op::Replace(entries) => {
                        let inventory: SyncMap<u16, Item> = entries
                            .into_iter()
                            .map(|(k, count)| (k, Item { name: "r".into(), count }))
                            .collect();
                        player.state_mut().set_inventory(inventory);
                    }
                }
                prop_assert!(player.get().army.len() <= 8);
            }
            sync::<Game>(&mut player, &mut mirror);
            prop_assert_eq!(&mirror, player.get());
        }
        // A snapshot rebuilds the same value from nothing.
        let mut fresh = Player::default();
        fresh.apply(&player.get().delta(Selection::All));
        prop_assert_eq!(&fresh, player.get());
    }
}
