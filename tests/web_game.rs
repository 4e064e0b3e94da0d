//! The web game (`cargo run --example web`, `examples/web/`) as people play it: two
//! pages in headless Chromium, a native Rust bot and the published Python nodelink
//! 0.6.0 client in one game, on the site's one port.
//!
//! The pages are driven by `clients/typescript/test/browser/web-game.ts` through
//! playwright-core: it presses arrow keys, types into the chat box and reports
//! what each page shows (its player list, chat log and status line) whenever that
//! changes. Both the browser pages and the Rust and Python clients must see every
//! move and every chat line.
//!
//! Needs Chromium (`/usr/bin/chromium`, Debian's `chromium` package, or the path in
//! `NODELINK_CHROMIUM`) and the TypeScript package's dev dependencies (installed by
//! `clients/typescript/scripts/build-for-tests.sh`, which the test runs). When
//! Chromium is missing the browser test is skipped with a notice, unless the `CI`
//! environment variable is set (to anything but `false` or `0`): then it fails.
//!
//! The test saves a screenshot of a page in mid-game as `target/web-game.png`, and
//! as `docs/web-game.png` (shown by the README) when that file is missing or
//! `NODELINK_UPDATE_SCREENSHOT=1`: the committed picture changes only on request.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nodelink::server::{ServerConfig, ServerHandle};
use nodelink::PlayerId;
use nodelink_examples::web::{self, MAP_HEIGHT, MAP_WIDTH};
use nodelink_examples::{Avatar, Game, ToClient, ToServer};
use nodelink_tests::{
    http_request, python, repo_root, serve_router, typescript_package, within, ChildReports, Seen,
    Watcher, DEADLINE,
};
use serde_json::{json, Value};
use tokio::process::Command;
use tokio::task::JoinHandle;

/// The web game's site, served on `127.0.0.1`.
struct Site {
    addr: SocketAddr,
    handle: ServerHandle<Game>,
    world: JoinHandle<()>,
    http: JoinHandle<std::io::Result<()>>,
}

impl Site {
    async fn start() -> Self {
        // Frequent pings: the pages show their latency soon.
        let config = ServerConfig::default().ping_interval(Duration::from_millis(250));
        let (router, mounted) = web::app(config);
        let handle = mounted.handle();
        let (addr, http) = serve_router(router, true).await;
        let world = tokio::spawn(mounted.run());
        Self {
            addr,
            handle,
            world,
            http,
        }
    }

    fn game_url(&self, query: &str) -> String {
        format!("ws://{}/{query}", self.addr)
    }

    fn page_url(&self, query: &str) -> String {
        format!("http://{}/{query}", self.addr)
    }

    async fn stop(self) {
        self.handle.shutdown();
        within("the game to stop", self.world)
            .await
            .expect("the world task");
        self.http.abort();
    }
}

/// The player named `name` in a native client's mirror.
fn named<'a>(world: &'a nodelink::IdMap<Avatar>, name: &str) -> Option<(PlayerId, &'a Avatar)> {
    world
        .iter()
        .find(|(_, avatar)| avatar.name == name)
        .map(|(id, avatar)| (*id, avatar))
}

