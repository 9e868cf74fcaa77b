//! The passphrase envelope shared by key files and backups: Argon2id turns
//! the passphrase into a key, XChaCha20-Poly1305 encrypts the contents
//! with the whole header as associated data. `docs/keys.md` gives the
//! format byte by byte.
//!
//! ```text
//! 0   8   magic
//! 8   1   format version (1)
//! 9   1   KDF (1 = Argon2id v1.3)
//! 10  4   Argon2 memory, KiB     (u32 big-endian)
//! 14  4   Argon2 iterations      (u32 big-endian)
//! 18  4   Argon2 parallelism     (u32 big-endian)
//! 22  16  salt
//! 38  24  nonce
//! 62  …   ciphertext ‖ 16-byte Poly1305 tag
//! ```
//!
//! The contents are a list of entries `tag (u8) ‖ length (u16 BE) ‖ value`.

use chacha20poly1305::{AeadInOut, KeyInit, XChaCha20Poly1305, XNonce};
use thiserror::Error;
use zeroize::Zeroizing;

use super::{KdfParams, Passphrase};

/// The envelope format version this build writes and reads.
pub(crate) const FORMAT_VERSION: u8 = 1;
/// The KDF id of Argon2id, version 0x13.
pub(crate) const KDF_ARGON2ID: u8 = 1;
/// Bytes before the ciphertext; all of them are authenticated.
pub(crate) const HEADER_LEN: usize = 62;
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// The largest envelope accepted: far above two seeds and a name.
pub(crate) const MAX_ENVELOPE_BYTES: usize = 64 * 1024;

/// Why an envelope could not be opened or made.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub(crate) enum EnvelopeError {
    /// The bytes do not start with the expected magic.
    #[error("it is not a {0}")]
    WrongMagic(&'static str),
    /// The bytes end before the header and tag do.
    #[error("it is truncated")]
    Truncated,
    /// Larger than any envelope this build writes.
    #[error("it is larger than {MAX_ENVELOPE_BYTES} bytes")]
    TooLarge,
    /// A format version this build does not read.
    #[error("it has format version {0}, which this version of Tallymesh cannot read")]
    UnsupportedVersion(u8),
    /// A KDF this build does not know.
    #[error("it uses key derivation {0}, which this version of Tallymesh does not know")]
    UnsupportedKdf(u8),
    /// KDF parameters out of bounds.
    #[error("its key derivation settings are out of bounds ({0})")]
    BadParams(String),
    /// The tag did not verify: wrong passphrase, or altered bytes.
    #[error("wrong passphrase")]
    WrongPassphrase,
    /// The decrypted contents are not a list of entries.
    #[error("its contents are malformed")]
    Malformed,
    /// The OS could not provide randomness.
    #[error("the system's random number generator failed: {0}")]
    Random(String),
}

/// A key derived from a passphrase, with the salt and settings it was
/// derived with, so a file can be rewritten without deriving again.
pub(crate) struct SealingKey {
    params: KdfParams,
    salt: [u8; SALT_LEN],
    key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealingKey")
            .field("params", &self.params)
            .field("key", &"redacted")
            .finish()
    }
}

impl SealingKey {
    /// Derives a key for a new envelope, with a fresh random salt.
    pub(crate) fn derive_new(passphrase: &Passphrase, params: KdfParams) -> Result<SealingKey, EnvelopeError> {
        let mut salt = [0u8; SALT_LEN];
        getrandom::fill(&mut salt).map_err(|e| EnvelopeError::Random(e.to_string()))?;
        SealingKey::derive(passphrase, params, salt)
    }

    fn derive(passphrase: &Passphrase, params: KdfParams, salt: [u8; SALT_LEN]) -> Result<SealingKey, EnvelopeError> {
        let argon_params = argon2::Params::new(params.memory_kib, params.iterations, params.parallelism, Some(32))
            .map_err(|e| EnvelopeError::BadParams(e.to_string()))?;
        let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, argon_params);
        let mut key = Zeroizing::new([0u8; 32]);
        argon
            .hash_password_into(passphrase.expose().as_bytes(), &salt, key.as_mut())
            .map_err(|e| EnvelopeError::BadParams(e.to_string()))?;
        Ok(SealingKey { params, salt, key })
    }

    /// The KDF settings this key was derived with.
    #[cfg(test)]
    pub(crate) fn params(&self) -> KdfParams {
        self.params
    }

    /// Encrypts `plaintext` into a complete envelope with a fresh nonce.
    pub(crate) fn seal(&self, magic: &[u8; 8], plaintext: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| EnvelopeError::Random(e.to_string()))?;
        let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
        out.extend_from_slice(magic);
        out.push(FORMAT_VERSION);
        out.push(KDF_ARGON2ID);
        out.extend_from_slice(&self.params.memory_kib.to_be_bytes());
        out.extend_from_slice(&self.params.iterations.to_be_bytes());
        out.extend_from_slice(&self.params.parallelism.to_be_bytes());
        out.extend_from_slice(&self.salt);
        out.extend_from_slice(&nonce);
        debug_assert_eq!(out.len(), HEADER_LEN);

        // Encrypt in a wiping buffer sized for the tag, so no unwiped copy
        // of the plaintext is left behind by a reallocation.
        let mut buffer = Zeroizing::new(Vec::with_capacity(plaintext.len() + TAG_LEN));
        buffer.extend_from_slice(plaintext);
        self.cipher()?
            .encrypt_in_place(&XNonce::from(nonce), &out, &mut *buffer)
            .map_err(|_| EnvelopeError::TooLarge)?;
        out.extend_from_slice(&buffer);
        Ok(out)
    }

    fn cipher(&self) -> Result<XChaCha20Poly1305, EnvelopeError> {
        XChaCha20Poly1305::new_from_slice(self.key.as_ref()).map_err(|_| EnvelopeError::Malformed)
    }
}

