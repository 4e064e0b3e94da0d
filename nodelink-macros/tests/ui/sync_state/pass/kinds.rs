//! An enum of kinds: every kind's state, a plain value as a kind, its view, its
//! conversions and its name.

use nodelink::sync::{ChangeSet, Selection};
use nodelink::{SyncState, Tracked};

#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub struct Monster {
    pub hp: u16,
    pub name: String,
}

#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub struct Arrow {
    pub x: f32,
}

#[derive(SyncState, Clone, Debug, PartialEq)]
pub enum Thing {
    Monster(Monster),
    Arrow(Arrow),
    Coins(u32),
}

#[nodelink::events]
pub enum Nothing {}

#[nodelink::protocol(state = (), to_server = Nothing, to_client = Nothing, entity = Thing)]
pub struct Dungeon;

fn main() {
    assert_eq!(Thing::default(), Thing::Monster(Monster::default()));
    assert_eq!(<Thing as SyncState>::FIELDS, ["monster", "arrow", "coins"]);
    let mut thing = Tracked::new(Thing::from(Arrow { x: 1.0 }));
    thing.take_changes();
    assert!(thing.state_mut().monster().is_none());
    if let Some(mut arrow) = thing.state_mut().arrow() {
        arrow.set_x(2.0);
    }
    thing.state_mut().set(Thing::Coins(3));
    let delta = thing.get().delta(Selection::Changed(thing.changes()));
    assert_eq!(delta.coins, Some(3));
    assert_eq!(delta.arrow, None);
    assert_eq!(thing.get().kind_name(), "coins");
    becoming_a_kind_without_fields_is_a_change();
    assert_eq!(Tile::default().kind(), 0);
}

/// A kind without synced fields: becoming it is still sent.
#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub struct Wall {
    #[sync(skip)]
    pub cracks: u8,
}

#[derive(SyncState, Clone, Debug, PartialEq)]
pub enum Tile {
    Floor(Arrow),
    Wall(Wall),
}

impl Tile {
    /// A method of the user's own named like the generated ones would have been.
    pub fn kind(&self) -> u8 {
        0
    }
}

fn becoming_a_kind_without_fields_is_a_change() {
    let mut tile = Tracked::new(Tile::Floor(Arrow { x: 1.0 }));
    tile.take_changes();
    tile.state_mut().set(Tile::Wall(Wall { cracks: 2 }));
    assert!(!tile.changes().is_empty());
    let delta = tile.get().delta(Selection::Changed(tile.changes()));
    let mut mirror = Tile::Floor(Arrow { x: 1.0 });
    mirror.apply(&delta);
    assert_eq!(mirror, Tile::Wall(Wall { cracks: 0 }));
}
