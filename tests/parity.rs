//! What Python nodelink 0.6.0 does beyond its page, typed: rooms (and room-scoped
//! sync), on_tick, middleware, shared server state, ping, reconnect, id generator,
//! sync statistics. Real WebSockets on 127.0.0.1, every wait under a deadline.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use nodelink::client::{Client, ClientConfig, ClientError, Reconnect};
use nodelink::server::{Server, ServerConfig, SyncScope};
use nodelink::wire::CloseReason;
use nodelink::{PlayerId, Verdict};
use nodelink_examples::{
    Game, OnToServer, ToClient, ToServer, ToServerChat, ToServerChatMut, ToServerMove,
    ToServerMoveMut,
};
use nodelink_tests::{eventually, local_config, serve, within, Seen, Watcher};

/// The example game, plus chat commands that drive rooms:
/// `join ROOM`, `leave ROOM`, `say ROOM TEXT` (to the room but the sender),
/// `info ROOM` (replies "count has"), `drop ROOM`.
fn rooms_server(config: ServerConfig) -> Server<Game> {
    let mut server = Server::<Game>::new(config);
    server.on_move(|ctx, ToServerMove { x, y }| {
        ctx.player().state_mut().set_x(x).set_y(y);
    });
    server.on_chat(|ctx, ToServerChat { msg }| {
        let id = ctx.id();
        let (command, rest) = msg.split_once(' ').unwrap_or((msg.as_str(), ""));
        match command {
            "join" => {
                ctx.create_room(rest).add(id);
            }
            "leave" => {
                if let Some(mut room) = ctx.room_mut(rest) {
                    room.remove(id);
                }
            }
            "say" => {
                let (room, text) = rest.split_once(' ').unwrap_or((rest, ""));
                if let Some(mut room) = ctx.room_mut(room) {
                    let chat = ToClient::Chat {
                        from: id,
                        msg: text.to_owned(),
                    };
                    room.broadcast_except(chat, id);
                }
            }
            "info" => {
                let reply = match ctx.room(rest) {
                    Some(room) => format!("{} {}", room.count(), room.has(id)),
                    None => "none".to_owned(),
                };
                let _ = ctx.player().send(ToClient::Chat {
                    from: id,
                    msg: reply,
                });
            }
            "drop" => {
                ctx.remove_room(rest);
            }
            _ => ctx.broadcast(ToClient::Chat { from: id, msg }),
        }
    });
    server
}

fn chat(text: &str) -> ToServer {
    ToServer::Chat {
        msg: text.to_owned(),
    }
}

async fn next_chat(watcher: &mut Watcher, what: &str) -> String {
    watcher
        .next_where(what, |seen| match seen {
            Seen::Event(ToClient::Chat { msg, .. }) => Some(msg.clone()),
            _ => None,
        })
        .await
}

