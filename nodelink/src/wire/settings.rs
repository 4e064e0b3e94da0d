//! What a server announces in its welcome: the limits and timings a client must
//! know to play by its rules, as a map with string keys.
//!
//! The map is the welcome's extension point. A receiver reads the keys it knows and
//! skips the others, whatever their values, so a server can announce something new
//! (a match's information, say) without a new wire version; a key never changes
//! meaning. PROTOCOL.md's "Settings" lists the keys.

use std::time::Duration;

use crate::error::DecodeError;
use crate::server::{RateLimit, ServerConfig};
use crate::wire::msgpack::{Decoder, Encoder};
use crate::wire::WireFormat;

/// The keys, in the order the encoder writes them.
const PING_INTERVAL: &str = "ping_interval_ms";
const IDLE_TIMEOUT: &str = "idle_timeout_ms";
const MAX_FRAME_LEN: &str = "max_frame_len";
const RATE_PER_SECOND: &str = "rate_limit_per_second";
const RATE_BURST: &str = "rate_limit_burst";
const RATE_DISCONNECT_AFTER: &str = "rate_limit_disconnect_after";
const MAX_INVALID_FRAMES: &str = "max_invalid_frames";
const SLOW_CONSUMER_TIMEOUT: &str = "slow_consumer_timeout_ms";
const RESUME_GRACE: &str = "resume_grace_ms";
const RESUME_BUFFER_LEN: &str = "resume_buffer_len";
const MATCH_CODE: &str = "match_code";
const MATCH_KIND: &str = "match_kind";

/// The keys whose values are unsigned integers (all but the rate).
const UINT_KEYS: [&str; 9] = [
    PING_INTERVAL,
    IDLE_TIMEOUT,
    MAX_FRAME_LEN,
    RATE_BURST,
    RATE_DISCONNECT_AFTER,
    MAX_INVALID_FRAMES,
    SLOW_CONSUMER_TIMEOUT,
    RESUME_GRACE,
    RESUME_BUFFER_LEN,
];

/// The settings a server announces to each client in its welcome (PROTOCOL.md,
/// "Settings"): what a client needs to know to stay within the server's limits
/// and to know when it will be dropped.
///
/// They are the server's [`ServerConfig`] as it applies to the connection: on the
/// JSON wire, and on a server that does not resume sessions, `resume_grace` is
/// zero. Frozen at the welcome; a resumed session's welcome announces them again.
///
/// ```
/// use std::time::Duration;
/// use nodelink::wire::Settings;
///
/// // What a server with the default configuration announces to a native client.
/// let settings = Settings::default();
/// assert_eq!(settings.ping_interval, Duration::from_secs(5));
/// assert_eq!(settings.max_frame_len, 64 * 1024);
/// assert_eq!(settings.rate_limit.map(|limit| limit.burst), Some(200));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Settings {
    /// How often the server pings each client (`ping_interval_ms`); zero: it never
    /// does.
    pub ping_interval: Duration,
    /// How long the server waits without hearing anything from a client before it
    /// closes the connection with 4006 (`idle_timeout_ms`); zero: for ever.
    pub idle_timeout: Duration,
    /// The largest message, in bytes, the server takes from a client
    /// (`max_frame_len`); a larger one closes the connection with 4003.
    pub max_frame_len: u64,
    /// The rate limit on the client's messages (`rate_limit_per_second`,
    /// `rate_limit_burst`, `rate_limit_disconnect_after`); `None`: no limit.
    pub rate_limit: Option<RateLimit>,
    /// How many invalid messages the server tolerates (`max_invalid_frames`): the
    /// next one closes the connection with 4003.
    pub max_invalid_frames: u32,
    /// How long the server lets a client's send queue stay full before it closes
    /// the connection with 4004 (`slow_consumer_timeout_ms`).
    pub slow_consumer_timeout: Duration,
    /// How long the server holds this session after its connection is lost
    /// (`resume_grace_ms`); zero: the connection has no session.
    pub resume_grace: Duration,
    /// How many event frames the server keeps for a paused session
    /// (`resume_buffer_len`).
    pub resume_buffer_len: u64,
    /// The code of the match the client joined (`match_code`): what other players
    /// join it by, and what the client reconnects to. `None` from a server that
    /// does not say.
    pub match_code: Option<String>,
    /// The kind of that match (`match_kind`).
    pub match_kind: Option<String>,
}

impl Default for Settings {
    /// What a server with [`ServerConfig::default`] announces to a native client.
    fn default() -> Self {
        Self::announced(&ServerConfig::default(), WireFormat::Native)
    }
}

fn millis(duration: Duration) -> u64 {
    // Rounded up: a setting under a millisecond must not read as "none" (zero).
    let millis = duration.as_nanos().div_ceil(1_000_000);
    u64::try_from(millis).unwrap_or(u64::MAX)
}

