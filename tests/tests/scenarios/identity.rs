//! Identity and keys on real nodes: the device key from the keystore, the
//! party created, backed up and restored, refusals that change nothing.

use std::time::Duration;

use tallymesh_node::identity::{IdentityError, RecoveryPhrase};
use tallymesh_node::keystore::{
    KEY_FILE_NAME, Keystore, KeystoreConfig, KeystoreError, KeystoreKind, Passphrase, Purpose,
};
use tallymesh_node::{IdentityState, Node, NodeError, NodeEvent};
use tallymesh_scenarios::{
    TEST_PASSPHRASE, TestNode, forget_keychain_entries, keychain_expected, temp_data_dir, test_config,
};

fn party_of(state: &IdentityState) -> String {
    state.party_id().expect("a party").to_string()
}

async fn peer_id(node: &Node) -> String {
    node.status().await.unwrap().peer_id
}

/// The bytes of every file in a data directory except the lock, the
/// socket and SQLite's shared-memory index: what "nothing changed" means.
fn snapshot(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "node.lock" && !n.ends_with("-shm") && !n.ends_with("-wal"))
        .map(|n| (n.clone(), std::fs::read(dir.join(&n)).unwrap()))
        .collect();
    files.sort();
    files
}

#[tokio::test]
async fn the_peer_id_is_the_device_key_from_the_keystore_and_survives_restarts() {
    let alice = TestNode::start().await.unwrap();
    let first = peer_id(&alice.node).await;
    assert!(alice.path().join(KEY_FILE_NAME).exists());

    let alice = alice.restart().await.unwrap();
    assert_eq!(peer_id(&alice.node).await, first);

    // The key file holds the seed of exactly that peer id.
    let keys = Keystore::open_key_file(
        &alice.path().join(KEY_FILE_NAME),
        &Passphrase::new(TEST_PASSPHRASE),
        tallymesh_node::KdfParams::INSECURE_FOR_TESTS,
    )
    .unwrap();
    let seed = keys.get(Purpose::DeviceKey).unwrap().unwrap();
    let from_seed = tallymesh_net::keypair_from_seed(seed.expose()).unwrap();
    assert_eq!(from_seed.public().to_peer_id().to_string(), first);

    let bob = TestNode::start().await.unwrap();
    assert_ne!(
        peer_id(&bob.node).await,
        first,
        "each data directory has its own device key"
    );
    alice.node.shutdown().await;
    bob.node.shutdown().await;
}

#[tokio::test]
async fn a_created_identity_survives_a_restart_with_a_certificate_for_this_device() {
    let alice = TestNode::start().await.unwrap();
    assert_eq!(alice.node.identity().state().await.unwrap(), IdentityState::None);
    let created = alice.node.identity().create("  Alice  ").await.unwrap();
    let IdentityState::Ready {
        display_name,
        device_peer_id,
        ..
    } = &created
    else {
        panic!("{created:?}")
    };
    assert_eq!(display_name, "Alice");
    assert_eq!(device_peer_id, &peer_id(&alice.node).await);

    let certificate = alice.node.identity().device_certificate().await.unwrap();
    assert_eq!(certificate.record().party.to_string(), party_of(&created));
    assert_eq!(certificate.record().name, "Scenario node");
    assert_eq!(certificate.signer(), certificate.record().party.key());

    let alice = alice.restart().await.unwrap();
    assert_eq!(alice.node.identity().state().await.unwrap(), created);
    let again = alice.node.identity().device_certificate().await.unwrap();
    assert_eq!(again.bytes(), certificate.bytes(), "the stored certificate is reused");

    let refused = alice.node.identity().create("Alice again").await.unwrap_err();
    assert!(
        matches!(refused, NodeError::Identity(IdentityError::AlreadyExists { .. })),
        "{refused:?}"
    );
    alice.node.shutdown().await;
}

