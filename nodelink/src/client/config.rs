//! Client settings: limits, timeouts and reconnection.

use std::time::Duration;

use crate::random::random_unit;

/// How a [`Client`](super::Client) connects and bounds its resources.
///
/// ```
/// use nodelink::client::{ClientConfig, Reconnect};
///
/// let config = ClientConfig::default().reconnect(Reconnect::default().max_attempts(Some(5)));
/// assert_eq!(config.send_queue_len, 1024);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    /// Events queued for the server, before, during and between connections.
    /// Default 1024. When full, [`ClientSender::send`](super::ClientSender::send)
    /// fails with [`ClientError::QueueFull`](super::ClientError::QueueFull) and the
    /// event is not queued.
    pub send_queue_len: usize,
    /// The largest frame accepted from the server. Default 16 MiB: a snapshot of a
    /// large world is legitimately big, and the server is trusted more than clients.
    pub max_frame_len: usize,
    /// How long connecting, the handshake and the welcome may take. Default 10 s.
    pub connect_timeout: Duration,
    /// Reconnect after the connection is lost, or fails to open. Default `None`: a
    /// client that loses its connection stops.
    pub reconnect: Option<Reconnect>,
    /// The roots a `wss://` server's certificate must chain to (feature `tls`).
    /// Default: the platform's. A server with a self-signed certificate is
    /// trusted by giving its certificate here. A certificate that does not verify
    /// fails the connection with
    /// [`ClientError::Tls`](super::ClientError::Tls). Not used by `ws://` URLs.
    #[cfg(feature = "tls")]
    pub root_certificates: crate::tls::RootCertificates,
    /// Events kept after they were written, so that a resumed session re-sends the
    /// ones a dropped connection did not deliver. Default 128: below the server's
    /// default rate-limit burst (200), so that what a resumed client re-sends at
    /// once is not dropped by that limit. When more were sent unseen than this, a
    /// resume is refused (the server would miss events) and the client joins
    /// afresh.
    pub resume_buffer_len: usize,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            send_queue_len: 1024,
            max_frame_len: 16 * 1024 * 1024,
            connect_timeout: Duration::from_secs(10),
            reconnect: None,
            #[cfg(feature = "tls")]
            root_certificates: crate::tls::RootCertificates::platform(),
            resume_buffer_len: 128,
        }
    }
}

impl ClientConfig {
    /// Sets [`send_queue_len`](Self::send_queue_len).
    #[must_use]
    pub fn send_queue_len(mut self, len: usize) -> Self {
        self.send_queue_len = len;
        self
    }

    /// Sets [`max_frame_len`](Self::max_frame_len).
    #[must_use]
    pub fn max_frame_len(mut self, len: usize) -> Self {
        self.max_frame_len = len;
        self
    }

    /// Sets [`connect_timeout`](Self::connect_timeout).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Turns reconnection on with this policy.
    #[must_use]
    pub fn reconnect(mut self, policy: Reconnect) -> Self {
        self.reconnect = Some(policy);
        self
    }

    /// Sets [`root_certificates`](Self::root_certificates): trust these roots for
    /// `wss://` rather than the platform's.
    ///
    /// ```no_run
    /// use nodelink::client::{Client, ClientConfig};
    /// use nodelink::tls::RootCertificates;
    /// # use nodelink::{Protocol, SyncState};
    /// # #[derive(SyncState, Clone, Debug, Default, PartialEq)]
    /// # pub struct Avatar { pub x: f32 }
    /// # #[nodelink::events] pub enum Nothing {}
    /// # #[nodelink::protocol(state = Avatar, to_server = Nothing, to_client = Nothing)]
    /// # pub struct Game;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // The server's self-signed certificate, copied to the client.
    /// let roots = RootCertificates::from_pem_file("game-server.pem")?;
    /// let config = ClientConfig::default().root_certificates(roots);
    /// let client = Client::<Game>::with_config("wss://game.example:5000/", config);
    /// client.connect()?;
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "tls")]
    #[must_use]
    pub fn root_certificates(mut self, roots: crate::tls::RootCertificates) -> Self {
        self.root_certificates = roots;
        self
    }

    /// Sets [`resume_buffer_len`](Self::resume_buffer_len).
    #[must_use]
    pub fn resume_buffer_len(mut self, len: usize) -> Self {
        self.resume_buffer_len = len;
        self
    }
}

