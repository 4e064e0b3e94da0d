//! Nested state: a field whose type derives `SyncState` is tracked, encoded and
//! applied per sub-field, on both wires, and described by the schema.

use nodelink::sync::{Selection, Tick};
use nodelink::wire::{decode_server_frame, encode_sync, json, NetId, ServerFrame, SyncHeader};
use nodelink::{FieldMask, PlayerId, Protocol, SyncState, Tracked};
use proptest::prelude::*;

#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub(crate) struct Stats {
    pub(crate) hp: u8,
    pub(crate) mana: u16,
}

#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub(crate) struct Gear {
    pub(crate) weapon: String,
    pub(crate) stats: Stats,
}

#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub(crate) struct Hero {
    pub(crate) x: f32,
    pub(crate) stats: Stats,
    pub(crate) gear: Gear,
    #[sync(skip)]
    pub(crate) secret: u32,
}

#[nodelink::events]
pub(crate) enum Nothing {}

#[nodelink::protocol(state = Hero, to_server = Nothing, to_client = Nothing, server_state = Stats)]
pub(crate) struct Game;

const MAX: usize = nodelink::wire::DEFAULT_MAX_FRAME_LEN;

fn header() -> SyncHeader {
    SyncHeader::delta(Tick(7), 1)
}

/// Encodes `hero`'s changes as one entry of a sync frame, decodes the frame and
/// applies it to `mirror`.
fn send(hero: &mut Tracked<Hero>, mirror: &mut Hero) -> Vec<u8> {
    let changes = hero.take_changes();
    let bytes = encode_sync::<Game, _>(
        header(),
        &[],
        &[],
        [(NetId(0), hero.get(), Selection::Changed(&changes))],
        None,
    )
    .unwrap();
    let ServerFrame::Sync(frame) = decode_server_frame::<Game>(&bytes, MAX).unwrap() else {
        panic!("a sync frame");
    };
    for (_, delta) in &frame.players {
        mirror.apply(delta);
    }
    bytes.to_vec()
}

#[test]
fn a_nested_setter_marks_and_sends_only_that_sub_field() {
    let mut hero = Tracked::new(Hero::default());
    let mut mirror = Hero::default();
    hero.state_mut().stats().set_hp(3);
    assert_eq!(
        hero.dirty(),
        FieldMask::from_bits(0b010),
        "the parent's bit"
    );

    let bytes = send(&mut hero, &mut mirror);
    // [2, 7, 1, 0, [], [], [[net 0, mask 0b010, [mask 0b01, hp 3]]], nil]
    assert_eq!(
        bytes,
        [
            0x98, 0x02, 0x07, 0x01, 0x00, 0x90, 0x90, 0x91, 0x93, 0x00, 0x02, 0x92, 0x01, 0x03,
            0xc0
        ]
    );
    assert_eq!(mirror, *hero.get());

    // Two levels down, chained setters.
    hero.state_mut().gear().stats().set_mana(500).set_hp(1);
    hero.state_mut().gear().set_weapon("axe".into());
    assert_eq!(hero.dirty(), FieldMask::from_bits(0b100));
    send(&mut hero, &mut mirror);
    assert_eq!(mirror, *hero.get());
    assert_eq!(mirror.gear.stats.mana, 500);
}

#[test]
fn equal_values_mark_nothing_at_any_depth() {
    let mut hero = Tracked::new(Hero::default());
    hero.state_mut().stats().set_hp(0);
    hero.state_mut().set_stats(Stats::default());
    hero.state_mut().gear().stats().set_mana(0);
    assert!(hero.dirty().is_empty());
    assert!(nodelink::sync::ChangeSet::is_empty(hero.changes()));
}

#[test]
fn replacing_or_updating_a_nested_state_marks_only_the_sub_fields_that_differ() {
    let mut hero = Tracked::new(Hero::default());
    hero.state_mut().set_stats(Stats { hp: 9, mana: 0 });
    let changes = hero.take_changes();
    let delta = hero.get().delta(Selection::Changed(&changes));
    let stats = delta.stats.expect("stats changed");
    assert_eq!((stats.hp, stats.mana), (Some(9), None));

    let changed = hero.update(|h| {
        h.gear.stats.mana = 40;
        h.x = 0.0; // unchanged
    });
    assert_eq!(changed, FieldMask::from_bits(0b100));
    let delta = hero.get().delta(Selection::Changed(hero.changes()));
    assert!(delta.x.is_none() && delta.stats.is_none());
    let gear = delta.gear.expect("gear changed");
    assert!(gear.weapon.is_none());
    assert_eq!(gear.stats.expect("gear.stats").mana, Some(40));
}

#[test]
fn a_whole_snapshot_carries_every_sub_field() {
    let hero = Hero {
        x: 1.0,
        stats: Stats { hp: 5, mana: 6 },
        gear: Gear {
            weapon: "bow".into(),
            stats: Stats { hp: 7, mana: 8 },
        },
        secret: 99,
    };
    let bytes = encode_sync::<Game, _>(
        SyncHeader::snapshot(Tick(1), 1),
        &[],
        &[(NetId(0), PlayerId::from_raw(1))],
        [(NetId(0), &hero, Selection::All)],
        Some((&Stats { hp: 1, mana: 2 }, Selection::All)),
    )
    .unwrap();
    let ServerFrame::Sync(frame) = decode_server_frame::<Game>(&bytes, MAX).unwrap() else {
        panic!("a sync frame");
    };
    let mut mirror = Hero::default();
    mirror.apply(&frame.players[0].1);
    assert_eq!(
        mirror,
        Hero { secret: 0, ..hero },
        "everything but the server-only field"
    );
    let mut server = Stats::default();
    server.apply(frame.server.as_ref().unwrap());
    assert_eq!(server, Stats { hp: 1, mana: 2 });
}

