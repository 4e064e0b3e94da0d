//! The protocol schema: what it says about a protocol, its JSON layout, and the
//! fingerprint recomputed from it.

mod common;

use std::collections::{BTreeMap, HashMap};

use common::{Game, ShipGame};
use nodelink::schema::{Type, TypeDef};
use nodelink::{Fingerprint, PlayerId, Protocol, SyncState};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Every kind of type the type language has, in one protocol.
mod rich {
    use super::*;

    #[derive(Fingerprint, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
    pub(crate) struct Vec2 {
        pub(crate) x: f32,
        pub(crate) y: f32,
    }

    #[derive(Fingerprint, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
    pub(crate) struct Meters(pub(crate) f64);

    #[derive(Fingerprint, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
    pub(crate) enum Shape {
        #[default]
        Empty,
        Circle {
            r: f32,
        },
        Segment(Vec2, Vec2),
    }

    /// A second `Vec2` with another shape: named apart in the schema.
    pub(crate) mod other {
        use super::*;

        #[derive(Fingerprint, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
        pub(crate) struct Vec2(pub(crate) i32, pub(crate) i32);
    }

    /// A hand-written fingerprint: opaque in the schema.
    #[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
    pub(crate) struct Custom(pub(crate) u8);

    impl Fingerprint for Custom {
        const FINGERPRINT: u64 = 0x0123_4567_89ab_cdef;
    }

    impl nodelink::sync::Whole for Custom {}

    /// Every integer width in one tuple.
    pub(crate) type Wide = (u128, i128, usize, isize, u16, i16, i8, u32);

    #[derive(SyncState, Clone, Debug, Default, PartialEq)]
    pub(crate) struct Unit {
        pub(crate) at: Vec2,
        pub(crate) shape: Shape,
        pub(crate) grid: other::Vec2,
        pub(crate) range: Meters,
        pub(crate) tags: Vec<String>,
        pub(crate) scores: HashMap<PlayerId, u64>,
        pub(crate) route: [Vec2; 3],
        pub(crate) pair: (u8, i64, char),
        pub(crate) target: Option<PlayerId>,
        pub(crate) nested: BTreeMap<String, Vec<Option<bool>>>,
        pub(crate) custom: Custom,
        #[sync(skip)]
        pub(crate) secret: std::time::Duration,
        pub(crate) wide: Wide,
        pub(crate) more: (i32, f64),
        pub(crate) none: (),
        pub(crate) boxed: Box<str>,
    }

    #[derive(SyncState, Clone, Debug, Default, PartialEq)]
    pub(crate) struct World {
        pub(crate) phase: u8,
        pub(crate) winner: Option<PlayerId>,
    }

    #[nodelink::events]
    #[derive(Debug, Clone, PartialEq)]
    pub(crate) enum Up {
        Place { at: Vec2, shape: Shape },
        Say(String),
        Pair(u8, u8),
        Ready,
    }

    #[nodelink::events]
    #[derive(Debug, Clone, PartialEq)]
    pub(crate) enum Down {
        Placed { by: PlayerId, at: Vec2 },
    }

    #[nodelink::protocol(state = Unit, to_server = Up, to_client = Down, server_state = World)]
    pub(crate) struct Rich;
}

fn json_of<P: Protocol>() -> Value {
    serde_json::from_str(&P::schema().to_json()).unwrap()
}

#[test]
fn the_fingerprint_is_a_function_of_the_schema() {
    for (schema, fingerprint) in [
        (Game::schema(), Game::FINGERPRINT),
        (ShipGame::schema(), ShipGame::FINGERPRINT),
        (rich::Rich::schema(), rich::Rich::FINGERPRINT),
    ] {
        assert_eq!(schema.fingerprint(), fingerprint, "{schema}");
        assert_eq!(schema.fingerprint, fingerprint);
    }
}

