//! Writes valid frames into the fuzzers' corpus folders, so fuzzing starts from
//! real structure: every kind of server frame, sync frames that carry each kind of
//! synced value (whole and as a change), and every event on both wires. Run from
//! `fuzz/`: `cargo +nightly run --example seeds`.

use std::collections::BTreeMap;
use std::fs;

use nodelink::sync::{Selection, SyncDeque, SyncMap, SyncVec, Tick};
use nodelink::wire::{
    decode_client_frame, decode_server_frame, encode_event, encode_ping, encode_pong,
    encode_sync_with_entities, json, EntityEntry, NetId, Settings, StateSelection, SyncHeader,
    Welcome,
};
use nodelink::{EntityId, PlayerId, SyncState, Tracked};
use nodelink_fuzz::{
    Arena, Chest, Drone, Fighter, Game, Gear, Line, Stats, Thing, ToClient, ToServer, Vec3, Weapon,
    MAX,
};

type Error = Box<dyn std::error::Error>;

fn stats(hp: i32) -> Stats {
    Stats {
        hp,
        mana: 7,
        effects: SyncMap::from_iter([(1, 0.5)]),
    }
}

fn line(text: &str) -> Line {
    Line {
        from: Some(PlayerId::from_raw(2)),
        text: text.into(),
    }
}

fn fighter() -> Fighter {
    let mut fighter = Fighter {
        position: Vec3 {
            x: 1.0,
            y: 2.0,
            z: 3.0,
        },
        hp: -5,
        name: "ada".into(),
        weapon: Some(Weapon::Bow(3, 0.5)),
        inventory: vec![1, 2, 3],
        stats: BTreeMap::from([("speed".to_owned(), 1.5)]),
        flags: (true, 7),
        target: Some(PlayerId::from_raw(9)),
        grabbed: Some(EntityId::from_raw(4)),
        gear: Gear {
            weapon: Some(Weapon::Sword { damage: 2 }),
            stats: stats(3),
        },
        gold: 250,
        secret: stats(1),
        ..Fighter::default()
    };
    fighter.bag = SyncMap::from_iter([("arrow".to_owned(), 12)]);
    fighter.pets = SyncMap::from_iter([(1, stats(5))]);
    fighter.party = SyncVec::from_iter([stats(1), stats(2)]);
    fighter.path = SyncVec::from_iter([Vec3::default(), Vec3::default(), Vec3::default()]);
    fighter.chat.push_back(line("hi"));
    let mut log = SyncDeque::with_capacity(2);
    log.push_back(4);
    fighter.channels = SyncMap::from_iter([(0, log)]);
    fighter.hits.push_back(stats(-1));
    fighter
}

fn arena() -> Arena {
    Arena {
        round: 3,
        scores: vec![(PlayerId::from_raw(1), 10)],
        standings: SyncVec::from_iter([vec![PlayerId::from_raw(1)]]),
        teams: SyncMap::from_iter([(PlayerId::from_raw(1), 2)]),
    }
}

fn drone() -> Thing {
    Thing::Drone(Drone {
        position: Vec3::default(),
        stats: stats(8),
        carried: SyncMap::from_iter([(EntityId::from_raw(5), 1)]),
        chasing: Some(PlayerId::from_raw(2)),
    })
}

/// What every client but the owner may see of a player.
fn public() -> StateSelection<'static, Fighter> {
    Selection::Fields(Fighter::ALL.without(Fighter::OWNER))
}

fn header(full: bool) -> SyncHeader {
    SyncHeader {
        tick: Tick(5),
        online: 2,
        full,
        more: false,
    }
}

