//! A kind of match: what a server runs for each match of one protocol (its
//! handlers, its game value's factory, its size and settings) and what
//! matchmaking needs to know about it (how options pick or make a match, what a
//! match shows in listings).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::handler::{BoxedHandler, BoxedMiddleware, IntoHandlerResult, Route};
use crate::server::config::{ServerConfig, SyncScope};
use crate::server::error::ServerError;
use crate::server::game::handlers::{
    error_handler, id_generator, player_handler, tick_handler, Handlers,
};
use crate::server::game::{EntitySight, EventCtx, FieldSight, Player, PlayerSight, ServerCtx};
use crate::server::matchmaking::kinds::KindRuntime;
use crate::server::matchmaking::{Kind, Process};
use crate::{EntityId, PlayerId, Protocol};

/// Makes the game value of a new match from the options it was created with.
pub(crate) type GameFactory<P, G> =
    Arc<dyn Fn(&<P as Protocol>::MatchOptions) -> G + Send + Sync + 'static>;
pub(crate) type Filter<P> = Arc<
    dyn Fn(&<P as Protocol>::MatchOptions, &<P as Protocol>::MatchMetadata) -> bool
        + Send
        + Sync
        + 'static,
>;
pub(crate) type MetadataOf<P> = Arc<
    dyn Fn(&<P as Protocol>::MatchOptions) -> <P as Protocol>::MatchMetadata
        + Send
        + Sync
        + 'static,
>;

/// A kind of match for the protocol `P`, with a game value `G` per match: the
/// handlers every match of the kind runs, how a new match's game value is made,
/// and how many players a match holds.
///
/// A [`Server`](super::Server) is one kind (its own protocol's, whose handlers are
/// registered on the server itself) and hosts others added with
/// [`Server::kind`](super::Server::kind): a lobby and an arena, each with its own
/// protocol, in one process. Each match of a kind gets a clone of the kind's
/// handlers (so a handler's captures are per match; share state between matches
/// through an `Arc`) and a game value of its own from the kind's factory.
///
/// ```
/// use nodelink::server::{MatchKind, Server, ServerConfig};
/// # use nodelink::SyncState;
/// # #[derive(SyncState, Clone, Default, PartialEq)] pub struct Fighter { hp: u8 }
/// # #[nodelink::events] pub enum ArenaIn { Hit }
/// # #[nodelink::events] pub enum ArenaOut { Won }
/// #[derive(serde::Serialize, serde::Deserialize, nodelink::Fingerprint, Clone, Debug, Default)]
/// pub struct Mode { pub ranked: bool }
///
/// #[nodelink::protocol(state = Fighter, to_server = ArenaIn, to_client = ArenaOut,
///                      options = Mode, metadata = Mode)]
/// pub struct Arena;
///
/// /// One round's score, a value per match.
/// #[derive(Default)]
/// struct Round { hits: u32 }
///
/// let mut arena = MatchKind::<Arena, Round>::with_game(|_mode| Round::default());
/// arena
///     .max_players(4)
///     .metadata(|mode| mode.clone()) // a match lists the mode it was made for
///     .filter(|wanted, listed| wanted.ranked == listed.ranked);
/// arena.on_hit(|ctx| ctx.game().hits += 1);
///
/// # #[nodelink::protocol(state = Fighter, to_server = ArenaIn, to_client = ArenaOut)]
/// # pub struct Lobby;
/// let mut server = Server::<Lobby>::new(ServerConfig::default());
/// server.kind(arena);
/// ```
pub struct MatchKind<P: Protocol, G = ()> {
    pub(crate) name: String,
    pub(crate) handlers: Handlers<P, G>,
    pub(crate) games: Option<GameFactory<P, G>>,
    pub(crate) filter: Filter<P>,
    pub(crate) metadata: MetadataOf<P>,
    pub(crate) settings: KindSettings,
}

