//! One game process of a service: the web game's server (its default table and the
//! tables players make), registered in the service's directory in Redis, where
//! gateways (`nodelink-relay --redis`) find it and send it players.
//!
//! ```sh
//! cargo run --release --example service -- --redis redis://127.0.0.1:6379 --port 7001
//! ```
//!
//! `deploy/local.sh` starts a whole service on one machine with it: Redis, three of
//! these and two gateways. Stop one with Ctrl-C: it leaves the directory at once
//! and its players are closed with "server shutting down"; killed, the directory
//! forgets it within its lease.
//!
//! It logs what the server logs (refusals, connections it ends, errors) at `info`,
//! as text or, with `--log json`, as one JSON object a line with each
//! connection's span (its peer, player and how it ended) for a log pipeline.
//! With `--metrics ADDR --metrics-token TOKEN` it serves its Prometheus metrics
//! on `http://ADDR/metrics` to scrapes bringing the token; built with the
//! `console` feature and `--cfg tokio_unstable`, `--console` shows its tasks
//! (one per match, named `match KIND CODE`) in `tokio-console`.

use std::net::IpAddr;
use std::process::ExitCode;

use nodelink::cluster::{Cluster, ClusterConfig};
use nodelink::server::ServerConfig;
use nodelink_examples::web;

const USAGE: &str = "\
usage: service --redis URL [--port N] [--host ADDR] [--advertise URL] [--service NAME]
               [--trust ADDR,ADDR…] [--log text|json]
               [--metrics ADDR --metrics-token TOKEN] [--console]

