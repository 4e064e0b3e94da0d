//! The process's metrics for Prometheus (feature `metrics`), in the OpenMetrics
//! text format, rendered by `prometheus-client` (the Prometheus project's own
//! client: no global registry, so every server of a process, and every test, has
//! its own numbers).
//!
//! Nothing is counted for them on the hot path that the server does not count
//! anyway: the counters are the process's own (atomics its matches add to), and a
//! scrape reads them. Labels are kinds and reasons, never match codes or player
//! ids, so the number of series stays bounded however many matches and players
//! come and go.
//!
//! Where `/metrics` is served, and behind which authentication, is the operator's
//! choice: [`router`] for an axum application beside the game's mount, [`serve`]
//! on a listener of its own beside a stand-alone server; or
//! [`ServerHandle::metrics_text`] on a route of your own.

mod endpoint;

#[cfg(feature = "axum")]
pub use endpoint::router;
pub use endpoint::{serve, serve_with};

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Weak;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use crate::server::game::stats::{WireTraffic, OTHER_REFUSAL, TICK_BUCKETS_US};
use crate::server::game::{ProcessBoard, ServerHandle};
use crate::server::{MatchInfo, ProcessStats};
use crate::wire::{CloseReason, RefusalKind, WireFormat};
use crate::Protocol;

/// The `Content-Type` of [`ServerHandle::metrics_text`]'s answer.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

impl<P: Protocol> ServerHandle<P> {
    /// The process's metrics, every match of every kind, in the OpenMetrics text
    /// format Prometheus scrapes ([`CONTENT_TYPE`]); serve it where and behind
    /// what authentication you choose. The series, all prefixed `nodelink_`:
    ///
    /// | metric | type | labels |
    /// |---|---|---|
    /// | `matches` | gauge | `kind` |
    /// | `players` | gauge | `kind` (paused players included) |
    /// | `paused_players` | gauge | `kind` |
    /// | `queued_sends`, `deepest_queue_sends` | gauge | `kind` (the sum and the most of players' send queues) |
    /// | `matches_started_total`, `matches_ended_total` | counter | |
    /// | `ticks_total`, `sync_frames_total`, `snapshot_frames_total`, `sent_bytes_total` | counter | |
    /// | `sync_deliveries_total` | counter | (frames queued, summed over recipients: against the frames encoded, how many recipients share a view) |
    /// | `frames_in_total`, `bytes_in_total`, `frames_out_total`, `bytes_out_total` | counter | `wire` (`native`, `json`) |
    /// | `refusals_total` | counter | `reason` (a refusal's description) |
    /// | `connections_ended_total` | counter | `reason` (the close reason of a connection the server ended) |
    /// | `handler_errors_total`, `handler_panics_total` | counter | |
    /// | `resumes_total` | counter | |
    /// | `resumes_refused_total` | counter | `reason` (the session expired, events were missed) |
    /// | `tick_duration_seconds` | histogram | |
    /// | `tick_overruns_total` | counter | (ticks longer than the tick period) |
    ///
    /// ```
    /// # use nodelink::server::{Server, ServerConfig};
    /// # use nodelink::SyncState;
    /// # #[derive(SyncState, Clone, Debug, Default, PartialEq)] pub struct Avatar { x: f32 }
    /// # #[nodelink::events] pub enum Nothing {}
    /// # #[nodelink::protocol(state = Avatar, to_server = Nothing, to_client = Nothing)]
    /// # pub struct Game;
    /// let server = Server::<Game>::new(ServerConfig::default());
    /// let text = server.handle().metrics_text();
    /// assert!(text.contains("# TYPE nodelink_matches_started counter"));
    /// assert!(text.ends_with("# EOF\n"));
    /// ```
    #[must_use]
    pub fn metrics_text(&self) -> String {
        let matchmaker = self.process.get().and_then(Weak::upgrade);
        let scrape = Scrape {
            matches: self.matches(),
            stats: self.process_stats(),
            board: matchmaker.map(|matchmaker| matchmaker.process().counters.clone()),
        };
        let mut registry = Registry::default();
        registry.register_collector(Box::new(scrape));
        let mut text = String::new();
        // Writing to a `String` cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &registry);
        text
    }
}