/// When and how often a client tries to reconnect.
///
/// The delay before attempt `n` is `initial_delay × 2^(n-1)`, capped at
/// `max_delay`, of which a random part (`jitter`, 0 to 1) is drawn anew each time so
/// that many clients cut off together do not all come back at the same instant.
/// The count starts again after each successful connection.
///
/// A client does not reconnect after it disconnected itself, after it was kicked,
/// after the server refused it for a reason that trying again cannot change (its
/// protocol, its origin, its credentials: every refusal but 429 and 503), nor
/// after a relay ended its game (4100 "host gone", 4103 "relay shutting down"):
/// the game code is gone with it.
///
/// When a connection is lost (rather than closed by the server), or a relay lost
/// its connection to the host (4101 "host connection lost"), the client first
/// tries to resume its session: the server holds its player for a grace period
/// (`ServerConfig::resume_grace`), and a resumed client is the same player, with
/// the events it missed and its unsent ones delivered once
/// ([`Client::on_resume`](super::Client::on_resume)). If the session is over, the
/// client is told why ([`Client::on_disconnect`](super::Client::on_disconnect))
/// and joins afresh at once.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Reconnect {
    /// The delay before the first attempt. Default 500 ms.
    pub initial_delay: Duration,
    /// The longest delay between attempts. Default 10 s.
    pub max_delay: Duration,
    /// The random share of each delay, from 0 (none) to 1 (all). Default 0.5.
    pub jitter: f64,
    /// Give up after this many attempts in a row; `None` (the default) tries forever.
    pub max_attempts: Option<u32>,
    /// Resume the session after a lost connection (`true`, the default), or always
    /// join as a new player (`false`).
    pub resume: bool,
}

impl Default for Reconnect {
    fn default() -> Self {
        Self {
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(10),
            jitter: 0.5,
            max_attempts: None,
            resume: true,
        }
    }
}

impl Reconnect {
    /// Sets [`initial_delay`](Self::initial_delay).
    #[must_use]
    pub fn initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = delay;
        self
    }

    /// Sets [`max_delay`](Self::max_delay).
    #[must_use]
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Sets [`jitter`](Self::jitter), clamped to 0..=1.
    #[must_use]
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter.clamp(0.0, 1.0);
        self
    }

    /// Sets [`max_attempts`](Self::max_attempts).
    #[must_use]
    pub fn max_attempts(mut self, attempts: Option<u32>) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// Sets [`resume`](Self::resume).
    ///
    /// ```
    /// use nodelink::client::Reconnect;
    ///
    /// // Come back as a new player every time.
    /// let policy = Reconnect::default().resume(false);
    /// assert!(!policy.resume);
    /// ```
    #[must_use]
    pub fn resume(mut self, resume: bool) -> Self {
        self.resume = resume;
        self
    }

    /// Whether attempt number `attempt + 1` may be made.
    pub(crate) fn allows(&self, attempt: u32) -> bool {
        self.max_attempts.is_none_or(|max| attempt < max)
    }

    /// The delay before attempt `attempt` (1 for the first), with `draw` in
    /// `0.0..1.0` choosing the random part.
    pub(crate) fn delay_with(&self, attempt: u32, draw: f64) -> Duration {
        let doublings = attempt.saturating_sub(1).min(31);
        let base = self
            .initial_delay
            .saturating_mul(1 << doublings)
            .min(self.max_delay);
        let jitter = self.jitter.clamp(0.0, 1.0);
        base.mul_f64(1.0 - jitter + jitter * draw.clamp(0.0, 1.0))
    }

    pub(crate) fn delay(&self, attempt: u32) -> Duration {
        self.delay_with(attempt, random_unit())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_exponentially_up_to_the_cap_with_bounded_jitter() {
        let policy = Reconnect::default()
            .initial_delay(Duration::from_millis(100))
            .max_delay(Duration::from_secs(1))
            .jitter(0.5);
        let top = |attempt| policy.delay_with(attempt, 1.0);
        assert_eq!(top(1), Duration::from_millis(100));
        assert_eq!(top(2), Duration::from_millis(200));
        assert_eq!(top(4), Duration::from_millis(800));
        assert_eq!(top(5), Duration::from_secs(1));
        assert_eq!(top(1000), Duration::from_secs(1));
        assert_eq!(policy.delay_with(3, 0.0), Duration::from_millis(200));
        for attempt in 1..10 {
            let delay = policy.delay(attempt);
            assert!(delay >= policy.delay_with(attempt, 0.0) && delay <= top(attempt));
        }
    }
}
