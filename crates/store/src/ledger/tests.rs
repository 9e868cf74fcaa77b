use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use proptest::prelude::*;

use super::*;

const TALLY: [u8; 16] = [0x7a; 16];
const OTHER: [u8; 16] = [0x3c; 16];

fn db_in(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("tallymesh.sqlite")
}

async fn served(path: &Path) -> Store {
    let store = Store::open(path).await.unwrap();
    store.ledger_serve(&TALLY, b"genesis", 1).await.unwrap();
    store
}

fn vote(height: u64, round: u64, step: u8) -> LedgerRecord {
    LedgerRecord::Vote {
        height,
        round,
        step,
        vote: format!("vote {height}/{round}/{step}").into_bytes(),
    }
}

fn block(height: u64) -> LedgerRecord {
    LedgerRecord::Block {
        height,
        block: format!("block {height}").into_bytes(),
        certificate: format!("certificate {height}").into_bytes(),
    }
}

fn one_of_each(height: u64) -> Vec<LedgerRecord> {
    vec![
        LedgerRecord::Pending {
            id: [height as u8; 32],
            entry: b"a chit".to_vec(),
        },
        LedgerRecord::Proposal {
            height,
            round: 0,
            message: b"proposal".to_vec(),
        },
        vote(height, 0, 0),
        LedgerRecord::Lock {
            height,
            round: 0,
            block: format!("block {height}").into_bytes(),
            proof: vec![b"prevote a".to_vec(), Vec::new(), b"prevote b".to_vec()],
        },
        vote(height, 0, 1),
        block(height),
        LedgerRecord::Settled {
            ids: vec![[height as u8; 32], [0xee; 32]],
        },
    ]
}

#[tokio::test]
async fn every_record_kind_reads_back_in_order_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let store = served(&db_in(&dir)).await;
    let mut written = one_of_each(1);
    // Empty bytes and empty lists are values too.
    written.push(LedgerRecord::Vote {
        height: 2,
        round: i64::MAX as u64,
        step: 255,
        vote: Vec::new(),
    });
    written.push(LedgerRecord::Settled { ids: Vec::new() });
    written.push(LedgerRecord::Lock {
        height: 2,
        round: 3,
        block: Vec::new(),
        proof: Vec::new(),
    });
    let appended = store.ledger_append(&TALLY, &written).await.unwrap();
    assert_eq!(appended.written, written.len());
    assert_eq!(appended.last_seq, written.len() as u64);
    store.close().await;

    let store = Store::open(&db_in(&dir)).await.unwrap();
    assert_eq!(store.ledger_records(&TALLY).await.unwrap(), written);
    assert_eq!(store.ledger_height(&TALLY).await.unwrap(), 1);
    assert_eq!(
        store.ledger_tallies().await.unwrap(),
        vec![LedgerTally {
            tally: TALLY,
            genesis: b"genesis".to_vec(),
            created_at_ms: 1
        }]
    );
    store.close().await;
}

#[tokio::test]
async fn a_batch_with_a_forking_block_leaves_nothing_of_the_batch() {
    let dir = tempfile::tempdir().unwrap();
    let store = served(&db_in(&dir)).await;
    store.ledger_append(&TALLY, &[vote(1, 0, 0), block(1)]).await.unwrap();
    let before = store.ledger_records(&TALLY).await.unwrap();

    let fork = LedgerRecord::Block {
        height: 1,
        block: b"another block 1".to_vec(),
        certificate: b"another certificate".to_vec(),
    };
    let batch = [
        vote(2, 0, 0),
        block(2),
        LedgerRecord::Settled { ids: vec![[1; 32]] },
        fork,
    ];
    let err = store.ledger_append(&TALLY, &batch).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::LedgerFork { height: 1, tally, .. } if *tally == hex(&TALLY)),
        "{err:?}"
    );
    assert!(err.to_string().contains("fork"), "{err}");

    assert_eq!(store.ledger_records(&TALLY).await.unwrap(), before);
    assert_eq!(
        store.ledger_height(&TALLY).await.unwrap(),
        1,
        "block 2 of the batch is gone too"
    );
    assert_eq!(store.ledger_block(&TALLY, 2).await.unwrap(), None);
    assert_eq!(
        store.ledger_block(&TALLY, 1).await.unwrap().unwrap().block,
        b"block 1".to_vec()
    );
    // The sequence carries on from the last stored record.
    let next = store.ledger_append(&TALLY, &[vote(2, 0, 0)]).await.unwrap();
    assert_eq!(next.last_seq, 3);
    store.close().await;
}

