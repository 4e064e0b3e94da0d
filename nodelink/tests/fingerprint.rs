//! The protocol fingerprint changes with the wire shape and only with it.

use nodelink::{Fingerprint, Protocol};

macro_rules! state {
    ($module:ident { $($body:tt)* }) => {
        mod $module {
            #[derive(nodelink::SyncState, Clone, Default, PartialEq)]
            pub(crate) struct State { $($body)* }
        }
    };
}

macro_rules! events {
    ($module:ident { $($body:tt)* }) => {
        mod $module {
            #[nodelink::events]
            pub(crate) enum Events { $($body)* }
        }
    };
}

state!(base { x: f32, y: f32 });
state!(field_renamed { x: f32, z: f32 });
state!(field_added {
    x: f32,
    y: f32,
    z: f32
});
state!(field_removed { x: f32 });
state!(fields_reordered { y: f32, x: f32 });
state!(type_changed { x: f32, y: f64 });
state!(skip_added {
    x: f32,
    y: f32,
    #[sync(skip)]
    secret: u8
});

mod formatting_differs {
    /// Docs, comments and layout are not on the wire.
    #[derive(nodelink::SyncState, Clone, Default, PartialEq)]
    pub(crate) struct Renamed {
        // a comment
        x: f32,

        /// the y coordinate
        y: core::primitive::f32,
    }
}

events!(events_base { Move { x: f32, y: f32 }, Ready });
events!(variant_renamed { Walk { x: f32, y: f32 }, Ready });
events!(variant_added { Move { x: f32, y: f32 }, Ready, Quit });
events!(variants_reordered { Ready, Move { x: f32, y: f32 } });
events!(event_field_renamed { Move { x: f32, z: f32 }, Ready });
events!(event_field_type_changed { Move { x: f32, y: i32 }, Ready });
events!(struct_to_tuple { Move(f32, f32), Ready });

mod events_formatting_differs {
    #[nodelink::events]
    pub(crate) enum Other {
        /// Moves.
        Move {
            x: f32, // east
            y: f32,
        },

        Ready,
    }
}

mod nested {
    use serde::{Deserialize, Serialize};

    pub(crate) mod v1 {
        #[derive(
            nodelink::Fingerprint, super::Serialize, super::Deserialize, Clone, Default, PartialEq,
        )]
        pub(crate) struct Vec2 {
            pub(crate) x: f32,
            pub(crate) y: f32,
        }
    }

    pub(crate) mod v2 {
        #[derive(
            nodelink::Fingerprint, super::Serialize, super::Deserialize, Clone, Default, PartialEq,
        )]
        pub(crate) struct Vec2 {
            pub(crate) x: f32,
            pub(crate) y: f32,
            pub(crate) z: f32,
        }
    }

    #[derive(nodelink::SyncState, Clone, Default, PartialEq)]
    pub(crate) struct ShipV1 {
        position: v1::Vec2,
    }

    #[derive(nodelink::SyncState, Clone, Default, PartialEq)]
    pub(crate) struct ShipV2 {
        position: v2::Vec2,
    }

    #[nodelink::events]
    pub(crate) enum EventsV1 {
        Goto(Vec<v1::Vec2>),
    }

    #[nodelink::events]
    pub(crate) enum EventsV2 {
        Goto(Vec<v2::Vec2>),
    }
}

#[test]
fn every_state_shape_change_changes_the_fingerprint() {
    let base = base::State::FINGERPRINT;
    for (change, fingerprint) in [
        ("field renamed", field_renamed::State::FINGERPRINT),
        ("field added", field_added::State::FINGERPRINT),
        ("field removed", field_removed::State::FINGERPRINT),
        ("fields reordered", fields_reordered::State::FINGERPRINT),
        ("type changed", type_changed::State::FINGERPRINT),
    ] {
        assert_ne!(fingerprint, base, "{change}");
    }
}

#[test]
fn what_is_not_on_the_wire_does_not_change_it() {
    assert_eq!(
        formatting_differs::Renamed::FINGERPRINT,
        base::State::FINGERPRINT
    );
    assert_eq!(skip_added::State::FINGERPRINT, base::State::FINGERPRINT);
    assert_eq!(
        events_formatting_differs::Other::FINGERPRINT,
        events_base::Events::FINGERPRINT
    );
}

#[test]
fn every_event_shape_change_changes_the_fingerprint() {
    let base = events_base::Events::FINGERPRINT;
    for (change, fingerprint) in [
        ("variant renamed", variant_renamed::Events::FINGERPRINT),
        ("variant added", variant_added::Events::FINGERPRINT),
        (
            "variants reordered",
            variants_reordered::Events::FINGERPRINT,
        ),
        ("field renamed", event_field_renamed::Events::FINGERPRINT),
        (
            "field type changed",
            event_field_type_changed::Events::FINGERPRINT,
        ),
        (
            "struct variant became tuple",
            struct_to_tuple::Events::FINGERPRINT,
        ),
    ] {
        assert_ne!(fingerprint, base, "{change}");
    }
}

#[test]
fn nested_types_contribute_their_structure() {
    assert_ne!(nested::ShipV1::FINGERPRINT, nested::ShipV2::FINGERPRINT);
    assert_ne!(nested::EventsV1::FINGERPRINT, nested::EventsV2::FINGERPRINT);
}

#[nodelink::protocol(state = base::State, to_server = events_base::Events, to_client = events_base::Events)]
struct GameV1;

#[nodelink::protocol(state = formatting_differs::Renamed, to_server = events_formatting_differs::Other, to_client = events_base::Events)]
struct GameV1Again;

#[nodelink::protocol(state = base::State, to_server = events_base::Events, to_client = variant_added::Events)]
struct GameV2;

#[nodelink::protocol(state = base::State, to_server = variant_added::Events, to_client = events_base::Events)]
struct Swapped;

#[test]
fn the_protocol_fingerprint_covers_every_type_and_their_roles() {
    assert_eq!(GameV1::FINGERPRINT, GameV1Again::FINGERPRINT);
    assert_ne!(GameV1::FINGERPRINT, GameV2::FINGERPRINT);
    // The same two enums in swapped roles are a different protocol.
    assert_ne!(GameV2::FINGERPRINT, Swapped::FINGERPRINT);
}

#[test]
fn fingerprints_are_compile_time_constants() {
    const FINGERPRINT: u64 = <GameV1 as Protocol>::FINGERPRINT;
    assert_eq!(FINGERPRINT, GameV1::FINGERPRINT);
}
