//! The bench game's world written by hand, no nodelink runtime: what the servers
//! that speak nodelink's native wire without nodelink share (the limit server, on
//! tokio-tungstenite, and the floor, on bare socket writes). It speaks the wire
//! byte for byte (`limit_wire`, checked against nodelink by `tests/same_frames.rs`):
//! the same welcome, the same sync frames with the same field masks (only the
//! changed fields), the same snapshots and announcements, the same chat events.
//!
//! One task owns the world; each tick, the changed fields go out in one frame,
//! encoded once and given to every recipient's [`Outlet`]. A newcomer gets its
//! snapshot after its welcome; everyone learns of it in the next tick's frame,
//! with every field. With a room size N, players fill rooms of N in join order;
//! each room gets its own frame per tick, and a newcomer and its room are
//! introduced to each other at once, as nodelink's room-scoped sync does. Player
//! ids count from 1, as the nodelink bench server's do.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::Duration;

use std::future::Future;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use nodelink::Protocol;
use nodelink_examples::Game;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

use crate::limit_wire::{self, Entry, FromClient, Header};
use crate::ServerArgs;

/// Ticks a second, as the nodelink bench server's.
pub const TICK_RATE: u8 = 20;

/// What connections tell the world.
#[derive(Debug)]
pub enum ToWorld<O> {
    /// A newcomer, with where its frames go; the world answers its player id.
    Join(O, oneshot::Sender<u32>),
    /// A player moved.
    Move(u32, f32, f32),
    /// A player chatted.
    Chat(u32, String),
    /// A player left.
    Leave(u32),
}

/// Where a player's frames go: a connection's queue, or its socket.
pub trait Outlet: Send + 'static {
    /// Sends one frame (a nodelink frame: the WebSocket message's payload),
    /// shared by every recipient of it.
    fn send(&mut self, frame: &Bytes);
}

/// A connection's queue, drained by its writer task (the limit server).
impl Outlet for mpsc::Sender<Bytes> {
    fn send(&mut self, frame: &Bytes) {
        let _ = self.try_send(frame.clone());
    }
}

struct Player<O> {
    net: u32,
    outlet: O,
    x: f32,
    y: f32,
    /// Fields changed since the last frame: `limit_wire::X | Y`.
    changed: u64,
    room: usize,
}

/// Everything the world task owns.
struct World<O> {
    /// By player id, hashed with nodelink's own hasher: the same map iterated the
    /// same way, so entries come in the same order.
    players: HashMap<u32, Player<O>, nodelink::BuildIdHasher>,
    /// Net ids given back, smallest first; `next_net` has never been given.
    free_nets: BinaryHeap<Reverse<u32>>,
    next_net: u32,
    next_id: u32,
    /// Each room's members (player ids), when sync is scoped to rooms.
    rooms: Vec<Vec<u32>>,
    room_size: Option<usize>,
    joins: usize,
    tick: u64,
    /// Everyone scope: arrivals and departures since the last frame.
    joined: Vec<(u32, u32)>,
    left: Vec<u32>,
    /// Buffers reused by every frame: its entries, then its bytes.
    entries: Vec<Entry>,
    frame: Vec<u8>,
}

impl<O: Outlet> World<O> {
    fn new(room_size: Option<usize>) -> Self {
        Self {
            players: HashMap::default(),
            free_nets: BinaryHeap::new(),
            next_net: 0,
            next_id: 0,
            rooms: Vec::new(),
            room_size,
            joins: 0,
            tick: 0,
            joined: Vec::new(),
            left: Vec::new(),
            entries: Vec::new(),
            frame: Vec::new(),
        }
    }

    fn header(&self, flags: u8) -> Header {
        Header {
            tick: self.tick,
            online: self.players.len() as u32,
            flags,
        }
    }

    /// A departure's header: nodelink still counts the player leaving in it.
    fn leaving_header(&self) -> Header {
        Header {
            online: self.players.len() as u32 + 1,
            ..self.header(0)
        }
    }

    fn entry(player: &Player<O>, mask: u64) -> Entry {
        Entry {
            net: player.net,
            mask,
            x: player.x,
            y: player.y,
        }
    }

    /// Sends the bytes in `self.frame` to these players, shared.
    fn send_frame(&mut self, to: impl IntoIterator<Item = u32>) {
        let bytes = Bytes::copy_from_slice(&self.frame);
        for id in to {
            if let Some(player) = self.players.get_mut(&id) {
                player.outlet.send(&bytes);
            }
        }
    }

