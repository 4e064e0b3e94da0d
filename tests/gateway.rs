//! A service end to end: a Redis of the test's own, game processes
//! (`cluster_process`, the example game, each its own OS process so that it can
//! be killed with SIGKILL) and gateways (`nodelink-relay` with
//! `RelayConfig::redis`, in-process), every one on `127.0.0.1` at a free port.
//! Players reach matches only through the gateways, as they would in
//! production:
//!
//! - a match made through one gateway is joined by its code through another;
//! - a storm of finds through both gateways fills one match before it makes the
//!   next, and a race for a match's last seats seats exactly as many as it has;
//!   a find that a full process refuses goes to the next;
//! - a listing through a gateway shows every process's matches;
//! - a process killed mid-game: its players are told 4105 and the Rust client
//!   asks again into a live process; others play on; the directory forgets it
//!   within its lease;
//! - a gateway killed: its players resume their sessions through another;
//! - Redis restarted: matches play on, new requests meanwhile are refused with
//!   4216, and matchmaking recovers;
//! - per-IP limits count the player's address, which the gateway forwards;
//! - a shutting-down process drains: gateways send it nothing new, its matches
//!   leave the listings and play out, and it stops once its players have left;
//! - the published Python nodelink client lands in a default match, and the
//!   TypeScript client creates, joins and lists through gateways.
//!
//! Without `redis-server` each test is skipped with a notice (it fails under
//! `CI`).

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::join_all;
use futures::StreamExt;
use nodelink::client::{Client, ClientConfig, ClientError, Disconnect, Reconnect};
use nodelink::cluster::{Presence, ProcessEntry, ServiceDirectory};
use nodelink::wire::handshake::REFUSAL_HEADER;
use nodelink::wire::{CloseReason, MatchRequest, RefusalKind, REFUSALS_SUBPROTOCOL};
use nodelink::PlayerId;
use nodelink_examples::{Table, ToClient, ToServer};
use nodelink_relay::{Relay, RelayConfig, RelayHandle};
use nodelink_tests::{
    figure, game_subprotocol, poll_until, python, typescript_package, upgrade, upgrade_answer,
    within, ChildReports, Redis, Seen, Watcher,
};
use serde_json::{json, Value};
use tokio::io::AsyncBufReadExt;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::process::{Child, ChildStdin, Command};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

/// The processes' lease: short, so that a dead one is forgotten quickly.
const LEASE: Duration = Duration::from_millis(900);

/// The service's name in Redis.
const SERVICE: &str = "gateway-test";

/// One game process of the service: a `cluster_process` child.
struct GameProcess {
    child: Child,
    /// Held open: the process stops when it closes.
    stdin: Option<ChildStdin>,
    /// Where it listens (and what it registered as its address).
    url: String,
}

impl GameProcess {
    async fn start(redis: &str, flags: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cluster_process"))
            .arg(redis)
            .arg(SERVICE)
            .arg(LEASE.as_millis().to_string())
            .args(flags)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("cluster_process starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let url = within("the game process to listen", async {
            loop {
                let line = lines
                    .next_line()
                    .await
                    .expect("readable stdout")
                    .expect("the game process exited before it listened");
                if let Some(url) = line.strip_prefix("listening on ") {
                    return url.to_owned();
                }
            }
        })
        .await;
        Self {
            stdin: child.stdin.take(),
            child,
            url,
        }
    }

    /// Kills it with SIGKILL, as a crash would: nothing withdrawn, no close
    /// frames sent.
    async fn kill(&mut self) {
        self.child.kill().await.expect("killed");
    }

    /// Begins its shutdown: it drains.
    async fn drain(&mut self) {
        use tokio::io::AsyncWriteExt;
        let stdin = self.stdin.as_mut().expect("running");
        within("the drain command", stdin.write_all(b"drain\n"))
            .await
            .expect("the process reads its stdin");
    }

    /// Waits for it to exit by itself, successfully.
    async fn exited(&mut self) {
        let status = within("the game process to exit", self.child.wait())
            .await
            .expect("an exit status");
        assert!(status.success(), "cluster_process: {status}");
    }

    /// Stops it at once (its stdin closes) and waits for it to exit.
    async fn stop(mut self) {
        self.stdin = None;
        self.exited().await;
    }
}

/// A gateway of the service, in-process on a free port.
struct Gateway {
    addr: SocketAddr,
    url: String,
    handle: RelayHandle,
    task: JoinHandle<()>,
}

impl Gateway {
    async fn start(redis: &str) -> Self {
        let config = RelayConfig::default()
            .host("127.0.0.1")
            .port(0)
            .redis(redis)
            .service(SERVICE);
        let relay = Relay::new(config).bind().await.expect("binds");
        let addr = relay.local_addr();
        Self {
            addr,
            url: format!("ws://{addr}/"),
            handle: relay.handle(),
            task: tokio::spawn(relay.run()),
        }
    }

    /// Dies at once, as a killed gateway does: every connection it holds is
    /// dropped without a close frame.
    async fn kill(self) {
        self.task.abort();
        let _ = self.task.await;
    }

    async fn stop(self) {
        self.handle.shutdown();
        within("the gateway to stop", self.task)
            .await
            .expect("the gateway's task");
    }
}

/// Redis, game processes and gateways.
struct Service {
    redis: Redis,
    processes: Vec<GameProcess>,
    gateways: Vec<Gateway>,
    directory: ServiceDirectory,
}

impl Service {
    /// `processes` game processes started with `flags`, and `gateways`
    /// gateways; `None` (the test is skipped) without `redis-server`.
    async fn start(processes: usize, gateways: usize, flags: &[&str]) -> Option<Self> {
        let redis = Redis::start().await?;
        let url = redis.url();
        let processes = join_all((0..processes).map(|_| GameProcess::start(&url, flags))).await;
        let mut started = Vec::new();
        for _ in 0..gateways {
            started.push(Gateway::start(&url).await);
        }
        let directory = within(
            "the directory",
            ServiceDirectory::connect(&url, SERVICE, Duration::from_secs(2)),
        )
        .await
        .expect("the directory");
        let service = Self {
            redis,
            processes,
            gateways: started,
            directory,
        };
        service.registered(service.processes.len()).await;
        Some(service)
    }