/// Opens an envelope that must start with `magic`, naming it `what` in
/// errors. Returns the key (to reseal with) and the plaintext.
pub(crate) fn open(
    magic: &[u8; 8],
    what: &'static str,
    bytes: &[u8],
    passphrase: &Passphrase,
) -> Result<(SealingKey, Zeroizing<Vec<u8>>), EnvelopeError> {
    if bytes.len() < magic.len() || &bytes[..magic.len()] != magic {
        return Err(EnvelopeError::WrongMagic(what));
    }
    if bytes.len() > MAX_ENVELOPE_BYTES {
        return Err(EnvelopeError::TooLarge);
    }
    if bytes.len() < HEADER_LEN + TAG_LEN {
        return Err(EnvelopeError::Truncated);
    }
    let (header, ciphertext) = bytes.split_at(HEADER_LEN);
    if header[8] != FORMAT_VERSION {
        return Err(EnvelopeError::UnsupportedVersion(header[8]));
    }
    if header[9] != KDF_ARGON2ID {
        return Err(EnvelopeError::UnsupportedKdf(header[9]));
    }
    let u32_at = |at: usize| u32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]]);
    let params = KdfParams {
        memory_kib: u32_at(10),
        iterations: u32_at(14),
        parallelism: u32_at(18),
    };
    params.check_readable().map_err(EnvelopeError::BadParams)?;
    let mut salt = [0u8; SALT_LEN];
    salt.copy_from_slice(&header[22..38]);
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&header[38..62]);

    let key = SealingKey::derive(passphrase, params, salt)?;
    let mut buffer = Zeroizing::new(Vec::with_capacity(ciphertext.len()));
    buffer.extend_from_slice(ciphertext);
    key.cipher()?
        .decrypt_in_place(&XNonce::from(nonce), header, &mut *buffer)
        .map_err(|_| EnvelopeError::WrongPassphrase)?;
    Ok((key, buffer))
}

/// The decrypted contents of an envelope: tagged values, in order. Values
/// are wiped when dropped.
#[derive(Default)]
pub(crate) struct Entries(Vec<(u8, Zeroizing<Vec<u8>>)>);

impl std::fmt::Debug for Entries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tags: Vec<u8> = self.0.iter().map(|(tag, _)| *tag).collect();
        f.debug_struct("Entries").field("tags", &tags).finish()
    }
}

