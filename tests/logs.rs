//! A bounded log (`SyncDeque`) through a running server, on both wires: a chat of
//! the last five lines in the server state and each player's last three hits. A
//! native client that watched every change, one that joined late, and a JSON
//! client (applying PROTOCOL.md's rules for "A bounded log") all end with the
//! server's lines and hits.

use std::time::{Duration, Instant};

use nodelink::client::{Client, PollClient};
use nodelink::server::Server;
use nodelink::sync::SyncDeque;
use nodelink::{PlayerId, SyncState};
use nodelink_tests::{local_config, serve, within, JsonClient, DEADLINE};
use serde_json::{json, Value};

#[derive(SyncState, Clone, Debug, PartialEq)]
pub(crate) struct Fighter {
    /// The last three hits taken.
    pub(crate) hits: SyncDeque<u16>,
}

impl Default for Fighter {
    fn default() -> Self {
        Self {
            hits: SyncDeque::with_capacity(3),
        }
    }
}

#[derive(SyncState, Clone, Debug, PartialEq)]
pub(crate) struct Room {
    /// The last five lines said.
    pub(crate) chat: SyncDeque<String>,
}

impl Default for Room {
    fn default() -> Self {
        Self {
            chat: SyncDeque::with_capacity(5),
        }
    }
}

#[nodelink::events]
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ToServer {
    Say { text: String },
    Hit { damage: u16 },
    Forget,
}

#[nodelink::events]
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ToClient {}

#[nodelink::protocol(state = Fighter, to_server = ToServer, to_client = ToClient, server_state = Room)]
pub(crate) struct Tavern;

fn tavern() -> Server<Tavern> {
    let mut server = Server::<Tavern>::new(local_config());
    server.on_say(|ctx, ToServerSay { text }| {
        ctx.server_state_mut().chat().push_back(text);
    });
    server.on_hit(|ctx, ToServerHit { damage }| {
        ctx.player().state_mut().hits().push_back(damage);
    });
    server.on_forget(|ctx| {
        ctx.player().state_mut().hits().clear();
        ctx.server_state_mut().chat().pop_front();
    });
    server
}

fn poll_until(
    client: &mut PollClient<Tavern>,
    what: &str,
    done: impl Fn(&PollClient<Tavern>) -> bool,
) {
    tokio::task::block_in_place(|| {
        let deadline = Instant::now() + DEADLINE;
        while !done(client) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            client.wait(Duration::from_millis(20));
        }
    });
}

/// A log's mirror after `delta`, by PROTOCOL.md's rules: drop `drop` entries from
/// the front (every one when it is `null`), append the entries, keep the last
/// `capacity`.
fn apply_log(log: &mut Vec<Value>, delta: &Value) {
    let [capacity, drop, entries] = delta
        .as_array()
        .expect("[capacity, drop, entries]")
        .as_slice()
    else {
        panic!("[capacity, drop, entries]: {delta}");
    };
    match drop.as_u64() {
        None => log.clear(),
        Some(drop) => {
            log.drain(..(drop as usize).min(log.len()));
        }
    }
    log.extend(entries.as_array().expect("entries").iter().cloned());
    let excess = log
        .len()
        .saturating_sub(capacity.as_u64().expect("a capacity") as usize);
    log.drain(..excess);
}

/// A JSON client's mirror of the chat and of one player's hits.
struct JsonMirror {
    client: JsonClient,
    chat: Vec<Value>,
    hits: Vec<Value>,
}

impl JsonMirror {
    /// Reads frames until the chat and `id`'s hits are `chat` and `hits`.
    async fn until(&mut self, id: PlayerId, chat: &[&str], hits: &[u16]) {
        let (chat, hits): (Vec<Value>, Vec<Value>) = (
            chat.iter().map(|line| json!(line)).collect(),
            hits.iter().map(|hit| json!(hit)).collect(),
        );
        let key = id.to_string();
        within("the JSON mirror to catch up", async {
            while self.chat != chat || self.hits != hits {
                let (event, data) = self.client.next_frame("a state sync").await;
                if event != "__state_sync__" {
                    continue;
                }
                if let Some(delta) = data["server"].get("chat") {
                    apply_log(&mut self.chat, delta);
                }
                if let Some(delta) = data["players"].get(&key).and_then(|p| p.get("hits")) {
                    apply_log(&mut self.hits, delta);
                }
            }
        })
        .await;
    }
}

fn chat_of(client: &PollClient<Tavern>) -> Vec<String> {
    client.world().server_state().chat.iter().cloned().collect()
}

fn hits_of(client: &PollClient<Tavern>, id: PlayerId) -> Option<Vec<u16>> {
    client
        .world()
        .get(id)
        .map(|f| f.hits.iter().copied().collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bounded_log_mirrors_alike_on_both_wires_and_in_snapshots() {
    let running = serve(tavern()).await;
    let mut ada = Client::<Tavern>::from_url(running.url()).spawn().unwrap();
    poll_until(&mut ada, "ada's snapshot", |c| c.world().is_complete());
    let id = ada.id().expect("connected");
    let mut json = JsonMirror {
        client: JsonClient::connect(&running.url()).await,
        chat: Vec::new(),
        hits: Vec::new(),
    };

    // Eight lines into a log of five, four hits into a log of three.
    for n in 1..=8 {
        ada.send(ToServer::Say {
            text: format!("line {n}"),
        })
        .unwrap();
    }
    for damage in [10, 20, 30, 40] {
        ada.send(ToServer::Hit { damage }).unwrap();
    }
    let lines = ["line 4", "line 5", "line 6", "line 7", "line 8"];
    poll_until(&mut ada, "the last five lines and three hits", |c| {
        chat_of(c) == lines && hits_of(c, id).as_deref() == Some(&[20, 30, 40][..])
    });
    json.until(id, &lines, &[20, 30, 40]).await;

    // A late joiner gets them in its snapshot, capacity included.
    let mut bob = Client::<Tavern>::from_url(running.url()).spawn().unwrap();
    poll_until(&mut bob, "bob's snapshot", |c| {
        c.world().is_complete() && hits_of(c, id).is_some()
    });
    assert_eq!(chat_of(&bob), lines);
    assert_eq!(hits_of(&bob, id).unwrap(), [20, 30, 40]);
    assert_eq!(bob.world().server_state().chat.capacity(), 5);
    assert_eq!(bob.world().get(id).unwrap().hits.capacity(), 3);

    // A clear, a pop, then one more of each.
    ada.send(ToServer::Forget).unwrap();
    ada.send(ToServer::Say {
        text: "line 9".into(),
    })
    .unwrap();
    ada.send(ToServer::Hit { damage: 50 }).unwrap();
    let lines = ["line 5", "line 6", "line 7", "line 8", "line 9"];
    for client in [&mut ada, &mut bob] {
        poll_until(client, "the pop, the clear and the pushes", |c| {
            chat_of(c) == lines && hits_of(c, id).as_deref() == Some(&[50][..])
        });
    }
    json.until(id, &lines, &[50]).await;
    within("stopping", running.stop()).await;
}
