//! `tallymesh id …` with the real binary: create, phrase, export, and
//! restore in a fresh data directory, with and without a running node.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use tallymesh_scenarios::{cli_binary, spawn_headless_node, stop_with_sigterm, succeeded, wait_for_control};

const KEY_PASSPHRASE: &str = "key file passphrase for the cli";
const BACKUP_PASSPHRASE: &str = "backup passphrase for the cli";

/// Runs `tallymesh` with the passphrases in the environment and `stdin`
/// piped in.
fn tallymesh_with(args: &[&str], data_dir: &Path, stdin: &str, backup_passphrase: &str) -> Output {
    let mut child = Command::new(cli_binary())
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("TALLYMESH_DATA_DIR")
        .env("TALLYMESH_PASSPHRASE", KEY_PASSPHRASE)
        .env("TALLYMESH_BACKUP_PASSPHRASE", backup_passphrase)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn tallymesh(args: &[&str], data_dir: &Path) -> Output {
    tallymesh_with(args, data_dir, "", BACKUP_PASSPHRASE)
}

fn show(data_dir: &Path, key_file: bool) -> serde_json::Value {
    let args: &[&str] = if key_file {
        &["id", "show", "--json", "--key-file"]
    } else {
        &["id", "show", "--json"]
    };
    serde_json::from_str(&succeeded(&tallymesh(args, data_dir))).unwrap()
}

#[test]
fn id_create_phrase_and_restore_in_a_fresh_data_directory_give_the_same_party() {
    let alice = tempfile::tempdir().unwrap();
    let created = succeeded(&tallymesh(&["id", "create", "Alice", "--key-file"], alice.path()));
    assert!(
        created.starts_with("Alice\n  party id        did:key:z6Mk"),
        "{created}"
    );
    let shown = show(alice.path(), true);
    assert_eq!(shown["state"], "ready");
    assert_eq!(shown["displayName"], "Alice");
    let party = shown["partyId"].as_str().unwrap().to_owned();

    let phrase = succeeded(&tallymesh(&["id", "phrase", "--key-file"], alice.path()));
    assert_eq!(phrase.split_whitespace().count(), 24, "{phrase}");

    let laptop = tempfile::tempdir().unwrap();
    let restored = tallymesh_with(
        &["id", "restore", "--phrase", "--name", "Alice", "--key-file"],
        laptop.path(),
        &phrase,
        BACKUP_PASSPHRASE,
    );
    assert!(succeeded(&restored).contains(&party));
    assert_eq!(show(laptop.path(), true)["partyId"], party.as_str());

    // A phrase with two words swapped is refused, and nothing is created.
    let mut words: Vec<&str> = phrase.split_whitespace().collect();
    words.swap(3, 4);
    if words[3] != words[4] {
        let other = tempfile::tempdir().unwrap();
        let refused = tallymesh_with(
            &["id", "restore", "--phrase", "--name", "Alice", "--key-file"],
            other.path(),
            &words.join(" "),
            BACKUP_PASSPHRASE,
        );
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(refused.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("checksum does not match"), "{stderr}");
        assert!(!stderr.contains(words[0]), "the phrase is not repeated: {stderr}");
        assert_eq!(show(other.path(), true)["state"], "none");
    }

    // The data directory keeps its keys in the key file.
    let without = tallymesh(&["id", "show"], alice.path());
    let stderr = String::from_utf8_lossy(&without.stderr);
    assert_eq!(without.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("keeps its keys in an encrypted key file"), "{stderr}");
    assert!(stderr.contains("hint: add --key-file"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn with_a_running_node_id_commands_use_it_and_a_backup_restores_elsewhere() {
    let alice = tempfile::Builder::new().prefix("tm-").tempdir().unwrap();
    let node = spawn_headless_node(alice.path(), KEY_PASSPHRASE).unwrap();
    assert!(wait_for_control(alice.path()), "the node never answered status");

    // No --key-file: these go to the running node.
    succeeded(&tallymesh(&["id", "create", "Alice"], alice.path()));
    let party = show(alice.path(), false)["partyId"].as_str().unwrap().to_owned();
    let backup = alice.path().join("alice.tmbak");
    let backup_arg = backup.to_str().unwrap();
    succeeded(&tallymesh(&["id", "export", "--out", backup_arg], alice.path()));
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&backup).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let again = tallymesh(&["id", "export", "--out", backup_arg], alice.path());
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    // A fresh data directory with no node running: opened directly.
    let laptop = tempfile::tempdir().unwrap();
    let wrong = tallymesh_with(
        &["id", "import", backup_arg, "--key-file"],
        laptop.path(),
        "",
        "not the backup passphrase",
    );
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert_eq!(wrong.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("wrong passphrase for this backup"), "{stderr}");
    assert_eq!(show(laptop.path(), true)["state"], "none");

    succeeded(&tallymesh(&["id", "import", backup_arg, "--key-file"], laptop.path()));
    let restored = show(laptop.path(), true);
    assert_eq!(restored["partyId"], party.as_str());
    assert_eq!(restored["displayName"], "Alice");

    let output = stop_with_sigterm(node).unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

#[cfg(target_os = "linux")]
#[test]
fn without_a_keychain_node_run_says_to_use_a_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(cli_binary())
        .args(["node", "run", "--listen", "/ip4/127.0.0.1/tcp/0", "--data-dir"])
        .arg(dir.path())
        .env_remove("TALLYMESH_DATA_DIR")
        // A session bus that is not there: the Secret Service is unreachable.
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/tallymesh-test-bus")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("the OS keychain is not available"), "{stderr}");
    assert!(stderr.contains("--key-file"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
