//! The relay's and gateway's metrics for Prometheus, in the OpenMetrics text
//! format ([`RelayHandle::metrics_text`](crate::RelayHandle::metrics_text)),
//! served by `nodelink-relay --metrics ADDR --metrics-token TOKEN`.
//!
//! The counters are atomics the connections add to; labels are HTTP statuses,
//! directions and outcomes, never game codes or addresses, so the number of
//! series stays bounded.

use std::sync::atomic::{AtomicU64, Ordering};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use crate::GameInfo;

/// Refusals are counted by HTTP status, 400 to 599, and any other in one more
/// slot (a game process may answer a gateway with anything).
const FIRST_STATUS: u16 = 400;
const STATUS_SLOTS: usize = 201;
const OTHER_STATUS: usize = STATUS_SLOTS - 1;

/// What the relay's connections add to.
#[derive(Debug)]
pub(crate) struct RelayCounters {
    /// Connections accepted.
    pub(crate) connections: AtomicU64,
    /// Requests refused, by HTTP status less 400 (the gateway's close-frame
    /// refusals by the status their HTTP answer would have had).
    refusals: [AtomicU64; STATUS_SLOTS],
    /// Messages from players to their game's host or process.
    pub(crate) to_game: Traffic,
    /// Messages from hosts or processes to their players.
    pub(crate) to_players: Traffic,
    /// Players a gateway spliced to a game process.
    pub(crate) gateway_spliced: AtomicU64,
    /// Listings a gateway answered.
    pub(crate) gateway_listings: AtomicU64,
}

impl Default for RelayCounters {
    fn default() -> Self {
        Self {
            connections: AtomicU64::new(0),
            refusals: std::array::from_fn(|_| AtomicU64::new(0)),
            to_game: Traffic::default(),
            to_players: Traffic::default(),
            gateway_spliced: AtomicU64::new(0),
            gateway_listings: AtomicU64::new(0),
        }
    }
}

/// Messages relayed one way, and their payload bytes.
#[derive(Debug, Default)]
pub(crate) struct Traffic {
    messages: AtomicU64,
    bytes: AtomicU64,
}

impl Traffic {
    pub(crate) fn relayed(&self, bytes: usize) {
        self.relayed_to(1, bytes);
    }

    /// A message of `bytes` relayed to `recipients`.
    pub(crate) fn relayed_to(&self, recipients: usize, bytes: usize) {
        let recipients = recipients as u64;
        self.messages.fetch_add(recipients, Ordering::Relaxed);
        self.bytes
            .fetch_add(recipients * bytes as u64, Ordering::Relaxed);
    }
}

impl RelayCounters {
    /// Counts a refusal answered with `status`.
    pub(crate) fn refused(&self, status: u16) {
        let slot = match status {
            400..=599 => usize::from(status - FIRST_STATUS),
            _ => OTHER_STATUS,
        };
        self.refusals[slot].fetch_add(1, Ordering::Relaxed);
    }

    /// The metrics text, with the relay's games as they are now.
    pub(crate) fn text(&self, games: Vec<GameInfo>, gateway: bool) -> String {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(Scrape {
            counters: self.snapshot(),
            games,
            gateway,
        }));
        let mut text = String::new();
        // Writing to a `String` cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &registry);
        text
    }

    fn snapshot(&self) -> Snapshot {
        let load = |count: &AtomicU64| count.load(Ordering::Relaxed);
        Snapshot {
            connections: load(&self.connections),
            refusals: self
                .refusals
                .iter()
                .enumerate()
                .filter_map(|(slot, count)| {
                    let count = load(count);
                    let status = if slot == OTHER_STATUS {
                        "other".to_owned()
                    } else {
                        (FIRST_STATUS + u16::try_from(slot).ok()?).to_string()
                    };
                    (count > 0).then_some((status, count))
                })
                .collect(),
            traffic: [
                (
                    "to_game",
                    load(&self.to_game.messages),
                    load(&self.to_game.bytes),
                ),
                (
                    "to_players",
                    load(&self.to_players.messages),
                    load(&self.to_players.bytes),
                ),
            ],
            gateway_spliced: load(&self.gateway_spliced),
            gateway_listings: load(&self.gateway_listings),
        }
    }
}

