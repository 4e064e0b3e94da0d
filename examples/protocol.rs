//! The protocol the examples share: one crate, depended on by server and client, so
//! the compiler checks that both sides speak the same events and state.
//!
//! [`web`] is the browser game's server, shared by `cargo run --example web` and
//! its test.

use nodelink::{PlayerId, SyncState};

#[path = "web/app.rs"]
pub mod web;

/// Each player's synced state.
#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub struct Avatar {
    /// Position east.
    pub x: f32,
    /// Position north.
    pub y: f32,
    /// The name the player chose.
    pub name: String,
}

/// The state of the match, shared by every client.
#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub struct Match {
    /// The round number, from 1.
    pub round: u32,
    /// Seconds left in the round.
    pub time_left: f32,
    /// The player with the best score so far.
    pub leader: Option<PlayerId>,
}

/// Events clients send to the server.
#[nodelink::events]
#[derive(Debug, Clone, PartialEq)]
pub enum ToServer {
    /// Move to a position.
    Move {
        /// Position east.
        x: f32,
        /// Position north.
        y: f32,
    },
    /// Say something to everyone.
    Chat {
        /// The message.
        msg: String,
    },
    /// Ready to play.
    Ready,
}

/// Events the server sends to clients.
#[nodelink::events]
#[derive(Debug, Clone, PartialEq)]
pub enum ToClient {
    /// A player connected.
    Joined {
        /// Who.
        id: PlayerId,
    },
    /// A player disconnected.
    Left {
        /// Who.
        id: PlayerId,
    },
    /// A player said something.
    Chat {
        /// Who.
        from: PlayerId,
        /// What.
        msg: String,
    },
}

/// A table: what a player asks for when making a match of the game (its
/// options), and what the lobby lists of each match (its metadata).
#[nodelink::data]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    /// The match's name, shown in the lobby; empty for none.
    pub title: String,
}

/// The game: its state, both directions of events, and its matches' options and
/// metadata.
#[derive(Debug)]
#[nodelink::protocol(state = Avatar, to_server = ToServer, to_client = ToClient, server_state = Match,
                     options = Table, metadata = Table)]
pub struct Game;
