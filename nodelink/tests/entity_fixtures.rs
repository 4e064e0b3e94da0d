//! The fixtures of the TypeScript client's entity tests
//! (`clients/typescript/test/fixtures/entities*.json`) are what this crate prints:
//! the schema of a protocol with server-owned entities, and sync frames made by
//! `encode_sync_with_entities`. `NODELINK_UPDATE_FIXTURES=1` rewrites them.

use std::path::PathBuf;

use nodelink::schema::Schema;
use nodelink::sync::{Selection, Tick};
use nodelink::wire::{
    decode_server_frame, encode_sync_with_entities, NetId, ServerFrame, StateSelection, SyncHeader,
};
use nodelink::{EntityId, FieldMask, PlayerId, Protocol, SyncState};

/// A crate lying in the world: where, what kind, and what is inside (never sent).
#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub(crate) struct Crate {
    pub(crate) x: f32,
    pub(crate) kind: u8,
    #[sync(owner)]
    pub(crate) secret: u8,
}

#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub(crate) struct Avatar {
    pub(crate) x: f32,
    pub(crate) holding: Option<EntityId>,
}

#[nodelink::events]
pub(crate) enum ToServer {
    Grab { target: EntityId },
}

#[nodelink::events]
pub(crate) enum ToClient {
    Grabbed { by: PlayerId, target: EntityId },
}

#[nodelink::protocol(state = Avatar, to_server = ToServer, to_client = ToClient, entity = Crate)]
pub(crate) struct Warehouse;

type Entities<'a> = Vec<(EntityId, &'a Crate, StateSelection<'a, Crate>)>;

/// What every client may see of an entity: every field but the owner ones.
fn public() -> StateSelection<'static, Crate> {
    Selection::Fields(Crate::ALL.without(Crate::OWNER))
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../clients/typescript/test/fixtures")
}

/// Compares `actual` with the fixture file `name`, or rewrites it when asked.
fn check(name: &str, actual: &str) {
    let path = fixtures().join(name);
    if std::env::var("NODELINK_UPDATE_FIXTURES").is_ok_and(|v| v == "1") {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        expected,
        actual,
        "{} differs from what nodelink prints (NODELINK_UPDATE_FIXTURES=1 rewrites it)",
        path.display()
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn the_schema_fixture_is_what_the_protocol_prints() {
    let schema = Schema::of::<Warehouse>();
    assert_eq!(schema.fingerprint(), Warehouse::FINGERPRINT);
    assert!(schema.entity.is_some());
    check("entities.json", &format!("{}\n", schema.to_json_pretty()));
}

#[test]
fn the_frame_fixtures_are_what_the_encoder_writes() {
    let player = PlayerId::from_raw(0x1a2b_3c4d);
    let one = Crate {
        x: 1.5,
        kind: 2,
        secret: 9,
    };
    let two = Crate {
        x: -3.0,
        kind: 7,
        secret: 1,
    };
    let two_moved = Crate {
        x: 4.25,
        ..two.clone()
    };
    let five = Crate {
        x: 0.5,
        kind: 1,
        secret: 3,
    };
    let standing = Avatar {
        x: 2.0,
        holding: None,
    };
    let holding = Avatar {
        holding: Some(EntityId::from_raw(1)),
        ..standing.clone()
    };
    let holding_mask: StateSelection<'_, Avatar> = Selection::Fields(FieldMask::from_bits(0b10));
    let avatar_x: StateSelection<'_, Avatar> = Selection::Fields(FieldMask::from_bits(0b01));
    let crate_x: StateSelection<'_, Crate> = Selection::Fields(FieldMask::from_bits(0b01));
    let spawned: Entities<'_> = vec![
        (EntityId::from_raw(1), &one, public()),
        (EntityId::from_raw(2), &two, public()),
    ];
    let moved: Entities<'_> = vec![(EntityId::from_raw(2), &two_moved, crate_x)];
    let in_view: Entities<'_> = vec![
        (EntityId::from_raw(2), &two_moved, public()),
        (EntityId::from_raw(5), &five, public()),
    ];

    let frames: Vec<(&str, Vec<u8>)> = vec![
        (
            // Player 1a2b3c4d joins, and crates 1 and 2 spawn.
            "spawn",
            encode_sync_with_entities::<Warehouse, _, _>(
                SyncHeader::delta(Tick(10), 1),
                &[],
                &[(NetId(0), player)],
                [(NetId(0), &standing, Selection::All)],
                None,
                &[],
                spawned,
            )
            .unwrap()
            .to_vec(),
        ),
        (
            // The player picks crate 1 up; crate 2's `x` changes.
            "change",
            encode_sync_with_entities::<Warehouse, _, _>(
                SyncHeader::delta(Tick(11), 1),
                &[],
                &[],
                [(NetId(0), &holding, holding_mask)],
                None,
                &[],
                moved,
            )
            .unwrap()
            .to_vec(),
        ),
        (
            // Crate 1 is despawned, and the player holds nothing.
            "despawn",
            encode_sync_with_entities::<Warehouse, _, _>(
                SyncHeader::delta(Tick(12), 1),
                &[],
                &[],
                [(NetId(0), &standing, holding_mask)],
                None,
                &[EntityId::from_raw(1)],
                Entities::new(),
            )
            .unwrap()
            .to_vec(),
        ),
        (
            // A frame without entity changes has the usual eight elements.
            "plain",
            encode_sync_with_entities::<Warehouse, _, _>(
                SyncHeader::delta(Tick(13), 1),
                &[],
                &[],
                [(NetId(0), &standing, avatar_x)],
                None,
                &[],
                Entities::new(),
            )
            .unwrap()
            .to_vec(),
        ),
        (
            // A snapshot, as after a reconnection: the player, crate 2 and crate 5.
            "snapshot",
            encode_sync_with_entities::<Warehouse, _, _>(
                SyncHeader::snapshot(Tick(20), 1),
                &[],
                &[(NetId(0), player)],
                [(NetId(0), &standing, Selection::All)],
                None,
                &[],
                in_view,
            )
            .unwrap()
            .to_vec(),
        ),
    ];

    // Each decodes with the owner field never sent.
    for (name, bytes) in &frames {
        let ServerFrame::Sync(frame) =
            decode_server_frame::<Warehouse>(bytes, nodelink::wire::DEFAULT_MAX_FRAME_LEN).unwrap()
        else {
            panic!("{name}: a sync frame");
        };
        for (id, delta) in &frame.entities {
            let mut entity = Crate::default();
            entity.apply(delta);
            assert_eq!(
                entity.secret, 0,
                "{name}: entity {id}'s owner field was sent"
            );
        }
    }

    let body = frames
        .iter()
        .map(|(name, bytes)| format!("  {name:?}: {:?}", hex(bytes)))
        .collect::<Vec<_>>()
        .join(",\n");
    check(
        "entities-frames.json",
        &format!(
            "{{\n  \"fingerprint\": \"{:016x}\",\n{body}\n}}\n",
            Warehouse::FINGERPRINT
        ),
    );
}
