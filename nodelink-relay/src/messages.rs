//! The JSON messages between the relay and its hosts, pure: Python nodelink's host
//! protocol (`{"event", "data"}` on `/host`) and the native control link (`{"type",
//! …}` on `/link`). PROTOCOL.md's "Relay" section documents both; its examples
//! are checked against these functions.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// A JSON string literal.
fn quoted(text: &str) -> serde_json::Value {
    serde_json::Value::from(text)
}

/// The relay's first message to a Python host.
pub(crate) fn registered(code: &str) -> String {
    let code = quoted(code);
    format!(r#"{{"event":"registered","data":{{"code":{code}}}}}"#)
}

/// A player connected to a Python host's game.
pub(crate) fn client_connect(cid: &str, address: &str) -> String {
    let (cid, address) = (quoted(cid), quoted(address));
    format!(r#"{{"event":"__client_connect__","data":{{"cid":{cid},"address":{address}}}}}"#)
}

/// A player's message, `payload` being the player's text frame exactly as it came
/// (a JSON object, checked by [`is_json_object`]): spliced in, never re-encoded.
pub(crate) fn client_message(cid: &str, payload: &str) -> String {
    let cid = quoted(cid);
    format!(r#"{{"event":"__client_message__","data":{{"cid":{cid},"payload":{payload}}}}}"#)
}

/// A player of a Python host's game left.
pub(crate) fn client_disconnect(cid: &str) -> String {
    let cid = quoted(cid);
    format!(r#"{{"event":"__client_disconnect__","data":{{"cid":{cid}}}}}"#)
}

/// Whether `text` is one JSON object (and nothing else but whitespace), what a
/// Python host takes as a player's message. Checked without building it.
pub(crate) fn is_json_object(text: &str) -> bool {
    text.trim_start().starts_with('{') && serde_json::from_str::<&RawValue>(text).is_ok()
}

/// What a Python host asks of the relay.
#[derive(Debug)]
pub(crate) enum HostMessage<'a> {
    /// `__send__`: one player gets `payload` as a text frame.
    Send { cid: String, payload: &'a RawValue },
    /// `__broadcast__`: every player but the excluded ones gets `payload`.
    Broadcast {
        payload: &'a RawValue,
        exclude: Vec<String>,
    },
    /// `__kick__`: the player is closed.
    Kick { cid: String },
}

#[derive(Deserialize)]
struct Envelope<'a> {
    event: String,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct SendData<'a> {
    cid: String,
    #[serde(borrow)]
    payload: &'a RawValue,
}

#[derive(Deserialize)]
struct BroadcastData<'a> {
    #[serde(borrow)]
    payload: &'a RawValue,
    #[serde(default)]
    exclude: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct KickData {
    cid: String,
}

/// Parses a Python host's message; the error says what is wrong with it.
pub(crate) fn parse_host_message(text: &str) -> Result<HostMessage<'_>, String> {
    let envelope: Envelope<'_> =
        serde_json::from_str(text).map_err(|error| format!("not a host message: {error}"))?;
    let data = envelope.data.map_or("null", RawValue::get);
    let invalid = |error: serde_json::Error| format!("`{}`: {error}", envelope.event);
    match envelope.event.as_str() {
        "__send__" => {
            let SendData { cid, payload } = serde_json::from_str(data).map_err(invalid)?;
            Ok(HostMessage::Send { cid, payload })
        }
        "__broadcast__" => {
            let BroadcastData { payload, exclude } = serde_json::from_str(data).map_err(invalid)?;
            let exclude = exclude.unwrap_or_default();
            Ok(HostMessage::Broadcast { payload, exclude })
        }
        "__kick__" => {
            let KickData { cid } = serde_json::from_str(data).map_err(invalid)?;
            Ok(HostMessage::Kick { cid })
        }
        other => Err(format!("unknown host event `{other}`")),
    }
}

/// A control message from the relay to a native host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum ToHost {
    /// The link's first message: the game's code, the token that reclaims it and
    /// opens data connections, the grace period in seconds, the most match codes
    /// the host may claim, and (on a reclaim) the match codes it holds.
    Registered {
        code: String,
        token: String,
        grace_seconds: serde_json::Number,
        max_codes: usize,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        codes: Vec<String>,
    },
    /// The answer to a `claim`: the codes granted, and why they are fewer than
    /// asked, when they are.
    Codes {
        codes: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// A player asks to join; its upgrade is held until the host answers.
    Player {
        cid: String,
        peer: String,
        target: String,
        headers: Vec<(String, String)>,
    },
    /// A held player left or timed out before the host accepted it.
    Gone { cid: String },
}

impl ToHost {
    /// `registered`, for a game whose host may claim `max_codes` match codes and
    /// holds `codes` (none, unless it reclaims its game).
    pub(crate) fn registered(
        code: &str,
        token: &str,
        grace: Duration,
        max_codes: usize,
        codes: Vec<String>,
    ) -> Self {
        let grace_seconds = if grace.subsec_nanos() == 0 {
            serde_json::Number::from(grace.as_secs())
        } else {
            serde_json::Number::from_f64(grace.as_secs_f64()).unwrap_or_else(|| 0.into())
        };
        Self::Registered {
            code: code.to_owned(),
            token: token.to_owned(),
            grace_seconds,
            max_codes,
            codes,
        }
    }

    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A control message from a native host to the relay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum FromHost {
    /// Answer a held player's upgrade with this HTTP refusal.
    Refuse {
        cid: String,
        status: u16,
        reason: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        headers: Vec<(String, String)>,
    },
    /// Grant up to `count` more codes for the host's matches.
    Claim { count: usize },
    /// A match ended: its code is released.
    Release { code: String },
}

impl FromHost {
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|error| format!("not a control message: {error}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_host_messages_are_what_relay_transport_reads() {
        assert_eq!(
            registered("K7MQ4P"),
            r#"{"event":"registered","data":{"code":"K7MQ4P"}}"#
        );
        let message: serde_json::Value =
            serde_json::from_str(&client_message("c1", r#"{"event":"move","data":{"x":1}}"#))
                .unwrap();
        assert_eq!(message["event"], "__client_message__");
        assert_eq!(message["data"]["cid"], "c1");
        assert_eq!(message["data"]["payload"]["data"]["x"], 1);
    }

    #[test]
    fn payloads_pass_through_unchanged() {
        // Key order, spacing and number forms are the host's.
        let text = r#"{"event":"__send__","data":{"cid":"c1","payload":{"z": 1e3, "a":[1,2]}}}"#;
        match parse_host_message(text) {
            Ok(HostMessage::Send { cid, payload }) => {
                assert_eq!(cid, "c1");
                assert_eq!(payload.get(), r#"{"z": 1e3, "a":[1,2]}"#);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn broadcasts_may_omit_their_exclusions() {
        let text = r#"{"event":"__broadcast__","data":{"payload":{"event":"x","data":null}}}"#;
        match parse_host_message(text) {
            Ok(HostMessage::Broadcast { exclude, .. }) => assert!(exclude.is_empty()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_host_messages_say_what_is_wrong() {
        for (text, expected) in [
            ("nope", "not a host message"),
            (
                r#"{"event":"__launch__","data":{}}"#,
                "unknown host event `__launch__`",
            ),
            (
                r#"{"event":"__send__","data":{"payload":{}}}"#,
                "`__send__`: missing field `cid`",
            ),
            (r#"{"event":"__kick__"}"#, "`__kick__`: invalid type: null"),
        ] {
            let error = parse_host_message(text).unwrap_err();
            assert!(error.starts_with(expected), "{text}: {error}");
        }
    }

    #[test]
    fn only_objects_are_player_messages() {
        assert!(is_json_object(r#" {"event":"move","data":{"x":1}} "#));
        assert!(!is_json_object(r#"[1,2]"#));
        assert!(!is_json_object(r#"{"event":"move""#));
        assert!(!is_json_object(r#"{"a":1} {"b":2}"#));
        assert!(!is_json_object("null"));
    }

    #[test]
    fn grace_periods_are_whole_seconds_when_they_can_be() {
        let registered = |grace| ToHost::registered("K7MQ4P", "t", grace, 64, Vec::new());
        let whole = registered(Duration::from_secs(30)).to_json();
        assert!(whole.contains(r#""grace_seconds":30,"#), "{whole}");
        let part = registered(Duration::from_millis(250)).to_json();
        assert!(part.contains(r#""grace_seconds":0.25,"#), "{part}");
    }
}