#[test]
fn the_json_wire_nests_objects_of_the_changed_sub_fields() {
    let mut hero = Tracked::new(Hero::default());
    hero.state_mut().gear().stats().set_hp(2);
    hero.state_mut().set_x(0.5);
    let header = json::SyncHeader {
        time: std::time::UNIX_EPOCH,
        online: 1,
        full: false,
        more: false,
    };
    let text = json::encode_sync::<Game, _>(
        header,
        &[],
        [(
            PlayerId::from_raw(0xab),
            hero.get(),
            Selection::Changed(hero.changes()),
        )],
        None,
    )
    .unwrap();
    assert_eq!(
        text,
        r#"{"event":"__state_sync__","data":{"t":0,"count":1,"players":{"000000ab":{"x":0.5,"gear":{"stats":{"hp":2}}}}}}"#
    );
}

#[test]
fn a_nested_mask_bit_beyond_the_sub_state_names_it() {
    // [2, 7, 1, 0, [], [], [[0, mask 0b010, [mask 0b100, 1]]], nil]: Stats has 2 fields.
    let bytes = [
        0x98, 0x02, 0x07, 0x01, 0x00, 0x90, 0x90, 0x91, 0x93, 0x00, 0x02, 0x92, 0x04, 0x01, 0xc0,
    ];
    let error = decode_server_frame::<Game>(&bytes, MAX).unwrap_err();
    assert_eq!(
        error.to_string(),
        "state `Stats` has 2 synced field(s); the delta names field index 2"
    );
    // A nested value that is not `[mask, …]`.
    let bytes = [
        0x98, 0x02, 0x07, 0x01, 0x00, 0x90, 0x90, 0x91, 0x93, 0x00, 0x02, 0x05, 0xc0,
    ];
    let error = decode_server_frame::<Game>(&bytes, MAX).unwrap_err();
    assert!(
        error.to_string().starts_with("state `Hero`: field `stats`"),
        "{error}"
    );
}

#[test]
fn the_schema_describes_a_nested_state_and_hashes_it() {
    let schema = Game::schema();
    assert_eq!(schema.fingerprint(), Game::FINGERPRINT);
    let json: serde_json::Value = serde_json::from_str(&schema.to_json()).unwrap();
    assert_eq!(
        json["state"]["fields"][1],
        serde_json::json!({"name": "stats", "index": 1, "type": {"ref": "Stats"}})
    );
    assert_eq!(
        json["types"]["Stats"],
        serde_json::json!({"state": {"fields": [
            {"name": "hp", "index": 0, "type": "u8"},
            {"name": "mana", "index": 1, "type": "u16"}
        ]}})
    );
    assert_eq!(
        json["types"]["Gear"]["state"]["fields"][1]["type"],
        serde_json::json!({"ref": "Stats"})
    );
}

/// One change to a hero, as a handler would make it.
#[derive(Debug, Clone)]
enum Change {
    X(f32),
    Hp(u8),
    Mana(u16),
    Weapon(String),
    GearHp(u8),
    WholeStats(u8, u16),
    Update(u16),
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        (-10.0f32..10.0).prop_map(Change::X),
        (0u8..4).prop_map(Change::Hp),
        (0u16..4).prop_map(Change::Mana),
        "[ab]{0,2}".prop_map(Change::Weapon),
        (0u8..4).prop_map(Change::GearHp),
        (0u8..3, 0u16..3).prop_map(|(hp, mana)| Change::WholeStats(hp, mana)),
        (0u16..4).prop_map(Change::Update),
    ]
}

proptest! {
    /// Random changes, synced in random batches: after every sync the mirror
    /// equals the server's value, and unchanged values never travel.
    #[test]
    fn mirrors_follow_any_sequence_of_nested_changes(
        batches in prop::collection::vec(prop::collection::vec(change(), 0..6), 1..12)
    ) {
        let mut hero = Tracked::new(Hero::default());
        let mut mirror = Hero::default();
        for batch in batches {
            let before = hero.get().clone();
            for change in batch {
                match change {
                    Change::X(x) => { hero.state_mut().set_x(x); }
                    Change::Hp(hp) => { hero.state_mut().stats().set_hp(hp); }
                    Change::Mana(mana) => { hero.state_mut().stats().set_mana(mana); }
                    Change::Weapon(weapon) => { hero.state_mut().gear().set_weapon(weapon); }
                    Change::GearHp(hp) => { hero.state_mut().gear().stats().set_hp(hp); }
                    Change::WholeStats(hp, mana) => { hero.state_mut().set_stats(Stats { hp, mana }); }
                    Change::Update(mana) => { hero.update(|h| h.gear.stats.mana = mana); }
                }
            }
            let expected_mask = hero.get().clone();
            let changed_fields = [
                expected_mask.x != before.x,
                expected_mask.stats != before.stats,
                expected_mask.gear != before.gear,
            ];
            // A field may be marked and changed back within a batch; never the
            // other way round.
            for (i, changed) in changed_fields.iter().enumerate() {
                if *changed {
                    prop_assert!(hero.dirty().contains(i as u32));
                }
            }
            send(&mut hero, &mut mirror);
            prop_assert_eq!(&mirror, hero.get());
        }
    }
}