Serves the web game's matches on ws://ADDR:N/ (default 127.0.0.1:7001) as one
process of the service whose directory is the Redis at URL.
  --redis URL       the directory (redis://host:port)
  --port N          the port (0: any free one)
  --host ADDR       the address to listen on (0.0.0.0: every interface)
  --advertise URL   where gateways reach this process (default ws://ADDR:N/)
  --service NAME    the service's name in Redis (default nodelink)
  --trust ADDRS     the gateways' addresses, comma-separated: their X-Forwarded-For
                    names each player's address, for the per-address limits
                    (default none: every player through a gateway counts as it)
  --log FORMAT      text (the default) or json: one JSON object a line, with
                    each connection's span closing with how it ended
  --metrics ADDR    serve Prometheus metrics on http://ADDR/metrics (off by default)
  --metrics-token TOKEN
                    ... to scrapes with `Authorization: Bearer TOKEN` (required)
  --console         publish the tasks to tokio-console on 127.0.0.1:6669 (a build
                    with RUSTFLAGS=\"--cfg tokio_unstable\" and --features console)";

/// How to build a service that `--console` works in.
const CONSOLE_BUILD: &str = "RUSTFLAGS=\"--cfg tokio_unstable\" cargo run --release \
    --example service --features nodelink-examples/console -- --console …";

struct Options {
    redis: String,
    host: String,
    port: u16,
    advertise: Option<String>,
    service: String,
    trusted: Vec<IpAddr>,
    json_log: bool,
    /// Where to serve the metrics, and the token a scrape brings.
    metrics: Option<(String, String)>,
    console: bool,
}

impl Options {
    /// The options, or what to print before exiting (and whether that is an error).
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Self, (String, bool)> {
        let mut redis = None;
        let mut options = Self {
            redis: String::new(),
            host: "127.0.0.1".to_owned(),
            port: 7001,
            advertise: None,
            service: "nodelink".to_owned(),
            trusted: Vec::new(),
            json_log: false,
            metrics: None,
            console: false,
        };
        let (mut metrics, mut metrics_token) = (None, None);
        while let Some(arg) = args.next() {
            let mut value = |name: &str| {
                args.next()
                    .ok_or_else(|| (format!("{name} needs a value\n{USAGE}"), true))
            };
            match arg.as_str() {
                "--redis" => redis = Some(value("--redis")?),
                "--host" => options.host = value("--host")?,
                "--advertise" => options.advertise = Some(value("--advertise")?),
                "--service" => options.service = value("--service")?,
                "--trust" => {
                    for addr in value("--trust")?.split(',').filter(|addr| !addr.is_empty()) {
                        let ip = addr.trim().parse().map_err(|_| {
                            (
                                format!("--trust {addr:?}: not an IP address\n{USAGE}"),
                                true,
                            )
                        })?;
                        options.trusted.push(ip);
                    }
                }
                "--port" => {
                    let port = value("--port")?;
                    options.port = port
                        .parse()
                        .map_err(|_| (format!("--port {port:?}: not a port\n{USAGE}"), true))?;
                }
                "--log" => {
                    options.json_log = match value("--log")?.as_str() {
                        "text" => false,
                        "json" => true,
                        other => {
                            return Err((format!("--log {other:?}: text or json\n{USAGE}"), true))
                        }
                    }
                }
                "--metrics" => metrics = Some(value("--metrics")?),
                "--metrics-token" => metrics_token = Some(value("--metrics-token")?),
                "--console" if cfg!(all(feature = "console", tokio_unstable)) => {
                    options.console = true;
                }
                "--console" => {
                    let needs = format!("--console needs a build with tokio-console's subscriber:\n  {CONSOLE_BUILD}");
                    return Err((needs, true));
                }
                "--help" | "-h" => return Err((USAGE.to_owned(), false)),
                other => return Err((format!("unknown option {other:?}\n{USAGE}"), true)),
            }
        }
        options.redis = redis.ok_or_else(|| (format!("--redis is needed\n{USAGE}"), true))?;
        options.metrics = match (metrics, metrics_token) {
            (Some(addr), Some(token)) if !token.is_empty() => Some((addr, token)),
            (None, None) => None,
            // The metrics are never served to anyone who asks.
            _ => {
                let needs =
                    format!("--metrics ADDR and --metrics-token TOKEN go together\n{USAGE}");
                return Err((needs, true));
            }
        };
        Ok(options)
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err((text, error)) => {
            if error {
                eprintln!("{text}");
                return ExitCode::FAILURE;
            }
            println!("{text}");
            return ExitCode::SUCCESS;
        }
    };
    log_to_stdout(options.json_log, options.console);
    match run(options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("service: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Logs at `info` to standard output: text, or JSON lines with the connection
/// spans' fields and a line as each span closes; with `console`, also publishes
/// the tasks to tokio-console.
fn log_to_stdout(json: bool, console: bool) {
    use tracing_subscriber::filter::LevelFilter;
    use tracing_subscriber::fmt::format::FmtSpan;
    use tracing_subscriber::prelude::*;
    let log = tracing_subscriber::fmt::layer();
    let log = if json {
        log.json()
            .with_current_span(true)
            .with_span_events(FmtSpan::CLOSE)
            .boxed()
    } else {
        log.boxed()
    };
    let registry = tracing_subscriber::registry().with(log.with_filter(LevelFilter::INFO));
    #[cfg(all(feature = "console", tokio_unstable))]
    if console {
        registry.with(console_subscriber::spawn()).init();
        return;
    }
    let _ = console;
    registry.init();
}

async fn run(options: Options) -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind((options.host.as_str(), options.port)).await?;
    let local = listener.local_addr()?;
    let advertise = options
        .advertise
        .unwrap_or_else(|| format!("ws://{local}/"));
    let config = ClusterConfig::new(&options.redis, &advertise).service(&options.service);
    let cluster = Cluster::connect(config).await?;
    println!(
        "process {} of the service {:?}: serving on {local}, reached at {advertise}",
        cluster.process_id(),
        options.service
    );
    let server = web::server(ServerConfig::default().trusted_proxies(options.trusted));
    if let Some((addr, token)) = options.metrics {
        let scrapes = nodelink::server::listen(&addr).await?;
        println!("metrics on http://{}/metrics", scrapes.local_addr()?);
        let expected = format!("Bearer {token}");
        tokio::spawn(nodelink::server::metrics::serve(
            server.handle(),
            scrapes,
            move |headers| {
                headers
                    .get("authorization")
                    .is_some_and(|value| value.as_bytes() == expected.as_bytes())
            },
        ));
    }
    server
        .serve(listener)
        .and(cluster)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
