//! The TypeScript client (`clients/typescript`) against the real server: its
//! generated example client, driven over stdin by
//! `clients/typescript/test/e2e/interop-client.ts`, plays beside a native client;
//! creates, joins by code, finds and lists matches (the example game's tables),
//! is told every refusal of a match request by its kind, resumes into the match
//! it created, stays away once its match has ended, and mirrors players as a
//! player visibility rule brings them into and out of its view.
//!
//! `clients/typescript/scripts/build-for-tests.sh` installs the package's locked
//! dependencies and builds it when needed; the test runs it first, so `cargo test`
//! needs only `node` (20 or newer) and `npm` (and access to the npm registry on the
//! first run).

use std::path::PathBuf;
use std::time::Duration;

use nodelink::client::Client;
use nodelink::server::Server;
use nodelink::wire::MatchRequest;
use nodelink::{PlayerId, Protocol};
use nodelink_examples::{Game, OnToServer, Table, ToClient, ToServer, ToServerChat};
use nodelink_tests::{
    local_config, poll_until, reporting_game, serve, typescript_package, within, ChildReports,
    Proxy, Seen, Watcher,
};
use serde_json::{json, Value};
use tokio::process::Command;

/// The built interop client script.
fn script() -> PathBuf {
    typescript_package().join("dist/test/e2e/interop-client.js")
}

/// The TypeScript client process: commands go to its stdin, reports come from its
/// stdout as JSON lines.
struct TsClient {
    reports: ChildReports,
}

impl TsClient {
    fn start(url: &str, args: &[&str]) -> Self {
        let mut command = Command::new("node");
        command.arg(script()).arg(url).args(args);
        Self {
            reports: ChildReports::spawn("the TypeScript client", &mut command, true),
        }
    }

    async fn send(&mut self, event: &str, data: Value) {
        self.reports
            .command(&json!({ "cmd": "send", "event": event, "data": data }))
            .await;
    }

    async fn command(&mut self, command: Value) {
        self.reports.command(&command).await;
    }

    async fn expect_where<T>(&mut self, kind: &str, pick: impl FnMut(&Value) -> Option<T>) -> T {
        self.reports.expect_where(kind, pick).await
    }

    async fn expect(&mut self, kind: &str) -> Value {
        self.reports.expect(kind).await
    }

    async fn status(&mut self) -> Value {
        self.command(json!({ "cmd": "status" })).await;
        self.expect("status").await
    }

    /// Closes the client (code 1000) and waits for the process to exit.
    async fn exit(mut self) {
        self.command(json!({ "cmd": "exit" })).await;
        self.reports.exited().await;
    }
}

fn fingerprint() -> String {
    format!("{:016x}", Game::FINGERPRINT)
}

// Integral floats arrive as JSON integers (JavaScript writes `3.0` as `3`), hence
// `3` rather than `3.0` in the expected values below.

