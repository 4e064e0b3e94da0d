//! Frames per view: what the visibility rules decide per recipient (entities,
//! other players, tagged fields) reaches each player in frames built once per
//! distinct change of view, so that players whose views change alike (a team that
//! sees the same things) share one encoded frame.
//!
//! Each player's view is remembered between ticks (`seen_entities`, `visible`,
//! `tag_sight`): what comes into view is sent whole, what leaves it is dropped
//! (despawned, or announced as left), and what stays is sent as changes.

use std::collections::BTreeMap;

use crate::error::EncodeError;
use crate::id_map::{IdMap, IdSet};
use crate::server::config::SyncScope;
use crate::server::game::replication::{public, EntitySection, Entry, Part, RoutedEntity};
use crate::server::game::MatchState;
use crate::sync::{FieldMask, Selection};
use crate::wire::{NetId, StateSelection};
use crate::{EntityId, PlayerId, Protocol, SyncState};

/// A change of one player's view of the others: who came into view, who left
/// it, and whose changes it sees; in id order, so equal views compare equal.
type PlayerView = (Vec<PlayerId>, Vec<PlayerId>, Vec<PlayerId>);

/// A change of one player's view of the entities: appeared, gone, changed.
type EntityView = (Vec<EntityId>, Vec<EntityId>, Vec<EntityId>);

