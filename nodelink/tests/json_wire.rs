//! The JSON wire (Python nodelink 0.6.0's frames): payload shapes, decode errors that
//! name the event and the field, sync frames keyed by field name, and player ids as
//! hex strings.

mod common;

use common::{Avatar, Game, Ship, ShipGame, ToClient, ToServer, Vec2, MAX};
use nodelink::sync::Selection;
use nodelink::wire::json::{decode_client_frame, encode_event, encode_sync, SyncHeader};
use nodelink::wire::ClientFrame;
use nodelink::{DecodeError, FieldMask, FieldOwner, PlayerId};
use proptest::prelude::*;
use serde_json::{json, Value};

fn decode(text: &str) -> Result<ClientFrame<ToServer>, DecodeError> {
    decode_client_frame::<ToServer>(text, MAX)
}

fn parsed(text: &str) -> Value {
    serde_json::from_str(text).expect("valid JSON")
}

#[test]
fn every_variant_kind_has_its_shape_and_round_trips() {
    let cases = [
        (
            ToServer::Move { x: 1.5, y: -2.0 },
            json!({ "x": 1.5, "y": -2.0 }),
        ),
        (ToServer::Chat { msg: "hi".into() }, json!({ "msg": "hi" })),
        (ToServer::Ready, Value::Null),
        (ToServer::Shoot(0.25, 4.0), json!([0.25, 4.0])),
        (
            ToServer::Buy {
                items: vec![1, 2],
                note: None,
            },
            json!({ "items": [1, 2], "note": null }),
        ),
    ];
    for (event, data) in cases {
        let text = encode_event(&event).expect("encodes");
        assert_eq!(
            parsed(&text),
            json!({ "event": event_name(&event), "data": data })
        );
        assert_eq!(decode(&text), Ok(ClientFrame::Event(event)));
    }
    // A one-field tuple variant carries the value itself.
    let waypoint = encode_event(&ToClient::Waypoint(Vec2 { x: 1.0, y: 2.0 })).unwrap();
    assert_eq!(waypoint, r#"{"event":"waypoint","data":{"x":1.0,"y":2.0}}"#);
}

fn event_name(event: &ToServer) -> &'static str {
    nodelink::Events::name(event)
}

