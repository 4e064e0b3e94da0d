//! Helpers for the end-to-end tests: a server on `127.0.0.1:0`, clients that report
//! everything they see into a channel, and deadlines on every wait.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use nodelink::client::{Client, ClientConfig, ClientError, ClientSender, Disconnect, StateSync};
use nodelink::server::{Server, ServerConfig, ServerHandle};
use nodelink::{PlayerId, Protocol};
use nodelink_examples::{
    Avatar, Game, Match, OnToClient, ToClient, ToClientChat, ToClientJoined, ToClientLeft,
    ToServerChat, ToServerMove,
};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub use nodelink::testing::FaultyProxy;

/// How long any single wait may take before the test fails: generous, because CI
/// machines are slow and shared, but short enough that a hang fails fast.
pub const DEADLINE: Duration = Duration::from_secs(15);

/// Awaits `future`, failing the test with `what` if it takes longer than [`DEADLINE`].
///
/// # Panics
/// On timeout.
pub async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    match tokio::time::timeout(DEADLINE, future).await {
        Ok(value) => value,
        Err(_) => panic!("timed out after {DEADLINE:?} waiting for {what}"),
    }
}

/// How often [`eventually`] checks its condition.
const CHECK_EVERY: Duration = Duration::from_millis(5);

/// Waits until `condition` holds, checking it every few milliseconds; fails the
/// test with `what` after [`DEADLINE`].
///
/// For conditions no event announces (a counter of the server, a task count):
/// between checks the test sleeps on a timer, leaving the machine's cores to the
/// server and clients it watches, where spinning on `yield_now` would compete with
/// them. Wait for an event instead wherever there is one.
///
/// # Panics
/// On timeout.
pub async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    within(what, async {
        let mut checks = tokio::time::interval(CHECK_EVERY);
        checks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            checks.tick().await;
            if condition() {
                return;
            }
        }
    })
    .await;
}

/// Asks `ask` every few milliseconds until it answers `Some`, and returns the
/// answer; fails the test with `what` after [`DEADLINE`].
///
/// The asynchronous [`eventually`]: for answers that take a round trip (the
/// server's player list through its handle, a new connection's HTTP status), paced
/// by a timer rather than asked again at once, so that the asking does not crowd
/// out the server being asked.
///
/// # Panics
/// On timeout.
pub async fn poll_until<T, F, Fut>(what: &str, mut ask: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    within(what, async {
        let mut asks = tokio::time::interval(CHECK_EVERY);
        asks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            asks.tick().await;
            if let Some(answer) = ask().await {
                return answer;
            }
        }
    })
    .await
}

/// The number of tasks alive in the current runtime.
#[must_use]
pub fn alive_tasks() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

/// The repository's root directory.
#[must_use]
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs a setup script of the repository (with bash, from the root) and returns the
/// last line of its output; its progress goes to stderr.
fn run_setup(script: &str, needs: &str) -> Result<String, String> {
    let output = std::process::Command::new("bash")
        .arg(repo_root().join(script))
        .current_dir(repo_root())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|error| format!("cannot run {script}: {error}"))?;
    if !output.status.success() {
        return Err(format!("{script} failed ({}): {needs}", output.status));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    Ok(stdout.lines().last().unwrap_or_default().trim().to_owned())
}

/// The python of a virtualenv with the published Python nodelink 0.6.0, installed
/// by `tests/python/setup.sh` (from PyPI) once per test process.
///
/// # Panics
/// If the setup fails.
pub fn python() -> PathBuf {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            let path = run_setup(
                "tests/python/setup.sh",
                "it installs nodelink==0.6.0 from PyPI",
            )?;
            Ok(repo_root().join(path))
        })
        .clone()
        .unwrap_or_else(|error| panic!("{error}"))
}

/// Whether this runs in CI, where a missing browser is an error.
#[must_use]
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|ci| !ci.is_empty() && ci != "false" && ci != "0")
}

/// Chromium and the TypeScript package's compiled browser driver
/// `dist/test/browser/<driver>.js`, or `None` (with a notice naming `test`) when
/// this machine cannot run a browser test and this is not CI. Chromium is
/// `/usr/bin/chromium` or the path in `NODELINK_CHROMIUM`.
///
/// # Panics
/// In CI, when something is missing.
#[must_use]
pub fn browser_tools(driver: &str, test: &str) -> Option<(PathBuf, PathBuf)> {
    let chromium = std::env::var_os("NODELINK_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    let missing = if chromium.is_file() {
        // The build installs the package's dev dependencies, playwright-core among them.
        let playwright = typescript_package().join("node_modules/playwright-core");
        (!playwright.is_dir()).then(|| format!("{} is missing", playwright.display()))
    } else {
        Some(format!(
            "no Chromium at {} (apt-get install chromium, or set NODELINK_CHROMIUM)",
            chromium.display()
        ))
    };
    match missing {
        None => {
            let script = format!("dist/test/browser/{driver}.js");
            Some((chromium, typescript_package().join(script)))
        }
        Some(why) if in_ci() => panic!("{test} cannot run: {why}"),
        Some(why) => {
            eprintln!("skipped: {test}: {why}");
            None
        }
    }
}

