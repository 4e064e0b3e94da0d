//! Many matches in one server, and the matchmaker: matches of two kinds (a lobby,
//! the server's own, and an arena) with their own protocols, created, joined by
//! code, found by their options and listed, each isolated from the others; places
//! taken atomically; every refusal named; a match ends when its game ends it or
//! once empty; a session resumes into its own match.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use nodelink::client::{Client, ClientConfig, ClientError, Disconnect, Reconnect};
use nodelink::server::{MatchKind, Server, ServerHandle};
use nodelink::testing::FaultyProxy;
use nodelink::wire::{CloseReason, RefusalKind};
use nodelink::{PlayerId, Protocol, SyncState};
use nodelink_tests::{local_config, poll_until, serve, within, Running};
use tokio::sync::mpsc;

/// What a client asks an arena for, and what an arena shows in listings.
#[nodelink::data]
#[derive(Clone, Debug, Default, PartialEq)]
struct Mode {
    ranked: bool,
}

#[derive(SyncState, Clone, Debug, Default, PartialEq)]
struct Fighter {
    x: f32,
}

#[nodelink::events]
#[derive(Debug, Clone, PartialEq)]
enum ArenaIn {
    Move { x: f32 },
    Lock,
    End,
    Crash,
}

#[nodelink::events]
#[derive(Debug, Clone, PartialEq)]
enum ArenaOut {
    Welcome { ranked: bool },
}

#[nodelink::protocol(state = Fighter, to_server = ArenaIn, to_client = ArenaOut,
                     options = Mode, metadata = Mode)]
struct Arena;

#[derive(SyncState, Clone, Debug, Default, PartialEq)]
struct Visitor {
    seat: u8,
}

#[nodelink::events]
#[derive(Debug, Clone, PartialEq)]
enum LobbyIn {
    Wave,
}

#[nodelink::events]
#[derive(Debug, Clone, PartialEq)]
enum LobbyOut {
    Waved,
}

#[nodelink::protocol(state = Visitor, to_server = LobbyIn, to_client = LobbyOut)]
struct Lobby;

/// An arena match's own value, made from its options.
struct Round {
    ranked: bool,
}

/// What the servers' handlers report.
#[derive(Debug, Clone, PartialEq)]
enum Report {
    Joined { code: String, id: PlayerId },
    Left { code: String, id: PlayerId },
    Error { code: String, error: String },
}

type Reports = mpsc::UnboundedReceiver<Report>;

/// The arena kind: three players a match, a short linger, matches found by mode.
fn arena(reports: mpsc::UnboundedSender<Report>) -> MatchKind<Arena, Round> {
    let mut arena = MatchKind::<Arena, Round>::with_game(|mode: &Mode| Round {
        ranked: mode.ranked,
    });
    arena
        .max_players(3)
        .linger(Duration::from_millis(100))
        .metadata(Mode::clone)
        .filter(|wanted, listed| wanted.ranked == listed.ranked);
    let report = reports.clone();
    arena.on_connect(move |ctx| {
        let (code, id) = (ctx.match_code().to_owned(), ctx.id());
        let ranked = ctx.game().ranked;
        let _ = ctx.send_to(id, ArenaOut::Welcome { ranked });
        let _ = report.send(Report::Joined { code, id });
    });
    let report = reports.clone();
    arena.on_disconnect(move |ctx| {
        let (code, id) = (ctx.match_code().to_owned(), ctx.id());
        let _ = report.send(Report::Left { code, id });
    });
    arena.on_move(|ctx, ArenaInMove { x }| {
        ctx.player().state_mut().set_x(x);
    });
    arena.on_lock(|ctx| ctx.lock_match());
    arena.on_end(|ctx| ctx.end_match());
    arena.on_crash(|_| -> nodelink::HandlerResult { panic!("the arena crashed") });
    let report = reports;
    arena.on_error(move |error, _| {
        let _ = report.send(Report::Error {
            code: String::new(),
            error: error.to_string(),
        });
    });
    arena
}

/// A lobby server (its default match) that also hosts arenas.
async fn service() -> (Running<Lobby>, Reports) {
    let (reports, seen) = mpsc::unbounded_channel();
    let mut server = Server::<Lobby>::new(local_config());
    server.kind(arena(reports));
    (serve(server).await, seen)
}