    /// Waits until `count` processes are in the directory, served (hosting
    /// their kinds) and taking players; returns them.
    async fn registered(&self, count: usize) -> Vec<ProcessEntry> {
        poll_until("the processes registered and served", || async {
            let processes = self.directory.processes().await.ok()?;
            let served = processes
                .iter()
                .all(|process| !process.kinds.is_empty() && !process.draining);
            (processes.len() == count && served).then_some(processes)
        })
        .await
    }

    /// Where `player` plays, once the directory knows.
    async fn presence(&self, player: PlayerId) -> Presence {
        poll_until("the player's presence", || async {
            self.directory.presence(player).await.ok().flatten()
        })
        .await
    }

    /// Where the process `id` listens, as the directory has it.
    async fn addr_of(&self, id: &str) -> String {
        let processes = self.directory.processes().await.expect("the processes");
        processes
            .into_iter()
            .find(|process| process.id == id)
            .map(|process| process.addr)
            .expect("the process in the directory")
    }

    /// The directory's id of the process listening at `url`.
    async fn process_at(&self, url: &str) -> String {
        let processes = self.directory.processes().await.expect("the processes");
        processes
            .into_iter()
            .find(|process| process.addr == url)
            .map(|process| process.id)
            .expect("a process at the address")
    }

    async fn stop(self) {
        for gateway in self.gateways {
            gateway.stop().await;
        }
        for process in self.processes {
            process.stop().await;
        }
        drop(self.redis);
    }
}

fn table(title: &str) -> Table {
    Table {
        title: title.into(),
    }
}

/// Reconnects at once and resumes: what a game would configure.
fn reconnecting() -> ClientConfig {
    ClientConfig::default().reconnect(
        Reconnect::default()
            .initial_delay(Duration::from_millis(50))
            .max_delay(Duration::from_millis(200)),
    )
}

/// The close reason of the next disconnect `watcher` sees.
async fn disconnected(watcher: &mut Watcher, what: &str) -> Disconnect {
    watcher
        .next_where(what, |seen| match seen {
            Seen::Disconnected(reason) => Some(reason.clone()),
            _ => None,
        })
        .await
}

/// Waits for `watcher`'s mirror to show `player` at `(x, y)`, failing if the
/// watcher's connection pauses or ends meanwhile.
async fn sees_at(watcher: &mut Watcher, what: &str, player: PlayerId, (x, y): (f32, f32)) {
    if watcher
        .world
        .get(&player)
        .is_some_and(|avatar| (avatar.x, avatar.y) == (x, y))
    {
        return;
    }
    watcher
        .next_where(what, |seen| match seen {
            Seen::Sync(_, world) => world
                .get(&player)
                .is_some_and(|avatar| (avatar.x, avatar.y) == (x, y))
                .then_some(()),
            Seen::Paused(reason) | Seen::Disconnected(reason) => {
                panic!("{what}: the connection ended ({reason:?})")
            }
            _ => None,
        })
        .await;
}

/// Leaves for good (a normal close) and waits for the client to end.
async fn leave(mut watcher: Watcher) {
    watcher.sender.disconnect();
    let (_, ended) = watcher.finish("the client to leave").await;
    assert!(ended.is_ok(), "{ended:?}");
}

