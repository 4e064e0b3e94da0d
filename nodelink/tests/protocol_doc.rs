//! Every checked example in PROTOCOL.md is what the code produces, so the document
//! cannot drift from it:
//!
//! - `<!-- frame: NAME -->` hex blocks: whole frames, from the real encoders;
//! - `<!-- json: NAME -->` JSON blocks: frames on the JSON wire, and the rules for
//!   applying them, transcribed, rebuild the state the frames carry;
//! - the `<!-- values -->` table: one value of each kind of the schema's type
//!   language, encoded by the real field codec (and decoded back);
//! - the `<!-- schema: example -->` JSON block: the example protocol's schema; the
//!   other `<!-- schema: NAME -->` blocks: some keys of other protocols' schemas;
//! - the `<!-- fingerprint: NAME -->` blocks: the fingerprint algorithm's steps,
//!   computed by a transcription of PROTOCOL.md's rules that must also reproduce the
//!   compile-time fingerprint of a protocol using every kind of type, entities and
//!   owner fields;
//! - `<!-- response: NAME -->` blocks: the HTTP refusals a running server sends;
//! - `<!-- accepts -->`: what the server's decoder accepts besides what it writes;
//! - the conformance vectors in `conformance/` ([`conformance`]): every frame,
//!   fingerprint, handshake and close code as files, made here from the encoders,
//!   read back by the typed decoders and a running server, and the source of
//!   PROTOCOL.md's frames, fingerprint steps, refusals and close codes.

#[path = "protocol_doc/conformance.rs"]
mod conformance;
#[path = "protocol_doc/meaning.rs"]
mod meaning;

use std::collections::BTreeMap;

use nodelink::fingerprint::FingerprintHasher;
use nodelink::sync::{Selection, Tick};
use nodelink::wire::{
    decode_client_frame, encode_event, encode_listing, encode_ping, encode_pong, encode_sync,
    encode_sync_with_entities, json, ClientFrame, MatchListing, NetId, Settings, SyncHeader,
    Welcome,
};
use nodelink::{EntityId, Fingerprint, PlayerId, Protocol};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The protocol PROTOCOL.md uses in its examples: `examples/protocol.rs`, the
/// protocol the runnable examples share (same Rust names, so the same schema).
mod example {
    use nodelink::{PlayerId, SyncState};

    #[derive(SyncState, Clone, Debug, Default, PartialEq)]
    pub(crate) struct Avatar {
        pub(crate) x: f32,
        pub(crate) y: f32,
        pub(crate) name: String,
    }

    #[derive(SyncState, Clone, Debug, Default, PartialEq)]
    pub(crate) struct Match {
        pub(crate) round: u32,
        pub(crate) time_left: f32,
        pub(crate) leader: Option<PlayerId>,
    }

    #[nodelink::events]
    #[derive(Debug, Clone, PartialEq)]
    pub(crate) enum ToServer {
        Move { x: f32, y: f32 },
        Chat { msg: String },
        Ready,
    }

    #[nodelink::events]
    #[derive(Debug, Clone, PartialEq)]
    pub(crate) enum ToClient {
        Joined { id: PlayerId },
        Left { id: PlayerId },
        Chat { from: PlayerId, msg: String },
    }

    /// What a player asks for when making a match (its options), and what a
    /// listing shows of each match (its metadata).
    #[nodelink::data]
    #[derive(Clone, Debug, Default, PartialEq)]
    pub(crate) struct Table {
        pub(crate) title: String,
    }

    #[nodelink::protocol(state = Avatar, to_server = ToServer, to_client = ToClient, server_state = Match,
                         options = Table, metadata = Table)]
    pub(crate) struct Game;

    /// The same game without a shared server state.
    #[nodelink::protocol(state = Avatar, to_server = ToServer, to_client = ToClient)]
    pub(crate) struct NoServerState;
}

use example::{Avatar, Game, Match, NoServerState, Table, ToClient, ToServer};

/// The example protocol with a richer player state: a nested state, two maps
/// synced per entry and a list synced per index. PROTOCOL.md's "Nested states and
/// maps" uses it.
mod quest {
    use nodelink::sync::{SyncMap, SyncVec};
    use nodelink::SyncState;

    #[derive(SyncState, Clone, Debug, Default, PartialEq)]
    pub(crate) struct Stats {
        pub(crate) hp: u16,
        pub(crate) mana: u16,
    }

    #[derive(SyncState, Clone, Debug, Default, PartialEq)]
    pub(crate) struct Hero {
        pub(crate) x: f32,
        pub(crate) stats: Stats,
        pub(crate) bag: SyncMap<String, u16>,
        pub(crate) pets: SyncMap<u8, Stats>,
        pub(crate) party: SyncVec<Stats>,
    }

    #[nodelink::protocol(state = Hero, to_server = super::ToServer, to_client = super::ToClient, server_state = super::Match)]
    pub(crate) struct Quest;
}

use quest::{Hero, Quest, Stats};

/// The example protocol with server-owned entities: crates on the floor.
/// PROTOCOL.md's "Entities" uses it.
mod depot {
    use nodelink::SyncState;

    #[derive(SyncState, Clone, Debug, Default, PartialEq)]
    pub(crate) struct Crate {
        pub(crate) x: f32,
        pub(crate) y: f32,
        pub(crate) kind: u8,
    }

    #[nodelink::protocol(state = super::Avatar, to_server = super::ToServer, to_client = super::ToClient, server_state = super::Match, entity = Crate)]
    pub(crate) struct Depot;
}

use depot::{Crate, Depot};

/// The example protocol with entities of several kinds: monsters and loot.
/// PROTOCOL.md's "Several kinds of entity" uses it.
mod bestiary {
    use nodelink::SyncState;

    #[derive(SyncState, Clone, Debug, Default, PartialEq)]
    pub(crate) struct Monster {
        pub(crate) x: f32,
        pub(crate) hp: u16,
    }

    #[derive(SyncState, Clone, Debug, Default, PartialEq)]
    pub(crate) struct Loot {
        pub(crate) gold: u32,
    }

    #[derive(SyncState, Clone, Debug, PartialEq)]
    pub(crate) enum Thing {
        Monster(Monster),
        Loot(Loot),
    }

    #[nodelink::protocol(state = super::Avatar, to_server = super::ToServer, to_client = super::ToClient, server_state = super::Match, entity = Thing)]
    pub(crate) struct Bestiary;
}

use bestiary::{Bestiary, Loot, Monster, Thing};

/// The example protocol with an owner field in the player state, and no server
/// state. PROTOCOL.md's "Owner fields" uses it.
mod market {
    use nodelink::SyncState;

    #[derive(SyncState, Clone, Debug, Default, PartialEq)]
    pub(crate) struct Trader {
        pub(crate) x: f32,
        #[sync(owner)]
        pub(crate) gold: u32,
    }

    #[nodelink::protocol(state = Trader, to_server = super::ToServer, to_client = super::ToClient)]
    pub(crate) struct Market;
}

use market::{Market, Trader};

/// The example protocol with a bounded log in the player state: the last three
/// hits a fighter took. PROTOCOL.md's "A bounded log" uses it.
mod duel {
    use nodelink::sync::SyncDeque;
    use nodelink::SyncState;

    #[derive(SyncState, Clone, Debug, PartialEq)]
    pub(crate) struct Fighter {
        pub(crate) hits: SyncDeque<u16>,
    }

    impl Default for Fighter {
        fn default() -> Self {
            Self {
                hits: SyncDeque::with_capacity(3),
            }
        }
    }

    #[nodelink::protocol(state = Fighter, to_server = super::ToServer, to_client = super::ToClient, server_state = super::Match)]
    pub(crate) struct Duel;
}

use duel::{Duel, Fighter};

/// The example protocol's events with no state at all: every player entry is
/// `[net_id, 0]`.
#[nodelink::protocol(state = (), to_server = ToServer, to_client = ToClient)]
pub(crate) struct Lobby;

/// The example protocol's player state and events, for matches made from
/// options and listed with metadata of their own types: the fingerprint hashes
/// both after the rest.
mod arena {
    /// What a client asks an arena for.
    #[nodelink::data]
    #[derive(Clone, Debug, Default, PartialEq)]
    pub(crate) struct Mode {
        pub(crate) ranked: bool,
        pub(crate) map: String,
    }

    /// What an arena shows in listings.
    #[nodelink::data]
    #[derive(Clone, Debug, Default, PartialEq)]
    pub(crate) struct Standing {
        pub(crate) mode: Mode,
        pub(crate) round: u32,
    }

    #[nodelink::protocol(state = super::Avatar, to_server = super::ToServer, to_client = super::ToClient,
                         options = Mode, metadata = Standing)]
    pub(crate) struct Arena;
}

use arena::Arena;

const ADA: PlayerId = PlayerId::from_raw(0x1a2b_3c4d);
const BOB: PlayerId = PlayerId::from_raw(0x5e6f_7081);
/// A third player, who connects right after `bob`, in the same tick.
const CY: PlayerId = PlayerId::from_raw(0x9a0b_1c2d);
/// The resume token of `bob`'s first welcome, and of the welcome that resumed it.
const BOB_TOKEN: &str = "3f9a1c0e5b7d2468a0c4e6f8b1d3e5f7";
const BOB_TOKEN_RESUMED: &str = "9d2e4f6a8c0b1d3f5e7a9c1b3d5f7e9a";

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The text of the fenced block of kind `fence` (e.g. ```` ```hex ````) that follows
/// `marker`.
fn block_after<'d>(doc: &'d str, marker: &str, fence: &str) -> Option<&'d str> {
    let after = &doc[doc.find(marker)? + marker.len()..];
    let open = format!("```{fence}\n");
    let block = &after[after.find(&open)? + open.len()..];
    Some(&block[..block.find("```")?])
}

