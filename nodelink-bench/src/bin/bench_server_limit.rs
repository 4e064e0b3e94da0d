//! The bench game written by hand on tokio-tungstenite, no nodelink runtime: what a
//! framework cannot beat. It speaks nodelink's native wire byte for byte
//! (`nodelink_bench::limit_wire`, checked against nodelink by
//! `tests/same_frames.rs`): the same welcome, the same sync frames with the same
//! field masks (only the changed fields), the same snapshots and announcements,
//! the same chat events; so the load generator's bots are the same for both
//! servers and the comparison is of the servers' work alone.
//!
//! One task owns the world; each tick, the changed fields go out in one frame,
//! encoded once and shared by every connection's queue. A newcomer gets its
//! snapshot after its welcome; everyone learns of it in the next tick's frame,
//! with every field. With `--room-size N`, players fill rooms of N in join order;
//! each room gets its own frame per tick, and a newcomer and its room are
//! introduced to each other at once, as nodelink's room-scoped sync does. Player
//! ids count from 1, as the nodelink bench server's do. Prints `listening on ADDR`
//! first.
//!
//! Run by `loadgen --target limit`; alone: `cargo run -p nodelink-bench --release
//! --bin bench-server-limit -- [PORT] [--room-size N]`.

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use nodelink_bench::hand_world::{self, ToWorld};
use nodelink_bench::limit_wire::{self, FromClient};
use nodelink_bench::ServerArgs;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

type Queue = mpsc::Sender<Bytes>;

async fn connection(stream: TcpStream, world: mpsc::Sender<ToWorld<Queue>>) {
    let _ = stream.set_nodelay(true);
    let config = WebSocketConfig::default()
        // tungstenite zeroes this much before every read attempt: small is cheaper.
        .read_buffer_size(512)
        .write_buffer_size(64 * 1024);
    // Echo the nodelink subprotocol the client offers, as nodelink does.
    #[allow(clippy::result_large_err)] // The callback's error type is tungstenite's.
    let echo = |request: &Request, mut response: Response| {
        let offered = request
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                value
                    .split(',')
                    .map(str::trim)
                    .find(|p| p.starts_with("nodelink."))
            })
            .and_then(|value| value.parse().ok());
        if let Some(value) = offered {
            response
                .headers_mut()
                .insert("sec-websocket-protocol", value);
        }
        Ok(response)
    };
    let Ok(socket) =
        tokio_tungstenite::accept_hdr_async_with_config(stream, echo, Some(config)).await
    else {
        return;
    };
    let (queue, mut frames) = mpsc::channel::<Bytes>(256);
    let (reply, joined) = oneshot::channel();
    if world.send(ToWorld::Join(queue, reply)).await.is_err() {
        return;
    }
    let Ok(id) = joined.await else { return };
    let (mut sink, mut stream) = socket.split();
    let writer = async move {
        while let Some(first) = frames.recv().await {
            let mut next = Some(first);
            while let Some(frame) = next {
                if sink.feed(Message::Binary(frame)).await.is_err() {
                    return;
                }
                next = frames.try_recv().ok();
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
    };
    let requests = world.clone();
    let reader = async move {
        while let Some(Ok(message)) = stream.next().await {
            if let Message::Binary(bytes) = message {
                let request = match limit_wire::read_client(&bytes) {
                    Some(FromClient::Move(x, y)) => ToWorld::Move(id, x, y),
                    Some(FromClient::Chat(msg)) => ToWorld::Chat(id, msg.to_owned()),
                    Some(FromClient::Other) | None => continue,
                };
                if requests.send(request).await.is_err() {
                    return;
                }
            }
        }
    };
    tokio::select! {
        () = writer => {}
        () = reader => {}
    }
    let _ = world.send(ToWorld::Leave(id)).await;
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = ServerArgs::parse(std::env::args().skip(1))?;
    if args.tls.is_some() {
        return Err("--tls: the limit server serves plain ws:// only".into());
    }
    if args.match_size.is_some() {
        return Err("--match-size: the limit server hosts one world, no matches".into());
    }
    if args.redis.is_some() {
        return Err("--redis: the limit server is one process, of no service".into());
    }
    let listener = TcpListener::bind(("127.0.0.1", args.port)).await?;
    println!("listening on {}", listener.local_addr()?);
    let (to_world, inbox) = mpsc::channel(4096);
    tokio::spawn(hand_world::run::<Queue>(inbox, args.room_size));
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(connection(stream, to_world.clone()));
    }
}
