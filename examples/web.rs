//! A game to play in the browser: the page, its script and the game on one port.
//!
//! ```sh
//! cargo run --release --example web            # then open http://127.0.0.1:8080/?name=ada
//! cargo run --release --example web -- --port 9000 --host 0.0.0.0 --no-bot
//! ```
//!
//! Open the address in two tabs (`?name=ada`, `?name=bob`): arrow keys move your
//! dot, Enter opens the chat. The page plays on the native wire with the TypeScript
//! client generated from the example protocol; a bot in this process walks in a
//! circle so that one tab has company. Python nodelink's `Client("127.0.0.1", 8080)`
//! joins the same game, the server's default match. The lobby under the map lists
//! the matches, creates one (public or private) and joins one by its code. Stop
//! with Ctrl-C: every player is closed with "server shutting down".

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use axum::serve::ListenerExt;
use nodelink::client::Client;
use nodelink::server::ServerConfig;
use nodelink_examples::web::{self, MAP_HEIGHT, MAP_WIDTH};
use nodelink_examples::{Game, ToServer};

const USAGE: &str = "\
usage: web [--port N] [--host ADDR] [--no-bot]

Serves the browser game on http://ADDR:N/ (default 127.0.0.1:8080).
  --port N      the port (0: any free one)
  --host ADDR   the address to listen on (0.0.0.0: every interface)
  --no-bot      no bot walking in a circle";

struct Options {
    host: String,
    port: u16,
    bot: bool,
}

impl Options {
    /// The options, or what to print before exiting (and whether that is an error).
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Self, (String, bool)> {
        let mut options = Self {
            host: "127.0.0.1".to_owned(),
            port: 8080,
            bot: true,
        };
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--port" => {
                    let value = args.next().unwrap_or_default();
                    options.port = value
                        .parse()
                        .map_err(|_| (format!("--port {value:?}: not a port\n{USAGE}"), true))?;
                }
                "--host" => {
                    options.host = args
                        .next()
                        .ok_or_else(|| (format!("--host needs an address\n{USAGE}"), true))?;
                }
                "--no-bot" => options.bot = false,
                "-h" | "--help" => return Err((USAGE.to_owned(), false)),
                other => return Err((format!("unknown argument {other:?}\n{USAGE}"), true)),
            }
        }
        Ok(options)
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err((message, false)) => {
            println!("{message}");
            return ExitCode::SUCCESS;
        }
        Err((message, true)) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    // What the server logs (refusals, connections it ends, errors), on stderr.
    tracing_subscriber::fmt()
        .with_max_level(tracing_subscriber::filter::LevelFilter::INFO)
        .with_writer(std::io::stderr)
        .init();
    match serve(options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("web: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(options: Options) -> std::io::Result<()> {
    // Pings every second keep the page's latency readout fresh.
    let config = ServerConfig::default().ping_interval(Duration::from_secs(1));
    let (router, mounted) = web::app(config);
    let handle = mounted.handle();
    tokio::spawn(mounted.run());

    // A game's frames are small: without TCP_NODELAY they may wait for the
    // peer's acknowledgements.
    let listener = tokio::net::TcpListener::bind((options.host.as_str(), options.port)).await?;
    let addr = listener.local_addr()?;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    // An unspecified address listens everywhere, loopback included.
    let local = if addr.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], addr.port()))
    } else {
        addr
    };
    println!("open http://{local}/?name=ada (and in another tab http://{local}/?name=bob)");
    println!(
        "Python nodelink: Client(\"{}\", {})",
        local.ip(),
        local.port()
    );

    if options.bot {
        tokio::spawn(bot(format!("ws://{local}/?name=bot")));
    }
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        let _ = tokio::signal::ctrl_c().await;
        handle.shutdown();
    })
    .await
}

/// A native client that walks in a circle around the middle of the map.
async fn bot(url: String) {
    let client = Client::<Game>::from_url(url);
    let sender = client.sender();
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(Duration::from_millis(50));
        let (cx, cy, r) = (MAP_WIDTH / 2.0, MAP_HEIGHT / 2.0, MAP_HEIGHT / 3.0);
        for step in 0u32.. {
            ticker.tick().await;
            let angle = step as f32 / 40.0;
            let (x, y) = (cx + r * angle.cos(), cy + r * angle.sin());
            if sender.send(ToServer::Move { x, y }).is_err() {
                return;
            }
        }
    });
    if let Err(error) = client.run().await {
        eprintln!("bot: {error}");
    }
}
