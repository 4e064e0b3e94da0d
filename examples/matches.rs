//! Many matches in one server: a lobby everyone lands in, and duels made on
//! request, found by their options, joined by code and listed, each its own game
//! with its own players, state and tick. Narrated as it happens.
//!
//! Run with `cargo run --example matches`. Ends by itself in about a second.
//!
//! Shown here: a second protocol for the duels (its options and metadata in the
//! protocol declaration), a `MatchKind` with a game value made from each match's
//! options, its listing metadata, its filter for finding, a cap of two players,
//! `create`, `create_private`, `find`, `join` and `list` from the Rust client, a
//! match locked once full and ended by its game, and the process's statistics.

use std::time::Duration;

use nodelink::client::{Client, ClientError, Disconnect};
use nodelink::server::{MatchKind, Server, ServerConfig};
use nodelink::wire::CloseReason;
use nodelink::SyncState;
use tokio::sync::{mpsc, oneshot};

/// The lobby: everyone who names no match lands here (the server's default
/// match). It has nothing to do in this example but count its visitors.
mod lobby {
    #[derive(nodelink::SyncState, Clone, Debug, Default, PartialEq)]
    pub(crate) struct Visitor {
        pub(crate) name: String,
    }

    #[nodelink::events]
    #[derive(Debug, Clone, PartialEq)]
    pub(crate) enum ToServer {
        Wave,
    }

    #[nodelink::events]
    #[derive(Debug, Clone, PartialEq)]
    pub(crate) enum ToClient {
        Waved,
    }

    #[nodelink::protocol(state = Visitor, to_server = ToServer, to_client = ToClient)]
    pub(crate) struct Lobby;
}

/// What a player asks a duel for: what makes a duel to their taste.
#[nodelink::data]
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Rules {
    /// Points to win.
    pub(crate) target: u32,
}

/// What the lobby's list shows of each duel.
#[nodelink::data]
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Card {
    pub(crate) target: u32,
    pub(crate) host: String,
}

#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub(crate) struct Duelist {
    pub(crate) name: String,
    pub(crate) points: u32,
}

#[nodelink::events]
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum DuelIn {
    Hello { name: String },
    Score,
}

#[nodelink::events]
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum DuelOut {
    /// Both duelists are in: play.
    Start,
    Won {
        name: String,
    },
}

/// The duels' protocol: its own state and events, and the options a duel is
/// made from and the metadata it lists, all in the schema and the fingerprint.
#[nodelink::protocol(state = Duelist, to_server = DuelIn, to_client = DuelOut,
                     options = Rules, metadata = Card)]
pub(crate) struct Duel;

/// A duel's own value, made from the options it was created with.
#[derive(Debug)]
struct Round {
    target: u32,
}

fn duels() -> MatchKind<Duel, Round> {
    let mut duel = MatchKind::<Duel, Round>::with_game(|rules: &Rules| Round {
        target: rules.target.max(1),
    });
    duel.max_players(2)
        .linger(Duration::from_millis(200))
        .metadata(|rules| Card {
            target: rules.target,
            host: String::new(),
        })
        // A player finding a duel gets one played to the same target.
        .filter(|wanted, listed| wanted.target == listed.target);
    duel.on_hello(|ctx, DuelInHello { name }| {
        ctx.player().state_mut().set_name(name.clone());
        let mut card = ctx.metadata();
        if card.host.is_empty() {
            card.host = name; // the lobby's list now names its host
            ctx.set_metadata(card);
        }
        if ctx.player_count() == 2 {
            ctx.lock_match(); // no one else, even by code
            ctx.broadcast(DuelOut::Start);
        }
    });
    duel.on_score(|ctx| {
        let target = ctx.game().target;
        let (points, name) = {
            let player = ctx.player();
            let points = player.state().points + 1;
            player.state_mut().set_points(points);
            (points, player.state().name.clone())
        };
        if points >= target {
            ctx.broadcast(DuelOut::Won { name });
            ctx.end_match(); // everyone is closed with "match ended"
        }
    });
    duel
}

