//! The `sync` game written by hand on tokio-tungstenite, no nodelink: what a
//! framework cannot beat. One task owns the positions; each tick, the changed ones
//! go out in one frame, encoded once and shared by every connection's queue.
//! Prints `listening on ADDR` first.
//!
//! Run by `loadgen --target limit`; alone: `cargo run -p nodelink-bench --release
//! --bin bench-server-limit -- [PORT]`.

use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use nodelink_bench::limit_wire;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

enum ToWorld {
    Join(mpsc::Sender<Bytes>, oneshot::Sender<u32>),
    Move(u32, f32, f32),
    Leave(u32),
}

struct Slot {
    queue: mpsc::Sender<Bytes>,
    x: f32,
    y: f32,
    dirty: bool,
}

async fn world(mut inbox: mpsc::Receiver<ToWorld>) {
    let mut slots: Vec<Option<Slot>> = Vec::new();
    let mut ticker = tokio::time::interval(Duration::from_millis(50));
    let mut tick = 0u64;
    let mut frame = Vec::new();
    loop {
        tokio::select! {
            message = inbox.recv() => match message {
                Some(ToWorld::Join(queue, reply)) => {
                    let id = slots.iter().position(Option::is_none).unwrap_or(slots.len());
                    let slot = Slot { queue, x: 0.0, y: 0.0, dirty: true };
                    if id == slots.len() { slots.push(Some(slot)) } else { slots[id] = Some(slot) }
                    let _ = reply.send(id as u32);
                }
                Some(ToWorld::Move(id, x, y)) => {
                    if let Some(Some(slot)) = slots.get_mut(id as usize) {
                        slot.x = x;
                        slot.y = y;
                        slot.dirty = true;
                    }
                }
                Some(ToWorld::Leave(id)) => {
                    if let Some(slot) = slots.get_mut(id as usize) {
                        *slot = None;
                    }
                }
                None => return,
            },
            _ = ticker.tick() => {
                tick += 1;
                let changed = slots.iter().flatten().filter(|s| s.dirty).count();
                if changed == 0 {
                    continue;
                }
                frame.clear();
                let _ = rmp::encode::write_array_len(&mut frame, 2);
                let _ = rmp::encode::write_uint(&mut frame, tick);
                let _ = rmp::encode::write_array_len(&mut frame, changed as u32);
                for (id, slot) in slots.iter_mut().enumerate() {
                    if let Some(slot) = slot.as_mut().filter(|s| s.dirty) {
                        slot.dirty = false;
                        let _ = rmp::encode::write_array_len(&mut frame, 3);
                        let _ = rmp::encode::write_uint(&mut frame, id as u64);
                        let _ = rmp::encode::write_f32(&mut frame, slot.x);
                        let _ = rmp::encode::write_f32(&mut frame, slot.y);
                    }
                }
                let bytes = Bytes::copy_from_slice(&frame);
                for slot in slots.iter().flatten() {
                    let _ = slot.queue.try_send(bytes.clone());
                }
            }
        }
    }
}

async fn connection(stream: TcpStream, world: mpsc::Sender<ToWorld>) {
    let _ = stream.set_nodelay(true);
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(64 * 1024);
    let Ok(socket) = tokio_tungstenite::accept_async_with_config(stream, Some(config)).await else {
        return;
    };
    let (queue, mut frames) = mpsc::channel::<Bytes>(256);
    let (reply, joined) = oneshot::channel();
    if world.send(ToWorld::Join(queue, reply)).await.is_err() {
        return;
    }
    let Ok(id) = joined.await else { return };
    let (mut sink, mut stream) = socket.split();
    let mut welcome = Vec::new();
    let _ = rmp::encode::write_array_len(&mut welcome, 1);
    let _ = rmp::encode::write_uint(&mut welcome, id.into());
    let writer = async move {
        if sink.send(Message::Binary(welcome.into())).await.is_err() {
            return;
        }
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
    let moves = world.clone();
    let reader = async move {
        while let Some(Ok(message)) = stream.next().await {
            if let Message::Binary(bytes) = message {
                if let Some((x, y)) = limit_wire::decode_move(&bytes) {
                    if moves.send(ToWorld::Move(id, x, y)).await.is_err() {
                        return;
                    }
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
    let port: u16 = std::env::args().nth(1).map_or(Ok(0), |p| p.parse())?;
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on {}", listener.local_addr()?);
    let (to_world, inbox) = mpsc::channel(4096);
    tokio::spawn(world(inbox));
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(connection(stream, to_world.clone()));
    }
}
