//! Nested states, a synced map and a synced list through a running server, on both
//! wires: a native client's mirror and a JSON client's mirror (built by the rules
//! of PROTOCOL.md's "Nested states and maps on the JSON wire") both end equal to
//! the server's state, whether they watched every change or joined late and got a
//! snapshot.

use std::time::{Duration, Instant};

use nodelink::client::{Client, PollClient};
use nodelink::server::Server;
use nodelink::sync::{SyncMap, SyncVec};
use nodelink::{PlayerId, SyncState};
use nodelink_tests::{local_config, serve, within, JsonClient, DEADLINE};
use serde_json::{json, Value};

#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub(crate) struct Stats {
    pub(crate) hp: u32,
    pub(crate) mana: u32,
}

#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub(crate) struct Hero {
    pub(crate) x: f32,
    pub(crate) stats: Stats,
    pub(crate) bag: SyncMap<String, u32>,
    pub(crate) party: SyncVec<Stats>,
}

#[nodelink::events]
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ToServer {
    Walk { x: f32 },
    Hurt { hp: u32 },
    Pick { item: String, count: u32 },
    Drop { item: String },
    Recruit { hp: u32, mana: u32 },
    Rest { index: u32, mana: u32 },
    Dismiss,
}

#[nodelink::events]
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ToClient {}

#[nodelink::protocol(state = Hero, to_server = ToServer, to_client = ToClient)]
pub(crate) struct Quest;

fn quest() -> Server<Quest> {
    let mut server = Server::<Quest>::new(local_config());
    server.on_walk(|ctx, ToServerWalk { x }| {
        ctx.player().state_mut().set_x(x);
    });
    server.on_hurt(|ctx, ToServerHurt { hp }| {
        ctx.player().state_mut().stats().set_hp(hp);
    });
    server.on_pick(
        |ctx, ToServerPick { item, count }| -> nodelink::HandlerResult {
            ctx.player().state_mut().bag().insert(item, count)?;
            Ok(())
        },
    );
    server.on_drop(|ctx, ToServerDrop { item }| {
        ctx.player().state_mut().bag().remove(&item);
    });
    server.on_recruit(
        |ctx, ToServerRecruit { hp, mana }| -> nodelink::HandlerResult {
            ctx.player().state_mut().party().push(Stats { hp, mana })?;
            Ok(())
        },
    );
    server.on_rest(|ctx, ToServerRest { index, mana }| {
        if let Some(mut member) = ctx.player().state_mut().party().get_mut(index as usize) {
            member.set_mana(mana);
        }
    });
    server.on_dismiss(|ctx| {
        ctx.player().state_mut().party().pop();
    });
    server
}

/// What a JSON client keeps of a hero: `bag` as an object by key, `party` as an
/// array of objects, the rest as sent.
fn expected_json(hero: &Hero) -> Value {
    let bag: serde_json::Map<String, Value> = hero
        .bag
        .iter()
        .map(|(item, count)| (item.clone(), json!(count)))
        .collect();
    let party: Vec<Value> = hero
        .party
        .iter()
        .map(|s| json!({"hp": s.hp, "mana": s.mana}))
        .collect();
    json!({
        "x": hero.x,
        "stats": {"hp": hero.stats.hp, "mana": hero.stats.mana},
        "bag": bag,
        "party": party,
    })
}

/// Merges `from`'s keys into `into` (a nested state's listed sub-fields).
fn merge_object(into: &mut Value, from: &Value) {
    if !into.is_object() {
        *into = json!({});
    }
    for (key, value) in from.as_object().expect("a nested state is an object") {
        into[key] = value.clone();
    }
}

/// Applies one hero delta to a JSON mirror, by the JSON wire's rules.
fn apply_hero(hero: &mut Value, delta: &Value) {
    if !hero.is_object() {
        *hero = json!({"x": 0.0, "stats": {}, "bag": {}, "party": []});
    }
    for (field, value) in delta.as_object().expect("a delta is an object") {
        match field.as_str() {
            "stats" => merge_object(&mut hero["stats"], value),
            "bag" => {
                let [replace, removed, entries] = value.as_array().expect("map layout").as_slice()
                else {
                    panic!("a map is [replace, removed, entries]: {value}");
                };
                let bag = hero["bag"].as_object_mut().expect("bag");
                if replace == true {
                    bag.clear();
                }
                for key in removed.as_array().expect("removed") {
                    bag.remove(key.as_str().expect("a string key"));
                }
                for entry in entries.as_array().expect("entries") {
                    let key = entry[0].as_str().expect("a string key");
                    bag.insert(key.to_owned(), entry[1].clone());
                }
            }
            "party" => {
                let [len, items] = value.as_array().expect("list layout").as_slice() else {
                    panic!("a list is [len, items]: {value}");
                };
                let party = hero["party"].as_array_mut().expect("party");
                party.resize(len.as_u64().expect("a length") as usize, json!({}));
                for item in items.as_array().expect("items") {
                    let index = item[0].as_u64().expect("an index") as usize;
                    merge_object(&mut party[index], &item[1]);
                }
            }
            _ => hero[field] = value.clone(),
        }
    }
}