impl Entries {
    /// Reads `tag ‖ length (u16 BE) ‖ value` entries until the end.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Entries, EnvelopeError> {
        let mut entries = Vec::new();
        let mut rest = bytes;
        while !rest.is_empty() {
            let [tag, hi, lo, tail @ ..] = rest else {
                return Err(EnvelopeError::Malformed);
            };
            let len = usize::from(u16::from_be_bytes([*hi, *lo]));
            if tail.len() < len {
                return Err(EnvelopeError::Malformed);
            }
            let (value, tail) = tail.split_at(len);
            if entries.iter().any(|(t, _): &(u8, _)| t == tag) {
                return Err(EnvelopeError::Malformed);
            }
            entries.push((*tag, Zeroizing::new(value.to_vec())));
            rest = tail;
        }
        Ok(Entries(entries))
    }

    /// The entries as bytes, in a wiping buffer.
    pub(crate) fn encode(&self) -> Zeroizing<Vec<u8>> {
        let len = self.0.iter().map(|(_, v)| 3 + v.len()).sum();
        let mut out = Zeroizing::new(Vec::with_capacity(len));
        for (tag, value) in &self.0 {
            out.push(*tag);
            // Values are seeds, names and timestamps; `set` refuses longer.
            let value_len = u16::try_from(value.len()).unwrap_or(u16::MAX);
            out.extend_from_slice(&value_len.to_be_bytes());
            out.extend_from_slice(&value[..usize::from(value_len)]);
        }
        out
    }

    /// The value under `tag`.
    pub(crate) fn get(&self, tag: u8) -> Option<&[u8]> {
        self.0.iter().find(|(t, _)| *t == tag).map(|(_, v)| v.as_slice())
    }

    /// Sets the value under `tag`. Values longer than 65,535 bytes are
    /// refused (none of ours comes close).
    pub(crate) fn set(&mut self, tag: u8, value: &[u8]) -> Result<(), EnvelopeError> {
        if value.len() > usize::from(u16::MAX) {
            return Err(EnvelopeError::TooLarge);
        }
        let value = Zeroizing::new(value.to_vec());
        match self.0.iter_mut().find(|(t, _)| *t == tag) {
            Some(entry) => entry.1 = value,
            None => self.0.push((tag, value)),
        }
        Ok(())
    }

    /// Removes the value under `tag`; true if there was one.
    pub(crate) fn remove(&mut self, tag: u8) -> bool {
        let before = self.0.len();
        self.0.retain(|(t, _)| *t != tag);
        self.0.len() != before
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAGIC: &[u8; 8] = b"TESTMAGC";

    fn sealed(plaintext: &[u8]) -> Vec<u8> {
        let key = SealingKey::derive_new(&Passphrase::new("right passphrase"), KdfParams::INSECURE_FOR_TESTS).unwrap();
        key.seal(MAGIC, plaintext).unwrap()
    }

    #[test]
    fn an_envelope_opens_with_its_passphrase_only() {
        let bytes = sealed(b"the contents");
        let (key, plaintext) = open(MAGIC, "test file", &bytes, &Passphrase::new("right passphrase")).unwrap();
        assert_eq!(plaintext.as_slice(), b"the contents");
        assert_eq!(key.params(), KdfParams::INSECURE_FOR_TESTS);
        assert_eq!(
            open(MAGIC, "test file", &bytes, &Passphrase::new("wrong passphrase")).unwrap_err(),
            EnvelopeError::WrongPassphrase
        );
    }

    #[test]
    fn the_header_is_laid_out_as_documented() {
        let bytes = sealed(b"xyz");
        assert_eq!(&bytes[..8], MAGIC);
        assert_eq!(bytes[8], 1);
        assert_eq!(bytes[9], 1);
        let params = KdfParams::INSECURE_FOR_TESTS;
        assert_eq!(&bytes[10..14], &params.memory_kib.to_be_bytes());
        assert_eq!(&bytes[14..18], &params.iterations.to_be_bytes());
        assert_eq!(&bytes[18..22], &params.parallelism.to_be_bytes());
        assert_eq!(bytes.len(), HEADER_LEN + 3 + TAG_LEN);
    }

    #[test]
    fn every_flipped_byte_is_refused() {
        let bytes = sealed(b"secret stuff");
        let passphrase = Passphrase::new("right passphrase");
        for i in 0..bytes.len() {
            let mut tampered = bytes.clone();
            tampered[i] ^= 0x01;
            assert!(open(MAGIC, "test file", &tampered, &passphrase).is_err(), "byte {i}");
        }
    }

    #[test]
    fn other_files_and_future_versions_are_refused_by_name() {
        let passphrase = Passphrase::new("right passphrase");
        assert_eq!(
            open(MAGIC, "test file", b"PK\x03\x04 a zip", &passphrase).unwrap_err(),
            EnvelopeError::WrongMagic("test file")
        );
        let mut bytes = sealed(b"x");
        bytes[8] = 2;
        assert_eq!(
            open(MAGIC, "test file", &bytes, &passphrase).unwrap_err(),
            EnvelopeError::UnsupportedVersion(2)
        );
        assert_eq!(
            open(MAGIC, "test file", &bytes[..40], &passphrase).unwrap_err(),
            EnvelopeError::Truncated
        );
    }

    #[test]
    fn absurd_kdf_settings_are_refused_before_deriving() {
        let mut bytes = sealed(b"x");
        bytes[10..14].copy_from_slice(&u32::MAX.to_be_bytes());
        let err = open(MAGIC, "test file", &bytes, &Passphrase::new("right passphrase")).unwrap_err();
        assert!(matches!(err, EnvelopeError::BadParams(_)), "{err:?}");
    }

    #[test]
    fn entries_round_trip_and_refuse_garbage() {
        let mut entries = Entries::default();
        entries.set(1, &[7; 32]).unwrap();
        entries.set(16, "Zoë".as_bytes()).unwrap();
        entries.set(1, &[8; 32]).unwrap();
        let bytes = entries.encode();
        let back = Entries::decode(&bytes).unwrap();
        assert_eq!(back.get(1), Some(&[8u8; 32][..]));
        assert_eq!(back.get(16), Some("Zoë".as_bytes()));
        assert_eq!(back.get(2), None);
        assert!(Entries::decode(&[1, 0, 5, 1, 2]).is_err());
        assert!(Entries::decode(&[1, 0]).is_err());
        assert!(Entries::decode(&[1, 0, 0, 1, 0, 0]).is_err(), "a tag twice");
        let mut entries = back;
        assert!(entries.remove(1));
        assert!(!entries.remove(1));
        assert!(format!("{entries:?}").contains("tags"));
    }
}
