//! A gateway's splice: the player's WebSocket and the gateway's own to the game
//! process, each forwarding what it reads to the other's queue (native frames
//! pass untouched, binary as binary).
//!
//! How each end's close reaches the other is what lets sessions survive: a close
//! frame is passed on as it came; a player's connection lost (or silent past the
//! idle timeout) leaves the process's connection without a close frame, so the
//! process sees it lost too and holds the player for its client to resume
//! (through any gateway); the process's connection lost closes the player with
//! 4105 "game process lost", which is not resumable. When the gateway itself
//! stops, both connections are dropped without close frames, as a killed
//! gateway's would be: each client resumes through another gateway.

use futures::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::close::CloseReason;
use crate::connection::{run, End, Read, Reader, Socket};
use crate::directory::Shared;
use crate::outbox::{outbox, Drain, Outbox, Outgoing, PushError};

/// Which end of a gateway's splice a connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Player,
    Process,
}

/// Splices `player` with `process` until both have ended.
pub(super) async fn splice<S: AsyncRead + AsyncWrite + Unpin>(
    player: Socket<S>,
    process: Socket<TcpStream>,
    shared: &Shared,
) {
    let config = &shared.config;
    let (to_player, player_drain) = outbox(config.send_queue_len, config.send_queue_bytes);
    let (to_process, process_drain) = outbox(config.send_queue_len, config.send_queue_bytes);
    tokio::join!(
        leg(
            player,
            player_drain,
            to_player.clone(),
            to_process.clone(),
            Side::Player,
            shared
        ),
        leg(
            process,
            process_drain,
            to_process,
            to_player,
            Side::Process,
            shared
        ),
    );
}

/// One end of the splice: forwards every message from its socket to the other
/// end's queue, drains its own queue into its socket, and tells the other end how
/// it ended.
async fn leg<S: AsyncRead + AsyncWrite + Unpin>(
    socket: Socket<S>,
    drain: Drain,
    own: Outbox,
    other: Outbox,
    side: Side,
    shared: &Shared,
) {
    let config = &shared.config;
    let (sink, stream) = socket.split();
    let mut reader = Reader::new(stream, own.clone(), config, shared.stopping());
    let traffic = match side {
        Side::Player => &shared.counters.to_game,
        Side::Process => &shared.counters.to_players,
    };
    let forwarding = async {
        loop {
            let item = match reader.next().await {
                Read::Text(text) => {
                    traffic.relayed(text.len());
                    Outgoing::Text(text)
                }
                Read::Binary(bytes) => {
                    traffic.relayed(bytes.len());
                    Outgoing::Binary(bytes)
                }
                Read::Closed(frame) => return End::PeerClosed(frame),
                Read::Lost => return End::Lost,
                Read::TooBig => return End::Fault(CloseReason::InvalidFrames),
                Read::Idle => {
                    return match side {
                        // Closed as a server closes a silent player: its client
                        // may resume.
                        Side::Player => End::Fault(CloseReason::IdleTimeout),
                        // A silent process is as good as lost.
                        Side::Process => End::Lost,
                    };
                }
                Read::Shutdown => return End::Abandoned,
            };
            // Waiting here stops this side's reads: TCP slows its sender down.
            match other.push_within(item, config.slow_consumer_timeout).await {
                Ok(()) => {}
                Err(PushError::Full) => {
                    return match side {
                        // The process does not read the player's messages: the
                        // player resumes (with the process, which sees its
                        // connection lost).
                        Side::Player => End::Fault(CloseReason::HostConnectionLost),
                        // The player does not read: it is closed as a server
                        // closes a slow consumer, and the process is told so.
                        Side::Process => {
                            other.hard_close(CloseReason::SlowConsumer);
                            End::Fault(CloseReason::SlowConsumer)
                        }
                    };
                }
                Err(PushError::Closed) => return End::OtherEnded,
            }
        }
    };
    let end = run(sink, drain, &own, forwarding, config.close_timeout).await;
    match (side, end) {
        (_, End::Closed | End::OtherEnded) => {}
        (_, End::PeerClosed(frame)) => other.close_with(frame),
        (_, End::Abandoned) => other.abandon(),
        (Side::Player, End::Lost) => other.abandon(),
        (Side::Player, End::Fault(CloseReason::InvalidFrames)) => {
            other.close(CloseReason::InvalidFrames);
        }
        (Side::Player, End::Fault(_)) => other.abandon(),
        (Side::Process, End::Lost) => other.close(CloseReason::ProcessLost),
        (Side::Process, End::Fault(CloseReason::SlowConsumer)) => {}
        (Side::Process, End::Fault(_)) => other.close(CloseReason::HostConnectionLost),
    }
}
