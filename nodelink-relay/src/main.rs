//! The relay as a program: `nodelink-relay [--port 9000] [--LIMIT VALUE]…`, every
//! limit a flag; `--help` lists them with their defaults. With `--redis URL
//! [--service NAME]`, also a gateway of that service's game processes. Stops on
//! Ctrl-C.

use std::process::ExitCode;
use std::time::Duration;

use nodelink_relay::{Relay, RelayConfig};

/// A command-line flag: its name, what its value looks like, what it sets, and
/// how to read and show the value.
struct Flag {
    name: &'static str,
    value: &'static str,
    help: &'static str,
    show: fn(&RelayConfig) -> String,
    set: fn(&mut RelayConfig, &str) -> Result<(), String>,
}

fn number<T: std::str::FromStr>(text: &str) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    text.parse().map_err(|error| format!("{error}"))
}

fn seconds(text: &str) -> Result<Duration, String> {
    let seconds: f64 = number(text)?;
    Duration::try_from_secs_f64(seconds).map_err(|error| format!("{error}"))
}

fn show_seconds(duration: Duration) -> String {
    format!("{}", duration.as_secs_f64())
}

macro_rules! flag {
    ($name:literal, $value:literal, $help:literal, $field:ident, seconds) => {
        Flag {
            name: $name,
            value: $value,
            help: $help,
            show: |config| show_seconds(config.$field),
            set: |config, text| {
                config.$field = seconds(text)?;
                Ok(())
            },
        }
    };
    ($name:literal, $value:literal, $help:literal, $($field:ident).+) => {
        Flag {
            name: $name,
            value: $value,
            help: $help,
            show: |config| config.$($field).+.to_string(),
            set: |config, text| {
                config.$($field).+ = number(text)?;
                Ok(())
            },
        }
    };
}

const FLAGS: &[Flag] = &[
    flag!("--host", "ADDR", "address to listen on", host),
    flag!(
        "--port",
        "PORT",
        "port to listen on (0: any free port)",
        port
    ),
    flag!(
        "--code-len",
        "N",
        "characters in a game code (4 to 16)",
        code_len
    ),
    flag!(
        "--max-games",
        "N",
        "games at once, each match code counting as one; then /host and /link get 503",
        max_games
    ),
    flag!(
        "--max-codes-per-host",
        "N",
        "match codes one native host may hold; then its claims get none",
        max_codes_per_host
    ),
    flag!(
        "--max-players-per-game",
        "N",
        "players in one game, waiting ones included; then 503",
        max_players_per_game
    ),
    flag!(
        "--max-pending-joins",
        "N",
        "joins waiting for one native host's answer; then 503",
        max_pending_joins
    ),
    flag!(
        "--max-connections",
        "N",
        "open connections in all; then new ones wait",
        max_connections
    ),
    flag!(
        "--max-connections-per-ip",
        "N",
        "open connections from one address; then 429",
        max_connections_per_ip
    ),
    flag!(
        "--max-frame-len",
        "BYTES",
        "largest message from a player or a control link; larger: closed with 4003",
        max_frame_len
    ),
    flag!(
        "--max-host-frame-len",
        "BYTES",
        "largest message from a Python host or a data connection; larger: closed with 4003",
        max_host_frame_len
    ),
    flag!(
        "--send-queue-len",
        "N",
        "messages queued for one connection",
        send_queue_len
    ),
    flag!(
        "--send-queue-bytes",
        "BYTES",
        "bytes queued for one connection",
        send_queue_bytes
    ),
    flag!(
        "--slow-consumer-timeout",
        "SECS",
        "how long a message waits for room in a full queue before its reader is closed with 4004",
        slow_consumer_timeout,
        seconds
    ),
    flag!(
        "--player-rate",
        "PER_SEC",
        "messages a second from a Python host's player",
        player_rate_limit.per_second
    ),
    flag!(
        "--player-burst",
        "N",
        "burst above --player-rate",
        player_rate_limit.burst
    ),
    flag!(
        "--player-disconnect-after",
        "N",
        "messages dropped in a row by the rate limit before closing with 4005",
        player_rate_limit.disconnect_after
    ),
    flag!(
        "--max-invalid-frames",
        "N",
        "messages that cannot be relayed before closing with 4003",
        max_invalid_frames
    ),
    flag!(
        "--failed-joins-per-second",
        "RATE",
        "failed joins forgiven a second, per address",
        failed_joins.per_second
    ),
    flag!(
        "--failed-joins-burst",
        "N",
        "failed joins in a row before an address gets 429",
        failed_joins.burst
    ),
    flag!(
        "--failed-join-addresses",
        "N",
        "addresses whose failed joins are remembered",
        failed_join_addresses
    ),
    flag!(
        "--handshake-timeout",
        "SECS",
        "from a connection's first byte to its upgrade",
        handshake_timeout,
        seconds
    ),
    flag!(
        "--accept-timeout",
        "SECS",
        "how long a native host has to answer a join; then 504",
        accept_timeout,
        seconds
    ),
    flag!(
        "--host-grace",
        "SECS",
        "how long a native host's game outlives its control link",
        host_grace,
        seconds
    ),
    flag!(
        "--ping-interval",
        "SECS",
        "WebSocket pings on every connection (0: none, no idle timeout)",
        ping_interval,
        seconds
    ),
    flag!(
        "--idle-timeout",
        "SECS",
        "silence before a connection is closed with 4006 (0: never)",
        idle_timeout,
        seconds
    ),
    flag!(
        "--close-timeout",
        "SECS",
        "wait for the answer to a close frame",
        close_timeout,
        seconds
    ),
    flag!(
        "--shutdown-timeout",
        "SECS",
        "wait for connections to close on Ctrl-C",
        shutdown_timeout,
        seconds
    ),
    flag!(
        "--service",
        "NAME",
        "the service's name in Redis, as its processes give it (with --redis)",
        service
    ),
    flag!(
        "--directory-timeout",
        "SECS",
        "how long a gateway waits for Redis before refusing with 503 (4216)",
        directory_timeout,
        seconds
    ),
    Flag {
        name: "--socket-send-buffer",
        value: "BYTES",
        help: "kernel send buffer per connection (0: the OS's default)",
        show: |config| config.socket_send_buffer.unwrap_or(0).to_string(),
        set: |config, text| {
            let bytes: usize = number(text)?;
            config.socket_send_buffer = (bytes > 0).then_some(bytes);
            Ok(())
        },
    },
];

