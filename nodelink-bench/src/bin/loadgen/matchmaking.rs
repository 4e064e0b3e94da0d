//! The scenarios about matches themselves: `find`, a storm of clients asking to
//! find a match at the same moment, and `lifecycle`, what creating and ending a
//! match costs the server. (`matches`, the steady load in matches, is
//! `run_steady`'s: only the bots' URL differs from `rooms`.)

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use nodelink::wire::{decode_listing, encode_event, MatchRequest};
use nodelink_bench::process::thread_cpu_seconds;
use nodelink_bench::{since, tcp, MATCH_KIND};
use nodelink_examples::{Table, ToServer};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::Connector;

use super::{
    connect_welcomed, latency_json, new_histogram, open_socket, record, Args, JsonLine,
    SharedHistogram, Socket, UnderTest, Wire, JOIN_TIMEOUT,
};

/// The close code of a player whose match ended (PROTOCOL.md, "Close codes").
const MATCH_ENDED: u16 = 4011;

/// How long a match may take to leave the listing once its players were told it
/// ended.
const ENDING_TIMEOUT: Duration = Duration::from_secs(10);

/// `server`'s URL asking to find a match of the bench server's `match` kind, with
/// the game's default options (every bot asks for the same: any match with a free
/// place suits).
pub(super) fn find_url(server: &str) -> Result<String, String> {
    let request = MatchRequest::find(MATCH_KIND, &Table::default()).map_err(|e| e.to_string())?;
    Ok(request.apply(server))
}

fn create_url(server: &str) -> Result<String, String> {
    let request =
        MatchRequest::create(MATCH_KIND, &Table::default(), false).map_err(|e| e.to_string())?;
    Ok(request.apply(server))
}

/// The players of each listed match of the `match` kind, from the server's
/// listing frame.
async fn listing(server: &str, connector: &Connector) -> Result<Vec<u32>, String> {
    let url = MatchRequest::list(MATCH_KIND).apply(server);
    let mut socket = open_socket(&url, Wire::Native, connector).await?;
    let answer = tokio::time::timeout(JOIN_TIMEOUT, socket.next())
        .await
        .map_err(|_| "no listing within 5 s")?;
    let Some(Ok(Message::Binary(frame))) = answer else {
        return Err(format!("no listing: {answer:?}"));
    };
    let listed = decode_listing::<Table>(&frame).map_err(|e| e.to_string())?;
    Ok(listed.iter().map(|listing| listing.players).collect())
}

