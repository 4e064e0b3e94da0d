//! Matchmaking on the wire: how a request names the match it wants (query
//! parameters, options in base64url MessagePack), and the listing frame a server
//! answers `list` with. PROTOCOL.md's "Matchmaking" is the contract.

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{DecodeError, EncodeError, FieldOwner};
use crate::wire::fields::{FieldSink, FieldSource};
use crate::wire::msgpack::{Decoder, Encoder};

/// The frame kind of a listing.
pub(crate) const KIND_LISTING: u64 = 5;

/// What a client asks for in its connection's request: the query parameters a
/// client adds to the server's URL. Build one with its constructors and
/// [`apply`](Self::apply) it to a URL.
///
/// ```
/// use nodelink::wire::MatchRequest;
///
/// let url = MatchRequest::join("k7mq4p").apply("ws://game.example:5000/");
/// assert_eq!(url, "ws://game.example:5000/?match=join&code=K7MQ4P");
/// let url = MatchRequest::list("arena").apply("ws://game.example:5000/play?token=t");
/// assert_eq!(url, "ws://game.example:5000/play?token=t&match=list&kind=arena");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchRequest {
    params: Vec<(&'static str, String)>,
}

impl MatchRequest {
    /// The parameter that names what the client asks for: `create`, `join`, `find`
    /// or `list`.
    pub const VERB: &'static str = "match";
    /// The parameter naming the kind of match.
    pub const KIND: &'static str = "kind";
    /// The parameter naming a match's code.
    pub const CODE: &'static str = "code";
    /// The parameter holding the options, MessagePack in base64url without padding.
    pub const OPTIONS: &'static str = "options";
    /// The parameter that makes a created match private (`1`).
    pub const PRIVATE: &'static str = "private";

    /// A new match of `kind` made from `options`; `private`: not listed, joined
    /// only by its code.
    ///
    /// # Errors
    /// When the options cannot be encoded.
    pub fn create<O: Serialize>(
        kind: &str,
        options: &O,
        private: bool,
    ) -> Result<Self, EncodeError> {
        let mut params = vec![
            (Self::VERB, "create".to_owned()),
            (Self::KIND, kind.to_owned()),
        ];
        push_options(&mut params, options)?;
        if private {
            params.push((Self::PRIVATE, "1".to_owned()));
        }
        Ok(Self { params })
    }

    /// The match with this code (read case-insensitively).
    #[must_use]
    pub fn join(code: &str) -> Self {
        Self {
            params: vec![
                (Self::VERB, "join".to_owned()),
                (Self::CODE, code.trim().to_ascii_uppercase()),
            ],
        }
    }

    /// A public match of `kind` that suits `options` (by the kind's filter), or a
    /// new one made from them.
    ///
    /// # Errors
    /// When the options cannot be encoded.
    pub fn find<O: Serialize>(kind: &str, options: &O) -> Result<Self, EncodeError> {
        let mut params = vec![
            (Self::VERB, "find".to_owned()),
            (Self::KIND, kind.to_owned()),
        ];
        push_options(&mut params, options)?;
        Ok(Self { params })
    }

    /// The public matches of `kind`, answered with one listing frame.
    #[must_use]
    pub fn list(kind: &str) -> Self {
        Self {
            params: vec![
                (Self::VERB, "list".to_owned()),
                (Self::KIND, kind.to_owned()),
            ],
        }
    }

    /// Whether `url`'s query asks for a match (has a `match` parameter); one that
    /// does not asks for the server's default match.
    pub(crate) fn names_a_match(url: &str) -> bool {
        let base = url.split_once('#').map_or(url, |(base, _)| base);
        base.split_once('?').is_some_and(|(_, query)| {
            query
                .split('&')
                .any(|pair| pair.split_once('=').map_or(pair, |(key, _)| key) == Self::VERB)
        })
    }

    /// `url` with this request's parameters added to its query (and any earlier
    /// matchmaking parameters of its query removed).
    #[must_use]
    pub fn apply(&self, url: &str) -> String {
        let (base, fragment) = match url.split_once('#') {
            Some((base, fragment)) => (base, Some(fragment)),
            None => (url, None),
        };
        let (path, query) = match base.split_once('?') {
            Some((path, query)) => (path, query),
            None => (base, ""),
        };
        let ours = [
            Self::VERB,
            Self::KIND,
            Self::CODE,
            Self::OPTIONS,
            Self::PRIVATE,
        ];
        let mut pairs: Vec<String> = query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .filter(|pair| {
                let key = pair.split_once('=').map_or(*pair, |(key, _)| key);
                !ours.contains(&key)
            })
            .map(str::to_owned)
            .collect();
        pairs.extend(
            self.params
                .iter()
                .map(|(key, value)| format!("{key}={}", percent_encode(value))),
        );
        let mut out = format!("{path}?{}", pairs.join("&"));
        if let Some(fragment) = fragment {
            out.push('#');
            out.push_str(fragment);
        }
        out
    }
}