impl Settings {
    /// What a server with `config` announces to a client of `wire`.
    pub(crate) fn announced(config: &ServerConfig, wire: WireFormat) -> Self {
        let sessions = wire == WireFormat::Native && !config.resume_grace.is_zero();
        let limit = config.rate_limit;
        Self {
            ping_interval: config.ping_interval,
            idle_timeout: config.idle_timeout,
            max_frame_len: config.max_frame_len as u64,
            rate_limit: (limit.per_second != f64::INFINITY).then_some(limit),
            max_invalid_frames: config.max_invalid_frames,
            slow_consumer_timeout: config.slow_consumer_timeout,
            resume_grace: if sessions {
                config.resume_grace
            } else {
                Duration::ZERO
            },
            resume_buffer_len: if sessions {
                config.resume_buffer_len as u64
            } else {
                0
            },
            match_code: None,
            match_kind: None,
        }
    }

    /// These settings, announcing the match the client joined.
    pub(crate) fn in_match(mut self, code: &str, kind: &str) -> Self {
        self.match_code = Some(code.to_owned());
        self.match_kind = Some(kind.to_owned());
        self
    }

    /// Each key and its value, in the order the encoders write them.
    fn entries(&self) -> Vec<(&'static str, Number)> {
        let mut entries = vec![
            (PING_INTERVAL, Number::Uint(millis(self.ping_interval))),
            (IDLE_TIMEOUT, Number::Uint(millis(self.idle_timeout))),
            (MAX_FRAME_LEN, Number::Uint(self.max_frame_len)),
        ];
        if let Some(limit) = self.rate_limit {
            entries.extend([
                (RATE_PER_SECOND, Number::Float(limit.per_second)),
                (RATE_BURST, Number::Uint(limit.burst.into())),
                (
                    RATE_DISCONNECT_AFTER,
                    Number::Uint(limit.disconnect_after.into()),
                ),
            ]);
        }
        entries.extend([
            (
                MAX_INVALID_FRAMES,
                Number::Uint(self.max_invalid_frames.into()),
            ),
            (
                SLOW_CONSUMER_TIMEOUT,
                Number::Uint(millis(self.slow_consumer_timeout)),
            ),
            (RESUME_GRACE, Number::Uint(millis(self.resume_grace))),
            (RESUME_BUFFER_LEN, Number::Uint(self.resume_buffer_len)),
        ]);
        if let Some(code) = &self.match_code {
            entries.push((MATCH_CODE, Number::Text(code.clone())));
        }
        if let Some(kind) = &self.match_kind {
            entries.push((MATCH_KIND, Number::Text(kind.clone())));
        }
        entries
    }

    /// Writes the settings as a MessagePack map: integers in their most compact
    /// form, the rate as a float 64.
    pub(crate) fn encode(&self, out: &mut Encoder) {
        let entries = self.entries();
        out.map_len(entries.len());
        for (key, value) in entries {
            out.str(key);
            match value {
                Number::Uint(value) => out.uint(value),
                Number::Float(value) => out.f64(value),
                Number::Text(value) => out.str(&value),
            }
        }
    }

