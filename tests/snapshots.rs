//! Snapshots of a world of many entities: a newcomer's, and the catch-up snapshot
//! of `sync_state(true)`, reach the client in several frames of about 4 KiB on both
//! wires, and the Rust and TypeScript clients mirror every entity.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures::StreamExt;
use nodelink::client::{Client, PollClient};
use nodelink::server::Server;
use nodelink::wire::{decode_server_frame, ServerFrame};
use nodelink::{EntityId, Protocol, SyncState};
use nodelink_tests::{
    local_config, serve, typescript_package, within, ChildReports, JsonClient, RawSocket, DEADLINE,
};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub(crate) struct Avatar {
    pub(crate) x: f32,
}

#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub(crate) struct Crate {
    pub(crate) x: f32,
    pub(crate) kind: u8,
}

#[nodelink::events]
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ToServer {
    /// Spawns `count` crates, the `i`th at `x = i`.
    Fill { count: u32 },
    /// Sends everyone a snapshot now.
    Resync,
    /// Sets every crate's kind to `(x + round) % 7`.
    Shake { round: u32 },
}

#[nodelink::events]
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ToClient {
    Filled { count: u32 },
}

#[nodelink::protocol(state = Avatar, to_server = ToServer, to_client = ToClient, entity = Crate)]
pub(crate) struct Warehouse;

/// How many crates the world holds: about 130 KB natively, 250 KB in JSON.
const CRATES: u32 = 10_000;

/// The most a snapshot frame may hold: frames aim for 4 KiB, and only a frame of
/// a single player or entity may exceed it.
const FRAME_BOUND: usize = 4 * 1024;

fn warehouse() -> Server<Warehouse> {
    warehouse_with(local_config())
}

fn warehouse_with(config: nodelink::server::ServerConfig) -> Server<Warehouse> {
    let mut server = Server::<Warehouse>::new(config);
    server.on_fill(|ctx, ToServerFill { count }| {
        for i in 0..count {
            ctx.spawn(Crate {
                x: i as f32,
                kind: (i % 7) as u8,
            });
        }
        ctx.broadcast(ToClient::Filled { count });
    });
    server.on_resync(|ctx| ctx.sync_state(true));
    server.on_shake(|ctx, ToServerShake { round }| {
        let ids: Vec<EntityId> = ctx.entities().map(|(id, _)| id).collect();
        for id in ids {
            if let Some(mut crate_) = ctx.entity_mut(id) {
                let kind = ((crate_.x as u32 + round) % 7) as u8;
                crate_.set_kind(kind);
            }
        }
    });
    server
}

/// Whether `crates` are the world's: `CRATES` of them, the one at `x = i` of kind
/// `i % 7`.
fn every_crate<'a>(crates: impl Iterator<Item = &'a Crate>) -> bool {
    let mut xs: Vec<u32> = Vec::new();
    for c in crates {
        let i = c.x as u32;
        if c.kind != (i % 7) as u8 {
            return false;
        }
        xs.push(i);
    }
    xs.sort_unstable();
    xs.len() == CRATES as usize && xs.iter().enumerate().all(|(at, i)| at as u32 == *i)
}

/// Polls `client` (blocking this worker only) until `done` holds.
fn poll_until(
    client: &mut PollClient<Warehouse>,
    what: &str,
    done: impl Fn(&PollClient<Warehouse>) -> bool,
) {
    tokio::task::block_in_place(|| {
        let deadline = Instant::now() + DEADLINE;
        while !done(client) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            client.wait(Duration::from_millis(20));
        }
    });
}

/// A native connection that reads frames as they come: the welcome first.
async fn native(url: &str) -> RawSocket {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = url.into_client_request().expect("a ws:// url");
    let offer = nodelink::wire::handshake::subprotocol(Warehouse::FINGERPRINT);
    request
        .headers_mut()
        .insert("sec-websocket-protocol", offer.parse().unwrap());
    let (mut socket, _) = within(
        "a native connection",
        tokio_tungstenite::connect_async(request),
    )
    .await
    .expect("connects");
    let Some(ServerFrame::Welcome(_)) = next_native(&mut socket, "the welcome").await else {
        panic!("expected the welcome");
    };
    socket
}

/// The next frame on a native connection, which must be at most `FRAME_BOUND`
/// bytes.
async fn next_native(socket: &mut RawSocket, what: &str) -> Option<ServerFrame<Warehouse>> {
    loop {
        let message = within(what, socket.next())
            .await
            .unwrap_or_else(|| panic!("connection ended before {what}"))
            .expect("reads");
        match message {
            Message::Binary(bytes) => {
                assert!(
                    bytes.len() <= FRAME_BOUND,
                    "a frame of {} bytes",
                    bytes.len()
                );
                return Some(
                    decode_server_frame::<Warehouse>(&bytes, usize::MAX).expect("decodes"),
                );
            }
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("expected a binary frame before {what}, got {other:?}"),
        }
    }
}

