//! Faulty peers and bad input over real loopback sockets. Each test asserts the
//! promise: a clear error (to `on_error`) or close reason, no effect on the other
//! players, no panic, bounded memory. Measured figures are printed as
//! `figure: …` lines (`cargo test -p nodelink-tests --test faults -- --nocapture`)
//! and recorded in RELIABILITY.md.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use nodelink::client::{Client, ClientConfig, ClientError, ClientEvent, Disconnect, Reconnect};
use nodelink::server::{Rejection, Server, ServerConfig, ServerError};
use nodelink::wire::{decode_server_frame, encode_event, encode_pong, CloseReason, ServerFrame};
use nodelink::PlayerId;
use nodelink_examples::{
    Avatar, Game, OnToClient, OnToServer, ToClient, ToClientChat, ToServer, ToServerChat,
    ToServerChatMut,
};
use nodelink_tests::{
    alive_tasks, eventually, figure, local_config, poll_until, raw_connect,
    raw_connect_small_window, reporting_game, rss_bytes, serve, within, RawSocket, Running, Seen,
    Watcher,
};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// What a server reported: errors (with the player) and departures.
struct Probe {
    errors: nodelink_tests::Reports,
    left: mpsc::UnboundedReceiver<PlayerId>,
    /// Players paused (their connection lost, held for their client to resume).
    paused: mpsc::UnboundedReceiver<PlayerId>,
}

/// The example game (moves set the position, chat is broadcast), reporting its
/// errors, pauses and departures.
fn probed(config: ServerConfig) -> (Server<Game>, Probe) {
    let (mut server, errors) = reporting_game(config);
    let (left_tx, left) = mpsc::unbounded_channel();
    server.on_disconnect(move |ctx| {
        let _ = left_tx.send(ctx.id());
    });
    let (paused_tx, paused) = mpsc::unbounded_channel();
    server.on_pause(move |ctx| {
        let _ = paused_tx.send(ctx.id());
    });
    (
        server,
        Probe {
            errors,
            left,
            paused,
        },
    )
}

/// Moves `watcher` and waits until it sees the move: its traffic flows.
async fn still_served(watcher: &mut Watcher, x: f32) {
    let id = watcher.id.expect("connected");
    watcher
        .sender
        .send(ToServer::Move { x, y: 0.0 })
        .expect("queued");
    watcher
        .world_where("a healthy client's move", |w| {
            w.get(&id).is_some_and(|a| a.x == x)
        })
        .await;
}