/// Hex bytes, whitespace and `#` comments ignored.
fn hex_of(block: &str) -> String {
    let bytes: Vec<&str> = block
        .lines()
        .map(|line| line.split('#').next().unwrap_or(""))
        .flat_map(str::split_whitespace)
        .collect();
    bytes.join(" ")
}

fn protocol_md() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../PROTOCOL.md");
    std::fs::read_to_string(path).expect("PROTOCOL.md exists at the repository root")
}

fn header(tick: u64, online: u32, full: bool, more: bool) -> SyncHeader {
    SyncHeader {
        tick: Tick(tick),
        online,
        full,
        more,
    }
}

/// What a server with the default configuration but no sessions
/// (`resume_grace` 0) announces.
fn without_sessions() -> Settings {
    let mut settings = Settings::default();
    settings.resume_grace = std::time::Duration::ZERO;
    settings.resume_buffer_len = 0;
    settings
}

fn table(title: &str) -> Table {
    Table {
        title: title.to_owned(),
    }
}

fn frames() -> Vec<(&'static str, Vec<u8>)> {
    use nodelink::FieldMask as Mask;
    // The story the examples tell: `ada` (net id 0) is playing when `bob` connects
    // between ticks 41 and 42; the server names him in its connect handler.
    let ada = Avatar {
        x: 1.5,
        y: -2.0,
        name: "ada".into(),
    };
    let bob_at_join = Avatar::default();
    let bob = Avatar {
        name: "bob".into(),
        ..Avatar::default()
    };
    let round_1 = Match {
        round: 1,
        time_left: 30.0,
        leader: Some(ADA),
    };
    let round_2 = Match {
        round: 2,
        time_left: 60.0,
        leader: None,
    };
    let ada_moved = Avatar {
        x: 2.0,
        ..ada.clone()
    };
    let sync = |header, left: &[NetId], joined: &[(NetId, PlayerId)], players: Vec<_>, server| {
        encode_sync::<Game, _>(header, left, joined, players, server)
            .unwrap()
            .to_vec()
    };
    let both = [(NetId(0), ADA), (NetId(1), BOB)];
    vec![
        (
            "welcome",
            Welcome {
                fingerprint: Game::FINGERPRINT,
                player: BOB,
                net_id: NetId(1),
                tick_rate: 20,
                settings: Settings::default(),
                resume_token: Some(BOB_TOKEN.parse().unwrap()),
                resumed: None,
            }
            .encode()
            .to_vec(),
        ),
        (
            "welcome-no-session",
            Welcome {
                fingerprint: Game::FINGERPRINT,
                player: BOB,
                net_id: NetId(1),
                tick_rate: 20,
                settings: without_sessions(),
                resume_token: None,
                resumed: None,
            }
            .encode()
            .to_vec(),
        ),
        (
            "welcome-resumed",
            Welcome {
                fingerprint: Game::FINGERPRINT,
                player: BOB,
                net_id: NetId(1),
                tick_rate: 20,
                settings: Settings::default(),
                resume_token: Some(BOB_TOKEN_RESUMED.parse().unwrap()),
                resumed: Some(7),
            }
            .encode()
            .to_vec(),
        ),
        (
            // `match=list&kind=game` answered: `ada`'s open table, and a full one
            // its game locked.
            "listing",
            encode_listing(&[
                MatchListing::new("K7MQ4P", 1, 4, false, table("ada's table")),
                MatchListing::new("Q2XW9H", 4, 4, true, table("")),
            ])
            .unwrap()
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
            sync(
                header(41, 2, true, false),
                &[],
                &both,
                vec![
                    (NetId(0), &ada, Selection::All),
                    (NetId(1), &bob_at_join, Selection::All),
                ],
                Some((&round_1, Selection::All)),
            ),
        ),
        (
            "sync-snapshot-first",
            sync(
                header(41, 2, true, true),
                &[],
                &both[..1],
                vec![(NetId(0), &ada, Selection::All)],
                Some((&round_1, Selection::All)),
            ),
        ),
        (
            "sync-snapshot-last",
            sync(
                header(41, 2, false, false),
                &[],
                &both[1..],
                vec![(NetId(1), &bob_at_join, Selection::All)],
                None,
            ),
        ),
        (
            "sync-snapshot-shared",
            sync(
                header(41, 2, true, true),
                &[],
                &both,
                vec![
                    (NetId(0), &ada, Selection::All),
                    (NetId(1), &bob_at_join, Selection::All),
                ],
                Some((&round_1, Selection::All)),
            ),
        ),
        (
            "sync-snapshot-own",
            sync(
                header(41, 3, false, false),
                &[],
                &[(NetId(2), CY)],
                vec![(NetId(2), &bob_at_join, Selection::All)],
                None,
            ),
        ),
        (
            "sync-snapshot-no-server-state",
            encode_sync::<NoServerState, _>(
                header(41, 1, true, false),
                &[],
                &both[1..],
                [(NetId(1), &bob_at_join, Selection::All)],
                Some((&(), Selection::All)),
            )
            .unwrap()
            .to_vec(),
        ),
        (
            "sync-joined",
            sync(
                header(42, 2, false, false),
                &[],
                &both[1..],
                vec![(NetId(1), &bob, Selection::All)],
                None,
            ),
        ),
        (
            "sync-delta",
            sync(
                header(43, 2, false, false),
                &[],
                &[],
                vec![(
                    NetId(0),
                    &ada_moved,
                    Selection::Fields(Mask::from_bits(0b001)),
                )],
                None,
            ),
        ),
        (
            "sync-server",
            sync(
                header(44, 2, false, false),
                &[],
                &[],
                vec![],
                Some((&round_2, Selection::All)),
            ),
        ),
        (
            "sync-left",
            sync(header(45, 1, false, false), &[NetId(0)], &[], vec![], None),
        ),
        ("ping", encode_ping(7, 35_000).to_vec()),
        ("pong", encode_pong(7).to_vec()),
    ]
    .into_iter()
    .chain(hero_story().into_iter().map(|step| {
        let joined = [(NetId(0), ADA)];
        let bytes = encode_sync::<Quest, _>(
            header(step.tick, 1, false, false),
            &[],
            if step.joined { &joined[..] } else { &[] },
            [(NetId(0), &step.hero, step.selection())],
            None,
        )
        .unwrap();
        (step.name, bytes.to_vec())
    }))
    .chain(log_story().into_iter().map(|step| {
        let joined = [(NetId(0), ADA)];
        let bytes = encode_sync::<Duel, _>(
            header(step.tick, 1, false, false),
            &[],
            if step.joined { &joined[..] } else { &[] },
            [(NetId(0), &step.fighter, step.selection())],
            None,
        )
        .unwrap();
        (step.name, bytes.to_vec())
    }))
    .chain(crate_story().into_iter().map(|step| {
        let ada = step.ada.as_ref();
        let players: Vec<_> = ada
            .map(|ada| (NetId(0), ada, Selection::Fields(Mask::from_bits(0b001))))
            .into_iter()
            .collect();
        let bytes = encode_sync_with_entities::<Depot, _, _>(
            header(step.tick, 2, false, false),
            &[],
            &[],
            players,
            None,
            &step.despawned,
            step.entities(),
        )
        .unwrap();
        (step.name, bytes.to_vec())
    }))
    .chain(owner_frames())
    .chain(split_snapshot_frames())
    .chain(kinds_story().into_iter().map(|step| {
        let entities: Vec<nodelink::wire::EntityEntry<'_, Bestiary>> = step
            .listed
            .iter()
            .map(|(id, thing, changes)| {
                let selection = changes.as_ref().map_or(Selection::All, Selection::Changed);
                (*id, thing, selection)
            })
            .collect();
        let bytes = encode_sync_with_entities::<Bestiary, _, _>(
            header(step.tick, 2, false, false),
            &[],
            &[],
            [],
            None,
            &[],
            entities,
        )
        .unwrap();
        (step.name, bytes.to_vec())
    }))
    .collect()
}

type ThingChanges = <Thing as nodelink::SyncState>::Changes;

/// One tick of the bestiary's story: the entities listed (`None`: all of it), and
/// every entity after the tick.
struct KindsStep {
    name: &'static str,
    tick: u64,
    listed: Vec<(EntityId, Thing, Option<ThingChanges>)>,
    after: BTreeMap<EntityId, Thing>,
}

/// Tick 70: a monster (entity 0) and loot (entity 1) are spawned. Tick 71: the
/// monster is hurt (its `hp` alone). Tick 72: it dies and leaves loot (the new
/// kind, all of it).
fn kinds_story() -> Vec<KindsStep> {
    let loot = Thing::Loot(Loot { gold: 30 });
    let mut monster = nodelink::Tracked::new(Thing::Monster(Monster { x: 2.0, hp: 12 }));
    let spawned = KindsStep {
        name: "kinds-spawned",
        tick: 70,
        listed: vec![
            (CRATE_0, monster.get().clone(), None),
            (CRATE_1, loot.clone(), None),
        ],
        after: BTreeMap::from([(CRATE_0, monster.get().clone()), (CRATE_1, loot.clone())]),
    };
    monster.take_changes();
    if let Some(mut hurt) = monster.state_mut().monster() {
        hurt.set_hp(5);
    }
    let hurt = KindsStep {
        name: "kinds-changed",
        tick: 71,
        listed: vec![(CRATE_0, monster.get().clone(), Some(monster.take_changes()))],
        after: BTreeMap::from([(CRATE_0, monster.get().clone()), (CRATE_1, loot.clone())]),
    };
    monster.state_mut().set(Thing::Loot(Loot { gold: 7 }));
    let died = KindsStep {
        name: "kinds-switched",
        tick: 72,
        listed: vec![(CRATE_0, monster.get().clone(), Some(monster.take_changes()))],
        after: BTreeMap::from([(CRATE_0, monster.get().clone()), (CRATE_1, loot)]),
    };
    vec![spawned, hurt, died]
}