#[tokio::test]
async fn restoring_from_the_phrase_on_a_fresh_node_gives_back_the_same_party() {
    let alice = TestNode::start().await.unwrap();
    let created = alice.node.identity().create("Alice").await.unwrap();
    let phrase = alice.node.identity().recovery_phrase().await.unwrap();
    assert_eq!(phrase.words().count(), 24);

    let laptop = TestNode::start().await.unwrap();
    let restored = laptop
        .node
        .identity()
        .restore_from_phrase(&phrase, "Alice (laptop)")
        .await
        .unwrap();
    assert_eq!(party_of(&restored), party_of(&created));
    let certificate = laptop.node.identity().device_certificate().await.unwrap();
    assert_eq!(certificate.record().party.to_string(), party_of(&created));
    assert_eq!(
        laptop.node.identity().recovery_phrase().await.unwrap().expose(),
        phrase.expose()
    );
    alice.node.shutdown().await;
    laptop.node.shutdown().await;
}

#[tokio::test]
async fn restoring_from_a_backup_gives_back_the_party_and_its_name() {
    let alice = TestNode::start().await.unwrap();
    let created = alice.node.identity().create("Alice's Bakery").await.unwrap();
    let backup = alice
        .node
        .identity()
        .export_backup(&Passphrase::new("backup passphrase"))
        .await
        .unwrap();
    assert_eq!(&backup[..8], b"TALLYBAK");

    let fresh = TestNode::start().await.unwrap();
    let restored = fresh
        .node
        .identity()
        .restore_from_backup(&backup, &Passphrase::new("backup passphrase"))
        .await
        .unwrap();
    assert_eq!(restored.party_id(), created.party_id());
    let IdentityState::Ready {
        display_name,
        created_at_ms,
        ..
    } = &restored
    else {
        panic!("{restored:?}")
    };
    assert_eq!(display_name, "Alice's Bakery");
    let IdentityState::Ready {
        created_at_ms: original,
        ..
    } = &created
    else {
        unreachable!()
    };
    assert_eq!(created_at_ms, original, "the backup carries the creation time");
    alice.node.shutdown().await;
    fresh.node.shutdown().await;
}

#[tokio::test]
async fn a_wrong_phrase_or_backup_passphrase_is_refused_and_changes_nothing() {
    let alice = TestNode::start().await.unwrap();
    alice.node.identity().create("Alice").await.unwrap();
    let phrase = alice.node.identity().recovery_phrase().await.unwrap();
    let backup = alice
        .node
        .identity()
        .export_backup(&Passphrase::new("backup passphrase"))
        .await
        .unwrap();

    let fresh = TestNode::start().await.unwrap();
    let before = snapshot(fresh.path());

    let words: Vec<&str> = phrase.words().collect();
    let mut swapped = words.clone();
    swapped.swap(0, 1);
    let mut misspelt = words.clone();
    misspelt[6] = "notaword";
    let cases = [
        (RecoveryPhrase::new(words[..23].join(" ")), "has 23 words"),
        (RecoveryPhrase::new(misspelt.join(" ")), "word 7"),
        (RecoveryPhrase::new(swapped.join(" ")), "checksum"),
    ];
    for (wrong, expected) in cases {
        if wrong.expose() == phrase.expose() {
            continue; // two equal first words: the swap changed nothing
        }
        let err = fresh
            .node
            .identity()
            .restore_from_phrase(&wrong, "Alice")
            .await
            .unwrap_err();
        let message = err.to_string();
        assert!(
            matches!(err, NodeError::Identity(IdentityError::BadPhrase(_))),
            "{err:?}"
        );
        assert!(message.contains(expected), "{message}");
        assert!(!message.contains(words[0]) || words[0].len() < 4, "{message}");
    }
    let err = fresh
        .node
        .identity()
        .restore_from_backup(&backup, &Passphrase::new("not the passphrase"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, NodeError::Identity(IdentityError::WrongBackupPassphrase)),
        "{err:?}"
    );
    assert!(err.to_string().contains("wrong passphrase"), "{err}");
    let err = fresh
        .node
        .identity()
        .restore_from_backup(b"TALLYBAK but far too short", &Passphrase::new("backup passphrase"))
        .await
        .unwrap_err();
    assert!(err.to_string().starts_with("cannot read the backup"), "{err}");

    assert_eq!(fresh.node.identity().state().await.unwrap(), IdentityState::None);
    let keys = Keystore::open_key_file(
        &fresh.path().join(KEY_FILE_NAME),
        &Passphrase::new(TEST_PASSPHRASE),
        tallymesh_node::KdfParams::INSECURE_FOR_TESTS,
    )
    .unwrap();
    assert!(keys.get(Purpose::PartySecret).unwrap().is_none());
    fresh.node.shutdown().await;
    assert_eq!(snapshot(fresh.path()).len(), before.len());
    alice.node.shutdown().await;
}

