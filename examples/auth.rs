//! Authentication: a token in the query string, checked before a player exists.
//!
//! Run with `cargo run --example auth`. Starts a server, then a client with a good
//! token (greeted by name), one with a revoked token and one with none (both
//! refused), and exits.

use std::collections::HashMap;
use std::sync::Arc;

use nodelink::client::Client;
use nodelink::server::{Rejection, Server, ServerConfig};
use nodelink_examples::{Game, OnToClient, ToClient, ToClientChat};

/// Who a token belongs to: attached to the player, read by handlers.
struct Account {
    name: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Stands in for a session store or a database.
    let tokens: Arc<HashMap<&str, Option<&str>>> =
        Arc::new(HashMap::from([("letmein", Some("ada")), ("stolen", None)]));

    let mut server = Server::<Game>::new(
        ServerConfig::default()
            .host("127.0.0.1")
            .port(0)
            // Browsers may connect from the game's own site only.
            .allow_origins(["https://game.example"]),
    );
    server.authenticate(move |request| {
        let tokens = tokens.clone();
        async move {
            let token = request
                .query_param("token")
                .ok_or_else(|| Rejection::unauthorized("a token is required: ?token=…"))?;
            match tokens.get(token.as_str()) {
                Some(Some(name)) => Ok(Account {
                    name: (*name).to_owned(),
                }),
                Some(None) => Err(Rejection::forbidden("this token was revoked")),
                None => Err(Rejection::unauthorized("unknown token")),
            }
        }
    });
    server.on_connect(|ctx| {
        let name = ctx
            .player()
            .identity::<Account>()
            .map_or("?".to_owned(), |a| a.name.clone());
        println!("server: {name} joined as {}", ctx.id());
        let from = ctx.id();
        let _ = ctx.player().send(ToClient::Chat {
            from,
            msg: format!("welcome, {name}"),
        });
    });
    let bound = server.bind().await?;
    let addr = bound.local_addr();
    let handle = bound.handle();
    let running = tokio::spawn(bound.run());

    for token in ["letmein", "stolen", ""] {
        let url = if token.is_empty() {
            format!("ws://{addr}/")
        } else {
            format!("ws://{addr}/?token={token}")
        };
        let mut client = Client::<Game>::from_url(url);
        client.on_chat(|ctx, ToClientChat { from: _, msg }| {
            println!("client: the server says \"{msg}\"");
            ctx.disconnect();
        });
        match client.run().await {
            Ok(()) => println!("client with token {token:?}: done"),
            Err(error) => println!("client with token {token:?}: refused: {error}"),
        }
    }

    handle.shutdown();
    running.await?;
    Ok(())
}
