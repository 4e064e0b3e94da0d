//! The one way to run a server: `Server::serve` on transports (a listener, an axum
//! mount), together or alone, stopped by a graceful-shutdown future.

use axum::Router;
use nodelink::client::Client;
use nodelink::server::{Mount, Relay, Server};
use nodelink::wire::CloseReason;
use nodelink::PlayerId;
use nodelink_examples::{Game, OnToServer, ToServerMove};
use nodelink_tests::{local_config, serve_router, within, JsonClient, Seen, Watcher};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

fn moving_game() -> Server<Game> {
    let mut server = Server::<Game>::new(local_config());
    server.on_move(|ctx, ToServerMove { x, y }| {
        ctx.player().state_mut().set_x(x).set_y(y);
    });
    server
}

async fn loopback() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let url = format!("ws://{}/", listener.local_addr().expect("an address"));
    (listener, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_shutdown_future_stops_the_server_and_closes_its_players() {
    let (listener, url) = loopback().await;
    let (stop, stopped) = oneshot::channel::<()>();
    let serving = tokio::spawn(moving_game().serve(listener).with_graceful_shutdown(async {
        let _ = stopped.await;
    }));
    let mut ada = Watcher::connect(&url).await;
    stop.send(()).expect("the server waits for its signal");
    let reason = ada
        .next_where("the shutdown's close", |seen| match seen {
            Seen::Disconnected(disconnect) => Some(disconnect.close_reason()),
            _ => None,
        })
        .await;
    assert_eq!(reason, Some(CloseReason::ServerShutdown));
    within("serve to return", serving)
        .await
        .expect("the task")
        .expect("a listener's serve ends well");
    // The listener went with the server: nothing answers there any more.
    let refused = Client::<Game>::from_url(url.as_str()).run();
    let error = within("a refused connection", refused).await;
    assert!(error.is_err(), "{error:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_server_serves_a_listener_and_an_axum_mount_together() {
    let (listener, listener_url) = loopback().await;
    let mount = Mount::new();
    let app = Router::new().route("/play", mount.route());
    // The route is on the router (and may be requested) before it is served.
    let (site, http) = serve_router(app, true).await;
    let site_url = format!("ws://{site}/play");
    let server = moving_game();
    let handle = server.handle();
    let serving = tokio::spawn(server.serve(listener).and(mount));

    // One match, whichever way its players came in: each sees the other's move.
    let mut ada = Watcher::connect(&listener_url).await;
    let mut bob = JsonClient::connect(&site_url).await;
    let bob_id: PlayerId = bob.id.parse().expect("a player id");
    bob.send("move", serde_json::json!({"x": 3.0, "y": 4.0}))
        .await;
    ada.world_where("bob's move, through the mount", |world| {
        world
            .get(&bob_id)
            .is_some_and(|bob| (bob.x, bob.y) == (3.0, 4.0))
    })
    .await;
    let ada_id = ada.id.expect("connected");
    ada.sender
        .send(nodelink_examples::ToServer::Move { x: 1.0, y: 2.0 })
        .unwrap();
    bob.world_where("ada's move, through the listener", |world| {
        world
            .get(&ada_id.to_string())
            .is_some_and(|ada| ada["x"] == 1.0 && ada["y"] == 2.0)
    })
    .await;

    handle.shutdown();
    assert_eq!(bob.closed().await, Some(CloseReason::ServerShutdown.code()));
    within("serve to return", serving)
        .await
        .expect("the task")
        .expect("both transports end well");
    http.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_server_serves_a_listener_and_a_relay_together() {
    let relay = nodelink_relay::Relay::new(
        nodelink_relay::RelayConfig::default()
            .host("127.0.0.1")
            .port(0),
    )
    .bind()
    .await
    .expect("the relay binds");
    let relay_url = format!("ws://{}", relay.local_addr());
    let relay_handle = relay.handle();
    let relay_task = tokio::spawn(relay.run());

    let (listener, listener_url) = loopback().await;
    let server = moving_game();
    let link = Relay::register(&relay_url, server.config())
        .await
        .expect("registers");
    let join_url = link.join_url();
    let (stop, stopped) = oneshot::channel::<()>();
    let serving = tokio::spawn(
        server
            .serve(listener)
            .and(link)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            }),
    );

    let mut ada = Watcher::connect(&listener_url).await;
    let bob = Watcher::connect(&join_url).await;
    let bob_id = bob.id.expect("connected");
    bob.sender
        .send(nodelink_examples::ToServer::Move { x: 7.0, y: 8.0 })
        .unwrap();
    ada.world_where("bob's move, through the relay", |world| {
        world
            .get(&bob_id)
            .is_some_and(|bob| (bob.x, bob.y) == (7.0, 8.0))
    })
    .await;

    stop.send(()).expect("the server waits for its signal");
    within("serve to return", serving)
        .await
        .expect("the task")
        .expect("both transports end well");
    // Its link closed normally: the relay forgot the game at once.
    nodelink_tests::eventually("the relay to forget the game", || {
        relay_handle.games().is_empty()
    })
    .await;
    relay_handle.shutdown();
    within("the relay to stop", relay_task)
        .await
        .expect("the relay task");
}