/// Waits for a chat line from `from` saying `msg`.
async fn hears(watcher: &mut Watcher, from: PlayerId, msg: &str) {
    watcher
        .next_where("a chat line", |seen| match seen {
            Seen::Event(ToClient::Chat {
                from: by,
                msg: said,
            }) if *by == from && said == msg => Some(()),
            _ => None,
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_match_made_through_one_gateway_is_joined_by_code_through_another() {
    let started = Instant::now();
    let Some(service) = Service::start(3, 2, &[]).await else {
        return;
    };
    let (one, other) = (&service.gateways[0], &service.gateways[1]);
    let made = Client::<nodelink_examples::Game>::create(&one.url, &table("ada's table")).unwrap();
    let mut ada = Watcher::start(made.url(), |_| {});
    let ada_id = ada.connected().await;
    let at = service.presence(ada_id).await;

    let mut bob = Watcher::start(
        Client::<nodelink_examples::Game>::join(&other.url, &at.match_code).url(),
        |_| {},
    );
    let bob_id = bob.connected().await;
    assert_eq!(service.presence(bob_id).await, at, "one match, one process");

    // State both ways.
    ada.sender.send(ToServer::Move { x: 1.0, y: 2.0 }).unwrap();
    sees_at(&mut bob, "ada's move", ada_id, (1.0, 2.0)).await;
    bob.sender.send(ToServer::Move { x: 3.0, y: 4.0 }).unwrap();
    sees_at(&mut ada, "bob's move", bob_id, (3.0, 4.0)).await;
    // Events both ways.
    ada.sender
        .send(ToServer::Chat {
            msg: "hello bob".into(),
        })
        .unwrap();
    hears(&mut bob, ada_id, "hello bob").await;
    bob.sender
        .send(ToServer::Chat {
            msg: "hello ada".into(),
        })
        .unwrap();
    hears(&mut ada, bob_id, "hello ada").await;
    // Each gateway spliced one player and relayed both ways.
    for gateway in [one, other] {
        let text = gateway.handle.metrics_text();
        assert!(
            text.contains("\nnodelink_gateway_requests_total{outcome=\"spliced\"} 1\n"),
            "{text}"
        );
        for direction in ["to_game", "to_players"] {
            let series = format!("nodelink_relay_messages_total{{direction=\"{direction}\"}} ");
            let count: u64 = text
                .lines()
                .find_map(|line| line.strip_prefix(&series))
                .and_then(|count| count.parse().ok())
                .unwrap_or_else(|| panic!("{series} in {text}"));
            assert!(count >= 2, "{series}{count}");
        }
    }

    drop((ada, bob));
    service.stop().await;
    figure(
        "create and join through two gateways (s)",
        started.elapsed().as_secs_f64(),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finds_through_both_gateways_fill_one_match_before_the_next() {
    let started = Instant::now();
    let Some(service) = Service::start(3, 2, &["--match-players=4"]).await else {
        return;
    };
    // Ten players find a match for the same table at once, through both
    // gateways: four a match.
    let mut finders: Vec<Watcher> = (0..10)
        .map(|n| {
            let gateway = &service.gateways[n % 2];
            let finding =
                Client::<nodelink_examples::Game>::find(&gateway.url, &table("storm")).unwrap();
            Watcher::start(finding.url(), |_| {})
        })
        .collect();
    let mut ids = Vec::new();
    for finder in &mut finders {
        ids.push(finder.connected().await);
    }
    let mut seated: BTreeMap<String, usize> = BTreeMap::new();
    let mut processes = Vec::new();
    for id in &ids {
        let at = service.presence(*id).await;
        *seated.entry(at.match_code).or_default() += 1;
        processes.push(at.process);
    }
    processes.dedup();
    assert_eq!(processes.len(), 1, "every find went to one process");
    let mut sizes: Vec<usize> = seated.values().copied().collect();
    sizes.sort_unstable();
    assert_eq!(
        sizes,
        [2, 4, 4],
        "one match made at a time, none over four: {seated:?}"
    );

    // The match with room has two seats left; six players race for them by its
    // code, through both gateways: two get in, the rest are told it is full.
    let open = seated
        .iter()
        .find(|(_, seated)| **seated == 2)
        .map(|(code, _)| code.clone())
        .unwrap();
    let offer = game_subprotocol();
    let racers = (0..6).map(|n| {
        let url = MatchRequest::join(&open).apply(&service.gateways[n % 2].url);
        let offer = offer.clone();
        async move { upgrade(&url, Some(&offer), &[]).await }
    });
    let answers = join_all(racers).await;
    let admitted = answers
        .iter()
        .filter(|(answer, _)| answer.status == 101)
        .count();
    let full: Vec<_> = answers
        .iter()
        .filter(|(answer, _)| answer.status != 101)
        .map(|(answer, _)| {
            (
                answer.status,
                answer.header(REFUSAL_HEADER).map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(admitted, 2, "exactly the free seats are taken");
    assert!(
        full.iter()
            .all(|refusal| *refusal == (409, Some("4212".to_owned()))),
        "the others are told the match is full: {full:?}"
    );

    // The next finder, with every match of the table full, makes a new one.
    let mut late = Watcher::start(
        Client::<nodelink_examples::Game>::find(&service.gateways[1].url, &table("storm"))
            .unwrap()
            .url(),
        |_| {},
    );
    let late_id = late.connected().await;
    let at = service.presence(late_id).await;
    assert!(!seated.contains_key(&at.match_code), "a new match");

    drop((answers, finders, late));
    service.stop().await;
    figure("find storm (s)", started.elapsed().as_secs_f64());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_find_that_a_full_process_refuses_goes_to_the_next() {
    let started = Instant::now();
    let Some(service) = Service::start(2, 1, &["--max-players=2"]).await else {
        return;
    };
    let gateway = &service.gateways[0].url;
    let find = || {
        Client::<nodelink_examples::Game>::find(gateway, &table("crowded"))
            .unwrap()
            .url()
            .to_owned()
    };
    // Finds go to the process ranked first for the table until it is full.
    let mut players = Vec::new();
    let mut at = Vec::new();
    for _ in 0..2 {
        let mut player = Watcher::start(&find(), |_| {});
        at.push(service.presence(player.connected().await).await);
        players.push(player);
    }
    assert_eq!(at[0], at[1], "one match");
    // The next is sent there too while the directory shows room (it is
    // published once a beat), told "server full" (4205), and passed to the
    // next process; or sent there at once once the directory shows it full.
    let mut third = Watcher::start(&find(), |_| {});
    let third_at = service.presence(third.connected().await).await;
    assert_ne!(third_at.process, at[0].process);
    players.push(third);

    drop(players);
    service.stop().await;
    figure("a full process's find (s)", started.elapsed().as_secs_f64());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_through_a_gateway_shows_every_process_matches() {
    let started = Instant::now();
    let Some(service) = Service::start(3, 2, &[]).await else {
        return;
    };
    // A match on each process (made there directly), with 1, 2 and 3 players.
    let mut players = Vec::new();
    let mut made = HashMap::new();
    for (n, process) in service.processes.iter().enumerate() {
        let title = format!("table {n}");
        let mut maker = Watcher::start(
            Client::<nodelink_examples::Game>::create(&process.url, &table(&title))
                .unwrap()
                .url(),
            |_| {},
        );
        let code = service.presence(maker.connected().await).await.match_code;
        players.push(maker);
        for _ in 0..n {
            let mut joiner = Watcher::start(
                Client::<nodelink_examples::Game>::join(&process.url, &code).url(),
                |_| {},
            );
            joiner.connected().await;
            players.push(joiner);
        }
        made.insert(
            code,
            (n as u32 + 1, title, service.process_at(&process.url).await),
        );
    }

    // Both gateways list them all, with their players, as the processes
    // publish them.
    for gateway in &service.gateways {
        let listing = poll_until("the listing of every process's matches", || async {
            let listing = Client::<nodelink_examples::Game>::list(&gateway.url)
                .await
                .ok()?;
            let shown = made.iter().all(|(code, (players, title, _))| {
                listing.iter().any(|listed| {
                    listed.code == *code
                        && listed.players == *players
                        && listed.metadata.title == *title
                })
            });
            shown.then_some(listing)
        })
        .await;
        // Besides them, the processes' default matches, empty.
        assert_eq!(listing.len(), 6, "{listing:?}");
        let mut codes: Vec<&str> = listing.iter().map(|listed| listed.code.as_str()).collect();
        let sorted = {
            let mut sorted = codes.clone();
            sorted.sort_unstable();
            sorted
        };
        assert_eq!(codes, sorted, "listed by code");
        codes.dedup();
        assert_eq!(codes.len(), 6);
    }
    // What no process could answer, the gateway refuses as a process would.
    let gateway = &service.gateways[0].url;
    for (query, status, code) in [
        ("?match=bogus", 400, "4209"),
        ("?match=list&kind=nope", 404, "4210"),
        ("?match=create&kind=nope", 404, "4210"),
    ] {
        let url = format!("{gateway}{query}");
        let (answer, _) = upgrade(&url, Some(&game_subprotocol()), &[]).await;
        assert_eq!(
            (answer.status, answer.header(REFUSAL_HEADER)),
            (status, Some(code)),
            "{query}: {}",
            answer.body
        );
    }
    // A listing, answered by the gateway itself, refuses a client of another
    // build of the protocol as the process would.
    {
        use nodelink::Protocol;
        let list = MatchRequest::list(nodelink_examples::Game::KIND).apply(gateway);
        let other = nodelink::wire::handshake::subprotocol(0x0123_4567_89ab_cdef);
        let (answer, _) = upgrade(&list, Some(&other), &[]).await;
        assert_eq!(
            (answer.status, answer.header(REFUSAL_HEADER)),
            (400, Some("4202")),
            "{}",
            answer.body
        );
        let ours = format!("{:016x}", nodelink_examples::Game::FINGERPRINT);
        assert_eq!(answer.header("x-nodelink-fingerprint"), Some(ours.as_str()));
        assert!(answer.body.contains("client fingerprint 0123456789abcdef"));
    }
    // An unknown code: while Redis has been up for less than a lease, the
    // gateway cannot tell it from a live match not published again yet, and
    // says to try again (4216); then it is unknown (4211).
    let url = MatchRequest::join("ZZZZZZ").apply(gateway);
    poll_until("the unknown code told unknown", || async {
        let (answer, _) = upgrade(&url, Some(&game_subprotocol()), &[]).await;
        match (answer.status, answer.header(REFUSAL_HEADER)) {
            (404, Some("4211")) => Some(()),
            (503, Some("4216")) => None,
            other => panic!("{other:?}: {}", answer.body),
        }
    })
    .await;
    let mut owners: Vec<&String> = made.values().map(|(_, _, owner)| owner).collect();
    owners.sort();
    owners.dedup();
    assert_eq!(owners.len(), 3, "one match on each process");

    drop(players);
    service.stop().await;
    figure("listing (s)", started.elapsed().as_secs_f64());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_process_players_are_told_and_others_play_on() {
    let started = Instant::now();
    let Some(mut service) = Service::start(3, 2, &[]).await else {
        return;
    };
    let (one, other) = (
        service.gateways[0].url.clone(),
        service.gateways[1].url.clone(),
    );
    // Ada made her match through a gateway; bob joined it by its code.
    let ada_request = Client::<nodelink_examples::Game>::create(&one, &table("doomed")).unwrap();
    let mut ada = Watcher::start_with(ada_request.url(), reconnecting(), |_| {});
    let ada_id = ada.connected().await;
    let doomed = service.presence(ada_id).await;
    let mut bob = Watcher::start(
        Client::<nodelink_examples::Game>::join(&other, &doomed.match_code).url(),
        |_| {},
    );
    bob.connected().await;

    // Dan plays on another process, with cy, who came through a gateway.
    let doomed_url = service.addr_of(&doomed.process).await;
    let doomed_at = service
        .processes
        .iter()
        .position(|process| process.url == doomed_url)
        .expect("the doomed process");
    let safe = &service.processes[(doomed_at + 1) % 3];
    let mut dan = Watcher::start(
        Client::<nodelink_examples::Game>::create(&safe.url, &table("safe"))
            .unwrap()
            .url(),
        |_| {},
    );
    let dan_id = dan.connected().await;
    let safe_match = service.presence(dan_id).await;
    let mut cy = Watcher::start_with(
        Client::<nodelink_examples::Game>::join(&one, &safe_match.match_code).url(),
        reconnecting(),
        |_| {},
    );
    let cy_id = cy.connected().await;
    cy.sender.send(ToServer::Move { x: 5.0, y: 5.0 }).unwrap();
    sees_at(&mut dan, "cy's move", cy_id, (5.0, 5.0)).await;

    let killed = Instant::now();
    service.processes[doomed_at].kill().await;

    // Until the directory forgets it, a request for the dead match is told the
    // game process cannot be reached (4217, worth retrying); then that the match
    // is unknown (4211).
    let by_code = MatchRequest::join(&doomed.match_code).apply(&one);
    let first = upgrade_answer(&by_code, Some(&game_subprotocol()), &[]).await;
    let first_after = killed.elapsed();
    match (first.status, first.header(REFUSAL_HEADER)) {
        (503, Some("4217")) => assert!(first.body.contains("cannot be reached"), "{first:?}"),
        (404, Some("4211")) => assert!(first_after >= LEASE, "{first:?} after {first_after:?}"),
        other => panic!("{other:?}: {first:?}"),
    }

    // Its players are told their process is gone; ada, who asked for a new
    // match, asks again and lands in a live process.
    let told = disconnected(&mut ada, "ada told her process is gone").await;
    assert_eq!(
        told.close_reason(),
        Some(CloseReason::ProcessLost),
        "{told:?}"
    );
    let told = disconnected(&mut bob, "bob told his process is gone").await;
    assert_eq!(
        told.close_reason(),
        Some(CloseReason::ProcessLost),
        "{told:?}"
    );
    let again = ada.connected().await;
    let now_at = service.presence(again).await;
    assert_ne!(now_at.process, doomed.process);
    assert_ne!(now_at.match_code, doomed.match_code);
    // Bob asked for that match by its code, which leads nowhere now: he is
    // not reconnecting (he never asked to), and sees nothing more.
    let (rest, ended) = bob.finish("bob's client to end").await;
    assert!(ended.is_ok(), "{ended:?}");
    assert!(rest.is_empty(), "{rest:?}");

    // The other process's players saw nothing of it.
    cy.sender.send(ToServer::Move { x: 6.0, y: 6.0 }).unwrap();
    sees_at(&mut dan, "cy's move after the kill", cy_id, (6.0, 6.0)).await;
    sees_at(&mut cy, "cy's own move after the kill", cy_id, (6.0, 6.0)).await;
    assert_eq!(service.presence(cy_id).await, safe_match);

    // The directory forgets the dead process within its lease, and its match
    // with it.
    poll_until("the dead process forgotten", || async {
        let processes = service.directory.processes().await.ok()?;
        processes
            .iter()
            .all(|process| process.id != doomed.process)
            .then_some(())
    })
    .await;
    let forgotten = killed.elapsed();
    figure(
        "a killed process forgotten after (ms)",
        forgotten.as_millis(),
    );
    assert!(
        forgotten <= LEASE + Duration::from_millis(300),
        "forgotten after {forgotten:?}, the lease is {LEASE:?}"
    );
    assert_eq!(
        service
            .directory
            .owner_of(&doomed.match_code)
            .await
            .unwrap(),
        None
    );
    let listed = service.directory.listing("game", None, 100).await.unwrap();
    assert!(listed.iter().all(|listed| listed.code != doomed.match_code));

    drop((ada, cy, dan));
    let dead = service.processes.remove(doomed_at);
    drop(dead);
    service.stop().await;
    figure("killed process (s)", started.elapsed().as_secs_f64());
}

/// A TCP balancer in front of the gateways, as a load balancer (or DNS with
/// several addresses) would be: each new connection goes to the first gateway
/// that takes it.
struct Balancer {
    url: String,
    /// Connections passed to each gateway, by its place in the list.
    passed: Arc<Vec<AtomicUsize>>,
    task: JoinHandle<()>,
}

impl Balancer {
    async fn start(gateways: Vec<SocketAddr>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let url = format!("ws://{}/", listener.local_addr().expect("an address"));
        let passed: Arc<Vec<AtomicUsize>> =
            Arc::new(gateways.iter().map(|_| AtomicUsize::new(0)).collect());
        let counts = passed.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut player, _)) = listener.accept().await {
                let gateways = gateways.clone();
                let counts = counts.clone();
                tokio::spawn(async move {
                    for (n, gateway) in gateways.iter().enumerate() {
                        if let Ok(mut upstream) = TcpStream::connect(gateway).await {
                            counts[n].fetch_add(1, Ordering::Relaxed);
                            let _ = tokio::io::copy_bidirectional(&mut player, &mut upstream).await;
                            return;
                        }
                    }
                });
            }
        });
        Self { url, passed, task }
    }

    fn passed_to(&self, gateway: usize) -> usize {
        self.passed[gateway].load(Ordering::Relaxed)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_gateway_players_resume_through_another() {
    let started = Instant::now();
    let Some(mut service) = Service::start(2, 2, &[]).await else {
        return;
    };
    let balancer = Balancer::start(
        service
            .gateways
            .iter()
            .map(|gateway| gateway.addr)
            .collect(),
    )
    .await;

    // Ada made a match, bob plays in a default match, both through the
    // balancer's first gateway; cy watches ada's match from its process.
    let mut ada = Watcher::start_with(
        Client::<nodelink_examples::Game>::create(&balancer.url, &table("ada's"))
            .unwrap()
            .url(),
        reconnecting(),
        |_| {},
    );
    let ada_id = ada.connected().await;
    let mut bob = Watcher::start_with(&balancer.url, reconnecting(), |_| {});
    let bob_id = bob.connected().await;
    assert_eq!(balancer.passed_to(0), 2);
    let ada_at = service.presence(ada_id).await;
    let bob_at = service.presence(bob_id).await;
    let process_url = service.addr_of(&ada_at.process).await;
    let mut cy = Watcher::start(
        Client::<nodelink_examples::Game>::join(&process_url, &ada_at.match_code).url(),
        |_| {},
    );
    cy.connected().await;
    ada.sender.send(ToServer::Move { x: 7.0, y: 7.0 }).unwrap();
    sees_at(&mut cy, "ada's move", ada_id, (7.0, 7.0)).await;
    bob.sender.send(ToServer::Move { x: 1.0, y: 1.0 }).unwrap();
    sees_at(&mut bob, "bob's move", bob_id, (1.0, 1.0)).await;

    service.gateways.remove(0).kill().await;

    // Both resume through the other gateway as themselves, where they were.
    for (watcher, id, name) in [(&mut ada, ada_id, "ada"), (&mut bob, bob_id, "bob")] {
        let paused = watcher
            .next_where("the lost connection", |seen| match seen {
                Seen::Paused(reason) => Some(reason.clone()),
                Seen::Disconnected(reason) => panic!("{name}'s session ended: {reason:?}"),
                _ => None,
            })
            .await;
        assert!(matches!(paused, Disconnect::Lost(_)), "{paused:?}");
        let resumed = watcher
            .next_where("the resume", |seen| match seen {
                Seen::Resumed(id) => Some(*id),
                Seen::Connected(id) => panic!("{name} joined afresh as {id}"),
                Seen::Disconnected(reason) => panic!("{name}'s session ended: {reason:?}"),
                _ => None,
            })
            .await;
        assert_eq!(resumed, id, "{name} resumed as herself");
    }
    assert!(balancer.passed_to(1) >= 2);
    assert_eq!(service.presence(ada_id).await, ada_at);
    assert_eq!(service.presence(bob_id).await, bob_at);
    // State kept, and play goes on.
    sees_at(&mut bob, "bob where he was", bob_id, (1.0, 1.0)).await;
    ada.sender.send(ToServer::Move { x: 8.0, y: 8.0 }).unwrap();
    sees_at(&mut cy, "ada's move after the resume", ada_id, (8.0, 8.0)).await;

    drop((ada, bob, cy));
    balancer.task.abort();
    service.stop().await;
    figure("killed gateway (s)", started.elapsed().as_secs_f64());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matches_play_through_a_redis_restart_and_matchmaking_recovers() {
    let started = Instant::now();
    let Some(mut service) = Service::start(2, 2, &[]).await else {
        return;
    };
    let (one, other) = (
        service.gateways[0].url.clone(),
        service.gateways[1].url.clone(),
    );
    let mut ada = Watcher::start(
        Client::<nodelink_examples::Game>::create(&one, &table("through"))
            .unwrap()
            .url(),
        |_| {},
    );
    let ada_id = ada.connected().await;
    let at = service.presence(ada_id).await;
    let mut bob = Watcher::start(
        Client::<nodelink_examples::Game>::join(&other, &at.match_code).url(),
        |_| {},
    );
    let bob_id = bob.connected().await;

    service.redis.kill().await;
    // Frames never touch Redis: the match plays on.
    bob.sender.send(ToServer::Move { x: 4.0, y: 2.0 }).unwrap();
    sees_at(&mut ada, "bob's move without Redis", bob_id, (4.0, 2.0)).await;

    // New requests are refused, saying why, within the directory's timeout.
    for url in [
        MatchRequest::create("game", &table("new"), false)
            .unwrap()
            .apply(&one),
        MatchRequest::join(&at.match_code).apply(&other),
        other.clone(),
    ] {
        let asked = Instant::now();
        let (answer, _) = upgrade(&url, Some(&game_subprotocol()), &[]).await;
        assert_eq!(answer.status, 503, "{url}: {answer:?}");
        assert_eq!(answer.header(REFUSAL_HEADER), Some("4216"));
        assert!(answer.body.contains("directory"), "{}", answer.body);
        assert!(
            asked.elapsed() < Duration::from_secs(3),
            "{:?}",
            asked.elapsed()
        );
    }
    // A client that asks for refusals as close codes (a browser's) is told 4216.
    let offer = format!("{}, {}", game_subprotocol(), REFUSALS_SUBPROTOCOL);
    let (answer, socket) = upgrade(&one, Some(&offer), &[]).await;
    assert_eq!(answer.status, 101);
    let closed = within("the refusal's close frame", async {
        let mut socket = socket.expect("upgraded");
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(frame))) => return frame,
                Some(Ok(_)) => {}
                other => panic!("no close frame: {other:?}"),
            }
        }
    })
    .await
    .expect("a close frame");
    assert_eq!(u16::from(closed.code), 4216);
    assert!(closed.reason.contains("directory"), "{}", closed.reason);
    // A Rust client is told so by kind.
    let refused = within(
        "a create refused",
        Client::<nodelink_examples::Game>::create(&one, &table("new"))
            .unwrap()
            .run(),
    )
    .await;
    assert!(
        matches!(
            refused,
            Err(ClientError::Refused {
                status: 503,
                kind: Some(RefusalKind::DirectoryUnavailable),
                ..
            })
        ),
        "{refused:?}"
    );

    // Redis back, empty: the processes publish themselves again, and new
    // players are placed, as a Rust client that retries finds.
    // A gateway started meanwhile refuses alike, and routes once Redis is back.
    let late = Gateway::start(&service.redis.url()).await;
    let (answer, _) = upgrade(&late.url, Some(&game_subprotocol()), &[]).await;
    assert_eq!(
        (answer.status, answer.header(REFUSAL_HEADER)),
        (503, Some("4216"))
    );

    service.redis.restart().await;
    // Until every process has published itself again, a match's code may be
    // missing from the directory: a join is told to try again, never that its
    // match is unknown.
    let (answer, early) = upgrade(
        &MatchRequest::join(&at.match_code).apply(&one),
        Some(&game_subprotocol()),
        &[],
    )
    .await;
    let told = (answer.status, answer.header(REFUSAL_HEADER));
    assert!(
        matches!(told, (101, None) | (503, Some("4216"))),
        "{answer:?}"
    );
    drop(early);
    let mut cy = Watcher::start_with(
        Client::<nodelink_examples::Game>::join(&one, &at.match_code).url(),
        reconnecting(),
        |_| {},
    );
    let cy_id = cy.connected().await;
    assert_eq!(service.presence(cy_id).await, at);
    sees_at(&mut cy, "bob in the match", bob_id, (4.0, 2.0)).await;
    let mut dan = Watcher::start_with(
        Client::<nodelink_examples::Game>::create(&other, &table("after"))
            .unwrap()
            .url(),
        reconnecting(),
        |_| {},
    );
    dan.connected().await;
    let mut eve = Watcher::start_with(
        Client::<nodelink_examples::Game>::join(&late.url, &at.match_code).url(),
        reconnecting(),
        |_| {},
    );
    let eve_id = eve.connected().await;
    assert_eq!(service.presence(eve_id).await, at);
    service.gateways.push(late);
    // The match played through: ada and bob never noticed.
    ada.sender.send(ToServer::Move { x: 9.0, y: 9.0 }).unwrap();
    sees_at(&mut bob, "ada's move after the restart", ada_id, (9.0, 9.0)).await;

    drop((ada, bob, cy, dan, eve));
    service.stop().await;
    figure("Redis restart (s)", started.elapsed().as_secs_f64());
}

/// An upgrade to the gateway at `addr` from the local address `from` (any of
/// 127.0.0.0/8), for the default match, with `forwarded` as its own
/// `X-Forwarded-For` if any: its HTTP status, and the connection when accepted.
async fn upgrade_from(
    from: IpAddr,
    addr: SocketAddr,
    forwarded: Option<&str>,
) -> (u16, Option<tokio_tungstenite::WebSocketStream<TcpStream>>) {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::Error;
    let socket = TcpSocket::new_v4().expect("a socket");
    socket.bind(SocketAddr::new(from, 0)).expect("binds");
    let tcp = within("connecting", socket.connect(addr))
        .await
        .expect("connects");
    let mut request = format!("ws://{addr}/")
        .into_client_request()
        .expect("a request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        game_subprotocol().parse().expect("a header value"),
    );
    if let Some(forwarded) = forwarded {
        request.headers_mut().insert(
            "x-forwarded-for",
            forwarded.parse().expect("a header value"),
        );
    }
    match within("the upgrade", tokio_tungstenite::client_async(request, tcp)).await {
        Ok((socket, response)) => (response.status().as_u16(), Some(socket)),
        Err(Error::Http(response)) => (response.status().as_u16(), None),
        Err(other) => panic!("unexpected handshake error: {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_ip_limits_count_the_players_address_behind_a_gateway() {
    let started = Instant::now();
    let Some(service) = Service::start(1, 1, &["--per-ip=2"]).await else {
        return;
    };
    let gateway = service.gateways[0].addr;
    let (first, second, third) = (
        "127.0.0.2".parse().unwrap(),
        "127.0.0.3".parse().unwrap(),
        "127.0.0.4".parse().unwrap(),
    );
    // Every connection reaches the process from the gateway's address; the
    // process counts each player's own.
    let mut held = Vec::new();
    for _ in 0..2 {
        let (status, socket) = upgrade_from(first, gateway, None).await;
        assert_eq!(status, 101);
        held.push(socket);
    }
    let (status, _) = upgrade_from(first, gateway, None).await;
    assert_eq!(status, 429, "a third from one address is one too many");
    // Naming another address itself does not help: the gateway adds the one it
    // saw, which is the one the process counts.
    let (status, _) = upgrade_from(first, gateway, Some("127.0.0.9")).await;
    assert_eq!(status, 429, "a player cannot choose its address");
    for from in [second, third] {
        let (status, socket) = upgrade_from(from, gateway, None).await;
        assert_eq!(status, 101, "{from} has places of its own");
        held.push(socket);
    }
    drop(held);
    service.stop().await;
    figure("per-IP limits (s)", started.elapsed().as_secs_f64());
}

/// The Python client (`tests/python/interop_client.py`), connected to `port`.
fn python_client(port: u16) -> ChildReports {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/interop_client.py");
    let mut command = Command::new(python());
    command.arg(script).arg(port.to_string());
    ChildReports::spawn("the Python client", &mut command, false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_client_through_a_gateway_lands_in_a_default_match() {
    let started = Instant::now();
    let Some(service) = Service::start(2, 1, &[]).await else {
        return;
    };
    let mut python = python_client(service.gateways[0].addr.port());
    let welcome = python.expect("welcome").await;
    let python_id: PlayerId = welcome["id"].as_str().expect("an id").parse().unwrap();
    let at = service.presence(python_id).await;

    // Its match is its process's default match: where a client that asks that
    // process for nothing in particular lands.
    let process_url = service.addr_of(&at.process).await;
    let mut native = Watcher::connect(&process_url).await;
    let native_id = native.id.unwrap();
    assert_eq!(service.presence(native_id).await, at);
    sees_at(
        &mut native,
        "the Python client's move",
        python_id,
        (1.5, -2.0),
    )
    .await;
    native
        .sender
        .send(ToServer::Chat { msg: "quit".into() })
        .unwrap();
    python.exited().await;
    drop(native);
    service.stop().await;
    figure(
        "Python through a gateway (s)",
        started.elapsed().as_secs_f64(),
    );
}

/// The TypeScript interop client (`clients/typescript/test/e2e/interop-client.ts`).
struct TsClient(ChildReports);

impl TsClient {
    /// Started with `args` and connected: the client and its welcome report.
    async fn welcomed(url: &str, args: &[&str]) -> (Self, Value) {
        let script = typescript_package().join("dist/test/e2e/interop-client.js");
        let mut command = Command::new("node");
        command.arg(script).arg(url).args(args);
        let mut client = Self(ChildReports::spawn(
            "the TypeScript client",
            &mut command,
            true,
        ));
        client.0.command(&json!({ "cmd": "connect" })).await;
        let welcome = client.0.expect("connect").await;
        (client, welcome)
    }

    async fn exit(mut self) {
        self.0.command(&json!({ "cmd": "exit" })).await;
        self.0.exited().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typescript_client_creates_joins_and_lists_through_gateways() {
    let started = Instant::now();
    let Some(service) = Service::start(2, 2, &[]).await else {
        return;
    };
    let (one, other) = (&service.gateways[0].url, &service.gateways[1].url);
    let (mut ada, welcome) = TsClient::welcomed(one, &["--create=ts table"]).await;
    let code = welcome["match_code"].as_str().expect("a code").to_owned();
    let ada_id: PlayerId = welcome["id"].as_str().unwrap().parse().unwrap();
    let (bob, welcome) = TsClient::welcomed(other, &[&format!("--join={code}")]).await;
    assert_eq!(welcome["match_code"], code.as_str());
    let bob_id: PlayerId = welcome["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        service.presence(ada_id).await,
        service.presence(bob_id).await
    );
    let mut both = vec![ada_id.to_string(), bob_id.to_string()];
    both.sort();
    ada.0
        .expect_where("sync", |sync| {
            let mut ids: Vec<String> = sync["world"].as_object()?.keys().cloned().collect();
            ids.sort();
            (ids == both).then_some(())
        })
        .await;

    // Its listing through a gateway shows the match with both players, once
    // its process has published them.
    within("the TypeScript listing", async {
        let mut asks = tokio::time::interval(Duration::from_millis(50));
        loop {
            asks.tick().await;
            ada.0.command(&json!({ "cmd": "list" })).await;
            let listing = ada.0.expect("listing").await;
            let shown = listing["matches"]
                .as_array()
                .expect("matches")
                .iter()
                .any(|entry| {
                    entry["code"] == code.as_str()
                        && entry["players"] == 2
                        && entry["metadata"]["title"] == "ts table"
                });
            if shown {
                return;
            }
        }
    })
    .await;

    // Its process killed, it is told so by the gateway. (What it does next is
    // the TypeScript client's own: today it asks for the dead match again.)
    let mut service = service;
    let at = service.presence(ada_id).await;
    let url = service.addr_of(&at.process).await;
    let n = service
        .processes
        .iter()
        .position(|process| process.url == url)
        .expect("ada's process");
    service.processes[n].kill().await;
    let told = ada.0.expect("disconnect").await;
    assert_eq!(
        (&told["code"], &told["reason"]),
        (&json!(4105), &json!("game process lost"))
    );
    service.processes.remove(n);
    ada.exit().await;
    bob.exit().await;
    service.stop().await;
    figure(
        "TypeScript through gateways (s)",
        started.elapsed().as_secs_f64(),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draining_process_gets_nothing_new_and_its_matches_play_out() {
    let started = Instant::now();
    let Some(mut service) = Service::start(2, 1, &[]).await else {
        return;
    };
    let gateway = service.gateways[0].url.clone();
    let (drained_url, busy_url) = (
        service.processes[0].url.clone(),
        service.processes[1].url.clone(),
    );
    let drained = service.process_at(&drained_url).await;
    let busy = service.process_at(&busy_url).await;
    // Ada's match on the process that will drain, with bob, who came through
    // the gateway; three players on the other, so that the first is the least
    // loaded.
    let mut ada = Watcher::start(
        Client::<nodelink_examples::Game>::create(&drained_url, &table("last round"))
            .unwrap()
            .url(),
        |_| {},
    );
    let ada_id = ada.connected().await;
    let round = service.presence(ada_id).await;
    let mut bob = Watcher::start(
        Client::<nodelink_examples::Game>::join(&gateway, &round.match_code).url(),
        |_| {},
    );
    let bob_id = bob.connected().await;
    let mut others = Vec::new();
    for _ in 0..3 {
        others.push(Watcher::connect(&busy_url).await);
    }
    let loads = |drained_players: usize| {
        let directory = service.directory.clone();
        let (drained, busy) = (drained.clone(), busy.clone());
        async move {
            poll_until("the loads published", || async {
                let processes = directory.processes().await.ok()?;
                let players = |id: &str| processes.iter().find(|p| p.id == id).map(|p| p.players);
                (players(&drained)? == drained_players && players(&busy)? == 3).then_some(())
            })
            .await;
        }
    };
    loads(2).await;
    // Until it drains, a new match through the gateway goes there.
    let mut before = Watcher::start(
        Client::<nodelink_examples::Game>::create(&gateway, &table("before"))
            .unwrap()
            .url(),
        |_| {},
    );
    let before_id = before.connected().await;
    assert_eq!(service.presence(before_id).await.process, drained);
    leave(before).await;
    loads(2).await;

    service.processes[0].drain().await;
    poll_until("the process shown draining", || async {
        let processes = service.directory.processes().await.ok()?;
        processes
            .iter()
            .any(|process| process.id == drained && process.draining)
            .then_some(())
    })
    .await;

    // Nothing new goes there: new matches, finds (even for the table it has
    // room at) and the default match are placed on the other process.
    let requests = [
        Client::<nodelink_examples::Game>::create(&gateway, &table("after"))
            .unwrap()
            .url()
            .to_owned(),
        Client::<nodelink_examples::Game>::find(&gateway, &table("last round"))
            .unwrap()
            .url()
            .to_owned(),
        gateway.clone(),
    ];
    for request in &requests {
        let mut newcomer = Watcher::start(request, |_| {});
        let id = newcomer.connected().await;
        let at = service.presence(id).await;
        assert_eq!(at.process, busy, "{request}");
        assert_ne!(at.match_code, round.match_code);
        leave(newcomer).await;
    }
    // Asked directly, it refuses anything new.
    let (answer, _) = upgrade(
        &MatchRequest::create("game", &table("direct"), false)
            .unwrap()
            .apply(&drained_url),
        Some(&game_subprotocol()),
        &[],
    )
    .await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (503, "server shutting down")
    );
    // Its matches are listed no more.
    let listing = Client::<nodelink_examples::Game>::list(&gateway)
        .await
        .expect("a listing");
    assert!(listing.iter().all(|listed| listed.code != round.match_code));

    // Ada's match plays on, and takes a player who joins it by its code.
    bob.sender.send(ToServer::Move { x: 2.0, y: 3.0 }).unwrap();
    sees_at(&mut ada, "bob's move while draining", bob_id, (2.0, 3.0)).await;
    let mut cy = Watcher::start(
        Client::<nodelink_examples::Game>::join(&gateway, &round.match_code).url(),
        |_| {},
    );
    let cy_id = cy.connected().await;
    sees_at(&mut ada, "cy in ada's match", cy_id, (0.0, 0.0)).await;

    // Once its last player has left, it stops, and leaves the directory.
    for player in [ada, bob, cy] {
        leave(player).await;
    }
    let mut process = service.processes.remove(0);
    process.exited().await;
    poll_until("the drained process gone from the directory", || async {
        let processes = service.directory.processes().await.ok()?;
        processes
            .iter()
            .all(|process| process.id != drained)
            .then_some(())
    })
    .await;

    drop(others);
    service.stop().await;
    figure("draining process (s)", started.elapsed().as_secs_f64());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_behind_a_home_router_still_hosts_through_a_gateway() {
    let Some(service) = Service::start(1, 1, &[]).await else {
        return;
    };
    let gateway = service.gateways[0].url.trim_end_matches('/').to_owned();
    // A game that dials out to the gateway as it would to a relay, beside the
    // service's own processes.
    let (server, _reports) = nodelink_tests::reporting_game(nodelink_tests::local_config());
    let hosted = within("registering with the gateway", server.relay(&gateway))
        .await
        .expect("registers");
    let code = hosted.code().to_owned();
    let handle = hosted.handle();
    let serving = tokio::spawn(hosted.run());

    let ann = Watcher::connect(&format!("{gateway}/join/{code}")).await;
    let ann_id = ann.id.expect("welcomed");
    let mut bob = Watcher::connect(&format!("{gateway}/join/{code}")).await;
    ann.sender.send(ToServer::Move { x: 7.0, y: 8.0 }).unwrap();
    sees_at(
        &mut bob,
        "ann's move through the relayed game",
        ann_id,
        (7.0, 8.0),
    )
    .await;
    // The relay's code is not a service match: the directory knows nothing of it,
    // and the service's own matches go on beside it.
    assert_eq!(service.directory.owner_of(&code).await.unwrap(), None);
    let made =
        Client::<nodelink_examples::Game>::create(&service.gateways[0].url, &table("beside"))
            .unwrap();
    let mut cy = Watcher::start(made.url(), |_| {});
    let cy_id = cy.connected().await;
    assert_ne!(service.presence(cy_id).await.match_code, code);

    handle.shutdown();
    within("the relayed game to stop", serving).await.unwrap();
    drop((ann, bob, cy));
    service.stop().await;
}
