//! The recovery phrase: the 32-byte party secret seed written as 24 words
//! of the BIP-39 English list (256 bits of entropy and an 8-bit SHA-256
//! checksum, 11 bits a word). The words *are* the seed: BIP-39's PBKDF2
//! "seed" step and its optional passphrase are not used.

use bip39::{Language, Mnemonic};
use thiserror::Error;
use zeroize::Zeroizing;

use crate::keystore::SecretSeed;

/// How many words a Tallymesh recovery phrase has.
pub const PHRASE_WORDS: usize = 24;

/// A recovery phrase, or text that claims to be one (it is checked when
/// used). Wiped from memory when dropped; `Debug` never shows the words.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryPhrase(Zeroizing<String>);

/// Why a recovery phrase was refused. Never names the words themselves.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PhraseError {
    /// Not 24 words.
    #[error("the recovery phrase has {found} words; a Tallymesh recovery phrase has 24")]
    WordCount {
        /// How many words there were.
        found: usize,
    },
    /// A word is not in the list.
    #[error("word {position} of the recovery phrase is not in the BIP-39 English word list; check its spelling")]
    UnknownWord {
        /// Its position, counting from 1.
        position: usize,
    },
    /// The words are all known but do not fit together.
    #[error("the recovery phrase's checksum does not match: a word is wrong, or two are swapped")]
    Checksum,
}

impl RecoveryPhrase {
    /// Text as typed or pasted, to be checked when it is used.
    pub fn new(text: impl Into<String>) -> RecoveryPhrase {
        RecoveryPhrase(Zeroizing::new(text.into()))
    }

    /// The phrase of a party secret seed.
    pub(crate) fn from_seed(seed: &SecretSeed) -> RecoveryPhrase {
        // English words have at most 8 letters: this never reallocates, so
        // no copy of the words is left behind unwiped.
        let mut text = Zeroizing::new(String::with_capacity(PHRASE_WORDS * 9));
        // 32 bytes is a valid BIP-39 entropy length, so this always succeeds.
        if let Ok(mnemonic) = Mnemonic::from_entropy_in(Language::English, seed.expose()) {
            for (i, word) in mnemonic.words().enumerate() {
                if i > 0 {
                    text.push(' ');
                }
                text.push_str(word);
            }
        }
        RecoveryPhrase(text)
    }

    /// The phrase as text (words separated by single spaces when made by
    /// this node; as given otherwise).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The words, in order.
    pub fn words(&self) -> impl Iterator<Item = &str> {
        self.0.split_whitespace()
    }

    /// Checks the phrase and gives back the seed it encodes. Case and
    /// extra spaces do not matter.
    pub(crate) fn to_seed(&self) -> Result<SecretSeed, PhraseError> {
        let found = self.words().count();
        if found != PHRASE_WORDS {
            return Err(PhraseError::WordCount { found });
        }
        let mut normalized = Zeroizing::new(String::with_capacity(self.0.len() * 2));
        for (i, word) in self.words().enumerate() {
            if i > 0 {
                normalized.push(' ');
            }
            for c in word.chars() {
                normalized.extend(c.to_lowercase());
            }
        }
        let mnemonic = Mnemonic::parse_in_normalized(Language::English, &normalized).map_err(|e| match e {
            bip39::Error::UnknownWord(index) => PhraseError::UnknownWord { position: index + 1 },
            bip39::Error::BadWordCount(found) => PhraseError::WordCount { found },
            _ => PhraseError::Checksum,
        })?;
        let (entropy, len) = mnemonic.to_entropy_array();
        let entropy = Zeroizing::new(entropy);
        SecretSeed::from_slice(&entropy[..len]).ok_or(PhraseError::WordCount { found })
    }
}

impl std::fmt::Debug for RecoveryPhrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryPhrase(redacted)")
    }
}

impl serde::Serialize for RecoveryPhrase {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for RecoveryPhrase {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<RecoveryPhrase, D::Error> {
        String::deserialize(deserializer).map(RecoveryPhrase::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// BIP-39's published English vector for 32 bytes of 0x7f.
    const VECTOR_7F: &str = "legal winner thank year wave sausage worth useful legal winner thank year \
                             wave sausage worth useful legal winner thank year wave sausage worth title";

    #[test]
    fn the_phrase_of_a_seed_is_its_bip39_encoding() {
        let seed = SecretSeed::from_slice(&[0x7f; 32]).unwrap();
        let phrase = RecoveryPhrase::from_seed(&seed);
        assert_eq!(
            phrase.expose(),
            VECTOR_7F.split_whitespace().collect::<Vec<_>>().join(" ")
        );
        assert_eq!(phrase.words().count(), 24);
        let zero = RecoveryPhrase::from_seed(&SecretSeed::from_slice(&[0; 32]).unwrap());
        assert_eq!(
            zero.expose(),
            format!("{}art", "abandon ".repeat(23)),
            "the all-zero vector"
        );
    }

    #[test]
    fn every_seed_round_trips_through_its_phrase() {
        for _ in 0..50 {
            let seed = SecretSeed::generate().unwrap();
            let phrase = RecoveryPhrase::from_seed(&seed);
            assert_eq!(phrase.to_seed().unwrap().expose(), seed.expose());
        }
    }

    #[test]
    fn case_and_spacing_do_not_matter() {
        let messy = format!("  {}\n", VECTOR_7F.to_uppercase().replace(' ', "  \t"));
        assert_eq!(RecoveryPhrase::new(messy).to_seed().unwrap().expose(), &[0x7f; 32]);
    }

    #[test]
    fn wrong_phrases_are_refused_with_a_reason_that_does_not_repeat_the_words() {
        let short = RecoveryPhrase::new("legal winner thank year");
        assert_eq!(short.to_seed().unwrap_err(), PhraseError::WordCount { found: 4 });

        let typo = RecoveryPhrase::new(VECTOR_7F.replacen("thank", "thankx", 1));
        let err = typo.to_seed().unwrap_err();
        assert_eq!(err, PhraseError::UnknownWord { position: 3 });
        assert!(!err.to_string().contains("thankx"), "{err}");

        // The last word carries the checksum; another valid word breaks it.
        let swapped = RecoveryPhrase::new(VECTOR_7F.replace("title", "zoo"));
        assert_eq!(swapped.to_seed().unwrap_err(), PhraseError::Checksum);

        let twelve = RecoveryPhrase::new(
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
        );
        assert_eq!(twelve.to_seed().unwrap_err(), PhraseError::WordCount { found: 12 });
    }

    #[test]
    fn a_phrase_never_prints() {
        let phrase = RecoveryPhrase::new(VECTOR_7F);
        let printed = format!("{phrase:?} {phrase:#?}");
        assert!(!printed.contains("legal"), "{printed}");
        assert!(printed.contains("redacted"));
    }
}
