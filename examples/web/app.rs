//! The web game: one axum router serves the page, its script and the game on one
//! port, so a browser needs nothing but the page's address.
//!
//! `/` is both the page and the game: a WebSocket upgrade there joins the game
//! (Python nodelink's `Client(host, port)` connects to `ws://host:port/`), any other
//! `GET` gets the page. `/game.js` is the page's script: `examples/web/game.ts` and
//! the TypeScript client, bundled into `examples/web/game.js` by
//! `npm run bundle:web` in `clients/typescript` and embedded here, so running the
//! server needs no Node.
//!
//! The rules: a player's name comes from the connection's query (`?name=ada`,
//! read by the authentication hook) or is made up from its id; a move sets the
//! position, clamped to the map; chat goes to everyone in the match; arrivals and
//! departures are announced with `Joined` and `Left`.
//!
//! The matches are tables: the server's default one, which a client that names
//! no match joins (the page without `?match=`, Python nodelink, the example's
//! bot), and any number more that players create from the page's lobby, public
//! (listed) or private (joined by code only), each titled and listed with its
//! title ([`Table`] is both the options and the metadata), at most
//! [`MAX_PLAYERS_PER_MATCH`] players each. An empty table ends after ten seconds.
//!
//! Used by `cargo run --example web` and by `tests/web_game.rs`.

use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::Router;
use nodelink::server::{Mounted, Server, ServerConfig};
use nodelink::PlayerId;

use crate::{Game, OnToServer, Table, ToClient, ToServerChat, ToServerMove};

/// The map's width: positions run from 0 to this, east. The page's canvas has
/// the same size (`examples/web/index.html`).
pub const MAP_WIDTH: f32 = 800.0;

/// The map's height: positions run from 0 to this, south.
pub const MAP_HEIGHT: f32 = 500.0;

/// The longest name kept, in characters.
pub const MAX_NAME_CHARS: usize = 16;

/// The longest chat message kept, in characters; the rest is cut.
pub const MAX_CHAT_CHARS: usize = 200;

/// The longest table title kept, in characters.
pub const MAX_TITLE_CHARS: usize = 24;

/// The title of a table made without one, the default match's among them.
pub const UNTITLED: &str = "open table";

/// The most players at one table: the map holds that many dots readably.
pub const MAX_PLAYERS_PER_MATCH: usize = 32;

/// The page, served at `/`.
pub const PAGE: &str = include_str!("index.html");

/// The page's script, served at `/game.js`: the bundle of `game.ts` and the
/// TypeScript client.
pub const SCRIPT: &str = include_str!("game.js");

/// What the authentication hook learns from the request: the name asked for.
struct Requested {
    name: Option<String>,
}

/// The game's server, not running yet: mount it (as [`app`] does) or bind it.
/// `config` sets the limits and timings; its host and port are not used once
/// mounted.
#[must_use]
pub fn server(config: ServerConfig) -> Server<Game> {
    // Without a game value, every table is made alike: the default one, and those
    // created on request.
    let mut server = Server::<Game>::new(config);
    server
        .max_players(MAX_PLAYERS_PER_MATCH)
        .metadata(|table| Table {
            title: listed_title(&table.title),
        })
        // Finding a table with a title joins a listed one of that title; without,
        // any with a free place.
        .filter(|wanted, listed| {
            clean_title(&wanted.title).is_none_or(|title| title == listed.title)
        });
    // Never refuses: the hook is where the request's query is at hand.
    server.authenticate(|request| async move {
        let name = request
            .query_param("name")
            .and_then(|name| clean_name(&name));
        Ok(Requested { name })
    });
    server.on_connect(|ctx| {
        let id = ctx.id();
        let player = ctx.player();
        let name = player
            .identity::<Requested>()
            .and_then(|requested| requested.name.clone())
            .unwrap_or_else(|| default_name(id));
        let (x, y) = spawn_point(id);
        player.update_state(|avatar| {
            avatar.x = x;
            avatar.y = y;
            avatar.name = name;
        });
        ctx.broadcast(ToClient::Joined { id });
    });
    server.on_move(|ctx, ToServerMove { x, y }| {
        // MessagePack can carry NaN and infinities, which no clamp makes a place.
        if x.is_finite() && y.is_finite() {
            let (x, y) = (x.clamp(0.0, MAP_WIDTH), y.clamp(0.0, MAP_HEIGHT));
            ctx.player().state_mut().set_x(x).set_y(y);
        }
    });
    server.on_chat(|ctx, ToServerChat { msg }| {
        let msg: String = msg.trim().chars().take(MAX_CHAT_CHARS).collect();
        if !msg.is_empty() {
            let from = ctx.id();
            ctx.broadcast(ToClient::Chat { from, msg });
        }
    });
    server.on_disconnect(|ctx| {
        let id = ctx.id();
        ctx.broadcast(ToClient::Left { id });
    });
    // No `on_error`: the server logs errors itself (`tracing`, warn), at most ten
    // lines a second, so a client sending garbage cannot flood the output.
    server
}

