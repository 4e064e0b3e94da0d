//! The runtime end to end: a real server and real clients over WebSockets on
//! 127.0.0.1, every wait under a deadline.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::SinkExt;
use nodelink::client::{Client, ClientError, ClientEvent};
use nodelink::server::{Server, ServerError};
use nodelink::wire::CloseReason;
use nodelink::{PlayerId, Protocol};
use nodelink_examples::{
    Avatar, Game, OnToServer, ToClient, ToServer, ToServerChat, ToServerHandler, ToServerMove,
};
use nodelink_tests::{local_config, raw_connect, serve, within, Seen, Watcher};
use tokio_tungstenite::tungstenite::Message;

/// The example game's server: moves set the position, chat is broadcast.
fn game_server(config: nodelink::server::ServerConfig) -> Server<Game> {
    let mut server = Server::<Game>::new(config);
    server.on_move(|ctx, ToServerMove { x, y }| {
        ctx.player().state_mut().set_x(x).set_y(y);
    });
    server.on_chat(|ctx, ToServerChat { msg }| {
        let from = ctx.id();
        ctx.broadcast(ToClient::Chat { from, msg });
    });
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_clients_move_and_every_mirror_matches_the_server() {
    let running = serve(game_server(local_config())).await;
    let mut clients = Vec::new();
    for _ in 0..50 {
        clients.push(Watcher::connect(&running.url()).await);
    }
    let expected: HashMap<PlayerId, (f32, f32)> = clients
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.unwrap(), (i as f32, -(i as f32))))
        .collect();
    for client in &clients {
        let (x, y) = expected[&client.id.unwrap()];
        client.sender.send(ToServer::Move { x, y }).unwrap();
    }

    let matches = |world: &nodelink::IdMap<Avatar>| {
        world.len() == 50
            && expected
                .iter()
                .all(|(id, (x, y))| world.get(id).is_some_and(|a| a.x == *x && a.y == *y))
    };
    for client in &mut clients {
        client
            .world_where("every move in this mirror", matches)
            .await;
    }

    let server_view = within("the server's players", running.handle.players())
        .await
        .unwrap();
    assert_eq!(server_view.len(), 50);
    for info in &server_view {
        for client in &clients {
            assert_eq!(
                client.world.get(&info.id),
                Some(&info.state),
                "mirror of {}",
                info.id
            );
        }
    }
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_big_world_reaches_a_newcomer_in_several_bounded_frames() {
    // Chat sets the player's name: six 3 KB names make a 18 KB world, more than
    // two snapshot frames' worth.
    let mut server = Server::<Game>::new(local_config());
    server.on_chat(|ctx, ToServerChat { msg }| {
        ctx.player().state_mut().set_name(msg);
    });
    let running = serve(server).await;
    let mut players = Vec::new();
    for i in 0..6u8 {
        let watcher = Watcher::connect(&running.url()).await;
        let name = char::from(b'a' + i).to_string().repeat(3000);
        watcher.sender.send(ToServer::Chat { msg: name }).unwrap();
        players.push(watcher);
    }
    let last = players.last_mut().unwrap();
    last.world_where("every name set", |world| {
        world.values().filter(|a| a.name.len() == 3000).count() == 6
    })
    .await;

    let mut newcomer = Watcher::connect(&running.url()).await;
    let mut frames = Vec::new();
    let named = newcomer
        .next_where("the whole world", |seen| match seen {
            Seen::Sync(sync, world) => {
                frames.push((sync.full, sync.more, sync.joined.len()));
                (!sync.more).then(|| world.values().filter(|a| a.name.len() == 3000).count())
            }
            _ => None,
        })
        .await;
    assert_eq!(named, 6, "the snapshot's last frame completes the world");
    assert!(frames.len() > 1, "one frame: {frames:?}");
    assert!(frames[0].0, "the first frame is the full one: {frames:?}");
    assert!(frames[1..].iter().all(|(full, ..)| !full), "{frames:?}");
    // Every frame but the last says the snapshot goes on; the last completes it.
    let (last, before) = frames.split_last().unwrap();
    assert!(before.iter().all(|(_, more, _)| *more), "{frames:?}");
    assert!(!last.1, "{frames:?}");
    assert_eq!(
        frames.iter().map(|(.., joined)| joined).sum::<usize>(),
        7,
        "{frames:?}"
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_sent_before_connect_are_handled_first_and_in_order() {
    let (tx, rx) = std::sync::mpsc::channel();
    let mut server = Server::<Game>::new(local_config());
    server.on_chat(move |_, ToServerChat { msg }| {
        tx.send(msg).unwrap();
    });
    let running = serve(server).await;

    let mut client = Watcher::start(&running.url(), |client| {
        client
            .send(ToServer::Chat {
                msg: "queued 1".into(),
            })
            .unwrap();
        client
            .send(ToServer::Chat {
                msg: "queued 2".into(),
            })
            .unwrap();
        client.on_connect(|ctx| {
            ctx.send(ToServer::Chat {
                msg: "from on_connect".into(),
            })
            .unwrap();
        });
    });
    // This test's on_connect replaced the watcher's: the snapshot that follows the
    // welcome shows the connection is open.
    client
        .next_where("the snapshot", |seen| {
            matches!(seen, Seen::Sync(s, _) if s.full).then_some(())
        })
        .await;
    client
        .sender
        .send(ToServer::Chat {
            msg: "after".into(),
        })
        .unwrap();

    let received: Vec<String> = within("four chats", async {
        tokio::task::spawn_blocking(move || (0..4).map(|_| rx.recv().unwrap()).collect())
            .await
            .unwrap()
    })
    .await;
    assert_eq!(
        received,
        ["queued 1", "queued 2", "from on_connect", "after"]
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcast_kick_and_queries_work_from_a_plain_thread() {
    let running = serve(game_server(local_config())).await;
    let mut alice = Watcher::connect(&running.url()).await;
    let mut bob = Watcher::connect(&running.url()).await;
    let (alice_id, bob_id) = (alice.id.unwrap(), bob.id.unwrap());
    alice
        .sender
        .send(ToServer::Move { x: 3.0, y: 4.0 })
        .unwrap();
    alice
        .world_where("alice's move", |w| {
            w.get(&alice_id).is_some_and(|a| a.x == 3.0)
        })
        .await;

    let handle = running.handle.clone();
    let from_thread = std::thread::spawn(move || {
        let players = handle.get_players().unwrap();
        let alice = handle.get_player(alice_id).unwrap().unwrap();
        let count = handle.player_count();
        handle
            .broadcast(ToClient::Chat {
                from: alice_id,
                msg: "from a thread".into(),
            })
            .unwrap();
        handle.kick(bob_id).unwrap();
        (players.len(), alice.state, count)
    });
    let (listed, alice_state, count) = within(
        "the thread",
        tokio::task::spawn_blocking(move || from_thread.join().unwrap()),
    )
    .await
    .unwrap();
    assert_eq!((listed, count), (2, 2));
    assert_eq!((alice_state.x, alice_state.y), (3.0, 4.0));

    for client in [&mut alice, &mut bob] {
        let msg = client
            .next_where("the broadcast", |seen| match seen {
                Seen::Event(ToClient::Chat { msg, .. }) => Some(msg.clone()),
                _ => None,
            })
            .await;
        assert_eq!(msg, "from a thread");
    }
    let reason = bob
        .next_where("bob's disconnect", |seen| match seen {
            Seen::Disconnected(reason) => Some(reason.clone()),
            _ => None,
        })
        .await;
    assert_eq!(reason.close_reason(), Some(CloseReason::Kicked));
    alice
        .world_where("bob gone from alice's mirror", |w| {
            !w.contains_key(&bob_id) && w.contains_key(&alice_id)
        })
        .await;
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_leaves_everyone_else_playing() {
    let errors = Arc::new(Mutex::new(Vec::new()));
    let mut server = game_server(local_config());
    server.on_ready(|_| -> nodelink::HandlerResult { panic!("boom") });
    let seen_errors = errors.clone();
    server.on_error(move |error, player| {
        let is_panic = matches!(
            error,
            ServerError::Panic {
                handler: "ready",
                ..
            }
        );
        seen_errors
            .lock()
            .unwrap()
            .push((is_panic, player.map(|p| p.id())));
    });
    let running = serve(server).await;

    let mut players = Vec::new();
    for _ in 0..10 {
        players.push(Watcher::connect(&running.url()).await);
    }
    let culprit = players[0].id.unwrap();
    players[0].sender.send(ToServer::Ready).unwrap();
    for (i, player) in players.iter().enumerate().skip(1) {
        player
            .sender
            .send(ToServer::Move {
                x: i as f32,
                y: 1.0,
            })
            .unwrap();
    }
    let others: Vec<(PlayerId, f32)> = players
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, p)| (p.id.unwrap(), i as f32))
        .collect();
    for player in &mut players {
        player
            .world_where("the other nine moves", |w| {
                others
                    .iter()
                    .all(|(id, x)| w.get(id).is_some_and(|a| a.x == *x))
            })
            .await;
    }
    // The culprit is still connected and still served.
    players[0]
        .sender
        .send(ToServer::Move { x: 99.0, y: 0.0 })
        .unwrap();
    players[1]
        .world_where("the culprit's later move", |w| {
            w.get(&culprit).is_some_and(|a| a.x == 99.0)
        })
        .await;
    assert_eq!(errors.lock().unwrap().as_slice(), [(true, Some(culprit))]);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forced_full_sync_arrives_before_the_next_tick() {
    let running = serve(game_server(local_config().tick_rate(1))).await;
    let mut client = Watcher::connect(&running.url()).await;
    let id = client.id.unwrap();
    client
        .sender
        .send(ToServer::Move { x: 1.0, y: 1.0 })
        .unwrap();
    // Right after a tick's frame, the next tick is a second away.
    let tick = client
        .next_where("the move's tick", |seen| match seen {
            Seen::Sync(sync, world) if !sync.full && world.get(&id).is_some_and(|a| a.x == 1.0) => {
                Some(sync.tick)
            }
            _ => None,
        })
        .await;
    running.handle.sync_state(true).unwrap();
    let forced = client
        .next_where("the forced snapshot", |seen| match seen {
            Seen::Sync(sync, _) if sync.full => Some(sync.clone()),
            _ => None,
        })
        .await;
    assert_eq!(forced.tick, tick, "no tick passed before the forced sync");
    assert_eq!(forced.changes.len(), 1);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_delta_only_every_tick_carries_whole_states() {
    let running = serve(game_server(local_config().delta_only(false))).await;
    let mut alice = Watcher::connect(&running.url()).await;
    let bob = Watcher::connect(&running.url()).await;
    bob.sender.send(ToServer::Move { x: 5.0, y: 0.0 }).unwrap();
    let bob_id = bob.id.unwrap();
    let sync = alice
        .next_where("a tick with both players", |seen| match seen {
            Seen::Sync(sync, world) if world.get(&bob_id).is_some_and(|a| a.x == 5.0) => {
                Some(sync.clone())
            }
            _ => None,
        })
        .await;
    assert_eq!(sync.changes.len(), 2, "both players, changed or not");
    for (_, delta) in &sync.changes {
        assert!(
            delta.x.is_some() && delta.y.is_some() && delta.name.is_some(),
            "whole states"
        );
    }
    // Nothing changes now, and frames keep coming.
    let next = alice
        .next_where("an unchanged tick", |seen| match seen {
            Seen::Sync(next, _) if next.tick > sync.tick => Some(next.changes.len()),
            _ => None,
        })
        .await;
    assert_eq!(next, 2);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_frames_arrive_at_the_tick_rate() {
    let running = serve(game_server(local_config().tick_rate(20).delta_only(false))).await;
    let mut client = Watcher::connect(&running.url()).await;
    client
        .next_where("the first tick", |seen| {
            matches!(seen, Seen::Sync(s, _) if !s.full).then_some(())
        })
        .await;
    let start = Instant::now();
    let mut frames = 0;
    while frames < 40 {
        client
            .next_where("a tick", |seen| {
                matches!(seen, Seen::Sync(s, _) if !s.full).then_some(())
            })
            .await;
        frames += 1;
    }
    let rate = f64::from(frames) / start.elapsed().as_secs_f64();
    assert!(
        (10.0..=30.0).contains(&rate),
        "{rate:.1} frames/s at tick rate 20"
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_sent_on_a_tick_without_change() {
    let running = serve(game_server(local_config().tick_rate(50))).await;
    let mut client = Watcher::connect(&running.url()).await;
    client
        .sender
        .send(ToServer::Move { x: 1.0, y: 0.0 })
        .unwrap();
    let id = client.id.unwrap();
    client
        .world_where("the move", |w| w.get(&id).is_some_and(|a| a.x == 1.0))
        .await;
    // Let ten ticks pass with nothing changing; a chat then goes through the same
    // connection, after any frame those ticks produced.
    let before = within("stats", running.handle.stats()).await.unwrap();
    within("ten ticks", async {
        while running.handle.stats().await.unwrap().ticks < before.ticks + 10 {
            tokio::task::yield_now().await;
        }
    })
    .await;
    let after = running.handle.stats().await.unwrap();
    assert_eq!(
        after.frames, before.frames,
        "no frame built on a tick without change"
    );
    assert_eq!(after.players, 1);
    client
        .sender
        .send(ToServer::Chat {
            msg: "marker".into(),
        })
        .unwrap();
    let before_marker = within("the marker", async {
        let mut syncs = 0;
        loop {
            match client.next("the marker").await {
                Seen::Event(ToClient::Chat { .. }) => return syncs,
                Seen::Sync(..) => syncs += 1,
                _ => {}
            }
        }
    })
    .await;
    assert_eq!(before_marker, 0, "sync frames on ticks with no change");
    running.stop().await;
}

mod other {
    /// The same game with one more event: a different build.
    #[nodelink::events]
    pub(crate) enum ToServer {
        Move { x: f32, y: f32 },
        Chat { msg: String },
        Ready,
        Jump,
    }

    #[nodelink::protocol(state = nodelink_examples::Avatar, to_server = ToServer, to_client = nodelink_examples::ToClient)]
    pub(crate) struct OtherGame;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_built_with_another_protocol_is_refused() {
    let connects = Arc::new(AtomicUsize::new(0));
    let mut server = game_server(local_config());
    let counter = connects.clone();
    server.on_connect(move |_| {
        counter.fetch_add(1, Ordering::Relaxed);
    });
    let running = serve(server).await;
    let client = Client::<other::OtherGame>::from_url(running.url());
    let error = within("the refusal", client.run()).await.unwrap_err();
    match &error {
        ClientError::ProtocolMismatch { client, server } => {
            assert_eq!(*client, other::OtherGame::FINGERPRINT);
            assert_eq!(*server, Some(Game::FINGERPRINT));
        }
        other => panic!("expected a protocol mismatch, got {other}"),
    }
    let message = error.to_string();
    assert!(
        message.contains(&format!("{:016x}", Game::FINGERPRINT)),
        "{message}"
    );
    assert!(
        message.contains(&format!("{:016x}", other::OtherGame::FINGERPRINT)),
        "{message}"
    );
    assert_eq!(connects.load(Ordering::Relaxed), 0, "no player was created");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_disconnect_fires_once_for_every_way_of_leaving() {
    let (tx, mut left) = tokio::sync::mpsc::unbounded_channel();
    // A lost connection leaves once its grace period is over, unresumed.
    let mut server = game_server(local_config().resume_grace(Duration::from_millis(200)));
    server.on_disconnect(move |ctx| {
        tx.send(ctx.id()).unwrap();
    });
    let running = serve(server).await;

    let closes = Watcher::connect(&running.url()).await;
    let kicked = Watcher::connect(&running.url()).await;
    let dropped = Watcher::connect(&running.url()).await;
    let at_shutdown = Watcher::connect(&running.url()).await;

    closes.sender.disconnect();
    assert_eq!(within("close", left.recv()).await, closes.id);
    running.handle.kick(kicked.id.unwrap()).unwrap();
    assert_eq!(within("kick", left.recv()).await, kicked.id);
    dropped.task.abort(); // the socket goes away without a close frame
    assert_eq!(within("dropped socket", left.recv()).await, dropped.id);
    running.handle.shutdown();
    assert_eq!(within("shutdown", left.recv()).await, at_shutdown.id);
    within("the server to stop", running.task).await.unwrap();
    assert!(left.try_recv().is_err(), "each player left exactly once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_every_connection_with_a_reason_and_returns() {
    let running = serve(game_server(local_config())).await;
    let mut clients = Vec::new();
    for _ in 0..5 {
        clients.push(Watcher::connect(&running.url()).await);
    }
    running.handle.shutdown();
    for client in &mut clients {
        let reason = client
            .next_where("the close frame", |seen| match seen {
                Seen::Disconnected(reason) => Some(reason.clone()),
                _ => None,
            })
            .await;
        assert_eq!(reason.close_reason(), Some(CloseReason::ServerShutdown));
    }
    within("run to return", running.task).await.unwrap();
    assert_eq!(running.handle.player_count(), 0);
    assert!(
        running.handle.kick(PlayerId::from_raw(1)).is_err(),
        "the handle reports the stop"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_frames_reach_on_error_and_the_player_stays() {
    let (tx, mut errors) = tokio::sync::mpsc::unbounded_channel();
    let mut server = game_server(local_config());
    server.on_error(move |error, player| {
        tx.send((error.to_string(), player.map(|p| p.id())))
            .unwrap();
    });
    let running = serve(server).await;
    let mut watcher = Watcher::connect(&running.url()).await;
    let (mut raw, raw_id) = raw_connect(&running.url()).await;

    // An event this server does not know (what an older client would send), then a
    // text frame, then a valid move: the first two are reported, the move applies.
    let mut unknown = vec![0x92, 0x01, 0xa8];
    unknown.extend_from_slice(b"teleport");
    raw.send(Message::Binary(unknown.into())).await.unwrap();
    assert_eq!(
        within("the unknown event's error", errors.recv())
            .await
            .unwrap(),
        (
            "undecodable frame: unknown event `teleport`".to_owned(),
            Some(raw_id)
        )
    );
    raw.send(Message::Text("{}".into())).await.unwrap();
    let (message, player) = within("the text frame's error", errors.recv())
        .await
        .unwrap();
    assert_eq!(
        (message.starts_with("text frame ignored"), player),
        (true, Some(raw_id))
    );

    let frame = nodelink::wire::encode_event(&ToServer::Move { x: 2.0, y: 2.0 }).unwrap();
    raw.send(Message::Binary(frame)).await.unwrap();
    watcher
        .world_where("the raw client's move", |w| {
            w.get(&raw_id).is_some_and(|a| a.x == 2.0)
        })
        .await;
    assert!(errors.try_recv().is_err());
    running.stop().await;
}

#[derive(Clone)]
struct Tally {
    moves: Arc<AtomicUsize>,
}

impl ToServerHandler<Server<Game>> for Tally {
    fn on_move(
        &mut self,
        ctx: &mut nodelink::server::EventCtx<'_, Game>,
        ToServerMove { x, y }: ToServerMove,
    ) -> nodelink::HandlerResult {
        self.moves.fetch_add(1, Ordering::Relaxed);
        ctx.player().state_mut().set_x(x).set_y(y);
        Ok(())
    }

    fn on_chat(
        &mut self,
        ctx: &mut nodelink::server::EventCtx<'_, Game>,
        ToServerChat { msg }: ToServerChat,
    ) -> nodelink::HandlerResult {
        let from = ctx.id();
        ctx.broadcast(ToClient::Chat { from, msg });
        Ok(())
    }

    fn on_ready(
        &mut self,
        _: &mut nodelink::server::EventCtx<'_, Game>,
    ) -> nodelink::HandlerResult {
        Err("not ready yet".into())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhaustive_handler_serves_every_event() {
    let moves = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(Mutex::new(Vec::new()));
    let mut server = Server::<Game>::new(local_config());
    server.handle_all(Tally {
        moves: moves.clone(),
    });
    let seen = errors.clone();
    server.on_error(move |error, _| seen.lock().unwrap().push(error.to_string()));
    let running = serve(server).await;
    let mut client = Watcher::connect(&running.url()).await;
    let id = client.id.unwrap();
    client.sender.send(ToServer::Ready).unwrap();
    client
        .sender
        .send(ToServer::Move { x: 7.0, y: 8.0 })
        .unwrap();
    client
        .sender
        .send(ToServer::Chat { msg: "hi".into() })
        .unwrap();
    // The chat is broadcast at once; the move waits for the next tick.
    client
        .next_where("the chat", |seen| {
            matches!(seen, Seen::Event(ToClient::Chat { .. })).then_some(())
        })
        .await;
    client
        .world_where("the move", |w| w.get(&id).is_some_and(|a| a.x == 7.0))
        .await;
    assert_eq!(moves.load(Ordering::Relaxed), 1);
    assert_eq!(
        errors.lock().unwrap().as_slice(),
        ["ready handler failed: not ready yet"]
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_polling_client_drains_events_and_mirrors_the_world() {
    let running = serve(game_server(local_config())).await;
    let mut other = Watcher::connect(&running.url()).await;
    let other_id = other.id.unwrap();
    let url = running.url();
    let polled = tokio::task::spawn_blocking(move || {
        let mut game = Client::<Game>::from_url(url).spawn().unwrap();
        game.send(ToServer::Move { x: 4.0, y: 4.0 }).unwrap();
        let deadline = Instant::now() + nodelink_tests::DEADLINE;
        let mut seen_chat = false;
        // A game loop: drain, read the mirror, act.
        while Instant::now() < deadline {
            for event in game.wait(Duration::from_millis(100)) {
                if let ClientEvent::Event(ToClient::Chat { msg, .. }) = event {
                    seen_chat = msg == "hello poller";
                }
            }
            let me = game.id().and_then(|id| game.world().get(id).cloned());
            if seen_chat && me.is_some_and(|a| a.x == 4.0) && game.world().get(other_id).is_some() {
                return Ok(game.world().len());
            }
        }
        Err(format!("{:?}", game))
    });
    other
        .world_where("the poller's move", |w| w.values().any(|a| a.x == 4.0))
        .await;
    other
        .sender
        .send(ToServer::Chat {
            msg: "hello poller".into(),
        })
        .unwrap();
    let players = within("the polling client", polled)
        .await
        .unwrap()
        .expect("the poller saw everything");
    assert_eq!(players, 2);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn player_api_changes_state_and_reaches_one_player() {
    let mut server = game_server(local_config());
    server.on_chat(|ctx, ToServerChat { msg }| match msg.as_str() {
        "rename" => ctx.player().update_state(|a| {
            a.name = "ada".into();
            a.x = 1.0;
        }),
        "reset" => ctx.player().clear_state(),
        "whisper" => {
            let me = ctx.id();
            ctx.player()
                .send(ToClient::Chat {
                    from: me,
                    msg: "only you".into(),
                })
                .unwrap();
        }
        _ => {
            let from = ctx.id();
            ctx.broadcast(ToClient::Chat { from, msg });
        }
    });
    let running = serve(server).await;
    let mut ada = Watcher::connect(&running.url()).await;
    let mut bob = Watcher::connect(&running.url()).await;
    let ada_id = ada.id.unwrap();

    let joined_at = running.handle.player(ada_id).await.unwrap().unwrap();
    ada.sender
        .send(ToServer::Chat {
            msg: "rename".into(),
        })
        .unwrap();
    bob.world_where("ada renamed", |w| {
        w.get(&ada_id)
            .is_some_and(|a| a.name == "ada" && a.x == 1.0)
    })
    .await;
    let later = running.handle.player(ada_id).await.unwrap().unwrap();
    assert_eq!(later.connected_at, joined_at.connected_at);
    assert!(
        later.last_seen > joined_at.last_seen,
        "last_seen follows inbound frames"
    );

    ada.sender
        .send(ToServer::Chat {
            msg: "reset".into(),
        })
        .unwrap();
    bob.world_where("ada reset", |w| w.get(&ada_id) == Some(&Avatar::default()))
        .await;

    ada.sender
        .send(ToServer::Chat {
            msg: "whisper".into(),
        })
        .unwrap();
    ada.next_where("the whisper", |seen| {
        matches!(seen, Seen::Event(ToClient::Chat { msg, .. }) if msg == "only you").then_some(())
    })
    .await;
    // Bob hears a later broadcast but never the whisper.
    ada.sender
        .send(ToServer::Chat {
            msg: "to all".into(),
        })
        .unwrap();
    let first_chat = bob
        .next_where("the broadcast", |seen| match seen {
            Seen::Event(ToClient::Chat { msg, .. }) => Some(msg.clone()),
            _ => None,
        })
        .await;
    assert_eq!(first_chat, "to all");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_joiner_gets_one_snapshot_and_the_others_only_its_entry() {
    let running = serve(game_server(local_config())).await;
    let mut early = Watcher::connect(&running.url()).await;
    let early_id = early.id.unwrap();
    early
        .sender
        .send(ToServer::Move { x: 9.0, y: 9.0 })
        .unwrap();
    early
        .world_where("the early move", |w| {
            w.get(&early_id).is_some_and(|a| a.x == 9.0)
        })
        .await;

    let mut late = Watcher::start(&running.url(), |_| {});
    let late_id = late.connected().await;
    let snapshot = late
        .next_where("the snapshot", |seen| match seen {
            Seen::Sync(sync, world) => Some((sync.full, world.clone())),
            _ => None,
        })
        .await;
    assert!(
        snapshot.0,
        "the first frame a joiner sees is a full snapshot"
    );
    assert_eq!(snapshot.1.get(&early_id).map(|a| a.x), Some(9.0));

    let announced = early
        .next_where("the newcomer", |seen| match seen {
            Seen::Sync(sync, _) if sync.joined.contains(&late_id) => Some(sync.clone()),
            _ => None,
        })
        .await;
    assert!(
        !announced.full,
        "existing players are not sent the whole world again"
    );
    assert!(
        announced.changes.iter().all(|(id, _)| *id == late_id),
        "{:?}",
        announced.changes
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_queue_is_bounded_and_says_so_when_full() {
    let mut config = nodelink::client::ClientConfig::default();
    config.send_queue_len = 2;
    // A port that was free a moment ago: nothing listens, the events wait.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let client = Client::<Game>::with_config(format!("ws://{closed}/"), config);
    client.send(ToServer::Ready).unwrap();
    client.send(ToServer::Ready).unwrap();
    let error = client.send(ToServer::Ready).unwrap_err();
    assert!(
        matches!(error, ClientError::QueueFull { capacity: 2 }),
        "{error:?}"
    );
    assert_eq!(error.to_string(), "send queue is full (2 frames)");
    let failed = within("the refused connection", client.run())
        .await
        .unwrap_err();
    assert!(matches!(failed, ClientError::Connect { .. }), "{failed}");
}

/// Sends a close frame with code 1000 and reads until the server's answer: its
/// close code, after which the connection must end cleanly.
async fn close_from_client(socket: &mut nodelink_tests::RawSocket) -> u16 {
    use futures::StreamExt;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
    use tokio_tungstenite::tungstenite::protocol::CloseFrame;

    let bye = CloseFrame {
        code: CloseCode::Normal,
        reason: "bye".into(),
    };
    within("sending the close", socket.send(Message::Close(Some(bye))))
        .await
        .unwrap();
    let answer = within("the server's close frame", async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(frame))) => break frame,
                Some(Ok(_)) => {} // frames already on their way
                other => panic!("the connection ended without a close frame: {other:?}"),
            }
        }
    })
    .await;
    // After the closing handshake the stream ends without an error.
    let end = within("the end of the stream", socket.next()).await;
    assert!(end.is_none(), "after the close: {end:?}");
    u16::from(answer.expect("a close code").code)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_closes_gets_its_close_answered_on_both_wires() {
    let left = Arc::new(AtomicUsize::new(0));
    let mut server = Server::<Game>::new(local_config());
    let count = left.clone();
    server.on_disconnect(move |_| {
        count.fetch_add(1, Ordering::SeqCst);
    });
    let running = serve(server).await;

    let (mut native, _) = raw_connect(&running.url()).await;
    assert_eq!(close_from_client(&mut native).await, 1000);

    let connecting = tokio_tungstenite::connect_async(running.url());
    let (mut json, _) = within("a JSON connection", connecting).await.unwrap();
    assert_eq!(close_from_client(&mut json).await, 1000);

    nodelink_tests::eventually("both players gone", || left.load(Ordering::SeqCst) == 2).await;
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_joining_player_is_announced_with_every_field() {
    use futures::StreamExt;

    let running = serve(Server::<Game>::new(local_config())).await;
    let (mut first, _) = raw_connect(&running.url()).await;
    // The newcomer changes nothing: its announcement must still carry its whole
    // state, so that a client needs no knowledge of the state's defaults.
    let (_second, second) = raw_connect(&running.url()).await;
    let entry = within("the newcomer's announcement", async {
        loop {
            let Some(Ok(Message::Binary(bytes))) = first.next().await else {
                panic!("the connection ended");
            };
            let Ok(nodelink::wire::ServerFrame::Sync(frame)) =
                nodelink::wire::decode_server_frame::<Game>(&bytes, usize::MAX)
            else {
                continue;
            };
            if let Some((net_id, _)) = frame.joined.iter().find(|(_, id)| *id == second) {
                let entry = frame.players.iter().find(|(net, _)| net == net_id).cloned();
                break entry;
            }
        }
    })
    .await;
    let (_, delta) = entry.expect("an entry for the joined player");
    assert_eq!(
        <Avatar as nodelink::SyncState>::delta_mask(&delta),
        <Avatar as nodelink::SyncState>::ALL
    );
    running.stop().await;
}
