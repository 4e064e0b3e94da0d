use nodelink::Events;

#[nodelink::events]
#[derive(Debug, PartialEq)]
pub enum ToServer {
    Ready,
    Shoot(f32, f32),
    Move { x: f32, y: f32 },
    PlayerMoved { to: (i32, i32) },
}

mod none {
    /// A protocol direction with no events at all.
    #[nodelink::events]
    pub enum Nothing {}
}

fn main() {
    assert_eq!(ToServer::NAMES, ["ready", "shoot", "move", "player_moved"]);
    assert!(none::Nothing::NAMES.is_empty());
}