#[tokio::test]
async fn rewriting_a_certified_block_identically_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = served(&db_in(&dir)).await;
    store.ledger_append(&TALLY, &[block(1), block(2)]).await.unwrap();
    let before = store.ledger_records(&TALLY).await.unwrap();

    // The same block with another quorum of precommits is the same block.
    let again = LedgerRecord::Block {
        height: 1,
        block: b"block 1".to_vec(),
        certificate: b"other precommits".to_vec(),
    };
    let appended = store.ledger_append(&TALLY, &[block(2), again]).await.unwrap();
    assert_eq!(
        appended,
        LedgerAppended {
            written: 0,
            blocks_already_kept: 2,
            last_seq: 2
        }
    );
    assert_eq!(store.ledger_records(&TALLY).await.unwrap(), before);
    assert_eq!(
        store.ledger_block(&TALLY, 1).await.unwrap().unwrap().certificate,
        b"certificate 1".to_vec(),
        "the first certificate is kept"
    );
    store.close().await;
}

#[tokio::test]
async fn a_block_that_skips_a_height_is_refused_with_its_batch() {
    let dir = tempfile::tempdir().unwrap();
    let store = served(&db_in(&dir)).await;
    let err = store
        .ledger_append(&TALLY, &[vote(1, 0, 0), block(2)])
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::LedgerGap { height: 2, tip: 0, .. }),
        "{err:?}"
    );
    let err = store.ledger_append(&TALLY, &[block(0)]).await.unwrap_err();
    assert!(matches!(err, StoreError::LedgerOutOfRange { value: 0, .. }), "{err:?}");
    assert!(store.ledger_records(&TALLY).await.unwrap().is_empty());
    // In order within one batch is fine.
    store
        .ledger_append(&TALLY, &[block(1), block(2), block(3)])
        .await
        .unwrap();
    assert_eq!(store.ledger_height(&TALLY).await.unwrap(), 3);
    store.close().await;
}

#[tokio::test]
async fn numbers_beyond_the_database_range_are_refused_without_writing() {
    let dir = tempfile::tempdir().unwrap();
    let store = served(&db_in(&dir)).await;
    let too_big = i64::MAX as u64 + 1;
    for record in [
        vote(too_big, 0, 0),
        vote(1, u64::MAX, 0),
        LedgerRecord::Proposal {
            height: u64::MAX,
            round: 0,
            message: Vec::new(),
        },
        block(too_big),
    ] {
        let err = store.ledger_append(&TALLY, &[vote(1, 0, 0), record]).await.unwrap_err();
        match &err {
            StoreError::LedgerOutOfRange { value, tally, .. } => {
                assert!(*value >= too_big);
                assert_eq!(*tally, hex(&TALLY));
            }
            other => panic!("expected LedgerOutOfRange, got {other:?}"),
        }
    }
    assert!(matches!(
        store.ledger_blocks(&TALLY, u64::MAX, 1).await,
        Err(StoreError::LedgerOutOfRange { .. })
    ));
    assert!(matches!(
        store.ledger_prune(&TALLY, u64::MAX).await,
        Err(StoreError::LedgerOutOfRange { .. })
    ));
    assert!(store.ledger_records(&TALLY).await.unwrap().is_empty());
    store.close().await;
}

