//! Secret values in memory: wiped when dropped, never printed.

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::KeystoreError;

/// A 32-byte secret seed: the device's node key or the party secret.
///
/// The bytes are wiped from memory when the value is dropped, and `Debug`
/// prints only that it is redacted.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct SecretSeed(Zeroizing<[u8; 32]>);

impl SecretSeed {
    /// A fresh seed from the operating system's random number generator.
    pub fn generate() -> Result<SecretSeed, KeystoreError> {
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(seed.as_mut()).map_err(|e| KeystoreError::Random(e.to_string()))?;
        Ok(SecretSeed(seed))
    }

    /// The seed held in `bytes`, which must be 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Option<SecretSeed> {
        let mut seed = Zeroizing::new([0u8; 32]);
        if bytes.len() != seed.len() {
            return None;
        }
        seed.copy_from_slice(bytes);
        Some(SecretSeed(seed))
    }

    /// The seed in `bytes`, taking over the (already wiping) buffer.
    pub fn from_array(bytes: Zeroizing<[u8; 32]>) -> SecretSeed {
        SecretSeed(bytes)
    }

    /// The secret bytes. Keep what you derive from them in wiping types too.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for SecretSeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretSeed(redacted)")
    }
}

/// A passphrase that unlocks a key file or a backup.
///
/// Wiped from memory when dropped; `Debug` never shows it. It crosses the
/// control endpoint as a plain JSON string (the endpoint is private to the
/// user), so it serialises as one.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Passphrase(Zeroizing<String>);

/// The fewest characters a new passphrase may have.
pub const MIN_PASSPHRASE_CHARS: usize = 8;

impl Passphrase {
    /// The passphrase `text`.
    pub fn new(text: impl Into<String>) -> Passphrase {
        Passphrase(Zeroizing::new(text.into()))
    }

    /// The passphrase's text.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Checks that the passphrase is long enough to protect something new
    /// (an existing file is opened with whatever it was made with).
    pub fn check_new(&self) -> Result<(), KeystoreError> {
        if self.0.chars().count() < MIN_PASSPHRASE_CHARS {
            return Err(KeystoreError::WeakPassphrase);
        }
        Ok(())
    }
}

impl From<String> for Passphrase {
    fn from(text: String) -> Passphrase {
        Passphrase::new(text)
    }
}

impl std::fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passphrase(redacted)")
    }
}

impl serde::Serialize for Passphrase {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Passphrase {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Passphrase, D::Error> {
        String::deserialize(deserializer).map(Passphrase::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_and_passphrases_never_print_their_secret() {
        let seed = SecretSeed::from_slice(&[0xab; 32]).unwrap();
        let printed = format!("{seed:?} {seed:#?}");
        assert!(!printed.to_lowercase().contains("abab"), "{printed}");
        assert!(!printed.contains("171"), "{printed}");
        assert!(printed.contains("redacted"));

        let passphrase = Passphrase::new("correct horse battery staple");
        let printed = format!("{passphrase:?} {passphrase:#?}");
        assert!(!printed.contains("horse"), "{printed}");
        assert!(printed.contains("redacted"));
    }

    #[test]
    fn generated_seeds_differ() {
        let a = SecretSeed::generate().unwrap();
        let b = SecretSeed::generate().unwrap();
        assert_ne!(a.expose(), b.expose());
    }

    #[test]
    fn a_seed_is_exactly_32_bytes() {
        assert!(SecretSeed::from_slice(&[1; 31]).is_none());
        assert!(SecretSeed::from_slice(&[1; 33]).is_none());
        assert_eq!(SecretSeed::from_slice(&[1; 32]).unwrap().expose(), &[1; 32]);
    }

    /// Compiles only for types that wipe themselves when dropped.
    fn wiped_on_drop<T: ZeroizeOnDrop>() {}

    #[test]
    fn seeds_and_passphrases_wipe_their_bytes() {
        // Both types wipe themselves on drop (the bound below does not
        // compile otherwise), and the drop runs this same `zeroize`.
        wiped_on_drop::<SecretSeed>();
        wiped_on_drop::<Passphrase>();

        let mut seed = SecretSeed::from_slice(&[0x5a; 32]).unwrap();
        seed.zeroize();
        assert_eq!(seed.expose(), &[0u8; 32]);
        let mut passphrase = Passphrase::new("hunter2hunter2");
        passphrase.zeroize();
        assert!(passphrase.expose().is_empty());
    }

    #[test]
    fn new_passphrases_must_have_eight_characters() {
        assert!(matches!(
            Passphrase::new("short").check_new(),
            Err(KeystoreError::WeakPassphrase)
        ));
        assert!(Passphrase::new("long enough").check_new().is_ok());
    }

    #[test]
    fn passphrases_travel_as_plain_strings() {
        let json = serde_json::to_string(&Passphrase::new("pass phrase")).unwrap();
        assert_eq!(json, "\"pass phrase\"");
        let back: Passphrase = serde_json::from_str(&json).unwrap();
        assert_eq!(back.expose(), "pass phrase");
    }
}