const LOG_LEVELS: &str = "error, warn, info, debug or trace";

/// Where `--metrics` finds its token when `--metrics-token` is not given.
const METRICS_TOKEN_VAR: &str = "NODELINK_RELAY_METRICS_TOKEN";

/// Whether `given` is `expected`, in a time that does not depend on where they
/// differ.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |differ, (a, b)| differ | (a ^ b))
            == 0
}

fn help() -> String {
    let defaults = RelayConfig::default();
    let mut text = String::from(
        "nodelink-relay: hosts connect out and get a game code, players join with it.\n\n\
         Usage: nodelink-relay [OPTIONS]\n\n\
         Hosts: Python nodelink's Server(relay_url=\"ws://ADDR:PORT\") on /host, native\n\
         hosts on /link. Players: ws://ADDR:PORT/join/CODE.\n\
         With --redis, also a gateway: any other request is routed by its query to a\n\
         game process of the service whose directory is that Redis.\n\n\
         Options (default in brackets):\n",
    );
    for flag in FLAGS {
        let name = format!("{} {}", flag.name, flag.value);
        let default = (flag.show)(&defaults);
        text.push_str(&format!("  {name:<32} {} [{default}]\n", flag.help));
    }
    text.push_str(&format!(
        "  {:<32} be the gateway of the service whose directory this Redis holds [relay only]\n",
        "--redis URL"
    ));
    text.push_str(&format!(
        "  {:<32} serve wss:// with this certificate chain (PEM) [plain ws://]\n  \
         {:<32} ... and this private key (PEM)\n",
        "--tls-cert FILE", "--tls-key FILE"
    ));
    text.push_str(&format!(
        "  {:<32} serve the relay's metrics (Prometheus) on http://ADDR/metrics [off]\n  \
         {:<32} ... to scrapes bringing `Authorization: Bearer TOKEN` (required; or\n  \
         {:<32} set {METRICS_TOKEN_VAR}, out of sight of `ps`)\n",
        "--metrics ADDR", "--metrics-token TOKEN", ""
    ));
    text.push_str(&format!(
        "  {:<32} log level: {LOG_LEVELS} [info]\n  {:<32} this text\n",
        "--log LEVEL", "-h, --help"
    ));
    text
}

/// What the command line asks for.
enum Command {
    Serve(Box<RelayConfig>, tracing::Level, Option<MetricsEndpoint>),
    Help,
}

/// Where `--metrics` serves the relay's metrics, and the token a scrape must
/// bring (`Authorization: Bearer TOKEN`).
struct MetricsEndpoint {
    addr: String,
    token: String,
}

fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut config = RelayConfig::default();
    let mut level = tracing::Level::INFO;
    let (mut cert, mut key) = (None, None);
    let (mut metrics, mut metrics_token) = (None, None);
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(Command::Help);
        }
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
            None => (arg, None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        if name == "--tls-cert" {
            cert = Some(value()?);
            continue;
        }
        if name == "--tls-key" {
            key = Some(value()?);
            continue;
        }
        if name == "--redis" {
            config = config.redis(value()?);
            continue;
        }
        if name == "--metrics" {
            metrics = Some(value()?);
            continue;
        }
        if name == "--metrics-token" {
            metrics_token = Some(value()?);
            continue;
        }
        if name == "--log" {
            let text = value()?;
            level = text
                .parse()
                .map_err(|_| format!("--log: expected {LOG_LEVELS}, got `{text}`"))?;
            continue;
        }
        let flag = FLAGS
            .iter()
            .find(|flag| flag.name == name)
            .ok_or_else(|| format!("unknown option `{name}` (see --help)"))?;
        let text = value()?;
        (flag.set)(&mut config, &text).map_err(|error| format!("{name} {text}: {error}"))?;
    }
    match (cert, key) {
        (Some(cert), Some(key)) => {
            let tls = nodelink::tls::TlsConfig::from_pem_files(&cert, &key)
                .map_err(|error| format!("--tls-cert {cert} --tls-key {key}: {error}"))?;
            config = config.tls(tls);
        }
        (None, None) => {}
        _ => return Err("--tls-cert and --tls-key go together".to_owned()),
    }
    // The token may come from the environment, out of sight of `ps`.
    let metrics_token = metrics_token.or_else(|| {
        metrics
            .as_ref()
            .and_then(|_| std::env::var(METRICS_TOKEN_VAR).ok())
    });
    let metrics = match (metrics, metrics_token) {
        (Some(addr), Some(token)) if !token.is_empty() => Some(MetricsEndpoint { addr, token }),
        (None, None) => None,
        // Metrics are never served without a check.
        _ => {
            return Err(
                "--metrics ADDR needs --metrics-token TOKEN (and the token a --metrics)".to_owned(),
            )
        }
    };
    Ok(Command::Serve(Box::new(config), level, metrics))
}