/// Waits until the server lists no match of the kind.
async fn until_none_listed(server: &UnderTest) -> Result<(), String> {
    let deadline = Instant::now() + ENDING_TIMEOUT;
    loop {
        let listed = listing(server.listing_url(), &server.connector).await?;
        if listed.is_empty() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{} matches still listed {} s after they were ended",
                listed.len(),
                ENDING_TIMEOUT.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Reads what the server still sends after its close frame, so that the close
/// handshake completes (tungstenite answers the close as it reads).
async fn drain(socket: &mut Socket) {
    let _ = tokio::time::timeout(JOIN_TIMEOUT, async {
        while let Some(Ok(_)) = socket.next().await {}
    })
    .await;
}

/// Sends `ready`, which ends the match in the bench game, and waits for the
/// server to close the connection with "match ended".
async fn end_match(socket: &mut Socket) -> Result<(), String> {
    let ready = encode_event(&ToServer::Ready).map_err(|e| e.to_string())?;
    socket
        .send(Message::Binary(ready))
        .await
        .map_err(|e| e.to_string())?;
    while let Some(message) = socket.next().await {
        match message.map_err(|e| e.to_string())? {
            Message::Close(Some(close)) if u16::from(close.code) == MATCH_ENDED => {
                drain(socket).await;
                return Ok(());
            }
            Message::Close(other) => {
                return Err(format!("closed with {other:?}, not {MATCH_ENDED}"));
            }
            // The snapshot, pings.
            _ => {}
        }
    }
    Err("the connection ended without a close frame".into())
}

/// One loop of the baseline: join the default match, get the welcome, leave.
async fn visit_default(server: &UnderTest) -> Result<(), String> {
    let (mut socket, _, _) = connect_welcomed(&server.url, Wire::Native, &server.connector).await?;
    socket.close(None).await.map_err(|e| e.to_string())?;
    drain(&mut socket).await;
    Ok(())
}

/// One loop of create-then-end: create a match, get the welcome, end the match.
async fn create_and_end(url: &str, server: &UnderTest) -> Result<(), String> {
    let (mut socket, _, code) = connect_welcomed(url, Wire::Native, &server.connector).await?;
    code.ok_or("the welcome names no match")?;
    end_match(&mut socket).await
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// A list of numbers as JSON, two decimals each.
fn json_list(values: &[f64]) -> String {
    let items: Vec<String> = values.iter().map(|v| format!("{v:.2}")).collect();
    format!("[{}]", items.join(","))
}

/// What a storm of finds came to.
pub(super) struct Storm {
    /// The clients that were welcomed, still open.
    pub(super) sockets: Vec<Socket>,
    /// Players per match, by the codes the welcomes name.
    pub(super) players_in: HashMap<String, usize>,
    pub(super) failed: usize,
    pub(super) first_failure: Option<String>,
    /// Finds refused with 503 ("try again shortly") and asked again.
    pub(super) retried: usize,
    /// The first such refusal.
    pub(super) first_retry: Option<String>,
    /// From the first find's start to the last's outcome.
    pub(super) seconds: f64,
    /// How long after the first the last find began.
    pub(super) started_within: Duration,
    /// Each find, from its TCP connect to its welcome.
    pub(super) latency: SharedHistogram,
}

/// How long a client refused with 503 ("try again shortly": a process that had
/// no match code at hand, a directory away) waits before it asks again.
const RETRY_AFTER: Duration = Duration::from_millis(50);

/// `players` clients asking to find a match at `url` at once, each timed from
/// its first TCP connect to its welcome. With `retry`, a client refused with 503
/// asks again after [`RETRY_AFTER`], as nodelink's clients do, until
/// [`JOIN_TIMEOUT`] has passed.
pub(super) async fn storm(
    url: &str,
    players: usize,
    connector: &Connector,
    retry: bool,
) -> Result<Storm, String> {
    let latency = new_histogram()?;
    let start = Instant::now();
    let mut storm = Vec::with_capacity(players);
    for _ in 0..players {
        let (url, connector, latency) = (url.to_owned(), connector.clone(), latency.clone());
        storm.push(tokio::spawn(async move {
            let began = Instant::now();
            let mut refusals = Vec::new();
            let welcomed = tokio::time::timeout(JOIN_TIMEOUT, async {
                loop {
                    match connect_welcomed(&url, Wire::Native, &connector).await {
                        Err(error) if retry && error.contains("503") => {
                            refusals.push(error);
                            tokio::time::sleep(RETRY_AFTER).await;
                        }
                        outcome => return outcome,
                    }
                }
            })
            .await;
            let outcome = match welcomed {
                Ok(Ok((socket, _, code))) => {
                    record(&latency, began.elapsed().as_micros() as u64);
                    Ok((socket, code, began))
                }
                Ok(Err(error)) => Err(error),
                Err(_) => Err(format!("no welcome within {} s", JOIN_TIMEOUT.as_secs())),
            };
            (outcome, refusals)
        }));
    }
    let mut sockets = Vec::with_capacity(players);
    let mut players_in: HashMap<String, usize> = HashMap::new();
    let (mut failed, mut first_failure) = (0usize, None);
    let (mut retried, mut first_retry) = (0usize, None);
    let mut last_start = start;
    for attempt in storm {
        let (outcome, refusals) = attempt.await.map_err(|e| e.to_string())?;
        retried += refusals.len();
        if first_retry.is_none() {
            first_retry = refusals.into_iter().next();
        }
        match outcome {
            Ok((socket, code, began)) => {
                *players_in.entry(code.unwrap_or_default()).or_default() += 1;
                last_start = last_start.max(began);
                sockets.push(socket);
            }
            Err(error) => {
                failed += 1;
                first_failure.get_or_insert(error);
            }
        }
    }
    Ok(Storm {
        sockets,
        players_in,
        failed,
        first_failure,
        retried,
        first_retry,
        seconds: since(start),
        started_within: last_start - start,
        latency,
    })
}

/// find: `--players` bots ask to find a match at once; each is timed from its TCP
/// connect to its welcome. Then the matches they were put in are counted, by the
/// welcomes' codes and by the server's listing.
pub(super) async fn run_find(args: &Args, server: &UnderTest) -> Result<String, String> {
    let url = find_url(&server.url)?;
    let pid = server.pid();
    let rss_empty = server.rss();
    let cpu_before = pid.as_deref().and_then(thread_cpu_seconds);
    let others = server.others_meter();
    let counters = ["ListenOverflows", "TCPSynRetrans"];
    let kernel_before = counters.map(tcp::ext_counter);
    let Storm {
        sockets,
        players_in,
        failed,
        first_failure,
        seconds,
        started_within,
        latency,
        ..
    } = storm(&url, args.players, &server.connector, false).await?;
    let cpu_seconds = match (cpu_before, pid.as_deref().and_then(thread_cpu_seconds)) {
        (Some(before), Some(after)) => after - before,
        _ => f64::NAN,
    };
    let others = others.percent();
    // Machine-wide: a storm on loopback is most of what the kernel sees meanwhile.
    let kernel: Vec<String> = counters
        .iter()
        .zip(kernel_before)
        .map(|(name, before)| match (before, tcp::ext_counter(name)) {
            (Some(before), Some(after)) => (after - before).to_string(),
            _ => "null".to_owned(),
        })
        .collect();
    let server_rss = server.rss();
    let listed = listing(server.listing_url(), &server.connector).await?;
    eprintln!(
        "loadgen: {} of {} found a match in {seconds:.2} s: {} matches by their welcomes, {} listed",
        sockets.len(),
        args.players,
        players_in.len(),
        listed.len()
    );
    let line = JsonLine::default()
        .text("target", args.target.name())
        .text("scenario", "find")
        .field("players", args.players)
        .field("match_size", args.match_size)
        .field("connected", sockets.len())
        .field("failed", failed)
        .field(
            "first_failure",
            first_failure.map_or("null".to_owned(), |e| {
                serde_json::Value::from(e).to_string()
            }),
        )
        .number("started_within_ms", started_within.as_secs_f64() * 1000.0)
        .number("seconds", seconds)
        .field("latency_ms", latency_json(&latency))
        .field("matches_by_welcome", players_in.len())
        .field("smallest_match", players_in.values().min().unwrap_or(&0))
        .field("largest_match", players_in.values().max().unwrap_or(&0))
        .field("listen_overflows", &kernel[0])
        .field("syn_retransmits", &kernel[1])
        .field("matches_listed", listed.len())
        .field("players_listed", listed.iter().sum::<u32>())
        .number("server_cpu_ms", cpu_seconds * 1000.0)
        .number("others_cpu_percent", others)
        .number(
            "server_cpu_us_per_find",
            cpu_seconds * 1e6 / sockets.len().max(1) as f64,
        )
        .field("server_rss_kib", server_rss / 1024)
        .number(
            "server_rss_per_match_kib",
            server_rss.saturating_sub(rss_empty) as f64 / 1024.0 / players_in.len().max(1) as f64,
        );
    drop(sockets);
    Ok(line.finish())
}

/// Server CPU (µs) per loop of `each` run `count` times, one after the other.
async fn timed_loops<F, Fut>(
    pid: &str,
    count: usize,
    latency: &super::SharedHistogram,
    mut each: F,
) -> Result<f64, String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let before = thread_cpu_seconds(pid).ok_or("cannot read the server's CPU time")?;
    for _ in 0..count {
        let began = Instant::now();
        each().await?;
        record(latency, began.elapsed().as_micros() as u64);
    }
    let after = thread_cpu_seconds(pid).ok_or("cannot read the server's CPU time")?;
    Ok((after - before) * 1e6 / count as f64)
}

/// Through a gateway: the commands Redis ran and the gateway's CPU, during the
/// visits (`[0]`) and during the create-then-end loops (`[1]`).
#[derive(Default)]
struct Through {
    commands: [BTreeMap<String, u64>; 2],
    gateway_seconds: [f64; 2],
}

impl Through {
    /// Redis's command counts and the gateway's CPU time now.
    fn read(server: &UnderTest) -> Result<(BTreeMap<String, u64>, f64), String> {
        match &server.service {
            Some(service) => Ok((
                service.redis.command_counts()?,
                thread_cpu_seconds(&service.gateway.child.id().to_string()).unwrap_or(f64::NAN),
            )),
            None => Ok((BTreeMap::new(), 0.0)),
        }
    }

    /// Adds what passed since `before` to the visits' or the matches' side;
    /// returns the reading it took.
    fn add(
        through: &mut Option<Self>,
        server: &UnderTest,
        before: (BTreeMap<String, u64>, f64),
        matches: bool,
    ) -> Result<(BTreeMap<String, u64>, f64), String> {
        let now = Self::read(server)?;
        if let Some(through) = through {
            let side = usize::from(matches);
            for (name, calls) in &now.0 {
                let delta = calls - before.0.get(name).copied().unwrap_or(0);
                *through.commands[side].entry(name.clone()).or_default() += delta;
            }
            through.gateway_seconds[side] += now.1 - before.1;
        }
        Ok(now)
    }
}

/// lifecycle: what a match's life costs the server, in CPU and in memory.
///
/// CPU: `--rounds` rounds, each of `--players` loops of create-then-end and as
/// many of the baseline (join the default match, welcome, leave), one loop at a
/// time, the order alternating between rounds; the server's CPU over each run of
/// loops, per loop. The difference is what making and ending a match adds to a
/// player's visit.
///
/// Memory: `--rounds` cycles of `--players` matches created one after the other
/// and held (one player each), then all ended at once; the server's RSS before,
/// while held, and once none is listed.
pub(super) async fn run_lifecycle(args: &Args, server: &UnderTest) -> Result<String, String> {
    let pid = server
        .pid()
        .ok_or("lifecycle reads the server's CPU time: let loadgen start the server")?;
    let create = create_url(&server.url)?;
    let loops = args.players;
    let rss_empty = server.rss();
    let others = server.others_meter();
    // The first loops of each kind pay for first uses (allocator pools, lazily
    // made tables): not counted.
    let warmup = new_histogram()?;
    timed_loops(&pid, 50, &warmup, || visit_default(server)).await?;
    timed_loops(&pid, 50, &warmup, || create_and_end(&create, server)).await?;

    let (visit_latency, match_latency) = (new_histogram()?, new_histogram()?);
    let (mut visits, mut lives) = (Vec::new(), Vec::new());
    // Through a gateway: what Redis ran and the gateway used during each kind
    // of loop, all rounds together.
    let mut through = server.service.as_ref().map(|_| Through::default());
    for round in 0..args.rounds {
        let visit = || visit_default(server);
        let life = || create_and_end(&create, server);
        let (visit_us, life_us) = if round % 2 == 0 {
            let reading = Through::read(server)?;
            let visit_us = timed_loops(&pid, loops, &visit_latency, visit).await?;
            let reading = Through::add(&mut through, server, reading, false)?;
            let life_us = timed_loops(&pid, loops, &match_latency, life).await?;
            Through::add(&mut through, server, reading, true)?;
            (visit_us, life_us)
        } else {
            let reading = Through::read(server)?;
            let life_us = timed_loops(&pid, loops, &match_latency, life).await?;
            let reading = Through::add(&mut through, server, reading, true)?;
            let visit_us = timed_loops(&pid, loops, &visit_latency, visit).await?;
            Through::add(&mut through, server, reading, false)?;
            (visit_us, life_us)
        };
        eprintln!(
            "loadgen: round {}: {visit_us:.1} µs of server CPU per visit of the default \
             match, {life_us:.1} per match created and ended",
            round + 1
        );
        visits.push(visit_us);
        lives.push(life_us);
    }
    let differences: Vec<f64> = lives.iter().zip(&visits).map(|(l, v)| l - v).collect();
    let others = others.percent();
    until_none_listed(server).await?;

    // Memory: RSS (KiB) before, while holding, and after ending, per cycle.
    let (mut before, mut holding, mut after) = (Vec::new(), Vec::new(), Vec::new());
    let kib = |bytes: u64| bytes as f64 / 1024.0;
    for cycle in 0..args.rounds {
        before.push(kib(server.rss()));
        let mut held = Vec::with_capacity(loops);
        for index in 0..loops {
            let (socket, _, _) = connect_welcomed(&create, Wire::Native, &server.connector)
                .await
                .map_err(|e| format!("match {index} of cycle {}: {e}", cycle + 1))?;
            held.push(socket);
        }
        holding.push(kib(server.rss()));
        let listed = listing(server.listing_url(), &server.connector)
            .await?
            .len();
        if listed != loops {
            return Err(format!("{listed} matches listed while {loops} were held"));
        }
        let endings = futures::future::join_all(held.iter_mut().map(end_match)).await;
        if let Some(error) = endings.into_iter().find_map(Result::err) {
            return Err(format!(
                "ending the matches of cycle {}: {error}",
                cycle + 1
            ));
        }
        until_none_listed(server).await?;
        after.push(kib(server.rss()));
        eprintln!(
            "loadgen: cycle {}: RSS {:.0} KiB, {:.0} with {loops} matches held, {:.0} once ended",
            cycle + 1,
            before[cycle],
            holding[cycle],
            after[cycle]
        );
    }
    let per_match = |values: &[f64]| values.iter().map(|v| v / loops as f64).collect::<Vec<_>>();
    let held_per_match: Vec<f64> = holding.iter().zip(&before).map(|(h, b)| h - b).collect();
    let back_per_match: Vec<f64> = holding.iter().zip(&after).map(|(h, a)| h - a).collect();
    let line = JsonLine::default()
        .text("target", args.target.name())
        .text("scenario", "lifecycle")
        .field("loops", loops)
        .field("rounds", args.rounds)
        .field("match_size", args.match_size)
        .number("visit_us", median(&visits))
        .number("create_end_us", median(&lives))
        .number("match_cost_us", median(&differences))
        .field("visit_us_each_round", json_list(&visits))
        .field("create_end_us_each_round", json_list(&lives))
        .field("match_cost_us_each_round", json_list(&differences))
        .number("others_cpu_percent", others)
        .field("visit_latency_ms", latency_json(&visit_latency))
        .field("create_end_latency_ms", latency_json(&match_latency))
        .number("server_rss_empty_kib", kib(rss_empty))
        .field("rss_before_kib", json_list(&before))
        .field("rss_holding_kib", json_list(&holding))
        .field("rss_after_kib", json_list(&after))
        .field("held_kib_per_match", json_list(&per_match(&held_per_match)))
        .field("back_kib_per_match", json_list(&per_match(&back_per_match)));
    let line = match through {
        Some(through) => {
            let total_loops = (loops * args.rounds) as f64;
            let counts = |counts: &BTreeMap<String, u64>| {
                let per_loop: Vec<String> = counts
                    .iter()
                    .filter(|(_, calls)| **calls > 0)
                    .map(|(name, calls)| {
                        format!(
                            "{}:{:.2}",
                            serde_json::Value::from(name.as_str()),
                            *calls as f64 / total_loops
                        )
                    })
                    .collect();
                format!("{{{}}}", per_loop.join(","))
            };
            line.field("gateway", 1)
                .number(
                    "gateway_visit_us",
                    through.gateway_seconds[0] * 1e6 / total_loops,
                )
                .number(
                    "gateway_create_end_us",
                    through.gateway_seconds[1] * 1e6 / total_loops,
                )
                .field("redis_commands_per_visit", counts(&through.commands[0]))
                .field(
                    "redis_commands_per_create_end",
                    counts(&through.commands[1]),
                )
        }
        None => line,
    };
    Ok(line.finish())
}
