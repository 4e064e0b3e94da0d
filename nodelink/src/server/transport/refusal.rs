//! Refused connections, seen from both ends: the operator is told of each (a
//! rate-limited `tracing` line and the [`Server::on_refusal`] hook, in the
//! connection's own task), and so is the client: with the HTTP response every
//! client gets, or, when it offers [`REFUSALS_SUBPROTOCOL`], with a close code
//! right after the upgrade. A browser's `WebSocket` shows a script nothing of a
//! refused upgrade's response, only "error" and code 1006; a close code it shows.
//!
//! Answering in WebSocket costs the server an upgrade and a close handshake
//! instead of one write. The connection keeps its place in the per-IP count
//! meanwhile, and all of it happens within the handshake timeout, so refused
//! clients are bounded as any others.

use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::server::config::ServerConfig;
use crate::server::game::ProcessBoard;
use crate::server::log_budget::LogBudget;
use crate::server::transport::admission::{self, Refusal};
use crate::server::transport::connection::websocket_config;
use crate::server::transport::request::HandshakeRequest;
use crate::server::Server;
use crate::wire::{close_reason_text, RefusalKind, REFUSALS_SUBPROTOCOL};
use crate::Protocol;

/// A connection the server refused before it became a player, as
/// [`Server::on_refusal`] reports it.
///
/// ```
/// use nodelink::server::RefusedConnection;
/// use nodelink::wire::RefusalKind;
///
/// fn describe(refusal: &RefusedConnection) -> String {
///     match refusal.kind() {
///         RefusalKind::ProtocolMismatch => format!("{} runs an old build", refusal.peer()),
///         _ => format!("{} refused: {}", refusal.peer(), refusal.reason()),
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedConnection {
    peer: SocketAddr,
    kind: RefusalKind,
    reason: String,
}

impl RefusedConnection {
    /// The client's address: for a relayed player, its own, as the relay saw it.
    #[must_use]
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Why it was refused.
    #[must_use]
    pub fn kind(&self) -> RefusalKind {
        self.kind
    }

    /// What the client was told: the HTTP response's body (the close frame's
    /// reason is this, cut to 123 bytes).
    #[must_use]
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl<P: Protocol, G: Send + 'static> Server<P, G> {
    /// Runs for every connection refused before it became a player (by the per-IP
    /// cap, the origin check, the protocol check, the player cap, the
    /// authentication hook, …), with the peer, the kind and the reason the client
    /// was told. It runs in the refused connection's own task, never on the world
    /// task, so it may be called from several threads at once; keep it quick (count,
    /// log, feed a metric). A panic in it is caught and logged.
    ///
    /// Refusals are also logged with `tracing` at info level, at most 10 lines a
    /// second: past that, the next line that is logged says how many were not.
    ///
    /// ```no_run
    /// # use nodelink::{Protocol, SyncState};
    /// # #[derive(SyncState, Clone, Default, PartialEq)] pub struct S { x: u8 }
    /// # #[nodelink::events] pub enum E { Hello }
    /// # #[nodelink::protocol(state = S, to_server = E, to_client = E)]
    /// # pub struct Game;
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use std::sync::Arc;
    ///
    /// use nodelink::server::{Server, ServerConfig};
    /// use nodelink::wire::RefusalKind;
    ///
    /// let mismatches = Arc::new(AtomicU64::new(0));
    /// let counted = mismatches.clone();
    /// let mut server = Server::<Game>::new(ServerConfig::default());
    /// server.on_refusal(move |refusal| {
    ///     if refusal.kind() == RefusalKind::ProtocolMismatch {
    ///         counted.fetch_add(1, Ordering::Relaxed);
    ///     }
    /// });
    /// ```
    pub fn on_refusal(
        &mut self,
        hook: impl Fn(&RefusedConnection) + Send + Sync + 'static,
    ) -> &mut Self {
        self.on_refusal = Some(Arc::new(hook));
        self
    }
}

