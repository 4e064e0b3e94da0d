//! The example game's server for tests that run it as its own process (under a
//! low `ulimit -n`, say): it serves on `127.0.0.1` at a free port, prints
//! `listening on <addr>` once it does, logs to stderr, and stops when its stdin
//! closes.

use nodelink::server::{Server, ServerConfig};
use nodelink_examples::{Game, OnToServer, ToServerMove};
use tokio::io::AsyncReadExt;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let mut server = Server::<Game>::new(ServerConfig::default());
    server.on_move(|ctx, ToServerMove { x, y }| {
        ctx.player().state_mut().set_x(x).set_y(y);
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("listening on {}", listener.local_addr()?);
    server
        .serve(listener)
        .with_graceful_shutdown(async {
            let mut rest = Vec::new();
            let _ = tokio::io::stdin().read_to_end(&mut rest).await;
        })
        .await
        .map_err(std::io::Error::other)
}