/// What a kind changes of the server's settings for its matches.
#[derive(Debug, Clone, Default)]
pub(crate) struct KindSettings {
    pub(crate) max_players: Option<usize>,
    pub(crate) linger: Option<Duration>,
    pub(crate) tick_rate: Option<u32>,
    pub(crate) sync_scope: Option<SyncScope>,
    pub(crate) delta_only: Option<bool>,
}

/// How long an empty match of a kind that does not say otherwise waits for a
/// player before it ends.
pub(crate) const DEFAULT_LINGER: Duration = Duration::from_secs(10);

impl KindSettings {
    /// The settings of this kind's matches: the server's, with the kind's
    /// changes. A kind without a cap of its own holds as many players as the
    /// server.
    pub(crate) fn apply(&self, server: &ServerConfig) -> ServerConfig {
        let mut config = server.clone();
        if let Some(max) = self.max_players {
            config.max_players = max.min(server.max_players);
        }
        if let Some(rate) = self.tick_rate {
            config.tick_rate = rate;
        }
        if let Some(scope) = self.sync_scope {
            config.sync_scope = scope;
        }
        if let Some(delta_only) = self.delta_only {
            config.delta_only = delta_only;
        }
        config
    }
}

impl<P: Protocol, G> fmt::Debug for MatchKind<P, G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MatchKind")
            .field("name", &self.name)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl<P: Protocol> MatchKind<P, ()> {
    /// A kind whose matches have no game value, named after the protocol
    /// ([`Protocol::KIND`]).
    #[must_use]
    pub fn new() -> Self {
        Self::with_game(|_| ())
    }
}

