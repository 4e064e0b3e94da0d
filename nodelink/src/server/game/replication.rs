//! Replication: which sync frames go to whom.
//!
//! Scope `Everyone`: one frame per tick with every changed player, encoded once
//! and queued for every player; arrivals and departures ride in it.
//!
//! Scope `Rooms`: one frame per room per tick with the room's changed members,
//! encoded once and queued for the members; a player in no room gets its own
//! changes alone. Who mirrors whom changes only when room membership does, and
//! those changes are sent at once, as small frames that announce (`joined`, with
//! whole states) or drop (`left`) players.
//!
//! A frame that does not fit a player's queue is not lost: the player is marked
//! and gets one snapshot of everything it mirrors once its queue has room.
//!
//! Snapshots, a newcomer's and a catch-up alike, go out in frames of about
//! [`SNAPSHOT_CHUNK_LEN`] bytes, players first, then entities.
//!
//! What a visibility rule decides per recipient (entities, other players, tagged
//! fields) goes in frames per distinct view, built in `views.rs`.

use std::borrow::Cow;
use std::ops::Range;
use std::time::SystemTime;

use crate::error::EncodeError;
use crate::id_map::{IdMap, IdSet};
use crate::server::config::SyncScope;
use crate::server::game::frame::{Frame, Wires};
use crate::server::game::player::Player;
use crate::server::game::stats::SyncStats;
use crate::server::game::MatchState;
use crate::sync::{ChangeSet, FieldMask, Selection};
use crate::wire::{encode_sync_with_entities, json, NetId, StateSelection, SyncHeader, WireFormat};
use crate::{EntityId, PlayerId, Protocol, SyncState};

/// What every client may see of a state: all of it but its `#[sync(owner)]` and
/// `#[sync(tag = "…")]` fields (its owner, and those a tag's rule picks, get
/// those in frames of their own).
pub(super) fn public<S: SyncState>() -> Selection<'static, S::Changes> {
    if S::PRIVATE.is_empty() {
        Selection::All
    } else {
        Selection::Fields(S::ALL.without(S::PRIVATE))
    }
}

/// Whether the players' state has fields not everyone receives: then a
/// snapshot ends with a frame of the recipient's own.
fn has_private_fields<P: Protocol>() -> bool {
    !P::State::PRIVATE.is_empty()
}

/// The entity part of a frame: whom to forget, and whom to list with what.
pub(crate) struct EntitySection<'a, P: Protocol> {
    pub(crate) despawned: Vec<EntityId>,
    pub(crate) entities: Vec<(EntityId, StateSelection<'a, P::Entity>)>,
}

impl<P: Protocol> EntitySection<'_, P> {
    pub(crate) fn none() -> Self {
        Self {
            despawned: Vec::new(),
            entities: Vec::new(),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.despawned.is_empty() && self.entities.is_empty()
    }

    /// The changes of the entities seen in `room` (`None`: in no room, seen by all).
    fn in_room<'b>(
        room: Option<&str>,
        despawned: &[(EntityId, Option<String>)],
        entities: &[RoutedEntity<'b, P>],
    ) -> EntitySection<'b, P> {
        EntitySection {
            despawned: despawned
                .iter()
                .filter(|(_, r)| r.as_deref() == room)
                .map(|(id, _)| *id)
                .collect(),
            entities: entities
                .iter()
                .filter(|(_, r, _)| r.as_deref() == room)
                .map(|(id, _, selection)| (*id, *selection))
                .collect(),
        }
    }

    /// Every entity in `ids`, whole (but for owner fields, which no one gets).
    fn whole(ids: impl IntoIterator<Item = EntityId>) -> Self {
        Self {
            despawned: Vec::new(),
            entities: ids
                .into_iter()
                .map(|id| (id, public::<P::Entity>()))
                .collect(),
        }
    }
}

impl<'a, P: Protocol> EntitySection<'a, P> {
    /// The part of a snapshot's section one of its frames carries: the entities in
    /// `entities`, and the despawned ones in the first frame.
    fn slice(&self, entities: Range<usize>, first: bool) -> EntitySection<'a, P> {
        EntitySection {
            despawned: if first {
                self.despawned.clone()
            } else {
                Vec::new()
            },
            entities: self.entities[entities].to_vec(),
        }
    }
}

/// An entity's changes this tick, with the room whose members see it.
pub(super) type RoutedEntity<'a, P> = (
    EntityId,
    Option<String>,
    StateSelection<'a, <P as Protocol>::Entity>,
);

/// A player to list in a frame, and what of its state to send.
pub(super) type Entry<'a, P> = (PlayerId, StateSelection<'a, <P as Protocol>::State>);

/// The world's players as newcomers get it, encoded at the first join of a tick
/// and shared by the tick's later newcomers; dropped at every tick, and remade
/// when entities are spawned or despawned.
pub(crate) struct JoinBase {
    /// The world's players, the last frame marked `more`: a frame of the
    /// newcomer's own follows.
    frames: Vec<Frame>,
    /// The last frame without `more`, for a newcomer with nothing to add (no
    /// owner fields: those always come in a frame of the newcomer's own).
    complete: Option<Frame>,
    /// How many of the tick's arrivals and departures it already shows.
    joined_mark: usize,
    left_mark: usize,
    /// The entities spawned and despawned this tick when it was made.
    entities: (usize, usize),
}

