//! Sessions that outlive connections, through a faulty network: a proxy between
//! clients and the server cuts, stalls and delays connections, and a client that
//! comes back resumes its session: the same player, every event delivered once,
//! in order, both ways; or, when the session is over, a fresh join with the reason.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use nodelink::client::{Client, ClientConfig, ClientEvent, Disconnect, PollClient, Reconnect};
use nodelink::server::{RateLimit, Server, ServerConfig};
use nodelink::wire::{
    decode_server_frame, handshake, CloseReason, ResumeOffer, ResumeToken, ServerFrame, Welcome,
};
use nodelink::{PlayerId, Protocol};
use nodelink_examples::{Game, OnToServer, ToClient, ToServer, ToServerChat, ToServerMove};
use nodelink_tests::{
    eventually, figure, local_config, serve, upgrade, within, JsonClient, Proxy, RawSocket,
    Running, Seen, Watcher, DEADLINE,
};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// What the server's lifecycle handlers saw, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Life {
    Connect(PlayerId),
    Pause(PlayerId),
    Resume(PlayerId),
    Disconnect(PlayerId),
}

/// The chats the server handled, per player, in order.
type Heard = Arc<Mutex<HashMap<PlayerId, Vec<String>>>>;

/// The server of these tests: moves set the position, chats are recorded, every
/// player joins the room "lobby", and the lifecycle handlers report.
struct Fixture {
    running: Running<Game>,
    life: mpsc::UnboundedReceiver<Life>,
    heard: Heard,
}

/// A config for a game whose players resume within `grace`, pinged often so that
/// silences are noticed fast.
fn config(grace: Duration) -> ServerConfig {
    local_config()
        .resume_grace(grace)
        .ping_interval(Duration::from_millis(100))
        // The streams below send faster than the default rate limit allows.
        .rate_limit(RateLimit::new(2_000.0, 1_000))
}

async fn start(config: ServerConfig) -> Fixture {
    let mut server = Server::<Game>::new(config);
    let (life_tx, life) = mpsc::unbounded_channel();
    let heard = Heard::default();
    let report = life_tx.clone();
    server.on_connect(move |ctx| {
        let id = ctx.id();
        ctx.create_room("lobby").add(id);
        let _ = report.send(Life::Connect(id));
    });
    let report = life_tx.clone();
    server.on_pause(move |ctx| {
        let _ = report.send(Life::Pause(ctx.id()));
    });
    let report = life_tx.clone();
    server.on_resume(move |ctx| {
        let _ = report.send(Life::Resume(ctx.id()));
    });
    server.on_disconnect(move |ctx| {
        let _ = life_tx.send(Life::Disconnect(ctx.id()));
    });
    server.on_move(|ctx, ToServerMove { x, y }| {
        ctx.player().state_mut().set_x(x).set_y(y);
    });
    let record = heard.clone();
    server.on_chat(move |ctx, ToServerChat { msg }| {
        let id = ctx.id();
        record.lock().unwrap().entry(id).or_default().push(msg);
    });
    Fixture {
        running: serve(server).await,
        life,
        heard,
    }
}

impl Fixture {
    /// The next lifecycle event, within the deadline.
    async fn next_life(&mut self, what: &str) -> Life {
        within(what, self.life.recv())
            .await
            .expect("the server is running")
    }

    /// Skips lifecycle events until `expected`; fails on a departure of `keep`.
    async fn expect_life(&mut self, expected: Life, keep: Option<PlayerId>) {
        loop {
            let life = self.next_life(&format!("{expected:?}")).await;
            if life == expected {
                return;
            }
            if let (Life::Disconnect(gone), Some(keep)) = (life, keep) {
                assert_ne!(gone, keep, "{keep} left while waiting for {expected:?}");
            }
        }
    }

    /// The chats the server handled from `id`.
    fn heard(&self, id: PlayerId) -> Vec<String> {
        self.heard
            .lock()
            .unwrap()
            .get(&id)
            .cloned()
            .unwrap_or_default()
    }
}

/// A client that reconnects (and so resumes) quickly.
fn resuming_client(url: &str) -> Watcher {
    let policy = Reconnect::default()
        .initial_delay(Duration::from_millis(20))
        .max_delay(Duration::from_millis(100));
    Watcher::start_with(url, ClientConfig::default().reconnect(policy), |_| {})
}

