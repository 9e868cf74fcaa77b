//! The encrypted backup file: the party secret seed and the display name
//! in the same passphrase envelope as the key file, with its own magic
//! (`TALLYBAK`). Entries: `0x02` party secret seed (32 bytes), `0x10`
//! display name (UTF-8), `0x11` party created at (u64 BE, ms; optional).

use crate::keystore::envelope::{self, Entries, EnvelopeError, SealingKey};
use crate::keystore::{KdfParams, KeystoreError, Passphrase, SecretSeed};

use super::IdentityError;

/// The first eight bytes of every backup file.
pub(crate) const MAGIC: &[u8; 8] = b"TALLYBAK";

const TAG_PARTY_SECRET: u8 = 0x02;
const TAG_DISPLAY_NAME: u8 = 0x10;
const TAG_CREATED_AT: u8 = 0x11;

/// What a backup holds.
#[derive(Debug)]
pub(crate) struct BackupContents {
    pub(crate) party_secret: SecretSeed,
    pub(crate) display_name: String,
    pub(crate) created_at_ms: Option<u64>,
}

/// Encrypts `contents` under `passphrase`. Slow on purpose (Argon2id).
pub(crate) fn seal(
    contents: &BackupContents,
    passphrase: &Passphrase,
    kdf: KdfParams,
) -> Result<Vec<u8>, IdentityError> {
    passphrase.check_new().map_err(IdentityError::from_keystore)?;
    let mut entries = Entries::default();
    let fail = |e: EnvelopeError| IdentityError::BadBackup(e.to_string());
    entries
        .set(TAG_PARTY_SECRET, contents.party_secret.expose())
        .map_err(fail)?;
    entries
        .set(TAG_DISPLAY_NAME, contents.display_name.as_bytes())
        .map_err(fail)?;
    if let Some(created) = contents.created_at_ms {
        entries.set(TAG_CREATED_AT, &created.to_be_bytes()).map_err(fail)?;
    }
    let key = SealingKey::derive_new(passphrase, kdf).map_err(fail)?;
    key.seal(MAGIC, &entries.encode()).map_err(fail)
}

/// Decrypts a backup. A wrong passphrase and a damaged or foreign file are
/// told apart as well as the envelope allows (both fail the tag check once
/// the header reads correctly).
pub(crate) fn open(bytes: &[u8], passphrase: &Passphrase) -> Result<BackupContents, IdentityError> {
    let (_, plaintext) = envelope::open(MAGIC, "Tallymesh backup file", bytes, passphrase).map_err(|e| match e {
        EnvelopeError::WrongPassphrase => IdentityError::WrongBackupPassphrase,
        other => IdentityError::BadBackup(other.to_string()),
    })?;
    let entries = Entries::decode(&plaintext).map_err(|e| IdentityError::BadBackup(e.to_string()))?;
    let party_secret = entries
        .get(TAG_PARTY_SECRET)
        .and_then(SecretSeed::from_slice)
        .ok_or_else(|| IdentityError::BadBackup("it holds no party secret".to_owned()))?;
    let display_name = entries
        .get(TAG_DISPLAY_NAME)
        .and_then(|b| std::str::from_utf8(b).ok())
        .map(str::to_owned)
        .ok_or_else(|| IdentityError::BadBackup("it holds no display name".to_owned()))?;
    let created_at_ms = entries
        .get(TAG_CREATED_AT)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_be_bytes);
    Ok(BackupContents {
        party_secret,
        display_name,
        created_at_ms,
    })
}

impl IdentityError {
    fn from_keystore(error: KeystoreError) -> IdentityError {
        match error {
            KeystoreError::WeakPassphrase => IdentityError::WeakPassphrase,
            other => IdentityError::BadBackup(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contents() -> BackupContents {
        BackupContents {
            party_secret: SecretSeed::from_slice(&[0x42; 32]).unwrap(),
            display_name: "Zoë's Bakery".into(),
            created_at_ms: Some(1_700_000_000_000),
        }
    }

    #[test]
    fn a_backup_opens_with_its_passphrase_and_holds_what_was_put_in() {
        let passphrase = Passphrase::new("backup passphrase");
        let bytes = seal(&contents(), &passphrase, KdfParams::INSECURE_FOR_TESTS).unwrap();
        assert_eq!(&bytes[..8], b"TALLYBAK");
        assert!(!bytes.windows(32).any(|w| w == [0x42; 32]));
        let back = open(&bytes, &passphrase).unwrap();
        assert_eq!(back.party_secret.expose(), &[0x42; 32]);
        assert_eq!(back.display_name, "Zoë's Bakery");
        assert_eq!(back.created_at_ms, Some(1_700_000_000_000));
    }

    #[test]
    fn a_wrong_passphrase_or_another_file_is_refused_clearly() {
        let bytes = seal(
            &contents(),
            &Passphrase::new("backup passphrase"),
            KdfParams::INSECURE_FOR_TESTS,
        )
        .unwrap();
        let err = open(&bytes, &Passphrase::new("another passphrase")).unwrap_err();
        assert!(matches!(err, IdentityError::WrongBackupPassphrase), "{err:?}");
        assert!(err.to_string().starts_with("wrong passphrase for this backup"), "{err}");

        let mut key_file = bytes.clone();
        key_file[..8].copy_from_slice(b"TALLYKEY");
        let err = open(&key_file, &Passphrase::new("backup passphrase")).unwrap_err();
        assert!(err.to_string().contains("not a Tallymesh backup file"), "{err}");
    }

    #[test]
    fn a_backup_needs_a_real_passphrase() {
        let err = seal(&contents(), &Passphrase::new("1234"), KdfParams::INSECURE_FOR_TESTS).unwrap_err();
        assert!(matches!(err, IdentityError::WeakPassphrase), "{err:?}");
    }
}