/// A delta sync frame of what `change` did to one player, the server state and one
/// entity, all starting from the seeds' values.
fn delta(
    change: impl FnOnce(&mut Tracked<Fighter>, &mut Tracked<Arena>, &mut Tracked<Thing>),
) -> Result<Vec<u8>, Error> {
    let mut player = Tracked::new(fighter());
    let mut server = Tracked::new(arena());
    let mut entity = Tracked::new(drone());
    change(&mut player, &mut server, &mut entity);
    let (player_changes, server_changes, entity_changes) = (
        player.take_changes(),
        server.take_changes(),
        entity.take_changes(),
    );
    let entities: [EntityEntry<'_, Game>; 1] = [(
        EntityId::from_raw(4),
        entity.get(),
        Selection::Changed(&entity_changes),
    )];
    Ok(encode_sync_with_entities::<Game, _, _>(
        header(false),
        &[],
        &[],
        [(NetId(0), player.get(), Selection::Changed(&player_changes))],
        Some((server.get(), Selection::Changed(&server_changes))),
        &[EntityId::from_raw(6)],
        entities,
    )?
    .to_vec())
}

fn server_frames() -> Result<Vec<Vec<u8>>, Error> {
    let (fighter, arena, drone) = (fighter(), arena(), drone());
    let entities: [EntityEntry<'_, Game>; 1] = [(
        EntityId::from_raw(4),
        &drone,
        Selection::All,
    )];
    let snapshot = encode_sync_with_entities::<Game, _, _>(
        header(true),
        &[],
        &[
            (NetId(0), PlayerId::from_raw(2)),
            (NetId(1), PlayerId::from_raw(3)),
        ],
        [
            (NetId(0), &fighter, Selection::All),
            (NetId(1), &fighter, public()),
        ],
        Some((&arena, Selection::All)),
        &[],
        entities,
    )?;
    let no_entities: [EntityEntry<'_, Game>; 0] = [];
    let some_fields = encode_sync_with_entities::<Game, _, _>(
        header(false),
        &[NetId(1)],
        &[],
        [(
            NetId(0),
            &fighter,
            Selection::Fields(nodelink::FieldMask::from_bits(0b1001_0101_0110_1001)),
        )],
        None,
        &[],
        no_entities,
    )?;
    let mut frames = vec![
        Welcome {
            fingerprint: 1,
            player: PlayerId::from_raw(2),
            net_id: NetId(0),
            tick_rate: 20,
            settings: Settings::default(),
            resume_token: Some("000102030405060708090a0b0c0d0e0f".parse()?),
            resumed: Some(3),
        }
        .encode()
        .to_vec(),
        encode_event(&ToClient::Hit {
            by: PlayerId::from_raw(3),
            damage: 4,
        })?
        .to_vec(),
        encode_event(&ToClient::Announce("go".into()))?.to_vec(),
        encode_event(&ToClient::Spotted(EntityId::from_raw(4)))?.to_vec(),
        encode_event(&ToClient::Over)?.to_vec(),
        encode_ping(1, 500).to_vec(),
        snapshot.to_vec(),
        some_fields.to_vec(),
    ];
    // One delta per kind of change, so each decoder starts from a frame it reads.
    frames.push(delta(|player, _, _| {
        player.state_mut().set_hp(9).set_name("bo".into());
    })?);
    frames.push(delta(|player, _, _| {
        player.state_mut().gear().stats().set_mana(1);
        player.state_mut().gear().set_weapon(None);
    })?);
    frames.push(delta(|player, _, _| {
        let mut state = player.state_mut();
        state.gear().stats().effects().insert(2, 1.5).ok();
        state.gear().stats().effects().remove(&1);
    })?);
    frames.push(delta(|player, _, _| {
        let mut state = player.state_mut();
        state.bag().insert("bolt".into(), 3).ok();
        state.bag().remove(&"arrow".to_owned());
        state.pets().insert(2, stats(4)).ok();
        if let Some(mut pet) = state.pets().get_mut(&1) {
            pet.set_hp(0);
            pet.effects().insert(3, 2.0).ok();
        }
    })?);
    frames.push(delta(|player, _, _| {
        player.state_mut().pets().clear();
    })?);
    frames.push(delta(|player, _, _| {
        let mut state = player.state_mut();
        state.party().push(stats(6)).ok();
        if let Some(mut member) = state.party().get_mut(0) {
            member.set_hp(11);
        }
        state.path().set(1, Vec3::default()).ok();
        state.path().pop();
    })?);
    frames.push(delta(|player, _, _| {
        let mut state = player.state_mut();
        state.party().insert(0, stats(7)).ok();
        state.path().clear();
    })?);
    frames.push(delta(|player, _, _| {
        let mut state = player.state_mut();
        for text in ["a", "b", "c", "d", "e", "f", "g", "h", "i"] {
            state.chat().push_back(line(text));
        }
        state.hits().push_back(stats(2));
        state.hits().pop_front();
    })?);
    frames.push(delta(|player, _, _| {
        let mut state = player.state_mut();
        if let Some(mut log) = state.channels().get_mut(&0) {
            log.push_back(5);
            log.push_back(6);
        }
        let mut log = SyncDeque::with_capacity(3);
        log.push_back(1);
        state.channels().insert(1, log).ok();
    })?);
    frames.push(delta(|player, _, _| {
        player.state_mut().set_gold(1);
        player.state_mut().secret().set_hp(4);
    })?);
    frames.push(delta(|_, server, entity| {
        server.state_mut().set_round(4);
        server.state_mut().standings().push(Vec::new()).ok();
        server
            .state_mut()
            .teams()
            .insert(PlayerId::from_raw(7), 1)
            .ok();
        let mut thing = entity.state_mut();
        let mut drone = thing.drone().expect("a drone");
        drone.stats().set_hp(1);
        drone.carried().insert(EntityId::from_raw(9), 2).ok();
        drone.set_chasing(None);
    })?);
    // An entity that changes kind, to each of the others.
    frames.push(delta(|_, _, entity| {
        entity.state_mut().set(Thing::Chest(Chest {
            locked: true,
            items: SyncVec::from_iter([3, 4]),
        }));
    })?);
    frames.push(delta(|_, _, entity| {
        entity.state_mut().set(Thing::Coins(12));
    })?);
    Ok(frames)
}