/// The site: the router (the page, its script and the game) and the mounted
/// server, whose [`run`](Mounted::run) the caller spawns. Serve the router with
/// `into_make_service_with_connect_info::<SocketAddr>()`: the game needs the
/// peers' addresses.
pub fn app(config: ServerConfig) -> (Router, Mounted<Game>) {
    let mounted = server(config).mount();
    let router = Router::new()
        .route("/", mounted.route_or(page))
        .route("/game.js", get(script));
    (router, mounted)
}

async fn page() -> impl IntoResponse {
    ([(header::CACHE_CONTROL, "no-cache")], Html(PAGE))
}

async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            // A rebuilt server may serve another script at the same address.
            (header::CACHE_CONTROL, "no-cache"),
        ],
        SCRIPT,
    )
}

/// The name of a player who asked for none: `guest-` and the start of its id.
#[must_use]
pub fn default_name(id: PlayerId) -> String {
    let hex = id.to_string();
    format!("guest-{}", &hex[..4])
}

/// A requested name as shown to everyone: without control characters or the
/// spaces around it, at most [`MAX_NAME_CHARS`]; `None` if nothing is left.
#[must_use]
pub fn clean_name(requested: &str) -> Option<String> {
    clean(requested, MAX_NAME_CHARS)
}

/// A requested table title as the lobby lists it: cleaned as names are, at most
/// [`MAX_TITLE_CHARS`]; `None` if nothing is left.
#[must_use]
pub fn clean_title(requested: &str) -> Option<String> {
    clean(requested, MAX_TITLE_CHARS)
}

/// The title a table made with `requested` lists: cleaned, or [`UNTITLED`].
#[must_use]
pub fn listed_title(requested: &str) -> String {
    clean_title(requested).unwrap_or_else(|| UNTITLED.to_owned())
}

/// `requested` without control characters or the spaces around it, at most
/// `max` characters; `None` if nothing is left.
fn clean(requested: &str, max: usize) -> Option<String> {
    let printable: String = requested.chars().filter(|c| !c.is_control()).collect();
    let cleaned: String = printable.trim().chars().take(max).collect();
    let cleaned = cleaned.trim_end();
    (!cleaned.is_empty()).then(|| cleaned.to_owned())
}

/// Where a player starts: spread over the map by its id, away from the edges,
/// so that newcomers do not stack on one spot.
#[must_use]
pub fn spawn_point(id: PlayerId) -> (f32, f32) {
    const MARGIN: u32 = 60;
    let spread_x = MAP_WIDTH as u32 - 2 * MARGIN;
    let spread_y = MAP_HEIGHT as u32 - 2 * MARGIN;
    let raw = id.raw();
    let x = MARGIN + raw % spread_x;
    let y = MARGIN + (raw / spread_x) % spread_y;
    (x as f32, y as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_draws_the_map_the_server_keeps() {
        let canvas = format!(r#"width="{MAP_WIDTH}" height="{MAP_HEIGHT}""#);
        assert!(PAGE.contains(&canvas), "index.html's canvas is {canvas}");
        assert!(PAGE.contains(r#"src="/game.js""#));
    }

    #[test]
    fn names_are_trimmed_cut_and_printable() {
        assert_eq!(clean_name("ada"), Some("ada".to_owned()));
        assert_eq!(clean_name("  bob \t"), Some("bob".to_owned()));
        assert_eq!(clean_name("a\u{7}d\na"), Some("ada".to_owned()));
        assert_eq!(
            clean_name("an extremely long name indeed"),
            Some("an extremely lon".to_owned())
        );
        assert_eq!(
            clean_name("fifteen chars   xyz"),
            Some("fifteen chars".to_owned())
        );
        assert_eq!(clean_name(" \u{1b} "), None);
        assert_eq!(clean_name(""), None);
    }

    #[test]
    fn titles_are_cleaned_as_names_are_and_untitled_tables_say_so() {
        assert_eq!(listed_title(" ada's table\n"), "ada's table");
        assert_eq!(
            listed_title("a title far longer than the lobby shows"),
            "a title far longer than"
        );
        assert_eq!(listed_title(""), UNTITLED);
        assert_eq!(listed_title("\u{7} "), UNTITLED);
        assert_eq!(clean_title("  "), None);
    }

    #[test]
    fn default_names_and_spawn_points_come_from_the_id() {
        let id = PlayerId::from_raw(0xc0ff_ee42);
        assert_eq!(default_name(id), "guest-c0ff");
        for raw in [0, 1, 679, 680, u32::MAX, 0xc0ff_ee42] {
            let (x, y) = spawn_point(PlayerId::from_raw(raw));
            assert!((60.0..=MAP_WIDTH - 60.0).contains(&x), "{raw}: x {x}");
            assert!((60.0..=MAP_HEIGHT - 60.0).contains(&y), "{raw}: y {y}");
        }
    }
}
