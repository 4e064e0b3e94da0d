use std::collections::HashMap;

use nodelink::{Fingerprint, SyncState, Tracked};
use serde::{Deserialize, Serialize};

#[derive(Fingerprint, Serialize, Deserialize, Clone, Default, PartialEq)]
struct Vec2 {
    x: f32,
    y: f32,
}

/// Not serializable, not Debug: fine for a server-only field.
#[derive(Clone, Default)]
struct Connection;

#[derive(SyncState, Clone, Default)]
struct Ship {
    position: Vec2,
    crew: Vec<String>,
    cargo: HashMap<String, u32>,
    captain: Option<String>,
    #[sync(skip)]
    link: Connection,
}

fn main() {
    let mut ship = Tracked::new(Ship::default());
    ship.state_mut()
        .set_captain(Some("ada".into()))
        .set_link(Connection);
    assert_eq!(ship.dirty().len(), 1);
    // `Vec2` is not Debug: its value shows as `..`.
    let delta = ship.get().delta(nodelink::sync::Selection::All);
    let shown = format!("{delta:?}");
    assert!(shown.contains("position: .."), "{shown}");
    assert!(shown.contains("captain: Some(\"ada\")"), "{shown}");
}
