//! Where Prometheus scrapes the metrics: `GET /metrics`, as an axum route for the
//! axum mount, or on a port of its own beside the stand-alone server, each behind
//! the operator's `authorize` check (a request it refuses gets 401).
//!
//! Neither binds an address itself: the operator chooses it (a loopback or
//! private address, never `0.0.0.0` by accident).

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::http::{HeaderMap, HeaderName, HeaderValue};

use super::CONTENT_TYPE;
use crate::server::game::ServerHandle;
use crate::Protocol;

/// The operator's check of a scrape's headers (a bearer token, a basic-auth
/// pair): `true` lets it through.
type Authorize = Arc<dyn Fn(&HeaderMap) -> bool + Send + Sync>;

type Render = Arc<dyn Fn() -> String + Send + Sync>;

/// The most bytes a scrape's request head may take.
const MAX_HEAD_LEN: usize = 8 * 1024;
/// How long a scraper has to send its request's head: a connection that sends
/// nothing cannot hold one of the few slots for long.
const HEAD_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a scrape may take in all (the head, the rendering, the answer).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Scrapes answered at once; more wait to be accepted.
const MAX_SCRAPES_AT_ONCE: usize = 16;

/// Serves `GET /metrics` (the process's metrics, [`CONTENT_TYPE`]) on `listener`
/// until the returned future is dropped, for a stand-alone server: give it a
/// listener of its own, on a loopback or private address. Every request first
/// passes `authorize`, or gets 401; any other path gets 404, any other method 405.
/// One request per connection, answered with `Connection: close`.
///
/// ```no_run
/// use nodelink::server::{listen, metrics, Server, ServerConfig};
/// # use nodelink::SyncState;
/// # #[derive(SyncState, Clone, Debug, Default, PartialEq)] pub struct Avatar { x: f32 }
/// # #[nodelink::events] pub enum Nothing {}
/// # #[nodelink::protocol(state = Avatar, to_server = Nothing, to_client = Nothing)]
/// # pub struct Game;
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let server = Server::<Game>::new(ServerConfig::default());
/// // Prometheus scrapes 127.0.0.1:9100/metrics with this token.
/// let scrapes = listen("127.0.0.1:9100").await?;
/// tokio::spawn(metrics::serve(server.handle(), scrapes, |headers| {
///     headers
///         .get("authorization")
///         .is_some_and(|value| value == "Bearer s3cret")
/// }));
/// server.serve(listen("0.0.0.0:8765").await?).await?;
/// # Ok(())
/// # }
/// ```
pub async fn serve<P: Protocol>(
    handle: ServerHandle<P>,
    listener: TcpListener,
    authorize: impl Fn(&HeaderMap) -> bool + Send + Sync + 'static,
) {
    serve_with(listener, move || handle.metrics_text(), authorize).await;
}

/// [`serve`] for metrics of your own: answers `GET /metrics` with what `render`
/// returns, in the OpenMetrics text format ([`CONTENT_TYPE`]), behind
/// `authorize` (`nodelink-relay --metrics` serves the relay's and gateway's
/// metrics with it).
///
/// ```no_run
/// use nodelink::server::{listen, metrics, Server, ServerConfig};
/// # use nodelink::SyncState;
/// # #[derive(SyncState, Clone, Debug, Default, PartialEq)] pub struct Avatar { x: f32 }
/// # #[nodelink::events] pub enum Nothing {}
/// # #[nodelink::protocol(state = Avatar, to_server = Nothing, to_client = Nothing)]
/// # pub struct Game;
/// # async fn run() -> std::io::Result<()> {
/// let server = Server::<Game>::new(ServerConfig::default());
/// let handle = server.handle();
/// let scrapes = listen("127.0.0.1:9100").await?;
/// tokio::spawn(metrics::serve_with(
///     scrapes,
///     move || handle.metrics_text(),
///     |headers| headers.get("authorization").is_some_and(|v| v == "Bearer s3cret"),
/// ));
/// # Ok(())
/// # }
/// ```
pub async fn serve_with(
    listener: TcpListener,
    render: impl Fn() -> String + Send + Sync + 'static,
    authorize: impl Fn(&HeaderMap) -> bool + Send + Sync + 'static,
) {
    let authorize: Authorize = Arc::new(authorize);
    let render: Render = Arc::new(render);
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_SCRAPES_AT_ONCE));
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors, most likely: try again shortly.
                tracing::warn!("the metrics endpoint could not accept a connection: {error}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let render = render.clone();
        let authorize = authorize.clone();
        tokio::spawn(async move {
            let answered =
                tokio::time::timeout(REQUEST_TIMEOUT, answer(stream, &*render, &*authorize)).await;
            if let Ok(Err(error)) = answered {
                tracing::debug!(%peer, "a metrics scrape failed: {error}");
            }
            drop(slot);
        });
    }
}

