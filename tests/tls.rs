//! `wss://`: the stand-alone server with a certificate made at run time, native and
//! JSON-wire clients playing over TLS (Python nodelink 0.6.0's too, with Python's
//! own TLS), clients that do not trust the certificate, peers that do not speak
//! TLS, and certificates and keys that cannot be used.

use std::sync::Arc;
use std::time::{Duration, Instant};

use nodelink::client::{Client, ClientConfig, ClientError, ClientEvent, Reconnect};
use nodelink::server::{RunError, ServerConfig};
use nodelink::tls::{RootCertificates, TlsConfig, TlsError};
use nodelink::PlayerId;
use nodelink_examples::{Game, ToClient, ToServer};
use nodelink_tests::{
    local_config, python, reporting_game, serve, within, ChildReports, JsonClient, Reports,
    Running, Seen, Watcher,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::Connector;

/// A self-signed certificate for `names` and its private key, in PEM.
fn certificate(names: &[&str]) -> (String, String) {
    certificate_named("nodelink test server", names)
}

/// A self-signed certificate for `names`, its subject named `common_name` (which,
/// self-signed, is its issuer's name too), and its private key, in PEM.
fn certificate_named(common_name: &str, names: &[&str]) -> (String, String) {
    let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
    let mut params = rcgen::CertificateParams::new(names).expect("valid names");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, common_name);
    let key = rcgen::KeyPair::generate().expect("a key");
    let cert = params.self_signed(&key).expect("a certificate");
    (cert.pem(), key.serialize_pem())
}

/// A server of the example game over TLS, with a certificate for 127.0.0.1 made
/// for it; returns the certificate too, for clients to trust.
async fn tls_game(config: ServerConfig) -> (Running<Game>, Reports, String) {
    let (cert, key) = certificate(&["127.0.0.1", "localhost"]);
    let tls = TlsConfig::from_pem(cert.as_bytes(), key.as_bytes()).expect("a usable certificate");
    let (server, reports) = reporting_game(config.tls(tls));
    (serve(server).await, reports, cert)
}

fn wss_url(running: &Running<Game>) -> String {
    format!("wss://{}/", running.addr)
}

/// A native client's settings that trust `cert` as a root.
fn trusting(cert: &str) -> ClientConfig {
    let roots = RootCertificates::from_pem(cert.as_bytes()).expect("a root certificate");
    ClientConfig::default().root_certificates(roots)
}

