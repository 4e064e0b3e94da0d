//! The web game (`cargo run --example web`, `examples/web/`) as people play it: two
//! pages in headless Chromium, a native Rust bot and the published Python nodelink
//! 0.6.0 client in one game, on the site's one port; and the lobby, where pages
//! list the matches, create one (public or private) and join one by its button or
//! its code.
//!
//! The pages are driven by `clients/typescript/test/browser/web-game.ts` through
//! playwright-core: it presses arrow keys, types into the chat box and the lobby's
//! forms, clicks, and reports what each page shows (its player list, chat log,
//! status line and lobby) whenever that changes. Both the browser pages and the
//! Rust and Python clients must see every move and every chat line.
//!
//! Needs Chromium (`/usr/bin/chromium`, Debian's `chromium` package, or the path in
//! `NODELINK_CHROMIUM`) and the TypeScript package's dev dependencies (installed by
//! `clients/typescript/scripts/build-for-tests.sh`, which the test runs). When
//! Chromium is missing the browser test is skipped with a notice, unless the `CI`
//! environment variable is set (to anything but `false` or `0`): then it fails.
//!
//! The tests save a screenshot of a page in mid-game as `target/web-game.png` and
//! of a whole page with its lobby as `target/web-lobby.png`, and each as
//! `docs/web-game.png` and `docs/web-lobby.png` (shown by the README) when that
//! file is missing or `NODELINK_UPDATE_SCREENSHOT=1`: the committed pictures
//! change only on request.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use nodelink::client::Client;
use nodelink::server::{ServerConfig, ServerHandle};
use nodelink::wire::MatchRequest;
use nodelink::PlayerId;
use nodelink_examples::web::{self, MAP_HEIGHT, MAP_WIDTH};
use nodelink_examples::{Avatar, Game, Table, ToClient, ToServer};
use nodelink_tests::{
    browser_tools, http_request, python, repo_root, serve_router, within, ChildReports, Seen,
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

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
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

#[tokio::test]
async fn the_site_hosts_titled_tables_beside_its_default_match() {
    let site = Site::start().await;
    let url = site.game_url("");
    let table = |title: &str| Table {
        title: title.to_owned(),
    };
    // A table made with a title lists it, cleaned; the default match has none.
    let request = MatchRequest::create("game", &table("  ada's table\n"), false).unwrap();
    let mut ada = Watcher::connect(&request.apply(&site.game_url("?name=ada"))).await;
    let ada_id = ada.id.unwrap();
    let listings = within("the listing", Client::<Game>::list(&url))
        .await
        .expect("listed");
    let mut titles: Vec<(&str, u32, u32)> = listings
        .iter()
        .map(|l| (l.metadata.title.as_str(), l.players, l.max_players))
        .collect();
    titles.sort_unstable();
    let most = web::MAX_PLAYERS_PER_MATCH as u32;
    assert_eq!(titles, [("ada's table", 1, most), (web::UNTITLED, 0, most)]);
    let ada_code = listings
        .iter()
        .find(|l| l.metadata.title == "ada's table")
        .unwrap()
        .code
        .clone();

    // Finding a title joins the table of that title; another title makes one.
    let found = MatchRequest::find("game", &table("ada's table")).unwrap();
    let mut bob = Watcher::connect(&found.apply(&site.game_url("?name=bob"))).await;
    let bob_id = bob.id.unwrap();
    ada.world_where("bob at ada's table", |world| world.contains_key(&bob_id))
        .await;
    bob.world_where("ada and bob only", |world| {
        world.len() == 2 && world.contains_key(&ada_id)
    })
    .await;
    let other = MatchRequest::find("game", &table("cy's table")).unwrap();
    let _cy = Watcher::connect(&other.apply(&site.game_url("?name=cy"))).await;
    let infos = site.handle.matches();
    assert_eq!(infos.len(), 3, "{infos:?}");
    assert!(infos
        .iter()
        .any(|info| info.code == ada_code && info.players == 2));
    // A client that names no match plays in the default one, as ever.
    let mut dan = Watcher::connect(&site.game_url("?name=dan")).await;
    let dan_id = dan.id.unwrap();
    dan.world_where("dan alone in the default match", |world| {
        world.len() == 1 && world.contains_key(&dan_id)
    })
    .await;
    site.stop().await;
}

// ---------------------------------------------------------------------------
// In the browser

/// One player as a page lists it.
#[derive(Debug, Clone, PartialEq)]
struct Listed {
    name: String,
    x: f64,
    y: f64,
    me: bool,
}

/// A match as a page's lobby lists it.
#[derive(Debug, Clone, PartialEq)]
struct LobbyRow {
    code: String,
    title: String,
    /// `players/max`.
    count: String,
    /// The page plays in it.
    here: bool,
    /// Its button's text (`Join`, `full`, `locked`); none for the page's own.
    button: Option<String>,
}

/// What a page shows: its status line, its player list, its chat log, its match
/// and lobby, and its address.
#[derive(Debug, Clone, Default)]
struct View {
    status: String,
    players: Vec<Listed>,
    chat: Vec<String>,
    /// The code of the match it plays in (empty before its welcome).
    match_code: String,
    /// The line that names that match.
    match_line: String,
    lobby: Vec<LobbyRow>,
    /// The page's path and query.
    url: String,
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
            match_code: text(&view["match"]["code"]),
            match_line: text(&view["match"]["line"]),
            lobby: view["lobby"]
                .as_array()
                .expect("lobby")
                .iter()
                .map(|table| LobbyRow {
                    code: text(&table["code"]),
                    title: text(&table["title"]),
                    count: text(&table["count"]),
                    here: table["here"] == true,
                    button: table["button"].as_str().map(str::to_owned),
                })
                .collect(),
            url: text(&view["url"]),
        }
    }

    fn table(&self, code: &str) -> Option<&LobbyRow> {
        self.lobby.iter().find(|table| table.code == code)
    }

    fn codes(&self) -> Vec<&str> {
        let mut codes: Vec<&str> = self.lobby.iter().map(|t| t.code.as_str()).collect();
        codes.sort_unstable();
        codes
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

    async fn fill(&mut self, page: &str, selector: &str, text: &str) {
        self.command(
            &format!("{selector} on page {page} to be filled"),
            json!({ "cmd": "fill", "page": page, "selector": selector, "text": text }),
        )
        .await;
    }

    async fn click(&mut self, page: &str, selector: &str) {
        self.command(
            &format!("a click on {selector} on page {page}"),
            json!({ "cmd": "click", "page": page, "selector": selector }),
        )
        .await;
    }

    /// Saves a screenshot of `page` (`full`: the whole page, not only its
    /// viewport) as `target/<name>` and, when missing or asked for, as
    /// `docs/<name>`.
    async fn screenshot(&mut self, page: &str, name: &str, full: bool) {
        let path = repo_root().join("target").join(name);
        self.command(
            &format!("a screenshot of page {page}"),
            json!({ "cmd": "screenshot", "page": page, "path": path.display().to_string(), "full": full }),
        )
        .await;
        let bytes = std::fs::read(&path).expect("the screenshot");
        assert!(bytes.starts_with(b"\x89PNG"), "a PNG");
        let docs = repo_root().join("docs").join(name);
        if !docs.exists() || std::env::var("NODELINK_UPDATE_SCREENSHOT").is_ok_and(|v| v == "1") {
            std::fs::create_dir_all(docs.parent().unwrap()).expect("docs/");
            std::fs::write(&docs, &bytes).expect("the screenshot in docs/");
        }
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
    let Some((chromium, driver)) = browser_tools("web-game", "the web game's browser test") else {
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
    browser.screenshot("ada", "web-game.png", false).await;

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

#[tokio::test]
async fn pages_list_create_and_join_matches_from_the_lobby() {
    let Some((chromium, driver)) = browser_tools("web-game", "the web game's browser test") else {
        return;
    };
    let site = Site::start().await;
    let mut browser = Browser::start(&chromium, &driver).await;
    let most = web::MAX_PLAYERS_PER_MATCH;

    // Ada plays in the default match, which her lobby lists as hers.
    browser.open("ada", &site.page_url("?name=ada")).await;
    let view = browser
        .view_where("ada", "her match in the lobby, with her", |view| {
            view.lobby
                .iter()
                .any(|table| table.here && table.count == format!("1/{most}"))
        })
        .await;
    let hall = view.match_code.clone();
    assert_eq!(hall.len(), 6, "a match code: {hall:?}");
    let listed = view.table(&hall).unwrap();
    assert_eq!(
        (listed.title.as_str(), listed.count.clone(), &listed.button),
        (web::UNTITLED, format!("1/{most}"), &None)
    );

    // Cy makes a public table from her lobby, and plays there.
    browser.open("cy", &site.page_url("?name=cy")).await;
    browser
        .view_where("cy", "the default match", |view| view.match_code == hall)
        .await;
    browser.fill("cy", "#create-title", "cy's table").await;
    browser.click("cy", "#create-form button").await;
    let view = browser
        .view_where("cy", "her new table", |view| {
            !view.match_code.is_empty()
                && view.match_code != hall
                && view.status.starts_with("1 online")
        })
        .await;
    let cy_code = view.match_code.clone();
    assert!(
        view.match_line.contains("cy's table"),
        "{}",
        view.match_line
    );
    assert!(
        view.url.contains(&format!("match={cy_code}")) && !view.url.contains("create="),
        "reloading joins it, not another: {}",
        view.url
    );

    // Ada sees it listed and joins it with its button.
    browser.click("ada", "#refresh").await;
    browser
        .view_where("ada", "cy's table listed", |view| {
            view.table(&cy_code).is_some_and(|table| {
                table.title == "cy's table"
                    && table.count == format!("1/{most}")
                    && table.button.as_deref() == Some("Join")
            })
        })
        .await;
    browser
        .click(
            "ada",
            &format!("#matches li[data-code=\"{cy_code}\"] button"),
        )
        .await;
    browser
        .view_where("ada", "ada at cy's table", |view| {
            view.match_code == cy_code
                && view.names() == ["ada", "cy"]
                && view.status.starts_with("2 online")
        })
        .await;
    browser
        .view_where("cy", "ada arrive", |view| {
            view.names() == ["ada", "cy"] && view.shows_line("ada joined")
        })
        .await;
    browser.chat("ada", "hello cy").await;
    browser
        .view_where("cy", "ada's line", |view| view.shows_line("ada: hello cy"))
        .await;

    // Dan makes a private table: not listed. Bob joins it by its code.
    browser.open("dan", &site.page_url("?name=dan")).await;
    browser
        .view_where("dan", "the default match", |view| view.match_code == hall)
        .await;
    browser.fill("dan", "#create-title", "secret").await;
    browser.click("dan", "#create-private").await;
    browser.click("dan", "#create-form button").await;
    let view = browser
        .view_where("dan", "his private table", |view| {
            !view.match_code.is_empty()
                && view.match_code != hall
                && view.match_line.contains("private")
        })
        .await;
    let dan_code = view.match_code.clone();
    browser.open("bob", &site.page_url("?name=bob")).await;
    browser
        .view_where("bob", "the default match", |view| view.match_code == hall)
        .await;
    browser
        .fill("bob", "#join-code", &dan_code.to_lowercase())
        .await;
    browser.click("bob", "#join-form button").await;
    browser
        .view_where("bob", "bob at dan's table", |view| {
            view.match_code == dan_code && view.names() == ["bob", "dan"]
        })
        .await;

    // A native bot makes a public table too: every page lists the public ones.
    let bots = MatchRequest::create(
        "game",
        &Table {
            title: "bots only".into(),
        },
        false,
    )
    .unwrap()
    .apply(&site.game_url("?name=bot"));
    let _bot = Watcher::connect(&bots).await;
    let public: Vec<String> = within("the Rust listing", Client::<Game>::list(&site.game_url("")))
        .await
        .expect("listed")
        .into_iter()
        .map(|listing| listing.code)
        .collect();
    assert_eq!(
        public.len(),
        3,
        "the default match, cy's and the bots': {public:?}"
    );
    assert!(
        !public.contains(&dan_code),
        "the private table is not listed"
    );
    let mut expected: Vec<&str> = public.iter().map(String::as_str).collect();
    expected.sort_unstable();
    browser.click("ada", "#refresh").await;
    let view = browser
        .view_where("ada", "every public table", |view| view.codes() == expected)
        .await;
    let here = view.table(&cy_code).unwrap();
    assert!(here.here && here.count == format!("2/{most}"), "{here:?}");

    // A code no match has: the page says so.
    browser.fill("bob", "#join-code", "zzzzzz").await;
    browser.click("bob", "#join-form button").await;
    browser
        .view_where("bob", "no such match", |view| {
            view.status == "no match has the code ZZZZZZ: pick another below"
        })
        .await;

    // A picture of the lobby, as ada sees it at cy's table.
    browser.screenshot("ada", "web-lobby.png", true).await;
    browser.exit().await;
    site.stop().await;
}