/// A JSON client's mirror of every hero, by id.
struct JsonMirror {
    client: JsonClient,
    heroes: serde_json::Map<String, Value>,
}

impl JsonMirror {
    async fn connect(url: &str) -> Self {
        Self {
            client: JsonClient::connect(url).await,
            heroes: serde_json::Map::new(),
        }
    }

    /// Reads frames until the mirror of `id` equals `expected`.
    async fn until(&mut self, id: PlayerId, expected: &Value) {
        let key = id.to_string();
        within("the JSON mirror to catch up", async {
            while self.heroes.get(&key) != Some(expected) {
                let (event, data) = self.client.next_frame("a state sync").await;
                if event != "__state_sync__" {
                    continue;
                }
                if data["full"] == true {
                    self.heroes.clear();
                }
                for id in data["left"].as_array().into_iter().flatten() {
                    self.heroes.remove(id.as_str().expect("an id"));
                }
                for (id, delta) in data["players"].as_object().expect("players") {
                    let hero = self.heroes.entry(id.clone()).or_insert(Value::Null);
                    apply_hero(hero, delta);
                }
            }
        })
        .await;
    }
}

fn poll_until(
    client: &mut PollClient<Quest>,
    what: &str,
    done: impl Fn(&PollClient<Quest>) -> bool,
) {
    tokio::task::block_in_place(|| {
        let deadline = Instant::now() + DEADLINE;
        while !done(client) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            client.wait(Duration::from_millis(20));
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_states_maps_and_lists_mirror_alike_on_both_wires() {
    let running = serve(quest()).await;
    let mut hero = Client::<Quest>::from_url(running.url()).spawn().unwrap();
    poll_until(&mut hero, "the welcome", |c| c.id().is_some());
    let id = hero.id().unwrap();
    let mut watcher = JsonMirror::connect(&running.url()).await;

    let moves = [
        ToServer::Walk { x: 2.5 },
        ToServer::Hurt { hp: 90 },
        ToServer::Pick {
            item: "arrows".into(),
            count: 20,
        },
        ToServer::Pick {
            item: "bread".into(),
            count: 2,
        },
        ToServer::Recruit { hp: 40, mana: 10 },
        ToServer::Recruit { hp: 30, mana: 0 },
        ToServer::Hurt { hp: 85 },
        ToServer::Pick {
            item: "arrows".into(),
            count: 19,
        },
        ToServer::Drop {
            item: "bread".into(),
        },
        ToServer::Rest { index: 1, mana: 5 },
        ToServer::Dismiss,
        ToServer::Recruit { hp: 20, mana: 20 },
    ];
    for (step, event) in moves.into_iter().enumerate() {
        hero.send(event).unwrap();
        // Each step is checked on its own: small deltas, not one merged snapshot.
        let expected = within("the server's state", async {
            loop {
                let players = running.handle.players().await.unwrap();
                let state = players.into_iter().find(|p| p.id == id).unwrap().state;
                if hero_done(&state, step) {
                    return state;
                }
                tokio::task::yield_now().await;
            }
        })
        .await;
        poll_until(&mut hero, "the native mirror", |c| {
            c.world().get(id) == Some(&expected)
        });
        watcher.until(id, &expected_json(&expected)).await;
    }

    // A late JSON client and a late native client get it all in their snapshot.
    let last = running
        .handle
        .players()
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.id == id)
        .unwrap()
        .state;
    let mut late = JsonMirror::connect(&running.url()).await;
    late.until(id, &expected_json(&last)).await;
    let mut late_native = Client::<Quest>::from_url(running.url()).spawn().unwrap();
    poll_until(&mut late_native, "the late native mirror", |c| {
        c.world().get(id) == Some(&last)
    });
    assert_eq!(
        late.heroes[&id.to_string()],
        json!({"x": 2.5, "stats": {"hp": 85, "mana": 0}, "bag": {"arrows": 19},
               "party": [{"hp": 40, "mana": 10}, {"hp": 20, "mana": 20}]})
    );
    within("stopping", running.stop()).await;
}

/// Whether the server's state shows step `step` of the test's moves applied.
fn hero_done(state: &Hero, step: usize) -> bool {
    let bag = |item: &str| state.bag.get(item).copied();
    match step {
        0 => state.x == 2.5,
        1 => state.stats.hp == 90,
        2 => bag("arrows") == Some(20),
        3 => bag("bread") == Some(2),
        4 => state.party.len() == 1,
        5 => state.party.len() == 2,
        6 => state.stats.hp == 85,
        7 => bag("arrows") == Some(19),
        8 => bag("bread").is_none(),
        9 => state.party.get(1).is_some_and(|s| s.mana == 5),
        10 => state.party.len() == 1,
        _ => state.party.len() == 2 && state.party.get(1).is_some_and(|s| s.hp == 20),
    }
}