#[tokio::test]
async fn restoring_another_party_is_refused_and_the_same_party_repairs_a_lost_secret() {
    let alice = TestNode::start().await.unwrap();
    let alice_state = alice.node.identity().create("Alice").await.unwrap();
    let alice_phrase = alice.node.identity().recovery_phrase().await.unwrap();
    let bob = TestNode::start().await.unwrap();
    bob.node.identity().create("Bob").await.unwrap();
    let bob_phrase = bob.node.identity().recovery_phrase().await.unwrap();

    let err = alice
        .node
        .identity()
        .restore_from_phrase(&bob_phrase, "Bob")
        .await
        .unwrap_err();
    assert!(
        matches!(err, NodeError::Identity(IdentityError::OtherParty { .. })),
        "{err:?}"
    );
    assert_eq!(alice.node.identity().state().await.unwrap(), alice_state);

    // The keystore loses the party secret (a reset keychain, say).
    alice.node.shutdown().await;
    let keys = Keystore::open_key_file(
        &alice.path().join(KEY_FILE_NAME),
        &Passphrase::new(TEST_PASSPHRASE),
        tallymesh_node::KdfParams::INSECURE_FOR_TESTS,
    )
    .unwrap();
    keys.delete(Purpose::PartySecret).unwrap();
    drop(keys);
    let alice = TestNode::start_in(alice.dir, alice.config).await.unwrap();
    let missing = alice.node.identity().state().await.unwrap();
    assert!(matches!(missing, IdentityState::KeyMissing { .. }), "{missing:?}");
    assert_eq!(missing.party_id(), alice_state.party_id());
    let err = alice.node.identity().recovery_phrase().await.unwrap_err();
    assert!(err.to_string().contains("is missing from the key file"), "{err}");
    assert!(alice.node.identity().create("Alice").await.is_err());

    let repaired = alice
        .node
        .identity()
        .restore_from_phrase(&alice_phrase, "Alice")
        .await
        .unwrap();
    assert_eq!(repaired.party_id(), alice_state.party_id());
    assert!(matches!(repaired, IdentityState::Ready { .. }));
    alice.node.shutdown().await;
    bob.node.shutdown().await;
}

#[tokio::test]
async fn identity_changes_are_published_as_events() {
    let alice = TestNode::start().await.unwrap();
    let mut events = alice.node.events();
    let created = alice.node.identity().create("Alice").await.unwrap();
    let event = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Ok(event @ NodeEvent::IdentityChanged { .. }) = events.recv().await {
                return event;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(event, NodeEvent::IdentityChanged { identity: created });
    alice.node.shutdown().await;
}

#[tokio::test]
async fn a_wrong_key_file_passphrase_stops_the_start_and_changes_nothing() {
    let alice = TestNode::start().await.unwrap();
    alice.node.identity().create("Alice").await.unwrap();
    alice.node.shutdown().await;
    let before = snapshot(alice.path());

    let wrong = test_config(alice.path()).with_keystore(KeystoreConfig::key_file(Passphrase::new("wrong passphrase")));
    let err = Node::start(wrong).await.unwrap_err();
    assert!(
        matches!(err, NodeError::Keystore(KeystoreError::WrongPassphrase { .. })),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "wrong passphrase for key file {}",
            alice.path().join(KEY_FILE_NAME).display()
        )
    );
    assert_eq!(snapshot(alice.path()), before, "key file and database untouched");

    // The right passphrase still opens it, and the data directory is free.
    let alice = TestNode::start_in(alice.dir, alice.config).await.unwrap();
    assert!(matches!(
        alice.node.identity().state().await.unwrap(),
        IdentityState::Ready { .. }
    ));
    alice.node.shutdown().await;
}

