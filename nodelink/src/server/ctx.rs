//! What a server handler can reach: its player, the game, every other player.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::server::config::ServerConfig;
use crate::server::error::{SendError, ServerError};
use crate::server::handle::ServerHandle;
use crate::server::ids::{NetIds, PlayerIds};
use crate::server::player::Player;
use crate::sync::Tick;
use crate::wire::{encode_event, NetId};
use crate::{Events, PlayerId, Protocol};

/// The world's state apart from the player whose handler is running.
pub(crate) struct Shared<P: Protocol, G> {
    pub(crate) game: G,
    pub(crate) players: HashMap<PlayerId, Player<P>>,
    pub(crate) config: Arc<ServerConfig>,
    pub(crate) fingerprint: u64,
    pub(crate) tick: Tick,
    pub(crate) player_ids: PlayerIds,
    pub(crate) net_ids: NetIds,
    /// Arrivals and departures since the last sync frame.
    pub(crate) joined: Vec<(NetId, PlayerId)>,
    pub(crate) left: Vec<NetId>,
    /// What handlers asked for that must wait until they return.
    pub(crate) deferred: Vec<Deferred>,
    pub(crate) handle: ServerHandle<P>,
    pub(crate) online: Arc<AtomicUsize>,
    pub(crate) stats: crate::server::SyncStats,
}

/// Work a handler requests that needs the handlers themselves (kick fires
/// `on_disconnect`) or must not run in the middle of a handler.
#[derive(Debug)]
pub(crate) enum Deferred {
    Kick(PlayerId),
    Sync {
        full: bool,
    },
    Report {
        player: Option<PlayerId>,
        error: ServerError,
    },
}

impl<P: Protocol, G> Shared<P, G> {
    pub(crate) fn publish_count(&self, extra: usize) {
        self.online
            .store(self.players.len() + extra, Ordering::Relaxed);
    }
}

/// The context of a server handler for one player's event (and of `on_connect`
/// and `on_disconnect`): that player, the game value, the other players, and the
/// server's actions.
///
/// Handlers run one at a time on the world task, so they get `&mut` access and
/// need no locks; events from one player are handled in the order it sent them.
pub struct EventCtx<'a, P: Protocol, G = ()> {
    pub(crate) player: &'a mut Player<P>,
    pub(crate) shared: &'a mut Shared<P, G>,
}

impl<P: Protocol, G> std::fmt::Debug for EventCtx<'_, P, G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventCtx")
            .field("player", &self.player)
            .field("players", &(self.shared.players.len() + 1))
            .field("tick", &self.shared.tick)
            .finish_non_exhaustive()
    }
}

impl<P: Protocol, G> EventCtx<'_, P, G> {
    /// The player this event came from.
    pub fn player(&mut self) -> &mut Player<P> {
        self.player
    }

    /// The id of the player this event came from.
    #[must_use]
    pub fn id(&self) -> PlayerId {
        self.player.id
    }

    /// The game value given to [`Server::with_game`](super::Server::with_game).
    pub fn game(&mut self) -> &mut G {
        &mut self.shared.game
    }

    /// Sends an event to every connected player, this one included. Encoded once.
    pub fn broadcast(&mut self, event: P::ToClient) {
        let name = event.name();
        match encode_event(&event) {
            Ok(frame) => {
                let players = std::iter::once(&*self.player).chain(self.shared.players.values());
                let failed: Vec<PlayerId> = players
                    .filter(|p| p.send_frame(frame.clone()) == Err(SendError::QueueFull))
                    .map(|p| p.id)
                    .collect();
                for player in failed {
                    self.shared.deferred.push(Deferred::Report {
                        player: Some(player),
                        error: ServerError::QueueFull {
                            player,
                            event: name,
                        },
                    });
                }
            }
            Err(error) => self.shared.deferred.push(Deferred::Report {
                player: Some(self.player.id),
                error: error.into(),
            }),
        }
    }

    /// Sends an event to one player.
    ///
    /// # Errors
    /// [`SendError::Disconnected`] when no such player is connected,
    /// [`SendError::QueueFull`] when its queue is full.
    pub fn send_to(&mut self, id: PlayerId, event: P::ToClient) -> Result<(), SendError> {
        match self.get_player(id) {
            Some(player) => player.send(event),
            None => Err(SendError::Disconnected),
        }
    }

    /// Every connected player, this one included.
    pub fn players(&self) -> impl Iterator<Item = &Player<P>> {
        std::iter::once(&*self.player).chain(self.shared.players.values())
    }

    /// A connected player by id.
    #[must_use]
    pub fn get_player(&self, id: PlayerId) -> Option<&Player<P>> {
        if id == self.player.id {
            return Some(self.player);
        }
        self.shared.players.get(&id)
    }

    /// A connected player by id, to change its state.
    pub fn get_player_mut(&mut self, id: PlayerId) -> Option<&mut Player<P>> {
        if id == self.player.id {
            return Some(self.player);
        }
        self.shared.players.get_mut(&id)
    }

    /// How many players are connected.
    #[must_use]
    pub fn player_count(&self) -> usize {
        self.shared.players.len() + 1
    }

    /// Disconnects a player (this one or another) with a close reason; its
    /// `on_disconnect` runs after this handler returns.
    pub fn kick(&mut self, id: PlayerId) {
        self.shared.deferred.push(Deferred::Kick(id));
    }

    /// Sends the pending state changes now (`full`: every player's whole state)
    /// instead of waiting for the next tick; runs after this handler returns.
    pub fn sync_state(&mut self, full: bool) {
        self.shared.deferred.push(Deferred::Sync { full });
    }

    /// The current sync tick.
    #[must_use]
    pub fn tick(&self) -> Tick {
        self.shared.tick
    }

    /// A handle to the server, for work outside this handler (other tasks, threads).
    #[must_use]
    pub fn handle(&self) -> ServerHandle<P> {
        self.shared.handle.clone()
    }
}