/// A raw WebSocket client's TLS settings that trust `cert` as a root.
fn raw_trusting(cert: &str) -> Connector {
    let mut roots = rustls::RootCertStore::empty();
    for certificate in CertificateDer::pem_slice_iter(cert.as_bytes()) {
        roots.add(certificate.expect("PEM")).expect("a root");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Connector::Rustls(Arc::new(config))
}

/// Moves `watcher` and waits until it sees the move: its traffic flows.
async fn still_served(watcher: &mut Watcher, x: f32) {
    let id = watcher.id.expect("connected");
    watcher
        .sender
        .send(ToServer::Move { x, y: 0.0 })
        .expect("queued");
    watcher
        .world_where("a player's move after the intruders", |w| {
            w.get(&id).is_some_and(|a| a.x == x)
        })
        .await;
}

/// How a client that could not connect ended: its `run`'s error.
async fn refused(url: &str, config: ClientConfig) -> ClientError {
    let run = Client::<Game>::with_config(url, config).run();
    match within("the refused client to give up", run).await {
        Ok(()) => panic!("a client connected to {url}, which should have refused it"),
        Err(error) => error,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_and_json_clients_play_over_wss() {
    let (running, mut errors, cert) = tls_game(local_config()).await;
    let url = wss_url(&running);

    let mut native = Watcher::start_with(&url, trusting(&cert), |_| {});
    let native_id = native.connected().await;
    let native_key = native_id.to_string();
    let mut json = JsonClient::connect_via(&url, raw_trusting(&cert)).await;
    let json_key = json.id.clone();
    let json_id: PlayerId = json_key.parse().expect("an 8-hex id");

    // State both ways: each client's move reaches the other's mirror.
    native
        .sender
        .send(ToServer::Move { x: 1.0, y: 2.0 })
        .unwrap();
    json.send("move", json!({ "x": 3.0, "y": 4.0 })).await;
    native
        .world_where("the JSON client's move over wss", |world| {
            world
                .get(&json_id)
                .is_some_and(|avatar| (avatar.x, avatar.y) == (3.0, 4.0))
        })
        .await;
    json.world_where("the native client's move over wss", |world| {
        world
            .get(&native_key)
            .is_some_and(|state| state["x"] == 1.0 && state["y"] == 2.0)
    })
    .await;

    // Events both ways: each chat line is broadcast to both.
    native
        .sender
        .send(ToServer::Chat {
            msg: "from native".into(),
        })
        .unwrap();
    assert_eq!(
        json.next_event("chat").await,
        json!({ "from": native_key, "msg": "from native" })
    );
    json.send("chat", json!({ "msg": "from json" })).await;
    let chat = native
        .next_where("the JSON client's chat over wss", |seen| match seen {
            Seen::Event(ToClient::Chat { from, msg }) if msg == "from json" => Some(*from),
            _ => None,
        })
        .await;
    assert_eq!(chat, json_id);

    // The game loop's client, on its own thread, over wss too.
    let polling = tokio::task::spawn_blocking({
        let url = url.clone();
        let config = trusting(&cert);
        move || {
            let mut game = Client::<Game>::with_config(url, config).spawn().unwrap();
            game.send(ToServer::Move { x: 7.0, y: 7.0 }).unwrap();
            let deadline = Instant::now() + nodelink_tests::DEADLINE;
            while Instant::now() < deadline {
                for event in game.wait(Duration::from_millis(100)) {
                    if let ClientEvent::Error(error) = event {
                        return Err(error.to_string());
                    }
                }
                let me = game.id().and_then(|id| game.world().get(id).cloned());
                if me.is_some_and(|avatar| avatar.x == 7.0) && game.world().get(json_id).is_some() {
                    return Ok(game.world().len());
                }
            }
            Err(format!("{game:?}"))
        }
    });
    let players = within("the polling client over wss", polling)
        .await
        .expect("the polling thread");
    assert_eq!(
        players,
        Ok(3),
        "the polling client mirrors all three players"
    );

    assert!(errors.try_recv().is_err(), "no errors on the server");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_nodelink_client_plays_over_wss() {
    let (running, mut errors, cert) = tls_game(local_config()).await;
    let url = wss_url(&running);
    let mut native = Watcher::start_with(&url, trusting(&cert), |_| {});
    let native_id = native.connected().await;
    native
        .sender
        .send(ToServer::Move { x: 3.0, y: 4.0 })
        .unwrap();
    native
        .world_where("the native move", |world| {
            world.get(&native_id).is_some_and(|avatar| avatar.x == 3.0)
        })
        .await;

    // Python's TLS (OpenSSL) trusts the certificate through SSL_CERT_FILE.
    let cert_file = std::env::temp_dir().join(format!("nodelink-tls-{}.pem", std::process::id()));
    std::fs::write(&cert_file, &cert).unwrap();
    let script = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/wss_client.py");
    let mut command = tokio::process::Command::new(python());
    command
        .arg(script)
        .arg(&url)
        .env("SSL_CERT_FILE", &cert_file);
    let mut python = ChildReports::spawn("the Python client", &mut command, false);
    let python_key = python.expect("welcome").await["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let python_id: PlayerId = python_key.parse().expect("an 8-hex id");

    // Its chat (sent on at once) and its move (at the next tick) reach the native
    // client; the native state reaches it.
    let chat = native
        .next_where("the Python client's chat over wss", |seen| match seen {
            Seen::Event(ToClient::Chat { from, msg }) if msg == "hello over wss" => Some(*from),
            _ => None,
        })
        .await;
    assert_eq!(chat, python_id);
    native
        .world_where("the Python client's move over wss", |world| {
            world
                .get(&python_id)
                .is_some_and(|avatar| (avatar.x, avatar.y) == (1.5, -2.0))
        })
        .await;
    let native_key = native_id.to_string();
    python
        .expect_where("sync", |report| {
            (report["world"][&native_key]["x"] == 3.0).then_some(())
        })
        .await;

    native
        .sender
        .send(ToServer::Chat { msg: "quit".into() })
        .unwrap();
    python
        .expect_where("chat", |report| (report["msg"] == "quit").then_some(()))
        .await;
    python.exited().await;
    std::fs::remove_file(&cert_file).unwrap();
    assert!(errors.try_recv().is_err(), "no errors on the server");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_does_not_trust_the_certificate_is_refused_with_a_clear_error() {
    let (running, _errors, cert) = tls_game(local_config()).await;
    let url = wss_url(&running);
    let mut player = Watcher::start_with(&url, trusting(&cert), |_| {});
    player.connected().await;

    // Another authority as the only root: the server's certificate is not issued
    // by it. Reconnection is on, and not used: the same certificate would fail
    // again.
    let (stranger, _) = certificate_named("another authority", &["127.0.0.1"]);
    let config = trusting(&stranger).reconnect(Reconnect::default().max_attempts(Some(3)));
    let error = refused(&url, config).await;
    let message = error.to_string();
    assert!(
        matches!(&error, ClientError::Tls { url: at, .. } if *at == url),
        "{error:?}"
    );
    assert!(
        message.contains("UnknownIssuer") && message.contains("root_certificates"),
        "says what failed and what to do: {message}"
    );

    // A root of the same name with another key: the copy a client kept of the
    // server's previous self-signed certificate.
    let (previous, _) = certificate(&["127.0.0.1", "localhost"]);
    let error = refused(&url, trusting(&previous)).await;
    let message = error.to_string();
    assert!(
        message.contains("BadSignature") && message.contains("current certificate"),
        "{message}"
    );

    // The platform's roots (the default) do not hold a self-signed certificate
    // either (or there are none on this machine): a TLS error all the same.
    let error = refused(&url, ClientConfig::default()).await;
    assert!(matches!(error, ClientError::Tls { .. }), "{error:?}");

    // The right root, but a certificate that does not name the URL's host.
    let (cert_for_another_host, key) = certificate(&["game.example"]);
    let tls = TlsConfig::from_pem(cert_for_another_host.as_bytes(), key.as_bytes()).unwrap();
    let (server, _) = reporting_game(local_config().tls(tls));
    let other = serve(server).await;
    let error = refused(&wss_url(&other), trusting(&cert_for_another_host)).await;
    assert!(
        matches!(&error, ClientError::Tls { reason, .. } if reason.contains("not valid for name \"127.0.0.1\"")),
        "{error:?}"
    );
    other.stop().await;

    // A self-signed CA certificate as the server's own (what `openssl req -x509`
    // makes by default), trusted as the root: refused, saying how to make one.
    let mut params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let key = rcgen::KeyPair::generate().unwrap();
    let ca = params.self_signed(&key).unwrap().pem();
    let tls = TlsConfig::from_pem(ca.as_bytes(), key.serialize_pem().as_bytes()).unwrap();
    let (server, _) = reporting_game(local_config().tls(tls));
    let other = serve(server).await;
    let error = refused(&wss_url(&other), trusting(&ca)).await;
    assert!(
        error.to_string().contains("CA:FALSE"),
        "says how to make a server certificate: {error}"
    );
    other.stop().await;

    assert_eq!(running.handle.player_count(), 1, "only the trusting player");
    still_served(&mut player, 5.0).await;
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_clients_and_garbage_are_refused_and_cost_nothing_else() {
    // Three connections from 127.0.0.1 at most: a refused intruder whose place
    // was kept would soon lock the last players out.
    let config = local_config()
        .max_connections_per_ip(3)
        .handshake_timeout(Duration::from_millis(500));
    let (running, mut errors, cert) = tls_game(config).await;
    let url = wss_url(&running);
    let mut player = Watcher::start_with(&url, trusting(&cert), |_| {});
    player.connected().await;

    for round in 0..5 {
        // A native client and a JSON-wire client that speak plain WebSocket.
        let plain = format!("ws://{}/", running.addr);
        let error = refused(&plain, ClientConfig::default()).await;
        assert!(
            matches!(error, ClientError::Connect { .. }),
            "round {round}: a plain client fails to connect: {error:?}"
        );
        let raw = within(
            "a plain JSON client",
            tokio_tungstenite::connect_async(plain.as_str()),
        )
        .await;
        assert!(raw.is_err(), "round {round}: a plain JSON client connected");

        // Bytes that are not TLS, then bytes that stop halfway into a handshake:
        // the server closes both, the second at the handshake timeout.
        let mut garbage = tokio::net::TcpStream::connect(running.addr).await.unwrap();
        let junk: Vec<u8> = (0..2048u32).map(|i| (i * 7919 % 251) as u8).collect();
        let _ = garbage.write_all(&junk).await;
        let mut buf = [0u8; 256];
        within("the garbage connection to be closed", async {
            while matches!(garbage.read(&mut buf).await, Ok(n) if n > 0) {}
        })
        .await;
        let mut stalled = tokio::net::TcpStream::connect(running.addr).await.unwrap();
        // A TLS record header announcing a ClientHello that never comes.
        stalled
            .write_all(&[0x16, 0x03, 0x01, 0x02, 0x00])
            .await
            .unwrap();
        within("the stalled handshake to be cut off", async {
            while matches!(stalled.read(&mut buf).await, Ok(n) if n > 0) {}
        })
        .await;
    }

    // Nothing reached the game, and the player plays on.
    assert_eq!(running.handle.player_count(), 1);
    assert!(errors.try_recv().is_err(), "the intruders reached on_error");
    still_served(&mut player, 3.0).await;

    // Every intruder's place was given back: two more players fill the cap. A
    // place is freed just after its socket closes, which a client cannot see, so
    // each retries on HTTP 429 until then.
    let retrying = trusting(&cert).reconnect(
        Reconnect::default()
            .initial_delay(Duration::from_millis(10))
            .max_delay(Duration::from_millis(50)),
    );
    let mut second = Watcher::start_with(&url, retrying.clone(), |_| {});
    second.connected().await;
    let mut third = Watcher::start_with(&url, retrying, |_| {});
    third.connected().await;
    assert_eq!(running.handle.player_count(), 3);
    still_served(&mut third, 4.0).await;
    running.stop().await;
}

#[test]
fn unusable_certificates_and_keys_are_clear_errors_before_the_server_binds() {
    let (cert, key) = certificate(&["127.0.0.1"]);
    let (_, other_key) = certificate(&["127.0.0.1"]);
    assert!(TlsConfig::from_pem(cert.as_bytes(), key.as_bytes()).is_ok());

    let message = |result: Result<TlsConfig, TlsError>| match result {
        Ok(_) => panic!("accepted"),
        // As a server's setup sees it, through `?`.
        Err(error) => RunError::from(error).to_string(),
    };
    assert_eq!(
        message(TlsConfig::from_pem(cert.as_bytes(), other_key.as_bytes())),
        "TLS: the private key does not match the certificate (the chain's first)"
    );
    assert_eq!(
        message(TlsConfig::from_pem(b"hello", key.as_bytes())),
        "TLS: no certificate in the certificate chain: expected a PEM `CERTIFICATE` section"
    );
    let no_key = message(TlsConfig::from_pem(cert.as_bytes(), cert.as_bytes()));
    assert!(
        no_key.starts_with("TLS: no private key in the private key: expected a PEM"),
        "{no_key}"
    );
    let broken = cert.replace("MII", "M*I");
    let broken = message(TlsConfig::from_pem(broken.as_bytes(), key.as_bytes()));
    assert!(
        broken.starts_with("TLS: invalid PEM in the certificate chain: "),
        "{broken}"
    );
    // A well-formed PEM section whose contents are not a certificate.
    let not_x509 = "-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n";
    let not_x509 = message(TlsConfig::from_pem(not_x509.as_bytes(), key.as_bytes()));
    assert!(
        not_x509.starts_with("TLS: unusable certificate chain and private key: "),
        "{not_x509}"
    );

    // Files: a missing one is named; a bad one's errors name it too.
    let dir = std::env::temp_dir().join(format!("nodelink-tls-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, &cert).unwrap();
    std::fs::write(&key_path, &other_key).unwrap();
    let missing = dir.join("missing.pem");
    let read = message(TlsConfig::from_pem_files(&missing, &key_path));
    assert!(
        read.starts_with(&format!("TLS: cannot read {}: ", missing.display())),
        "{read}"
    );
    assert!(matches!(
        TlsConfig::from_pem_files(&cert_path, &key_path),
        Err(TlsError::KeyMismatch)
    ));
    std::fs::write(&key_path, &key).unwrap();
    assert!(TlsConfig::from_pem_files(&cert_path, &key_path).is_ok());
    std::fs::write(&cert_path, "hello").unwrap();
    let named = message(TlsConfig::from_pem_files(&cert_path, &key_path));
    assert!(
        named.contains(&format!("certificate chain ({})", cert_path.display())),
        "{named}"
    );
    std::fs::remove_dir_all(&dir).unwrap();

    // A client's roots, likewise.
    let roots = RootCertificates::from_pem(b"hello");
    assert!(
        matches!(roots, Err(TlsError::NoCertificate { ref what }) if what == "root certificates"),
        "{roots:?}"
    );
}
