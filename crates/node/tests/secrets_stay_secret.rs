//! Nothing secret leaves the keystore: a node makes a party, signs with
//! it, backs it up, restores it and answers identity calls over its
//! control endpoint with every log event at TRACE level recorded; then
//! every file in its data directory (database, WAL, logs, key file) and
//! every line of log output is searched for the party secret and the
//! device key — raw, hex, base64 — and for the recovery phrase.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use tallymesh_node::control::ControlClient;
use tallymesh_node::identity::RecoveryPhrase;
use tallymesh_node::keystore::{KEY_FILE_NAME, KdfParams, Keystore, KeystoreConfig, Passphrase, Purpose};
use tallymesh_node::{Node, NodeConfig};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

const KEY_PASSPHRASE: &str = "marmalade-lantern-42";
const BACKUP_PASSPHRASE: &str = "tangerine-umbrella-77";

/// Log output, kept in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Records every event at every level (and `log` records, such as sqlx's
/// statements) to memory and to a file in the data directory's `logs/`.
fn record_logs(data_dir: &Path) -> Captured {
    let captured = Captured::default();
    std::fs::create_dir_all(data_dir.join("logs")).unwrap();
    let file = std::fs::File::create(data_dir.join("logs").join("tallymesh.test.log")).unwrap();
    let memory = captured.clone();
    tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new("trace"))
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(move || memory.clone())
                .with_ansi(false),
        )
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(Mutex::new(file))
                .with_ansi(false),
        )
        .try_init()
        .unwrap();
    captured
}

/// Every way a secret might be written down.
fn spellings(secret: &[u8]) -> Vec<(String, Vec<u8>)> {
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    let mut out = vec![
        ("raw".to_owned(), secret.to_vec()),
        ("raw first half".to_owned(), secret[..16].to_vec()),
        ("raw second half".to_owned(), secret[16..].to_vec()),
        ("hex".to_owned(), hex.clone().into_bytes()),
        ("HEX".to_owned(), hex.to_uppercase().into_bytes()),
        ("hex first half".to_owned(), hex.as_bytes()[..32].to_vec()),
        ("decimal list".to_owned(), format!("{secret:?}").into_bytes()),
    ];
    for (name, engine) in [
        ("base64", &STANDARD),
        ("base64 no pad", &STANDARD_NO_PAD),
        ("base64url", &URL_SAFE),
        ("base64url no pad", &URL_SAFE_NO_PAD),
    ] {
        out.push((name.to_owned(), engine.encode(secret).into_bytes()));
        // Without the last, partial group: found inside longer encodings too.
        let text = engine.encode(secret);
        out.push((format!("{name} prefix"), text.as_bytes()[..40].to_vec()));
    }
    out
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            files.extend(files_under(&entry.path()));
        } else if kind.is_file() {
            files.push(entry.path());
        }
    }
    files
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Fails naming the file and the spelling if any needle is found.
fn assert_nowhere(where_: &str, haystack: &[u8], needles: &[(String, Vec<u8>)]) {
    for (name, needle) in needles {
        assert!(!contains(haystack, needle), "{name} found in {where_}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_database_the_logs_or_the_log_output() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("node");
    std::fs::create_dir(&data_dir).unwrap();
    let captured = record_logs(&data_dir);

    let config = NodeConfig::new(data_dir.clone())
        .with_listen(vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()])
        .with_keystore(KeystoreConfig::key_file(Passphrase::new(KEY_PASSPHRASE)))
        .with_file_kdf(KdfParams::INSECURE_FOR_TESTS)
        .with_lan_discovery(false);
    let node = Node::start(config.clone()).await.unwrap();
    let identity = node.identity();
    identity.create("Alice").await.unwrap();
    let phrase = identity.recovery_phrase().await.unwrap();
    let backup = identity
        .export_backup(&Passphrase::new(BACKUP_PASSPHRASE))
        .await
        .unwrap();
    identity.device_certificate().await.unwrap();
    // Refusals, whose messages end up in logs and on screens.
    let mut messages = Vec::new();
    messages.push(
        identity
            .restore_from_backup(&backup, &Passphrase::new("wrong backup passphrase"))
            .await
            .unwrap_err()
            .to_string(),
    );
    let mut words: Vec<&str> = phrase.words().collect();
    words.swap(0, 23);
    messages.push(
        identity
            .restore_from_phrase(&RecoveryPhrase::new(words.join(" ")), "Alice")
            .await
            .map(|s| format!("{s:?}"))
            .unwrap_or_else(|e| e.to_string()),
    );
    // The same party again: the secret is written to the keystore again.
    identity
        .restore_from_backup(&backup, &Passphrase::new(BACKUP_PASSPHRASE))
        .await
        .unwrap();
    identity.restore_from_phrase(&phrase, "Alice").await.unwrap();
    // And over the control endpoint, where phrases and passphrases travel.
    let mut client = ControlClient::connect(&data_dir).await.unwrap();
    assert_eq!(client.recovery_phrase().await.unwrap().expose(), phrase.expose());
    client.export_backup(&Passphrase::new(BACKUP_PASSPHRASE)).await.unwrap();
    messages.push(client.create_identity("Bob").await.unwrap_err().to_string());
    messages.push(format!("{:?} {:?}", node.identity().state().await.unwrap(), config));

    // The secrets, read back the way only the keystore can.
    let keys = Keystore::open_key_file(
        &data_dir.join(KEY_FILE_NAME),
        &Passphrase::new(KEY_PASSPHRASE),
        KdfParams::INSECURE_FOR_TESTS,
    )
    .unwrap();
    let party = keys.get(Purpose::PartySecret).unwrap().unwrap();
    let device = keys.get(Purpose::DeviceKey).unwrap().unwrap();
    let mut needles = spellings(party.expose());
    needles.extend(
        spellings(device.expose())
            .into_iter()
            .map(|(n, b)| (format!("device key {n}"), b)),
    );
    needles.push(("recovery phrase".to_owned(), phrase.expose().as_bytes().to_vec()));
    let first_words: Vec<&str> = phrase.words().take(4).collect();
    needles.push((
        "first words of the phrase".to_owned(),
        first_words.join(" ").into_bytes(),
    ));
    needles.push(("key file passphrase".to_owned(), KEY_PASSPHRASE.as_bytes().to_vec()));
    needles.push(("backup passphrase".to_owned(), BACKUP_PASSPHRASE.as_bytes().to_vec()));

    // While the node runs (the WAL holds the latest writes), then after a
    // clean stop (everything checkpointed into the database file).
    for moment in ["while running", "after shutdown"] {
        if moment == "after shutdown" {
            node.shutdown().await;
        }
        let files = files_under(&data_dir);
        assert!(files.iter().any(|f| f.ends_with("tallymesh.sqlite")), "{files:?}");
        for file in files {
            // SQLite may remove its -wal/-shm files between listing and reading.
            let bytes = match std::fs::read(&file) {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => panic!("cannot read {}: {e}", file.display()),
            };
            assert_nowhere(&format!("{} ({moment})", file.display()), &bytes, &needles);
        }
    }
    for message in &messages {
        assert_nowhere(&format!("the message {message:?}"), message.as_bytes(), &needles);
    }
    let output = captured.0.lock().unwrap().clone();
    let text = String::from_utf8_lossy(&output);
    assert!(text.contains("identity ready"), "logging was recorded");
    assert!(
        text.contains("TRACE") || text.contains("DEBUG"),
        "low levels were recorded"
    );
    assert_nowhere("the log output", &output, &needles);
}