#[test]
fn the_kinds_frames_leave_each_entity_of_its_kind() {
    use nodelink::client::World;
    let mut world = World::<Bestiary>::default();
    for step in kinds_story() {
        world.apply(frame(step.name));
        let mirrored: BTreeMap<EntityId, Thing> = world
            .entities()
            .map(|(id, thing)| (id, thing.clone()))
            .collect();
        assert_eq!(mirrored, step.after, "after {}", step.name);
    }
    assert_eq!(world.entity(CRATE_0).map(Thing::kind_name), Some("loot"));
}

type CrateChanges = <Crate as nodelink::SyncState>::Changes;

const CRATE_0: EntityId = EntityId::from_raw(0);
const CRATE_1: EntityId = EntityId::from_raw(1);

/// One tick of the crates' story on a `Depot` server: `ada`'s state if she moved
/// (her `x` is sent), the crates despawned, the crates listed (`None`: every
/// field), and every crate after the tick.
struct CrateStep {
    name: &'static str,
    tick: u64,
    ada: Option<Avatar>,
    despawned: Vec<EntityId>,
    listed: Vec<(EntityId, Crate, Option<CrateChanges>)>,
    after: BTreeMap<EntityId, Crate>,
}

impl CrateStep {
    fn entities(&self) -> Vec<nodelink::wire::EntityEntry<'_, Depot>> {
        self.listed
            .iter()
            .map(|(id, state, changes)| {
                let selection = changes.as_ref().map_or(Selection::All, Selection::Changed);
                (*id, state, selection)
            })
            .collect()
    }
}

/// Tick 60: the server spawns two crates. Tick 61: `ada` moves and crate 1
/// slides (only its `x`). Tick 62: crate 0 is despawned.
fn crate_story() -> Vec<CrateStep> {
    let first = Crate {
        x: 4.0,
        y: 2.5,
        kind: 1,
    };
    let mut second = nodelink::Tracked::new(Crate {
        x: -1.0,
        y: 0.5,
        kind: 3,
    });
    let spawned = CrateStep {
        name: "crates-spawned",
        tick: 60,
        ada: None,
        despawned: vec![],
        listed: vec![
            (CRATE_0, first.clone(), None),
            (CRATE_1, second.get().clone(), None),
        ],
        after: BTreeMap::from([(CRATE_0, first.clone()), (CRATE_1, second.get().clone())]),
    };
    second.take_changes();
    second.state_mut().set_x(-1.5);
    let moved = CrateStep {
        name: "crates-moved",
        tick: 61,
        ada: Some(Avatar {
            x: 2.0,
            y: -2.0,
            name: "ada".into(),
        }),
        despawned: vec![],
        listed: vec![(CRATE_1, second.get().clone(), Some(second.take_changes()))],
        after: BTreeMap::from([(CRATE_0, first), (CRATE_1, second.get().clone())]),
    };
    let despawned = CrateStep {
        name: "crates-despawned",
        tick: 62,
        ada: None,
        despawned: vec![CRATE_0],
        listed: vec![],
        after: BTreeMap::from([(CRATE_1, second.get().clone())]),
    };
    vec![spawned, moved, despawned]
}

/// A snapshot of the `Depot` world at tick 61 (both crates, after `crates-moved`)
/// split in two frames as the server splits one past its frame size: the first
/// `full` and `more`, with the players, the server state and crate 0; the last
/// with crate 1 alone, completing it. Returns the world it gives: the players, the
/// server state and the crates.
struct SplitSnapshot {
    players: [(PlayerId, Avatar); 2],
    server: Match,
    crates: [(EntityId, Crate); 2],
}

fn split_snapshot() -> SplitSnapshot {
    SplitSnapshot {
        players: [
            (
                ADA,
                Avatar {
                    x: 2.0,
                    y: -2.0,
                    name: "ada".into(),
                },
            ),
            (
                BOB,
                Avatar {
                    name: "bob".into(),
                    ..Avatar::default()
                },
            ),
        ],
        server: Match {
            round: 1,
            time_left: 30.0,
            leader: Some(ADA),
        },
        crates: [
            (
                CRATE_0,
                Crate {
                    x: 4.0,
                    y: 2.5,
                    kind: 1,
                },
            ),
            (
                CRATE_1,
                Crate {
                    x: -1.5,
                    y: 0.5,
                    kind: 3,
                },
            ),
        ],
    }
}

/// The split snapshot's two frames, native.
fn split_snapshot_frames() -> Vec<(&'static str, Vec<u8>)> {
    let world = split_snapshot();
    let [(ada, ada_state), (bob, bob_state)] = &world.players;
    let [first_crate, last_crate] = &world.crates;
    let first = encode_sync_with_entities::<Depot, _, _>(
        header(61, 2, true, true),
        &[],
        &[(NetId(0), *ada), (NetId(1), *bob)],
        [
            (NetId(0), ada_state, Selection::All),
            (NetId(1), bob_state, Selection::All),
        ],
        Some((&world.server, Selection::All)),
        &[],
        [(first_crate.0, &first_crate.1, Selection::All)],
    )
    .unwrap();
    let last = encode_sync_with_entities::<Depot, _, _>(
        header(61, 2, false, false),
        &[],
        &[],
        Vec::<(NetId, &Avatar, Selection<'_, _>)>::new(),
        None,
        &[],
        [(last_crate.0, &last_crate.1, Selection::All)],
    )
    .unwrap();
    vec![
        ("crates-snapshot-first", first.to_vec()),
        ("crates-snapshot-last", last.to_vec()),
    ]
}

/// `ada`'s snapshot on a `Market` server at tick 70 (the game asked for one): the
/// frame every snapshot of this tick shares, marked `more`, then hers alone with her
/// owner field, which completes it.
fn owner_frames() -> Vec<(&'static str, Vec<u8>)> {
    use nodelink::{FieldMask, SyncState};
    let ada = Trader { x: 1.5, gold: 250 };
    let bob = Trader { x: 3.0, gold: 40 };
    let public = Selection::Fields(Trader::ALL.without(Trader::OWNER));
    let shared = encode_sync::<Market, _>(
        header(70, 2, true, true),
        &[],
        &[(NetId(0), ADA), (NetId(1), BOB)],
        [(NetId(0), &ada, public), (NetId(1), &bob, public)],
        Some((&(), Selection::All)),
    )
    .unwrap();
    let own = encode_sync::<Market, _>(
        header(70, 2, false, false),
        &[],
        &[],
        [(NetId(0), &ada, Selection::Fields(Trader::OWNER))],
        None,
    )
    .unwrap();
    assert_eq!(Trader::OWNER, FieldMask::from_bits(0b10));
    vec![
        ("owner-snapshot", shared.to_vec()),
        ("owner-own", own.to_vec()),
    ]
}

/// One frame of `ada`'s hero in the `Quest` protocol: her state after the tick,
/// and what changed in it (`None`: every field).
struct HeroStep {
    name: &'static str,
    tick: u64,
    joined: bool,
    hero: Hero,
    changes: Option<<Hero as nodelink::SyncState>::Changes>,
}

impl HeroStep {
    fn selection(&self) -> Selection<'_, <Hero as nodelink::SyncState>::Changes> {
        self.changes
            .as_ref()
            .map_or(Selection::All, Selection::Changed)
    }
}

/// `ada`'s hero, tracked as a server tracks it: announced with every field (tick
/// 50), hit (tick 51: only `stats.hp`), then she eats her bread, shoots an arrow,
/// her pet 1 gains mana and pet 2 joins her (tick 52: entries of both maps), her
/// first companion spends mana and a second one joins her party (tick 53: a list's
/// entries), and the first one leaves it (tick 54: the second shifts down).
fn hero_story() -> Vec<HeroStep> {
    let mut hero = nodelink::Tracked::new(Hero::default());
    hero.update(|h| {
        h.x = 1.5;
        h.stats = Stats { hp: 100, mana: 50 };
    });
    {
        let mut state = hero.state_mut();
        let mut bag = state.bag();
        bag.insert("arrows".into(), 20).unwrap();
        bag.insert("bread".into(), 2).unwrap();
    }
    hero.state_mut()
        .pets()
        .insert(1, Stats { hp: 30, mana: 0 })
        .unwrap();
    hero.state_mut()
        .party()
        .push(Stats { hp: 40, mana: 10 })
        .unwrap();
    hero.take_changes();
    let announced = HeroStep {
        name: "hero-joined",
        tick: 50,
        joined: true,
        hero: hero.get().clone(),
        changes: None,
    };

    hero.state_mut().stats().set_hp(97);
    let hit = HeroStep {
        name: "hero-nested",
        tick: 51,
        joined: false,
        hero: hero.get().clone(),
        changes: Some(hero.take_changes()),
    };

    {
        let mut state = hero.state_mut();
        let mut bag = state.bag();
        bag.remove(&"bread".to_owned());
        bag.insert("arrows".into(), 19).unwrap();
    }
    {
        let mut state = hero.state_mut();
        let mut pets = state.pets();
        pets.get_mut(&1).unwrap().set_mana(5);
        pets.insert(2, Stats { hp: 10, mana: 0 }).unwrap();
    }
    let maps = HeroStep {
        name: "hero-maps",
        tick: 52,
        joined: false,
        hero: hero.get().clone(),
        changes: Some(hero.take_changes()),
    };

    {
        let mut state = hero.state_mut();
        let mut party = state.party();
        party.get_mut(0).unwrap().set_mana(5);
        party.push(Stats { hp: 20, mana: 20 }).unwrap();
    }
    let list = HeroStep {
        name: "hero-list",
        tick: 53,
        joined: false,
        hero: hero.get().clone(),
        changes: Some(hero.take_changes()),
    };

    hero.state_mut().party().remove(0);
    let shifted = HeroStep {
        name: "hero-list-shift",
        tick: 54,
        joined: false,
        hero: hero.get().clone(),
        changes: Some(hero.take_changes()),
    };
    vec![announced, hit, maps, list, shifted]
}