#[tokio::test]
async fn pruning_keeps_blocks_and_later_records_and_drops_settled_pending_entries() {
    let dir = tempfile::tempdir().unwrap();
    let store = served(&db_in(&dir)).await;
    let pending = |id: u8| LedgerRecord::Pending {
        id: [id; 32],
        entry: vec![id],
    };
    let settled = |ids: &[u8]| LedgerRecord::Settled {
        ids: ids.iter().map(|id| [*id; 32]).collect(),
    };
    // Height 1 and 2 certified; height 3 is being decided.
    let steps: Vec<Vec<LedgerRecord>> = vec![
        vec![pending(1), pending(2), pending(3)],
        one_of_each(1),
        vec![settled(&[1])],
        vec![vote(2, 0, 0), vote(2, 1, 0), block(2), settled(&[2, 9])],
        // Entry 3 is submitted again after being settled: its settled record
        // must stay, or the later pending record would revive it.
        vec![settled(&[3]), pending(3)],
        vec![
            vote(3, 0, 0),
            LedgerRecord::Proposal {
                height: 3,
                round: 0,
                message: b"p3".to_vec(),
            },
        ],
    ];
    for step in &steps {
        store.ledger_append(&TALLY, step).await.unwrap();
    }
    store.ledger_serve(&OTHER, b"other genesis", 2).await.unwrap();
    store.ledger_append(&OTHER, &[vote(1, 0, 0)]).await.unwrap();

    // Asking to prune below 100 prunes below 3: the height being decided stays.
    let removed = store.ledger_prune(&TALLY, 100).await.unwrap();
    let kept = store.ledger_records(&TALLY).await.unwrap();
    let expected = vec![
        block(1),
        block(2),
        settled(&[3]),
        pending(3),
        vote(3, 0, 0),
        LedgerRecord::Proposal {
            height: 3,
            round: 0,
            message: b"p3".to_vec(),
        },
    ];
    assert_eq!(kept, expected);
    assert_eq!(
        removed as usize,
        steps.iter().map(Vec::len).sum::<usize>() - expected.len()
    );
    assert_eq!(
        store.ledger_records(&OTHER).await.unwrap(),
        vec![vote(1, 0, 0)],
        "other tallies are untouched"
    );
    assert_eq!(store.ledger_blocks(&TALLY, 1, 10).await.unwrap().len(), 2);

    // Nothing more to do, and appending carries on with fresh numbers.
    assert_eq!(store.ledger_prune(&TALLY, 100).await.unwrap(), 0);
    let next = store.ledger_append(&TALLY, &[vote(3, 0, 1)]).await.unwrap();
    assert_eq!(next.last_seq, steps.iter().map(Vec::len).sum::<usize>() as u64 + 1);
    store.close().await;
}

#[tokio::test]
async fn pruning_below_a_lower_height_keeps_the_records_of_that_height() {
    let dir = tempfile::tempdir().unwrap();
    let store = served(&db_in(&dir)).await;
    for height in 1..=3 {
        store
            .ledger_append(&TALLY, &[vote(height, 0, 0), block(height)])
            .await
            .unwrap();
    }
    assert_eq!(store.ledger_prune(&TALLY, 2).await.unwrap(), 1);
    assert_eq!(
        store.ledger_records(&TALLY).await.unwrap(),
        vec![block(1), vote(2, 0, 0), block(2), vote(3, 0, 0), block(3)]
    );
    store.close().await;
}

#[tokio::test]
async fn restore_order_survives_many_appends_to_interleaved_tallies() {
    let dir = tempfile::tempdir().unwrap();
    let store = served(&db_in(&dir)).await;
    store.ledger_serve(&OTHER, b"other genesis", 2).await.unwrap();
    let (mut mine, mut theirs) = (Vec::new(), Vec::new());
    for height in 1..=150u64 {
        for (tally, log) in [(&TALLY, &mut mine), (&OTHER, &mut theirs)] {
            let step = if height % 3 == 0 {
                vec![vote(height, 1, 1), block(height)]
            } else {
                vec![block(height), vote(height + 1, 0, 0)]
            };
            store.ledger_append(tally, &step).await.unwrap();
            log.extend(step);
        }
    }
    store.close().await;
    let store = Store::open(&db_in(&dir)).await.unwrap();
    assert_eq!(store.ledger_records(&TALLY).await.unwrap(), mine);
    assert_eq!(store.ledger_records(&OTHER).await.unwrap(), theirs);
    assert_eq!(store.ledger_height(&OTHER).await.unwrap(), 150);
    store.close().await;
}

#[tokio::test]
async fn blocks_are_served_by_height_range() {
    let dir = tempfile::tempdir().unwrap();
    let store = served(&db_in(&dir)).await;
    let blocks: Vec<_> = (1..=20).map(block).collect();
    store.ledger_append(&TALLY, &blocks).await.unwrap();
    let served = store.ledger_blocks(&TALLY, 5, 3).await.unwrap();
    assert_eq!(served.iter().map(|b| b.height).collect::<Vec<_>>(), vec![5, 6, 7]);
    assert_eq!(served[0].block, b"block 5".to_vec());
    assert_eq!(served[0].certificate, b"certificate 5".to_vec());
    assert_eq!(store.ledger_blocks(&TALLY, 19, 64).await.unwrap().len(), 2);
    assert!(store.ledger_blocks(&TALLY, 21, 64).await.unwrap().is_empty());
    assert!(store.ledger_blocks(&TALLY, 1, 0).await.unwrap().is_empty());
    assert_eq!(
        store.ledger_block(&TALLY, 0).await.unwrap(),
        None,
        "block 0 is the genesis"
    );
    store.close().await;
}