/// Reads a native snapshot from its `full` frame to its last: the number of
/// frames and the entity ids listed.
async fn native_snapshot(socket: &mut RawSocket, what: &str) -> (usize, Vec<EntityId>) {
    let mut frames = 0;
    let mut ids = Vec::new();
    loop {
        let Some(ServerFrame::Sync(sync)) = next_native(socket, what).await else {
            continue;
        };
        if frames == 0 && !sync.header.full {
            continue; // a tick frame before the snapshot
        }
        assert_eq!(
            sync.header.full,
            frames == 0,
            "only the first frame is full"
        );
        frames += 1;
        ids.extend(sync.entities.iter().map(|(id, _)| *id));
        if !sync.header.more {
            return (frames, ids);
        }
    }
}

/// Reads a JSON snapshot from its `full` frame to its last: the number of frames,
/// each at most `FRAME_BOUND` bytes, and the crates listed, by id.
async fn json_snapshot(
    client: &mut JsonClient,
    what: &str,
) -> (usize, serde_json::Map<String, serde_json::Value>) {
    let mut frames = 0;
    let mut crates = serde_json::Map::new();
    loop {
        let (event, data) = client.next_frame(what).await;
        if event != "__state_sync__" || (frames == 0 && data["full"] != true) {
            continue;
        }
        assert_eq!(
            data["full"] == true,
            frames == 0,
            "only the first frame is full"
        );
        let len = serde_json::to_string(&json!({"event": event, "data": data}))
            .unwrap()
            .len();
        assert!(len <= FRAME_BOUND + 64, "a frame of about {len} bytes");
        frames += 1;
        crates.extend(data["entities"].as_object().cloned().unwrap_or_default());
        if data["more"] != true {
            return (frames, crates);
        }
    }
}

