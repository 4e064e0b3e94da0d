//! Prints how many bytes typical frames take on each wire: the native MessagePack
//! one and the JSON one Python nodelink clients speak; what a small change to a
//! nested state or to one entry of a map costs, beside the same field sent whole;
//! what a line pushed into a full log costs, as a `SyncDeque` and as a `SyncVec`;
//! and what a spawned entity costs.
//!
//! Run with `cargo run --example wire_sizes`.

use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use nodelink::sync::{Selection, SyncDeque, SyncMap, SyncVec, Tick};
use nodelink::wire::{
    encode_event, encode_sync, encode_sync_with_entities, json, NetId, SyncHeader,
};
use nodelink::{
    EncodeError, EntityId, FieldMask, Fingerprint, PlayerId, Protocol, SyncState, Tracked,
};
use nodelink_examples::{ToClient, ToServer};
use serde::{Deserialize, Serialize};

/// A typical 8-field player state.
#[derive(SyncState, Clone, Debug, Default, PartialEq)]
struct Player {
    x: f32,
    y: f32,
    angle: f32,
    hp: u16,
    score: u32,
    name: String,
    team: Option<u8>,
    inventory: Vec<u16>,
}

/// A protocol around that state, to size its frames.
#[nodelink::protocol(state = Player, to_server = ToServer, to_client = ToClient)]
struct Bench;

/// A 4-field nested state: a change sends only the sub-fields that changed.
#[derive(SyncState, Clone, Debug, Default, PartialEq)]
struct Stats {
    hp: u16,
    mana: u16,
    armor: u16,
    speed: f32,
}

/// The same fields as a plain struct: a change sends all of it.
#[derive(Fingerprint, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
struct PlainStats {
    hp: u16,
    mana: u16,
    armor: u16,
    speed: f32,
}

/// An inventory item: a plain value, sent whole.
#[derive(Fingerprint, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
struct Item {
    name: String,
    count: u16,
}

/// A hero whose fields are sent in parts: a nested state, a map synced per entry, a
/// list synced per index.
#[derive(SyncState, Clone, Debug, Default, PartialEq)]
struct InParts {
    stats: Stats,
    items: SyncMap<u16, Item>,
    list: SyncVec<Item>,
}

/// The same hero with plain fields (same names, so the JSON keys match), each sent
/// whole when it changes.
#[derive(SyncState, Clone, Debug, Default, PartialEq)]
struct Whole {
    stats: PlainStats,
    items: BTreeMap<u16, Item>,
    list: Vec<Item>,
}

#[nodelink::protocol(state = InParts, to_server = ToServer, to_client = ToClient)]
struct InPartsBench;

#[nodelink::protocol(state = Whole, to_server = ToServer, to_client = ToClient)]
struct WholeBench;

/// A chat of the last 20 lines, as a bounded log: a push into a full log sends the
/// new line and "drop 1".
#[derive(SyncState, Clone, Debug, PartialEq)]
struct Log {
    chat: SyncDeque<Item>,
}

impl Default for Log {
    fn default() -> Self {
        Self {
            chat: SyncDeque::with_capacity(20),
        }
    }
}

/// The same chat as a list kept to 20 lines with `remove(0)` and `push`: every
/// index shifts.
#[derive(SyncState, Clone, Debug, Default, PartialEq)]
struct LogAsList {
    chat: SyncVec<Item>,
}

#[nodelink::protocol(state = Log, to_server = ToServer, to_client = ToClient)]
struct LogBench;

#[nodelink::protocol(state = LogAsList, to_server = ToServer, to_client = ToClient)]
struct LogAsListBench;

/// A small entity state: a crate on the floor.
#[derive(SyncState, Clone, Debug, Default, PartialEq)]
struct Crate {
    x: f32,
    y: f32,
    kind: u8,
}

#[nodelink::protocol(state = Player, to_server = ToServer, to_client = ToClient, entity = Crate)]
struct EntityBench;

/// Bytes on the native wire and on the JSON wire.
type Bytes = (usize, usize);