impl<P: Protocol> Default for MatchKind<P, ()> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P: Protocol, G: Send + 'static> MatchKind<P, G> {
    /// A kind whose matches each get a game value made by `games` from the
    /// options the match was created with; handlers reach it with `ctx.game()`.
    pub fn with_game(games: impl Fn(&P::MatchOptions) -> G + Send + Sync + 'static) -> Self {
        let mut kind = Self::without_games();
        kind.games = Some(Arc::new(games));
        kind
    }

    /// A kind that cannot make game values: its server's one default match has
    /// one, and creating others is refused until a factory is set.
    pub(crate) fn without_games() -> Self {
        Self {
            name: P::KIND.to_owned(),
            handlers: Handlers::new(),
            games: None,
            filter: Arc::new(|_, _| true),
            metadata: Arc::new(|_| P::MatchMetadata::default()),
            settings: KindSettings::default(),
        }
    }

    /// The name clients ask for this kind by. Default: [`Protocol::KIND`]. Two
    /// kinds of one server cannot share a name.
    pub fn name(&mut self, name: impl Into<String>) -> &mut Self {
        self.name = name.into();
        self
    }

    /// The kind's name.
    #[must_use]
    pub fn kind_name(&self) -> &str {
        &self.name
    }

    /// Sets how new matches of this kind get their game value (see
    /// [`with_game`](Self::with_game)); for a server's own kind, the matches
    /// besides its default one.
    pub fn game_factory(
        &mut self,
        games: impl Fn(&P::MatchOptions) -> G + Send + Sync + 'static,
    ) -> &mut Self {
        self.games = Some(Arc::new(games));
        self
    }

    /// The most players one match of this kind holds (and so the most it lists
    /// as its places). Default: the server's [`ServerConfig::max_players`]. A
    /// full match is skipped when a client finds one and refused when it asks for
    /// it by code.
    pub fn max_players(&mut self, max: usize) -> &mut Self {
        self.settings.max_players = Some(max.max(1));
        self
    }

    /// How long a match of this kind goes on without players (the last one left;
    /// a paused player still counts) before it ends. Default: 10 s. A server's
    /// default match never ends this way.
    pub fn linger(&mut self, linger: Duration) -> &mut Self {
        self.settings.linger = Some(linger);
        self
    }

    /// This kind's ticks per second. Default: the server's
    /// [`ServerConfig::tick_rate`].
    pub fn tick_rate(&mut self, rate: u32) -> &mut Self {
        self.settings.tick_rate = Some(rate);
        self
    }

    /// Who receives whose state in this kind's matches. Default: the server's
    /// [`ServerConfig::sync_scope`].
    pub fn sync_scope(&mut self, scope: SyncScope) -> &mut Self {
        self.settings.sync_scope = Some(scope);
        self
    }

    /// Send only changed fields (`true`) or whole states every tick. Default: the
    /// server's [`ServerConfig::delta_only`].
    pub fn delta_only(&mut self, delta_only: bool) -> &mut Self {
        self.settings.delta_only = Some(delta_only);
        self
    }

    /// Decides which listed match a client that asks to find one with `options`
    /// may join: a public, unlocked match of this kind with a free place whose
    /// metadata this accepts. Default: any. When none is accepted, a new match is
    /// made from the options.
    pub fn filter(
        &mut self,
        accepts: impl Fn(&P::MatchOptions, &P::MatchMetadata) -> bool + Send + Sync + 'static,
    ) -> &mut Self {
        self.filter = Arc::new(accepts);
        self
    }

    /// A new match's metadata, from the options it is made with: what it lists
    /// and what [`filter`](Self::filter) sees before its handlers change it
    /// (`ctx.set_metadata`). Default: the metadata's `Default`.
    pub fn metadata(
        &mut self,
        of: impl Fn(&P::MatchOptions) -> P::MatchMetadata + Send + Sync + 'static,
    ) -> &mut Self {
        self.metadata = Arc::new(of);
        self
    }

    /// Runs when a player joins, before anything is sent to its client: set its
    /// initial state and put it in its rooms here, and its first snapshot shows it
    /// that way (with room-scoped sync, the players of those rooms; with an entity
    /// visibility rule, the entities it sees from where it starts). Without it, a
    /// newcomer starts from its state's `Default`, in no room. Then the welcome and
    /// the snapshot go out, then [`on_connect`](Self::on_connect) runs. Not run for
    /// a player that resumes its session (it keeps its state and rooms). Events it
    /// sends the newcomer arrive after the snapshot.
    ///
    /// ```no_run
    /// # use nodelink::server::{Server, ServerConfig};
    /// # use nodelink::{PlayerId, SyncState};
    /// # #[derive(SyncState, Clone, Default, PartialEq)] pub struct Avatar { x: f32, team: u8 }
    /// # #[nodelink::events] pub enum ToClient { Hello }
    /// # #[nodelink::events] pub enum ToServer { Hello }
    /// # #[nodelink::protocol(state = Avatar, to_server = ToServer, to_client = ToClient)]
    /// # pub struct Game;
    /// let mut server = Server::<Game>::new(ServerConfig::default());
    /// server.on_join(|ctx| {
    ///     let id = ctx.id();
    ///     let team = (ctx.player_count() % 2) as u8;
    ///     ctx.player().state_mut().set_team(team).set_x(100.0);
    ///     ctx.create_room(if team == 0 { "red" } else { "blue" }).add(id);
    /// });
    /// ```
    pub fn on_join<F, O>(&mut self, mut handler: F) -> &mut Self
    where
        F: for<'a> FnMut(&mut EventCtx<'a, P, G>) -> O + Clone + Send + 'static,
        O: IntoHandlerResult,
    {
        self.handlers.on_join = Some(player_handler(move |ctx| {
            handler(ctx).into_handler_result()
        }));
        self
    }

    /// Runs when a player has joined, after its client was sent its welcome and the
    /// world's snapshot (which [`on_join`](Self::on_join)'s changes are in): the
    /// place to tell the others (`ctx.broadcast`). Events it sends reach the
    /// newcomer after its snapshot.
    pub fn on_connect<F, O>(&mut self, mut handler: F) -> &mut Self
    where
        F: for<'a> FnMut(&mut EventCtx<'a, P, G>) -> O + Clone + Send + 'static,
        O: IntoHandlerResult,
    {
        self.handlers.on_connect = Some(player_handler(move |ctx| {
            handler(ctx).into_handler_result()
        }));
        self
    }

    /// Runs once for every player that leaves, however it leaves: it closed the
    /// connection, it was kicked, it misbehaved past a limit, the server shut down,
    /// or its connection was lost and it was not resumed within
    /// [`ServerConfig::resume_grace`] (then [`on_pause`](Self::on_pause) ran first).
    /// The player is still in the table while this runs (its state and rooms can
    /// be read); it is removed right after.
    pub fn on_disconnect<F, O>(&mut self, mut handler: F) -> &mut Self
    where
        F: for<'a> FnMut(&mut EventCtx<'a, P, G>) -> O + Clone + Send + 'static,
        O: IntoHandlerResult,
    {
        self.handlers.on_disconnect = Some(player_handler(move |ctx| {
            handler(ctx).into_handler_result()
        }));
        self
    }

    /// Runs when a player's connection was lost (a reset, a network change, silence
    /// past the idle timeout) and the server holds the player for its client to
    /// resume, instead of [`on_disconnect`](Self::on_disconnect). The player stays
    /// in the table, its rooms and the other clients' mirrors, which see nothing;
    /// events sent to it are kept for its client. Then either
    /// [`on_resume`](Self::on_resume) runs, or, once [`ServerConfig::resume_grace`]
    /// is over, `on_disconnect`. To end a player's session at once instead (a game
    /// that cannot wait for it), kick it here: `on_disconnect` follows.
    ///
    /// ```no_run
    /// # use nodelink::server::{Server, ServerConfig};
    /// # use nodelink::{PlayerId, Protocol, SyncState};
    /// # #[derive(SyncState, Clone, Default, PartialEq)] pub struct S { x: u8 }
    /// # #[nodelink::events] pub enum ToClient { Away { id: PlayerId }, Back { id: PlayerId } }
    /// # #[nodelink::events] pub enum ToServer { Hello }
    /// # #[nodelink::protocol(state = S, to_server = ToServer, to_client = ToClient)]
    /// # pub struct Game;
    /// let mut server = Server::<Game>::new(ServerConfig::default());
    /// server.on_pause(|ctx| {
    ///     let id = ctx.id();
    ///     ctx.broadcast(ToClient::Away { id });
    /// });
    /// server.on_resume(|ctx| {
    ///     let id = ctx.id();
    ///     ctx.broadcast(ToClient::Back { id });
    /// });
    /// ```
    pub fn on_pause<F, O>(&mut self, mut handler: F) -> &mut Self
    where
        F: for<'a> FnMut(&mut EventCtx<'a, P, G>) -> O + Clone + Send + 'static,
        O: IntoHandlerResult,
    {
        self.handlers.on_pause = Some(player_handler(move |ctx| {
            handler(ctx).into_handler_result()
        }));
        self
    }

    /// Runs when a paused player's client has resumed its session on a new
    /// connection, instead of [`on_connect`](Self::on_connect): it is the same
    /// player (id, state, rooms, identity); the events it missed and a snapshot of
    /// the world are queued for it before this runs. See [`on_pause`](Self::on_pause).
    pub fn on_resume<F, O>(&mut self, mut handler: F) -> &mut Self
    where
        F: for<'a> FnMut(&mut EventCtx<'a, P, G>) -> O + Clone + Send + 'static,
        O: IntoHandlerResult,
    {
        self.handlers.on_resume = Some(player_handler(move |ctx| {
            handler(ctx).into_handler_result()
        }));
        self
    }

    /// Runs every tick with the time since the previous one, before that tick's
    /// sync, so state set here goes out in the same tick's frames. An `Err` or a
    /// panic goes to `on_error` (with no player) and the ticks go on.
    pub fn on_tick<F, O>(&mut self, mut handler: F) -> &mut Self
    where
        F: for<'a> FnMut(&mut ServerCtx<'a, P, G>, std::time::Duration) -> O
            + Clone
            + Send
            + 'static,
        O: IntoHandlerResult,
    {
        self.handlers.on_tick = Some(tick_handler(move |ctx, dt| {
            handler(ctx, dt).into_handler_result()
        }));
        self
    }

    /// Decides, per player, which entities its client sees (fog of war): asked
    /// every tick for each player and each entity its sync scope allows, so it can
    /// narrow the scope but never widen it. With [`SyncScope::Everyone`] that is
    /// every entity; with [`SyncScope::Rooms`], only the entities spawned in one of
    /// the player's rooms (`spawn_in`) and those in no room (`spawn`): an entity of
    /// a room the player is not in stays hidden, and the rule is not asked about it.
    /// An entity coming into view reaches the client whole; one going out of view
    /// is despawned for it. With a rule, entering or leaving a room changes what a
    /// player sees at the next tick, when the rule is next asked. Players whose
    /// views change alike share one encoded frame. Without it, every allowed entity
    /// is seen.
    ///
    /// ```no_run
    /// # use nodelink::{Protocol, SyncState};
    /// # #[derive(SyncState, Clone, Debug, Default, PartialEq)]
    /// # pub struct Avatar { pub x: f32, pub y: f32 }
    /// # #[derive(SyncState, Clone, Debug, Default, PartialEq)]
    /// # pub struct Crate { pub x: f32, pub y: f32 }
    /// # #[nodelink::events] pub enum Nothing {}
    /// # #[nodelink::protocol(state = Avatar, to_server = Nothing, to_client = Nothing, entity = Crate)]
    /// # pub struct Game;
    /// use nodelink::server::{Server, ServerConfig};
    ///
    /// let mut server = Server::<Game>::new(ServerConfig::default());
    /// // A player sees the crates within 100 units of itself.
    /// server.entity_visibility(|player, _id, entity| {
    ///     let (dx, dy) = (player.state().x - entity.x, player.state().y - entity.y);
    ///     dx * dx + dy * dy <= 100.0 * 100.0
    /// });
    /// ```
    pub fn entity_visibility(
        &mut self,
        visible: impl Fn(&Player<P>, EntityId, &P::Entity) -> bool + Clone + Send + 'static,
    ) -> &mut Self {
        self.entity_visibility_with(move |sight: &EntitySight<'_, P>| {
            visible(sight.player, sight.id, sight.entity)
        })
    }

    /// [`entity_visibility`](Self::entity_visibility) for a rule that needs more
    /// than the player and the entity: it gets an [`EntitySight`] with the
    /// entity's room and the match's server state too (a fog of war that lifts
    /// when the match's round ends, an entity seen only by the team whose room
    /// it is in). The same rules of scope apply.
    ///
    /// ```no_run
    /// # use nodelink::SyncState;
    /// # #[derive(SyncState, Clone, Debug, Default, PartialEq)]
    /// # pub struct Avatar { pub x: f32 }
    /// # #[derive(SyncState, Clone, Debug, Default, PartialEq)]
    /// # pub struct Crate { pub x: f32 }
    /// # #[derive(SyncState, Clone, Debug, Default, PartialEq)]
    /// # pub struct Round { pub over: bool }
    /// # #[nodelink::events] pub enum Nothing {}
    /// # #[nodelink::protocol(state = Avatar, to_server = Nothing, to_client = Nothing,
    /// #                      entity = Crate, server_state = Round)]
    /// # pub struct Game;
    /// use nodelink::server::{Server, ServerConfig};
    ///
    /// let mut server = Server::<Game>::new(ServerConfig::default());
    /// // Within 100 units, or everything once the round is over.
    /// server.entity_visibility_with(|sight| {
    ///     sight.server_state.over || (sight.player.state().x - sight.entity.x).abs() <= 100.0
    /// });
    /// ```
    pub fn entity_visibility_with(
        &mut self,
        visible: impl Fn(&EntitySight<'_, P>) -> bool + Clone + Send + 'static,
    ) -> &mut Self {
        self.handlers.rules.entities = Some(Box::new(visible));
        self
    }

    /// Decides, per player, which other players its client mirrors (a team that
    /// does not see the other team, players beyond a distance): asked every tick
    /// for each pair of players the sync scope lets see each other, so it can
    /// narrow the scope but never widen it. With [`SyncScope::Everyone`] that is
    /// every pair; with [`SyncScope::Rooms`], players who share a room. A client
    /// always mirrors its own player. A player coming into view reaches the client
    /// whole, announced as a newcomer; one going out of view leaves its mirror, as
    /// a player who left. Players whose views change alike share one encoded
    /// frame. The rule need not be symmetric: `a` may see `b` while `b` does not
    /// see `a`.
    ///
    /// ```no_run
    /// # use nodelink::SyncState;
    /// # #[derive(SyncState, Clone, Debug, Default, PartialEq)]
    /// # pub struct Soldier { pub team: u8, pub x: f32 }
    /// # #[nodelink::events] pub enum Nothing {}
    /// # #[nodelink::protocol(state = Soldier, to_server = Nothing, to_client = Nothing)]
    /// # pub struct Game;
    /// use nodelink::server::{Server, ServerConfig};
    ///
    /// let mut server = Server::<Game>::new(ServerConfig::default());
    /// // A soldier sees its team, and enemies within 50 units.
    /// server.player_visibility(|viewer, other| {
    ///     viewer.state().team == other.state().team
    ///         || (viewer.state().x - other.state().x).abs() <= 50.0
    /// });
    /// ```
    pub fn player_visibility(
        &mut self,
        visible: impl Fn(&Player<P>, &Player<P>) -> bool + Clone + Send + 'static,
    ) -> &mut Self {
        self.player_visibility_with(move |sight: &PlayerSight<'_, P>| {
            visible(sight.viewer, sight.player)
        })
    }

    /// [`player_visibility`](Self::player_visibility) for a rule that needs the
    /// match's server state too (a fog of war that lifts when the round ends).
    /// The same rules of scope apply.
    ///
    /// ```no_run
    /// # use nodelink::SyncState;
    /// # #[derive(SyncState, Clone, Debug, Default, PartialEq)]
    /// # pub struct Soldier { pub team: u8 }
    /// # #[derive(SyncState, Clone, Debug, Default, PartialEq)]
    /// # pub struct Round { pub over: bool }
    /// # #[nodelink::events] pub enum Nothing {}
    /// # #[nodelink::protocol(state = Soldier, to_server = Nothing, to_client = Nothing,
    /// #                      server_state = Round)]
    /// # pub struct Game;
    /// use nodelink::server::{Server, ServerConfig};
    ///
    /// let mut server = Server::<Game>::new(ServerConfig::default());
    /// server.player_visibility_with(|sight| {
    ///     sight.server_state.over || sight.viewer.state().team == sight.player.state().team
    /// });
    /// ```
    pub fn player_visibility_with(
        &mut self,
        visible: impl Fn(&PlayerSight<'_, P>) -> bool + Clone + Send + 'static,
    ) -> &mut Self {
        self.handlers.rules.players = Some(Box::new(visible));
        self
    }

    /// Decides who, besides their owner, receives the player state's fields
    /// marked `#[sync(tag = "…")]` with this `tag` (a team sees its members'
    /// ammo): asked every tick for each player and each other player its client
    /// mirrors. Tagged fields never reach anyone else: not in shared frames, not in
    /// the shared part of snapshots; they come after the tick's shared frames in
    /// frames per view (players who see the same changes, their own included,
    /// share one), or at the end of a snapshot in its recipient's own frame. The
    /// rule is asked for every pair each tick, and for every player a newcomer
    /// sees when its snapshot is built. A player who comes to see them
    /// gets their values whole; one who stops keeps the last values it received.
    /// A tag without a rule reaches its owner alone, like `#[sync(owner)]`.
    ///
    /// ```no_run
    /// # use nodelink::SyncState;
    /// #[derive(SyncState, Clone, Debug, Default, PartialEq)]
    /// pub struct Soldier {
    ///     pub team: u8,
    ///     #[sync(tag = "team")]
    ///     pub ammo: u32,
    /// }
    /// # #[nodelink::events] pub enum Nothing {}
    /// # #[nodelink::protocol(state = Soldier, to_server = Nothing, to_client = Nothing)]
    /// # pub struct Game;
    /// use nodelink::server::{Server, ServerConfig};
    ///
    /// let mut server = Server::<Game>::new(ServerConfig::default());
    /// server.field_visibility("team", |sight| {
    ///     sight.viewer.state().team == sight.owner.state().team
    /// });
    /// ```
    ///
    /// # Panics
    /// When no field of the player state has the tag `tag`: the message lists
    /// the tags it has.
    pub fn field_visibility(
        &mut self,
        tag: &str,
        visible: impl Fn(&FieldSight<'_, P>) -> bool + Clone + Send + 'static,
    ) -> &mut Self {
        self.handlers.rules.set_field_rule(tag, Box::new(visible));
        self
    }

    /// Replaces the player id generator. Ids already in use are never handed out:
    /// the generator is asked again (and after 64 clashes in a row, a random id is
    /// used). The default draws random, unguessable ids.
    pub fn id_generator(
        &mut self,
        generator: impl FnMut() -> PlayerId + Clone + Send + 'static,
    ) -> &mut Self {
        self.handlers.id_generator = Some(id_generator(generator));
        self
    }

    /// Receives every [`ServerError`]: a handler's `Err` or panic, an undecodable
    /// frame, a full send queue; with the player concerned, when there is one.
    /// Without it, errors are logged with `tracing`.
    pub fn on_error<F>(&mut self, handler: F) -> &mut Self
    where
        F: FnMut(&ServerError, Option<&Player<P>>) + Clone + Send + 'static,
    {
        self.handlers.on_error = Some(error_handler(handler));
        self
    }
}

/// A kind to host, whatever its protocol: what a server keeps of the kinds added
/// to it until it runs.
pub(crate) trait KindBuilder: Send {
    /// The kind's name.
    fn name(&self) -> &str;
    /// The kind at run time, in a server configured by `server`.
    fn build(self: Box<Self>, server: &ServerConfig, process: Arc<Process>) -> Arc<dyn Kind>;
}

impl<P: Protocol, G: Send + 'static> KindBuilder for MatchKind<P, G> {
    fn name(&self) -> &str {
        &self.name
    }

    fn build(self: Box<Self>, server: &ServerConfig, process: Arc<Process>) -> Arc<dyn Kind> {
        KindRuntime::new(*self, server, process)
    }
}

impl<P: Protocol, G: Send + 'static> Route<P::ToServer> for MatchKind<P, G> {
    type Ctx<'a> = EventCtx<'a, P, G>;

    fn route(&mut self, index: usize, handler: BoxedHandler<Self, P::ToServer>) {
        if let Some(slot) = self.handlers.events.get_mut(index) {
            *slot = Some(handler);
        }
    }

    fn route_all(&mut self, handler: BoxedHandler<Self, P::ToServer>) {
        self.handlers
            .events
            .iter_mut()
            .for_each(|slot| *slot = None);
        self.handlers.all = Some(handler);
    }

    fn route_middleware(&mut self, index: usize, middleware: BoxedMiddleware<Self, P::ToServer>) {
        if let Some(chain) = self.handlers.middleware.get_mut(index) {
            chain.push(middleware);
        }
    }
}