fn chat(msg: impl Into<String>) -> ToServer {
    ToServer::Chat { msg: msg.into() }
}

/// Reads what a watcher sees until `done` says so, keeping the chats it received
/// and failing on a disconnect.
async fn chats_until(
    client: &mut Watcher,
    received: &mut Vec<String>,
    what: &str,
    mut done: impl FnMut(&Seen, &[String]) -> bool,
) {
    within(what, async {
        loop {
            let seen = client.next(what).await;
            if let Seen::Event(ToClient::Chat { msg, .. }) = &seen {
                received.push(msg.clone());
            }
            if let Seen::Disconnected(reason) = &seen {
                panic!("disconnected ({reason}) while waiting for {what}");
            }
            if done(&seen, received) {
                return;
            }
        }
    })
    .await;
}

fn numbered(prefix: &str, count: usize) -> Vec<String> {
    (0..count).map(|n| format!("{prefix}{n}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_mid_stream_loses_nothing_doubles_nothing_and_nobody_sees_it() {
    const EACH_WAY: usize = 600;
    const CUTS: usize = 3;
    let mut fixture = start(config(Duration::from_secs(10))).await;
    let proxy = Proxy::start(fixture.running.addr).await;
    let mut observer = Watcher::connect(&fixture.running.url()).await;
    let observer_id = observer.id.unwrap();
    fixture.expect_life(Life::Connect(observer_id), None).await;

    let mut client = resuming_client(&proxy.url());
    let id = client.connected().await;
    fixture.expect_life(Life::Connect(id), None).await;
    client
        .sender
        .send(ToServer::Move { x: 3.0, y: 4.0 })
        .unwrap();
    observer
        .world_where("the client's move", |world| {
            world.get(&id).is_some_and(|avatar| avatar.x == 3.0)
        })
        .await;

    // Both ways at once: the server streams chats to the client, the client
    // streams chats to the server, 1 ms apart, over a network slow enough that
    // some are always on their way.
    proxy.delay(Duration::from_millis(5));
    let handle = fixture.running.handle.clone();
    let to_client = tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_millis(1));
        for msg in numbered("s", EACH_WAY) {
            every.tick().await;
            handle
                .send_to(id, ToClient::Chat { from: id, msg })
                .unwrap();
        }
    });
    let sender = client.sender.clone();
    let to_server = tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_millis(1));
        for msg in numbered("c", EACH_WAY) {
            every.tick().await;
            sender.send(chat(msg)).unwrap();
        }
    });

    // Cut in the middle of the streams, several times, each once the client has
    // received a few more.
    let mut received = Vec::new();
    let mut resume_times = Vec::new();
    for cut in 1..=CUTS {
        let enough = cut * EACH_WAY / (CUTS + 1);
        chats_until(
            &mut client,
            &mut received,
            "chats before the cut",
            |_, got| got.len() >= enough,
        )
        .await;
        let cut_at = Instant::now();
        proxy.cut();
        chats_until(&mut client, &mut received, "the pause", |seen, _| {
            matches!(seen, Seen::Paused(Disconnect::Lost(_)))
        })
        .await;
        let mut waited = Duration::ZERO;
        chats_until(&mut client, &mut received, "the resume", |seen, _| {
            if let Seen::Reconnecting(_, delay) = seen {
                waited += *delay;
            }
            matches!(seen, Seen::Resumed(resumed) if *resumed == id)
        })
        .await;
        resume_times.push((cut_at.elapsed(), waited));
        fixture.expect_life(Life::Pause(id), Some(id)).await;
        fixture.expect_life(Life::Resume(id), Some(id)).await;
    }
    within("the server's stream", to_client).await.unwrap();
    within("the client's stream", to_server).await.unwrap();
    chats_until(&mut client, &mut received, "every chat", |_, got| {
        got.len() >= EACH_WAY
    })
    .await;
    eventually("the server to hear every chat", || {
        fixture.heard(id).len() >= EACH_WAY
    })
    .await;

    // Every event once, in order, both ways.
    assert_eq!(received, numbered("s", EACH_WAY), "server to client");
    assert_eq!(
        fixture.heard(id),
        numbered("c", EACH_WAY),
        "client to server"
    );
    // The same player: its state, its room; present again.
    let info = within("the player", fixture.running.handle.player(id))
        .await
        .unwrap()
        .expect("the player is still there");
    assert_eq!((info.state.x, info.state.y), (3.0, 4.0));
    assert_eq!(info.rooms, ["lobby"]);
    assert!(!info.paused);
    assert_eq!(proxy.accepted(), CUTS + 1, "one connection per cut");

    // The observer saw no departure, and mirrors the player all along.
    client.sender.disconnect();
    let (seen, _) = client.finish("the client to stop").await;
    assert!(
        !seen
            .iter()
            .any(|seen| matches!(seen, Seen::Disconnected(reason) if *reason != Disconnect::Local)),
        "{seen:?}"
    );
    // A client that leaves on purpose ends its session at once: no pause.
    assert_eq!(
        fixture.next_life("the departure").await,
        Life::Disconnect(id)
    );
    observer
        .next_where("the player's departure", |seen| match seen {
            Seen::Sync(sync, _) if sync.left.contains(&id) => Some(()),
            Seen::Sync(_, world) => {
                assert!(world.contains_key(&id), "the observer lost the player");
                None
            }
            _ => None,
        })
        .await;

    let slowest = resume_times.iter().map(|(took, _)| *took).max().unwrap();
    let mean = resume_times.iter().map(|(took, _)| *took).sum::<Duration>() / CUTS as u32;
    let waited = resume_times
        .iter()
        .map(|(_, waited)| *waited)
        .sum::<Duration>()
        / CUTS as u32;
    figure(
        "cut mid-stream, through a proxy adding 5 ms each way: from the cut to the client's resume (mean, slowest of 3)",
        format!("{mean:.1?}, {slowest:.1?}; of which the client's reconnect delay (20 ms, half of it random): {waited:.1?} on average"),
    );
    figure(
        "cut mid-stream: events delivered, both ways (3 cuts)",
        format!(
            "{} of {} to the client, {} of {} to the server",
            received.len(),
            EACH_WAY,
            fixture.heard(id).len(),
            EACH_WAY
        ),
    );
    let duplicates = |events: &[String]| {
        events.len()
            - events
                .iter()
                .collect::<std::collections::HashSet<_>>()
                .len()
    };
    figure(
        "cut mid-stream: duplicates, both ways",
        duplicates(&received) + duplicates(&fixture.heard(id)),
    );
    fixture.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stall_longer_than_the_idle_timeout_is_resumed() {
    let config = config(Duration::from_secs(10)).idle_timeout(Duration::from_millis(300));
    let mut fixture = start(config).await;
    let proxy = Proxy::start(fixture.running.addr).await;
    let mut client = resuming_client(&proxy.url());
    let id = client.connected().await;
    fixture.expect_life(Life::Connect(id), None).await;
    let mut received = Vec::new();
    client.sender.send(chat("before")).unwrap();
    eventually("the first chat", || fixture.heard(id) == ["before"]).await;

    // Nothing gets through, both sockets stay open: the server finds the client
    // silent and pauses it. Both sides keep sending meanwhile.
    proxy.stall();
    for msg in numbered("during", 5) {
        client.sender.send(chat(msg)).unwrap();
    }
    fixture
        .running
        .handle
        .send_to(
            id,
            ToClient::Chat {
                from: id,
                msg: "while stalled".into(),
            },
        )
        .unwrap();
    fixture.expect_life(Life::Pause(id), Some(id)).await;
    let info = fixture.running.handle.player(id).await.unwrap().unwrap();
    assert!(info.paused, "a paused player stays, marked paused");
    fixture
        .running
        .handle
        .send_to(
            id,
            ToClient::Chat {
                from: id,
                msg: "while paused".into(),
            },
        )
        .unwrap();

    // The network comes back: the client reads the server's close (idle timeout)
    // and resumes.
    proxy.unstall();
    let mut paused_by = None;
    chats_until(&mut client, &mut received, "the resume", |seen, _| {
        if let Seen::Paused(reason) = seen {
            paused_by = Some(reason.clone());
        }
        matches!(seen, Seen::Resumed(resumed) if *resumed == id)
    })
    .await;
    let paused_by = paused_by.expect("paused before resuming");
    assert!(
        matches!(&paused_by, Disconnect::Lost(_))
            || paused_by.close_reason() == Some(CloseReason::IdleTimeout),
        "{paused_by:?}"
    );
    fixture.expect_life(Life::Resume(id), Some(id)).await;
    chats_until(&mut client, &mut received, "the chats", |_, got| {
        got.len() >= 2
    })
    .await;
    assert_eq!(received, ["while stalled", "while paused"]);
    let mut expected = vec!["before".to_owned()];
    expected.extend(numbered("during", 5));
    eventually("the chats sent during the stall", || {
        fixture.heard(id).len() >= expected.len()
    })
    .await;
    assert_eq!(fixture.heard(id), expected);
    fixture.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_after_the_grace_period_joins_afresh_and_says_why() {
    let mut fixture = start(config(Duration::from_millis(300))).await;
    let proxy = Proxy::start(fixture.running.addr).await;
    let mut client = resuming_client(&proxy.url());
    let id = client.connected().await;
    fixture.expect_life(Life::Connect(id), None).await;

    // The client's attempts to come back hang in the stalled proxy until the
    // server has given up on the session.
    proxy.stall();
    proxy.cut();
    fixture.expect_life(Life::Pause(id), None).await;
    fixture.expect_life(Life::Disconnect(id), None).await;
    assert!(fixture.running.handle.player(id).await.unwrap().is_none());
    proxy.unstall();

    let reason = client
        .next_where("the end of the session", |seen| match seen {
            Seen::Disconnected(reason) => Some(reason.clone()),
            Seen::Resumed(_) => panic!("resumed after the grace period"),
            _ => None,
        })
        .await;
    assert_eq!(reason.close_reason(), Some(CloseReason::SessionExpired));
    assert_eq!(
        reason.to_string(),
        "closed by the server (4008: session expired)"
    );
    let fresh = client.connected().await;
    assert_ne!(fresh, id, "a new player");
    fixture.expect_life(Life::Connect(fresh), None).await;
    fixture.running.stop().await;
}

/// The subprotocols a native client offers, with a resume offer when given.
fn offering(resume: Option<&ResumeOffer>) -> String {
    let ours = handshake::subprotocol(Game::FINGERPRINT);
    match resume {
        Some(resume) => format!("{ours}, {}", resume.subprotocol()),
        None => ours,
    }
}

/// Opens a bare connection offering `resume`: its welcome, or the code and reason
/// the server closed it with instead.
async fn raw(
    url: &str,
    resume: Option<&ResumeOffer>,
) -> Result<(RawSocket, Welcome), (u16, String)> {
    let (answer, socket) = upgrade(url, Some(&offering(resume)), &[]).await;
    let mut socket = socket.unwrap_or_else(|| panic!("refused: {answer:?}"));
    match within("the welcome", socket.next()).await {
        Some(Ok(Message::Binary(bytes))) => match decode_server_frame::<Game>(&bytes, usize::MAX) {
            Ok(ServerFrame::Welcome(welcome)) => Ok((socket, welcome)),
            other => panic!("expected the welcome, got {other:?}"),
        },
        Some(Ok(Message::Close(Some(frame)))) => Err((frame.code.into(), frame.reason.to_string())),
        other => panic!("expected the welcome or a close, got {other:?}"),
    }
}

/// Reads a bare connection until the server closes it: the code.
async fn close_code(socket: &mut RawSocket) -> Option<u16> {
    within("the close", async {
        while let Some(Ok(message)) = socket.next().await {
            if let Message::Close(frame) = message {
                return frame.map(|frame| u16::from(frame.code));
            }
        }
        None
    })
    .await
}

fn offer(token: ResumeToken) -> ResumeOffer {
    ResumeOffer {
        token,
        received: 0,
        forgotten: 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_used_or_replayed_token_gets_no_session() {
    let mut fixture = start(config(Duration::from_secs(10))).await;
    let url = fixture.running.url();
    let (mut owner, welcome) = raw(&url, None).await.unwrap();
    let (ada, token) = (welcome.player, welcome.resume_token.expect("a token"));
    assert_eq!(welcome.resumed, None, "a new session");
    let (_bob_socket, bob) = raw(&url, None).await.unwrap();
    let bob_token = bob.resume_token.unwrap();
    assert_ne!(token, bob_token);

    // A token nobody was given.
    let forged: ResumeToken = "0123456789abcdef0123456789abcdef".parse().unwrap();
    assert_eq!(
        raw(&url, Some(&offer(forged))).await.err(),
        Some((4008, "session expired".to_owned()))
    );
    // A malformed offer is refused before any upgrade.
    let malformed = format!("{}, nodelink.resume.xyz.0.0", offering(None));
    let (answer, _) = upgrade(&url, Some(&malformed), &[]).await;
    assert_eq!(answer.status, 400);
    assert!(
        answer.body.starts_with("malformed resume offer"),
        "{}",
        answer.body
    );

    // Whoever holds a live token gets the session it names, and no other: the
    // connection that held it gives way (4010).
    let (_thief, taken) = raw(&url, Some(&offer(token))).await.unwrap();
    assert_eq!(taken.player, ada, "the session the token names");
    assert_eq!(taken.resumed, Some(0));
    assert_eq!(close_code(&mut owner).await, Some(4010));
    fixture.expect_life(Life::Pause(ada), Some(ada)).await;
    fixture.expect_life(Life::Resume(ada), Some(ada)).await;

    // The token was used up: replaying it gets nothing.
    assert_eq!(
        raw(&url, Some(&offer(token))).await.err(),
        Some((4008, "session expired".to_owned()))
    );
    // Bob's token still names Bob.
    let (_bob_again, bob_again) = raw(&url, Some(&offer(bob_token))).await.unwrap();
    assert_eq!(bob_again.player, bob.player);
    // A count of events never sent is refused, and ends that session.
    let bogus = ResumeOffer {
        token: bob_again.resume_token.unwrap(),
        received: 1_000,
        forgotten: 0,
    };
    assert_eq!(
        raw(&url, Some(&bogus)).await.err(),
        Some((4009, "missed events no longer held".to_owned()))
    );
    fixture
        .expect_life(Life::Disconnect(bob.player), Some(ada))
        .await;
    fixture.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_during_shutdown_gets_no_session() {
    let mut fixture = start(config(Duration::from_secs(10))).await;
    let proxy = Proxy::start(fixture.running.addr).await;
    let policy = Reconnect::default()
        .initial_delay(Duration::from_millis(20))
        .max_attempts(Some(3));
    let mut client = Watcher::start_with(
        &proxy.url(),
        ClientConfig::default().reconnect(policy),
        |_| {},
    );
    let id = client.connected().await;
    fixture.expect_life(Life::Connect(id), None).await;

    // Paused, its client's resume held in the stalled proxy while the server stops:
    // shutdown ends every session, paused ones too.
    proxy.stall();
    proxy.cut();
    fixture.expect_life(Life::Pause(id), None).await;
    client
        .next_where("the client's pause", |seen| {
            matches!(seen, Seen::Paused(_)).then_some(())
        })
        .await;
    fixture.running.handle.shutdown();
    fixture.expect_life(Life::Disconnect(id), None).await;
    proxy.unstall();
    within("the server to stop", fixture.running.task)
        .await
        .unwrap();

    let (seen, result) = client.finish("the client to give up").await;
    assert!(
        !seen
            .iter()
            .any(|seen| matches!(seen, Seen::Resumed(_) | Seen::Connected(_))),
        "{seen:?}"
    );
    let ended = seen
        .iter()
        .filter(|seen| matches!(seen, Seen::Disconnected(_)))
        .count();
    assert_eq!(ended, 1, "the session ended once: {seen:?}");
    assert!(result.is_err(), "no server to come back to");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_clients_cut_at_once_all_resume() {
    const CLIENTS: usize = 50;
    let mut fixture = start(config(Duration::from_secs(10))).await;
    let proxy = Proxy::start(fixture.running.addr).await;
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let mut client = resuming_client(&proxy.url());
        let id = client.connected().await;
        client.sender.send(chat("before")).unwrap();
        clients.push((id, client));
    }
    eventually("every first chat", || {
        let heard = fixture.heard.lock().unwrap();
        clients
            .iter()
            .all(|(id, _)| heard.get(id).is_some_and(|h| h.len() == 1))
    })
    .await;

    let cut_at = Instant::now();
    proxy.cut();
    for (id, client) in &mut clients {
        client.sender.send(chat("after")).unwrap();
        let resumed = client
            .next_where("the resume", |seen| match seen {
                Seen::Resumed(resumed) => Some(*resumed),
                Seen::Disconnected(reason) => panic!("the session ended: {reason}"),
                _ => None,
            })
            .await;
        assert_eq!(resumed, *id);
    }
    let all_resumed = cut_at.elapsed();
    eventually("every second chat", || {
        let heard = fixture.heard.lock().unwrap();
        clients
            .iter()
            .all(|(id, _)| heard.get(id).is_some_and(|h| h.len() >= 2))
    })
    .await;
    for (id, _) in &clients {
        assert_eq!(fixture.heard(*id), ["before", "after"]);
    }
    let mut pauses = 0;
    let mut resumes = 0;
    while let Ok(life) = fixture.life.try_recv() {
        match life {
            Life::Pause(_) => pauses += 1,
            Life::Resume(_) => resumes += 1,
            Life::Disconnect(id) => panic!("{id} left"),
            Life::Connect(_) => {}
        }
    }
    assert_eq!((pauses, resumes), (CLIENTS, CLIENTS));
    assert_eq!(fixture.running.handle.player_count(), CLIENTS);
    figure(
        "50 clients cut at once: all resumed after (each client's first reconnect delay: 10 to 20 ms, at random)",
        format!("{all_resumed:.1?}"),
    );
    fixture.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kick_ends_the_session_at_once() {
    let mut fixture = start(config(Duration::from_secs(10))).await;
    let proxy = Proxy::start(fixture.running.addr).await;
    let mut client = resuming_client(&proxy.url());
    let id = client.connected().await;
    fixture.expect_life(Life::Connect(id), None).await;

    // Kicked while paused: gone at once, not after the grace period; its client,
    // coming back, is told it was kicked and stops.
    proxy.stall();
    proxy.cut();
    fixture.expect_life(Life::Pause(id), None).await;
    fixture.running.handle.kick(id).unwrap();
    fixture.expect_life(Life::Disconnect(id), None).await;
    proxy.unstall();
    let (seen, result) = client.finish("the kicked client to stop").await;
    assert!(result.is_ok(), "{result:?}");
    let reasons: Vec<_> = seen
        .iter()
        .filter_map(|seen| match seen {
            Seen::Disconnected(reason) => Some(reason.close_reason()),
            Seen::Resumed(_) | Seen::Connected(_) => panic!("came back: {seen:?}"),
            _ => None,
        })
        .collect();
    assert_eq!(reasons, [Some(CloseReason::Kicked)]);

    // Kicked while connected: closed with 4000, and its token is worth nothing.
    let url = fixture.running.url();
    let (mut socket, welcome) = raw(&url, None).await.unwrap();
    fixture
        .expect_life(Life::Connect(welcome.player), None)
        .await;
    fixture.running.handle.kick(welcome.player).unwrap();
    assert_eq!(close_code(&mut socket).await, Some(4000));
    fixture
        .expect_life(Life::Disconnect(welcome.player), None)
        .await;
    assert_eq!(
        raw(&url, Some(&offer(welcome.resume_token.unwrap())))
            .await
            .err(),
        Some((4000, "kicked by the server".to_owned()))
    );
    fixture.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_past_the_buffer_end_the_session_and_the_client_joins_afresh() {
    let config = config(Duration::from_secs(10)).resume_buffer_len(8);
    let mut fixture = start(config).await;
    let proxy = Proxy::start(fixture.running.addr).await;
    let mut client = resuming_client(&proxy.url());
    let id = client.connected().await;
    fixture.expect_life(Life::Connect(id), None).await;

    proxy.stall();
    proxy.cut();
    fixture.expect_life(Life::Pause(id), None).await;
    // Eight are kept; the ninth cannot be: the session ends.
    for msg in numbered("missed", 9) {
        fixture
            .running
            .handle
            .send_to(id, ToClient::Chat { from: id, msg })
            .unwrap();
    }
    fixture.expect_life(Life::Disconnect(id), None).await;
    proxy.unstall();

    let reason = client
        .next_where("the end of the session", |seen| match seen {
            Seen::Disconnected(reason) => Some(reason.clone()),
            Seen::Resumed(_) => panic!("resumed with a gap"),
            _ => None,
        })
        .await;
    assert_eq!(reason.close_reason(), Some(CloseReason::MissedEvents));
    let fresh = client.connected().await;
    assert_ne!(fresh, id);
    fixture.expect_life(Life::Connect(fresh), None).await;
    fixture.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delayed_network_delivers_everything_once() {
    let mut fixture = start(config(Duration::from_secs(10))).await;
    let proxy = Proxy::start(fixture.running.addr).await;
    let mut client = resuming_client(&proxy.url());
    let id = client.connected().await;
    fixture.expect_life(Life::Connect(id), None).await;
    proxy.delay(Duration::from_millis(30));
    for msg in numbered("c", 20) {
        client.sender.send(chat(msg)).unwrap();
    }
    for msg in numbered("s", 20) {
        fixture
            .running
            .handle
            .send_to(id, ToClient::Chat { from: id, msg })
            .unwrap();
    }
    // Cut while the delayed bytes are still on their way.
    proxy.cut();
    let mut received = Vec::new();
    chats_until(&mut client, &mut received, "the resume", |seen, _| {
        matches!(seen, Seen::Resumed(_))
    })
    .await;
    chats_until(&mut client, &mut received, "every chat", |_, got| {
        got.len() >= 20
    })
    .await;
    assert_eq!(received, numbered("s", 20));
    eventually("every chat on the server", || fixture.heard(id).len() >= 20).await;
    assert_eq!(fixture.heard(id), numbered("c", 20));
    fixture.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_clients_cannot_resume() {
    let mut fixture = start(config(Duration::from_secs(10))).await;
    let proxy = Proxy::start(fixture.running.addr).await;
    let json = JsonClient::connect(&proxy.url()).await;
    let id: PlayerId = json.id.parse().unwrap();
    fixture.expect_life(Life::Connect(id), None).await;
    proxy.cut();
    // Gone at once, as before sessions: no pause.
    assert_eq!(
        fixture.next_life("the departure").await,
        Life::Disconnect(id)
    );
    fixture.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_grace_period_a_lost_connection_is_a_departure() {
    let mut fixture = start(config(Duration::ZERO)).await;
    let proxy = Proxy::start(fixture.running.addr).await;
    let mut client = resuming_client(&proxy.url());
    let id = client.connected().await;
    fixture.expect_life(Life::Connect(id), None).await;
    proxy.cut();
    assert_eq!(
        fixture.next_life("the departure").await,
        Life::Disconnect(id)
    );
    // No token was given: the client reconnects as a new player.
    let reason = client
        .next_where("the disconnect", |seen| match seen {
            Seen::Disconnected(reason) => Some(reason.clone()),
            Seen::Paused(_) => panic!("paused without a session"),
            _ => None,
        })
        .await;
    assert!(matches!(reason, Disconnect::Lost(_)), "{reason:?}");
    let fresh = client.connected().await;
    assert_ne!(fresh, id);
    fixture.running.stop().await;
}

/// A polling client, and the events it returned that no one looked at yet.
struct Polling {
    client: PollClient<Game>,
    pending: std::collections::VecDeque<ClientEvent<Game>>,
}

impl Polling {
    /// Polls (blocking this worker only) until `pick` finds an event.
    fn next_where<T>(
        &mut self,
        what: &str,
        mut pick: impl FnMut(&ClientEvent<Game>) -> Option<T>,
    ) -> T {
        tokio::task::block_in_place(|| {
            let deadline = Instant::now() + DEADLINE;
            loop {
                while let Some(event) = self.pending.pop_front() {
                    if let Some(found) = pick(&event) {
                        return found;
                    }
                }
                assert!(Instant::now() < deadline, "timed out waiting for {what}");
                self.pending
                    .extend(self.client.wait(Duration::from_millis(20)));
            }
        })
    }

    fn x(&self, id: PlayerId) -> Option<f32> {
        self.client.world().get(id).map(|avatar| avatar.x)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_polling_client_is_told_of_the_pause_and_the_resume_and_keeps_its_world() {
    let mut fixture = start(config(Duration::from_secs(10))).await;
    let proxy = Proxy::start(fixture.running.addr).await;
    let policy = Reconnect::default().initial_delay(Duration::from_millis(20));
    let client =
        Client::<Game>::with_config(proxy.url(), ClientConfig::default().reconnect(policy));
    let mut client = Polling {
        client: client.spawn().unwrap(),
        pending: Default::default(),
    };
    let id = client.next_where("the welcome", |event| match event {
        ClientEvent::Connected { id } => Some(*id),
        _ => None,
    });
    fixture.expect_life(Life::Connect(id), None).await;
    client
        .client
        .send(ToServer::Move { x: 5.0, y: 6.0 })
        .unwrap();
    client.next_where("the move", |event| match event {
        ClientEvent::StateSync(sync) => sync
            .changes
            .iter()
            .any(|(changed, delta)| *changed == id && delta.x == Some(5.0))
            .then_some(()),
        _ => None,
    });

    proxy.stall();
    proxy.cut();
    let reason = client.next_where("the pause", |event| match event {
        ClientEvent::Paused(reason) => Some(reason.clone()),
        ClientEvent::Disconnected(reason) => panic!("disconnected: {reason}"),
        _ => None,
    });
    assert!(matches!(reason, Disconnect::Lost(_)), "{reason:?}");
    assert!(!client.client.is_connected());
    assert_eq!(client.x(id), Some(5.0), "the world is kept meanwhile");
    fixture.expect_life(Life::Pause(id), Some(id)).await;
    proxy.unstall();

    let resumed = client.next_where("the resume", |event| match event {
        ClientEvent::Resumed { id } => Some(*id),
        ClientEvent::Disconnected(reason) => panic!("disconnected: {reason}"),
        _ => None,
    });
    assert_eq!(resumed, id);
    assert!(client.client.is_connected());
    assert_eq!(client.client.id(), Some(id));
    client.next_where("the snapshot", |event| match event {
        ClientEvent::StateSync(sync) => sync.full.then_some(()),
        _ => None,
    });
    assert_eq!(client.x(id), Some(5.0));
    fixture.expect_life(Life::Resume(id), Some(id)).await;
    client.client.disconnect();
    client.next_where("the end", |event| {
        matches!(event, ClientEvent::Disconnected(Disconnect::Local)).then_some(())
    });
    fixture.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_player_keeps_the_identity_it_joined_with() {
    /// What the authentication hook attaches: which of its calls admitted the player.
    struct Ticket(usize);

    let mut server = Server::<Game>::new(config(Duration::from_secs(10)));
    let calls = Arc::new(Mutex::new(Vec::new()));
    let seen = calls.clone();
    server.authenticate(move |request| {
        let seen = seen.clone();
        async move {
            let mut calls = seen.lock().unwrap();
            calls.push(request.is_resume());
            Ok(Ticket(calls.len()))
        }
    });
    let (tx, mut tickets) = mpsc::unbounded_channel();
    let on_connect = tx.clone();
    server.on_connect(move |ctx| {
        let ticket = ctx.player().identity::<Ticket>().map(|ticket| ticket.0);
        let _ = on_connect.send(("connect", ticket));
    });
    server.on_resume(move |ctx| {
        let ticket = ctx.player().identity::<Ticket>().map(|ticket| ticket.0);
        let _ = tx.send(("resume", ticket));
    });
    let running = serve(server).await;
    let proxy = Proxy::start(running.addr).await;
    let mut client = resuming_client(&proxy.url());
    let id = client.connected().await;
    assert_eq!(
        within("the connect", tickets.recv()).await,
        Some(("connect", Some(1)))
    );

    proxy.cut();
    let resumed = client
        .next_where("the resume", |seen| match seen {
            Seen::Resumed(resumed) => Some(*resumed),
            _ => None,
        })
        .await;
    assert_eq!(resumed, id);
    // The hook ran again, told it was a resume; the player kept its first identity.
    assert_eq!(
        within("the resume", tickets.recv()).await,
        Some(("resume", Some(1)))
    );
    assert_eq!(*calls.lock().unwrap(), [false, true]);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_player_costs_no_snapshot_until_it_resumes() {
    let mut fixture = start(config(Duration::from_secs(30))).await;
    let proxy = Proxy::start(fixture.running.addr).await;
    let client = Watcher::connect(&proxy.url()).await;
    let id = client.id.expect("connected");
    fixture.expect_life(Life::Connect(id), None).await;
    proxy.cut();
    fixture.expect_life(Life::Pause(id), None).await;
    // Ticks go by with nothing changing: the paused player is owed a snapshot,
    // but one is encoded only once it has a connection to take it.
    let handle = &fixture.running.handle;
    // From the tick after the pause on (each tick publishes the one before).
    let paused_at = handle.process_stats().sync.ticks;
    eventually("the next tick", || {
        handle.process_stats().sync.ticks > paused_at
    })
    .await;
    let before = handle.process_stats().sync;
    eventually("ten more ticks", || {
        handle.process_stats().sync.ticks >= before.ticks + 10
    })
    .await;
    let after = handle.process_stats().sync;
    assert_eq!(after.snapshot_frames, before.snapshot_frames);
    assert_eq!(after.frames, before.frames);
}