#[tokio::test]
async fn a_tally_not_served_or_served_with_another_genesis_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = served(&db_in(&dir)).await;
    assert!(
        !store.ledger_serve(&TALLY, b"genesis", 5).await.unwrap(),
        "already served"
    );
    let err = store.ledger_serve(&TALLY, b"forged genesis", 5).await.unwrap_err();
    assert!(matches!(err, StoreError::LedgerGenesisMismatch { .. }), "{err:?}");

    let unknown = [1; 16];
    let not_served = |r: Result<_, StoreError>| match r {
        Err(StoreError::LedgerNotServed { tally, .. }) => assert_eq!(tally, hex(&unknown)),
        Err(other) => panic!("expected LedgerNotServed, got {other:?}"),
        Ok(_) => panic!("expected LedgerNotServed"),
    };
    not_served(store.ledger_append(&unknown, &[vote(1, 0, 0)]).await.map(|_| ()));
    not_served(store.ledger_append(&unknown, &[]).await.map(|_| ()));
    not_served(store.ledger_records(&unknown).await.map(|_| ()));
    not_served(store.ledger_blocks(&unknown, 1, 1).await.map(|_| ()));
    not_served(store.ledger_block(&unknown, 1).await.map(|_| ()));
    not_served(store.ledger_height(&unknown).await.map(|_| ()));
    not_served(store.ledger_prune(&unknown, 1).await.map(|_| ()));
    assert_eq!(store.ledger_tallies().await.unwrap().len(), 1);
    store.close().await;
}

#[tokio::test]
async fn a_damaged_record_names_its_tally_and_sequence() {
    let dir = tempfile::tempdir().unwrap();
    let store = served(&db_in(&dir)).await;
    store.ledger_append(&TALLY, &one_of_each(1)).await.unwrap();
    // The lock (record 4): cut its proof in the middle of a prevote, which
    // no constraint of the table can see.
    sqlx::query("UPDATE ledger_journal SET proof = substr(proof, 1, 6) WHERE tally = ? AND seq = 4")
        .bind(TALLY.as_slice())
        .execute(&store.pool)
        .await
        .unwrap();
    let err = store.ledger_records(&TALLY).await.unwrap_err();
    match &err {
        StoreError::LedgerRecordDamaged { tally, seq, reason, .. } => {
            assert_eq!(*tally, hex(&TALLY));
            assert_eq!(*seq, 4);
            assert!(reason.contains("claims"), "{reason}");
        }
        other => panic!("expected LedgerRecordDamaged, got {other:?}"),
    }
    assert!(err.to_string().contains("record 4"), "{err}");

    // A block record whose block row went missing.
    sqlx::query("UPDATE ledger_journal SET proof = x'' WHERE tally = ? AND seq = 4")
        .bind(TALLY.as_slice())
        .execute(&store.pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM ledger_blocks WHERE tally = ?")
        .bind(TALLY.as_slice())
        .execute(&store.pool)
        .await
        .unwrap();
    let err = store.ledger_records(&TALLY).await.unwrap_err();
    assert!(matches!(err, StoreError::LedgerRecordDamaged { seq: 6, .. }), "{err:?}");

    // Rows the table's checks would refuse, slipped in with the checks off.
    sqlx::query("DELETE FROM ledger_journal WHERE tally = ? AND seq = 6")
        .bind(TALLY.as_slice())
        .execute(&store.pool)
        .await
        .unwrap();
    let mut conn = store.pool.acquire().await.unwrap();
    sqlx::query("PRAGMA ignore_check_constraints = ON")
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query("UPDATE ledger_journal SET body = x'0102' WHERE tally = ? AND seq = 7")
        .bind(TALLY.as_slice())
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query("UPDATE ledger_journal SET height = -5 WHERE tally = ? AND seq = 3")
        .bind(TALLY.as_slice())
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query("PRAGMA ignore_check_constraints = OFF")
        .execute(&mut *conn)
        .await
        .unwrap();
    drop(conn);
    let err = store.ledger_records(&TALLY).await.unwrap_err();
    assert!(matches!(err, StoreError::LedgerRecordDamaged { seq: 3, .. }), "{err:?}");
    let err = store.ledger_prune(&TALLY, 0).await.unwrap_err();
    assert!(matches!(err, StoreError::LedgerRecordDamaged { seq: 7, .. }), "{err:?}");
    store.close().await;
}

#[tokio::test]
async fn every_pooled_connection_is_wal_with_synchronous_full() {
    let dir = tempfile::tempdir().unwrap();
    let store = served(&db_in(&dir)).await;
    // Hold every connection the pool may open at once, so each is checked.
    let mut held = Vec::new();
    for _ in 0..store.pool.options().get_max_connections() {
        held.push(store.pool.acquire().await.unwrap());
    }
    for conn in &mut held {
        // 2 is FULL.
        let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut **conn)
            .await
            .unwrap();
        assert_eq!(synchronous, 2);
        let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut **conn)
            .await
            .unwrap();
        assert_eq!(journal, "wal");
    }
    drop(held);
    store.close().await;
}

