//! A server and eight bots in one process, drawn as one client's mirror sees them.
//!
//! Run with `cargo run --release --example demo`. Runs for about ten seconds
//! (`-- SECONDS` to change it) and exits.

use std::f32::consts::TAU;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use nodelink::client::{Client, ClientEvent};
use nodelink::server::{Server, ServerConfig};
use nodelink_examples::{Avatar, Game, OnToServer, ToServer, ToServerMove};

const BOTS: usize = 8;
const WIDTH: usize = 48;
const HEIGHT: usize = 16;

/// A bot walks its own figure-of-eight, sending a move every 50 ms.
async fn bot(url: String, index: usize, stop: Instant) {
    let client = Client::<Game>::from_url(url);
    let sender = client.sender();
    let connection = tokio::spawn(client.run());
    let mut ticker = tokio::time::interval(Duration::from_millis(50));
    let phase = index as f32 / BOTS as f32 * TAU;
    let speed = 0.6 + 0.15 * index as f32;
    let start = Instant::now();
    while Instant::now() < stop {
        ticker.tick().await;
        let t = start.elapsed().as_secs_f32() * speed + phase;
        let x = 0.5 + 0.45 * t.sin();
        let y = 0.5 + 0.45 * (2.0 * t).sin() * 0.9;
        if sender.send(ToServer::Move { x, y }).is_err() {
            break;
        }
    }
    sender.disconnect();
    let _ = connection.await;
}

fn draw(players: &[(char, &Avatar)], online: u32, bytes_per_second: f64, elapsed: f32) -> String {
    let mut grid = vec![vec!['·'; WIDTH]; HEIGHT];
    for (mark, avatar) in players {
        let col = (avatar.x.clamp(0.0, 1.0) * (WIDTH - 1) as f32).round() as usize;
        let row = (avatar.y.clamp(0.0, 1.0) * (HEIGHT - 1) as f32).round() as usize;
        grid[row][col] = *mark;
    }
    let mut out = String::new();
    out.push_str(&format!(
        "nodelink demo — the world as one client's mirror sees it ({elapsed:4.1} s)\n"
    ));
    out.push('┌');
    out.push_str(&"─".repeat(WIDTH));
    out.push_str("┐\n");
    for row in grid {
        out.push('│');
        out.extend(row);
        out.push_str("│\n");
    }
    out.push('└');
    out.push_str(&"─".repeat(WIDTH));
    out.push_str("┘\n");
    out.push_str(&format!(
        "A–H: bots, @: this client   online: {online}   mirrored: {}   server sync traffic: {:.1} KiB/s\n",
        players.len(),
        bytes_per_second / 1024.0
    ));
    out
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seconds: u64 = std::env::args().nth(1).map_or(Ok(10), |s| s.parse())?;
    let mut server = Server::<Game>::new(ServerConfig::default().host("127.0.0.1").port(0));
    server.on_connect(|ctx| {
        let name = format!("player-{}", ctx.id());
        ctx.player().state_mut().set_name(name);
    });
    server.on_move(|ctx, ToServerMove { x, y }| {
        ctx.player().state_mut().set_x(x).set_y(y);
    });
    let bound = server.bind().await?;
    let url = format!("ws://{}/", bound.local_addr());
    let handle = bound.handle();
    let server_task = tokio::spawn(bound.run());

    let stop = Instant::now() + Duration::from_secs(seconds);
    let bots: Vec<_> = (0..BOTS)
        .map(|i| tokio::spawn(bot(url.clone(), i, stop)))
        .collect();

    // The observer is a polling client, as a game loop would use it.
    let mut observer = Client::<Game>::from_url(url).spawn()?;
    let terminal = std::io::stdout().is_terminal();
    let started = Instant::now();
    let mut last_bytes = (Instant::now(), 0u64);
    let mut frames_seen = 0u64;
    while Instant::now() < stop {
        tokio::time::sleep(Duration::from_millis(250)).await; // the render rate
        for event in observer.poll() {
            if let ClientEvent::StateSync(_) = event {
                frames_seen += 1;
            }
        }
        let stats = handle.stats().await?;
        let rate = (stats.bytes_sent - last_bytes.1) as f64 / last_bytes.0.elapsed().as_secs_f64();
        last_bytes = (Instant::now(), stats.bytes_sent);
        let me = observer.id();
        let mut others: Vec<_> = observer
            .world()
            .players()
            .filter(|(id, _)| Some(*id) != me)
            .collect();
        others.sort_by_key(|(id, _)| *id);
        let mut players: Vec<(char, &Avatar)> = others
            .into_iter()
            .zip('A'..='Z')
            .map(|((_, avatar), mark)| (mark, avatar))
            .collect();
        // The observer sends no moves; it sits in the corner as `@`.
        players.extend(
            me.and_then(|id| observer.world().get(id))
                .map(|avatar| ('@', avatar)),
        );
        let picture = draw(
            &players,
            observer.world().online(),
            rate,
            started.elapsed().as_secs_f32(),
        );
        let mut stdout = std::io::stdout().lock();
        if terminal {
            write!(stdout, "\x1b[2J\x1b[H{picture}")?;
        } else if frames_seen > 0
            && started.elapsed() > Duration::from_secs(seconds.saturating_sub(1))
        {
            // Not a terminal (CI, a pipe): print the last picture only.
            write!(stdout, "{picture}")?;
            break;
        }
        stdout.flush()?;
    }

    for bot in bots {
        bot.await?;
    }
    drop(observer);
    let stats = handle.stats().await?;
    handle.shutdown();
    server_task.await?;
    println!(
        "done: {} ticks, {} sync frames built once each, {:.1} KiB sent, {frames_seen} frames seen by the observer",
        stats.ticks,
        stats.frames,
        stats.bytes_sent as f64 / 1024.0
    );
    if frames_seen == 0 {
        return Err("the observer saw no sync frame".into());
    }
    Ok(())
}