/// The user's refusal hook.
pub(crate) type RefusalHook = Arc<dyn Fn(&RefusedConnection) + Send + Sync>;

/// Where a server's connection tasks report their refusals.
pub(crate) struct Refusals {
    hook: Option<RefusalHook>,
    log: Mutex<LogBudget>,
    /// The process's counters, which count each refusal by kind.
    counters: Arc<ProcessBoard>,
}

impl Refusals {
    pub(crate) fn new(hook: Option<RefusalHook>, counters: Arc<ProcessBoard>) -> Self {
        Self {
            hook,
            log: Mutex::new(LogBudget::default()),
            counters,
        }
    }

    /// Tells the operator: a log line (within the budget) and the hook.
    pub(crate) fn report(&self, peer: SocketAddr, refusal: &Refusal) {
        let Some(kind) = refusal.kind else {
            return;
        };
        self.counters.refused(kind);
        let unlogged = LogBudget::spend_shared(&self.log);
        if let Some(unlogged) = unlogged {
            if unlogged > 0 {
                tracing::info!("{unlogged} more connections refused, not logged one by one");
            }
            tracing::info!(%peer, kind = %kind, status = refusal.status, "connection refused: {}", refusal.body);
        }
        if let Some(hook) = &self.hook {
            let refused = RefusedConnection {
                peer,
                kind,
                reason: refusal.body.clone(),
            };
            if catch_unwind(AssertUnwindSafe(|| hook(&refused))).is_err() {
                tracing::error!("the on_refusal hook panicked");
            }
        }
    }
}

impl std::fmt::Debug for Refusals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Refusals")
            .field("hook", &self.hook.is_some())
            .finish_non_exhaustive()
    }
}

/// Whether the client that sent `request` asks to be refused with a close code.
pub(crate) fn wants_close(request: &HandshakeRequest) -> bool {
    admission::offered(request).any(|offer| offer == REFUSALS_SUBPROTOCOL)
}

/// Whether `refusal` can be told with a close code (the request is a WebSocket
/// upgrade the server can complete).
pub(crate) fn has_close_code(refusal: &Refusal) -> bool {
    refusal.kind.and_then(RefusalKind::close_code).is_some()
}

/// Completes the WebSocket handshake on `stream` (whose request was read
/// already, and is replayed by it) selecting [`REFUSALS_SUBPROTOCOL`], then
/// closes with the refusal's code: the stand-alone server's way.
pub(crate) async fn upgrade_and_close<S>(stream: S, refusal: &Refusal, config: &ServerConfig)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    // The callback's error type is fixed by tungstenite.
    #[allow(clippy::result_large_err)]
    let callback = |_: &Request, mut response: Response| {
        response.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_static(REFUSALS_SUBPROTOCOL),
        );
        Ok(response)
    };
    let upgraded = tokio_tungstenite::accept_hdr_async_with_config(
        stream,
        callback,
        Some(websocket_config(config)),
    )
    .await;
    match upgraded {
        Ok(socket) => close(socket, refusal, config.close_timeout).await,
        Err(error) => tracing::debug!("refusal's upgrade failed: {error}"),
    }
}

/// Closes an upgraded connection with the refusal's code and reason, then waits
/// (at most `close_timeout`) for the client's answer, so that it reads the close
/// frame before the connection ends.
pub(crate) async fn close<S>(
    mut socket: WebSocketStream<S>,
    refusal: &Refusal,
    close_timeout: Duration,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let Some(code) = refusal.kind.and_then(RefusalKind::close_code) else {
        return;
    };
    let frame = CloseFrame {
        code: CloseCode::from(code),
        reason: close_reason_text(&refusal.body).into(),
    };
    let _ = timeout(close_timeout, async {
        socket.send(Message::Close(Some(frame))).await?;
        // Anything the client sent meanwhile is dropped unread, up to its close.
        while let Some(message) = socket.next().await {
            message?;
        }
        Ok::<_, tokio_tungstenite::tungstenite::Error>(())
    })
    .await;
}
