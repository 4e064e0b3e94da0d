//! Checks a service of the web game end to end through two of its gateways: `ada`
//! creates a table through the first, `bob` joins it by its code through the
//! second, and each must see the other at the table. Exits 0 when they do, 1 when
//! not within 20 s. `deploy/local.sh --check` runs it.
//!
//! ```sh
//! cargo run --example service_probe -- ws://127.0.0.1:9101/ ws://127.0.0.1:9102/
//! ```

use std::process::ExitCode;
use std::time::Duration;

use nodelink::client::{Client, ClientError, Disconnect};
use nodelink_examples::{Game, Table};
use tokio::sync::mpsc;

const USAGE: &str = "\
usage: service_probe FIRST_GATEWAY_URL SECOND_GATEWAY_URL

Creates a table through the first gateway, joins it by its code through the
second, and waits until both players see each other (at most 20 s).";

/// How long the whole check may take.
const DEADLINE: Duration = Duration::from_secs(20);

/// What one probing player reports.
#[derive(Debug)]
enum Seen {
    /// Welcomed into the match with this code.
    Welcomed(String),
    /// The names of the players of its match, after a sync.
    Players(Vec<String>),
    /// Its connection ended.
    Ended(String),
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|arg| arg == "--help" || arg == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let [first, second] = args.as_slice() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    match tokio::time::timeout(DEADLINE, probe(first, second)).await {
        Ok(Ok(code)) => {
            println!("ok: ada created {code} through {first}, bob joined it through {second}, and they see each other");
            ExitCode::SUCCESS
        }
        Ok(Err(error)) => {
            eprintln!("service_probe: {error}");
            ExitCode::FAILURE
        }
        Err(_) => {
            eprintln!("service_probe: not done within {DEADLINE:?}");
            ExitCode::FAILURE
        }
    }
}

/// Starts `client` as `name`, reporting what it sees.
fn play(mut client: Client<Game>) -> mpsc::UnboundedReceiver<Seen> {
    let (tx, rx) = mpsc::unbounded_channel();
    let welcomed = tx.clone();
    client.on_connect(move |ctx| {
        let code = ctx.match_code().unwrap_or_default().to_owned();
        let _ = welcomed.send(Seen::Welcomed(code));
    });
    let synced = tx.clone();
    client.on_state_sync(move |ctx, _| {
        let mut names: Vec<String> = ctx
            .world()
            .players()
            .map(|(_, avatar)| avatar.name.clone())
            .collect();
        names.sort();
        let _ = synced.send(Seen::Players(names));
    });
    let ended = tx.clone();
    client.on_disconnect(move |reason: &Disconnect| {
        let _ = ended.send(Seen::Ended(reason.to_string()));
    });
    tokio::spawn(async move {
        if let Err(error) = client.run().await {
            let _ = tx.send(Seen::Ended(error.to_string()));
        }
    });
    rx
}

async fn welcomed(who: &str, seen: &mut mpsc::UnboundedReceiver<Seen>) -> Result<String, String> {
    loop {
        match seen.recv().await {
            Some(Seen::Welcomed(code)) => return Ok(code),
            Some(Seen::Players(_)) => {}
            Some(Seen::Ended(why)) => return Err(format!("{who} could not connect: {why}")),
            None => return Err(format!("{who} stopped")),
        }
    }
}

async fn sees_both(who: &str, seen: &mut mpsc::UnboundedReceiver<Seen>) -> Result<(), String> {
    loop {
        match seen.recv().await {
            Some(Seen::Players(names)) if names == ["ada", "bob"] => return Ok(()),
            Some(Seen::Players(_) | Seen::Welcomed(_)) => {}
            Some(Seen::Ended(why)) => return Err(format!("{who} was disconnected: {why}")),
            None => return Err(format!("{who} stopped")),
        }
    }
}

async fn probe(first: &str, second: &str) -> Result<String, Box<dyn std::error::Error>> {
    let table = Table {
        title: "probe".to_owned(),
    };
    let ada = Client::<Game>::create(
        &format!("{}/?name=ada", first.trim_end_matches('/')),
        &table,
    )
    .map_err(|error: ClientError| format!("ada's request: {error}"))?;
    let mut ada = play(ada);
    let code = welcomed("ada", &mut ada).await?;
    if code.is_empty() {
        return Err("ada's welcome names no match".into());
    }
    let mut bob = play(Client::<Game>::join(
        &format!("{}/?name=bob", second.trim_end_matches('/')),
        &code,
    ));
    let joined = welcomed("bob", &mut bob).await?;
    if joined != code {
        return Err(format!("bob asked for {code} and joined {joined}").into());
    }
    sees_both("ada", &mut ada).await?;
    sees_both("bob", &mut bob).await?;
    Ok(code)
}