#[tokio::test]
async fn a_data_directory_keeps_the_backend_it_started_with() {
    let alice = TestNode::start().await.unwrap();
    alice.node.shutdown().await;
    let keychain = test_config(alice.path()).with_keystore(KeystoreConfig::OsKeychain);
    let err = Node::start(keychain).await.unwrap_err();
    match err {
        NodeError::Keystore(KeystoreError::WrongBackend { kept, configured }) => {
            assert_eq!((kept, configured), (KeystoreKind::KeyFile, KeystoreKind::OsKeychain));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn identity_calls_work_over_the_control_endpoint() {
    use tallymesh_node::control::ControlClient;

    let alice = TestNode::start().await.unwrap();
    let mut client = ControlClient::connect(alice.path()).await.unwrap();
    assert_eq!(client.identity().await.unwrap(), IdentityState::None);
    let created = client.create_identity("Alice").await.unwrap();
    let phrase = client.recovery_phrase().await.unwrap();
    let backup = client
        .export_backup(&Passphrase::new("backup passphrase"))
        .await
        .unwrap();
    let refused = client.create_identity("Alice again").await.unwrap_err();
    assert!(refused.to_string().contains("already acts for Alice"), "{refused}");

    let bob = TestNode::start().await.unwrap();
    let mut bob_client = ControlClient::connect(bob.path()).await.unwrap();
    let wrong = bob_client
        .restore_from_backup(&backup, &Passphrase::new("wrong passphrase"))
        .await
        .unwrap_err();
    assert!(wrong.to_string().contains("wrong passphrase"), "{wrong}");
    let restored = bob_client
        .restore_from_backup(&backup, &Passphrase::new("backup passphrase"))
        .await
        .unwrap();
    assert_eq!(restored.party_id(), created.party_id());

    let carol = TestNode::start().await.unwrap();
    let mut carol_client = ControlClient::connect(carol.path()).await.unwrap();
    let restored = carol_client.restore_from_phrase(&phrase, "Alice").await.unwrap();
    assert_eq!(restored.party_id(), created.party_id());

    for node in [alice, bob, carol] {
        node.node.shutdown().await;
    }
}

#[tokio::test]
async fn with_the_os_keychain_the_peer_id_and_the_party_survive_restarts() {
    if !keychain_expected() {
        eprintln!("skipped: no D-Bus session, so no Secret Service (run under scripts/with-keyring.sh)");
        return;
    }
    let alice = TestNode::start_with_keychain().await.unwrap();
    let bob = TestNode::start_with_keychain().await.unwrap();
    assert_ne!(alice.node.keystore_id(), bob.node.keystore_id());
    assert_ne!(peer_id(&alice.node).await, peer_id(&bob.node).await);
    assert!(!alice.path().join(KEY_FILE_NAME).exists());
    assert_eq!(alice.node.keystore_description(), "the OS keychain");

    let first = peer_id(&alice.node).await;
    let created = alice.node.identity().create("Alice").await.unwrap();
    let alice = alice.restart().await.unwrap();
    assert_eq!(peer_id(&alice.node).await, first);
    assert_eq!(alice.node.identity().state().await.unwrap(), created);
    assert_eq!(
        bob.node.identity().state().await.unwrap(),
        IdentityState::None,
        "bob's keystore id keeps his entries apart"
    );

    let ids = [alice.node.keystore_id().to_owned(), bob.node.keystore_id().to_owned()];
    alice.node.shutdown().await;
    bob.node.shutdown().await;
    for id in ids {
        forget_keychain_entries(&id);
    }
}

#[tokio::test]
async fn a_moved_data_directory_finds_its_keychain_entries() {
    if !keychain_expected() {
        eprintln!("skipped: no D-Bus session, so no Secret Service (run under scripts/with-keyring.sh)");
        return;
    }
    let alice = TestNode::start_with_keychain().await.unwrap();
    let created = alice.node.identity().create("Alice").await.unwrap();
    let first = peer_id(&alice.node).await;
    let id = alice.node.keystore_id().to_owned();
    alice.node.shutdown().await;

    let elsewhere = temp_data_dir().unwrap();
    let moved = elsewhere.path().join("moved");
    std::fs::rename(alice.path(), &moved).unwrap();
    let config = test_config(&moved).with_keystore(KeystoreConfig::OsKeychain);
    let node = Node::start(config).await.unwrap();
    assert_eq!(node.keystore_id(), id);
    assert_eq!(peer_id(&node).await, first);
    assert_eq!(node.identity().state().await.unwrap(), created);
    node.shutdown().await;
    forget_keychain_entries(&id);
}