async fn rooms_of(running: &nodelink_tests::Running<Game>) -> Vec<(String, Vec<PlayerId>)> {
    let mut rooms = within("the rooms", running.handle.rooms()).await.unwrap();
    rooms.sort();
    rooms
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_group_players_and_scope_broadcasts() {
    let running = serve(rooms_server(local_config())).await;
    let mut alice = Watcher::connect(&running.url()).await;
    let mut bob = Watcher::connect(&running.url()).await;
    let mut carol = Watcher::connect(&running.url()).await;
    let (a, b, c) = (alice.id.unwrap(), bob.id.unwrap(), carol.id.unwrap());

    // One player's events are ordered; different players' are not, so each step
    // waits for the previous one's answer.
    alice.sender.send(chat("join lobby")).unwrap();
    alice.sender.send(chat("info lobby")).unwrap();
    assert_eq!(next_chat(&mut alice, "alice's room info").await, "1 true");
    bob.sender.send(chat("join lobby")).unwrap();
    bob.sender.send(chat("info lobby")).unwrap();
    assert_eq!(next_chat(&mut bob, "bob's room info").await, "2 true");
    carol.sender.send(chat("join vip")).unwrap();
    carol.sender.send(chat("info lobby")).unwrap();
    assert_eq!(next_chat(&mut carol, "carol's room info").await, "2 false");
    let mut lobby = vec![a, b];
    lobby.sort();
    assert_eq!(
        rooms_of(&running).await,
        [("lobby".to_owned(), lobby), ("vip".to_owned(), vec![c])]
    );

    // A room broadcast reaches the other members only.
    alice.sender.send(chat("say lobby hello lobby")).unwrap();
    assert_eq!(
        next_chat(&mut bob, "the room broadcast").await,
        "hello lobby"
    );
    alice.sender.send(chat("everyone")).unwrap();
    assert_eq!(
        next_chat(&mut alice, "the marker").await,
        "everyone",
        "the sender was excluded"
    );
    assert_eq!(
        next_chat(&mut carol, "the marker").await,
        "everyone",
        "outsiders hear nothing"
    );

    // Leaving, disconnecting and removing rooms.
    alice.sender.send(chat("leave lobby")).unwrap();
    alice.sender.send(chat("info lobby")).unwrap();
    assert_eq!(next_chat(&mut alice, "info after leaving").await, "1 false");
    bob.sender.disconnect();
    eventually("bob to go", || running.handle.player_count() == 2).await;
    assert_eq!(
        rooms_of(&running).await,
        [("lobby".to_owned(), vec![]), ("vip".to_owned(), vec![c])]
    );
    carol.sender.send(chat("drop vip")).unwrap();
    carol.sender.send(chat("info vip")).unwrap();
    assert_eq!(
        next_chat(&mut carol, "info of a removed room").await,
        "none"
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_scoped_sync_shows_each_client_only_its_rooms() {
    let running = serve(rooms_server(local_config().sync_scope(SyncScope::Rooms))).await;
    let mut alice = Watcher::connect(&running.url()).await;
    let mut bob = Watcher::connect(&running.url()).await;
    let mut carol = Watcher::connect(&running.url()).await;
    let (a, b, c) = (alice.id.unwrap(), bob.id.unwrap(), carol.id.unwrap());

    alice.sender.send(chat("join red")).unwrap();
    bob.sender.send(chat("join red")).unwrap();
    carol.sender.send(chat("join blue")).unwrap();
    alice
        .sender
        .send(ToServer::Move { x: 7.0, y: 7.0 })
        .unwrap();
    bob.world_where("alice's move in red", |w| {
        w.get(&a).is_some_and(|s| s.x == 7.0)
    })
    .await;

    // Carol, in another room, moves; by the time she sees her own move, every
    // frame of alice's earlier tick has been queued for whoever should get it.
    carol
        .sender
        .send(ToServer::Move { x: 3.0, y: 3.0 })
        .unwrap();
    let mut mentioned = Vec::new();
    carol
        .next_where("carol's own move", |seen| match seen {
            Seen::Sync(sync, world) => {
                mentioned.extend(sync.changes.iter().map(|(id, _)| *id));
                mentioned.extend(sync.joined.iter().copied());
                world.get(&c).is_some_and(|s| s.x == 3.0).then_some(())
            }
            _ => None,
        })
        .await;
    assert!(
        !mentioned.contains(&a) && !mentioned.contains(&b),
        "carol saw red: {mentioned:?}"
    );
    assert_eq!(carol.world.keys().collect::<Vec<_>>(), [&c]);

    // Carol joins red: both sides see each other at once, with whole states.
    carol.sender.send(chat("join red")).unwrap();
    carol
        .world_where("red revealed to carol", |w| {
            w.len() == 3 && w.get(&a).is_some_and(|s| s.x == 7.0)
        })
        .await;
    alice
        .world_where("carol revealed to alice", |w| {
            w.get(&c).is_some_and(|s| s.x == 3.0)
        })
        .await;

    // And leaves it: out of sight again.
    carol.sender.send(chat("leave red")).unwrap();
    carol
        .world_where("red hidden from carol", |w| w.len() == 1)
        .await;
    alice
        .world_where("carol hidden from alice", |w| {
            !w.contains_key(&c) && w.len() == 2
        })
        .await;
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_tick_runs_before_the_same_ticks_sync_and_survives_errors() {
    let errors = Arc::new(Mutex::new(Vec::new()));
    let mut server = rooms_server(local_config().tick_rate(50));
    let ticks_seen = Arc::new(Mutex::new(Vec::new()));
    let dts = ticks_seen.clone();
    server.on_tick(move |ctx, dt| {
        dts.lock().unwrap().push(dt);
        let tick = ctx.tick().0 as u32;
        ctx.server_state_mut().set_round(tick);
        if tick == 5 {
            return Err("tick five is cursed".into());
        }
        Ok::<(), nodelink::HandlerError>(())
    });
    let seen = errors.clone();
    server.on_error(move |error, player| {
        seen.lock()
            .unwrap()
            .push((error.to_string(), player.is_none()));
    });
    let running = serve(server).await;
    let mut client = Watcher::connect(&running.url()).await;

    // The round set during tick T arrives in tick T's own frame.
    for _ in 0..3 {
        let (tick, round) = client
            .next_where("a tick's frame", |seen| match seen {
                Seen::Sync(sync, _) if !sync.full => sync
                    .server
                    .as_ref()
                    .and_then(|s| s.round)
                    .map(|r| (sync.tick.0, r)),
                _ => None,
            })
            .await;
        assert_eq!(u64::from(round), tick);
    }
    // The error in tick 5 was reported without a player, and ticks went on.
    client
        .next_where("ticks after the failing one", |seen| match seen {
            Seen::Sync(sync, _) => (sync.tick.0 > 8).then_some(()),
            _ => None,
        })
        .await;
    assert!(client.server_state().round > 8);
    assert_eq!(
        errors.lock().unwrap().as_slice(),
        [("tick handler failed: tick five is cursed".to_owned(), true)]
    );
    let dts = ticks_seen.lock().unwrap().clone();
    assert!(
        dts.iter()
            .skip(1)
            .all(|dt| *dt > Duration::ZERO && *dt < Duration::from_secs(5)),
        "{dts:?}"
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn middleware_rewrites_and_rejects_in_registration_order() {
    let order = Arc::new(Mutex::new(Vec::new()));
    let errors = Arc::new(Mutex::new(Vec::new()));
    let mut server = rooms_server(local_config());
    let first = order.clone();
    server.before_move(move |_, ToServerMoveMut { x, y }| {
        first.lock().unwrap().push("clamp");
        *x = x.clamp(0.0, 100.0);
        *y = y.clamp(0.0, 100.0);
    });
    let second = order.clone();
    server.before_move(move |_, ToServerMoveMut { x, y: _ }| {
        second.lock().unwrap().push("filter");
        // After clamping: 50 is a forbidden column.
        if *x == 50.0 {
            Verdict::Reject
        } else {
            Verdict::Pass
        }
    });
    server.before_chat(|ctx, ToServerChatMut { msg }| {
        if msg.contains("badword") {
            return Err(format!("{} swore", ctx.id()));
        }
        Ok(true)
    });
    let seen = errors.clone();
    server.on_error(move |error, _| seen.lock().unwrap().push(error.to_string()));
    let running = serve(server).await;
    let mut client = Watcher::connect(&running.url()).await;
    let id = client.id.unwrap();

    client
        .sender
        .send(ToServer::Move { x: 500.0, y: -5.0 })
        .unwrap();
    client
        .world_where("the clamped move", |w| {
            w.get(&id).is_some_and(|s| (s.x, s.y) == (100.0, 0.0))
        })
        .await;
    client
        .sender
        .send(ToServer::Move { x: 50.0, y: 50.0 })
        .unwrap();
    client.sender.send(chat("a badword")).unwrap();
    client.sender.send(chat("clean")).unwrap();
    assert_eq!(
        next_chat(&mut client, "the clean chat").await,
        "clean",
        "the rejected chat never ran"
    );
    let state = within("the player", running.handle.player(id))
        .await
        .unwrap()
        .unwrap()
        .state;
    assert_eq!(
        (state.x, state.y),
        (100.0, 0.0),
        "the rejected move changed nothing"
    );
    assert_eq!(
        order.lock().unwrap().as_slice(),
        ["clamp", "filter", "clamp", "filter"]
    );
    assert_eq!(
        errors.lock().unwrap().as_slice(),
        [format!("chat handler failed: {id} swore")]
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_server_state_reaches_everyone_and_every_joiner() {
    let mut server = rooms_server(local_config());
    server.on_connect(|ctx| {
        let id = ctx.id();
        if ctx.server_state().leader.is_none() {
            ctx.update_server_state(|m| {
                m.leader = Some(id);
                m.round = 1;
                m.time_left = 90.0;
            });
        }
    });
    let running = serve(server).await;
    let mut first = Watcher::connect(&running.url()).await;
    let leader = first.id.unwrap();
    first
        .next_where("the match state", |seen| match seen {
            Seen::Sync(sync, _) => sync
                .server
                .as_ref()
                .and_then(|s| s.leader.flatten())
                .filter(|l| *l == leader),
            _ => None,
        })
        .await;
    assert_eq!(first.server_state().round, 1);

    // A later joiner gets it in its first snapshot.
    let mut late = Watcher::start(&running.url(), |_| {});
    late.connected().await;
    late.next_where("the snapshot", |seen| match seen {
        Seen::Sync(sync, _) if sync.full => Some(()),
        _ => None,
    })
    .await;
    let mirrored = late.server_state();
    assert_eq!(
        (mirrored.leader, mirrored.round, mirrored.time_left),
        (Some(leader), 1, 90.0)
    );
    assert_eq!(
        within("the server's copy", running.handle.server_state())
            .await
            .unwrap(),
        mirrored
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pings_measure_latency_on_both_sides() {
    let running = serve(rooms_server(
        local_config().ping_interval(Duration::from_millis(30)),
    ))
    .await;
    let mut client = Watcher::connect(&running.url()).await;
    let id = client.id.unwrap();
    within("the server's measurement", async {
        while running
            .handle
            .player(id)
            .await
            .unwrap()
            .unwrap()
            .ping
            .is_none()
        {
            tokio::task::yield_now().await;
        }
    })
    .await;
    // The client learns its latency with the next ping; moves make frames to read it.
    within("the client's latency", async {
        let mut x = 0.0;
        while client.latency().is_none() {
            x += 1.0;
            client.sender.send(ToServer::Move { x, y: 0.0 }).unwrap();
            client
                .world_where("the move", |w| w.get(&id).is_some_and(|s| s.x == x))
                .await;
        }
    })
    .await;
    let ping = running
        .handle
        .player(id)
        .await
        .unwrap()
        .unwrap()
        .ping
        .unwrap();
    assert!(ping < Duration::from_secs(5) && client.latency().unwrap() < Duration::from_secs(5));
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_reconnects_with_its_queue_and_a_fresh_world() {
    let first = serve(rooms_server(local_config())).await;
    let addr = first.addr;
    let policy = Reconnect::default()
        .initial_delay(Duration::from_millis(50))
        .max_delay(Duration::from_millis(200));
    let mut client = Watcher::start_with(
        &first.url(),
        ClientConfig::default().reconnect(policy),
        |_| {},
    );
    let before = client.connected().await;
    let stale = Watcher::connect(&first.url()).await;
    let stale_id = stale.id.unwrap();
    client
        .world_where("the other player", |w| w.contains_key(&stale_id))
        .await;

    first.stop().await;
    let reason = client
        .next_where("the disconnect", |seen| match seen {
            Seen::Disconnected(reason) => Some(reason.clone()),
            _ => None,
        })
        .await;
    assert_eq!(reason.close_reason(), Some(CloseReason::ServerShutdown));
    let (attempt, delay) = client
        .next_where("a reconnection attempt", |seen| match seen {
            Seen::Reconnecting(attempt, delay) => Some((*attempt, *delay)),
            _ => None,
        })
        .await;
    assert_eq!(attempt, 1);
    assert!(delay <= Duration::from_millis(50));
    client.sender.send(chat("sent while away")).unwrap();

    // A new server on the same address.
    let (tx, mut chats) = tokio::sync::mpsc::unbounded_channel();
    let mut second = rooms_server(local_config().port(addr.port()));
    second.on_chat(move |_, ToServerChat { msg }| {
        tx.send(msg).unwrap();
    });
    let second = serve(second).await;
    let after = client.connected().await;
    assert_ne!(before, after, "a new session, a new id");
    assert_eq!(
        within("the queued chat", chats.recv()).await.unwrap(),
        "sent while away"
    );
    let world = client
        .next_where("the new snapshot", |seen| match seen {
            Seen::Sync(sync, world) if sync.full => Some(world.clone()),
            _ => None,
        })
        .await;
    assert!(
        !world.contains_key(&stale_id),
        "no stale player after the reconnect"
    );
    assert!(world.contains_key(&after));
    second.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnecting_gives_up_after_the_maximum_attempts() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let attempts = Arc::new(Mutex::new(Vec::new()));
    let seen = attempts.clone();
    let policy = Reconnect::default()
        .initial_delay(Duration::from_millis(10))
        .jitter(0.0)
        .max_attempts(Some(3));
    let mut client = Client::<Game>::with_config(
        format!("ws://{closed}/"),
        ClientConfig::default().reconnect(policy),
    );
    client.on_reconnecting(move |attempt, delay| seen.lock().unwrap().push((attempt, delay)));
    let error = within("the last attempt", client.run()).await.unwrap_err();
    assert!(matches!(error, ClientError::Connect { .. }), "{error}");
    let ms = Duration::from_millis;
    assert_eq!(
        attempts.lock().unwrap().as_slice(),
        [(1, ms(10)), (2, ms(20)), (3, ms(40))]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_id_generator_is_configurable_and_clashes_are_retried() {
    let mut server = rooms_server(local_config());
    let mut next = 0u32;
    server.id_generator(move || {
        next += 1;
        PlayerId::from_raw(0x100 + next / 2) // 0x100, 0x101, 0x101, 0x102, …
    });
    let running = serve(server).await;
    let first = Watcher::connect(&running.url()).await;
    let second = Watcher::connect(&running.url()).await;
    let third = Watcher::connect(&running.url()).await;
    let ids = [first.id.unwrap(), second.id.unwrap(), third.id.unwrap()].map(PlayerId::raw);
    assert_eq!(ids, [0x100, 0x101, 0x102], "the clash on 0x101 was retried");
    assert_eq!(second.id.unwrap().to_string(), "00000101");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_statistics_count_ticks_frames_bytes_and_players() {
    let running = serve(rooms_server(local_config())).await;
    let mut a = Watcher::connect(&running.url()).await;
    let b = Watcher::connect(&running.url()).await;
    let before = within("stats", running.handle.stats()).await.unwrap();
    b.sender.send(ToServer::Move { x: 1.0, y: 2.0 }).unwrap();
    let bid = b.id.unwrap();
    a.world_where("the move", |w| w.get(&bid).is_some_and(|s| s.x == 1.0))
        .await;
    let after = within("stats", running.handle.stats()).await.unwrap();
    assert_eq!(after.players, 2);
    assert!(after.ticks > before.ticks);
    assert!(after.frames > before.frames);
    // At least the move's frame went to both players.
    assert!(
        after.bytes_sent >= before.bytes_sent + 2 * 17,
        "{before:?} → {after:?}"
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kicked_client_does_not_reconnect() {
    let running = serve(rooms_server(local_config())).await;
    let policy = Reconnect::default().initial_delay(Duration::from_millis(10));
    let mut client = Watcher::start_with(
        &running.url(),
        ClientConfig::default().reconnect(policy),
        |_| {},
    );
    let id = client.connected().await;
    running.handle.kick(id).unwrap();
    let reason = client
        .next_where("the kick", |seen| match seen {
            Seen::Disconnected(reason) => Some(reason.clone()),
            Seen::Reconnecting(..) => panic!("reconnected after a kick"),
            _ => None,
        })
        .await;
    assert_eq!(reason.close_reason(), Some(CloseReason::Kicked));
    within("the client to stop", client.task)
        .await
        .unwrap()
        .unwrap();
    running.stop().await;
}
