//! A server mounted on an axum `Router`: the site's pages and the game on one
//! port, with every admission check of the stand-alone server, over real loopback
//! sockets.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use futures::{SinkExt, StreamExt};
use nodelink::client::{Client, ClientError};
use nodelink::server::{Rejection, Server, ServerConfig, ServerError, ServerHandle};
use nodelink::wire::CloseReason;
use nodelink::Protocol;
use nodelink_examples::{Game, ToClient, ToServer};
use nodelink_tests::{
    eventually, game_subprotocol, http_get, http_request, local_config, raw_connect,
    reporting_game, serve, serve_router, upgrade, upgrade_answer, within, Answer, JsonClient,
    Reports, Seen, Watcher,
};
use serde_json::json;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

const PAGE: &str = "<h1>The game</h1>";

/// A site on `127.0.0.1`: a page at `/`, the game at `/play`.
struct Site {
    addr: SocketAddr,
    handle: ServerHandle<Game>,
    /// The mounted server's `run`: the world task; ends after shutdown.
    server: JoinHandle<()>,
    /// The HTTP server.
    http: JoinHandle<std::io::Result<()>>,
}

impl Site {
    /// The game's `ws://` URL.
    fn url(&self) -> String {
        format!("ws://{}/play", self.addr)
    }

    /// Shuts the game down and waits for its `run` to return; the HTTP server
    /// goes on serving.
    async fn stop_game(&mut self) {
        self.handle.shutdown();
        within("the mounted server to stop", &mut self.server)
            .await
            .expect("the server task");
    }

    async fn stop(mut self) {
        if !self.server.is_finished() {
            self.stop_game().await;
        }
        self.http.abort();
    }
}

/// Mounts `server` next to a page and serves both, with the peers' addresses
/// (`with_peer`) or without.
async fn mount_with(server: Server<Game>, with_peer: bool) -> Site {
    let mounted = server.mount();
    let handle = mounted.handle();
    let app = Router::new()
        .route("/", get(|| async { PAGE }))
        .route("/play", mounted.route());
    let (addr, http) = serve_router(app, with_peer).await;
    Site {
        addr,
        handle,
        server: tokio::spawn(mounted.run()),
        http,
    }
}

async fn mount(server: Server<Game>) -> Site {
    mount_with(server, true).await
}

