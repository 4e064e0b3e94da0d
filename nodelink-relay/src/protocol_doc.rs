//! PROTOCOL.md's "Relay" section is what the relay does: its JSON examples are the
//! encoders' output (or parse into the messages they describe), its quoted
//! refusals are what a running relay and the host-refusal path write, and its
//! tables of refusals and close codes are the code's.
//!
//! - `<!-- relay: NAME -->` JSON blocks: the host protocols' messages;
//! - `<!-- relay-response: NAME -->` HTTP blocks: refusals, byte for byte;
//! - the refusal table's bodies and the close-code table's rows.

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::close::CloseReason;
use crate::code::ALPHABET;
use crate::messages::{self, FromHost, HostMessage, ToHost};
use crate::{Relay, RelayConfig};

fn protocol_md() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../PROTOCOL.md");
    std::fs::read_to_string(path).expect("PROTOCOL.md at the repository root")
}

/// The relay section, from its heading to the end of the document.
fn relay_section(doc: &str) -> &str {
    let start = doc.find("\n## Relay\n").expect("a Relay section");
    &doc[start..]
}

/// The fenced block of kind `fence` right after `marker`.
fn block_after<'d>(doc: &'d str, marker: &str, fence: &str) -> Option<&'d str> {
    let open = format!("{marker}\n```{fence}\n");
    let start = doc.find(&open)? + open.len();
    let end = doc[start..].find("\n```")?;
    Some(&doc[start..start + end])
}

fn documented_json(doc: &str, name: &str) -> Value {
    let block = block_after(doc, &format!("<!-- relay: {name} -->"), "json")
        .unwrap_or_else(|| panic!("no `<!-- relay: {name} -->` block"));
    serde_json::from_str(block).unwrap_or_else(|error| panic!("{name}: not JSON: {error}"))
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).expect("JSON")
}

