//! A chat room: one server, any number of terminal clients.
//!
//! Run `cargo run --example chat -- server` in one terminal and
//! `cargo run --example chat -- client` in others; type lines to chat, Ctrl-D to
//! leave. `-- server PORT` and `-- client HOST:PORT` choose the address.

use std::io::BufRead;

use nodelink::client::Client;
use nodelink::server::{Server, ServerConfig};
use nodelink_examples::{
    Game, OnToClient, OnToServer, ToClient, ToClientChat, ToClientJoined, ToClientLeft, ToServer,
    ToServerChat,
};

fn serve(port: u16) -> Result<(), Box<dyn std::error::Error>> {
    let mut server = Server::<Game>::new(ServerConfig::default().port(port));
    server.on_connect(|ctx| {
        let id = ctx.id();
        println!("{id} joined ({} online)", ctx.player_count());
        ctx.broadcast(ToClient::Joined { id });
    });
    server.on_chat(|ctx, ToServerChat { msg }| {
        let from = ctx.id();
        println!("[{from}] {msg}");
        ctx.broadcast(ToClient::Chat { from, msg });
    });
    server.on_disconnect(|ctx| {
        let id = ctx.id();
        ctx.broadcast(ToClient::Left { id });
    });
    println!("chat server on port {port}");
    server.start()?;
    Ok(())
}

fn chat(addr: &str) -> Result<(), Box<dyn std::error::Error>> {
    let mut client = Client::<Game>::from_url(format!("ws://{addr}/"));
    client.on_connect(|ctx| println!("connected as {}; type to chat", ctx.id()));
    client.on_joined(|_, ToClientJoined { id }| println!("* {id} joined"));
    client.on_left(|_, ToClientLeft { id }| println!("* {id} left"));
    client.on_chat(|ctx, ToClientChat { from, msg }| {
        let who = if from == ctx.id() {
            "you".to_owned()
        } else {
            from.to_string()
        };
        println!("[{who}] {msg}");
    });
    client.on_disconnect(|reason| println!("* {reason}"));

    // Lines typed go through the client's sender, from this thread.
    let sender = client.sender();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines().map_while(Result::ok) {
            if sender.send(ToServer::Chat { msg: line }).is_err() {
                break;
            }
        }
        sender.disconnect();
    });
    client.connect()?;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("server") => serve(args.get(1).map_or(Ok(5000), |p| p.parse())?),
        Some("client") => chat(args.get(1).map_or("localhost:5000", String::as_str)),
        _ => {
            eprintln!("usage: chat server [PORT] | chat client [HOST:PORT]");
            std::process::exit(2);
        }
    }
}