#[tokio::test]
async fn the_site_serves_the_page_its_script_and_the_game() {
    let site = Site::start().await;

    let page = http_request(site.addr, "/", &[]).await;
    assert_eq!(page.status, 200);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(page.body, web::PAGE);
    let script = http_request(site.addr, "/game.js", &[]).await;
    assert_eq!(script.status, 200);
    assert!(script
        .header("content-type")
        .unwrap()
        .starts_with("text/javascript"));
    assert_eq!(script.body, web::SCRIPT);

    // A name from the query, cleaned up; none: a name made from the id.
    let mut zed = Watcher::connect(&site.game_url("?name=%20zed%07%20")).await;
    let zed_id = zed.id.unwrap();
    let mut anon = Watcher::connect(&site.game_url("")).await;
    let anon_id = anon.id.unwrap();
    let anon_name = web::default_name(anon_id);
    anon.world_where("both names", |world| {
        world.get(&zed_id).is_some_and(|a| a.name == "zed")
            && world.get(&anon_id).is_some_and(|a| a.name == anon_name)
    })
    .await;
    // Arrivals are announced to the players already there.
    let joined = zed
        .next_where("anon's arrival", |seen| match seen {
            Seen::Event(ToClient::Joined { id }) if *id != zed_id => Some(*id),
            _ => None,
        })
        .await;
    assert_eq!(joined, anon_id);
    // Each starts on its own spot, inside the map.
    let (x, y) = web::spawn_point(zed_id);
    assert!(anon.world[&zed_id].x == x && anon.world[&zed_id].y == y);

    // Moves are clamped to the map; those that are not numbers are ignored.
    zed.sender
        .send(ToServer::Move {
            x: -50.0,
            y: 9999.0,
        })
        .unwrap();
    anon.world_where("zed clamped to the map's corner", |world| {
        world
            .get(&zed_id)
            .is_some_and(|a| (a.x, a.y) == (0.0, MAP_HEIGHT))
    })
    .await;
    zed.sender
        .send(ToServer::Move {
            x: f32::NAN,
            y: 1.0,
        })
        .unwrap();
    zed.sender.send(ToServer::Move { x: 5.0, y: 6.0 }).unwrap();
    anon.world_where("zed's last move", |world| {
        world.get(&zed_id).is_some_and(|a| (a.x, a.y) == (5.0, 6.0))
    })
    .await;
    zed.sender
        .send(ToServer::Move {
            x: MAP_WIDTH + 1.0,
            y: -1.0,
        })
        .unwrap();
    anon.world_where("zed clamped to the other corner", |world| {
        world
            .get(&zed_id)
            .is_some_and(|a| (a.x, a.y) == (MAP_WIDTH, 0.0))
    })
    .await;

    // Chat goes to everyone, the sender included, trimmed; blank lines go nowhere.
    for msg in ["   ", "  hi all  "] {
        zed.sender.send(ToServer::Chat { msg: msg.into() }).unwrap();
    }
    for watcher in [&mut zed, &mut anon] {
        let chat = watcher
            .next_where("zed's chat", |seen| match seen {
                Seen::Event(ToClient::Chat { from, msg }) => Some((*from, msg.clone())),
                _ => None,
            })
            .await;
        assert_eq!(chat, (zed_id, "hi all".to_owned()));
    }

    // Departures are announced.
    zed.sender.disconnect();
    let left = anon
        .next_where("zed's departure", |seen| match seen {
            Seen::Event(ToClient::Left { id }) => Some(*id),
            _ => None,
        })
        .await;
    assert_eq!(left, zed_id);
    site.stop().await;
}

// ---------------------------------------------------------------------------
// In the browser

/// Whether this runs in CI, where a missing browser is an error.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|ci| !ci.is_empty() && ci != "false" && ci != "0")
}

/// Chromium and the driver script, or `None` (with a notice) when this machine
/// cannot run the browser test and this is not CI.
///
/// # Panics
/// In CI, when something is missing.
fn browser_tools() -> Option<(PathBuf, PathBuf)> {
    let chromium = std::env::var_os("NODELINK_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    let missing = if chromium.is_file() {
        // The build installs the package's dev dependencies, playwright-core among them.
        let package = typescript_package();
        let playwright = package.join("node_modules/playwright-core");
        (!playwright.is_dir()).then(|| format!("{} is missing", playwright.display()))
    } else {
        Some(format!(
            "no Chromium at {} (apt-get install chromium, or set NODELINK_CHROMIUM)",
            chromium.display()
        ))
    };
    match missing {
        None => Some((
            chromium,
            typescript_package().join("dist/test/browser/web-game.js"),
        )),
        Some(why) if in_ci() => panic!("the browser test cannot run: {why}"),
        Some(why) => {
            eprintln!("skipped: the web game's browser test: {why}");
            None
        }
    }
}

/// One player as a page lists it.
#[derive(Debug, Clone, PartialEq)]
struct Listed {
    name: String,
    x: f64,
    y: f64,
    me: bool,
}

/// What a page shows: its status line, its player list, its chat log.
#[derive(Debug, Clone, Default)]
struct View {
    status: String,
    players: Vec<Listed>,
    chat: Vec<String>,
}

impl View {
    fn parse(view: &Value) -> Self {
        let players = view["players"].as_array().expect("players");
        Self {
            status: view["status"].as_str().unwrap_or_default().to_owned(),
            players: players
                .iter()
                .map(|player| Listed {
                    name: player["name"].as_str().unwrap_or_default().to_owned(),
                    x: player["x"].as_f64().unwrap_or(f64::NAN),
                    y: player["y"].as_f64().unwrap_or(f64::NAN),
                    me: player["me"] == true,
                })
                .collect(),
            chat: view["chat"]
                .as_array()
                .expect("chat")
                .iter()
                .map(|line| line.as_str().unwrap_or_default().to_owned())
                .collect(),
        }
    }

    fn player(&self, name: &str) -> Option<&Listed> {
        self.players.iter().find(|player| player.name == name)
    }

    fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.players.iter().map(|p| p.name.as_str()).collect();
        names.sort_unstable();
        names
    }

    fn shows_line(&self, line: &str) -> bool {
        self.chat.iter().any(|shown| shown == line)
    }
}

/// Headless Chromium with its pages, driven by the Node script: commands go to its
/// stdin, reports come from its stdout as JSON lines.
struct Browser {
    reports: ChildReports,
    /// What each page showed last.
    views: HashMap<String, View>,
}

impl Browser {
    async fn start(chromium: &Path, driver: &Path) -> Self {
        let mut command = Command::new("node");
        command.arg(driver).arg(chromium);
        let mut browser = Self {
            reports: ChildReports::spawn("the browser driver", &mut command, true),
            views: HashMap::new(),
        };
        browser.next_report("the browser to start", "ready").await;
        browser
    }

    /// Reads reports until one of `kind` (page views are kept on the way); a page's
    /// exception or a failed command fails the test.
    async fn next_report(&mut self, what: &str, kind: &str) -> Value {
        within(what, async {
            loop {
                let report = self.read(what).await;
                if report["kind"] == kind {
                    return report;
                }
            }
        })
        .await
    }

    async fn read(&mut self, what: &str) -> Value {
        let report = self.reports.next(what).await;
        match report["kind"].as_str() {
            Some("view") => {
                let page = report["page"].as_str().expect("a page").to_owned();
                self.views.insert(page, View::parse(&report["view"]));
            }
            Some("page_error") => {
                panic!("page {}: exception: {}", report["page"], report["message"])
            }
            Some("failed") => panic!("browser command failed: {report}"),
            _ => {}
        }
        report
    }

    /// Runs a command and waits until the driver has done it.
    async fn command(&mut self, what: &str, command: Value) {
        self.reports.command(&command).await;
        self.next_report(what, "done").await;
    }

    async fn open(&mut self, page: &str, url: &str) {
        self.command(
            &format!("page {page} to open"),
            json!({ "cmd": "open", "page": page, "url": url }),
        )
        .await;
    }

    async fn press(&mut self, page: &str, key: &str, times: u32) {
        self.command(
            &format!("{key} on page {page}"),
            json!({ "cmd": "press", "page": page, "key": key, "times": times }),
        )
        .await;
    }

    async fn chat(&mut self, page: &str, text: &str) {
        self.command(
            &format!("a chat on page {page}"),
            json!({ "cmd": "chat", "page": page, "text": text }),
        )
        .await;
    }

    /// Waits until what `page` shows satisfies `done`; returns that view.
    async fn view_where(&mut self, page: &str, what: &str, done: impl Fn(&View) -> bool) -> View {
        let what = format!("page {page} to show {what}");
        let waiting = async {
            loop {
                if let Some(view) = self.views.get(page).filter(|view| done(view)) {
                    return view.clone();
                }
                self.read(&what).await;
            }
        };
        match tokio::time::timeout(DEADLINE, waiting).await {
            Ok(view) => view,
            Err(_) => panic!(
                "timed out after {DEADLINE:?} waiting for {what}; it shows {:#?}",
                self.views.get(page)
            ),
        }
    }

    async fn exit(mut self) {
        self.reports.command(&json!({ "cmd": "exit" })).await;
        self.reports.exited().await;
    }
}

/// The Python nodelink client playing the web game (`tests/python/web_player.py`),
/// and what it has seen.
struct PythonPlayer {
    reports: ChildReports,
    id: Option<PlayerId>,
    world: serde_json::Map<String, Value>,
    /// The chat lines seen: who (player id) and what.
    chats: Vec<(String, String)>,
}

impl PythonPlayer {
    fn start(port: u16, x: f32, y: f32) -> Self {
        let mut command = Command::new(python());
        command
            .arg(repo_root().join("tests/python/web_player.py"))
            .args([port.to_string(), x.to_string(), y.to_string()]);
        Self {
            reports: ChildReports::spawn("the Python client", &mut command, false),
            id: None,
            world: serde_json::Map::new(),
            chats: Vec::new(),
        }
    }

    /// Reads reports until what the client has seen satisfies `done`.
    async fn until(&mut self, what: &str, done: impl Fn(&Self) -> bool) {
        let what = format!("the Python client to see {what}");
        within(&what, async {
            while !done(self) {
                let report = self.reports.next(&what).await;
                match report["kind"].as_str() {
                    Some("welcome") => {
                        self.id = report["id"].as_str().and_then(|id| id.parse().ok());
                    }
                    Some("sync") => {
                        self.world = report["world"].as_object().cloned().unwrap_or_default();
                    }
                    Some("chat") => self.chats.push((
                        report["from"].as_str().unwrap_or_default().to_owned(),
                        report["msg"].as_str().unwrap_or_default().to_owned(),
                    )),
                    Some("error") => panic!("the Python client reported {report}"),
                    _ => {}
                }
            }
        })
        .await;
    }

