//! Who sees what, per recipient: the rules a match kind registers for entities,
//! for other players and for tagged fields, what each rule is asked with, and the
//! answers the sync and the handlers share (so a game rule never repeats a
//! visibility rule by hand).
//!
//! Rules compose with rooms: with room-scoped sync a rule is asked only about what
//! the rooms already allow, so a rule can narrow what a player sees, never widen it.

use std::collections::BTreeSet;

use crate::server::config::SyncScope;
use crate::server::game::player::Player;
use crate::server::game::state::MatchState;
use crate::sync::FieldMask;
use crate::{EntityId, PlayerId, Protocol, SyncState};

/// What an entity visibility rule decides from: the player asking, the entity,
/// and the match around them. See
/// [`MatchKind::entity_visibility_with`](crate::server::MatchKind::entity_visibility_with).
#[non_exhaustive]
pub struct EntitySight<'a, P: Protocol> {
    /// The player whose client would see the entity.
    pub player: &'a Player<P>,
    /// The entity's id.
    pub id: EntityId,
    /// The entity's state.
    pub entity: &'a P::Entity,
    /// The room it was spawned in (`spawn_in`), or `None`.
    pub room: Option<&'a str>,
    /// The match's shared server state.
    pub server_state: &'a P::ServerState,
}

impl<P: Protocol> std::fmt::Debug for EntitySight<'_, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntitySight")
            .field("player", &self.player.id())
            .field("id", &self.id)
            .field("room", &self.room)
            .finish_non_exhaustive()
    }
}

/// What a player visibility rule decides from: the player whose client would
/// mirror another, that other player, and the match around them (each player's
/// rooms are on it: [`Player::rooms`]). See
/// [`MatchKind::player_visibility_with`](crate::server::MatchKind::player_visibility_with).
#[non_exhaustive]
pub struct PlayerSight<'a, P: Protocol> {
    /// The player whose client would mirror `player`.
    pub viewer: &'a Player<P>,
    /// The player it would mirror (never `viewer`: a client always mirrors its
    /// own player).
    pub player: &'a Player<P>,
    /// The match's shared server state.
    pub server_state: &'a P::ServerState,
}

impl<P: Protocol> std::fmt::Debug for PlayerSight<'_, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlayerSight")
            .field("viewer", &self.viewer.id())
            .field("player", &self.player.id())
            .finish_non_exhaustive()
    }
}

/// What a field visibility rule decides from: the player whose client would
/// receive the tagged fields, the player whose state holds them, the tag, and
/// the match's server state. See
/// [`MatchKind::field_visibility`](crate::server::MatchKind::field_visibility).
#[non_exhaustive]
pub struct FieldSight<'a, P: Protocol> {
    /// The player whose client would receive the fields.
    pub viewer: &'a Player<P>,
    /// The player whose state holds them (never `viewer`: a player always
    /// receives its own tagged fields).
    pub owner: &'a Player<P>,
    /// The fields' tag, as written in `#[sync(tag = "…")]`.
    pub tag: &'static str,
    /// The match's shared server state.
    pub server_state: &'a P::ServerState,
}

impl<P: Protocol> std::fmt::Debug for FieldSight<'_, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FieldSight")
            .field("viewer", &self.viewer.id())
            .field("owner", &self.owner.id())
            .field("tag", &self.tag)
            .finish_non_exhaustive()
    }
}

