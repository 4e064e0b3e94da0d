//! Sessions that outlive connections: what a resumable player keeps so that its
//! client can come back after a dropped connection as the same player, missing
//! nothing and receiving nothing twice, and the server's table of resume tokens.
//!
//! Both sides count the event frames they receive on a session, so no frame
//! carries a sequence number. The server keeps the last event frames it sent to
//! the player; a resuming client says how many it received, and the server replays
//! the rest. The server's own count of the client's frames goes back in the
//! resumed welcome, for the client to re-send what never arrived.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::wire::{CloseReason, ResumeOffer, ResumeToken};
use crate::PlayerId;

/// One resumable player's session.
#[derive(Debug)]
pub(crate) struct Session {
    /// The token its client presents to resume it; replaced on each resume.
    pub(crate) token: ResumeToken,
    /// Event frames sent to the player on this session (queued on a connection,
    /// or kept while it was paused).
    sent: u64,
    /// The last event frames sent, at most `capacity`; the newest is number `sent`.
    kept: VecDeque<Bytes>,
    capacity: usize,
    /// Frames (events and others, but not pongs) read from the client on this
    /// session, as of the latest news from its current connection.
    pub(crate) received: u64,
    /// `received` when the current connection began: that connection counts from
    /// here.
    base: u64,
    /// While paused: since when, and how many events had been sent by then.
    paused: Option<(Instant, u64)>,
}

/// Why a resume cannot be served: the events one side missed are no longer held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Gap;

impl Session {
    pub(crate) fn new(token: ResumeToken, capacity: usize) -> Self {
        Self {
            token,
            sent: 0,
            kept: VecDeque::new(),
            capacity: capacity.max(1),
            received: 0,
            base: 0,
            paused: None,
        }
    }

    /// Keeps an event frame sent to the player. Returns `false` once the events
    /// sent while paused are more than the session keeps: no resume could be
    /// served without a gap, and the session should end.
    pub(crate) fn record(&mut self, frame: &Bytes) -> bool {
        self.sent += 1;
        if self.kept.len() == self.capacity {
            self.kept.pop_front();
        }
        self.kept.push_back(frame.clone());
        match self.paused {
            Some((_, sent_then)) => self.sent - sent_then <= self.capacity as u64,
            None => true,
        }
    }

    /// The current connection has read `read` frames so far.
    pub(crate) fn read_on_link(&mut self, read: u64) {
        self.received = self.base + read;
    }

    pub(crate) fn pause(&mut self, now: Instant) {
        self.paused = Some((now, self.sent));
    }

    /// Whether the grace period of a paused session is over.
    pub(crate) fn expired(&self, now: Instant, grace: Duration) -> bool {
        self.paused
            .is_some_and(|(since, _)| now.saturating_duration_since(since) >= grace)
    }

    /// Resumes on a new connection: the frames to replay (those the client has not
    /// received), or a [`Gap`] when the client missed frames no longer kept, or no
    /// longer keeps frames of its own the server missed.
    pub(crate) fn resume(&mut self, offer: &ResumeOffer) -> Result<Vec<Bytes>, Gap> {
        let oldest_kept = self.sent - self.kept.len() as u64;
        if offer.received > self.sent
            || offer.received < oldest_kept
            || offer.forgotten > self.received
        {
            return Err(Gap);
        }
        let skip = (offer.received - oldest_kept) as usize;
        self.base = self.received;
        self.paused = None;
        Ok(self.kept.iter().skip(skip).cloned().collect())
    }
}

/// What a resume token names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Claim {
    /// A session the server holds: its token is used up.
    Live(PlayerId),
    /// A session that ended lately, and why.
    Ended(CloseReason),
    /// Nothing known: never issued, used already, or ended long ago.
    Unknown,
}

/// The server's resume tokens: those of live sessions, and for a grace period
/// those of sessions that ended, so that a client coming back is told why.
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    live: HashMap<ResumeToken, PlayerId>,
    ended: HashMap<ResumeToken, CloseReason>,
    /// The ended tokens in the order they ended, with when they are forgotten.
    ended_order: VecDeque<(Instant, ResumeToken)>,
}

impl Sessions {
    /// A new token for `player`'s session.
    pub(crate) fn issue(&mut self, player: PlayerId) -> ResumeToken {
        loop {
            let token = ResumeToken::random();
            if !self.live.contains_key(&token) && !self.ended.contains_key(&token) {
                self.live.insert(token, player);
                return token;
            }
        }
    }

