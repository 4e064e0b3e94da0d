//! A live monitor page for operators (feature `axum`): the process's matches with
//! their players, rates, tick times and states, and buttons that kick a player, lock or end a
//! match, as an axum `Router` to nest where you choose, behind your own check.
//!
//! The page polls `state` once a second; the buttons are a fixed set of `POST`
//! calls (`kick`, `lock`, `end`) on the [`ServerHandle`]'s admin calls, never a
//! call named by the request. Every route, the page included, first asks the
//! `authorize` check the operator gives; a request it refuses gets 401.

use std::sync::Arc;

use ::axum::extract::{RawQuery, State};
use ::axum::http::{header, HeaderMap, StatusCode};
use ::axum::response::{IntoResponse, Response};
use ::axum::routing::{get, post};
use ::axum::Router;
use serde_json::{json, Value};

use crate::server::game::ServerHandle;
use crate::{PlayerId, Protocol};

/// The operator's check of a request (a cookie, a header, a client certificate's
/// name): `true` lets it through.
type Authorize = Arc<dyn Fn(&HeaderMap) -> bool + Send + Sync>;

struct Monitor<P: Protocol> {
    handle: ServerHandle<P>,
    authorize: Authorize,
}

type Shared<P> = Arc<Monitor<P>>;

/// The monitor's routes for the process `handle` belongs to: `GET /` (the page),
/// `GET /state` (what it shows, as JSON), `POST /kick?code=…&player=…`,
/// `POST /lock?code=…&locked=true|false` and `POST /end?code=…`. Nest it under a
/// path of your choice; every route answers 401 unless `authorize` accepts the
/// request's headers.
///
/// ```
/// use axum::http::header;
/// use axum::Router;
/// use nodelink::server::{monitor, Server, ServerConfig};
/// # use nodelink::SyncState;
/// # #[derive(SyncState, Clone, Debug, Default, PartialEq)] pub struct Avatar { x: f32 }
/// # #[nodelink::events] pub enum Nothing {}
/// # #[nodelink::protocol(state = Avatar, to_server = Nothing, to_client = Nothing)]
/// # pub struct Game;
///
/// let server = Server::<Game>::new(ServerConfig::default());
/// // Only a browser holding the operator's cookie sees it.
/// let admin: Router = Router::new().nest(
///     "/monitor",
///     monitor::router(server.handle(), |headers| {
///         headers
///             .get(header::COOKIE)
///             .and_then(|cookie| cookie.to_str().ok())
///             .is_some_and(|cookie| cookie.split("; ").any(|c| c == "monitor=s3cret"))
///     }),
/// );
/// ```
pub fn router<P: Protocol>(
    handle: ServerHandle<P>,
    authorize: impl Fn(&HeaderMap) -> bool + Send + Sync + 'static,
) -> Router {
    let shared: Shared<P> = Arc::new(Monitor {
        handle,
        authorize: Arc::new(authorize),
    });
    Router::new()
        .route("/", get(page::<P>))
        .route("/state", get(state::<P>))
        .route("/kick", post(kick::<P>))
        .route("/lock", post(lock::<P>))
        .route("/end", post(end::<P>))
        .with_state(shared)
}

/// A 401 answer unless the operator's check accepts `headers`.
fn refused<P: Protocol>(monitor: &Monitor<P>, headers: &HeaderMap) -> Option<Response> {
    (!(monitor.authorize)(headers))
        .then(|| (StatusCode::UNAUTHORIZED, "not authorized").into_response())
}

async fn page<P: Protocol>(State(monitor): State<Shared<P>>, headers: HeaderMap) -> Response {
    if let Some(refused) = refused(&monitor, &headers) {
        return refused;
    }
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        PAGE,
    )
        .into_response()
}