/// Records of every kind from proptest's choice; blocks get their heights
/// when the batches are laid out.
#[derive(Debug, Clone)]
enum Planned {
    Record(LedgerRecord),
    NextBlock { block: Vec<u8>, certificate: Vec<u8> },
}

fn planned() -> impl Strategy<Value = Planned> {
    let bytes = || prop::collection::vec(any::<u8>(), 0..48);
    let height = || 0..=i64::MAX as u64;
    prop_oneof![
        (height(), height(), any::<u8>(), bytes()).prop_map(|(height, round, step, vote)| Planned::Record(
            LedgerRecord::Vote {
                height,
                round,
                step,
                vote
            }
        )),
        (height(), height(), bytes()).prop_map(|(height, round, message)| Planned::Record(LedgerRecord::Proposal {
            height,
            round,
            message
        })),
        (height(), height(), bytes(), prop::collection::vec(bytes(), 0..5)).prop_map(
            |(height, round, block, proof)| Planned::Record(LedgerRecord::Lock {
                height,
                round,
                block,
                proof
            })
        ),
        (bytes(), bytes()).prop_map(|(block, certificate)| Planned::NextBlock { block, certificate }),
        (any::<[u8; 32]>(), bytes()).prop_map(|(id, entry)| Planned::Record(LedgerRecord::Pending { id, entry })),
        prop::collection::vec(any::<[u8; 32]>(), 0..4).prop_map(|ids| Planned::Record(LedgerRecord::Settled { ids })),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn random_batches_read_back_identically(plan in prop::collection::vec(prop::collection::vec(planned(), 0..8), 1..8)) {
        let mut height = 0;
        let batches: Vec<Vec<LedgerRecord>> = plan
            .into_iter()
            .map(|batch| {
                batch
                    .into_iter()
                    .map(|planned| match planned {
                        Planned::Record(record) => record,
                        Planned::NextBlock { block, certificate } => {
                            height += 1;
                            LedgerRecord::Block { height, block, certificate }
                        }
                    })
                    .collect()
            })
            .collect();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (read, blocks) = runtime.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let store = served(&db_in(&dir)).await;
            for batch in &batches {
                store.ledger_append(&TALLY, batch).await.unwrap();
            }
            store.close().await;
            let store = Store::open(&db_in(&dir)).await.unwrap();
            let read = store.ledger_records(&TALLY).await.unwrap();
            let blocks = store.ledger_blocks(&TALLY, 0, u32::MAX).await.unwrap();
            store.close().await;
            (read, blocks)
        });
        let written: Vec<LedgerRecord> = batches.into_iter().flatten().collect();
        let written_blocks: Vec<LedgerBlock> = written
            .iter()
            .filter_map(|record| match record {
                LedgerRecord::Block { height, block, certificate } => Some(LedgerBlock {
                    height: *height,
                    block: block.clone(),
                    certificate: certificate.clone(),
                }),
                _ => None,
            })
            .collect();
        prop_assert_eq!(read, written);
        prop_assert_eq!(blocks, written_blocks);
    }

    #[test]
    fn a_lock_proof_round_trips_and_any_bytes_decode_without_panic(
        proof in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..10),
        noise in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let encoded = encode_proof(&proof).unwrap();
        prop_assert_eq!(decode_proof(&encoded).unwrap(), proof);
        let _ = decode_proof(&noise);
        let _ = decode_ids(&noise);
    }
}

/// The environment variable that turns [`crash_child_appends_until_killed`]
/// into the writer of [`a_killed_writer_leaves_whole_batches_only`].
const CRASH_DB: &str = "TALLYMESH_LEDGER_CRASH_DB";