    /// Looks a presented token up. A live one is used up by being presented.
    pub(crate) fn claim(&mut self, token: ResumeToken) -> Claim {
        if let Some(player) = self.live.remove(&token) {
            return Claim::Live(player);
        }
        match self.ended.get(&token) {
            Some(reason) => Claim::Ended(*reason),
            None => Claim::Unknown,
        }
    }

    /// The session of `token` ended for `reason`: a resume with it is refused with
    /// that reason until `until`. At most `limit` ended tokens are remembered (the
    /// oldest are forgotten first, and then refused as unknown).
    pub(crate) fn end(
        &mut self,
        token: ResumeToken,
        reason: CloseReason,
        until: Instant,
        limit: usize,
    ) {
        self.live.remove(&token);
        if limit == 0 {
            return;
        }
        while self.ended_order.len() >= limit {
            if let Some((_, oldest)) = self.ended_order.pop_front() {
                self.ended.remove(&oldest);
            }
        }
        self.ended.insert(token, reason);
        self.ended_order.push_back((until, token));
    }

    /// Forgets the ended sessions whose time is up.
    pub(crate) fn prune(&mut self, now: Instant) {
        while let Some((until, token)) = self.ended_order.front().copied() {
            if until > now {
                break;
            }
            self.ended_order.pop_front();
            self.ended.remove(&token);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n: u8) -> Bytes {
        Bytes::from(vec![n])
    }

    fn offer(received: u64, forgotten: u64) -> ResumeOffer {
        ResumeOffer {
            token: ResumeToken::random(),
            received,
            forgotten,
        }
    }

    #[test]
    fn a_resume_replays_what_the_client_did_not_receive() {
        let mut session = Session::new(ResumeToken::random(), 4);
        for n in 1..=6 {
            assert!(session.record(&frame(n)));
        }
        // Frames 3 to 6 are kept.
        assert_eq!(
            session.resume(&offer(2, 0)).unwrap(),
            [3, 4, 5, 6].map(frame)
        );
        assert_eq!(session.resume(&offer(5, 0)).unwrap(), [frame(6)]);
        assert!(session.resume(&offer(6, 0)).unwrap().is_empty());
        assert_eq!(session.resume(&offer(1, 0)), Err(Gap), "frame 2 is gone");
        assert_eq!(session.resume(&offer(7, 0)), Err(Gap), "never sent");
    }

    #[test]
    fn the_clients_frames_count_from_where_its_connection_began() {
        let mut session = Session::new(ResumeToken::random(), 4);
        session.read_on_link(5);
        assert_eq!(session.received, 5);
        assert_eq!(session.resume(&offer(0, 6)), Err(Gap), "frame 6 is missing");
        session.resume(&offer(0, 5)).unwrap();
        session.read_on_link(2);
        assert_eq!(session.received, 7);
    }

    #[test]
    fn a_paused_session_keeps_only_what_it_can_replay() {
        let mut session = Session::new(ResumeToken::random(), 3);
        assert!(session.record(&frame(1)));
        session.pause(Instant::now());
        assert!(session.record(&frame(2)));
        assert!(session.record(&frame(3)));
        assert!(session.record(&frame(4)));
        assert!(
            !session.record(&frame(5)),
            "four sent while paused, three kept"
        );
    }

    #[test]
    fn tokens_are_used_once_and_ended_ones_remembered_for_a_while() {
        let mut sessions = Sessions::default();
        let ada = PlayerId::from_raw(1);
        let token = sessions.issue(ada);
        assert_eq!(sessions.claim(token), Claim::Live(ada));
        assert_eq!(sessions.claim(token), Claim::Unknown, "used up");

        let now = Instant::now();
        let kicked = sessions.issue(ada);
        sessions.end(kicked, CloseReason::Kicked, now + Duration::from_secs(1), 2);
        assert_eq!(sessions.claim(kicked), Claim::Ended(CloseReason::Kicked));
        sessions.prune(now);
        assert_eq!(sessions.claim(kicked), Claim::Ended(CloseReason::Kicked));
        sessions.prune(now + Duration::from_secs(1));
        assert_eq!(sessions.claim(kicked), Claim::Unknown);

        let ended: Vec<_> = (0..3).map(|_| sessions.issue(ada)).collect();
        for token in &ended {
            sessions.end(*token, CloseReason::IdleTimeout, now, 2);
        }
        assert_eq!(sessions.claim(ended[0]), Claim::Unknown, "past the limit");
        assert_eq!(
            sessions.claim(ended[2]),
            Claim::Ended(CloseReason::IdleTimeout)
        );
    }
}
