//! What a client handler can reach.

use crate::client::error::ClientError;
use crate::client::sender::ClientSender;
use crate::client::stats::ClientStats;
use crate::client::world::World;
use crate::wire::Settings;
use crate::{PlayerId, Protocol};

/// The context of a client handler: this client's id, the mirrored world, and
/// sending.
pub struct ClientCtx<'a, P: Protocol> {
    pub(crate) me: PlayerId,
    pub(crate) world: &'a World<P>,
    pub(crate) sender: &'a ClientSender<P>,
    pub(crate) latency: Option<std::time::Duration>,
    pub(crate) settings: &'a Settings,
}

impl<P: Protocol> std::fmt::Debug for ClientCtx<'_, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCtx")
            .field("me", &self.me)
            .field("players", &self.world.len())
            .finish_non_exhaustive()
    }
}

impl<P: Protocol> ClientCtx<'_, P> {
    /// This client's player id, from the server's welcome.
    #[must_use]
    pub fn id(&self) -> PlayerId {
        self.me
    }

    /// Every mirrored player's state, and the shared server state, as last synced.
    #[must_use]
    pub fn world(&self) -> &World<P> {
        self.world
    }

    /// The round-trip time to the server, as the server last measured it.
    #[must_use]
    pub fn latency(&self) -> Option<std::time::Duration> {
        self.latency
    }

    /// The limits and timings the server announced in its last welcome: how often
    /// it pings, when it drops a silent client, how long it holds a lost session,
    /// how large and how many messages it takes.
    ///
    /// ```no_run
    /// use nodelink::client::Client;
    /// # use nodelink::{Protocol, SyncState};
    /// # #[derive(SyncState, Clone, Default, PartialEq)] pub struct S { x: u8 }
    /// # #[nodelink::events] pub enum E { Hello }
    /// # #[nodelink::protocol(state = S, to_server = E, to_client = E)]
    /// # pub struct Game;
    ///
    /// let mut client = Client::<Game>::new("127.0.0.1", 5000);
    /// client.on_connect(|ctx| {
    ///     let settings = ctx.settings();
    ///     println!("the server drops clients silent for {:?}", settings.idle_timeout);
    /// });
    /// ```
    #[must_use]
    pub fn settings(&self) -> &Settings {
        self.settings
    }

    /// The code of the match the client joined, as its last welcome said: what
    /// other players join it by. `None` from a server that does not say.
    #[must_use]
    pub fn match_code(&self) -> Option<&str> {
        self.settings.match_code.as_deref()
    }

    /// What the client has received and sent so far; see [`ClientStats`].
    ///
    /// ```no_run
    /// # use nodelink::{PlayerId, Protocol, SyncState};
    /// # #[derive(SyncState, Clone, Debug, Default, PartialEq)] pub struct Avatar { pub x: f32 }
    /// # #[nodelink::events] pub enum ToServer { Move { x: f32 } }
    /// # #[nodelink::events] pub enum ToClient { Joined { id: PlayerId } }
    /// # #[nodelink::protocol(state = Avatar, to_server = ToServer, to_client = ToClient)]
    /// # pub struct Game;
    /// use nodelink::client::Client;
    ///
    /// let mut client = Client::<Game>::new("localhost", 5000);
    /// client.on_state_sync(|ctx, _sync| {
    ///     let stats = ctx.stats();
    ///     println!("{} sync frames, {} bytes", stats.sync_frames_received, stats.sync_bytes_received);
    /// });
    /// ```
    #[must_use]
    pub fn stats(&self) -> ClientStats {
        self.sender.stats()
    }

    /// This client's own state as last synced.
    #[must_use]
    pub fn me(&self) -> Option<&P::State> {
        self.world.get(self.me)
    }

    /// Queues an event for the server.
    ///
    /// # Errors
    /// As [`ClientSender::send`].
    pub fn send(&self, event: P::ToServer) -> Result<(), ClientError> {
        self.sender.send(event)
    }

    /// A sender to keep (for another thread, say).
    #[must_use]
    pub fn sender(&self) -> ClientSender<P> {
        self.sender.clone()
    }

    /// Closes the connection after this handler and stops the client (no
    /// reconnection); see [`ClientSender::disconnect`].
    pub fn disconnect(&self) {
        self.sender.disconnect();
    }
}