/// Everything a `tracing` subscriber wrote, shared with the test that reads it
/// (`tracing_subscriber::fmt().with_writer(move || captured.clone())`).
#[derive(Clone, Default, Debug)]
pub struct CapturedLog(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLog {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLog {
    /// The lines written so far.
    #[must_use]
    pub fn lines(&self) -> Vec<String> {
        let bytes = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

/// The TypeScript package (`clients/typescript`), its locked dependencies
/// installed and its sources compiled into `dist/` by
/// `clients/typescript/scripts/build-for-tests.sh`, once per test process.
///
/// # Panics
/// If the build fails.
pub fn typescript_package() -> PathBuf {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            run_setup(
                "clients/typescript/scripts/build-for-tests.sh",
                "it needs node 20+ and npm",
            )
            .map(drop)
        })
        .clone()
        .unwrap_or_else(|error| panic!("{error}"));
    repo_root().join("clients/typescript")
}

/// Starts a [`FaultyProxy`] to `upstream` the way these tests start one: a proxy
/// that cannot listen fails the test.
#[derive(Debug)]
pub enum Proxy {}

impl Proxy {
    /// [`FaultyProxy::start`], within the deadline.
    ///
    /// # Panics
    /// If the proxy cannot listen, or does not within [`DEADLINE`].
    pub async fn start(upstream: SocketAddr) -> FaultyProxy {
        within("the proxy to listen", FaultyProxy::start(upstream))
            .await
            .expect("the proxy listens on 127.0.0.1")
    }
}

/// A server config on loopback with a free port.
#[must_use]
pub fn local_config() -> ServerConfig {
    ServerConfig::default().host("127.0.0.1").port(0)
}

/// What a server reports to `on_error`: the message and the player, if any.
pub type Reports = mpsc::UnboundedReceiver<(String, Option<PlayerId>)>;

/// The example game: moves set the position, chat is broadcast, `ready` starts the
/// next round; errors are reported into the returned channel.
#[must_use]
pub fn reporting_game(config: ServerConfig) -> (Server<Game>, Reports) {
    use nodelink_examples::OnToServer;
    let mut server = Server::<Game>::new(config);
    server.on_move(|ctx, ToServerMove { x, y }| {
        ctx.player().state_mut().set_x(x).set_y(y);
    });
    server.on_chat(|ctx, ToServerChat { msg }| {
        let from = ctx.id();
        ctx.broadcast(ToClient::Chat { from, msg });
    });
    server.on_ready(|ctx| {
        let round = ctx.server_state().round + 1;
        ctx.server_state_mut().set_round(round);
    });
    let (errors_tx, errors) = mpsc::unbounded_channel();
    server.on_error(move |error, player| {
        let _ = errors_tx.send((error.to_string(), player.map(|p| p.id())));
    });
    (server, errors)
}

/// A server running in a task.
#[derive(Debug)]
pub struct Running<P: Protocol> {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its handle.
    pub handle: ServerHandle<P>,
    /// Its `run` task; ends after shutdown.
    pub task: JoinHandle<()>,
}

impl<P: Protocol> Running<P> {
    /// The server's `ws://` URL.
    #[must_use]
    pub fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }

    /// Shuts the server down and waits for `run` to return.
    ///
    /// # Panics
    /// If it does not return within the deadline.
    pub async fn stop(self) {
        self.handle.shutdown();
        within("the server to stop", self.task)
            .await
            .expect("server task");
    }
}

/// Serves `server` on a listener bound to its configured address, in a task.
///
/// # Panics
/// If it cannot bind.
pub async fn serve<P: Protocol, G: Send + 'static>(server: Server<P, G>) -> Running<P> {
    let config = server.config();
    let listener = tokio::net::TcpListener::bind((config.host.as_str(), config.port))
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("a local address");
    let handle = server.handle();
    let serving = server.serve(listener);
    Running {
        addr,
        handle,
        task: tokio::spawn(async move { serving.await.expect("a listener serves") }),
    }
}