/// The counters as one scrape read them.
#[derive(Debug)]
struct Snapshot {
    connections: u64,
    /// By status (`"404"`, or `"other"` outside 400–599).
    refusals: Vec<(String, u64)>,
    traffic: [(&'static str, u64, u64); 2],
    gateway_spliced: u64,
    gateway_listings: u64,
}

#[derive(Debug)]
struct Scrape {
    counters: Snapshot,
    games: Vec<GameInfo>,
    gateway: bool,
}

type Encoded = Result<(), std::fmt::Error>;

fn single<M: EncodeMetric>(
    encoder: &mut DescriptorEncoder<'_>,
    (name, help, kind): (&str, &str, MetricType),
    metric: M,
) -> Encoded {
    metric.encode(encoder.encode_descriptor(name, help, None, kind)?)
}

fn labelled<M: EncodeMetric>(
    encoder: &mut DescriptorEncoder<'_>,
    (name, help, kind): (&str, &str, MetricType),
    label: &str,
    values: impl IntoIterator<Item = (String, M)>,
) -> Encoded {
    let mut family = encoder.encode_descriptor(name, help, None, kind)?;
    for (value, metric) in values {
        let labels = [(label, value.as_str())];
        metric.encode(family.encode_family(&labels)?)?;
    }
    Ok(())
}

fn gauge(count: usize) -> ConstGauge {
    ConstGauge::new(i64::try_from(count).unwrap_or(i64::MAX))
}

impl Collector for Scrape {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Encoded {
        let e = &mut encoder;
        let counters = &self.counters;
        single(
            e,
            (
                "nodelink_relay_games",
                "Games the relay holds.",
                MetricType::Gauge,
            ),
            gauge(self.games.len()),
        )?;
        single(
            e,
            (
                "nodelink_relay_players",
                "Players connected to the relay's games.",
                MetricType::Gauge,
            ),
            gauge(self.games.iter().map(|game| game.players).sum()),
        )?;
        single(
            e,
            (
                "nodelink_relay_waiting_players",
                "Players waiting for a native host's answer.",
                MetricType::Gauge,
            ),
            gauge(self.games.iter().map(|game| game.waiting).sum()),
        )?;
        single(
            e,
            (
                "nodelink_relay_connections",
                "Connections accepted.",
                MetricType::Counter,
            ),
            ConstCounter::new(counters.connections),
        )?;
        labelled(
            e,
            (
                "nodelink_relay_refusals",
                "Requests refused, by HTTP status.",
                MetricType::Counter,
            ),
            "status",
            counters
                .refusals
                .iter()
                .map(|(status, count)| (status.clone(), ConstCounter::new(*count))),
        )?;
        labelled(
            e,
            (
                "nodelink_relay_messages",
                "WebSocket data messages relayed, by direction (one per recipient).",
                MetricType::Counter,
            ),
            "direction",
            counters.traffic.iter().map(|(direction, messages, _)| {
                ((*direction).to_owned(), ConstCounter::new(*messages))
            }),
        )?;
        labelled(
            e,
            (
                "nodelink_relay_bytes",
                "Payload bytes of the messages relayed, by direction.",
                MetricType::Counter,
            ),
            "direction",
            counters
                .traffic
                .iter()
                .map(|(direction, _, bytes)| ((*direction).to_owned(), ConstCounter::new(*bytes))),
        )?;
        if self.gateway {
            labelled(
                e,
                (
                    "nodelink_gateway_requests",
                    "Requests a gateway answered, by outcome (refusals are in nodelink_relay_refusals).",
                    MetricType::Counter,
                ),
                "outcome",
                [
                    ("spliced".to_owned(), ConstCounter::new(counters.gateway_spliced)),
                    ("listing".to_owned(), ConstCounter::new(counters.gateway_listings)),
                ],
            )?;
        }
        Ok(())
    }
}