/// The messages the relay writes, as the document's examples tell them.
fn written() -> Vec<(&'static str, String)> {
    let player_headers = [
        ("host", "relay.example:9000"),
        ("upgrade", "websocket"),
        ("connection", "Upgrade"),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("sec-websocket-version", "13"),
        ("sec-websocket-protocol", "nodelink.3.99c9f3062e72a78a"),
        ("origin", "https://game.example"),
    ];
    let player = ToHost::Player {
        cid: "c18".into(),
        peer: "203.0.113.7:51234".into(),
        target: "/join/k7mq4p?name=ann".into(),
        headers: player_headers
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect(),
    };
    let token = "6f1c2e9a4b7d03851c2e9a4b7d038516";
    let grace = Duration::from_secs(30);
    let match_codes = vec!["Q2W3E4".to_owned(), "X9HZ2R".to_owned()];
    vec![
        ("python-registered", messages::registered("K7MQ4P")),
        (
            "python-connect",
            messages::client_connect("c17", "203.0.113.7:51234"),
        ),
        (
            "python-message",
            messages::client_message("c17", r#"{"event":"move","data":{"x":1.5,"y":-2}}"#),
        ),
        ("python-disconnect", messages::client_disconnect("c17")),
        (
            "native-registered",
            ToHost::registered("K7MQ4P", token, grace, 64, Vec::new()).to_json(),
        ),
        (
            "native-reclaimed",
            ToHost::registered("K7MQ4P", token, grace, 64, match_codes.clone()).to_json(),
        ),
        (
            "native-codes",
            ToHost::Codes {
                codes: match_codes,
                reason: None,
            }
            .to_json(),
        ),
        (
            "native-codes-short",
            ToHost::Codes {
                codes: Vec::new(),
                reason: Some("this host holds its most match codes (64)".into()),
            }
            .to_json(),
        ),
        ("native-player", player.to_json()),
        ("native-gone", ToHost::Gone { cid: "c18".into() }.to_json()),
    ]
}

#[test]
fn the_relays_messages_are_the_documented_ones() {
    let doc = protocol_md();
    let section = relay_section(&doc);
    for (name, text) in written() {
        assert_eq!(
            documented_json(section, name),
            json(&text),
            "{name}: PROTOCOL.md differs from what the relay writes:\n{text}"
        );
    }
}

#[test]
fn the_documented_host_messages_parse_as_described() {
    let doc = protocol_md();
    let section = relay_section(&doc);
    let text = |name| documented_json(section, name).to_string();

    let send = text("python-send");
    let Ok(HostMessage::Send { cid, payload }) = messages::parse_host_message(&send) else {
        panic!("python-send does not parse");
    };
    assert_eq!(cid, "c17");
    assert_eq!(json(payload.get())["event"], "welcome");

    let broadcast = text("python-broadcast");
    let Ok(HostMessage::Broadcast { payload, exclude }) = messages::parse_host_message(&broadcast)
    else {
        panic!("python-broadcast does not parse");
    };
    assert_eq!(exclude, ["c18"]);
    assert_eq!(json(payload.get())["data"]["msg"], "hi");

    let kick = text("python-kick");
    assert!(matches!(
        messages::parse_host_message(&kick),
        Ok(HostMessage::Kick { cid }) if cid == "c17"
    ));

    assert_eq!(
        FromHost::parse(&text("native-claim")),
        Ok(FromHost::Claim { count: 2 })
    );
    assert_eq!(
        FromHost::parse(&text("native-release")),
        Ok(FromHost::Release {
            code: "Q2W3E4".into()
        })
    );

    let refuse = FromHost::parse(&text("native-refuse")).expect("native-refuse parses");
    let FromHost::Refuse {
        cid,
        status,
        reason,
        headers,
    } = refuse
    else {
        panic!("native-refuse is a refusal: {refuse:?}");
    };
    assert_eq!((cid.as_str(), status), ("c18", 400));
    // And the player gets the documented response.
    let refusal = crate::native::refusal_from(status, reason, headers).expect("valid");
    assert_eq!(
        String::from_utf8(refusal.to_bytes()).unwrap(),
        documented_response(section, "host-refusal")
    );
}

#[test]
fn every_relay_example_is_checked() {
    let doc = protocol_md();
    let known: Vec<&str> = written()
        .iter()
        .map(|(name, _)| *name)
        .chain([
            "python-send",
            "python-broadcast",
            "python-kick",
            "native-refuse",
            "native-claim",
            "native-release",
        ])
        .collect();
    for marker in doc.split("<!-- relay: ").skip(1) {
        let name = &marker[..marker.find(" -->").expect("a marker's end")];
        assert!(
            known.contains(&name),
            "`<!-- relay: {name} -->` is checked by nothing"
        );
    }
}

/// A documented response, with the CR LF line ends of the wire.
fn documented_response(section: &str, name: &str) -> String {
    let block = block_after(section, &format!("<!-- relay-response: {name} -->"), "http")
        .unwrap_or_else(|| panic!("no `<!-- relay-response: {name} -->` block"));
    let (head, body) = block.split_once("\n\n").expect("a head and a body");
    format!("{}\r\n\r\n{body}", head.replace('\n', "\r\n"))
}

async fn answer_to(addr: std::net::SocketAddr, path: &str) -> String {
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: relay\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr)
            .await
            .expect("connects");
        stream.write_all(request.as_bytes()).await.expect("writes");
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer).await;
        String::from_utf8(answer).expect("text")
    };
    tokio::time::timeout(Duration::from_secs(15), exchange)
        .await
        .expect("an answer within 15 s")
}

#[tokio::test]
async fn the_quoted_refusals_are_what_a_running_relay_sends() {
    let doc = protocol_md();
    let section = relay_section(&doc);
    let config = RelayConfig::default()
        .host("127.0.0.1")
        .port(0)
        .failed_joins(crate::JoinRate::new(0.001, 1));
    let relay = Relay::new(config).bind().await.expect("binds");
    let addr = relay.local_addr();
    let handle = relay.handle();
    let running = tokio::spawn(relay.run());
    assert_eq!(
        answer_to(addr, "/join/K7MQ4P").await,
        documented_response(section, "unknown-code")
    );
    assert_eq!(
        answer_to(addr, "/join/K7MQ4P").await,
        documented_response(section, "failed-joins")
    );
    handle.shutdown();
    running.await.expect("the relay's task");
}

/// The rows of the markdown table that follows `heading`: their cells.
fn table_after<'d>(section: &'d str, heading: &str) -> Vec<Vec<&'d str>> {
    let start = section.find(heading).expect("the table's heading");
    section[start..]
        .lines()
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'))
        .skip(2)
        .map(|line| line.trim_matches('|').split('|').map(str::trim).collect())
        .collect()
}