/// What a client of protocol `P` sees, in order.
#[derive(Debug)]
enum Got<P: Protocol> {
    Welcome { id: PlayerId, code: String },
    Event(P::ToClient),
    Sync(Vec<(PlayerId, P::State)>),
    Paused,
    Resumed { id: PlayerId },
    Closed(Disconnect),
}

/// A running client, and what it saw.
struct Player<P: Protocol> {
    seen: mpsc::UnboundedReceiver<Got<P>>,
    sender: nodelink::client::ClientSender<P>,
    result: tokio::task::JoinHandle<Result<(), ClientError>>,
}

impl<P: Protocol> Player<P>
where
    P::ToClient: Clone + std::fmt::Debug,
    P::State: Clone + std::fmt::Debug,
{
    fn start(client: Client<P>) -> Self {
        Self::start_with(client, |_, _| {})
    }

    /// Starts `client`, with `events` registering its event handlers, which report
    /// into the sender they are given.
    fn start_with(
        mut client: Client<P>,
        events: impl FnOnce(&mut Client<P>, mpsc::UnboundedSender<Got<P>>),
    ) -> Self {
        let (tx, seen) = mpsc::unbounded_channel();
        events(&mut client, tx.clone());
        let welcomed = tx.clone();
        client.on_connect(move |ctx| {
            let code = ctx.match_code().unwrap_or_default().to_owned();
            let _ = welcomed.send(Got::Welcome { id: ctx.id(), code });
        });
        let resumed = tx.clone();
        client.on_resume(move |ctx| {
            let _ = resumed.send(Got::Resumed { id: ctx.id() });
        });
        let paused = tx.clone();
        client.on_pause(move |_| {
            let _ = paused.send(Got::Paused);
        });
        let synced = tx.clone();
        client.on_state_sync(move |ctx, _| {
            let players = ctx
                .world()
                .players()
                .map(|(id, state)| (id, state.clone()))
                .collect();
            let _ = synced.send(Got::Sync(players));
        });
        let closed = tx;
        client.on_disconnect(move |reason| {
            let _ = closed.send(Got::Closed(reason.clone()));
        });
        let sender = client.sender();
        let result = tokio::spawn(client.run());
        Self {
            seen,
            sender,
            result,
        }
    }

    async fn next_where<T>(&mut self, what: &str, mut pick: impl FnMut(&Got<P>) -> Option<T>) -> T {
        within(what, async {
            loop {
                match self.seen.recv().await {
                    Some(got) => {
                        if let Some(found) = pick(&got) {
                            return found;
                        }
                    }
                    None => {
                        let ended = (&mut self.result).await;
                        panic!("the client stopped before {what}: {ended:?}")
                    }
                }
            }
        })
        .await
    }

    /// The welcome: the player's id and its match's code.
    async fn welcomed(&mut self) -> (PlayerId, String) {
        self.next_where("the welcome", |got| match got {
            Got::Welcome { id, code } => Some((*id, code.clone())),
            _ => None,
        })
        .await
    }

    /// Waits for a mirror of exactly these players.
    async fn sees(&mut self, players: &[PlayerId]) -> Vec<(PlayerId, P::State)> {
        let mut wanted = players.to_vec();
        wanted.sort();
        self.next_where("the mirror", |got| match got {
            Got::Sync(mirror) => {
                let mut ids: Vec<PlayerId> = mirror.iter().map(|(id, _)| *id).collect();
                ids.sort();
                (ids == wanted).then(|| mirror.clone())
            }
            _ => None,
        })
        .await
    }

    async fn closed(&mut self) -> Disconnect {
        self.next_where("the close", |got| match got {
            Got::Closed(reason) => Some(reason.clone()),
            _ => None,
        })
        .await
    }

    /// The error that ended the client before it was welcomed.
    async fn refused(self) -> ClientError {
        within("the refusal", self.result)
            .await
            .expect("the client task ends")
            .expect_err("refused")
    }
}

/// Reports every arena event.
#[derive(Clone)]
struct Forward(mpsc::UnboundedSender<Got<Arena>>);

impl ArenaOutHandler<Client<Arena>> for Forward {
    fn on_welcome(
        &mut self,
        _: &mut nodelink::client::ClientCtx<'_, Arena>,
        event: ArenaOutWelcome,
    ) -> nodelink::HandlerResult {
        let _ = self.0.send(Got::Event(event.into()));
        Ok(())
    }
}

