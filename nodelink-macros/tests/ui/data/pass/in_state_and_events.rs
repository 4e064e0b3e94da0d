// Plain data types for state and events, with no serde in sight: the attribute
// reaches serde through nodelink, and keeps the item's own derives and attributes.
use nodelink::{Fingerprint, SyncState, Tracked};

#[nodelink::data]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Vec2 {
    pub x: f32,
    pub y: f32,
}

/// An enum, with a renamed variant: serde's attributes still apply.
#[nodelink::data]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Team {
    #[default]
    Red,
    #[serde(rename = "azure")]
    Blue,
}

#[nodelink::data]
#[derive(Clone, Debug, PartialEq)]
pub struct Tagged(pub u32, pub String);

#[derive(SyncState, Clone, Debug, Default)]
pub struct Ship {
    pub position: Vec2,
    pub team: Team,
    pub trail: Vec<Vec2>,
    pub by_team: nodelink::sync::SyncMap<Team, Vec2>,
}

#[nodelink::events]
pub enum ToServer {
    Steer { towards: Vec2 },
    Join(Team),
    Label { tag: Tagged },
}

fn main() {
    let mut ship = Tracked::new(Ship::default());
    ship.state_mut().set_position(Vec2 { x: 1.0, y: 2.0 });
    assert_eq!(ship.dirty().len(), 1);

    let frame = nodelink::wire::encode_event(&ToServer::Join(Team::Blue)).expect("encodes");
    let decoded = nodelink::wire::decode_client_frame::<ToServer>(&frame, 1024).expect("decodes");
    assert!(matches!(
        decoded,
        nodelink::wire::ClientFrame::Event(ToServer::Join(Team::Blue))
    ));
    // On the JSON wire, the rename shows.
    let json = nodelink::wire::json::encode_event(&ToServer::Join(Team::Blue)).expect("encodes");
    assert_eq!(json, r#"{"event":"join","data":"azure"}"#);

    // The shape is in the fingerprint: a struct with the same fields under
    // other names has another one.
    assert_ne!(Vec2::FINGERPRINT, <(f32, f32)>::FINGERPRINT);
}