fn push_options<O: Serialize>(
    params: &mut Vec<(&'static str, String)>,
    options: &O,
) -> Result<(), EncodeError> {
    let bytes = encode_value(options)?;
    params.push((MatchRequest::OPTIONS, encode_base64url(&bytes)));
    Ok(())
}

/// Encodes a value as the native wire encodes an event's field.
///
/// # Errors
/// When the value's `Serialize` impl fails.
pub(crate) fn encode_value<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, EncodeError> {
    let mut out = Encoder::with_capacity(32);
    out.field("value", value)?;
    Ok(out.into_vec())
}

/// Decodes a value encoded by [`encode_value`], all of `bytes`.
///
/// # Errors
/// When the bytes are not one value of type `T`.
pub(crate) fn decode_value<T: DeserializeOwned>(
    bytes: &[u8],
    what: &'static str,
) -> Result<T, DecodeError> {
    let mut input = Decoder::new(bytes);
    input.expect_fields(1);
    let value = input.field(FieldOwner::Match(what), "value")?;
    input.finish()?;
    Ok(value)
}

/// One match in a listing: its code, its players and places, whether it is
/// locked, and its metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MatchListing<M> {
    /// The match's code, to join it by.
    pub code: String,
    /// Players in it now (paused ones included).
    pub players: u32,
    /// The most players it holds.
    pub max_players: u32,
    /// Whether it takes no new players.
    pub locked: bool,
    /// What the match shows.
    pub metadata: M,
}

impl<M> MatchListing<M> {
    /// A listing entry, for [`encode_listing`].
    pub fn new(
        code: impl Into<String>,
        players: u32,
        max_players: u32,
        locked: bool,
        metadata: M,
    ) -> Self {
        Self {
            code: code.into(),
            players,
            max_players,
            locked,
            metadata,
        }
    }
}

/// Encodes a listing frame, `[5, [[code, players, max, locked, metadata]…]]`:
/// what a server answers a `list` request with, for a server or relay of its own.
///
/// ```
/// use nodelink::wire::{decode_listing, encode_listing, MatchListing};
///
/// let open = MatchListing::new("K7MQ4P", 1, 4, false, "ranked".to_owned());
/// let frame = encode_listing(&[open]).unwrap();
/// let listings: Vec<MatchListing<String>> = decode_listing(&frame).unwrap();
/// assert_eq!(listings[0].code, "K7MQ4P");
/// assert_eq!(listings[0].metadata, "ranked");
/// ```
///
/// # Errors
/// When a metadata's `Serialize` impl fails.
pub fn encode_listing<M: Serialize>(listings: &[MatchListing<M>]) -> Result<Bytes, EncodeError> {
    let metadata = listings
        .iter()
        .map(|listing| encode_value(&listing.metadata))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(encode_listing_raw(listings.iter().zip(&metadata).map(
        |(listing, metadata)| RawListing {
            code: &listing.code,
            players: listing.players,
            max_players: listing.max_players,
            locked: listing.locked,
            metadata,
        },
    )))
}

/// Encodes a listing frame whose entries' metadata is already encoded (one value
/// of the native wire each), as a service's directory keeps them: what a gateway
/// answers a `list` request with.
///
/// ```
/// use nodelink::wire::{decode_listing, encode_listing_raw, RawListing};
///
/// let metadata = [0xa6, b'r', b'a', b'n', b'k', b'e', b'd']; // the string "ranked"
/// let entry = RawListing { code: "K7MQ4P", players: 1, max_players: 4, locked: false, metadata: &metadata };
/// let frame = encode_listing_raw([entry].into_iter());
/// let listings = decode_listing::<String>(&frame).unwrap();
/// assert_eq!(listings[0].metadata, "ranked");
/// ```
pub fn encode_listing_raw<'a>(entries: impl ExactSizeIterator<Item = RawListing<'a>>) -> Bytes {
    let mut out = Encoder::with_capacity(64);
    out.array_len(2);
    out.uint(KIND_LISTING);
    out.array_len(entries.len());
    for entry in entries {
        out.array_len(5);
        out.str(entry.code);
        out.uint(entry.players.into());
        out.uint(entry.max_players.into());
        out.bool(entry.locked);
        out.raw(entry.metadata);
    }
    Bytes::from(out.into_vec())
}

