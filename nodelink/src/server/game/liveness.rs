//! Liveness, checked once per tick rather than by a timer in every connection:
//! slow consumers and silent players are dropped (or paused), sessions past
//! their grace period end, and every player is pinged at the ping interval.

use std::time::{Instant, SystemTime};

use crate::server::game::Match;
use crate::server::port::Outgoing;
use crate::wire::{encode_ping, json, CloseReason, WireFormat};
use crate::Protocol;

impl<P: Protocol, G: Send + 'static> Match<P, G> {
    /// Disconnects slow consumers (an event overflowed their queue, or it stayed
    /// full past the slow-consumer timeout) and silent players (nothing at all, not
    /// even a bad frame, for the idle timeout; one with a session is paused
    /// instead), and ends the sessions of paused players whose grace period is over
    /// or whose buffer overflowed. The idle timeout is checked here, once per tick,
    /// rather than by a timer in every connection re-armed on every frame.
    pub(super) fn drop_stalled(&mut self, now: Instant) {
        let patience = self.state.config.slow_consumer_timeout;
        let idle = self.state.config.idle_timeout;
        let grace = self.state.config.resume_grace;
        let heard_by = now.checked_sub(idle).filter(|_| !idle.is_zero());
        let mut stalled = Vec::new();
        let mut silent = Vec::new();
        for player in self.state.players.values() {
            if let Some(session) = player.session.as_ref().filter(|_| player.is_paused()) {
                if player.overflowed.get() {
                    stalled.push((player.id, Some(CloseReason::MissedEvents)));
                } else if session.borrow().expired(now, grace) {
                    stalled.push((player.id, None));
                }
            } else if player.is_slow(now, patience) {
                stalled.push((player.id, Some(CloseReason::SlowConsumer)));
            } else if heard_by.is_some_and(|heard_by| player.heard <= heard_by) {
                if player.session.is_some() {
                    silent.push(player.id);
                } else {
                    stalled.push((player.id, Some(CloseReason::IdleTimeout)));
                }
            }
        }
        for (id, reason) in stalled {
            self.remove(id, reason);
        }
        for id in silent {
            self.pause(id, Some(CloseReason::IdleTimeout));
        }
        self.state.sessions.prune(now);
    }

    pub(super) fn ping_everyone(&mut self, now: Instant) {
        let time = SystemTime::now();
        for player in self.state.players.values_mut() {
            if player.is_paused() {
                continue;
            }
            player.ping_seq = player.ping_seq.wrapping_add(1);
            // In microseconds, never 0 once measured: 0 means "not yet".
            let rtt_us = player.ping.map_or(0, |rtt| {
                u32::try_from(rtt.as_micros()).unwrap_or(u32::MAX).max(1)
            });
            let ping = match player.wire {
                WireFormat::Native => Outgoing::Binary(encode_ping(player.ping_seq, rtt_us)),
                WireFormat::Json => {
                    Outgoing::Text(json::encode_ping(player.ping_seq, rtt_us, time).into())
                }
            };
            if player.send_item(ping).is_ok() {
                player.ping_pending = Some((player.ping_seq, now));
            }
        }
    }
}