fn assert_json_crates(crates: &serde_json::Map<String, serde_json::Value>) {
    assert_eq!(crates.len(), CRATES as usize);
    for state in crates.values() {
        let i = state["x"].as_f64().unwrap() as u32;
        assert_eq!(state["kind"], json!(i % 7), "{state}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_world_of_many_entities_reaches_a_client_in_bounded_frames_on_both_wires() {
    let running = serve(warehouse()).await;
    let mut filler = Client::<Warehouse>::from_url(running.url())
        .spawn()
        .unwrap();
    poll_until(&mut filler, "the first snapshot", |c| {
        c.world().is_complete()
    });
    filler.send(ToServer::Fill { count: CRATES }).unwrap();
    poll_until(&mut filler, "every crate", |c| {
        c.world().entity_count() == CRATES as usize
    });

    // A newcomer on the native wire: its snapshot comes in many bounded frames.
    let mut raw = native(&running.url()).await;
    let (frames, ids) = native_snapshot(&mut raw, "the newcomer's native snapshot").await;
    assert!(frames > 10, "{frames} frames");
    assert_eq!(ids.len(), CRATES as usize, "every crate once");

    // The Rust client mirrors every crate.
    let mut rust = Client::<Warehouse>::from_url(running.url())
        .spawn()
        .unwrap();
    poll_until(&mut rust, "the Rust client's complete snapshot", |c| {
        c.world().is_complete()
    });
    assert!(every_crate(rust.world().entities().map(|(_, c)| c)));

    // A newcomer on the JSON wire too.
    let mut carl = JsonClient::connect(&running.url()).await;
    let (frames, crates) = json_snapshot(&mut carl, "the newcomer's JSON snapshot").await;
    assert!(frames > 10, "{frames} frames");
    assert_json_crates(&crates);

    // The catch-up snapshot everyone gets: bounded frames as well, on both wires.
    filler.send(ToServer::Resync).unwrap();
    let (frames, ids) = native_snapshot(&mut raw, "the native catch-up snapshot").await;
    assert!(frames > 10, "{frames} frames");
    assert_eq!(ids.len(), CRATES as usize);
    let (frames, crates) = json_snapshot(&mut carl, "the JSON catch-up snapshot").await;
    assert!(frames > 10, "{frames} frames");
    assert_json_crates(&crates);
    poll_until(&mut rust, "the Rust client after the catch-up", |c| {
        c.world().is_complete() && c.world().entity_count() == CRATES as usize
    });
    assert!(every_crate(rust.world().entities().map(|(_, c)| c)));
    within("stopping", running.stop()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typescript_client_mirrors_every_entity_of_a_split_snapshot() {
    let running = serve(warehouse()).await;
    let mut filler = Client::<Warehouse>::from_url(running.url())
        .spawn()
        .unwrap();
    poll_until(&mut filler, "the first snapshot", |c| {
        c.world().is_complete()
    });
    filler.send(ToServer::Fill { count: CRATES }).unwrap();
    poll_until(&mut filler, "every crate", |c| {
        c.world().entity_count() == CRATES as usize
    });

    let schema = std::env::temp_dir().join(format!("warehouse-{}.json", std::process::id()));
    std::fs::write(&schema, Warehouse::schema().to_json()).unwrap();
    let script = typescript_package().join("dist/test/e2e/snapshot-client.js");
    let mut command = tokio::process::Command::new("node");
    command.arg(script).arg(running.url()).arg(&schema);
    let mut ts = ChildReports::spawn("the TypeScript client", &mut command, true);
    let newcomer = ts.expect("snapshot").await;
    filler.send(ToServer::Resync).unwrap();
    let catch_up = ts.expect("snapshot").await;
    for (what, snapshot) in [("newcomer", &newcomer), ("catch-up", &catch_up)] {
        assert!(
            snapshot["frames"].as_u64().unwrap() > 10,
            "{what}: {snapshot}"
        );
        assert_eq!(snapshot["entities"], json!(CRATES), "{what}: {snapshot}");
        // Σ x over every crate, and how many have the kind their x gives them.
        let sum: u64 = (0..u64::from(CRATES)).sum();
        assert_eq!(snapshot["sum_x"], json!(sum), "{what}: {snapshot}");
        assert_eq!(snapshot["kinds_right"], json!(CRATES), "{what}: {snapshot}");
    }
    ts.command(&json!({ "cmd": "exit" })).await;
    ts.exited().await;
    let _ = std::fs::remove_file(&schema);
    within("stopping", running.stop()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_fell_behind_catches_up_with_a_split_snapshot() {
    // Small socket buffers, so that a client that stops reading fills its queue of
    // 24 frames within a few ticks; a snapshot of the world takes fewer.
    let config = local_config()
        .send_queue_len(24)
        .write_buffer_len(4 * 1024)
        .socket_send_buffer(Some(8 * 1024))
        .slow_consumer_timeout(Duration::from_secs(60));
    let running = serve(warehouse_with(config)).await;
    let mut filler = Client::<Warehouse>::from_url(running.url())
        .spawn()
        .unwrap();
    poll_until(&mut filler, "the first snapshot", |c| {
        c.world().is_complete()
    });
    filler.send(ToServer::Fill { count: 3_000 }).unwrap();
    poll_until(&mut filler, "every crate", |c| {
        c.world().entity_count() == 3_000
    });
    let mut slow = native(&running.url()).await;
    let (frames, _) = native_snapshot(&mut slow, "the slow client's snapshot").await;
    assert!(frames > 4, "{frames} frames");

    // Every crate changes on each of 50 ticks, about 18 KB a frame, while the slow
    // client reads nothing: its queue of 24 frames fills and it is owed a snapshot.
    let mut ticker = tokio::time::interval(Duration::from_millis(50));
    for round in 1..=50 {
        ticker.tick().await;
        filler.send(ToServer::Shake { round }).unwrap();
    }
    poll_until(&mut filler, "the last shake", |c| {
        c.world()
            .entities()
            .all(|(_, c)| u32::from(c.kind) == (c.x as u32 + 50) % 7)
    });
    let truth: BTreeMap<EntityId, Crate> = filler
        .world()
        .entities()
        .map(|(id, c)| (id, c.clone()))
        .collect();

    // It reads again: its skipped frames are replaced by a snapshot in bounded
    // frames, after which its mirror is the server's world.
    let mut world = nodelink::client::World::<Warehouse>::default();
    let mut snapshot_frames = Vec::new();
    let mut in_snapshot = false;
    within("the slow client to catch up", async {
        loop {
            let bytes = match slow.next().await {
                Some(Ok(Message::Binary(bytes))) => bytes,
                Some(Ok(_)) => continue,
                other => panic!("the slow client lost its connection: {other:?}"),
            };
            let Ok(ServerFrame::Sync(sync)) = decode_server_frame::<Warehouse>(&bytes, usize::MAX)
            else {
                continue;
            };
            if sync.header.full {
                in_snapshot = true;
                snapshot_frames.clear();
            }
            if in_snapshot {
                snapshot_frames.push(bytes.len());
                in_snapshot = sync.header.more;
            }
            world.apply(sync);
            let mirrored: BTreeMap<EntityId, Crate> =
                world.entities().map(|(id, c)| (id, c.clone())).collect();
            if world.is_complete() && mirrored == truth {
                return;
            }
        }
    })
    .await;
    assert!(snapshot_frames.len() > 4, "{snapshot_frames:?}");
    assert!(
        snapshot_frames.iter().all(|len| *len <= FRAME_BOUND),
        "{snapshot_frames:?}"
    );
    within("stopping", running.stop()).await;
}