/// What a [`Watcher`] client saw.
#[derive(Debug)]
pub enum Seen {
    /// The welcome, with this client's id.
    Connected(PlayerId),
    /// The connection was lost; the client is resuming its session.
    Paused(Disconnect),
    /// The session was resumed, as this player.
    Resumed(PlayerId),
    /// An event.
    Event(ToClient),
    /// A sync frame, and the whole mirror after applying it.
    Sync(StateSync<Game>, nodelink::IdMap<Avatar>),
    /// The connection ended.
    Disconnected(Disconnect),
    /// A reconnection attempt is about to be made after this delay.
    Reconnecting(u32, Duration),
    /// An error.
    Error(String),
}

/// A client of the example game that reports everything into a channel.
#[derive(Debug)]
pub struct Watcher {
    /// Sends to the server.
    pub sender: ClientSender<Game>,
    seen: mpsc::UnboundedReceiver<Seen>,
    /// This client's id, once connected.
    pub id: Option<PlayerId>,
    /// The client's `run` task.
    pub task: JoinHandle<Result<(), ClientError>>,
    /// The mirror as of the last sync seen.
    pub world: nodelink::IdMap<Avatar>,
    /// The mirrored server state and the latency, as of the newest sync handled
    /// (which may be ahead of the last one [`next`](Self::next) returned).
    latest: Arc<Mutex<(Match, Option<Duration>)>>,
}

impl Watcher {
    /// A client for `url` that has not connected yet; `prepare` may send or add
    /// handlers before it starts.
    pub fn start(url: &str, prepare: impl FnOnce(&mut Client<Game>)) -> Self {
        Self::start_with(url, ClientConfig::default(), prepare)
    }

    /// [`start`](Self::start) with explicit client settings.
    pub fn start_with(
        url: &str,
        config: ClientConfig,
        prepare: impl FnOnce(&mut Client<Game>),
    ) -> Self {
        let mut client = Client::<Game>::with_config(url, config);
        let latest = Arc::new(Mutex::new((Match::default(), None)));
        let (tx, seen) = mpsc::unbounded_channel();
        let events = tx.clone();
        client.handle_all(Forward(events));
        let on_connect = tx.clone();
        client.on_connect(move |ctx| {
            let _ = on_connect.send(Seen::Connected(ctx.id()));
        });
        let on_sync = tx.clone();
        let newest = latest.clone();
        client.on_state_sync(move |ctx, sync| {
            if let Ok(mut newest) = newest.lock() {
                *newest = (ctx.world().server_state().clone(), ctx.latency());
            }
            let _ = on_sync.send(Seen::Sync(sync.clone(), ctx.world().as_map().clone()));
        });
        let on_pause = tx.clone();
        client.on_pause(move |reason| {
            let _ = on_pause.send(Seen::Paused(reason.clone()));
        });
        let on_resume = tx.clone();
        client.on_resume(move |ctx| {
            let _ = on_resume.send(Seen::Resumed(ctx.id()));
        });
        let on_reconnecting = tx.clone();
        client.on_reconnecting(move |attempt, delay| {
            let _ = on_reconnecting.send(Seen::Reconnecting(attempt, delay));
        });
        let on_disconnect = tx.clone();
        client.on_disconnect(move |reason| {
            let _ = on_disconnect.send(Seen::Disconnected(reason.clone()));
        });
        client.on_error(move |error| {
            let _ = tx.send(Seen::Error(error.to_string()));
        });
        prepare(&mut client);
        let sender = client.sender();
        Self {
            sender,
            seen,
            id: None,
            task: tokio::spawn(client.run()),
            world: nodelink::IdMap::default(),
            latest,
        }
    }

    /// The mirrored shared server state, as of the newest sync handled.
    ///
    /// # Panics
    /// If a handler panicked while holding the lock.
    #[must_use]
    pub fn server_state(&self) -> Match {
        self.latest.lock().expect("not poisoned").0.clone()
    }

    /// The latency the server last reported to this client.
    ///
    /// # Panics
    /// If a handler panicked while holding the lock.
    #[must_use]
    pub fn latency(&self) -> Option<Duration> {
        self.latest.lock().expect("not poisoned").1
    }

    /// Starts a client and waits for its welcome.
    pub async fn connect(url: &str) -> Self {
        let mut watcher = Self::start(url, |_| {});
        watcher.connected().await;
        watcher
    }

    /// Waits for the welcome; returns this client's id.
    pub async fn connected(&mut self) -> PlayerId {
        let id = self
            .next_where("the welcome", |seen| match seen {
                Seen::Connected(id) => Some(*id),
                _ => None,
            })
            .await;
        self.id = Some(id);
        id
    }

    /// The next thing seen, within the deadline.
    ///
    /// # Panics
    /// On timeout, or when the client stopped reporting.
    pub async fn next(&mut self, what: &str) -> Seen {
        let seen = within(what, self.seen.recv())
            .await
            .unwrap_or_else(|| panic!("client ended before {what}"));
        if let Seen::Sync(_, world) = &seen {
            self.world.clone_from(world);
        }
        seen
    }

