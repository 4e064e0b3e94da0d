//! A relay for nodelink games: a host behind a home router connects *out* to the
//! relay and gets a short game code; players join with the code, and the relay
//! carries their traffic. Run it on any machine with a public address:
//!
//! ```text
//! cargo run --release -p nodelink-relay -- --port 9000
//! ```
//!
//! It speaks two host protocols (PROTOCOL.md's "Relay" section has every message):
//!
//! - **Python nodelink 0.6.0's**, exactly: an unmodified `Server(relay_url=
//!   "ws://relay:9000")` hosts, and `Client(code="K7MQ4P", relay_url=…)` joins.
//!   The host's one link (`/host`) carries every player's messages, each wrapped
//!   with the player's connection id.
//! - **The native host link**, for nodelink's own servers: a control link (`/link`)
//!   on which the host sees each player's upgrade request and accepts it (with a
//!   data connection of its own per player, spliced with the player's: native
//!   frames pass as binary, untouched) or refuses it (the player gets the host's
//!   HTTP status and reason). So relayed players pass through the host's own
//!   admission: its limits, origin check, authentication hook and protocol check.
//!   A native host that loses its link keeps its code and players for a grace
//!   period and reclaims them with its token. A native host hosting many matches
//!   claims a code for each ("match codes", each joining its game like its own
//!   code, the host telling the player's match by the code in its request), and
//!   releases it when the match ends.
//!
//! In a program or a test, the relay runs in-process:
//!
//! ```
//! use futures::StreamExt;
//! use nodelink_relay::{Relay, RelayConfig};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let relay = Relay::new(RelayConfig::default().host("127.0.0.1").port(0))
//!     .bind()
//!     .await?;
//! let url = format!("ws://{}", relay.local_addr());
//! let handle = relay.handle();
//! let running = tokio::spawn(relay.run());
//!
//! // A host connects out, as Python nodelink's `Server(relay_url=url)` does…
//! let (mut host, _) = tokio_tungstenite::connect_async(format!("{url}/host")).await?;
//! let registered = host.next().await.expect("a message")?.into_text()?;
//! let registered: serde_json::Value = serde_json::from_str(&registered)?;
//! let code = registered["data"]["code"].as_str().expect("a code");
//! assert_eq!(code.len(), 6);
//! // …and players join at `{url}/join/{code}`.
//! assert_eq!(handle.games()[0].code, code);
//!
//! handle.shutdown();
//! running.await?;
//! # Ok(())
//! # }
//! ```
//!
//! # Game codes
//!
//! Six characters by default ([`RelayConfig::code_len`]), each drawn uniformly
//! from 30 (`23456789ABCDEFGHJKMNPQRSTVWXYZ`: no `0`/`O`, no `1`/`I`/`L`, no `U`),
//! case-insensitive, from the OS-keyed random source nodelink uses for its ids.
//! That is log2(30^6) ≈ **29.4 bits**: 729 million codes.
//!
//! Why six suffice: codes cannot be enumerated. Every join with an unknown code
//! costs its address a token of the failed-join bucket
//! ([`RelayConfig::failed_joins`]: 10 at once, then one every 5 s), and an address
//! whose bucket is empty is refused every join (HTTP 429) until it refills. An
//! address therefore tries at most about 17,300 codes a day. With a full relay of
//! 1,000 games ([`RelayConfig::max_games`], each match code a host claimed counting
//! as one), a guess finds a game with probability
//! 1,000 / 729 million ≈ 1.4 × 10⁻⁶: about one game found per 40 days per address,
//! and an IPv6 address counts as its whole /64. Finding a code only lets the
//! guesser ask to join; a host that needs more keeps its own authentication. A
//! relay with many more games, or facing attackers with many addresses, sets
//! `code_len` to 7 (34.3 bits) or 8 (39.3 bits): each character divides the
//! guesser's odds by 30.
//!
//! # Limits
//!
//! Every resource is bounded by a field of [`RelayConfig`], whose docs give each
//! default and what happens at the limit: games at once, the match codes one host
//! holds, players per game, joins
//! waiting for a native host, connections (in all and per address), message
//! sizes (from players and from hosts), each connection's send queue (in
//! messages and in bytes), the handshake and accept timeouts, the failed-join
//! rate, and a Python host's players' message rate. A peer that misbehaves (a
//! message over the size limit, a flood, messages that cannot be relayed, a queue
//! it does not read) is closed with a [`CloseReason`] and affects no one else.
//!
//! # Inside
//!
//! One task per connection, running its reader beside its writer; a connection's
//! send queue is bounded in messages and in bytes. `python` serves Python hosts
//! and their players; `native` the control links, held joins, data connections and
//! splices; `directory` holds the games by code; `connection` and `outbox` are the
//! reader, the writer and the queue every connection shares; `messages` the JSON
//! messages, pure; `http` reads and answers the upgrade request by hand, so that a
//! join can be held while its host decides.
//!
//! The accept path is generic over the stream (`AsyncRead + AsyncWrite + Unpin`):
//! to serve `wss://`, a TLS acceptor wraps each accepted TCP stream and hands it on.

mod bucket;
mod close;
mod code;
mod config;
mod connection;
mod directory;
mod gateway;
mod http;
mod messages;
mod metrics;
mod native;
mod outbox;
#[cfg(test)]
mod protocol_doc;
mod python;
mod random;
mod relay;

/// The README's Rust example, compiled.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub use close::CloseReason;
pub use config::{JoinRate, RateLimit, RelayConfig};
pub use relay::{BoundRelay, GameInfo, HostKind, Relay, RelayError, RelayHandle};
