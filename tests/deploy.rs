//! `deploy/`: `deploy/local.sh --check` starts a whole service on free ports (Redis,
//! three game processes, two gateways), a player creates a table through one
//! gateway and another joins it by its code through the other, and the script
//! stops everything it started; `deploy/compose.yaml` and the systemd units parse
//! and describe the same topology.
//!
//! Without `redis-server` the script's test is skipped with a notice (and fails
//! under CI, which installs it); without PyYAML or `systemd-analyze` the file
//! checks are too.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use nodelink_tests::repo_root;
use serde_json::Value;

/// The script builds its binaries with cargo first: the first run in a fresh
/// checkout compiles them; later ones find them built.
const SCRIPT_DEADLINE: Duration = Duration::from_secs(900);

/// Whether `program --version` runs; when not, `None` after a notice, or a panic
/// under CI when CI must have it.
fn installed(program: &str, install: &str, needed_under_ci: bool) -> bool {
    let runs = std::process::Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !runs {
        assert!(
            !needed_under_ci || std::env::var_os("CI").is_none(),
            "{program} is needed under CI ({install})"
        );
        eprintln!("skipped: {program} is not installed ({install})");
    }
    runs
}

/// `count` ports free on 127.0.0.1 now (bound to port 0, then released).
fn free_ports(count: usize) -> Vec<u16> {
    let listeners: Vec<std::net::TcpListener> = (0..count)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("a free port"))
        .collect();
    listeners
        .iter()
        .map(|listener| listener.local_addr().expect("its address").port())
        .collect()
}

fn joined(ports: &[u16]) -> String {
    ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Runs `deploy/local.sh --check` on `ports` (Redis, three processes, two
/// gateways): its exit status and everything it printed.
async fn check_on(ports: &[u16]) -> (bool, String) {
    let mut script = tokio::process::Command::new("bash");
    script
        .arg(repo_root().join("deploy/local.sh"))
        .arg("--check")
        .args(["--redis-port", &ports[0].to_string()])
        .args(["--process-ports", &joined(&ports[1..4])])
        .args(["--gateway-ports", &joined(&ports[4..6])])
        .args(["--service", "deploy-test"])
        .current_dir(repo_root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = script.spawn().expect("bash runs deploy/local.sh");
    let pid = child.id().expect("a running script");
    match tokio::time::timeout(SCRIPT_DEADLINE, child.wait_with_output()).await {
        Ok(output) => {
            let output = output.expect("the script's output");
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            (output.status.success(), text)
        }
        Err(_) => {
            // SIGTERM: the script's trap stops what it started before it exits.
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
            panic!("deploy/local.sh --check did not end within {SCRIPT_DEADLINE:?}");
        }
    }
}

#[tokio::test]
async fn local_check_meets_two_players_through_two_gateways() {
    if !installed("redis-server", "apt-get install redis-server", true) {
        return;
    }
    // Ports picked free may be taken by another test before the script binds
    // them: then it fails to start, saying so, and is tried on others.
    for attempt in 1..=3 {
        let ports = free_ports(6);
        let (ok, output) = check_on(&ports).await;
        if ok {
            assert!(
                output.contains("and they see each other"),
                "the probe's report:\n{output}"
            );
            // Nothing it started outlives it: its ports are free again.
            for port in &ports {
                assert!(
                    std::net::TcpListener::bind(("127.0.0.1", *port)).is_ok(),
                    "port {port} is still taken after the script ended:\n{output}"
                );
            }
            return;
        }
        let taken = output.contains("in use") || output.contains("Address already");
        assert!(
            taken && attempt < 3,
            "deploy/local.sh --check failed:\n{output}"
        );
    }
}

/// A YAML file as JSON, read by PyYAML (`None` after a notice without it).
fn yaml(path: &Path) -> Option<Value> {
    let read = "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))";
    let output = std::process::Command::new("python3")
        .args(["-c", read])
        .arg(path)
        .output();
    match output {
        Ok(output) if output.status.success() => {
            Some(serde_json::from_slice(&output.stdout).expect("PyYAML's JSON"))
        }
        Ok(output) if !String::from_utf8_lossy(&output.stderr).contains("No module named") => {
            panic!(
                "{} does not parse: {}",
                path.display(),
                String::from_utf8_lossy(&output.stderr)
            )
        }
        _ => {
            eprintln!(
                "skipped: python3 with PyYAML is not installed (apt-get install python3-yaml)"
            );
            None
        }
    }
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .expect("a list")
        .iter()
        .map(|item| item.as_str().expect("a string"))
        .collect()
}

/// The value after `flag` in a command line.
fn flag<'c>(command: &[&'c str], flag: &str) -> &'c str {
    let at = command
        .iter()
        .position(|arg| *arg == flag)
        .unwrap_or_else(|| panic!("{flag} in {command:?}"));
    command[at + 1]
}

