//! A game's own tests of a lost connection, written as a game would write them:
//! with nothing but nodelink (its `testing` feature, for `FaultyProxy`) and tokio,
//! no serde of their own (`#[nodelink::data]` brings it), and none of this crate's
//! helpers. One player plays through the faulty proxy, another watches directly;
//! the network fails under the first, and the game's own rule (a player whose
//! connection is lost is shown away) is checked from both sides.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use nodelink::client::{Client, ClientConfig, ClientSender, Reconnect};
use nodelink::server::{Server, ServerConfig, ServerHandle};
use nodelink::testing::FaultyProxy;
use nodelink::{PlayerId, SyncState};
use tokio::sync::mpsc;

/// A place on the map: a plain data type of the game.
#[nodelink::data]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Spot {
    x: i32,
    y: i32,
}

#[derive(SyncState, Clone, Debug, Default, PartialEq)]
struct Explorer {
    at: Spot,
    /// Shown to the others while the player's connection is lost.
    away: bool,
    notes: u32,
}

#[nodelink::events]
#[derive(Debug)]
enum ToServer {
    Walk { to: Spot },
    Note { text: String },
}

#[nodelink::events]
#[derive(Debug)]
enum ToClient {}

#[nodelink::protocol(state = Explorer, to_server = ToServer, to_client = ToClient)]
struct Expedition;

/// How long any wait may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(15);

async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(DEADLINE, future)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// What the game's server did.
#[derive(Debug, Clone, PartialEq)]
enum Done {
    Joined(PlayerId),
    Paused(PlayerId),
    Resumed(PlayerId),
    Noted(PlayerId, String),
    Left(PlayerId),
}

/// The game: walks move the explorer, notes are counted, and a player whose
/// connection is lost is marked away until it comes back.
async fn start_game(config: ServerConfig) -> (SocketAddr, ServerHandle<Expedition>, Reports<Done>) {
    let mut server = Server::<Expedition>::new(config);
    let (done, reports) = mpsc::unbounded_channel();
    let report = done.clone();
    server.on_connect(move |ctx| {
        let _ = report.send(Done::Joined(ctx.id()));
    });
    let report = done.clone();
    server.on_pause(move |ctx| {
        ctx.player().state_mut().set_away(true);
        let _ = report.send(Done::Paused(ctx.id()));
    });
    let report = done.clone();
    server.on_resume(move |ctx| {
        ctx.player().state_mut().set_away(false);
        let _ = report.send(Done::Resumed(ctx.id()));
    });
    let report = done.clone();
    server.on_disconnect(move |ctx| {
        let _ = report.send(Done::Left(ctx.id()));
    });
    server.on_walk(|ctx, ToServerWalk { to }| {
        ctx.player().state_mut().set_at(to);
    });
    server.on_note(move |ctx, ToServerNote { text }| {
        let notes = ctx.player().state().notes + 1;
        ctx.player().state_mut().set_notes(notes);
        let _ = done.send(Done::Noted(ctx.id(), text));
    });
    let server = server.bind().await.expect("the game listens");
    let addr = server.local_addr();
    let handle = server.handle();
    tokio::spawn(server.run());
    (addr, handle, Reports(reports))
}

/// What a client saw.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Welcome(PlayerId),
    Lost,
    Back(PlayerId),
    /// A sync frame was applied: every explorer in the mirror, after it.
    World(Vec<(PlayerId, Explorer)>),
}

/// A client of the game at `url` that comes back quickly after a loss.
fn start_client(url: &str) -> (ClientSender<Expedition>, Reports<Seen>) {
    let reconnect = Reconnect::default()
        .initial_delay(Duration::from_millis(20))
        .max_delay(Duration::from_millis(100));
    let mut client =
        Client::<Expedition>::with_config(url, ClientConfig::default().reconnect(reconnect));
    let (seen, reports) = mpsc::unbounded_channel();
    let report = seen.clone();
    client.on_connect(move |ctx| {
        let _ = report.send(Seen::Welcome(ctx.id()));
    });
    let report = seen.clone();
    client.on_pause(move |_| {
        let _ = report.send(Seen::Lost);
    });
    let report = seen.clone();
    client.on_resume(move |ctx| {
        let _ = report.send(Seen::Back(ctx.id()));
    });
    client.on_state_sync(move |ctx, _| {
        let world = ctx
            .world()
            .players()
            .map(|(id, explorer)| (id, explorer.clone()))
            .collect();
        let _ = seen.send(Seen::World(world));
    });
    let sender = client.sender();
    tokio::spawn(client.run());
    (sender, Reports(reports))
}

/// A stream of reports, read under the deadline.
struct Reports<T>(mpsc::UnboundedReceiver<T>);

impl<T: std::fmt::Debug> Reports<T> {
    /// Skips reports until `pick` returns `Some`.
    async fn until<R>(&mut self, what: &str, mut pick: impl FnMut(&T) -> Option<R>) -> R {
        within(what, async {
            loop {
                let report = self
                    .0
                    .recv()
                    .await
                    .unwrap_or_else(|| panic!("reports ended before {what}"));
                if let Some(found) = pick(&report) {
                    return found;
                }
            }
        })
        .await
    }
}