/// The size a newcomer's snapshot frames aim for, in bytes.
pub(crate) const SNAPSHOT_CHUNK_LEN: usize = 4 * 1024;

/// What one frame of a snapshot holds: its players (a range of those shown) and its
/// entities (a range of the section's).
struct Chunk {
    players: Range<usize>,
    entities: Range<usize>,
}

/// Where a frame stands in a snapshot: the `full` and `more` flags of
/// [`SyncHeader`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Part {
    full: bool,
    more: bool,
}

impl Part {
    /// An ordinary frame (also a multi-frame snapshot's last part).
    pub(super) const DELTA: Self = Self {
        full: false,
        more: false,
    };
}

impl<P: Protocol, G> MatchState<P, G> {
    fn header(&self, part: Part) -> SyncHeader {
        SyncHeader {
            tick: self.tick,
            online: self.players.len() as u32,
            full: part.full,
            more: part.more,
        }
    }

    /// Encodes a frame with these players' fields (unknown ids are skipped) in the
    /// wire formats `wires`.
    ///
    /// Every `joined` player is listed with its whole state, so that a receiver
    /// never has to know a state's defaults; the native frame also announces it by
    /// number, the JSON frame (keyed by player id) has no announcements.
    pub(super) fn encode(
        &self,
        wires: Wires,
        part: Part,
        left: &[(NetId, PlayerId)],
        joined: &[(NetId, PlayerId)],
        entries: &[Entry<'_, P>],
        server: Option<StateSelection<'_, P::ServerState>>,
    ) -> Result<Frame, EncodeError> {
        let none = EntitySection::none();
        self.encode_with(wires, part, left, joined, entries, server, &none)
    }

    /// [`encode`](Self::encode), with entity changes.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn encode_with(
        &self,
        wires: Wires,
        part: Part,
        left: &[(NetId, PlayerId)],
        joined: &[(NetId, PlayerId)],
        entries: &[Entry<'_, P>],
        server: Option<StateSelection<'_, P::ServerState>>,
        section: &EntitySection<'_, P>,
    ) -> Result<Frame, EncodeError> {
        let server = server.map(|selection| (self.server_state.get(), selection));
        let entities = || {
            section.entities.iter().filter_map(|(id, selection)| {
                self.entities
                    .live
                    .get(id)
                    .map(|entity| (*id, entity.state.get(), *selection))
            })
        };
        let listed = with_whole_states::<P>(entries, joined, public::<P::State>());
        let native = || {
            let left: Vec<NetId> = left.iter().map(|(net_id, _)| *net_id).collect();
            // Sized at once: collected from a filter, the list would grow by
            // doubling, an allocation each time, every tick.
            let mut entries = Vec::with_capacity(listed.len());
            entries.extend(listed.iter().filter_map(|(id, selection)| {
                self.players
                    .get(id)
                    .map(|p| (p.net_id, p.state.get(), *selection))
            }));
            let entities: Vec<_> = entities().collect();
            encode_sync_with_entities::<P, _, _>(
                self.header(part),
                &left,
                joined,
                entries,
                server,
                &section.despawned,
                entities,
            )
        };
        let json = || {
            let header = json::SyncHeader {
                time: SystemTime::now(),
                online: self.players.len() as u32,
                full: part.full,
                more: part.more,
            };
            let left: Vec<PlayerId> = left.iter().map(|(_, id)| *id).collect();
            let players = listed.iter().filter_map(|(id, selection)| {
                self.players
                    .get(id)
                    .map(|p| (*id, p.state.get(), *selection))
            });
            json::encode_sync_with_entities::<P, _, _>(
                header,
                &left,
                players,
                server,
                &section.despawned,
                entities(),
            )
        };
        Frame::encode(wires, native, json)
    }

    /// The players `id`'s client mirrors, itself included.
    fn mirrored_by(&self, id: PlayerId) -> Vec<PlayerId> {
        if self.tracks_player_views() {
            if !self.players.contains_key(&id) {
                return Vec::new();
            }
            return std::iter::once(id)
                .chain(self.players_seen_by(id))
                .collect();
        }
        match self.config.sync_scope {
            SyncScope::Everyone => self.players.keys().copied().collect(),
            SyncScope::Rooms => match self.players.get(&id) {
                Some(player) => std::iter::once(id)
                    .chain(player.visible.iter().copied())
                    .collect(),
                None => Vec::new(),
            },
        }
    }

    /// A full snapshot of everything `id`'s client mirrors, for the wire formats
    /// `wires`: in frames of about [`SNAPSHOT_CHUNK_LEN`] bytes (players, then
    /// entities), or, when `whole`, in one frame.
    ///
    /// With `#[sync(owner)]` fields the last frame is marked `more`: the snapshot
    /// ends with the recipient's own [`owner_frame`](Self::owner_frame).
    pub(crate) fn snapshot_for(
        &self,
        id: PlayerId,
        wires: Wires,
        whole: bool,
    ) -> Result<Vec<Frame>, EncodeError> {
        let shown = self.mirrored_by(id);
        let section = EntitySection::whole(self.entities_seen_by(id));
        if !whole {
            return Ok(self
                .chunked(wires, &shown, &section, has_private_fields::<P>())?
                .0);
        }
        let part = Part {
            full: true,
            more: has_private_fields::<P>(),
        };
        let server = Some(public::<P::ServerState>());
        Ok(vec![
            self.snapshot_part(wires, part, &shown, server, &section)?
        ])
    }

    /// Room-scoped sync: `id` joined `room` and starts seeing its entities.
    pub(crate) fn show_room_entities(&mut self, id: PlayerId, room: &str) {
        if self.tracks_entity_views() {
            return; // the next tick's views show them
        }
        let ids: Vec<EntityId> = self
            .entities
            .live
            .iter()
            .filter(|(_, entity)| entity.room.as_deref() == Some(room))
            .map(|(id, _)| *id)
            .collect();
        self.send_entities_to(id, EntitySection::whole(ids));
    }

    /// Room-scoped sync: `id` left `room` and forgets its entities.
    pub(crate) fn hide_room_entities(&mut self, id: PlayerId, room: &str) {
        if self.tracks_entity_views() {
            return; // the next tick's views hide them
        }
        let despawned = self
            .entities
            .live
            .iter()
            .filter(|(_, entity)| entity.room.as_deref() == Some(room))
            .map(|(id, _)| *id)
            .chain(self.entities.despawned_in(room))
            .collect();
        let section = EntitySection {
            despawned,
            entities: Vec::new(),
        };
        self.send_entities_to(id, section);
    }

    fn send_entities_to(&mut self, id: PlayerId, section: EntitySection<'_, P>) {
        if section.is_empty() {
            return;
        }
        let wires = self.wires_of(&[id]);
        match self.encode_with(wires, Part::DELTA, &[], &[], &[], None, &section) {
            Ok(frame) => self.send_sync_to(&[id], &frame),
            Err(error) => self.report_later(Some(id), error.into()),
        }
    }

    /// `id`'s own `#[sync(owner)]` and tagged fields as `selection` picks them, in
    /// a frame for it alone.
    fn owner_frame(
        &self,
        id: PlayerId,
        selection: StateSelection<'_, P::State>,
    ) -> Result<Frame, EncodeError> {
        let wires = self.wires_of(&[id]);
        self.encode(wires, Part::DELTA, &[], &[], &[(id, selection)], None)
    }

    /// The frame that ends a snapshot of `shown` for `id` when the state has
    /// private fields: its own owner and tagged fields, and the tagged fields of
    /// each of `shown` that a tag's rule shows it. Also returns what it showed of
    /// whom, which the player's `tag_sight` records once the frame is sent.
    fn private_snapshot_frame(
        &self,
        id: PlayerId,
        shown: &[PlayerId],
    ) -> Result<(Frame, IdMap<FieldMask>), EncodeError> {
        let mut sight = IdMap::default();
        let mut entries: Vec<Entry<'_, P>> = vec![(id, Selection::Fields(P::State::PRIVATE))];
        if let (Some(viewer), true) = (self.players.get(&id), self.rules.shares_tagged_fields()) {
            for other in shown.iter().filter(|other| **other != id) {
                let Some(owner) = self.players.get(other) else {
                    continue;
                };
                let fields = self.tagged_fields_for(viewer, owner);
                if !fields.is_empty() {
                    entries.push((*other, Selection::Fields(fields)));
                    sight.insert(*other, fields);
                }
            }
        }
        let frame = self.encode(self.wires_of(&[id]), Part::DELTA, &[], &[], &entries, None)?;
        Ok((frame, sight))
    }

    /// Records what a snapshot sent to `id` showed: the players it mirrors (when
    /// a rule decides it) and the tagged fields it received.
    fn record_snapshot_views(&mut self, id: PlayerId, shown: &[PlayerId], sight: IdMap<FieldMask>) {
        let views = self.tracks_player_views();
        if let Some(player) = self.players.get_mut(&id) {
            if views {
                player.visible = shown.iter().copied().filter(|other| *other != id).collect();
            }
            player.tag_sight = sight;
        }
    }

    /// The frames that give newcomer `id`'s client the world it mirrors, for the
    /// wire formats `wires`: players, then entities, in frames of about
    /// [`SNAPSHOT_CHUNK_LEN`] bytes, the first `full` (with the server state),
    /// every one but the last `more`. A newcomer mirrors nothing yet, so nothing is dropped in between;
    /// the frames are queued together, so no tick frame comes between them.
    /// Bounded frames keep each connection's write buffer small: the WebSocket
    /// layer keeps the capacity of the largest frame it ever buffered, and a
    /// one-frame snapshot of 10,000 players is a quarter of a megabyte.
    ///
    /// When every newcomer mirrors the same world (scope `Everyone`, no entity
    /// visibility hook, the native wire), the world is encoded once per tick
    /// (the [`JoinBase`]) and its frames are shared by every newcomer of the tick,
    /// each followed by a small frame of its own with the arrivals and departures
    /// since: at hundreds of joins a second into a large world, encoding the
    /// world once per join was most of the server's work, and every queued copy
    /// of it memory. States changed since the base was made reach the newcomer
    /// in the next tick's frame, as they reach everyone.
    pub(crate) fn join_snapshot(
        &mut self,
        id: PlayerId,
        wires: Wires,
    ) -> Result<Vec<Frame>, EncodeError> {
        let shared_base = self.config.sync_scope == SyncScope::Everyone
            && !self.tracks_entity_views()
            && !self.tracks_player_views()
            && wires == Wires::of([WireFormat::Native]);
        if !shared_base {
            let shown = self.mirrored_by(id);
            let section = EntitySection::whole(self.entities_seen_by(id));
            let (frames, sight) = self.snapshot_frames(wires, id, &shown, &section)?;
            self.stats.snapshot_frames += frames.len() as u64;
            self.record_snapshot_views(id, &shown, sight);
            if self.tracks_player_views() {
                if let Some(player) = self.players.get_mut(&id) {
                    player.fresh_view = true;
                }
            }
            return Ok(frames);
        }
        let entities = self.entities.changes_this_tick();
        let base = match self.join_base.take() {
            Some(base) if base.entities == entities => base,
            _ => self.join_base_now(wires, entities)?,
        };
        let left = &self.left[base.left_mark..];
        let joined = &self.joined[base.joined_mark..];
        let mut frames = base.frames.clone();
        let mut built = 0;
        match (&base.complete, left.is_empty() && joined.is_empty()) {
            (Some(complete), true) => {
                frames.pop();
                frames.push(complete.clone());
            }
            (_, true) => {}
            (_, false) => {
                // Who came and went since the base was made, this newcomer among them.
                let entries: Vec<_> = joined
                    .iter()
                    .map(|(_, id)| (*id, public::<P::State>()))
                    .collect();
                let part = Part {
                    full: false,
                    more: has_private_fields::<P>(),
                };
                let none = EntitySection::none();
                frames.push(self.encode_with(wires, part, left, joined, &entries, None, &none)?);
                built += 1;
            }
        }
        if has_private_fields::<P>() {
            let shown: Vec<PlayerId> = self.players.keys().copied().collect();
            let (frame, sight) = self.private_snapshot_frame(id, &shown)?;
            frames.push(frame);
            built += 1;
            self.record_snapshot_views(id, &[], sight);
        }
        self.stats.snapshot_frames += built;
        self.join_base = Some(base);
        Ok(frames)
    }

    /// The world as every newcomer of this tick gets it (see [`JoinBase`]).
    fn join_base_now(
        &mut self,
        wires: Wires,
        entities: (usize, usize),
    ) -> Result<JoinBase, EncodeError> {
        let shown: Vec<PlayerId> = self.players.keys().copied().collect();
        let section = EntitySection::whole(self.entities.live.keys().copied());
        let (frames, last) = self.chunked(wires, &shown, &section, true)?;
        // The last frame again, completing the snapshot: for a newcomer with
        // nothing to add (the first of the tick), whose snapshot is then the same
        // as if it had been built for it alone.
        let complete = if has_private_fields::<P>() {
            None
        } else {
            let single = frames.len() == 1;
            let part = Part {
                full: single,
                more: false,
            };
            let server = single.then_some(public::<P::ServerState>());
            let section = section.slice(last.entities, single);
            Some(self.snapshot_part(wires, part, &shown[last.players], server, &section)?)
        };
        self.stats.snapshot_frames += frames.len() as u64 + u64::from(complete.is_some());
        Ok(JoinBase {
            frames,
            complete,
            joined_mark: self.joined.len(),
            left_mark: self.left.len(),
            entities,
        })
    }

    /// Forgets a player who left from the arrivals since the last tick: others
    /// never heard of it. Keeps the join base's mark on the same arrivals.
    pub(crate) fn forget_arrival(&mut self, id: PlayerId) {
        let Some(at) = self.joined.iter().position(|(_, joined)| *joined == id) else {
            return;
        };
        self.joined.remove(at);
        if let Some(base) = &mut self.join_base {
            if at < base.joined_mark {
                base.joined_mark -= 1;
            }
        }
    }

    /// A newcomer's snapshot of `shown` and `section`, chunked, then the frame of
    /// `owner`'s own when the state has private fields (with what it showed).
    fn snapshot_frames(
        &self,
        wires: Wires,
        owner: PlayerId,
        shown: &[PlayerId],
        section: &EntitySection<'_, P>,
    ) -> Result<(Vec<Frame>, IdMap<FieldMask>), EncodeError> {
        let (mut frames, _) = self.chunked(wires, shown, section, has_private_fields::<P>())?;
        let mut sight = IdMap::default();
        if has_private_fields::<P>() {
            let (frame, shown_fields) = self.private_snapshot_frame(owner, shown)?;
            frames.push(frame);
            sight = shown_fields;
        }
        Ok((frames, sight))
    }

    /// `shown` with their whole states, then `section`'s entities, in frames of
    /// about [`SNAPSHOT_CHUNK_LEN`] bytes: the first `full` (with the server state
    /// and `section`'s despawned entities), each `more` but the last unless
    /// `more_after` (another frame follows them). Also returns what the last frame
    /// holds.
    fn chunked(
        &self,
        wires: Wires,
        shown: &[PlayerId],
        section: &EntitySection<'_, P>,
        more_after: bool,
    ) -> Result<(Vec<Frame>, Chunk), EncodeError> {
        let mut frames = Vec::new();
        let (mut players, mut entities) = (0, 0);
        // Players and entities per frame, adapted to the sizes seen so far.
        let mut per_frame = 64usize;
        loop {
            let players_left = shown.len() - players;
            let entities_left = section.entities.len() - entities;
            let taken_players = per_frame.min(players_left);
            let taken_entities = (per_frame - taken_players).min(entities_left);
            let chunk = Chunk {
                players: players..players + taken_players,
                entities: entities..entities + taken_entities,
            };
            let last = taken_players + taken_entities == players_left + entities_left;
            let first = frames.is_empty();
            let server = first.then_some(public::<P::ServerState>());
            let flags = Part {
                full: first,
                more: !last || more_after,
            };
            let part = section.slice(chunk.entities.clone(), first);
            let frame =
                self.snapshot_part(wires, flags, &shown[chunk.players.clone()], server, &part)?;
            let len = frame
                .len(WireFormat::Native)
                .max(frame.len(WireFormat::Json));
            if len > SNAPSHOT_CHUNK_LEN && taken_players + taken_entities > 1 {
                // Too big: fewer items (only a single one may exceed the size).
                per_frame = (taken_players + taken_entities) / 2;
                continue;
            }
            frames.push(frame);
            if last {
                return Ok((frames, chunk));
            }
            (players, entities) = (chunk.players.end, chunk.entities.end);
            if len < SNAPSHOT_CHUNK_LEN / 2 {
                per_frame = per_frame.saturating_mul(2);
            }
        }
    }

    /// A frame announcing `shown` with their whole states.
    fn snapshot_part(
        &self,
        wires: Wires,
        part: Part,
        shown: &[PlayerId],
        server: Option<StateSelection<'_, P::ServerState>>,
        section: &EntitySection<'_, P>,
    ) -> Result<Frame, EncodeError> {
        let joined: Vec<_> = shown
            .iter()
            .filter_map(|id| self.players.get(id).map(|p| (p.net_id, p.id)))
            .collect();
        let entries: Vec<_> = shown.iter().map(|id| (*id, public::<P::State>())).collect();
        self.encode_with(wires, part, &[], &joined, &entries, server, section)
    }

    /// Queues `frame` for each of `ids` that is not owed a snapshot (which will
    /// carry everything this frame does).
    pub(super) fn send_sync_to(&mut self, ids: &[PlayerId], frame: &Frame) {
        deliver_to(&mut self.players, ids, frame, &mut self.stats);
    }

    /// Builds this tick's frames and queues them.
    ///
    /// `full`: every mirrored player's whole state as a snapshot, sent even when
    /// nothing changed. Otherwise the changed fields (without `delta_only`, whole
    /// states every tick), and nothing at all on a tick where nothing changed.
    pub(crate) fn sync(&mut self, full: bool) -> Result<(), EncodeError> {
        // This tick's frame carries what the base left to each newcomer's own frame.
        self.join_base = None;
        let whole = full || !self.config.delta_only;
        let owned = has_private_fields::<P>();
        let shares_tagged = self.rules.shares_tagged_fields();
        let public_fields = P::State::ALL.without(P::State::PRIVATE);
        // What a player's own frame carries: its owner fields, and its tagged
        // fields unless a tag has a rule (then they go in the frames per view,
        // which hold each viewer's own tagged changes beside those of the others
        // it sees, so that a team shares one frame).
        let own_fields = if shares_tagged {
            P::State::OWNER
        } else {
            P::State::PRIVATE
        };
        // Taken first, so the frames below can borrow them while encoding. The
        // owner and tagged fields' changes are split off: they go to their owner,
        // and the tagged ones to whom their tag's rule shows them, in frames of
        // their own.
        let mut taken = std::mem::take(&mut self.taken_changes);
        taken.clear();
        taken.reserve(self.players.len());
        let mut owners = Vec::new();
        let mut tagged = Vec::new();
        for player in self.players.values_mut() {
            let mut changes = player.state.take_changes();
            if owned {
                if shares_tagged {
                    let mut shared = changes.clone();
                    P::State::restrict(&mut shared, P::State::TAGGED);
                    if whole || !shared.is_empty() {
                        tagged.push((player.id, shared));
                    }
                }
                let mut own = changes.clone();
                P::State::restrict(&mut own, own_fields);
                P::State::restrict(&mut changes, public_fields);
                if !own.is_empty() {
                    owners.push((player.id, own));
                }
            }
            if whole || !changes.is_empty() {
                taken.push((player.id, changes));
            }
        }
        let changed: Vec<Entry<'_, P>> = taken
            .iter()
            .map(|(id, changes)| {
                let selection = if whole {
                    public::<P::State>()
                } else {
                    Selection::Changed(changes)
                };
                (*id, selection)
            })
            .collect();
        let mut server_changes = self.server_state.take_changes();
        P::ServerState::restrict(
            &mut server_changes,
            P::ServerState::ALL.without(P::ServerState::PRIVATE),
        );
        let server = if whole {
            Some(public::<P::ServerState>())
        } else {
            (!server_changes.is_empty()).then_some(Selection::Changed(&server_changes))
        };
        let mut entity_tick = self.entities.take_tick(whole);
        let entity_public = P::Entity::ALL.without(P::Entity::PRIVATE);
        for (_, changes) in &mut entity_tick.changed {
            if let Some(changes) = changes {
                P::Entity::restrict(changes, entity_public);
            }
        }
        let entities: Vec<RoutedEntity<'_, P>> = entity_tick
            .changed
            .iter()
            .filter(|(_, changes)| changes.as_ref().is_none_or(|c| !c.is_empty()))
            .map(|(id, changes)| {
                let room = self.entities.live.get(id).and_then(|e| e.room.clone());
                let selection = changes
                    .as_ref()
                    .map_or(public::<P::Entity>(), Selection::Changed);
                (*id, room, selection)
            })
            .collect();
        // With a visibility hook, entities go in frames per view, after the others.
        let per_view = self.tracks_entity_views();
        let (despawned, routed): (&[_], &[_]) = if per_view {
            (&[], &[])
        } else {
            (&entity_tick.despawned, &entities)
        };
        if full {
            self.joined.clear();
            self.left.clear();
            for player in self.players.values_mut() {
                player.needs_snapshot = true;
            }
        } else {
            // With a player visibility rule, players go in frames per view too.
            let player_views = self.tracks_player_views();
            let scoped: &[Entry<'_, P>] = if player_views { &[] } else { &changed };
            match self.config.sync_scope {
                SyncScope::Everyone => {
                    let section = EntitySection {
                        despawned: despawned.iter().map(|(id, _)| *id).collect(),
                        entities: routed.iter().map(|(id, _, s)| (*id, *s)).collect(),
                    };
                    self.sync_everyone(scoped, server, &section)?;
                }
                SyncScope::Rooms => self.sync_rooms(scoped, server, despawned, routed)?,
            }
            if player_views {
                self.sync_player_views(&changed)?;
            }
            if per_view {
                self.sync_entity_views(&entities)?;
            }
            if shares_tagged {
                self.sync_tagged_fields(&tagged, whole)?;
            }
            if whole && !own_fields.is_empty() {
                let ids: Vec<PlayerId> = self.players.keys().copied().collect();
                for id in ids {
                    let frame = self.owner_frame(id, Selection::Fields(own_fields))?;
                    self.stats.frames += 1;
                    self.send_sync_to(&[id], &frame);
                }
            } else {
                for (id, own) in &owners {
                    let frame = self.owner_frame(*id, Selection::Changed(own))?;
                    self.stats.frames += 1;
                    self.send_sync_to(&[*id], &frame);
                }
            }
        }
        drop(changed);
        self.taken_changes = taken;
        self.resync()
    }

    fn sync_everyone(
        &mut self,
        changed: &[Entry<'_, P>],
        server: Option<StateSelection<'_, P::ServerState>>,
        section: &EntitySection<'_, P>,
    ) -> Result<(), EncodeError> {
        let left = std::mem::take(&mut self.left);
        let joined = std::mem::take(&mut self.joined);
        if changed.is_empty()
            && left.is_empty()
            && joined.is_empty()
            && server.is_none()
            && section.is_empty()
        {
            return Ok(());
        }
        let wires = self.wires_of_everyone();
        let frame =
            self.encode_with(wires, Part::DELTA, &left, &joined, changed, server, section)?;
        self.stats.frames += 1;
        // Everyone not owed a snapshot (which carries all of this); no id lookups.
        for player in self.players.values_mut().filter(|p| !p.needs_snapshot) {
            deliver_sync(player, &frame, &mut self.stats);
        }
        Ok(())
    }

    fn sync_rooms(
        &mut self,
        changed: &[Entry<'_, P>],
        server: Option<StateSelection<'_, P::ServerState>>,
        despawned: &[(EntityId, Option<String>)],
        entities: &[RoutedEntity<'_, P>],
    ) -> Result<(), EncodeError> {
        // Entities in no room: everyone sees them, in a frame of their own.
        let global = EntitySection::in_room(None, despawned, entities);
        if !global.is_empty() {
            let wires = self.wires_of_everyone();
            let frame = self.encode_with(wires, Part::DELTA, &[], &[], &[], None, &global)?;
            self.stats.frames += 1;
            for player in self.players.values_mut().filter(|p| !p.needs_snapshot) {
                deliver_sync(player, &frame, &mut self.stats);
            }
        }
        let changed_by_id: IdMap<StateSelection<'_, P::State>> = changed.iter().copied().collect();
        // One list for every room's entries; rooms and players are borrowed as
        // separate fields, so nothing is copied per room per tick.
        let mut entries: Vec<Entry<'_, P>> = Vec::new();
        for (name, members) in self.rooms.iter() {
            entries.clear();
            entries.extend(
                members
                    .iter()
                    .filter_map(|id| changed_by_id.get(id).map(|selection| (*id, *selection))),
            );
            let section = EntitySection::in_room(Some(name), despawned, entities);
            if entries.is_empty() && server.is_none() && section.is_empty() {
                continue;
            }
            let wires = self.wires_of(members);
            let frame =
                self.encode_with(wires, Part::DELTA, &[], &[], &entries, server, &section)?;
            self.stats.frames += 1;
            deliver_to(&mut self.players, members, &frame, &mut self.stats);
        }
        // Players in no room mirror only themselves (and the server state).
        let alone: Vec<PlayerId> = self
            .players
            .values()
            .filter(|player| player.rooms.is_empty())
            .map(|player| player.id)
            .collect();
        for id in alone {
            let own: Vec<_> = changed_by_id
                .get(&id)
                .map(|selection| (id, *selection))
                .into_iter()
                .collect();
            if own.is_empty() && server.is_none() {
                continue;
            }
            let wires = self.wires_of(&[id]);
            let frame = self.encode(wires, Part::DELTA, &[], &[], &own, server)?;
            self.stats.frames += 1;
            self.send_sync_to(&[id], &frame);
        }
        Ok(())
    }

    /// Sends each player owed a snapshot one, if its queue has room now.
    pub(crate) fn resync(&mut self) -> Result<(), EncodeError> {
        // A paused player has no queue: its snapshot waits for its resume, rather
        // than being encoded every tick for nothing.
        let owed: Vec<PlayerId> = self
            .players
            .values()
            .filter(|p| p.needs_snapshot && p.link.is_some())
            .map(|p| p.id)
            .collect();
        if owed.is_empty() {
            return Ok(());
        }
        // Scope `Everyone`: the same snapshot serves everyone; encode it once.
        // With a visibility rule each player sees its own world: one each.
        let shared_snapshot = match self.config.sync_scope {
            SyncScope::Everyone if !self.tracks_entity_views() && !self.tracks_player_views() => {
                let wires = self.wires_of(&owed);
                let frames = self.snapshot_for(owed[0], wires, false)?;
                self.stats.frames += frames.len() as u64;
                Some(frames)
            }
            _ => None,
        };
        for id in owed {
            let Some((free, max)) = self.players.get(&id).map(Player::queue_room) else {
                continue;
            };
            let owner_frames = usize::from(has_private_fields::<P>());
            let mut snapshot = match &shared_snapshot {
                Some(snapshot) => snapshot.clone(),
                None => {
                    let frames = self.snapshot_for(id, self.wires_of(&[id]), false)?;
                    self.stats.frames += frames.len() as u64;
                    frames
                }
            };
            if snapshot.len() + owner_frames > max {
                // More frames than the queue ever holds: one frame, however large,
                // rather than a snapshot that never fits.
                snapshot = self.snapshot_for(id, self.wires_of(&[id]), true)?;
                self.stats.frames += 1;
            }
            if snapshot.len() + owner_frames > free {
                // Not all of it fits yet: a part would be sent for nothing, as the
                // whole is sent again. Tried again next tick; a client that reads
                // meanwhile is not a slow consumer for it.
                if let Some(player) = self.players.get(&id) {
                    player.note_queue_room(free);
                }
                continue;
            }
            let seen = self
                .tracks_entity_views()
                .then(|| self.entities_seen_by(id));
            let shown = self.mirrored_by(id);
            let (own, sight) = if has_private_fields::<P>() {
                let (frame, sight) = self.private_snapshot_frame(id, &shown)?;
                self.stats.frames += 1;
                (Some(frame), sight)
            } else {
                (None, IdMap::default())
            };
            let Some(player) = self.players.get_mut(&id) else {
                continue;
            };
            // The owner's frame completes the snapshot: all of it goes out, or it
            // is sent again, whole, once the queue has room.
            let mut all_sent = true;
            for frame in snapshot.iter().chain(own.as_ref()) {
                if player.send_frame(frame).is_err() {
                    all_sent = false;
                    break;
                }
                self.stats.bytes_sent += frame.len(player.wire) as u64;
                self.stats.deliveries += 1;
            }
            player.needs_snapshot = !all_sent;
            if all_sent {
                player.seen_entities = seen.unwrap_or_default();
                self.record_snapshot_views(id, &shown, sight);
            }
        }
        Ok(())
    }

    /// Room-scoped sync: `id` and each of `gained` start mirroring each other.
    pub(crate) fn reveal(&mut self, id: PlayerId, gained: &[PlayerId]) {
        if gained.is_empty() {
            return;
        }
        for other in gained {
            if let Some(player) = self.players.get_mut(other) {
                player.visible.insert(id);
            }
        }
        if let Some(player) = self.players.get_mut(&id) {
            player.visible.extend(gained.iter().copied());
        }
        let announce = |shared: &Self, shown: &[PlayerId], to: &[PlayerId]| {
            let joined: Vec<_> = shown
                .iter()
                .filter_map(|id| shared.players.get(id).map(|p| (p.net_id, p.id)))
                .collect();
            let entries: Vec<_> = shown.iter().map(|id| (*id, public::<P::State>())).collect();
            shared.encode(
                shared.wires_of(to),
                Part::DELTA,
                &[],
                &joined,
                &entries,
                None,
            )
        };
        // To the newcomer: the players it now sees (unless `on_join` is running:
        // its snapshot, built next, shows them, and a held announcement sent
        // after it would reset what the snapshot gave, tagged fields included).
        // To them, once: the newcomer.
        if self.players.get(&id).is_some_and(Player::holds_sends) {
            match announce(self, &[id], gained) {
                Ok(to_others) => self.send_sync_to(gained, &to_others),
                Err(error) => self.report_later(Some(id), error.into()),
            }
            return;
        }
        match announce(self, gained, &[id])
            .and_then(|to_newcomer| Ok((to_newcomer, announce(self, &[id], gained)?)))
        {
            Ok((to_newcomer, to_others)) => {
                self.send_sync_to(&[id], &to_newcomer);
                self.send_sync_to(gained, &to_others);
            }
            Err(error) => self.report_later(Some(id), error.into()),
        }
    }

    /// Room-scoped sync: `id` and each of `lost` stop mirroring each other.
    pub(crate) fn conceal(&mut self, id: PlayerId, lost: &[PlayerId]) {
        if lost.is_empty() {
            return;
        }
        for other in lost {
            if let Some(player) = self.players.get_mut(other) {
                player.visible.remove(&id);
                player.tag_sight.remove(&id);
            }
        }
        let Some(player) = self.players.get_mut(&id) else {
            return;
        };
        for other in lost {
            player.visible.remove(other);
            player.tag_sight.remove(other);
        }
        let net_id = player.net_id;
        let lost_players: Vec<(NetId, PlayerId)> = lost
            .iter()
            .filter_map(|id| self.players.get(id).map(|p| (p.net_id, p.id)))
            .collect();
        match self
            .encode(
                self.wires_of(&[id]),
                Part::DELTA,
                &lost_players,
                &[],
                &[],
                None,
            )
            .and_then(|to_leaver| {
                let to_others = self.encode(
                    self.wires_of(lost),
                    Part::DELTA,
                    &[(net_id, id)],
                    &[],
                    &[],
                    None,
                )?;
                Ok((to_leaver, to_others))
            }) {
            Ok((to_leaver, to_others)) => {
                self.send_sync_to(&[id], &to_leaver);
                self.send_sync_to(lost, &to_others);
            }
            Err(error) => self.report_later(Some(id), error.into()),
        }
    }
}

/// Queues a sync frame for `player`; if its queue is full, it is owed a snapshot.
/// Queues `frame` for each of `ids` that is not owed a snapshot (which will carry
/// everything this frame does). Takes the players and the counters apart from the
/// rest of the world, so callers can go on borrowing its rooms.
fn deliver_to<'a, P: Protocol>(
    players: &mut IdMap<Player<P>>,
    ids: impl IntoIterator<Item = &'a PlayerId>,
    frame: &Frame,
    stats: &mut SyncStats,
) {
    for id in ids {
        if let Some(player) = players.get_mut(id) {
            if !player.needs_snapshot {
                deliver_sync(player, frame, stats);
            }
        }
    }
}

fn deliver_sync<P: Protocol>(player: &mut Player<P>, frame: &Frame, stats: &mut SyncStats) {
    if player.send_frame(frame).is_ok() {
        stats.bytes_sent += frame.len(player.wire) as u64;
        stats.deliveries += 1;
    } else {
        player.needs_snapshot = true;
    }
}

/// `entries`, with every `joined` player's whole state.
fn with_whole_states<'e, 'a, P: Protocol>(
    entries: &'e [Entry<'a, P>],
    joined: &[(NetId, PlayerId)],
    whole: StateSelection<'a, P::State>,
) -> Cow<'e, [Entry<'a, P>]> {
    if joined.is_empty() {
        return Cow::Borrowed(entries);
    }
    let joined: IdSet = joined.iter().map(|(_, id)| *id).collect();
    let mut listed: Vec<Entry<'a, P>> = entries
        .iter()
        .map(|(id, selection)| {
            let selection = if joined.contains(id) {
                whole
            } else {
                *selection
            };
            (*id, selection)
        })
        .collect();
    let in_entries: IdSet = entries.iter().map(|(id, _)| *id).collect();
    listed.extend(
        joined
            .iter()
            .filter(|id| !in_entries.contains(id))
            .map(|id| (*id, whole)),
    );
    Cow::Owned(listed)
}