/// A kind's gauges, summed over its live matches (the deepest queue: the most).
#[derive(Debug, Default)]
struct KindNumbers {
    matches: i64,
    players: i64,
    paused: i64,
    queued: i64,
    deepest_queue: i64,
}

fn gauge_value(count: usize) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

/// What one scrape reads, once.
#[derive(Debug)]
struct Scrape {
    matches: Vec<MatchInfo>,
    stats: ProcessStats,
    /// `None` before the server runs.
    board: Option<std::sync::Arc<ProcessBoard>>,
}

type Encoded = Result<(), std::fmt::Error>;

/// A gauge by kind: its name, its help, and what it reads of a kind's numbers.
type KindGauge = (&'static str, &'static str, fn(&KindNumbers) -> i64);

/// A counter by wire: its name, its help, and which of a wire's counters it reads.
type TrafficCounter = (&'static str, &'static str, fn(&WireTraffic) -> &AtomicU64);

fn counter(encoder: &mut DescriptorEncoder<'_>, name: &str, help: &str, value: u64) -> Encoded {
    let metric = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
    ConstCounter::new(value).encode(metric)
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

impl Collector for Scrape {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Encoded {
        let mut kinds: BTreeMap<&str, KindNumbers> = BTreeMap::new();
        for info in &self.matches {
            let numbers = kinds.entry(info.kind.as_str()).or_default();
            numbers.matches += 1;
            numbers.players += gauge_value(info.players);
            numbers.paused += gauge_value(info.paused);
            numbers.queued += gauge_value(info.queued);
            numbers.deepest_queue = numbers.deepest_queue.max(gauge_value(info.deepest_queue));
        }
        let per_kind = |pick: fn(&KindNumbers) -> i64| {
            kinds
                .iter()
                .map(move |(kind, numbers)| ((*kind).to_owned(), ConstGauge::new(pick(numbers))))
        };
        let e = &mut encoder;
        let gauges: [KindGauge; 5] = [
            ("nodelink_matches", "Live matches.", |n| n.matches),
            (
                "nodelink_players",
                "Players in live matches, paused ones included.",
                |n| n.players,
            ),
            (
                "nodelink_paused_players",
                "Players whose connection was lost and who may still resume.",
                |n| n.paused,
            ),
            (
                "nodelink_queued_sends",
                "Sends waiting in connected players' queues, as of each match's last tick.",
                |n| n.queued,
            ),
            (
                "nodelink_deepest_queue_sends",
                "The most sends waiting in one player's queue, as of each match's last tick.",
                |n| n.deepest_queue,
            ),
        ];
        for (name, help, pick) in gauges {
            labelled(e, (name, help, MetricType::Gauge), "kind", per_kind(pick))?;
        }
        let stats = &self.stats;
        counter(
            e,
            "nodelink_matches_started",
            "Matches started.",
            stats.matches_started,
        )?;
        counter(
            e,
            "nodelink_matches_ended",
            "Matches ended.",
            stats.matches_ended,
        )?;
        counter(e, "nodelink_ticks", "Match ticks.", stats.sync.ticks)?;
        counter(
            e,
            "nodelink_sync_frames",
            "Sync frames encoded.",
            stats.sync.frames,
        )?;
        counter(
            e,
            "nodelink_snapshot_frames",
            "Snapshot frames encoded for newcomers.",
            stats.sync.snapshot_frames,
        )?;
        counter(
            e,
            "nodelink_sent_bytes",
            "Sync and snapshot bytes queued to clients, summed over recipients.",
            stats.sync.bytes_sent,
        )?;
        counter(
            e,
            "nodelink_sync_deliveries",
            "Sync and snapshot frames queued, summed over recipients (each frame is encoded once per view).",
            stats.sync.deliveries,
        )?;
        let Some(board) = &self.board else {
            return Ok(());
        };
        let refusals = RefusalKind::ALL.into_iter().map(|kind| {
            let slot = ProcessBoard::refusal_slot(kind);
            let count = board.refusals[slot].load(Ordering::Relaxed);
            let reason = if slot == OTHER_REFUSAL {
                "refused before the upgrade".to_owned()
            } else {
                kind.description().to_owned()
            };
            (reason, count)
        });
        // The HTTP-only refusals share one series.
        let by_reason: BTreeMap<String, u64> = refusals.collect();
        let wires = [("native", WireFormat::Native), ("json", WireFormat::Json)];
        let traffic: [TrafficCounter; 4] = [
            (
                "nodelink_frames_in",
                "WebSocket data frames read from players, by wire format.",
                |t| &t.frames_in,
            ),
            (
                "nodelink_bytes_in",
                "Payload bytes of the data frames read from players, by wire format.",
                |t| &t.bytes_in,
            ),
            (
                "nodelink_frames_out",
                "WebSocket data frames written to players, by wire format.",
                |t| &t.frames_out,
            ),
            (
                "nodelink_bytes_out",
                "Payload bytes of the data frames written to players, by wire format.",
                |t| &t.bytes_out,
            ),
        ];
        for (name, help, pick) in traffic {
            let values = wires.iter().map(|(label, wire)| {
                let count = pick(WireTraffic::of(&board.traffic, *wire)).load(Ordering::Relaxed);
                ((*label).to_owned(), ConstCounter::new(count))
            });
            labelled(e, (name, help, MetricType::Counter), "wire", values)?;
        }
        labelled(
            e,
            (
                "nodelink_refusals",
                "Connections refused, by reason.",
                MetricType::Counter,
            ),
            "reason",
            by_reason
                .into_iter()
                .map(|(reason, n)| (reason, ConstCounter::new(n))),
        )?;
        let ended = (4000..4032u16).filter_map(|code| {
            let reason = CloseReason::from_code(code)?;
            let count = board.connections_ended[usize::from(code - 4000)].load(Ordering::Relaxed);
            Some((reason.description().to_owned(), ConstCounter::new(count)))
        });
        labelled(
            e,
            (
                "nodelink_connections_ended",
                "Connections the server ended, by reason.",
                MetricType::Counter,
            ),
            "reason",
            ended,
        )?;
        counter(
            e,
            "nodelink_handler_errors",
            "Errors reported to on_error (or logged without one).",
            board.errors.load(Ordering::Relaxed),
        )?;
        counter(
            e,
            "nodelink_handler_panics",
            "Handlers that panicked (counted among the errors too).",
            board.panics.load(Ordering::Relaxed),
        )?;
        counter(
            e,
            "nodelink_resumes",
            "Sessions resumed on a new connection.",
            board.resumes.load(Ordering::Relaxed),
        )?;
        let refused = (4000..4032u16).filter_map(|code| {
            let reason = CloseReason::from_code(code)?;
            let count = board.resumes_refused[usize::from(code - 4000)].load(Ordering::Relaxed);
            (count > 0
                || matches!(
                    reason,
                    CloseReason::SessionExpired | CloseReason::MissedEvents
                ))
            .then(|| (reason.description().to_owned(), ConstCounter::new(count)))
        });
        labelled(
            e,
            (
                "nodelink_resumes_refused",
                "Resumes refused, by the reason the connection was closed with.",
                MetricType::Counter,
            ),
            "reason",
            refused,
        )?;
        counter(
            e,
            "nodelink_tick_overruns",
            "Ticks that took longer than the tick period.",
            board.tick_overruns.load(Ordering::Relaxed),
        )?;
        let times = &board.tick_time;
        let buckets: Vec<(f64, u64)> = TICK_BUCKETS_US
            .iter()
            .map(|us| *us as f64 / 1e6)
            .chain(std::iter::once(f64::INFINITY))
            .zip(times.buckets.iter().map(|n| n.load(Ordering::Relaxed)))
            .collect();
        let count: u64 = buckets.iter().map(|(_, n)| n).sum();
        let sum = times.sum_us.load(Ordering::Relaxed) as f64 / 1e6;
        let mut metric = e.encode_descriptor(
            "nodelink_tick_duration_seconds",
            "How long a match's tick took: its on_tick handler and its sync.",
            None,
            MetricType::Histogram,
        )?;
        metric.encode_histogram::<Vec<(String, String)>>(sum, count, &buckets, None)
    }
}