/// A boxed rule of one kind of sight: a clonable `Fn(&Sight) -> bool`, as each
/// match of a kind runs its own copy.
macro_rules! rule {
    ($(#[$doc:meta])* $trait:ident, $boxed:ident, $sight:ident) => {
        $(#[$doc])*
        pub(crate) trait $trait<P: Protocol>: Send + 'static {
            fn call(&self, sight: &$sight<'_, P>) -> bool;
            fn clone_box(&self) -> $boxed<P>;
        }

        impl<P: Protocol, F> $trait<P> for F
        where
            F: Fn(&$sight<'_, P>) -> bool + Clone + Send + 'static,
        {
            fn call(&self, sight: &$sight<'_, P>) -> bool {
                self(sight)
            }

            fn clone_box(&self) -> $boxed<P> {
                Box::new(self.clone())
            }
        }

        pub(crate) type $boxed<P> = Box<dyn $trait<P>>;
    };
}

rule!(
    /// Decides whether a player sees an entity.
    EntityRule,
    BoxedEntityRule,
    EntitySight
);
rule!(
    /// Decides whether a player's client mirrors another player.
    PlayerRule,
    BoxedPlayerRule,
    PlayerSight
);
rule!(
    /// Decides whether a player receives another's fields of one tag.
    FieldRule,
    BoxedFieldRule,
    FieldSight
);

/// A match kind's visibility rules; each match runs a clone.
pub(crate) struct Rules<P: Protocol> {
    pub(crate) entities: Option<BoxedEntityRule<P>>,
    pub(crate) players: Option<BoxedPlayerRule<P>>,
    /// One per tag of the player state (`SyncState::TAGS`, in order); a tag
    /// without a rule reaches its owner alone.
    pub(crate) fields: Vec<Option<BoxedFieldRule<P>>>,
}

impl<P: Protocol> Default for Rules<P> {
    fn default() -> Self {
        Self {
            entities: None,
            players: None,
            fields: P::State::TAGS.iter().map(|_| None).collect(),
        }
    }
}

impl<P: Protocol> Clone for Rules<P> {
    fn clone(&self) -> Self {
        Self {
            entities: self.entities.as_ref().map(|rule| rule.clone_box()),
            players: self.players.as_ref().map(|rule| rule.clone_box()),
            fields: self
                .fields
                .iter()
                .map(|rule| rule.as_ref().map(|rule| rule.clone_box()))
                .collect(),
        }
    }
}

impl<P: Protocol> Rules<P> {
    /// Sets the rule of `tag`.
    ///
    /// # Panics
    /// When the player state has no field tagged `tag`.
    pub(crate) fn set_field_rule(&mut self, tag: &str, rule: BoxedFieldRule<P>) {
        let Some(at) = P::State::TAGS.iter().position(|(name, _)| *name == tag) else {
            let known: Vec<String> = P::State::TAGS
                .iter()
                .map(|(name, _)| format!("{name:?}"))
                .collect();
            let known = if known.is_empty() {
                "it has no tagged fields".to_owned()
            } else {
                format!("its tags are {}", known.join(", "))
            };
            panic!(
                "field_visibility({tag:?}): no field of `{}` is marked `#[sync(tag = {tag:?})]`; {known}",
                P::State::NAME
            );
        };
        self.fields[at] = Some(rule);
    }

    /// Whether some tag has a rule: without one, tagged fields go to their owner
    /// alone, as owner fields do.
    pub(crate) fn shares_tagged_fields(&self) -> bool {
        self.fields.iter().any(Option::is_some)
    }
}

impl<P: Protocol, G> MatchState<P, G> {
    /// The live entities `id`'s client may see: all of them, or with room-scoped
    /// sync those in its rooms and in none; with a rule, those it shows.
    pub(crate) fn entities_seen_by(&self, id: PlayerId) -> BTreeSet<EntityId> {
        let Some(player) = self.players.get(&id) else {
            return BTreeSet::new();
        };
        let allowed: Box<dyn Iterator<Item = EntityId>> = match self.config.sync_scope {
            SyncScope::Everyone => Box::new(self.entities.live.keys().copied()),
            SyncScope::Rooms => Box::new(self.entities.seen_in(&player.rooms)),
        };
        match &self.rules.entities {
            Some(rule) => allowed
                .filter(|id| {
                    self.entities.live.get(id).is_some_and(|entity| {
                        rule.call(&EntitySight {
                            player,
                            id: *id,
                            entity: entity.state.get(),
                            room: entity.room.as_deref(),
                            server_state: self.server_state.get(),
                        })
                    })
                })
                .collect(),
            None => allowed.collect(),
        }
    }

    /// Whether the player `id`'s client may see the entity `entity`, by the same
    /// rules as [`entities_seen_by`](Self::entities_seen_by).
    pub(crate) fn entity_seen_by(&self, id: PlayerId, entity: EntityId) -> bool {
        let (Some(player), Some(live)) = (self.players.get(&id), self.entities.live.get(&entity))
        else {
            return false;
        };
        let in_scope = match self.config.sync_scope {
            SyncScope::Everyone => true,
            SyncScope::Rooms => live
                .room
                .as_ref()
                .is_none_or(|room| player.rooms.iter().any(|r| r == room)),
        };
        in_scope
            && self.rules.entities.as_ref().is_none_or(|rule| {
                rule.call(&EntitySight {
                    player,
                    id: entity,
                    entity: live.state.get(),
                    room: live.room.as_deref(),
                    server_state: self.server_state.get(),
                })
            })
    }

    /// Whether each player's view of the entities is tracked (a rule decides it),
    /// so that snapshots record what they showed.
    pub(crate) fn tracks_entity_views(&self) -> bool {
        self.rules.entities.is_some()
    }

    /// Whether a rule decides which players each client mirrors: then each
    /// player's `visible` set is what its client mirrors, whatever the scope.
    pub(crate) fn tracks_player_views(&self) -> bool {
        self.rules.players.is_some()
    }

    /// The other players `id`'s client may mirror by the scope and the player
    /// rule: everyone, or with room-scoped sync those who share a room with it;
    /// with a rule, those it shows. In id order.
    pub(crate) fn players_seen_by(&self, id: PlayerId) -> Vec<PlayerId> {
        let Some(viewer) = self.players.get(&id) else {
            return Vec::new();
        };
        let mut seen: Vec<PlayerId> = match self.config.sync_scope {
            SyncScope::Everyone => self.players.keys().copied().filter(|p| *p != id).collect(),
            SyncScope::Rooms => {
                let mut mates: Vec<PlayerId> = viewer
                    .rooms
                    .iter()
                    .filter_map(|room| self.rooms.members_of(room))
                    .flat_map(|members| members.iter().copied())
                    .filter(|p| *p != id)
                    .collect();
                mates.sort_unstable();
                mates.dedup();
                mates
            }
        };
        if let Some(rule) = &self.rules.players {
            seen.retain(|other| {
                self.players.get(other).is_some_and(|player| {
                    rule.call(&PlayerSight {
                        viewer,
                        player,
                        server_state: self.server_state.get(),
                    })
                })
            });
        }
        seen.sort_unstable();
        seen
    }

    /// Whether `viewer`'s client may mirror `other`, by the same rules as
    /// [`players_seen_by`](Self::players_seen_by); a player always sees itself.
    pub(crate) fn player_seen_by(&self, viewer: PlayerId, other: PlayerId) -> bool {
        let (Some(seer), Some(player)) = (self.players.get(&viewer), self.players.get(&other))
        else {
            return false;
        };
        if viewer == other {
            return true;
        }
        let in_scope = match self.config.sync_scope {
            SyncScope::Everyone => true,
            SyncScope::Rooms => seer.rooms.iter().any(|room| {
                self.rooms
                    .members_of(room)
                    .is_some_and(|members| members.contains(&other))
            }),
        };
        in_scope
            && self.rules.players.as_ref().is_none_or(|rule| {
                rule.call(&PlayerSight {
                    viewer: seer,
                    player,
                    server_state: self.server_state.get(),
                })
            })
    }

    /// The tagged fields of `owner`'s state that `viewer` receives, by the tags'
    /// rules (all of them for the owner itself). Whether `viewer` mirrors `owner`
    /// at all is the caller's to know.
    pub(crate) fn tagged_fields_for(&self, viewer: &Player<P>, owner: &Player<P>) -> FieldMask {
        if viewer.id == owner.id {
            return P::State::TAGGED;
        }
        P::State::TAGS
            .iter()
            .zip(&self.rules.fields)
            .filter_map(|((tag, fields), rule)| {
                let rule = rule.as_ref()?;
                rule.call(&FieldSight {
                    viewer,
                    owner,
                    tag,
                    server_state: self.server_state.get(),
                })
                .then_some(*fields)
            })
            .fold(FieldMask::EMPTY, FieldMask::union)
    }
}