/// A match as [`encode_listing_raw`] writes it.
#[derive(Debug, Clone, Copy)]
pub struct RawListing<'a> {
    /// The match's code.
    pub code: &'a str,
    /// Players in it now.
    pub players: u32,
    /// The most players it holds.
    pub max_players: u32,
    /// Whether it takes no new players.
    pub locked: bool,
    /// Its metadata, one value of the native wire.
    pub metadata: &'a [u8],
}

/// Decodes a listing frame.
///
/// # Errors
/// When the frame is not a listing, or an entry's metadata is not an `M`.
pub fn decode_listing<M: DeserializeOwned>(
    bytes: &[u8],
) -> Result<Vec<MatchListing<M>>, DecodeError> {
    let mut input = Decoder::new(bytes);
    let len = input.array_len("listing frame")?;
    if len != 2 {
        return Err(DecodeError::Malformed(format!(
            "a listing frame has 2 elements, not {len}"
        )));
    }
    let kind = input.uint("frame kind")?;
    if kind != KIND_LISTING {
        return Err(DecodeError::Malformed(format!(
            "expected a listing frame (kind {KIND_LISTING}), got kind {kind}"
        )));
    }
    let count = input.array_len("listing")?;
    input.check_claim("listing", count)?;
    let mut listings = Vec::with_capacity(count);
    for _ in 0..count {
        let fields = input.array_len("listing entry")?;
        if fields < 5 {
            return Err(DecodeError::Malformed(format!(
                "a listing entry has at least 5 elements, not {fields}"
            )));
        }
        let code = input.str("code")?.to_owned();
        let players = narrow(input.uint("players")?, "players")?;
        let max_players = narrow(input.uint("max_players")?, "max_players")?;
        let locked = input.bool("locked")?;
        input.expect_fields(1);
        let metadata = input.field(FieldOwner::Match("metadata"), "metadata")?;
        // Elements added by later versions are skipped.
        for _ in 5..fields {
            input.skip_value("listing entry")?;
        }
        listings.push(MatchListing {
            code,
            players,
            max_players,
            locked,
            metadata,
        });
    }
    input.finish()?;
    Ok(listings)
}

fn narrow(value: u64, what: &str) -> Result<u32, DecodeError> {
    u32::try_from(value).map_err(|_| DecodeError::Malformed(format!("{what} {value} exceeds u32")))
}

const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64url without padding (RFC 4648, section 5).
pub(crate) fn encode_base64url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let digits = chunk.len() + 1;
        for i in 0..digits {
            let index = (n >> (18 - 6 * i)) & 0x3f;
            out.push(char::from(BASE64URL[index as usize]));
        }
    }
    out
}

/// Reads base64url with or without padding; `None` for anything else.
pub(crate) fn decode_base64url(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    if text.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut buffer = 0u32;
    let mut bits = 0;
    for byte in text.bytes() {
        let value = BASE64URL.iter().position(|&digit| digit == byte)?;
        buffer = (buffer << 6) | value as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    // Bits left over must be zero in a canonical encoding.
    (buffer == 0).then_some(out)
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_round_trips_every_length() {
        for len in 0..20 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let text = encode_base64url(&bytes);
            assert!(!text.contains('='));
            assert_eq!(decode_base64url(&text), Some(bytes), "{text}");
        }
        assert_eq!(encode_base64url(b"\xfb\xff"), "-_8");
        assert_eq!(decode_base64url("not base64!"), None);
        assert_eq!(decode_base64url("A"), None);
        assert_eq!(decode_base64url("AB"), None, "non-zero leftover bits");
    }

    #[test]
    fn a_request_replaces_earlier_matchmaking_parameters() {
        let first = MatchRequest::find("arena", &3u8)
            .expect("encodes")
            .apply("ws://h/?t=1");
        let second = MatchRequest::join("ab12cd").apply(&first);
        assert_eq!(second, "ws://h/?t=1&match=join&code=AB12CD");
    }

    #[test]
    fn listings_round_trip() {
        let metadata = encode_value(&("ranked", 3u8)).expect("encodes");
        let frame = encode_listing_raw(
            [RawListing {
                code: "K7MQ4P",
                players: 2,
                max_players: 4,
                locked: false,
                metadata: &metadata,
            }]
            .into_iter(),
        );
        let listings: Vec<MatchListing<(String, u8)>> = decode_listing(&frame).expect("decodes");
        assert_eq!(listings.len(), 1);
        assert_eq!(listings[0].code, "K7MQ4P");
        assert_eq!(listings[0].max_players, 4);
        assert_eq!(listings[0].metadata, ("ranked".to_owned(), 3));
    }
}