#[test]
fn what_python_clients_send_is_accepted() {
    // `client.send("ready")` sends `"data": null`; `{}` and no `data` mean the same.
    for text in [
        r#"{"event": "ready", "data": null}"#,
        r#"{"event": "ready", "data": {}}"#,
        r#"{"event": "ready"}"#,
    ] {
        assert_eq!(
            decode(text),
            Ok(ClientFrame::Event(ToServer::Ready)),
            "{text}"
        );
    }
    // Integers where floats are declared; an absent optional field is `None`.
    assert_eq!(
        decode(r#"{"event": "move", "data": {"y": 2, "x": 1}}"#),
        Ok(ClientFrame::Event(ToServer::Move { x: 1.0, y: 2.0 }))
    );
    assert_eq!(
        decode(r#"{"event": "buy", "data": {"items": [7]}}"#),
        Ok(ClientFrame::Event(ToServer::Buy {
            items: vec![7],
            note: None
        }))
    );
    // The pong echoes the ping's data; `seq` says which ping it answers.
    assert_eq!(
        decode(r#"{"event": "__pong__", "data": {"t": 1732000000.5, "seq": 7, "rtt_us": 0}}"#),
        Ok(ClientFrame::Pong(7))
    );
}

#[test]
fn payloads_that_do_not_fit_name_the_event_and_the_field() {
    let owner = FieldOwner::Event("shoot");
    assert_eq!(
        decode(r#"{"event": "shoot", "data": [1]}"#),
        Err(DecodeError::MissingField { owner, field: "1" })
    );
    assert_eq!(
        decode(r#"{"event": "shoot", "data": [1, 2, 3]}"#),
        Err(DecodeError::ExtraFields { owner, extra: 1 })
    );
    assert_eq!(
        decode(r#"{"event": "move", "data": {"x": 1, "y": 2, "z": 3}}"#),
        Err(DecodeError::UnknownField {
            owner: FieldOwner::Event("move"),
            field: "z".into()
        })
    );
    assert_eq!(
        decode(r#"{"event": "__pong__", "data": {"t": 1.0}}"#),
        Err(DecodeError::MissingField {
            owner: FieldOwner::Event("__pong__"),
            field: "seq"
        })
    );
    let error = decode(r#"{"event": "buy", "data": {"items": [70000]}}"#).unwrap_err();
    assert_eq!(
        error.to_string(),
        "event `buy`: field `items`: invalid value: integer `70000`, expected u16"
    );
    for (text, message) in [
        ("[1, 2]", "malformed frame: not a JSON event object: invalid type: sequence, expected a map at line 1 column 0"),
        (r#"{"event": 5}"#, "malformed frame: `event` must be a string, not 5"),
        (r#"{"event": "chat", "data": "hi"}"#, "malformed frame: event `chat`: `data` must be an object with the fields msg, not \"hi\""),
    ] {
        assert_eq!(decode(text).unwrap_err().to_string(), message, "{text}");
    }
}

#[test]
fn oversized_and_deeply_nested_text_is_refused_without_decoding() {
    let long = format!(
        r#"{{"event": "chat", "data": {{"msg": "{}"}}}}"#,
        "a".repeat(100)
    );
    assert_eq!(
        decode_client_frame::<ToServer>(&long, 64),
        Err(DecodeError::FrameTooLarge {
            len: long.len(),
            max: 64
        })
    );
    let nested = format!(
        r#"{{"event": "buy", "data": {{"items": {}}}}}"#,
        "[".repeat(10_000)
    );
    assert!(matches!(decode(&nested), Err(DecodeError::Malformed(_))));
}

#[test]
fn sync_frames_are_python_nodelinks_state_sync() {
    let ada = PlayerId::from_raw(0x00ad_a000);
    let bob = PlayerId::from_raw(0x0000_0b0b);
    let avatar = Avatar {
        x: 1.5,
        name: "ada".into(),
        team: Some(2),
        ..Avatar::default()
    };
    let header = SyncHeader {
        time: std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_732_000_000_250),
        online: 2,
        full: false,
        more: false,
    };
    let mask = FieldMask::from_bits(0b0100_0001); // x and team
    let text = encode_sync::<Game, _>(
        header,
        &[bob],
        [(ada, &avatar, Selection::Fields(mask))],
        None,
    )
    .unwrap();
    assert_eq!(
        parsed(&text),
        json!({
            "event": "__state_sync__",
            "data": {
                "t": 1_732_000_000.25,
                "count": 2,
                "players": { "00ada000": { "x": 1.5, "team": 2 } },
                "left": ["00000b0b"],
            }
        })
    );

    // A snapshot: every field, nested values as JSON, `"full": true`.
    let ship = Ship {
        position: Vec2 { x: 1.0, y: 2.0 },
        cargo: [("gold".to_owned(), 3)].into(),
        crew: vec!["ada".into()],
        captain: None,
        secret_route: vec![Vec2::default()],
    };
    let full = SyncHeader {
        full: true,
        ..header
    };
    let text = encode_sync::<ShipGame, _>(
        full,
        &[],
        [(ada, &ship, Selection::All)],
        Some((&(), Selection::Fields(FieldMask::EMPTY))),
    )
    .unwrap();
    assert_eq!(
        parsed(&text)["data"],
        json!({
            "t": 1_732_000_000.25,
            "count": 2,
            "players": { "00ada000": {
                "position": { "x": 1.0, "y": 2.0 },
                "cargo": { "gold": 3 },
                "crew": ["ada"],
                "captain": null,
            } },
            "full": true,
        }),
        "no `server` key for a game without server state; skipped fields stay on the server"
    );
}

#[test]
fn player_ids_are_hex_strings_in_json_and_numbers_in_messagepack() {
    let id = PlayerId::from_raw(0x00c0_ffee);
    assert_eq!(serde_json::to_string(&id).unwrap(), r#""00c0ffee""#);
    assert_eq!(
        serde_json::from_str::<PlayerId>(r#""00c0ffee""#).unwrap(),
        id
    );
    assert!(serde_json::from_str::<PlayerId>(r#""coffee""#).is_err());
    assert_eq!(
        rmp_serde::to_vec(&id).unwrap(),
        [0xce, 0x00, 0xc0, 0xff, 0xee]
    );
    assert_eq!(
        rmp_serde::from_slice::<PlayerId>(&[0xce, 0x00, 0xc0, 0xff, 0xee]).unwrap(),
        id
    );
}

proptest! {
    #[test]
    fn any_text_decodes_or_fails_cleanly(text in ".{0,200}") {
        let _ = decode(&text);
    }

    #[test]
    fn any_event_shaped_json_decodes_or_fails_cleanly(
        name in prop::sample::select(vec!["move", "chat", "ready", "shoot", "buy", "__pong__", "x"]),
        data in prop::sample::select(vec![
            "null", "{}", "[]", "1", "\"s\"", "[1, 2]", "{\"x\": 1}", "{\"items\": [1], \"note\": 5}",
            "{\"seq\": -1}", "{\"msg\": null}", "[1e400, 2]",
        ]),
    ) {
        let _ = decode(&format!(r#"{{"event": "{name}", "data": {data}}}"#));
    }
}
