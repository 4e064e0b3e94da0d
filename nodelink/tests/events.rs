//! `#[nodelink::events]`: wire names, encoding, and decode errors that name the event.

mod common;

use common::{Game, ToClient, ToServer, Vec2, MAX};
use nodelink::wire::{
    decode_client_frame, decode_server_frame, encode_event, ClientFrame, ServerFrame,
};
use nodelink::{DecodeError, Events, PlayerId};

fn round_trip(event: ToServer) -> ToServer {
    let bytes = encode_event(&event).expect("encodes");
    match decode_client_frame::<ToServer>(&bytes, MAX).expect("decodes") {
        ClientFrame::Event(decoded) => decoded,
        other => panic!("expected an event, got {other:?}"),
    }
}

#[test]
fn wire_names_are_snake_case_variant_names() {
    assert_eq!(ToServer::NAMES, ["move", "chat", "ready", "shoot", "buy"]);
    assert_eq!(ToClient::NAMES, ["joined", "chat", "waypoint"]);
    assert_eq!(ToServer::Shoot(1.0, 2.0).name(), "shoot");
}

#[test]
fn every_variant_kind_round_trips() {
    for event in [
        ToServer::Move { x: 1.5, y: -2.0 },
        ToServer::Chat {
            msg: "hello".into(),
        },
        ToServer::Ready,
        ToServer::Shoot(0.25, 4.0),
        ToServer::Buy {
            items: vec![1, 2, 3],
            note: None,
        },
    ] {
        assert_eq!(round_trip(event.clone()), event);
    }
}

#[test]
fn server_events_round_trip_with_nested_types() {
    let event = ToClient::Waypoint(Vec2 { x: 1.0, y: 2.0 });
    let bytes = encode_event(&event).unwrap();
    let frame = decode_server_frame::<Game>(&bytes, MAX).unwrap();
    assert_eq!(frame, ServerFrame::Event(event));

    let joined = ToClient::Joined {
        id: PlayerId::from_raw(7),
    };
    let bytes = encode_event(&joined).unwrap();
    assert_eq!(
        decode_server_frame::<Game>(&bytes, MAX).unwrap(),
        ServerFrame::Event(joined)
    );
}

/// `[1, name, fields…]` built by hand, to send what a typed client never would.
fn raw_event(name: &str, fields: &[rmpv_like::Value<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    rmp::encode::write_array_len(&mut out, 2 + fields.len() as u32).unwrap();
    rmp::encode::write_uint(&mut out, 1).unwrap();
    rmp::encode::write_str(&mut out, name).unwrap();
    for field in fields {
        field.write(&mut out);
    }
    out
}

mod rmpv_like {
    pub(crate) enum Value<'a> {
        F32(f32),
        Str(&'a str),
    }

    impl Value<'_> {
        pub(crate) fn write(&self, out: &mut Vec<u8>) {
            match self {
                Self::F32(v) => rmp::encode::write_f32(out, *v).unwrap(),
                Self::Str(v) => rmp::encode::write_str(out, v).unwrap(),
            }
        }
    }
}

use rmpv_like::Value;

#[test]
fn an_unknown_event_is_named_in_the_error() {
    let err = decode_client_frame::<ToServer>(&raw_event("teleport", &[]), MAX).unwrap_err();
    assert_eq!(
        err,
        DecodeError::UnknownEvent {
            name: "teleport".into()
        }
    );
    assert_eq!(err.to_string(), "unknown event `teleport`");
}

#[test]
fn a_wrong_type_names_the_event_and_the_field() {
    let bytes = raw_event("move", &[Value::F32(1.0), Value::Str("north")]);
    let err = decode_client_frame::<ToServer>(&bytes, MAX).unwrap_err();
    assert!(
        matches!(err, DecodeError::Field { field: "y", .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.starts_with("event `move`: field `y`: "),
        "{message}"
    );
}

#[test]
fn missing_and_extra_fields_are_errors() {
    let err =
        decode_client_frame::<ToServer>(&raw_event("move", &[Value::F32(1.0)]), MAX).unwrap_err();
    assert_eq!(err.to_string(), "event `move`: missing field `y`");

    let bytes = raw_event("ready", &[Value::F32(1.0)]);
    let err = decode_client_frame::<ToServer>(&bytes, MAX).unwrap_err();
    assert_eq!(
        err.to_string(),
        "event `ready`: 1 unexpected extra field(s)"
    );
}

#[test]
fn a_server_frame_is_not_a_client_frame() {
    let welcome = nodelink::wire::Welcome {
        fingerprint: 1,
        player: PlayerId::from_raw(1),
        net_id: nodelink::wire::NetId(0),
        tick_rate: 20,
        settings: nodelink::wire::Settings::default(),
        resume_token: None,
        resumed: None,
    }
    .encode();
    let err = decode_client_frame::<ToServer>(&welcome, MAX).unwrap_err();
    assert_eq!(err, DecodeError::UnknownFrameKind(0));
}