async fn state<P: Protocol>(State(monitor): State<Shared<P>>, headers: HeaderMap) -> Response {
    if let Some(refused) = refused(&monitor, &headers) {
        return refused;
    }
    let handle = &monitor.handle;
    let process = handle.process_stats();
    let mut matches = Vec::new();
    for info in handle.matches() {
        let players: Vec<Value> = handle
            .players_in(&info.code)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|player| {
                json!({
                    "id": player.id.to_string(),
                    "peer": player.addr.to_string(),
                    "wire": format!("{:?}", player.wire),
                    "ping_ms": player.ping.map(|ping| ping.as_secs_f64() * 1000.0),
                    "paused": player.paused,
                    "rooms": player.rooms,
                    "state_bytes": player.state.len(),
                    "state": serde_json::from_str::<Value>(&player.state).unwrap_or(Value::Null),
                })
            })
            .collect();
        matches.push(json!({
            "code": info.code,
            "kind": info.kind,
            "players": info.players,
            "max_players": info.max_players,
            "locked": info.locked,
            "public": info.public,
            "ticks": info.stats.ticks,
            "frames": info.stats.frames,
            "bytes": info.stats.bytes_sent,
            "tick_ms": info.last_tick_time.as_secs_f64() * 1000.0,
            "player_list": players,
        }));
    }
    let body = json!({
        "matches_live": process.matches,
        "players": process.players,
        "matches_started": process.matches_started,
        "matches_ended": process.matches_ended,
        "ticks": process.sync.ticks,
        "frames": process.sync.frames,
        "bytes": process.sync.bytes_sent,
        "matches": matches,
    });
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body.to_string(),
    )
        .into_response()
}

/// The value of `name` in a query string (`a=1&b=2`); match codes, player ids
/// and booleans need no decoding.
fn param<'q>(query: Option<&'q str>, name: &str) -> Option<&'q str> {
    query?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then_some(value)
    })
}

/// Runs one of the page's calls: 401 unless the operator's check accepts
/// `headers`; 400, naming the parameters expected, when `call` cannot read them
/// from `query`; else 204 when it reached a live match, 404 when no live match
/// has the code.
fn act<P: Protocol>(
    monitor: &Monitor<P>,
    headers: &HeaderMap,
    query: Option<&str>,
    call: impl FnOnce(&ServerHandle<P>, Option<&str>) -> Result<bool, &'static str>,
) -> Response {
    if let Some(refused) = refused(monitor, headers) {
        return refused;
    }
    match call(&monitor.handle, query) {
        Err(expected) => (StatusCode::BAD_REQUEST, format!("expected {expected}")).into_response(),
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => (StatusCode::NOT_FOUND, "no live match has this code").into_response(),
    }
}

async fn kick<P: Protocol>(
    State(monitor): State<Shared<P>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    act(&monitor, &headers, query.as_deref(), |handle, query| {
        let player = param(query, "player").and_then(|id| id.parse::<PlayerId>().ok());
        match (param(query, "code"), player) {
            (Some(code), Some(player)) => Ok(handle.kick_from(code, player)),
            _ => Err("code=CODE&player=ID"),
        }
    })
}

async fn lock<P: Protocol>(
    State(monitor): State<Shared<P>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    act(&monitor, &headers, query.as_deref(), |handle, query| {
        let locked = param(query, "locked").and_then(|locked| locked.parse::<bool>().ok());
        match (param(query, "code"), locked) {
            (Some(code), Some(locked)) => Ok(handle.set_locked(code, locked)),
            _ => Err("code=CODE&locked=true|false"),
        }
    })
}

async fn end<P: Protocol>(
    State(monitor): State<Shared<P>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    act(&monitor, &headers, query.as_deref(), |handle, query| {
        param(query, "code")
            .map(|code| handle.end_match(code))
            .ok_or("code=CODE")
    })
}

