// serde's own attributes keep working: a skipped field or variant needs no serde
// of its own type, and a type converted through another one is checked by serde.
use std::time::Instant;

/// Not plain data, never on the wire.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalClock(Instant);

impl Default for LocalClock {
    fn default() -> Self {
        LocalClock(Instant::now())
    }
}

#[nodelink::data]
#[derive(Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Move {
    pub to_x: f32,
    #[serde(skip)]
    pub sent_at: LocalClock,
}

#[nodelink::data]
#[derive(Clone, Debug, PartialEq)]
pub enum Signal {
    Ping,
    #[serde(skip)]
    Local(LocalClock),
}

/// Sent as a plain number.
#[nodelink::data]
#[derive(Clone, Copy, Debug, PartialEq)]
#[serde(from = "u8", into = "u8")]
pub struct Level(u8);

impl From<u8> for Level {
    fn from(level: u8) -> Self {
        Level(level.min(10))
    }
}

impl From<Level> for u8 {
    fn from(level: Level) -> Self {
        level.0
    }
}

#[nodelink::events]
pub enum ToServer {
    Go { step: Move },
    Say(Signal),
    Reach(Level),
}

fn main() {
    let json = nodelink::wire::json::encode_event(&ToServer::Go {
        step: Move { to_x: 1.5, sent_at: LocalClock::default() },
    })
    .expect("encodes");
    assert_eq!(json, r#"{"event":"go","data":{"step":{"toX":1.5}}}"#);
    let json = nodelink::wire::json::encode_event(&ToServer::Reach(Level(12))).expect("encodes");
    assert_eq!(json, r#"{"event":"reach","data":12}"#);
}