/// The batch the crash child writes as its `index`th step: 1 to 8 records
/// of mixed kinds, with the block of height `index + 1` at a varying place.
fn crash_batch(index: u64) -> Vec<LedgerRecord> {
    let height = index + 1;
    let mut batch = one_of_each(height);
    batch.truncate(usize::try_from(index % 7).unwrap_or(0));
    batch.retain(|record| !matches!(record, LedgerRecord::Block { .. }));
    let at = usize::try_from(index % 3).unwrap_or(0).min(batch.len());
    batch.insert(
        at,
        LedgerRecord::Block {
            height,
            // Big enough that a batch spans several pages of the WAL.
            block: vec![(index % 251) as u8; 3000 + (index as usize % 5) * 1000],
            certificate: height.to_be_bytes().to_vec(),
        },
    );
    if index % 4 == 1 {
        batch.push(vote(height, 2, 0));
    }
    batch
}

/// Appends [`crash_batch`]es to the database named by [`CRASH_DB`] until
/// killed, saying "appended N" once batch N is durable. Runs only as the
/// child of [`a_killed_writer_leaves_whole_batches_only`].
#[test]
#[ignore = "the writer process of a_killed_writer_leaves_whole_batches_only"]
fn crash_child_appends_until_killed() {
    let Some(path) = std::env::var_os(CRASH_DB) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = Store::open(Path::new(&path)).await.unwrap();
        store.ledger_serve(&TALLY, b"genesis", 1).await.unwrap();
        let mut index = store.ledger_height(&TALLY).await.unwrap();
        loop {
            store.ledger_append(&TALLY, &crash_batch(index)).await.unwrap();
            println!("appended {index}");
            index += 1;
        }
    });
}

/// A small deterministic generator, so a failing run can be repeated from
/// the seed it prints.
struct SplitMix(u64);

impl SplitMix {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % n
    }
}

#[test]
fn a_killed_writer_leaves_whole_batches_only() {
    use std::hash::{BuildHasher, RandomState};
    let seed = std::env::var("TALLYMESH_LEDGER_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| RandomState::new().hash_one(std::process::id()));
    println!("seed {seed}");
    let mut rng = SplitMix(seed);
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut acknowledged = 0u64;
    for kill in 0..5 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "ledger::tests::crash_child_appends_until_killed",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CRASH_DB, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        // Let it commit a random number of batches, then kill it at a
        // random moment while it keeps writing.
        let target = 1 + rng.below(40);
        let mut seen = 0;
        while seen < target {
            let Some(line) = lines.next() else {
                let output = child.wait_with_output().unwrap();
                panic!(
                    "the writer stopped on its own: {:?}\n{}",
                    output.status,
                    String::from_utf8_lossy(&output.stderr)
                );
            };
            if let Some(index) = line.unwrap().strip_prefix("appended ") {
                acknowledged = acknowledged.max(index.trim().parse::<u64>().unwrap() + 1);
                seen += 1;
            }
        }
        std::thread::sleep(std::time::Duration::from_micros(rng.below(20_000)));
        // SIGKILL on Unix: no destructor, no checkpoint, no flush.
        child.kill().unwrap();
        // Acknowledgements printed before the kill count too.
        for line in lines.map_while(Result::ok) {
            if let Some(index) = line.strip_prefix("appended ") {
                acknowledged = acknowledged.max(index.trim().parse::<u64>().unwrap() + 1);
            }
        }
        child.wait().unwrap();

        let (records, height) = runtime.block_on(async {
            let store = Store::open(&path).await.unwrap();
            let records = store.ledger_records(&TALLY).await.unwrap();
            let height = store.ledger_height(&TALLY).await.unwrap();
            store.close().await;
            (records, height)
        });
        // Every batch has exactly one block, so the height counts whole
        // batches; the journal must be exactly those batches, nothing of the
        // next.
        let expected: Vec<LedgerRecord> = (0..height).flat_map(crash_batch).collect();
        assert_eq!(
            records.len(),
            expected.len(),
            "kill {kill}, seed {seed}: half a batch survived"
        );
        assert!(
            records == expected,
            "kill {kill}, seed {seed}: the journal is not the batches written"
        );
        assert!(
            height >= acknowledged,
            "kill {kill}, seed {seed}: {acknowledged} batches acknowledged, {height} kept"
        );
        // At most the batch in flight when killed went through unacknowledged.
        assert!(height <= acknowledged + 1, "kill {kill}, seed {seed}");
    }
}