    fn join(&mut self, outlet: O) -> u32 {
        self.next_id += 1;
        let id = self.next_id;
        let net = match self.free_nets.pop() {
            Some(Reverse(net)) => net,
            None => {
                self.next_net += 1;
                self.next_net - 1
            }
        };
        let room = self.room_size.map_or(0, |size| self.joins / size);
        self.joins += 1;
        let mut player = Player {
            net,
            outlet,
            x: 0.0,
            y: 0.0,
            changed: 0,
            room,
        };
        limit_wire::write_welcome(
            &mut self.frame,
            Game::FINGERPRINT,
            id,
            net,
            TICK_RATE,
            Game::KIND,
        );
        player.outlet.send(&Bytes::copy_from_slice(&self.frame));
        self.players.insert(id, player);

        // The snapshot: everyone (or, with rooms, the newcomer alone) with every
        // field, and the server state.
        let shown: Vec<u32> = match self.room_size {
            None => self.players.keys().copied().collect(),
            Some(_) => vec![id],
        };
        self.write_whole(&shown, limit_wire::FULL, true);
        self.send_frame([id]);

        match self.room_size {
            None => self.joined.push((net, id)),
            Some(_) => {
                if self.rooms.len() <= room {
                    self.rooms.resize_with(room + 1, Vec::new);
                }
                let others = std::mem::take(&mut self.rooms[room]);
                if !others.is_empty() {
                    // To the newcomer: the players it now sees. To them: it.
                    self.write_whole(&others, 0, false);
                    self.send_frame([id]);
                    self.write_whole(&[id], 0, false);
                    self.send_frame(others.iter().copied());
                }
                self.rooms[room] = others;
                self.rooms[room].push(id);
            }
        }
        id
    }

    /// Writes a frame announcing `shown` with every field.
    fn write_whole(&mut self, shown: &[u32], flags: u8, server_whole: bool) {
        let joined: Vec<(u32, u32)> = shown
            .iter()
            .filter_map(|id| self.players.get(id).map(|p| (p.net, *id)))
            .collect();
        self.entries.clear();
        for id in shown {
            if let Some(player) = self.players.get(id) {
                self.entries
                    .push(Self::entry(player, limit_wire::EVERY_FIELD));
            }
        }
        let header = self.header(flags);
        limit_wire::write_sync(
            &mut self.frame,
            header,
            &[],
            &joined,
            &self.entries,
            server_whole,
        );
    }

    fn moved(&mut self, id: u32, x: f32, y: f32) {
        if let Some(player) = self.players.get_mut(&id) {
            // As nodelink's setters: a field is changed only if its value differs.
            if player.x != x {
                player.x = x;
                player.changed |= limit_wire::X;
            }
            if player.y != y {
                player.y = y;
                player.changed |= limit_wire::Y;
            }
        }
    }

    fn leave(&mut self, id: u32) {
        let Some(player) = self.players.remove(&id) else {
            return;
        };
        self.free_nets.push(Reverse(player.net));
        match self.room_size {
            None => {
                self.joined.retain(|(net, _)| *net != player.net);
                self.left.push(player.net);
            }
            Some(_) => {
                let members = std::mem::take(&mut self.rooms[player.room]);
                let members: Vec<u32> = members.into_iter().filter(|m| *m != id).collect();
                if !members.is_empty() {
                    let header = self.leaving_header();
                    limit_wire::write_sync(&mut self.frame, header, &[player.net], &[], &[], false);
                    self.send_frame(members.iter().copied());
                }
                self.rooms[player.room] = members;
            }
        }
    }

    /// Relays a chat line to everyone, encoded once.
    fn chat(&mut self, from: u32, msg: &str) {
        limit_wire::write_chat(&mut self.frame, from, msg);
        self.send_frame(self.players.keys().copied().collect::<Vec<_>>());
    }

    /// Collects the entries of `members` that changed (every field for those
    /// just announced), clearing their flags.
    fn take_changes(&mut self, members: Option<&[u32]>, announced: &[(u32, u32)]) {
        self.entries.clear();
        let take = |id: u32, player: &mut Player<O>| {
            let mask = if announced.iter().any(|(_, a)| *a == id) {
                limit_wire::EVERY_FIELD
            } else {
                player.changed
            };
            player.changed = 0;
            (mask != 0).then(|| Self::entry(player, mask))
        };
        match members {
            None => {
                for (id, player) in &mut self.players {
                    if let Some(entry) = take(*id, player) {
                        self.entries.push(entry);
                    }
                }
            }
            Some(members) => {
                for id in members {
                    if let Some(player) = self.players.get_mut(id) {
                        if let Some(entry) = take(*id, player) {
                            self.entries.push(entry);
                        }
                    }
                }
            }
        }
    }