/// One frame of `ada`'s fighter in the `Duel` protocol, as [`HeroStep`].
struct LogStep {
    name: &'static str,
    tick: u64,
    joined: bool,
    fighter: Fighter,
    changes: Option<<Fighter as nodelink::SyncState>::Changes>,
}

impl LogStep {
    fn selection(&self) -> Selection<'_, <Fighter as nodelink::SyncState>::Changes> {
        self.changes
            .as_ref()
            .map_or(Selection::All, Selection::Changed)
    }
}

/// `ada`'s last three hits: announced with two (tick 70), then she takes two more
/// (tick 71): the oldest is dropped, and the frame carries the two new ones.
fn log_story() -> Vec<LogStep> {
    let mut fighter = nodelink::Tracked::new(Fighter::default());
    fighter.state_mut().hits().push_back(12);
    fighter.state_mut().hits().push_back(7);
    fighter.take_changes();
    let announced = LogStep {
        name: "log-joined",
        tick: 70,
        joined: true,
        fighter: fighter.get().clone(),
        changes: None,
    };
    fighter.state_mut().hits().push_back(30);
    assert_eq!(fighter.state_mut().hits().push_back(9), Some(12));
    let pushed = LogStep {
        name: "log-push",
        tick: 71,
        joined: false,
        fighter: fighter.get().clone(),
        changes: Some(fighter.take_changes()),
    };
    vec![announced, pushed]
}

