//! The bench game written by hand on tokio-tungstenite, no nodelink: what a
//! framework cannot beat. One task owns the positions; each tick, the changed ones
//! go out in one frame, encoded once and shared by every connection's queue. A
//! newcomer gets a snapshot of what it sees after its welcome; the others learn of
//! it from the next tick, which carries it as changed. Chat lines are relayed to
//! everyone, encoded once. With `--room-size N`, players fill rooms of N in join
//! order and each room gets its own frame per tick, encoded once for its members.
//! Prints `listening on ADDR` first.
//!
//! Run by `loadgen --target limit`; alone: `cargo run -p nodelink-bench --release
//! --bin bench-server-limit -- [PORT] [--room-size N]`.

use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use nodelink_bench::{limit_wire, ServerArgs};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

enum ToWorld {
    Join(mpsc::Sender<Bytes>, oneshot::Sender<u32>),
    Move(u32, f32, f32),
    Chat(u32, String),
    Leave(u32),
}

struct Slot {
    queue: mpsc::Sender<Bytes>,
    x: f32,
    y: f32,
    dirty: bool,
    room: usize,
}

/// Everything the world task owns.
struct World {
    slots: Vec<Option<Slot>>,
    /// Each room's members; without rooms, room 0 holds everyone.
    rooms: Vec<Vec<u32>>,
    room_size: Option<usize>,
    /// Players that ever joined: the n-th goes to room `n / room_size`.
    joins: usize,
    tick: u64,
    /// Buffers reused by every frame: its entries, then its bytes.
    entries: Vec<(u32, f32, f32)>,
    frame: Vec<u8>,
}

impl World {
    fn new(room_size: Option<usize>) -> Self {
        Self {
            slots: Vec::new(),
            rooms: Vec::new(),
            room_size,
            joins: 0,
            tick: 0,
            entries: Vec::new(),
            frame: Vec::new(),
        }
    }

    fn join(&mut self, queue: mpsc::Sender<Bytes>) -> u32 {
        let room = self.room_size.map_or(0, |size| self.joins / size);
        self.joins += 1;
        let id = self
            .slots
            .iter()
            .position(Option::is_none)
            .unwrap_or(self.slots.len());
        let slot = Slot {
            queue,
            x: 0.0,
            y: 0.0,
            dirty: true,
            room,
        };
        if id == self.slots.len() {
            self.slots.push(Some(slot));
        } else {
            self.slots[id] = Some(slot);
        }
        if self.rooms.len() <= room {
            self.rooms.resize_with(room + 1, Vec::new);
        }
        self.rooms[room].push(id as u32);
        // The queue is new: the snapshot is the first frame after the welcome.
        let members = std::mem::take(&mut self.rooms[room]);
        self.encode(&members, false);
        self.rooms[room] = members;
        if let Some(slot) = &self.slots[id] {
            let _ = slot.queue.try_send(Bytes::copy_from_slice(&self.frame));
        }
        id as u32
    }

    fn slot_mut(&mut self, id: u32) -> Option<&mut Slot> {
        self.slots.get_mut(id as usize)?.as_mut()
    }

    fn leave(&mut self, id: u32) {
        let Some(slot) = self.slots.get_mut(id as usize).and_then(Option::take) else {
            return;
        };
        if let Some(members) = self.rooms.get_mut(slot.room) {
            members.retain(|member| *member != id);
        }
    }

    /// Relays a chat line to everyone, encoded once.
    fn chat(&mut self, from: u32, msg: &str) {
        let bytes = Bytes::from(limit_wire::encode_chat_from(from, msg));
        for slot in self.slots.iter().flatten() {
            let _ = slot.queue.try_send(bytes.clone());
        }
    }

    /// Writes a frame with these members into `self.frame`: all of them (a
    /// snapshot, which leaves the changed flags to the next tick), or only the
    /// changed ones, whose flags it clears.
    fn encode(&mut self, members: &[u32], changed_only: bool) {
        let slots = &mut self.slots;
        self.entries.clear();
        self.entries.extend(members.iter().filter_map(|id| {
            let slot = slots.get_mut(*id as usize)?.as_mut()?;
            if changed_only {
                if !slot.dirty {
                    return None;
                }
                slot.dirty = false;
            }
            Some((*id, slot.x, slot.y))
        }));
        limit_wire::write_tick(&mut self.frame, self.tick, self.entries.iter().copied());
    }

    /// One frame per room with the room's changed members, encoded once and
    /// shared by the members' queues; nothing for a room where nothing changed.
    fn tick(&mut self) {
        self.tick += 1;
        for room in 0..self.rooms.len() {
            let members = std::mem::take(&mut self.rooms[room]);
            let changed = members
                .iter()
                .any(|id| self.slots[*id as usize].as_ref().is_some_and(|s| s.dirty));
            if changed {
                self.encode(&members, true);
                let bytes = Bytes::copy_from_slice(&self.frame);
                for id in &members {
                    if let Some(slot) = &self.slots[*id as usize] {
                        let _ = slot.queue.try_send(bytes.clone());
                    }
                }
            }
            self.rooms[room] = members;
        }
    }
}

async fn world(mut inbox: mpsc::Receiver<ToWorld>, room_size: Option<usize>) {
    let mut world = World::new(room_size);
    let mut ticker = tokio::time::interval(Duration::from_millis(50));
    loop {
        tokio::select! {
            message = inbox.recv() => match message {
                Some(ToWorld::Join(queue, reply)) => {
                    let _ = reply.send(world.join(queue));
                }
                Some(ToWorld::Move(id, x, y)) => {
                    if let Some(slot) = world.slot_mut(id) {
                        slot.x = x;
                        slot.y = y;
                        slot.dirty = true;
                    }
                }
                Some(ToWorld::Chat(from, msg)) => world.chat(from, &msg),
                Some(ToWorld::Leave(id)) => world.leave(id),
                None => return,
            },
            _ = ticker.tick() => world.tick(),
        }
    }
}

async fn connection(stream: TcpStream, world: mpsc::Sender<ToWorld>) {
    let _ = stream.set_nodelay(true);
    let config = WebSocketConfig::default()
        // tungstenite zeroes this much before every read attempt: small is cheaper.
        .read_buffer_size(512)
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
    let requests = world.clone();
    let reader = async move {
        while let Some(Ok(message)) = stream.next().await {
            if let Message::Binary(bytes) = message {
                let request = if let Some((x, y)) = limit_wire::decode_move(&bytes) {
                    ToWorld::Move(id, x, y)
                } else if let Some(msg) = limit_wire::decode_chat(&bytes) {
                    ToWorld::Chat(id, msg.to_owned())
                } else {
                    continue;
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
    let listener = TcpListener::bind(("127.0.0.1", args.port)).await?;
    println!("listening on {}", listener.local_addr()?);
    let (to_world, inbox) = mpsc::channel(4096);
    tokio::spawn(world(inbox, args.room_size));
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(connection(stream, to_world.clone()));
    }
}
