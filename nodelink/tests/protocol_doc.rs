//! Every hex example in PROTOCOL.md is what the encoders produce, so the document
//! cannot drift from the code.

use nodelink::sync::Selection;
use nodelink::sync::Tick;
use nodelink::wire::{
    encode_event, encode_ping, encode_pong, encode_sync, NetId, SyncHeader, Welcome,
};
use nodelink::{PlayerId, Protocol, SyncState};

/// The protocol PROTOCOL.md uses in its examples.
#[derive(SyncState, Clone, Debug, Default, PartialEq)]
struct Avatar {
    x: f32,
    y: f32,
    name: String,
}

#[nodelink::events]
enum ToServer {
    Move { x: f32, y: f32 },
    Chat { msg: String },
    Ready,
}

#[nodelink::events]
enum ToClient {
    Chat { from: PlayerId, msg: String },
}

struct DocGame;
impl Protocol for DocGame {
    type State = Avatar;
    type ToServer = ToServer;
    type ToClient = ToClient;
    type ServerState = Round;
}

/// The shared server state of the examples.
#[derive(SyncState, Clone, Debug, Default, PartialEq)]
struct Round {
    round: u32,
    time_left: f32,
}

const ADA: PlayerId = PlayerId::from_raw(0x1a2b_3c4d);
const BOB: PlayerId = PlayerId::from_raw(0x5e6f_7081);

fn examples() -> Vec<(&'static str, Vec<u8>)> {
    let ada = Avatar {
        x: 1.5,
        y: -2.0,
        name: "ada".into(),
    };
    let bob = Avatar {
        x: 0.0,
        y: 0.0,
        name: "bob".into(),
    };
    let header = |tick, online, full| SyncHeader {
        tick: Tick(tick),
        online,
        full,
        more: false,
    };
    vec![
        (
            "welcome",
            Welcome {
                fingerprint: 0x0123_4567_89ab_cdef,
                player: ADA,
                net_id: NetId(0),
                tick_rate: 20,
            }
            .encode()
            .to_vec(),
        ),
        (
            "event-move",
            encode_event(&ToServer::Move { x: 1.5, y: -2.0 })
                .unwrap()
                .to_vec(),
        ),
        (
            "event-ready",
            encode_event(&ToServer::Ready).unwrap().to_vec(),
        ),
        (
            "event-chat",
            encode_event(&ToClient::Chat {
                from: ADA,
                msg: "hi".into(),
            })
            .unwrap()
            .to_vec(),
        ),
        (
            "sync-snapshot",
            encode_sync::<DocGame, _>(
                header(1, 2, true),
                &[],
                &[(NetId(0), ADA), (NetId(1), BOB)],
                [
                    (NetId(0), &ada, Selection::All),
                    (NetId(1), &bob, Selection::All),
                ],
                None,
            )
            .unwrap()
            .to_vec(),
        ),
        (
            "sync-delta",
            encode_sync::<DocGame, _>(
                header(42, 2, false),
                &[],
                &[],
                [(
                    NetId(0),
                    &ada,
                    Selection::Fields(nodelink::FieldMask::from_bits(0b001)),
                )],
                None,
            )
            .unwrap()
            .to_vec(),
        ),
        (
            "sync-server",
            encode_sync::<DocGame, _>(
                header(44, 1, false),
                &[],
                &[],
                [],
                Some((
                    &Round {
                        round: 2,
                        time_left: 60.0,
                    },
                    Selection::Fields(nodelink::FieldMask::from_bits(0b11)),
                )),
            )
            .unwrap()
            .to_vec(),
        ),
        ("ping", encode_ping(7, 35_000).to_vec()),
        ("pong", encode_pong(7).to_vec()),
        (
            "sync-left",
            encode_sync::<DocGame, _>(header(43, 1, false), &[NetId(1)], &[], [], None)
                .unwrap()
                .to_vec(),
        ),
    ]
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The hex bytes of the ```hex block after `<!-- frame: NAME -->`, whitespace and
/// `#` comments ignored.
fn documented(doc: &str, name: &str) -> Option<String> {
    let marker = format!("<!-- frame: {name} -->");
    let after = &doc[doc.find(&marker)? + marker.len()..];
    let block = &after[after.find("```hex")? + "```hex".len()..];
    let block = &block[..block.find("```")?];
    let bytes: Vec<&str> = block
        .lines()
        .map(|line| line.split('#').next().unwrap_or(""))
        .flat_map(str::split_whitespace)
        .collect();
    Some(bytes.join(" "))
}

#[test]
fn protocol_md_examples_match_the_encoders() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../PROTOCOL.md");
    let doc = std::fs::read_to_string(path).expect("PROTOCOL.md exists at the repository root");
    let mut wrong = Vec::new();
    for (name, bytes) in examples() {
        let actual = hex(&bytes);
        match documented(&doc, name) {
            Some(documented) if documented == actual => {}
            Some(documented) => wrong.push(format!(
                "{name}: PROTOCOL.md has\n  {documented}\nthe encoder writes ({} bytes)\n  {actual}",
                bytes.len()
            )),
            None => wrong.push(format!(
                "{name}: no `<!-- frame: {name} -->` block; the encoder writes ({} bytes)\n  {actual}",
                bytes.len()
            )),
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}
