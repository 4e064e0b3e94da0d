//! Where a request goes: what its query asks for, and which of the service's
//! live processes may take it, in the order to try them. Pure: every gateway
//! given the same directory makes the same choices.

use nodelink::cluster::ProcessEntry;
use nodelink::wire::MatchRequest;

use crate::http::Request;

/// What a request asks for, read from its query as a game process reads it
/// (PROTOCOL.md, "The request").
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ask {
    /// No `match` parameter: a process's default match.
    Default,
    /// The match with this code (upper case).
    Join { code: String },
    /// A new match of `kind`.
    Create { kind: String },
    /// A listed match of `kind` that suits `options` (base64url, unpadded), or a
    /// new one.
    Find { kind: String, options: String },
    /// The listing of `kind`, which the gateway answers itself.
    List { kind: String },
}

impl Ask {
    /// Reads the request's matchmaking parameters; `Err` with what is wrong
    /// (the words a process would answer with).
    pub(crate) fn of(request: &Request) -> Result<Self, String> {
        let Some(verb) = request.query_param(MatchRequest::VERB) else {
            return Ok(Self::Default);
        };
        let kind = || {
            request
                .query_param(MatchRequest::KIND)
                .filter(|kind| !kind.is_empty())
                .ok_or_else(|| format!("`match={verb}` needs `kind`"))
        };
        match verb.as_str() {
            "join" => {
                let code = request
                    .query_param(MatchRequest::CODE)
                    .filter(|code| !code.is_empty())
                    .ok_or_else(|| "`match=join` needs `code`".to_owned())?;
                Ok(Self::Join {
                    code: code.trim().to_ascii_uppercase(),
                })
            }
            "create" => Ok(Self::Create { kind: kind()? }),
            "find" => Ok(Self::Find {
                kind: kind()?,
                options: request
                    .query_param(MatchRequest::OPTIONS)
                    .unwrap_or_default()
                    .trim_end_matches('=')
                    .to_owned(),
            }),
            "list" => Ok(Self::List { kind: kind()? }),
            other => Err(format!(
                "unknown `match={other}`: expected create, join, find or list"
            )),
        }
    }
}

/// Why no process may take a new match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NoProcess {
    /// No live process hosts the kind (or, for a default match, none is live).
    Hosts,
    /// Every process that hosts it is full or draining.
    Full,
}

fn hosts(process: &ProcessEntry, kind: Option<&str>) -> bool {
    match kind {
        Some(kind) => process.kinds.iter().any(|hosted| hosted == kind),
        // Every served process has a default match; one that registered but is
        // not served yet names no kind.
        None => !process.kinds.is_empty(),
    }
}

fn has_room(process: &ProcessEntry) -> bool {
    !process.draining && process.players < process.max_players
}

/// The processes that may take a new match of `kind` (any process's default
/// match for `None`), least loaded first (by the share of their places taken,
/// then by id).
pub(crate) fn least_loaded(
    processes: &[ProcessEntry],
    kind: Option<&str>,
) -> Result<Vec<ProcessEntry>, NoProcess> {
    let mut open = open(processes, kind)?;
    open.sort_by(|a, b| a.load().total_cmp(&b.load()).then_with(|| a.id.cmp(&b.id)));
    Ok(open)
}

/// The processes that may take a `find` of `kind` with `options`, ranked by
/// [`rendezvous_score`] (highest first): every gateway sends the same finds to
/// the same process, whose own find is atomic, so that finders race for places
/// in one process's matches rather than make a match each in several.
pub(crate) fn rendezvous(
    processes: &[ProcessEntry],
    kind: &str,
    options: &str,
) -> Result<Vec<ProcessEntry>, NoProcess> {
    let mut open = open(processes, Some(kind))?;
    open.sort_by_cached_key(|process| {
        (
            std::cmp::Reverse(rendezvous_score(kind, options, &process.id)),
            process.id.clone(),
        )
    });
    Ok(open)
}

fn open(processes: &[ProcessEntry], kind: Option<&str>) -> Result<Vec<ProcessEntry>, NoProcess> {
    let hosting: Vec<&ProcessEntry> = processes.iter().filter(|p| hosts(p, kind)).collect();
    if hosting.is_empty() {
        return Err(NoProcess::Hosts);
    }
    let open: Vec<ProcessEntry> = hosting
        .into_iter()
        .filter(|p| has_room(p))
        .cloned()
        .collect();
    if open.is_empty() {
        return Err(NoProcess::Full);
    }
    Ok(open)
}

/// A process's score for a find (PROTOCOL.md, "Gateways"): 64-bit FNV-1a of the
/// kind, a zero byte, the options as the query carries them (base64url, padding
/// removed), a zero byte, and the process's id.
pub(crate) fn rendezvous_score(kind: &str, options: &str, process: &str) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    let parts: [&[u8]; 5] = [
        kind.as_bytes(),
        &[0],
        options.as_bytes(),
        &[0],
        process.as_bytes(),
    ];
    for byte in parts.into_iter().flatten() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(PRIME);
    }
    hash
}

