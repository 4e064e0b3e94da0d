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
//! The server serves no endpoint of its own: where `/metrics` is served, and behind
//! which authentication, is the operator's choice (an axum route beside the game's
//! mount, or a listener on a private address), as the guide shows.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Weak;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use crate::server::game::stats::{OTHER_REFUSAL, TICK_BUCKETS_US};
use crate::server::game::{ProcessBoard, ServerHandle};
use crate::server::{MatchInfo, ProcessStats};
use crate::wire::{CloseReason, RefusalKind};
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
    /// | `matches_started_total`, `matches_ended_total` | counter | |
    /// | `ticks_total`, `sync_frames_total`, `snapshot_frames_total`, `sent_bytes_total` | counter | |
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

/// What one scrape reads, once.
#[derive(Debug)]
struct Scrape {
    matches: Vec<MatchInfo>,
    stats: ProcessStats,
    /// `None` before the server runs.
    board: Option<std::sync::Arc<ProcessBoard>>,
}

type Encoded = Result<(), std::fmt::Error>;

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
        let mut kinds: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
        for info in &self.matches {
            let (matches, players) = kinds.entry(info.kind.as_str()).or_default();
            *matches += 1;
            *players += i64::try_from(info.players).unwrap_or(i64::MAX);
        }
        let per_kind = |pick: fn(&(i64, i64)) -> i64| {
            kinds
                .iter()
                .map(move |(kind, counts)| ((*kind).to_owned(), ConstGauge::new(pick(counts))))
        };
        let e = &mut encoder;
        labelled(
            e,
            ("nodelink_matches", "Live matches.", MetricType::Gauge),
            "kind",
            per_kind(|c| c.0),
        )?;
        labelled(
            e,
            (
                "nodelink_players",
                "Players in live matches, paused ones included.",
                MetricType::Gauge,
            ),
            "kind",
            per_kind(|c| c.1),
        )?;
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
            "Sync bytes queued to clients.",
            stats.sync.bytes_sent,
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