#[test]
fn protocol_md_frames_match_the_encoders() {
    let doc = protocol_md();
    let mut wrong = Vec::new();
    for (name, bytes) in frames() {
        let actual = hex(&bytes);
        match block_after(&doc, &format!("<!-- frame: {name} -->"), "hex").map(hex_of) {
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

fn frame<P: Protocol>(name: &str) -> nodelink::wire::SyncFrame<P> {
    let (_, bytes) = frames()
        .into_iter()
        .find(|(known, _)| *known == name)
        .expect("a frame of the story");
    match nodelink::wire::decode_server_frame::<P>(&bytes, usize::MAX) {
        Ok(nodelink::wire::ServerFrame::Sync(frame)) => frame,
        other => panic!("{name} is a sync frame: {other:?}"),
    }
}

#[test]
fn the_example_frames_tell_the_story_the_text_tells() {
    use nodelink::client::World;
    // The snapshot in one frame, applied by the reference client.
    let mut world = World::<Game>::default();
    world.apply(frame("sync-snapshot"));
    assert!(world.is_complete());
    assert_eq!(world.len(), 2);
    assert_eq!(world.get(BOB), Some(&Avatar::default()), "not named yet");
    assert_eq!(world.server_state().leader, Some(ADA));

    // The same snapshot in two frames: complete after the second only, the same.
    let mut split = World::<Game>::default();
    split.apply(frame("sync-snapshot-first"));
    assert!(!split.is_complete(), "`more`: the snapshot goes on");
    split.apply(frame("sync-snapshot-last"));
    assert!(split.is_complete());
    assert_eq!(split.as_map(), world.as_map());
    assert_eq!(split.server_state(), world.server_state());

    // cy, in the same tick: bob's frame, shared, then cy's own.
    let mut later = World::<Game>::default();
    later.apply(frame("sync-snapshot-shared"));
    assert!(!later.is_complete(), "a frame of cy's own follows");
    later.apply(frame("sync-snapshot-own"));
    assert!(later.is_complete());
    assert_eq!(later.len(), 3);
    assert_eq!(later.get(CY), Some(&Avatar::default()));
    assert_eq!(later.online(), 3);
    assert_eq!(later.server_state(), world.server_state());

    // Tick 42 announces bob again, with his whole state, now named.
    world.apply(frame("sync-joined"));
    assert_eq!(world.get(BOB).map(|b| b.name.as_str()), Some("bob"));
    world.apply(frame("sync-delta"));
    assert_eq!(world.get(ADA).map(|a| a.x), Some(2.0));
    world.apply(frame("sync-server"));
    assert_eq!(world.server_state().round, 2);
    assert_eq!(world.server_state().leader, None);
    world.apply(frame("sync-left"));
    assert_eq!(world.len(), 1, "ada left");
    assert_eq!(world.online(), 1);
    assert_eq!(world.tick(), Tick(45));
}

#[test]
fn the_hero_frames_rebuild_her_state_part_by_part() {
    use nodelink::client::World;
    let story = hero_story();
    let mut world = World::<Quest>::default();
    for step in &story {
        world.apply(frame(step.name));
        assert_eq!(world.get(ADA), Some(&step.hero), "after {}", step.name);
    }
    let hero = world.get(ADA).expect("ada");
    assert_eq!(hero.stats, Stats { hp: 97, mana: 50 });
    assert_eq!(
        hero.bag.iter().collect::<Vec<_>>(),
        [(&"arrows".into(), &19)]
    );
    assert_eq!(hero.pets[&1], Stats { hp: 30, mana: 5 });
    assert_eq!(hero.pets[&2], Stats { hp: 10, mana: 0 });
    assert_eq!(hero.party[..], [Stats { hp: 20, mana: 20 }]);
}

#[test]
fn the_log_frames_rebuild_the_last_hits() {
    use nodelink::client::World;
    let mut world = World::<Duel>::default();
    for step in log_story() {
        world.apply(frame(step.name));
        assert_eq!(world.get(ADA), Some(&step.fighter), "after {}", step.name);
    }
    let hits = &world.get(ADA).expect("ada").hits;
    assert_eq!(hits.iter().copied().collect::<Vec<_>>(), [7, 30, 9]);
    assert_eq!(hits.capacity(), 3);
}

#[test]
fn the_crate_frames_spawn_move_and_despawn_them() {
    use nodelink::client::World;
    let mut world = World::<Depot>::default();
    // `ada` and `bob`, as in the example story's snapshot (the same bytes: a frame
    // without entity changes has eight elements in either protocol).
    world.apply(frame("sync-snapshot"));
    let mut reported = Vec::new();
    for step in crate_story() {
        let sync = world.apply(frame(step.name));
        let mirrored: BTreeMap<EntityId, Crate> = world
            .entities()
            .map(|(id, state)| (id, state.clone()))
            .collect();
        assert_eq!(mirrored, step.after, "after {}", step.name);
        reported.push((sync.spawned, sync.despawned));
    }
    assert_eq!(
        world.get(ADA).map(|a| a.x),
        Some(2.0),
        "ada moved at tick 61"
    );
    assert_eq!(
        reported,
        [
            (vec![CRATE_0, CRATE_1], vec![]),
            (vec![], vec![]),
            (vec![], vec![CRATE_0]),
        ]
    );
    // A `full` frame forgets every entity first.
    world.apply(frame("sync-snapshot"));
    assert_eq!(world.entity_count(), 0);
}

#[test]
fn the_split_snapshot_gives_the_whole_world_once_its_last_frame_is_applied() {
    use nodelink::client::World;
    let world = split_snapshot();
    let mut mirror = World::<Depot>::default();
    // Whatever the client held before, a `full` frame starts over.
    mirror.apply(frame("crates-spawned"));
    mirror.apply(frame("crates-snapshot-first"));
    assert!(!mirror.is_complete(), "`more`: the snapshot goes on");
    assert_eq!(mirror.entity_count(), 1, "the first frame's crate alone");
    mirror.apply(frame("crates-snapshot-last"));
    assert!(mirror.is_complete());
    for (id, state) in &world.players {
        assert_eq!(mirror.get(*id), Some(state));
    }
    assert_eq!(mirror.server_state(), &world.server);
    let crates: Vec<(EntityId, Crate)> = mirror
        .entities()
        .map(|(id, state)| (id, state.clone()))
        .collect();
    assert_eq!(crates, world.crates);
}

#[test]
fn the_owner_frame_completes_the_snapshot() {
    use nodelink::client::World;
    let mut world = World::<Market>::default();
    world.apply(frame("owner-snapshot"));
    assert!(!world.is_complete(), "`more`: the owner's frame follows");
    assert_eq!(world.get(ADA), Some(&Trader { x: 1.5, gold: 0 }));
    world.apply(frame("owner-own"));
    assert!(world.is_complete());
    assert_eq!(world.get(ADA), Some(&Trader { x: 1.5, gold: 250 }));
    assert_eq!(
        world.get(BOB),
        Some(&Trader { x: 3.0, gold: 0 }),
        "bob's gold is his alone"
    );
}

fn json_header(millis: u64) -> json::SyncHeader {
    json::SyncHeader {
        time: std::time::UNIX_EPOCH + std::time::Duration::from_millis(millis),
        online: 1,
        full: false,
        more: false,
    }
}

/// The hero's and the crates' frames on the JSON wire.
fn json_frames() -> Vec<(&'static str, String)> {
    let heroes = hero_story().into_iter().map(|step| {
        let header = json_header(1_732_000_002_500 + (step.tick - 50) * 50);
        let players = [(ADA, &step.hero, step.selection())];
        let text = json::encode_sync::<Quest, _>(header, &[], players, None).unwrap();
        (step.name, text)
    });
    let logs = log_story().into_iter().map(|step| {
        let header = json_header(1_732_000_002_800 + (step.tick - 70) * 50);
        let players = [(ADA, &step.fighter, step.selection())];
        let text = json::encode_sync::<Duel, _>(header, &[], players, None).unwrap();
        (step.name, text)
    });
    let world = split_snapshot();
    let split = [true, false].map(|first| {
        let header = json::SyncHeader {
            online: 2,
            full: first,
            more: first,
            ..json_header(1_732_000_003_050)
        };
        let players: Vec<_> = if first {
            world
                .players
                .iter()
                .map(|(id, state)| (*id, state, Selection::All))
                .collect()
        } else {
            Vec::new()
        };
        let server = first.then_some((&world.server, Selection::All));
        let (id, state) = &world.crates[usize::from(!first)];
        let text = json::encode_sync_with_entities::<Depot, _, _>(
            header,
            &[],
            players,
            server,
            &[],
            [(*id, state, Selection::All)],
        )
        .unwrap();
        let name = if first {
            "crates-snapshot-first"
        } else {
            "crates-snapshot-last"
        };
        (name, text)
    });
    let crates = crate_story().into_iter().map(|step| {
        let header = json::SyncHeader {
            online: 2,
            ..json_header(1_732_000_003_000 + (step.tick - 60) * 50)
        };
        let players: Vec<_> = step
            .ada
            .as_ref()
            .map(|ada| {
                (
                    ADA,
                    ada,
                    Selection::Fields(nodelink::FieldMask::from_bits(0b001)),
                )
            })
            .into_iter()
            .collect();
        let text = json::encode_sync_with_entities::<Depot, _, _>(
            header,
            &[],
            players,
            None,
            &step.despawned,
            step.entities(),
        )
        .unwrap();
        (step.name, text)
    });
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_732_000_000_250);
    let others = [
        (
            "welcome",
            json::encode_welcome(PlayerId::from_raw(0x00c0_ffee), 20, &without_sessions()),
        ),
        (
            "event-move",
            json::encode_event(&ToServer::Move { x: 1.5, y: -2.0 }).unwrap(),
        ),
        (
            "event-chat",
            json::encode_event(&ToClient::Chat {
                from: ADA,
                msg: "hi".into(),
            })
            .unwrap(),
        ),
        ("ping", json::encode_ping(7, 1830, time)),
    ];
    others
        .into_iter()
        .chain(heroes)
        .chain(logs)
        .chain(crates)
        .chain(split)
        .collect()
}

#[test]
fn protocol_md_json_frames_match_the_encoder() {
    let doc = protocol_md();
    let mut wrong = Vec::new();
    for (name, text) in json_frames() {
        let actual: Value = serde_json::from_str(&text).unwrap();
        // Compared as JSON: the document may break a frame over lines.
        match block_after(&doc, &format!("<!-- json: {name} -->"), "json")
            .map(serde_json::from_str::<Value>)
        {
            Some(Ok(documented)) if documented == actual => {}
            Some(documented) => wrong.push(format!(
                "{name}: PROTOCOL.md has\n  {documented:?}\nthe encoder writes\n  {text}"
            )),
            None => wrong.push(format!(
                "{name}: no `<!-- json: {name} -->` block; the encoder writes\n  {text}"
            )),
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

/// PROTOCOL.md's rules for applying a JSON sync frame's player entry, transcribed
/// over the schema: nested objects merge deeply, a `sync_map` applies
/// `[replace, removed, entries]`, a `sync_vec` `[len, entries]`, anything else is
/// replaced. A map's mirror is an object keyed by each key's JSON text.
mod json_mirror {
    use serde_json::{Map, Value};

    fn state_fields<'s>(schema: &'s Value, ty: &Value) -> Option<&'s Vec<Value>> {
        let name = ty.get("ref")?.as_str()?;
        schema["types"][name]["state"]["fields"].as_array()
    }

    pub(crate) fn merge(
        schema: &Value,
        fields: &[Value],
        mirror: &mut Map<String, Value>,
        delta: &Value,
    ) {
        for (name, value) in delta.as_object().expect("an object of fields") {
            let field = fields
                .iter()
                .find(|field| field["name"] == name.as_str())
                .expect("a field of the state");
            apply(
                schema,
                &field["type"],
                mirror.entry(name.clone()).or_insert(Value::Null),
                value,
            );
        }
    }

    fn apply(schema: &Value, ty: &Value, mirror: &mut Value, delta: &Value) {
        if let Some(fields) = state_fields(schema, ty) {
            if !mirror.is_object() {
                *mirror = Value::Object(Map::new());
            }
            merge(schema, fields, mirror.as_object_mut().unwrap(), delta);
        } else if let Some(types) = ty.get("sync_map") {
            let [replace, removed, entries] = delta.as_array().unwrap().as_slice() else {
                panic!("[replace, removed, entries]: {delta}");
            };
            if !mirror.is_object() || replace == &Value::Bool(true) {
                *mirror = Value::Object(Map::new());
            }
            let map = mirror.as_object_mut().unwrap();
            for key in removed.as_array().unwrap() {
                map.remove(&key.to_string());
            }
            for entry in entries.as_array().unwrap() {
                let slot = map.entry(entry[0].to_string()).or_insert(Value::Null);
                apply(schema, &types[1], slot, &entry[1]);
            }
        } else if let Some(item) = ty.get("sync_deque") {
            let [capacity, drop, entries] = delta.as_array().unwrap().as_slice() else {
                panic!("[capacity, drop, entries]: {delta}");
            };
            if !mirror.is_array() || drop.is_null() {
                *mirror = Value::Array(Vec::new());
            }
            let log = mirror.as_array_mut().unwrap();
            let drop = usize::try_from(drop.as_u64().unwrap_or(0)).unwrap();
            log.drain(..drop.min(log.len()));
            for entry in entries.as_array().unwrap() {
                let mut value = Value::Null;
                apply(schema, item, &mut value, entry);
                log.push(value);
            }
            let capacity = usize::try_from(capacity.as_u64().unwrap()).unwrap();
            let excess = log.len().saturating_sub(capacity);
            log.drain(..excess);
        } else if let Some(item) = ty.get("sync_vec") {
            let [len, entries] = delta.as_array().unwrap().as_slice() else {
                panic!("[len, entries]: {delta}");
            };
            if !mirror.is_array() {
                *mirror = Value::Array(Vec::new());
            }
            let list = mirror.as_array_mut().unwrap();
            list.resize(usize::try_from(len.as_u64().unwrap()).unwrap(), Value::Null);
            for entry in entries.as_array().unwrap() {
                let index = usize::try_from(entry[0].as_u64().unwrap()).unwrap();
                apply(schema, item, &mut list[index], &entry[1]);
            }
        } else {
            *mirror = delta.clone();
        }
    }
}

#[test]
fn the_documented_json_rules_rebuild_the_hero() {
    let schema: Value = serde_json::from_str(&Quest::schema().to_json()).unwrap();
    let fields = schema["state"]["fields"].as_array().unwrap();
    let id = ADA.to_string();
    let mut mirror = serde_json::Map::new();
    for (name, text) in json_frames() {
        if !name.starts_with("hero-") {
            continue;
        }
        let frame: Value = serde_json::from_str(&text).unwrap();
        json_mirror::merge(&schema, fields, &mut mirror, &frame["data"]["players"][&id]);
    }
    assert_eq!(
        Value::Object(mirror),
        serde_json::json!({
            "x": 1.5,
            "stats": {"hp": 97, "mana": 50},
            "bag": {"\"arrows\"": 19},
            "pets": {"1": {"hp": 30, "mana": 5}, "2": {"hp": 10, "mana": 0}},
            "party": [{"hp": 20, "mana": 20}],
        })
    );
}

#[test]
fn the_documented_json_rules_rebuild_the_last_hits() {
    let schema: Value = serde_json::from_str(&Duel::schema().to_json()).unwrap();
    let fields = schema["state"]["fields"].as_array().unwrap();
    let id = ADA.to_string();
    let mut mirror = serde_json::Map::new();
    for (name, text) in json_frames() {
        if !name.starts_with("log-") {
            continue;
        }
        let frame: Value = serde_json::from_str(&text).unwrap();
        json_mirror::merge(&schema, fields, &mut mirror, &frame["data"]["players"][&id]);
    }
    assert_eq!(
        Value::Object(mirror),
        serde_json::json!({"hits": [7, 30, 9]})
    );
}

/// PROTOCOL.md's rules for a JSON frame's entities, transcribed: `full` forgets
/// every entity, `despawned` forgets those listed, then each entry of `entities` is
/// merged into its entity's mirror, an empty object for one not mirrored yet.
#[test]
fn the_documented_json_rules_rebuild_the_crates() {
    let schema: Value = serde_json::from_str(&Depot::schema().to_json()).unwrap();
    let fields = schema["entity"]["fields"].as_array().unwrap();
    let mut crates = serde_json::Map::new();
    let story = crate_story();
    for (name, text) in json_frames() {
        let Some(step) = story.iter().find(|step| step.name == name) else {
            continue;
        };
        let data = &serde_json::from_str::<Value>(&text).unwrap()["data"];
        if data.get("full") == Some(&Value::Bool(true)) {
            crates.clear();
        }
        for id in data
            .get("despawned")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            crates.remove(&id.to_string());
        }
        for (id, entry) in data
            .get("entities")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let mirror = crates
                .entry(id.clone())
                .or_insert_with(|| Value::Object(serde_json::Map::new()));
            json_mirror::merge(&schema, fields, mirror.as_object_mut().unwrap(), entry);
        }
        let expected: serde_json::Map<String, Value> = step
            .after
            .iter()
            .map(|(id, c)| {
                let state = serde_json::json!({"x": c.x, "y": c.y, "kind": c.kind});
                (id.to_string(), state)
            })
            .collect();
        assert_eq!(crates, expected, "after {name}");
    }
}

/// User types for the values table.
#[derive(Fingerprint, Serialize, Deserialize, Clone, Debug, PartialEq)]
struct Vec2 {
    x: f32,
    y: f32,
}

#[derive(Fingerprint, Serialize, Deserialize, Clone, Debug, PartialEq)]
struct Cell(u8, u8);

#[derive(Fingerprint, Serialize, Deserialize, Clone, Debug, PartialEq)]
struct Meters(f64);

#[derive(Fingerprint, Serialize, Deserialize, Clone, Debug, PartialEq)]
struct Marker;

#[derive(Fingerprint, Serialize, Deserialize, Clone, Debug, PartialEq)]
enum Shape {
    Empty,
    Dot(u8),
    Line(u8, u8),
    Circle { r: f32 },
}

/// A hand-written fingerprint: `{"opaque": …}` in the schema.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
struct Custom(u8);

impl Fingerprint for Custom {
    const FINGERPRINT: u64 = 0x0123_4567_89ab_cdef;
}

/// One variant per kind of value: each example goes through the real field codec.
#[nodelink::events]
#[derive(Debug, Clone, PartialEq)]
enum Values {
    Bool(bool),
    U8(u8),
    U16(u16),
    U32(u32),
    U64(u64),
    Usize(usize),
    I8(i8),
    I16(i16),
    I32(i32),
    I64(i64),
    U128(u128),
    I128(i128),
    F32(f32),
    F64(f64),
    Char(char),
    Str(String),
    Unit(()),
    Player(PlayerId),
    Entity(EntityId),
    Option(Option<u8>),
    Seq(Vec<u16>),
    Array([f32; 2]),
    Tuple((u8, String)),
    Map(BTreeMap<String, u8>),
    Struct(Vec2),
    TupleStruct(Cell),
    Newtype(Meters),
    UnitStruct(Marker),
    Enum(Shape),
    Opaque(Custom),
}

/// The values table's examples, keyed by their text in the table's `example` column.
fn values() -> Vec<(&'static str, Values)> {
    use Values as V;
    vec![
        ("true", V::Bool(true)),
        ("5u8", V::U8(5)),
        ("200u8", V::U8(200)),
        ("300u16", V::U16(300)),
        ("70000u32", V::U32(70_000)),
        ("5000000000u64", V::U64(5_000_000_000)),
        ("7usize", V::Usize(7)),
        ("-1i8", V::I8(-1)),
        ("-100i8", V::I8(-100)),
        ("-200i16", V::I16(-200)),
        ("200i32", V::I32(200)),
        ("-5000000000i64", V::I64(-5_000_000_000)),
        ("1u128", V::U128(1)),
        ("-2i128", V::I128(-2)),
        ("1.5f32", V::F32(1.5)),
        ("0.1f64", V::F64(0.1)),
        ("'é'", V::Char('é')),
        ("\"hi\"", V::Str("hi".into())),
        ("()", V::Unit(())),
        ("PlayerId::from_raw(0x1a2b3c4d)", V::Player(ADA)),
        ("EntityId::from_raw(7)", V::Entity(EntityId::from_raw(7))),
        ("None::<u8>", V::Option(None)),
        ("Some(7u8)", V::Option(Some(7))),
        ("vec![1u16, 300]", V::Seq(vec![1, 300])),
        ("[0.5f32, 1.0]", V::Array([0.5, 1.0])),
        ("(1u8, \"a\")", V::Tuple((1, "a".into()))),
        (
            "BTreeMap::from([(\"a\", 1u8), (\"b\", 2)])",
            V::Map(BTreeMap::from([("a".into(), 1), ("b".into(), 2)])),
        ),
        (
            "Vec2 { x: 1.0, y: 2.0 }",
            V::Struct(Vec2 { x: 1.0, y: 2.0 }),
        ),
        ("Cell(3, 4)", V::TupleStruct(Cell(3, 4))),
        ("Meters(0.5)", V::Newtype(Meters(0.5))),
        ("Marker", V::UnitStruct(Marker)),
        ("Shape::Empty", V::Enum(Shape::Empty)),
        ("Shape::Dot(7)", V::Enum(Shape::Dot(7))),
        ("Shape::Line(1, 2)", V::Enum(Shape::Line(1, 2))),
        (
            "Shape::Circle { r: 1.0 }",
            V::Enum(Shape::Circle { r: 1.0 }),
        ),
    ]
}

/// The bytes of an event's one field: the frame minus `[1, name, `.
fn field_bytes(frame: &[u8]) -> &[u8] {
    assert_eq!(frame[..2], [0x93, 0x01], "a one-field event frame");
    let name_len = usize::from(frame[2] & 0x1f);
    &frame[3 + name_len..]
}

/// `(example, bytes)` for each row of the table between `<!-- values -->` and
/// `<!-- /values -->`: its last two cells, without backticks.
fn documented_values(doc: &str) -> Vec<(String, String)> {
    let start = doc.find("<!-- values -->").expect("a values table");
    let end = doc
        .find("<!-- /values -->")
        .expect("the end of the values table");
    doc[start..end]
        .lines()
        .filter(|line| line.starts_with('|'))
        .filter_map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            let [.., example, bytes] = cells[..] else {
                return None;
            };
            let example = example.trim_matches('`');
            let bytes = bytes.trim_matches('`');
            let is_hex = !bytes.is_empty()
                && bytes
                    .split_whitespace()
                    .all(|b| b.len() == 2 && b.chars().all(|c| c.is_ascii_hexdigit()));
            is_hex.then(|| (example.to_owned(), bytes.to_owned()))
        })
        .collect()
}