    /// Everything the client sees until it stops, and what its `run` returned.
    ///
    /// # Panics
    /// If it does not stop within the deadline, or its task panicked.
    pub async fn finish(&mut self, what: &str) -> (Vec<Seen>, Result<(), ClientError>) {
        let mut rest = Vec::new();
        within(what, async {
            // The channel closes when `run` returns and drops the handlers.
            while let Some(seen) = self.seen.recv().await {
                rest.push(seen);
            }
        })
        .await;
        let result = within(what, &mut self.task)
            .await
            .expect("the client's task");
        (rest, result)
    }

    /// Skips what it sees until `pick` returns `Some`.
    pub async fn next_where<T>(
        &mut self,
        what: &str,
        mut pick: impl FnMut(&Seen) -> Option<T>,
    ) -> T {
        within(what, async {
            loop {
                let seen = self.next(what).await;
                if let Some(found) = pick(&seen) {
                    return found;
                }
            }
        })
        .await
    }

    /// Waits until the mirror satisfies `done`.
    pub async fn world_where(
        &mut self,
        what: &str,
        mut done: impl FnMut(&nodelink::IdMap<Avatar>) -> bool,
    ) {
        if done(&self.world) {
            return;
        }
        self.next_where(what, |seen| match seen {
            Seen::Sync(_, world) if done(world) => Some(()),
            _ => None,
        })
        .await;
    }
}

#[derive(Clone)]
struct Forward(mpsc::UnboundedSender<Seen>);

impl nodelink_examples::ToClientHandler<Client<Game>> for Forward {
    fn on_joined(
        &mut self,
        _: &mut nodelink::client::ClientCtx<'_, Game>,
        event: ToClientJoined,
    ) -> nodelink::HandlerResult {
        let _ = self.0.send(Seen::Event(event.into()));
        Ok(())
    }

    fn on_left(
        &mut self,
        _: &mut nodelink::client::ClientCtx<'_, Game>,
        event: ToClientLeft,
    ) -> nodelink::HandlerResult {
        let _ = self.0.send(Seen::Event(event.into()));
        Ok(())
    }

    fn on_chat(
        &mut self,
        _: &mut nodelink::client::ClientCtx<'_, Game>,
        event: ToClientChat,
    ) -> nodelink::HandlerResult {
        let _ = self.0.send(Seen::Event(event.into()));
        Ok(())
    }
}

/// The README's and the guide's code blocks, compiled (and, unless `no_run`, run)
/// as doctests of this crate, which has the examples' protocol crate at hand: one
/// item per page. Each block is complete as shown, with no hidden `# ` lines (which
/// GitHub and crates.io would show); `tests/docs.rs` checks that, that every page
/// of `docs/` has its item here, and that the pages' links resolve.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// `docs/events.md`: protocols, events and handlers.
#[cfg(doctest)]
#[doc = include_str!("../docs/events.md")]
struct EventsDoctests;

/// `docs/state.md`: synced state.
#[cfg(doctest)]
#[doc = include_str!("../docs/state.md")]
struct StateDoctests;

/// `docs/rooms.md`: rooms and interest.
#[cfg(doctest)]
#[doc = include_str!("../docs/rooms.md")]
struct RoomsDoctests;

/// `docs/entities.md`: entities and visibility.
#[cfg(doctest)]
#[doc = include_str!("../docs/entities.md")]
struct EntitiesDoctests;

/// `docs/visibility.md`: who sees what, players and fields.
#[cfg(doctest)]
#[doc = include_str!("../docs/visibility.md")]
struct VisibilityDoctests;

/// `docs/operations.md`: watching a running service.
#[cfg(doctest)]
#[doc = include_str!("../docs/operations.md")]
struct OperationsDoctests;

/// `docs/ticks.md`: ticks and server state.
#[cfg(doctest)]
#[doc = include_str!("../docs/ticks.md")]
struct TicksDoctests;

/// `docs/sessions.md`: connections and sessions.
#[cfg(doctest)]
#[doc = include_str!("../docs/sessions.md")]
struct SessionsDoctests;

/// `docs/clients.md`: the clients.
#[cfg(doctest)]
#[doc = include_str!("../docs/clients.md")]
struct ClientsDoctests;

/// `docs/schema.md`: the schema and generated clients.
#[cfg(doctest)]
#[doc = include_str!("../docs/schema.md")]
struct SchemaDoctests;

/// `docs/hosting.md`: hosting.
#[cfg(doctest)]
#[doc = include_str!("../docs/hosting.md")]
struct HostingDoctests;

/// `docs/limits.md`: limits and security.
#[cfg(doctest)]
#[doc = include_str!("../docs/limits.md")]
struct LimitsDoctests;