/// An arena player, its events reported.
fn arena_player(client: Client<Arena>) -> Player<Arena> {
    Player::start_with(client, |client, tx| {
        client.handle_all(Forward(tx));
    })
}

/// The status and kind of a refusal the Rust client read.
fn refusal_of(error: &ClientError) -> (u16, Option<RefusalKind>) {
    match error {
        ClientError::Refused { status, kind, .. } => (*status, *kind),
        other => panic!("expected a refusal, got {other}"),
    }
}

fn arena_url(running: &Running<Lobby>) -> String {
    running.url()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matches_are_isolated_and_joined_by_code() {
    let (running, mut reports) = service().await;
    let url = arena_url(&running);
    let mut ada = arena_player(Client::<Arena>::create(&url, &Mode { ranked: true }).unwrap());
    let (ada_id, code) = ada.welcomed().await;
    assert_eq!(code.len(), 6, "a short code: {code}");
    let mut bob = arena_player(Client::<Arena>::join(&url, &code.to_lowercase()));
    let (bob_id, bob_code) = bob.welcomed().await;
    assert_eq!(bob_code, code, "bob is in ada's match");
    assert_eq!(
        bob.next_where("bob's welcome event", |got| match got {
            Got::Event(event) => Some(event.clone()),
            _ => None,
        })
        .await,
        ArenaOut::Welcome { ranked: true },
        "the match's game value came from its options"
    );
    let mut cy = arena_player(Client::<Arena>::create(&url, &Mode::default()).unwrap());
    let (cy_id, cy_code) = cy.welcomed().await;
    assert_ne!(cy_code, code, "a new match");

    // Each mirrors its own match only: bob sees ada move, and never cy.
    ada.sender.send(ArenaIn::Move { x: 7.0 }).unwrap();
    bob.next_where("ada's move", |got| match got {
        Got::Sync(mirror) => {
            assert!(
                mirror.iter().all(|(id, _)| *id != cy_id),
                "cy in bob's mirror"
            );
            let has_bob = mirror.iter().any(|(id, _)| *id == bob_id);
            (has_bob
                && mirror
                    .iter()
                    .any(|(id, state)| *id == ada_id && state.x == 7.0))
            .then_some(())
        }
        _ => None,
    })
    .await;
    cy.sees(&[cy_id]).await;

    // The server lists its matches: the lobby's default one and two arenas.
    let matches = running.handle.matches();
    let kinds: Vec<(&str, usize)> = matches
        .iter()
        .map(|info| (info.kind.as_str(), info.players))
        .collect();
    assert_eq!(matches.len(), 3, "{matches:?}");
    assert!(kinds.contains(&("lobby", 0)));
    assert!(matches
        .iter()
        .any(|info| info.code == code && info.players == 2 && info.max_players == 3));
    let joined = [
        reports.recv().await.unwrap(),
        reports.recv().await.unwrap(),
        reports.recv().await.unwrap(),
    ];
    assert!(joined.contains(&Report::Joined {
        code: cy_code.clone(),
        id: cy_id
    }));
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn find_joins_a_suitable_match_or_makes_one_and_list_shows_them() {
    let (running, _reports) = service().await;
    let url = arena_url(&running);
    let ranked = Mode { ranked: true };
    let mut first = arena_player(Client::<Arena>::find(&url, &ranked).unwrap());
    let (_, ranked_code) = first.welcomed().await;
    let mut second = arena_player(Client::<Arena>::find(&url, &ranked).unwrap());
    assert_eq!(
        second.welcomed().await.1,
        ranked_code,
        "the ranked match found"
    );
    let mut casual = arena_player(Client::<Arena>::find(&url, &Mode::default()).unwrap());
    let (_, casual_code) = casual.welcomed().await;
    assert_ne!(
        casual_code, ranked_code,
        "no casual match to find: one made"
    );
    let mut private = arena_player(Client::<Arena>::create_private(&url, &ranked).unwrap());
    let (_, private_code) = private.welcomed().await;

    let listings = within("the listing", Client::<Arena>::list(&url))
        .await
        .expect("listed");
    let codes: Vec<&str> = listings.iter().map(|l| l.code.as_str()).collect();
    assert_eq!(codes.len(), 2, "two public arenas: {codes:?}");
    assert!(
        !codes.contains(&private_code.as_str()),
        "the private one unlisted"
    );
    let ranked_listing = listings.iter().find(|l| l.code == ranked_code).unwrap();
    assert_eq!((ranked_listing.players, ranked_listing.max_players), (2, 3));
    assert_eq!(
        ranked_listing.metadata, ranked,
        "its metadata, from its options"
    );
    assert!(!ranked_listing.locked);

    // A third ranked player fills the match; a fourth finds it full and gets a new one.
    let mut third = arena_player(Client::<Arena>::find(&url, &ranked).unwrap());
    assert_eq!(third.welcomed().await.1, ranked_code);
    let mut fourth = arena_player(Client::<Arena>::find(&url, &ranked).unwrap());
    let (_, fourth_code) = fourth.welcomed().await;
    assert!(![&ranked_code, &private_code, &casual_code].contains(&&fourth_code));
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_place_goes_to_exactly_one_of_many() {
    let (running, _reports) = service().await;
    let url = arena_url(&running);
    let mut ada = arena_player(Client::<Arena>::create(&url, &Mode::default()).unwrap());
    let (_, code) = ada.welcomed().await;
    let mut bob = arena_player(Client::<Arena>::join(&url, &code));
    bob.welcomed().await;
    // One place left, twelve clients after it at once.
    let racers: Vec<Player<Arena>> = (0..12)
        .map(|_| arena_player(Client::<Arena>::join(&url, &code)))
        .collect();
    let mut welcomed = 0;
    let mut full = 0;
    for mut racer in racers {
        let outcome = within("a racer's answer", async {
            tokio::select! {
                got = racer.seen.recv() => matches!(got, Some(Got::Welcome { .. })),
                ended = &mut racer.result => {
                    let error = ended.expect("the task ends").expect_err("refused");
                    assert_eq!(refusal_of(&error), (409, Some(RefusalKind::MatchFull)), "{error}");
                    false
                }
            }
        })
        .await;
        if outcome {
            welcomed += 1;
        } else {
            full += 1;
        }
    }
    assert_eq!((welcomed, full), (1, 11));
    let info = running
        .handle
        .matches()
        .into_iter()
        .find(|info| info.code == code)
        .unwrap();
    assert_eq!(info.players, 3);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_names_its_reason() {
    let (running, _reports) = service().await;
    let url = arena_url(&running);

    let unknown = arena_player(Client::<Arena>::join(&url, "ZZZZZZ"))
        .refused()
        .await;
    assert_eq!(refusal_of(&unknown), (404, Some(RefusalKind::UnknownMatch)));
    assert!(unknown.to_string().contains("ZZZZZZ"), "{unknown}");

    let no_kind = arena_player(Client::<Arena>::from_url(format!(
        "{url}?match=find&kind=nope"
    )))
    .refused()
    .await;
    assert_eq!(refusal_of(&no_kind), (404, Some(RefusalKind::UnknownKind)));

    let bad = arena_player(Client::<Arena>::from_url(format!(
        "{url}?match=create&kind=arena&options=AAAA"
    )))
    .refused()
    .await;
    assert_eq!(refusal_of(&bad), (400, Some(RefusalKind::BadOptions)));
    assert!(bad.to_string().contains("options"), "{bad}");

    let garbled = arena_player(Client::<Arena>::from_url(format!("{url}?match=dance")))
        .refused()
        .await;
    assert_eq!(
        refusal_of(&garbled),
        (400, Some(RefusalKind::BadMatchRequest))
    );

    // A locked match takes no newcomer; its players stay.
    let mut ada = arena_player(Client::<Arena>::create(&url, &Mode::default()).unwrap());
    let (ada_id, code) = ada.welcomed().await;
    ada.sender.send(ArenaIn::Lock).unwrap();
    poll_until("the match to lock", || async {
        running
            .handle
            .matches()
            .iter()
            .any(|info| info.code == code && info.locked)
            .then_some(())
    })
    .await;
    let locked = arena_player(Client::<Arena>::join(&url, &code))
        .refused()
        .await;
    assert_eq!(refusal_of(&locked), (409, Some(RefusalKind::MatchLocked)));
    ada.sender.send(ArenaIn::Move { x: 1.0 }).unwrap();
    ada.next_where("ada still playing", |got| match got {
        Got::Sync(mirror) => mirror
            .iter()
            .any(|(id, state)| *id == ada_id && state.x == 1.0)
            .then_some(()),
        _ => None,
    })
    .await;

    // A client of another protocol is refused by the match's kind.
    let lobby = Player::start(Client::<Lobby>::join(&url, &code))
        .refused()
        .await;
    assert!(
        matches!(lobby, ClientError::ProtocolMismatch { .. }),
        "{lobby}"
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kind_without_a_game_factory_makes_no_new_matches() {
    struct Table;
    let server = Server::<Lobby, Table>::with_game(local_config(), Table);
    let running = serve(server).await;
    let refused = Player::start(Client::<Lobby>::create(&running.url(), &()).unwrap())
        .refused()
        .await;
    assert_eq!(refusal_of(&refused), (403, Some(RefusalKind::CannotCreate)));
    // Its default match takes players as ever.
    let mut ada = Player::start(Client::<Lobby>::from_url(running.url()));
    ada.welcomed().await;
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_match_ends_after_its_linger_and_its_code_with_it() {
    let (running, mut reports) = service().await;
    let url = arena_url(&running);
    let mut ada = arena_player(Client::<Arena>::create(&url, &Mode::default()).unwrap());
    let (_, code) = ada.welcomed().await;
    ada.sender.disconnect();
    ada.closed().await;
    loop {
        match within("ada's leaving", reports.recv()).await.unwrap() {
            Report::Left { code: left, .. } if left == code => break,
            _ => {}
        }
    }
    poll_until("the empty match to end", || async {
        (!running
            .handle
            .matches()
            .iter()
            .any(|info| info.code == code))
        .then_some(())
    })
    .await;
    let gone = arena_player(Client::<Arena>::join(&url, &code))
        .refused()
        .await;
    assert_eq!(refusal_of(&gone), (404, Some(RefusalKind::UnknownMatch)));
    // The default match never ends that way.
    assert!(running
        .handle
        .matches()
        .iter()
        .any(|info| info.kind == "lobby"));
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_match_its_game_ends_closes_every_player_with_the_reason() {
    let (running, mut reports) = service().await;
    let url = arena_url(&running);
    let mut ada = arena_player(Client::<Arena>::create(&url, &Mode::default()).unwrap());
    let (ada_id, code) = ada.welcomed().await;
    let mut bob = arena_player(Client::<Arena>::join(&url, &code));
    let (bob_id, _) = bob.welcomed().await;
    ada.sender.send(ArenaIn::End).unwrap();
    for player in [&mut ada, &mut bob] {
        let reason = player.closed().await;
        assert_eq!(
            reason.close_reason(),
            Some(CloseReason::MatchEnded),
            "{reason}"
        );
    }
    let mut left = Vec::new();
    while left.len() < 2 {
        if let Report::Left { id, .. } = within("on_disconnect", reports.recv()).await.unwrap() {
            left.push(id);
        }
    }
    left.sort();
    let mut both = vec![ada_id, bob_id];
    both.sort();
    assert_eq!(left, both, "on_disconnect ran for each player");
    poll_until("the ended match to be forgotten", || async {
        (!running
            .handle
            .matches()
            .iter()
            .any(|info| info.code == code))
        .then_some(())
    })
    .await;
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_one_match_costs_the_others_nothing() {
    let (running, mut reports) = service().await;
    let url = arena_url(&running);
    let mut ada = arena_player(Client::<Arena>::create(&url, &Mode::default()).unwrap());
    ada.welcomed().await;
    let mut bob = arena_player(Client::<Arena>::create(&url, &Mode::default()).unwrap());
    let (bob_id, _) = bob.welcomed().await;
    ada.sender.send(ArenaIn::Crash).unwrap();
    loop {
        if let Report::Error { error, .. } =
            within("the panic's report", reports.recv()).await.unwrap()
        {
            assert!(error.contains("the arena crashed"), "{error}");
            break;
        }
    }
    bob.sender.send(ArenaIn::Move { x: 3.0 }).unwrap();
    bob.next_where("bob's own match going on", |got| match got {
        Got::Sync(mirror) => mirror
            .iter()
            .any(|(id, state)| *id == bob_id && state.x == 3.0)
            .then_some(()),
        _ => None,
    })
    .await;
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_resumes_into_its_own_match() {
    let (running, _reports) = service().await;
    let proxy = FaultyProxy::start(running.addr).await.expect("a proxy");
    let config = ClientConfig::default()
        .reconnect(Reconnect::default().initial_delay(Duration::from_millis(10)));
    let request = nodelink::wire::MatchRequest::create("arena", &Mode::default(), false).unwrap();
    let mut ada = arena_player(Client::<Arena>::with_config(
        request.apply(&proxy.url()),
        config,
    ));
    let (id, code) = ada.welcomed().await;
    proxy.cut();
    ada.next_where("the pause", |got| matches!(got, Got::Paused).then_some(()))
        .await;
    let resumed = ada
        .next_where("the resume", |got| match got {
            Got::Resumed { id } => Some(*id),
            Got::Welcome { .. } => panic!("a new session: the resume went elsewhere"),
            _ => None,
        })
        .await;
    assert_eq!(resumed, id);
    let arenas: Vec<_> = running
        .handle
        .matches()
        .into_iter()
        .filter(|info| info.kind == "arena")
        .collect();
    assert_eq!(arenas.len(), 1, "no second match made: {arenas:?}");
    assert_eq!(arenas[0].code, code);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn places_come_and_go_and_empty_matches_end() {
    let (running, _reports) = service().await;
    let url = arena_url(&running);
    let joined = Arc::new(AtomicUsize::new(0));
    for _ in 0..3 {
        let mut round = Vec::new();
        for _ in 0..9 {
            round.push(Player::start(
                Client::<Arena>::find(&url, &Mode { ranked: true }).unwrap(),
            ));
        }
        for player in &mut round {
            player.welcomed().await;
            joined.fetch_add(1, Ordering::Relaxed);
        }
        let arenas = running
            .handle
            .matches()
            .into_iter()
            .filter(|info| info.kind == "arena")
            .collect::<Vec<_>>();
        assert_eq!(arenas.len(), 3, "nine players, three a match: {arenas:?}");
        for player in &round {
            player.sender.disconnect();
        }
        for mut player in round {
            player.closed().await;
        }
        poll_until("every arena to end", || async {
            (!running
                .handle
                .matches()
                .iter()
                .any(|info| info.kind == "arena"))
            .then_some(())
        })
        .await;
    }
    assert_eq!(joined.load(Ordering::Relaxed), 27);
    let handle: ServerHandle<Lobby> = running.handle.clone();
    assert_eq!(handle.player_count(), 0);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_are_kept_per_match_and_for_the_process() {
    let (running, _reports) = service().await;
    let url = arena_url(&running);
    let handle = running.handle.clone();
    let mut ada = arena_player(Client::<Arena>::create(&url, &Mode { ranked: true }).unwrap());
    let (_, busy) = ada.welcomed().await;
    let mut bob = arena_player(Client::<Arena>::join(&url, &busy));
    bob.welcomed().await;
    let mut cy = arena_player(Client::<Arena>::create(&url, &Mode::default()).unwrap());
    let (_, quiet) = cy.welcomed().await;

    // Moves in the busy match only: its sync frames carry them, the quiet one's
    // carry nothing (a match with nothing to say sends no frame).
    ada.sender.send(ArenaIn::Move { x: 1.0 }).unwrap();
    bob.sender.send(ArenaIn::Move { x: 2.0 }).unwrap();
    let info = |code: &str| {
        handle
            .matches()
            .into_iter()
            .find(|info| info.code == code)
            .expect("a live match")
    };
    // Each match publishes its counters once a tick.
    poll_until(
        "both matches to tick, the busy one to send more",
        || async {
            let (busy, quiet) = (info(&busy).stats, info(&quiet).stats);
            let ticked = busy.ticks > 0 && quiet.ticks > 0;
            (ticked && busy.frames > quiet.frames && busy.bytes_sent > quiet.bytes_sent)
                .then_some(())
        },
    )
    .await;
    let (busy_now, quiet_now) = (info(&busy), info(&quiet));
    assert_eq!((busy_now.players, busy_now.stats.players), (2, 2));
    assert_eq!((quiet_now.players, quiet_now.stats.players), (1, 1));

    // The process: three matches (the lobby's default one too), three players,
    // and its counters at least each live match's.
    let process = handle.process_stats();
    assert_eq!((process.matches, process.players), (3, 3));
    assert_eq!((process.matches_started, process.matches_ended), (3, 0));
    assert!(process.sync.bytes_sent >= busy_now.stats.bytes_sent + quiet_now.stats.bytes_sent);
    assert!(process.sync.ticks >= busy_now.stats.ticks);

    // An ended match is counted, and what it sent stays in the process's sums.
    let sent_before = handle.process_stats().sync.bytes_sent;
    cy.sender.send(ArenaIn::End).unwrap();
    cy.closed().await;
    poll_until("the quiet match to end", || async {
        (handle.process_stats().matches_ended == 1).then_some(())
    })
    .await;
    let process = handle.process_stats();
    assert_eq!((process.matches, process.players), (2, 2));
    assert!(process.sync.bytes_sent >= sent_before);
    assert!(handle.matches().iter().all(|info| info.code != quiet));
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_handle_reaches_any_match_by_its_code() {
    let (running, _reports) = service().await;
    let url = arena_url(&running);
    let mut ada = arena_player(Client::<Arena>::create(&url, &Mode::default()).unwrap());
    let (ada_id, code) = ada.welcomed().await;
    let mut bob = arena_player(Client::<Arena>::join(&url, &code));
    let (bob_id, _) = bob.welcomed().await;
    let handle = &running.handle;

    // An event typed by the arena's protocol, to that arena's players.
    let news = ArenaOut::Welcome { ranked: true };
    assert_eq!(handle.broadcast_to::<Arena>(&code, &news), Ok(true));
    for player in [&mut ada, &mut bob] {
        player
            .next_where("the server's broadcast", |got| match got {
                Got::Event(ArenaOut::Welcome { ranked: true }) => Some(()),
                _ => None,
            })
            .await;
    }
    // Not by another protocol, nor to a code no match has.
    assert_eq!(
        handle.broadcast_to::<Lobby>(&code, &LobbyOut::Waved),
        Ok(false)
    );
    assert_eq!(handle.broadcast_to::<Arena>("NOSUCH", &news), Ok(false));
    assert!(!handle.end_match("NOSUCH"));
    assert!(!handle.kick_from("NOSUCH", bob_id));
    assert!(!handle.set_locked("NOSUCH", true));
    assert_eq!(handle.players_in("NOSUCH").await, None);

    // Its players, with their states as JSON, whatever the handle's protocol.
    ada.sender.send(ArenaIn::Move { x: 2.5 }).unwrap();
    let listed = poll_until("ada's move in the listing", || async {
        let players = handle.players_in(&code).await?;
        let ada_listed = players
            .iter()
            .any(|p| p.id == ada_id && p.state == r#"{"x":2.5}"#);
        (players.len() == 2 && ada_listed).then_some(players)
    })
    .await;
    assert!(listed.iter().any(|p| p.id == bob_id && !p.paused));
    assert!(listed.iter().all(|p| p.addr.ip().is_loopback()));

    // Locked from outside: no newcomer; unlocked: one comes in.
    assert!(handle.set_locked(&code, true));
    assert!(handle
        .matches()
        .iter()
        .any(|info| info.code == code && info.locked));
    let refused = arena_player(Client::<Arena>::join(&url, &code))
        .refused()
        .await;
    assert_eq!(refusal_of(&refused), (409, Some(RefusalKind::MatchLocked)));
    assert!(handle.set_locked(&code, false));
    let mut cid = arena_player(Client::<Arena>::join(&url, &code));
    cid.welcomed().await;
    drop(cid);

    // A kick from that match, then its end.
    assert!(handle.kick_from(&code, bob_id));
    let kicked = bob.closed().await;
    assert_eq!(kicked.close_reason(), Some(CloseReason::Kicked), "{kicked}");
    assert!(handle.end_match(&code));
    let ended = ada.closed().await;
    assert_eq!(
        ended.close_reason(),
        Some(CloseReason::MatchEnded),
        "{ended}"
    );
    poll_until("the ended match to be forgotten", || async {
        (!handle.matches().iter().any(|info| info.code == code)).then_some(())
    })
    .await;
    running.stop().await;
}
