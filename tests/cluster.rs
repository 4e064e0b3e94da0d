//! A service of several processes sharing a directory in Redis (each test starts
//! its own `redis-server`): the directory shows each process and its matches,
//! codes are unique across processes, players are reached wherever they play,
//! and a process that dies, or loses Redis, or sees Redis restart, is handled as
//! `docs/service.md` says.

use std::time::Duration;

use nodelink::client::Client;
use nodelink::cluster::{Cluster, ClusterConfig, ClusterHandle, ServiceDirectory};
use nodelink::server::{Server, ServerHandle};
use nodelink::wire::CloseReason;
use nodelink::PlayerId;
use nodelink_examples::{Game, OnToServer, Table, ToClient, ToServer, ToServerMove};
use nodelink_tests::{local_config, poll_until, within, Redis, Seen, Watcher};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Short, so that the tests see a dead process forgotten quickly.
const LEASE: Duration = Duration::from_millis(900);

/// One process of the service: the example game, served on a loopback port.
struct Process {
    url: String,
    id: String,
    handle: ServerHandle<Game>,
    service: ClusterHandle,
    task: JoinHandle<()>,
}

impl Process {
    async fn start(redis: &str) -> Self {
        Self::start_as(redis, None).await
    }

    async fn start_as(redis: &str, id: Option<&str>) -> Self {
        let mut server = Server::<Game>::new(local_config());
        server
            .metadata(Table::clone)
            .linger(Duration::from_millis(200));
        server.on_move(|ctx, ToServerMove { x, y }| {
            ctx.player().state_mut().set_x(x).set_y(y);
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/", listener.local_addr().unwrap());
        let mut config = ClusterConfig::new(redis, url.clone())
            .service("test")
            .lease(LEASE);
        if let Some(id) = id {
            config = config.process_id(id);
        }
        let cluster = within("joining the service", Cluster::connect(config))
            .await
            .expect("joins");
        let id = cluster.process_id().to_owned();
        let service = cluster.handle();
        let handle = server.handle();
        let task = tokio::spawn(async move {
            server.serve(listener).and(cluster).await.expect("serves");
        });
        Self {
            url,
            id,
            handle,
            service,
            task,
        }
    }

    /// Stops at once: a service's process asked once drains first (until its
    /// players have left), asked twice it stops.
    async fn stop(self) {
        self.handle.shutdown();
        self.handle.shutdown();
        within("the process to stop", self.task).await.unwrap();
    }

    /// Dies at once, as a killed process does: nothing withdrawn.
    fn die(self) {
        self.task.abort();
    }
}

async fn directory(redis: &str) -> ServiceDirectory {
    ServiceDirectory::connect(redis, "test", Duration::from_secs(2))
        .await
        .expect("the directory")
}

fn table(title: &str) -> Table {
    Table {
        title: title.into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_directory_shows_each_process_its_matches_and_its_players() {
    let Some(redis) = Redis::start().await else {
        return;
    };
    let (ada_host, bob_host) = (
        Process::start(&redis.url()).await,
        Process::start(&redis.url()).await,
    );
    let directory = directory(&redis.url()).await;
    let processes = poll_until("both processes registered", || async {
        let processes = directory.processes().await.ok()?;
        (processes.len() == 2 && processes.iter().all(|p| !p.kinds.is_empty())).then_some(processes)
    })
    .await;
    for process in &processes {
        assert_eq!(process.kinds, ["game"]);
        assert!([&ada_host.url, &bob_host.url].contains(&&process.addr));
    }

    // A match made on one process: its code leads there, its listing shows its
    // metadata, its player is found there.
    let mut ada = Watcher::start(
        Client::<Game>::create(&ada_host.url, &table("ada's table"))
            .unwrap()
            .url(),
        |_| {},
    );
    let ada_id = ada.connected().await;
    let code = poll_until("ada's match code", || async {
        ada_host
            .handle
            .matches()
            .into_iter()
            .find(|info| info.players == 1 && info.kind == "game" && info.code.len() == 6)
            .filter(|info| info.public)
            .map(|info| info.code)
    })
    .await;
    let owner = poll_until("the match in the directory", || async {
        directory.owner_of(&code).await.ok().flatten()
    })
    .await;
    assert_eq!(owner.id, ada_host.id);
    let listed = poll_until("the match listed", || async {
        let listing = directory.listing("game", None, 50).await.ok()?;
        listing
            .into_iter()
            .find(|listed| listed.code == code && listed.players == 1)
    })
    .await;
    let metadata = nodelink::wire::decode_listing::<Table>(&nodelink::wire::encode_listing_raw(
        [nodelink::wire::RawListing {
            code: &listed.code,
            players: listed.players,
            max_players: listed.max_players,
            locked: listed.locked,
            metadata: &listed.metadata,
        }]
        .into_iter(),
    ))
    .unwrap();
    assert_eq!(metadata[0].metadata, table("ada's table"));
    let presence = poll_until("ada's presence", || async {
        directory.presence(ada_id).await.ok().flatten()
    })
    .await;
    assert_eq!(
        (presence.process, presence.match_code),
        (ada_host.id.clone(), code.clone())
    );

    // From the other process: an event for ada, wherever she plays, then a kick.
    let news = ToClient::Chat {
        from: PlayerId::from_raw(0),
        msg: "from another process".into(),
    };
    assert!(bob_host
        .service
        .send_to::<Game>(ada_id, &news)
        .await
        .unwrap());
    ada.next_where("the message from the other process", |seen| match seen {
        Seen::Event(event) if event == &news => Some(()),
        _ => None,
    })
    .await;
    assert!(bob_host.service.kick(ada_id).await.unwrap());
    let reason = ada
        .next_where("the kick", |seen| match seen {
            Seen::Disconnected(disconnect) => Some(disconnect.close_reason()),
            _ => None,
        })
        .await;
    assert_eq!(reason, Some(CloseReason::Kicked));
    poll_until("ada gone from the directory", || async {
        directory
            .presence(ada_id)
            .await
            .ok()?
            .is_none()
            .then_some(())
    })
    .await;
    assert!(
        !bob_host.service.kick(ada_id).await.unwrap(),
        "no one to kick"
    );

    // A match that ends leaves the directory, its code free.
    poll_until("the empty match to end and leave the directory", || async {
        directory
            .owner_of(&code)
            .await
            .ok()?
            .is_none()
            .then_some(())
    })
    .await;
    ada_host.stop().await;
    poll_until("a stopped process to leave at once", || async {
        let processes = directory.processes().await.ok()?;
        (processes.len() == 1).then_some(())
    })
    .await;
    bob_host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_reaches_every_process_players() {
    let Some(redis) = Redis::start().await else {
        return;
    };
    let hosts = [
        Process::start(&redis.url()).await,
        Process::start(&redis.url()).await,
        Process::start(&redis.url()).await,
    ];
    let mut players = Vec::new();
    for host in &hosts {
        players.push(Watcher::connect(&host.url).await);
    }
    let directory = directory(&redis.url()).await;
    for player in &players {
        let id = player.id.unwrap();
        poll_until("every player present", || async {
            directory.presence(id).await.ok().flatten().map(drop)
        })
        .await;
    }
    let news = ToClient::Chat {
        from: PlayerId::from_raw(0),
        msg: "the tournament starts".into(),
    };
    hosts[1].service.broadcast::<Game>(&news).await.unwrap();
    for player in &mut players {
        player
            .next_where("the broadcast", |seen| match seen {
                Seen::Event(event) if event == &news => Some(()),
                _ => None,
            })
            .await;
    }
    for host in hosts {
        host.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_are_unique_across_processes_and_a_dead_process_is_forgotten_within_its_lease() {
    let Some(redis) = Redis::start().await else {
        return;
    };
    let (a, b) = (
        Process::start(&redis.url()).await,
        Process::start(&redis.url()).await,
    );
    let mut clients = Vec::new();
    for host in [&a.url, &b.url, &a.url, &b.url, &a.url, &b.url] {
        let mut client = Watcher::start(
            Client::<Game>::create(host, &table("")).unwrap().url(),
            |_| {},
        );
        client.connected().await;
        clients.push(client);
    }
    let directory = directory(&redis.url()).await;
    let codes_of = |host: &Process| -> Vec<String> {
        host.handle
            .matches()
            .into_iter()
            .filter(|info| info.players == 1)
            .map(|info| info.code)
            .collect()
    };
    let (codes_a, codes_b) = (codes_of(&a), codes_of(&b));
    assert_eq!((codes_a.len(), codes_b.len()), (3, 3));
    for (codes, owner) in [(&codes_a, &a.id), (&codes_b, &b.id)] {
        for code in codes {
            let found = poll_until("the code's owner", || async {
                directory.owner_of(code).await.ok().flatten()
            })
            .await;
            assert_eq!(&found.id, owner);
            assert!(!codes_a.contains(code) || !codes_b.contains(code));
        }
    }

    // Killed: within its lease it is gone from the directory, and its matches
    // with it; the other process's stay.
    let dead = a.id.clone();
    a.die();
    within("the lease to run out", async {
        poll_until("the dead process forgotten", || async {
            let processes = directory.processes().await.ok()?;
            processes.iter().all(|p| p.id != dead).then_some(())
        })
        .await;
    })
    .await;
    for code in &codes_a {
        assert_eq!(directory.owner_of(code).await.unwrap(), None);
    }
    let listed = directory.listing("game", None, 100).await.unwrap();
    assert!(listed.iter().all(|listed| !codes_a.contains(&listed.code)));
    for code in &codes_b {
        assert_eq!(directory.owner_of(code).await.unwrap().unwrap().id, b.id);
    }
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_costs_running_matches_nothing_and_the_directory_is_rebuilt() {
    let Some(mut redis) = Redis::start().await else {
        return;
    };
    let host = Process::start(&redis.url()).await;
    let mut ada = Watcher::connect(&host.url).await;
    let mut bob = Watcher::connect(&host.url).await;
    let bob_id = bob.id.unwrap();
    let directory = directory(&redis.url()).await;
    poll_until("the process registered", || async {
        (directory.processes().await.ok()?.len() == 1).then_some(())
    })
    .await;

    redis.kill().await;
    // The match plays on without its directory.
    bob.sender.send(ToServer::Move { x: 4.0, y: 2.0 }).unwrap();
    ada.world_where("bob's move while Redis is down", |world| {
        world
            .get(&bob_id)
            .is_some_and(|bob| (bob.x, bob.y) == (4.0, 2.0))
    })
    .await;

    // An empty Redis comes back: the process publishes itself, its default
    // match and its players again.
    redis.restart().await;
    let processes = poll_until("the process back in the directory", || async {
        let processes = directory.processes().await.ok()?;
        (processes.len() == 1 && processes[0].players == 2).then_some(processes)
    })
    .await;
    assert_eq!(processes[0].id, host.id);
    poll_until("bob's presence back", || async {
        directory.presence(bob_id).await.ok().flatten().map(drop)
    })
    .await;
    let news = ToClient::Chat {
        from: bob_id,
        msg: "after the restart".into(),
    };
    // Messages flow again once the process has subscribed anew (at its next
    // beat): sent until one arrives.
    within("a message after the restart", async {
        loop {
            host.service.send_to::<Game>(bob_id, &news).await.ok();
            let arrived = tokio::time::timeout(LEASE, async {
                loop {
                    if let Seen::Event(event) = bob.next("a message").await {
                        if event == news {
                            return;
                        }
                    }
                }
            });
            if arrived.await.is_ok() {
                return;
            }
        }
    })
    .await;
    drop(ada);
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_cut_off_from_redis_never_shares_a_code_with_another() {
    let Some(redis) = Redis::start().await else {
        return;
    };
    // One process reaches Redis through a proxy that can stall, as a network
    // partition would; the other directly.
    let proxy = nodelink_tests::FaultyProxy::start(([127, 0, 0, 1], redis.port).into())
        .await
        .expect("a proxy");
    let cut_off = Process::start_as(&format!("redis://{}", proxy.local_addr()), Some("far")).await;
    let other = Process::start_as(&redis.url(), Some("near")).await;
    let mut ada = Watcher::start(
        Client::<Game>::create(&cut_off.url, &table(""))
            .unwrap()
            .url(),
        |_| {},
    );
    ada.connected().await;
    let code = poll_until("ada's match", || async {
        cut_off
            .handle
            .matches()
            .into_iter()
            .find(|info| info.players == 1)
            .map(|info| info.code)
    })
    .await;
    let directory = directory(&redis.url()).await;
    poll_until("ada's match in the directory", || async {
        directory.owner_of(&code).await.ok().flatten().map(drop)
    })
    .await;

    // Cut off: within its lease the directory forgets the process and its match,
    // which plays on.
    proxy.stall();
    poll_until("the cut-off process forgotten", || async {
        directory
            .owner_of(&code)
            .await
            .ok()?
            .is_none()
            .then_some(())
    })
    .await;
    // Meanwhile the code goes to the other process (as a new match there could
    // draw it).
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("SET")
        .arg(format!("test:code:{code}"))
        .arg("near")
        .query_async::<()>(&mut conn)
        .await
        .unwrap();

    // Back in touch, the cut-off process finds its code taken: its match ends
    // rather than answer to a code that leads elsewhere.
    proxy.unstall();
    let reason = ada
        .next_where("the match ended", |seen| match seen {
            Seen::Disconnected(disconnect) => Some(disconnect.close_reason()),
            _ => None,
        })
        .await;
    assert_eq!(reason, Some(CloseReason::MatchEnded));
    let owner = directory.owner_of(&code).await.unwrap().expect("an owner");
    assert_eq!(owner.id, "near");
    poll_until("the cut-off process back in the directory", || async {
        let processes = directory.processes().await.ok()?;
        processes.iter().any(|p| p.id == "far").then_some(())
    })
    .await;
    cut_off.stop().await;
    other.stop().await;
}