#[test]
fn every_type_of_the_language_is_described() {
    let schema = json_of::<rich::Rich>();
    let fields = &schema["state"]["fields"];
    let field = |name: &str| {
        fields
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("no field {name}"))
            .clone()
    };
    assert_eq!(
        field("at"),
        json!({"name": "at", "index": 0, "type": {"ref": "Vec2"}})
    );
    assert_eq!(field("shape")["type"], json!({"ref": "Shape"}));
    assert_eq!(field("grid")["type"], json!({"ref": "Vec22"}));
    assert_eq!(field("range")["type"], json!({"ref": "Meters"}));
    assert_eq!(field("tags")["type"], json!({"seq": "str"}));
    assert_eq!(
        field("scores")["type"],
        json!({"map": ["player_id", "u64"]})
    );
    assert_eq!(
        field("route")["type"],
        json!({"array": [{"ref": "Vec2"}, 3]})
    );
    assert_eq!(
        field("pair")["type"],
        json!({"tuple": ["u8", "i64", "char"]})
    );
    assert_eq!(field("target")["type"], json!({"option": "player_id"}));
    assert_eq!(
        field("nested")["type"],
        json!({"map": ["str", {"seq": {"option": "bool"}}]})
    );
    assert_eq!(
        field("custom")["type"],
        json!({"opaque": "0123456789abcdef"})
    );
    // Server-only: named, no index, no type.
    assert_eq!(field("secret"), json!({"name": "secret", "skip": true}));
    assert_eq!(
        field("wide")["type"],
        json!({"tuple": ["u128", "i128", "u64", "i64", "u16", "i16", "i8", "u32"]})
    );
    assert_eq!(field("more")["type"], json!({"tuple": ["i32", "f64"]}));
    assert_eq!(field("none")["type"], "unit");
    assert_eq!(
        field("boxed"),
        json!({"name": "boxed", "index": 14, "type": "str"})
    );

    assert_eq!(
        schema["types"],
        json!({
            "Vec2": {"struct": {"kind": "named", "fields": [
                {"name": "x", "type": "f32"}, {"name": "y", "type": "f32"}]}},
            "Vec22": {"struct": {"kind": "tuple", "fields": [
                {"name": "0", "type": "i32"}, {"name": "1", "type": "i32"}]}},
            "Meters": {"struct": {"kind": "tuple", "fields": [{"name": "0", "type": "f64"}]}},
            "Shape": {"enum": [
                {"name": "Empty", "kind": "unit", "fields": []},
                {"name": "Circle", "kind": "named", "fields": [{"name": "r", "type": "f32"}]},
                {"name": "Segment", "kind": "tuple", "fields": [
                    {"name": "0", "type": {"ref": "Vec2"}}, {"name": "1", "type": {"ref": "Vec2"}}]}
            ]}
        })
    );
    assert_eq!(
        schema["to_server"],
        json!({"name": "Up", "events": [
            {"name": "place", "kind": "named", "fields": [
                {"name": "at", "type": {"ref": "Vec2"}}, {"name": "shape", "type": {"ref": "Shape"}}]},
            {"name": "say", "kind": "tuple", "fields": [{"name": "0", "type": "str"}]},
            {"name": "pair", "kind": "tuple", "fields": [
                {"name": "0", "type": "u8"}, {"name": "1", "type": "u8"}]},
            {"name": "ready", "kind": "unit", "fields": []}
        ]})
    );
    assert_eq!(
        schema["server_state"],
        json!({"name": "World", "fields": [
            {"name": "phase", "index": 0, "type": "u8"},
            {"name": "winner", "index": 1, "type": {"option": "player_id"}}
        ]})
    );
}

#[test]
fn the_example_protocol_schema_in_full() {
    // The layout PROTOCOL.md shows ("The schema"), for `Game` of the shared tests.
    let schema = json_of::<Game>();
    assert_eq!(schema["wire_version"], nodelink::wire::WIRE_VERSION);
    assert_eq!(schema["fingerprint"], format!("{:016x}", Game::FINGERPRINT));
    assert_eq!(schema["server_state"], Value::Null, "`()` is no state");
    assert_eq!(schema["types"]["Vec2"]["struct"]["kind"], "named");
    assert_eq!(
        schema["state"]["fields"][7],
        json!({"name": "inventory", "index": 7, "type": {"seq": "u16"}})
    );
    assert_eq!(
        schema["to_client"]["events"][2],
        json!({"name": "waypoint", "kind": "tuple", "fields": [{"name": "0", "type": {"ref": "Vec2"}}]})
    );
}

#[test]
fn a_change_anywhere_changes_both_schema_and_fingerprint() {
    let mut schema = rich::Rich::schema();
    let before = schema.fingerprint();
    // A nested user type's field changes type: the reference hashes its definition.
    if let Some(TypeDef::Struct(fields)) = schema.types.get_mut("Vec2") {
        fields.fields[1].ty = Type::Primitive("f64");
    }
    assert_ne!(schema.fingerprint(), before);
}

#[test]
fn user_types_encode_as_the_schema_documents() {
    use rich::{Meters, Shape, Vec2};
    let bytes = |value: &dyn erased::Encode| value.encode();
    // A struct: an array of its fields. A newtype: its field. A unit variant: its
    // name; another variant: a one-entry map from its name to its fields.
    assert_eq!(
        bytes(&Vec2 { x: 1.0, y: 2.0 }),
        [0x92, 0xca, 0x3f, 0x80, 0, 0, 0xca, 0x40, 0, 0, 0]
    );
    assert_eq!(bytes(&Meters(0.5)), [0xcb, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(bytes(&Shape::Empty), [0xa5, b'E', b'm', b'p', b't', b'y']);
    assert_eq!(
        bytes(&Shape::Circle { r: 1.0 }),
        [0x81, 0xa6, b'C', b'i', b'r', b'c', b'l', b'e', 0x91, 0xca, 0x3f, 0x80, 0, 0]
    );
}

mod erased {
    pub(crate) trait Encode {
        fn encode(&self) -> Vec<u8>;
    }

    impl<T: serde::Serialize> Encode for T {
        fn encode(&self) -> Vec<u8> {
            rmp_serde::to_vec(self).unwrap()
        }
    }
}