/// Reads until the server's close frame; its code, or `None` if the socket ended
/// without one.
async fn close_code(socket: &mut RawSocket) -> Option<u16> {
    within("the close frame", async {
        while let Some(message) = socket.next().await {
            match message {
                Ok(Message::Close(frame)) => return frame.map(|f| u16::from(f.code)),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
        None
    })
    .await
}

fn raw_event(name: &str, fields: impl FnOnce(&mut Vec<u8>), count: u32) -> Vec<u8> {
    let mut out = Vec::new();
    rmp::encode::write_array_len(&mut out, 2 + count).unwrap();
    rmp::encode::write_uint(&mut out, 1).unwrap();
    rmp::encode::write_str(&mut out, name).unwrap();
    fields(&mut out);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_frames_get_clear_errors_then_a_close_and_cost_nothing_else() {
    let config = local_config().max_frame_len(1024).max_invalid_frames(4);
    let (server, mut probe) = probed(config);
    let running = serve(server).await;
    let mut other = Watcher::connect(&running.url()).await;
    let rss_before = rss_bytes();

    let (mut raw, raw_id) = raw_connect(&running.url()).await;
    // Cut after the event name: the array promises two fields that never come.
    let mut truncated = encode_event(&ToServer::Move { x: 1.0, y: 2.0 })
        .unwrap()
        .to_vec();
    truncated.truncate(7);
    let wrong_types = raw_event(
        "move",
        |out| {
            rmp::encode::write_str(out, "north").unwrap();
            rmp::encode::write_f32(out, 2.0).unwrap();
        },
        2,
    );
    let unknown = raw_event("teleport", |_| {}, 0);
    // A chat whose `msg` claims to be a 4 GiB string: 12 bytes on the wire.
    let huge_claim = raw_event(
        "chat",
        |out| out.extend_from_slice(&[0xdb, 0xff, 0xff, 0xff, 0xff]),
        1,
    );
    raw.send(Message::Binary(truncated.into())).await.unwrap();
    raw.send(Message::Binary(wrong_types.into())).await.unwrap();
    raw.send(Message::Binary(unknown.into())).await.unwrap();
    raw.send(Message::Text("{\"event\":\"move\"}".into()))
        .await
        .unwrap();
    raw.send(Message::Binary(huge_claim.into())).await.unwrap();

    let mut messages = Vec::new();
    for _ in 0..5 {
        let (message, player) = within("an error report", probe.errors.recv())
            .await
            .unwrap();
        assert_eq!(player, Some(raw_id));
        messages.push(message);
    }
    assert!(
        messages[0].starts_with("undecodable frame: event `move`: field `x`: "),
        "{}",
        messages[0]
    );
    assert!(
        messages[1].starts_with("undecodable frame: event `move`: field `x`: "),
        "{}",
        messages[1]
    );
    assert_eq!(messages[2], "undecodable frame: unknown event `teleport`");
    assert_eq!(
        messages[3],
        "text frame ignored: the nodelink wire uses binary frames"
    );
    assert!(
        messages[4].starts_with("undecodable frame: event `chat`: field `msg`: "),
        "{}",
        messages[4]
    );
    // The fifth bad frame is one more than the four allowed: the connection closes.
    assert_eq!(
        close_code(&mut raw).await,
        Some(CloseReason::InvalidFrames.code())
    );
    assert_eq!(
        within("the departure", probe.left.recv()).await,
        Some(raw_id)
    );

    // An oversized frame is refused by the WebSocket layer before it is buffered.
    let (mut big, big_id) = raw_connect(&running.url()).await;
    let _ = big.send(Message::Binary(vec![0x90; 4096].into())).await;
    let (message, player) = within("the oversize report", probe.errors.recv())
        .await
        .unwrap();
    assert_eq!(player, Some(big_id));
    assert!(message.contains("too long"), "{message}");
    assert_eq!(
        within("the departure", probe.left.recv()).await,
        Some(big_id)
    );

    still_served(&mut other, 1.0).await;
    let grown = rss_bytes().saturating_sub(rss_before);
    figure("bad frames: RSS growth", format!("{} KiB", grown / 1024));
    assert!(grown < 64 << 20, "RSS grew by {grown} bytes");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_100000_events_is_dropped_reported_once_and_disconnected() {
    let (server, mut probe) = probed(local_config());
    let running = serve(server).await;
    let mut other = Watcher::connect(&running.url()).await;
    let (raw, flooder) = raw_connect(&running.url()).await;
    let (mut sink, mut stream) = raw.split();
    let frame = encode_event(&ToServer::Move { x: 5.0, y: 5.0 }).unwrap();

    let started = Instant::now();
    let flood = tokio::spawn(async move {
        let mut sent = 0u32;
        for _ in 0..100 {
            for _ in 0..1000 {
                if sink.feed(Message::Binary(frame.clone())).await.is_err() {
                    return sent;
                }
                sent += 1;
            }
            if sink.flush().await.is_err() {
                return sent;
            }
        }
        sent
    });
    let code = within("the close frame", async {
        while let Some(message) = stream.next().await {
            if let Ok(Message::Close(frame)) = message {
                return frame.map(|f| u16::from(f.code));
            }
        }
        None
    })
    .await;
    assert_eq!(code, Some(CloseReason::RateLimited.code()));
    let elapsed = started.elapsed();
    let sent = within("the flood to stop", flood).await.unwrap();
    assert_eq!(
        within("the departure", probe.left.recv()).await,
        Some(flooder)
    );
    let (message, player) = within("the rate-limit report", probe.errors.recv())
        .await
        .unwrap();
    assert_eq!(
        (message.as_str(), player),
        (
            "rate limit of 100 frames/s exceeded: dropping frames",
            Some(flooder)
        )
    );
    assert!(
        probe.errors.try_recv().is_err(),
        "reported once, not per frame"
    );

    still_served(&mut other, 2.0).await;
    figure("flood: frames written before the close", sent);
    figure("flood: time to disconnect", format!("{elapsed:.2?}"));
    running.stop().await;
}

/// A cheap healthy client: reads every frame, counts the tick frames, answers
/// pings, keeps nothing.
async fn counting_reader(url: String, frames: Arc<AtomicUsize>) {
    let (socket, _) = raw_connect(&url).await;
    let (mut sink, mut stream) = socket.split();
    while let Some(Ok(message)) = stream.next().await {
        let Message::Binary(bytes) = message else {
            continue;
        };
        match nodelink::wire::decode_server_frame::<Game>(&bytes, usize::MAX) {
            Ok(nodelink::wire::ServerFrame::Sync(frame)) if !frame.header.full => {
                frames.fetch_add(1, Ordering::Relaxed);
            }
            Ok(nodelink::wire::ServerFrame::Ping { seq, .. }) => {
                let _ = sink
                    .send(Message::Binary(nodelink::wire::encode_pong(seq)))
                    .await;
            }
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_among_100_is_dropped_and_the_others_keep_the_tick_rate() {
    let config = local_config()
        .tick_rate(20)
        .delta_only(false)
        .send_queue_len(16)
        .write_buffer_len(8 * 1024)
        .socket_send_buffer(Some(16 * 1024))
        .slow_consumer_timeout(Duration::from_secs(2))
        .max_connections_per_ip(1000);
    let (mut server, mut probe) = probed(config);
    // Long names make each tick's frame about 8 KiB, so a stuck queue fills fast.
    server.on_connect(|ctx| {
        let name = format!("{:-<64}", ctx.id());
        ctx.player().state_mut().set_name(name);
    });
    let running = serve(server).await;
    let counters: Vec<Arc<AtomicUsize>> = (0..100).map(|_| Arc::new(AtomicUsize::new(0))).collect();
    let readers: Vec<_> = counters
        .iter()
        .map(|frames| tokio::spawn(counting_reader(running.url(), frames.clone())))
        .collect();
    eventually("100 healthy players", || {
        running.handle.player_count() >= 100
    })
    .await;
    let rss_before = rss_bytes();
    let (_never_read, slow) = raw_connect_small_window(running.addr).await;
    let connected = Instant::now();

    // While the slow client's queue fills up, every healthy one counts its frames.
    // Both sleeps are measurement windows, not waits for an event: half a second
    // for the slow client's queue to start filling, then two seconds over which
    // the healthy clients' frame rates are measured.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let start: Vec<usize> = counters.iter().map(|c| c.load(Ordering::Relaxed)).collect();
    let window = Instant::now();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let seconds = window.elapsed().as_secs_f64();
    let rates: Vec<f64> = counters
        .iter()
        .zip(&start)
        .map(|(c, s)| (c.load(Ordering::Relaxed) - s) as f64 / seconds)
        .collect();

    let gone = within("the slow client to be dropped", async {
        loop {
            if probe.left.recv().await.unwrap() == slow {
                return connected.elapsed();
            }
        }
    })
    .await;
    let grown = rss_bytes().saturating_sub(rss_before);
    let slowest = rates.iter().copied().fold(f64::INFINITY, f64::min);
    let mean = rates.iter().sum::<f64>() / rates.len() as f64;
    figure(
        "never-reading client among 100: others' sync rate, mean/slowest (frames/s)",
        format!("{mean:.1}/{slowest:.1}"),
    );
    figure(
        "never-reading client among 100: dropped after",
        format!("{gone:.2?} (slow-consumer timeout 2 s)"),
    );
    figure(
        "never-reading client among 100: RSS change",
        format!("{} KiB", grown / 1024),
    );
    assert!(
        slowest >= 16.0,
        "a healthy client fell to {slowest:.1} frames/s"
    );
    assert!(
        gone >= Duration::from_secs(2) && gone < Duration::from_secs(10),
        "dropped after {gone:?}"
    );
    assert!(grown < 32 << 20, "RSS grew by {grown} bytes");
    eventually("only the slow client to have left", || {
        running.handle.player_count() == 100
    })
    .await;
    for reader in readers {
        reader.abort();
    }
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_for_a_while_catches_up_with_one_snapshot() {
    let config = local_config()
        .tick_rate(20)
        .send_queue_len(8)
        .write_buffer_len(4 * 1024)
        .socket_send_buffer(Some(8 * 1024))
        .slow_consumer_timeout(Duration::from_secs(60));
    let (mut server, _probe) = probed(config);
    server.on_chat(|ctx, ToServerChat { msg }| {
        ctx.player().state_mut().set_name(msg);
    });
    let running = serve(server).await;
    let mut bots = Vec::new();
    for _ in 0..20 {
        bots.push(Watcher::connect(&running.url()).await);
    }
    let (mut slow, _) = raw_connect_small_window(running.addr).await;

    // Three seconds of churn (new names every tick) while the slow client reads
    // nothing.
    let churn_until = Instant::now() + Duration::from_secs(3);
    let mut round = 0u32;
    let mut ticker = tokio::time::interval(Duration::from_millis(50));
    while Instant::now() < churn_until {
        ticker.tick().await;
        round += 1;
        for (i, bot) in bots.iter().enumerate() {
            let _ = bot.sender.send(ToServer::Chat {
                msg: format!("{i:03}-{round:06}-{:-<48}", ""),
            });
            let _ = bot.sender.send(ToServer::Move {
                x: round as f32,
                y: i as f32,
            });
        }
    }

    // Let the last events land: each bot sees its own last move.
    for (i, bot) in bots.iter_mut().enumerate() {
        let id = bot.id.unwrap();
        let last = round as f32;
        bot.world_where("the bot's last move", |w| {
            w.get(&id).is_some_and(|a| a.x == last && a.y == i as f32)
        })
        .await;
    }
    // Now it reads, and must end in the server's state.
    let truth: nodelink::IdMap<Avatar> = within("the players", running.handle.players())
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.id, p.state))
        .collect();
    let mut world = nodelink::client::World::<Game>::default();
    let mut snapshots = 0;
    let mut frames = 0;
    within("the slow client to catch up", async {
        while world.as_map() != &truth {
            match slow.next().await {
                Some(Ok(Message::Binary(bytes))) => {
                    if let Ok(nodelink::wire::ServerFrame::Sync(frame)) =
                        nodelink::wire::decode_server_frame::<Game>(&bytes, usize::MAX)
                    {
                        frames += 1;
                        snapshots += usize::from(frame.header.full);
                        world.apply(frame);
                    }
                }
                Some(Ok(_)) => {}
                other => panic!("the slow client lost its connection: {other:?}"),
            }
        }
    })
    .await;
    figure("paused reader: frames read after the pause", frames);
    figure(
        "paused reader: snapshots received (join + resync)",
        snapshots,
    );
    assert!(
        snapshots >= 2,
        "the slow client was resynced with a snapshot, not given every delta"
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_that_does_not_fit_disconnects_the_slow_client_at_once() {
    let config = local_config()
        .send_queue_len(64)
        .write_buffer_len(8 * 1024)
        .socket_send_buffer(Some(32 * 1024))
        .slow_consumer_timeout(Duration::from_secs(60));
    let (server, mut probe) = probed(config);
    let running = serve(server).await;
    let mut other = Watcher::connect(&running.url()).await;
    let (_never_read, slow) = raw_connect_small_window(running.addr).await;

    let started = Instant::now();
    // 16 KiB events at a pace a reading client keeps up with.
    let big = "x".repeat(16 * 1024);
    let flooding = running.handle.clone();
    let broadcaster = tokio::spawn(async move {
        for _ in 0..200 {
            let _ = flooding.broadcast(ToClient::Chat {
                from: PlayerId::from_raw(0),
                msg: big.clone(),
            });
            // Pacing: a rate a reading client keeps up with.
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    });
    let gone = within("the slow client to be dropped", async {
        loop {
            if probe.left.recv().await.unwrap() == slow {
                return started.elapsed();
            }
        }
    })
    .await;
    within("the broadcasts", broadcaster).await.unwrap();
    let mut reports = Vec::new();
    while let Ok(report) = probe.errors.try_recv() {
        reports.push(report);
    }
    assert!(
        reports
            .iter()
            .any(|(m, p)| m.contains("is full") && *p == Some(slow)),
        "{reports:?}"
    );
    assert!(
        gone < Duration::from_secs(10),
        "dropped at once, not after the 60 s deadline: {gone:?}"
    );
    figure(
        "event overflow: slow client dropped after",
        format!("{gone:.2?}"),
    );
    other
        .next_where("a broadcast", |s| matches!(s, Seen::Event(_)).then_some(()))
        .await;
    still_served(&mut other, 4.0).await;
    running.stop().await;
}

/// Answers the server's pings on `socket` in a task, as a quiet client does (it
/// sends nothing else), and reports when each ping arrived; the reports end when
/// the connection does.
fn answer_pings(mut socket: RawSocket) -> mpsc::UnboundedReceiver<Instant> {
    let (arrived, pings) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(Ok(message)) = socket.next().await {
            let Message::Binary(bytes) = message else {
                continue;
            };
            if let Ok(ServerFrame::Ping { seq, .. }) =
                decode_server_frame::<Game>(&bytes, usize::MAX)
            {
                let pong = Message::Binary(encode_pong(seq));
                if socket.send(pong).await.is_err() || arrived.send(Instant::now()).is_err() {
                    return;
                }
            }
        }
    });
    pings
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_open_connection_is_caught_by_the_idle_timeout() {
    const IDLE_TIMEOUT: Duration = Duration::from_millis(400);
    let config = local_config()
        .idle_timeout(IDLE_TIMEOUT)
        .ping_interval(Duration::from_millis(100))
        .resume_grace(Duration::from_millis(300));
    let (server, mut probe) = probed(config);
    let running = serve(server).await;
    // Quiet: answers the server's pings, sends nothing else.
    let (quiet, quiet_id) = raw_connect(&running.url()).await;
    let mut pings = answer_pings(quiet);
    // Silent: never reads (so never answers pings), never writes, never closes.
    let (_silent, silent) = raw_connect(&running.url()).await;
    let started = Instant::now();
    // Paused at the idle timeout, for its client to resume; removed when the grace
    // period is over.
    assert_eq!(
        within("the idle timeout", probe.paused.recv()).await,
        Some(silent)
    );
    let paused = started.elapsed();
    assert_eq!(
        within("the end of the grace period", probe.left.recv()).await,
        Some(silent)
    );
    let removed = Instant::now();
    let after = started.elapsed();
    figure(
        "half-open connection: paused after, removed after",
        format!("{paused:.2?}, {after:.2?} (idle timeout 400 ms, grace period 300 ms)"),
    );
    assert!(paused >= IDLE_TIMEOUT);
    assert!(after >= Duration::from_millis(700));

    // The quiet client answers pings, so it is never idle: the server still pings
    // it twice the timeout later, which it does only on a connection it keeps.
    within("a ping twice the idle timeout later", async {
        loop {
            let arrived = pings
                .recv()
                .await
                .expect("the quiet client's connection stays open");
            if arrived >= removed + 2 * IDLE_TIMEOUT {
                return;
            }
        }
    })
    .await;
    assert_eq!(running.handle.player_count(), 1);
    let player = within("the quiet player", running.handle.player(quiet_id))
        .await
        .expect("the server runs")
        .expect("the quiet player is still there");
    assert!(!player.paused, "the quiet player was never paused");
    assert!(probe.paused.try_recv().is_err(), "on_pause fired once");
    assert!(probe.left.try_recv().is_err(), "on_disconnect fired once");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abrupt_reset_mid_frame_removes_only_that_player() {
    let (server, mut probe) = probed(local_config().resume_grace(Duration::from_millis(200)));
    let running = serve(server).await;
    let mut other = Watcher::connect(&running.url()).await;
    let (raw, victim) = raw_connect(&running.url()).await;
    let tokio_tungstenite::MaybeTlsStream::Plain(mut tcp) = raw.into_inner() else {
        panic!("a plain TCP stream");
    };
    // The first 6 bytes of a masked 5-byte binary frame, then a TCP reset.
    use tokio::io::AsyncWriteExt;
    tcp.write_all(&[0x82, 0x85, 1, 2, 3, 4]).await.unwrap();
    tcp.set_zero_linger().unwrap();
    drop(tcp);
    // Paused for a client that never comes back, then gone.
    assert_eq!(within("the pause", probe.paused.recv()).await, Some(victim));
    assert_eq!(
        within("the departure", probe.left.recv()).await,
        Some(victim)
    );
    still_served(&mut other, 6.0).await;
    assert!(probe.left.try_recv().is_err());
    running.stop().await;
}

/// The WebSocket layer's own answers travel the same socket as the game's frames
/// (the server writes those itself): a ping gets its pong with the same payload
/// among the ticks, a close gets its code echoed, as the last frame, and the
/// player leaves (no pause: the client said goodbye).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_ping_is_answered_and_a_close_is_echoed_last() {
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
    use tokio_tungstenite::tungstenite::protocol::CloseFrame;

    let (server, mut probe) = probed(local_config());
    let running = serve(server).await;
    let mut other = Watcher::connect(&running.url()).await;
    let (mut raw, id) = raw_connect(&running.url()).await;
    // The other player moves every tick, so game frames keep coming between.
    still_served(&mut other, 1.0).await;
    for round in 0..3u8 {
        let payload = vec![round; 100];
        raw.send(Message::Ping(payload.clone().into()))
            .await
            .expect("sent");
        within("the pong", async {
            loop {
                match raw.next().await {
                    Some(Ok(Message::Pong(echoed))) => {
                        assert_eq!(echoed.as_ref(), payload.as_slice(), "the ping's payload");
                        return;
                    }
                    Some(Ok(_)) => {}
                    other => panic!("the connection ended before the pong: {other:?}"),
                }
            }
        })
        .await;
        still_served(&mut other, f32::from(round) + 2.0).await;
    }
    raw.send(Message::Close(Some(CloseFrame {
        code: CloseCode::Away,
        reason: "going home".into(),
    })))
    .await
    .expect("sent");
    let echoed = within("the echo of the close", async {
        let mut echoed = None;
        while let Some(message) = raw.next().await {
            match message {
                Ok(Message::Close(frame)) => echoed = Some(frame.map(|f| u16::from(f.code))),
                Ok(other) => assert!(echoed.is_none(), "a frame after the close: {other:?}"),
                Err(_) => break,
            }
        }
        echoed
    })
    .await;
    assert_eq!(echoed, Some(Some(1001)), "the client's own code, echoed");
    assert_eq!(within("the departure", probe.left.recv()).await, Some(id));
    assert!(probe.paused.try_recv().is_err(), "left, not paused");
    still_served(&mut other, 9.0).await;
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_connect_disconnect_cycles_leave_nothing_behind() {
    let (mut server, _probe) = probed(local_config().max_connections_per_ip(1000));
    server.on_connect(|ctx| {
        let id = ctx.id();
        ctx.create_room("lobby").add(id);
    });
    let running = serve(server).await;
    // Warm up, then measure from there: the first connections allocate buffers
    // that are reused afterwards, and the server's own tasks have started.
    for _ in 0..100 {
        let (mut socket, _) = raw_connect(&running.url()).await;
        socket.close(None).await.unwrap();
        while let Some(Ok(_)) = socket.next().await {}
    }
    eventually("the warm-up to drain", || {
        running.handle.player_count() == 0
    })
    .await;
    let tasks_before = alive_tasks();
    let rss_before = rss_bytes();
    let started = Instant::now();
    let url = running.url();
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move {
                for _ in 0..1250 {
                    let (mut socket, _) = raw_connect(&url).await;
                    socket.close(None).await.unwrap();
                    while let Some(Ok(_)) = socket.next().await {}
                }
            })
        })
        .collect();
    for worker in workers {
        within("the cycles", worker).await.unwrap();
    }
    let elapsed = started.elapsed();
    eventually("every player to be gone", || {
        running.handle.player_count() == 0
    })
    .await;
    let rooms = within("the rooms", running.handle.rooms()).await.unwrap();
    assert_eq!(
        rooms,
        [("lobby".to_owned(), vec![])],
        "no member left behind"
    );
    eventually("the connection tasks to end", || {
        alive_tasks() <= tasks_before
    })
    .await;
    let tasks_after = alive_tasks();
    let grown = rss_bytes() as i64 - rss_before as i64;
    figure(
        "10,000 connect/disconnect cycles: time",
        format!("{elapsed:.2?}"),
    );
    figure(
        "10,000 connect/disconnect cycles: RSS change",
        format!("{} KiB", grown / 1024),
    );
    figure(
        "10,000 connect/disconnect cycles: tasks before/after",
        format!("{tasks_before}/{tasks_after}"),
    );
    assert!(grown < 32 << 20, "RSS grew by {grown} bytes");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_under_the_client_is_reported_and_a_new_one_rejoined() {
    let (server, _probe) = probed(local_config());
    let first = serve(server).await;
    let addr = first.addr;
    let policy = Reconnect::default().initial_delay(Duration::from_millis(50));
    let mut client = Watcher::start_with(
        &first.url(),
        ClientConfig::default().reconnect(policy),
        |_| {},
    );
    client.connected().await;
    let ghost = Watcher::connect(&first.url()).await;
    let ghost_id = ghost.id.unwrap();
    client
        .world_where("the other player", |w| w.contains_key(&ghost_id))
        .await;

    // Killed: every task dropped, no close frames. The client keeps its session
    // and tries to resume it.
    first.task.abort();
    let reason = client
        .next_where("the pause", |seen| match seen {
            Seen::Paused(reason) => Some(reason.clone()),
            Seen::Disconnected(reason) => panic!("disconnected: {reason}"),
            _ => None,
        })
        .await;
    assert!(matches!(reason, Disconnect::Lost(_)), "{reason:?}");
    client
        .next_where("a reconnection attempt", |s| {
            matches!(s, Seen::Reconnecting(..)).then_some(())
        })
        .await;

    // The port was just released, and a socket of the reconnecting client can hold
    // it for a moment (a connect to a port nobody listens on may be given that very
    // port as its own): retry the bind until the deadline.
    let second = within("the port to be free again", async {
        loop {
            let (server, _probe) = probed(local_config().port(addr.port()));
            match server.bind().await {
                Ok(bound) => {
                    break Running {
                        addr: bound.local_addr(),
                        handle: bound.handle(),
                        task: tokio::spawn(bound.run()),
                    }
                }
                // A retry, under the deadline of the `within` around it.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    })
    .await;
    // The new server knows nothing of the session: the client is told, and joins
    // afresh.
    let reason = client
        .next_where("the end of the session", |seen| match seen {
            Seen::Disconnected(reason) => Some(reason.clone()),
            Seen::Resumed(_) => panic!("resumed on another server"),
            _ => None,
        })
        .await;
    assert_eq!(reason.close_reason(), Some(CloseReason::SessionExpired));
    let me = client.connected().await;
    let world = client
        .next_where("the fresh snapshot", |seen| match seen {
            Seen::Sync(sync, world) if sync.full => Some(world.clone()),
            _ => None,
        })
        .await;
    assert_eq!(
        world.keys().collect::<Vec<_>>(),
        [&me],
        "no ghost from the killed server"
    );
    second.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disconnect_before_connecting_stops_the_client_and_no_player_plays() {
    let (mut server, _probe) = probed(local_config());
    let joined = Arc::new(Mutex::new(Vec::new()));
    let seen = joined.clone();
    server.on_connect(move |ctx| seen.lock().unwrap().push(ctx.id()));
    let running = serve(server).await;

    // Callbacks: disconnected before `run`, which then returns without playing.
    let mut early = Watcher::start(&running.url(), |client| client.sender().disconnect());
    let (seen, result) = early.finish("the client disconnected before it ran").await;
    assert!(result.is_ok(), "run returned {result:?}");
    assert!(
        matches!(seen.as_slice(), [Seen::Disconnected(Disconnect::Local)]),
        "expected only a local disconnect, saw {seen:?}"
    );

    // Polling: the same, as one `Disconnected` event.
    let client = Client::<Game>::from_url(running.url());
    client.sender().disconnect();
    let mut game = client.spawn().expect("a client thread");
    let events = within(
        "the polling client's events",
        tokio::task::spawn_blocking(move || game.wait(nodelink_tests::DEADLINE)),
    )
    .await
    .expect("the polling thread");
    assert!(
        matches!(
            events.as_slice(),
            [ClientEvent::Disconnected(Disconnect::Local)]
        ),
        "expected only a local disconnect, polled {events:?}"
    );

    // A client that connects normally is the only player the server ever had.
    let normal = Watcher::connect(&running.url()).await;
    let id = normal.id.expect("connected");
    eventually("the newcomer's on_connect", || {
        joined.lock().unwrap().contains(&id)
    })
    .await;
    assert_eq!(
        *joined.lock().unwrap(),
        [id],
        "players that joined (the stopped clients must not have)"
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disconnect_while_connecting_abandons_the_attempt() {
    use tokio::io::AsyncReadExt;
    // A server that accepts the socket and never answers the upgrade.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let config = ClientConfig::default()
        .connect_timeout(Duration::from_secs(60))
        .reconnect(Reconnect::default().initial_delay(Duration::from_millis(10)));
    let mut client = Watcher::start_with(&url, config, |_| {});
    let (mut socket, _) = within("the client's connection", listener.accept())
        .await
        .unwrap();
    let mut request = Vec::new();
    within("the upgrade request", async {
        let mut chunk = [0u8; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            let read = socket.read(&mut chunk).await.expect("reads");
            assert!(read > 0, "the client closed before its request was whole");
            request.extend_from_slice(&chunk[..read]);
        }
    })
    .await;

    // Well within the 60 s connect timeout: the attempt is abandoned, not retried.
    client.sender.disconnect();
    let (seen, result) = client.finish("the abandoned attempt").await;
    assert!(result.is_ok(), "run returned {result:?}");
    assert!(
        matches!(seen.as_slice(), [Seen::Disconnected(Disconnect::Local)]),
        "expected only a local disconnect, saw {seen:?}"
    );
    let mut rest = [0u8; 64];
    let read = within("the abandoned socket to close", socket.read(&mut rest)).await;
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "the abandoned socket is closed, read {read:?}"
    );
    // `run` has returned, so any connection it made is in the backlog by now.
    let listener = listener.into_std().unwrap();
    let again = listener.accept();
    assert!(
        matches!(&again, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "a stopped client connected again: {again:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disconnect_between_reconnection_attempts_stops_the_client() {
    let (server, _probe) = probed(local_config());
    let running = serve(server).await;
    // A delay far beyond the test's deadline: only the disconnect can end the wait.
    let policy = Reconnect::default()
        .initial_delay(Duration::from_secs(600))
        .max_delay(Duration::from_secs(600))
        .jitter(0.0);
    let mut client = Watcher::start_with(
        &running.url(),
        ClientConfig::default().reconnect(policy),
        |_| {},
    );
    client.connected().await;
    running.stop().await;
    let reason = client
        .next_where("the shutdown close", |seen| match seen {
            Seen::Disconnected(reason) => Some(reason.clone()),
            _ => None,
        })
        .await;
    assert_eq!(
        reason.close_reason(),
        Some(CloseReason::ServerShutdown),
        "{reason:?}"
    );
    let (attempt, delay) = client
        .next_where("the reconnection wait", |seen| match seen {
            Seen::Reconnecting(attempt, delay) => Some((*attempt, *delay)),
            _ => None,
        })
        .await;
    assert_eq!((attempt, delay), (1, Duration::from_secs(600)));

    client.sender.disconnect();
    let (seen, result) = client.finish("the reconnecting client to stop").await;
    assert!(result.is_ok(), "run returned {result:?}");
    assert!(
        matches!(seen.as_slice(), [Seen::Disconnected(Disconnect::Local)]),
        "expected only a local disconnect, saw {seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_under_traffic_closes_everyone_and_leaves_no_task() {
    let tasks_before = alive_tasks();
    let (server, mut probe) = probed(local_config().max_connections_per_ip(1000));
    let running = serve(server).await;
    let mut clients = Vec::new();
    for _ in 0..100 {
        clients.push(Watcher::connect(&running.url()).await);
    }
    let senders: Vec<_> = clients.iter().map(|c| c.sender.clone()).collect();
    let traffic = tokio::spawn(async move {
        let mut x = 0.0;
        loop {
            x += 1.0;
            for sender in &senders {
                if sender.send(ToServer::Move { x, y: x }).is_err() {
                    return;
                }
            }
            // Pacing: a round of moves per 20 ms, the traffic under shutdown.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    clients[0]
        .world_where("traffic", |w| w.values().any(|a| a.x > 3.0))
        .await;

    let started = Instant::now();
    let Running { handle, task, .. } = running;
    handle.shutdown();
    within("run to return", task).await.unwrap();
    let stopped = started.elapsed();
    let mut left = 0;
    while probe.left.try_recv().is_ok() {
        left += 1;
    }
    assert_eq!(left, 100, "on_disconnect fired for everyone");
    for client in &mut clients {
        let reason = client
            .next_where("the close frame", |seen| match seen {
                Seen::Disconnected(reason) => Some(reason.clone()),
                _ => None,
            })
            .await;
        assert_eq!(reason.close_reason(), Some(CloseReason::ServerShutdown));
    }
    traffic.abort();
    drop(clients);
    eventually("every task to end", || alive_tasks() <= tasks_before).await;
    let tasks_after = alive_tasks();
    figure(
        "shutdown under traffic (100 clients): run returned after",
        format!("{stopped:.2?}"),
    );
    figure(
        "shutdown under traffic: tasks before/after",
        format!("{tasks_before}/{tasks_after}"),
    );
    assert!(stopped < Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panics_anywhere_in_user_code_reach_on_error_and_the_world_goes_on() {
    let (mut server, mut probe) = probed(local_config().tick_rate(50));
    let ticks = Arc::new(AtomicUsize::new(0));
    let counted = ticks.clone();
    server.on_tick(move |_, _| -> nodelink::HandlerResult {
        if counted.fetch_add(1, Ordering::Relaxed) == 2 {
            panic!("tick");
        }
        Ok(())
    });
    server.on_connect(|ctx| -> nodelink::HandlerResult {
        if ctx.player_count() == 2 {
            panic!("connect");
        }
        Ok(())
    });
    server.before_chat(|_, ToServerChatMut { msg }| -> bool {
        if msg == "middleware" {
            panic!("middleware");
        }
        true
    });
    server.on_ready(|ctx| -> nodelink::HandlerResult {
        ctx.player().state_mut().set_x(42.0); // applied, then the panic
        panic!("handler")
    });
    server.on_disconnect(|_| -> nodelink::HandlerResult { panic!("disconnect") });
    let (errors_tx, mut errors) = mpsc::unbounded_channel();
    server.on_error(move |error, _| {
        if let ServerError::Panic { handler, .. } = error {
            let _ = errors_tx.send(*handler);
        }
    });
    let running = serve(server).await;
    let mut first = Watcher::connect(&running.url()).await;
    let second = Watcher::connect(&running.url()).await; // its on_connect panics
    first
        .sender
        .send(ToServer::Chat {
            msg: "middleware".into(),
        })
        .unwrap();
    first.sender.send(ToServer::Ready).unwrap();
    let first_id = first.id.unwrap();
    first
        .world_where("the panicking handler's change", |w| {
            w.get(&first_id).is_some_and(|a| a.x == 42.0)
        })
        .await;
    second.sender.disconnect(); // its on_disconnect panics
    let mut seen = Vec::new();
    while seen.len() < 5 {
        seen.push(within("the panic reports", errors.recv()).await.unwrap());
    }
    seen.sort_unstable();
    assert_eq!(seen, ["chat", "connect", "disconnect", "ready", "tick"]);
    still_served(&mut first, 7.0).await;
    assert!(
        ticks.load(Ordering::Relaxed) > 3,
        "ticks go on after a panicking one"
    );
    drop(probe.errors.try_recv());
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_client_handler_does_not_kill_the_connection() {
    let (server, _probe) = probed(local_config());
    let running = serve(server).await;
    let errors = Arc::new(Mutex::new(Vec::new()));
    let seen = errors.clone();
    let mut watcher = Watcher::start(&running.url(), |client| {
        client.on_chat(
            |_, ToClientChat { from: _, msg }| -> nodelink::HandlerResult {
                if msg == "boom" {
                    panic!("client handler");
                }
                Ok(())
            },
        );
        client.on_error(move |error| seen.lock().unwrap().push(error.to_string()));
    });
    watcher.connected().await;
    watcher
        .sender
        .send(ToServer::Chat { msg: "boom".into() })
        .unwrap();
    still_served(&mut watcher, 8.0).await;
    assert_eq!(
        errors.lock().unwrap().as_slice(),
        ["chat handler panicked: client handler"]
    );
    running.stop().await;
}

/// An upgrade request to `url` offering the game's subprotocol, with extra headers.
fn upgrade_request(
    url: &str,
    headers: &[(&str, &str)],
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = url.into_client_request().unwrap();
    let offer = nodelink::wire::handshake::subprotocol(<Game as nodelink::Protocol>::FINGERPRINT);
    request
        .headers_mut()
        .insert("sec-websocket-protocol", offer.parse().unwrap());
    for (name, value) in headers {
        let name =
            tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes()).unwrap();
        request.headers_mut().insert(name, value.parse().unwrap());
    }
    request
}

/// The HTTP status and body a handshake is answered with: 101 and no body when
/// the connection is upgraded (it is then dropped).
async fn refusal(url: &str, headers: &[(&str, &str)]) -> (u16, String) {
    use tokio_tungstenite::tungstenite::Error;
    let request = upgrade_request(url, headers);
    match within("the handshake", tokio_tungstenite::connect_async(request)).await {
        Err(Error::Http(response)) => {
            let body = response
                .body()
                .as_deref()
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            (response.status().as_u16(), body.into_owned())
        }
        Ok(_) => (101, String::new()),
        Err(other) => panic!("unexpected handshake error: {other}"),
    }
}

/// Connects and reads the first frame: the socket when it is the welcome (kept
/// open, so the player stays), otherwise how the newcomer was turned away.
async fn arrive(url: String) -> Result<RawSocket, String> {
    use tokio_tungstenite::tungstenite::Error;
    match tokio_tungstenite::connect_async(upgrade_request(&url, &[])).await {
        Err(Error::Http(response)) => Err(format!("HTTP {}", response.status().as_u16())),
        Err(other) => Err(format!("handshake error: {other}")),
        Ok((mut socket, _)) => match socket.next().await {
            Some(Ok(Message::Binary(_))) => Ok(socket),
            Some(Ok(Message::Close(frame))) => Err(format!(
                "closed with {:?}",
                frame.map(|f| u16::from(f.code))
            )),
            other => Err(format!("unexpected first message: {other:?}")),
        },
    }
}

struct Account {
    name: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn origins_and_authentication_are_checked_before_a_player_exists() {
    let connects = Arc::new(Mutex::new(Vec::new()));
    let config = local_config().allow_origins(["https://game.example"]);
    let (mut server, _probe) = probed(config);
    server.authenticate(|request| async move {
        match request.query_param("token").as_deref() {
            Some("letmein") => Ok(Account { name: "ada".into() }),
            Some(_) => Err(Rejection::forbidden("that token is revoked")),
            None => Err(Rejection::unauthorized("a token is required")),
        }
    });
    let seen = connects.clone();
    server.on_connect(move |ctx| {
        let name = ctx.player().identity::<Account>().map(|a| a.name.clone());
        seen.lock().unwrap().push(name);
    });
    let running = serve(server).await;
    let base = running.url();

    assert_eq!(
        refusal(&base, &[]).await,
        (401, "a token is required".into())
    );
    assert_eq!(
        refusal(&format!("{base}?token=old"), &[]).await,
        (403, "that token is revoked".into())
    );
    let evil = [("origin", "https://evil.example")];
    assert_eq!(
        refusal(&format!("{base}?token=letmein"), &evil).await,
        (403, "origin https://evil.example is not allowed".into())
    );
    assert!(
        connects.lock().unwrap().is_empty(),
        "no player was created for a refused client"
    );

    let good = [("origin", "https://game.example")];
    assert_eq!(
        refusal(&format!("{base}?token=letmein"), &good).await.0,
        101
    );
    let client = Watcher::connect(&format!("{base}?token=letmein")).await; // no Origin: a native client
    assert!(client.id.is_some());
    eventually("the identities", || connects.lock().unwrap().len() >= 2).await;
    assert!(connects
        .lock()
        .unwrap()
        .iter()
        .all(|name| name.as_deref() == Some("ada")));
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_larger_than_the_write_buffer_still_go_out() {
    // A join snapshot grows with the player count; here one player's state alone
    // makes it four times the write buffer.
    let (mut server, _probe) = probed(local_config().write_buffer_len(64 * 1024));
    server.on_ready(|ctx| {
        ctx.player().state_mut().set_name("n".repeat(256 * 1024));
    });
    let running = serve(server).await;
    let big = Watcher::connect(&running.url()).await;
    let big_id = big.id.expect("connected");
    big.sender.send(ToServer::Ready).unwrap();
    let mut watcher = Watcher::connect(&running.url()).await;
    watcher
        .world_where("the 256 KiB state", |world| {
            world
                .get(&big_id)
                .is_some_and(|a| a.name.len() == 256 * 1024)
        })
        .await;
    // And a newcomer's snapshot, which carries it too.
    let mut newcomer = Watcher::connect(&running.url()).await;
    newcomer
        .world_where("the 256 KiB state in the snapshot", |world| {
            world
                .get(&big_id)
                .is_some_and(|a| a.name.len() == 256 * 1024)
        })
        .await;
    still_served(&mut watcher, 1.0).await;
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capacity_limits_refuse_newcomers_and_spare_the_players() {
    // Two players and one newcomer fill the per-address cap exactly, so a refused
    // newcomer still counted when the next one arrives turns that one's 503 into
    // a 429. Newcomers come back to back, as a client retrying at once would.
    let (server, _probe) = probed(local_config().max_players(2).max_connections_per_ip(3));
    let running = serve(server).await;
    let mut first = Watcher::connect(&running.url()).await;
    let _second = Watcher::connect(&running.url()).await;
    for newcomer in 1..=20 {
        assert_eq!(
            refusal(&running.url(), &[]).await,
            (503, "server full".into()),
            "newcomer {newcomer} with 2 players of 2 (HTTP status, body)"
        );
        let typed = within(
            "a refused client",
            Client::<Game>::from_url(running.url()).run(),
        )
        .await;
        assert!(
            matches!(typed, Err(ClientError::Refused { status: 503, ref reason, .. }) if reason == "server full"),
            "typed newcomer {newcomer} with 2 players of 2: expected HTTP 503 \"server full\", got {typed:?}"
        );
    }
    let players = running.handle.player_count();
    assert_eq!(players, 2, "players after the refusals");
    still_served(&mut first, 9.0).await;
    running.stop().await;

    // Per address: three connections from 127.0.0.1 at most.
    let (server, _probe) = probed(local_config().max_connections_per_ip(3));
    let running = serve(server).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(raw_connect(&running.url()).await);
    }
    for newcomer in 1..=20 {
        assert_eq!(
            refusal(&running.url(), &[]).await,
            (429, "too many connections from your address".into()),
            "newcomer {newcomer} with 3 connections of 3 held (HTTP status, body)"
        );
    }
    // A closed connection's place is given back once the server has seen it end,
    // which no event tells the client: ask again every few milliseconds until it
    // is, under the deadline.
    held.pop();
    let url = running.url();
    poll_until("a closed connection's place to be given back", || async {
        (refusal(&url, &[]).await.0 == 101).then_some(())
    })
    .await;
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crowd_past_the_handshake_at_once_never_exceeds_max_players() {
    // Forty newcomers for five places all pass the handshake's first capacity
    // check: the authentication hook, which runs after it, holds each until all
    // forty have been checked. Then each takes its place as it is admitted, before
    // its upgrade: places are taken atomically, so five get one and the others are
    // turned away with the server-full refusal, as any newcomer to a full server.
    let (mut server, _probe) = probed(local_config().max_players(5).max_connections_per_ip(1000));
    let checked = Arc::new(tokio::sync::Barrier::new(40));
    server.authenticate(move |_| {
        let checked = checked.clone();
        async move {
            checked.wait().await;
            Ok::<_, Rejection>(())
        }
    });
    let running = serve(server).await;
    let arrivals: Vec<_> = (0..40)
        .map(|_| tokio::spawn(arrive(running.url())))
        .collect();
    let mut admitted = Vec::new();
    let mut refused = Vec::new();
    for arrival in arrivals {
        match within("a newcomer's answer", arrival)
            .await
            .expect("arrives")
        {
            Ok(socket) => admitted.push(socket),
            Err(how) => refused.push(how),
        }
    }
    assert_eq!(
        admitted.len(),
        5,
        "newcomers admitted for 5 places; the others were turned away as {refused:?}"
    );
    let unexpected: Vec<_> = refused.iter().filter(|how| *how != "HTTP 503").collect();
    assert!(
        unexpected.is_empty(),
        "refused otherwise than with HTTP 503 \"server full\": {unexpected:?}"
    );
    let players = within("the player list", running.handle.players())
        .await
        .expect("the server runs")
        .len();
    assert_eq!(players, 5, "players in the server's table");
    drop(admitted);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_dribbling_handshakes_are_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (server, _probe) = probed(local_config().handshake_timeout(Duration::from_millis(300)));
    let running = serve(server).await;

    let mut silent = tokio::net::TcpStream::connect(running.addr).await.unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 64];
    let read = within("the silent socket to be closed", silent.read(&mut buf)).await;
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    figure(
        "silent handshake: closed after",
        format!("{:.2?} (timeout 300 ms)", started.elapsed()),
    );

    let mut dribbler = tokio::net::TcpStream::connect(running.addr).await.unwrap();
    let started = Instant::now();
    let request = b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n";
    let mut cut_off = false;
    for byte in request.iter().cycle().take(200) {
        if dribbler.write_all(&[*byte]).await.is_err() {
            cut_off = true;
            break;
        }
        // Pacing: the dribble itself, a byte per 10 ms.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(cut_off, "a request dribbled byte by byte is cut off");
    assert!(started.elapsed() < Duration::from_secs(2));
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_and_a_client_that_never_reads_in_one_match_cost_another_match_nothing() {
    use nodelink::server::MatchKind;
    use nodelink::wire::MatchRequest;
    use nodelink_examples::{Table, ToServerMove};

    let config = local_config()
        .tick_rate(20)
        .delta_only(false)
        .send_queue_len(16)
        .write_buffer_len(8 * 1024)
        .socket_send_buffer(Some(16 * 1024))
        .slow_consumer_timeout(Duration::from_secs(2));
    let (mut server, mut probe) = probed(config);
    // Long names make each tick's full frame large, so the stuck queue fills fast.
    server.on_connect(|ctx| {
        let name = format!("{:-<1024}", ctx.id());
        ctx.player().state_mut().set_name(name);
    });
    let mut duel = MatchKind::<Game>::new();
    duel.name("duel").max_players(2);
    duel.on_move(|ctx, ToServerMove { x, y }| {
        ctx.player().state_mut().set_x(x).set_y(y);
    });
    server.kind(duel);
    let running = serve(server).await;

    let find = MatchRequest::find("duel", &Table::default())
        .unwrap()
        .apply(&running.url());
    let bob = Watcher::connect(&find).await;
    let mut carol = Watcher::connect(&find).await;
    let bob_id = bob.id.expect("connected");
    carol
        .world_where("bob in carol's duel", |w| w.contains_key(&bob_id))
        .await;

    // In the default match: ten players whose long names make each tick's frame
    // large, a client that never reads, and one that floods.
    let readers: Vec<_> = (0..10)
        .map(|_| tokio::spawn(counting_reader(running.url(), Arc::default())))
        .collect();
    eventually("ten players in the default match", || {
        running.handle.player_count() >= 10
    })
    .await;
    let (_never_read, slow) = raw_connect_small_window(running.addr).await;
    let (raw, flooder) = raw_connect(&running.url()).await;
    let (mut sink, mut stream) = raw.split();
    let frame = encode_event(&ToServer::Move { x: 5.0, y: 5.0 }).unwrap();
    let flood = tokio::spawn(async move {
        for _ in 0..100 {
            for _ in 0..1000 {
                if sink.feed(Message::Binary(frame.clone())).await.is_err() {
                    return;
                }
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
    });

    // Meanwhile the duel goes on, move after move, each seen by the other player.
    for step in 1..=20 {
        let x = step as f32;
        bob.sender
            .send(ToServer::Move { x, y: 0.0 })
            .expect("queued");
        carol
            .world_where("bob's move in carol's duel", |w| {
                w.get(&bob_id).is_some_and(|a| a.x == x)
            })
            .await;
    }

    let code = within("the flooder's close frame", async {
        while let Some(message) = stream.next().await {
            if let Ok(Message::Close(frame)) = message {
                return frame.map(|f| u16::from(f.code));
            }
        }
        None
    })
    .await;
    assert_eq!(code, Some(CloseReason::RateLimited.code()));
    within("the flood to stop", flood).await.unwrap();
    let mut gone = vec![
        within("a departure", probe.left.recv()).await.unwrap(),
        within("a departure", probe.left.recv()).await.unwrap(),
    ];
    gone.sort();
    let mut expected = vec![slow, flooder];
    expected.sort();
    assert_eq!(
        gone, expected,
        "the slow client and the flooder, nobody else"
    );
    assert_eq!(carol.world.len(), 2);
    still_served(&mut carol, 42.0).await;
    for reader in readers {
        reader.abort();
    }
    running.stop().await;
}
