//! The `tracing` spans an operator's subscriber sees: one `connection` span per
//! connection (its peer, wire, player, whether it resumed, how it ended), a
//! `handshake` span around admission and the upgrade, and at debug a `tick` span
//! per match tick (its match, kind and tick number) with `on_tick` and `sync`
//! inside it at trace level.

use nodelink::server::Server;
use nodelink_examples::{Game, ToServer};
use nodelink_tests::{eventually, local_config, serve, within, CapturedLog, Watcher};
use tracing_subscriber::fmt::format::FmtSpan;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_and_a_tick_are_spans_with_what_an_operator_needs() {
    let log = CapturedLog::default();
    let writer = log.clone();
    // Every span's close, at trace level for nodelink only.
    tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing_subscriber::filter::LevelFilter::TRACE)
        .with_span_events(FmtSpan::CLOSE)
        .with_writer(move || writer.clone())
        .init();

    let mut server = Server::<Game>::new(local_config());
    server.on_tick(|_, _| {});
    let running = serve(server).await;
    let mut watcher = Watcher::connect(&running.url()).await;
    let player = watcher.id.expect("connected");
    watcher.sender.send(ToServer::Ready).unwrap();
    running.handle.kick(player).unwrap();
    watcher
        .next_where("the kick", |seen| {
            matches!(seen, nodelink_tests::Seen::Disconnected(_)).then_some(())
        })
        .await;

    let player = player.to_string();
    eventually("the connection span's close", || {
        log.lines().iter().any(|line| {
            line.contains("connection{") && line.contains(&player) && line.contains("close")
        })
    })
    .await;
    let lines = log.lines();
    let connection = lines
        .iter()
        .find(|line| {
            line.contains("connection{") && line.contains(&player) && line.contains("close")
        })
        .unwrap();
    for field in [
        "peer=127.0.0.1:",
        "wire=Native",
        "resuming=false",
        "ended=\"kicked by the server\"",
    ] {
        assert!(connection.contains(field), "{field} in {connection}");
    }
    assert!(
        lines
            .iter()
            .any(|line| line.contains("handshake{peer=127.0.0.1:") && line.contains("close")),
        "a handshake span:\n{}",
        lines.join("\n")
    );
    let code = running.handle.matches()[0].code.clone();
    let tick = lines
        .iter()
        .find(|line| line.contains("tick{") && line.contains(&code) && line.contains("close"))
        .unwrap_or_else(|| panic!("a tick span of match {code}:\n{}", lines.join("\n")));
    assert!(tick.contains("kind=") && tick.contains("tick="), "{tick}");
    assert!(
        lines
            .iter()
            .any(|line| line.contains(":on_tick: ") && line.contains("close")),
        "on_tick inside the tick"
    );
    assert!(
        lines
            .iter()
            .any(|line| line.contains(":sync: ") && line.contains("close")),
        "sync inside the tick"
    );
    within("stopping", running.stop()).await;
}
