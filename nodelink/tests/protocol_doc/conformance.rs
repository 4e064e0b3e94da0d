//! The conformance vectors in the repository's `conformance/` folder: frames,
//! fingerprints with their schemas, handshakes and close codes, as JSON files that
//! any client's tests can read (the TypeScript client's do). Here they are made
//! from the real encoders and checked against the files, the typed decoders and a
//! running server; PROTOCOL.md's examples are checked against the files.
//! `NODELINK_UPDATE_FIXTURES=1` rewrites the files.

use std::path::PathBuf;
use std::time::Duration;

use nodelink::schema::Schema;
use nodelink::server::WireFormats;
use nodelink::wire::{
    decode_client_frame, decode_listing, decode_server_frame, handshake, CloseReason,
    ParseResumeOfferError, RefusalKind, ServerFrame, Settings, WireFormat, WIRE_VERSION,
};
use serde_json::{json, Value};

use super::meaning::{self, Direction};
use super::*;

const UPDATE: &str = "NODELINK_UPDATE_FIXTURES";

fn folder() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../conformance")
}

/// The JSON of a file of the folder, as it is on disk.
pub(crate) fn read(relative: &str) -> Value {
    let path = folder().join(relative);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// The protocols the vectors use, by the name their schema file has.
fn protocols() -> Vec<(&'static str, Schema)> {
    vec![
        ("game", Game::schema()),
        ("no-server-state", NoServerState::schema()),
        ("quest", Quest::schema()),
        ("duel", Duel::schema()),
        ("depot", Depot::schema()),
        ("bestiary", Bestiary::schema()),
        ("market", Market::schema()),
        ("lobby", Lobby::schema()),
        ("arena", Arena::schema()),
        ("rich", rich::Rich::schema()),
    ]
}

fn schema_of(protocol: &str) -> Value {
    let (_, schema) = protocols()
        .into_iter()
        .find(|(name, _)| *name == protocol)
        .unwrap_or_else(|| panic!("no protocol {protocol}"));
    serde_json::from_str(&schema.to_json()).unwrap()
}

/// One frame of `frames.json`: valid (its meaning follows from the bytes) or not
/// (every decoder must refuse it, for the reason given).
pub(crate) struct FrameVector {
    pub(crate) name: String,
    protocol: &'static str,
    direction: Direction,
    pub(crate) bytes: Vec<u8>,
    invalid: Option<&'static str>,
}

impl FrameVector {
    fn valid(name: &str, protocol: &'static str, direction: Direction, bytes: Vec<u8>) -> Self {
        Self {
            name: name.to_owned(),
            protocol,
            direction,
            bytes,
            invalid: None,
        }
    }

    fn invalid(name: &str, direction: Direction, bytes: Vec<u8>, reason: &'static str) -> Self {
        Self {
            name: name.to_owned(),
            protocol: "game",
            direction,
            bytes,
            invalid: Some(reason),
        }
    }
}

/// The protocol and direction of each frame of PROTOCOL.md's story.
fn story_vector(name: &str) -> (&'static str, Direction) {
    let to_server = Direction::ClientToServer;
    let to_client = Direction::ServerToClient;
    match name {
        "event-move" | "event-ready" | "pong" => ("game", to_server),
        "sync-snapshot-no-server-state" => ("no-server-state", to_client),
        _ if name.starts_with("hero-") => ("quest", to_client),
        _ if name.starts_with("log-") => ("duel", to_client),
        _ if name.starts_with("crates-") => ("depot", to_client),
        _ if name.starts_with("kinds-") => ("bestiary", to_client),
        _ if name.starts_with("owner-") => ("market", to_client),
        _ => ("game", to_client),
    }
}

/// What a server with pings, the idle timeout, the rate limit and sessions off
/// announces.
fn settings_without_limits() -> Settings {
    let mut settings = Settings::default();
    settings.ping_interval = Duration::ZERO;
    settings.idle_timeout = Duration::ZERO;
    settings.rate_limit = None;
    settings.resume_grace = Duration::ZERO;
    settings.resume_buffer_len = 0;
    settings
}

fn unhex(text: &str) -> Vec<u8> {
    text.split_whitespace()
        .map(|pair| u8::from_str_radix(pair, 16).expect("hex"))
        .collect()
}

/// `bytes` with `old` (which must be there) replaced by `new`.
fn spliced(bytes: &[u8], old: &[u8], new: &[u8]) -> Vec<u8> {
    let at = bytes
        .windows(old.len())
        .position(|window| window == old)
        .expect("the bytes to replace");
    [&bytes[..at], new, &bytes[at + old.len()..]].concat()
}

/// Every frame vector: PROTOCOL.md's story, then frames that answer its edge
/// cases, then frames every decoder must refuse.
pub(crate) fn frame_vectors() -> Vec<FrameVector> {
    let to_server = Direction::ClientToServer;
    let to_client = Direction::ServerToClient;
    let mut vectors: Vec<FrameVector> = frames()
        .into_iter()
        .map(|(name, bytes)| {
            let (protocol, direction) = story_vector(name);
            FrameVector::valid(name, protocol, direction, bytes)
        })
        .collect();

    let bob_welcome = |settings: Settings| Welcome {
        fingerprint: Game::FINGERPRINT,
        player: BOB,
        net_id: NetId(1),
        tick_rate: 20,
        settings,
        resume_token: None,
        resumed: None,
    };
    let plain = bob_welcome(Settings::default()).encode().to_vec();
    vectors.push(FrameVector::valid(
        "welcome-without-limits",
        "game",
        to_client,
        bob_welcome(settings_without_limits()).encode().to_vec(),
    ));
    // The settings map (its header: ten entries) with a key of a later version,
    // first: a receiver skips it, whatever its value.
    let settings_header = [0x8a, 0xb0];
    let mut future = vec![0x8b];
    future.extend(b"\xa5match\x81\xa4code\xa6K7MQ4P");
    future.push(0xb0);
    vectors.push(FrameVector::valid(
        "welcome-unknown-setting",
        "game",
        to_client,
        spliced(&plain, &settings_header, &future),
    ));
    // Bob's welcome as a server of this version sends it: in its default match,
    // whose code and kind the settings name.
    let mut in_match = Settings::default();
    in_match.match_code = Some("K7MQ4P".to_owned());
    in_match.match_kind = Some("game".to_owned());
    vectors.push(FrameVector::valid(
        "welcome-in-a-match",
        "game",
        to_client,
        bob_welcome(in_match).encode().to_vec(),
    ));
    vectors.push(FrameVector::valid(
        "sync-unit-state",
        "lobby",
        to_client,
        encode_sync::<Lobby, _>(
            header(41, 1, true, false),
            &[],
            &[(NetId(1), BOB)],
            [(NetId(1), &(), Selection::All)],
            Some((&(), Selection::All)),
        )
        .unwrap()
        .to_vec(),
    ));

    let fingerprint = Game::FINGERPRINT.to_be_bytes();
    let mut version_2 = vec![0x96, 0x00, 0x02, 0xcf];
    version_2.extend([0x48, 0x74, 0xc7, 0x13, 0x16, 0xf5, 0xad, 0x11]);
    version_2.extend([0xce, 0x5e, 0x6f, 0x70, 0x81, 0x01, 0x14]);
    let mut no_settings = vec![0x96, 0x00, 0x03, 0xcf];
    no_settings.extend(fingerprint);
    no_settings.extend([0xce, 0x5e, 0x6f, 0x70, 0x81, 0x01, 0x14]);
    let mut idle_timeout = vec![0xaf];
    idle_timeout.extend(b"idle_timeout_ms");
    idle_timeout.extend([0xcd, 0x4e, 0x20]);
    let missing_setting = spliced(
        &spliced(&plain, &idle_timeout, &[]),
        &settings_header,
        &[0x89, 0xb0],
    );
    let delta = frames()
        .into_iter()
        .find(|(name, _)| *name == "sync-delta")
        .map(|(_, bytes)| bytes)
        .unwrap();
    let mut unknown_flag = delta.clone();
    unknown_flag[4] = 0x04;
    vectors.extend([
        FrameVector::invalid(
            "invalid-welcome-wire-version-2",
            to_client,
            version_2,
            "a welcome of wire version 2 (PROTOCOL.md's previous version): the client must not go on",
        ),
        FrameVector::invalid(
            "invalid-welcome-without-settings",
            to_client,
            no_settings,
            "a welcome of 6 elements: version 3's has 7 to 9, the settings seventh",
        ),
        FrameVector::invalid(
            "invalid-welcome-missing-setting",
            to_client,
            missing_setting,
            "the settings lack `idle_timeout_ms`",
        ),
        FrameVector::invalid(
            "invalid-sync-unknown-flag",
            to_client,
            unknown_flag,
            "the flags have bit 2 set: only bits 0 (full) and 1 (more) exist",
        ),
        FrameVector::invalid(
            "invalid-sync-mask",
            to_client,
            unhex("98 02 2b 02 00 90 90 91 93 00 08 ca 40 00 00 00 c0"),
            "a player entry's mask names field 3 of a state of 3 fields",
        ),
        FrameVector::invalid(
            "invalid-sync-length",
            to_client,
            unhex("99 02 2b 02 00 90 90 90 c0 c0"),
            "a sync frame of 9 elements: it has 8, or 10 with entity changes",
        ),
        FrameVector::invalid(
            "invalid-event-unknown",
            to_server,
            unhex("92 01 a3 66 6c 79"),
            "an event named `fly`, which the protocol's `to_server` does not have",
        ),
        FrameVector::invalid(
            "invalid-event-field-count",
            to_server,
            unhex("93 01 a4 6d 6f 76 65 ca 3f c0 00 00"),
            "`move` with one field: it has two",
        ),
        FrameVector::invalid(
            "invalid-event-field-type",
            to_server,
            unhex("94 01 a4 6d 6f 76 65 a1 78 ca c0 00 00 00"),
            "`move` whose `x`, an f32, is a string",
        ),
        FrameVector::invalid(
            "invalid-trailing-bytes",
            to_server,
            unhex("92 04 07 c0"),
            "a pong followed by a byte: nothing may follow the frame's array",
        ),
        FrameVector::invalid(
            "invalid-kind-from-client",
            to_server,
            unhex("93 03 07 00"),
            "a ping (kind 3) sent by a client: only the server sends kinds 0, 2 and 3",
        ),
        FrameVector::invalid(
            "invalid-kind-unknown",
            to_client,
            unhex("91 06"),
            "kind 6, which this version does not define",
        ),
        FrameVector::invalid(
            "invalid-not-an-array",
            to_server,
            unhex("a4 6d 6f 76 65"),
            "a string, not an array",
        ),
        FrameVector {
            protocol: "duel",
            ..FrameVector::invalid(
                "invalid-log-drop",
                to_client,
                unhex("98 02 47 01 00 90 90 91 93 00 01 93 03 04 92 1e 09 c0"),
                "a log of capacity 3 told to drop 4 entries: it never holds more than 3",
            )
        },
        FrameVector {
            protocol: "bestiary",
            ..FrameVector::invalid(
                "invalid-two-kinds",
                to_client,
                unhex("9a 02 46 02 00 90 90 90 c0 90 91 94 00 03 92 02 0c 92 01 1e"),
                "one entity's value names two kinds (mask 0b11): a value holds exactly one",
            )
        },
        FrameVector {
            protocol: "duel",
            ..FrameVector::invalid(
                "invalid-log-push",
                to_client,
                unhex("98 02 47 01 00 90 90 91 93 00 01 93 01 00 92 1e 09 c0"),
                "2 entries pushed into a log of capacity 1",
            )
        },
    ]);
    vectors
}

/// `frames.json`, as the encoders and the rules make it.
fn frames_file() -> Value {
    let frames: Vec<Value> = frame_vectors()
        .iter()
        .map(|vector| {
            let schema = schema_of(vector.protocol);
            let read = meaning::frame(&schema, vector.direction, &vector.bytes);
            let mut entry = json!({
                "name": vector.name,
                "protocol": vector.protocol,
                "direction": vector.direction.name(),
                "hex": hex(&vector.bytes),
            });
            match (vector.invalid, read) {
                (None, Ok(frame)) => entry["frame"] = frame,
                (Some(reason), Err(_)) => entry["invalid"] = json!(reason),
                (None, Err(error)) => panic!("{}: not a valid frame: {error}", vector.name),
                (Some(_), Ok(frame)) => panic!("{}: read as {frame}", vector.name),
            }
            entry
        })
        .collect();
    json!({
        "about": "Frames of the native wire (PROTOCOL.md), each as hex with its meaning, or with why every decoder must refuse it. `protocol` names the schema in schemas/; README.md gives the layout of `frame`.",
        "wire_version": WIRE_VERSION,
        "frames": frames,
    })
}

/// `json-frames.json`: frames of the JSON wire, as text.
fn json_frames_file() -> Value {
    let frames: Vec<Value> = json_frames()
        .into_iter()
        .map(|(name, text)| {
            let (protocol, direction) = match name {
                "event-move" => ("game", Direction::ClientToServer),
                _ if name.starts_with("hero-") => ("quest", Direction::ServerToClient),
                _ if name.starts_with("log-") => ("duel", Direction::ServerToClient),
                _ if name.starts_with("crates-") => ("depot", Direction::ServerToClient),
                _ => ("game", Direction::ServerToClient),
            };
            json!({
                "name": name,
                "protocol": protocol,
                "direction": direction.name(),
                "text": text,
            })
        })
        .collect();
    json!({
        "about": "Frames of the JSON wire (PROTOCOL.md, \"The JSON wire\"), each the text of one WebSocket text message. A client answers a `__ping__` with a `__pong__` whose `data` is the ping's.",
        "frames": frames,
    })
}

/// The worked examples' steps of the fingerprint, by protocol.
fn fingerprint_steps() -> Vec<(&'static str, Vec<(String, u64)>)> {
    use super::transcription::{events, state, ty, H};
    let json = |text: &str| -> Value { serde_json::from_str(text).unwrap() };
    let game = schema_of("game");
    let quest = schema_of("quest");
    let duel = schema_of("duel");
    let depot = schema_of("depot");
    let typed = |schema: &Value, text: &str| (format!("type({text})"), ty(schema, &json(text)));
    let head = |schema: &Value| {
        H::new()
            .str("nodelink")
            .u64(WIRE_VERSION)
            .u64(state(schema, &schema["state"]))
            .u64(events(schema, &schema["to_server"]))
            .u64(events(schema, &schema["to_client"]))
            .u64(state(schema, &schema["server_state"]))
    };
    let named = |label: &str, value: u64| (label.to_owned(), value);
    vec![
        (
            "game",
            vec![
                named("H()", H::new().0),
                named(
                    &format!("H().u64({WIRE_VERSION})"),
                    H::new().u64(WIRE_VERSION).0,
                ),
                named("H().str(\"f32\")", H::new().str("f32").0),
                typed(&game, "\"f32\""),
                typed(&game, "\"str\""),
                typed(&game, "\"u32\""),
                typed(&game, "\"player_id\""),
                typed(&game, "{\"option\": \"player_id\"}"),
                named("state(state)", state(&game, &game["state"])),
                named("events(to_server)", events(&game, &game["to_server"])),
                named("events(to_client)", events(&game, &game["to_client"])),
                named("state(server_state)", state(&game, &game["server_state"])),
                named("state(null)", state(&game, &Value::Null)),
                typed(&game, "{\"ref\": \"Table\"}"),
                named("fingerprint", {
                    let table = ty(&game, &json("{\"ref\": \"Table\"}"));
                    head(&game)
                        .str("options")
                        .u64(table)
                        .str("metadata")
                        .u64(table)
                        .0
                }),
            ],
        ),
        (
            "quest",
            vec![
                typed(&quest, "\"u16\""),
                typed(&quest, "\"u8\""),
                typed(&quest, "{\"ref\": \"Stats\"}"),
                typed(&quest, "{\"sync_map\": [\"str\", \"u16\"]}"),
                typed(&quest, "{\"sync_map\": [\"u8\", {\"ref\": \"Stats\"}]}"),
                typed(&quest, "{\"sync_vec\": {\"ref\": \"Stats\"}}"),
                named("state(state)", state(&quest, &quest["state"])),
                named("fingerprint", head(&quest).0),
            ],
        ),
        (
            "duel",
            vec![
                typed(&duel, "{\"sync_deque\": \"u16\"}"),
                named("state(state)", state(&duel, &duel["state"])),
                named("fingerprint", head(&duel).0),
            ],
        ),
        (
            "depot",
            vec![
                typed(&depot, "\"u8\""),
                typed(&depot, "\"entity_id\""),
                named("state(entity)", state(&depot, &depot["entity"])),
                named(
                    "fingerprint",
                    head(&depot).u64(state(&depot, &depot["entity"])).0,
                ),
            ],
        ),
    ]
}

/// `fingerprints.json`: each protocol's fingerprint, computed from its schema by
/// the transcription of PROTOCOL.md's rules and checked against the derives'.
fn fingerprints_file() -> Value {
    let steps = fingerprint_steps();
    let entries: Vec<Value> = protocols()
        .iter()
        .map(|(name, schema)| {
            let json: Value = serde_json::from_str(&schema.to_json()).unwrap();
            let fingerprint = transcription::protocol(&json);
            assert_eq!(fingerprint, schema.fingerprint(), "{name}");
            let mut entry = json!({
                "protocol": name,
                "schema": format!("schemas/{name}.json"),
                "fingerprint": format!("{fingerprint:016x}"),
                "subprotocol": handshake::subprotocol(fingerprint),
            });
            if let Some((_, steps)) = steps.iter().find(|(protocol, _)| protocol == name) {
                let steps: Vec<Value> = steps
                    .iter()
                    .map(|(expression, value)| json!({"expression": expression, "value": format!("{value:016x}")}))
                    .collect();
                entry["steps"] = json!(steps);
            }
            entry
        })
        .collect();
    json!({
        "about": "Each protocol's fingerprint, from its schema in schemas/ by PROTOCOL.md's rules, and the subprotocol its clients offer; `steps` are the worked examples' intermediate values.",
        "fingerprints": entries,
    })
}

/// How a server answers an upgrade request.
pub(crate) enum Answer {
    /// `101 Switching Protocols`.
    Upgrade {
        subprotocol: Option<String>,
        wire: WireFormat,
        /// The server closes the connection before any welcome.
        close: Option<CloseReason>,
    },
    /// A refusal: the whole response.
    Refusal {
        status: u16,
        reason: &'static str,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
}

/// One case of `handshake.json`.
pub(crate) struct HandshakeVector {
    pub(crate) name: &'static str,
    pub(crate) wire_formats: WireFormats,
    /// The request target's query, with its `?` (what it asks of matchmaking).
    pub(crate) query: &'static str,
    pub(crate) offer: Vec<String>,
    pub(crate) headers: Vec<(&'static str, &'static str)>,
    pub(crate) answer: Answer,
}

fn wire_formats_name(formats: WireFormats) -> &'static str {
    match formats {
        WireFormats::NativeOnly => "native-only",
        WireFormats::JsonOnly => "json-only",
        _ => "native-and-json",
    }
}

/// A refusal's response, with the headers the stand-alone server writes: the
/// refusal's kind by its close code, and the server's fingerprint where the
/// refusal is about the protocol.
fn refusal(
    kind: RefusalKind,
    reason: &'static str,
    fingerprint_header: bool,
    body: String,
) -> Answer {
    let mut headers = vec![("content-type", "text/plain; charset=utf-8".to_owned())];
    if let Some(code) = kind.close_code() {
        headers.push((handshake::REFUSAL_HEADER, code.to_string()));
    }
    if fingerprint_header {
        headers.push((
            handshake::FINGERPRINT_HEADER,
            format!("{:016x}", Game::FINGERPRINT),
        ));
    }
    headers.push(("content-length", body.len().to_string()));
    headers.push(("connection", "close".to_owned()));
    Answer::Refusal {
        status: kind.status(),
        reason,
        headers,
        body,
    }
}

pub(crate) fn handshake_vectors() -> Vec<HandshakeVector> {
    let ours = handshake::subprotocol(Game::FINGERPRINT);
    let fingerprint = format!("{:016x}", Game::FINGERPRINT);
    let other = format!("nodelink.{WIRE_VERSION}.0123456789abcdef");
    let resume = format!("nodelink.resume.{BOB_TOKEN}.3.0");
    let native = |subprotocol: &str| Answer::Upgrade {
        subprotocol: Some(subprotocol.to_owned()),
        wire: WireFormat::Native,
        close: None,
    };
    let mismatch = || {
        refusal(
            RefusalKind::ProtocolMismatch,
            "Bad Request",
            true,
            format!("protocol mismatch: server fingerprint {fingerprint}, client fingerprint 0123456789abcdef"),
        )
    };
    let case = |name, offer: Vec<String>, answer| HandshakeVector {
        name,
        wire_formats: WireFormats::NativeAndJson,
        query: "",
        offer,
        headers: Vec::new(),
        answer,
    };
    vec![
        case("native", vec![ours.clone()], native(&ours)),
        case(
            "native-among-others",
            vec!["chat".into(), ours.clone()],
            native(&ours),
        ),
        case(
            "native-uppercase",
            vec![ours.to_uppercase().replace("NODELINK", "nodelink")],
            native(&ours.to_uppercase().replace("NODELINK", "nodelink")),
        ),
        HandshakeVector {
            headers: vec![(
                "sec-websocket-extensions",
                "permessage-deflate; client_max_window_bits",
            )],
            ..case("extensions-declined", vec![ours.clone()], native(&ours))
        },
        case(
            "json",
            Vec::new(),
            Answer::Upgrade {
                subprotocol: None,
                wire: WireFormat::Json,
                close: None,
            },
        ),
        case("fingerprint-mismatch", vec![other.clone()], mismatch()),
        case(
            "wire-version",
            vec![format!("nodelink.2.{fingerprint}")],
            refusal(
                RefusalKind::WireVersion,
                "Bad Request",
                true,
                format!("unsupported nodelink wire version: this server speaks {ours}"),
            ),
        ),
        HandshakeVector {
            wire_formats: WireFormats::NativeOnly,
            ..case(
                "native-only",
                Vec::new(),
                refusal(
                    RefusalKind::WireNotServed,
                    "Bad Request",
                    true,
                    format!("not a nodelink client: expected the WebSocket subprotocol {ours}"),
                ),
            )
        },
        HandshakeVector {
            wire_formats: WireFormats::JsonOnly,
            ..case(
                "json-only",
                vec![ours.clone()],
                refusal(
                    RefusalKind::WireNotServed,
                    "Bad Request",
                    false,
                    "this server speaks only the JSON wire: connect without the nodelink subprotocol".into(),
                ),
            )
        },
        case(
            "resume-alone",
            vec![resume.clone()],
            refusal(
                RefusalKind::MalformedResume,
                "Bad Request",
                true,
                format!("resume offer without the nodelink subprotocol: offer {ours} beside it"),
            ),
        ),
        case(
            "resume-malformed",
            vec![ours.clone(), "nodelink.resume.zz.1.0".into()],
            refusal(
                RefusalKind::MalformedResume,
                "Bad Request",
                false,
                ParseResumeOfferError.to_string(),
            ),
        ),
        case(
            "mismatch-before-resume",
            vec![other.clone(), resume.clone()],
            mismatch(),
        ),
        case(
            "resume-unknown-session",
            vec![ours.clone(), resume],
            Answer::Upgrade {
                subprotocol: Some(ours.clone()),
                wire: WireFormat::Native,
                close: Some(CloseReason::SessionExpired),
            },
        ),
        HandshakeVector {
            query: "?match=join&code=ZZZZZZ",
            ..case(
                "match-unknown",
                vec![ours.clone()],
                refusal(
                    RefusalKind::UnknownMatch,
                    "Not Found",
                    false,
                    "no match has the code ZZZZZZ".into(),
                ),
            )
        },
        HandshakeVector {
            query: "?match=find&kind=arena",
            ..case(
                "match-unknown-kind",
                vec![ours.clone()],
                refusal(
                    RefusalKind::UnknownKind,
                    "Not Found",
                    false,
                    "this server hosts no kind `arena`".into(),
                ),
            )
        },
        HandshakeVector {
            query: "?match=dance",
            ..case(
                "match-malformed",
                vec![ours.clone()],
                refusal(
                    RefusalKind::BadMatchRequest,
                    "Bad Request",
                    false,
                    "unknown `match=dance`: expected create, join, find or list".into(),
                ),
            )
        },
        HandshakeVector {
            query: "?match=create&kind=game&options=zA",
            ..case(
                "match-bad-options",
                vec![ours.clone()],
                refusal(
                    RefusalKind::BadOptions,
                    "Bad Request",
                    false,
                    "options for `game` do not decode: match options: field `value`: IO error while reading data: failed to fill whole buffer".into(),
                ),
            )
        },
    ]
}

/// A refusal as the bytes of the HTTP response.
pub(crate) fn rendered(
    status: u16,
    reason: &str,
    headers: &[(&str, String)],
    body: &str,
) -> String {
    let mut out = format!("HTTP/1.1 {status} {reason}\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(body);
    out
}

fn handshake_file() -> Value {
    let cases: Vec<Value> = handshake_vectors()
        .iter()
        .map(|vector| {
            let answer = match &vector.answer {
                Answer::Upgrade {
                    subprotocol,
                    wire,
                    close,
                } => {
                    let mut answer = json!({
                        "status": 101,
                        "subprotocol": subprotocol,
                        "extensions": null,
                        "wire": match wire { WireFormat::Native => "native", WireFormat::Json => "json" },
                    });
                    if let Some(reason) = close {
                        answer["close"] = json!({"code": reason.code(), "reason": reason.description()});
                    }
                    answer
                }
                Answer::Refusal {
                    status,
                    reason,
                    headers,
                    body,
                } => json!({
                    "status": status,
                    "reason": reason,
                    "headers": headers.iter().map(|(name, value)| json!([name, value])).collect::<Vec<_>>(),
                    "body": body,
                }),
            };
            json!({
                "name": vector.name,
                "wire_formats": wire_formats_name(vector.wire_formats),
                "query": vector.query,
                "offer": vector.offer,
                "headers": vector.headers.iter().map(|(name, value)| json!([name, value])).collect::<Vec<_>>(),
                "response": answer,
            })
        })
        .collect();
    json!({
        "about": "Upgrade requests to a server of the `game` protocol (schemas/game.json) with the default configuration but `wire_formats`, and its answers. `query` is the request target's query (`GET /play` then it); `offer` is the request's Sec-WebSocket-Protocol values, in order, sent as one header; `headers` are the request's other headers beyond a plain WebSocket upgrade's.",
        "protocol": "game",
        "handshakes": cases,
    })
}

/// Each close code: when the server sends it, and whether a client resumes its
/// session after it (`resume`) or comes back at all (`reconnect`).
fn close_codes() -> Vec<(CloseReason, &'static str, bool, bool)> {
    use CloseReason as C;
    vec![
        (C::Kicked, "the game removed the player", false, false),
        (C::ServerShutdown, "the server is stopping (also before the welcome)", false, true),
        (C::ProtocolMismatch, "reserved: never sent", false, false),
        (C::InvalidFrames, "past the invalid-frame limit, or one message over the size limit", false, true),
        (C::SlowConsumer, "an event did not fit the client's send queue, or it stayed full past the slow-consumer timeout", false, true),
        (C::RateLimited, "too many messages in a row dropped by the rate limit", false, true),
        (C::IdleTimeout, "nothing heard from the client for the idle timeout (a player with a session is paused: its client may resume)", true, true),
        (C::ServerFull, "the server filled up between the handshake's check and the join", false, true),
        (C::SessionExpired, "a resume named no session the server holds", false, true),
        (C::MissedEvents, "a resume would leave a gap; the session ended", false, true),
        (C::Replaced, "a newer connection resumed this connection's session", false, true),
        (C::MatchEnded, "the player's match ended: its game ended it, or it ended as the player joined", false, false),
        (C::HostGone, "from a relay: the game's host left for good", false, false),
        (C::HostConnectionLost, "from a relay: the host's data connection for this player ended without a close frame", true, true),
        (C::PlayerConnectionLost, "from a relay, to a host's data connection: its player's connection ended without a close frame", false, false),
        (C::RelayShutdown, "from a relay: the relay is shutting down", false, false),
        (C::LinkReplaced, "from a relay, to a host's control link: a newer link reclaimed the game", false, false),
        (C::ProcessLost, "from a gateway: its connection to the game process ended without a close frame", false, true),
    ]
}

fn close_codes_file() -> Value {
    let known: Vec<CloseReason> = (4000..5000).filter_map(CloseReason::from_code).collect();
    let table = close_codes();
    for reason in &known {
        assert!(
            table.iter().any(|(listed, ..)| listed == reason),
            "close code {} ({reason}) is not in the conformance table: add it",
            reason.code()
        );
    }
    let codes: Vec<Value> = table
        .iter()
        .map(|(reason, when, resume, reconnect)| {
            json!({
                "code": reason.code(),
                "reason": reason.description(),
                "when": when,
                "resume": resume,
                "reconnect": reconnect,
            })
        })
        .collect();
    json!({
        "about": "The close codes a nodelink server sends, with the close frame's reason text; `resume`: a client may resume its session after it; `reconnect`: a client may connect again (afresh, or resuming).",
        "close_codes": codes,
    })
}

/// Every file of the folder, by its path in it, as the code makes it.
fn files() -> Vec<(String, Value)> {
    let mut files = vec![
        ("frames.json".to_owned(), frames_file()),
        ("json-frames.json".to_owned(), json_frames_file()),
        ("fingerprints.json".to_owned(), fingerprints_file()),
        ("handshake.json".to_owned(), handshake_file()),
        ("close-codes.json".to_owned(), close_codes_file()),
    ];
    for (name, schema) in protocols() {
        let json: Value = serde_json::from_str(&schema.to_json()).unwrap();
        files.push((format!("schemas/{name}.json"), json));
    }
    files
}

/// Keys written before the others, in this order, so that each entry of a file
/// reads from its name to its details; other keys follow in alphabetical order.
const FIRST_KEYS: &[&str] = &[
    "about",
    "name",
    "kind",
    "protocol",
    "wire_version",
    "code",
    "status",
    "reason",
    "direction",
    "hex",
    "invalid",
    "schema",
    "fingerprint",
    "subprotocol",
    "extensions",
    "wire",
    "wire_formats",
    "offer",
    "headers",
    "response",
    "body",
    "player_id",
    "net_id",
    "entity_id",
    "tick_rate",
    "settings",
    "resume_token",
    "received",
    "tick",
    "online",
    "flags",
    "left",
    "joined",
    "players",
    "server",
    "despawned",
    "entities",
    "replace",
    "removed",
    "len",
];

/// `value` as pretty JSON (two spaces), keys in [`FIRST_KEYS`]' order first.
fn pretty(value: &Value, indent: usize, out: &mut String) {
    let pad = |depth: usize| "  ".repeat(depth);
    match value {
        Value::Array(items) if !items.is_empty() => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                out.push_str(&pad(indent + 1));
                pretty(item, indent + 1, out);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            out.push_str(&pad(indent));
            out.push(']');
        }
        Value::Object(map) if !map.is_empty() => {
            let rank = |key: &str| {
                FIRST_KEYS
                    .iter()
                    .position(|k| *k == key)
                    .unwrap_or(usize::MAX)
            };
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| rank(a).cmp(&rank(b)).then(a.cmp(b)));
            out.push_str("{\n");
            for (i, key) in keys.iter().enumerate() {
                out.push_str(&pad(indent + 1));
                out.push_str(&Value::from(key.as_str()).to_string());
                out.push_str(": ");
                pretty(&map[*key], indent + 1, out);
                out.push_str(if i + 1 < keys.len() { ",\n" } else { "\n" });
            }
            out.push_str(&pad(indent));
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[test]
fn the_conformance_files_are_what_the_code_makes() {
    let update = std::env::var(UPDATE).is_ok_and(|value| value == "1");
    let mut stale = Vec::new();
    for (relative, made) in files() {
        let path = folder().join(&relative);
        let mut text = String::new();
        pretty(&made, 0, &mut text);
        text.push('\n');
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            continue;
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        if on_disk != text {
            stale.push(relative);
        }
    }
    assert!(
        stale.is_empty(),
        "conformance/{{{}}} differ from what the code makes ({UPDATE}=1 rewrites them)",
        stale.join(",")
    );
}

/// Decodes a vector with the library's typed decoders.
fn decoded(vector: &FrameVector) -> Result<Option<Welcome>, String> {
    fn server<P: Protocol>(bytes: &[u8]) -> Result<Option<Welcome>, String> {
        match decode_server_frame::<P>(bytes, usize::MAX) {
            Ok(ServerFrame::Welcome(welcome)) => Ok(Some(welcome)),
            Ok(_) => Ok(None),
            Err(error) => Err(error.to_string()),
        }
    }
    fn client<P: Protocol>(bytes: &[u8]) -> Result<Option<Welcome>, String> {
        decode_client_frame::<P::ToServer>(bytes, usize::MAX)
            .map(|_| None)
            .map_err(|error| error.to_string())
    }
    let bytes = &vector.bytes;
    if vector.name == "listing" {
        return decode_listing::<Table>(bytes)
            .map(|_| None)
            .map_err(|error| error.to_string());
    }
    match (vector.protocol, vector.direction) {
        (_, Direction::ClientToServer) => client::<Game>(bytes),
        ("game", _) => server::<Game>(bytes),
        ("no-server-state", _) => server::<NoServerState>(bytes),
        ("quest", _) => server::<Quest>(bytes),
        ("duel", _) => server::<Duel>(bytes),
        ("depot", _) => server::<Depot>(bytes),
        ("bestiary", _) => server::<Bestiary>(bytes),
        ("market", _) => server::<Market>(bytes),
        ("lobby", _) => server::<Lobby>(bytes),
        (other, _) => panic!("no protocol {other}"),
    }
}

#[test]
fn the_typed_decoders_take_every_valid_vector_and_refuse_every_invalid_one() {
    let file = read("frames.json");
    let mut wrong = Vec::new();
    for vector in frame_vectors() {
        match (vector.invalid, decoded(&vector)) {
            (None, Ok(Some(welcome))) => {
                // The welcome's meaning, field by field, from the typed decoder.
                let entry = file["frames"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|entry| entry["name"] == vector.name.as_str())
                    .expect("in the file");
                let frame = &entry["frame"];
                let settings = &frame["settings"];
                let millis = |key: &str| Duration::from_millis(settings[key].as_u64().unwrap());
                let rate = welcome.settings.rate_limit;
                let same = frame["fingerprint"] == format!("{:016x}", welcome.fingerprint)
                    && frame["player_id"] == welcome.player.to_string()
                    && frame["net_id"] == welcome.net_id.0
                    && frame["tick_rate"] == welcome.tick_rate
                    && frame["resume_token"] == json!(welcome.resume_token.map(|t| t.to_string()))
                    && frame["received"] == json!(welcome.resumed)
                    && millis("ping_interval_ms") == welcome.settings.ping_interval
                    && millis("idle_timeout_ms") == welcome.settings.idle_timeout
                    && millis("slow_consumer_timeout_ms") == welcome.settings.slow_consumer_timeout
                    && millis("resume_grace_ms") == welcome.settings.resume_grace
                    && settings["max_frame_len"] == welcome.settings.max_frame_len
                    && settings["max_invalid_frames"] == welcome.settings.max_invalid_frames
                    && settings["resume_buffer_len"] == welcome.settings.resume_buffer_len
                    && settings["rate_limit_per_second"] == json!(rate.map(|r| r.per_second))
                    && settings["rate_limit_burst"] == json!(rate.map(|r| r.burst))
                    && settings["rate_limit_disconnect_after"]
                        == json!(rate.map(|r| r.disconnect_after));
                if !same {
                    wrong.push(format!("{}: decoded as {welcome:?}", vector.name));
                }
            }
            (None, Ok(_)) | (Some(_), Err(_)) => {}
            (None, Err(error)) => wrong.push(format!("{}: refused: {error}", vector.name)),
            (Some(reason), Ok(_)) => wrong.push(format!("{}: taken, though {reason}", vector.name)),
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

#[test]
fn protocol_md_frames_are_the_conformance_vectors() {
    let doc = protocol_md();
    let file = read("frames.json");
    let vectors = file["frames"].as_array().unwrap();
    let mut wrong = Vec::new();
    let mut documented = 0;
    for marker in doc.match_indices("<!-- frame: ").map(|(at, _)| &doc[at..]) {
        let name = &marker["<!-- frame: ".len()..marker.find(" -->").unwrap()];
        documented += 1;
        let block = block_after(&doc, &format!("<!-- frame: {name} -->"), "hex").map(hex_of);
        match vectors.iter().find(|vector| vector["name"] == name) {
            Some(vector) if block.as_deref() == vector["hex"].as_str() => {}
            Some(vector) => wrong.push(format!(
                "{name}: PROTOCOL.md has\n  {block:?}\nconformance/frames.json has\n  {}",
                vector["hex"]
            )),
            None => wrong.push(format!("{name}: not in conformance/frames.json")),
        }
    }
    assert!(documented >= 25, "{documented} frames in PROTOCOL.md");
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

#[test]
fn protocol_md_fingerprint_steps_are_the_conformance_vectors() {
    let doc = protocol_md();
    let file = read("fingerprints.json");
    let mut checked = 0;
    for entry in file["fingerprints"].as_array().unwrap() {
        let Some(steps) = entry["steps"].as_array() else {
            continue;
        };
        let name = entry["protocol"].as_str().unwrap();
        let marker = format!(
            "<!-- fingerprint: {} -->",
            if name == "game" { "example" } else { name }
        );
        let block = block_after(&doc, &marker, "text").unwrap_or_else(|| panic!("{marker}"));
        let steps: Vec<(&str, u64)> = steps
            .iter()
            .map(|step| {
                let value = u64::from_str_radix(step["value"].as_str().unwrap(), 16).unwrap();
                (step["expression"].as_str().unwrap(), value)
            })
            .collect();
        let wrong = check_steps(block, &steps);
        assert!(wrong.is_empty(), "{marker}\n{}", wrong.join("\n"));
        checked += 1;
    }
    assert_eq!(checked, 4);
}

#[test]
fn protocol_md_close_codes_are_the_conformance_vectors() {
    let doc = protocol_md();
    let file = read("close-codes.json");
    for code in file["close_codes"].as_array().unwrap() {
        let row = format!(
            "| {} | {} | {} |",
            code["code"],
            code["reason"].as_str().unwrap(),
            code["when"].as_str().unwrap()
        );
        assert!(doc.contains(&row), "PROTOCOL.md's close codes lack\n{row}");
    }
}

/// Sends `vector`'s request to a server of the example protocol and returns the
/// whole response, read until the server closes the connection.
async fn raw_answer(vector: &HandshakeVector) -> String {
    use nodelink::server::{Server, ServerConfig};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let config = ServerConfig::default()
        .host("127.0.0.1")
        .port(0)
        .wire_formats(vector.wire_formats);
    let bound = Server::<Game>::new(config).bind().await.expect("binds");
    let (addr, handle) = (bound.local_addr(), bound.handle());
    let task = tokio::spawn(bound.run());
    let mut request = format!(
        "GET /play{} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Sec-WebSocket-Version: 13\r\n",
        vector.query
    );
    if !vector.offer.is_empty() {
        request.push_str(&format!(
            "Sec-WebSocket-Protocol: {}\r\n",
            vector.offer.join(", ")
        ));
    }
    for (name, value) in &vector.headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connects");
    stream.write_all(request.as_bytes()).await.expect("sends");
    let mut response = Vec::new();
    let read = stream.read_to_end(&mut response);
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("the server closes the connection after refusing")
        .expect("reads");
    handle.shutdown();
    let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
    String::from_utf8(response).expect("a text response")
}

/// Opens a WebSocket with `vector`'s request to a server of the example protocol;
/// what is wrong with the answer, if anything.
async fn upgrade_answer(vector: &HandshakeVector) -> Option<String> {
    use futures::StreamExt;
    use nodelink::server::{Server, ServerConfig};
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::Message;
    let Answer::Upgrade {
        subprotocol,
        wire,
        close,
    } = &vector.answer
    else {
        unreachable!("an upgrade");
    };
    let config = ServerConfig::default()
        .host("127.0.0.1")
        .port(0)
        .wire_formats(vector.wire_formats);
    let bound = Server::<Game>::new(config).bind().await.expect("binds");
    let (addr, handle) = (bound.local_addr(), bound.handle());
    let task = tokio::spawn(bound.run());
    let mut request = format!("ws://{addr}/play").into_client_request().unwrap();
    if !vector.offer.is_empty() {
        let offer = vector.offer.join(", ").parse().unwrap();
        request
            .headers_mut()
            .insert("sec-websocket-protocol", offer);
    }
    for (name, value) in &vector.headers {
        request.headers_mut().insert(*name, value.parse().unwrap());
    }
    let wrong = async {
        let connecting = tokio_tungstenite::connect_async(request);
        let (mut socket, response) = tokio::time::timeout(Duration::from_secs(10), connecting)
            .await
            .ok()?
            .ok()?;
        let echoed = response
            .headers()
            .get("sec-websocket-protocol")
            .map(|value| value.to_str().unwrap().to_owned());
        if echoed != *subprotocol {
            return Some(format!("Sec-WebSocket-Protocol: {echoed:?}"));
        }
        if let Some(extensions) = response.headers().get("sec-websocket-extensions") {
            return Some(format!("Sec-WebSocket-Extensions: {extensions:?}"));
        }
        let first = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .ok()?;
        match (first, wire, close) {
            (Some(Ok(Message::Close(Some(frame)))), _, Some(reason))
                if u16::from(frame.code) == reason.code()
                    && frame.reason == reason.description() =>
            {
                None
            }
            (Some(Ok(Message::Binary(bytes))), WireFormat::Native, None) => {
                match decode_server_frame::<Game>(&bytes, usize::MAX) {
                    Ok(ServerFrame::Welcome(_)) => None,
                    other => Some(format!("first frame {other:?}")),
                }
            }
            (Some(Ok(Message::Text(text))), WireFormat::Json, None)
                if text.starts_with(r#"{"event":"__welcome__""#) =>
            {
                None
            }
            (other, ..) => Some(format!("first message {other:?}")),
        }
    }
    .await;
    handle.shutdown();
    let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
    wrong
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_server_answers_every_handshake_vector() {
    let mut wrong = Vec::new();
    for vector in handshake_vectors() {
        match &vector.answer {
            Answer::Refusal {
                status,
                reason,
                headers,
                body,
            } => {
                let expected = rendered(*status, reason, headers, body);
                let actual = raw_answer(&vector).await;
                if actual != expected {
                    wrong.push(format!(
                        "{}: expected\n{expected:?}\nthe server sends\n{actual:?}",
                        vector.name
                    ));
                }
            }
            Answer::Upgrade { .. } => {
                if let Some(problem) = upgrade_answer(&vector).await {
                    wrong.push(format!("{}: {problem}", vector.name));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

#[test]
fn protocol_md_refusals_are_the_conformance_vectors() {
    let doc = protocol_md();
    let file = read("handshake.json");
    let mut documented = 0;
    for case in file["handshakes"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let marker = format!("<!-- response: {name} -->");
        let Some(block) = block_after(&doc, &marker, "http") else {
            continue;
        };
        documented += 1;
        let response = &case["response"];
        let headers: Vec<(&str, String)> = response["headers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|pair| {
                (
                    pair[0].as_str().unwrap(),
                    pair[1].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let expected = rendered(
            u16::try_from(response["status"].as_u64().unwrap()).unwrap(),
            response["reason"].as_str().unwrap(),
            &headers,
            response["body"].as_str().unwrap(),
        );
        let block = block.trim_end_matches('\n').replace('\n', "\r\n");
        assert_eq!(block, expected, "{marker}");
    }
    assert!(
        documented >= 6,
        "{documented} refusals quoted in PROTOCOL.md"
    );
}

#[test]
fn protocol_md_lists_every_setting_the_welcome_announces() {
    let doc = protocol_md();
    let file = read("frames.json");
    let welcome = file["frames"]
        .as_array()
        .unwrap()
        .iter()
        .find(|vector| vector["name"] == "welcome-in-a-match")
        .expect("bob's welcome in a match");
    let announced: Vec<&String> = welcome["frame"]["settings"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    let table = &doc[doc
        .find("| key | value | meaning | default |")
        .expect("the table")..];
    let table = &table[..table.find("\n\n").unwrap()];
    let documented: Vec<&str> = table
        .lines()
        .skip(2)
        .filter_map(|row| row.split('`').nth(1))
        .collect();
    let mut sorted = documented.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, announced, "PROTOCOL.md's settings table");
    // The defaults column is what a default server announces.
    for row in table.lines().skip(2) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let key = cells[1].trim_matches('`');
        if cells[4] == "—" {
            // A match's code and kind have no default: each welcome names its own.
            continue;
        }
        let default: Value = serde_json::from_str(cells[4]).unwrap();
        assert_eq!(welcome["frame"]["settings"][key], default, "{key}");
    }
}