    /// The settings as the JSON wire's welcome carries them: an object of the same
    /// keys and values, in the same order.
    pub(crate) fn to_json(&self) -> String {
        let entries: Vec<String> = self
            .entries()
            .into_iter()
            .map(|(key, value)| {
                let value = match value {
                    Number::Uint(value) => serde_json::Value::from(value),
                    Number::Float(value) => serde_json::Value::from(value),
                    Number::Text(value) => serde_json::Value::from(value),
                };
                format!(r#""{key}":{value}"#)
            })
            .collect();
        format!("{{{}}}", entries.join(","))
    }

    /// Reads the map: every key this version defines must be there (the three of
    /// the rate limit together, or none of them); unknown keys are skipped.
    pub(crate) fn decode(input: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let malformed = |reason: String| DecodeError::Malformed(format!("settings: {reason}"));
        let count = input.map_len("settings")?;
        input.check_claim("settings", count)?;
        // Every key read, unknown ones included (a key appears once); the values of
        // the integer keys this version defines.
        let mut seen = Vec::with_capacity(count.min(16));
        let mut uints: Vec<(&str, u64)> = Vec::with_capacity(UINT_KEYS.len());
        let mut per_second = None;
        let (mut match_code, mut match_kind) = (None, None);
        for _ in 0..count {
            let key = input.str("settings key")?;
            if seen.contains(&key) {
                return Err(malformed(format!("`{key}` appears twice")));
            }
            seen.push(key);
            if key == RATE_PER_SECOND {
                per_second = Some(input.number(key)?);
            } else if key == MATCH_CODE {
                match_code = Some(input.str(key)?.to_owned());
            } else if key == MATCH_KIND {
                match_kind = Some(input.str(key)?.to_owned());
            } else if UINT_KEYS.contains(&key) {
                uints.push((key, input.uint(key)?));
            } else {
                input.skip_value(key)?;
            }
        }
        let get = |key: &str| {
            uints
                .iter()
                .find(|(known, _)| *known == key)
                .map(|(_, v)| *v)
        };
        let required = |key: &str| get(key).ok_or_else(|| malformed(format!("no `{key}`")));
        let narrow = |key: &str| -> Result<u32, DecodeError> {
            let value = required(key)?;
            u32::try_from(value).map_err(|_| malformed(format!("`{key}` {value} is out of range")))
        };
        let rate_limit = match (per_second, get(RATE_BURST), get(RATE_DISCONNECT_AFTER)) {
            (None, None, None) => None,
            (Some(per_second), Some(_), Some(_)) => Some(RateLimit {
                per_second,
                burst: narrow(RATE_BURST)?,
                disconnect_after: narrow(RATE_DISCONNECT_AFTER)?,
            }),
            _ => {
                return Err(malformed(format!(
                    "`{RATE_PER_SECOND}`, `{RATE_BURST}` and `{RATE_DISCONNECT_AFTER}` \
                     come together or not at all"
                )))
            }
        };
        Ok(Self {
            ping_interval: Duration::from_millis(required(PING_INTERVAL)?),
            idle_timeout: Duration::from_millis(required(IDLE_TIMEOUT)?),
            max_frame_len: required(MAX_FRAME_LEN)?,
            rate_limit,
            max_invalid_frames: narrow(MAX_INVALID_FRAMES)?,
            slow_consumer_timeout: Duration::from_millis(required(SLOW_CONSUMER_TIMEOUT)?),
            resume_grace: Duration::from_millis(required(RESUME_GRACE)?),
            resume_buffer_len: required(RESUME_BUFFER_LEN)?,
            match_code,
            match_kind,
        })
    }
}

/// A setting's value: an integer, the rate (a float), or a match's code or kind.
#[derive(Clone)]
enum Number {
    Uint(u64),
    Float(f64),
    Text(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(settings: &Settings) -> Settings {
        let mut out = Encoder::default();
        settings.encode(&mut out);
        let bytes = out.into_vec();
        let mut input = Decoder::new(&bytes);
        let decoded = Settings::decode(&mut input).expect("decodes");
        input.finish().expect("nothing after the map");
        decoded
    }

    #[test]
    fn settings_round_trip_with_and_without_a_rate_limit() {
        let settings = Settings::default();
        assert_eq!(round_trip(&settings), settings);
        let config = ServerConfig::default().rate_limit(RateLimit::unlimited());
        let unlimited = Settings::announced(&config, WireFormat::Native);
        assert_eq!(unlimited.rate_limit, None);
        assert_eq!(round_trip(&unlimited), unlimited);
    }

    #[test]
    fn the_json_wire_and_a_server_without_sessions_announce_no_grace() {
        let json = Settings::announced(&ServerConfig::default(), WireFormat::Json);
        assert_eq!(
            (json.resume_grace, json.resume_buffer_len),
            (Duration::ZERO, 0)
        );
        let config = ServerConfig::default().resume_grace(Duration::ZERO);
        let native = Settings::announced(&config, WireFormat::Native);
        assert_eq!(native.resume_grace, Duration::ZERO);
    }

    #[test]
    fn a_duration_under_a_millisecond_is_not_announced_as_none() {
        assert_eq!(millis(Duration::from_micros(1)), 1);
        assert_eq!(millis(Duration::ZERO), 0);
        assert_eq!(millis(Duration::from_micros(1500)), 2);
    }

    /// A map of `entries` (each key, then its value's bytes).
    fn map(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut bytes = Encoder::default();
        bytes.map_len(entries.len());
        let mut bytes = bytes.into_vec();
        for (key, value) in entries {
            let mut key_bytes = Encoder::default();
            key_bytes.str(key);
            bytes.extend(key_bytes.into_vec());
            bytes.extend_from_slice(value);
        }
        bytes
    }

    #[test]
    fn unknown_keys_are_skipped_whatever_their_values() {
        let mut out = Encoder::default();
        Settings::default().encode(&mut out);
        let known = out.into_vec();
        // The same map with two more entries: a nested map and an array.
        let mut bytes = vec![0x80 | ((known[0] & 0x0f) + 2)];
        bytes.extend_from_slice(&known[1..]);
        bytes.extend(map(&[("match", &[0x81, 0xa2, b'i', b'd', 0x07])])[1..].iter());
        bytes.extend(map(&[("z", &[0x92, 0xc0, 0xc3])])[1..].iter());
        let mut input = Decoder::new(&bytes);
        assert_eq!(Settings::decode(&mut input), Ok(Settings::default()));
        input.finish().expect("the whole map was read");
    }

    #[test]
    fn a_missing_key_or_half_a_rate_limit_is_malformed() {
        let bytes = map(&[(PING_INTERVAL, &[0x05])]);
        let error = Settings::decode(&mut Decoder::new(&bytes)).unwrap_err();
        assert!(error.to_string().contains("idle_timeout_ms"), "{error}");
        let bytes = map(&[(RATE_BURST, &[0x05])]);
        let error = Settings::decode(&mut Decoder::new(&bytes)).unwrap_err();
        assert!(error.to_string().contains("together"), "{error}");
        let bytes = map(&[(PING_INTERVAL, &[0x05]), (PING_INTERVAL, &[0x05])]);
        let error = Settings::decode(&mut Decoder::new(&bytes)).unwrap_err();
        assert!(error.to_string().contains("twice"), "{error}");
    }
}