fn main() -> ExitCode {
    let (config, level, metrics) = match parse(std::env::args().skip(1)) {
        Ok(Command::Serve(config, level, metrics)) => (*config, level, metrics),
        Ok(Command::Help) => {
            print!("{}", help());
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("nodelink-relay: {error}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("nodelink-relay: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let config_redis = config.redis.clone();
    runtime.block_on(async {
        let relay = match Relay::new(config).bind().await {
            Ok(relay) => relay,
            Err(error) => {
                eprintln!("nodelink-relay: {error}");
                return ExitCode::FAILURE;
            }
        };
        tracing::info!("nodelink relay listening on {}", relay.local_addr());
        if let Some(redis) = &config_redis {
            tracing::info!(%redis, "and the gateway of the service whose directory is there");
        }
        if let Some(MetricsEndpoint { addr, token }) = metrics {
            let scrapes = match nodelink::server::listen(&addr).await {
                Ok(scrapes) => scrapes,
                Err(error) => {
                    eprintln!("nodelink-relay: --metrics {addr}: {error}");
                    return ExitCode::FAILURE;
                }
            };
            if let Ok(local) = scrapes.local_addr() {
                tracing::info!("metrics on http://{local}/metrics");
            }
            let handle = relay.handle();
            let expected = format!("Bearer {token}");
            tokio::spawn(nodelink::server::metrics::serve_with(
                scrapes,
                move || handle.metrics_text(),
                move |headers| {
                    headers
                        .get("authorization")
                        .is_some_and(|value| same_secret(value.as_bytes(), expected.as_bytes()))
                },
            ));
        }
        let handle = relay.handle();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                tracing::info!("shutting down");
                handle.shutdown();
            }
        });
        relay.run().await;
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn every_flag_sets_its_field_and_shows_its_default() {
        let help = help();
        let defaults = RelayConfig::default();
        for flag in FLAGS {
            assert!(help.contains(flag.name), "{} in --help", flag.name);
            let default = (flag.show)(&defaults);
            assert!(
                help.contains(&format!("[{default}]")),
                "{}'s default",
                flag.name
            );
            // Setting the default back is accepted and changes nothing.
            let mut config = RelayConfig::default();
            (flag.set)(&mut config, &default).expect("the default parses");
            assert_eq!((flag.show)(&config), default, "{}", flag.name);
        }
    }

    #[test]
    fn flags_set_the_config() {
        let line = "--port 0 --max-games=7 --host-grace 0.5 --player-burst 3 \
                    --failed-joins-per-second 0.5 --socket-send-buffer 0 --log debug";
        let Ok(Command::Serve(config, level, _)) = parse(args(line)) else {
            panic!("parses");
        };
        assert_eq!(config.port, 0);
        assert_eq!(config.max_games, 7);
        assert_eq!(config.host_grace, Duration::from_millis(500));
        assert_eq!(config.player_rate_limit.burst, 3);
        assert_eq!(config.failed_joins.per_second, 0.5);
        assert_eq!(config.socket_send_buffer, None);
        assert_eq!(level, tracing::Level::DEBUG);
        let line = "--redis redis://10.0.0.2:6379 --service arena --directory-timeout 2";
        let Ok(Command::Serve(config, _, _)) = parse(args(line)) else {
            panic!("parses");
        };
        assert_eq!(config.redis.as_deref(), Some("redis://10.0.0.2:6379"));
        assert_eq!(config.service, "arena");
        assert_eq!(config.directory_timeout, Duration::from_secs(2));
        assert!(matches!(parse(args("-h")), Ok(Command::Help)));
    }

    #[test]
    fn bad_command_lines_say_what_is_wrong() {
        let error = |line| parse(args(line)).err().expect("an error");
        assert_eq!(error("--nope 1"), "unknown option `--nope` (see --help)");
        assert_eq!(error("--port"), "--port needs a value");
        assert!(error("--port x").starts_with("--port x: invalid digit"));
        assert!(error("--host-grace -1").starts_with("--host-grace -1:"));
        assert!(error("--log loud").starts_with("--log: expected"));
    }
}