/// The page: a table per match, refreshed every second from `state`, with the
/// rates between two refreshes worked out in the page.
const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>nodelink monitor</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #1d2433; background: #f6f7f9; }
  h1 { font-size: 1.3em; margin: 0 0 .3em; }
  #process { color: #4a5568; margin-bottom: 1em; }
  .match { background: #fff; border: 1px solid #d9dde5; border-radius: 6px; margin-bottom: 1em; padding: .6em .8em; }
  .match h2 { font-size: 1.05em; margin: 0 0 .4em; display: flex; gap: .8em; align-items: baseline; }
  .match h2 .rates { color: #4a5568; font-weight: normal; font-size: .9em; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .25em .5em; border-top: 1px solid #eef0f4; vertical-align: top; }
  th { color: #4a5568; font-weight: 600; }
  td.state { font-family: ui-monospace, monospace; font-size: .85em; color: #2d3748; }
  button { font: inherit; font-size: .85em; padding: .1em .6em; cursor: pointer; }
  .paused { color: #b7791f; }
  #error { color: #c53030; }
</style>
</head>
<body>
<h1>nodelink monitor</h1>
<div id="process">loading…</div>
<div id="error"></div>
<div id="matches"></div>
<script>
"use strict";
let last = null;
// The routes sit beside the page, whether its address ends with a slash or not.
const base = location.pathname.endsWith("/") ? location.pathname : location.pathname + "/";
function text(value) { return value === null || value === undefined ? "" : String(value); }
function cell(row, value, cls) {
  const td = document.createElement("td");
  td.textContent = text(value);
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}
function button(label, action) {
  const b = document.createElement("button");
  b.textContent = label;
  b.addEventListener("click", async () => {
    const answer = await fetch(base + action, { method: "POST", credentials: "same-origin" });
    if (!answer.ok) document.getElementById("error").textContent = label + ": " + answer.status;
    refresh();
  });
  return b;
}
function rate(now, before, field, seconds) {
  if (!before || seconds <= 0) return "…";
  return ((now[field] - before[field]) / seconds).toFixed(1);
}
function render(state, before, seconds) {
  const count = (n, one, many) => n + " " + (n === 1 ? one : many);
  document.getElementById("process").textContent =
    count(state.matches_live, "match", "matches") + ", " + count(state.players, "player", "players") + "; " +
    state.matches_started + " started, " + state.matches_ended + " ended";
  const root = document.getElementById("matches");
  root.replaceChildren();
  for (const m of state.matches) {
    const earlier = before && before.matches.find((b) => b.code === m.code);
    const box = document.createElement("div");
    box.className = "match";
    box.dataset.code = m.code;
    const title = document.createElement("h2");
    const name = document.createElement("span");
    name.textContent = m.code + " · " + m.kind + " · " + m.players + "/" + m.max_players +
      (m.locked ? " · locked" : "") + (m.public ? "" : " · private");
    const rates = document.createElement("span");
    rates.className = "rates";
    rates.textContent = rate(m, earlier, "ticks", seconds) + " ticks/s, " +
      rate(m, earlier, "frames", seconds) + " frames/s, " + rate(m, earlier, "bytes", seconds) + " bytes/s, " +
      "last tick " + m.tick_ms.toFixed(2) + " ms";
    title.append(name, rates,
      button(m.locked ? "Unlock" : "Lock", "lock?code=" + encodeURIComponent(m.code) + "&locked=" + !m.locked),
      button("End match", "end?code=" + encodeURIComponent(m.code)));
    box.appendChild(title);
    const table = document.createElement("table");
    const head = table.insertRow();
    for (const h of ["player", "peer", "wire", "ping", "rooms", "state", ""]) {
      const th = document.createElement("th");
      th.textContent = h;
      head.appendChild(th);
    }
    for (const p of m.player_list) {
      const row = table.insertRow();
      row.dataset.player = p.id;
      cell(row, p.id + (p.paused ? " (paused)" : ""), p.paused ? "paused" : "");
      cell(row, p.peer);
      cell(row, p.wire);
      cell(row, p.ping_ms === null ? "" : p.ping_ms.toFixed(1) + " ms");
      cell(row, p.rooms.join(", "));
      cell(row, JSON.stringify(p.state) + " (" + p.state_bytes + " B)", "state");
      const actions = cell(row, "");
      actions.appendChild(button("Kick", "kick?code=" + encodeURIComponent(m.code) + "&player=" + p.id));
    }
    box.appendChild(table);
    root.appendChild(box);
  }
}
async function refresh() {
  try {
    const answer = await fetch(base + "state", { credentials: "same-origin", cache: "no-store" });
    if (!answer.ok) throw new Error("state: " + answer.status);
    const state = await answer.json();
    const now = performance.now();
    const seconds = last ? (now - last.at) / 1000 : 0;
    render(state, last && last.state, seconds);
    last = { state, at: now };
    document.getElementById("error").textContent = "";
  } catch (error) {
    document.getElementById("error").textContent = String(error);
  }
}
refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
"#;