#[tokio::test]
async fn the_typescript_client_plays_beside_a_native_client() {
    // Pings every 100 ms, answered by the TypeScript client's pongs.
    let config = local_config().ping_interval(Duration::from_millis(100));
    let (server, mut errors) = reporting_game(config);
    let running = serve(server).await;
    let mut native = Watcher::connect(&running.url()).await;
    let native_id = native.id.expect("connected");
    let native_key = native_id.to_string();
    native
        .sender
        .send(ToServer::Move { x: 3.0, y: 4.0 })
        .unwrap();
    native
        .world_where("the native move", |world| {
            world.get(&native_id).is_some_and(|avatar| avatar.x == 3.0)
        })
        .await;

    // Events sent before the connection opens wait in the queue.
    let mut ts = TsClient::start(&running.url(), &[]);
    ts.send("chat", json!({ "msg": "queued before open" }))
        .await;
    ts.send("move", json!({ "x": 1.5, "y": -2.0 })).await;
    let status = ts.status().await;
    assert_eq!(
        (&status["status"], &status["queued"]),
        (&json!("idle"), &json!(2))
    );

    // The welcome: this server's fingerprint, its tick rate, a player id.
    ts.command(json!({ "cmd": "connect" })).await;
    let welcome = ts.expect("connect").await;
    assert_eq!(welcome["fingerprint"], fingerprint());
    assert_eq!(welcome["tick_rate"], 20);
    let ts_key = welcome["id"].as_str().expect("an id").to_owned();
    let ts_id: PlayerId = ts_key.parse().expect("an 8-hex id");

    // The snapshot: the native player's whole state, the server state, the count.
    let snapshot = ts.expect("snapshot").await;
    assert_eq!(
        snapshot["world"][&native_key],
        json!({ "x": 3, "y": 4, "name": "" })
    );
    assert_eq!(
        snapshot["server_state"],
        json!({ "round": 0, "time_left": 0, "leader": null })
    );
    assert_eq!(snapshot["online"], 2);

    // The queued chat went out after the welcome and was broadcast to both clients.
    let from = native
        .next_where("the queued chat", |seen| match seen {
            Seen::Event(ToClient::Chat { from, msg }) if msg == "queued before open" => Some(*from),
            _ => None,
        })
        .await;
    assert_eq!(from, ts_id);
    let echo = ts
        .expect_where("event", |event| {
            (event["type"] == "chat" && event["data"]["msg"] == "queued before open")
                .then(|| event["data"].clone())
        })
        .await;
    assert_eq!(echo["from"], ts_key.as_str());
    // So did the queued move: the native client mirrors it.
    native
        .world_where("the TypeScript client's move", |world| {
            world
                .get(&ts_id)
                .is_some_and(|avatar| (avatar.x, avatar.y) == (1.5, -2.0))
        })
        .await;

    // A native client's move arrives as a delta of the changed fields only.
    native
        .sender
        .send(ToServer::Move { x: 7.0, y: 8.0 })
        .unwrap();
    let sync = ts
        .expect_where("sync", |sync| {
            let changes = sync["changes"].as_array()?;
            changes
                .iter()
                .any(|change| change["id"] == native_key.as_str() && change["fields"]["x"] == 7)
                .then(|| sync.clone())
        })
        .await;
    let change = sync["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|change| change["id"] == native_key.as_str())
        .unwrap();
    assert_eq!(change["fields"], json!({ "x": 7, "y": 8 }));
    assert_eq!(
        sync["world"][&native_key],
        json!({ "x": 7, "y": 8, "name": "" })
    );
    assert_eq!(
        sync["world"][&ts_key],
        json!({ "x": 1.5, "y": -2, "name": "" })
    );
    assert_eq!(sync["online"], 2);
    assert_eq!(sync["full"], false);

    // Events both ways.
    native
        .sender
        .send(ToServer::Chat {
            msg: "from rust".into(),
        })
        .unwrap();
    let chat = ts
        .expect_where("event", |event| {
            (event["type"] == "chat" && event["data"]["msg"] == "from rust")
                .then(|| event["data"].clone())
        })
        .await;
    assert_eq!(chat["from"], native_key.as_str());
    ts.send("chat", json!({ "msg": "from typescript" })).await;
    let from = native
        .next_where("the TypeScript chat", |seen| match seen {
            Seen::Event(ToClient::Chat { from, msg }) if msg == "from typescript" => Some(*from),
            _ => None,
        })
        .await;
    assert_eq!(from, ts_id);

    // A unit event changes the shared server state, which arrives as a delta.
    ts.send("ready", Value::Null).await;
    let sync = ts
        .expect_where("sync", |sync| {
            (sync["server"]["round"] == 1).then(|| sync.clone())
        })
        .await;
    assert_eq!(sync["server"], json!({ "round": 1 }));
    assert_eq!(sync["server_state"]["round"], 1);

    // A payload that does not fit the schema is refused before it is sent.
    ts.send("move", json!({ "x": "left", "y": 0 })).await;
    let refused = ts.expect("send_failed").await;
    assert_eq!(refused["error"], "encode");

    // The pings are answered: the server measures the round trip, and tells it.
    within("a measured round trip", async {
        loop {
            let players = running.handle.players().await.unwrap();
            if players.iter().any(|p| p.id == ts_id && p.ping.is_some()) {
                return;
            }
            tokio::task::yield_now().await;
        }
    })
    .await;
    let latency = ts.expect("latency").await;
    assert!(
        latency["ms"].as_f64().is_some_and(|ms| ms > 0.0),
        "{latency}"
    );

    // A departure: the native client leaves.
    native.sender.disconnect();
    let sync = ts
        .expect_where("sync", |sync| {
            sync["left"]
                .as_array()
                .is_some_and(|left| left.contains(&json!(native_key)))
                .then(|| sync.clone())
        })
        .await;
    assert!(sync["world"].get(&native_key).is_none());
    assert_eq!(sync["online"], 1);

    // Nothing the TypeScript client sent was refused by the server.
    assert!(
        errors.try_recv().is_err(),
        "the server reported an error for a TypeScript frame"
    );

    // A kick closes with 4000 and its reason; the client, which reconnects after a
    // lost connection, does not come back.
    running.handle.kick(ts_id).unwrap();
    let disconnect = ts.expect("disconnect").await;
    assert_eq!(disconnect["how"], "closed");
    assert_eq!(disconnect["code"], 4000);
    assert_eq!(disconnect["reason"], "kicked by the server");
    assert_eq!(disconnect["close_reason"], "Kicked");
    assert_eq!(ts.status().await["status"], "disconnected");

    ts.exit().await;
    running.stop().await;
}

#[tokio::test]
async fn a_typescript_client_of_another_protocol_is_refused() {
    let (server, _errors) = reporting_game(local_config());
    let running = serve(server).await;
    let mut ts = TsClient::start(&running.url(), &["--other-protocol"]);
    ts.command(json!({ "cmd": "connect" })).await;
    let refused = ts.expect("connect_failed").await;
    assert_eq!(refused["error"], "protocol_mismatch");
    // The server's fingerprint, from its refusal's `x-nodelink-fingerprint` header.
    assert_eq!(refused["server"], fingerprint());
    let client = refused["client"]
        .as_str()
        .expect("the client's fingerprint");
    assert_ne!(client, fingerprint());
    let message = refused["message"].as_str().unwrap();
    assert!(
        message.contains(client) && message.contains(&fingerprint()),
        "{message}"
    );
    // Refused at the handshake: no player, and no attempt to reconnect.
    assert_eq!(running.handle.player_count(), 0);
    assert_eq!(ts.status().await["status"], "disconnected");
    ts.exit().await;
    running.stop().await;
}

#[tokio::test]
async fn a_browser_like_typescript_client_is_told_its_refusal_with_a_close_code() {
    let (mut server, _errors) = reporting_game(local_config());
    let (refusals_tx, mut refusals) = tokio::sync::mpsc::unbounded_channel();
    server.on_refusal(move |refusal| {
        let _ = refusals_tx.send(refusal.clone());
    });
    let running = serve(server).await;
    // Its WebSocket shows nothing of an HTTP refusal, as a browser's: the client
    // asks for refusals as close codes, and the server completes the upgrade to
    // close it with 4202 and both fingerprints.
    let mut ts = TsClient::start(&running.url(), &["--other-protocol", "--browser-like"]);
    ts.command(json!({ "cmd": "connect" })).await;
    let refused = ts.expect("connect_failed").await;
    assert_eq!(refused["error"], "protocol_mismatch");
    assert_eq!(refused["server"], fingerprint());
    let client = refused["client"]
        .as_str()
        .expect("the client's fingerprint");
    assert_ne!(client, fingerprint());
    let reported = within("the refusal's report", refusals.recv())
        .await
        .expect("a refusal");
    assert_eq!(
        reported.kind(),
        nodelink::wire::RefusalKind::ProtocolMismatch
    );
    assert_eq!(
        reported.reason(),
        format!(
            "protocol mismatch: server fingerprint {}, client fingerprint {client}",
            fingerprint()
        )
    );
    // Not retried (reconnection is on: a retry would be waiting), and no player.
    assert_eq!(ts.status().await["status"], "disconnected");
    assert_eq!(running.handle.player_count(), 0);
    ts.exit().await;
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typescript_client_resumes_its_session_after_a_cut() {
    let config = local_config().ping_interval(Duration::from_millis(100));
    let (mut server, mut errors) = reporting_game(config);
    let (life_tx, mut life) = tokio::sync::mpsc::unbounded_channel();
    let paused = life_tx.clone();
    server.on_pause(move |ctx| {
        let _ = paused.send(("pause", ctx.id()));
    });
    let resumed = life_tx.clone();
    server.on_resume(move |ctx| {
        let _ = resumed.send(("resume", ctx.id()));
    });
    server.on_disconnect(move |ctx| {
        let _ = life_tx.send(("disconnect", ctx.id()));
    });
    let running = serve(server).await;
    let proxy = Proxy::start(running.addr).await;
    let mut native = Watcher::connect(&running.url()).await;

    let mut ts = TsClient::start(&proxy.url(), &[]);
    ts.command(json!({ "cmd": "connect" })).await;
    let welcome = ts.expect("connect").await;
    let ts_key = welcome["id"].as_str().expect("an id").to_owned();
    let ts_id: PlayerId = ts_key.parse().expect("an 8-hex id");
    ts.expect("snapshot").await;

    // The connection is cut, and the way back blocked for a while: the server
    // pauses the player, the client keeps its session and tries to resume it.
    proxy.stall();
    proxy.cut();
    let pause = ts.expect("pause").await;
    assert_eq!(pause["how"], "lost");
    let next = within("the pause", life.recv()).await;
    assert_eq!(next, Some(("pause", ts_id)));

    // Meanwhile the native client chats (kept for the paused player) and the
    // TypeScript client queues a chat of its own.
    native
        .sender
        .send(ToServer::Chat {
            msg: "while away".into(),
        })
        .unwrap();
    native
        .next_where("its own chat", |seen| match seen {
            Seen::Event(ToClient::Chat { msg, .. }) if msg == "while away" => Some(()),
            _ => None,
        })
        .await;
    ts.send("chat", json!({ "msg": "queued while away" })).await;
    proxy.unstall();

    // The same player again, with what it missed; the others saw nothing.
    let resume = ts.expect("resume").await;
    assert_eq!(resume["id"], ts_key.as_str());
    let next = within("the resume", life.recv()).await;
    assert_eq!(next, Some(("resume", ts_id)));
    native
        .sender
        .send(ToServer::Chat {
            msg: "after".into(),
        })
        .unwrap();
    let mut missed = 0;
    ts.expect_where("event", |event| {
        let msg = event["data"]["msg"].as_str()?;
        missed += usize::from(msg == "while away");
        (msg == "after").then_some(())
    })
    .await;
    assert_eq!(missed, 1, "the chat sent while away arrives once");
    // The client's own chats arrive in the order it sent them.
    ts.send("chat", json!({ "msg": "after resuming" })).await;
    let mut queued = 0;
    native
        .next_where("the chats after the resume", |seen| match seen {
            Seen::Event(ToClient::Chat { msg, from }) if *from == ts_id => {
                queued += usize::from(msg == "queued while away");
                (msg == "after resuming").then_some(())
            }
            Seen::Sync(sync, _) if sync.left.contains(&ts_id) => {
                panic!("the native client saw it leave")
            }
            _ => None,
        })
        .await;
    assert_eq!(queued, 1, "the chat queued while away goes out once");
    assert!(life.try_recv().is_err(), "no departure");
    assert!(errors.try_recv().is_err());
    ts.exit().await;
    running.stop().await;
}

// ---------------------------------------------------------------------------
// Matches

/// A server of the example game whose tables are matches: made on request (a
/// server without a game value makes them all alike) from their options, which
/// they list as their metadata; two players a match; found by title. `ready`
/// locks the sender's match, and the chat line `end` ends it.
fn tables() -> Server<Game> {
    let mut server = Server::<Game>::new(local_config());
    server
        .max_players(2)
        .metadata(Table::clone)
        .filter(|wanted, listed| wanted.title == listed.title);
    server.on_ready(|ctx| ctx.lock_match());
    server.on_chat(|ctx, ToServerChat { msg }| {
        if msg == "end" {
            ctx.end_match();
        }
    });
    server
}

/// Starts a TypeScript client with `args` and connects it: its welcome report.
async fn welcomed(url: &str, args: &[&str]) -> (TsClient, Value) {
    let mut ts = TsClient::start(url, args);
    ts.command(json!({ "cmd": "connect" })).await;
    let welcome = ts.expect("connect").await;
    (ts, welcome)
}

fn code_of(welcome: &Value) -> String {
    welcome["match_code"]
        .as_str()
        .expect("a match code")
        .to_owned()
}

/// The code and players of a listed match.
fn listed(listing: &Value) -> Vec<(String, u64, String)> {
    listing["matches"]
        .as_array()
        .expect("matches")
        .iter()
        .map(|entry| {
            (
                entry["code"].as_str().unwrap().to_owned(),
                entry["players"].as_u64().unwrap(),
                entry["metadata"]["title"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typescript_client_creates_joins_finds_and_lists_matches() {
    let running = serve(tables()).await;
    let url = running.url();

    // Ada makes a table; her request is the one the Rust client makes.
    let (mut ada, welcome) = welcomed(&url, &["--create=ada's table"]).await;
    let ada_code = code_of(&welcome);
    let ada_id = welcome["id"].as_str().unwrap().to_owned();
    assert_eq!(welcome["match_kind"], "game");
    let status = ada.status().await;
    let table = Table {
        title: "ada's table".into(),
    };
    let request = MatchRequest::create("game", &table, false).unwrap();
    assert_eq!(status["url"], request.apply(&url));
    assert_eq!(status["match_code"], ada_code.as_str());

    // Cy finds it by its title; Dan finds it full and gets a new one.
    let (cy, welcome) = welcomed(&url, &["--find=ada's table"]).await;
    assert_eq!(code_of(&welcome), ada_code, "found ada's table");
    let cy_id = welcome["id"].as_str().unwrap().to_owned();
    let (dan, welcome) = welcomed(&url, &["--find=ada's table"]).await;
    let dan_code = code_of(&welcome);
    assert_ne!(dan_code, ada_code, "ada's table is full: a new one");
    // Bob joins Dan's by its code, in lowercase; Eve makes a private one.
    let (bob, welcome) = welcomed(&url, &[&format!("--join={}", dan_code.to_lowercase())]).await;
    assert_eq!(code_of(&welcome), dan_code);
    let (eve, welcome) = welcomed(&url, &["--create-private=hidden"]).await;
    let eve_code = code_of(&welcome);

    // Each match mirrors its own players only: ada sees herself and cy.
    let mut table_players = vec![ada_id, cy_id];
    table_players.sort();
    ada.expect_where("sync", |sync| {
        let mut ids: Vec<String> = sync["world"].as_object()?.keys().cloned().collect();
        ids.sort();
        (ids == table_players).then_some(())
    })
    .await;
    let infos = running.handle.matches();
    let players = |code: &str| {
        infos
            .iter()
            .find(|info| info.code == code)
            .map(|info| (info.players, info.max_players, info.public))
    };
    assert_eq!(players(&ada_code), Some((2, 2, true)));
    assert_eq!(players(&dan_code), Some((2, 2, true)));
    assert_eq!(players(&eve_code), Some((1, 2, false)));

    // The listing: the public tables by code, the private one not; what the Rust
    // client lists too.
    ada.command(json!({ "cmd": "list" })).await;
    let listing = ada.expect("listing").await;
    let shown = listed(&listing);
    let rust: Vec<(String, u64, String)> = within("the Rust listing", Client::<Game>::list(&url))
        .await
        .expect("listed")
        .into_iter()
        .map(|entry| (entry.code, u64::from(entry.players), entry.metadata.title))
        .collect();
    assert_eq!(shown, rust);
    assert!(shown.contains(&(ada_code.clone(), 2, "ada's table".to_owned())));
    assert!(shown.contains(&(dan_code.clone(), 2, "ada's table".to_owned())));
    assert!(!shown.iter().any(|(code, ..)| *code == eve_code));
    assert_eq!(
        shown.len(),
        3,
        "the default match, ada's and dan's: {shown:?}"
    );
    let entry = &listing["matches"][0];
    assert_eq!(
        (&entry["max_players"], &entry["locked"]),
        (&json!(2), &json!(false))
    );

    for ts in [ada, cy, dan, bob, eve] {
        ts.exit().await;
    }
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_of_a_match_request_reaches_the_typescript_client_by_kind() {
    let running = serve(tables()).await;
    let url = running.url();
    // A full table, and a locked one.
    let (ada, welcome) = welcomed(&url, &["--create=full"]).await;
    let full = code_of(&welcome);
    let (bob, _) = welcomed(&url, &[&format!("--join={full}")]).await;
    let (mut eve, welcome) = welcomed(&url, &["--create=locked"]).await;
    let locked = code_of(&welcome);
    eve.send("ready", Value::Null).await;
    poll_until("eve's table to lock", || async {
        running
            .handle
            .matches()
            .iter()
            .any(|info| info.code == locked && info.locked)
            .then_some(())
    })
    .await;
    // A server whose one kind makes no matches on request: a game value for its
    // default match, and no factory for others.
    let no_factory = serve(Server::<Game>::with_game(local_config(), ())).await;

    let join_full = format!("--join={full}");
    let join_locked = format!("--join={locked}");
    let cases: [(&str, String, &[&str], u16, &str); 7] = [
        (
            "BadMatchRequest",
            format!("{url}?match=dance"),
            &[],
            400,
            "dance",
        ),
        (
            "UnknownKind",
            url.clone(),
            &["--create=t", "--kind=nope"],
            404,
            "nope",
        ),
        (
            "UnknownMatch",
            url.clone(),
            &["--join=zzzzzz"],
            404,
            "ZZZZZZ",
        ),
        ("MatchFull", url.clone(), &[&join_full], 409, &full),
        ("MatchLocked", url.clone(), &[&join_locked], 409, &locked),
        (
            "BadOptions",
            format!("{url}?match=create&kind=game&options=AAAA"),
            &[],
            400,
            "options",
        ),
        (
            "CannotCreate",
            no_factory.url(),
            &["--create=t"],
            403,
            "game",
        ),
    ];
    // Node's `ws` reads the HTTP refusal and its x-nodelink-refusal header; a
    // browser-like WebSocket is told with a close code.
    for browser_like in [false, true] {
        for (name, target, args, status, mentioned) in &cases {
            let mut args = args.to_vec();
            if browser_like {
                args.push("--browser-like");
            }
            let mut ts = TsClient::start(target, &args);
            ts.command(json!({ "cmd": "connect" })).await;
            let refused = ts
                .expect_where("error", |error| {
                    (error["error"] == "refused").then(|| error.clone())
                })
                .await;
            let how = if browser_like { "close code" } else { "HTTP" };
            assert_eq!(refused["refusal"], *name, "{name} by {how}: {refused}");
            assert_eq!(refused["status"], *status, "{name} by {how}");
            let reason = refused["reason"].as_str().unwrap_or_default();
            assert!(reason.contains(mentioned), "{name} by {how}: {reason}");
            if *name == "MatchFull" {
                // A place may free up: the client, which reconnects, tries again.
                assert_ne!(ts.status().await["status"], "disconnected");
            } else {
                let failed = ts.expect("connect_failed").await;
                assert_eq!(failed["refusal"], *name);
                assert_eq!(ts.status().await["status"], "disconnected");
            }
            ts.exit().await;
        }
    }
    // The full and the locked tables kept their players.
    let infos = running.handle.matches();
    assert!(infos
        .iter()
        .any(|info| info.code == full && info.players == 2));
    assert!(infos
        .iter()
        .any(|info| info.code == locked && info.players == 1));
    for ts in [ada, bob, eve] {
        ts.exit().await;
    }
    no_factory.stop().await;
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typescript_client_resumes_into_the_match_it_created() {
    let running = serve(tables()).await;
    let proxy = Proxy::start(running.addr).await;
    let (mut ada, welcome) = welcomed(&proxy.url(), &["--create=ada's table"]).await;
    let code = code_of(&welcome);
    let id = welcome["id"].as_str().unwrap().to_owned();
    ada.expect("snapshot").await;

    // The connection is cut: the client comes back to its match by its code,
    // resuming its session there, and makes no second table.
    proxy.cut();
    let pause = ada.expect("pause").await;
    assert_eq!(pause["how"], "lost");
    let resume = ada.expect("resume").await;
    assert_eq!(resume["id"], id.as_str());
    assert_eq!(resume["match_code"], code.as_str());
    let infos = running.handle.matches();
    assert_eq!(infos.len(), 2, "the default match and ada's: {infos:?}");
    assert!(infos
        .iter()
        .any(|info| info.code == code && info.players == 1));
    // Still in it: her chat reaches the match.
    ada.send("ready", Value::Null).await;
    poll_until("ada's table to lock", || async {
        running
            .handle
            .matches()
            .iter()
            .any(|info| info.code == code && info.locked)
            .then_some(())
    })
    .await;
    ada.exit().await;
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_typescript_client_whose_match_ends_does_not_come_back() {
    let running = serve(tables()).await;
    let (mut ada, welcome) = welcomed(&running.url(), &["--create=short"]).await;
    let code = code_of(&welcome);
    ada.send("chat", json!({ "msg": "end" })).await;
    let ended = ada.expect("disconnect").await;
    assert_eq!(ended["how"], "closed");
    assert_eq!(ended["code"], 4011);
    assert_eq!(ended["reason"], "match ended");
    assert_eq!(ended["close_reason"], "MatchEnded");
    // Reconnection is on, yet no attempt follows.
    assert_eq!(ada.status().await["status"], "disconnected");
    poll_until("the match to be gone", || async {
        (!running
            .handle
            .matches()
            .iter()
            .any(|info| info.code == code))
        .then_some(())
    })
    .await;
    assert_eq!(ada.status().await["status"], "disconnected");
    ada.exit().await;
    running.stop().await;
}

#[tokio::test]
async fn the_typescript_client_mirrors_players_coming_into_and_leaving_view() {
    let (mut server, _errors) = reporting_game(local_config());
    // A player sees the others within 10 units east or west of it.
    server.player_visibility(|me, other| (me.state().x - other.state().x).abs() <= 10.0);
    let running = serve(server).await;
    let mut native = Watcher::connect(&running.url()).await;
    let native_key = native.id.expect("connected").to_string();

    let mut ts = TsClient::start(&running.url(), &[]);
    ts.send("move", json!({ "x": 50.0, "y": 0.0 })).await;
    ts.command(json!({ "cmd": "connect" })).await;
    let ts_key = ts.expect("connect").await["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    // Far away: its mirror holds itself alone.
    ts.expect_where("sync", |sync| {
        let world = sync["world"].as_object()?;
        (world.len() == 1 && world.get(&ts_key)?["x"] == 50).then_some(())
    })
    .await;

    // It walks within sight: the native player comes into view, whole, as a
    // newcomer does; and the native client sees it.
    ts.send("move", json!({ "x": 5.0, "y": 0.0 })).await;
    ts.expect_where("sync", |sync| {
        let joined = sync["joined"].as_array()?;
        let native_state = sync["world"].get(&native_key)?;
        (joined.iter().any(|id| id == &json!(native_key))
            && native_state == &json!({ "x": 0, "y": 0, "name": "" }))
            .then_some(())
    })
    .await;
    let ts_id: PlayerId = ts_key.parse().expect("an 8-hex id");
    native
        .world_where("the TypeScript player in view", |world| {
            world.get(&ts_id).is_some_and(|avatar| avatar.x == 5.0)
        })
        .await;

    // It walks away: the native player leaves its mirror, though still online.
    ts.send("move", json!({ "x": 40.0, "y": 0.0 })).await;
    ts.expect_where("sync", |sync| {
        let left = sync["left"].as_array()?;
        (left.iter().any(|id| id == &json!(native_key))
            && sync["world"].get(&native_key).is_none()
            && sync["online"] == 2)
            .then_some(())
    })
    .await;
    native
        .world_where("the TypeScript player out of view", |world| {
            !world.contains_key(&ts_id)
        })
        .await;
    ts.exit().await;
    within("stopping", running.stop()).await;
}