    /// One frame for everyone (or one per room with a change), encoded once and
    /// shared by the recipients' queues; nothing where nothing changed.
    fn tick(&mut self) {
        self.tick += 1;
        match self.room_size {
            None => {
                let joined = std::mem::take(&mut self.joined);
                let left = std::mem::take(&mut self.left);
                self.take_changes(None, &joined);
                if self.entries.is_empty() && left.is_empty() && joined.is_empty() {
                    return;
                }
                let header = self.header(0);
                limit_wire::write_sync(
                    &mut self.frame,
                    header,
                    &left,
                    &joined,
                    &self.entries,
                    false,
                );
                self.send_frame(self.players.keys().copied().collect::<Vec<_>>());
            }
            Some(_) => {
                for room in 0..self.rooms.len() {
                    let members = std::mem::take(&mut self.rooms[room]);
                    self.take_changes(Some(&members), &[]);
                    if !self.entries.is_empty() {
                        let header = self.header(0);
                        limit_wire::write_sync(
                            &mut self.frame,
                            header,
                            &[],
                            &[],
                            &self.entries,
                            false,
                        );
                        self.send_frame(members.iter().copied());
                    }
                    self.rooms[room] = members;
                }
            }
        }
    }
}

/// Runs the world until every connection's sender is gone: players join, move,
/// chat and leave; each tick, the changed fields go out in one frame (one per room
/// with `room_size`), encoded once.
pub async fn run<O: Outlet>(mut inbox: mpsc::Receiver<ToWorld<O>>, room_size: Option<usize>) {
    let mut world = World::new(room_size);
    let mut ticker = tokio::time::interval(Duration::from_secs(1) / u32::from(TICK_RATE));
    loop {
        tokio::select! {
            message = inbox.recv() => match message {
                Some(ToWorld::Join(outlet, reply)) => {
                    let _ = reply.send(world.join(outlet));
                }
                Some(ToWorld::Move(id, x, y)) => world.moved(id, x, y),
                Some(ToWorld::Chat(from, msg)) => world.chat(from, &msg),
                Some(ToWorld::Leave(id)) => world.leave(id),
                None => return,
            },
            _ = ticker.tick() => world.tick(),
        }
    }
}

/// Serves the world on loopback for `args` (printing `listening on ADDR` first),
/// each accepted socket played by `connection`; `name` is the server's, for
/// refusing the options only the nodelink bench server has.
///
/// # Errors
/// An option the server does not have, or the listener failing.
pub async fn serve<O, C, F>(
    name: &str,
    args: &ServerArgs,
    connection: C,
) -> Result<(), Box<dyn std::error::Error>>
where
    O: Outlet,
    C: Fn(TcpStream, mpsc::Sender<ToWorld<O>>) -> F,
    F: Future<Output = ()> + Send + 'static,
{
    if args.tls.is_some() {
        return Err(format!("--tls: the {name} serves plain ws:// only").into());
    }
    if args.match_size.is_some() {
        return Err(format!("--match-size: the {name} hosts one world, no matches").into());
    }
    if args.redis.is_some() {
        return Err(format!("--redis: the {name} is one process, of no service").into());
    }
    let listener = TcpListener::bind(("127.0.0.1", args.port)).await?;
    println!("listening on {}", listener.local_addr()?);
    let (to_world, inbox) = mpsc::channel(4096);
    tokio::spawn(run::<O>(inbox, args.room_size));
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(connection(stream, to_world.clone()));
    }
}

/// Completes a client's WebSocket upgrade as nodelink does, echoing the
/// `nodelink.` subprotocol it offers; `None` when the handshake fails.
pub async fn accept(
    stream: TcpStream,
    config: WebSocketConfig,
) -> Option<WebSocketStream<TcpStream>> {
    let _ = stream.set_nodelay(true);
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
    tokio_tungstenite::accept_hdr_async_with_config(stream, echo, Some(config))
        .await
        .ok()
}

/// Joins the world with `outlet`, where the new player's frames go: its id, or
/// `None` when the world is gone.
pub async fn join<O: Outlet>(world: &mpsc::Sender<ToWorld<O>>, outlet: O) -> Option<u32> {
    let (reply, joined) = oneshot::channel();
    world.send(ToWorld::Join(outlet, reply)).await.ok()?;
    joined.await.ok()
}

/// Hands the world what player `id`'s client sends (moves and chat lines), until
/// the client stops or the world is gone.
pub async fn forward_requests<O, S>(mut messages: S, id: u32, world: &mpsc::Sender<ToWorld<O>>)
where
    S: Stream<Item = Result<Message, WsError>> + Unpin,
{
    while let Some(Ok(message)) = messages.next().await {
        if let Message::Binary(bytes) = message {
            let request = match limit_wire::read_client(&bytes) {
                Some(FromClient::Move(x, y)) => ToWorld::Move(id, x, y),
                Some(FromClient::Chat(msg)) => ToWorld::Chat(id, msg.to_owned()),
                Some(FromClient::Other) | None => continue,
            };
            if world.send(request).await.is_err() {
                return;
            }
        }
    }
}