/// The default config: its `host` and `port` are unused when mounted.
fn config() -> ServerConfig {
    ServerConfig::default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_and_the_game_share_one_port() {
    let (server, _errors) = reporting_game(config());
    let site = mount(server).await;
    assert_eq!(http_get(site.addr, "/").await, (200, PAGE.to_owned()));

    let mut ada = Watcher::connect(&site.url()).await;
    let mut bob = Watcher::connect(&site.url()).await;
    let ada_id = ada.id.expect("connected");
    let bob_id = bob.id.expect("connected");

    // Client to server, then server to every client, as state and as events.
    ada.sender.send(ToServer::Move { x: 3.0, y: 4.0 }).unwrap();
    bob.world_where("ada's move", |world| {
        world
            .get(&ada_id)
            .is_some_and(|avatar| (avatar.x, avatar.y) == (3.0, 4.0))
    })
    .await;
    ada.world_where("both players", |world| {
        world.contains_key(&ada_id) && world.contains_key(&bob_id)
    })
    .await;
    bob.sender
        .send(ToServer::Chat { msg: "hi".into() })
        .unwrap();
    let chat = ada
        .next_where("bob's chat", |seen| match seen {
            Seen::Event(ToClient::Chat { from, msg }) => Some((*from, msg.clone())),
            _ => None,
        })
        .await;
    assert_eq!(chat, (bob_id, "hi".to_owned()));
    site.handle
        .send_to(bob_id, ToClient::Joined { id: ada_id })
        .unwrap();
    bob.next_where("the handle's event", |seen| {
        matches!(seen, Seen::Event(ToClient::Joined { id }) if *id == ada_id).then_some(())
    })
    .await;

    // The page is still served while the game is played.
    assert_eq!(http_get(site.addr, "/").await, (200, PAGE.to_owned()));
    assert_eq!(site.handle.player_count(), 2);
    // A plain GET on the game's path is not an upgrade.
    assert_eq!(
        http_get(site.addr, "/play").await,
        (400, "not a WebSocket upgrade".to_owned())
    );
    site.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_game_and_a_page_share_one_path() {
    let (server, _errors) = reporting_game(config());
    let mounted = server.mount();
    let app = Router::new().route("/", mounted.route_or(|| async { PAGE }));
    let (addr, http) = serve_router(app, true).await;
    let site = Site {
        addr,
        handle: mounted.handle(),
        server: tokio::spawn(mounted.run()),
        http,
    };
    // Where Python nodelink's client connects: the site's root.
    let root = format!("ws://{addr}/");

    assert_eq!(http_get(addr, "/").await, (200, PAGE.to_owned()));
    let mut native = Watcher::connect(&root).await;
    let mut python = JsonClient::connect(&root).await;
    let python_id: nodelink::PlayerId = python.id.parse().expect("an 8-hex id");
    python.send("move", json!({ "x": 2.5, "y": 1 })).await;
    native
        .world_where("the JSON client's move", |world| {
            world
                .get(&python_id)
                .is_some_and(|avatar| (avatar.x, avatar.y) == (2.5, 1.0))
        })
        .await;
    assert_eq!(http_get(addr, "/").await, (200, PAGE.to_owned()));
    let offer = nodelink::wire::handshake::subprotocol(<Game as Protocol>::FINGERPRINT ^ 1);
    let answer = upgrade_answer(&root, Some(&offer), &[]).await;
    assert_eq!(
        answer.status, 400,
        "an upgrade goes to the game, refusals too"
    );
    site.stop().await;
}

struct Account {
    name: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn origins_and_authentication_are_checked_through_the_router() {
    let identities = Arc::new(Mutex::new(Vec::new()));
    let (mut server, _errors) = reporting_game(config().allow_origins(["https://game.example"]));
    server.authenticate(|request| async move {
        match request.query_param("token").as_deref() {
            Some("letmein") => Ok(Account { name: "ada".into() }),
            Some(_) => Err(Rejection::forbidden("that token is revoked")),
            None => Err(Rejection::unauthorized("a token is required")),
        }
    });
    let seen = identities.clone();
    server.on_connect(move |ctx| {
        let name = ctx.player().identity::<Account>().map(|a| a.name.clone());
        seen.lock().unwrap().push(name);
    });
    let site = mount(server).await;
    let url = site.url();
    let offer = game_subprotocol();
    let offer = Some(offer.as_str());

    let answer = upgrade_answer(&url, offer, &[]).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (401, "a token is required")
    );
    let answer = upgrade_answer(&format!("{url}?token=old"), offer, &[]).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (403, "that token is revoked")
    );
    let evil = [("origin", "https://evil.example")];
    let answer = upgrade_answer(&format!("{url}?token=letmein"), offer, &evil).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (403, "origin https://evil.example is not allowed")
    );
    assert!(
        identities.lock().unwrap().is_empty(),
        "no player was created for a refused client"
    );

    let good = [("origin", "https://game.example")];
    let answer = upgrade_answer(&format!("{url}?token=letmein"), offer, &good).await;
    assert_eq!(answer.status, 101);
    assert_eq!(answer.header("sec-websocket-protocol"), offer, "echoed");
    let client = Watcher::connect(&format!("{url}?token=letmein")).await;
    assert!(client.id.is_some());
    eventually("the identities", || identities.lock().unwrap().len() >= 2).await;
    assert!(identities
        .lock()
        .unwrap()
        .iter()
        .all(|name| name.as_deref() == Some("ada")));
    site.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capacity_limits_refuse_newcomers_through_the_router() {
    let (server, _errors) = reporting_game(config().max_players(2));
    let site = mount(server).await;
    let _first = Watcher::connect(&site.url()).await;
    let _second = Watcher::connect(&site.url()).await;
    let answer = upgrade_answer(&site.url(), Some(&game_subprotocol()), &[]).await;
    assert_eq!((answer.status, answer.body.as_str()), (503, "server full"));
    let error = within(
        "a refused client",
        Client::<Game>::from_url(site.url()).run(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(error, ClientError::Refused { status: 503, ref reason, .. } if reason == "server full"),
        "{error}"
    );
    site.stop().await;

    // Per address: two game connections from 127.0.0.1 at most; pages do not count.
    let (server, _errors) = reporting_game(config().max_connections_per_ip(2));
    let site = mount(server).await;
    let mut held = Vec::new();
    for _ in 0..2 {
        held.push(raw_connect(&site.url()).await);
    }
    let answer = upgrade_answer(&site.url(), Some(&game_subprotocol()), &[]).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (429, "too many connections from your address")
    );
    assert_eq!(http_get(site.addr, "/").await, (200, PAGE.to_owned()));
    held.pop();
    within("the slot to be given back", async {
        while upgrade_answer(&site.url(), Some(&game_subprotocol()), &[])
            .await
            .status
            != 101
        {
            tokio::task::yield_now().await;
        }
    })
    .await;
    site.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_protocol_is_refused_and_a_json_client_is_served_text_frames() {
    let (server, _errors) = reporting_game(config());
    let site = mount(server).await;
    let ours = <Game as Protocol>::FINGERPRINT;
    let theirs = ours ^ 0xff;

    let offer = nodelink::wire::handshake::subprotocol(theirs);
    let answer = upgrade_answer(&site.url(), Some(&offer), &[]).await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.header(nodelink::wire::handshake::FINGERPRINT_HEADER),
        Some(format!("{ours:016x}").as_str())
    );
    assert_eq!(
        answer.body,
        format!(
            "protocol mismatch: server fingerprint {ours:016x}, client fingerprint {theirs:016x}"
        )
    );
    let answer = upgrade_answer(&site.url(), Some("nodelink.1.0123456789abcdef"), &[]).await;
    assert_eq!(answer.status, 400);
    assert!(
        answer.body.starts_with("unsupported nodelink wire version"),
        "{}",
        answer.body
    );
    assert_eq!(site.handle.player_count(), 0, "no player was created");

    // No nodelink subprotocol: the JSON wire, in text frames, in the same game.
    let mut native = Watcher::connect(&site.url()).await;
    let mut python = JsonClient::connect(&site.url()).await;
    let python_id: nodelink::PlayerId = python.id.parse().expect("an 8-hex id");
    python.send("move", json!({ "x": 1.5, "y": -2 })).await;
    native
        .world_where("the JSON client's move", |world| {
            world
                .get(&python_id)
                .is_some_and(|avatar| (avatar.x, avatar.y) == (1.5, -2.0))
        })
        .await;
    native
        .sender
        .send(ToServer::Chat { msg: "hi".into() })
        .unwrap();
    let chat = python.next_event("chat").await;
    assert_eq!(chat["msg"], "hi");
    site.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_limits_apply_to_mounted_players() {
    let (server, mut errors) = reporting_game(config().max_frame_len(1024));
    let site = mount(server).await;
    let mut other = Watcher::connect(&site.url()).await;
    let (mut big, big_id) = raw_connect(&site.url()).await;
    let _ = big.send(Message::Binary(vec![0x90; 4096].into())).await;
    let (message, player) = within("the oversize report", errors.recv()).await.unwrap();
    assert_eq!(player, Some(big_id));
    assert!(message.contains("too long"), "{message}");
    let other_id = other.id.unwrap();
    other
        .sender
        .send(ToServer::Move { x: 1.0, y: 0.0 })
        .unwrap();
    other
        .world_where("a healthy client's move", |world| {
            !world.contains_key(&big_id) && world.get(&other_id).is_some_and(|a| a.x == 1.0)
        })
        .await;
    site.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_authentication_hook_is_cut_off_by_the_handshake_timeout() {
    let (mut server, _errors) =
        reporting_game(config().handshake_timeout(Duration::from_millis(200)));
    server.authenticate(|_| async {
        std::future::pending::<()>().await;
        Ok(())
    });
    let site = mount(server).await;
    let answer = upgrade_answer(&site.url(), Some(&game_subprotocol()), &[]).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (503, "handshake timed out")
    );
    site.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_peer_addresses_upgrades_are_refused_and_reported_once() {
    let (server, mut errors): (_, Reports) = reporting_game(config());
    let site = mount_with(server, false).await;
    for _ in 0..2 {
        let answer = upgrade_answer(&site.url(), Some(&game_subprotocol()), &[]).await;
        assert_eq!(answer.status, 500);
        assert!(
            answer
                .body
                .contains("into_make_service_with_connect_info::<SocketAddr>()"),
            "{}",
            answer.body
        );
    }
    let (message, player) = within("the report", errors.recv()).await.unwrap();
    assert_eq!(message, ServerError::NoPeerAddress.to_string());
    assert_eq!(player, None);
    assert_eq!(http_get(site.addr, "/").await, (200, PAGE.to_owned()));
    site.stop().await;
    assert!(errors.try_recv().is_err(), "reported once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_mounted_players_with_4001_and_the_site_goes_on() {
    let (mut server, _errors) = reporting_game(config());
    let (left_tx, mut left) = tokio::sync::mpsc::unbounded_channel();
    server.on_disconnect(move |ctx| {
        let _ = left_tx.send(ctx.id());
    });
    let mut site = mount(server).await;
    let mut native = Watcher::connect(&site.url()).await;
    let mut python = JsonClient::connect(&site.url()).await;
    eventually("both players", || site.handle.player_count() == 2).await;

    site.stop_game().await;
    let reason = native
        .next_where("the close frame", |seen| match seen {
            Seen::Disconnected(reason) => Some(reason.clone()),
            _ => None,
        })
        .await;
    assert_eq!(reason.close_reason(), Some(CloseReason::ServerShutdown));
    assert_eq!(
        python.closed().await,
        Some(CloseReason::ServerShutdown.code())
    );
    let mut gone = vec![
        within("a departure", left.recv()).await.unwrap(),
        within("a departure", left.recv()).await.unwrap(),
    ];
    gone.sort_unstable();
    let mut ids = vec![native.id.unwrap(), python.id.parse().unwrap()];
    ids.sort_unstable();
    assert_eq!(gone, ids, "on_disconnect fired for both");

    // The game refuses newcomers; the pages are still served.
    let answer = upgrade_answer(&site.url(), Some(&game_subprotocol()), &[]).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (503, "server shutting down")
    );
    assert_eq!(http_get(site.addr, "/").await, (200, PAGE.to_owned()));
    site.stop().await;
}

/// A game with every admission check on: an origin allow-list, a token, one player.
fn guarded_game() -> Server<Game> {
    let config = local_config()
        .allow_origins(["https://game.example"])
        .max_players(1);
    let (mut server, _errors) = reporting_game(config);
    server.authenticate(|request| async move {
        match request.query_param("token").as_deref() {
            Some("letmein") => Ok(()),
            Some(_) => Err(Rejection::forbidden("that token is revoked")),
            None => Err(Rejection::unauthorized("a token is required")),
        }
    });
    server
}

/// What a refusal says, header by header.
fn said(answer: Answer) -> (u16, String, Option<String>, Option<String>) {
    let header = |name: &str| answer.header(name).map(str::to_owned);
    (
        answer.status,
        answer.body.clone(),
        header(nodelink::wire::handshake::FINGERPRINT_HEADER),
        header("sec-websocket-version"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stand_alone_and_the_mounted_server_answer_alike() {
    let alone = serve(guarded_game()).await;
    let site = mount(guarded_game()).await;
    let ours = game_subprotocol();
    let theirs = nodelink::wire::handshake::subprotocol(<Game as Protocol>::FINGERPRINT ^ 1);
    let websocket = [
        ("upgrade", "websocket"),
        ("connection", "upgrade"),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];
    let old_version = [websocket.as_slice(), &[("sec-websocket-version", "8")]].concat();

    let mut answers = Vec::new();
    for (addr, url) in [(alone.addr, alone.url()), (site.addr, site.url())] {
        let path = url.trim_start_matches(&format!("ws://{addr}"));
        let token = format!("{url}?token=letmein");
        let evil = [("origin", "https://evil.example")];
        let mut said_here = vec![
            said(http_request(addr, path, &[]).await),
            said(http_request(addr, path, &old_version).await),
            said(upgrade_answer(&token, Some(&ours), &evil).await),
            said(upgrade_answer(&token, Some(&theirs), &[]).await),
            said(upgrade_answer(&token, Some("nodelink.2.0123456789abcdef"), &[]).await),
            said(upgrade_answer(&url, Some(&ours), &[]).await),
            said(upgrade_answer(&format!("{url}?token=old"), Some(&ours), &[]).await),
        ];
        // The one player there is room for; then the server is full.
        let (admitted, socket) = upgrade(&token, Some(&ours), &[]).await;
        let mut player = socket.expect("admitted");
        within("the welcome", player.next()).await;
        said_here.push(said(admitted));
        said_here.push(said(upgrade_answer(&token, Some(&ours), &[]).await));
        answers.push(said_here);
    }
    let statuses: Vec<u16> = answers[0].iter().map(|answer| answer.0).collect();
    assert_eq!(statuses, [400, 426, 403, 400, 400, 401, 403, 101, 503]);
    assert_eq!(
        answers[0][1].3.as_deref(),
        Some("13"),
        "the version this server speaks"
    );
    assert!(answers[0][3].2.is_some(), "the server's fingerprint");
    for (alone, mounted) in answers[0].iter().zip(&answers[1]) {
        assert_eq!(alone, mounted);
    }
    alone.stop().await;
    site.stop().await;
}
