//! Newcomers of one tick share the world's snapshot, encoded once, and each still
//! mirrors exactly the world it joined.

use std::collections::BTreeSet;

use futures::StreamExt;
use nodelink::client::World;
use nodelink::server::Server;
use nodelink::wire::{decode_server_frame, ServerFrame};
use nodelink::PlayerId;
use nodelink_examples::Game;
use nodelink_tests::{local_config, raw_connect, serve, within, RawSocket};
use tokio_tungstenite::tungstenite::Message;

/// Long enough that a few dozen players fill several snapshot frames.
const NAME_LEN: usize = 400;

/// Reads sync frames into `world` until `done` holds for it.
async fn mirror_until(
    socket: &mut RawSocket,
    world: &mut World<Game>,
    mut done: impl FnMut(&World<Game>) -> bool,
) {
    within("the mirror", async {
        while !done(world) {
            let Some(Ok(Message::Binary(bytes))) = socket.next().await else {
                panic!("the connection ended");
            };
            if let Ok(ServerFrame::Sync(frame)) = decode_server_frame::<Game>(&bytes, usize::MAX) {
                world.apply(frame);
            }
        }
    })
    .await;
}

fn ids(world: &World<Game>) -> BTreeSet<PlayerId> {
    world.players().map(|(id, _)| id).collect()
}

#[tokio::test]
async fn newcomers_of_one_tick_share_the_world_and_each_mirrors_it_exactly() {
    // One tick a second: a burst of joins lands in one tick (or two).
    let config = local_config().tick_rate(1).max_connections_per_ip(1000);
    let mut server = Server::<Game>::new(config);
    server.on_connect(|ctx| {
        let name = format!("{:width$}", ctx.id().to_string(), width = NAME_LEN);
        ctx.player().state_mut().set_name(name);
    });
    let running = serve(server).await;
    let url = running.url();

    // A world of 60 players, of about 400 bytes each: several snapshot frames.
    let mut present = Vec::new();
    for _ in 0..60 {
        present.push(raw_connect(&url).await);
    }
    let before = running.handle.stats().await.expect("stats").snapshot_frames;

    // A burst of newcomers; one old player leaves in the middle of it.
    let mut joined_before: BTreeSet<PlayerId> = present.iter().map(|(_, id)| *id).collect();
    let mut newcomers = Vec::new();
    let mut departed = None;
    for i in 0..10 {
        if i == 5 {
            let (mut socket, id) = present.remove(0);
            socket.close(None).await.expect("closes");
            // Its departure reaches the world before the next newcomer does.
            let left = present.len() + newcomers.len();
            nodelink_tests::eventually("the departure", || running.handle.player_count() == left)
                .await;
            joined_before.remove(&id);
            departed = Some(id);
        }
        let (socket, id) = raw_connect(&url).await;
        joined_before.insert(id);
        newcomers.push((socket, id, joined_before.clone(), departed));
    }
    let built = running.handle.stats().await.expect("stats").snapshot_frames - before;
    nodelink_tests::figure("snapshot frames built for 10 newcomers", built);
    // Each newcomer's own frame, and the world once (twice if a tick fell in the
    // burst): encoded once per newcomer, it would be 10 times the world.
    assert!(
        built <= 10 + 2 * 5,
        "{built} snapshot frames built for 10 newcomers"
    );

    let server_ids = || async {
        running
            .handle
            .players()
            .await
            .expect("players")
            .into_iter()
            .map(|p| (p.id, p.state.name))
            .collect::<Vec<_>>()
    };
    let everyone = server_ids().await;
    let all: BTreeSet<PlayerId> = everyone.iter().map(|(id, _)| *id).collect();
    for (socket, me, there, departed) in &mut newcomers {
        let mut world = World::<Game>::default();
        mirror_until(socket, &mut world, World::is_complete).await;
        // Complete: everyone there when it joined, itself included, and no one
        // who had left by then.
        let shown = ids(&world);
        assert!(shown.contains(me), "{me} is missing from its own snapshot");
        assert!(there.is_subset(&shown), "{me}'s snapshot misses players");
        if let Some(departed) = departed {
            assert!(
                !shown.contains(departed),
                "{me} is shown {departed}, who left"
            );
        }
        // After the next tick, exactly the server's world (a snapshot may show a
        // state as it was earlier in the tick: here, names set by `on_connect`).
        mirror_until(socket, &mut world, |w| {
            ids(w) == all
                && everyone
                    .iter()
                    .all(|(id, name)| w.get(*id).is_some_and(|a| &a.name == name))
        })
        .await;
    }
    running.stop().await;
}