fn client_events() -> Vec<ToServer> {
    vec![
        ToServer::Move {
            to: Vec3 {
                x: 1.0,
                y: 0.0,
                z: -1.0,
            },
            run: true,
        },
        ToServer::Equip(Some(Weapon::Sword { damage: 9 })),
        ToServer::Equip(Some(Weapon::Bow(1, 0.25))),
        ToServer::Equip(None),
        ToServer::Say {
            text: "hello".into(),
            channel: 2,
        },
        ToServer::Trade(BTreeMap::from([(1, 2), (3, 4)])),
        ToServer::Grab {
            target: EntityId::from_raw(4),
            by: Some(PlayerId::from_raw(2)),
        },
        ToServer::Write(vec![line("hi"), Line::default()]),
        ToServer::Ready,
    ]
}

/// Checks that a seed decodes as what its target reads, so that no seed starts the
/// fuzzer from an error path only.
fn decodes(dir: &str, frame: &[u8]) -> Result<(), Error> {
    if dir.ends_with("/server_frame") {
        decode_server_frame::<Game>(frame, MAX)?;
    } else if dir.ends_with("/json_client_frame") {
        json::decode_client_frame::<ToServer>(std::str::from_utf8(frame)?, MAX)?;
    } else {
        decode_client_frame::<ToServer>(frame, MAX)?;
    }
    Ok(())
}

fn main() -> Result<(), Error> {
    let events = client_events();
    let mut client = events
        .iter()
        .map(|event| encode_event(event).map(|bytes| bytes.to_vec()))
        .collect::<Result<Vec<_>, _>>()?;
    client.push(encode_pong(1).to_vec());
    let mut json_client = events
        .iter()
        .map(|event| json::encode_event(event).map(String::into_bytes))
        .collect::<Result<Vec<_>, _>>()?;
    json_client.push(br#"{"event":"__pong__","data":{"seq":1}}"#.to_vec());
    for (dir, frames) in [
        ("corpus/server_frame", server_frames()?),
        ("corpus/client_frame", client),
        ("corpus/json_client_frame", json_client),
    ] {
        for frame in &frames {
            decodes(dir, frame)?;
        }
        fs::create_dir_all(dir)?;
        for (i, frame) in frames.iter().enumerate() {
            fs::write(format!("{dir}/seed-{i}"), frame)?;
        }
        println!("{dir}: {} seeds", frames.len());
    }
    Ok(())
}