/// A duelist: says hello, tells `code` which duel it is in, scores `scores`
/// times once the duel starts, and reports what it saw.
async fn duelist(
    name: &'static str,
    mut client: Client<Duel>,
    scores: u32,
    code: oneshot::Sender<String>,
    log: mpsc::UnboundedSender<String>,
) -> Result<(), ClientError> {
    let mut code = Some(code);
    client.on_connect(move |ctx| {
        let _ = ctx.send(DuelIn::Hello { name: name.into() });
        if let Some(code) = code.take() {
            let _ = code.send(ctx.match_code().unwrap_or("?").to_owned());
        }
    });
    client.on_start(move |ctx| {
        for _ in 0..scores {
            let _ = ctx.send(DuelIn::Score);
        }
    });
    let said = log.clone();
    client.on_won(move |_, DuelOutWon { name: winner }| {
        let _ = said.send(format!("{name} hears: {winner} won"));
    });
    client.on_disconnect(move |reason: &Disconnect| {
        if reason.close_reason() == Some(CloseReason::MatchEnded) {
            let _ = log.send(format!("{name}'s duel is over"));
        }
    });
    client.run().await
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = ServerConfig::default().host("127.0.0.1").port(0);
    let mut server = Server::<lobby::Lobby>::new(config);
    server.kind(duels());
    let handle = server.handle();
    let bound = server.bind().await?;
    let url = format!("ws://{}/", bound.local_addr());
    let serving = tokio::spawn(bound.run());
    let (log, mut heard) = mpsc::unbounded_channel();
    let mut players = Vec::new();

    // Ada makes a public duel to 3 points; Cy a private one to 1, not listed.
    let (ada_code, ada_in) = oneshot::channel();
    let ada = Client::<Duel>::create(&url, &Rules { target: 3 })?;
    players.push(tokio::spawn(duelist("ada", ada, 3, ada_code, log.clone())));
    let public = within(ada_in).await??;
    println!("ada made duel {public}");
    let (cy_code, cy_in) = oneshot::channel();
    let cy = Client::<Duel>::create_private(&url, &Rules { target: 1 })?;
    players.push(tokio::spawn(duelist("cy", cy, 0, cy_code, log.clone())));
    let private = within(cy_in).await??;
    println!("cy made private duel {private}");

    // The lobby's list: the public duel only, with its card.
    for listing in Client::<Duel>::list(&url).await? {
        let Card { target, host } = &listing.metadata;
        println!(
            "listed: {} with {}/{} players, to {target} points, host {host}",
            listing.code, listing.players, listing.max_players
        );
    }

    // Bob finds a duel to 3 (Ada's); Dee joins Cy's by its code.
    let (bob_code, bob_in) = oneshot::channel();
    let bob = Client::<Duel>::find(&url, &Rules { target: 3 })?;
    players.push(tokio::spawn(duelist("bob", bob, 0, bob_code, log.clone())));
    println!("bob found duel {}", within(bob_in).await??);
    let (dee_code, dee_in) = oneshot::channel();
    let dee = Client::<Duel>::join(&url, &private);
    players.push(tokio::spawn(duelist("dee", dee, 1, dee_code, log.clone())));
    println!("dee joined duel {}", within(dee_in).await??);
    drop(log);

    // Both duels play to their end, each a game of its own.
    let mut lines = Vec::new();
    while let Some(line) = within(heard.recv()).await? {
        lines.push(line);
    }
    lines.sort();
    for line in lines {
        println!("{line}");
    }
    for player in players {
        player.await??;
    }
    let stats = handle.process_stats();
    println!(
        "the server started {} matches (the lobby's too), {} ended",
        stats.matches_started, stats.matches_ended
    );
    handle.shutdown();
    serving.await?;
    Ok(())
}

/// `future`, or an error after 10 seconds.
async fn within<T>(
    future: impl std::future::Future<Output = T>,
) -> Result<T, tokio::time::error::Elapsed> {
    tokio::time::timeout(Duration::from_secs(10), future).await
}