/// `docs/python.md`: Python nodelink.
#[cfg(doctest)]
#[doc = include_str!("../docs/python.md")]
struct PythonDoctests;

/// `docs/testing.md`: testing a game.
#[cfg(doctest)]
#[doc = include_str!("../docs/testing.md")]
struct TestingDoctests;

/// `docs/wire.md`: the wire and benchmarks.
#[cfg(doctest)]
#[doc = include_str!("../docs/wire.md")]
struct WireDoctests;

/// `docs/matches.md`: matches and matchmaking.
#[cfg(doctest)]
#[doc = include_str!("../docs/matches.md")]
struct MatchesDoctests;

/// `docs/service.md`: a service of several processes.
#[cfg(doctest)]
#[doc = include_str!("../docs/service.md")]
struct ServiceDoctests;

/// `docs/layout.md`: the repository.
#[cfg(doctest)]
#[doc = include_str!("../docs/layout.md")]
struct LayoutDoctests;

/// `docs/README.md`: the guide's index.
#[cfg(doctest)]
#[doc = include_str!("../docs/README.md")]
struct GuideIndexDoctests;

/// PROTOCOL.md's example protocol is the examples' protocol crate: its schema block
/// is what `cargo run --example schema` prints.
///
/// ```
/// use nodelink::Protocol;
///
/// let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../PROTOCOL.md"))
///     .expect("PROTOCOL.md");
/// let marker = "<!-- schema: example -->\n```json\n";
/// let block = &doc[doc.find(marker).expect("a schema block") + marker.len()..];
/// let block = &block[..block.find("```").expect("the block's end")];
/// assert_eq!(block.trim_end(), nodelink_examples::Game::schema().to_json_pretty());
/// ```
#[cfg(doctest)]
struct ProtocolMdDescribesTheExamples;

/// A bare WebSocket to the example game's server.
pub type RawSocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// An upgrade request to `url` offering the game's subprotocol.
fn game_request(url: &str) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = url.into_client_request().expect("a ws:// url");
    let offer = nodelink::wire::handshake::subprotocol(<Game as Protocol>::FINGERPRINT);
    request.headers_mut().insert(
        "sec-websocket-protocol",
        offer.parse().expect("a header value"),
    );
    request
}

/// Reads the server's first frame, which must be the welcome; returns the player id.
async fn read_welcome(socket: &mut RawSocket) -> PlayerId {
    use futures::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let Some(Ok(Message::Binary(welcome))) = within("the welcome", socket.next()).await else {
        panic!("expected the welcome");
    };
    match nodelink::wire::decode_server_frame::<Game>(&welcome, usize::MAX) {
        Ok(nodelink::wire::ServerFrame::Welcome(welcome)) => welcome.player,
        other => panic!("expected the welcome, got {other:?}"),
    }
}

/// Connects a bare WebSocket that offers the game's subprotocol and reads the
/// welcome: a client that can send what no typed client would.
///
/// # Panics
/// If the connection or the welcome fails.
pub async fn raw_connect(url: &str) -> (RawSocket, PlayerId) {
    let connecting = tokio_tungstenite::connect_async(game_request(url));
    let (mut socket, _) = within("a raw connection", connecting)
        .await
        .expect("connects");
    let id = read_welcome(&mut socket).await;
    (socket, id)
}

/// Like [`raw_connect`], over a socket whose receive buffer is tiny, so that a
/// client that stops reading fills the server's queue quickly.
///
/// # Panics
/// If the connection or the welcome fails.
pub async fn raw_connect_small_window(addr: SocketAddr) -> (RawSocket, PlayerId) {
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket
        .set_recv_buffer_size(4096)
        .expect("a small receive buffer");
    let stream = within("a raw connection", socket.connect(addr))
        .await
        .expect("connects");
    let stream = tokio_tungstenite::MaybeTlsStream::Plain(stream);
    let upgrading = tokio_tungstenite::client_async(game_request(&format!("ws://{addr}/")), stream);
    let (mut socket, _) = within("the handshake", upgrading).await.expect("upgrades");
    let id = read_welcome(&mut socket).await;
    (socket, id)
}

/// This process's resident memory, in bytes (Linux).
///
/// # Panics
/// If `/proc/self/statm` cannot be read.
#[must_use]
pub fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("resident pages");
    pages * 4096
}

/// Prints a measured figure for RELIABILITY.md, with a marker to grep for.
pub fn figure(what: &str, value: impl std::fmt::Display) {
    println!("figure: {what}: {value}");
}

/// A client of the JSON wire, as Python nodelink's client speaks it: no
/// subprotocol, `{"event", "data"}` text frames. It merges `__state_sync__` payloads
/// into a world keyed by player id, the way a Python game would.
#[derive(Debug)]
pub struct JsonClient {
    socket: RawSocket,
    /// Its id, from the `__welcome__` event.
    pub id: String,
    /// The merged player states, by id.
    pub world: serde_json::Map<String, serde_json::Value>,
    /// The merged server state.
    pub server: serde_json::Map<String, serde_json::Value>,
}

