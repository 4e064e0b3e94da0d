//! Refusals a browser can read: a client that offers `nodelink.refusals` beside
//! its own subprotocol is told why it was refused with a close code right after
//! the upgrade, by the stand-alone listener, by a server mounted on axum and by a
//! server hosting through `nodelink-relay`; a client that does not offer it gets
//! the HTTP refusal as before. Every refusal reaches `Server::on_refusal` with its
//! peer, kind and reason. PROTOCOL.md's "Refusals a browser can read" is what a
//! running server sends, byte for byte. The Rust client, which reads HTTP
//! refusals, also reads these codes: as typed errors, retried only where retrying
//! can help.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use futures::StreamExt;
use nodelink::client::{ClientConfig, ClientError, Reconnect};
use nodelink::server::{RefusedConnection, Rejection, Server, ServerConfig};
use nodelink::wire::{RefusalKind, REFUSALS_SUBPROTOCOL};
use nodelink::Protocol;
use nodelink_examples::Game;
use nodelink_relay::{Relay, RelayConfig};
use nodelink_tests::{
    game_subprotocol, http_request, local_config, repo_root, reporting_game, serve, serve_router,
    upgrade, within, Seen, Watcher,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

fn fingerprint() -> String {
    format!("{:016x}", Game::FINGERPRINT)
}

/// PROTOCOL.md's example protocol: the example game without the match options
/// and metadata of its tables. The refusals that name the server's fingerprint
/// are documented from a server of it.
#[nodelink::protocol(state = nodelink_examples::Avatar, to_server = nodelink_examples::ToServer,
                     to_client = nodelink_examples::ToClient, server_state = nodelink_examples::Match)]
struct Documented;

/// A client of another build of the game's protocol.
/// A subprotocol of this wire version with another fingerprint.
fn other() -> String {
    format!("nodelink.{}.0123456789abcdef", nodelink::wire::WIRE_VERSION)
}

/// The example game behind every gate: an origin allow-list, room for one
/// player, and an authentication hook that knows two bad tickets. Its refusals
/// are reported into the returned channel.
fn gated_game(config: ServerConfig) -> (Server<Game>, mpsc::UnboundedReceiver<RefusedConnection>) {
    let config = config
        .allow_origins(["https://game.example"])
        .max_players(1);
    let (mut server, _errors) = reporting_game(config);
    server.authenticate(|request| async move {
        match request.query_param("ticket").as_deref() {
            Some("bad") => Err(Rejection::unauthorized("no such ticket")),
            Some("banned") => Err(Rejection::forbidden("you are banned")),
            _ => Ok(()),
        }
    });
    let (refusals_tx, refusals) = mpsc::unbounded_channel();
    server.on_refusal(move |refusal| {
        let _ = refusals_tx.send(refusal.clone());
    });
    (server, refusals)
}

/// Offers `offer` and the refusals marker to `url`; returns the close frame the
/// server sends right after the upgrade.
async fn told(url: &str, offer: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let offer = format!("{offer}, {REFUSALS_SUBPROTOCOL}");
    let (answer, socket) = upgrade(url, Some(&offer), headers).await;
    assert_eq!(answer.status, 101, "{url}: {}", answer.body);
    assert_eq!(
        answer.header("sec-websocket-protocol"),
        Some(REFUSALS_SUBPROTOCOL)
    );
    let mut socket = socket.expect("upgraded");
    match within("the refusal's close frame", socket.next()).await {
        Some(Ok(Message::Close(Some(frame)))) => {
            // Answered, as a browser does: the server waits for it.
            let _ = socket.close(None).await;
            (frame.code.into(), frame.reason.to_string())
        }
        other => panic!("{url}: expected a close frame, got {other:?}"),
    }
}

/// A refusal to provoke: with this query, subprotocol offer and headers.
struct Case<'a> {
    kind: RefusalKind,
    query: &'a str,
    offer: String,
    headers: &'a [(&'a str, &'a str)],
    reason: &'a str,
}

