//! The client's half of a resumable session: the token, how many event frames it
//! received (for the server to replay the rest), and the last frames it sent (to
//! re-send those the server never read).

use std::collections::VecDeque;

use bytes::Bytes;

use crate::client::error::Disconnect;
use crate::wire::{frame_kind, ResumeOffer, ResumeToken, KIND_EVENT};

/// A session the server holds for this client while its connection is down.
#[derive(Debug)]
pub(crate) struct Session {
    token: ResumeToken,
    /// Event frames received from the server on this session.
    received: u64,
    /// Frames sent to the server on this session (its events: pongs are not
    /// counted, by either side).
    sent: u64,
    /// The last frames sent, at most `capacity`; the newest is number `sent`.
    kept: VecDeque<Bytes>,
    capacity: usize,
    /// Why the connection ended, while the session waits to be resumed.
    pub(crate) paused: Option<Disconnect>,
}

/// The server asks for frames the client no longer keeps, or never sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Gap {
    /// What the server has received.
    pub(crate) server_received: u64,
    /// The frames this client sent.
    pub(crate) sent: u64,
    /// The oldest frame it still keeps, less one.
    pub(crate) forgotten: u64,
}

impl Session {
    pub(crate) fn new(token: ResumeToken, capacity: usize) -> Self {
        Self {
            token,
            received: 0,
            sent: 0,
            kept: VecDeque::new(),
            capacity,
            paused: None,
        }
    }

    fn forgotten(&self) -> u64 {
        self.sent - self.kept.len() as u64
    }

    /// What to present to resume this session.
    pub(crate) fn offer(&self) -> ResumeOffer {
        ResumeOffer {
            token: self.token,
            received: self.received,
            forgotten: self.forgotten(),
        }
    }

    /// Counts a message from the server, if it is an event frame (decodable or
    /// not: the server counted it when it sent it).
    pub(crate) fn received(&mut self, message: &[u8]) {
        if frame_kind(message) == Some(KIND_EVENT) {
            self.received += 1;
        }
    }

    /// Keeps a frame about to be written, for re-sending after a resume. Kept
    /// before the write, so that a frame whose write failed half-way counts as
    /// sent: the server's count settles whether it arrived.
    pub(crate) fn sending(&mut self, frame: &Bytes) {
        self.sent += 1;
        if self.capacity == 0 {
            return;
        }
        if self.kept.len() == self.capacity {
            self.kept.pop_front();
        }
        self.kept.push_back(frame.clone());
    }

    /// The server resumed the session with a new token, having received
    /// `server_received` of this client's frames: the frames to re-send.
    pub(crate) fn resume(
        &mut self,
        token: ResumeToken,
        server_received: u64,
    ) -> Result<Vec<Bytes>, Gap> {
        if server_received > self.sent || server_received < self.forgotten() {
            return Err(Gap {
                server_received,
                sent: self.sent,
                forgotten: self.forgotten(),
            });
        }
        self.token = token;
        self.paused = None;
        let skip = (server_received - self.forgotten()) as usize;
        Ok(self.kept.iter().skip(skip).cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::encode_pong;

    #[test]
    fn counts_event_frames_only_and_re_sends_what_the_server_missed() {
        let token: ResumeToken = "0".repeat(32).parse().unwrap();
        let mut session = Session::new(token, 2);
        session.received(&[0x92, 0x01, 0xa1, b'x']); // an event frame
        session.received(&encode_pong(3)); // not an event
        session.received(&[0xc1]); // not a frame at all
        for n in 1..=3u8 {
            session.sending(&Bytes::from(vec![n]));
        }
        assert_eq!(
            session.offer(),
            ResumeOffer {
                token,
                received: 1,
                forgotten: 1
            }
        );
        assert_eq!(session.resume(token, 1).unwrap(), [vec![2u8], vec![3]]);
        assert_eq!(session.resume(token, 3).unwrap(), Vec::<Bytes>::new());
        assert!(session.resume(token, 0).is_err(), "frame 1 is forgotten");
        assert!(session.resume(token, 4).is_err(), "frame 4 was never sent");
    }
}
