//! What processes tell each other over the directory's channels: events for
//! players elsewhere, already encoded for the native wire, and kicks. MessagePack
//! arrays, their first element the message's kind.

use rmp::decode::{read_array_len, read_bin_len, read_int, read_str_len, RmpRead};
use rmp::encode::{write_array_len, write_bin, write_nil, write_str, write_uint};

use crate::PlayerId;

/// A message for players of another process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Control {
    /// An event to every player of the matches of the protocol `fingerprint`
    /// (of the kind `kind` only, when named).
    Broadcast {
        fingerprint: u64,
        kind: Option<String>,
        native: Vec<u8>,
    },
    /// An event to one player, in its match `code`.
    Send {
        fingerprint: u64,
        player: PlayerId,
        code: String,
        native: Vec<u8>,
    },
    /// Closes one player's connection.
    Kick { player: PlayerId, code: String },
}

impl Control {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        // Writing to a `Vec` cannot fail.
        match self {
            Self::Broadcast {
                fingerprint,
                kind,
                native,
            } => {
                let _ = write_array_len(&mut out, 4);
                let _ = write_uint(&mut out, 0);
                let _ = write_uint(&mut out, *fingerprint);
                match kind {
                    Some(kind) => {
                        let _ = write_str(&mut out, kind);
                    }
                    None => {
                        let _ = write_nil(&mut out);
                    }
                }
                let _ = write_bin(&mut out, native);
            }
            Self::Send {
                fingerprint,
                player,
                code,
                native,
            } => {
                let _ = write_array_len(&mut out, 5);
                let _ = write_uint(&mut out, 1);
                let _ = write_uint(&mut out, *fingerprint);
                let _ = write_uint(&mut out, player.raw().into());
                let _ = write_str(&mut out, code);
                let _ = write_bin(&mut out, native);
            }
            Self::Kick { player, code } => {
                let _ = write_array_len(&mut out, 3);
                let _ = write_uint(&mut out, 2);
                let _ = write_uint(&mut out, player.raw().into());
                let _ = write_str(&mut out, code);
            }
        }
        out
    }

    /// `None` for anything this version does not know (a later process's).
    pub(crate) fn decode(mut bytes: &[u8]) -> Option<Self> {
        let input = &mut bytes;
        let len = read_array_len(input).ok()?;
        let kind: u64 = read_int(input).ok()?;
        match (kind, len) {
            (0, 4) => {
                let fingerprint = read_int(input).ok()?;
                let kind = if input.first() == Some(&0xc0) {
                    *input = &input[1..];
                    None
                } else {
                    Some(string(input)?)
                };
                Some(Self::Broadcast {
                    fingerprint,
                    kind,
                    native: binary(input)?,
                })
            }
            (1, 5) => Some(Self::Send {
                fingerprint: read_int(input).ok()?,
                player: PlayerId::from_raw(read_int(input).ok()?),
                code: string(input)?,
                native: binary(input)?,
            }),
            (2, 3) => Some(Self::Kick {
                player: PlayerId::from_raw(read_int(input).ok()?),
                code: string(input)?,
            }),
            _ => None,
        }
    }
}

fn string(input: &mut &[u8]) -> Option<String> {
    let len = read_str_len(input).ok()? as usize;
    let bytes = input.get(..len)?;
    let text = std::str::from_utf8(bytes).ok()?.to_owned();
    *input = &input[len..];
    Some(text)
}

fn binary(input: &mut &[u8]) -> Option<Vec<u8>> {
    let len = read_bin_len(input).ok()? as usize;
    let mut bytes = vec![0; len];
    input.read_exact_buf(&mut bytes).ok()?;
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_comes_back_as_it_was_sent() {
        let messages = [
            Control::Broadcast {
                fingerprint: 0x99c9_f306_2e72_a78a,
                kind: None,
                native: vec![0x92, 1, 0xa1, b'x'],
            },
            Control::Broadcast {
                fingerprint: 7,
                kind: Some("arena".into()),
                native: vec![],
            },
            Control::Send {
                fingerprint: 7,
                player: PlayerId::from_raw(0x5e6f_7081),
                code: "K7MQ4P".into(),
                native: vec![1, 2, 3],
            },
            Control::Kick {
                player: PlayerId::from_raw(3),
                code: "Q2XW9H".into(),
            },
        ];
        for message in messages {
            assert_eq!(Control::decode(&message.encode()), Some(message));
        }
        assert_eq!(Control::decode(&[0x91, 9]), None);
        assert_eq!(Control::decode(b"not msgpack"), None);
    }
}