impl JsonClient {
    /// Connects without a subprotocol and reads the welcome.
    ///
    /// # Panics
    /// If the connection fails or the first frame is not the welcome.
    pub async fn connect(url: &str) -> Self {
        Self::connect_via(url, tokio_tungstenite::Connector::Plain).await
    }

    /// [`connect`](Self::connect) through `connector`: a `wss://` URL's TLS
    /// settings.
    ///
    /// # Panics
    /// As [`connect`](Self::connect).
    pub async fn connect_via(url: &str, connector: tokio_tungstenite::Connector) -> Self {
        let connecting =
            tokio_tungstenite::connect_async_tls_with_config(url, None, false, Some(connector));
        let (socket, _) = within("a JSON connection", connecting)
            .await
            .expect("connects");
        let mut client = Self {
            socket,
            id: String::new(),
            world: serde_json::Map::new(),
            server: serde_json::Map::new(),
        };
        let (event, data) = client.next_frame("the welcome").await;
        assert_eq!(event, "__welcome__", "the first frame is the welcome");
        client.id = data["id"].as_str().expect("an id").to_owned();
        client
    }

    /// Sends `{"event": event, "data": data}`.
    ///
    /// # Panics
    /// If the socket fails.
    pub async fn send(&mut self, event: &str, data: serde_json::Value) {
        let frame = serde_json::json!({ "event": event, "data": data });
        self.send_text(&frame.to_string()).await;
    }

    /// Sends a text message as it is.
    ///
    /// # Panics
    /// If the socket fails.
    pub async fn send_text(&mut self, text: &str) {
        use futures::SinkExt;
        let message = tokio_tungstenite::tungstenite::Message::Text(text.into());
        self.socket.send(message).await.expect("sends");
    }

    /// Sends a binary message.
    ///
    /// # Panics
    /// If the socket fails.
    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        use futures::SinkExt;
        let message = tokio_tungstenite::tungstenite::Message::Binary(bytes.into());
        self.socket.send(message).await.expect("sends");
    }

    /// The next frame's event name and data; state syncs are merged into the world
    /// (and returned too).
    ///
    /// # Panics
    /// On timeout, on a closed socket, or on a frame that is not JSON text.
    pub async fn next_frame(&mut self, what: &str) -> (String, serde_json::Value) {
        use futures::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        loop {
            let message = within(what, self.socket.next())
                .await
                .unwrap_or_else(|| panic!("connection ended before {what}"))
                .unwrap_or_else(|error| panic!("connection failed before {what}: {error}"));
            let text = match message {
                Message::Text(text) => text,
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("expected a text frame before {what}, got {other:?}"),
            };
            let mut frame: serde_json::Value = serde_json::from_str(&text).expect("JSON");
            let event = frame["event"].as_str().expect("an event name").to_owned();
            let data = frame["data"].take();
            if event == "__state_sync__" {
                self.merge(&data);
            }
            return (event, data);
        }
    }

    fn merge(&mut self, sync: &serde_json::Value) {
        if sync["full"] == true {
            self.world.clear();
        }
        for id in sync["left"].as_array().into_iter().flatten() {
            self.world.remove(id.as_str().expect("an id"));
        }
        for (id, delta) in sync["players"].as_object().expect("players") {
            let state = self
                .world
                .entry(id.clone())
                .or_insert_with(|| serde_json::json!({}));
            for (field, value) in delta.as_object().expect("a delta") {
                state[field] = value.clone();
            }
        }
        for (field, value) in sync["server"].as_object().into_iter().flatten() {
            self.server.insert(field.clone(), value.clone());
        }
    }

    /// Skips frames until one named `event` arrives; returns its data.
    pub async fn next_event(&mut self, event: &str) -> serde_json::Value {
        within(event, async {
            loop {
                let (name, data) = self.next_frame(event).await;
                if name == event {
                    return data;
                }
            }
        })
        .await
    }

    /// Reads frames until the world satisfies `done`.
    pub async fn world_where(
        &mut self,
        what: &str,
        mut done: impl FnMut(&serde_json::Map<String, serde_json::Value>) -> bool,
    ) {
        within(what, async {
            while !done(&self.world) {
                self.next_frame(what).await;
            }
        })
        .await;
    }

    /// Reads frames until the server closes the connection; returns the close code.
    pub async fn closed(&mut self) -> Option<u16> {
        use futures::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        within("the close", async {
            while let Some(Ok(message)) = self.socket.next().await {
                if let Message::Close(frame) = message {
                    return frame.map(|f| u16::from(f.code));
                }
            }
            None
        })
        .await
    }
}