    /// The player named `name` in its world: id and state.
    fn named(&self, name: &str) -> Option<(&str, &Value)> {
        self.world
            .iter()
            .find(|(_, state)| state["name"] == name)
            .map(|(id, state)| (id.as_str(), state))
    }

    fn saw_chat(&self, from: PlayerId, msg: &str) -> bool {
        let from = from.to_string();
        self.chats
            .iter()
            .any(|(who, what)| *who == from && what == msg)
    }
}

/// Waits for a native client to see `from` say `msg`.
async fn bot_hears(bot: &mut Watcher, from: PlayerId, msg: &str) {
    bot.next_where(&format!("the bot to hear {msg:?}"), |seen| match seen {
        Seen::Event(ToClient::Chat {
            from: who,
            msg: what,
        }) => (*who == from && what == msg).then_some(()),
        _ => None,
    })
    .await;
}

#[tokio::test]
async fn two_browser_pages_a_rust_bot_and_a_python_client_play_together() {
    let Some((chromium, driver)) = browser_tools() else {
        return;
    };
    let site = Site::start().await;

    // The bot (native wire) and the Python client (JSON wire) are there first.
    let mut bot = Watcher::connect(&site.game_url("?name=bot")).await;
    let bot_id = bot.id.expect("connected");
    bot.sender
        .send(ToServer::Move { x: 700.0, y: 90.0 })
        .unwrap();
    let mut py = PythonPlayer::start(site.addr.port(), 110.0, 420.0);
    py.until("its welcome", |py| py.id.is_some()).await;
    let py_id = py.id.unwrap();
    let py_name = web::default_name(py_id);
    bot.world_where("the Python player in place", |world| {
        world
            .get(&py_id)
            .is_some_and(|a| (a.x, a.y) == (110.0, 420.0) && a.name == py_name)
    })
    .await;

    // Two people open the page, each with a name.
    let mut browser = Browser::start(&chromium, &driver).await;
    browser.open("ada", &site.page_url("?name=ada")).await;
    browser.open("bob", &site.page_url("?name=bob")).await;
    let mut everyone = vec!["ada", "bob", "bot", py_name.as_str()];
    everyone.sort_unstable();
    for (page, other) in [("ada", "bob"), ("bob", "ada")] {
        let view = browser
            .view_where(page, "all four players", |view| {
                view.names() == everyone && view.status.starts_with("4 online")
            })
            .await;
        let me: Vec<&str> = view
            .players
            .iter()
            .filter(|p| p.me)
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(me, [page], "{page}'s page marks its own player");
        assert!(!view.player(other).unwrap().me);
        assert_eq!(
            (view.player("bot").unwrap().x, view.player("bot").unwrap().y),
            (700.0, 90.0)
        );
        assert_eq!(
            (
                view.player(&py_name).unwrap().x,
                view.player(&py_name).unwrap().y
            ),
            (110.0, 420.0)
        );
    }
    browser
        .view_where("ada", "bob's arrival", |view| view.shows_line("bob joined"))
        .await;
    browser
        .view_where("bob", "their own arrival", |view| {
            view.shows_line("you joined as bob")
        })
        .await;

    // Ada taps the right arrow five times (10 units a tap): bob sees her move.
    let view = browser
        .view_where("bob", "ada", |view| view.player("ada").is_some())
        .await;
    let ada_start = view.player("ada").unwrap().clone();
    browser.press("ada", "ArrowRight", 5).await;
    let moved = |view: &View| {
        view.player("ada")
            .is_some_and(|ada| ada.x >= ada_start.x + 50.0 && ada.y == ada_start.y)
    };
    browser
        .view_where("ada", "herself moved right", moved)
        .await;
    let seen = browser.view_where("bob", "ada moved right", moved).await;
    let ada_x = seen.player("ada").unwrap().x;
    // Bob taps the down arrow four times: ada sees him move.
    let view = browser
        .view_where("ada", "bob", |view| view.player("bob").is_some())
        .await;
    let bob_start = view.player("bob").unwrap().clone();
    browser.press("bob", "ArrowDown", 4).await;
    browser
        .view_where("ada", "bob moved down", |view| {
            view.player("bob")
                .is_some_and(|bob| bob.y >= bob_start.y + 40.0 && bob.x == bob_start.x)
        })
        .await;

    // The Rust bot and the Python client saw both moves too.
    bot.world_where("the pages' moves", |world| {
        named(world, "ada").is_some_and(|(_, ada)| f64::from(ada.x).round() >= ada_x)
            && named(world, "bob").is_some_and(|(_, bob)| f64::from(bob.y) >= bob_start.y + 40.0)
    })
    .await;
    let (ada_id, _) = named(&bot.world, "ada").unwrap();
    let (bob_id, _) = named(&bot.world, "bob").unwrap();
    py.until("the pages' moves", |py| {
        let x = |name| py.named(name).and_then(|(_, s)| s["x"].as_f64());
        let y = |name| py.named(name).and_then(|(_, s)| s["y"].as_f64());
        x("ada").is_some_and(|x| x.round() >= ada_x)
            && y("bob").is_some_and(|y| y >= bob_start.y + 40.0)
    })
    .await;
    assert_eq!(py.named("ada").unwrap().0, ada_id.to_string());

    // They chat, typing into the chat box: each sees the other's line.
    browser.chat("ada", "hello from ada").await;
    browser
        .view_where("bob", "ada's chat line", |view| {
            view.shows_line("ada: hello from ada")
        })
        .await;
    browser
        .view_where("ada", "her own chat line", |view| {
            view.shows_line("ada: hello from ada")
        })
        .await;
    browser.chat("bob", "hi ada, bob here").await;
    browser
        .view_where("ada", "bob's chat line", |view| {
            view.shows_line("bob: hi ada, bob here")
        })
        .await;
    bot_hears(&mut bot, ada_id, "hello from ada").await;
    bot_hears(&mut bot, bob_id, "hi ada, bob here").await;
    py.until("the pages' chat", |py| {
        py.saw_chat(ada_id, "hello from ada") && py.saw_chat(bob_id, "hi ada, bob here")
    })
    .await;

    // The bot asks the Python player to speak, and moves; the pages see both.
    bot.sender
        .send(ToServer::Chat {
            msg: "python, say hello".into(),
        })
        .unwrap();
    bot.sender
        .send(ToServer::Move { x: 640.0, y: 160.0 })
        .unwrap();
    bot_hears(&mut bot, py_id, "hello from python").await;
    let python_line = format!("{py_name}: hello from python");
    for page in ["ada", "bob"] {
        browser
            .view_where(page, "the bot's and the Python player's lines", |view| {
                view.shows_line("bot: python, say hello") && view.shows_line(&python_line)
            })
            .await;
        browser
            .view_where(page, "the bot's move", |view| {
                view.player("bot")
                    .is_some_and(|bot| (bot.x, bot.y) == (640.0, 160.0))
            })
            .await;
    }
    // Its status line: who is online, the latency the server measured, who you are.
    let view = browser
        .view_where("ada", "her latency", |view| view.status.contains(" ms · "))
        .await;
    assert!(
        view.status.starts_with("4 online · ") && view.status.ends_with(" ms · you are ada"),
        "{}",
        view.status
    );

    // A picture of the game, as ada sees it.
    let screenshot = repo_root().join("target/web-game.png");
    browser
        .command(
            "a screenshot",
            json!({ "cmd": "screenshot", "page": "ada", "path": screenshot.display().to_string() }),
        )
        .await;
    let bytes = std::fs::read(&screenshot).expect("the screenshot");
    assert!(bytes.starts_with(b"\x89PNG"), "a PNG");
    let docs = repo_root().join("docs/web-game.png");
    if !docs.exists() || std::env::var("NODELINK_UPDATE_SCREENSHOT").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(docs.parent().unwrap()).expect("docs/");
        std::fs::write(&docs, &bytes).expect("docs/web-game.png");
    }

    // Bob closes his page: everyone sees him leave.
    browser
        .command(
            "bob's page to close",
            json!({ "cmd": "close", "page": "bob" }),
        )
        .await;
    browser
        .view_where("ada", "bob leave", |view| {
            view.shows_line("bob left")
                && view.player("bob").is_none()
                && view.status.starts_with("3 online")
        })
        .await;
    bot.world_where("bob gone", |world| !world.contains_key(&bob_id))
        .await;
    py.until("bob gone", |py| py.named("bob").is_none()).await;
    assert!(bot.world.contains_key(&bot_id));

    browser.exit().await;
    bot.sender
        .send(ToServer::Chat { msg: "quit".into() })
        .unwrap();
    py.reports.exited().await;
    site.stop().await;
}
