//! What a connection asks for, read from its request's query: one request names
//! the match it wants, so joining never needs a reservation that could expire
//! between two requests. PROTOCOL.md's "Matchmaking" specifies the parameters.

use crate::server::transport::request::HandshakeRequest;
use crate::wire::matchmaking::{decode_base64url, MatchRequest};

/// The most bytes a request's options may take once decoded.
const MAX_OPTIONS_LEN: usize = 4 * 1024;

/// What a connection asks for; see [`MatchRequest`] for the wire side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Intent {
    /// No match named: the server's default match (Python nodelink's clients,
    /// and nodelink's own `Client::new`).
    Default,
    /// A new match of `kind`, made from `options` (encoded), listed or private.
    Create {
        kind: String,
        options: Vec<u8>,
        private: bool,
    },
    /// The match with this code, public or private.
    Join { code: String },
    /// A public match of `kind` whose metadata the kind's filter accepts for
    /// `options`, or a new one made from them.
    Find { kind: String, options: Vec<u8> },
    /// No match: the public matches of `kind`, then the connection closes.
    List { kind: String },
}

impl Intent {
    /// Reads the intent from the request's query (`match`, `kind`, `code`,
    /// `options`, `private`); a request without `match` asks for the default match.
    pub(crate) fn of(request: &HandshakeRequest) -> Result<Self, String> {
        let Some(verb) = request.query_param(MatchRequest::VERB) else {
            return Ok(Self::Default);
        };
        let kind = || {
            request
                .query_param(MatchRequest::KIND)
                .filter(|kind| !kind.is_empty())
                .ok_or_else(|| format!("`match={verb}` needs `kind`"))
        };
        let options = || match request.query_param(MatchRequest::OPTIONS) {
            None => Ok(Vec::new()),
            Some(text) => {
                let bytes = decode_base64url(&text)
                    .ok_or_else(|| "`options` is not base64url".to_owned())?;
                if bytes.len() > MAX_OPTIONS_LEN {
                    return Err(format!(
                        "`options` of {} bytes exceed the {MAX_OPTIONS_LEN}-byte limit",
                        bytes.len()
                    ));
                }
                Ok(bytes)
            }
        };
        match verb.as_str() {
            "create" => Ok(Self::Create {
                kind: kind()?,
                options: options()?,
                private: request
                    .query_param(MatchRequest::PRIVATE)
                    .is_some_and(|value| value != "0" && value != "false"),
            }),
            "join" => {
                let code = request
                    .query_param(MatchRequest::CODE)
                    .filter(|code| !code.is_empty())
                    .ok_or_else(|| "`match=join` needs `code`".to_owned())?;
                Ok(Self::Join {
                    code: code.trim().to_ascii_uppercase(),
                })
            }
            "find" => Ok(Self::Find {
                kind: kind()?,
                options: options()?,
            }),
            "list" => Ok(Self::List { kind: kind()? }),
            other => Err(format!(
                "unknown `match={other}`: expected create, join, find or list"
            )),
        }
    }
}