/// How a server answered a WebSocket upgrade request.
#[derive(Debug)]
pub struct Answer {
    /// The HTTP status: 101 when the upgrade was accepted.
    pub status: u16,
    /// The response body (empty for a 101).
    pub body: String,
    /// The response headers.
    pub headers: tokio_tungstenite::tungstenite::http::HeaderMap,
}

impl Answer {
    /// A response header's value, if present and text.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

/// Sends an upgrade request to `url` offering `subprotocol` (none if `None`) with
/// extra `headers`, and returns the server's answer; an accepted connection is
/// dropped at once.
///
/// # Panics
/// On timeout, or if the handshake fails other than by an HTTP answer.
pub async fn upgrade_answer(
    url: &str,
    subprotocol: Option<&str>,
    headers: &[(&str, &str)],
) -> Answer {
    upgrade(url, subprotocol, headers).await.0
}

/// [`upgrade_answer`], keeping the connection when the upgrade is accepted.
///
/// # Panics
/// On timeout, or if the handshake fails other than by an HTTP answer.
pub async fn upgrade(
    url: &str,
    subprotocol: Option<&str>,
    headers: &[(&str, &str)],
) -> (Answer, Option<RawSocket>) {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::http::HeaderName;
    use tokio_tungstenite::tungstenite::Error;
    let mut request = url.into_client_request().expect("a ws:// url");
    if let Some(offer) = subprotocol {
        request.headers_mut().insert(
            "sec-websocket-protocol",
            offer.parse().expect("a header value"),
        );
    }
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.as_bytes()).expect("a header name");
        request
            .headers_mut()
            .insert(name, value.parse().expect("a header value"));
    }
    match within("the handshake", tokio_tungstenite::connect_async(request)).await {
        Ok((socket, response)) => {
            let answer = Answer {
                status: response.status().as_u16(),
                body: String::new(),
                headers: response.headers().clone(),
            };
            (answer, Some(socket))
        }
        Err(Error::Http(response)) => {
            let answer = Answer {
                status: response.status().as_u16(),
                body: response
                    .body()
                    .as_deref()
                    .map(String::from_utf8_lossy)
                    .unwrap_or_default()
                    .into_owned(),
                headers: response.headers().clone(),
            };
            (answer, None)
        }
        Err(other) => panic!("unexpected handshake error: {other}"),
    }
}

/// The game's subprotocol, as its native clients offer it.
#[must_use]
pub fn game_subprotocol() -> String {
    nodelink::wire::handshake::subprotocol(<Game as Protocol>::FINGERPRINT)
}

/// A plain HTTP/1.1 request for `path`, over a new connection: the status and the
/// body.
///
/// # Panics
/// On timeout, or if the answer is not HTTP.
pub async fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let answer = http_request(addr, path, &[]).await;
    (answer.status, answer.body)
}

/// An HTTP/1.1 `GET` of `path` with extra `headers`, written by hand (so it can
/// be anything a client could send), over a new connection.
///
/// # Panics
/// On timeout, or if the answer is not HTTP.
pub async fn http_request(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Answer {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_tungstenite::tungstenite::http::{HeaderMap, HeaderName, HeaderValue};
    within("an HTTP answer", async {
        let mut stream = tokio::net::TcpStream::connect(addr)
            .await
            .expect("connects");
        let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).await.expect("writes");
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.expect("reads");
        let answer = String::from_utf8_lossy(&answer).into_owned();
        let (head, body) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|status| status.parse().ok())
            .expect("a status");
        let mut headers = HeaderMap::new();
        for line in lines {
            let (name, value) = line.split_once(':').expect("a header");
            headers.append(
                HeaderName::from_bytes(name.trim().as_bytes()).expect("a header name"),
                HeaderValue::from_str(value.trim()).expect("a header value"),
            );
        }
        Answer {
            status,
            body: body.to_owned(),
            headers,
        }
    })
    .await
}

/// Serves `app` on `127.0.0.1` with `TCP_NODELAY`, giving handlers the peers'
/// addresses (`ConnectInfo<SocketAddr>`) when `with_peer`: its address, and the
/// HTTP server's task.
///
/// # Panics
/// If it cannot bind.
pub async fn serve_router(
    app: axum::Router,
    with_peer: bool,
) -> (SocketAddr, JoinHandle<std::io::Result<()>>) {
    use axum::serve::ListenerExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let addr = listener.local_addr().expect("an address");
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let http = if with_peer {
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await })
    } else {
        tokio::spawn(async move { axum::serve(listener, app).await })
    };
    (addr, http)
}