/// Whether a refusal says the process (or its match) is full, so that the next
/// process may be tried: 4205 or 4212, or, from a process that names no code,
/// HTTP 503 or 409 (a draining process's 503 "server shutting down", which a
/// gateway may reach before the directory says it drains, is one).
pub(crate) fn refused_as_full(status: u16, code: Option<u16>) -> bool {
    match code {
        Some(code) => code == 4205 || code == 4212,
        None => status == 503 || status == 409,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process(id: &str, kinds: &[&str], players: usize, max_players: usize) -> ProcessEntry {
        let mut entry = ProcessEntry::new(id, format!("ws://{id}.example/"));
        entry.kinds = kinds.iter().map(|kind| (*kind).to_owned()).collect();
        entry.players = players;
        entry.max_players = max_players;
        entry
    }

    fn ids(processes: &[ProcessEntry]) -> Vec<&str> {
        processes.iter().map(|p| p.id.as_str()).collect()
    }

    #[test]
    fn a_new_match_goes_to_the_least_loaded_process_with_room() {
        let processes = [
            process("a", &["game", "duel"], 50, 100),
            process("b", &["game"], 10, 100),
            process("c", &["game", "duel"], 100, 100),
            process("d", &["duel"], 5, 10),
        ];
        assert_eq!(
            ids(&least_loaded(&processes, Some("game")).unwrap()),
            ["b", "a"]
        );
        assert_eq!(
            ids(&least_loaded(&processes, Some("duel")).unwrap()),
            ["a", "d"]
        );
        assert_eq!(
            ids(&least_loaded(&processes, None).unwrap()),
            ["b", "a", "d"]
        );
        assert_eq!(
            least_loaded(&processes, Some("race")),
            Err(NoProcess::Hosts)
        );
        let full = [process("c", &["game"], 100, 100)];
        assert_eq!(least_loaded(&full, Some("game")), Err(NoProcess::Full));
        let mut draining = process("e", &["game"], 0, 100);
        draining.draining = true;
        assert_eq!(
            least_loaded(&[draining], Some("game")),
            Err(NoProcess::Full)
        );
        assert_eq!(least_loaded(&[], None), Err(NoProcess::Hosts));
    }

    #[test]
    fn finds_rank_processes_alike_whatever_order_the_directory_gives() {
        let processes = [
            process("p1", &["game"], 0, 100),
            process("p2", &["game"], 0, 100),
            process("p3", &["game"], 0, 100),
        ];
        let reversed: Vec<ProcessEntry> = processes.iter().rev().cloned().collect();
        for options in ["", "kXNhZGEncyB0YWJsZQ", "kqRkdWVsAQ"] {
            let ranked = rendezvous(&processes, "game", options).unwrap();
            assert_eq!(ranked, rendezvous(&reversed, "game", options).unwrap());
            let scores: Vec<u64> = ranked
                .iter()
                .map(|p| rendezvous_score("game", options, &p.id))
                .collect();
            assert!(scores.windows(2).all(|pair| pair[0] >= pair[1]));
        }
        // Removing a process moves only the finds it ranked first.
        let without_p2: Vec<ProcessEntry> =
            processes.iter().filter(|p| p.id != "p2").cloned().collect();
        for n in 0..50 {
            let options = format!("o{n}");
            let first = rendezvous(&processes, "game", &options).unwrap()[0]
                .id
                .clone();
            let then = rendezvous(&without_p2, "game", &options).unwrap()[0]
                .id
                .clone();
            if first != "p2" {
                assert_eq!(first, then);
            }
        }
    }

    #[test]
    fn the_score_is_fnv_1a_of_kind_options_and_process() {
        // FNV-1a 64 of the empty input is its offset basis; of "a", a known value.
        assert_eq!(rendezvous_score("", "", ""), {
            let mut hash = 0xcbf2_9ce4_8422_2325_u64;
            for _ in 0..2 {
                hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
            }
            hash
        });
        let fnv_a = 0xaf63_dc4c_8601_ec8c_u64;
        let mut hash = 0xcbf2_9ce4_8422_2325_u64;
        hash ^= u64::from(b'a');
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        assert_eq!(hash, fnv_a);
        assert_ne!(
            rendezvous_score("game", "x", "p1"),
            rendezvous_score("game", "x", "p2")
        );
        assert_ne!(
            rendezvous_score("ga", "mex", "p1"),
            rendezvous_score("gam", "ex", "p1")
        );
    }

    #[test]
    fn full_refusals_are_told_by_code_or_status() {
        assert!(refused_as_full(503, Some(4205)));
        assert!(refused_as_full(409, Some(4212)));
        assert!(!refused_as_full(409, Some(4213)));
        assert!(refused_as_full(503, None));
        assert_eq!(
            nodelink::wire::RefusalKind::ShuttingDown.close_code(),
            None,
            "a draining process's refusal passes the request on"
        );
        assert!(!refused_as_full(404, Some(4211)));
    }
}