#[test]
fn the_refusal_table_holds_the_relays_refusals() {
    let doc = protocol_md();
    let section = relay_section(&doc);
    let sources = [
        include_str!("relay.rs"),
        include_str!("directory.rs"),
        include_str!("native/game.rs"),
        include_str!("native/control.rs"),
        include_str!("native/join.rs"),
        include_str!("native/splice.rs"),
        include_str!("http.rs"),
    ]
    .concat();
    let rows = table_after(section, "Every refusal the relay itself sends");
    assert!(rows.len() >= 18, "{} rows", rows.len());
    for row in rows {
        let (status, body) = (row[0], row[1].trim_matches('`'));
        assert!(
            sources.contains(&format!("\"{body}\"")),
            "{status} `{body}`: no such refusal in the relay's code"
        );
    }
}

#[test]
fn the_close_code_table_is_the_relays() {
    let doc = protocol_md();
    let section = relay_section(&doc);
    let rows = table_after(section, "### Relay close codes");
    assert_eq!(rows.len(), 11);
    for row in rows {
        let code: u16 = row[0].parse().expect("a code");
        let reason = CloseReason::from_code(code).expect("one of the relay's codes");
        assert_eq!(row[1].trim_matches('`'), reason.description(), "{code}");
    }
}

/// PROTOCOL.md's table of a gateway's own refusals is the gateway's: each body is
/// in its code (a `<name>` in the document is what the code formats in there: the
/// text between them is found in order in one line of the code), with the status
/// and close code of its kind.
#[test]
fn the_gateway_refusal_table_is_the_gateways() {
    let doc = protocol_md();
    let start = doc
        .find("\n### Through a gateway\n")
        .expect("a gateway section");
    let rows = table_after(&doc[start..], "The gateway's own refusals");
    assert_eq!(rows.len(), 9);
    // The gateway words a mismatch as a process does, with nodelink's own reasons.
    let source = [
        include_str!("gateway/mod.rs").to_owned(),
        nodelink::wire::handshake::mismatch_reason(1, 2),
        nodelink::wire::handshake::wire_version_reason(1),
    ]
    .join("\n");
    for row in rows {
        let (status, code, body) = (row[0], row[1], row[2].trim_matches('`').trim());
        let fragments: Vec<&str> = body
            .split('<')
            .map(|part| part.split_once('>').map_or(part, |(_, rest)| rest))
            .filter(|fragment| !fragment.is_empty())
            .collect();
        let in_order = |line: &str| {
            let mut rest = line;
            fragments.iter().all(|fragment| match rest.find(fragment) {
                Some(at) => {
                    rest = &rest[at + fragment.len()..];
                    true
                }
                None => false,
            })
        };
        assert!(
            source.lines().any(in_order),
            "{status} `{body}`: no such refusal in the gateway's code"
        );
        let status: u16 = status.parse().expect("a status");
        match code {
            "—" => assert!(status == 503 || status == 504, "{body}"),
            code => {
                let code: u16 = code.parse().expect("a close code");
                let kind = nodelink::wire::RefusalKind::from_close_code(code).expect("a refusal");
                assert_eq!(kind.status(), status, "{body}");
            }
        }
    }
}

#[test]
fn the_documented_alphabet_is_the_codes() {
    let doc = protocol_md();
    let alphabet = std::str::from_utf8(ALPHABET).unwrap();
    assert!(relay_section(&doc).contains(&format!("`{alphabet}`")));
}

/// The documented answer to a claim at the host's limit is the relay's, and so
/// is every documented reason for a short answer.
#[tokio::test]
async fn the_documented_short_answer_is_the_relays() {
    let doc = protocol_md();
    let section = relay_section(&doc);
    let shared = crate::directory::Shared::new(RelayConfig::default());
    let (control, _drain) = crate::outbox::outbox(16, 1024);
    let game = shared.add_native(control).expect("a game");
    assert_eq!(shared.claim(&game, 64).codes.len(), 64);
    let claimed = shared.claim(&game, 1);
    let answer = ToHost::Codes {
        codes: claimed.codes.iter().map(ToString::to_string).collect(),
        reason: claimed.short,
    };
    assert_eq!(
        documented_json(section, "native-codes-short"),
        json(&answer.to_json())
    );
    let reasons = section
        .split("(`reason` is ")
        .nth(1)
        .and_then(|rest| rest.split(".)").next())
        .expect("the list of reasons");
    let source = include_str!("directory.rs");
    for reason in reasons.split('`').skip(1).step_by(2) {
        // A reason may be wrapped across the document's lines.
        let reason = reason.split_whitespace().collect::<Vec<_>>().join(" ");
        let written = reason.replace("(N)", "({max_codes})");
        assert!(
            source.contains(&format!("\"{written}\"")),
            "`{reason}`: no such reason in the relay's code"
        );
    }
}
