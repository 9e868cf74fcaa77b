//! The real `tallymesh` binary, as a person or a script would run it.

use std::path::Path;
use std::process::{Child, Command, Output};

use tallymesh_scenarios::{cli_binary, spawn_headless_node, stop_with_sigterm, until_blocking};

fn tallymesh(args: &[&str]) -> Output {
    let binary = cli_binary();
    assert!(
        binary.exists(),
        "{} is missing: `cargo test --workspace` builds it",
        binary.display()
    );
    Command::new(binary)
        .args(args)
        .env_remove("TALLYMESH_DATA_DIR")
        .env("RUST_LOG", "info")
        .output()
        .unwrap()
}

/// A headless node keeping its keys in a key file, as on a server (the
/// keychain path has its own scenarios).
fn spawn_node(data_dir: &Path) -> Child {
    spawn_headless_node(data_dir, "scenario key file passphrase").unwrap()
}

/// Asks for status until the node answers (it needs a moment to start).
fn status_when_up(data_dir: &Path) -> serde_json::Value {
    let dir = data_dir.to_str().unwrap();
    until_blocking("the node to answer status", || {
        let out = tallymesh(&["status", "--json", "--data-dir", dir]);
        out.status
            .success()
            .then(|| serde_json::from_slice(&out.stdout).unwrap())
    })
}

#[cfg(unix)]
#[test]
fn node_run_answers_status_and_exits_cleanly_on_sigterm() {
    let dir = tempfile::Builder::new().prefix("tm-").tempdir().unwrap();
    let node = spawn_node(dir.path());

    let status = status_when_up(dir.path());
    assert_eq!(status["dataDir"], dir.path().display().to_string());
    assert!(status["peerId"].as_str().unwrap().starts_with("12D3KooW"), "{status}");
    assert!(
        status["listenAddrs"][0]
            .as_str()
            .unwrap()
            .starts_with("/ip4/127.0.0.1/tcp/")
    );

    let human = tallymesh(&["status", "--data-dir", dir.path().to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&human.stdout).contains("running for"));

    let output = stop_with_sigterm(node).unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "exit {:?}: {stderr}", output.status);
    assert!(stderr.contains("stopped"), "{stderr}");
    assert!(
        !dir.path().join("control.sock").exists(),
        "the socket is removed on exit"
    );

    let after = tallymesh(&["status", "--data-dir", dir.path().to_str().unwrap()]);
    assert_eq!(after.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&after.stderr).contains("no Tallymesh node is running"));
}

#[test]
fn status_without_a_running_node_says_so_plainly() {
    let dir = tempfile::tempdir().unwrap();
    let out = tallymesh(&["status", "--data-dir", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: no Tallymesh node is running with the data directory"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_corrupt_database_is_refused_with_its_name_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tallymesh.sqlite");
    let garbage = b"this is not a database, and must survive the attempt".repeat(20);
    std::fs::write(&db, &garbage).unwrap();

    let out = tallymesh(&[
        "node",
        "run",
        "--listen",
        "/ip4/127.0.0.1/tcp/0",
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&db.display().to_string()), "{stderr}");
    assert!(stderr.contains("damaged or is not a Tallymesh database"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(std::fs::read(&db).unwrap(), garbage);
    assert!(!dir.path().join("tallymesh.sqlite-wal").exists());
}

#[test]
fn an_unusable_data_directory_is_refused_clearly() {
    let root = tempfile::tempdir().unwrap();
    let blocker = root.path().join("blocker");
    std::fs::write(&blocker, b"a file where a folder should be").unwrap();
    let data_dir = blocker.join("data");

    let out = tallymesh(&["node", "run", "--data-dir", data_dir.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot use the data directory {}", data_dir.display())),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(std::fs::read(&blocker).unwrap(), b"a file where a folder should be");
}

#[test]
fn an_unknown_flag_is_refused_with_usage() {
    let out = tallymesh(&["status", "--frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unexpected argument '--frobnicate'"), "{stderr}");
    assert!(stderr.contains("Usage:"), "{stderr}");
}

#[test]
fn every_command_answers_help() {
    for args in [
        &["--help"][..],
        &["node", "--help"],
        &["node", "run", "--help"],
        &["status", "--help"],
        &["id", "--help"],
        &["id", "restore", "--help"],
    ] {
        let out = tallymesh(args);
        assert!(out.status.success(), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("Usage:"), "{args:?}");
    }
}
