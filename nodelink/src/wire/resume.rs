//! Resuming a session: the token a welcome carries and the subprotocol a client
//! offers to come back as the same player after its connection dropped.
//!
//! A session outlives its connections: when a native client's connection is lost,
//! the server holds its player for a grace period, and a client that reconnects
//! offering `nodelink.resume.<token>.<received>.<forgotten>` beside the usual
//! `nodelink.3.<fingerprint>` gets that player back. `received` is how many event
//! frames the client has received on the session, so the server replays the ones
//! after it; `forgotten` is how many of its own sent events the client no longer
//! keeps, so the server can refuse a resume whose gap neither side can fill.
//! PROTOCOL.md's "Resuming a session" gives the whole exchange.

use std::fmt;
use std::str::FromStr;

/// The prefix of the subprotocol that asks to resume a session.
pub const RESUME_PREFIX: &str = "nodelink.resume.";

/// Names a session: sent in the welcome, presented once to resume it.
///
/// 128 unguessable bits, replaced on every resume. Shown (and sent) as 32
/// lowercase hex digits; its `Debug` form hides them, so a token logged by
/// accident is not a usable one.
///
/// ```
/// use nodelink::wire::ResumeToken;
///
/// let token: ResumeToken = "000102030405060708090a0b0c0d0e0f".parse()?;
/// assert_eq!(token.to_string(), "000102030405060708090a0b0c0d0e0f");
/// assert_eq!(format!("{token:?}"), "ResumeToken(..)");
/// assert!("not a token".parse::<ResumeToken>().is_err());
/// # Ok::<(), nodelink::wire::ParseResumeTokenError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ResumeToken(u128);

impl ResumeToken {
    /// A fresh token from the OS's randomness.
    pub(crate) fn random() -> Self {
        Self(crate::random::random_u128())
    }
}

impl fmt::Display for ResumeToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl fmt::Debug for ResumeToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResumeToken(..)")
    }
}

/// A string that is not 32 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a resume token (expected 32 hex digits)")]
pub struct ParseResumeTokenError;

impl FromStr for ResumeToken {
    type Err = ParseResumeTokenError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 32 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ParseResumeTokenError);
        }
        u128::from_str_radix(s, 16)
            .map(Self)
            .map_err(|_| ParseResumeTokenError)
    }
}

/// What a client offers to resume its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResumeOffer {
    /// The token of the session's last welcome.
    pub token: ResumeToken,
    /// How many event frames the client has received from the server on this
    /// session: the server replays the ones after it.
    pub received: u64,
    /// How many of the events it sent on this session, from the first, the client
    /// no longer keeps for re-sending: the server must have received at least
    /// these.
    pub forgotten: u64,
}

impl ResumeOffer {
    /// The subprotocol that carries this offer, offered beside
    /// [`subprotocol`](super::handshake::subprotocol).
    ///
    /// ```
    /// use nodelink::wire::{ResumeOffer, ResumeToken};
    ///
    /// let token: ResumeToken = "000102030405060708090a0b0c0d0e0f".parse()?;
    /// let offer = ResumeOffer { token, received: 12, forgotten: 0 };
    /// let text = offer.subprotocol();
    /// assert_eq!(text, "nodelink.resume.000102030405060708090a0b0c0d0e0f.12.0");
    /// assert_eq!(ResumeOffer::parse(&text), Some(Ok(offer)));
    /// assert_eq!(ResumeOffer::parse("nodelink.3.00000000000000ab"), None);
    /// assert!(matches!(ResumeOffer::parse("nodelink.resume.zz.1.0"), Some(Err(_))));
    /// # Ok::<(), nodelink::wire::ParseResumeTokenError>(())
    /// ```
    #[must_use]
    pub fn subprotocol(&self) -> String {
        format!(
            "{RESUME_PREFIX}{}.{}.{}",
            self.token, self.received, self.forgotten
        )
    }

    /// Reads a subprotocol value: `None` when it is not a resume offer (it does
    /// not start with [`RESUME_PREFIX`]), `Some(Err(_))` when it is a malformed
    /// one.
    #[must_use]
    pub fn parse(protocol: &str) -> Option<Result<Self, ParseResumeOfferError>> {
        let rest = protocol.strip_prefix(RESUME_PREFIX)?;
        Some(Self::parse_parts(rest).ok_or(ParseResumeOfferError))
    }

    fn parse_parts(rest: &str) -> Option<Self> {
        let mut parts = rest.split('.');
        let token = parts.next()?.parse().ok()?;
        let count = |part: Option<&str>| -> Option<u64> {
            let digits = part?;
            // Decimal digits only: `u64::from_str` would also take a `+`.
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            digits.parse().ok()
        };
        let received = count(parts.next())?;
        let forgotten = count(parts.next())?;
        if parts.next().is_some() {
            return None;
        }
        Some(Self {
            token,
            received,
            forgotten,
        })
    }
}

/// A subprotocol value that starts like a resume offer but is not one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed resume offer: expected {RESUME_PREFIX}<32 hex digits>.<received>.<forgotten>")]
pub struct ParseResumeOfferError;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_distinct_and_round_trip() {
        let tokens: Vec<ResumeToken> = (0..1000).map(|_| ResumeToken::random()).collect();
        let distinct: std::collections::HashSet<_> = tokens.iter().copied().collect();
        assert_eq!(distinct.len(), tokens.len());
        for token in tokens {
            assert_eq!(token.to_string().parse::<ResumeToken>(), Ok(token));
        }
    }

    #[test]
    fn malformed_offers_are_errors_not_other_protocols() {
        let token = "0".repeat(32);
        for bad in [
            format!("{RESUME_PREFIX}{token}"),
            format!("{RESUME_PREFIX}{token}.1"),
            format!("{RESUME_PREFIX}{token}.1.2.3"),
            format!("{RESUME_PREFIX}{token}.+1.2"),
            format!("{RESUME_PREFIX}{token}.1."),
            format!("{RESUME_PREFIX}{token}.99999999999999999999.0"),
            format!("{RESUME_PREFIX}{}.1.0", "0".repeat(31)),
        ] {
            assert_eq!(
                ResumeOffer::parse(&bad),
                Some(Err(ParseResumeOfferError)),
                "{bad}"
            );
        }
        assert_eq!(ResumeOffer::parse("nodelink.2.0000000000000000"), None);
    }
}
