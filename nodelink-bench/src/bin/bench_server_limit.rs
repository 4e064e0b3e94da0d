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
use nodelink_bench::ServerArgs;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

type Queue = mpsc::Sender<Bytes>;

async fn connection(stream: TcpStream, world: mpsc::Sender<ToWorld<Queue>>) {
    let config = WebSocketConfig::default()
        // tungstenite zeroes this much before every read attempt: small is cheaper.
        .read_buffer_size(512)
        .write_buffer_size(64 * 1024);
    let Some(socket) = hand_world::accept(stream, config).await else {
        return;
    };
    let (queue, mut frames) = mpsc::channel::<Bytes>(256);
    let Some(id) = hand_world::join(&world, queue).await else {
        return;
    };
    let (mut sink, stream) = socket.split();
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
    tokio::select! {
        () = writer => {}
        () = hand_world::forward_requests(stream, id, &world) => {}
    }
    let _ = world.send(ToWorld::Leave(id)).await;
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = ServerArgs::parse(std::env::args().skip(1))?;
    hand_world::serve("limit server", &args, connection).await
}
