//! `#[derive(SyncState)]`: setters, change detection, deltas, apply.

mod common;

use common::{Avatar, AvatarDelta, Ship, ShipDelta, Vec2};
use nodelink::sync::Selection;
use nodelink::{FieldMask, SyncState, Tracked};

#[test]
fn field_names_and_indexes_follow_declaration_order() {
    assert_eq!(
        Avatar::FIELDS,
        [
            "x",
            "y",
            "angle",
            "hp",
            "score",
            "name",
            "team",
            "inventory"
        ]
    );
    assert_eq!(Avatar::ALL, FieldMask::first(8));
    // The server-only field takes no index.
    assert_eq!(Ship::FIELDS, ["position", "cargo", "crew", "captain"]);
    assert_eq!(Avatar::NAME, "Avatar");
}

#[test]
fn setters_mark_only_fields_whose_value_changes() {
    let mut avatar = Tracked::new(Avatar::default());
    avatar.state_mut().set_x(0.0).set_name(String::new());
    assert!(avatar.dirty().is_empty(), "equal values mark nothing");

    avatar.state_mut().set_y(2.0).set_hp(90);
    assert_eq!(avatar.dirty(), FieldMask::from_bits(0b1010));
    assert_eq!(avatar.get().y, 2.0);
    assert_eq!(avatar.state_mut().hp, 90, "the view reads through Deref");

    avatar.take_changes();
    assert!(avatar.dirty().is_empty());
}

#[test]
fn update_detects_every_changed_field() {
    let mut avatar = Tracked::new(Avatar::default());
    let changed = avatar.update(|a| {
        a.inventory.push(7);
        a.team = Some(2);
        a.x = 0.0; // unchanged
    });
    assert_eq!(changed.iter().collect::<Vec<_>>(), [6, 7]);
    assert_eq!(avatar.dirty(), changed);
}

#[test]
fn set_and_clear_mark_the_fields_that_differ() {
    let mut avatar = Tracked::new(Avatar {
        hp: 100,
        name: "ada".into(),
        ..Avatar::default()
    });
    let changed = avatar.set(Avatar {
        hp: 100,
        name: "bob".into(),
        ..Avatar::default()
    });
    assert_eq!(changed.iter().collect::<Vec<_>>(), [5]);

    avatar.take_changes();
    let cleared = avatar.clear();
    assert_eq!(cleared.iter().collect::<Vec<_>>(), [3, 5]);
    assert_eq!(avatar.get(), &Avatar::default());
}

#[test]
fn skipped_fields_have_setters_but_are_never_marked_or_synced() {
    let mut ship = Tracked::new(Ship::default());
    ship.state_mut()
        .set_secret_route(vec![Vec2 { x: 1.0, y: 1.0 }]);
    assert!(ship.dirty().is_empty());
    assert_eq!(ship.get().secret_route.len(), 1);

    let delta = ship.get().delta(Selection::All);
    let mut mirror = Ship::default();
    mirror.apply(&delta);
    assert!(
        mirror.secret_route.is_empty(),
        "server-only data never leaves"
    );
}

#[test]
fn delta_carries_the_masked_fields_and_apply_merges_them() {
    let avatar = Avatar {
        x: 1.0,
        y: 2.0,
        name: "ada".into(),
        ..Avatar::default()
    };
    let delta = avatar.delta(Selection::Fields(FieldMask::from_bits(0b10_0001)));
    assert_eq!(
        delta,
        AvatarDelta {
            x: Some(1.0),
            name: Some("ada".into()),
            ..AvatarDelta::default()
        }
    );
    assert_eq!(Avatar::delta_mask(&delta), FieldMask::from_bits(0b10_0001));

    let mut mirror = Avatar {
        y: 9.0,
        ..Avatar::default()
    };
    mirror.apply(&delta);
    assert_eq!(
        (mirror.x, mirror.y, mirror.name.as_str()),
        (1.0, 9.0, "ada")
    );
}

#[test]
fn nested_and_collection_fields_round_trip() {
    let ship = Ship {
        position: Vec2 { x: 3.0, y: -4.0 },
        cargo: [("gold".to_owned(), 12)].into_iter().collect(),
        crew: vec!["ada".into(), "bob".into()],
        captain: Some("cy".into()),
        secret_route: Vec::new(),
    };
    let delta: ShipDelta = ship.delta(Selection::All);
    let mut mirror = Ship::default();
    mirror.apply(&delta);
    assert_eq!(mirror, ship);
}

#[test]
fn delta_debug_lists_only_changed_fields() {
    let delta = AvatarDelta {
        hp: Some(5),
        ..AvatarDelta::default()
    };
    assert_eq!(format!("{delta:?}"), "AvatarDelta { hp: 5 }");
}

#[test]
fn unit_is_a_state_with_no_fields() {
    let mut nothing = Tracked::new(());
    assert!(nothing.update(|()| {}).is_empty());
    assert!(<() as SyncState>::FIELDS.is_empty());
}
