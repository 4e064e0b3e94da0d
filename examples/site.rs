//! A web site and its game on one port: an axum `Router` serves the page at `/`
//! and the nodelink server at `/play`.
//!
//! Run with `cargo run --example site`, open <http://127.0.0.1:8080> and click to
//! move: the page plays on the JSON wire (a browser offers no nodelink
//! subprotocol), next to a native bot in this process that walks in a circle.
//! Stop it with Ctrl-C: every player is closed with "server shutting down".

use std::net::SocketAddr;
use std::time::Duration;

use axum::response::Html;
use axum::routing::get;
use axum::serve::ListenerExt;
use axum::Router;
use nodelink::client::Client;
use nodelink::server::{Server, ServerConfig};
use nodelink_examples::{Game, OnToServer, ToClient, ToServer};

const ADDR: &str = "127.0.0.1:8080";

#[tokio::main]
async fn main() -> std::io::Result<()> {
    // `host` and `port` are not used: the router's listener decides.
    let mut server = Server::<Game>::new(ServerConfig::default());
    server.on_connect(|ctx| {
        let id = ctx.id();
        ctx.broadcast(ToClient::Joined { id });
    });
    server.on_move(|ctx, x, y| {
        ctx.player().state_mut().set_x(x).set_y(y);
    });
    server.on_error(|error, player| match player {
        Some(player) => eprintln!("error from {}: {error}", player.id()),
        None => eprintln!("error: {error}"),
    });

    let mounted = server.mount();
    let handle = mounted.handle();
    let app = Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route("/play", mounted.route());
    tokio::spawn(mounted.run());

    // A game's frames are small: without TCP_NODELAY they may wait for the
    // peer's acknowledgements.
    let listener = tokio::net::TcpListener::bind(ADDR).await?.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    println!("open http://{ADDR}/ (the game is at ws://{ADDR}/play)");

    tokio::spawn(bot(format!("ws://{ADDR}/play")));
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        let _ = tokio::signal::ctrl_c().await;
        handle.shutdown();
    })
    .await
}

/// A native client that walks in a circle.
async fn bot(url: String) {
    let client = Client::<Game>::from_url(url);
    let sender = client.sender();
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(Duration::from_millis(50));
        for step in 0u32.. {
            ticker.tick().await;
            let angle = step as f32 / 20.0;
            let (x, y) = (200.0 + 120.0 * angle.cos(), 200.0 + 120.0 * angle.sin());
            if sender.send(ToServer::Move { x, y }).is_err() {
                return;
            }
        }
    });
    if let Err(error) = client.run().await {
        eprintln!("bot: {error}");
    }
}

/// The page: a JSON-wire client drawing every player.
const PAGE: &str = r#"<!doctype html>
<meta charset="utf-8">
<title>nodelink on axum</title>
<p id="status">connecting…</p>
<canvas id="field" width="400" height="400" style="border:1px solid #888"></canvas>
<script>
const players = {};
let me = null;
const socket = new WebSocket(`ws://${location.host}/play`);
socket.onmessage = (message) => {
  const { event, data } = JSON.parse(message.data);
  if (event === "__welcome__") me = data.id;
  if (event === "__ping__") socket.send(JSON.stringify({ event: "__pong__", data }));
  if (event === "__state_sync__") {
    if (data.full) for (const id in players) delete players[id];
    for (const id of data.left || []) delete players[id];
    for (const [id, fields] of Object.entries(data.players)) {
      players[id] = Object.assign(players[id] || {}, fields);
    }
    document.getElementById("status").textContent =
      `${data.count} online; you are ${me}: click to move`;
    draw();
  }
};
socket.onclose = (close) => {
  document.getElementById("status").textContent = `closed: ${close.code} ${close.reason}`;
};
const field = document.getElementById("field");
field.onclick = (click) => socket.send(JSON.stringify({
  event: "move", data: { x: click.offsetX, y: click.offsetY },
}));
function draw() {
  const pen = field.getContext("2d");
  pen.clearRect(0, 0, field.width, field.height);
  for (const [id, player] of Object.entries(players)) {
    pen.fillStyle = id === me ? "crimson" : "steelblue";
    pen.beginPath();
    pen.arc(player.x, player.y, 8, 0, 2 * Math.PI);
    pen.fill();
  }
}
</script>
"#;
