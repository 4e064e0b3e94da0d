//! Writes valid frames into the fuzzers' corpus folders, so fuzzing starts from
//! real structure. Run from `fuzz/`: `cargo +nightly run --example seeds`.

use std::collections::BTreeMap;
use std::fs;

use nodelink::sync::Selection;
use nodelink::sync::Tick;
use nodelink::wire::{
    encode_event, encode_ping, encode_pong, encode_sync, NetId, Settings, SyncHeader, Welcome,
};
use nodelink::{PlayerId, SyncState};
use nodelink_fuzz::{Arena, Fighter, Game, ToClient, ToServer, Vec3, Weapon};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let fighter = Fighter {
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
    };
    let arena = Arena {
        round: 3,
        scores: vec![(PlayerId::from_raw(1), 10)],
    };
    let header = |full| SyncHeader {
        tick: Tick(5),
        online: 2,
        full,
        more: false,
    };
    let server: Vec<Vec<u8>> = vec![
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
        encode_ping(1, 500).to_vec(),
        encode_sync::<Game, _>(
            header(true),
            &[],
            &[(NetId(0), PlayerId::from_raw(2))],
            [(NetId(0), &fighter, Selection::All)],
            Some((&arena, Selection::All)),
        )?
        .to_vec(),
        encode_sync::<Game, _>(
            header(false),
            &[NetId(1)],
            &[],
            [(
                NetId(0),
                &fighter,
                nodelink::FieldMask::from_bits(0b1001_0101),
            )],
            None,
        )?
        .to_vec(),
    ];
    let client: Vec<Vec<u8>> = vec![
        encode_event(&ToServer::Move {
            to: Vec3 {
                x: 1.0,
                y: 0.0,
                z: -1.0,
            },
            run: true,
        })?
        .to_vec(),
        encode_event(&ToServer::Equip(Some(Weapon::Sword { damage: 9 })))?.to_vec(),
        encode_event(&ToServer::Say {
            text: "hello".into(),
            channel: 2,
        })?
        .to_vec(),
        encode_event(&ToServer::Trade(BTreeMap::from([(1, 2), (3, 4)])))?.to_vec(),
        encode_event(&ToServer::Ready)?.to_vec(),
        encode_pong(1).to_vec(),
    ];
    for (dir, frames) in [
        ("corpus/server_frame", server),
        ("corpus/client_frame", client),
    ] {
        fs::create_dir_all(dir)?;
        for (i, frame) in frames.iter().enumerate() {
            fs::write(format!("{dir}/seed-{i}"), frame)?;
        }
    }
    Ok(())
}