#[test]
fn compose_runs_redis_three_processes_and_two_gateways() {
    let Some(compose) = yaml(&repo_root().join("deploy/compose.yaml")) else {
        return;
    };
    let services = compose["services"].as_object().expect("services");
    let mut names: Vec<&str> = services.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "gateway-1",
            "gateway-2",
            "process-1",
            "process-2",
            "process-3",
            "redis"
        ]
    );
    let redis_url = "redis://redis:6379";
    let mut gateway_addresses = Vec::new();
    for name in ["gateway-1", "gateway-2"] {
        let gateway = &services[name];
        let command = strings(&gateway["command"]);
        assert_eq!(command[0], "nodelink-relay", "{name}");
        assert_eq!(flag(&command, "--redis"), redis_url, "{name}");
        assert_eq!(strings(&gateway["depends_on"]), ["redis"], "{name}");
        assert_eq!(gateway["stop_signal"], "SIGINT", "{name}");
        assert_eq!(strings(&gateway["ports"]).len(), 1, "{name} is published");
        let address = gateway["networks"]["default"]["ipv4_address"]
            .as_str()
            .expect("a fixed address, for the processes to trust");
        gateway_addresses.push(address);
    }
    for name in ["process-1", "process-2", "process-3"] {
        let process = &services[name];
        let command = strings(&process["command"]);
        assert_eq!(command[0], "service", "{name}");
        assert_eq!(flag(&command, "--redis"), redis_url, "{name}");
        let port = flag(&command, "--port");
        assert_eq!(
            flag(&command, "--advertise"),
            format!("ws://{name}:{port}/"),
            "{name} is reached by its name on the network"
        );
        assert_eq!(
            flag(&command, "--trust"),
            gateway_addresses.join(","),
            "{name}"
        );
        assert!(process.get("ports").is_none(), "{name} is not published");
    }
    let dockerfile =
        std::fs::read_to_string(repo_root().join("deploy/Dockerfile")).expect("deploy/Dockerfile");
    for binary in ["/usr/local/bin/service", "/usr/local/bin/nodelink-relay"] {
        assert!(dockerfile.contains(binary), "the image has {binary}");
    }
}

#[test]
fn systemd_units_verify() {
    if !installed("systemd-analyze", "apt-get install systemd", false) {
        return;
    }
    let units = repo_root().join("deploy/systemd");
    let output = std::process::Command::new("systemd-analyze")
        .arg("verify")
        .arg(units.join("nodelink-service@.service"))
        .arg(units.join("nodelink-gateway@.service"))
        .output()
        .expect("systemd-analyze runs");
    let said = String::from_utf8_lossy(&output.stderr);
    // The binaries are installed on the servers, not here: that is all it may say.
    let complaints: Vec<&str> = said
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.contains("is not executable"))
        .collect();
    assert!(complaints.is_empty(), "systemd-analyze verify:\n{said}");
    let environment = std::fs::read_to_string(units.join("service.env")).expect("service.env");
    for unit in ["nodelink-service@.service", "nodelink-gateway@.service"] {
        let text = std::fs::read_to_string(units.join(unit)).expect("the unit");
        for variable in text.split("${").skip(1) {
            let name = &variable[..variable.find('}').expect("a variable's end")];
            assert!(
                environment.contains(&format!("\n{name}=")),
                "{unit} uses {name}, which service.env does not set"
            );
        }
    }
}