/// Reads one request off `stream` and answers it.
async fn answer(
    mut stream: TcpStream,
    render: &(dyn Fn() -> String + Send + Sync),
    authorize: &(dyn Fn(&HeaderMap) -> bool + Send + Sync),
) -> io::Result<()> {
    let head = tokio::time::timeout(HEAD_TIMEOUT, read_head(&mut stream)).await;
    let Ok(head) = head else {
        return respond(
            &mut stream,
            "408 Request Timeout",
            "text/plain",
            "too slow\n",
        )
        .await;
    };
    let Some((method, path, headers)) = head? else {
        return respond(
            &mut stream,
            "400 Bad Request",
            "text/plain",
            "bad request\n",
        )
        .await;
    };
    let path = path.split('?').next().unwrap_or_default();
    if path != "/metrics" {
        return respond(&mut stream, "404 Not Found", "text/plain", "not found\n").await;
    }
    if method != "GET" {
        return respond(
            &mut stream,
            "405 Method Not Allowed",
            "text/plain",
            "only GET\n",
        )
        .await;
    }
    if !authorize(&headers) {
        return respond(
            &mut stream,
            "401 Unauthorized",
            "text/plain",
            "unauthorized\n",
        )
        .await;
    }
    let text = render();
    respond(&mut stream, "200 OK", CONTENT_TYPE, &text).await
}

/// A request's method, path and headers; `None` for what is not an HTTP request
/// head of at most [`MAX_HEAD_LEN`] bytes (or a connection closed before one).
async fn read_head(stream: &mut TcpStream) -> io::Result<Option<(String, String, HeaderMap)>> {
    let mut head = Vec::with_capacity(1024);
    loop {
        let mut chunk = [0u8; 1024];
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Ok(None);
        }
        head.extend_from_slice(&chunk[..read]);
        let mut fields = [httparse::EMPTY_HEADER; 64];
        let mut request = httparse::Request::new(&mut fields);
        match request.parse(&head) {
            Ok(httparse::Status::Complete(_)) => {
                let mut headers = HeaderMap::new();
                for field in request.headers.iter() {
                    if let (Ok(name), Ok(value)) = (
                        HeaderName::from_bytes(field.name.as_bytes()),
                        HeaderValue::from_bytes(field.value),
                    ) {
                        headers.append(name, value);
                    }
                }
                let method = request.method.unwrap_or_default().to_owned();
                let path = request.path.unwrap_or_default().to_owned();
                return Ok(Some((method, path, headers)));
            }
            Ok(httparse::Status::Partial) if head.len() < MAX_HEAD_LEN => {}
            _ => return Ok(None),
        }
    }
}

async fn respond(stream: &mut TcpStream, status: &str, kind: &str, body: &str) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {kind}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}

/// The route `GET /metrics` for an axum application (features `metrics` and
/// `axum`), beside the game's mount: merge it into your router. Answers 401
/// unless `authorize` accepts the request's headers.
///
/// ```
/// use axum::Router;
/// use nodelink::server::{metrics, Server, ServerConfig};
/// # use nodelink::SyncState;
/// # #[derive(SyncState, Clone, Debug, Default, PartialEq)] pub struct Avatar { x: f32 }
/// # #[nodelink::events] pub enum Nothing {}
/// # #[nodelink::protocol(state = Avatar, to_server = Nothing, to_client = Nothing)]
/// # pub struct Game;
/// let server = Server::<Game>::new(ServerConfig::default());
/// let app: Router = Router::new().merge(metrics::router(server.handle(), |headers| {
///     headers
///         .get("authorization")
///         .is_some_and(|value| value == "Bearer s3cret")
/// }));
/// ```
#[cfg(feature = "axum")]
pub fn router<P: Protocol>(
    handle: ServerHandle<P>,
    authorize: impl Fn(&HeaderMap) -> bool + Send + Sync + 'static,
) -> ::axum::Router {
    use ::axum::http::{header, StatusCode};
    use ::axum::response::IntoResponse;

    let authorize: Authorize = Arc::new(authorize);
    ::axum::Router::new().route(
        "/metrics",
        ::axum::routing::get(move |headers: HeaderMap| {
            let handle = handle.clone();
            let authorize = authorize.clone();
            async move {
                if !authorize(&headers) {
                    return StatusCode::UNAUTHORIZED.into_response();
                }
                let text = handle.metrics_text();
                ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response()
            }
        }),
    )
}