impl Reports<Seen> {
    async fn welcome(&mut self) -> PlayerId {
        self.until("the welcome", |seen| match seen {
            Seen::Welcome(id) => Some(*id),
            _ => None,
        })
        .await
    }

    /// Waits for a sync frame after which `id`'s explorer satisfies `done`.
    async fn explorer_where(
        &mut self,
        what: &str,
        id: PlayerId,
        done: impl Fn(&Explorer) -> bool,
    ) -> Explorer {
        self.until(what, |seen| match seen {
            Seen::World(world) => world
                .iter()
                .find(|(who, explorer)| *who == id && done(explorer))
                .map(|(_, explorer)| explorer.clone()),
            _ => None,
        })
        .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_player_whose_connection_is_cut_is_shown_away_and_comes_back_as_itself() {
    let config = ServerConfig::default()
        .host("127.0.0.1")
        .port(0)
        .resume_grace(Duration::from_secs(10));
    let (addr, handle, mut game) = start_game(config).await;
    let proxy = FaultyProxy::start(addr).await.expect("the proxy listens");
    let (explorer, mut explorer_sees) = start_client(&proxy.url());
    let me = explorer_sees.welcome().await;
    let (_watcher, mut watcher_sees) = start_client(&format!("ws://{addr}/"));
    watcher_sees.welcome().await;
    explorer
        .send(ToServer::Walk {
            to: Spot { x: 3, y: 4 },
        })
        .expect("queued");
    watcher_sees
        .explorer_where("the walk", me, |e| e.at == Spot { x: 3, y: 4 })
        .await;

    // The network drops the explorer's connection (no close, no goodbye) and
    // holds its attempts to come back until it returns.
    proxy.stall();
    proxy.cut();
    explorer_sees
        .until("the loss", |seen| (*seen == Seen::Lost).then_some(()))
        .await;
    // The game marks it away, and the others see that.
    game.until("the pause", |done| {
        (*done == Done::Paused(me)).then_some(())
    })
    .await;
    watcher_sees
        .explorer_where("the explorer away", me, |e| e.away)
        .await;
    // A note written meanwhile waits for the connection to come back.
    explorer
        .send(ToServer::Note {
            text: "a cave".into(),
        })
        .expect("queued");

    // The network returns: the client comes back as the same player, where it was.
    proxy.unstall();
    let back = explorer_sees
        .until("the return", |seen| match seen {
            Seen::Back(id) => Some(*id),
            _ => None,
        })
        .await;
    assert_eq!(back, me, "the same player");
    game.until("the resume", |done| {
        (*done == Done::Resumed(me)).then_some(())
    })
    .await;
    let seen = watcher_sees
        .explorer_where("the explorer back, with its note", me, |e| {
            !e.away && e.notes == 1
        })
        .await;
    assert_eq!(seen.at, Spot { x: 3, y: 4 }, "where it was");
    let noted = game
        .until("the note", |done| match done {
            Done::Noted(id, text) => Some((*id, text.clone())),
            Done::Left(id) => panic!("{id} left"),
            _ => None,
        })
        .await;
    assert_eq!(
        noted,
        (me, "a cave".to_owned()),
        "the note, sent while away, arrived once"
    );
    assert_eq!(
        proxy.accepted(),
        2,
        "one connection, then one more after the cut"
    );

    // The player's own view agrees: it is back, and not away.
    let mine = explorer_sees
        .explorer_where("its own state", me, |e| !e.away && e.notes == 1)
        .await;
    assert_eq!(mine.at, Spot { x: 3, y: 4 });
    handle.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_network_that_goes_silent_is_noticed_and_the_player_comes_back_when_it_returns() {
    let config = ServerConfig::default()
        .host("127.0.0.1")
        .port(0)
        .resume_grace(Duration::from_secs(10))
        // A silent connection is given up on after 300 ms.
        .idle_timeout(Duration::from_millis(300))
        .ping_interval(Duration::from_millis(100));
    let (addr, handle, mut game) = start_game(config).await;
    let proxy = FaultyProxy::start(addr).await.expect("the proxy listens");
    let (_explorer, mut explorer_sees) = start_client(&proxy.url());
    let me = explorer_sees.welcome().await;
    let (_watcher, mut watcher_sees) = start_client(&format!("ws://{addr}/"));
    watcher_sees.welcome().await;

    // Nothing gets through any more, yet every socket stays open: the server
    // notices the silence, and the game marks the player away.
    proxy.stall();
    game.until("the pause", |done| {
        (*done == Done::Paused(me)).then_some(())
    })
    .await;
    watcher_sees
        .explorer_where("the explorer away", me, |e| e.away)
        .await;

    // The network returns; so does the player.
    proxy.unstall();
    let back = explorer_sees
        .until("the return", |seen| match seen {
            Seen::Back(id) => Some(*id),
            _ => None,
        })
        .await;
    assert_eq!(back, me);
    watcher_sees
        .explorer_where("the explorer back", me, |e| !e.away)
        .await;
    handle.shutdown();
}