/// What entities add to a sync frame with no player in it, native and JSON: one
/// more spawned entity (every field), the entity section a frame opens for its
/// first entity change, and one more despawned entity.
fn entity_costs(
    header: SyncHeader,
    json_header: json::SyncHeader,
) -> Result<[(&'static str, Bytes); 3], EncodeError> {
    let crate_ = Crate {
        x: 12.5,
        y: -3.25,
        kind: 2,
    };
    let ids = |count: u32| {
        (0..count)
            .map(|i| EntityId::from_raw(7 + i))
            .collect::<Vec<_>>()
    };
    let native = |spawned: u32, despawned: u32| {
        let entities = ids(spawned)
            .into_iter()
            .map(|id| (id, &crate_, Selection::All))
            .collect::<Vec<_>>();
        let no_players: [(NetId, &Player, Selection<'_, _>); 0] = [];
        encode_sync_with_entities::<EntityBench, _, _>(
            header,
            &[],
            &[],
            no_players,
            None,
            &ids(despawned),
            entities,
        )
        .map(|frame| frame.len())
    };
    let json = |spawned: u32, despawned: u32| {
        let entities = ids(spawned)
            .into_iter()
            .map(|id| (id, &crate_, Selection::All))
            .collect::<Vec<_>>();
        let no_players: [(PlayerId, &Player, Selection<'_, _>); 0] = [];
        json::encode_sync_with_entities::<EntityBench, _, _>(
            json_header,
            &[],
            no_players,
            None,
            &ids(despawned),
            entities,
        )
        .map(|frame| frame.len())
    };
    let per_spawn = (native(2, 0)? - native(1, 0)?, json(2, 0)? - json(1, 0)?);
    let section = (
        native(1, 0)? - native(0, 0)? - per_spawn.0,
        json(1, 0)? - json(0, 0)? - per_spawn.1,
    );
    let per_despawn = (native(0, 2)? - native(0, 1)?, json(0, 2)? - json(0, 1)?);
    Ok([
        ("+ per spawned entity, every field of `Crate`", per_spawn),
        ("+ the entity section, once per frame", section),
        ("+ per despawned entity", per_despawn),
    ])
}

/// The bytes one more player adds to a sync frame of protocol `P`, native and
/// JSON, when each listed player sends what `selection` names of `state`: the frame
/// with two players minus the frame with one.
fn per_player<P: Protocol>(
    state: &P::State,
    selection: Selection<'_, <P::State as SyncState>::Changes>,
    header: SyncHeader,
    json_header: json::SyncHeader,
) -> Result<Bytes, EncodeError> {
    let native = |count: u32| {
        let players = (0..count).map(|i| (NetId(7 + i), state, selection));
        encode_sync::<P, _>(header, &[], &[], players.collect::<Vec<_>>(), None)
            .map(|frame| frame.len())
    };
    let json = |count: u32| {
        let players = (0..count).map(|i| (PlayerId::from_raw(0xdead_beef + i), state, selection));
        json::encode_sync::<P, _>(json_header, &[], players, None).map(|frame| frame.len())
    };
    Ok((native(2)? - native(1)?, json(2)? - json(1)?))
}

/// What one changed sub-field of a nested state, one changed entry of a 100-entry
/// map and one changed item of a 100-item list add per player: sent in parts, and
/// the same field sent whole.
fn parts_vs_whole(
    header: SyncHeader,
    json_header: json::SyncHeader,
) -> Result<Vec<(&'static str, Bytes)>, EncodeError> {
    let item = |i: u16| Item {
        name: format!("item {i}"),
        count: i,
    };
    let mut in_parts = Tracked::new(InParts::default());
    let mut whole = Tracked::new(Whole::default());
    in_parts.update(|hero| {
        hero.stats = Stats {
            hp: 100,
            mana: 50,
            armor: 20,
            speed: 1.5,
        };
    });
    whole.update(|hero| {
        hero.stats = PlainStats {
            hp: 100,
            mana: 50,
            armor: 20,
            speed: 1.5,
        };
    });
    for i in 0..100 {
        in_parts
            .state_mut()
            .items()
            .insert(i, item(i))
            .expect("under the limit");
        in_parts
            .state_mut()
            .list()
            .push(item(i))
            .expect("under the limit");
        whole.update(|hero| {
            hero.items.insert(i, item(i));
            hero.list.push(item(i));
        });
    }
    in_parts.take_changes();
    whole.take_changes();

    let mut rows = Vec::new();
    in_parts.state_mut().stats().set_hp(99);
    whole.update(|hero| hero.stats.hp = 99);
    rows.push((
        "stats.hp changed: nested state (4 fields)",
        per_player::<InPartsBench>(
            in_parts.get(),
            Selection::Changed(in_parts.changes()),
            header,
            json_header,
        )?,
    ));
    rows.push((
        "stats.hp changed: plain struct, sent whole",
        per_player::<WholeBench>(
            whole.get(),
            Selection::Changed(whole.changes()),
            header,
            json_header,
        )?,
    ));
    in_parts.take_changes();
    whole.take_changes();

    let changed = Item {
        name: "item 42".into(),
        count: 7,
    };
    in_parts
        .state_mut()
        .items()
        .insert(42, changed.clone())
        .expect("a key already there");
    whole.update(|hero| {
        hero.items.insert(42, changed.clone());
    });
    rows.push((
        "1 of 100 items changed: SyncMap, per entry",
        per_player::<InPartsBench>(
            in_parts.get(),
            Selection::Changed(in_parts.changes()),
            header,
            json_header,
        )?,
    ));
    rows.push((
        "1 of 100 items changed: BTreeMap, sent whole",
        per_player::<WholeBench>(
            whole.get(),
            Selection::Changed(whole.changes()),
            header,
            json_header,
        )?,
    ));
    in_parts.take_changes();
    whole.take_changes();

    in_parts
        .state_mut()
        .list()
        .set(42, changed.clone())
        .expect("an index in range");
    whole.update(|hero| hero.list[42] = changed);
    rows.push((
        "1 of 100 items changed: SyncVec, per index",
        per_player::<InPartsBench>(
            in_parts.get(),
            Selection::Changed(in_parts.changes()),
            header,
            json_header,
        )?,
    ));
    rows.push((
        "1 of 100 items changed: Vec, sent whole",
        per_player::<WholeBench>(
            whole.get(),
            Selection::Changed(whole.changes()),
            header,
            json_header,
        )?,
    ));
    Ok(rows)
}

/// What a line pushed into a full 20-line chat adds per player: as a `SyncDeque`,
/// and as a `SyncVec` kept to 20 lines with `remove(0)` and `push`.
fn log_vs_list(
    header: SyncHeader,
    json_header: json::SyncHeader,
) -> Result<Vec<(&'static str, Bytes)>, EncodeError> {
    let line = |i: u16| Item {
        name: format!("line {i}"),
        count: i,
    };
    let mut log = Tracked::new(Log::default());
    let mut list = Tracked::new(LogAsList::default());
    for i in 0..20 {
        log.state_mut().chat().push_back(line(i));
        list.state_mut()
            .chat()
            .push(line(i))
            .expect("under the limit");
    }
    log.take_changes();
    list.take_changes();

    log.state_mut().chat().push_back(line(20));
    {
        let mut state = list.state_mut();
        let mut chat = state.chat();
        chat.remove(0);
        chat.push(line(20)).expect("under the limit");
    }
    Ok(vec![
        (
            "a line into a full 20-line chat: SyncDeque",
            per_player::<LogBench>(
                log.get(),
                Selection::Changed(log.changes()),
                header,
                json_header,
            )?,
        ),
        (
            "the same line: SyncVec, remove(0) + push",
            per_player::<LogAsListBench>(
                list.get(),
                Selection::Changed(list.changes()),
                header,
                json_header,
            )?,
        ),
    ])
}

/// The bytes one more player adds to a sync frame: the frame with `players` listed
/// once and twice, under two ids, minus each other (so a separator is counted).
struct Sizes {
    native: Vec<usize>,
    json: Vec<usize>,
}

fn main() -> Result<(), EncodeError> {
    let player = Player {
        x: 12.5,
        y: -3.25,
        angle: 1.57,
        hp: 100,
        score: 4200,
        name: "player-one".into(),
        team: Some(2),
        inventory: vec![1, 2, 3],
    };
    let header = SyncHeader {
        tick: Tick(1000),
        online: 100,
        full: false,
        more: false,
    };
    let json_header = json::SyncHeader {
        time: UNIX_EPOCH + Duration::from_millis(1_764_000_000_123),
        online: 100,
        full: false,
        more: false,
    };
    let (ada, bob) = (
        PlayerId::from_raw(0xdead_beef),
        PlayerId::from_raw(0x0bad_cafe),
    );
    let native_sync = |players: &[(NetId, FieldMask)], joined: &[(NetId, PlayerId)]| {
        let players = players
            .iter()
            .map(|(net_id, mask)| (*net_id, &player, Selection::Fields(*mask)));
        encode_sync::<Bench, _>(header, &[], joined, players.collect::<Vec<_>>(), None)
            .map(|frame| frame.len())
    };
    let json_sync = |players: &[(PlayerId, FieldMask)]| {
        let players = players
            .iter()
            .map(|(id, mask)| (*id, &player, Selection::Fields(*mask)));
        json::encode_sync::<Bench, _>(json_header, &[], players, None).map(|frame| frame.len())
    };
    let mut sizes = Sizes {
        native: Vec::new(),
        json: Vec::new(),
    };
    sizes.native.push(native_sync(&[], &[])?);
    sizes.json.push(json_sync(&[])?);
    for mask in [0b1, 0b11, Player::ALL.bits()] {
        let mask = FieldMask::from_bits(mask);
        sizes.native.push(
            native_sync(&[(NetId(7), mask), (NetId(8), mask)], &[])?
                - native_sync(&[(NetId(7), mask)], &[])?,
        );
        sizes
            .json
            .push(json_sync(&[(ada, mask), (bob, mask)])? - json_sync(&[(ada, mask)])?);
    }
    let joined = native_sync(&[], &[(NetId(7), ada)])? - sizes.native[0];
    let moved = ToServer::Move { x: 12.5, y: -3.25 };

    println!("bytes on the wire                                native   JSON");
    let rows = [
        "sync frame, nobody changed (header)           ",
        "+ per changed player, one f32 field           ",
        "+ per changed player, two f32 fields          ",
        "+ per player, whole 8-field state             ",
    ];
    for (row, (native, json)) in rows.iter().zip(sizes.native.iter().zip(&sizes.json)) {
        println!("  {row}  {native:>5}  {json:>5}");
    }
    println!(
        "  + per joining player (announcement)             {joined:>5}      - (listed with its whole state)"
    );
    println!(
        "  Move {{ x: f32, y: f32 }} event frame              {:>5}  {:>5}",
        encode_event(&moved)?.len(),
        json::encode_event(&moved)?.len()
    );
    println!();
    println!(
        "{:<69}native   JSON",
        "fields sent in parts, vs the same field sent whole"
    );
    for (row, (native, json)) in parts_vs_whole(header, json_header)? {
        println!("  + per changed player, {row:<44}  {native:>5}  {json:>5}");
    }
    let logs = log_vs_list(header, json_header)?;
    for (row, (native, json)) in &logs {
        println!("  + per changed player, {row:<44}  {native:>5}  {json:>5}");
    }
    if let [(_, deque), (_, list)] = logs[..] {
        println!(
            "  the SyncVec against the SyncDeque: {:.1}x native, {:.1}x JSON",
            list.0 as f64 / deque.0 as f64,
            list.1 as f64 / deque.1 as f64
        );
    }
    println!();
    println!(
        "{:<69}native   JSON",
        "entities (Crate { x: f32, y: f32, kind: u8 }, ids 7, 8)"
    );
    for (row, (native, json)) in entity_costs(header, json_header)? {
        println!("  {row:<66}  {native:>5}  {json:>5}");
    }
    Ok(())
}