impl<P: Protocol, G> MatchState<P, G> {
    /// With a player visibility rule: each player's view of the others this tick,
    /// who came into it (announced, whole), who left it (announced as left) and
    /// the changes of those it still sees (itself included), in one frame per
    /// distinct view.
    pub(super) fn sync_player_views(
        &mut self,
        changed: &[Entry<'_, P>],
    ) -> Result<(), EncodeError> {
        let changes: IdMap<StateSelection<'_, P::State>> = changed.iter().copied().collect();
        let mut views: BTreeMap<PlayerView, Vec<PlayerId>> = BTreeMap::new();
        let mut seen_now = Vec::new();
        for player in self.players.values().filter(|p| !p.needs_snapshot) {
            let now = self.players_seen_by(player.id);
            // After a join snapshot taken mid-tick, everyone else it sees is
            // announced afresh, whole: the snapshot already holds changes this
            // tick would send again, and a `SyncDeque`'s pushes are not to be
            // applied twice. (Its own player is not: announcing it would reset
            // its owner fields, which its own frame sends only as changes.)
            let fresh = player.fresh_view;
            let mut appeared: Vec<PlayerId> = now
                .iter()
                .copied()
                .filter(|id| fresh || !player.visible.contains(id))
                .collect();
            appeared.sort_unstable();
            let mut gone: Vec<PlayerId> = player
                .visible
                .iter()
                .copied()
                .filter(|id| now.binary_search(id).is_err())
                .collect();
            gone.sort_unstable();
            let mut still: Vec<PlayerId> = std::iter::once(player.id)
                .chain(now.iter().copied().filter(|id| player.visible.contains(id)))
                .filter(|id| (!fresh || *id == player.id) && changes.contains_key(id))
                .collect();
            still.sort_unstable();
            if !(appeared.is_empty() && gone.is_empty() && still.is_empty()) {
                views
                    .entry((appeared, gone, still))
                    .or_default()
                    .push(player.id);
            }
            seen_now.push((player.id, now));
        }
        for (id, now) in seen_now {
            let Some(player) = self.players.get_mut(&id) else {
                continue;
            };
            // Those out of view no longer send it their tagged fields: seen again,
            // they come whole. Announced afresh, all of them come whole again.
            let visible: IdSet = now.into_iter().collect();
            if std::mem::take(&mut player.fresh_view) {
                player.tag_sight.clear();
            } else {
                player.tag_sight.retain(|other, _| visible.contains(other));
            }
            player.visible = visible;
        }
        for ((appeared, gone, still), ids) in views {
            let net_ids = |shown: &[PlayerId]| -> Vec<(NetId, PlayerId)> {
                shown
                    .iter()
                    .filter_map(|id| self.players.get(id).map(|p| (p.net_id, p.id)))
                    .collect()
            };
            let (left, joined) = (net_ids(&gone), net_ids(&appeared));
            let entries: Vec<Entry<'_, P>> = still.iter().map(|id| (*id, changes[id])).collect();
            let wires = self.wires_of(&ids);
            let frame = self.encode(wires, Part::DELTA, &left, &joined, &entries, None)?;
            self.stats.frames += 1;
            self.send_sync_to(&ids, &frame);
        }
        Ok(())
    }

    /// With an entity visibility rule: each player's entity changes this tick,
    /// what came into its view (whole) and what left it (despawned), in one frame
    /// per distinct view.
    pub(super) fn sync_entity_views(
        &mut self,
        changed: &[RoutedEntity<'_, P>],
    ) -> Result<(), EncodeError> {
        let changes: BTreeMap<EntityId, StateSelection<'_, P::Entity>> =
            changed.iter().map(|(id, _, s)| (*id, *s)).collect();
        let mut views: BTreeMap<EntityView, Vec<PlayerId>> = BTreeMap::new();
        let mut seen_now = Vec::new();
        for player in self.players.values().filter(|p| !p.needs_snapshot) {
            let now = self.entities_seen_by(player.id);
            let appeared: Vec<EntityId> = now.difference(&player.seen_entities).copied().collect();
            let gone: Vec<EntityId> = player.seen_entities.difference(&now).copied().collect();
            let changed: Vec<EntityId> = now
                .intersection(&player.seen_entities)
                .filter(|id| changes.contains_key(id))
                .copied()
                .collect();
            if !(appeared.is_empty() && gone.is_empty() && changed.is_empty()) {
                views
                    .entry((appeared, gone, changed))
                    .or_default()
                    .push(player.id);
            }
            seen_now.push((player.id, now));
        }
        for (id, now) in seen_now {
            if let Some(player) = self.players.get_mut(&id) {
                player.seen_entities = now;
            }
        }
        for ((appeared, gone, changed), ids) in views {
            let entities = appeared
                .into_iter()
                .map(|id| (id, public::<P::Entity>()))
                .chain(changed.into_iter().map(|id| (id, changes[&id])))
                .collect();
            let section = EntitySection {
                despawned: gone,
                entities,
            };
            let wires = self.wires_of(&ids);
            let frame = self.encode_with(wires, Part::DELTA, &[], &[], &[], None, &section)?;
            self.stats.frames += 1;
            self.send_sync_to(&ids, &frame);
        }
        Ok(())
    }

    /// The other players `id`'s client mirrors now, as the sync has told it.
    fn mirrored_others(&self, id: PlayerId) -> Vec<PlayerId> {
        let Some(player) = self.players.get(&id) else {
            return Vec::new();
        };
        if self.config.sync_scope == SyncScope::Everyone && !self.tracks_player_views() {
            self.players.keys().copied().filter(|p| *p != id).collect()
        } else {
            player.visible.iter().copied().collect()
        }
    }

    /// With a rule for some tag: each player's view of the tagged fields, its
    /// own and those of every other player its client mirrors. The changes of
    /// the fields it still sees go in one frame per distinct view (a team whose
    /// members see each other gets their changes in one shared frame); fields
    /// that came into view go whole, in a frame of its own. `tagged` holds each player's tagged changes (every
    /// player, when `whole`: then whole fields are sent, not changes).
    pub(super) fn sync_tagged_fields(
        &mut self,
        tagged: &[(PlayerId, <P::State as SyncState>::Changes)],
        whole: bool,
    ) -> Result<(), EncodeError> {
        let changes: IdMap<&<P::State as SyncState>::Changes> =
            tagged.iter().map(|(id, changes)| (*id, changes)).collect();
        // Per view, whose fields (which of them) changed; per player, what came
        // into its view.
        let mut views: BTreeMap<Vec<(PlayerId, u64)>, Vec<PlayerId>> = BTreeMap::new();
        let mut gains: Vec<(PlayerId, Vec<(PlayerId, FieldMask)>)> = Vec::new();
        let mut sights = Vec::new();
        for viewer in self.players.values().filter(|p| !p.needs_snapshot) {
            let mut sight = IdMap::default();
            let mut view = Vec::new();
            let mut gained = Vec::new();
            // Its own tagged changes are part of its view: teammates who see
            // each other then share one frame.
            let own = match (whole, changes.get(&viewer.id)) {
                (true, _) => P::State::TAGGED,
                (false, Some(changes)) => P::State::mask(changes) & P::State::TAGGED,
                (false, None) => FieldMask::EMPTY,
            };
            if !own.is_empty() {
                view.push((viewer.id, own.bits()));
            }
            for other in self.mirrored_others(viewer.id) {
                let Some(owner) = self.players.get(&other) else {
                    continue;
                };
                let now = self.tagged_fields_for(viewer, owner);
                if now.is_empty() {
                    continue;
                }
                let before = viewer
                    .tag_sight
                    .get(&other)
                    .copied()
                    .unwrap_or(FieldMask::EMPTY);
                let new = now.without(before);
                if !new.is_empty() {
                    gained.push((other, new));
                }
                let kept = now & before;
                let changed_fields = match (whole, changes.get(&other)) {
                    (true, _) => kept,
                    (false, Some(changes)) => P::State::mask(changes) & kept,
                    (false, None) => FieldMask::EMPTY,
                };
                if !changed_fields.is_empty() {
                    view.push((other, changed_fields.bits()));
                }
                sight.insert(other, now);
            }
            view.sort_unstable();
            gained.sort_unstable_by_key(|(id, _)| *id);
            if !view.is_empty() {
                views.entry(view).or_default().push(viewer.id);
            }
            if !gained.is_empty() {
                gains.push((viewer.id, gained));
            }
            sights.push((viewer.id, sight));
        }
        for (id, sight) in sights {
            if let Some(player) = self.players.get_mut(&id) {
                player.tag_sight = sight;
            }
        }
        for (view, ids) in views {
            // The changes of the fields in view, kept while the frame borrows them
            // (whole fields need none).
            let restricted: Vec<(PlayerId, <P::State as SyncState>::Changes)> = if whole {
                Vec::new()
            } else {
                view.iter()
                    .filter_map(|(id, bits)| {
                        let mut kept = (*changes.get(id)?).clone();
                        P::State::restrict(&mut kept, FieldMask::from_bits(*bits));
                        Some((*id, kept))
                    })
                    .collect()
            };
            let entries: Vec<Entry<'_, P>> = if whole {
                view.iter()
                    .map(|(id, bits)| (*id, Selection::Fields(FieldMask::from_bits(*bits))))
                    .collect()
            } else {
                restricted
                    .iter()
                    .map(|(id, kept)| (*id, Selection::Changed(kept)))
                    .collect()
            };
            let wires = self.wires_of(&ids);
            let frame = self.encode(wires, Part::DELTA, &[], &[], &entries, None)?;
            self.stats.frames += 1;
            self.send_sync_to(&ids, &frame);
        }
        for (id, gained) in gains {
            let entries: Vec<Entry<'_, P>> = gained
                .into_iter()
                .map(|(other, fields)| (other, Selection::Fields(fields)))
                .collect();
            let frame = self.encode(self.wires_of(&[id]), Part::DELTA, &[], &[], &entries, None)?;
            self.stats.frames += 1;
            self.send_sync_to(&[id], &frame);
        }
        Ok(())
    }

    /// With a player visibility rule: `id` is leaving the match, and every client
    /// that mirrors it (the rule need not be symmetric) is told so, in one frame.
    pub(crate) fn forget_in_views(&mut self, id: PlayerId) {
        let Some(net_id) = self.players.get(&id).map(|p| p.net_id) else {
            return;
        };
        let mut watchers = Vec::new();
        for player in self.players.values_mut() {
            player.tag_sight.remove(&id);
            if player.visible.remove(&id) {
                watchers.push(player.id);
            }
        }
        if watchers.is_empty() {
            return;
        }
        match self.encode(
            self.wires_of(&watchers),
            Part::DELTA,
            &[(net_id, id)],
            &[],
            &[],
            None,
        ) {
            Ok(frame) => {
                self.stats.frames += 1;
                self.send_sync_to(&watchers, &frame);
            }
            Err(error) => self.report_later(Some(id), error.into()),
        }
    }
}