/// Every refusal of [`gated_game`] that a browser can be told, told to a client
/// that asks, at `base` (a URL to which a query is appended); each reaches the
/// hook with `peer_ip`. Ends with the game full.
async fn every_refusal_is_told(
    base: &str,
    refusals: &mut mpsc::UnboundedReceiver<RefusedConnection>,
    peer_ip: std::net::IpAddr,
) {
    let ours = game_subprotocol();
    let url = |query: &str| format!("{base}{query}");
    let mismatch = format!(
        "protocol mismatch: server fingerprint {}, client fingerprint 0123456789abcdef",
        fingerprint()
    );
    let wire_version = format!(
        "unsupported nodelink wire version: this server speaks nodelink.3.{}",
        fingerprint()
    );
    let malformed =
        "malformed resume offer: expected nodelink.resume.<32 hex digits>.<received>.<forgotten>";
    let origin = [("origin", "https://elsewhere.example")];
    let cases = [
        Case {
            kind: RefusalKind::OriginNotAllowed,
            query: "",
            offer: ours.clone(),
            headers: &origin,
            reason: "origin https://elsewhere.example is not allowed",
        },
        Case {
            kind: RefusalKind::ProtocolMismatch,
            query: "",
            offer: other(),
            headers: &[],
            reason: &mismatch,
        },
        Case {
            kind: RefusalKind::WireVersion,
            query: "",
            offer: format!("nodelink.1.{}", fingerprint()),
            headers: &[],
            reason: &wire_version,
        },
        Case {
            kind: RefusalKind::MalformedResume,
            query: "",
            offer: format!("{ours}, nodelink.resume.nope"),
            headers: &[],
            reason: malformed,
        },
        Case {
            kind: RefusalKind::Unauthorized,
            query: "?ticket=bad",
            offer: ours.clone(),
            headers: &[],
            reason: "no such ticket",
        },
        Case {
            kind: RefusalKind::Forbidden,
            query: "?ticket=banned",
            offer: ours.clone(),
            headers: &[],
            reason: "you are banned",
        },
    ];
    for case in cases {
        let (code, text) = told(&url(case.query), &case.offer, case.headers).await;
        let kind = case.kind;
        assert_eq!(
            (code, text.as_str()),
            (kind.close_code().unwrap(), case.reason),
            "{kind:?}"
        );
        let reported = within("the refusal's report", refusals.recv())
            .await
            .unwrap();
        assert_eq!(
            (reported.kind(), reported.reason(), reported.peer().ip()),
            (kind, case.reason, peer_ip)
        );
    }
    // The game fills up: the next client is told so.
    let _player = Watcher::connect(&url("?ticket=good")).await;
    let (code, text) = told(&url(""), &ours, &[]).await;
    assert_eq!((code, text.as_str()), (4205, "server full"));
    let reported = within("the full server's report", refusals.recv())
        .await
        .unwrap();
    assert_eq!(reported.kind(), RefusalKind::ServerFull);
    // Without the marker, the same refusal is the HTTP response it always was.
    let (answer, _) = upgrade(&url(""), Some(&ours), &[]).await;
    assert_eq!((answer.status, answer.body.as_str()), (503, "server full"));
    within("its report", refusals.recv()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stand_alone_server_tells_each_refusal_with_a_close_code() {
    let (server, mut refusals) = gated_game(local_config());
    let running = serve(server).await;
    let localhost = "127.0.0.1".parse().unwrap();
    every_refusal_is_told(&running.url(), &mut refusals, localhost).await;

    // A request that is not a WebSocket upgrade cannot be upgraded: HTTP, marker
    // or not, and reported all the same.
    let answer = http_request(
        running.addr,
        "/",
        &[("sec-websocket-protocol", REFUSALS_SUBPROTOCOL)],
    )
    .await;
    assert_eq!(answer.status, 400);
    let reported = within("its report", refusals.recv()).await.unwrap();
    assert_eq!(reported.kind(), RefusalKind::NotAnUpgrade);
    assert!(
        running.handle.players().await.unwrap().len() == 1,
        "only the one admitted player"
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_over_the_per_ip_cap_is_told_so() {
    let config = local_config().max_connections_per_ip(2);
    let (mut server, _errors) = reporting_game(config);
    let (refusals_tx, mut refusals) = mpsc::unbounded_channel();
    server.on_refusal(move |refusal| {
        let _ = refusals_tx.send(refusal.kind());
    });
    let running = serve(server).await;
    let _first = Watcher::connect(&running.url()).await;
    let _second = Watcher::connect(&running.url()).await;
    let (code, text) = told(&running.url(), &game_subprotocol(), &[]).await;
    assert_eq!(
        (code, text.as_str()),
        (4200, "too many connections from your address")
    );
    assert_eq!(
        within("the report", refusals.recv()).await,
        Some(RefusalKind::TooManyConnections)
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mounted_server_tells_each_refusal_with_a_close_code() {
    let (server, mut refusals) = gated_game(ServerConfig::default());
    let mounted = server.mount();
    let handle = mounted.handle();
    let app = Router::new().route("/play", mounted.route());
    let (addr, http) = serve_router(app, true).await;
    let game = tokio::spawn(mounted.run());
    let localhost = "127.0.0.1".parse().unwrap();
    every_refusal_is_told(&format!("ws://{addr}/play"), &mut refusals, localhost).await;
    handle.shutdown();
    within("the mounted server to stop", game).await.unwrap();
    http.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relayed_player_is_told_its_refusal_over_the_relay() {
    let config = RelayConfig::default().host("127.0.0.1").port(0);
    let relay = Relay::new(config).bind().await.expect("binds");
    let relay_url = format!("ws://{}", relay.local_addr());
    let relay_handle = relay.handle();
    let relay_task = tokio::spawn(relay.run());
    let (server, mut refusals) = gated_game(local_config());
    let hosted = within("registering", server.relay(&relay_url))
        .await
        .expect("registers");
    let join = hosted.join_url();
    let handle = hosted.handle();
    let serving = tokio::spawn(hosted.run());
    // The host sees the player's own address, which the relay passes on.
    let localhost = "127.0.0.1".parse().unwrap();
    every_refusal_is_told(&join, &mut refusals, localhost).await;
    handle.shutdown();
    within("the host to stop", serving).await.unwrap();
    relay_handle.shutdown();
    within("the relay to stop", relay_task).await.unwrap();
}

// ---------------------------------------------------------------------------
// PROTOCOL.md

/// The fenced block of kind `fence` after `marker` in PROTOCOL.md.
fn documented(doc: &str, marker: &str, fence: &str) -> Option<String> {
    let after = &doc[doc.find(marker)? + marker.len()..];
    let open = format!("```{fence}\n");
    let block = &after[after.find(&open)? + open.len()..];
    Some(block[..block.find("```")?].to_owned())
}

/// Hex bytes, whitespace and `#` comments ignored.
fn hex_of(block: &str) -> String {
    block
        .lines()
        .map(|line| line.split('#').next().unwrap_or(""))
        .flat_map(str::split_whitespace)
        .collect::<Vec<_>>()
        .join(" ")
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Sends PROTOCOL.md's upgrade request, offering `offer` (a list ending in `, `,
/// or nothing) then the marker, with extra `headers`, and reads the answer: the
/// response head and the close frame.
async fn exchange(addr: SocketAddr, target: &str, offer: &str, headers: &str) -> (String, Vec<u8>) {
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connects");
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: game.example\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {offer}{REFUSALS_SUBPROTOCOL}\r\n\
         {headers}\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("sends");
    within("the refusal", async {
        let mut read = Vec::new();
        let mut chunk = [0u8; 1024];
        loop {
            let n = stream.read(&mut chunk).await.expect("reads");
            assert!(n > 0, "the server closed early: {read:?}");
            read.extend_from_slice(&chunk[..n]);
            let Some(end) = read.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            let frame = &read[end + 4..];
            // An unmasked close frame under 126 bytes: its length is its second byte.
            if frame.len() >= 2 && frame.len() >= 2 + usize::from(frame[1]) {
                let head = String::from_utf8(read[..end].to_vec()).expect("a text head");
                return (head, frame.to_vec());
            }
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_md_refusals_as_close_codes_are_what_the_server_sends() {
    let doc = std::fs::read_to_string(repo_root().join("PROTOCOL.md")).expect("PROTOCOL.md");
    let (server, _refusals) = gated_game(local_config());
    let running = serve(server).await;
    let ours = game_subprotocol();
    let mut wrong = Vec::new();

    // The whole answer once: the 101 selecting the marker, then the close frame.
    let other = format!("{}, ", other());
    let (head, _) = exchange(running.addr, "/", &other, "").await;
    let head = head.replace("\r\n", "\n");
    let documented_head = documented(&doc, "<!-- refusal-response -->", "http");
    if documented_head.as_deref().map(str::trim_end) != Some(head.as_str()) {
        wrong.push(format!(
            "the 101: PROTOCOL.md has\n{documented_head:?}\nthe server sends\n{head:?}"
        ));
    }

    // A server that holds one connection per address, holding one; a native-only
    // one; one of the documented protocol, for the refusals that name its
    // fingerprint (as the native-only one's does); and the gated server filled
    // up, for the refusals that need them.
    let (server, _errors) = reporting_game(local_config().max_connections_per_ip(1));
    let capped = serve(server).await;
    let held = tokio::net::TcpStream::connect(capped.addr).await.unwrap();
    let config = local_config().wire_formats(nodelink::server::WireFormats::NativeOnly);
    let native_only = serve(Server::<Documented>::new(config)).await;
    let of_the_doc = serve(Server::<Documented>::new(local_config())).await;

    // Each refusal's close frame.
    let ours = format!("{ours}, ");
    let wire_version = format!("nodelink.1.{:016x}, ", Documented::FINGERPRINT);
    let malformed = format!("{ours}nodelink.resume.nope, ");
    let origin = "Origin: https://elsewhere.example\r\n";
    let mut cases = vec![
        ("too-many-connections", capped.addr, "/", ours.as_str(), ""),
        (
            "origin-not-allowed",
            running.addr,
            "/",
            ours.as_str(),
            origin,
        ),
        (
            "protocol-mismatch",
            of_the_doc.addr,
            "/",
            other.as_str(),
            "",
        ),
        (
            "wire-version",
            of_the_doc.addr,
            "/",
            wire_version.as_str(),
            "",
        ),
        ("wire-not-served", native_only.addr, "/", "", ""),
        (
            "unauthorized",
            running.addr,
            "/?ticket=bad",
            ours.as_str(),
            "",
        ),
        (
            "forbidden",
            running.addr,
            "/?ticket=banned",
            ours.as_str(),
            "",
        ),
        (
            "malformed-resume",
            running.addr,
            "/",
            malformed.as_str(),
            "",
        ),
    ];
    let mut frames = Vec::new();
    for (name, addr, target, offer, headers) in cases.drain(..) {
        frames.push((name, exchange(addr, target, offer, headers).await.1));
    }
    let _player = Watcher::connect(&running.url()).await;
    frames.push((
        "server-full",
        exchange(running.addr, "/", &ours, "").await.1,
    ));
    for (name, frame) in frames {
        let marker = format!("<!-- close-frame: {name} -->");
        let block = documented(&doc, &marker, "hex").map(|block| hex_of(&block));
        if block.as_deref() != Some(hex(&frame).as_str()) {
            wrong.push(format!(
                "{name}: PROTOCOL.md has\n{block:?}\nthe server sends\n{:?}",
                hex(&frame)
            ));
        }
    }
    running.stop().await;
    drop(held);
    capped.stop().await;
    native_only.stop().await;
    of_the_doc.stop().await;

    // The table names every code with its kind's HTTP status.
    for kind in [
        RefusalKind::TooManyConnections,
        RefusalKind::OriginNotAllowed,
        RefusalKind::ProtocolMismatch,
        RefusalKind::WireVersion,
        RefusalKind::WireNotServed,
        RefusalKind::ServerFull,
        RefusalKind::Unauthorized,
        RefusalKind::Forbidden,
        RefusalKind::MalformedResume,
    ] {
        let code = kind.close_code().expect("a close code");
        let row = format!("| {code} | {} |", kind.status());
        if !doc.contains(&row) {
            wrong.push(format!("no row beginning {row:?}"));
        }
        let retry = if kind.is_retryable() { "yes" } else { "no" };
        let line = doc
            .lines()
            .find(|line| line.starts_with(&row))
            .unwrap_or("");
        if !line.trim_end().ends_with(&format!("| {retry} |")) {
            wrong.push(format!("{code}: retrying is {retry:?}: {line:?}"));
        }
    }
    if !doc.contains(&format!("`{REFUSALS_SUBPROTOCOL}`")) {
        wrong.push(format!("no `{REFUSALS_SUBPROTOCOL}`"));
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

// ---------------------------------------------------------------------------
// The Rust client

/// A server that upgrades every connection, selecting the client's own
/// subprotocol, and closes it at once with `code` and `reason`, as a server
/// refusing a browser does: its address and how many connections it has had.
async fn closing_server(code: u16, reason: &'static str) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let counted = count.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                #[allow(clippy::result_large_err)]
                let echo = |request: &Request, mut response: Response| {
                    if let Some(offer) = request.headers().get("sec-websocket-protocol") {
                        let first = offer.to_str().unwrap_or("").split(',').next().unwrap_or("");
                        if let Ok(first) = first.trim().parse() {
                            response
                                .headers_mut()
                                .insert("sec-websocket-protocol", first);
                        }
                    }
                    Ok(response)
                };
                let Ok(mut socket) = tokio_tungstenite::accept_hdr_async(stream, echo).await else {
                    return;
                };
                let frame = CloseFrame {
                    code: CloseCode::from(code),
                    reason: reason.into(),
                };
                let _ = socket.close(Some(frame)).await;
                while let Some(Ok(_)) = socket.next().await {}
            });
        }
    });
    (addr, count)
}

fn retrying() -> ClientConfig {
    let policy = Reconnect::default()
        .initial_delay(Duration::from_millis(10))
        .max_attempts(Some(2));
    ClientConfig::default().reconnect(policy)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rust_client_reads_a_mismatch_close_code_and_does_not_retry() {
    let reason = "protocol mismatch: server fingerprint 00000000000000ab, client fingerprint 4874c71316f5ad11";
    let (addr, connections) = closing_server(4202, reason).await;
    let mut client = Watcher::start_with(&format!("ws://{addr}/"), retrying(), |_| {});
    let (seen, result) = client.finish("the client to give up").await;
    match result {
        Err(ClientError::ProtocolMismatch { client, server }) => {
            assert_eq!((client, server), (Game::FINGERPRINT, Some(0xab)));
        }
        other => panic!("expected a protocol mismatch, got {other:?}"),
    }
    assert!(
        !seen
            .iter()
            .any(|seen| matches!(seen, Seen::Reconnecting(..))),
        "{seen:?}"
    );
    assert_eq!(connections.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rust_client_retries_a_full_server_told_by_close_code() {
    let (addr, connections) = closing_server(4205, "server full").await;
    let mut client = Watcher::start_with(&format!("ws://{addr}/"), retrying(), |_| {});
    let (seen, result) = client.finish("the client to give up").await;
    match result {
        Err(ClientError::Refused { status, reason, .. }) => {
            assert_eq!((status, reason.as_str()), (503, "server full"));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let attempts = seen
        .iter()
        .filter(|seen| matches!(seen, Seen::Reconnecting(..)))
        .count();
    assert_eq!(attempts, 2);
    assert_eq!(connections.load(Ordering::SeqCst), 3);
}