/// A helper program (a Python or TypeScript client, the browser driver) that
/// reports what it sees as JSON lines on its stdout and, when started with
/// commands, reads JSON commands from its stdin. Killed if dropped.
#[derive(Debug)]
pub struct ChildReports {
    /// How failures name it: "the Python client".
    name: &'static str,
    child: tokio::process::Child,
    stdin: Option<tokio::process::ChildStdin>,
    lines: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
}

impl ChildReports {
    /// Starts `command` with piped stdout (and stdin, with `commands`).
    ///
    /// # Panics
    /// If the program cannot be started.
    pub fn spawn(
        name: &'static str,
        command: &mut tokio::process::Command,
        commands: bool,
    ) -> Self {
        use tokio::io::AsyncBufReadExt;

        let stdin = if commands {
            Stdio::piped()
        } else {
            Stdio::null()
        };
        let mut child = command
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|error| panic!("{name} does not start: {error}"));
        let stdout = child.stdout.take().expect("piped stdout");
        Self {
            name,
            stdin: child.stdin.take(),
            child,
            lines: tokio::io::BufReader::new(stdout).lines(),
        }
    }

    /// Writes one command line.
    ///
    /// # Panics
    /// If the program was started without commands or does not read them in time.
    pub async fn command(&mut self, command: &serde_json::Value) {
        use tokio::io::AsyncWriteExt;

        let name = self.name;
        let stdin = self
            .stdin
            .as_mut()
            .unwrap_or_else(|| panic!("{name} was started without commands"));
        let line = format!("{command}\n");
        within(&format!("{name} to read a command"), async {
            stdin.write_all(line.as_bytes()).await?;
            stdin.flush().await
        })
        .await
        .unwrap_or_else(|error| panic!("{name} does not read its commands: {error}"));
    }

    /// The next report, with no deadline of its own: callers wait under `within`.
    ///
    /// # Panics
    /// If the program exits first or writes a line that is not JSON.
    pub async fn next(&mut self, what: &str) -> serde_json::Value {
        let name = self.name;
        let line = self
            .lines
            .next_line()
            .await
            .expect("readable stdout")
            .unwrap_or_else(|| panic!("{name} exited before {what}"));
        serde_json::from_str(&line).unwrap_or_else(|error| panic!("not a report ({error}): {line}"))
    }

    /// Skips reports until one of `kind` satisfies `pick`, within the deadline.
    pub async fn expect_where<T>(
        &mut self,
        kind: &str,
        mut pick: impl FnMut(&serde_json::Value) -> Option<T>,
    ) -> T {
        within(kind, async {
            loop {
                let report = self.next(&format!("`{kind}`")).await;
                if report["kind"] == kind {
                    if let Some(found) = pick(&report) {
                        return found;
                    }
                }
            }
        })
        .await
    }

    /// The next report of `kind`.
    pub async fn expect(&mut self, kind: &str) -> serde_json::Value {
        self.expect_where(kind, |report| Some(report.clone())).await
    }

    /// Waits for the program to exit; it must succeed.
    ///
    /// # Panics
    /// If it fails or does not exit in time.
    pub async fn exited(mut self) {
        let name = self.name;
        let status = within(&format!("{name} to exit"), self.child.wait())
            .await
            .expect("an exit status");
        assert!(status.success(), "{name}: {status}");
    }
}

/// A `redis-server` of a test's own, on a free loopback port, with nothing saved
/// to disk; killed when dropped.
#[derive(Debug)]
pub struct Redis {
    child: Option<tokio::process::Child>,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl Redis {
    /// Starts one. Without `redis-server` installed, `None` after a notice, or a
    /// panic when `CI` is set (CI installs it: `.ci/run`).
    ///
    /// # Panics
    /// When it does not start, or under CI without `redis-server`.
    pub async fn start() -> Option<Self> {
        let installed = std::process::Command::new("redis-server")
            .arg("--version")
            .output()
            .is_ok_and(|output| output.status.success());
        if !installed {
            assert!(
                std::env::var_os("CI").is_none(),
                "redis-server is needed under CI (apt-get install redis-server)"
            );
            eprintln!("skipped: redis-server is not installed (apt-get install redis-server)");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let mut redis = Self { child: None, port };
        redis.launch().await;
        Some(redis)
    }

    /// Its `redis://` URL.
    #[must_use]
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn launch(&mut self) {
        let child = tokio::process::Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--loglevel", "warning"])
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let addr = format!("127.0.0.1:{}", self.port);
        poll_until("redis-server to listen", || async {
            tokio::net::TcpStream::connect(&addr).await.ok().map(drop)
        })
        .await;
    }

    /// Kills it at once (as a crash would): what it held is gone.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// Starts it again, empty, on the same port.
    pub async fn restart(&mut self) {
        self.kill().await;
        self.launch().await;
    }
}
