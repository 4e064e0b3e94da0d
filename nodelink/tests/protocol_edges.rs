//! The edges of the wire contract that PROTOCOL.md answers, checked against a
//! running server over real WebSockets on 127.0.0.1: what the welcome announces on
//! both wires and what the client exposes of it, how invalid frames are counted,
//! what a pong for no ping costs, whether a close is echoed, which messages a
//! resumed session counts, that a resumed snapshot may come in parts, and the entry
//! of a player whose state is `()`.

use std::future::Future;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use nodelink::client::Client;
use nodelink::server::{RateLimit, Server, ServerConfig, ServerHandle};
use nodelink::wire::{
    decode_server_frame, encode_event, encode_pong, handshake, ResumeOffer, ServerFrame, Settings,
    Welcome,
};
use nodelink::{Protocol, SyncState, Tracked};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

/// How long any one wait may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(15);

async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    match tokio::time::timeout(DEADLINE, future).await {
        Ok(value) => value,
        Err(_) => panic!("timed out after {DEADLINE:?} waiting for {what}"),
    }
}

#[derive(SyncState, Clone, Debug, Default, PartialEq)]
struct Avatar {
    x: f32,
    name: String,
}

#[nodelink::events]
#[derive(Debug, Clone, PartialEq)]
enum ToServer {
    Move { x: f32 },
    Chat { msg: String },
}

#[nodelink::events]
#[derive(Debug, Clone, PartialEq)]
enum ToClient {
    Said { msg: String },
}

#[nodelink::protocol(state = Avatar, to_server = ToServer, to_client = ToClient)]
struct Game;

/// The same events, and no state at all.
#[nodelink::protocol(state = (), to_server = ToServer, to_client = ToClient)]
struct Lobby;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn local() -> ServerConfig {
    ServerConfig::default().host("127.0.0.1").port(0)
}

/// Runs `server` on a free port: its URL and handle.
async fn serve<P: Protocol>(server: Server<P>) -> (String, ServerHandle<P>) {
    let bound = server.bind().await.expect("binds");
    let (addr, handle) = (bound.local_addr(), bound.handle());
    tokio::spawn(bound.run());
    (format!("ws://{addr}/"), handle)
}

/// Opens a WebSocket offering `offer` (nothing: the JSON wire).
async fn open(url: &str, offer: Option<String>) -> Socket {
    let mut request = url.into_client_request().unwrap();
    if let Some(offer) = offer {
        request
            .headers_mut()
            .insert("sec-websocket-protocol", offer.parse().unwrap());
    }
    let (socket, _) = within("the upgrade", tokio_tungstenite::connect_async(request))
        .await
        .expect("upgrades");
    socket
}

/// The next binary message.
async fn binary(socket: &mut Socket, what: &str) -> Vec<u8> {
    loop {
        match within(what, socket.next()).await {
            Some(Ok(Message::Binary(bytes))) => return bytes.to_vec(),
            Some(Ok(Message::Close(frame))) => panic!("closed ({frame:?}) waiting for {what}"),
            Some(Ok(_)) => {}
            other => panic!("{other:?} waiting for {what}"),
        }
    }
}

/// Connects natively and reads the welcome.
async fn join<P: Protocol>(url: &str, resume: Option<ResumeOffer>) -> (Socket, Welcome) {
    let mut offer = handshake::subprotocol(P::FINGERPRINT);
    if let Some(resume) = resume {
        offer = format!("{offer}, {}", resume.subprotocol());
    }
    let mut socket = open(url, Some(offer)).await;
    let bytes = binary(&mut socket, "the welcome").await;
    match decode_server_frame::<P>(&bytes, usize::MAX) {
        Ok(ServerFrame::Welcome(welcome)) => (socket, welcome),
        other => panic!("expected the welcome, got {other:?}"),
    }
}