#[test]
fn protocol_md_values_match_the_codec() {
    let doc = protocol_md();
    let documented = documented_values(&doc);
    let mut wrong = Vec::new();
    for (example, value) in values() {
        let frame = encode_event(&value).unwrap();
        let actual = hex(field_bytes(&frame));
        // What the encoder writes, the decoder reads back.
        match decode_client_frame::<Values>(&frame, usize::MAX) {
            Ok(ClientFrame::Event(decoded)) if decoded == value => {}
            other => wrong.push(format!("{example}: decodes as {other:?}")),
        }
        match documented.iter().find(|(text, _)| text == example) {
            Some((_, bytes)) if *bytes == actual => {}
            Some((_, bytes)) => wrong.push(format!(
                "{example}: PROTOCOL.md has {bytes}, the codec writes {actual}"
            )),
            None => wrong.push(format!(
                "{example}: no row in the values table; the codec writes {actual}"
            )),
        }
    }
    let examples: Vec<&str> = values().iter().map(|(text, _)| *text).collect();
    for (text, _) in &documented {
        if !examples.contains(&text.as_str()) {
            wrong.push(format!("{text}: a row the test does not check"));
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

/// What the server's decoder accepts besides what the encoder writes, as the
/// `<!-- accepts -->` block lists it: each line a field value's bytes, then
/// `# type: value — why`. Each is decoded as the one field of an event.
#[test]
fn the_server_decoder_accepts_the_documented_alternatives() {
    let doc = protocol_md();
    let accepts = block_after(&doc, "<!-- accepts -->", "hex").expect("an accepts block");
    let cases: Vec<(String, String)> = accepts
        .lines()
        .filter_map(|line| line.split_once('#'))
        .map(|(bytes, comment)| {
            let label = comment.split(" — ").next().unwrap_or("").trim();
            (hex_of(bytes), label.to_owned())
        })
        .collect();
    let expected = [
        ("u8: 5", Values::U8(5)),
        ("i32: 100", Values::I32(100)),
        ("f32: 1.5", Values::F32(1.5)),
        ("f32: 2.0", Values::F32(2.0)),
        ("f64: -3.0", Values::F64(-3.0)),
        ("u128: 5", Values::U128(5)),
        ("unit struct: Marker", Values::UnitStruct(Marker)),
    ];
    let labels: Vec<&str> = cases.iter().map(|(_, label)| label.as_str()).collect();
    let wanted: Vec<&str> = expected.iter().map(|(label, _)| *label).collect();
    assert_eq!(labels, wanted, "the lines of the accepts block");
    for ((bytes, label), (_, value)) in cases.iter().zip(expected) {
        let frame = encode_event(&value).unwrap();
        let prefix = &frame[..frame.len() - field_bytes(&frame).len()];
        let mut raw = prefix.to_vec();
        raw.extend(
            bytes
                .split_whitespace()
                .map(|b| u8::from_str_radix(b, 16).unwrap()),
        );
        assert_eq!(
            decode_client_frame::<Values>(&raw, usize::MAX).unwrap(),
            ClientFrame::Event(value),
            "{label}: {bytes}"
        );
    }
}

#[test]
fn protocol_md_schema_is_the_example_protocols() {
    let doc = protocol_md();
    let block = block_after(&doc, "<!-- schema: example -->", "json").expect("a schema block");
    let documented: Value = serde_json::from_str(block).expect("the block is JSON");
    let actual: Value = serde_json::from_str(&Game::schema().to_json()).unwrap();
    assert_eq!(
        documented,
        actual,
        "PROTOCOL.md's schema differs from the example protocol's:\n{}",
        Game::schema().to_json_pretty()
    );
    // Pretty-printed exactly as `cargo run --example schema` prints it.
    assert_eq!(block.trim_end(), Game::schema().to_json_pretty());
}

/// The other `<!-- schema: NAME -->` blocks show some of the keys of other
/// protocols' schemas (the `Quest` protocol's player state and user types, the
/// `Depot` protocol's entity state, the `Market` protocol's player state with its
/// owner field); each is the real one.
#[test]
fn protocol_md_partial_schemas_are_the_protocols() {
    let doc = protocol_md();
    for (name, schema, keys) in [
        ("quest", Quest::schema(), &["state", "types"][..]),
        ("depot", Depot::schema(), &["entity"][..]),
        ("market", Market::schema(), &["state"][..]),
        ("bestiary", Bestiary::schema(), &["entity"][..]),
    ] {
        let marker = format!("<!-- schema: {name} -->");
        let block = block_after(&doc, &marker, "json").expect("a schema block");
        let documented: Value = serde_json::from_str(block).expect("the block is JSON");
        let actual: Value = serde_json::from_str(&schema.to_json()).unwrap();
        let shown = documented.as_object().expect("an object");
        assert!(keys.iter().all(|key| shown.contains_key(*key)), "{name}");
        for (key, value) in shown {
            assert_eq!(
                *value,
                actual[key],
                "PROTOCOL.md's `{key}` of the {name} schema differs:\n{}",
                schema.to_json_pretty()
            );
        }
    }
    // A protocol without entities has no `entity` key.
    let example: Value = serde_json::from_str(&Game::schema().to_json()).unwrap();
    assert!(example.get("entity").is_none());
}

/// PROTOCOL.md's fingerprint rules, transcribed over the schema's JSON.
mod transcription {
    use serde_json::Value;

    /// 64-bit FNV-1a.
    #[derive(Clone, Copy)]
    pub(crate) struct H(pub(crate) u64);

    impl H {
        pub(crate) fn new() -> Self {
            Self(0xcbf2_9ce4_8422_2325)
        }

        fn byte(self, byte: u8) -> Self {
            Self((self.0 ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3))
        }

        pub(crate) fn u64(self, value: u64) -> Self {
            value.to_le_bytes().into_iter().fold(self, Self::byte)
        }

        pub(crate) fn str(self, value: &str) -> Self {
            value.bytes().fold(self.u64(value.len() as u64), Self::byte)
        }
    }

    fn array(value: &Value) -> &Vec<Value> {
        value.as_array().expect("an array")
    }

    fn text(value: &Value) -> &str {
        value.as_str().expect("a string")
    }

    pub(crate) fn ty(schema: &Value, ty: &Value) -> u64 {
        if let Some(primitive) = ty.as_str() {
            return H::new().str(primitive).0;
        }
        let (key, arg) = ty.as_object().unwrap().iter().next().unwrap();
        match key.as_str() {
            "option" | "seq" | "sync_vec" | "sync_deque" => {
                H::new().str(key).u64(self::ty(schema, arg)).0
            }
            "map" | "sync_map" => {
                H::new()
                    .str(key)
                    .u64(self::ty(schema, &arg[0]))
                    .u64(self::ty(schema, &arg[1]))
                    .0
            }
            "array" => {
                H::new()
                    .str("array")
                    .u64(arg[1].as_u64().unwrap())
                    .u64(self::ty(schema, &arg[0]))
                    .0
            }
            "tuple" => {
                array(arg)
                    .iter()
                    .fold(H::new().str("tuple"), |h, item| {
                        h.u64(self::ty(schema, item))
                    })
                    .0
            }
            "ref" => match schema["types"].get(text(arg)) {
                Some(def) => {
                    if let Some(body) = def.get("struct") {
                        fields(
                            schema,
                            H::new().str("struct"),
                            text(&body["kind"]),
                            array(&body["fields"]),
                        )
                        .0
                    } else if let Some(body) = def.get("state") {
                        state(schema, body)
                    } else {
                        let list = array(&def["enum"]);
                        variants(schema, H::new().str("enum").u64(list.len() as u64), list).0
                    }
                }
                None => 0,
            },
            "opaque" => u64::from_str_radix(text(arg), 16).unwrap(),
            other => panic!("no type {other}"),
        }
    }

    pub(crate) fn fields(schema: &Value, h: H, kind: &str, list: &[Value]) -> H {
        let h = list.iter().fold(h.str(kind), |h, field| {
            h.str(text(&field["name"])).u64(ty(schema, &field["type"]))
        });
        h.u64(list.len() as u64)
    }

    pub(crate) fn variants(schema: &Value, h: H, list: &[Value]) -> H {
        list.iter().fold(h, |h, variant| {
            fields(
                schema,
                h.str(text(&variant["name"])),
                text(&variant["kind"]),
                array(&variant["fields"]),
            )
        })
    }

    pub(crate) fn state(schema: &Value, state: &Value) -> u64 {
        if state.is_null() {
            return H::new().str("unit").0;
        }
        let synced: Vec<Value> = array(&state["fields"])
            .iter()
            .filter(|field| field.get("type").is_some())
            .cloned()
            .collect();
        // An enum of kinds hashes as its kinds, marked `kinds`.
        let marker = if state["one_of"] == true {
            "kinds"
        } else {
            "state"
        };
        fields(schema, H::new().str(marker), "named", &synced).0
    }

    pub(crate) fn events(schema: &Value, events: &Value) -> u64 {
        let list = array(&events["events"]);
        variants(schema, H::new().str("events").u64(list.len() as u64), list).0
    }

    pub(crate) fn protocol(schema: &Value) -> u64 {
        let h = H::new()
            .str("nodelink")
            .u64(schema["wire_version"].as_u64().unwrap())
            .u64(state(schema, &schema["state"]))
            .u64(events(schema, &schema["to_server"]))
            .u64(events(schema, &schema["to_client"]))
            .u64(state(schema, &schema["server_state"]));
        let h = match schema.get("entity") {
            Some(entity) => h.u64(state(schema, entity)),
            None => h,
        };
        let h = match schema.get("options") {
            Some(options) => h.str("options").u64(ty(schema, options)),
            None => h,
        };
        match schema.get("metadata") {
            Some(metadata) => h.str("metadata").u64(ty(schema, metadata)).0,
            None => h.0,
        }
    }
}

/// A protocol that uses every kind of type, states with a server-only field and
/// owner fields, nested states (in a state, in a map, in a list, in each other, in
/// the entity), maps synced per entry, lists synced per index, and entities.
mod rich {
    use super::{Values, Vec2};
    use nodelink::sync::{SyncMap, SyncVec};
    use nodelink::{EntityId, PlayerId, SyncState};

    #[derive(SyncState, Clone, Debug, Default, PartialEq)]
    pub(crate) struct Loadout {
        pub(crate) weapon: String,
        #[sync(skip)]
        pub(crate) cooldown: u32,
        pub(crate) ammo: SyncMap<u8, Vec<u16>>,
        pub(crate) stats: super::Stats,
    }

    #[derive(SyncState, Clone, Debug, Default, PartialEq)]
    pub(crate) struct Unit {
        pub(crate) hp: u16,
        #[sync(skip)]
        pub(crate) secret: u64,
        pub(crate) route: Vec<Vec2>,
        pub(crate) target: Option<PlayerId>,
        pub(crate) loadout: Loadout,
        pub(crate) squads: SyncMap<String, Loadout, 16>,
        pub(crate) marks: SyncMap<PlayerId, u8>,
        pub(crate) routes: SyncVec<Vec<Vec2>>,
        pub(crate) reserves: SyncVec<SyncMap<u8, Loadout>, 4>,
        #[sync(owner)]
        pub(crate) purse: u32,
    }

    #[derive(SyncState, Clone, Debug, Default, PartialEq)]
    pub(crate) struct Drone {
        pub(crate) hp: u16,
        #[sync(owner)]
        pub(crate) fuel: u32,
        #[sync(skip)]
        pub(crate) memo: u8,
        pub(crate) loadout: Loadout,
        pub(crate) target: Option<EntityId>,
        pub(crate) cargo: SyncMap<EntityId, u8>,
    }

    #[nodelink::protocol(state = Unit, to_server = Values, to_client = super::ToClient, entity = Drone)]
    pub(crate) struct Rich;
}

#[test]
fn the_documented_fingerprint_rules_give_the_fingerprint() {
    for (schema, fingerprint) in [
        (Game::schema(), Game::FINGERPRINT),
        (NoServerState::schema(), NoServerState::FINGERPRINT),
        (rich::Rich::schema(), rich::Rich::FINGERPRINT),
        (Quest::schema(), Quest::FINGERPRINT),
        (Depot::schema(), Depot::FINGERPRINT),
        (Market::schema(), Market::FINGERPRINT),
        (Bestiary::schema(), Bestiary::FINGERPRINT),
    ] {
        let json: Value = serde_json::from_str(&schema.to_json()).unwrap();
        assert_eq!(transcription::protocol(&json), fingerprint, "{schema}");
    }
    // The rich protocol does have entities, with owner and server-only fields.
    let rich: Value = serde_json::from_str(&rich::Rich::schema().to_json()).unwrap();
    assert_eq!(rich["entity"]["name"], "Drone");
    assert_eq!(rich["entity"]["fields"][1]["owner"], true);
    assert_eq!(rich["entity"]["fields"][2]["skip"], true);
    assert!(rich["state"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .any(|field| field["owner"] == true));
    // The owner mark is not hashed: the same states without it hash alike.
    assert_eq!(Market::FINGERPRINT, Plain::FINGERPRINT);
    // The rich protocol does use nested states and maps synced per entry.
    let rich = rich::Rich::schema().to_json();
    assert!(
        rich.contains(r#"{"sync_map":["str",{"ref":"Loadout"}]}"#),
        "{rich}"
    );
    assert!(rich.contains(r#""Loadout":{"state":{"fields":"#), "{rich}");
    assert!(
        rich.contains(r#"{"sync_vec":{"sync_map":["u8",{"ref":"Loadout"}]}}"#),
        "{rich}"
    );
    assert!(rich.contains(r#"{"ref":"Stats"}"#), "{rich}");
}

#[test]
fn protocol_md_fingerprint_steps_are_right() {
    use transcription::{events, state, ty, H};
    let doc = protocol_md();
    let block =
        block_after(&doc, "<!-- fingerprint: example -->", "text").expect("a fingerprint block");
    let schema: Value = serde_json::from_str(&Game::schema().to_json()).unwrap();
    let json = |text: &str| -> Value { serde_json::from_str(text).unwrap() };
    let steps: Vec<(&str, u64)> = vec![
        ("H()", H::new().0),
        ("H().u64(3)", H::new().u64(3).0),
        ("H().str(\"f32\")", H::new().str("f32").0),
        ("type(\"f32\")", ty(&schema, &json("\"f32\""))),
        ("type(\"str\")", ty(&schema, &json("\"str\""))),
        ("type(\"u32\")", ty(&schema, &json("\"u32\""))),
        ("type(\"player_id\")", ty(&schema, &json("\"player_id\""))),
        (
            "type({\"option\": \"player_id\"})",
            ty(&schema, &json("{\"option\": \"player_id\"}")),
        ),
        ("state(state)", state(&schema, &schema["state"])),
        ("events(to_server)", events(&schema, &schema["to_server"])),
        ("events(to_client)", events(&schema, &schema["to_client"])),
        (
            "state(server_state)",
            state(&schema, &schema["server_state"]),
        ),
        ("state(null)", state(&schema, &Value::Null)),
        (
            "type({\"ref\": \"Table\"})",
            ty(&schema, &json("{\"ref\": \"Table\"}")),
        ),
        ("fingerprint", Game::FINGERPRINT),
    ];
    // Independently of the transcription: the library's own hasher and schema.
    assert_eq!(
        FingerprintHasher::new().str("f32").finish(),
        f32::FINGERPRINT
    );
    assert_eq!(Game::schema().fingerprint(), Game::FINGERPRINT);
    assert_eq!(transcription::protocol(&schema), Game::FINGERPRINT);
    let wrong = check_steps(block, &steps);
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

/// The `<!-- fingerprint: quest -->` block: the rules for nested states, maps
/// synced per entry and lists synced per index, on the `Quest` protocol (the example's events and server
/// state, so the steps above give the rest).
#[test]
fn protocol_md_fingerprint_steps_of_nested_states_and_maps_are_right() {
    use transcription::{state, ty, H};
    let doc = protocol_md();
    let block =
        block_after(&doc, "<!-- fingerprint: quest -->", "text").expect("a fingerprint block");
    let schema: Value = serde_json::from_str(&Quest::schema().to_json()).unwrap();
    let json = |text: &str| -> Value { serde_json::from_str(text).unwrap() };
    let steps: Vec<(&str, u64)> = vec![
        ("type(\"u16\")", ty(&schema, &json("\"u16\""))),
        ("type(\"u8\")", ty(&schema, &json("\"u8\""))),
        (
            "type({\"ref\": \"Stats\"})",
            ty(&schema, &json("{\"ref\": \"Stats\"}")),
        ),
        (
            "type({\"sync_map\": [\"str\", \"u16\"]})",
            ty(&schema, &json("{\"sync_map\": [\"str\", \"u16\"]}")),
        ),
        (
            "type({\"sync_map\": [\"u8\", {\"ref\": \"Stats\"}]})",
            ty(
                &schema,
                &json("{\"sync_map\": [\"u8\", {\"ref\": \"Stats\"}]}"),
            ),
        ),
        (
            "type({\"sync_vec\": {\"ref\": \"Stats\"}})",
            ty(&schema, &json("{\"sync_vec\": {\"ref\": \"Stats\"}}")),
        ),
        ("state(state)", state(&schema, &schema["state"])),
        (
            "fingerprint",
            H::new()
                .str("nodelink")
                .u64(nodelink::wire::WIRE_VERSION)
                .u64(state(&schema, &schema["state"]))
                .u64(transcription::events(&schema, &schema["to_server"]))
                .u64(transcription::events(&schema, &schema["to_client"]))
                .u64(state(&schema, &schema["server_state"]))
                .0,
        ),
    ];
    // The library's own values: a nested state hashes as a state, a map as the rule.
    assert_eq!(
        ty(&schema, &json("{\"ref\": \"Stats\"}")),
        <Stats as Fingerprint>::FINGERPRINT
    );
    assert_eq!(
        ty(&schema, &json("{\"sync_map\": [\"str\", \"u16\"]}")),
        <nodelink::sync::SyncMap<String, u16> as Fingerprint>::FINGERPRINT
    );
    assert_eq!(
        ty(&schema, &json("{\"sync_vec\": {\"ref\": \"Stats\"}}")),
        <nodelink::sync::SyncVec<Stats> as Fingerprint>::FINGERPRINT
    );
    assert_eq!(steps.last().unwrap().1, Quest::FINGERPRINT);
    assert_eq!(Quest::schema().fingerprint(), Quest::FINGERPRINT);
    let wrong = check_steps(block, &steps);
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

/// `Market` without its owner mark.
#[nodelink::protocol(state = plain::Trader, to_server = ToServer, to_client = ToClient)]
struct Plain;

mod plain {
    use nodelink::SyncState;

    #[derive(SyncState, Clone, Debug, Default, PartialEq)]
    pub(crate) struct Trader {
        pub(crate) x: f32,
        pub(crate) gold: u32,
    }
}

/// The `<!-- fingerprint: depot -->` block: a protocol with entities hashes its
/// entity state last (the example's events and server state give the rest).
#[test]
fn protocol_md_fingerprint_steps_of_entities_are_right() {
    use transcription::{state, ty, H};
    let doc = protocol_md();
    let block =
        block_after(&doc, "<!-- fingerprint: depot -->", "text").expect("a fingerprint block");
    let schema: Value = serde_json::from_str(&Depot::schema().to_json()).unwrap();
    let json = |text: &str| -> Value { serde_json::from_str(text).unwrap() };
    let steps: Vec<(&str, u64)> = vec![
        ("type(\"u8\")", ty(&schema, &json("\"u8\""))),
        ("type(\"entity_id\")", ty(&schema, &json("\"entity_id\""))),
        ("state(entity)", state(&schema, &schema["entity"])),
        (
            "fingerprint",
            H::new()
                .str("nodelink")
                .u64(nodelink::wire::WIRE_VERSION)
                .u64(state(&schema, &schema["state"]))
                .u64(transcription::events(&schema, &schema["to_server"]))
                .u64(transcription::events(&schema, &schema["to_client"]))
                .u64(state(&schema, &schema["server_state"]))
                .u64(state(&schema, &schema["entity"]))
                .0,
        ),
    ];
    // The library's own values.
    assert_eq!(ty(&schema, &json("\"entity_id\"")), EntityId::FINGERPRINT);
    assert_eq!(
        state(&schema, &schema["entity"]),
        <Crate as Fingerprint>::FINGERPRINT
    );
    assert_eq!(steps.last().unwrap().1, Depot::FINGERPRINT);
    assert_eq!(Depot::schema().fingerprint(), Depot::FINGERPRINT);
    assert_ne!(Depot::FINGERPRINT, Game::FINGERPRINT);
    let wrong = check_steps(block, &steps);
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

/// What differs between a fingerprint block's `label = hex` lines and `steps`.
fn check_steps(block: &str, steps: &[(&str, u64)]) -> Vec<String> {
    let documented: Vec<(String, String)> = block
        .lines()
        .filter_map(|line| line.rsplit_once('='))
        .map(|(label, value)| (label.trim().to_owned(), value.trim().to_owned()))
        .collect();
    let mut wrong = Vec::new();
    for (label, value) in steps {
        let actual = format!("{value:016x}");
        match documented.iter().find(|(text, _)| text == label) {
            Some((_, hex)) if *hex == actual => {}
            Some((_, hex)) => wrong.push(format!("{label}: PROTOCOL.md has {hex}, it is {actual}")),
            None => wrong.push(format!("{label}: not in PROTOCOL.md; it is {actual}")),
        }
    }
    for (label, _) in &documented {
        if !steps.iter().any(|(known, _)| known == label) {
            wrong.push(format!("{label}: a step the test does not check"));
        }
    }
    wrong
}

#[test]
fn protocol_md_names_the_example_subprotocol() {
    let doc = protocol_md();
    let offer = nodelink::wire::handshake::subprotocol(Game::FINGERPRINT);
    assert!(doc.contains(&format!("`{offer}`")), "{offer}");
    // `bob` resumes having received 3 events, keeping every one he sent.
    let resume = nodelink::wire::ResumeOffer {
        token: BOB_TOKEN.parse().unwrap(),
        received: 3,
        forgotten: 0,
    };
    let resume = resume.subprotocol();
    assert!(doc.contains(&format!("`{resume}`")), "{resume}");
    assert!(doc.contains(&format!(
        "`{}`",
        nodelink::wire::handshake::FINGERPRINT_HEADER
    )));
}
