//! What an operator reads in the log: each connection the server ends is logged
//! once, with its reason and its peer; a flood of clients sending garbage stays
//! within the log's budget (ten lines a second for drops, ten for errors no
//! `on_error` handler takes), and the next line logged says how many were not.

use std::sync::OnceLock;
use std::time::Instant;

use futures::{SinkExt, StreamExt};
use nodelink::server::Server;
use nodelink_examples::Game;
use nodelink_tests::{eventually, local_config, raw_connect, serve, within, CapturedLog};
use tokio_tungstenite::tungstenite::Message;

/// The log, as a subscriber at level `info` writes it (installed once).
fn captured() -> CapturedLog {
    static LOG: OnceLock<CapturedLog> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = CapturedLog::default();
        let writer = log.clone();
        tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing_subscriber::filter::LevelFilter::INFO)
            .with_writer(move || writer.clone())
            .init();
        log
    })
    .clone()
}

const DROPPED: &str = "connection ended by the server";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_drop_is_logged_once_with_its_reason_and_peer_and_a_flood_within_a_budget() {
    let log = captured();
    let running = serve(Server::<Game>::new(local_config())).await;
    let url = running.url();

    // The game kicks a player: one line, with the player, its peer and why.
    let (_socket, id) = raw_connect(&url).await;
    running.handle.kick(id).unwrap();
    let player = id.to_string();
    eventually("the kick's line", || {
        log.lines().iter().any(|line| line.contains(&player))
    })
    .await;
    let about_it: Vec<String> = log
        .lines()
        .into_iter()
        .filter(|line| line.contains(&player))
        .collect();
    assert_eq!(about_it.len(), 1, "logged once: {about_it:?}");
    let line = &about_it[0];
    assert!(
        line.contains(" INFO ")
            && line.contains(DROPPED)
            && line.contains("kicked by the server")
            && line.contains("peer=127.0.0.1:")
            && line.contains("close_code=4000"),
        "{line}"
    );

    // Sixty clients send garbage until each is dropped: 1,020 bad frames and 60
    // drops, logged within the budget.
    let before = log.lines().len();
    let started = Instant::now();
    let mut floods = Vec::new();
    for _ in 0..60 {
        let url = url.clone();
        floods.push(tokio::spawn(async move {
            let (mut socket, _) = raw_connect(&url).await;
            for _ in 0..17 {
                if socket
                    .send(Message::Binary(vec![0xc1].into()))
                    .await
                    .is_err()
                {
                    break;
                }
            }
            // Read until the server closes the connection.
            while let Some(Ok(message)) = socket.next().await {
                if message.is_close() {
                    break;
                }
            }
        }));
    }
    for flood in floods {
        within("a flooding client dropped", flood).await.unwrap();
    }
    let seconds = started.elapsed().as_secs() + 1;
    eventually("the flood's drops reach the log", || {
        log.lines().len() > before
    })
    .await;
    let flood: Vec<String> = log.lines().split_off(before);
    let drops = flood.iter().filter(|line| line.contains(DROPPED)).count();
    let budget = 2 * (10 + 1) * seconds as usize;
    assert!(
        flood.len() <= budget,
        "{} lines for 60 drops and 1,020 bad frames in about {seconds} s (at most {budget}):\n{}",
        flood.len(),
        flood.join("\n")
    );
    assert!(drops >= 1, "the drops are logged:\n{}", flood.join("\n"));
    for line in flood.iter().filter(|line| line.contains(DROPPED)) {
        assert!(
            line.contains(" WARN ") && line.contains("peer=127.0.0.1:"),
            "a client's garbage is a warning, with its peer: {line}"
        );
    }

    // The drops not logged one by one are counted in the next line logged.
    if drops < 60 {
        let summary = within("the count of drops not logged", async {
            loop {
                let (_socket, id) = raw_connect(&url).await;
                running.handle.kick(id).unwrap();
                let player = id.to_string();
                // Another kick after a second: one in the flood's window is
                // not logged at all.
                let mut checks = tokio::time::interval(std::time::Duration::from_millis(20));
                for _ in 0..50 {
                    checks.tick().await;
                    let lines = log.lines();
                    if let Some(summary) = lines.iter().find(|line| {
                        line.contains("more connections ended by the server, not logged one by one")
                    }) {
                        return summary.clone();
                    }
                    if lines.iter().any(|line| line.contains(&player)) {
                        break; // logged without a count: still in the flood's window
                    }
                }
            }
        })
        .await;
        assert!(summary.contains(" WARN "), "{summary}");
    }
    within("stopping", running.stop()).await;
}