/// Reads until the server's close frame: its code and reason.
async fn closed(socket: &mut Socket) -> Option<(u16, String)> {
    within("the close", async {
        while let Some(Ok(message)) = socket.next().await {
            if let Message::Close(frame) = message {
                return frame.map(|frame| (u16::from(frame.code), frame.reason.to_string()));
            }
        }
        None
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_welcome_announces_the_settings_on_both_wires_and_the_client_exposes_them() {
    let config = local()
        .ping_interval(Duration::from_secs(7))
        .idle_timeout(Duration::from_secs(25))
        .max_frame_len(32 * 1024)
        .rate_limit(RateLimit::new(50.0, 100).disconnect_after(300))
        .max_invalid_frames(4)
        .slow_consumer_timeout(Duration::from_secs(3))
        .resume_grace(Duration::from_secs(12))
        .resume_buffer_len(64);
    let (url, _handle) = serve(Server::<Game>::new(config)).await;

    let (_socket, welcome) = join::<Game>(&url, None).await;
    let settings = &welcome.settings;
    assert_eq!(settings.ping_interval, Duration::from_secs(7));
    assert_eq!(settings.idle_timeout, Duration::from_secs(25));
    assert_eq!(settings.max_frame_len, 32 * 1024);
    let rate = settings.rate_limit.expect("a rate limit");
    assert_eq!(
        (rate.per_second, rate.burst, rate.disconnect_after),
        (50.0, 100, 300)
    );
    assert_eq!(settings.max_invalid_frames, 4);
    assert_eq!(settings.slow_consumer_timeout, Duration::from_secs(3));
    assert_eq!(settings.resume_grace, Duration::from_secs(12));
    assert_eq!(settings.resume_buffer_len, 64);
    assert_eq!(settings.match_kind.as_deref(), Some("game"));
    assert_eq!(settings.match_code.as_ref().map(String::len), Some(6));

    // The JSON wire: the same keys and values, but no session to resume.
    let mut json = open(&url, None).await;
    let Some(Ok(Message::Text(text))) = within("the JSON welcome", json.next()).await else {
        panic!("a text welcome");
    };
    let mut welcome: serde_json::Value = serde_json::from_str(text.as_str()).unwrap();
    assert_eq!(welcome["event"], "__welcome__");
    // The default match's code is the server's own, drawn at its start.
    let json_settings = welcome["data"]["settings"].as_object_mut().unwrap();
    let code = json_settings
        .remove("match_code")
        .expect("the match's code");
    assert_eq!(code.as_str(), settings.match_code.as_deref());
    assert_eq!(json_settings.remove("match_kind"), Some("game".into()));
    assert_eq!(
        welcome["data"]["settings"],
        serde_json::json!({
            "ping_interval_ms": 7000, "idle_timeout_ms": 25000, "max_frame_len": 32768,
            "rate_limit_per_second": 50.0, "rate_limit_burst": 100,
            "rate_limit_disconnect_after": 300, "max_invalid_frames": 4,
            "slow_consumer_timeout_ms": 3000, "resume_grace_ms": 0, "resume_buffer_len": 0,
        })
    );

    // The Rust client hands them to its handlers.
    let (seen, mut settings_seen) = mpsc::unbounded_channel::<Settings>();
    let mut client = Client::<Game>::from_url(url.clone());
    client.on_connect(move |ctx| {
        let _ = seen.send(ctx.settings().clone());
        ctx.disconnect();
    });
    let running = tokio::spawn(client.run());
    let announced = within("the client's welcome", settings_seen.recv()).await;
    assert_eq!(announced.as_ref(), Some(settings));
    let _ = within("the client's end", running).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_invalid_frame_budget_is_a_running_total_that_valid_frames_do_not_reset() {
    let (url, _handle) = serve(Server::<Game>::new(local().max_invalid_frames(2))).await;
    let (mut socket, _) = join::<Game>(&url, None).await;
    let valid = encode_event(&ToServer::Move { x: 1.0 }).unwrap();
    // Invalid, valid, invalid, valid, invalid: the third invalid one is past a
    // budget of 2, however many valid frames came between.
    for (i, invalid) in [true, false, true, false, true].into_iter().enumerate() {
        let message = if invalid {
            Message::Binary(vec![0x91, 0x09].into())
        } else {
            Message::Binary(valid.clone())
        };
        if socket.send(message).await.is_err() {
            panic!("the connection ended early, at message {i}");
        }
    }
    assert_eq!(
        closed(&mut socket).await,
        Some((4003, "too many invalid frames".to_owned()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pong_for_no_ping_measures_nothing_and_costs_nothing() {
    let (errors, mut reported) = mpsc::unbounded_channel::<String>();
    let (heard, mut chats) = mpsc::unbounded_channel::<String>();
    let mut server = Server::<Game>::new(local().max_invalid_frames(0));
    server.on_error(move |error, _| {
        let _ = errors.send(error.to_string());
    });
    server.on_chat(move |_, ToServerChat { msg }| {
        let _ = heard.send(msg);
    });
    let (url, _handle) = serve(server).await;
    let (mut socket, _) = join::<Game>(&url, None).await;
    // With a budget of 0, one invalid frame would close the connection.
    for seq in [999, 0, u32::MAX] {
        socket
            .send(Message::Binary(encode_pong(seq)))
            .await
            .unwrap();
    }
    let chat = encode_event(&ToServer::Chat {
        msg: "still here".into(),
    })
    .unwrap();
    socket.send(Message::Binary(chat)).await.unwrap();
    assert_eq!(
        within("the chat", chats.recv()).await.as_deref(),
        Some("still here")
    );
    // Frames are handled in order: an error about the pongs would be in already.
    assert!(reported.try_recv().is_err(), "the pongs were reported");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_echoes_the_clients_close_code_and_reason() {
    let (url, _handle) = serve(Server::<Game>::new(local())).await;
    for (code, reason) in [(1000, "bye"), (4321, "gone fishing")] {
        let (mut socket, _) = join::<Game>(&url, None).await;
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: reason.into(),
        };
        socket.send(Message::Close(Some(frame))).await.unwrap();
        assert_eq!(closed(&mut socket).await, Some((code, reason.to_owned())));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_session_counts_every_message_but_those_that_begin_like_a_pong() {
    let (heard, mut chats) = mpsc::unbounded_channel::<String>();
    let mut server = Server::<Game>::new(local());
    server.on_chat(move |_, ToServerChat { msg }| {
        let _ = heard.send(msg);
    });
    let (url, _handle) = serve(server).await;
    let (mut socket, welcome) = join::<Game>(&url, None).await;
    let token = welcome.resume_token.expect("a session");
    let chat = encode_event(&ToServer::Chat { msg: "last".into() }).unwrap();
    for message in [
        Message::Text("not a frame".into()), // counted: a text message
        Message::Binary(vec![0xc1].into()),  // counted: not MessagePack
        Message::Binary(encode_pong(5)),     // not counted: a pong
        Message::Binary(vec![0x92, 0x04, 0xa1, b'x'].into()), // not counted: begins like one
        Message::Binary(chat),               // counted: an event
    ] {
        socket.send(message).await.unwrap();
    }
    assert_eq!(
        within("the chat", chats.recv()).await.as_deref(),
        Some("last")
    );
    // The connection is lost without a close frame.
    drop(socket);
    let offer = ResumeOffer {
        token,
        received: 0,
        forgotten: 0,
    };
    let (_socket, resumed) = join::<Game>(&url, Some(offer)).await;
    assert_eq!(resumed.player, welcome.player);
    assert_eq!(
        resumed.resumed,
        Some(3),
        "the text, the bytes and the event"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_snapshot_may_come_in_several_frames() {
    let mut server = Server::<Game>::new(local());
    server.on_connect(|ctx| {
        // Two players of 3 KB each: more than a snapshot frame's 4 KiB.
        ctx.player().state_mut().set_name("n".repeat(3000));
    });
    let (url, _handle) = serve(server).await;
    let (ada, welcome) = join::<Game>(&url, None).await;
    let (mut bob, _) = join::<Game>(&url, None).await;
    // A tick's frame after bob's snapshot: the world's snapshot frames of the tick
    // he joined in (built before his name was set) are not reused after it.
    let mut frames = 0;
    while frames < 2 {
        let bytes = binary(&mut bob, "a tick's frame").await;
        if let Ok(ServerFrame::Sync(_)) = decode_server_frame::<Game>(&bytes, usize::MAX) {
            frames += 1;
        }
    }
    drop(ada);
    let offer = ResumeOffer {
        token: welcome.resume_token.expect("a session"),
        received: 0,
        forgotten: 0,
    };
    let (mut ada, resumed) = join::<Game>(&url, Some(offer)).await;
    assert_eq!(resumed.resumed, Some(0));
    let mut flags = Vec::new();
    loop {
        let bytes = binary(&mut ada, "the resumed snapshot").await;
        if let Ok(ServerFrame::Sync(frame)) = decode_server_frame::<Game>(&bytes, usize::MAX) {
            flags.push((frame.header.full, frame.header.more));
            if !frame.header.more {
                break;
            }
        }
    }
    assert_eq!(flags.first(), Some(&(true, true)), "{flags:?}");
    assert_eq!(flags.last(), Some(&(false, false)), "{flags:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_player_whose_state_is_unit_is_listed_with_mask_zero() {
    let (url, _handle) = serve(Server::<Lobby>::new(local())).await;
    let (mut socket, welcome) = join::<Lobby>(&url, None).await;
    let snapshot = binary(&mut socket, "the snapshot").await;
    // [2, tick, 1, flags 1, [], [[net, id]], [[net, 0]], [0]]
    let net = u8::try_from(welcome.net_id.0).unwrap();
    let mut id = vec![0xce];
    id.extend(welcome.player.raw().to_be_bytes());
    let tail = [
        &[0x91, 0x92, net][..],
        &id,
        &[0x91, 0x92, net, 0x00, 0x91, 0x00],
    ]
    .concat();
    assert!(snapshot.ends_with(&tail), "{snapshot:02x?}");
}

#[test]
fn setting_a_field_to_its_value_is_not_a_change() {
    let mut avatar = Tracked::new(Avatar {
        x: 1.0,
        name: "ada".into(),
    });
    avatar.state_mut().set_x(1.0).set_name("ada".into());
    assert!(avatar.dirty().is_empty(), "nothing changed");
    // -0.0 equals 0.0: not a change either, as the field's `PartialEq` says.
    let mut zero = Tracked::new(Avatar::default());
    zero.state_mut().set_x(-0.0);
    assert!(zero.dirty().is_empty());
    avatar.state_mut().set_x(2.0);
    assert_eq!(avatar.dirty(), nodelink::FieldMask::from_bits(0b01));
}
